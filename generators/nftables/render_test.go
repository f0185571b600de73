package nftables

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/portwall/portwall/rules/ir"
)

// The profile name can come from a file name, which may hold anything: it
// must stay inside its comment line.
func TestHeaderTextStaysInComments(t *testing.T) {
	rs := &ir.Ruleset{
		Profile: "a\nflush ruleset\r\n\"x",
		Policy:  ir.Policy{Input: ir.InputDrop, Output: ir.OutputAccept},
		Hosts:   []*ir.Host{{Name: "h1", Description: "b\nflush ruleset", Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1")}}},
	}
	v, err := rs.HostView("h1")
	if err != nil {
		t.Fatal(err)
	}
	out, err := Render(v)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "flush") && !strings.HasPrefix(line, "#") {
			t.Errorf("free text escaped its comment: %q", line)
		}
	}
}
