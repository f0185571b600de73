package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/iptables"
	"github.com/portwall/portwall/generators/targets"
	"github.com/portwall/portwall/generators/windows/powershell"
	"github.com/portwall/portwall/generators/windows/winfw"
	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/lint"
)

func (e *env) lintCommand() *cli.Command {
	var codes []string
	for _, c := range lint.Checks {
		codes = append(codes, fmt.Sprintf("   %s %-26s %s", c.Code, c.Name, c.Summary))
	}
	return &cli.Command{
		Name:      "lint",
		Usage:     "warn about what is valid but risky in a profile",
		ArgsUsage: "PROFILE",
		Description: `Prints one warning per line, file:line:col: CODE name: message, sorted by
position. Codes are stable:

` + strings.Join(codes, "\n") + `

With --strict, any warning makes the exit status 1 (for CI); without it lint
exits 0 unless the profile is invalid. A profile accepts a warning it means
to keep with [lint] ignore = ["CODE", ...], best with a comment saying why;
--ignore CODE,... leaves codes out for one run.

Exit status: 0 (with --strict: 0 only without warnings), 1 a warning under
--strict, or an invalid profile.

Examples:
   portwall lint examples/site.toml
   portwall lint --strict --format json examples/ems-chromebooks.toml
   portwall lint --ignore PW802,PW803 examples/site.toml`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "strict", Usage: "exit with status 1 when there is any warning"},
			&cli.StringFlag{Name: "format", Value: "text", Usage: "output: text or json"},
			&cli.StringFlag{Name: "expiry-warning", Value: "30d", Usage: "report custom rules that expire within `DAYS` (such as 30d) (PW701)"},
			&cli.StringSliceFlag{Name: "ignore", Usage: "leave out the warnings with these `CODES` (comma-separated, or repeated) in this run, as the profile's [lint] ignore does"},
		},
		Action: func(c *cli.Context) error {
			if f := c.String("format"); f != "text" && f != "json" {
				return fmt.Errorf("unknown format %q: want text or json", f)
			}
			warnDays, err := days(c.String("expiry-warning"))
			if err != nil {
				return fmt.Errorf("--expiry-warning: %w", err)
			}
			ignore, err := lintCodes(c.StringSlice("ignore"))
			if err != nil {
				return err
			}
			r, err := e.resolve(c)
			if err != nil {
				return err
			}
			day, err := today(c)
			if err != nil {
				return err
			}
			ws, err := lint.Lint(r.p, r.rs, lint.Config{Targets: lintTargets(r), Today: day, ExpiryWarning: warnDays, Findings: backendFindings(r), NetworkView: len(r.declared.network) > 0})
			if err != nil {
				return err
			}
			ws = slices.DeleteFunc(lintAll(r, ws), func(w lint.Warning) bool { return slices.Contains(ignore, w.Code) })
			if c.String("format") == "json" {
				type item struct {
					File    string `json:"file"`
					Line    int    `json:"line"`
					Col     int    `json:"col"`
					Code    string `json:"code"`
					Name    string `json:"name"`
					Message string `json:"message"`
				}
				items := []item{}
				for _, w := range ws {
					items = append(items, item{w.Pos.File, w.Pos.Line, w.Pos.Col, w.Code, w.Name, w.Msg})
				}
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				if err := enc.Encode(items); err != nil {
					return err
				}
			} else {
				for _, w := range ws {
					fmt.Fprintf(e.stdout, "%s: %s: %s\n", w.Pos, e.paint(yellow, w.Code+" "+w.Name), w.Msg)
				}
			}
			if len(ws) > 0 && c.Bool("strict") {
				fmt.Fprintf(e.stderr, "portwall: lint --strict: %s\n", diag.Plural(len(ws), "warning"))
				return exitStatus(exitError)
			}
			return nil
		},
	}
}

// lintCodes checks the codes of --ignore.
func lintCodes(codes []string) ([]string, error) {
	var known []string
	for _, ch := range lint.Checks {
		known = append(known, ch.Code)
	}
	for _, code := range codes {
		if !slices.Contains(known, code) {
			return nil, fmt.Errorf("lint --ignore: unknown lint code %q%s (lint --help lists them)", code, diag.DidYouMean(code, known))
		}
	}
	return codes, nil
}

// lintTargets tells lint what each backend does with host names under this
// profile's settings.
func lintTargets(r *resolved) []lint.Target {
	var out []lint.Target
	for _, g := range targets.All() {
		t := lint.Target{Name: g.Name(), HostView: g.Caps().HostView}
		if g.Section() == winfw.Section {
			t.Windows = true
			t.DisablesForeign = g.Name() == (powershell.Generator{}).Name() && winfw.SettingsOf(r.settings).ForeignRules == winfw.ForeignDisable
		}
		switch g.Name() {
		case "nftables", "firewalld", "ufw":
			t.Firewall = g.Name()
		case "iptables", "ip6tables":
			t.Firewall = "iptables"
			t.Replaces = iptables.SettingsOf(r.settings).Mode == iptables.Replace
		}
		if t.Windows || t.Firewall != "" {
			for _, h := range r.rs.HostNames() {
				if slices.Contains(r.declared.hosts[h], g) {
					t.DeclaredHosts = append(t.DeclaredHosts, h)
				}
			}
		}
		switch generators.HostNames(g, generators.Request{Ruleset: r.rs, Settings: r.settings}) {
		case generators.NamesOmitted:
			t.Names = lint.NamesOmitted
		case generators.NamesRefused, generators.NamesRefusedDynamic:
			t.Names = lint.NamesRefused
		}
		out = append(out, t)
	}
	return out
}

// days reads a number of days written as "30d" (or a plain number).
func days(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q: want a number of days such as 30d", s)
	}
	return n, nil
}

// backendFindings are lint findings only a backend's settings can make:
// lint itself imports no backend.
func backendFindings(r *resolved) []lint.Warning {
	var out []lint.Warning
	// PW705: outbound rules on Windows are filtering only when the
	// profiles block outbound connections by default, which only
	// set_policy makes them do.
	if r.rs.Policy.Output == ir.OutputDrop && !winfw.SettingsOf(r.settings).SetPolicy && windowsDeclared(r) {
		pos := r.p.Doc.Pos("defaults", "output")
		if t := r.p.Table(winfw.Section.Name()); t != nil {
			pos = t.Pos()
		}
		out = append(out, lint.Warning{Pos: pos, Code: "PW705",
			Msg: "output = \"drop\", but [windows] set_policy is false: Windows keeps allowing outbound connections by default, so the outbound rules change nothing; set set_policy = true under [windows]"})
	}
	return out
}

// windowsDeclared reports whether some host is declared for a Windows
// target, or nothing is declared at all (every target may be generated).
func windowsDeclared(r *resolved) bool {
	if !r.declared.any {
		return true
	}
	for _, gs := range r.declared.hosts {
		for _, g := range gs {
			if g.Section() == winfw.Section {
				return true
			}
		}
	}
	return false
}
