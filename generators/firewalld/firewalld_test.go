package firewalld_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/firewalld"
	"github.com/portwall/portwall/generators/firewalld/fwdparse"
	"github.com/portwall/portwall/internal/testkit/backendtest"
	"github.com/portwall/portwall/internal/testkit/rulestest"
	"github.com/portwall/portwall/rules/ir"
)

func TestGolden(t *testing.T) { backendtest.Golden(t, firewalld.Generator{}) }

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
	rs, s := backendtest.Load(t, file, firewalld.Generator{})
	return rs, backendtest.Render(rs, s, firewalld.Generator{})
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
			c, err := fwdparse.Parse(data)
			if err != nil {
				t.Errorf("%s %s: %v", file, name, err)
				continue
			}
			gs, err := c.Grants()
			if err != nil {
				t.Errorf("%s %s: %v", file, name, err)
				continue
			}
			v, err := rs.HostView(strings.TrimSuffix(name, firewalld.Generator{}.Caps().Ext))
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

// TestAllowsAllTheIRSays is the other direction, for the cases: every
// rule of a host, in every family it has addresses in, is covered by the
// grants read back (a dropped rule would be a broken host, not a hole;
// the packet proof checks it with packets, this without).
func TestAllowsAllTheIRSays(t *testing.T) {
	t.Parallel()
	for _, file := range profilesToCheck(t) {
		rs, files := render(t, file)
		for name, data := range files {
			if name == "error" {
				continue
			}
			c, err := fwdparse.Parse(data)
			if err != nil {
				t.Fatalf("%s %s: %v", file, name, err)
			}
			gs, err := c.Grants()
			if err != nil {
				t.Fatal(err)
			}
			v, _ := rs.HostView(strings.TrimSuffix(name, firewalld.Generator{}.Caps().Ext))
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

// covered reports whether some grants of the same direction, family and
// protocol hold all of want's ports (or types) for all of m's addresses.
// Rules are single grants per remote prefix here, so it is enough that
// every prefix of m has grants with all the ports.
func covered(gs []ir.Grant, want ir.Grant, m ir.Match) bool {
	for _, r := range m.RemoteRanges {
		for _, p := range r.Prefixes() {
			if !coveredAt(gs, want, func(a ir.Addrs) bool { return a.Any || a.IPs != nil && a.IPs.ContainsPrefix(p) }) {
				return false
			}
		}
	}
	if m.RemoteAll {
		return coveredAt(gs, want, func(a ir.Addrs) bool { return a.Any })
	}
	return true
}

func coveredAt(gs []ir.Grant, want ir.Grant, remote func(ir.Addrs) bool) bool {
	var got []ir.Grant
	for _, g := range gs {
		side := g.Src
		if g.Dir == ir.Out {
			side = g.Dst
		}
		if g.Dir == want.Dir && g.Family == want.Family && g.Protocol == want.Protocol && remote(side) {
			got = append(got, g)
		}
	}
	if want.Protocol.HasPorts() {
		var all []ir.Grant
		for _, g := range got {
			all = append(all, g)
		}
		for _, r := range want.Ports {
			for p := int(r.First); p <= int(r.Last); p++ {
				ok := false
				for _, g := range all {
					ok = ok || g.Ports.Contains(uint16(p))
				}
				if !ok {
					return false
				}
			}
		}
		return true
	}
	if len(want.ICMPTypes) == 0 {
		for _, g := range got {
			if g.ICMPTypes == nil {
				return true
			}
		}
		return false
	}
	for _, tp := range want.ICMPTypes {
		ok := false
		for _, g := range got {
			ok = ok || g.ICMPTypes == nil || containsType(g.ICMPTypes, tp)
		}
		if !ok {
			return false
		}
	}
	return true
}

func containsType(ts []uint8, t uint8) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

// TestRefusalsPointAtTheProfile: what firewalld cannot express is refused
// as generators.Refusal values, which the command layer points at the
// profile's line.
func TestRefusalsPointAtTheProfile(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ dir, want string }{
		{"icmp-type-refused", "icmpv6 type mld-listener-query has no firewalld icmptype"},
		{"fqdn-refused", "by host name"},
		{"program-refused", "limited to the program"},
	} {
		rs, s := backendtest.Load(t, filepath.Join("testdata", c.dir, "profile.toml"), firewalld.Generator{})
		g := firewalld.Generator{}
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
