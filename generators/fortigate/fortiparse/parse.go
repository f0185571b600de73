// Package fortiparse reads FortiOS CLI configuration the way portwall
// writes it, strictly: it accepts only the tables, commands and attributes
// the FortiGate backend means to emit, checks every value against the
// limits and rules of the project's FortiOS CLI reference (fortios-cli.md;
// "reference section N" refers to it) for one FortiOS version, and
// reads the policies back as the grants they allow, so that tests can
// check them against the IR.
//
// It is written from the reference, not from the generator: the two
// agree only when both read the reference the same way, so a mistake in
// one shows up as a test failure instead of hiding in shared code.
//
// Model (model.go) is the other half: a FortiGate's configuration, read
// tolerantly from a backup or the output of show, to which pasted CLI is
// applied as the reference documents it. The backend reads the running
// configuration with it; tests use it as the FortiGate they do not have.
package fortiparse

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Config is a parsed snippet.
type Config struct {
	Version string
	// VDOM is the VDOM the snippet enters (config vdom / edit VDOM / end
	// around everything else), or "".
	VDOM string
	// Tables in the order they appear.
	Tables []*Table

	v       version
	objects map[string]*Entry // address, address6, addrgrp, addrgrp6 entries by name
	svcs    map[string]*Entry // service custom and service group entries by name
	names   map[string]int    // policy names -> line
}

// Table is one "config ... end" block.
type Table struct {
	Path    string // "firewall address"
	Line    int
	Entries []*Entry
}

// Entry is one "edit ... next" block.
type Entry struct {
	Table string
	// Key is the edited name, or "0" for a new policy.
	Key   string
	Line  int
	Attrs []*Attr
	// Blocks are config blocks nested in the entry (running
	// configurations only).
	Blocks []*Block
}

// Attr is one "set" command.
type Attr struct {
	Name   string
	Values []string
	Line   int
	// Quoted: the values were written in quotes (names and text).
	Quoted bool
}

// Get returns the values of attribute name, or nil.
func (e *Entry) Get(name string) []string {
	if a := e.attr(name); a != nil {
		return a.Values
	}
	return nil
}

func (e *Entry) attr(name string) *Attr {
	for _, a := range e.Attrs {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// Parse reads data as a snippet for FortiOS version ("6.0" to "8.0"). The
// error names the first problem and its line.
func Parse(data []byte, version string) (*Config, error) {
	v, ok := parseVersion(version)
	if !ok {
		return nil, fmt.Errorf("unknown FortiOS version %q", version)
	}
	stmts, err := lex(data)
	if err != nil {
		return nil, err
	}
	c := &Config{Version: version, v: v, objects: map[string]*Entry{}, svcs: map[string]*Entry{}, names: map[string]int{}}
	p := &parser{c: c}
	for _, s := range stmts {
		if err := p.statement(s); err != nil {
			return nil, err
		}
	}
	switch {
	case p.entry != nil:
		return nil, fmt.Errorf("line %d: edit is not closed with next", p.entry.Line)
	case p.table != nil:
		return nil, fmt.Errorf("line %d: config %s is not closed with end", p.table.Line, p.table.Path)
	case p.vdom == vdomEdit:
		return nil, fmt.Errorf("line %d: config vdom without edit", p.vdomLine)
	case p.vdom == vdomIn:
		return nil, fmt.Errorf("line %d: config vdom is not closed with end", p.vdomLine)
	}
	return c, nil
}

// The VDOM wrapper: config vdom / edit NAME around everything, end last.
const (
	vdomNone = iota
	vdomEdit // after config vdom, before edit
	vdomIn   // inside the VDOM
	vdomDone // after its end
)

// vdomName is what a VDOM name looks like (reference section 2).
var vdomName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_-]{1,31}$`) })

type parser struct {
	c     *Config
	table *Table
	spec  *tableSpec
	entry *Entry
	// edited holds the names edited in the current table.
	edited map[string]bool
	// vdom is where the snippet is in its VDOM wrapper.
	vdom     int
	vdomLine int
	started  bool
}

func errorf(line int, format string, args ...any) error {
	return fmt.Errorf("line %d: %s", line, fmt.Sprintf(format, args...))
}

func (p *parser) statement(s statement) error {
	cmd := s.tokens[0]
	if cmd.kind != bare {
		return errorf(s.line, "command %q is quoted", cmd.text)
	}
	args := s.tokens[1:]
	first := !p.started
	p.started = true
	switch {
	case p.vdom == vdomDone:
		return errorf(s.line, "%s after the end of config vdom", cmd.text)
	case p.vdom == vdomEdit && cmd.text != "edit":
		return errorf(s.line, "config vdom is followed by edit VDOM")
	}
	switch cmd.text {
	case "config":
		if len(args) == 1 && args[0].kind == bare && args[0].text == "vdom" && p.table == nil {
			if !first {
				return errorf(s.line, "config vdom opens the snippet, around everything else")
			}
			p.vdom, p.vdomLine = vdomEdit, s.line
			return nil
		}
		return p.config(s.line, args)
	case "end":
		switch {
		case len(args) > 0:
			return errorf(s.line, "end takes no arguments")
		case p.entry != nil:
			return errorf(s.line, "end before next: edit on line %d is not closed", p.entry.Line)
		case p.table == nil && p.vdom == vdomIn:
			p.vdom = vdomDone
			return nil
		case p.table == nil:
			return errorf(s.line, "end without config")
		}
		p.table, p.spec = nil, nil
		return nil
	case "edit":
		if p.vdom == vdomEdit {
			switch {
			case len(args) != 1 || args[0].kind != bare || !vdomName().MatchString(args[0].text):
				return errorf(s.line, "edit after config vdom takes one VDOM name: letters, digits, '_' and '-'")
			}
			p.c.VDOM, p.vdom = args[0].text, vdomIn
			return nil
		}
		return p.edit(s.line, args)
	case "next":
		switch {
		case len(args) > 0:
			return errorf(s.line, "next takes no arguments")
		case p.entry == nil:
			return errorf(s.line, "next without edit")
		}
		if err := p.spec.close(p.c, p.entry); err != nil {
			return err
		}
		p.register(p.entry)
		p.entry = nil
		return nil
	case "set":
		if p.entry == nil {
			return errorf(s.line, "set outside an edit block")
		}
		return p.set(s.line, args)
	case "unset", "append", "unselect", "delete", "move", "purge", "clone", "rename", "show", "get", "abort":
		return errorf(s.line, "%s is not a command portwall emits", cmd.text)
	}
	return errorf(s.line, "unknown command %q", cmd.text)
}

func (p *parser) config(line int, args []token) error {
	if p.entry != nil {
		return errorf(line, "config inside edit: nested tables are not what portwall emits")
	}
	if p.table != nil {
		return errorf(line, "config inside config %s (line %d): close it with end first", p.table.Path, p.table.Line)
	}
	var words []string
	for _, a := range args {
		if a.kind != bare {
			return errorf(line, "table name %q is quoted", a.text)
		}
		words = append(words, a.text)
	}
	path := strings.Join(words, " ")
	spec, ok := specs()[path]
	if !ok {
		return errorf(line, "unknown table %q", path)
	}
	if spec.before != nil && !p.c.v.before(*spec.before) {
		return errorf(line, "config %s does not exist on FortiOS %s (%s)", path, p.c.Version, spec.beforeWhy)
	}
	p.table = &Table{Path: path, Line: line}
	p.spec = spec
	p.edited = map[string]bool{}
	p.c.Tables = append(p.c.Tables, p.table)
	return nil
}

func (p *parser) edit(line int, args []token) error {
	switch {
	case p.table == nil:
		return errorf(line, "edit outside a config block")
	case p.entry != nil:
		return errorf(line, "edit before next: edit on line %d is not closed", p.entry.Line)
	case len(args) != 1:
		return errorf(line, "edit takes one name or id")
	}
	t := args[0]
	if p.spec.numbered {
		switch {
		case t.kind == bare && t.text == "0":
		case t.kind == bare && isDigits(t.text):
			return errorf(line, "edit %s: an explicit policy id overwrites the policy that holds it; portwall appends with edit 0", t.text)
		default:
			return errorf(line, "edit %q: %s entries are created with edit 0", t.text, p.table.Path)
		}
	} else {
		if t.kind != quoted {
			return errorf(line, "edit %s: names are written in double quotes", t.text)
		}
		if err := p.c.checkName(t.text, p.c.v.maxName()); err != nil {
			return errorf(line, "edit %q: %v", t.text, err)
		}
		if p.edited[t.text] {
			return errorf(line, "edit %q: edited twice in one table", t.text)
		}
		if prev, ok := p.namespace()[t.text]; ok {
			return errorf(line, "edit %q: the name is taken by config %s (line %d)", t.text, prev.Table, prev.Line)
		}
		p.edited[t.text] = true
	}
	p.entry = &Entry{Table: p.table.Path, Key: t.text, Line: line}
	p.table.Entries = append(p.table.Entries, p.entry)
	return nil
}

// namespace is the names the current table's entries compete with.
func (p *parser) namespace() map[string]*Entry {
	if p.spec.kind == kindService || p.spec.kind == kindServiceGroup {
		return p.c.svcs
	}
	return p.c.objects
}

// register makes a closed entry available to later references.
func (p *parser) register(e *Entry) {
	if p.spec.numbered {
		return
	}
	p.namespace()[e.Key] = e
}

func (p *parser) set(line int, args []token) error {
	if len(args) == 0 {
		return errorf(line, "set without an attribute")
	}
	name := args[0]
	if name.kind != bare {
		return errorf(line, "attribute %q is quoted", name.text)
	}
	if name.text == "uuid" {
		return errorf(line, "set uuid: FortiOS assigns uuids; portwall never sets them")
	}
	as, ok := p.spec.attrs[name.text]
	if !ok || as.since != nil && !p.c.v.atLeast(*as.since) {
		why := ""
		if ok {
			why = " (" + as.sinceWhy + ")"
		}
		return errorf(line, "unknown attribute %s in config %s on FortiOS %s%s", name.text, p.table.Path, p.c.Version, why)
	}
	if p.entry.attr(name.text) != nil {
		return errorf(line, "set %s twice in one entry", name.text)
	}
	vals := args[1:]
	most := as.max
	if as.maxFn != nil {
		most = as.maxFn(p.c.v)
	}
	switch {
	case len(vals) < as.min:
		return errorf(line, "set %s needs %s", name.text, countText(as.min, most))
	case most > 0 && len(vals) > most:
		return errorf(line, "set %s takes %s, not %d", name.text, countText(as.min, most), len(vals))
	}
	a := &Attr{Name: name.text, Line: line}
	for _, v := range vals {
		if as.quoted && v.kind == mixed {
			return errorf(line, "set %s: %q is not one double-quoted string (a quote inside the text ends it)", name.text, v.text)
		}
		if as.quoted && v.kind != quoted {
			return errorf(line, "set %s: %s must be written in double quotes", name.text, v.text)
		}
		if !as.quoted && v.kind != bare {
			return errorf(line, "set %s: %q must not be quoted", name.text, v.text)
		}
		a.Values = append(a.Values, v.text)
	}
	if as.first && len(p.entry.Attrs) > 0 {
		return errorf(line, "set %s must come first in its entry", name.text)
	}
	if as.check != nil {
		if err := as.check(p.c, p.entry, a); err != nil {
			return errorf(line, "set %s: %v", name.text, err)
		}
	}
	p.entry.Attrs = append(p.entry.Attrs, a)
	return nil
}

func countText(least, most int) string {
	switch {
	case least == most && least == 1:
		return "one value"
	case least == most:
		return fmt.Sprintf("%d values", least)
	case most <= 0:
		return "at least one value"
	}
	return fmt.Sprintf("%d to %d values", least, most)
}

func isDigits(s string) bool {
	return s != "" && !slices.ContainsFunc([]byte(s), func(c byte) bool { return c < '0' || c > '9' })
}
