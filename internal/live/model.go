// Package live compares portwall's table in a running kernel with the
// table a profile asks for, and replaces it atomically, over netlink with
// github.com/google/nftables.
//
// nft and the library encode the same rule differently (a /8 as a 1-byte
// payload or a 4-byte one with a mask, a port range as a range or as two
// comparisons, a port list as an anonymous set or ...), so tables are
// compared in a canonical form: every rule decoded from its expressions
// into nft syntax by one decoder, whoever wrote it. The desired table is
// the nftables backend's script compiled into netlink objects (what apply
// sends) and decoded by the same decoder, so that one table loaded with
// `nft -f` from portwall's output and one applied by portwall both compare
// equal to it. Handles and counters are state, not content; a rule with an
// expression the decoder does not know is opaque: never equal to anything.
package live

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/nftables"
)

// Family and name of the one table portwall owns.
const TableName = "portwall"

// Table is portwall's table in canonical form.
type Table struct {
	Sets   []Set   // named sets, sorted by name
	Chains []Chain // sorted by name
}

// Set is a named set.
type Set struct {
	Name    string
	Type    string // ipv4_addr, ipv6_addr, ...
	Flags   []string
	Comment string
	// Dynamic sets (portwall's *_dns_* sets) are filled at run time by a
	// resolver: their elements are state, not content.
	Dynamic bool

	// The elements in canonical form (sorted spans), written on demand:
	// a large table's elements are mostly compared, not shown.
	keyType nftables.SetDatatype
	concat  bool
	elems   *elemList
}

// Len is the number of elements.
func (s *Set) Len() int { return s.elems.Len() }

// Element is element i in canonical form: "10.0.0.0/8", "192.0.2.9",
// "192.0.2.10-192.0.2.20", "10.0.0.0/8 . 22 comment \"pw:r...\"".
func (s *Set) Element(i int) string { return element(s.keyType, s.concat, s.elems, i) }

// Elements are the elements in canonical form, sorted.
func (s *Set) Elements() []string {
	out := make([]string, s.Len())
	for i := range out {
		out[i] = s.Element(i)
	}
	return out
}

// sameContent reports whether two sets are the same set with the same
// elements (then they write the same lines).
func (s *Set) sameContent(o *Set) bool {
	return s.Name == o.Name && s.Type == o.Type && slices.Equal(s.Flags, o.Flags) && s.Comment == o.Comment &&
		s.Dynamic == o.Dynamic && s.keyType.Name == o.keyType.Name && s.concat == o.concat && (s.Dynamic || s.elems.equal(o.elems))
}

// Chain is a base chain and its rules, in order.
type Chain struct {
	Name     string
	Type     string // filter
	Hook     string // input, output, ...
	Priority int32
	Policy   string // accept, drop
	Rules    []Rule
}

// Rule is one rule in canonical form.
type Rule struct {
	// Handle identifies a live rule; 0 for desired rules.
	Handle uint64
	// Text is the rule in nft syntax without its comment, as the decoder
	// writes it.
	Text    string
	Comment string
	// Opaque: the rule holds an expression the decoder (or the netlink
	// library under it) could not read; Why says what. It never compares
	// equal.
	Opaque bool
	Why    string
}

// Line is the rule as nft writes it in a chain; an opaque rule is marked
// with what could not be read and its handle, to delete it by.
func (r Rule) Line() string {
	l := r.Text
	if r.Comment != "" {
		l += ` comment "` + r.Comment + `"`
	}
	if r.Opaque {
		l += fmt.Sprintf(" # unrecognised (handle %d): %s", r.Handle, r.Why)
	}
	return strings.TrimSpace(l)
}

// Equal reports whether two rules are the same content. An opaque rule
// equals nothing.
func (r Rule) Equal(o Rule) bool {
	return !r.Opaque && !o.Opaque && r.Text == o.Text && r.Comment == o.Comment
}

// Header is the chain's first line; a regular chain (no hook) has none.
func (c Chain) Header() string {
	if c.Type == "" && c.Hook == "none" {
		return ""
	}
	return fmt.Sprintf("type %s hook %s priority %s; policy %s;", c.Type, c.Hook, priorityName(c.Priority), c.Policy)
}

func priorityName(p int32) string {
	if p == 0 {
		return "filter"
	}
	return fmt.Sprint(p)
}

// Lines renders the table as nft writes it (`nft list table inet
// portwall`, without handles), one statement per line: the unit of the
// unified diff.
func (t *Table) Lines() []string {
	var out []string
	for _, b := range t.blocks() {
		for i := range b.n {
			out = append(out, b.at(i))
		}
	}
	return out
}

// block is a run of a table's Lines: the table's first or last line, or
// a set's or a chain's lines. Lines are written on demand, and two blocks
// that are the same (same) have the same lines: a diff skips them whole,
// without writing 100,000 elements to find them equal.
type block struct {
	n  int
	at func(i int) string
	// write, when set, writes line i as at returns it, straight into w:
	// a set's element lines are written out without a string each.
	write func(w *strings.Builder, i int)
	// size, when set, is about the length of all the lines (a set's
	// elements are sampled); otherwise they are measured.
	size func() int
	same func(o block) bool
	set  *Set
	ch   *Chain
}

// linesSize is about the length of the block's lines, to size what they
// are written into once: a large set's lines are ten megabytes, which a
// growing buffer copies over and over.
func (b block) linesSize() int {
	if b.size != nil {
		return b.size()
	}
	n := 0
	for i := range b.n {
		n += len(b.at(i))
	}
	return n
}

// writeLine writes line i into w.
func (b block) writeLine(w *strings.Builder, i int) {
	if b.write != nil {
		b.write(w, i)
		return
	}
	w.WriteString(b.at(i))
}

func (t *Table) blocks() []block {
	if t == nil {
		return nil
	}
	line := func(l string) block {
		return block{n: 1, at: func(int) string { return l }}
	}
	out := []block{line("table inet " + TableName + " {")}
	for i := range t.Sets {
		out = append(out, t.Sets[i].block())
	}
	for i := range t.Chains {
		out = append(out, t.Chains[i].block())
	}
	return append(out, line("}"))
}

// block is the set's lines: its header, one element per line (each with
// its comma: the diff of a set then shows the elements added and
// removed, nothing else), its end.
func (s *Set) block() block {
	head := []string{"\tset " + s.Name + " {", "\t\ttype " + s.Type}
	if len(s.Flags) > 0 {
		head = append(head, "\t\tflags "+strings.Join(s.Flags, ","))
	}
	if s.Comment != "" {
		head = append(head, "\t\tcomment \""+s.Comment+"\"")
	}
	tail := []string{"\t}"}
	n := 0
	switch {
	case s.Dynamic:
		head = append(head, "\t\t# elements filled at run time")
	case s.Len() > 0:
		head = append(head, "\t\telements = {")
		tail = []string{"\t\t}", "\t}"}
		n = s.Len()
	}
	fields := elementFields(s.keyType, s.concat)
	write := func(w *strings.Builder, i int) {
		switch {
		case i < len(head):
			w.WriteString(head[i])
		case i < len(head)+n:
			w.WriteString("\t\t\t")
			writeElement(w, s.concat, fields, s.elems, i-len(head))
			w.WriteByte(',')
		default:
			w.WriteString(tail[i-len(head)-n])
		}
	}
	return block{
		n: len(head) + n + len(tail),
		at: func(i int) string {
			if i < len(head) {
				return head[i]
			}
			var w strings.Builder
			write(&w, i)
			return w.String()
		},
		write: write,
		size: func() int {
			size := 0
			for _, l := range head {
				size += len(l)
			}
			for _, l := range tail {
				size += len(l)
			}
			if n == 0 {
				return size
			}
			// Elements of one set are about as long as one another:
			// measure a few, spread over the set, and leave some room.
			const samples = 16
			var w strings.Builder
			k := min(n, samples)
			for j := range k {
				write(&w, len(head)+j*(n-1)/max(1, k-1))
			}
			return size + w.Len()*n/k + w.Len()*n/k/8
		},
		same: func(o block) bool { return o.set != nil && s.sameContent(o.set) },
		set:  s,
	}
}

// block is the chain's lines: its name, its header (none for a regular
// chain), its rules.
func (c *Chain) block() block {
	lines := []string{"\tchain " + c.Name + " {"}
	if h := c.Header(); h != "" {
		lines = append(lines, "\t\t"+h)
	}
	for _, r := range c.Rules {
		lines = append(lines, "\t\t"+r.Line())
	}
	lines = append(lines, "\t}")
	return block{
		n:  len(lines),
		at: func(i int) string { return lines[i] },
		same: func(o block) bool {
			return o.ch != nil && o.ch.Name == c.Name && o.ch.Header() == c.Header() && slices.EqualFunc(c.Rules, o.ch.Rules, func(a, b Rule) bool { return a.Line() == b.Line() })
		},
		ch: c,
	}
}

// Set looks up a set by name.
func (t *Table) Set(name string) (*Set, bool) {
	for i := range t.Sets {
		if t.Sets[i].Name == name {
			return &t.Sets[i], true
		}
	}
	return nil, false
}

// Chain looks up a chain by name.
func (t *Table) Chain(name string) (*Chain, bool) {
	for i := range t.Chains {
		if t.Chains[i].Name == name {
			return &t.Chains[i], true
		}
	}
	return nil, false
}
