package targets_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/targets"
	"github.com/portwall/portwall/profiles"
	"github.com/portwall/portwall/rules"
	"github.com/portwall/portwall/rules/catalog"
)

// FuzzProfile feeds arbitrary profiles through checking, resolving and
// every backend: whatever the input, portwall reports errors; it never
// panics.
func FuzzProfile(f *testing.F) {
	for _, pattern := range []string{"../../examples/*.toml", "../../cmd/portwall/testdata/cases/*/profile.toml", "../nftables/testdata/*/profile.toml"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	cat, err := catalog.Load()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := profiles.Parse("fuzz.toml", data)
		if err != nil {
			_ = rules.Check(p, err, cat)
			return
		}
		rs, err := rules.Resolve(p, cat)
		if err != nil {
			return
		}
		for _, g := range targets.All() {
			req := generators.Request{Ruleset: rs, Hosts: rs.HostNames()}
			if generators.Check(g, req) == nil {
				if _, err := g.Generate(req); err != nil {
					t.Errorf("%s: checked request failed to render: %v", g.Name(), err)
				}
			}
		}
	})
}
