package profiles

import (
	"bytes"
	"maps"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/internal/tomldoc"
)

// Placeholders: values only the operator knows, which `portwall init`
// writes as "<fill in: WHAT>" so that the profile it prints lists every
// one. A placeholder is never a value: it holds '<', '>' and spaces, which
// no name, address, port or enum value has, and Parse reports each one
// still in the file (anywhere, backends' sections included) as "fill this
// in: WHAT" at its position. The errors other checks would make of the
// same value (an invalid address, an unknown host, a value outside an
// enum) say the same thing again and are left out (FilterPlaceholders),
// so that a fresh skeleton gives exactly one error per placeholder.

const (
	placeholderOpen  = "<fill in:"
	placeholderClose = ">"
	// FillInMessage starts the error a placeholder gives.
	FillInMessage = "fill this in: "
)

// PlaceholderRule says what a placeholder is, for the reference.
const PlaceholderRule = `A string "<fill in: WHAT>" is a placeholder, as portwall init writes them: ` +
	`validate reports each one left in the profile as an error, "fill this in: WHAT", at its position.`

// Placeholder is the placeholder for a value described by what.
func Placeholder(what string) string { return placeholderOpen + " " + what + placeholderClose }

// IsPlaceholder reports whether s is a placeholder, and what it asks for.
func IsPlaceholder(s string) (what string, ok bool) {
	rest, ok := strings.CutPrefix(s, placeholderOpen)
	if !ok || !strings.HasSuffix(rest, placeholderClose) {
		return "", false
	}
	return strings.TrimSpace(strings.TrimSuffix(rest, placeholderClose)), true
}

// placeholders finds the placeholders in a profile that parses, each as
// an error at its value, and their key paths. Only a file that holds the
// opening of one is decoded a second time, generically: a profile without
// placeholders costs a byte search.
func placeholders(doc *tomldoc.Doc, data []byte) (errs diag.ErrorList, paths []string) {
	if !bytes.Contains(data, []byte(placeholderOpen)) {
		return nil, nil
	}
	var root map[string]any
	if _, err := toml.Decode(string(data), &root); err != nil {
		return nil, nil // reported by the strict decoder
	}
	var walk func(path []any, v any)
	walk = func(path []any, v any) {
		switch v := v.(type) {
		case string:
			if what, ok := IsPlaceholder(v); ok {
				doc.Errorf(&errs, path, "%s%s", FillInMessage, what)
				paths = append(paths, tomldoc.PathString(path...))
			}
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(v)) {
				walk(at(path, k), v[k])
			}
		case []map[string]any:
			for i, x := range v {
				walk(at(path, i), x)
			}
		case []any:
			for i, x := range v {
				walk(at(path, i), x)
			}
		}
	}
	walk(nil, root)
	return errs, paths
}

// at is path with more appended, in a slice of its own: the walk goes on
// from path to its siblings.
func at(path []any, more ...any) []any {
	return append(slices.Clip(path), more...)
}

// Unfilled reports whether the value at path (keys and array indices, as
// for tomldoc.Doc.Pos), or one below it, is a placeholder: the value is
// missing, and what a missing value would make another check say has been
// said already.
func (p *Profile) Unfilled(path ...any) bool {
	s := tomldoc.PathString(path...)
	for _, u := range p.unfilled {
		if u == s || strings.HasPrefix(u, s+".") || strings.HasPrefix(u, s+"[") {
			return true
		}
	}
	return false
}

// FilterPlaceholders leaves out of errs what other checks say about the
// placeholders' values: an error at a placeholder's position or key path
// that is not its "fill this in". Every layer that adds errors about a
// profile's values (the catalog's checks, the backends' sections) passes
// its list through it, so that a placeholder is reported once.
func FilterPlaceholders(errs diag.ErrorList) diag.ErrorList {
	pos := map[diag.Pos]bool{}
	paths := map[string]bool{}
	for _, e := range errs {
		if strings.HasPrefix(e.Msg, FillInMessage) {
			if e.Pos.IsValid() {
				pos[e.Pos] = true
			}
			if e.Path != "" {
				paths[e.Path] = true
			}
		}
	}
	if len(pos)+len(paths) == 0 {
		return errs
	}
	return slices.DeleteFunc(slices.Clone(errs), func(e *diag.Error) bool {
		if strings.HasPrefix(e.Msg, FillInMessage) {
			return false
		}
		return e.Pos.IsValid() && pos[e.Pos] || e.Path != "" && paths[e.Path]
	})
}
