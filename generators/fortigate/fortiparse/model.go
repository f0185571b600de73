package fortiparse

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Model is a FortiGate's configuration as its CLI holds it, for reading
// the running configuration (a backup, or the output of show or show
// full-configuration, with or without VDOMs) and for applying pasted CLI
// to it the way the reference documents the commands: config, edit
// (names, explicit policy ids, and 0 for the next free id), set, unset,
// append, unselect, delete, move, next and end. Tests use it as the
// FortiGate they do not have; the backend reads the running
// configuration with it.
//
// It models the tables portwall writes (addresses, address groups,
// services, service groups, firewall and local-in policies) closely:
// their values are checked, references must resolve, names are unique
// where FortiOS keeps them unique, and an object in use cannot be
// deleted. Every other section is kept as read, checked for structure
// only.
type Model struct {
	// Header holds the configuration's leading '#' lines
	// (#config-version=...), kept for Show.
	Header []string
	// Multi is set when the configuration has VDOMs (config vdom).
	Multi bool
	vdoms []*VDOM
	// global is config global's contents (multi-VDOM), kept as read.
	global *Block
}

// VDOM is one virtual domain's tables (the whole configuration without
// VDOMs, named root).
type VDOM struct {
	Name   string
	Tables []*Block
}

// Block is one "config ... end": its entries ("edit ... next"), or for a
// settings table (config system global) its attributes, and the config
// blocks nested in it.
type Block struct {
	Path    string
	Line    int
	Attrs   []*Attr
	Entries []*Entry
	Blocks  []*Block
}

// NewModel is an empty FortiGate without VDOMs: only the predefined
// objects ("all", "none", the service "ALL", the schedule "always"),
// which it knows without listing them.
func NewModel() *Model { return &Model{vdoms: []*VDOM{{Name: "root"}}} }

// NewMultiModel is an empty FortiGate with the VDOMs named.
func NewMultiModel(vdoms ...string) *Model {
	m := &Model{Multi: true, global: &Block{Path: "global"}}
	for _, n := range vdoms {
		m.vdoms = append(m.vdoms, &VDOM{Name: n})
	}
	return m
}

// ReadConfig reads a running configuration: what FortiOS would refuse
// to load is an error naming its line; sections portwall does not model
// are kept, their structure checked. References of objects portwall did
// not make are not checked (a show of some tables may leave out the
// tables they refer to); references to and from portwall's are.
func ReadConfig(data []byte, owner *Owner) (*Model, error) {
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	m := &Model{}
	for _, l := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(l, "#") {
			break
		}
		m.Header = append(m.Header, l)
	}
	a := &applier{m: m, reading: true, owner: owner}
	if err := a.run(data); err != nil {
		return nil, err
	}
	if len(m.vdoms) == 0 && !m.Multi {
		m.vdoms = []*VDOM{{Name: "root"}}
	}
	for _, v := range m.vdoms {
		if err := v.checkRefsAll(a.strict, a.ownedName()); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Apply runs pasted CLI on the model, as a FortiGate would, and stops at
// the first command FortiOS would refuse (a real unit goes on with the
// next command; for a test, any refusal is a failure).
func (m *Model) Apply(script []byte) error {
	a := &applier{m: m}
	return a.run(script)
}

// VDOMs lists the VDOM names in order.
func (m *Model) VDOMs() []string {
	var out []string
	for _, v := range m.vdoms {
		out = append(out, v.Name)
	}
	return out
}

// VDOM returns the VDOM called name; in a configuration without VDOMs,
// "" or any name returns the one there is.
func (m *Model) VDOM(name string) (*VDOM, error) {
	if !m.Multi {
		return m.vdoms[0], nil
	}
	if name == "" {
		return nil, fmt.Errorf("the configuration has VDOMs (%s): say which one with vdom under [fortigate]", strings.Join(m.VDOMs(), ", "))
	}
	for _, v := range m.vdoms {
		if v.Name == name {
			return v, nil
		}
	}
	return nil, fmt.Errorf("the configuration has no VDOM %s (it has %s)", name, strings.Join(m.VDOMs(), ", "))
}

// Table returns the table at path, or nil.
func (v *VDOM) Table(path string) *Block {
	for _, t := range v.Tables {
		if t.Path == path {
			return t
		}
	}
	return nil
}

func (v *VDOM) table(path string, line int) *Block {
	if t := v.Table(path); t != nil {
		return t
	}
	t := &Block{Path: path, Line: line}
	// FortiOS keeps its tables in one order, objects before what names
	// them, whatever order they were first configured in.
	if r := slices.Index(tableOrder, path); r >= 0 {
		for i, o := range v.Tables {
			if slices.Index(tableOrder, o.Path) > r {
				v.Tables = slices.Insert(v.Tables, i, t)
				return t
			}
		}
	}
	v.Tables = append(v.Tables, t)
	return t
}

// tableOrder is the order of the tables the model knows, as a backup
// lists them: what is named comes before what names it.
var tableOrder = []string{
	"firewall address", "firewall multicast-address", "firewall address6", "firewall multicast-address6",
	"firewall addrgrp", "firewall addrgrp6", "firewall service category", "firewall service custom",
	"firewall service group", "firewall schedule recurring", "firewall schedule onetime", "firewall schedule group",
	"firewall vip", "firewall vip6", "firewall vipgrp", "firewall vipgrp6",
	"firewall policy", "firewall policy6", "firewall local-in-policy", "firewall local-in-policy6",
}

// Entry returns the entry of the table with key, or nil.
func (b *Block) Entry(key string) *Entry {
	if b == nil {
		return nil
	}
	for _, e := range b.Entries {
		if e.Key == key {
			return e
		}
	}
	return nil
}

func (b *Block) index(key string) int {
	return slices.IndexFunc(b.Entries, func(e *Entry) bool { return e.Key == key })
}

// Numbered reports whether a table's entries are numbered (created by id,
// edit 0 taking the next free one) rather than named.
func Numbered(path string) bool { return slices.Contains(numberedTables, path) }

var numberedTables = []string{
	"firewall policy", "firewall policy6", "firewall policy46", "firewall policy64",
	"firewall local-in-policy", "firewall local-in-policy6", "firewall proxy-policy",
	"firewall shaping-policy", "firewall multicast-policy", "firewall multicast-policy6",
	"firewall DoS-policy", "firewall DoS-policy6", "firewall interface-policy", "firewall interface-policy6",
	"firewall central-snat-map", "router static", "router static6", "router policy", "router policy6",
}

// frame is one level of the CLI's context.
type frame struct {
	kind  int
	block *Block
	entry *Entry
	vdom  *VDOM
	// was is the entry as it was before this edit, nil for a new one.
	was *Entry
	// line is the edit's line.
	line int
}

const (
	frameVDOMs  = iota // config vdom, before edit
	frameVDOM          // inside edit VDOM
	frameGlobal        // config global
	frameTable         // config TABLE
	frameEntry         // edit KEY
)

type applier struct {
	m       *Model
	reading bool
	owner   *Owner
	stack   []*frame
}

func (a *applier) top() *frame {
	if len(a.stack) == 0 {
		return nil
	}
	return a.stack[len(a.stack)-1]
}

func (a *applier) push(f *frame) { a.stack = append(a.stack, f) }
func (a *applier) pop()          { a.stack = a.stack[:len(a.stack)-1] }

// vdom is the VDOM the context is in.
func (a *applier) vdom() *VDOM {
	for i := len(a.stack) - 1; i >= 0; i-- {
		if v := a.stack[i].vdom; v != nil {
			return v
		}
	}
	if !a.m.Multi && len(a.m.vdoms) > 0 {
		return a.m.vdoms[0]
	}
	return nil
}

func (a *applier) run(data []byte) error {
	stmts, err := lex(data)
	if err != nil {
		return err
	}
	for _, s := range stmts {
		if err := a.statement(s); err != nil {
			a.abandon()
			return err
		}
	}
	if f := a.top(); f != nil {
		a.abandon()
		switch f.kind {
		case frameEntry:
			return fmt.Errorf("line %d: edit %s is not closed with next or end", f.entry.Line, f.entry.Key)
		case frameTable:
			return fmt.Errorf("line %d: config %s is not closed with end", f.block.Line, f.block.Path)
		default:
			return fmt.Errorf("the configuration ends inside config vdom or config global: end is missing")
		}
	}
	return nil
}

// abandon drops the edits a stopped script left open: FortiOS saves an
// entry at next or end only.
func (a *applier) abandon() {
	for i := len(a.stack) - 1; i >= 0; i-- {
		f := a.stack[i]
		if f.kind != frameEntry {
			continue
		}
		if f.was != nil {
			*f.entry = *f.was
		} else if j := slices.Index(f.block.Entries, f.entry); j >= 0 {
			f.block.Entries = slices.Delete(f.block.Entries, j, j+1)
		}
	}
	a.stack = nil
}

func words(ts []token) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.text
	}
	return out
}

func (a *applier) statement(s statement) error {
	cmd, args := s.tokens[0], s.tokens[1:]
	if cmd.kind != bare {
		return errorf(s.line, "command %q is quoted", cmd.text)
	}
	f := a.top()
	switch cmd.text {
	case "config":
		return a.config(s.line, args)
	case "edit":
		if len(args) != 1 {
			return errorf(s.line, "edit takes one name or id")
		}
		return a.edit(s.line, args[0].text)
	case "next":
		if len(args) > 0 {
			return errorf(s.line, "next takes no arguments")
		}
		switch {
		case f != nil && f.kind == frameEntry:
			if err := a.commit(f); err != nil {
				return err
			}
			a.pop()
		case f != nil && f.kind == frameVDOM:
			a.pop()
		default:
			return errorf(s.line, "next without edit")
		}
		return nil
	case "end":
		if len(args) > 0 {
			return errorf(s.line, "end takes no arguments")
		}
		if f == nil {
			return errorf(s.line, "end without config")
		}
		switch f.kind {
		case frameEntry:
			// end in an edit saves the entry and leaves its table.
			if err := a.commit(f); err != nil {
				return err
			}
			a.pop()
			a.pop()
		case frameVDOM:
			a.pop()
			a.pop()
		default:
			a.pop()
		}
		return nil
	case "set", "unset", "append", "unselect", "select":
		return a.attr(s.line, cmd.text, args)
	case "delete":
		if len(args) != 1 {
			return errorf(s.line, "delete takes one name or id")
		}
		return a.delete(s.line, args[0].text)
	case "move":
		w := words(args)
		if len(w) != 3 || w[1] != "before" && w[1] != "after" {
			return errorf(s.line, "move takes ID before|after ID")
		}
		return a.move(s.line, w[0], w[1], w[2])
	case "purge", "rename", "clone", "abort", "show", "get", "execute", "diagnose":
		return errorf(s.line, "%s is not modelled", cmd.text)
	}
	return errorf(s.line, "unknown command %q", cmd.text)
}

func (a *applier) config(line int, args []token) error {
	if len(args) == 0 {
		return errorf(line, "config without a table")
	}
	// Some tables take a quoted name (config system replacemsg mail
	// "email-block"): the path keeps the quotes.
	var ws []string
	for _, t := range args {
		if t.kind == bare {
			ws = append(ws, t.text)
		} else {
			ws = append(ws, quote(t.text))
		}
	}
	path := strings.Join(ws, " ")
	f := a.top()
	switch {
	case f == nil && path == "vdom":
		if !a.m.Multi {
			if !a.reading || len(a.m.vdoms) > 0 {
				return errorf(line, "config vdom: this FortiGate has no VDOMs")
			}
			a.m.Multi = true
		}
		a.push(&frame{kind: frameVDOMs})
		return nil
	case f == nil && path == "global":
		if !a.m.Multi {
			return errorf(line, "config global: this FortiGate has no VDOMs")
		}
		if !a.reading {
			return errorf(line, "config global: global settings are not modelled")
		}
		if a.m.global == nil {
			a.m.global = &Block{Path: "global", Line: line}
		}
		a.push(&frame{kind: frameGlobal, block: a.m.global})
		return nil
	case f == nil && a.m.Multi:
		return errorf(line, "config %s: this FortiGate has VDOMs: enter one first (config vdom, edit NAME)", path)
	case f == nil, f.kind == frameVDOM:
		if len(a.m.vdoms) == 0 {
			a.m.vdoms = []*VDOM{{Name: "root"}}
		}
		v := a.vdom()
		a.push(&frame{kind: frameTable, block: v.table(path, line)})
		return nil
	case f.kind == frameVDOMs:
		return errorf(line, "config %s inside config vdom: edit a VDOM first", path)
	case f.kind == frameGlobal, f.kind == frameTable:
		a.push(&frame{kind: frameTable, block: nested(&f.block.Blocks, path, line)})
		return nil
	case f.kind == frameEntry:
		a.push(&frame{kind: frameTable, block: nested(&f.entry.Blocks, path, line)})
		return nil
	}
	return errorf(line, "config %s is out of place", path)
}

func nested(blocks *[]*Block, path string, line int) *Block {
	for _, b := range *blocks {
		if b.Path == path {
			return b
		}
	}
	b := &Block{Path: path, Line: line}
	*blocks = append(*blocks, b)
	return b
}

func (a *applier) edit(line int, key string) error {
	f := a.top()
	switch {
	case f == nil:
		return errorf(line, "edit outside config")
	case f.kind == frameVDOMs:
		for _, v := range a.m.vdoms {
			if v.Name == key {
				a.push(&frame{kind: frameVDOM, vdom: v})
				return nil
			}
		}
		if !a.reading {
			return errorf(line, "edit %s: there is no VDOM %s (creating one is not modelled)", key, key)
		}
		v := &VDOM{Name: key}
		a.m.vdoms = append(a.m.vdoms, v)
		a.push(&frame{kind: frameVDOM, vdom: v})
		return nil
	case f.kind != frameTable:
		return errorf(line, "edit outside a table")
	}
	t := f.block
	path := t.Path
	if Numbered(path) && a.isTop(t) {
		id, err := strconv.ParseUint(key, 10, 32)
		if err != nil || id > 4294967294 {
			return errorf(line, "edit %q: config %s takes a policy id, 0 to 4294967294", key, path)
		}
		if id == 0 {
			for _, e := range t.Entries {
				if n, _ := strconv.ParseUint(e.Key, 10, 32); n > id {
					id = n
				}
			}
			id++
		}
		key = strconv.FormatUint(id, 10)
	}
	if e := t.Entry(key); e != nil {
		a.push(&frame{kind: frameEntry, block: t, entry: e, was: e.clone(), line: line})
		return nil
	}
	if a.isTop(t) {
		if other := a.vdom().sameNamespace(path, key); other != "" {
			return errorf(line, "edit %q: the name is used by config %s", key, other)
		}
	}
	e := &Entry{Table: path, Key: key, Line: line}
	t.Entries = append(t.Entries, e)
	a.push(&frame{kind: frameEntry, block: t, entry: e, line: line})
	return nil
}

// isTop reports whether t is a VDOM's table (not one nested in an entry
// or in config global).
func (a *applier) isTop(t *Block) bool {
	v := a.vdom()
	return v != nil && slices.Contains(v.Tables, t)
}

func (e *Entry) clone() *Entry {
	c := *e
	c.Attrs = nil
	for _, at := range e.Attrs {
		x := *at
		x.Values = slices.Clone(at.Values)
		c.Attrs = append(c.Attrs, &x)
	}
	return &c
}

func (a *applier) attr(line int, cmd string, args []token) error {
	f := a.top()
	var attrs *[]*Attr
	switch {
	case f != nil && f.kind == frameEntry:
		attrs = &f.entry.Attrs
	case f != nil && f.kind == frameTable:
		attrs = &f.block.Attrs
	default:
		return errorf(line, "%s outside config", cmd)
	}
	if len(args) == 0 {
		return errorf(line, "%s without an attribute", cmd)
	}
	if args[0].kind != bare {
		return errorf(line, "attribute %q is quoted", args[0].text)
	}
	name := args[0].text
	vals := words(args[1:])
	quoted := slices.ContainsFunc(args[1:], func(t token) bool { return t.kind != bare })
	i := slices.IndexFunc(*attrs, func(x *Attr) bool { return x.Name == name })
	// A command FortiOS refuses leaves the attribute as it was.
	saved := slices.Clone(*attrs)
	if i >= 0 {
		c := *saved[i]
		c.Values = slices.Clone(c.Values)
		saved[i] = &c
	}
	undo := func(err error) error {
		*attrs = saved
		return err
	}
	switch cmd {
	case "set", "select":
		if len(vals) == 0 {
			return errorf(line, "set %s without a value", name)
		}
		at := &Attr{Name: name, Values: vals, Line: line, Quoted: quoted}
		if i >= 0 {
			(*attrs)[i] = at
		} else {
			*attrs = append(*attrs, at)
		}
	case "unset":
		if len(vals) > 0 {
			return errorf(line, "unset %s takes no value", name)
		}
		if i >= 0 {
			*attrs = slices.Delete(*attrs, i, i+1)
		}
	case "append":
		if len(vals) == 0 {
			return errorf(line, "append %s without a value", name)
		}
		if i < 0 {
			*attrs = append(*attrs, &Attr{Name: name, Values: vals, Line: line, Quoted: quoted})
			break
		}
		at := (*attrs)[i]
		for _, v := range vals {
			if !slices.Contains(at.Values, v) {
				at.Values = append(at.Values, v)
			}
		}
	case "unselect":
		if i < 0 {
			return errorf(line, "unselect %s: the attribute is not set", name)
		}
		at := (*attrs)[i]
		for _, v := range vals {
			j := slices.Index(at.Values, v)
			if j < 0 {
				return undo(errorf(line, "unselect %s: %s is not in the list", name, v))
			}
			at.Values = slices.Delete(at.Values, j, j+1)
		}
		if len(at.Values) == 0 {
			return undo(errorf(line, "unselect %s: a list cannot be emptied", name))
		}
	}
	if f.kind == frameEntry && a.isTop(f.block) && !a.reading {
		if err := a.vdom().checkRefs(f.block.Path, f.entry, name, a.strict(f.block.Path, f.entry), a.ownedName()); err != nil {
			return undo(errorf(line, "%s %s: %v", cmd, name, err))
		}
	}
	return nil
}

// strict says whether all of an entry's references are checked: always
// when pasting; when reading, for the owner's entries only (their
// references are what the owner relies on).
func (a *applier) strict(table string, e *Entry) bool {
	return !a.reading || a.owner != nil && a.owner.Entry != nil && a.owner.Entry(table, e)
}

// ownedName: when reading, references to the owner's names are checked
// in every entry.
func (a *applier) ownedName() func(string) bool {
	if a.owner == nil {
		return nil
	}
	return a.owner.Name
}

// commit checks an entry at next or end. An entry FortiOS refuses to
// save is left as it was before the edit (a new one is not created).
func (a *applier) commit(f *frame) error {
	if !a.isTop(f.block) {
		return nil
	}
	v := a.vdom()
	e := f.entry
	err := v.checkEntry(f.block.Path, e, a.strict(f.block.Path, e), a.ownedName(), !a.reading)
	if err != nil {
		err = errorf(f.line, "edit %s: %v", e.Key, err)
	} else if f.was != nil && typeOrDefault(f.block.Path, f.was) != typeOrDefault(f.block.Path, e) && isAddressTable(f.block.Path) {
		err = errorf(f.line, "edit %s: changing an address's type from %s to %s reinterprets its addresses: delete and create it instead", e.Key, typeOrDefault(f.block.Path, f.was), typeOrDefault(f.block.Path, e))
	}
	if err != nil {
		if f.was != nil {
			*e = *f.was
		} else if i := slices.Index(f.block.Entries, e); i >= 0 {
			f.block.Entries = slices.Delete(f.block.Entries, i, i+1)
		}
	}
	return err
}

func (a *applier) delete(line int, key string) error {
	f := a.top()
	if f == nil || f.kind != frameTable {
		return errorf(line, "delete outside a table")
	}
	t := f.block
	i := t.index(key)
	if i < 0 {
		return errorf(line, "delete %s: config %s has no such entry", key, t.Path)
	}
	if a.isTop(t) {
		if users := a.vdom().UsersOf(t.Path, key); len(users) > 0 {
			return errorf(line, "delete %s: in use by %s", key, strings.Join(users, ", "))
		}
	}
	t.Entries = slices.Delete(t.Entries, i, i+1)
	return nil
}

func (a *applier) move(line int, what, where, anchor string) error {
	f := a.top()
	if f == nil || f.kind != frameTable || !Numbered(f.block.Path) {
		return errorf(line, "move outside a policy table")
	}
	t := f.block
	i := t.index(what)
	if i < 0 {
		return errorf(line, "move %s: no policy %s", what, what)
	}
	if t.index(anchor) < 0 {
		return errorf(line, "move %s %s %s: no policy %s", what, where, anchor, anchor)
	}
	if what == anchor {
		return nil
	}
	e := t.Entries[i]
	t.Entries = slices.Delete(t.Entries, i, i+1)
	j := t.index(anchor)
	if where == "after" {
		j++
	}
	t.Entries = slices.Insert(t.Entries, j, e)
	return nil
}
