// Package profileref renders the profile's reference: the keys the
// profile format documents (profiles.Reference) and the sections of the
// registered backends (generators.Section), with the names only the
// command layer knows (targets, catalog products and services, lint
// codes). From that one description come the JSON Schema editors use
// (Schema), the README's tables (Markdown) and the portwall-profile(5)
// manual page (Man), so that none of them can disagree with the loader.
package profileref

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/profiles"
)

// Named is a name with what it stands for (a product's title, a lint
// check's summary).
type Named struct {
	Name, Doc string
}

// Section is a backend's section with the --target names that read it.
type Section struct {
	generators.Section
	Targets []string
}

// Input is what the reference is made of besides the profile format.
type Input struct {
	Sections []Section
	// Names are the values of each set of names the profile format leaves
	// to the command layer.
	Names map[profiles.Names][]Named
}

// Reference is the whole profile: the format's keys, then each backend's
// section as a table.
type Reference struct {
	Root  profiles.Key
	names map[profiles.Names][]Named
}

// Hard says which sets of names a schema enforces. Targets and lint codes
// are compiled into portwall: a profile naming another is refused whatever
// the run. Catalog products and services are data: a profile may name a
// product that a --catalog DIR adds, so a schema only suggests the
// built-in ones and validate checks the names against the catalog it runs
// with. Built on first use: a package-level map literal is built by
// every run's initialisation, whatever the run does.
var Hard = sync.OnceValue(func() map[profiles.Names]bool {
	return map[profiles.Names]bool{
		profiles.NamesTargets:   true,
		profiles.NamesLintCodes: true,
		profiles.NamesProducts:  false,
		profiles.NamesServices:  false,
	}
})

// New combines the profile format's reference with in. It fails on a
// section key whose type it cannot describe, and on a set of names it
// lacks.
func New(in Input) (*Reference, error) {
	root := profiles.Reference()
	seen := map[string]bool{}
	for _, k := range root.Keys {
		seen[k.Name] = true
	}
	for _, sec := range in.Sections {
		if seen[sec.Name()] {
			return nil, fmt.Errorf("section [%s] has the name of a key of the profile", sec.Name())
		}
		seen[sec.Name()] = true
		k := profiles.Key{Name: sec.Name(), Type: profiles.TypeTable,
			Doc: fmt.Sprintf("settings of the %s %s", strings.Join(sec.Targets, " and "), plural(len(sec.Targets), "backend"))}
		for _, gk := range sec.Keys() {
			pk, err := fromSection(gk)
			if err != nil {
				return nil, fmt.Errorf("[%s] %s: %w", sec.Name(), gk.Name, err)
			}
			k.Keys = append(k.Keys, pk)
		}
		root.Keys = append(root.Keys, k)
	}
	r := &Reference{Root: root, names: in.Names}
	var missing error
	walk(root, func(k profiles.Key) {
		if k.Names != "" && len(in.Names[k.Names]) == 0 && missing == nil {
			missing = fmt.Errorf("no %s given for key %s", k.Names, k.Name)
		}
	})
	return r, missing
}

// fromSection describes a backend's key as the profile's keys are.
func fromSection(gk generators.Key) (profiles.Key, error) {
	k := profiles.Key{Name: gk.Name, Enum: gk.Enum, Pattern: gk.Pattern, Doc: gk.Doc}
	if k.Doc == "" {
		return k, fmt.Errorf("no Doc")
	}
	switch gk.Type {
	case "string":
		k.Type = profiles.TypeString
	case "boolean":
		k.Type = profiles.TypeBoolean
	case "list of strings":
		k.Type = profiles.TypeList
	case "string or list of strings":
		k.Type = profiles.TypeStrings
	case "table of strings":
		k.Type = profiles.TypeMap
		k.Elem = &profiles.Key{Name: "NAME", Type: profiles.TypeString, Doc: gk.Doc}
	default:
		return k, fmt.Errorf("type %q is none of string, boolean, list of strings, string or list of strings, table of strings", gk.Type)
	}
	k.Default = gk.Default
	if k.Type == profiles.TypeString && gk.Default != "" && !strings.HasPrefix(gk.Default, `"`) {
		// Sections write string defaults bare (auto); the profile's keys
		// as TOML ("drop").
		k.Default = strconv.Quote(gk.Default)
	}
	return k, nil
}

// walk calls f on k and every key below it.
func walk(k profiles.Key, f func(profiles.Key)) {
	f(k)
	for _, sub := range k.Keys {
		walk(sub, f)
	}
	if k.Elem != nil {
		walk(*k.Elem, f)
	}
}

// values is what a key's values must be, or may be (suggest): its enum,
// or the names of its set.
func (r *Reference) values(k profiles.Key) (values []Named, hard bool) {
	switch {
	case len(k.Enum) > 0:
		for _, e := range k.Enum {
			values = append(values, Named{Name: e})
		}
		return values, true
	case k.Names != "":
		return r.names[k.Names], Hard()[k.Names]
	}
	for _, s := range k.Suggest {
		values = append(values, Named{Name: s})
	}
	return values, false
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
