package live

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
)

// Op is what a change does to the live table.
type Op string

const (
	Add    Op = "add"
	Remove Op = "remove"
	Change Op = "change"
)

// Diff is the difference between the live table and the desired one.
type Diff struct {
	// Changes lists every set, chain and rule to add, remove or change.
	Changes []Item `json:"changes"`
	Add     int    `json:"add"`
	Remove  int    `json:"remove"`
	Change  int    `json:"change"`
	// Unrecognised counts live rules the reader could not decode; they
	// are never equal to anything, so they are always among the changes.
	Unrecognised int `json:"unrecognised"`
	// Unified is the difference as a unified diff of the two tables in nft
	// syntax (--- live, +++ desired).
	Unified string `json:"unified"`
}

// Item is one change.
type Item struct {
	Op      Op     `json:"op"`
	Kind    string `json:"kind"` // table, set, chain, rule
	Chain   string `json:"chain,omitempty"`
	Name    string `json:"name,omitempty"` // set or chain name
	Handle  uint64 `json:"handle,omitempty"`
	Live    string `json:"live,omitempty"`
	Desired string `json:"desired,omitempty"`
}

// Drift reports whether the tables differ.
func (d *Diff) Drift() bool { return len(d.Changes) > 0 }

// Summary is the last line of the text output.
func (d *Diff) Summary() string {
	s := fmt.Sprintf("%d to add, %d to remove, %d to change", d.Add, d.Remove, d.Change)
	if d.Unrecognised > 0 {
		s += fmt.Sprintf(" (%d live rules unrecognised)", d.Unrecognised)
	}
	return s
}

// Compare diffs the live table (nil when there is none) with the desired
// one.
func Compare(live, desired *Table) *Diff {
	d := &Diff{}
	// A missing table has no lines at all: the diff adds every one.
	d.Unified = unified(live.blocks(), desired.blocks())
	if live == nil {
		d.item(Item{Op: Add, Kind: "table", Name: TableName})
		live = &Table{}
	}
	d.sets(live, desired)
	d.chains(live, desired)
	for _, c := range live.Chains {
		for _, r := range c.Rules {
			if r.Opaque {
				d.Unrecognised++
			}
		}
	}
	return d
}

func (d *Diff) item(it Item) {
	d.Changes = append(d.Changes, it)
	switch it.Op {
	case Add:
		d.Add++
	case Remove:
		d.Remove++
	case Change:
		d.Change++
	}
}

func (d *Diff) sets(live, desired *Table) {
	for _, w := range desired.Sets {
		l, ok := live.Set(w.Name)
		switch {
		case !ok:
			d.item(Item{Op: Add, Kind: "set", Name: w.Name, Desired: setText(w)})
		case !l.sameContent(&w):
			if lt, wt := setText(*l), setText(w); lt != wt {
				d.item(Item{Op: Change, Kind: "set", Name: w.Name, Live: lt, Desired: wt})
			}
		}
	}
	for _, l := range live.Sets {
		if _, ok := desired.Set(l.Name); !ok {
			d.item(Item{Op: Remove, Kind: "set", Name: l.Name, Live: setText(l)})
		}
	}
}

// setText is a set's content on one line: elements of dynamic sets are
// state and left out.
func setText(s Set) string {
	var w strings.Builder
	b := s.block()
	w.Grow(b.linesSize() + b.n)
	for i := range b.n {
		if i > 0 {
			w.WriteByte(' ')
		}
		b.writeLine(&w, i)
	}
	return w.String()
}

func (d *Diff) chains(live, desired *Table) {
	for _, w := range desired.Chains {
		l, ok := live.Chain(w.Name)
		if !ok {
			d.item(Item{Op: Add, Kind: "chain", Name: w.Name, Desired: w.Header()})
			for _, r := range w.Rules {
				d.item(Item{Op: Add, Kind: "rule", Chain: w.Name, Desired: r.Line()})
			}
			continue
		}
		if l.Header() != w.Header() {
			d.item(Item{Op: Change, Kind: "chain", Name: w.Name, Live: l.Header(), Desired: w.Header()})
		}
		d.rules(w.Name, l.Rules, w.Rules)
	}
	for _, l := range live.Chains {
		if _, ok := desired.Chain(l.Name); !ok {
			d.item(Item{Op: Remove, Kind: "chain", Name: l.Name, Live: l.Header()})
			for _, r := range l.Rules {
				d.item(Item{Op: Remove, Kind: "rule", Chain: l.Name, Handle: r.Handle, Live: r.Line()})
			}
		}
	}
}

// rules matches a chain's rules in order (order matters in a chain): rules
// outside the longest common sequence are added or removed, and a removed
// and an added rule with the same comment (the same portwall rule) count
// as one change.
func (d *Diff) rules(chain string, live, desired []Rule) {
	for _, op := range opCodes(ruleKeys(live), ruleKeys(desired)) {
		if op.Tag == 'e' {
			continue
		}
		removed, added := live[op.I1:op.I2], desired[op.J1:op.J2]
		paired := map[int]bool{}
		for _, r := range removed {
			j := -1
			for k, w := range added {
				if !paired[k] && r.Comment != "" && w.Comment == r.Comment {
					j = k
					break
				}
			}
			if j >= 0 {
				paired[j] = true
				d.item(Item{Op: Change, Kind: "rule", Chain: chain, Handle: r.Handle, Live: r.Line(), Desired: added[j].Line()})
				continue
			}
			d.item(Item{Op: Remove, Kind: "rule", Chain: chain, Handle: r.Handle, Live: r.Line()})
		}
		for k, w := range added {
			if !paired[k] {
				d.item(Item{Op: Add, Kind: "rule", Chain: chain, Desired: w.Line()})
			}
		}
	}
}

// ruleKeys gives each rule the key the matcher compares: its line, or for
// an opaque rule a key nothing else has.
func ruleKeys(rs []Rule) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Line()
		if r.Opaque {
			out[i] = fmt.Sprintf("\x00opaque %d %s", i, r.Line())
		}
	}
	return out
}

// unified writes a unified diff of two tables' lines with three lines of
// context. Blocks (sets, chains) that are the same at the start and at the
// end are skipped whole, and their lines written only where they are
// context: a table of 100,000 elements with one rule changed is not
// written out twice to be compared line by line. The diff is the one of
// the whole lines (opCodes strips the common start and end too).
func unified(ab, bb []block) string {
	same := func(x, y block) bool {
		if x.same != nil {
			return x.same(y)
		}
		if y.same != nil || x.n != y.n {
			return false
		}
		for i := range x.n {
			if x.at(i) != y.at(i) {
				return false
			}
		}
		return true
	}
	pre := 0
	for pre < len(ab) && pre < len(bb) && same(ab[pre], bb[pre]) {
		pre++
	}
	suf := 0
	for suf < len(ab)-pre && suf < len(bb)-pre && same(ab[len(ab)-1-suf], bb[len(bb)-1-suf]) {
		suf++
	}
	a, b := newSeq(ab), newSeq(bb)
	// Lines of the blocks in the middle, where the tables differ.
	mid := func(blocks []block, from, to int) []string {
		var out []string
		for _, bl := range blocks[from:to] {
			for i := range bl.n {
				out = append(out, bl.at(i))
			}
		}
		return out
	}
	pa, pb := a.start[pre], b.start[pre]
	// The middle's line counts; its lines are written only when both
	// sides have some: when one side has none (a table applied where
	// there was none), every line of the other is added or removed, as
	// opCodes would say.
	na, nb := a.start[len(ab)-suf]-pa, b.start[len(bb)-suf]-pb
	var mc []difflib.OpCode
	switch {
	case na == 0 && nb == 0:
	case na == 0:
		mc = []difflib.OpCode{{Tag: 'i', J2: nb}}
	case nb == 0:
		mc = []difflib.OpCode{{Tag: 'd', I2: na}}
	default:
		mc = opCodes(mid(ab, pre, len(ab)-suf), mid(bb, pre, len(bb)-suf))
	}
	var codes []difflib.OpCode
	codes = addCode(codes, difflib.OpCode{Tag: 'e', I1: 0, I2: pa, J1: 0, J2: pb})
	for _, c := range mc {
		codes = addCode(codes, difflib.OpCode{Tag: c.Tag, I1: c.I1 + pa, I2: c.I2 + pa, J1: c.J1 + pb, J2: c.J2 + pb})
	}
	codes = addCode(codes, difflib.OpCode{Tag: 'e', I1: pa + na, I2: a.len(), J1: pb + nb, J2: b.len()})
	groups := grouped(codes, 3)
	if len(groups) == 0 {
		return ""
	}
	var w strings.Builder
	size := 0
	for _, g := range groups {
		for _, c := range g {
			size += a.size(c.I1, c.I2)
			if c.Tag != 'e' {
				size += b.size(c.J1, c.J2)
			}
		}
	}
	w.Grow(size + 64*len(groups))
	w.WriteString("--- live\n+++ desired\n")
	for _, g := range groups {
		first, last := g[0], g[len(g)-1]
		fmt.Fprintf(&w, "@@ -%s +%s @@\n", hunkRange(first.I1, last.I2), hunkRange(first.J1, last.J2))
		for _, c := range g {
			switch c.Tag {
			case 'e':
				a.write(&w, ' ', c.I1, c.I2)
			default:
				a.write(&w, '-', c.I1, c.I2)
				b.write(&w, '+', c.J1, c.J2)
			}
		}
	}
	return w.String()
}

// seq is the lines of a list of blocks, written on demand.
type seq struct {
	blocks []block
	start  []int // start[k] is block k's first line; start[len] the count
	sizes  []int // the blocks' linesSize, measured when needed (-1: not yet)
}

func newSeq(blocks []block) *seq {
	s := &seq{blocks: blocks, start: make([]int, len(blocks)+1)}
	for k, b := range blocks {
		s.start[k+1] = s.start[k] + b.n
	}
	return s
}

func (s *seq) len() int { return s.start[len(s.blocks)] }

func (s *seq) at(i int) string {
	k, _ := slices.BinarySearch(s.start, i+1)
	k--
	return s.blocks[k].at(i - s.start[k])
}

// size is about the length of lines from to to (excluded) as write
// writes them.
func (s *seq) size(from, to int) int {
	if s.sizes == nil {
		s.sizes = make([]int, len(s.blocks))
		for k := range s.sizes {
			s.sizes[k] = -1
		}
	}
	size := 0
	k, _ := slices.BinarySearch(s.start, from+1)
	for k--; k < len(s.blocks) && s.start[k] < to; k++ {
		if s.sizes[k] < 0 {
			s.sizes[k] = s.blocks[k].linesSize()
		}
		// The lines of block k in the range, of its lines' average
		// length, each with its mark and newline.
		if n := min(to, s.start[k+1]) - max(from, s.start[k]); n > 0 {
			size += s.sizes[k]*n/s.blocks[k].n + 2*n
		}
	}
	return size
}

// write writes lines from to to (excluded), each after mark and ending
// with a newline.
func (s *seq) write(w *strings.Builder, mark byte, from, to int) {
	for i := from; i < to; i++ {
		k, _ := slices.BinarySearch(s.start, i+1)
		k--
		w.WriteByte(mark)
		s.blocks[k].writeLine(w, i-s.start[k])
		w.WriteByte('\n')
	}
}

// hunkRange formats a hunk's line range as unified diffs do.
func hunkRange(start, stop int) string {
	n := stop - start
	switch {
	case n == 1:
		return fmt.Sprint(start + 1)
	case n == 0:
		return fmt.Sprintf("%d,0", start)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}
