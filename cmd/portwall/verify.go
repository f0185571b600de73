package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/internal/diag"
	fwd "github.com/portwall/portwall/internal/netns/firewalld"
	ufwenv "github.com/portwall/portwall/internal/netns/ufw"
	"github.com/portwall/portwall/internal/proof"
	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/probe"
)

func (e *env) verifyCommand() *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "prove a profile's rules with real packets in throwaway network namespaces (root)",
		ArgsUsage: "PROFILE",
		Description: `For each host (or --host), builds a network of namespaces on this machine: a
router, the host with its addresses and the generated rules loaded (nftables,
iptables and ip6tables, or with --target firewalld the firewalld
configuration, loaded by its script into a private firewalld daemon that runs
in the host's namespace with its own configuration directory and D-Bus bus,
or with --target ufw the ufw script, run with --enable in the host's namespace
against a private copy of ufw's configuration),
and a namespace per address set of the profile
holding sample addresses of it (the first and last of its ranges; a
documentation address stands for "any" and for strangers). Every peer
address then probes the host on every port a rule names, the ports next to
them and common service ports, with TCP, UDP and ping; with egress filtering
the host probes the peers the same way. Each probe must do what the
profile's rules say. Before the rules are loaded every probe must get
through, so that each one stopped afterwards was stopped by the rules. IPv6
neighbour discovery must keep working under the rules.

The profile's [[expect]] entries are checked too, against the rules and
with packets from their sides' sample addresses.

verify needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN: a CI container started
with --cap-add NET_ADMIN --cap-add SYS_ADMIN) and ip(8), nft and
iptables-restore; --target firewalld needs firewalld and dbus-daemon
installed (the machine's own firewalld service need not run, and is not
used), --target ufw needs ufw installed (the machine's ufw need not be
enabled, and is not used). It never touches the machine's own ruleset,
addresses, firewalld or ufw configuration, and removes the namespaces and
daemons it started.
Every port a rule names is probed (its edges and their neighbours), and at
most 31 address sets get a namespace each: a plan that cannot cover every
rule fails verify, unless --sample N accepts probing at most N ports per
host (and the address sets that fit), which verify then says it did.

Progress goes to standard error (one line per host ruleset, or one updated
line on a terminal), with a summary of hosts, probes and time; each host's
matrix goes to standard output as soon as it is known, in host order.

--alongside FILE proves the rules next to another firewall's: the host's
own firewalld, ufw or Docker tables, saved on the host with nft list ruleset
(or iptables-save, ip6tables-save). verify loads FILE into the host's
namespace after the check without rules and before the rules, so that every
probe the profile allows must get through both; before the probes it runs the
coexistence check of diff and apply on FILE alone (in a namespace of its
own) and prints which of its chains drop what the profile allows. Without
--alongside the host's namespace holds portwall's rules alone: verify never
reads the machine's own ruleset.

Exit status: 0 proven, 1 a mismatch, a failing expectation, a plan that
could not cover every rule (without --sample), or an error.

Examples:
   sudo portwall verify examples/xeams.toml --target nftables
   sudo portwall verify site.toml --host mail1 --sample 64
   sudo portwall verify site.toml --host mail1 --target nftables --alongside mail1-ruleset.nft`,
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "host", Usage: "verify only host `NAME` (repeatable; default every host)"},
			&cli.StringSliceFlag{Name: "target", Usage: "load the rules of `TARGET`: nftables, iptables, firewalld or ufw (repeatable; default nftables and iptables)"},
			&cli.BoolFlag{Name: "probes", Usage: "list every probe, not only a line per peer address"},
			&cli.IntFlag{Name: "parallel", Value: 2, Usage: "prove `N` host rulesets at a time"},
			&cli.IntFlag{Name: "sample", Usage: "probe at most `N` ports per host, spread over the rules' ports, and say so", DefaultText: "every port a rule names"},
			&cli.StringSliceFlag{Name: "alongside", Usage: "load another firewall's ruleset from `FILE` next to the rules (nft list ruleset, iptables-save or ip6tables-save output; prefix nft:, iptables: or ip6tables: to say which) (repeatable)"},
			layoutFlag(),
		},
		Action: e.verify,
	}
}

func (e *env) verify(c *cli.Context) error {
	r, err := e.resolve(c)
	if err != nil {
		return err
	}
	e.warnExpired(r)
	rs := r.rs
	hosts := c.StringSlice("host")
	for _, h := range hosts {
		if _, ok := rs.Host(h); !ok {
			return unknownHost(rs, h)
		}
	}
	if len(hosts) == 0 {
		hosts = rs.HostNames()
	}
	targets := c.StringSlice("target")
	for _, t := range targets {
		if !slices.Contains(proof.Targets, t) {
			return fmt.Errorf("verify cannot load target %q%s: want %s or %s", t, diag.DidYouMean(t, proof.Targets),
				strings.Join(proof.Targets[:len(proof.Targets)-1], ", "), proof.Targets[len(proof.Targets)-1])
		}
	}
	if len(targets) == 0 {
		targets = proof.Default
	}
	alongside, err := readAlongside(c.StringSlice("alongside"))
	if err != nil {
		return err
	}
	if err := canVerify(targets, alongside); err != nil {
		return err
	}
	// The coexistence check of each host against the files, before any
	// proof opens its thousands of sockets (github.com/google/nftables
	// cannot use a socket numbered above 1023).
	coexist := map[string]string{}
	if len(alongside) > 0 {
		for _, h := range hosts {
			if coexist[h], err = alongsideCheck(c.Context, rs, h, alongside); err != nil {
				return err
			}
		}
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()

	type job struct {
		host, target string
		coexist      string
		out          bytes.Buffer
		failed       bool
		sampled      []string
		err          error
		probes       int
		took         time.Duration
		done         chan struct{}
	}
	var jobs []*job
	for _, h := range hosts {
		for i, t := range targets {
			j := &job{host: h, target: t, done: make(chan struct{})}
			if i == 0 {
				j.coexist = coexist[h]
			}
			jobs = append(jobs, j)
		}
	}
	sample := c.Int("sample")
	start := time.Now()
	sem := make(chan struct{}, max(1, c.Int("parallel")))
	go func() {
		for _, j := range jobs {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				// Interrupted: start nothing more.
				j.err = ctx.Err()
				close(j.done)
				continue
			}
			go func() {
				defer func() { <-sem; close(j.done) }()
				t0 := time.Now()
				j.out.WriteString(j.coexist)
				j.failed, j.probes, j.sampled, j.err = verifyHost(ctx, rs, r.settings, j.host, j.target, c.Bool("probes"), sample, alongside, &j.out)
				j.took = time.Since(t0)
			}()
		}
	}()
	// Results go to standard output in host order as soon as they are
	// known; progress (a line per host ruleset, or one updated line on a
	// terminal) to standard error.
	failed, unproven, probes := 0, 0, 0
	var sampledHosts []string
	progress := e.progress()
	for i, j := range jobs {
		progress.step(fmt.Sprintf("[%d/%d] proving host %s with %s...", i+1, len(jobs), j.host, j.target))
		<-j.done
		progress.clear()
		if ctx.Err() != nil {
			break // interrupted: reported below, once
		}
		bad := j.err != nil || j.failed || len(j.sampled) > 0 && sample == 0
		if bad || !e.quiet {
			fmt.Fprint(e.stdout, e.paintLines(j.out.String(), verifyColors()))
		}
		switch {
		case j.err != nil:
			fmt.Fprintf(e.stderr, "portwall: verify %s with %s: %v\n", j.host, j.target, j.err)
		case len(j.sampled) > 0 && sample == 0:
			fmt.Fprintf(e.stderr, "portwall: verify %s with %s: not every rule was probed: %s; run with --sample N to accept probing part of them\n", j.host, j.target, strings.Join(j.sampled, "; "))
		default:
			progress.done(fmt.Sprintf("[%d/%d] host %s, %s: %s, %s, %.1fs", i+1, len(jobs), j.host, j.target, diag.Plural(j.probes, "probe"),
				map[bool]string{true: "MISMATCH", false: "as the profile says"}[j.failed], j.took.Seconds()))
		}
		if len(j.sampled) > 0 {
			sampledHosts = append(sampledHosts, j.host+" ("+j.target+")")
		}
		switch {
		case j.err != nil || j.failed:
			failed++
		case bad:
			unproven++
		}
		probes += j.probes
	}
	progress.clear()
	if err := ctx.Err(); err != nil {
		return errors.New("verify interrupted: the test namespaces were removed")
	}
	progress.done(fmt.Sprintf("portwall: verify: %s, %s, %.1fs", diag.Plural(len(jobs), "host ruleset"), diag.Plural(probes, "probe"), time.Since(start).Seconds()))
	if failed > 0 {
		fmt.Fprintln(e.stdout, e.paint(red, fmt.Sprintf("FAILED: %d of %d host rulesets do not do what the profile says", failed, len(jobs))))
	}
	if unproven > 0 {
		fmt.Fprintln(e.stdout, e.paint(red, fmt.Sprintf("NOT PROVEN: %d of %d host rulesets could be probed only in part; run with --sample N to accept that", unproven, len(jobs))))
	}
	if failed+unproven > 0 {
		return exitStatus(exitError)
	}
	if len(sampledHosts) > 0 {
		e.info("%s\n", e.paint(green, fmt.Sprintf("verified, sampled (--sample %d): %s, %s sent, every one did what the profile says; sampled on %s", sample, diag.Plural(len(jobs), "host ruleset"), diag.Plural(probes, "probe"), strings.Join(sampledHosts, ", "))))
		return nil
	}
	e.info("%s\n", e.paint(green, fmt.Sprintf("verified: %s, %s sent, every one did what the profile says", diag.Plural(len(jobs), "host ruleset"), diag.Plural(probes, "probe"))))
	return nil
}

// verifyHost proves one host's rules for one target and writes its
// matrix to w.
func verifyHost(ctx context.Context, rs *ir.Ruleset, settings generators.Settings, host, target string, all bool, sample int, alongside []alongsideFile, w *bytes.Buffer) (failed bool, probes int, sampled []string, err error) {
	files, err := proof.Render(rs, settings, host, target)
	if err != nil {
		return false, 0, nil, err
	}
	load, err := proof.Load(settings, files)
	if err != nil {
		return false, 0, nil, err
	}
	if len(alongside) > 0 {
		var before []proof.Command
		for _, f := range alongside {
			before = append(before, f.command())
		}
		load = append(append(before, dropOwnTable), load...)
	}
	var opts []probe.Option
	if sample > 0 {
		opts = append(opts, probe.SamplePorts(sample))
	}
	p, err := probe.NewPlan(rs, host, opts...)
	if err != nil {
		return false, 0, nil, err
	}
	res, err := proof.Run(ctx, p, load, proof.Options{})
	if err != nil {
		return false, 0, nil, err
	}
	title := fmt.Sprintf("host %s, %s", host, target)
	if len(alongside) > 0 {
		var names []string
		for _, f := range alongside {
			names = append(names, f.name)
		}
		title += " alongside " + strings.Join(names, ", ")
	}
	res.WriteMatrix(w, title, all)
	return res.Failed(), len(p.Probes), p.Sampled, nil
}

// canVerify says what is missing to build namespaces and load rules.
func canVerify(targets []string, alongside []alongsideFile) error {
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root (CAP_NET_ADMIN and CAP_SYS_ADMIN)")
	}
	tools := []string{"ip"}
	for _, t := range targets {
		switch t {
		case "nftables":
			tools = append(tools, "nft")
		case "iptables":
			tools = append(tools, "iptables-restore", "ip6tables-restore")
		case "firewalld":
			tools = append(tools, fwd.Tools...)
		case "ufw":
			tools = append(tools, ufwenv.Tools...)
		}
	}
	for _, f := range alongside {
		tools = append(tools, f.command().Argv[0])
	}
	for i, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil && !slices.Contains(tools[:i], tool) {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("verify builds network namespaces and loads rules into them: it needs %s", strings.Join(missing, ", "))
	}
	return nil
}
