package ir

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

// benchRuleset is n rules to host h1, each from its own group, as
// mkprofile's simple shape resolves.
func benchRuleset(n int) *Ruleset {
	rs := &Ruleset{
		Addrs: []*AddrSet{{Name: "h1", Kind: SetHost, Hosts: []string{"h1"}}},
		Hosts: []*Host{{Name: "h1", Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1")}}},
	}
	for i := range n {
		g := fmt.Sprintf("net-%05d", i)
		rs.Addrs = append(rs.Addrs, &AddrSet{Name: g, Kind: SetGroup})
		rs.Rules = append(rs.Rules, &Rule{From: NewEndpoint(g), To: NewEndpoint("h1"), Protocol: proto.TCP, Ports: ports.NewSet(ports.Single(uint16(1 + i%1000)))})
	}
	return rs
}

// BenchmarkHostView: one host's view of 10,000 rules, with the index
// built (warm: every host after the first) and to build (cold: the first
// host of a Ruleset).
func BenchmarkHostView(b *testing.B) {
	rs := benchRuleset(10000)
	b.Run("warm", func(b *testing.B) {
		for b.Loop() {
			if _, err := rs.HostView("h1"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			if _, err := rs.Clone().HostView("h1"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
