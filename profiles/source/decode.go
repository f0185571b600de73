package source

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
	"github.com/pelletier/go-toml/v2/unstable"
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
	// decoding.
	data    []byte
	indexed sync.Once

	keyPos   map[string]Pos // path -> position of the key
	valuePos map[string]Pos // path -> position of the value
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
func (d *Doc) Pos(path ...any) Pos {
	if d == nil {
		return Pos{}
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
	return Pos{File: d.File}
}

// KeyPos is like Pos but prefers the key to the value: use it for problems
// with the key itself, such as a misspelt map key.
func (d *Doc) KeyPos(path ...any) Pos {
	if d == nil {
		return Pos{}
	}
	d.ensureIndex()
	if p, ok := d.keyPos[pathKey(path)]; ok {
		return p
	}
	return d.Pos(path...)
}

// Errorf adds an error at path to l, with the position looked up in d.
func (d *Doc) Errorf(l *ErrorList, path []any, format string, args ...any) {
	l.Add(d.Pos(path...), PathString(path...), format, args...)
}

// KeyErrorf is like Errorf but positions the error at the key.
func (d *Doc) KeyErrorf(l *ErrorList, path []any, format string, args ...any) {
	l.Add(d.KeyPos(path...), PathString(path...), format, args...)
}

// Decode decodes data (the contents of file) into v, which must be a pointer
// to a struct with toml tags. It is strict: syntax errors, type mismatches
// and keys that v does not define are all reported, with positions.
func Decode(file string, data []byte, v any) (*Doc, ErrorList) {
	doc := &Doc{File: file, data: data}
	var errs ErrorList
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(v)
	if err != nil {
		pos, path, msg := doc.decodeErrorPos(data, err)
		errs.Add(pos, path, "%s", msg)
		return doc, errs
	}
	for _, key := range md.Undecoded() {
		doc.unknownKey(&errs, reflect.TypeOf(v), key)
	}
	return doc, errs
}

// unknownKey reports a key the schema does not define, at every place in the
// file where a key of that shape occurs, with a suggestion from the keys the
// schema does define at that level.
func (d *Doc) unknownKey(errs *ErrorList, root reflect.Type, key toml.Key) {
	d.ensureIndex()
	// Only report the outermost unknown key: its children are undecoded too.
	parent, ok := fieldsAt(root, key[:len(key)-1])
	if !ok {
		return
	}
	name := key[len(key)-1]
	hint := DidYouMean(name, parent)
	paths := d.byShape[strings.Join(key, sep)]
	if len(paths) == 0 {
		errs.Add(Pos{File: d.File}, PathString(anyPath(key)...), "unknown key %q%s", name, hint)
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
	d.indexed.Do(func() { d.index(d.data) })
}

// index records the position of every key, table and array element.
func (d *Doc) index(data []byte) {
	d.lines = lineStarts(data)
	d.keyPos = map[string]Pos{}
	d.valuePos = map[string]Pos{}
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

func (d *Doc) recordKey(path []any, pos Pos) {
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

// typeErr matches the decoder's errors for values of the wrong type, which
// are not ParseErrors: `toml: line 3 (last key "a.b"): incompatible types: ...`.
var typeErr = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)

// decodeErrorPos turns a decoder error into a positioned error: the byte
// offset of a syntax error gives its line and column (the decoder's own line
// is off by one when the error is at a newline); a type mismatch is located
// through the key index.
func (d *Doc) decodeErrorPos(data []byte, err error) (pos Pos, path, msg string) {
	var perr toml.ParseError
	if errors.As(err, &perr) {
		d.ensureIndex()
		pos := Pos{File: d.File, Line: perr.Position.Line, Col: max(perr.Position.Col, 1)}
		if perr.Position.Start >= 0 && perr.Position.Start < len(data) {
			pos = d.offset(perr.Position.Start)
		}
		return pos, "", perr.Message
	}
	if m := typeErr.FindStringSubmatch(err.Error()); m != nil {
		d.ensureIndex()
		line, _ := strconv.Atoi(m[1])
		shape := strings.ReplaceAll(m[2], ".", sep)
		for _, p := range d.byShape[shape] {
			if pos := d.Pos(pathFromKey(p)...); pos.Line == line {
				return pos, keyToPathString(p), keyToPathString(p) + ": " + m[3]
			}
		}
		return Pos{File: d.File, Line: line, Col: 1}, m[2], m[2] + ": " + m[3]
	}
	return Pos{File: d.File}, "", strings.TrimPrefix(err.Error(), "toml: ")
}

func (d *Doc) offset(off int) Pos {
	line := sort.Search(len(d.lines), func(i int) bool { return d.lines[i] > off })
	return Pos{File: d.File, Line: line, Col: off - d.lines[line-1] + 1}
}

// at converts a byte range of the input to a line and column (in bytes, as
// compilers count them).
func (d *Doc) at(r unstable.Range) Pos {
	return d.offset(int(r.Offset))
}
