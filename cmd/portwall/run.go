package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/sync/errgroup"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/nftables"
	"github.com/portwall/portwall/generators/targets"
	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/profiles"
	"github.com/portwall/portwall/rules"
	"github.com/portwall/portwall/rules/catalog"
	"github.com/portwall/portwall/rules/ir"
)

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1
	// exitDrift: diff found differences (terraform plan -detailed-exitcode).
	exitDrift = 2
	// exitRolledBack: apply --confirm-timeout was not confirmed, and the
	// previous table is back.
	exitRolledBack = 3
	// exitBlocked: query found the traffic blocked. The same number as
	// exitRolledBack: the two commands never share it.
	exitBlocked = 3
	// exitNothingPending: confirm (or rollback) found no apply waiting.
	exitNothingPending = 4
)

// exitStatus is an error that only sets the exit status: its message, if
// any, has been printed already.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// env is what a command runs with: where to read and write, and the global
// flags. Tests drive Run exactly as users run the binary.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// quiet and color come from -q and --color (see output.go).
	quiet, color bool
}

// Run runs portwall with args (args[0] is the program name) and returns the
// exit status. Output goes to stdout or the files the user names;
// diagnostics go to stderr.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) > 1 && args[1] == completeCommand {
		return e.complete(args[2:])
	}
	app := e.newApp()
	// Completion asks with --generate-bash-completion last; it must stay
	// last whatever interspersed does with the other flags.
	const completing = "--generate-bash-completion"
	if n := len(args); n > 1 && args[n-1] == completing {
		args = append(interspersed(app, args[:n-1]), completing)
	} else {
		args = interspersed(app, args)
	}
	if err := app.RunContext(context.Background(), args); err != nil {
		var status exitStatus
		if errors.As(err, &status) {
			return int(status)
		}
		e.report(err)
		return exitError
	}
	return exitOK
}

// newApp defines the command line: every command, flag and help text.
func (e *env) newApp() *cli.App {
	app := &cli.App{
		Name:  "portwall",
		Usage: "compile vendors' \"ports to open\" tables and a deployment profile into firewall rules",
		Description: `portwall reads a deployment profile (which products run on which hosts, with
which features, reachable from which networks), resolves it against its port
catalog, and writes firewall rules for each host.

Exit status: 0 success, 1 error (diagnostics on stderr; no output file is
written when a command fails); diff (and apply --dry-run) exit with 2 when
the live table differs from the profile; apply --confirm-timeout exits with
3 when it was not confirmed and rolled back; query exits with 3 when the
traffic is blocked; confirm and rollback exit with 4 when nothing is pending.`,
		Writer:         e.stdout,
		ErrWriter:      e.stderr,
		Reader:         e.stdin,
		Suggest:        true,
		ExitErrHandler: func(*cli.Context, error) {},
		Flags: append([]cli.Flag{
			&cli.StringSliceFlag{
				Name:  "catalog",
				Usage: "load the products and services of the catalog directory `DIR` (its *.toml files; repeatable); a product with a known name replaces the built-in one",
			},
			&cli.BoolFlag{Name: "version", Usage: "print portwall's version (module version and VCS revision) and exit"},
			&cli.StringFlag{
				Name:  "today",
				Usage: "judge the profile's expires dates as of `DATE` (YYYY-MM-DD) instead of today",
			},
		}, outputFlags()...),
		Before:               e.before,
		EnableBashCompletion: true,
		Commands: []*cli.Command{
			e.catalogCommand(),
			e.initCommand(),
			e.validateCommand(),
			e.generateCommand(),
			e.docsCommand(),
			e.diffCommand(),
			e.applyCommand(),
			e.confirmCommand(),
			e.rollbackCommand(),
			e.timerCommand(),
			e.explainCommand(),
			e.queryCommand(),
			e.lintCommand(),
			e.verifyCommand(),
			e.schemaCommand(),
			e.completionCommand(),
			e.manCommand(),
			helpCommand(),
		},
	}
	// Usage errors are diagnostics: report them on stderr, without the
	// help text on stdout, and point at --help.
	app.OnUsageError = usageError
	app.Action = unknownCommand(app.Commands, cli.ShowAppHelp)
	setUsageError(app.Commands)
	// urfave/cli's help flag is a package variable it writes into on every
	// run: each app and command gets its own instead.
	app.HideHelp = true
	app.Flags = append(app.Flags, helpFlag())
	ownHelp(app.Commands)
	return app
}

// unknownCommand is the action of a command with subcommands: help when
// called alone, an error naming the subcommands otherwise.
func unknownCommand(cmds []*cli.Command, help cli.ActionFunc) cli.ActionFunc {
	return func(c *cli.Context) error {
		if c.NArg() == 0 {
			return help(c)
		}
		var names []string
		for _, cmd := range cmds {
			if cmd.Name != "help" {
				names = append(names, cmd.Name)
			}
		}
		return fmt.Errorf("unknown command %q%s (commands: %s)", c.Args().First(), diag.DidYouMean(c.Args().First(), names), strings.Join(names, ", "))
	}
}

func usageError(c *cli.Context, err error, _ bool) error {
	name := c.Command.HelpName
	if name == "" {
		name = c.App.Name
	}
	return fmt.Errorf("%w (see %s --help)", err, name)
}

// helpFlag is -h/--help, as urfave/cli's own.
func helpFlag() cli.Flag {
	return &cli.BoolFlag{Name: "help", Aliases: []string{"h"}, Usage: "show help", DisableDefaultText: true}
}

func ownHelp(cmds []*cli.Command) {
	for _, c := range cmds {
		c.HideHelp = true
		c.Flags = append(c.Flags, helpFlag())
		ownHelp(c.Subcommands)
	}
}

func setUsageError(cmds []*cli.Command) {
	for _, c := range cmds {
		c.OnUsageError = usageError
		setUsageError(c.Subcommands)
	}
}

// report prints an error: positioned problems one per line as
// file:line:col: message, anything else prefixed with the program name.
func (e *env) report(err error) {
	var list diag.ErrorList
	if errors.As(err, &list) {
		for _, item := range list {
			fmt.Fprintln(e.stderr, e.escape(item.Error()))
		}
		return
	}
	fmt.Fprintln(e.stderr, e.escape("portwall: "+err.Error()))
}

// escape makes a message safe for the terminal (diag.Escape).
func (e *env) escape(s string) string { return diag.Escape(s) }

// loadCatalog loads the built-in catalog and the --catalog directories.
func loadCatalog(c *cli.Context) (*catalog.Catalog, error) {
	return catalog.Load(c.StringSlice("catalog")...)
}

// loadProfile reads the profile named by the first argument ("-" reads
// standard input).
func (e *env) loadProfile(c *cli.Context) (*profiles.Profile, error) {
	if c.NArg() != 1 {
		return nil, fmt.Errorf("%s: want exactly one PROFILE argument, got %d", c.Command.Name, c.NArg())
	}
	name := c.Args().First()
	if name == "-" {
		data, err := io.ReadAll(e.stdin)
		if err != nil {
			return nil, err
		}
		return profiles.Parse("<stdin>", data)
	}
	if _, err := os.Stat(name); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("profile %s: %w", name, err)
	}
	return profiles.Load(name)
}

// resolved is a profile resolved against the catalog, with the backends'
// sections decoded by their owners.
type resolved struct {
	p        *profiles.Profile
	rs       *ir.Ruleset
	settings generators.Settings
	declared *declared
}

// resolve loads the catalog and the profile, decodes the backends' sections
// (with the command line's overrides, such as --layout) and resolves the
// profile, reporting the profile's own problems, its sections' and the
// catalog's together.
func (e *env) resolve(c *cli.Context) (*resolved, error) {
	cat, err := loadCatalog(c)
	if err != nil {
		return nil, err
	}
	p, err := e.loadProfile(c)
	if p == nil {
		return nil, err
	}
	secs := generators.Sections(targets.All())
	owned := make([]string, len(secs))
	for i, sec := range secs {
		owned[i] = sec.Name()
	}
	var errs diag.ErrorList
	errs.Append(diag.AsList(err))
	errs.Append(p.UnknownTables(owned))
	decl, derrs := declaredTargets(p)
	errs.Append(derrs)
	settings, serr := generators.DecodeSettings(p, secs, generators.NewEnv(p, c.String))
	var list diag.ErrorList
	switch {
	case errors.As(serr, &list):
		errs.Append(list)
	case serr != nil && len(errs) == 0:
		// A command-line override the section refused: once the profile
		// itself is clean.
		return nil, serr
	}
	if len(errs) > 0 {
		return nil, rules.Check(p, errs.Err(), cat)
	}
	today, err := today(c)
	if err != nil {
		return nil, err
	}
	rs, err := rules.Resolve(p, cat, rules.On(today))
	if err != nil {
		return nil, err
	}
	return &resolved{p: p, rs: rs, settings: settings, declared: decl}, nil
}

// layoutFlag chooses the nftables layout for one run.
func layoutFlag() cli.Flag {
	return &cli.StringFlag{Name: nftables.LayoutFlag, Usage: "nftables layout: auto, readable or sets (default: the profile's [nftables] layout, else auto)"}
}

func (e *env) validateCommand() *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "check a profile against the catalog and its declared targets, and report every problem",
		ArgsUsage: "PROFILE",
		Description: `Checks syntax, unknown keys, names, addresses and ports, then resolves the
profile against the catalog (products, features, roles, peers, modes, port
overrides), then generates every declared target in memory: each host's
targets ([hosts.X] targets or os, else [defaults] targets or os) and the
FortiGate network view when the profile has a [fortigate] section. What a
target refuses is an error, at the line to change. Every problem is
reported, as file:line:col: message.

If validate exits 0, generate of the declared targets exits 0. With
--target, the named targets are checked for every host (or the network
view) instead. A profile that declares no targets gets each target's
refusals as warnings, naming the target.

Exit status: 0 valid (warnings go to standard error), 1 a problem.

Examples:
   portwall validate examples/fortimail-ha.toml
   portwall validate site.toml --target nftables,powershell`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "target", Aliases: []string{"t"}, Usage: "check these targets (comma-separated, or all) instead of the declared ones"},
		},
		Action: e.validate,
	}
}

// validate is the CI gate: everything generate would do for the declared
// targets, without writing anything.
func (e *env) validate(c *cli.Context) error {
	r, err := e.resolve(c)
	if err != nil {
		return err
	}
	e.warnExpired(r)
	type job struct {
		g     generators.Generator
		hosts []string // nil: the network view
		warn  bool     // not declared: refusals are warnings
	}
	var jobs []job
	switch {
	case c.String("target") != "":
		gs, err := targetList(c.String("target"))
		if err != nil {
			return err
		}
		for _, g := range gs {
			jobs = append(jobs, job{g, generators.AllHosts(g, r.rs, nil).Hosts, false})
		}
	default:
		// Declared targets are checked; when the profile declares no host
		// targets at all, every host target is tried and its refusals are
		// warnings, and likewise the network view without a [fortigate].
		byTarget := map[string][]string{}
		for _, h := range r.rs.HostNames() {
			for _, g := range r.declared.hosts[h] {
				byTarget[g.Name()] = append(byTarget[g.Name()], h)
			}
		}
		for _, g := range targets.All() {
			switch {
			case !g.Caps().HostView:
			case r.declared.any && len(byTarget[g.Name()]) > 0:
				jobs = append(jobs, job{g, byTarget[g.Name()], false})
			case !r.declared.any:
				jobs = append(jobs, job{g, r.rs.HostNames(), true})
			}
		}
		for _, g := range r.declared.network {
			jobs = append(jobs, job{g, nil, false})
		}
		if !r.declared.any && len(r.declared.network) == 0 {
			for _, g := range targets.All() {
				if !g.Caps().HostView {
					jobs = append(jobs, job{g, nil, true})
				}
			}
		}
	}
	// Backends are pure functions of the request: the targets render at
	// once, one per CPU, and their refusals are collected in job order.
	results := make([]error, len(jobs))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, j := range jobs {
		if j.g.Caps().HostView && len(j.hosts) == 0 {
			continue
		}
		g.Go(func() error {
			_, results[i] = generators.Generate(j.g, generators.Request{Ruleset: r.rs, Hosts: j.hosts, Settings: r.settings})
			return nil
		})
	}
	g.Wait()
	var errs, warnings diag.ErrorList
	for i, j := range jobs {
		if j.warn {
			warnings.Append(diag.AsList(locate(r, results[i])))
		} else {
			errs.Append(diag.AsList(locate(r, results[i])))
		}
	}
	if len(errs) > 0 {
		return errs.Err()
	}
	warnings.Sort()
	for _, w := range warnings {
		w.Msg = "warning: " + w.Msg
		fmt.Fprintln(e.stderr, e.escape(w.Error()))
	}
	e.info("%s: valid: %s, %s, %s\n", r.p.File,
		diag.Plural(len(r.p.Deployments), "deployment"), diag.Plural(len(r.rs.Hosts), "host"), diag.Plural(len(r.rs.Rules), "rule"))
	return nil
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, ", ")
}

// helpCommand is the help command of the app or of a command with
// subcommands: one per instance, because urfave/cli's own is a package
// variable that every Run would set up again (a data race when Run is
// called concurrently, as the tests do). `help A B` shows what `A B
// --help` shows, subcommands included.
func helpCommand() *cli.Command {
	return &cli.Command{
		Name:      "help",
		Aliases:   []string{"h"},
		Usage:     "Shows a list of commands or help for one command",
		ArgsUsage: "[command [subcommand]]",
		Description: `Example:
   portwall help generate
   portwall help catalog show`,
		Action: func(c *cli.Context) error {
			// The help command's parent is the app (root) or a command
			// with subcommands; its path comes before the arguments.
			lineage := c.Lineage()
			var path []string
			for i := len(lineage) - 1; i >= 1; i-- {
				if cmd := lineage[i].Command; cmd != nil && cmd.Name != "" && cmd.Name != c.App.Name {
					path = append(path, cmd.Name)
				}
			}
			cmds := c.App.Commands
			for _, name := range path {
				for _, x := range cmds {
					if x.Name == name {
						cmds = x.Subcommands
					}
				}
			}
			for i, name := range c.Args().Slice() {
				var next *cli.Command
				for _, x := range cmds {
					if x.HasName(name) {
						next = x
					}
				}
				if next == nil {
					return fmt.Errorf("no help for %q: unknown command %q%s", strings.Join(c.Args().Slice()[:i+1], " "), name, diag.DidYouMean(name, commandNames(cmds)))
				}
				path, cmds = append(path, next.Name), next.Subcommands
			}
			return c.App.RunContext(c.Context, append(append([]string{c.App.Name}, path...), "--help"))
		},
	}
}

func commandNames(cmds []*cli.Command) []string {
	var out []string
	for _, c := range cmds {
		if c.Name != "help" {
			out = append(out, c.Name)
		}
	}
	return out
}

// today is the date expires dates are judged by: --today, or the local
// date.
func today(c *cli.Context) (profiles.Date, error) {
	s := c.String("today")
	if s == "" {
		return profiles.DateOf(time.Now()), nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return profiles.Date{}, fmt.Errorf("--today %q: want a date such as 2027-03-31", s)
	}
	return profiles.DateOf(t), nil
}

// warnExpired says which custom rules are left out because they expired:
// generating them no more is the point of expires, but it must never be
// silent.
func (e *env) warnExpired(r *resolved) {
	for _, x := range r.rs.Expired {
		who := ""
		if x.Owner != "" || x.Ticket != "" {
			who = " (" + strings.Trim(strings.Join([]string{ownerText(x.Owner), ticketText(x.Ticket)}, ", "), ", ") + ")"
		}
		fmt.Fprintln(e.stderr, e.escape(fmt.Sprintf("%s: warning: allow[%d]%s expired on %s: not generated; remove it, or move expires", x.Pos, x.Allow, who, x.Expires)))
	}
}

func ownerText(s string) string {
	if s == "" {
		return ""
	}
	return "owner " + s
}

func ticketText(s string) string {
	if s == "" {
		return ""
	}
	return "ticket " + s
}

// before runs ahead of every command: --version, then the output flags.
func (e *env) before(c *cli.Context) error {
	if c.Bool("version") {
		fmt.Fprintln(e.stdout, version())
		return exitStatus(exitOK)
	}
	return e.setOutput(c)
}

// version is the module version and the VCS revision it was built from,
// as the Go toolchain records them in the binary.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "portwall (no build information)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, at, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = ", modified"
			}
		}
	}
	if rev == "" {
		return fmt.Sprintf("portwall %s (%s)", v, bi.GoVersion)
	}
	return fmt.Sprintf("portwall %s (revision %s, %s%s; %s)", v, rev, at, dirty, bi.GoVersion)
}
