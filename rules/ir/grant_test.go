package ir

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

func grantRuleset(t *testing.T) *Ruleset {
	return &Ruleset{
		Addrs: []*AddrSet{
			{Name: "any", Kind: SetAny},
			{Name: "h1", Kind: SetHost, Hosts: []string{"h1"}, IPs: ipset(t, "192.0.2.1/32")},
			{Name: "lan", Kind: SetGroup, IPs: ipset(t, "10.0.0.0/24", "2001:db8::/64")},
			{Name: "mgmt", Kind: SetGroup, IPs: ipset(t, "10.9.0.0/24")},
			{Name: "names", Kind: SetGroup, FQDNs: []string{"a.example"}},
		},
		Hosts: []*Host{{Name: "h1", Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1")}}},
		Rules: []*Rule{
			{ID: "r1", From: NewEndpoint("lan"), To: NewEndpoint("h1"), Protocol: proto.TCP, Ports: ports.NewSet(ports.Range{First: 20, Last: 25})},
			{ID: "r2", From: NewEndpoint("mgmt"), To: NewEndpoint("h1"), Protocol: proto.TCP, Ports: ports.NewSet(ports.Range{First: 22, Last: 30})},
			{ID: "r3", From: NewEndpoint("names"), To: NewEndpoint("h1"), Protocol: proto.UDP, Ports: ports.NewSet(ports.Single(53))},
			{ID: "r4", From: NewEndpoint("lan"), To: NewEndpoint("h1"), Protocol: proto.ICMP, ICMPTypes: []uint8{8}},
			{ID: "r5", From: NewEndpoint("h1"), To: NewEndpoint("any"), Protocol: proto.TCP, Ports: ports.NewSet(ports.Single(443))},
		},
	}
}

func addrs(t *testing.T, prefixes ...string) Addrs { return Addrs{IPs: ipset(t, prefixes...)} }

func TestHostGrants(t *testing.T) {
	t.Parallel()
	rs := grantRuleset(t)
	v, err := rs.HostView("h1")
	if err != nil {
		t.Fatal(err)
	}
	ok := []Grant{
		{Dir: In, Family: IPv4, Src: addrs(t, "10.0.0.0/25"), Protocol: proto.TCP, Ports: ports.NewSet(ports.Range{First: 20, Last: 25})},
		// Two rules together cover 10.9.0.5 only on 22-25, lan on 20-25.
		{Dir: In, Family: IPv4, Src: addrs(t, "10.0.0.7/32", "10.9.0.5/32"), Protocol: proto.TCP, Ports: ports.NewSet(ports.Range{First: 22, Last: 25})},
		{Dir: In, Family: IPv6, Src: addrs(t, "2001:db8::1/128"), Protocol: proto.TCP, Ports: ports.NewSet(ports.Single(21))},
		{Dir: In, Family: IPv4, Src: Addrs{FQDNs: []string{"a.example"}}, Protocol: proto.UDP, Ports: ports.NewSet(ports.Single(53))},
		{Dir: In, Family: IPv4, Src: addrs(t, "10.0.0.1/32"), Protocol: proto.ICMP, ICMPTypes: []uint8{8}},
		{Dir: Out, Family: IPv6, Dst: Addrs{Any: true}, Protocol: proto.TCP, Ports: ports.NewSet(ports.Single(443))},
	}
	for _, g := range ok {
		if err := v.CheckGrant(g); err != nil {
			t.Errorf("%v: %v", g, err)
		}
	}
	bad := map[string]Grant{
		"port 26":        {Dir: In, Family: IPv4, Src: addrs(t, "10.0.0.7/32", "10.9.0.5/32"), Protocol: proto.TCP, Ports: ports.NewSet(ports.Range{First: 22, Last: 26})},
		"10.0.1.0/24":    {Dir: In, Family: IPv4, Src: addrs(t, "10.0.0.0/23"), Protocol: proto.TCP, Ports: ports.NewSet(ports.Single(22))},
		"every ipv4":     {Dir: In, Family: IPv4, Src: Addrs{Any: true}, Protocol: proto.TCP, Ports: ports.NewSet(ports.Single(22))},
		"b.example":      {Dir: In, Family: IPv4, Src: Addrs{FQDNs: []string{"b.example"}}, Protocol: proto.UDP, Ports: ports.NewSet(ports.Single(53))},
		"every type":     {Dir: In, Family: IPv4, Src: addrs(t, "10.0.0.1/32"), Protocol: proto.ICMP},
		"type 0":         {Dir: In, Family: IPv4, Src: addrs(t, "10.0.0.1/32"), Protocol: proto.ICMP, ICMPTypes: []uint8{0, 8}},
		"no outbound 80": {Dir: Out, Family: IPv4, Dst: Addrs{Any: true}, Protocol: proto.TCP, Ports: ports.NewSet(ports.Single(80))},
	}
	for want, g := range bad {
		err := v.CheckGrant(g)
		if err == nil || !strings.Contains(err.Error(), strings.Fields(want)[len(strings.Fields(want))-1]) {
			t.Errorf("%s: %v: got %v", want, g, err)
		}
	}
}

func TestNetworkGrants(t *testing.T) {
	t.Parallel()
	rs := grantRuleset(t)
	h1 := addrs(t, "192.0.2.1/32")
	if err := rs.CheckGrant(Grant{Family: IPv4, Src: addrs(t, "10.0.0.0/24", "10.9.0.0/24"), Dst: h1, Protocol: proto.TCP, Ports: ports.NewSet(ports.Range{First: 22, Last: 25})}); err != nil {
		t.Error(err)
	}
	if err := rs.CheckGrant(Grant{Family: IPv4, Src: addrs(t, "10.0.0.0/24", "10.9.0.0/24"), Dst: h1, Protocol: proto.TCP, Ports: ports.NewSet(ports.Range{First: 20, Last: 25})}); err == nil {
		t.Error("mgmt to port 20 is not in the IR")
	}
	if err := rs.CheckGrant(Grant{Family: IPv4, Src: h1, Dst: Addrs{Any: true}, Protocol: proto.TCP, Ports: ports.NewSet(ports.Single(443))}); err != nil {
		t.Error(err)
	}
	if err := rs.CheckGrant(Grant{Family: IPv4, Src: addrs(t, "192.0.2.0/31"), Dst: Addrs{Any: true}, Protocol: proto.TCP, Ports: ports.NewSet(ports.Single(443))}); err == nil {
		t.Error("192.0.2.0 is not h1")
	}
}
