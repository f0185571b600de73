package ufw_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go4.org/netipx"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/ufw"
	"github.com/portwall/portwall/generators/ufw/ufwparse"
	"github.com/portwall/portwall/internal/testkit/backendtest"
	"github.com/portwall/portwall/internal/testkit/rulestest"
	"github.com/portwall/portwall/rules/ir"
)

func TestGolden(t *testing.T) { backendtest.Golden(t, ufw.Generator{}) }

// profilesToCheck are the examples and the cases.
func profilesToCheck(t *testing.T) []string {
	files := rulestest.Examples(t)
	for _, dir := range rulestest.Cases(t) {
		files = append(files, filepath.Join(dir, "profile.toml"))
	}
	return files
}

// render returns every host's script, or the refusals in "error".
func render(t *testing.T, file string) (*ir.Ruleset, map[string][]byte) {
	rs, s := backendtest.Load(t, file, ufw.Generator{})
	return rs, backendtest.Render(rs, s, ufw.Generator{})
}

// TestFailClosed reads every output back, for the cases and the examples,
// and checks that each element lets through nothing the host's IR rules
// do not allow.
func TestFailClosed(t *testing.T) {
	t.Parallel()
	grants := 0
	for _, file := range profilesToCheck(t) {
		rs, files := render(t, file)
		for name, data := range files {
			if name == "error" {
				continue
			}
			c, err := ufwparse.Parse(data)
			if err != nil {
				t.Errorf("%s %s: %v", file, name, err)
				continue
			}
			gs, err := c.Grants()
			if err != nil {
				t.Errorf("%s %s: %v", file, name, err)
				continue
			}
			v, err := rs.HostView(strings.TrimSuffix(name, ufw.Generator{}.Caps().Ext))
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range gs {
				grants++
				if err := v.CheckGrant(g); err != nil {
					t.Errorf("%s %s: %v", file, name, err)
				}
			}
		}
	}
	t.Logf("%d grants checked", grants)
}

// TestAllowsAllTheIRSays is the other direction, for the cases and the
// examples: every rule of a host, in every family it has addresses in, is
// covered by the grants read back (a dropped rule would be a broken host,
// not a hole; the packet proof checks it with packets, this without).
func TestAllowsAllTheIRSays(t *testing.T) {
	t.Parallel()
	for _, file := range profilesToCheck(t) {
		rs, files := render(t, file)
		for name, data := range files {
			if name == "error" {
				continue
			}
			c, err := ufwparse.Parse(data)
			if err != nil {
				t.Fatalf("%s %s: %v", file, name, err)
			}
			gs, err := c.Grants()
			if err != nil {
				t.Fatal(err)
			}
			v, _ := rs.HostView(strings.TrimSuffix(name, ufw.Generator{}.Caps().Ext))
			for _, hr := range v.Enforced() {
				for _, m := range v.Matches(hr) {
					if !m.RemoteAll && len(m.RemoteRanges) == 0 {
						continue // host names only, left out
					}
					want := ir.Grant{Dir: hr.Dir, Family: m.Family, Protocol: hr.Rule.Protocol, Ports: hr.Rule.Ports, ICMPTypes: hr.Rule.ICMPTypes}
					if !covered(gs, want, m) {
						t.Errorf("%s %s: rule %s (%s %s from %s) is not allowed by the output", file, name, hr.Rule.ID, m.Family, hr.Rule.Protocol, m.Remote.Name)
					}
				}
			}
		}
	}
}

// covered reports whether grants of the same direction, family and
// protocol, together, hold all of want's ports (or types) for all of m's
// addresses: ufw rules are per prefix, and a range (or 0.0.0.0/0, written
// as its two halves) may take several.
func covered(gs []ir.Grant, want ir.Grant, m ir.Match) bool {
	var got []ir.Grant
	for _, g := range gs {
		if g.Dir == want.Dir && g.Family == want.Family && g.Protocol == want.Protocol {
			got = append(got, g)
		}
	}
	// at reports whether the grants that allow one port (or type) cover
	// the match's addresses.
	at := func(allows func(ir.Grant) bool) bool {
		var b netipx.IPSetBuilder
		for _, g := range got {
			side := g.Src
			if g.Dir == ir.Out {
				side = g.Dst
			}
			if !allows(g) {
				continue
			}
			if side.Any {
				return true
			}
			if side.IPs != nil {
				b.AddSet(side.IPs)
			}
		}
		if m.RemoteAll {
			return false
		}
		set, _ := b.IPSet()
		for _, r := range m.RemoteRanges {
			if !set.ContainsRange(r) {
				return false
			}
		}
		return true
	}
	if want.Protocol.HasPorts() {
		// Each elementary interval of the grants' port ranges is wholly
		// in or out of each grant: its first port stands for it.
		cuts := map[int]bool{}
		for _, g := range got {
			for _, r := range g.Ports {
				cuts[int(r.First)], cuts[int(r.Last)+1] = true, true
			}
		}
		for _, r := range want.Ports {
			for p := int(r.First); p <= int(r.Last); p++ {
				if p != int(r.First) && !cuts[p] {
					continue
				}
				if !at(func(g ir.Grant) bool { return g.Ports.Contains(uint16(p)) }) {
					return false
				}
			}
		}
		return true
	}
	if len(want.ICMPTypes) == 0 {
		return at(func(g ir.Grant) bool { return g.ICMPTypes == nil })
	}
	for _, tp := range want.ICMPTypes {
		if !at(func(g ir.Grant) bool { return g.ICMPTypes == nil || slices.Contains(g.ICMPTypes, tp) }) {
			return false
		}
	}
	return true
}

// TestRefusalsPointAtTheProfile: what ufw cannot express is refused
// as generators.Refusal values, which the command layer points at the
// profile's line.
func TestRefusalsPointAtTheProfile(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ dir, want string }{
		{"fqdn-refused", "by host name"},
		{"program-refused", "limited to the program"},
	} {
		rs, s := backendtest.Load(t, filepath.Join("testdata", c.dir, "profile.toml"), ufw.Generator{})
		g := ufw.Generator{}
		_, err := generators.Generate(g, generators.AllHosts(g, rs, s))
		refused, ok := generators.AsRefusals(err)
		if !ok || len(refused) == 0 {
			t.Errorf("%s: %v: not refusals", c.dir, err)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.dir, err, c.want)
		}
		for _, r := range refused {
			if r.Rule == nil && r.Set == "" {
				t.Errorf("%s: refusal names no rule or set: %v", c.dir, r)
			}
		}
	}
}
