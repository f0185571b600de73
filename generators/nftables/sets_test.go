package nftables

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"go4.org/netipx"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/ports"
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

// TestPlaceMiscount: a part written past its counted size is not moved
// elsewhere (nor written past its room), and the count says so, which
// Render turns into an error.
func TestPlaceMiscount(t *testing.T) {
	script := []byte("..........")
	p := place{b: script[2:2:6]}
	p.WriteString("abc")
	p.WriteString("def") // does not fit: 4 bytes of room
	if p.n != 6 {
		t.Errorf("counted %d bytes, want 6", p.n)
	}
	if got := string(script); got != "..abc....." {
		t.Errorf("script %q, want %q", got, "..abc.....")
	}
	var count place
	count.WriteString("abcdef")
	if count.n != 6 || count.b != nil {
		t.Errorf("a place without room counted %d and holds %q", count.n, count.b)
	}
}

// TestCommentTextShortcut: commentText's shortcut for plain comments gives
// what generators.Flatten gives them, at and around the length limit and
// next to every character the shortcut must not take.
func TestCommentTextShortcut(t *testing.T) {
	flatten := func(s string) string {
		return generators.Flatten(s, MaxComment, func(r rune) rune {
			if r == '"' {
				return '\''
			}
			return r
		})
	}
	var cases []string
	for _, n := range []int{0, 1, MaxComment - 1, MaxComment, MaxComment + 1} {
		cases = append(cases, strings.Repeat("a", n))
	}
	for c := 0; c < 0x80; c++ {
		cases = append(cases, "pw:r1 allow[0]: "+string(rune(c))+" x")
	}
	cases = append(cases, "é", "a\u2028b", "a\xffb", strings.Repeat("é", MaxComment))
	for _, s := range cases {
		if got, want := commentText(s), flatten(s); got != want {
			t.Errorf("commentText(%q) = %q, Flatten gives %q", s, got, want)
		}
	}
}

// TestPartsWriteAsOne: a flow set written in parts, side by side (the
// chunks of elements each starting without the address text of the one
// before), is the set written in one piece, for sizes around the chunk
// size and address ranges that run across chunks.
func TestPartsWriteAsOne(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, chunkElems - 1, chunkElems, chunkElems + 1, 2*chunkElems + 5} {
		s := &flowSet{name: "in_tcp_v4", typ: "ipv4_addr . inet_service", comment: "TCP flows, IPv4 peers", comments: []string{"pw:r1 allow[0]", "pw:r2 allow[1]"}}
		for i := range n/3 + 1 {
			a := netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0})
			s.ivs = append(s.ivs, interval{r: netipx.IPRangeFrom(a, a.Next().Next())})
		}
		for i := range n {
			// Three elements to an address range; every other range is
			// two intervals.
			iv := int32(i / 3)
			s.elems = append(s.elems, element{first: iv, last: iv + iv%2, box: box{proto: proto.TCP, lo: uint16(i), hi: uint16(i + i%2), origins: i % 2}})
		}
		countParts(s)
		script := make([]byte, s.size())
		rest := script
		places := make([]place, len(s.sizes))
		for k, m := range s.sizes {
			places[k].b, rest = rest[:0:m], rest[m:]
		}
		eachPart(s, func(k int) { writePart(&places[k], s, k) })
		var one place
		one.b = make([]byte, 0, s.size())
		writePart(&one, s, 0)
		writeElems(&one, s, 0, len(s.elems))
		writePart(&one, s, s.parts()-1)
		if string(script) != string(one.b) || one.n != len(script) {
			t.Errorf("%d elements: in parts %d bytes, in one piece %d (counted %d)", n, len(script), len(one.b), one.n)
		}
		if n > 0 && !strings.HasSuffix(string(script), "allow[1]\"\n\t\t}\n\t}\n\n") && !strings.HasSuffix(string(script), "allow[0]\"\n\t\t}\n\t}\n\n") {
			t.Errorf("%d elements: the last element is not the last line before the set's end", n)
		}
	}
}

// TestCommentsInHalves: element comments written in two halves (many of
// them) are those written one by one, in order, for rules with one or
// several origins.
func TestCommentsInHalves(t *testing.T) {
	t.Parallel()
	var hrs []ir.HostRule
	for i := range 40 {
		r := &ir.Rule{ID: fmt.Sprintf("r%03d", i)}
		for o := range 1 + i%3 {
			r.Origins = append(r.Origins, ir.Origin{Kind: ir.OriginFlow, Product: "p", Feature: fmt.Sprint("f", o), Flow: fmt.Sprint("flow", i)})
		}
		hrs = append(hrs, ir.HostRule{Rule: r})
	}
	lists := [][]int{{0}, {1}, {0, 1}, {2}}
	for _, n := range []int{0, 1, splitAt - 1, splitAt, 3*splitAt + 1} {
		var cs []commentOf
		for i := range n {
			rule := i % len(hrs)
			cs = append(cs, commentOf{int32(rule), int32(i % (1 + rule%3))})
		}
		got := comments(hrs, cs, lists)
		if len(got) != n {
			t.Fatalf("%d comments: got %d", n, len(got))
		}
		for i, c := range cs {
			r := hrs[c.rule].Rule
			if want := commentText(generators.BriefProvenance(r.ID, r.Origins, lists[c.origins])); got[i] != want {
				t.Errorf("%d comments: comment %d is %q, want %q", n, i, got[i], want)
				break
			}
		}
	}
}

// TestItemsDone: the rules of each item, cut from one array, are those
// added to it, in order.
func TestItemsDone(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		adds [][2]int // source, rule
	}{
		{"none", nil},
		{"one", [][2]int{{3, 0}}},
		{"one rule each", [][2]int{{1, 0}, {2, 1}, {3, 2}}},
		{"interleaved", [][2]int{{0, 0}, {5, 0}, {0, 1}, {2, 2}, {5, 3}, {0, 4}, {2, 4}}},
	}
	for _, c := range cases {
		var its items
		want := map[int][]int32{} // by source
		var order []int           // sources in first-seen order
		for _, a := range c.adds {
			if _, ok := want[a[0]]; !ok {
				order = append(order, a[0])
			}
			want[a[0]] = append(want[a[0]], int32(a[1]))
			its.add(int32(a[0]), nil, a[1])
		}
		got := its.done()
		if len(got) != len(order) {
			t.Fatalf("%s: %d items, want %d", c.name, len(got), len(order))
		}
		for k, src := range order {
			if !slices.Equal(got[k].rules, want[src]) {
				t.Errorf("%s: item %d (source %d) has rules %v, want %v", c.name, k, src, got[k].rules, want[src])
			}
		}
	}
}

// TestSpansShortcut: a rule's spans are its origins' ports cut back to
// the rule's (ports.Set.Intersect), whether an origin has the rule's
// ports (not cut) or others; appended after what out holds.
func TestSpansShortcut(t *testing.T) {
	t.Parallel()
	set := func(rs ...ports.Range) ports.Set { return ports.NewSet(rs...) }
	rulePorts := set(ports.Single(22), ports.Range{First: 80, Last: 90})
	cases := []struct {
		name    string
		origins []ports.Set
	}{
		{"one origin, the rule's ports", []ports.Set{rulePorts}},
		{"a wider origin", []ports.Set{set(ports.Range{First: 1, Last: 100})}},
		{"a narrower origin", []ports.Set{set(ports.Single(85))}},
		{"several", []ports.Set{rulePorts, set(ports.Single(22)), set(ports.Range{First: 85, Last: 200})}},
	}
	for _, c := range cases {
		r := &ir.Rule{Protocol: proto.TCP, Ports: rulePorts}
		for _, o := range c.origins {
			r.Origins = append(r.Origins, ir.Origin{Kind: ir.OriginFlow, Ports: o})
		}
		before := []span{{proto.UDP, 1, 1, 0, 0}}
		want := slices.Clone(before)
		for oi, o := range c.origins {
			for _, pr := range o.Intersect(r.Ports) {
				want = append(want, span{proto.TCP, pr.First, pr.Last, 7, oi})
			}
		}
		if got := spans(slices.Clone(before), r, 7); !slices.Equal(got, want) {
			t.Errorf("%s: spans %v, want %v", c.name, got, want)
		}
	}
}
