package backendtest

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go4.org/netipx"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/internal/testkit/rulestest"
	"github.com/portwall/portwall/rules/ir"
)

// Reader reads a backend's output back into the grants it allows: the
// backend's strict reader.
type Reader func(data []byte) ([]ir.Grant, error)

// ExamplesAndCases are the repository's examples and the backend's
// testdata cases (testdata/<case>/profile.toml).
func ExamplesAndCases(t *testing.T) []string {
	files := rulestest.Examples(t)
	for _, dir := range rulestest.Cases(t) {
		files = append(files, filepath.Join(dir, "profile.toml"))
	}
	return files
}

// FailClosed reads every host output of g back with read, for the
// examples and the cases, and checks that each grant lets through nothing
// the host's IR rules do not allow.
func FailClosed(t *testing.T, g generators.Generator, read Reader) {
	t.Helper()
	grants := 0
	for _, file := range ExamplesAndCases(t) {
		rs, s := Load(t, file, g)
		for name, data := range Render(rs, s, g) {
			if name == "error" {
				continue
			}
			gs, err := read(data)
			if err != nil {
				t.Errorf("%s %s: %v", file, name, err)
				continue
			}
			v, err := rs.HostView(strings.TrimSuffix(name, g.Caps().Ext))
			if err != nil {
				t.Fatal(err)
			}
			for _, gr := range gs {
				grants++
				if err := v.CheckGrant(gr); err != nil {
					t.Errorf("%s %s: %v", file, name, err)
				}
			}
		}
	}
	t.Logf("%d grants checked", grants)
}

// AllowsAllTheIRSays is the other direction, for the examples and the
// cases: every rule of a host, in every family it has addresses in, is
// covered by the grants read back (a dropped rule would be a broken host,
// not a hole; the packet proof checks it with packets, this without).
// Matches by host name alone, which these backends leave out, are skipped.
func AllowsAllTheIRSays(t *testing.T, g generators.Generator, read Reader) {
	t.Helper()
	for _, file := range ExamplesAndCases(t) {
		rs, s := Load(t, file, g)
		for name, data := range Render(rs, s, g) {
			if name == "error" {
				continue
			}
			gs, err := read(data)
			if err != nil {
				t.Fatalf("%s %s: %v", file, name, err)
			}
			v, _ := rs.HostView(strings.TrimSuffix(name, g.Caps().Ext))
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
// addresses: outputs may split a rule by prefix (a range, or 0.0.0.0/0
// written as its two halves) and by port.
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
