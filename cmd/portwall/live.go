package main

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"

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

Other tables' base chains on the input and output hooks (firewalld's,
ufw's and Docker's iptables-nft tables, a hand-made table) are listed on
standard error with their table, hook, priority and policy, and what each
does with sample packets of every flow the profile allows: netfilter runs
every base chain on a hook, and a packet dropped by any of them is dropped
(--format json: "other_chains"). apply refuses when one would drop them.

With --save-plan FILE it also writes the plan (the table it would apply,
the ruleset generation it read, the namespace): apply --plan FILE applies
exactly that change, and refuses if anything changed since.

With --target firewalld it compares the host's firewalld configuration
instead: portwall's files (portwall*.xml in zones, policies and services
under --firewalld-dir, by meaning: comments, layout and element order do
not count) and DefaultZone with the files the profile gives, and reports
where firewalld's runtime differs from its permanent configuration (a
change without --permanent, files not reloaded). It reads firewalld over
D-Bus and changes nothing.

With --target fortigate and --running CONFIG (the FortiGate's configuration),
it compares portwall's objects and policies there with the profile instead:
one line per object or policy that generate --running would create (+),
change (~), delete (-) or move (>), then a summary.

Exit status, as terraform plan -detailed-exitcode: 0 no drift, 2 drift,
1 error. (GNU diff and kubectl diff use 1 for differences.)

Examples:
   portwall diff examples/fortimail-ha.toml --host fml1
   portwall diff examples/fortimail-ha.toml --host fml1 --netns test1 --save-plan fml1.plan
   portwall diff examples/site.toml --host mail1 --target firewalld
   portwall diff examples/site.toml --target fortigate --running fgt.conf`,
		Flags: append(append(diffFlags(), firewalldFlags()...),
			&cli.StringFlag{Name: "format", Value: "text", Usage: "output: text or json"},
			&cli.StringFlag{Name: "target", Aliases: []string{"t"}, Value: "nftables", Usage: "nftables (the live table), firewalld (its configuration), or fortigate (with --running)"},
			runningFlag(),
			&cli.StringFlag{Name: "save-plan", Usage: "also write the plan to `FILE`, for apply --plan to apply exactly this change (nftables, firewalld)"}),

		Action: func(c *cli.Context) error {
			if err := checkFormat(c); err != nil {
				return err
			}
			if err := checkFirewalldFlags(c); err != nil {
				return err
			}
			switch t := c.String("target"); t {
			case "fortigate":
				return e.fortigateDiff(c)
			case "firewalld":
				if c.String("running") != "" {
					return errors.New("--running goes with --target fortigate")
				}
				return e.firewalldDiff(c)
			case "nftables":
			default:
				return fmt.Errorf("diff compares the live nftables table, firewalld's configuration or, with --running, a FortiGate's configuration: --target nftables, firewalld or fortigate, not %q", t)
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
			if f := c.String("save-plan"); f != "" {
				if err := p.save(f); err != nil {
					return err
				}
			}
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
			s.Usage += " (nftables, firewalld)"
		}
	}
	return fs
}

// plan holds what diff and apply compute before acting.
type plan struct {
	conn  *live.Conn
	host  string
	netns string
	// lockout is why applying would lock out the SSH session this runs
	// over (nil: it would not), found before the ruleset is let go.
	lockout error
	// script is kept only for a saved plan (--save-plan, --plan): a
	// large one is megabytes.
	script  []byte
	desired *live.Objects
	gen     uint32
	// current and want are the live and desired tables in canonical form.
	current, want *live.Table
	diff          *live.Diff
	// coexist is what the other tables on the input and output hooks do
	// with the flows the table allows.
	coexist *coexistence
}

// plan resolves the profile, renders and compiles the host's table, and
// reads the live one. The generation is read first, so that apply refuses
// if anything changed after this read.
func (e *env) plan(c *cli.Context) (*plan, error) {
	softMemoryLimit()
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
	// What apply needs of the profile, the resolved ruleset and the
	// script is taken now: the memory they hold goes back before the
	// live table is read.
	p := &plan{conn: conn, host: host, netns: c.String("netns"), lockout: lockout(v), desired: desired}
	if c.String("save-plan") != "" || c.String("plan") != "" {
		p.script = files[0].Contents
	}
	if p.gen, err = conn.Generation(); err != nil {
		conn.Close()
		return nil, err
	}
	p.want = desired.CanonicalTable()
	// The other tables first: judging them is the last use of the host
	// view, and with it of the resolved ruleset.
	others, err := conn.ReadOthers()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("reading the other tables on the input and output hooks: %w", err)
	}
	p.coexist = checkCoexistence(others, v, p.want)
	// Everything generating left behind is garbage now, not yet
	// collected: collecting it once here sets the heap's next limit from
	// what reading and comparing the tables need, not from generating on
	// top of them (10,000 group rules: a third lower peak memory, for
	// milliseconds of a run of a second).
	// (r, rs, v and files are dead from here: the compiler's liveness
	// maps let the collector see that.)
	runtime.GC()
	current, err := conn.Read()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("reading table inet portwall: %w", err)
	}
	p.current = current
	p.diff = live.Compare(p.current, p.want)
	return p, nil
}

// writeCoexistence prints the coexistence check to standard error: it is
// a warning about the namespace, not part of the diff.
func (e *env) writeCoexistence(p *plan) {
	where := "other tables hook this network namespace's input and output"
	if p.netns != "" {
		where = "other tables hook the input and output of network namespace " + p.netns
	}
	p.coexist.write(e.stderr, where)
}

// printDiff writes the diff as text or JSON and returns the exit status:
// drift is 2.
func (e *env) printDiff(c *cli.Context, p *plan) error {
	e.writeCoexistence(p)
	if c.String("format") == "json" {
		if err := e.writeJSON(p.document(nil)); err != nil {
			return err
		}
	} else {
		fmt.Fprint(e.stdout, e.paintLines(diag.EscapeLayout(p.diff.Unified), diffColors()))
		fmt.Fprintln(e.stdout, p.diff.Summary())
	}
	if p.diff.Drift() {
		return exitStatus(exitDrift)
	}
	return nil
}

// sshSession reads where the current SSH session comes from and the
// port it reached (SSH_CONNECTION is "client port server port"); ok is
// false outside SSH.
func sshSession() (client netip.Addr, port uint16, ok bool) {
	f := strings.Fields(os.Getenv("SSH_CONNECTION"))
	if len(f) != 4 {
		return netip.Addr{}, 0, false
	}
	client, err1 := netip.ParseAddr(f[0])
	p, err2 := strconv.ParseUint(f[3], 10, 16)
	if err1 != nil || err2 != nil || p == 0 {
		return netip.Addr{}, 0, false
	}
	return client.Unmap(), uint16(p), true
}

// lockout refuses to apply rules that would block new SSH connections
// from where the current session comes from (SSH_CONNECTION is "client
// port server port"): the session survives as an established connection,
// but the next login would not.
func lockout(v *ir.HostView) error {
	client, port, ok := sshSession()
	if !ok {
		return nil
	}
	if !v.Admits(ir.Packet{Dir: ir.In, Remote: client, Protocol: proto.TCP, Port: port}) {
		return fmt.Errorf("refusing to apply: the new rules would block SSH from %s to port %d, the connection this runs over (SSH_CONNECTION); allow it in the profile, or use --force", client, port)
	}
	return nil
}
