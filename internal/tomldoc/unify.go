package tomldoc

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
	"github.com/portwall/portwall/internal/diag"
)

// The decoder: a parsed file's values (as BurntSushi/toml's decoder gives
// them for a map[string]any, or as fastParse does, whose arrays of tables
// are []*table) into a schema's struct, as BurntSushi/toml's unify does
// it, with its messages, but:
//
//   - every type error is found, each at its own key: the decoder stops at
//     the first it meets in map order, and only knows its line by key shape
//     (the last [[deployment]]'s for an error in the first);
//   - a value that is not a table where the schema has a map is an error,
//     where the decoder leaves the map empty (its unifyMap returns nil);
//   - keys the schema does not define are found in the same walk, not from
//     the decoder's list of undecoded keys.
//
// Field lookups are planned once per type, so that decoding a profile of
// 10,000 rules reflects on each field's type once, not 10,000 times.

// A Setter is a schema struct that sets its own fields: decoding many
// tables into it (a profile's 10,000 [[allow]] rules) skips reflection.
// SetField stores the value v of key k as unify would (v is as the
// decoder gives it, and never nil). It returns false, leaving the struct
// as it was, for a key it does not define and for a value of a type the
// field does not take: unify then decodes that key itself, with its
// errors. A test should hold SetField to the reflective decoding of the
// same struct without the method.
type Setter interface {
	SetField(k string, v any) bool
}

var setterType = reflect.TypeFor[Setter]()

// fieldPlan is what the decoder knows of one struct field.
type fieldPlan struct {
	name  string
	index int
}

type structPlan struct {
	fields []fieldPlan
	byName map[string]int // name -> index into fields
	// setter: a pointer to the struct is a Setter.
	setter bool
}

var plans sync.Map // reflect.Type -> *structPlan

func planOf(t reflect.Type) *structPlan {
	if p, ok := plans.Load(t); ok {
		return p.(*structPlan)
	}
	p := &structPlan{byName: map[string]int{}, setter: reflect.PointerTo(t).Implements(setterType)}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		if sf.Anonymous {
			panic(fmt.Sprintf("tomldoc: embedded field %s in %v: not supported", sf.Name, t))
		}
		name, _, _ := strings.Cut(sf.Tag.Get("toml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		p.byName[name] = len(p.fields)
		p.fields = append(p.fields, fieldPlan{name: name, index: i})
	}
	plans.Store(t, p)
	return p
}

// unifier collects what one decode finds.
type unifier struct {
	doc *Doc
	// typeErrs are values of the wrong type; unknown the keys (by shape,
	// as the decoder reports undecoded keys) the schema does not define,
	// and caseOnly those it matched to a field of another case.
	typeErrs []mismatch
	unknown  map[string]toml.Key
	caseOnly map[string]toml.Key
	// path is where the walk is. It holds keys and indices unboxed, and
	// becomes a []any (at) only for a message: boxing each key and index
	// cost an allocation for every value of a 10,000-rule profile.
	path []step
	// below counts the case-only keys the walk is under: the check this
	// replaces reports nothing below them.
	below int
}

// step is an element of a path: a key, or an array index.
type step struct {
	key   string
	index int // -1 for a key
}

// at is the path as Doc takes it: a string per key, an int per index.
func (u *unifier) at() []any {
	out := make([]any, len(u.path))
	for i, s := range u.path {
		if s.index >= 0 {
			out[i] = s.index
		} else {
			out[i] = s.key
		}
	}
	return out
}

type mismatch struct {
	path []any
	msg  string
}

func (u *unifier) badtype(dst string, data any) {
	u.typeErr(fmt.Sprintf("incompatible types: TOML value has type %s; destination has type %s", fmtType(data), dst))
}

func (u *unifier) typeErr(msg string) {
	u.typeErrs = append(u.typeErrs, mismatch{path: u.at(), msg: msg})
}

// fmtType names a value's Go type as the decoder's messages do.
func fmtType(v any) string {
	switch v.(type) {
	case *table:
		return "map[string]any"
	case []*table:
		return "[]map[string]any"
	}
	return strings.ReplaceAll(fmt.Sprintf("%T", v), "interface {}", "any")
}

func (u *unifier) shape() toml.Key {
	var k toml.Key
	for _, s := range u.path {
		if s.index < 0 {
			k = append(k, s.key)
		}
	}
	return k
}

func (u *unifier) push(k string)   { u.path = append(u.path, step{key: k, index: -1}) }
func (u *unifier) pushIndex(i int) { u.path = append(u.path, step{index: i}) }
func (u *unifier) pop()            { u.path = u.path[:len(u.path)-1] }

// unify decodes data into rv, which is a zero value (the callers decode
// into fresh values).
func (u *unifier) unify(data any, rv reflect.Value) {
	switch rv.Kind() {
	case reflect.Pointer:
		if rv.IsNil() {
			rv.Set(reflect.New(rv.Type().Elem()))
		}
		u.unify(data, rv.Elem())
	case reflect.Struct:
		switch t := data.(type) {
		case map[string]any:
			p := planOf(rv.Type())
			s := p.setterOf(rv)
			for k, v := range t {
				u.field(p, s, rv, k, v)
			}
		case *table:
			p := planOf(rv.Type())
			s := p.setterOf(rv)
			for k, v := range t.m {
				u.field(p, s, rv, k, v)
			}
			for _, f := range t.fields {
				u.field(p, s, rv, f.key, f.val)
			}
		default:
			u.typeErr(fmt.Sprintf("type mismatch for %s: expected table but found %s", rv.Type().String(), fmtType(data)))
		}
	case reflect.Map:
		if t, ok := data.(*table); ok {
			data = t.plainMap()
		}
		m, ok := data.(map[string]any)
		if !ok {
			u.badtype("map", data)
			return
		}
		if rv.Type().Key().Kind() != reflect.String {
			panic(fmt.Sprintf("tomldoc: map key type %v: not supported", rv.Type().Key()))
		}
		if rv.Type() == anyMap {
			// The table as it is (its values as the decoder gives
			// them): copying a [groups] of 10,000 entries cost as much
			// as building it.
			p, _ := plain(m)
			rv.Set(reflect.ValueOf(p))
			return
		}
		if rv.IsNil() {
			rv.Set(reflect.MakeMapWithSize(rv.Type(), len(m)))
		}
		et := rv.Type().Elem()
		for k, v := range m {
			u.push(k)
			ev := reflect.New(et).Elem()
			u.unify(v, ev)
			rv.SetMapIndex(reflect.ValueOf(k).Convert(rv.Type().Key()), ev)
			u.pop()
		}
	case reflect.Slice:
		n, at := sliceLen(data)
		if n < 0 {
			u.badtype("slice", data)
			return
		}
		s := reflect.MakeSlice(rv.Type(), n, n)
		for i := 0; i < n; i++ {
			u.pushIndex(i)
			u.unify(at(i), s.Index(i))
			u.pop()
		}
		rv.Set(s)
	case reflect.String:
		s, ok := data.(string)
		if !ok {
			u.badtype("string", data)
			return
		}
		rv.SetString(s)
	case reflect.Bool:
		b, ok := data.(bool)
		if !ok {
			u.badtype("boolean", data)
			return
		}
		rv.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, ok := data.(int64)
		if !ok {
			u.badtype("integer", data)
			return
		}
		rv.SetInt(n)
	case reflect.Interface:
		if rv.NumMethod() > 0 {
			panic(fmt.Sprintf("tomldoc: interface type %v: not supported", rv.Type()))
		}
		if data != nil {
			p, _ := plain(data)
			rv.Set(reflect.ValueOf(p))
		}
	default:
		panic(fmt.Sprintf("tomldoc: field type %v: not supported", rv.Type()))
	}
}

var anyMap = reflect.TypeFor[map[string]any]()

// sliceLen gives the length and elements of an array or an array of
// tables; -1 for anything else.
func sliceLen(data any) (int, func(int) any) {
	switch d := data.(type) {
	case []any:
		return len(d), func(i int) any { return d[i] }
	case []map[string]any:
		return len(d), func(i int) any { return d[i] }
	case []*table:
		return len(d), func(i int) any { return d[i] }
	}
	return -1, nil
}

// plain gives v with fastParse's arrays of tables made the
// []map[string]any BurntSushi/toml's decoder gives, for a value kept as it
// is (in an any or a map[string]any), and whether that changed it. It
// copies only the tables that hold one. Arrays of tables are only ever
// values of tables: lists need no look.
func plain(v any) (any, bool) {
	switch v := v.(type) {
	case *table:
		return v.plainMap(), true
	case []*table:
		ms := make([]map[string]any, len(v))
		for i, t := range v {
			ms[i] = t.plainMap()
		}
		return ms, true
	case map[string]any:
		var out map[string]any
		for k, x := range v {
			if p, changed := plain(x); changed {
				if out == nil {
					out = maps.Clone(v)
				}
				out[k] = p
			}
		}
		if out != nil {
			return out, true
		}
	}
	return v, false
}

// plainMap is a table of an array of tables as the decoder gives it.
func (t *table) plainMap() map[string]any {
	if t.m != nil {
		m, _ := plain(t.m)
		return m.(map[string]any)
	}
	m := make(map[string]any, len(t.fields))
	for _, f := range t.fields {
		m[f.key], _ = plain(f.val)
	}
	return m
}

// setterOf is the struct rv (of plan p) as a Setter, or nil.
func (p *structPlan) setterOf(rv reflect.Value) Setter {
	if !p.setter || !rv.CanAddr() {
		return nil
	}
	return rv.Addr().Interface().(Setter)
}

// field decodes the value v of key k of a table into the struct rv, whose
// plan is p: by its SetField when it has one (s) and that takes it.
func (u *unifier) field(p *structPlan, s Setter, rv reflect.Value, k string, v any) {
	if s != nil {
		if pv, _ := plain(v); s.SetField(k, pv) {
			return
		}
	}
	u.structField(p, rv, k, v)
}

// structField decodes the value v of key k of a table into the struct
// rv, whose plan is p.
func (u *unifier) structField(p *structPlan, rv reflect.Value, k string, v any) {
	u.push(k)
	defer u.pop()
	i, ok := p.byName[k]
	if !ok {
		// The decoder takes a key that differs only in case, and the
		// unknown-key check reports it.
		i = -1
		for j, f := range p.fields {
			if strings.EqualFold(f.name, k) {
				i = j
				break
			}
		}
		if i < 0 {
			u.record(&u.unknown)
			return
		}
		u.record(&u.caseOnly)
		u.below++
		u.unify(v, rv.Field(p.fields[i].index))
		u.below--
		return
	}
	u.unify(v, rv.Field(p.fields[i].index))
}

func (u *unifier) record(set *map[string]toml.Key) {
	if u.below > 0 {
		return
	}
	k := u.shape()
	if *set == nil {
		*set = map[string]toml.Key{}
	}
	(*set)[strings.Join(k, sep)] = k
}

// report turns what the decode found into positioned errors: the type
// errors if there are any (the keys after one may mean nothing), else the
// keys the schema of their top-level key (schema) does not define, and
// those it defines in another case. Messages and positions are those of the
// decoder's errors and of the undecoded-key check this replaces.
func (u *unifier) report(schema func(top string) reflect.Type) diag.ErrorList {
	var errs diag.ErrorList
	d := u.doc
	if len(u.typeErrs) > 0 {
		for _, e := range u.typeErrs {
			p := PathString(e.path...)
			errs.Add(d.Pos(e.path...), p, "%s: %s", p, e.msg)
		}
		return errs
	}
	for _, k := range slices.Sorted(maps.Keys(u.unknown)) {
		key := u.unknown[k]
		d.unknownKey(&errs, schema(key[0]), key[1:], key)
	}
	for _, k := range slices.Sorted(maps.Keys(u.caseOnly)) {
		key := u.caseOnly[k]
		names, ok := fieldsAt(schema(key[0]), key[1:len(key)-1])
		if !ok {
			continue
		}
		name := key[len(key)-1]
		for _, n := range names {
			if strings.EqualFold(n, name) {
				d.unknown(&errs, key, []string{n})
			}
		}
	}
	return errs
}
