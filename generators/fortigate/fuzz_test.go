package fortigate_test

import (
	"testing"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/fortigate"
	"github.com/portwall/portwall/generators/fortigate/fortiparse"
	"github.com/portwall/portwall/rules/ir"
)

// FuzzFortiGate feeds arbitrary strings into the set name, the comments
// and the purposes of a small IR, for a FortiOS version before and after
// the 6.4 merge. Whatever the input, the backend refuses or writes a
// snippet that reads back strictly and grants no more than the IR; it
// never panics.
func FuzzFortiGate(f *testing.F) {
	for _, s := range hostileStrings {
		f.Add("peers", s, s, false)
		f.Add(s, "c", "p", true)
	}
	f.Fuzz(func(t *testing.T, setName, text, purpose string, old bool) {
		if setName == "h1" || setName == "fw" || setName == ir.AnySet {
			return // one of the IR's other sets: not a ruleset the resolver builds
		}
		rs := hostileRuleset(setName, text, purpose)
		fg := hostileSettings()
		if old {
			fg.Version = "6.2"
		}
		g := fortigate.Generator{}
		req := generators.Request{Ruleset: rs, Settings: generators.Settings{fortigate.Section.Name(): fg}}
		if generators.Check(g, req) != nil {
			return
		}
		files, err := g.Generate(req)
		if err != nil {
			if generators.SafeName(setName) {
				t.Fatalf("a safe set name %q was refused: %v", setName, err)
			}
			return
		}
		c, err := fortiparse.Parse(files[0].Contents, fg.Version)
		if err != nil {
			t.Fatalf("output does not read back: %v\n%s", err, files[0].Contents)
		}
		grants, err := c.Grants()
		if err != nil {
			t.Fatal(err)
		}
		for _, gr := range grants {
			if err := rs.CheckGrant(gr); err != nil {
				t.Fatalf("wider than the IR: %v\n%s", err, files[0].Contents)
			}
		}
	})
}
