package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/nftables"
	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/internal/live"
	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/proto"
)

// liveFlags are the flags diff and apply share, made anew for each.
func liveFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "host", Usage: "the profile's host `NAME` this machine (or namespace) is", Required: true},
		&cli.StringFlag{Name: "netns", Usage: "work in the network namespace `NAME` (/var/run/netns/NAME, as ip netns names it)"},
		layoutFlag(),
	}
}

func (e *env) diffCommand() *cli.Command {
	return &cli.Command{
		Name:      "diff",
		Usage:     "compare the live table inet portwall with what the profile asks for (read-only)",
		ArgsUsage: "PROFILE",
		Description: `Reads table inet portwall over netlink and compares it with the nftables
ruleset the profile gives for --host: a unified diff in nft syntax (--- live,
+++ desired), then a summary such as "2 to add, 1 to remove, 0 to change".
Rules are compared by meaning, not bytes: a table loaded with nft -f from
portwall's output and one applied by portwall compare equal; handles and
counters are ignored; a rule holding an expression portwall cannot read is
reported as unrecognised, never as equal. diff never changes the kernel.

With --target fortigate and --running CONFIG (the FortiGate's configuration),
it compares portwall's objects and policies there with the profile instead:
one line per object or policy that generate --running would create (+),
change (~), delete (-) or move (>), then a summary.

Exit status, as terraform plan -detailed-exitcode: 0 no drift, 2 drift,
1 error. (GNU diff and kubectl diff use 1 for differences.)

Examples:
   portwall diff examples/fortimail-ha.toml --host fml1
   portwall diff examples/fortimail-ha.toml --host fml1 --netns test1 --format json
   portwall diff examples/site.toml --target fortigate --running fgt.conf`,
		Flags: append(diffFlags(),
			&cli.StringFlag{Name: "format", Value: "text", Usage: "output: text or json"},
			&cli.StringFlag{Name: "target", Aliases: []string{"t"}, Value: "nftables", Usage: "nftables (the live table), or fortigate (with --running)"},
			runningFlag()),
		Action: func(c *cli.Context) error {
			if f := c.String("format"); f != "text" && f != "json" {
				return fmt.Errorf("unknown format %q: want text or json", f)
			}
			switch t := c.String("target"); t {
			case "fortigate":
				return e.fortigateDiff(c)
			case "nftables":
			default:
				return fmt.Errorf("diff compares the live nftables table or, with --running, a FortiGate's configuration: --target nftables or fortigate, not %q", t)
			}
			switch {
			case c.String("running") != "":
				return errors.New("--running goes with --target fortigate")
			case c.String("host") == "":
				return errors.New(`Required flag "host" not set`)
			}
			p, err := e.plan(c)
			if err != nil {
				return err
			}
			defer p.conn.Close()
			return e.printDiff(c, p)
		},
	}
}

// diffFlags are liveFlags with --host optional: diff --target fortigate
// has no host.
func diffFlags() []cli.Flag {
	fs := liveFlags()
	for _, f := range fs {
		if s, ok := f.(*cli.StringFlag); ok && s.Name == "host" {
			s.Required = false
			s.Usage += " (nftables)"
		}
	}
	return fs
}

func (e *env) applyCommand() *cli.Command {
	return &cli.Command{
		Name:      "apply",
		Usage:     "replace the live table inet portwall with the profile's, in one transaction",
		ArgsUsage: "PROFILE",
		Description: `Replaces table inet portwall with the ruleset the profile gives for --host, in
one netlink transaction (delete and create together), touching no other
table, and prints what it changed. It refuses when the ruleset changed
between reading and writing (the ruleset generation), and when the new rules
would block the SSH connection it runs over (SSH_CONNECTION) unless --force.

With --confirm-timeout it waits for "yes" on standard input and otherwise
puts the previous table back exactly, as iptables-apply does. --dry-run
prints what would change and exits as diff does.

Exit status: 0 applied (or nothing to do), 2 with --dry-run when the table
differs, 1 an error, a refusal, or a rollback.

Examples:
   portwall apply examples/fortimail-ha.toml --host fml1 --dry-run
   portwall apply examples/fortimail-ha.toml --host fml1 --confirm-timeout 30s`,
		Flags: append(liveFlags(),
			&cli.BoolFlag{Name: "dry-run", Usage: "only show what would change (the same as diff)"},
			&cli.DurationFlag{Name: "confirm-timeout", Usage: "roll back unless \"yes\" is typed within `DURATION`"},
			&cli.BoolFlag{Name: "force", Usage: "apply even if the new rules would block the current SSH connection"},
		),
		Action: e.apply,
	}
}

// plan holds what diff and apply compute before acting.
type plan struct {
	conn    *live.Conn
	host    string
	view    *ir.HostView
	desired *live.Objects
	gen     uint32
	diff    *live.Diff
}

// plan resolves the profile, renders and compiles the host's table, and
// reads the live one. The generation is read first, so that apply refuses
// if anything changed after this read.
func (e *env) plan(c *cli.Context) (*plan, error) {
	r, err := e.resolve(c)
	if err != nil {
		return nil, err
	}
	e.warnExpired(r)
	rs := r.rs
	host := c.String("host")
	if _, ok := rs.Host(host); !ok {
		return nil, fmt.Errorf("unknown host %q%s (hosts: %s)", host, diag.DidYouMean(host, rs.HostNames()), strings.Join(rs.HostNames(), ", "))
	}
	files, err := generators.Generate(nftables.Generator{}, generators.Request{Ruleset: rs, Hosts: []string{host}, Settings: r.settings})
	if err != nil {
		return nil, locate(r, err)
	}
	desired, err := live.Compile(files[0].Contents)
	if err != nil {
		return nil, fmt.Errorf("internal error: compiling the nftables script: %w", err)
	}
	v, err := rs.HostView(host)
	if err != nil {
		return nil, err
	}
	conn, err := live.Open(c.String("netns"))
	if err != nil {
		return nil, err
	}
	p := &plan{conn: conn, host: host, view: v, desired: desired}
	if p.gen, err = conn.Generation(); err != nil {
		conn.Close()
		return nil, err
	}
	current, err := conn.Read()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("reading table inet portwall: %w", err)
	}
	p.diff = live.Compare(current, desired.CanonicalTable())
	return p, nil
}

// printDiff writes the diff as text or JSON and returns the exit status:
// drift is 2.
func (e *env) printDiff(c *cli.Context, p *plan) error {
	if c.String("format") == "json" {
		doc := struct {
			Host  string `json:"host"`
			NetNS string `json:"netns"`
			Drift bool   `json:"drift"`
			*live.Diff
		}{p.host, c.String("netns"), p.diff.Drift(), p.diff}
		if doc.Changes == nil {
			doc.Changes = []live.Item{}
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(doc); err != nil {
			return err
		}
	} else {
		fmt.Fprint(e.stdout, e.paintLines(p.diff.Unified, diffColors))
		fmt.Fprintln(e.stdout, p.diff.Summary())
	}
	if p.diff.Drift() {
		return exitStatus(exitDrift)
	}
	return nil
}

func (e *env) apply(c *cli.Context) error {
	if c.Bool("dry-run") {
		if c.IsSet("confirm-timeout") || c.Bool("force") {
			return errors.New("--dry-run changes nothing: --confirm-timeout and --force do not apply")
		}
	}
	p, err := e.plan(c)
	if err != nil {
		return err
	}
	defer p.conn.Close()
	if c.Bool("dry-run") {
		return e.printDiff(c, p)
	}
	if !p.diff.Drift() {
		e.info("Nothing to apply: table inet portwall already matches the profile.\n")
		return nil
	}
	if !c.Bool("force") {
		if err := lockout(p.view); err != nil {
			return err
		}
	}
	timeout := c.Duration("confirm-timeout")
	var previous *live.Objects
	if timeout > 0 {
		if previous, err = p.conn.Snapshot(); err != nil {
			return fmt.Errorf("--confirm-timeout needs to restore the current table exactly, and cannot: %w", err)
		}
	}
	if err := p.conn.Apply(p.desired, p.gen); err != nil {
		return err
	}
	if !e.quiet {
		fmt.Fprint(e.stdout, e.paintLines(p.diff.Unified, diffColors))
	}
	e.info("Applied: %s.\n", p.diff.Summary())
	if timeout <= 0 {
		return nil
	}
	fmt.Fprintf(e.stderr, "Type yes within %s to keep the new rules; anything else, or nothing, puts the previous table back.\n", timeout)
	if confirmed(e, timeout) {
		e.info("Confirmed: keeping the new rules.\n")
		return nil
	}
	gen, err := p.conn.Generation()
	if err == nil {
		err = p.conn.Apply(previous, gen)
	}
	if err != nil {
		return fmt.Errorf("not confirmed, and rolling back failed: %w", err)
	}
	return fmt.Errorf("not confirmed within %s: rolled back to the previous table", timeout)
}

// confirmed waits for a line "yes" on standard input.
func confirmed(e *env, timeout time.Duration) bool {
	answer := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(e.stdin).ReadString('\n')
		answer <- strings.TrimSpace(line)
	}()
	select {
	case a := <-answer:
		return a == "yes"
	case <-time.After(timeout):
		return false
	}
}

// lockout refuses to apply rules that would block new SSH connections
// from where the current session comes from (SSH_CONNECTION is "client
// port server port"): the session survives as an established connection,
// but the next login would not.
func lockout(v *ir.HostView) error {
	f := strings.Fields(os.Getenv("SSH_CONNECTION"))
	if len(f) != 4 {
		return nil
	}
	client, err1 := netip.ParseAddr(f[0])
	port, err2 := strconv.ParseUint(f[3], 10, 16)
	if err1 != nil || err2 != nil || port == 0 {
		return nil
	}
	client = client.Unmap()
	if !v.Admits(ir.Packet{Dir: ir.In, Remote: client, Protocol: proto.TCP, Port: uint16(port)}) {
		return fmt.Errorf("refusing to apply: the new rules would block SSH from %s to port %d, the connection this runs over (SSH_CONNECTION); allow it in the profile, or use --force", client, port)
	}
	return nil
}
