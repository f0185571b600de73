package nftables

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

// The profile name can come from a file name, which may hold anything: it
// must stay inside its comment line.
func TestHeaderTextStaysInComments(t *testing.T) {
	t.Parallel()
	rs := &ir.Ruleset{
		Profile: "a\nflush ruleset\r\n\"x",
		Policy:  ir.Policy{Input: ir.InputDrop, Output: ir.OutputAccept},
		Hosts:   []*ir.Host{{Name: "h1", Description: "b\nflush ruleset", Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1")}}},
	}
	v, err := rs.HostView("h1")
	if err != nil {
		t.Fatal(err)
	}
	out, err := Render(v, Settings{Layout: LayoutAuto})
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "flush") && !strings.HasPrefix(line, "#") {
			t.Errorf("free text escaped its comment: %q", line)
		}
	}
}

func TestHostileSetNameRefused(t *testing.T) {
	t.Parallel()
	rs := &ir.Ruleset{
		Addrs: []*ir.AddrSet{
			{Name: "a\"; flush ruleset", Kind: ir.SetGroup},
			{Name: "h1", Kind: ir.SetHost, Hosts: []string{"h1"}},
		},
		Hosts: []*ir.Host{{Name: "h1", Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1")}}},
		Rules: []*ir.Rule{{ID: "r1", From: ir.NewEndpoint("a\"; flush ruleset"), To: ir.NewEndpoint("h1"), Protocol: proto.TCP, Ports: ports.NewSet(ports.Single(22))}},
	}
	slices.SortFunc(rs.Addrs, func(a, b *ir.AddrSet) int { return strings.Compare(a.Name, b.Name) })
	v, err := rs.HostView("h1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Render(v, Settings{Layout: LayoutAuto}); err == nil || !strings.Contains(err.Error(), "cannot be an nft identifier") {
		t.Errorf("got %v", err)
	}
}
