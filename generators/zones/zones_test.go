package zones_test

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"go4.org/netipx"

	"github.com/portwall/portwall/generators/zones"
	"github.com/portwall/portwall/rules/ir"
)

func ipset(t *testing.T, prefixes ...string) *netipx.IPSet {
	t.Helper()
	var b netipx.IPSetBuilder
	for _, p := range prefixes {
		b.AddPrefix(netip.MustParsePrefix(p))
	}
	s, err := b.IPSet()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestPlace checks where sets sit: by longest prefix, host names by
// their key, the rest behind the default route, and nothing behind any
// interface without one.
func TestPlace(t *testing.T) {
	t.Parallel()
	sets := map[string]*ir.AddrSet{
		"lan":      {Name: "lan", Kind: ir.SetGroup, IPs: ipset(t, "10.1.0.0/16")},
		"internet": {Name: "internet", Kind: ir.SetGroup, All: true},
	}
	lookup := func(k string) (*ir.AddrSet, bool) {
		s, ok := sets[k]
		return s, ok
	}
	table := map[string]string{"lan": "internal", "10.1.2.0/24": "servers", "mail.example": "dmz"}
	tests := []struct {
		name     string
		deflt    bool
		set      *ir.AddrSet
		want     []string
		covered  bool
		keys     []string
		leftOver string
	}{
		{name: "longest prefix", set: &ir.AddrSet{IPs: ipset(t, "10.1.2.5/32")}, want: []string{"servers"}, covered: true, keys: []string{"10.1.2.0/24"}},
		{name: "a key's network with a subnet elsewhere", set: sets["lan"], want: []string{"internal", "servers"}, covered: true, keys: []string{"10.1.2.0/24", "lan"}},
		{name: "host name", set: &ir.AddrSet{FQDNs: []string{"mail.example"}}, want: []string{"dmz"}, covered: true, keys: []string{"mail.example"}},
		{name: "default route", deflt: true, set: &ir.AddrSet{IPs: ipset(t, "192.0.2.0/24")}, want: []string{"wan1"}, covered: true, keys: []string{"any"}},
		{name: "no default route", set: &ir.AddrSet{IPs: ipset(t, "192.0.2.0/24", "10.1.3.0/24")}, want: []string{"internal"}, keys: []string{"lan"}, leftOver: "192.0.2.0/24"},
		{name: "unknown name without default", set: &ir.AddrSet{FQDNs: []string{"x.example"}}, leftOver: "x.example"},
		{name: "every address", deflt: true, set: sets["internet"], want: []string{"wan1"}, covered: true, keys: []string{"any"}},
		{name: "every address without default", set: sets["internet"], leftOver: "0.0.0.0/0, ::/0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := table
			if tt.deflt {
				tab = map[string]string{"any": "wan1"}
				for k, v := range table {
					tab[k] = v
				}
			}
			m, errs := zones.Build(tab, lookup, nil)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			p := m.PlaceSet(tt.set)
			if got := p.Interfaces(); !slices.Equal(got, tt.want) {
				t.Errorf("interfaces %v, want %v", got, tt.want)
			}
			if p.Covered() != tt.covered || p.UncoveredText() != tt.leftOver {
				t.Errorf("covered %v (%q), want %v (%q)", p.Covered(), p.UncoveredText(), tt.covered, tt.leftOver)
			}
			if !slices.Equal(p.Keys, tt.keys) {
				t.Errorf("keys %v, want %v", p.Keys, tt.keys)
			}
		})
	}
}

// TestBuildErrors checks the table's problems, each at its key.
func TestBuildErrors(t *testing.T) {
	t.Parallel()
	lookup := func(k string) (*ir.AddrSet, bool) {
		if k == "internet" {
			return &ir.AddrSet{Name: k, All: true}, true
		}
		return nil, false
	}
	tests := []struct {
		table map[string]string
		want  string
	}{
		{map[string]string{"any": "wan1", "internet": "wan2"}, "any and internet both name the default route: keep one"},
		{map[string]string{"10.0.0.0/8": "a", "10.0.0.0-10.255.255.255": "b"}, "10.0.0.0/8 of 10.0.0.0/8 is also behind b (key 10.0.0.0-10.255.255.255): one network, one interface"},
		{map[string]string{"offce": "a"}, `unknown host or group "offce"; did you mean "office"?`},
	}
	for _, tt := range tests {
		_, errs := zones.Build(tt.table, lookup, []string{"office"})
		var msgs []string
		for _, e := range errs {
			msgs = append(msgs, e.Msg)
		}
		if got := strings.Join(msgs, "; "); !strings.HasPrefix(got, tt.want) {
			t.Errorf("%v: got %q, want %q", tt.table, got, tt.want)
		}
	}
}
