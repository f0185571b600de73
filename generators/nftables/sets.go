package nftables

import (
	"bytes"
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"go4.org/netipx"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/proto"
)

// Layouts of a host's rules.
const (
	// LayoutReadable: one rule per flow and remote set, address groups in
	// named sets. What people read and diff.
	LayoutReadable = "readable"
	// LayoutSets: the flows as elements of a few concatenated interval
	// sets (remote address . protocol . port, or remote address . ICMP
	// type), looked up by a fixed handful of rules: a new connection costs
	// one lookup per set however many flows the profile has. Each element
	// carries the comment of the rule it comes from.
	LayoutSets = "sets"
	// LayoutAuto picks readable up to AutoLimit flow rules and sets
	// above.
	LayoutAuto = "auto"

	// AutoLimit is the number of flow rules (per host, both chains) above
	// which auto picks the sets layout. Up to it a chain is short enough
	// to read, and walking it costs a new connection microseconds; above
	// it lookups beat walking, and nobody reads the rules one by one.
	AutoLimit = 200
)

// layoutOf is the layout a host gets.
func layoutOf(v *ir.HostView) string {
	switch l := v.Ruleset.Settings.NFTables.Layout; l {
	case LayoutReadable, LayoutSets:
		return l
	}
	n := 0
	for _, hr := range generators.Rendered(v) {
		n += len(v.Matches(hr))
	}
	if n > AutoLimit {
		return LayoutSets
	}
	return LayoutReadable
}

// flowSet is a concatenated interval set of the sets layout.
type flowSet struct {
	name, typ, comment string
	// match is the rule's left-hand side: "ip saddr . meta l4proto .
	// th dport".
	match string
	elems []element
}

// element is one element of a flow set: a remote address range (unless
// the set has none), and a range on the service axis.
type element struct {
	addr    netipx.IPRange
	proto   proto.Protocol
	lo, hi  uint16 // ports, or ICMP types
	comment string
}

// span is part of an item on the service axis: a protocol's port range,
// or an ICMP type range. Rule and origin say where it comes from.
type span struct {
	proto  proto.Protocol
	lo, hi uint16
	rule   int // index among the host's rendered rules: the first wins
	origin int // index in the rule's origins
}

// item is what one match of a rule adds to a set: its remote ranges
// (none for sets without addresses) and its spans.
type item struct {
	ranges []netipx.IPRange
	spans  []span
}

// setKind names the sets of one direction.
type setKind struct {
	suffix, typ, match, comment string
}

// flowSets are the sets of the layout, in the order their rules appear.
// %s is the remote address key (saddr or daddr). TCP and UDP have sets of
// their own: "meta l4proto" in a concatenation makes nft add a byteorder
// expression that the netlink library cannot read back, so live diffs
// could not tell such a rule from a foreign one.
var flowSets = []setKind{
	{"tcp_v4", "ipv4_addr . inet_service", "ip %s . tcp dport", "TCP flows, IPv4 peers"},
	{"tcp_v6", "ipv6_addr . inet_service", "ip6 %s . tcp dport", "TCP flows, IPv6 peers"},
	{"tcp_any", "inet_service", "tcp dport", "TCP flows open to every address"},
	{"udp_v4", "ipv4_addr . inet_service", "ip %s . udp dport", "UDP flows, IPv4 peers"},
	{"udp_v6", "ipv6_addr . inet_service", "ip6 %s . udp dport", "UDP flows, IPv6 peers"},
	{"udp_any", "inet_service", "udp dport", "UDP flows open to every address"},
	{"icmp_v4", "ipv4_addr . icmp_type", "ip %s . icmp type", "ICMP flows, IPv4 peers"},
	{"icmp_any", "icmp_type", "icmp type", "ICMP flows open to every IPv4 address"},
	{"icmpv6_v6", "ipv6_addr . icmpv6_type", "ip6 %s . icmpv6 type", "ICMPv6 flows, IPv6 peers"},
	{"icmpv6_any", "icmpv6_type", "icmpv6 type", "ICMPv6 flows open to every IPv6 address"},
}

// setsChain lays out the host rules of one direction: the flow sets and
// the rules that look them up, and readable rules for what sets cannot
// hold (remote sets filled from DNS at run time).
func (r *renderer) setsChain(hrs []ir.HostRule, dir ir.Direction) ([]string, error) {
	items := map[string][]item{}
	var lines []string
	for ri, hr := range hrs {
		matches := r.v.Matches(hr)
		// Every address of both families is the family-less "any" set.
		all := map[ir.Family]bool{}
		for _, m := range matches {
			all[m.Family] = all[m.Family] || m.RemoteAll
		}
		pr := hr.Rule.Protocol
		bothAll := pr.HasPorts() && all[ir.IPv4] && all[ir.IPv6]
		addedAll := false
		for _, m := range matches {
			switch {
			case m.RemoteAll && bothAll:
				if !addedAll {
					items[anySet(pr)] = append(items[anySet(pr)], item{spans: spans(hr.Rule, ri)})
					addedAll = true
				}
			case m.RemoteAll && pr.IsICMP():
				items[anySet(pr)] = append(items[anySet(pr)], item{spans: spans(hr.Rule, ri)})
			case m.RemoteAll:
				// One family only: every address of it.
				k := addrSet(pr, m.Family)
				items[k] = append(items[k], item{ranges: []netipx.IPRange{everything(m.Family)}, spans: spans(hr.Rule, ri)})
			case len(m.RemoteRanges) > 0:
				k := addrSet(pr, m.Family)
				items[k] = append(items[k], item{ranges: m.RemoteRanges, spans: spans(hr.Rule, ri)})
			}
			if len(m.RemoteFQDNs) > 0 {
				switch r.v.Ruleset.Policy.FQDN {
				case ir.FQDNDynamicSet:
					lines = append(lines, r.lines(hr, dir, m, r.dynamicSet(m), true)...)
				case ir.FQDNOmit:
					r.omit(hr, m)
				default:
					return nil, fmt.Errorf("rule %s reaches %s by host name, which nftables cannot match (set defaults.fqdn = \"dynamic-set\" or \"omit\")", hr.Rule.ID, m.Remote.Name)
				}
			}
		}
	}
	prefix, key := "in_", "saddr"
	if dir == ir.Out {
		prefix, key = "out_", "daddr"
	}
	var out []string
	for _, k := range flowSets {
		its := items[k.suffix]
		if len(its) == 0 {
			continue
		}
		s := &flowSet{name: prefix + k.suffix, typ: k.typ, comment: k.comment, match: k.match}
		if strings.Contains(k.match, "%s") {
			s.match = fmt.Sprintf(k.match, key)
		}
		s.elems = r.elements(hrs, its, strings.Contains(k.typ, "_addr"))
		r.flowSets = append(r.flowSets, s)
		out = append(out, fmt.Sprintf("%s @%s accept comment %s", s.match, s.name, quote("pw:set "+s.name+": each element's comment names its rule")))
	}
	return append(out, lines...), nil
}

// anySet names the set of protocol p's flows open to every address.
func anySet(p proto.Protocol) string { return p.String() + "_any" }

// addrSet names the set holding p's flows with remote addresses of
// family f.
func addrSet(p proto.Protocol, f ir.Family) string {
	switch p {
	case proto.ICMP:
		return "icmp_v4"
	case proto.ICMPv6:
		return "icmpv6_v6"
	}
	return p.String() + "_" + famSuffix(f)
}

func everything(f ir.Family) netipx.IPRange {
	if f == ir.IPv4 {
		return netipx.IPRangeFrom(netip.IPv4Unspecified(), netip.AddrFrom4([4]byte{255, 255, 255, 255}))
	}
	return netipx.IPRangeFrom(netip.IPv6Unspecified(), netip.AddrFrom16([16]byte{0: 0xff, 1: 0xff, 2: 0xff, 3: 0xff, 4: 0xff, 5: 0xff, 6: 0xff, 7: 0xff,
		8: 0xff, 9: 0xff, 10: 0xff, 11: 0xff, 12: 0xff, 13: 0xff, 14: 0xff, 15: 0xff}))
}

// spans lists what each origin of rule r contributes on the service axis,
// cut back to the rule's own ports and types (as generators.Chunks does:
// an element never allows more than its rule).
func spans(r *ir.Rule, ri int) []span {
	var out []span
	for oi, o := range r.Origins {
		switch {
		case r.Protocol.HasPorts():
			for _, pr := range o.Ports.Intersect(r.Ports) {
				out = append(out, span{r.Protocol, pr.First, pr.Last, ri, oi})
			}
		default:
			types := o.ICMPTypes
			switch {
			case len(types) == 0 && len(r.ICMPTypes) == 0:
				out = append(out, span{r.Protocol, 0, 255, ri, oi})
				continue
			case len(types) == 0:
				types = r.ICMPTypes
			case len(r.ICMPTypes) > 0:
				types = slices.DeleteFunc(slices.Clone(types), func(t uint8) bool { return !slices.Contains(r.ICMPTypes, t) })
			}
			for _, t := range types {
				out = append(out, span{r.Protocol, uint16(t), uint16(t), ri, oi})
			}
		}
	}
	return out
}

// box is one element before its address: a range on the service axis and
// the rule (and origins of it) that allows it.
type box struct {
	proto   proto.Protocol
	lo, hi  uint16
	rule    int
	origins string // origin indices, as a comparable key
}

// elements cuts the items into disjoint elements: the kernel refuses
// overlapping elements in a concatenated interval set, and the union of
// the items is what the rules allow. Each piece belongs to the first rule
// that covers it; its comment names that rule and the origins of it that
// cover it. A piece runs over as many touching address intervals as hold
// it, so that a group's network stays one element where it can.
func (r *renderer) elements(hrs []ir.HostRule, its []item, withAddr bool) []element {
	type piece struct {
		addr netipx.IPRange
		box  box
	}
	var pieces []piece
	if !withAddr {
		var all []span
		for _, it := range its {
			all = append(all, it.spans...)
		}
		for _, b := range boxes(all) {
			pieces = append(pieces, piece{box: b})
		}
	} else {
		open := map[box]int{} // box -> index in pieces, while it runs
		for _, iv := range elementary(its) {
			var active []span
			for _, k := range iv.items {
				active = append(active, its[k].spans...)
			}
			seen := map[box]bool{}
			for _, b := range boxes(active) {
				seen[b] = true
				if i, ok := open[b]; ok && pieces[i].addr.To().Next() == iv.r.From() {
					pieces[i].addr = netipx.IPRangeFrom(pieces[i].addr.From(), iv.r.To())
					continue
				}
				open[b] = len(pieces)
				pieces = append(pieces, piece{addr: iv.r, box: b})
			}
			for b := range open {
				if !seen[b] {
					delete(open, b)
				}
			}
		}
		slices.SortStableFunc(pieces, func(a, b piece) int {
			return cmp.Or(a.addr.From().Compare(b.addr.From()), cmp.Compare(a.box.proto, b.box.proto), cmp.Compare(a.box.lo, b.box.lo))
		})
	}
	out := make([]element, 0, len(pieces))
	for _, p := range pieces {
		b := p.box
		rule := hrs[b.rule].Rule
		var origins []ir.Origin
		for _, f := range strings.Fields(b.origins) {
			i, _ := strconv.Atoi(f)
			origins = append(origins, rule.Origins[i])
		}
		out = append(out, element{addr: p.addr, proto: b.proto, lo: b.lo, hi: b.hi, comment: generators.Provenance(rule.ID, origins)})
	}
	return out
}

// interval is an elementary address interval and the items covering it.
type interval struct {
	r     netipx.IPRange
	items []int
}

// elementary cuts the address axis at every edge of every item's ranges
// and lists, in address order, the pieces some item covers.
func elementary(its []item) []interval {
	type event struct {
		at    netip.Addr
		item  int
		delta int
	}
	var events []event
	for k, it := range its {
		for _, r := range it.ranges {
			events = append(events, event{r.From(), k, +1})
			if next := r.To().Next(); next.IsValid() && next.BitLen() == r.To().BitLen() {
				events = append(events, event{next, k, -1})
			}
		}
	}
	slices.SortFunc(events, func(a, b event) int { return a.at.Compare(b.at) })
	active := map[int]int{}
	var out []interval
	for i := 0; i < len(events); {
		at := events[i].at
		for ; i < len(events) && events[i].at == at; i++ {
			active[events[i].item] += events[i].delta
			if active[events[i].item] == 0 {
				delete(active, events[i].item)
			}
		}
		if len(active) == 0 {
			continue
		}
		end := lastOf(at)
		if i < len(events) {
			end = events[i].at.Prev()
		}
		keys := make([]int, 0, len(active))
		for k := range active {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		out = append(out, interval{netipx.IPRangeFrom(at, end), keys})
	}
	return out
}

func lastOf(a netip.Addr) netip.Addr {
	if a.Is4() {
		return netip.AddrFrom4([4]byte{255, 255, 255, 255})
	}
	var b [16]byte
	for i := range b {
		b[i] = 0xff
	}
	return netip.AddrFrom16(b)
}

// boxes cuts spans into disjoint boxes on the service axis, each owned by
// the first rule covering it, with the origins of that rule that do.
func boxes(spans []span) []box {
	type event struct {
		at    uint32 // proto<<16 | port, one past the end for a close
		open  bool
		index int
	}
	key := func(p proto.Protocol, v uint16) uint32 { return uint32(p.Number())<<16 | uint32(v) }
	var events []event
	for i, s := range spans {
		events = append(events, event{key(s.proto, s.lo), true, i}, event{key(s.proto, s.hi) + 1, false, i})
	}
	slices.SortFunc(events, func(a, b event) int { return cmp.Compare(a.at, b.at) })
	active := map[int]bool{}
	var out []box
	for i := 0; i < len(events); {
		at := events[i].at
		for ; i < len(events) && events[i].at == at; i++ {
			if events[i].open {
				active[events[i].index] = true
			} else {
				delete(active, events[i].index)
			}
		}
		if len(active) == 0 || i == len(events) {
			continue
		}
		end := events[i].at - 1
		owner := -1
		for k := range active {
			if owner < 0 || spans[k].rule < owner {
				owner = spans[k].rule
			}
		}
		var origins []int
		var p proto.Protocol
		for k := range active {
			if spans[k].rule == owner {
				origins = append(origins, spans[k].origin)
				p = spans[k].proto
			}
		}
		slices.Sort(origins)
		origins = slices.Compact(origins)
		b := box{proto: p, lo: uint16(at), hi: uint16(end), rule: owner, origins: fmt.Sprint(origins)}
		b.origins = strings.Trim(b.origins, "[]")
		if n := len(out); n > 0 && out[n-1].rule == b.rule && out[n-1].origins == b.origins && key(out[n-1].proto, out[n-1].hi)+1 == at {
			out[n-1].hi = b.hi
			continue
		}
		out = append(out, b)
	}
	return out
}

// writeFlowSet writes a flow set, one element per line.
func writeFlowSet(b *bytes.Buffer, s *flowSet) {
	fmt.Fprintf(b, "\tset %s {\n\t\ttype %s\n\t\tflags interval\n\t\tcomment %s\n", s.name, s.typ, quote(s.comment))
	b.WriteString("\t\telements = {\n")
	for i, e := range s.elems {
		var parts []string
		if e.addr.IsValid() {
			parts = append(parts, rangeString(e.addr))
		}
		if e.proto.HasPorts() {
			parts = append(parts, valueRange(e.lo, e.hi, strconv.Itoa))
		} else {
			parts = append(parts, valueRange(e.lo, e.hi, func(v int) string { return typeName(e.proto, v) }))
		}
		sep := ","
		if i == len(s.elems)-1 {
			sep = ""
		}
		fmt.Fprintf(b, "\t\t\t%s comment %s%s\n", strings.Join(parts, " . "), quote(e.comment), sep)
	}
	b.WriteString("\t\t}\n\t}\n\n")
}

func valueRange(lo, hi uint16, name func(int) string) string {
	if lo == hi {
		return name(int(lo))
	}
	return strconv.Itoa(int(lo)) + "-" + strconv.Itoa(int(hi))
}

func typeName(p proto.Protocol, t int) string { return proto.ICMPTypeName(p, uint8(t)) }
