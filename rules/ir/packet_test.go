package ir

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

// TestAllowingAgreesWithCheckGrant: the single-packet answer verify and
// explain use is the proven grant check, packet by packet.
func TestAllowingAgreesWithCheckGrant(t *testing.T) {
	t.Parallel()
	rs := grantRuleset(t)
	v, err := rs.HostView("h1")
	if err != nil {
		t.Fatal(err)
	}
	remotes := []string{"10.0.0.0", "10.0.0.255", "10.0.1.0", "10.9.0.5", "192.0.2.1", "203.0.113.9", "2001:db8::1", "2001:db8:1::1"}
	var allowed []string
	n := 0
	for _, dir := range []Direction{In, Out} {
		for _, rem := range remotes {
			a := netip.MustParseAddr(rem)
			f := IPv4
			if a.Is6() {
				f = IPv6
			}
			for _, pr := range []proto.Protocol{proto.TCP, proto.UDP, proto.ICMP, proto.ICMPv6} {
				if !f.Carries(pr) {
					continue
				}
				var packets []Packet
				if pr.HasPorts() {
					for _, port := range []uint16{19, 20, 22, 25, 26, 30, 31, 53, 443} {
						packets = append(packets, Packet{Dir: dir, Remote: a, Protocol: pr, Port: port})
					}
				} else {
					packets = append(packets, Packet{Dir: dir, Remote: a, Protocol: pr, ICMPType: 8}, Packet{Dir: dir, Remote: a, Protocol: pr, ICMPType: 0})
				}
				for _, p := range packets {
					n++
					g := Grant{Dir: dir, Family: f, Protocol: pr}
					side := Addrs{IPs: ipset(t, netip.PrefixFrom(a, a.BitLen()).String())}
					if dir == In {
						g.Src = side
					} else {
						g.Dst = side
					}
					if pr.HasPorts() {
						g.Ports = ports.NewSet(ports.Single(p.Port))
					} else {
						g.ICMPTypes = []uint8{p.ICMPType}
					}
					byRules := len(v.Allowing(p)) > 0
					if byGrant := v.CheckGrant(g) == nil; byRules != byGrant {
						t.Errorf("%s: Allowing says %v, CheckGrant says %v", p, byRules, byGrant)
					}
					if byRules {
						allowed = append(allowed, p.String())
					}
				}
			}
		}
	}
	// Not vacuous: the agreement covers both answers.
	want := strings.Join([]string{
		"in tcp/20 from 10.0.0.0", "in tcp/22 from 10.0.0.0", "in tcp/25 from 10.0.0.0", "in icmp echo-request from 10.0.0.0",
		"in tcp/20 from 10.0.0.255", "in tcp/22 from 10.0.0.255", "in tcp/25 from 10.0.0.255", "in icmp echo-request from 10.0.0.255",
		"in tcp/22 from 10.9.0.5", "in tcp/25 from 10.9.0.5", "in tcp/26 from 10.9.0.5", "in tcp/30 from 10.9.0.5",
		"in tcp/20 from 2001:db8::1", "in tcp/22 from 2001:db8::1", "in tcp/25 from 2001:db8::1",
		"out tcp/443 to 10.0.0.0", "out tcp/443 to 10.0.0.255", "out tcp/443 to 10.0.1.0", "out tcp/443 to 10.9.0.5",
		"out tcp/443 to 192.0.2.1", "out tcp/443 to 203.0.113.9", "out tcp/443 to 2001:db8::1", "out tcp/443 to 2001:db8:1::1",
	}, "\n")
	if got := strings.Join(allowed, "\n"); got != want {
		t.Errorf("allowed packets (of %d):\n%s\nwant:\n%s", n, got, want)
	}
	// Output accept admits every outbound packet; drop only what rules allow.
	p := Packet{Dir: Out, Remote: netip.MustParseAddr("203.0.113.9"), Protocol: proto.TCP, Port: 22}
	if !v.Admits(p) {
		t.Error("output accept does not admit outbound tcp/22")
	}
	rs.Policy.Output = OutputDrop
	if v.Admits(p) {
		t.Error("output drop admits outbound tcp/22")
	}
}
