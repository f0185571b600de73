package probe

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"go4.org/netipx"

	"github.com/portwall/portwall/internal/testkit/golden"
	"github.com/portwall/portwall/internal/testkit/rulestest"
	"github.com/portwall/portwall/rules/ir"
)

// dump writes a plan as text; probes only when all is set.
func dump(p *Plan, all bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "host %s: ipv4 %v, ipv6 %v\n", p.View.Host.Name, p.Dst[ir.IPv4], p.Dst[ir.IPv6])
	for _, peer := range p.Peers {
		fmt.Fprintf(&b, "peer %s: %v\n", peer.Name, peer.Addrs)
	}
	fmt.Fprintf(&b, "ports: %v\n", p.Ports)
	allowed := 0
	for _, pr := range p.Probes {
		if pr.Want {
			allowed++
		}
		if all {
			fmt.Fprintf(&b, "probe %-44s %-10s want %-5v rules %v expect %v\n", pr.Packet, pr.Peer, pr.Want, pr.Rules, pr.Expect)
		}
	}
	fmt.Fprintf(&b, "probes: %d, %d allowed\n", len(p.Probes), allowed)
	for _, c := range p.Expect {
		fmt.Fprintf(&b, "expect %s %s: probes %v %s\n", c.E, c.Dir, c.Probes, c.Unprobed)
	}
	for _, u := range p.Unprobed {
		fmt.Fprintf(&b, "unprobed: %s\n", u)
	}
	return b.String()
}

// TestPlans compares the plans of two example hosts with their golden
// files: one without egress filtering (every probe listed) and one with
// it and a set known only by name.
func TestPlans(t *testing.T) {
	t.Parallel()
	dir := filepath.Dir(rulestest.Examples(t)[0])
	for _, c := range []struct {
		example, host string
		all           bool
	}{{"xeams", "xeams1", true}, {"ems-chromebooks", "ems1", false}} {
		rs := rulestest.Ruleset(t, filepath.Join(dir, c.example+".toml"))
		p, err := NewPlan(rs, c.host)
		if err != nil {
			t.Fatal(err)
		}
		golden.Compare(t, filepath.Join("testdata", "plan-"+c.host+".txt"), []byte(dump(p, c.all)))
	}
}

// TestSamples: a set is probed from the edges of its ranges, never from
// an address a probe cannot use or one already taken.
func TestSamples(t *testing.T) {
	t.Parallel()
	cases := []struct {
		ranges []string
		taken  []string
		want   string
	}{
		{[]string{"10.0.0.0/24"}, nil, "[10.0.0.0 10.0.0.255]"},
		{[]string{"10.0.0.0/24"}, []string{"10.0.0.0", "10.0.0.255"}, "[10.0.0.1 10.0.0.254]"},
		{[]string{"10.0.0.7/32"}, nil, "[10.0.0.7]"},
		{[]string{"0.0.0.0/8", "10.0.0.0/31"}, nil, "[10.0.0.0 10.0.0.1]"},
		{[]string{"127.0.0.0/8"}, nil, "[]"},
		{[]string{"224.0.0.0/4"}, nil, "[]"},
		{[]string{"fe80::/10"}, nil, "[]"},
		{[]string{"10.1.0.0/16", "10.2.0.0/16"}, nil, "[10.1.0.0 10.2.255.255]"},
		{[]string{"10.1.0.0/16", "10.3.0.0/16", "10.5.0.0/16", "10.7.0.0/16"}, nil, "[10.1.0.0 10.7.255.255 10.5.0.0]"},
		{[]string{"2001:db8::/32"}, nil, "[2001:db8:: 2001:db8:ffff:ffff:ffff:ffff:ffff:ffff]"},
		{[]string{"::/0"}, nil, "[2000:: fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]"},
		{[]string{"0.0.0.0/0"}, nil, "[1.0.0.0 223.255.255.255 128.0.0.0]"},
		{[]string{"169.254.0.0/16", "192.0.2.1/32"}, nil, "[192.0.2.1]"},
	}
	for _, c := range cases {
		var b netipx.IPSetBuilder
		for _, r := range c.ranges {
			b.AddPrefix(netip.MustParsePrefix(r))
		}
		set, _ := b.IPSet()
		taken := map[netip.Addr]bool{}
		for _, a := range c.taken {
			taken[netip.MustParseAddr(a)] = true
		}
		if got := fmt.Sprint(samples(set.Ranges(), taken)); got != c.want {
			t.Errorf("%v taken %v: got %s, want %s", c.ranges, c.taken, got, c.want)
		}
	}
}
