package live

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/google/nftables"
)

// elemList holds a set's elements packed, as the kernel stores them or in
// canonical form: element i's key and key end are slices of one array,
// with its interval-end flag and its comment beside them. A large table
// holds 140,000 elements and more; as []nftables.SetElement each costs
// about 200 bytes and three allocations, here its key bytes and about 25.
type elemList struct {
	data []byte
	// off[2i] is where element i's key starts in data, off[2i+1] where
	// its key end starts (it ends at off[2i+2]).
	off      []uint32
	end      []bool // NFT_SET_ELEM_INTERVAL_END
	comments []string
}

func (l *elemList) Len() int {
	if l == nil {
		return 0
	}
	return len(l.end)
}

// grow makes room for n more elements of size bytes each.
func (l *elemList) grow(n, size int) {
	l.data = slices.Grow(l.data, n*size)
	l.off = slices.Grow(l.off, 2*n+1)
	l.end = slices.Grow(l.end, n)
	l.comments = slices.Grow(l.comments, n)
}

func (l *elemList) add(key, keyEnd []byte, end bool, comment string) {
	if len(l.off) == 0 {
		l.off = append(l.off, 0)
	}
	l.data = append(l.data, key...)
	l.off = append(l.off, uint32(len(l.data)))
	l.data = append(l.data, keyEnd...)
	l.off = append(l.off, uint32(len(l.data)))
	l.end = append(l.end, end)
	l.comments = append(l.comments, comment)
}

func (l *elemList) key(i int) []byte    { return l.data[l.off[2*i]:l.off[2*i+1]:l.off[2*i+1]] }
func (l *elemList) keyEnd(i int) []byte { return l.data[l.off[2*i+1]:l.off[2*i+2]:l.off[2*i+2]] }

// equal reports whether two lists hold the same elements in the same
// order.
func (l *elemList) equal(o *elemList) bool {
	if l.Len() != o.Len() {
		return false
	}
	if l.Len() == 0 {
		return true
	}
	return bytes.Equal(l.data, o.data) && slices.Equal(l.off, o.off) && slices.Equal(l.end, o.end) && slices.Equal(l.comments, o.comments)
}

// elemListOf packs the library's elements (of a set read or compiled
// with it).
func elemListOf(els []nftables.SetElement) *elemList {
	l := &elemList{}
	for _, e := range els {
		l.add(e.Key, e.KeyEnd, e.IntervalEnd, e.Comment)
	}
	return l
}

// setElements unpacks the list for the library (anonymous sets, which
// are small).
func (l *elemList) setElements() []nftables.SetElement {
	out := make([]nftables.SetElement, l.Len())
	for i := range out {
		out[i] = nftables.SetElement{Key: slices.Clone(l.key(i)), IntervalEnd: l.end[i], Comment: l.comments[i]}
		if k := l.keyEnd(i); len(k) > 0 {
			out[i].KeyEnd = slices.Clone(k)
		}
	}
	return out
}

// interner shares the copies of repeated strings: the comments of a large
// set's elements name a few thousand rules.
type interner map[string]string

func (in interner) get(b []byte) string {
	if s, ok := in[string(b)]; ok {
		return s
	}
	s := string(b)
	in[s] = s
	return s
}

// str is get for a string (a copy is kept, not s: s may be part of a
// whole script).
func (in interner) str(s string) string {
	if v, ok := in[s]; ok {
		return v
	}
	v := strings.Clone(s)
	in[v] = v
	return v
}

// canonical reads a set's elements as sorted spans, each element of the
// result holding its first value as key and its last as key end. The
// kernel returns an interval set's elements in no useful order, each
// range as its start and an end marker one past its last value, with an
// all-zero end marker in front (google/nftables#320): sort by key, pair
// each start with the next end marker, and let a start without one run to
// the largest value. A concatenated set's elements carry their first and
// last keys; others are single values.
func canonical(l *elemList, interval, concat bool) *elemList {
	n := l.Len()
	order := make([]int32, n)
	for i := range order {
		order[i] = int32(i)
	}
	cmp := func(a, b int32) int {
		if c := bytes.Compare(l.key(int(a)), l.key(int(b))); c != 0 {
			return c
		}
		// An end marker sorts before a start with the same key: the
		// previous range ends where the next one starts.
		switch ea, eb := l.end[a], l.end[b]; {
		case ea == eb:
			return 0
		case ea:
			return -1
		}
		return 1
	}
	if concat && n > 0 && canonicalConcat(l, cmp) {
		// What the sort and the copy below would make of it, element for
		// element: share it (lists are not changed once made). The
		// concatenations compiled from portwall's script are a large
		// table's elements, held once instead of twice.
		return l
	}
	slices.SortStableFunc(order, cmp)
	out := &elemList{data: make([]byte, 0, len(l.data)), off: make([]uint32, 0, 2*n+1), end: make([]bool, 0, n), comments: make([]string, 0, n)}
	switch {
	case concat:
		for _, i := range order {
			end := l.keyEnd(int(i))
			if len(end) == 0 {
				end = l.key(int(i))
			}
			out.add(l.key(int(i)), end, false, l.comments[i])
		}
	case !interval:
		for _, i := range order {
			out.add(l.key(int(i)), l.key(int(i)), false, l.comments[i])
		}
	default:
		start, comment := -1, ""
		for _, i := range order {
			k := l.key(int(i))
			switch {
			case !l.end[i] && start >= 0:
				// Two starts in a row: the first range ends just before
				// the second (nft merges such ranges; be safe anyway).
				out.add(l.key(start), prev(k), false, comment)
				start, comment = int(i), l.comments[i]
			case !l.end[i]:
				start, comment = int(i), l.comments[i]
			case start >= 0:
				out.add(l.key(start), prev(k), false, comment)
				start = -1
			}
		}
		if start >= 0 {
			k := l.key(start)
			out.add(k, bytes.Repeat([]byte{0xff}, len(k)), false, comment)
		}
	}
	return out
}

// canonicalConcat reports whether a concatenated set's elements are in
// canonical form already: sorted, each with its key end, none an end
// marker.
func canonicalConcat(l *elemList, cmp func(a, b int32) int) bool {
	for i := range l.Len() {
		if l.end[i] || len(l.keyEnd(i)) == 0 || i > 0 && cmp(int32(i-1), int32(i)) > 0 {
			return false
		}
	}
	return true
}

// prev is key minus one, as a big-endian number.
func prev(key []byte) []byte {
	out := slices.Clone(key)
	for i := len(out) - 1; i >= 0; i-- {
		out[i]--
		if out[i] != 0xff {
			break
		}
	}
	return out
}

// element writes canonical element i of a set of type t: a value or
// range, field by field for a concatenation (each field padded to 4
// bytes), with its comment.
func element(t nftables.SetDatatype, concat bool, l *elemList, i int) string {
	var b strings.Builder
	writeElement(&b, concat, elementFields(t, concat), l, i)
	return b.String()
}

// elementFields are the fields of a set's elements: one for a plain set,
// one per type of a concatenation. A set's lines look them up once, not
// once per element.
func elementFields(t nftables.SetDatatype, concat bool) []nftables.SetDatatype {
	if !concat {
		return []nftables.SetDatatype{t}
	}
	return nftables.ConcatSetTypeElements(t)
}

// writeElement writes element i as element does, given the set's
// elementFields.
func writeElement(w *strings.Builder, concat bool, fields []nftables.SetDatatype, l *elemList, i int) {
	from, to := l.key(i), l.keyEnd(i)
	if !concat {
		w.WriteString(typeField(fields[0]).span(span{from: from, to: to}))
	} else {
		off := 0
		for k, ft := range fields {
			if k > 0 {
				w.WriteString(" . ")
			}
			n := int(ft.Bytes)
			if n == 0 || off+n > len(from) || off+n > len(to) {
				fmt.Fprintf(w, "0x%x", from)
				break
			}
			w.WriteString(typeField(ft).span(span{from: from[off : off+n], to: to[off : off+n]}))
			off += (n + 3) / 4 * 4
		}
	}
	if c := l.comments[i]; c != "" {
		w.WriteString(` comment "`)
		w.WriteString(c)
		w.WriteByte('"')
	}
}
