package winfw

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

func TestSplit(t *testing.T) {
	t.Parallel()
	var list []string
	for i := 0; i < 2500; i++ {
		list = append(list, fmt.Sprintf("10.1%02d.1%02d.1", i/100, i%100)) // 12 characters each
	}
	cases := []struct {
		room  int
		sizes []int
	}{
		{0, []int{1000, 1000, 500}},           // entries only (PowerShell)
		{100000, []int{1000, 1000, 500}},      // the entry limit binds first
		{8000, []int{615, 615, 615, 615, 40}}, // the line limit binds first: 615*13-1 = 7994
		{25, slices.Repeat([]int{2}, 1250)},   // exactly two fit
		{24, slices.Repeat([]int{1}, 2500)},   // one fits
	}
	for _, c := range cases {
		parts, err := Split(list, c.room)
		if err != nil {
			t.Fatal(err)
		}
		var sizes []int
		var all []string
		for _, p := range parts {
			sizes = append(sizes, len(p))
			all = append(all, p...)
			if c.room > 0 && len(strings.Join(p, ",")) > c.room {
				t.Errorf("room %d: a part of %d characters", c.room, len(strings.Join(p, ",")))
			}
		}
		if !slices.Equal(sizes, c.sizes) || !slices.Equal(all, list) {
			t.Errorf("room %d: sizes %v, want %v (order kept: %v)", c.room, sizes, c.sizes, slices.Equal(all, list))
		}
	}
	if _, err := Split([]string{"2001:db8::1"}, 5); err == nil {
		t.Error("an entry longer than the room was split off")
	}
}

// TestPartsClamp: parts never allow more than their rule, even when the
// origins claim more than the rule holds (a ruleset built by hand); a
// chunk with nothing of the rule left is dropped (generators.Chunks).
func TestPartsClamp(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 600)
	r := &ir.Rule{ID: "r1", Protocol: proto.TCP, Ports: ports.NewSet(ports.Single(53)), Origins: []ir.Origin{
		{Kind: ir.OriginCustom, Comment: long, Ports: ports.NewSet(ports.Range{First: 1, Last: 100})},
		{Kind: ir.OriginCustom, Comment: long, Ports: ports.NewSet(ports.Single(80))},
	}}
	parts, err := Parts(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 1 || !parts[0].Ports.Equal(r.Ports) || len(parts[0].Suffix) != 0 {
		t.Errorf("got %+v", parts)
	}
	icmp := &ir.Rule{ID: "r2", Protocol: proto.ICMP, ICMPTypes: []uint8{8}, Origins: []ir.Origin{
		{Kind: ir.OriginCustom, Comment: long},                            // claims every type
		{Kind: ir.OriginCustom, Comment: long, ICMPTypes: []uint8{0, 13}}, // claims types the rule lacks
	}}
	parts, err = Parts(icmp)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 1 || parts[0].ICMPType != 8 {
		t.Errorf("got %+v", parts)
	}
	every := &ir.Rule{ID: "r3", Protocol: proto.ICMPv6, ICMPTypes: []uint8{}, Origins: []ir.Origin{{Kind: ir.OriginCustom}}}
	if parts, _ := Parts(every); len(parts) != 1 || parts[0].ICMPType != -1 {
		t.Errorf("empty ICMPTypes is every type: got %+v", parts)
	}
}

func TestText(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"a\"b|c\r\nd":    "a'b/c  d",
		"é\u2018x\u2019": "??x?",
		`end\`:           "end",
		"end^\\^":        "end",
		"%x% & ! ;":      "%x% & ! ;",
	} {
		if got := Text(in); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
}
