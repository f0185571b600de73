package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/fortigate"
	"github.com/portwall/portwall/rules/lint"
)

// The FortiGate's commands: generate and diff against the running
// configuration (--running), and the lint check of the interface map.

// runningFlag is --running, for generate and diff with --target
// fortigate.
func runningFlag() cli.Flag {
	return &cli.StringFlag{Name: "running", Usage: "with --target fortigate: the FortiGate's configuration `CONFIG` (a backup, or the output of show or show full-configuration; - reads standard input): only what changes"}
}

// fortigateChecks are the lint checks the command layer runs for the
// FortiGate (rules/lint cannot know the backend's sections). They are
// registered with lint's list, so that [lint] ignore accepts them and
// lint's help and tests list them.
var fortigateChecks = []lint.Check{
	{Code: "PW901", Name: "unused-interface-mapping", Summary: "a key of [fortigate.interfaces] behind which no side of any rule sits"},
}

func init() { lint.Checks = append(lint.Checks, fortigateChecks...) }

// fortigateLint reports the FortiGate's findings for a profile that
// declares it ([fortigate]).
func fortigateLint(r *resolved) []lint.Warning {
	if !slices.ContainsFunc(r.declared.network, func(g generators.Generator) bool { return g.Name() == "fortigate" }) {
		return nil
	}
	fg := fortigate.SettingsOf(r.settings)
	var out []lint.Warning
	for _, k := range fortigate.UnusedInterfaces(r.rs, fg) {
		if slices.Contains(r.p.LintIgnore, fortigateChecks[0].Code) {
			break
		}
		what := fmt.Sprintf("no side of any rule sits behind %s = %q: the key changes nothing (a typo, or a network the rules do not reach)", k, fg.Interfaces[k])
		if k == "any" || k == "default" {
			what = fmt.Sprintf("the default route (%s = %q) holds no side of any rule: every address is behind another key", k, fg.Interfaces[k])
		}
		out = append(out, lint.Warning{Pos: r.p.Doc.KeyPos(fortigate.Section.Name(), "interfaces", k),
			Code: fortigateChecks[0].Code, Name: fortigateChecks[0].Name, Msg: what})
	}
	return out
}

// readRunning reads CONFIG: a file, or standard input for "-".
func (e *env) readRunning(c *cli.Context) ([]byte, string, error) {
	name := c.String("running")
	if name == "-" {
		if c.Args().First() == "-" {
			return nil, "", errors.New("the profile and --running cannot both come from standard input")
		}
		data, err := io.ReadAll(e.stdin)
		return data, "standard input", err
	}
	data, err := os.ReadFile(name)
	return data, name, err
}

// fortigatePlan resolves the profile, checks it against the backend and
// compares it with CONFIG.
func (e *env) fortigatePlan(c *cli.Context) (*fortigate.Plan, *resolved, error) {
	r, err := e.resolve(c)
	if err != nil {
		return nil, nil, err
	}
	g := fortigate.Generator{}
	if err := generators.Check(g, generators.Request{Ruleset: r.rs, Settings: r.settings}); err != nil {
		return nil, nil, locate(r, err)
	}
	data, source, err := e.readRunning(c)
	if err != nil {
		return nil, nil, fmt.Errorf("--running: %w", err)
	}
	plan, err := fortigate.Sync(r.rs, fortigate.SettingsOf(r.settings), data, source)
	if err != nil {
		return nil, nil, locate(r, err)
	}
	return plan, r, nil
}

// generateRunning is generate --running: the delta, to standard output
// or -o.
func (e *env) generateRunning(c *cli.Context, gs []generators.Generator) error {
	switch {
	case len(gs) != 1 || gs[0].Name() != "fortigate":
		return errors.New("--running goes with --target fortigate: it reads the FortiGate's configuration")
	case c.String("host") != "" || c.Bool("all-hosts") || c.String("out-dir") != "":
		return errors.New("--running prints the changes to the FortiGate's network view: leave out --host, --all-hosts and --out-dir")
	}
	plan, _, err := e.fortigatePlan(c)
	if err != nil {
		return err
	}
	if out := c.String("output"); out != "" {
		return writeFiles(filepath.Dir(out), []generators.File{{Name: filepath.Base(out), Contents: plan.Script}})
	}
	_, err = e.stdout.Write(plan.Script)
	return err
}

// fortigateDiff is diff --target fortigate: what a paste of the delta
// would create, change, delete and move, for a person; exit status 2 on
// drift.
func (e *env) fortigateDiff(c *cli.Context) error {
	switch {
	case c.String("running") == "":
		return errors.New("diff --target fortigate needs --running CONFIG: the FortiGate's configuration to compare with")
	case c.String("host") != "" || c.String("netns") != "":
		return errors.New("diff --target fortigate compares the network view with CONFIG: leave out --host and --netns")
	case c.String("save-plan") != "":
		return errors.New("--save-plan saves a plan for the live nftables table: generate --target fortigate --running CONFIG prints the FortiGate's change")
	}
	plan, r, err := e.fortigatePlan(c)
	if err != nil {
		return err
	}
	if c.String("format") == "json" {
		doc := struct {
			Profile string `json:"profile"`
			Running string `json:"running"`
			Drift   bool   `json:"drift"`
			Summary string `json:"summary"`
			*fortigate.Plan
		}{r.p.File, c.String("running"), plan.Drift(), plan.Summary(), plan}
		if doc.Changes == nil {
			doc.Changes = []fortigate.Change{}
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(doc); err != nil {
			return err
		}
	} else {
		var b strings.Builder
		if plan.Drift() {
			vdom := ""
			if plan.VDOM != "" {
				vdom = " (VDOM " + plan.VDOM + ")"
			}
			fmt.Fprintf(&b, "--- running %s%s\n+++ profile %s\n", c.String("running"), vdom, r.p.File)
			for _, ch := range plan.Changes {
				b.WriteString(changeLine(ch) + "\n")
			}
			for _, n := range plan.Notes {
				b.WriteString("note: " + n + "\n")
			}
		}
		fmt.Fprint(e.stdout, e.paintLines(e.escape(b.String()), fortigateDiffColors()))
		fmt.Fprintln(e.stdout, plan.Summary())
	}
	if plan.Drift() {
		return exitStatus(exitDrift)
	}
	return nil
}

// fortigateDiffColors colour the delta's lines by prefix. Built on first
// use, as diffColors.
var fortigateDiffColors = sync.OnceValue(func() map[string]string {
	return map[string]string{"---": "", "+++": "", "+": green, "-": red, "~": yellow, ">": cyan}
})

// changeLine writes one change for a person:
//
//   - firewall address "pw-n4-10.2.0.10-32": type ipmask; subnet 10.2.0.10 255.255.255.255
//     ~ firewall policy 7 "pw-mail-smtp-in": dstintf "dmz" -> "dmz" "internal"; unset srcaddr6 ("all")
//   - firewall policy 12 "pw-old"
//     > firewall policy 101 "pw-ems-telemetry": after 7
func changeLine(ch fortigate.Change) string {
	mark := map[string]string{"create": "+", "update": "~", "delete": "-", "move": ">"}[ch.Op]
	what := ch.Table + " " + ch.Key
	if !strings.Contains(ch.Table, "policy") {
		what = ch.Table + " " + fmt.Sprintf("%q", ch.Key)
	} else if ch.Name != "" {
		what += fmt.Sprintf(" %q", ch.Name)
	}
	var details []string
	for _, a := range ch.Attrs {
		switch {
		case ch.Op == "create":
			details = append(details, a.Attr+" "+strings.Join(a.To, " "))
		case a.To == nil:
			details = append(details, fmt.Sprintf("unset %s (%s)", a.Attr, strings.Join(a.From, " ")))
		case a.From == nil:
			details = append(details, a.Attr+" "+strings.Join(a.To, " "))
		default:
			details = append(details, fmt.Sprintf("%s %s -> %s", a.Attr, strings.Join(a.From, " "), strings.Join(a.To, " ")))
		}
	}
	if ch.Where != "" {
		details = append(details, ch.Where)
	}
	if len(details) == 0 {
		return mark + " " + what
	}
	return mark + " " + what + ": " + strings.Join(details, "; ")
}

// lintAll is lint's findings and the FortiGate's, sorted as lint sorts.
func lintAll(r *resolved, ws []lint.Warning) []lint.Warning {
	ws = append(ws, fortigateLint(r)...)
	slices.SortStableFunc(ws, func(a, b lint.Warning) int {
		return cmp.Or(cmp.Compare(a.Pos.File, b.Pos.File), cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col), cmp.Compare(a.Code, b.Code), cmp.Compare(a.Msg, b.Msg))
	})
	return ws
}
