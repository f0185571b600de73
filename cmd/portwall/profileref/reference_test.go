package profileref

import (
	"strings"
	"testing"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/internal/tomldoc"
	"github.com/portwall/portwall/profiles"
)

// section is a backend section for tests.
type section struct {
	name string
	keys []generators.Key
}

func (s section) Name() string                                       { return s.name }
func (s section) Keys() []generators.Key                             { return s.keys }
func (s section) Decode(*tomldoc.Table, generators.Env) (any, error) { return nil, nil }

func names() map[profiles.Names][]Named {
	return map[profiles.Names][]Named{
		profiles.NamesTargets:   {{Name: "nftables"}},
		profiles.NamesProducts:  {{Name: "xeams", Doc: "Xeams"}},
		profiles.NamesServices:  {{Name: "ssh", Doc: "SSH"}},
		profiles.NamesLintCodes: {{Name: "PW101"}},
	}
}

// TestNewRefuses: a section key the reference cannot describe, a section
// named like a key of the profile and a missing set of names are errors,
// not a schema that says less than the backend reads.
func TestNewRefuses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   Input
		want string
	}{
		{"unknown type", Input{Names: names(), Sections: []Section{{Section: section{"pf", []generators.Key{{Name: "rules", Type: "table of tables", Doc: "x"}}}}}},
			`[pf] rules: type "table of tables" is none of`},
		{"no doc", Input{Names: names(), Sections: []Section{{Section: section{"pf", []generators.Key{{Name: "mode", Type: "string"}}}}}},
			"[pf] mode: no Doc"},
		{"section named like a key", Input{Names: names(), Sections: []Section{{Section: section{"defaults", nil}}}},
			"section [defaults] has the name of a key of the profile"},
		{"no products", Input{Names: map[profiles.Names][]Named{profiles.NamesTargets: {{Name: "nftables"}}}},
			"no products given"},
	}
	for _, c := range cases {
		_, err := New(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}

// TestSectionTypes: each type a backend may give its keys has a schema,
// and a string default written bare is quoted as TOML.
func TestSectionTypes(t *testing.T) {
	t.Parallel()
	sec := section{"pf", []generators.Key{
		{Name: "a", Type: "string", Default: "auto", Enum: []string{"auto", "off"}, Doc: "a"},
		{Name: "b", Type: "boolean", Default: "false", Doc: "b"},
		{Name: "c", Type: "list of strings", Default: `["x"]`, Doc: "c"},
		{Name: "d", Type: "string or list of strings", Doc: "d"},
		{Name: "e", Type: "table of strings", Default: "{}", Doc: "e"},
	}}
	r, err := New(Input{Names: names(), Sections: []Section{{Section: sec, Targets: []string{"pf"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Schema(); err != nil {
		t.Fatal(err)
	}
	pf := r.Root.Keys[len(r.Root.Keys)-1]
	if pf.Name != "pf" || pf.Keys[0].Default != `"auto"` || pf.Keys[4].Elem == nil {
		t.Errorf("section: %+v", pf)
	}
	if !strings.Contains(r.Markdown(3), "| `a` | string: `\"auto\"`, `\"off\"` | `\"auto\"` | a |") {
		t.Errorf("markdown:\n%s", r.Markdown(3))
	}
}

func TestRoffEscapes(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`a\b`:         `a\eb`,
		"dynamic-set": `dynamic\-set`,
		".starts":     `\&.starts`,
		"x\n'quote":   "x\n\\&'quote",
		"plain words": "plain words",
	} {
		if got := roff(in); got != want {
			t.Errorf("roff(%q) = %q, want %q", in, got, want)
		}
	}
}
