package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/internal/live"
	"github.com/portwall/portwall/internal/pending"
)

func (e *env) applyCommand() *cli.Command {
	return &cli.Command{
		Name:      "apply",
		Usage:     "replace the live table inet portwall with the profile's, in one transaction",
		ArgsUsage: "PROFILE",
		Description: `Replaces table inet portwall with the ruleset the profile gives for --host, in
one netlink transaction (delete and create together), touching no other
table, and prints what it changed. It refuses when the ruleset changed
between reading and writing (the ruleset generation), and, unless --force,
when the new rules would block the SSH connection it runs over
(SSH_CONNECTION) or when another table's base chain on the input or output
hook (firewalld's, ufw's...) would drop what they allow, or portwall cannot
tell whether it would: a packet must pass every base chain on its hook.

With --confirm-timeout the change must be confirmed: type "yes", or run
portwall confirm (from a new login: that proves the new rules let you back
in). Otherwise the previous table comes back exactly when the time is up.
The rollback timer is a process of its own: it rolls back even if this
command, its terminal or its SSH session dies. A table that cannot be put
back is refused before anything changes. With --no-wait apply returns as
soon as the change is made, leaving the confirmation to portwall confirm.

--plan FILE (from diff --save-plan) applies exactly the change diff showed:
it refuses if the profile now gives another table, or if the ruleset or the
namespace is not the one the plan was made for. --dry-run prints what would
change and exits as diff does.

With --target firewalld it changes the host's firewalld configuration
instead (see diff): it checks the whole configuration with portwall's new
files (firewall-offline-cmd --check-config), renames them into place,
removes portwall's files that are no longer needed, reloads firewalld (and
puts the previous files back if the reload fails), and makes zone portwall
the default zone. Only portwall*.xml files and DefaultZone are touched.
--confirm-timeout, --plan, --dry-run and the SSH check work as for
nftables; a rollback puts portwall's previous files and default zone back
exactly, and reloads.

Exit status: 0 applied (and confirmed); 1 error, nothing applied; 3 not
confirmed, the previous table is back.

Examples:
   portwall apply examples/fortimail-ha.toml --host fml1 --confirm-timeout 30s
   portwall apply examples/fortimail-ha.toml --host fml1 --plan fml1.plan --confirm-timeout 2m --no-wait
   portwall apply examples/site.toml --host mail1 --target firewalld --confirm-timeout 30s`,
		Flags: append(append(liveFlags(), firewalldFlags()...),
			&cli.StringFlag{Name: "target", Aliases: []string{"t"}, Value: "nftables", Usage: "nftables (table inet portwall) or firewalld (its configuration)"},
			&cli.BoolFlag{Name: "dry-run", Usage: "only show what would change (the same as diff)"},
			&cli.DurationFlag{Name: "confirm-timeout", Usage: "roll back unless confirmed (\"yes\", or portwall confirm) within `DURATION`"},
			&cli.BoolFlag{Name: "no-wait", Usage: "with --confirm-timeout: return once applied; confirm with portwall confirm"},
			&cli.StringFlag{Name: "plan", Usage: "apply exactly the change diff --save-plan wrote to `FILE`"},
			&cli.BoolFlag{Name: "force", Usage: "apply even if the new rules would block the current SSH connection, or another table's chain would drop what they allow"},
			&cli.StringFlag{Name: "format", Value: "text", Usage: "output: text or json"},
		),
		Action: e.apply,
	}
}

func checkFormat(c *cli.Context) error {
	if f := c.String("format"); f != "text" && f != "json" {
		return fmt.Errorf("unknown format %q: want text or json", f)
	}
	return nil
}

// liveDoc is the JSON output of diff and apply. Fields are added, never
// renamed or removed.
type liveDoc struct {
	Host  string `json:"host"`
	NetNS string `json:"netns"`
	Drift bool   `json:"drift"`
	*live.Diff
	// The whole tables in nft syntax, as the unified diff compares them:
	// "" for no table.
	LiveTable    string `json:"live_table"`
	DesiredTable string `json:"desired_table"`
	// OtherChains are the other tables' base chains on the input and
	// output hooks, and what each does with the flows portwall allows.
	OtherChains []otherChain `json:"other_chains"`
	applyOutcome
}

// applyOutcome ends apply's JSON documents (nftables and firewalld): what
// the apply did.
type applyOutcome struct {
	Applied *bool        `json:"applied,omitempty"`
	Pending *pending.Txn `json:"pending,omitempty"`
	Result  string       `json:"result,omitempty"`
	Detail  string       `json:"detail,omitempty"`
}

func (p *plan) document(applied *bool) *liveDoc {
	d := &liveDoc{Host: p.host, NetNS: p.netns, Drift: p.diff.Drift(), Diff: p.diff, applyOutcome: applyOutcome{Applied: applied},
		LiveTable: tableText(p.current), DesiredTable: tableText(p.want), OtherChains: []otherChain{}}
	if p.coexist != nil {
		d.OtherChains = append(d.OtherChains, p.coexist.Chains...)
	}
	if d.Changes == nil {
		d.Changes = []live.Item{}
	}
	return d
}

func tableText(t *live.Table) string {
	if t == nil {
		return ""
	}
	return strings.Join(t.Lines(), "\n") + "\n"
}

func (e *env) writeJSON(v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// savedPlan is what diff --save-plan writes and apply --plan checks.
type savedPlan struct {
	Format string `json:"format"`
	Host   string `json:"host"`
	NetNS  string `json:"netns"`
	// Namespace identifies the namespace (not its name).
	Namespace  string `json:"namespace"`
	Generation uint32 `json:"generation"`
	// Script is the nftables script apply would load.
	Script  string `json:"script"`
	Drift   bool   `json:"drift"`
	Summary string `json:"summary"`
	Unified string `json:"unified"`
}

const planFormat = "portwall-plan/1"

func (p *plan) saved() (*savedPlan, error) {
	ns, err := p.conn.Namespace()
	if err != nil {
		return nil, err
	}
	defer ns.Close()
	id, err := pending.NamespaceID(ns)
	if err != nil {
		return nil, err
	}
	return &savedPlan{Format: planFormat, Host: p.host, NetNS: p.netns, Namespace: id, Generation: p.gen,
		Script: string(p.script), Drift: p.diff.Drift(), Summary: p.diff.Summary(), Unified: p.diff.Unified}, nil
}

func (p *plan) save(file string) error {
	sp, err := p.saved()
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(sp, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(file, append(data, '\n'))
}

// writeFileAtomic writes a file that appears whole or not at all.
func writeFileAtomic(file string, data []byte) error {
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, file); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// checkPlan refuses unless applying now would make exactly the change
// the plan in file showed.
func (p *plan) checkPlan(file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var want savedPlan
	if err := json.Unmarshal(data, &want); err != nil || want.Format != planFormat {
		return fmt.Errorf("%s: not a portwall plan (diff --save-plan writes them)", file)
	}
	now, err := p.saved()
	if err != nil {
		return err
	}
	switch {
	case want.Host != now.Host:
		return fmt.Errorf("the plan %s is for host %s, not %s", file, want.Host, now.Host)
	case want.Namespace != now.Namespace:
		return fmt.Errorf("the plan %s was made in another network namespace (%s, here %s)", file, want.Namespace, now.Namespace)
	case want.Script != now.Script:
		return fmt.Errorf("the profile (or portwall) now gives host %s another table than the plan %s: run diff again; nothing was applied", now.Host, file)
	case want.Generation != now.Generation:
		return fmt.Errorf("the ruleset changed since the plan %s was made (generation %d, now %d): run diff again; nothing was applied", file, want.Generation, now.Generation)
	}
	return nil
}

func (e *env) apply(c *cli.Context) error {
	if err := checkFormat(c); err != nil {
		return err
	}
	timeout := c.Duration("confirm-timeout")
	switch {
	case c.Bool("dry-run") && (c.IsSet("confirm-timeout") || c.Bool("force") || c.Bool("no-wait")):
		return errors.New("--dry-run changes nothing: --confirm-timeout, --no-wait and --force do not apply")
	case c.Bool("no-wait") && timeout <= 0:
		return errors.New("--no-wait needs --confirm-timeout: without a confirmation there is nothing to wait for")
	}
	if err := checkFirewalldFlags(c); err != nil {
		return err
	}
	switch t := c.String("target"); t {
	case "firewalld":
		return e.firewalldApply(c)
	case "nftables":
	default:
		return fmt.Errorf("apply changes table inet portwall or firewalld's configuration: --target nftables or firewalld, not %q", t)
	}
	p, err := e.plan(c)
	if err != nil {
		return err
	}
	defer p.conn.Close()
	if f := c.String("plan"); f != "" {
		if err := p.checkPlan(f); err != nil {
			return err
		}
	}
	if c.Bool("dry-run") {
		return e.printDiff(c, p)
	}
	ns, err := p.conn.Namespace()
	if err != nil {
		return err
	}
	defer ns.Close()
	store, err := pending.Open(ns)
	if err != nil {
		return err
	}
	// An apply waiting for confirmation owns the namespace's table until
	// it is settled: another apply would race its rollback.
	if t, err := store.Pending(); err != nil {
		return err
	} else if t != nil {
		return fmt.Errorf("refusing to apply: %w", t.Busy())
	}
	asJSON := c.String("format") == "json"
	e.writeCoexistence(p)
	if !p.diff.Drift() {
		if asJSON {
			return e.writeJSON(p.document(new(bool)))
		}
		e.info("Nothing to apply: table inet portwall already matches the profile.\n")
		return nil
	}
	if !c.Bool("force") {
		if p.lockout != nil {
			return p.lockout
		}
		if err := p.coexist.refusal(); err != nil {
			return err
		}
	}
	var txn *pending.Txn
	release := func() {}
	if timeout > 0 {
		if txn, release, err = e.begin(c, p, store, ns, timeout); err != nil {
			return err
		}
	}
	// The compiled table is needed only to encode the batch, and the two
	// tables in canonical form only for the JSON document: let them go
	// before the batch (megabytes for a large table) is sent.
	desired := p.desired
	p.desired = nil
	s := settling{outcome: &applyOutcome{}, unified: p.diff.Unified, summary: p.diff.Summary(),
		netns: p.netns, store: store, txn: txn, timeout: timeout, conn: p.conn, previous: "the previous table", comeBack: "comes back"}
	if !asJSON {
		// Only the JSON document reads the changes one by one (each
		// set's elements written out), and -q prints no unified diff.
		p.current, p.want, p.diff = nil, nil, nil
		if e.quiet {
			s.unified = ""
		}
	}
	err = p.conn.Apply(desired, p.gen)
	release()
	if err != nil {
		if txn != nil {
			store.Cancel(txn.ID, err.Error())
		}
		return err
	}
	if asJSON {
		// Only the JSON document holds both tables written out whole.
		applied := true
		doc := p.document(&applied)
		s.doc, s.outcome = doc, &doc.applyOutcome
	}
	return e.settle(c, s)
}

// settling is an apply that has changed the rules, to report and, with a
// pending transaction, to see confirmed or rolled back.
type settling struct {
	doc                any // the JSON document, ending with outcome
	outcome            *applyOutcome
	unified, summary   string
	netns              string
	store              *pending.Store
	txn                *pending.Txn // nil: no --confirm-timeout
	timeout            time.Duration
	conn               *live.Conn // what a rollback of the table needs; nil for firewalld
	previous, comeBack string     // what a rollback brings back, and its verb
}

// settle prints what apply changed, then leaves the transaction pending
// (--no-wait) or waits for its confirmation, and reports how it ended.
func (e *env) settle(c *cli.Context, s settling) error {
	asJSON := c.String("format") == "json"
	if !asJSON && !e.quiet {
		fmt.Fprint(e.stdout, e.paintLines(diag.EscapeLayout(s.unified), diffColors()))
	}
	if !asJSON {
		e.info("Applied: %s.\n", s.summary)
	}
	if s.txn == nil {
		if asJSON {
			return e.writeJSON(s.doc)
		}
		return nil
	}
	txn := s.txn
	confirm := "portwall confirm"
	if s.netns != "" {
		confirm += " --netns " + s.netns
	}
	if c.Bool("no-wait") {
		s.outcome.Pending = txn
		if asJSON {
			return e.writeJSON(s.doc)
		}
		e.info("Pending: run `%s` (transaction %s) by %s, or %s %s.\n", confirm, txn.ID, txn.Deadline.Format(time.TimeOnly), s.previous, s.comeBack)
		return nil
	}
	fmt.Fprintf(e.stderr, "Type yes within %s to keep the new rules, or run `%s` from a new login; otherwise %s %s at %s.\n",
		s.timeout, confirm, s.previous, s.comeBack, txn.Deadline.Format(time.TimeOnly))
	o, err := e.awaitConfirmation(s.store, txn, s.conn)
	if err != nil {
		return err
	}
	s.outcome.Result, s.outcome.Detail = string(o.Result), o.Detail
	if asJSON {
		if err := e.writeJSON(s.doc); err != nil {
			return err
		}
	}
	switch o.Result {
	case pending.Confirmed:
		if !asJSON {
			e.info("Confirmed: keeping the new rules.\n")
		}
		return nil
	case pending.RolledBack:
		fmt.Fprintf(e.stderr, "portwall: %s: rolled back to %s\n", o.Detail, s.previous)
		return exitStatus(exitRolledBack)
	}
	return errors.New(o.Detail)
}

// begin takes the snapshot that a rollback restores, makes sure up front
// that the kernel will take it back, and starts the rollback timer; the
// caller releases the namespace's lock once the table is applied.
func (e *env) begin(c *cli.Context, p *plan, store *pending.Store, ns *os.File, timeout time.Duration) (*pending.Txn, func(), error) {
	snap, err := p.conn.Snapshot()
	if err == nil {
		err = p.conn.CheckRestore(snap)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("refusing to apply: --confirm-timeout must be able to put the current table back exactly, and cannot: %w. Nothing was changed. See it with nft -a list table inet portwall; remove or change it, or apply without --confirm-timeout (no rollback then)", err)
	}
	now := time.Now()
	txn := &pending.Txn{ID: pending.NewID(), Host: p.host, Profile: c.Args().First(), NetNS: p.netns,
		Started: now, Deadline: now.Add(timeout), Summary: p.diff.Summary()}
	args := []string{"portwall", pending.TimerCommand, "--state", store.Dir, "--id", txn.ID}
	release, err := store.Begin(txn, snap, store.StartTimer("/proc/self/exe", args, ns))
	if err != nil {
		return nil, nil, fmt.Errorf("refusing to apply: %w", err)
	}
	return txn, release, nil
}

// awaitConfirmation waits for "yes" on standard input (anything else rolls
// back now; end of input leaves it to portwall confirm), for portwall
// confirm, or for the rollback timer. Should the timer die, this process
// rolls back itself shortly after the deadline.
func (e *env) awaitConfirmation(store *pending.Store, txn *pending.Txn, conn *live.Conn) (*pending.Outcome, error) {
	answers := make(chan string)
	go func() {
		defer close(answers)
		r := bufio.NewReader(e.stdin)
		for {
			line, err := r.ReadString('\n')
			if line = strings.TrimSpace(line); line != "" || err == nil {
				answers <- line
			}
			if err != nil {
				return
			}
		}
	}()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(stop)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		var err error
		select {
		case a, ok := <-answers:
			switch {
			case !ok:
				answers = nil
			case a == "yes":
				_, err = store.Confirm(txn.ID)
			default:
				_, err = store.Rollback(txn.ID, conn, fmt.Sprintf("answered %q, not yes", a))
			}
		case sig := <-stop:
			_, err = store.Rollback(txn.ID, conn, fmt.Sprintf("interrupted (%s) before confirmation", sig))
		case <-tick.C:
			if time.Now().After(txn.Deadline.Add(5 * time.Second)) {
				_, err = store.Rollback(txn.ID, conn, fmt.Sprintf("not confirmed within %s (the rollback timer did not act)", txn.Deadline.Sub(txn.Started).Round(time.Millisecond)))
			}
		}
		if err != nil && !errors.Is(err, pending.ErrNothingPending) {
			return nil, err
		}
		if o, err := store.Last(); err != nil {
			return nil, err
		} else if o != nil && o.ID == txn.ID {
			return o, nil
		}
	}
}

// namespaceFlag is --netns for the commands that only need the namespace.
func namespaceFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "netns", Usage: "the network namespace `NAME` (/var/run/netns/NAME, as ip netns names it)"},
		&cli.StringFlag{Name: "id", Usage: "only the transaction with this `ID` (apply --format json prints it)"},
	}
}

func openStore(c *cli.Context) (*pending.Store, *os.File, error) {
	ns, err := live.OpenNamespace(c.String("netns"))
	if err != nil {
		return nil, nil, err
	}
	store, err := pending.Open(ns)
	if err != nil {
		ns.Close()
		return nil, nil, err
	}
	return store, ns, nil
}

// nothingPending reports that no apply waits, with how the last one ended.
func (e *env) nothingPending(store *pending.Store, err error) error {
	msg := "nothing to confirm in this network namespace"
	if !errors.Is(err, pending.ErrNothingPending) || err.Error() != pending.ErrNothingPending.Error() {
		msg = err.Error()
	}
	if o, _ := store.Last(); o != nil {
		msg += fmt.Sprintf("; the last apply (transaction %s, host %s, %s) was %s at %s", o.ID, o.Txn.Host, o.Txn.Summary, strings.ReplaceAll(string(o.Result), "-", " "), o.At.Format(time.TimeOnly))
		if o.Detail != "" {
			msg += ": " + o.Detail
		}
	}
	fmt.Fprintf(e.stderr, "portwall: %s\n", msg)
	return exitStatus(exitNothingPending)
}

func (e *env) confirmCommand() *cli.Command {
	return &cli.Command{
		Name:  "confirm",
		Usage: "keep the rules of an apply that waits for confirmation",
		Description: `Confirms the apply --confirm-timeout that waits in the network namespace:
its rules stay, its rollback timer stops. Run it from a new login, so that
it proves the new rules let you back in.

Exit status: 0 confirmed; 4 nothing to confirm (no apply waits: none was
started, or it was confirmed or rolled back already: the message says which);
1 error.

Examples:
   portwall confirm
   portwall confirm --netns blue`,
		Flags: namespaceFlags(),
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return fmt.Errorf("confirm takes no arguments, got %q", c.Args().First())
			}
			store, ns, err := openStore(c)
			if err != nil {
				return err
			}
			defer ns.Close()
			o, err := store.Confirm(c.String("id"))
			if errors.Is(err, pending.ErrNothingPending) {
				return e.nothingPending(store, err)
			}
			if err != nil {
				return err
			}
			e.info("Confirmed: keeping the rules of transaction %s (host %s, %s), applied at %s.\n", o.ID, o.Txn.Host, o.Txn.Summary, o.Txn.Started.Format(time.TimeOnly))
			return nil
		},
	}
}

func (e *env) rollbackCommand() *cli.Command {
	return &cli.Command{
		Name:  "rollback",
		Usage: "put back now the table an apply that waits for confirmation replaced",
		Description: `Rolls back the apply --confirm-timeout that waits in the network namespace
without waiting for its timeout, or settles one whose rollback failed or
whose timer died.

Exit status: 0 rolled back; 4 nothing to roll back; 1 error (the rules of
the apply stay).

Examples:
   portwall rollback
   portwall rollback --netns blue`,
		Flags: namespaceFlags(),
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return fmt.Errorf("rollback takes no arguments, got %q", c.Args().First())
			}
			store, ns, err := openStore(c)
			if err != nil {
				return err
			}
			defer ns.Close()
			conn, err := live.Open(c.String("netns"))
			if err != nil {
				return err
			}
			defer conn.Close()
			o, err := store.Rollback(c.String("id"), conn, "rolled back by portwall rollback")
			if errors.Is(err, pending.ErrNothingPending) {
				return e.nothingPending(store, err)
			}
			if err != nil {
				return err
			}
			if o.Result != pending.RolledBack {
				return errors.New(o.Detail)
			}
			back := "the previous table is back"
			if o.Txn.Target == pending.TargetFirewalld {
				back = "portwall's previous firewalld files are back"
			}
			e.info("Rolled back transaction %s (host %s): %s.\n", o.ID, o.Txn.Host, back)
			return nil
		},
	}
}

// timerCommand runs a rollback timer (started by apply, never by hand).
func (e *env) timerCommand() *cli.Command {
	return &cli.Command{
		Name:   pending.TimerCommand,
		Hidden: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "state", Required: true},
			&cli.StringFlag{Name: "id", Required: true},
		},
		Action: func(c *cli.Context) error {
			ready := os.NewFile(pending.TimerReadyFD, "ready")
			conn, err := live.OpenFD(pending.TimerNSFD)
			if err != nil {
				fmt.Fprintf(ready, "%v\n", err)
				return err
			}
			defer conn.Close()
			store := &pending.Store{Dir: c.String("state")}
			return store.Guard(c.String("id"), conn, ready)
		},
	}
}
