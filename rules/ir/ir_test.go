package ir

import (
	"net/netip"
	"slices"
	"testing"

	"go4.org/netipx"

	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
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

// A side with no address of a family drops the family, never the match.
func TestMatchesNeverLoseTheAddressMatch(t *testing.T) {
	t.Parallel()
	rs := &Ruleset{
		Addrs: []*AddrSet{
			{Name: "any", Kind: SetAny},
			{Name: "h1", Kind: SetHost, Hosts: []string{"h1"}, IPs: ipset(t, "192.0.2.1/32", "2001:db8::1/128")},
			{Name: "h2", Kind: SetHost, Hosts: []string{"h2"}, IPs: ipset(t, "192.0.2.2/32")},
			{Name: "v4", Kind: SetGroup, IPs: ipset(t, "10.0.0.0/8")},
			{Name: "v6", Kind: SetGroup, IPs: ipset(t, "2001:db8:1::/48")},
		},
		Hosts: []*Host{{Name: "h1", Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1")}}},
	}
	cases := []struct {
		name  string
		from  []string
		proto proto.Protocol
		want  []string // family/set
	}{
		{"icmpv6 from an IPv4-only group", []string{"v4"}, proto.ICMPv6, nil},
		{"icmp from an IPv6-only group", []string{"v6"}, proto.ICMP, nil},
		{"tcp from both", []string{"v4", "v6"}, proto.TCP, []string{"ipv4/v4", "ipv6/v6"}},
		{"icmpv6 from any", []string{"any"}, proto.ICMPv6, []string{"ipv6/any*"}},
		{"tcp from any", []string{"any"}, proto.TCP, []string{"ipv4/any*", "ipv6/any*"}},
		{"the host itself is left out", []string{"h1", "h2"}, proto.UDP, []string{"ipv4/h2"}},
	}
	for _, c := range cases {
		r := &Rule{From: NewEndpoint(c.from...), To: NewEndpoint("h1"), Protocol: c.proto, Ports: ports.NewSet(ports.Single(1))}
		rs.Rules = []*Rule{r}
		v, err := rs.HostView("h1")
		if err != nil {
			t.Fatal(err)
		}
		if len(v.In) != 1 {
			t.Fatalf("%s: %d inbound rules", c.name, len(v.In))
		}
		var got []string
		for _, m := range v.Matches(v.In[0]) {
			s := m.Family.String() + "/" + m.Remote.Name
			if m.RemoteAll {
				s += "*"
			} else if len(m.RemoteRanges) == 0 {
				t.Errorf("%s: match without addresses", c.name)
			}
			got = append(got, s)
		}
		if len(got) != len(c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: got %v, want %v", c.name, got, c.want)
			}
		}
	}
}

func TestMergeICMPTypes(t *testing.T) {
	t.Parallel()
	e := NewEndpoint("a")
	// Merge takes its parts over: each call gets new ones.
	parts := func() []*Rule {
		return []*Rule{
			{From: e, To: e, Protocol: proto.ICMP, ICMPTypes: []uint8{8}, Origins: []Origin{{Order: [3]int{0, 0, 1}}}},
			{From: e, To: e, Protocol: proto.ICMP, ICMPTypes: []uint8{0, 8}, Origins: []Origin{{Order: [3]int{0, 0, 0}}}},
		}
	}
	rs, err := Merge(parts())
	if err != nil || len(rs) != 1 || len(rs[0].ICMPTypes) != 2 || rs[0].Origins[0].Order[2] != 0 {
		t.Fatalf("merge: %+v %v", rs, err)
	}
	rs, _ = Merge(append(parts(), &Rule{From: e, To: e, Protocol: proto.ICMP, Origins: []Origin{{}}}))
	if rs[0].ICMPTypes != nil {
		t.Errorf("a rule for every type absorbs the typed ones: %v", rs[0].ICMPTypes)
	}
}

// TestRangesPerFamily holds Ranges to its definition: the set's ranges
// whose first address is of the family, in order, nil for none, with
// IPv4-mapped IPv6 addresses on the IPv6 side.
func TestRangesPerFamily(t *testing.T) {
	for _, members := range [][]string{
		nil,
		{"10.0.0.0/24"},
		{"fd00::/64"},
		{"10.0.0.0/24", "192.0.2.7/32", "fd00::/64", "::ffff:10.0.0.0/120", "2001:db8::1/128"},
		{"::ffff:192.0.2.0/120"},
		{"0.0.0.0/0", "::/0"},
		{"255.255.255.255/32", "::/128"},
	} {
		var b netipx.IPSetBuilder
		for _, m := range members {
			b.AddPrefix(netip.MustParsePrefix(m))
		}
		ips, err := b.IPSet()
		if err != nil {
			t.Fatal(err)
		}
		s := &AddrSet{Name: "g", Kind: SetGroup, IPs: ips}
		for _, f := range []Family{IPv4, IPv6} {
			var want []netipx.IPRange
			for _, r := range ips.Ranges() {
				if f.Has(r.From()) {
					want = append(want, r)
				}
			}
			got := s.Ranges(f)
			if !slices.Equal(got, want) || (got == nil) != (want == nil) {
				t.Errorf("%v: Ranges(%v) = %v, want %v", members, f, got, want)
			}
			if len(got) > 0 && cap(got) != len(got) && f == IPv4 {
				t.Errorf("%v: Ranges(IPv4) has room to grow into the IPv6 ranges (len %d, cap %d)", members, len(got), cap(got))
			}
		}
	}
}

// TestMergeIDs holds the IDs Merge gives, cut from one string, to SetID's,
// for rules that merge and rules that do not.
func TestMergeIDs(t *testing.T) {
	t.Parallel()
	a, b := NewEndpoint("a"), NewEndpoint("b", "c")
	tcp := ports.NewSet(ports.Single(22))
	for _, parts := range [][]*Rule{
		nil,
		{{From: a, To: b, Protocol: proto.TCP, Ports: tcp, Origins: []Origin{{}}}},
		{
			{From: a, To: b, Protocol: proto.TCP, Ports: tcp, Origins: []Origin{{}}},
			{From: b, To: a, Protocol: proto.TCP, Ports: tcp, Origins: []Origin{{Order: [3]int{0, 1}}}},
			{From: a, To: b, Protocol: proto.TCP, Ports: tcp, Origins: []Origin{{Order: [3]int{0, 2}}}},
			{From: a, To: b, Protocol: proto.UDP, Ports: tcp, Program: `C:\x.exe`, Origins: []Origin{{Order: [3]int{0, 3}}}},
		},
	} {
		rules, err := Merge(parts)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rules {
			want := &Rule{From: r.From, To: r.To, Protocol: r.Protocol, Program: r.Program}
			want.SetID()
			if r.ID != want.ID || len(r.ID) != idLen {
				t.Errorf("%s: ID %q, want %q", r.Key(), r.ID, want.ID)
			}
		}
	}
}
