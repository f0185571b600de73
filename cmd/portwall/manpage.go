package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"
)

// manPage writes portwall(1) in roff (man(7) macros) from the command
// line's definition: every command and subcommand with its usage,
// description and flags, then the exit statuses, the environment, the
// files and examples. Written directly rather than through urfave/cli's
// Markdown conversion, which loses text around `PLACEHOLDER`s and angle
// brackets.
func manPage(w io.Writer, app *cli.App) {
	r := roff{w: w}
	r.line(`.TH PORTWALL 1 "" "portwall" "User Commands"`)
	r.section("NAME")
	r.line("portwall \\- " + escape(app.Usage))
	r.section("SYNOPSIS")
	r.line(".B portwall")
	r.line(`[\fIGLOBAL OPTIONS\fR] \fICOMMAND\fR [\fIOPTIONS\fR] [\fIPROFILE\fR]`)
	r.section("DESCRIPTION")
	r.paragraphs(app.Description)
	r.section("GLOBAL OPTIONS")
	r.flags(app.Flags)
	r.section("COMMANDS")
	for _, c := range app.Commands {
		r.command(c, "")
	}
	r.section("EXIT STATUS")
	for _, s := range exitStatuses {
		r.line(".TP")
		r.line(`.B ` + fmt.Sprint(s.code))
		r.text(s.meaning)
	}
	r.section("ENVIRONMENT")
	for _, v := range environment {
		r.line(".TP")
		r.line(`.B ` + v.name)
		r.text(v.meaning)
	}
	r.section("FILES")
	for _, f := range files {
		r.line(".TP")
		r.line(`.I ` + escape(f.name))
		r.text(f.meaning)
	}
	r.section("EXAMPLES")
	for _, ex := range manExamples {
		r.line(".PP")
		r.text(ex.what)
		r.line(".PP")
		r.line(".RS 4")
		r.line(".nf")
		r.line(`\f(CW` + escape(ex.cmd) + `\fR`)
		r.line(".fi")
		r.line(".RE")
	}
	r.section("SEE ALSO")
	r.text("portwall-profile(5) (portwall man profile), nft(8), iptables-restore(8), firewall-cmd(1)")
}

// exitStatuses are portwall's exit statuses, for the manual and the
// README: one list.
var exitStatuses = []struct {
	code    int
	meaning string
}{
	{exitOK, "Success: the profile is valid, the files were written, the live table is in sync, the traffic is allowed (query)."},
	{exitError, "An error: diagnostics on standard error, file:line:col: message for problems in the profile; nothing is written when a command fails."},
	{exitDrift, "diff (and apply --dry-run): the live table differs from the profile."},
	{exitRolledBack, "apply --confirm-timeout: not confirmed in time (or answered other than yes); the previous table is back. query: the traffic is blocked."},
	{exitNothingPending, "confirm and rollback: nothing pending in the namespace (none started, or already confirmed or rolled back)."},
}

var environment = []struct{ name, meaning string }{
	{"NO_COLOR", "When set and not empty, no color on a terminal (--color always overrides it)."},
	{"PORTWALL_STATE_DIR", "Where apply keeps what a pending confirmation needs (default /run/portwall)."},
	{"PORTWALL_REQUIRE_KERNEL", "For portwall's own tests: 1 makes tests that need root and the kernel fail instead of skipping."},
	{"PORTWALL_UPDATE", "For portwall's own tests: 1 rewrites the golden files with the current output."},
	{"SSH_CONNECTION", "Read by apply: the lockout guard refuses rules that would cut off this connection."},
}

var files = []struct{ name, meaning string }{
	{"PROFILE.toml", "The deployment profile: hosts, groups, products, custom rules (portwall-profile(5))."},
	{"DIR/*.toml", "Extra catalog files loaded with --catalog DIR: products and services of the site."},
	{"/var/run/netns/NAME", "Network namespaces that diff, apply and verify enter (--netns NAME)."},
	{"/run/portwall", "State of applies waiting for portwall confirm: the previous table and the rollback timer (PORTWALL_STATE_DIR)."},
}

var manExamples = []struct{ what, cmd string }{
	{"Check a profile, as a CI gate:", "portwall validate site.toml && portwall lint --strict site.toml"},
	{"Write every host's declared targets, removing outputs of hosts no longer in the profile:", "portwall generate site.toml --target all --all-hosts --out-dir out --prune"},
	{"Compare the live table with the profile, then apply it with a rollback unless confirmed:", "portwall diff site.toml --host mail1 && portwall apply site.toml --host mail1 --confirm-timeout 60s"},
	{"Ask whether HTTPS is open from the LAN to a host (exit 0 allowed, 3 blocked):", "portwall query site.toml --from lan --to mail1 --port https"},
}

// roff writes man(7) text.
type roff struct{ w io.Writer }

func (r roff) line(s string) { fmt.Fprintln(r.w, s) }

func (r roff) section(name string) { r.line(".SH " + name) }

// text writes free text: one input line per line, escaped.
func (r roff) text(s string) {
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		r.line(escape(l))
	}
}

// paragraphs writes a description: blank lines separate paragraphs, and
// indented lines (examples) are kept as they are.
func (r roff) paragraphs(s string) {
	for i, p := range strings.Split(strings.TrimSpace(s), "\n\n") {
		if i > 0 {
			r.line(".PP")
		}
		if strings.HasPrefix(p, "   ") || strings.Contains(p, "\n   ") {
			var keep, prose []string
			for _, l := range strings.Split(p, "\n") {
				if strings.HasPrefix(l, "   ") {
					keep = append(keep, strings.TrimPrefix(l, "   "))
				} else {
					prose = append(prose, l)
				}
			}
			if len(prose) > 0 {
				r.text(strings.Join(prose, "\n"))
			}
			r.line(".RS 4")
			r.line(".nf")
			for _, l := range keep {
				r.line(escape(l))
			}
			r.line(".fi")
			r.line(".RE")
			continue
		}
		r.text(p)
	}
}

func (r roff) command(c *cli.Command, parent string) {
	if c.Name == "help" {
		return
	}
	name := strings.TrimSpace(parent + " " + c.Name)
	r.line(".SS " + escape(name))
	r.text(c.Usage)
	r.line(".PP")
	r.line(`.B portwall ` + escape(name))
	if len(c.Flags) > 0 {
		r.line(`[\fIOPTIONS\fR]`)
	}
	if c.ArgsUsage != "" {
		r.line(`\fI` + escape(c.ArgsUsage) + `\fR`)
	}
	if c.Description != "" {
		r.line(".PP")
		r.paragraphs(c.Description)
	}
	r.flags(c.Flags)
	for _, sub := range c.Subcommands {
		r.command(sub, name)
	}
}

func (r roff) flags(fs []cli.Flag) {
	for _, f := range fs {
		names := f.Names()
		if names[0] == "help" {
			continue
		}
		df, ok := f.(cli.DocGenerationFlag)
		if !ok {
			continue
		}
		placeholder, usage := unquoteUsage(df.GetUsage())
		var spelled []string
		for _, n := range names {
			dash := "\\-"
			if len(n) > 1 {
				dash = "\\-\\-"
			}
			s := `\fB` + dash + escape(n) + `\fR`
			if df.TakesValue() {
				if placeholder == "" {
					placeholder = "value"
				}
				s += ` \fI` + escape(placeholder) + `\fR`
			}
			spelled = append(spelled, s)
		}
		r.line(".TP")
		r.line(strings.Join(spelled, ", "))
		if d := df.GetDefaultText(); d != "" && d != `""` && d != "false" && d != "[]" {
			usage += " (default: " + d + ")"
		} else if v := df.GetValue(); df.TakesValue() && v != "" && v != "0" && v != "[]" {
			usage += " (default: " + v + ")"
		}
		r.text(usage)
	}
}

// escape makes text safe for roff: backslashes, hyphens that must stay
// hyphens, and a leading dot or quote, which would start a request.
func escape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// unquoteUsage reads a flag's usage the way urfave/cli's help does: the
// first `backquoted` word names the flag's value.
func unquoteUsage(usage string) (placeholder, text string) {
	before, rest, ok := strings.Cut(usage, "`")
	if !ok {
		return "", usage
	}
	name, after, ok := strings.Cut(rest, "`")
	if !ok {
		return "", usage
	}
	return name, before + name + after
}
