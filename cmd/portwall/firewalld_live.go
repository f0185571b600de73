package main

// diff and apply with --target firewalld: the host's firewalld
// configuration (portwall's files under its configuration directory, its
// default zone, and what the running daemon loaded) instead of table inet
// portwall. The safety model is apply's for nftables: a plan refused when
// anything changed since, the SSH lockout guard, and --confirm-timeout
// with the same pending transactions and rollback timer (package
// pending), whose snapshot here is portwall's previous files and default
// zone (package fwdlive).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/firewalld"
	"github.com/portwall/portwall/generators/firewalld/fwdparse"
	"github.com/portwall/portwall/generators/nftables"
	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/internal/fwdlive"
	"github.com/portwall/portwall/internal/live"
	"github.com/portwall/portwall/internal/pending"
	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/proto"
)

// firewalldFlags are the flags of diff and apply that say where firewalld
// is.
func firewalldFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "firewalld-dir", Value: fwdlive.DefaultDir, Usage: "with --target firewalld: firewalld's configuration `DIR` (firewalld --system-config)"},
		&cli.StringFlag{Name: "firewalld-bus", Usage: "with --target firewalld: the D-Bus `ADDRESS` of the system bus firewalld is on (default: DBUS_SYSTEM_BUS_ADDRESS, else the system bus)"},
	}
}

// checkFirewalldFlags refuses firewalld's flags with another target, and
// nftables' with firewalld.
func checkFirewalldFlags(c *cli.Context) error {
	fwd := c.String("target") == "firewalld"
	for _, f := range []string{"firewalld-dir", "firewalld-bus"} {
		if c.IsSet(f) && !fwd {
			return fmt.Errorf("--%s goes with --target firewalld", f)
		}
	}
	if fwd && c.IsSet(nftables.LayoutFlag) {
		return fmt.Errorf("--%s is an nftables setting; --target firewalld has no layouts", nftables.LayoutFlag)
	}
	return nil
}

// fwdPlan holds what diff and apply compute before acting.
type fwdPlan struct {
	host, netns string
	config      fwdlive.Config
	script      []byte
	parsed      *fwdparse.Config
	live        *fwdlive.Live
	diff        *fwdlive.Diff
}

// firewalldPlan resolves the profile, renders the host's firewalld files
// and reads the live state.
func (e *env) firewalldPlan(c *cli.Context) (*fwdPlan, error) {
	if err := checkFirewalldFlags(c); err != nil {
		return nil, err
	}
	if c.String("host") == "" {
		return nil, errors.New(`Required flag "host" not set`)
	}
	r, err := e.resolve(c)
	if err != nil {
		return nil, err
	}
	e.warnExpired(r)
	rs := r.rs
	host := c.String("host")
	if _, ok := rs.Host(host); !ok {
		return nil, unknownHost(rs, host)
	}
	files, err := generators.Generate(firewalld.Generator{}, generators.Request{Ruleset: rs, Hosts: []string{host}, Settings: r.settings})
	if err != nil {
		return nil, locate(r, err)
	}
	parsed, err := fwdparse.Parse(files[0].Contents)
	if err != nil {
		return nil, fmt.Errorf("internal error: reading the firewalld script back: %w", err)
	}
	if c.String("netns") != "" {
		// The namespace names where the pending state is kept: it must
		// exist.
		ns, err := live.OpenNamespace(c.String("netns"))
		if err != nil {
			return nil, err
		}
		ns.Close()
	}
	p := &fwdPlan{host: host, netns: c.String("netns"), script: files[0].Contents, parsed: parsed,
		config: fwdlive.Config{Dir: c.String("firewalld-dir"), Bus: c.String("firewalld-bus")}.Resolved()}
	if p.live, err = fwdlive.Read(context.Background(), p.config); err != nil {
		return nil, err
	}
	p.diff = fwdlive.Compare(p.live, parsed.Data)
	return p, nil
}

// fwdDoc is the JSON output of diff and apply with --target firewalld.
// Its fields follow liveDoc's where they mean the same. Fields are added,
// never renamed or removed.
type fwdDoc struct {
	Host   string `json:"host"`
	NetNS  string `json:"netns"`
	Target string `json:"target"`
	Dir    string `json:"dir"`
	// State is firewalld's: RUNNING, FAILED, or "not running".
	State       string `json:"state"`
	DefaultZone string `json:"default_zone"`
	Drift       bool   `json:"drift"`
	*fwdlive.Diff
	Summary string `json:"summary"`
	// The two documents the unified diff compares.
	LiveTable    string `json:"live_table"`
	DesiredTable string `json:"desired_table"`
	applyOutcome
}

func (p *fwdPlan) document(applied *bool) *fwdDoc {
	d := &fwdDoc{Host: p.host, NetNS: p.netns, Target: "firewalld", Dir: p.config.Dir, State: p.live.State,
		DefaultZone: p.live.EffectiveDefaultZone(), Drift: p.diff.Drift(), Diff: p.diff, Summary: p.diff.Summary(),
		LiveTable: strings.Join(p.diff.LiveDoc, "\n") + "\n", DesiredTable: strings.Join(p.diff.DesiredDoc, "\n") + "\n", applyOutcome: applyOutcome{Applied: applied}}
	if d.State == "" {
		d.State = "not running"
	}
	if d.Changes == nil {
		d.Changes = []fwdlive.Item{}
	}
	return d
}

// firewalldDiff is diff --target firewalld.
func (e *env) firewalldDiff(c *cli.Context) error {
	p, err := e.firewalldPlan(c)
	if err != nil {
		return err
	}
	if f := c.String("save-plan"); f != "" {
		if err := p.save(f); err != nil {
			return err
		}
	}
	return e.printFirewalldDiff(c, p)
}

func (e *env) printFirewalldDiff(c *cli.Context, p *fwdPlan) error {
	if c.String("format") == "json" {
		if err := e.writeJSON(p.document(nil)); err != nil {
			return err
		}
	} else {
		fmt.Fprint(e.stdout, e.paintLines(diag.EscapeLayout(p.diff.Unified), diffColors()))
		fmt.Fprintln(e.stdout, p.diff.Summary())
		if !p.live.Running() {
			fmt.Fprintf(e.stderr, "portwall: firewalld is not running: apply writes the files, and they apply when it starts\n")
		}
	}
	if p.diff.Drift() {
		return exitStatus(exitDrift)
	}
	return nil
}

// fwdSavedPlan is what diff --target firewalld --save-plan writes.
type fwdSavedPlan struct {
	Format    string `json:"format"`
	Host      string `json:"host"`
	NetNS     string `json:"netns"`
	Namespace string `json:"namespace"`
	Dir       string `json:"dir"`
	// Fingerprint identifies the live state diff read (fwdlive.Live).
	Fingerprint string `json:"fingerprint"`
	// Script is the firewalld script whose files apply would install.
	Script  string `json:"script"`
	Drift   bool   `json:"drift"`
	Summary string `json:"summary"`
	Unified string `json:"unified"`
}

const fwdPlanFormat = "portwall-firewalld-plan/1"

func (p *fwdPlan) saved() (*fwdSavedPlan, error) {
	ns, err := live.OpenNamespace(p.netns)
	if err != nil {
		return nil, err
	}
	defer ns.Close()
	id, err := pending.NamespaceID(ns)
	if err != nil {
		return nil, err
	}
	return &fwdSavedPlan{Format: fwdPlanFormat, Host: p.host, NetNS: p.netns, Namespace: id, Dir: p.config.Dir,
		Fingerprint: p.live.Fingerprint(), Script: string(p.script), Drift: p.diff.Drift(), Summary: p.diff.Summary(), Unified: p.diff.Unified}, nil
}

func (p *fwdPlan) save(file string) error {
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

// checkPlan refuses unless applying now would make exactly the change
// the plan in file showed.
func (p *fwdPlan) checkPlan(file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var want fwdSavedPlan
	if err := json.Unmarshal(data, &want); err != nil || want.Format != fwdPlanFormat {
		return fmt.Errorf("%s: not a firewalld plan (diff --target firewalld --save-plan writes them)", file)
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
	case want.Dir != now.Dir:
		return fmt.Errorf("the plan %s is for firewalld's configuration in %s, not %s", file, want.Dir, now.Dir)
	case want.Script != now.Script:
		return fmt.Errorf("the profile (or portwall) now gives host %s other firewalld files than the plan %s: run diff again; nothing was applied", now.Host, file)
	case want.Fingerprint != now.Fingerprint:
		return fmt.Errorf("firewalld's configuration changed since the plan %s was made (portwall's files, the default zone or the runtime): run diff again; nothing was applied", file)
	}
	return nil
}

// firewalldLockout refuses files whose zone would block new SSH
// connections from where the current session comes from
// (SSH_CONNECTION): it reads the zone's grants back from the files
// themselves.
func firewalldLockout(cfg *fwdparse.Config) error {
	client, port, ok := sshSession()
	if !ok {
		return nil
	}
	grants, err := cfg.Grants()
	if err != nil {
		return fmt.Errorf("internal error: reading zone %s back: %w", firewalld.Zone, err)
	}
	for _, g := range grants {
		if g.Dir == ir.In && g.Protocol == proto.TCP && g.Family == ir.FamilyOf(client) && g.Ports.Contains(port) &&
			(g.Src.Any || g.Src.IPs != nil && g.Src.IPs.Contains(client)) {
			return nil
		}
	}
	return fmt.Errorf("refusing to apply: zone %s would block SSH from %s to port %d, the connection this runs over (SSH_CONNECTION); allow it in the profile, or use --force", firewalld.Zone, client, port)
}

// firewalldApply is apply --target firewalld; apply (apply.go) checked
// the flags that do not depend on the target.
func (e *env) firewalldApply(c *cli.Context) error {
	timeout := c.Duration("confirm-timeout")
	p, err := e.firewalldPlan(c)
	if err != nil {
		return err
	}
	if f := c.String("plan"); f != "" {
		if err := p.checkPlan(f); err != nil {
			return err
		}
	}
	if c.Bool("dry-run") {
		return e.printFirewalldDiff(c, p)
	}
	ns, err := live.OpenNamespace(p.netns)
	if err != nil {
		return err
	}
	defer ns.Close()
	store, err := pending.Open(ns)
	if err != nil {
		return err
	}
	// One pending apply per namespace, whichever its target: both filter
	// the same packets.
	if t, err := store.Pending(); err != nil {
		return err
	} else if t != nil {
		return fmt.Errorf("refusing to apply: %w", t.Busy())
	}
	asJSON := c.String("format") == "json"
	if !p.diff.Drift() {
		if asJSON {
			return e.writeJSON(p.document(new(bool)))
		}
		e.info("Nothing to apply: firewalld's configuration already matches the profile.\n")
		return nil
	}
	if !c.Bool("force") {
		if err := firewalldLockout(p.parsed); err != nil {
			return err
		}
	}
	var txn *pending.Txn
	release := func() {}
	if timeout > 0 {
		now := time.Now()
		txn = &pending.Txn{ID: pending.NewID(), Host: p.host, Profile: c.Args().First(), NetNS: p.netns,
			Started: now, Deadline: now.Add(timeout), Summary: p.diff.Summary(), Target: pending.TargetFirewalld}
		args := []string{"portwall", pending.TimerCommand, "--state", store.Dir, "--id", txn.ID}
		// Held until the files are in place and firewalld reloaded: a
		// timeout shorter than that rolls back after the apply, never
		// during it.
		release, err = store.Begin(txn, p.live.Snapshot(), store.StartTimer("/proc/self/exe", args, ns))
		if err != nil {
			return fmt.Errorf("refusing to apply: %w", err)
		}
	}
	err = fwdlive.Apply(context.Background(), p.live, p.parsed.Data)
	release()
	if err != nil {
		if txn != nil {
			store.Cancel(txn.ID, err.Error())
		}
		return err
	}
	applied := true
	doc := p.document(&applied)
	// The rollback of a firewalld transaction needs no netlink connection.
	return e.settle(c, settling{doc: doc, outcome: &doc.applyOutcome, unified: p.diff.Unified, summary: p.diff.Summary(),
		netns: p.netns, store: store, txn: txn, timeout: timeout, previous: "portwall's previous firewalld files", comeBack: "come back"})
}
