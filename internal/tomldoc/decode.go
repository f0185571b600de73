// Package tomldoc decodes portwall's TOML input files (profiles and
// catalog files) strictly, and remembers where each key and value came
// from so that later checks can report file:line:col.
package tomldoc

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/pelletier/go-toml/v2/unstable"
	"github.com/portwall/portwall/internal/diag"
)

// Doc is a decoded TOML file that can tell where each key and value came
// from, so that later semantic checks (unknown product, invalid CIDR) can
// point at line and column, not only at a key path.
//
// BurntSushi/toml decodes the file; it does not expose key positions
// (BurntSushi/toml#462), so a second, position-only pass over the same bytes
// uses go-toml's AST parser. If that pass ever disagrees with the decoder,
// errors fall back to key paths instead of failing.
type Doc struct {
	File string

	// The positions are indexed on first use: a profile without problems
	// never needs them to be generated, and indexing costs as much as
	// decoding. text is the file's, which the strings fastParse reads
	// share.
	text    string
	indexed sync.Once

	keyPos   map[string]diag.Pos // path -> position of the key
	valuePos map[string]diag.Pos // path -> position of the value
	// byShape maps a path without array indices (as BurntSushi reports
	// undecoded keys) to the indexed paths that have that shape.
	byShape map[string][]string
	lines   []int // byte offset of the start of each line
}

// Path elements: a string is a key, an int an array index.
const (
	sep      = "\x1f"
	indexTag = "\x1e"
)

func pathKey(path []any) string {
	var b strings.Builder
	for i, p := range path {
		if i > 0 {
			b.WriteString(sep)
		}
		switch p := p.(type) {
		case int:
			b.WriteString(indexTag)
			b.WriteString(strconv.Itoa(p))
		case string:
			b.WriteString(p)
		default:
			panic(fmt.Sprintf("source: path element %T", p))
		}
	}
	return b.String()
}

// PathString formats a key path for people: deployment[0].features[2].
func PathString(path ...any) string {
	var b strings.Builder
	for _, p := range path {
		switch p := p.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", p)
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			if isBareKey(p) {
				b.WriteString(p)
			} else {
				b.WriteString(strconv.Quote(p))
			}
		}
	}
	return b.String()
}

func isBareKey(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func keyToPathString(k string) string { return PathString(pathFromKey(k)...) }

func pathFromKey(k string) []any {
	parts := strings.Split(k, sep)
	path := make([]any, len(parts))
	for i, p := range parts {
		if n, ok := strings.CutPrefix(p, indexTag); ok {
			path[i], _ = strconv.Atoi(n)
		} else {
			path[i] = p
		}
	}
	return path
}

// Pos returns the position of the value at path (a mix of string keys and
// int indices), or of the key when the value has none, or of the nearest
// enclosing key that has one. The result always carries the file name.
func (d *Doc) Pos(path ...any) diag.Pos {
	if d == nil {
		return diag.Pos{}
	}
	d.ensureIndex()
	for n := len(path); n > 0; n-- {
		k := pathKey(path[:n])
		if p, ok := d.valuePos[k]; ok {
			return p
		}
		if p, ok := d.keyPos[k]; ok {
			return p
		}
	}
	return diag.Pos{File: d.File}
}

// KeyPos is like Pos but prefers the key to the value: use it for problems
// with the key itself, such as a misspelt map key.
func (d *Doc) KeyPos(path ...any) diag.Pos {
	if d == nil {
		return diag.Pos{}
	}
	d.ensureIndex()
	if p, ok := d.keyPos[pathKey(path)]; ok {
		return p
	}
	return d.Pos(path...)
}

// Errorf adds an error at path to l, with the position looked up in d.
func (d *Doc) Errorf(l *diag.ErrorList, path []any, format string, args ...any) {
	l.Add(d.Pos(path...), PathString(path...), format, args...)
}

// KeyErrorf is like Errorf but positions the error at the key.
func (d *Doc) KeyErrorf(l *diag.ErrorList, path []any, format string, args ...any) {
	l.Add(d.KeyPos(path...), PathString(path...), format, args...)
}

// Decode decodes data (the contents of file) into v, which must be a pointer
// to a struct with toml tags. It is strict: syntax errors, type mismatches
// and keys that v does not define are all reported, with positions.
func Decode(file string, data []byte, v any) (*Doc, diag.ErrorList) {
	f, errs := Parse(file, data)
	if len(errs) > 0 {
		return f.Doc, errs
	}
	if errs := f.Decode(v); len(errs) > 0 {
		return f.Doc, errs
	}
	for _, name := range f.Rest() {
		errs = append(errs, f.UnknownTable(name, structNames(reflect.TypeOf(v)))...)
	}
	return f.Doc, errs
}

// File is a parsed TOML file whose top-level keys are decoded in parts: a
// schema decodes the keys it defines (Decode), and the remaining top-level
// tables are left to their owners (Table), each decoded into its own
// schema with positions. A profile's backend sections work this way: the
// profile format does not know their fields.
type File struct {
	Doc *Doc
	// top holds the file's values as BurntSushi/toml decodes them into a
	// map[string]any, or as fastParse reads them, which unify decodes
	// into schemas.
	top map[string]any
	// schema is the type each decoded top-level key was decoded into, for
	// the suggestions of unknown keys below it.
	schema map[string]reflect.Type
	// order holds the keys of top-level tables in file order, when
	// fastParse read the file (Keys).
	order map[string][]string
}

// Parse parses data (the contents of file) and reports syntax errors.
//
// go-toml's AST parser reads the files portwall meets (fastParse); what it
// does not take, and every syntax error, BurntSushi/toml's decoder reads,
// so that errors keep its messages.
//
// The file's text is copied once, and the strings fastParse reads are
// parts of it rather than copies of their own: the text stays in memory
// with the Doc (for positions) anyway, and the strings of a profile of
// 10,000 rules were 30,000 allocations. A value kept from the file keeps
// the text with it.
func Parse(file string, data []byte) (*File, diag.ErrorList) {
	text := string(data)
	f := &File{Doc: &Doc{File: file, text: text}, schema: map[string]reflect.Type{}}
	if top, order, ok := fastParse(data, text); ok {
		f.top, f.order = top, order
		return f, nil
	}
	var errs diag.ErrorList
	if _, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&f.top); err != nil {
		pos, path, msg := f.Doc.decodeErrorPos(data, err)
		errs.Add(pos, path, "%s", msg)
		return f, errs
	}
	return f, nil
}

// Keys lists the keys of the top-level table name in the order the file
// defines them, for a caller that would sort them and can skip that when
// they are sorted already (the slice is the caller's). It is nil when the
// file does not tell (BurntSushi/toml's decoder read it, or name is not a
// table made by a header or dotted keys) and once Decode has decoded name:
// call it before.
func (f *File) Keys(name string) []string {
	return f.order[name]
}

// Decode decodes the top-level keys that v (a pointer to a zero struct
// with toml tags) defines. Values of the wrong type are reported, each at
// its key; if there are none, so are keys below them that v does not
// define. Top-level keys v does not define are left for Table; the file
// lets go of the values of those it decodes, which are v's now (the
// [[allow]] rules of a profile need not stay in memory as long as its
// backends' sections).
func (f *File) Decode(v any) diag.ErrorList {
	rv := reflect.ValueOf(v).Elem()
	fields := fieldIndex(rv.Type())
	u := &unifier{doc: f.Doc}
	for _, k := range slices.Sorted(maps.Keys(f.top)) {
		i, ok := fields[k]
		if !ok {
			continue
		}
		field := rv.Field(i)
		u.push(k)
		u.unify(f.top[k], field)
		u.pop()
		f.schema[k] = field.Type()
		f.top[k] = nil // no TOML value is nil: Table tells it from one
		delete(f.order, k)
	}
	return u.report(func(top string) reflect.Type { return f.schema[top] })
}

// Rest lists the top-level keys no Decode or Table decode has taken, in
// order.
func (f *File) Rest() []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(f.top)) {
		if _, done := f.schema[k]; !done {
			out = append(out, k)
		}
	}
	return out
}

// UnknownTable reports the top-level key name as unknown, suggesting one
// of known.
func (f *File) UnknownTable(name string, known []string) diag.ErrorList {
	var errs diag.ErrorList
	f.Doc.unknown(&errs, toml.Key{name}, known)
	return errs
}

// Table is a top-level table of the file that its owner decodes: one of a
// profile's backend sections. Its paths are relative to the table.
type Table struct {
	Name string
	f    *File
}

// Table returns the top-level key name for its owner to decode, or nil
// when the file does not have it or Decode has decoded it.
func (f *File) Table(name string) *Table {
	if f == nil {
		return nil
	}
	if f.top[name] == nil {
		return nil
	}
	return &Table{Name: name, f: f}
}

// Decode decodes the table into v (a pointer to a zero struct with toml
// tags): values of the wrong type (the table itself not being a table),
// and else keys v does not define, are reported with their positions.
func (t *Table) Decode(v any) diag.ErrorList {
	u := &unifier{doc: t.f.Doc}
	u.push(t.Name)
	u.unify(t.f.top[t.Name], reflect.ValueOf(v).Elem())
	st := reflect.TypeOf(v).Elem()
	t.f.schema[t.Name] = st
	return u.report(func(string) reflect.Type { return st })
}

// DecodedKeys lists the keys of the struct the table was last decoded
// into, sorted (nil before Decode): what its owner reads, for the tests
// that hold the owner's documentation to it.
func (t *Table) DecodedKeys() []string {
	st, ok := t.f.schema[t.Name]
	if !ok {
		return nil
	}
	return structNames(st)
}

// Errorf adds an error at path (relative to the table) to l.
func (t *Table) Errorf(l *diag.ErrorList, path []any, format string, args ...any) {
	t.f.Doc.Errorf(l, t.path(path), format, args...)
}

// KeyErrorf is like Errorf but positions the error at the key.
func (t *Table) KeyErrorf(l *diag.ErrorList, path []any, format string, args ...any) {
	t.f.Doc.KeyErrorf(l, t.path(path), format, args...)
}

// Pos is the position of the value at path (relative to the table).
func (t *Table) Pos(path ...any) diag.Pos { return t.f.Doc.Pos(t.path(path)...) }

func (t *Table) path(path []any) []any { return append([]any{t.Name}, path...) }

// fieldIndex maps the toml names of a struct's fields to their index.
func fieldIndex(t reflect.Type) map[string]int {
	out := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("toml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		out[name] = i
	}
	return out
}

func structNames(t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return slices.Sorted(maps.Keys(fieldIndex(t)))
}

// unknownKey reports a key the schema does not define, at every place in the
// file where a key of that shape occurs, with a suggestion from the keys the
// schema does define at that level. t is the schema of the top-level key
// the key is below, rel the key's path below it, full the whole path.
func (d *Doc) unknownKey(errs *diag.ErrorList, t reflect.Type, rel, full toml.Key) {
	d.ensureIndex()
	// Only report the outermost unknown key: its children are undecoded too.
	parent, ok := fieldsAt(t, rel[:len(rel)-1])
	if !ok {
		return
	}
	d.unknown(errs, full, parent)
}

// unknown reports the key at every place in the file where a key of its
// shape occurs, suggesting one of known.
func (d *Doc) unknown(errs *diag.ErrorList, full toml.Key, known []string) {
	d.ensureIndex()
	name := full[len(full)-1]
	hint := diag.DidYouMean(name, known)
	paths := d.byShape[strings.Join(full, sep)]
	if len(paths) == 0 {
		errs.Add(diag.Pos{File: d.File}, PathString(anyPath(full)...), "unknown key %q%s", name, hint)
		return
	}
	for _, p := range paths {
		errs.Add(d.keyPos[p], keyToPathString(p), "unknown key %q%s", name, hint)
	}
}

func anyPath(k []string) []any {
	out := make([]any, len(k))
	for i, s := range k {
		out[i] = s
	}
	return out
}

// fieldsAt follows key through the struct type t and returns the toml names
// of the fields of the struct it ends at. It returns false if the path
// leaves the schema (the parent is itself unknown) or ends at a map, whose
// keys are data, not schema.
func fieldsAt(t reflect.Type, key []string) ([]string, bool) {
	for {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			t = t.Elem()
		}
		if t.Kind() == reflect.Map {
			if len(key) == 0 {
				return nil, false
			}
			t, key = t.Elem(), key[1:]
			continue
		}
		if t.Kind() != reflect.Struct {
			return nil, false
		}
		names := structFields(t)
		if len(key) == 0 {
			out := make([]string, 0, len(names))
			for n := range names {
				out = append(out, n)
			}
			sort.Strings(out)
			return out, true
		}
		f, ok := names[key[0]]
		if !ok {
			return nil, false
		}
		t, key = f, key[1:]
	}
}

func structFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

// ensureIndex indexes the positions once.
func (d *Doc) ensureIndex() {
	d.indexed.Do(func() { d.index([]byte(d.text)) })
}

// index records the position of every key, table and array element.
func (d *Doc) index(data []byte) {
	d.lines = lineStarts(data)
	d.keyPos = map[string]diag.Pos{}
	d.valuePos = map[string]diag.Pos{}
	d.byShape = map[string][]string{}
	var p unstable.Parser
	p.Reset(data)
	arrays := map[string]int{} // indexed path of an array table -> elements so far
	var table []any
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			keys, last := keyOf(e)
			var path []any
			for _, k := range keys {
				path = append(path, k)
				if n, ok := arrays[pathKey(path)]; ok && n > 0 {
					path = append(path, n-1)
				}
			}
			pos := d.at(last.Raw)
			d.recordKey(path, pos)
			if e.Kind == unstable.ArrayTable {
				// The lookup above appended the previous element's index;
				// drop it and open a new element.
				if _, isInt := path[len(path)-1].(int); isInt {
					path = path[:len(path)-1]
				}
				k := pathKey(path)
				n := arrays[k]
				arrays[k] = n + 1
				path = append(path, n)
				d.recordKey(path, pos)
			}
			table = path
		case unstable.KeyValue:
			d.keyValue(append([]any(nil), table...), e)
		}
	}
	if p.Error() != nil {
		// The decoder accepted what this parser did not (a TOML version
		// difference): keep what was indexed and let the rest of the
		// errors fall back to key paths.
		return
	}
}

func keyOf(n *unstable.Node) ([]string, *unstable.Node) {
	var keys []string
	var last *unstable.Node
	it := n.Key()
	for it.Next() {
		last = it.Node()
		keys = append(keys, string(last.Data))
	}
	return keys, last
}

func (d *Doc) keyValue(path []any, kv *unstable.Node) {
	keys, last := keyOf(kv)
	for _, k := range keys {
		path = append(path, k)
		d.recordKey(path, d.at(last.Raw))
	}
	d.value(path, kv.Value())
}

func (d *Doc) value(path []any, v *unstable.Node) {
	if v.Raw.Length > 0 && v.Kind != unstable.InlineTable {
		d.valuePos[pathKey(path)] = d.at(v.Raw)
	}
	switch v.Kind {
	case unstable.Array:
		i := 0
		it := v.Children()
		for it.Next() {
			c := it.Node()
			if c.Kind == unstable.Comment {
				continue
			}
			d.value(append(append([]any(nil), path...), i), c)
			i++
		}
	case unstable.InlineTable:
		it := v.Children()
		for it.Next() {
			c := it.Node()
			if c.Kind == unstable.KeyValue {
				d.keyValue(append([]any(nil), path...), c)
			}
		}
	}
}

func (d *Doc) recordKey(path []any, pos diag.Pos) {
	k := pathKey(path)
	if _, ok := d.keyPos[k]; ok {
		return
	}
	d.keyPos[k] = pos
	var shape []string
	for _, p := range path {
		if s, ok := p.(string); ok {
			shape = append(shape, s)
		}
	}
	s := strings.Join(shape, sep)
	d.byShape[s] = append(d.byShape[s], k)
}

func lineStarts(data []byte) []int {
	lines := []int{0}
	for i, c := range data {
		if c == '\n' {
			lines = append(lines, i+1)
		}
	}
	return lines
}

// decodeErrorPos turns a decoder error into a positioned error: the byte
// offset of a syntax error gives its line and column (the decoder's own line
// is off by one when the error is at a newline). Decoding into a
// map[string]any, the decoder meets no type mismatch: unify finds those.
func (d *Doc) decodeErrorPos(data []byte, err error) (pos diag.Pos, path, msg string) {
	var perr toml.ParseError
	if errors.As(err, &perr) {
		d.ensureIndex()
		pos := diag.Pos{File: d.File, Line: perr.Position.Line, Col: max(perr.Position.Col, 1)}
		if perr.Position.Start >= 0 && perr.Position.Start < len(data) {
			pos = d.offset(perr.Position.Start)
		}
		return pos, "", perr.Message
	}
	return diag.Pos{File: d.File}, "", strings.TrimPrefix(err.Error(), "toml: ")
}

func (d *Doc) offset(off int) diag.Pos {
	line := sort.Search(len(d.lines), func(i int) bool { return d.lines[i] > off })
	return diag.Pos{File: d.File, Line: line, Col: off - d.lines[line-1] + 1}
}

// at converts a byte range of the input to a line and column (in bytes, as
// compilers count them).
func (d *Doc) at(r unstable.Range) diag.Pos {
	return d.offset(int(r.Offset))
}

// StringList normalises a value written as one string or a list of
// strings (the profile's convenience form for one-element lists). A list
// with a non-string is reported and dropped whole, so that later errors
// keep pointing at the right element.
func (d *Doc) StringList(errs *diag.ErrorList, path []any, v any) []string {
	if l, ok := Strings(v); ok {
		return l
	}
	if l, ok := v.([]any); ok {
		for i, x := range l {
			if _, ok := x.(string); !ok {
				d.Errorf(errs, append(slices.Clone(path), i), "want a string, found %s", TypeName(x))
				return nil
			}
		}
	}
	d.Errorf(errs, path, "want a string or a list of strings, found %s", TypeName(v))
	return nil
}

// Strings is StringList for a value it would report nothing about: ok is
// false when v is neither nil, a string nor a list of strings. Callers
// that build the path only for a message call it first.
func Strings(v any) (l []string, ok bool) {
	if l, isList := v.([]any); isList {
		// An empty list is an empty list, not nil.
		return AppendStrings(make([]string, 0, len(l)), v)
	}
	return AppendStrings(nil, v)
}

// AppendStrings is Strings appending to dst, for a caller that reads the
// strings and drops them, with room for them on its stack.
func AppendStrings(dst []string, v any) ([]string, bool) {
	switch v := v.(type) {
	case nil:
		return dst, true
	case string:
		return append(dst, v), true
	case []any:
		for _, x := range v {
			s, ok := x.(string)
			if !ok {
				return nil, false
			}
			dst = append(dst, s)
		}
		return dst, true
	}
	return nil, false
}

// StringList is Doc.StringList for a path relative to the table.
func (t *Table) StringList(errs *diag.ErrorList, path []any, v any) []string {
	return t.f.Doc.StringList(errs, t.path(path), v)
}

// TypeName names the TOML type of a decoded value for messages.
func TypeName(v any) string {
	switch v := v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "a table"
	case time.Time:
		switch v.Location().String() {
		case "date-local":
			return "a date"
		case "time-local":
			return "a time"
		}
		return "a date and time"
	}
	return fmt.Sprintf("%T", v)
}
