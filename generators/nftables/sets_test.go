package nftables

import (
	"testing"

	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/proto"
)

// TestSetIndices: anySet and addrSet name the flow sets they mean.
func TestSetIndices(t *testing.T) {
	t.Parallel()
	cases := []struct {
		i    int
		want string
	}{
		{anySet(proto.TCP), "tcp_any"}, {anySet(proto.UDP), "udp_any"}, {anySet(proto.ICMP), "icmp_any"}, {anySet(proto.ICMPv6), "icmpv6_any"},
		{addrSet(proto.TCP, ir.IPv4), "tcp_v4"}, {addrSet(proto.TCP, ir.IPv6), "tcp_v6"},
		{addrSet(proto.UDP, ir.IPv4), "udp_v4"}, {addrSet(proto.UDP, ir.IPv6), "udp_v6"},
		{addrSet(proto.ICMP, ir.IPv4), "icmp_v4"}, {addrSet(proto.ICMPv6, ir.IPv6), "icmpv6_v6"},
	}
	for _, c := range cases {
		if got := flowSets[c.i].suffix; got != c.want {
			t.Errorf("index %d is %s, want %s", c.i, got, c.want)
		}
	}
}
