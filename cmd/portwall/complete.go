package main

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/portwall/portwall/generators/nftables"
	"github.com/portwall/portwall/generators/portdoc"
	"github.com/portwall/portwall/generators/targets"
	"github.com/portwall/portwall/internal/proof"
	"github.com/portwall/portwall/profiles"
	"github.com/portwall/portwall/rules/catalog"
	"github.com/portwall/portwall/rules/lint"
)

// Completion: the shell scripts (completion.go) run
//
//	portwall __complete WORD... CURRENT
//
// with the words of the command line after the program name, the one
// being completed last (empty after a space), and print what portwall
// answers: a candidate per line, "VALUE<TAB>DESCRIPTION" or "VALUE", then
// a directive line: ":files" (the shell completes file names as well),
// ":dirs" (directory names) or ":none". Candidates are the commands, the
// flags, and values: targets, hosts and groups of the profile on the line
// (parsed quietly: a profile with errors still gives its names, and
// nothing is ever printed about it), products, services, versions and
// features of the catalog (with the --catalog directories on the line),
// lint codes, formats. Like cobra's __complete, so that every shell asks
// the one program that knows.
const completeCommand = "__complete"

type candidate struct{ value, desc string }

type completion struct {
	cands []candidate
	// files and dirs: the shell adds file or directory names.
	files, dirs bool
}

// complete answers a completion request and returns the exit status.
func (e *env) complete(words []string) int {
	if len(words) > 0 && words[0] == "--" {
		words = words[1:]
	}
	if len(words) == 0 {
		words = []string{""}
	}
	c := e.completions(words)
	var b strings.Builder
	for _, x := range c.cands {
		b.WriteString(oneField(x.value))
		if x.desc != "" {
			b.WriteString("\t" + oneField(x.desc))
		}
		b.WriteByte('\n')
	}
	switch {
	case c.files:
		b.WriteString(":files\n")
	case c.dirs:
		b.WriteString(":dirs\n")
	default:
		b.WriteString(":none\n")
	}
	fmt.Fprint(e.stdout, b.String())
	return exitOK
}

// oneField keeps a candidate on its line and in its field.
func oneField(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// line is a command line as completion reads it.
type line struct {
	app  *cli.App
	cmd  *cli.Command // nil: no command yet
	path []string     // the command path: "catalog", "show"
	pos  []string     // positional arguments
	// flags holds the values given to each flag (by its first name).
	flags map[string][]string
	// expect is the flag whose value is being completed.
	expect cli.Flag
	dashes bool // after "--": only arguments
	cur    string
}

func (e *env) completions(words []string) completion {
	l := &line{app: e.newApp(), flags: map[string][]string{}, cur: words[len(words)-1]}
	for _, w := range words[:len(words)-1] {
		l.read(w)
	}
	switch {
	case l.expect != nil:
		return filter(l.values(l.expect, ""), l.cur)
	case !l.dashes && strings.HasPrefix(l.cur, "--") && strings.Contains(l.cur, "="):
		name, _, _ := strings.Cut(l.cur[2:], "=")
		f := l.flag(name)
		if f == nil {
			return completion{}
		}
		return filter(l.values(f, "--"+name+"="), l.cur)
	case !l.dashes && strings.HasPrefix(l.cur, "-"):
		return filter(completion{cands: l.flagNames()}, l.cur)
	}
	return filter(l.args(), l.cur)
}

// read takes one word before the one being completed.
func (l *line) read(w string) {
	switch {
	case l.expect != nil:
		name := l.expect.Names()[0]
		l.flags[name] = append(l.flags[name], w)
		l.expect = nil
	case l.dashes:
		l.pos = append(l.pos, w)
	case w == "--":
		l.dashes = true
	case strings.HasPrefix(w, "-") && w != "-":
		name, value, hasValue := strings.Cut(strings.TrimLeft(w, "-"), "=")
		f := l.flag(name)
		switch {
		case f == nil:
		case hasValue:
			l.flags[f.Names()[0]] = append(l.flags[f.Names()[0]], value)
		case takesValue([]cli.Flag{f}, "--"+name):
			l.expect = f
		default:
			l.flags[f.Names()[0]] = append(l.flags[f.Names()[0]], "")
		}
	default:
		if len(l.pos) == 0 {
			for _, c := range l.commands() {
				if c.HasName(w) {
					l.cmd, l.path = c, append(l.path, c.Name)
					return
				}
			}
		}
		l.pos = append(l.pos, w)
	}
}

// commands are the commands that may come next: the app's, or the
// subcommands of the command so far.
func (l *line) commands() []*cli.Command {
	if l.cmd == nil {
		return l.app.Commands
	}
	return l.cmd.Subcommands
}

// flags are the command's flags, then the global ones (which may be given
// after the command too).
func (l *line) allFlags() []cli.Flag {
	var out []cli.Flag
	if l.cmd != nil {
		out = append(out, l.cmd.Flags...)
	}
	return append(out, l.app.Flags...)
}

func (l *line) flag(name string) cli.Flag {
	for _, f := range l.allFlags() {
		if slices.Contains(f.Names(), name) {
			return f
		}
	}
	return nil
}

// flagNames lists the flags not given yet (or repeatable), long names
// first.
func (l *line) flagNames() []candidate {
	var out []candidate
	seen := map[string]bool{}
	for _, f := range l.allFlags() {
		name := f.Names()[0]
		if _, given := l.flags[name]; given && !repeatable(f) || seen[name] {
			continue
		}
		seen[name] = true
		usage := ""
		if u, ok := f.(cli.DocGenerationFlag); ok {
			usage = strings.ReplaceAll(u.GetUsage(), "`", "")
		}
		for _, n := range f.Names() {
			if len(n) == 1 {
				out = append(out, candidate{"-" + n, usage})
			} else {
				out = append(out, candidate{"--" + n, usage})
			}
		}
	}
	return out
}

func repeatable(f cli.Flag) bool {
	_, ok := f.(*cli.StringSliceFlag)
	return ok
}

// args are the candidates for a positional argument.
func (l *line) args() completion {
	var cmds []candidate
	for _, c := range l.commands() {
		if !c.Hidden && c.Name != "help" {
			cmds = append(cmds, candidate{c.Name, c.Usage})
		}
	}
	if l.cmd == nil || len(l.cmd.Subcommands) > 0 && len(l.pos) == 0 {
		if l.cmd == nil {
			cmds = append(cmds, candidate{"help", "show the commands, or a command's help"})
		}
		return completion{cands: cmds}
	}
	n := len(l.pos)
	switch strings.Join(l.path, " ") {
	case "help", "catalog help":
		// help A B: the commands, then the subcommands of A.
		l.cmd, l.path = nil, l.path[:len(l.path)-1]
		if len(l.path) > 0 {
			l.cmd = l.app.Command(l.path[0])
		}
		given := l.pos
		l.pos = nil
		for _, w := range given {
			l.read(w)
		}
		if l.cmd == nil || len(l.pos) == 0 && len(l.cmd.Subcommands) > 0 {
			return l.args()
		}
		return completion{}
	case "init":
		return completion{cands: l.products(l.pos)}
	case "catalog show":
		if n == 0 {
			return completion{cands: append(l.products(nil), l.services()...)}
		}
	case "catalog import-firewalld":
		if n == 0 {
			return completion{dirs: true}
		}
	case "completion":
		if n == 0 {
			return completion{cands: []candidate{{"bash", ""}, {"zsh", ""}, {"fish", ""}}}
		}
	case "man":
		if n == 0 {
			return completion{cands: []candidate{{"profile", "portwall-profile(5): every key of the profile"}}}
		}
	default:
		if strings.HasPrefix(l.cmd.ArgsUsage, "PROFILE") && n == 0 {
			return completion{files: true}
		}
	}
	return completion{}
}

// values are the candidates for a flag's value, each after prefix.
func (l *line) values(f cli.Flag, prefix string) completion {
	cmd := strings.Join(l.path, " ")
	var c completion
	switch name := f.Names()[0]; {
	case name == "catalog", name == "out-dir":
		return completion{dirs: true}
	case name == "output", name == "out", name == "running", name == "plan", name == "save-plan":
		return completion{files: true}
	case name == "color":
		c.cands = words("auto", "always", "never")
	case name == "layout":
		var names []string
		for _, l := range nftables.Layouts {
			names = append(names, string(l))
		}
		c.cands = words(names...)
	case name == "format" && cmd == "docs":
		c.cands = words(portdoc.Formats()...)
	case name == "format" && cmd == "catalog export":
		c.cands = words("json")
	case name == "format":
		c.cands = words("text", "json")
	case name == "target" && cmd == "verify":
		c.cands = words(proof.Targets...)
	case name == "target" && (cmd == "diff" || cmd == "apply"):
		c.cands = words("nftables", "fortigate")
	case name == "target":
		return list(append(words(targets.Names()...), candidate{"all", "every target (declared ones, with --all-hosts)"}), prefix, l.cur)
	case name == "host":
		c.cands = l.hosts(false)
	case name == "from", name == "to":
		c.cands = l.hosts(true)
	case name == "port":
		c.cands = l.services()
	case name == "ignore":
		var codes []candidate
		for _, ch := range lint.Checks {
			codes = append(codes, candidate{ch.Code, ch.Name + ": " + ch.Summary})
		}
		return list(codes, prefix, l.cur)
	case name == "version" && cmd == "catalog show":
		if p := l.product(); p != nil {
			for _, v := range p.Versions {
				c.cands = append(c.cands, candidate{v.Name, v.Title})
			}
		}
	case name == "feature" && cmd == "catalog show":
		if p := l.product(); p != nil {
			for _, ft := range p.Features {
				c.cands = append(c.cands, candidate{ft.Name, featureDesc(ft)})
			}
		}
	case name == "netns":
		entries, _ := os.ReadDir("/run/netns")
		for _, en := range entries {
			c.cands = append(c.cands, candidate{en.Name(), ""})
		}
	}
	for i := range c.cands {
		c.cands[i].value = prefix + c.cands[i].value
	}
	return c
}

func featureDesc(f catalog.Feature) string {
	if f.Default {
		return f.Title + " (on by default)"
	}
	return f.Title
}

func words(ws ...string) []candidate {
	out := make([]candidate, len(ws))
	for i, w := range ws {
		out[i] = candidate{value: w}
	}
	return out
}

// list completes the last item of a comma-separated list: the items
// before it are kept, and not offered again.
func list(items []candidate, prefix, cur string) completion {
	typed := strings.TrimPrefix(cur, prefix)
	done := ""
	if i := strings.LastIndex(typed, ","); i >= 0 {
		done = typed[:i+1]
	}
	given := strings.Split(done, ",")
	var out []candidate
	for _, it := range items {
		if !slices.Contains(given, it.value) {
			out = append(out, candidate{prefix + done + it.value, it.desc})
		}
	}
	return completion{cands: out}
}

// filter keeps the candidates that start with cur.
func filter(c completion, cur string) completion {
	c.cands = slices.DeleteFunc(c.cands, func(x candidate) bool { return !strings.HasPrefix(x.value, cur) })
	return c
}

// catalog is the built-in catalog with the --catalog directories on the
// line, or the built-in one alone when those do not load.
func (l *line) catalog() *catalog.Catalog {
	if cat, err := catalog.Load(l.flags["catalog"]...); err == nil {
		return cat
	}
	cat, _ := catalog.Load()
	return cat
}

// products are the catalog's products, but those in except.
func (l *line) products(except []string) []candidate {
	cat := l.catalog()
	if cat == nil {
		return nil
	}
	var out []candidate
	for _, p := range cat.Products {
		if !slices.Contains(except, p.Name) {
			out = append(out, candidate{p.Name, p.Title})
		}
	}
	return out
}

func (l *line) services() []candidate {
	cat := l.catalog()
	if cat == nil {
		return nil
	}
	var out []candidate
	for _, s := range cat.Services {
		out = append(out, candidate{s.Name, s.Title})
	}
	return out
}

// product is the product named on the line (catalog show PRODUCT).
func (l *line) product() *catalog.Product {
	cat := l.catalog()
	if cat == nil || len(l.pos) == 0 {
		return nil
	}
	p, _ := cat.Product(l.pos[0])
	return p
}

// hosts are the hosts of the profile on the line and, with groups, its
// groups and "any". The profile is parsed only: its names are what a
// completion needs, and a profile with problems still has them.
func (l *line) hosts(groups bool) []candidate {
	if len(l.pos) == 0 || l.pos[0] == "-" || !strings.HasPrefix(l.cmd.ArgsUsage, "PROFILE") {
		return nil
	}
	data, err := os.ReadFile(l.pos[0])
	if err != nil {
		return nil
	}
	p, _ := profiles.Parse(l.pos[0], data)
	if p == nil {
		return nil
	}
	var out []candidate
	for _, name := range slices.Sorted(maps.Keys(p.Hosts)) {
		h := p.Hosts[name]
		desc := h.Description
		if desc == "" {
			var as []string
			for _, a := range h.Addrs {
				as = append(as, a.String())
			}
			desc = strings.Join(as, " ")
		}
		out = append(out, candidate{name, desc})
	}
	if groups {
		for _, name := range slices.Sorted(maps.Keys(p.Groups)) {
			out = append(out, candidate{name, "group"})
		}
		out = append(out, candidate{"any", "every address"})
	}
	return out
}
