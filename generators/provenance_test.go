package generators

import (
	"strings"
	"testing"

	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

func keep(s string) string { return s }

func TestChunksSplitByProvenance(t *testing.T) {
	t.Parallel()
	o := func(flow string, p ...uint16) ir.Origin {
		var rs []ports.Range
		for _, x := range p {
			rs = append(rs, ports.Single(x))
		}
		return ir.Origin{Kind: ir.OriginFlow, Product: "fortimail", Feature: "ha", Flow: flow, Ports: ports.NewSet(rs...)}
	}
	r := &ir.Rule{ID: "r1", Protocol: proto.TCP, Ports: ports.NewSet(ports.Single(1), ports.Single(2), ports.Single(3)),
		Origins: []ir.Origin{o(strings.Repeat("a", 40), 1), o(strings.Repeat("b", 40), 2), o(strings.Repeat("c", 40), 2, 3)}}
	cs := Chunks(r, 80, keep)
	var got []string
	for _, c := range cs {
		got = append(got, c.Ports.String()+" "+c.Comment)
		if len(c.Comment) > 80 {
			t.Errorf("comment of %d bytes", len(c.Comment))
		}
	}
	want := []string{
		"1 pw:r1 fortimail/ha: " + strings.Repeat("a", 40),
		"2 pw:r1 fortimail/ha: " + strings.Repeat("b", 40),
		"2-3 pw:r1 fortimail/ha: " + strings.Repeat("c", 40),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A chunk never allows more than its rule, whatever its origins claim
// (a ruleset built by hand rather than by the resolver).
func TestChunksStayInsideTheRule(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 100)
	r := &ir.Rule{ID: "r1", Protocol: proto.TCP, Ports: ports.NewSet(ports.Single(53)), Origins: []ir.Origin{
		{Kind: ir.OriginCustom, Comment: long, Ports: ports.NewSet(ports.Range{First: 1, Last: 100})},
		{Kind: ir.OriginCustom, Comment: long, Ports: ports.NewSet(ports.Single(80))},
	}}
	cs := Chunks(r, 128, keep)
	if len(cs) != 1 || cs[0].Ports.String() != "53" {
		t.Errorf("got %+v", cs)
	}
	icmp := &ir.Rule{ID: "r2", Protocol: proto.ICMP, ICMPTypes: []uint8{8}, Origins: []ir.Origin{
		{Kind: ir.OriginCustom, Comment: long},
		{Kind: ir.OriginCustom, Comment: long, ICMPTypes: []uint8{0, 13}},
	}}
	cs = Chunks(icmp, 128, keep)
	if len(cs) != 1 || len(cs[0].ICMPTypes) != 1 || cs[0].ICMPTypes[0] != 8 {
		t.Errorf("got %+v", cs)
	}
	every := &ir.Rule{ID: "r3", Protocol: proto.ICMPv6, ICMPTypes: []uint8{}, Origins: []ir.Origin{{Kind: ir.OriginCustom, ICMPTypes: []uint8{128}}}}
	if cs := Chunks(every, 128, keep); len(cs) != 1 || len(cs[0].ICMPTypes) != 0 {
		t.Errorf("one chunk carries the rule's every type: got %+v", cs)
	}
}
