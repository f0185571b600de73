package targets_test

import (
	"maps"
	"path/filepath"
	"testing"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/nftables"
	"github.com/portwall/portwall/generators/targets"
	"github.com/portwall/portwall/profiles"
	"github.com/portwall/portwall/rules"
	"github.com/portwall/portwall/rules/catalog"
	"github.com/portwall/portwall/rules/ir"
)

// TestExamplesFailClosed renders every example with every backend, reads
// each output back with the backend's strict reader, and checks that
// every rule lets through nothing the IR does not allow: per host for host
// backends, in the network view for gateway backends. Every example must
// render with every backend (no refusal).
func TestExamplesFailClosed(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("../../examples/*.toml")
	if len(files) < 5 {
		t.Fatalf("examples: %v", files)
	}
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, file := range files {
		p, err := profiles.Load(file)
		if err != nil {
			t.Fatal(err)
		}
		rs, err := rules.Resolve(p, cat)
		if err != nil {
			t.Fatal(err)
		}
		settings, err := generators.DecodeSettings(p, generators.Sections(targets.All()), generators.NewEnv(p, nil))
		if err != nil {
			t.Fatal(err)
		}
		// The nftables backend once more in its sets layout.
		sets := maps.Clone(settings)
		sets[nftables.Section.Name()] = nftables.Settings{Layout: nftables.LayoutSets}
		type run struct {
			g        generators.Generator
			settings generators.Settings
			label    string
		}
		var runs []run
		for _, g := range targets.All() {
			runs = append(runs, run{g, settings, g.Name()})
		}
		nft, _ := targets.Lookup("nftables")
		runs = append(runs, run{nft, sets, "nftables-sets"})
		for _, rn := range runs {
			g := rn.g
			req := generators.Request{Ruleset: rs, Settings: rn.settings}
			if g.Caps().HostView {
				req.Hosts = rs.HostNames()
			}
			if err := generators.Check(g, req); err != nil {
				t.Errorf("%s %s: %v", file, g.Name(), err)
				continue
			}
			out, err := g.Generate(req)
			if err != nil {
				t.Errorf("%s %s: %v", file, g.Name(), err)
				continue
			}
			for _, f := range out {
				if !generators.Written(f.Contents) {
					t.Errorf("%s %s %s: no %q in its first %d bytes: generate --prune could not tell it is portwall's", file, g.Name(), f.Name, generators.Marker, generators.MarkerWithin)
				}
				grants, err := readers[g.Name()](rn.settings, f.Name, f.Contents)
				if err != nil {
					t.Errorf("%s %s %s: %v", file, g.Name(), f.Name, err)
					continue
				}
				var v *ir.HostView
				if g.Caps().HostView {
					v, _ = rs.HostView(f.Name[:len(f.Name)-len(g.Caps().Ext)])
				}
				for _, gr := range grants {
					counts[rn.label]++
					if v != nil {
						err = v.CheckGrant(gr)
					} else {
						err = rs.CheckGrant(gr)
					}
					if err != nil {
						t.Errorf("%s %s %s: %v", file, g.Name(), f.Name, err)
					}
				}
			}
		}
	}
	t.Logf("grants checked per backend: %v", counts)
}
