package fortiparse

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// ShowMode is how Show prints attributes that hold their default.
type ShowMode uint8

const (
	// ShowStored prints what was set, as it was set.
	ShowStored ShowMode = iota
	// ShowTerse leaves out attributes at their default, as show does.
	ShowTerse
	// ShowFull prints the defaults of the modelled attributes too, as
	// show full-configuration does.
	ShowFull
)

// Show prints the configuration as FortiOS prints it: the header, then
// (with VDOMs) the VDOM list, config global and each VDOM's tables.
func (m *Model) Show(mode ShowMode) []byte {
	var w bytes.Buffer
	for _, h := range m.Header {
		w.WriteString(h + "\n")
	}
	if !m.Multi {
		for _, t := range m.vdoms[0].Tables {
			writeBlock(&w, t, 0, mode, nil)
		}
		return w.Bytes()
	}
	w.WriteString("config vdom\n")
	for _, v := range m.vdoms {
		fmt.Fprintf(&w, "edit %s\nnext\n", v.Name)
	}
	w.WriteString("end\n")
	if m.global != nil {
		w.WriteString("config global\n")
		for _, b := range m.global.Blocks {
			writeBlock(&w, b, 0, mode, nil)
		}
		w.WriteString("end\n")
	}
	w.WriteString("config vdom\n")
	for _, v := range m.vdoms {
		fmt.Fprintf(&w, "edit %s\n", v.Name)
		for _, t := range v.Tables {
			writeBlock(&w, t, 0, mode, nil)
		}
		w.WriteString("next\n")
	}
	w.WriteString("end\n")
	return w.Bytes()
}

// ShowEntries prints the VDOM's tables with only the entries keep
// accepts (tables left empty are left out), as stored.
func (v *VDOM) ShowEntries(keep func(table string, e *Entry) bool) []byte {
	var w bytes.Buffer
	for _, t := range v.Tables {
		writeBlock(&w, t, 0, ShowStored, keep)
	}
	return w.Bytes()
}

// EntryText prints one entry of a table, as stored: for comparing
// entries.
func EntryText(table string, e *Entry) string {
	var w bytes.Buffer
	writeEntry(&w, table, e, 0, ShowStored)
	return w.String()
}

func indent(depth int) string { return strings.Repeat("    ", depth) }

func writeBlock(w *bytes.Buffer, b *Block, depth int, mode ShowMode, keep func(string, *Entry) bool) {
	var entries []*Entry
	for _, e := range b.Entries {
		if keep == nil || keep(b.Path, e) {
			entries = append(entries, e)
		}
	}
	if keep != nil && len(entries) == 0 {
		return
	}
	fmt.Fprintf(w, "%sconfig %s\n", indent(depth), b.Path)
	for _, a := range b.Attrs {
		writeSet(w, a, depth+1)
	}
	for _, e := range entries {
		writeEntry(w, b.Path, e, depth+1, mode)
	}
	for _, n := range b.Blocks {
		writeBlock(w, n, depth+1, mode, nil)
	}
	fmt.Fprintf(w, "%send\n", indent(depth))
}

func writeEntry(w *bytes.Buffer, table string, e *Entry, depth int, mode ShowMode) {
	key := e.Key
	if !Numbered(table) && !isDigits(key) {
		key = quote(key)
	}
	fmt.Fprintf(w, "%sedit %s\n", indent(depth), key)
	attrs := e.Attrs
	switch mode {
	case ShowTerse:
		attrs = slices.DeleteFunc(slices.Clone(attrs), func(a *Attr) bool {
			d, ok := Default(table, a.Name)
			return ok && len(a.Values) == 1 && a.Values[0] == d
		})
	case ShowFull:
		attrs = slices.Clone(attrs)
		for _, n := range defaultAttrs(table) {
			if e.attr(n) == nil {
				d, _ := Default(table, n)
				attrs = append(attrs, &Attr{Name: n, Values: []string{d}})
			}
		}
	}
	for _, a := range attrs {
		writeSet(w, a, depth+1)
	}
	for _, b := range e.Blocks {
		writeBlock(w, b, depth+1, mode, nil)
	}
	fmt.Fprintf(w, "%snext\n", indent(depth))
}

func writeSet(w *bytes.Buffer, a *Attr, depth int) {
	vals := make([]string, len(a.Values))
	for i, v := range a.Values {
		if a.Quoted || v == "" || strings.ContainsAny(v, " \t\"'\\#()<>?") {
			vals[i] = quote(v)
		} else {
			vals[i] = v
		}
	}
	fmt.Fprintf(w, "%sset %s %s\n", indent(depth), a.Name, strings.Join(vals, " "))
}

// quote writes a value in double quotes with the escapes the CLI reads.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// Snippet prints the entries keep accepts of the tables portwall writes
// as a snippet the strict reader (Parse) reads: policies as edit 0, in
// table order. It shows that what a series of pastes left on a FortiGate
// is what portwall means it to be.
func (v *VDOM) Snippet(keep func(table string, e *Entry) bool) []byte {
	var w bytes.Buffer
	for _, path := range []string{"firewall address", "firewall address6", "firewall addrgrp", "firewall addrgrp6",
		"firewall service custom", "firewall service group", "firewall policy", "firewall policy6",
		"firewall local-in-policy", "firewall local-in-policy6"} {
		t := v.Table(path)
		var entries []*Entry
		for _, e := range t.entries() {
			if keep(path, e) {
				entries = append(entries, e)
			}
		}
		if len(entries) == 0 {
			continue
		}
		fmt.Fprintf(&w, "config %s\n", path)
		for _, e := range entries {
			if Numbered(path) {
				w.WriteString("    edit 0\n")
			} else {
				fmt.Fprintf(&w, "    edit %s\n", quote(e.Key))
			}
			// What show leaves out holds its default: say it, with the
			// attribute that decides the others' meaning first.
			attrs := slices.Clone(e.Attrs)
			for _, n := range defaultAttrs(path) {
				if _, known := specs()[path].attrs[n]; known && e.attr(n) == nil {
					d, _ := Default(path, n)
					attrs = append(attrs, &Attr{Name: n, Values: []string{d}})
				}
			}
			slices.SortStableFunc(attrs, func(a, b *Attr) int {
				return cmpBool(a.Name == "type" || a.Name == "protocol", b.Name == "type" || b.Name == "protocol")
			})
			for _, a := range attrs {
				writeSet(&w, a, 2)
			}
			w.WriteString("    next\n")
		}
		w.WriteString("end\n")
	}
	return w.Bytes()
}

// cmpBool sorts true first.
func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return -1
	}
	return 1
}
