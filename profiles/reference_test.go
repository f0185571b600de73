package profiles

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/google/go-cmp/cmp"
	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/internal/tomldoc"
)

// TestReferenceDocumentsEveryField: the reference and the schema structs
// that Parse decodes into have the same keys, each of a type that fits its
// field, and every key says what it means. A field added without
// documentation fails here.
func TestReferenceDocumentsEveryField(t *testing.T) {
	t.Parallel()
	ref := Reference()
	checkStruct(t, nil, ref, reflect.TypeOf(fileSchema{}))
	var top []string
	for _, k := range ref.Keys {
		top = append(top, k.Name)
	}
	slices.Sort(top)
	if !slices.Equal(top, topLevelKeys) {
		t.Errorf("topLevelKeys = %q, the reference's top-level keys %q", topLevelKeys, top)
	}
}

func checkStruct(t *testing.T, path []any, k Key, st reflect.Type) {
	t.Helper()
	fields := map[string]reflect.Type{}
	for i := range st.NumField() {
		f := st.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		fields[name] = f.Type
	}
	documented := map[string]bool{}
	for _, sub := range k.Keys {
		p := at(path, sub.Name)
		if documented[sub.Name] {
			t.Errorf("%s is documented twice", tomldoc.PathString(p...))
		}
		documented[sub.Name] = true
		ft, ok := fields[sub.Name]
		if !ok {
			t.Errorf("%s is documented, but %v has no such field", tomldoc.PathString(p...), st)
			continue
		}
		checkField(t, p, sub, ft)
	}
	for name := range fields {
		if !documented[name] {
			t.Errorf("%s: field of %v without documentation in Reference", tomldoc.PathString(at(path, name)...), st)
		}
	}
}

func checkField(t *testing.T, path []any, k Key, ft reflect.Type) {
	t.Helper()
	p := tomldoc.PathString(path...)
	if k.Doc == "" {
		t.Errorf("%s has no Doc", p)
	}
	if k.Default != "" && k.Otherwise != "" {
		t.Errorf("%s has both a Default and an Otherwise", p)
	}
	deref := ft
	if deref.Kind() == reflect.Pointer {
		deref = deref.Elem()
	}
	fits := map[Type]reflect.Kind{
		TypeString: reflect.String, TypeBoolean: reflect.Bool, TypeInteger: reflect.Int,
		TypeDate: reflect.Interface, TypeStrings: reflect.Interface, TypePorts: reflect.Interface,
		TypeChoice: reflect.Interface, TypeScalar: reflect.Interface, TypeBinding: reflect.Interface,
		TypeTable: reflect.Struct, TypeArray: reflect.Slice, TypeMap: reflect.Map,
	}
	want, ok := fits[k.Type]
	if !ok {
		t.Errorf("%s: type %q is not one the profile's fields have", p, k.Type)
		return
	}
	if deref.Kind() != want {
		t.Errorf("%s: documented as %s, but the field is %v", p, k.Type, ft)
		return
	}
	switch k.Type {
	case TypeTable:
		checkStruct(t, path, k, deref)
	case TypeArray:
		if deref.Elem().Kind() != reflect.Struct {
			t.Errorf("%s: an array of tables, but the field is %v", p, ft)
			return
		}
		checkStruct(t, path, k, deref.Elem())
	case TypeMap:
		if k.Elem == nil {
			t.Errorf("%s: a table of names without Elem", p)
			return
		}
		checkField(t, at(path, k.Elem.Name), *k.Elem, deref.Elem())
	}
}

// TestReferenceHoldsForParse changes testdata/every-key.toml, a profile
// that gives every key, one key at a time and checks that Parse does what
// the reference says: wrong types, values outside an enum or a pattern,
// empty lists where one is needed, duplicates, missing required keys and
// conflicting keys are refused at that key; enum values, the convenience
// forms and empty lists where allowed are accepted; a documented default
// loads as leaving the key out does.
func TestReferenceHoldsForParse(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/every-key.toml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse("every-key.toml", data); err != nil {
		t.Fatalf("every-key.toml: %v", err)
	}
	var base map[string]any
	if _, err := toml.Decode(string(data), &base); err != nil {
		t.Fatal(err)
	}
	c := &refChecker{t: t, base: base, samples: map[string]any{}}
	c.collect(nil, base)
	c.table(Reference(), nil, []map[string]any{base}, [][]any{nil})
	t.Logf("%d changed profiles loaded", c.checks)
	if c.checks < 150 {
		t.Errorf("only %d checks ran", c.checks)
	}
}

type refChecker struct {
	t    *testing.T
	base map[string]any
	// samples are values of every-key.toml by key name, for conflicting
	// siblings.
	samples map[string]any
	checks  int
}

func (c *refChecker) collect(path []any, v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if _, seen := c.samples[k]; !seen {
				c.samples[k] = x
			}
			c.collect(at(path, k), x)
		}
	case []map[string]any:
		for i, x := range v {
			c.collect(at(path, i), x)
		}
	}
}

// table checks the keys of k, each in the first of tables (at paths) that
// gives it.
func (c *refChecker) table(k Key, tablePath []any, tables []map[string]any, paths [][]any) {
	for _, sub := range k.Keys {
		found := false
		for i, tbl := range tables {
			if v, ok := tbl[sub.Name]; ok {
				c.key(sub, at(paths[i], sub.Name), paths[i], v)
				found = true
				break
			}
		}
		if !found && len(sub.Conflicts) > 0 && len(tables) == 1 {
			// A key the table cannot give with another: checked with that
			// one taken out.
			other := *c
			other.base = deepCopy(c.base).(map[string]any)
			for _, x := range sub.Conflicts {
				set(other.base, at(paths[0], x), nil)
			}
			set(other.base, at(paths[0], sub.Name), c.samples[sub.Name])
			other.key(sub, at(paths[0], sub.Name), paths[0], c.samples[sub.Name])
			c.checks = other.checks
			found = true
		}
		if !found {
			c.t.Errorf("every-key.toml gives no %s", tomldoc.PathString(at(tablePath, sub.Name)...))
		}
	}
}

func (c *refChecker) key(k Key, path, tablePath []any, cur any) {
	p := tomldoc.PathString(path...)
	isList := k.Type == TypeStrings || k.Type == TypeList || k.Type == TypePorts || k.Type == TypeChoice || k.Type == TypeBinding

	c.refused(path, tablePath, wrongType(k), "a value of the wrong type")
	if isList {
		c.refused(path, tablePath, []any{true}, "a list with an item of the wrong type")
	}
	if k.Type != TypeTable && k.Type != TypeArray && k.Type != TypeMap {
		c.placeholder(path)
		if isList {
			c.placeholder(at(path, 0))
		}
	}
	if k.Default != "" {
		var v map[string]any
		if _, err := toml.Decode("v = "+k.Default, &v); err != nil {
			c.t.Errorf("%s: default %s: %v", p, k.Default, err)
		} else {
			c.sameAsLeftOut(path, v["v"])
		}
	}
	if k.Required {
		c.refused(path, tablePath, nil, "left out")
	}
	for _, e := range k.Enum {
		c.accepted(path, e)
	}
	if len(k.Enum) > 0 {
		c.refused(path, tablePath, "no-such-value", "a value not in the enum")
	}
	switch {
	case k.NonEmpty && k.Type == TypeString:
		c.refused(path, tablePath, "", "empty")
	case k.NonEmpty && isList:
		c.refused(path, tablePath, []any{}, "an empty list")
	case isList:
		c.accepted(path, []any{})
	}
	if k.Unique {
		first := cur
		if l, ok := cur.([]any); ok {
			first = l[0]
		}
		c.refused(path, tablePath, []any{first, first}, "an item twice")
	}
	if k.Pattern != "" {
		re := regexp.MustCompile(k.Pattern)
		for _, s := range stringsOf(cur) {
			if !re.MatchString(s) {
				c.t.Errorf("%s: every-key.toml's %q does not match the pattern", p, s)
			}
		}
		for _, bad := range []string{"Not A Name", "ctl\x01"} {
			if !re.MatchString(bad) {
				c.refused(path, tablePath, bad, "a value outside the pattern")
			}
		}
	}
	if k.MaxLength > 0 {
		c.accepted(path, strings.Repeat("é", k.MaxLength))
		c.refused(path, tablePath, strings.Repeat("é", k.MaxLength+1), "a string too long")
	}
	if k.Min != 0 || k.Max != 0 {
		c.accepted(path, int64(k.Min))
		c.accepted(path, int64(k.Max))
		c.refused(path, tablePath, int64(k.Min-1), "an integer below the minimum")
		c.refused(path, tablePath, int64(k.Max+1), "an integer above the maximum")
	}
	if k.Format == FormatIP {
		c.refused(path, tablePath, "10.0.0.0/24", "a network for an address")
		c.refused(path, tablePath, "fe80::1%eth0", "an address with a zone")
	}
	for _, other := range k.Conflicts {
		c.conflict(path, tablePath, other)
	}
	switch k.Type {
	case TypeStrings:
		c.accepted(path, stringsOf(cur)[0])
	case TypePorts:
		c.accepted(path, int64(25))
		c.accepted(path, "7100-7150")
	case TypeChoice:
		c.accepted(path, int64(25))
		c.accepted(path, "7100-7150")
		c.accepted(path, "tcp")
	case TypeScalar:
		c.accepted(path, "text")
		c.accepted(path, int64(7))
	}

	switch k.Type {
	case TypeTable:
		c.table(k, path, []map[string]any{cur.(map[string]any)}, [][]any{path})
	case TypeArray:
		var tables []map[string]any
		var paths [][]any
		for i, x := range cur.([]map[string]any) {
			tables, paths = append(tables, x), append(paths, at(path, i))
		}
		c.table(k, path, tables, paths)
	case TypeMap:
		c.names(k, path, cur.(map[string]any))
	}
}

// names checks a table of names: its keys' pattern, its reserved names,
// and each value as Elem says, in the first entry of the right shape.
func (c *refChecker) names(k Key, path []any, m map[string]any) {
	names := slices.Sorted(mapKeys(m))
	if k.NamePattern != "" {
		re := regexp.MustCompile(k.NamePattern)
		for _, bad := range []string{"Not A Name", "dotted.name", strings.Repeat("a", 49)} {
			if re.MatchString(bad) {
				c.t.Errorf("%s: pattern matches %q", tomldoc.PathString(path...), bad)
			}
			c.renamedRefused(path, names[0], bad)
		}
	}
	for _, r := range k.Reserved {
		c.renamedRefused(path, names[0], r)
	}
	e := *k.Elem
	var tables []map[string]any
	var paths [][]any
	checked := false
	for _, n := range names {
		if t, ok := m[n].(map[string]any); ok {
			tables, paths = append(tables, t), append(paths, at(path, n))
			if e.Type != TypeBinding {
				continue
			}
		}
		if !checked {
			c.key(Key{Name: e.Name, Type: e.Type, Required: e.Required, NonEmpty: e.NonEmpty, Unique: e.Unique,
				Enum: e.Enum, Pattern: e.Pattern, Doc: e.Doc}, at(path, n), path, m[n])
			checked = true
		}
	}
	if !checked && e.Type != TypeTable {
		c.t.Errorf("every-key.toml gives no %s of the documented type", tomldoc.PathString(at(path, e.Name)...))
	}
	if len(e.Keys) > 0 {
		c.table(e, at(path, e.Name), tables, paths)
	}
}

func wrongType(k Key) any {
	switch k.Type {
	case TypeDate:
		return "2030-03-31" // a string, not a TOML date
	case TypeBoolean, TypeInteger:
		return "1"
	case TypeString:
		return int64(7)
	}
	return true
}

func stringsOf(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func mapKeys(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// parse loads base with path set to v (left out when v is nil).
func (c *refChecker) parse(path []any, v any) (*Profile, diag.ErrorList) {
	c.t.Helper()
	root := deepCopy(c.base).(map[string]any)
	set(root, path, v)
	return c.load(root)
}

func (c *refChecker) load(root map[string]any) (*Profile, diag.ErrorList) {
	c.t.Helper()
	c.checks++
	var b bytes.Buffer
	if err := toml.NewEncoder(&b).Encode(root); err != nil {
		c.t.Fatal(err)
	}
	p, err := Parse("every-key.toml", b.Bytes())
	return p, diag.AsList(err)
}

// accepted: no error at the key or below it.
func (c *refChecker) accepted(path []any, v any) {
	c.t.Helper()
	_, errs := c.parse(path, v)
	if e := errorAt(errs, path, nil); e != nil {
		c.t.Errorf("%s = %#v: refused: %v", tomldoc.PathString(path...), v, e)
	}
}

// refused: an error at the key, below it, or at the table that holds it.
func (c *refChecker) refused(path, tablePath []any, v any, what string) {
	c.t.Helper()
	_, errs := c.parse(path, v)
	if errorAt(errs, path, tablePath) == nil {
		c.t.Errorf("%s = %#v (%s): accepted (errors: %v)", tomldoc.PathString(path...), v, what, errs)
	}
}

func (c *refChecker) conflict(path, tablePath []any, other string) {
	c.t.Helper()
	root := deepCopy(c.base).(map[string]any)
	set(root, at(tablePath, other), c.samples[other])
	_, errs := c.load(root)
	if errorAt(errs, path, nil) == nil && errorAt(errs, at(tablePath, other), nil) == nil {
		c.t.Errorf("%s with %s: accepted (errors: %v)", tomldoc.PathString(path...), other, errs)
	}
}

func (c *refChecker) renamedRefused(path []any, from, to string) {
	c.t.Helper()
	root := deepCopy(c.base).(map[string]any)
	m := get(root, path).(map[string]any)
	m[to] = m[from]
	delete(m, from)
	_, errs := c.load(root)
	if errorAt(errs, at(path, to), nil) == nil {
		c.t.Errorf("%s renamed %q: accepted (errors: %v)", tomldoc.PathString(at(path, from)...), to, errs)
	}
}

// placeholder: a placeholder ("<fill in: ...>") as the value at path
// gives one error there, the placeholder's own "fill this in", whatever
// the key's type; at a list's index 0, the list is that one placeholder.
func (c *refChecker) placeholder(path []any) {
	c.t.Helper()
	what := "the value of " + tomldoc.PathString(path...)
	var v any = Placeholder(what)
	key := path
	if i, isIndex := path[len(path)-1].(int); isIndex && i == 0 {
		v, key = []any{v}, path[:len(path)-1]
	}
	_, errs := c.parse(key, v)
	var here []*diag.Error
	for _, e := range errs {
		if e.Path == tomldoc.PathString(path...) || errorAt(diag.ErrorList{e}, path, nil) != nil {
			here = append(here, e)
		}
	}
	if len(here) != 1 || here[0].Msg != FillInMessage+what {
		c.t.Errorf("%s = %#v: want the one error %q there, got %v (all errors: %v)", tomldoc.PathString(key...), v, FillInMessage+what, here, errs)
	}
}

// sameAsLeftOut: the key set to v loads as the profile without it.
func (c *refChecker) sameAsLeftOut(path []any, v any) {
	c.t.Helper()
	with, err1 := c.parse(path, v)
	without, err2 := c.parse(path, nil)
	if err1 != nil || err2 != nil {
		c.t.Errorf("%s: %v; left out: %v", tomldoc.PathString(path...), err1, err2)
		return
	}
	with.Doc, with.file, without.Doc, without.file = nil, nil, nil, nil
	if d := cmp.Diff(without, with, cmp.Exporter(func(reflect.Type) bool { return true })); d != "" {
		c.t.Errorf("%s = %#v, its documented default, loads otherwise than leaving it out (-left out +default):\n%s", tomldoc.PathString(path...), v, d)
	}
}

func errorAt(errs diag.ErrorList, path, tablePath []any) *diag.Error {
	p := tomldoc.PathString(path...)
	for _, e := range errs {
		if e.Path == p || strings.HasPrefix(e.Path, p+".") || strings.HasPrefix(e.Path, p+"[") ||
			tablePath != nil && e.Path == tomldoc.PathString(tablePath...) {
			return e
		}
	}
	return nil
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = deepCopy(x)
		}
		return out
	case []map[string]any:
		out := make([]map[string]any, len(v))
		for i, x := range v {
			out[i] = deepCopy(x).(map[string]any)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = deepCopy(x)
		}
		return out
	}
	return v
}

func get(root map[string]any, path []any) any {
	var v any = root
	for _, p := range path {
		switch p := p.(type) {
		case string:
			v = v.(map[string]any)[p]
		case int:
			v = v.([]map[string]any)[p]
		default:
			panic(fmt.Sprintf("path element %T", p))
		}
	}
	return v
}

// set sets the value at path, or deletes it when v is nil.
func set(root map[string]any, path []any, v any) {
	parent := get(root, path[:len(path)-1]).(map[string]any)
	key := path[len(path)-1].(string)
	if v == nil {
		delete(parent, key)
		return
	}
	parent[key] = v
}
