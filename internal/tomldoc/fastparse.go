package tomldoc

import (
	"bytes"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2/unstable"
)

// fastParse reads data into the values BurntSushi/toml's decoder gives
// for a map[string]any (tables as map[string]any, arrays as []any,
// integers as int64, local dates as time.Time in a zone named
// "date-local"), but for arrays of tables, which are []*table (see table;
// plain makes them the decoder's []map[string]any), from go-toml's AST
// parser, several times faster than the decoder. It takes only what it
// can read exactly as the decoder does: on a syntax error, a key or table defined
// twice, anything TOML's table rules make subtle (a dotted key reaching
// into a table defined elsewhere, a header reaching into a dotted one), and
// values it leaves to the decoder (floats, times and dates with a time),
// ok is false and the caller parses again with BurntSushi/toml, whose
// errors and messages portwall reports. TestFastParseAgrees and
// FuzzFastParse hold the two to the same values.
//
// order gives the keys of each top-level table (one a header or dotted
// keys made, not an inline table) in the order the file defines them.
//
// text is data as a string: keys and strings that the file holds as they
// are (without escapes) are parts of it.
func fastParse(data []byte, text string) (top map[string]any, order map[string][]string, ok bool) {
	if !utf8.Valid(data) {
		return nil, nil, false
	}
	b := builder{root: &table{m: map[string]any{}, defined: true, root: true},
		names: map[string]string{}, strings: map[string]any{}, text: text}
	b.cur = b.root
	var p unstable.Parser
	p.Reset(data)
	for p.NextExpression() {
		e := p.Expression()
		var ok bool
		switch e.Kind {
		case unstable.Table:
			ok = b.header(e, false)
		case unstable.ArrayTable:
			ok = b.header(e, true)
		case unstable.KeyValue:
			ok = b.keyValue(b.cur, e, true)
		default:
			ok = false
		}
		if !ok {
			return nil, nil, false
		}
	}
	if p.Error() != nil {
		return nil, nil, false
	}
	b.root.finish()
	if b.root.extra != nil {
		order = make(map[string][]string, len(b.root.extra.sub))
		for k, t := range b.root.extra.sub {
			if t.extra != nil {
				order[k] = t.extra.order
			}
		}
	}
	return b.root.m, order, true
}

// table is a table being built, with what TOML's rules about defining
// tables need to know of it.
//
// The tables of an array of tables are also what fastParse gives for
// them: an array of tables is a []*table, which unify reads as the tables
// they are, and plain makes the decoder's []map[string]any where a value
// is kept as it is. Such a table keeps up to maxSmall keys and values in
// fields, not in a map: a map of one key takes room for eight, and a
// header, and each of 10,000 [[allow]] rules had a map of its five.
type table struct {
	// m holds the table's keys and values; for a table of an array of
	// tables while it has no more than maxSmall keys, fields does (and m
	// is nil).
	m      map[string]any
	fields []field
	// extra is nil until an ordered table has a key, or a header or
	// dotted key makes a table below it: most tables do neither, and
	// those of arrays of tables are a size class smaller without the room.
	extra *extra
	// defined: a header named the table (or it is an element of an array
	// of tables); dotted: dotted keys of section created it.
	defined bool
	dotted  bool
	// root: the table is the file's; ordered: it is a table of the
	// file's, whose keys' order fastParse gives (the others' is not
	// kept, for what it costs). Next to the other flags, so that the
	// table stays 48 bytes.
	root, ordered bool
	section       int32
}

// extra holds the tables below a table that headers or dotted keys
// created (sub), and its arrays of tables (arrs); both are in the table's
// keys too (arrays once finished). order lists the keys of m in the order
// they were set, for an ordered table.
type extra struct {
	sub   map[string]*table
	arrs  map[string]*[]*table
	order []string
}

func (t *table) sub(k string) *table {
	if t.extra == nil {
		return nil
	}
	return t.extra.sub[k]
}

func (t *table) arr(k string) *[]*table {
	if t.extra == nil {
		return nil
	}
	return t.extra.arrs[k]
}

func (t *table) more() *extra {
	if t.extra == nil {
		t.extra = &extra{}
	}
	return t.extra
}

type builder struct {
	root, cur *table
	// section counts headers: the dotted keys of one section may extend
	// the tables they created, not those of another.
	section int32
	keys    []string
	// names interns the keys of the tables of arrays of tables, which
	// repeat in every table of their array.
	names map[string]string
	// strings interns the short strings of the tables of arrays of
	// tables, boxed: the same protocols and host and group names recur in
	// every [[allow]] rule, each a string and an interface to allocate.
	// It stops growing at maxInterned, so that values that do not recur
	// cost a lookup and no more.
	strings map[string]any
	// text is the file's, which strings share (textOf).
	text string
	// prev is the table before cur in its array of tables, or nil: the
	// rules of a profile repeat its keys in the same order, and often
	// its values (like).
	prev *table
	// The tables of arrays of tables, their fields and the arrays' lists,
	// a few of each for every [[allow]] rule, come from chunks.
	tables slab[table]
	fields slab[field]
	lists  slab[any]
}

// slab hands out slices of chunks it allocates, which double in size from
// minSlab to maxSlab elements: one allocation for many small parts. A
// part keeps its chunk in memory; those of a profile's rules are all
// dropped together once decoded.
type slab[T any] struct {
	free []T
	next int // the size of the next chunk
}

const (
	minSlab = 8
	maxSlab = 512
)

// take is n zero elements, with no room to append in place (never nil:
// an empty list is not a missing one).
func (s *slab[T]) take(n int) []T {
	if n == 0 {
		return []T{}
	}
	if cap(s.free)-len(s.free) < n {
		s.next = min(max(2*s.next, minSlab), maxSlab)
		s.free = make([]T, 0, max(n, s.next))
	}
	i := len(s.free)
	s.free = s.free[:i+n]
	return s.free[i : i+n : i+n]
}

// textOf is the data of a key or string node as a string: the part of the
// file's text it is when it is the file's bytes as they are (a bare key,
// a string without escapes: its raw text, or that without the quotes), a
// copy otherwise. The comparison allocates nothing, and makes sure.
func (b *builder) textOf(n *unstable.Node) string {
	start, end := int(n.Raw.Offset), int(n.Raw.Offset+n.Raw.Length)
	switch end - start {
	case len(n.Data):
	case len(n.Data) + 2:
		start, end = start+1, end-1
	default:
		return string(n.Data)
	}
	if end > len(b.text) {
		return string(n.Data)
	}
	if s := b.text[start:end]; s == string(n.Data) {
		return s
	}
	return string(n.Data)
}

// maxInterned is the most strings builder.strings holds, and
// maxInternedLen the longest: names are at most 48 bytes.
const (
	maxInterned    = 256
	maxInternedLen = 48
)

// str is the string node n as a value; intern says it is a value of a
// table of an array of tables.
func (b *builder) str(n *unstable.Node, intern bool) any {
	data := n.Data
	if !intern || len(data) > maxInternedLen {
		return b.textOf(n)
	}
	if v, ok := b.strings[string(data)]; ok {
		return v
	}
	s := b.textOf(n)
	var v any = s
	if len(b.strings) < maxInterned {
		b.strings[s] = v
	}
	return v
}

func (t *table) has(k string) bool {
	var ok bool
	if t.m != nil {
		_, ok = t.m[k]
	} else {
		for _, f := range t.fields {
			if f.key == k {
				ok = true
				break
			}
		}
	}
	if !ok {
		ok = t.arr(k) != nil
	}
	return ok
}

// set sets key k, which the table does not have, to v.
func (t *table) set(k string, v any) {
	if t.m == nil && len(t.fields) == maxSmall {
		t.m = make(map[string]any, maxSmall+1)
		for _, f := range t.fields {
			t.m[f.key] = f.val
		}
		t.fields = nil
	}
	if t.m != nil {
		t.m[k] = v
		if !t.ordered {
			return
		}
		x := t.more()
		if len(x.order) == cap(x.order) {
			// Doubled: append's growth by a quarter, for the 10,000 keys
			// of a large [groups], allocated five times their size.
			x.order = slices.Grow(x.order, max(len(x.order), 4))
		}
		x.order = append(x.order, k)
		return
	}
	t.fields = append(t.fields, field{k, v})
}

func (t *table) child(k string, defined, dotted bool, section int32) *table {
	c := &table{m: map[string]any{}, defined: defined, dotted: dotted, section: section, ordered: t.root}
	kids := t.more()
	if kids.sub == nil {
		kids.sub = map[string]*table{}
	}
	kids.sub[k] = c
	t.set(k, c.m)
	return c
}

// field is a key and value of a table that keeps them in fields.
type field struct {
	key string
	val any
}

// maxSmall is the most keys a table keeps in fields: looking a key up
// goes through them all.
const maxSmall = 16

// finish puts the arrays of tables into their tables.
func (t *table) finish() {
	if t.extra == nil {
		return
	}
	for _, c := range t.extra.sub {
		c.finish()
	}
	for k, a := range t.extra.arrs {
		for _, c := range *a {
			c.finish()
		}
		t.set(k, *a)
	}
}

// keyParts reads the parts of a key; intern says they are keys of the
// tables of arrays of tables (or their headers), which repeat, and like
// is the key they most likely repeat (see like), or "".
func (b *builder) keyParts(n *unstable.Node, intern bool, like string) []string {
	b.keys = b.keys[:0]
	it := n.Key()
	for it.Next() {
		data := it.Node().Data
		if !intern {
			b.keys = append(b.keys, b.textOf(it.Node()))
			continue
		}
		if like != "" && like == string(data) {
			b.keys = append(b.keys, like)
			continue
		}
		k, ok := b.names[string(data)]
		if !ok {
			k = b.textOf(it.Node())
			b.names[k] = k
		}
		b.keys = append(b.keys, k)
	}
	return b.keys
}

// header opens the table or array element a [header] or [[header]]
// names.
func (b *builder) header(n *unstable.Node, array bool) bool {
	b.section++
	keys := b.keyParts(n, array, "")
	t := b.root
	for _, k := range keys[:len(keys)-1] {
		switch c, a := t.sub(k), t.arr(k); {
		case c != nil && !c.dotted:
			t = c
		case a != nil:
			t = (*a)[len(*a)-1]
		case t.has(k):
			return false
		default:
			t = t.child(k, false, false, 0)
		}
	}
	last := keys[len(keys)-1]
	if array {
		a := t.arr(last)
		if a == nil {
			if t.has(last) {
				return false
			}
			kids := t.more()
			if kids.arrs == nil {
				kids.arrs = map[string]*[]*table{}
			}
			a = &[]*table{}
			kids.arrs[last] = a
		}
		// Keys in fields, with room for as many as the table before.
		e := &b.tables.take(1)[0]
		e.defined = true
		b.prev = nil
		if len(*a) > 0 {
			b.prev = (*a)[len(*a)-1]
			e.fields = b.fields.take(len(b.prev.fields))[:0]
		}
		*a = append(*a, e)
		b.cur = e
		return true
	}
	b.prev = nil
	if c := t.sub(last); c != nil {
		if c.defined || c.dotted {
			return false
		}
		c.defined = true
		b.cur = c
		return true
	}
	if t.has(last) {
		return false
	}
	b.cur = t.child(last, true, false, 0)
	return true
}

// keyValue sets key = value in t; top says t is the section's table (not
// an inline table, whose dotted keys are left to the decoder).
func (b *builder) keyValue(t *table, n *unstable.Node, top bool) bool {
	like := b.like(t)
	keys := b.keyParts(n, t.m == nil, like.key)
	if len(keys) > 1 && !top {
		return false
	}
	for _, k := range keys[:len(keys)-1] {
		c := t.sub(k)
		switch {
		case c != nil && c.dotted && c.section == b.section:
			t = c
		case c != nil || t.has(k):
			return false
		default:
			t = t.child(k, false, true, b.section)
		}
	}
	last := keys[len(keys)-1]
	if t.has(last) {
		return false
	}
	if v, ok := like.same(last, n.Value()); ok {
		t.set(last, v)
		return true
	}
	v, ok := b.value(n.Value(), t.m == nil)
	if !ok {
		return false
	}
	t.set(last, v)
	return true
}

// like is the key and value that the table before t in its array of
// tables has where t's next key goes, when t is the section's table and
// both keep their keys in fields (zero otherwise). Comparing with them
// first spares looking the key and a string value up in the builder's
// maps (names, strings): a profile's rules repeat their keys in order,
// and often the values of some (to = "host-01", protocol = "tcp").
func (b *builder) like(t *table) field {
	p := b.prev
	if t != b.cur || p == nil || t.m != nil || p.m != nil || len(t.fields) >= len(p.fields) {
		return field{}
	}
	return p.fields[len(t.fields)]
}

// same is f's value (shared) when f's key is k and its value the string
// n is.
func (f field) same(k string, n *unstable.Node) (any, bool) {
	if f.key != k || n.Kind != unstable.String {
		return nil, false
	}
	if s, ok := f.val.(string); ok && s == string(n.Data) {
		return f.val, true
	}
	return nil, false
}

// localDate is the zone BurntSushi/toml gives local dates; messages tell
// them from other times by its name.
var localDate = time.FixedZone("date-local", 0)

// value reads a value; intern says it is a value of a table of an array
// of tables (see builder.strings).
func (b *builder) value(n *unstable.Node, intern bool) (any, bool) {
	switch n.Kind {
	case unstable.String:
		return b.str(n, intern), true
	case unstable.Bool:
		return n.Data[0] == 't', true
	case unstable.Integer:
		return parseInt(n.Data)
	case unstable.LocalDate:
		// Exactly YYYY-MM-DD, a day that exists.
		if len(n.Data) != 10 {
			return nil, false
		}
		t, err := time.ParseInLocation("2006-01-02", string(n.Data), localDate)
		if err != nil {
			return nil, false
		}
		return t, true
	case unstable.Array:
		// Sized first: growing the lists of 10,000 rules by appending
		// cost more than going through their elements twice.
		size := 0
		for it := n.Children(); it.Next(); {
			if it.Node().Kind != unstable.Comment {
				size++
			}
		}
		out := b.lists.take(size)[:0]
		it := n.Children()
		for it.Next() {
			c := it.Node()
			if c.Kind == unstable.Comment {
				continue
			}
			v, ok := b.value(c, intern)
			if !ok {
				return nil, false
			}
			out = append(out, v)
		}
		return out, true
	case unstable.InlineTable:
		t := &table{m: map[string]any{}}
		it := n.Children()
		for it.Next() {
			c := it.Node()
			if c.Kind != unstable.KeyValue {
				continue
			}
			// The key parts are read into b.keys, which the caller no
			// longer needs.
			if !b.keyValue(t, c, false) {
				return nil, false
			}
		}
		return t.m, true
	}
	return nil, false
}

// parseInt reads a TOML integer the parser delimited: decimal with an
// optional sign, or 0x, 0o, 0b; underscores between digits.
func parseInt(raw []byte) (any, bool) {
	base := 10
	s := raw
	if len(s) > 2 && s[0] == '0' {
		switch s[1] {
		case 'x':
			base = 16
		case 'o':
			base = 8
		case 'b':
			base = 2
		}
		if base != 10 {
			s = s[2:]
		}
	}
	if bytes.IndexByte(s, '_') >= 0 {
		buf := make([]byte, 0, len(s))
		for _, c := range s {
			if c != '_' {
				buf = append(buf, c)
			}
		}
		s = buf
	}
	// strconv does not keep the strings it is given (its errors copy
	// them), so these conversions need not allocate.
	if base != 10 {
		u, err := strconv.ParseUint(string(s), base, 64)
		if err != nil || u > 1<<63-1 {
			return nil, false
		}
		return int64(u), true
	}
	n, err := strconv.ParseInt(string(s), 10, 64)
	if err != nil {
		return nil, false
	}
	return n, true
}
