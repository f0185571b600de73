package nftables

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go4.org/netipx"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/internal/par"
	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/proto"
)

// flowSet is a concatenated interval set of the sets layout.
type flowSet struct {
	name, typ, comment string
	// match is the rule's left-hand side: "ip saddr . tcp dport".
	match string
	elems []element
	// comments are the elements' comments (commentText), by box.origins.
	comments []string
	// ivs are the elementary address intervals the elements span.
	ivs []interval
	// sizes are the lengths of the parts of the set's text (writePart).
	sizes []int
}

// chunkElems is how many elements a part of a flow set's text holds: the
// parts of a large set are counted and written on all cores.
const chunkElems = 2048

// parts is the number of parts of s's text: the set's head, its
// elements in chunks of chunkElems, and its end.
func (s *flowSet) parts() int { return 2 + (len(s.elems)+chunkElems-1)/chunkElems }

// size is the length of s's text, once counted.
func (s *flowSet) size() int {
	n := 0
	for _, m := range s.sizes {
		n += m
	}
	return n
}

// writePart writes part k of s (parts).
func writePart(b *place, s *flowSet, k int) {
	switch {
	case k == 0:
		fmt.Fprintf(b, "\tset %s {\n\t\ttype %s\n\t\tflags interval\n\t\tcomment %s\n", s.name, s.typ, quote(s.comment))
		b.WriteString("\t\telements = {\n")
	case k == s.parts()-1:
		b.WriteString("\t\t}\n\t}\n\n")
	default:
		writeElems(b, s, (k-1)*chunkElems, min(k*chunkElems, len(s.elems)))
	}
}

// eachPart calls f for every part of s, the chunks of elements side by
// side: all but the last on goroutines of their own, the last (the only
// one, in a set of up to chunkElems elements) and the head and end on
// the caller's.
func eachPart(s *flowSet, f func(k int)) {
	var wg sync.WaitGroup
	last := s.parts() - 1
	for k := 1; k < last-1; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(k)
		}()
	}
	f(0)
	if last > 1 {
		f(last - 1)
	}
	f(last)
	wg.Wait()
}

// countParts counts the parts of s into s.sizes.
func countParts(s *flowSet) {
	s.sizes = make([]int, s.parts())
	eachPart(s, func(k int) {
		var c place
		writePart(&c, s, k)
		s.sizes[k] = c.n
	})
}

// element is one element of a flow set: a remote address range (unless
// the set has none), and a range on the service axis. The address range
// runs from the start of elementary interval first to the end of last:
// two indices rather than two addresses keep a large set's elements
// small.
type element struct {
	first, last int32 // -1: the set has no addresses
	box         box
}

// span is part of an item on the service axis: a protocol's port range,
// or an ICMP type range. Rule and origin say where it comes from.
type span struct {
	proto  proto.Protocol
	lo, hi uint16
	rule   int // index among the host's rendered rules: the first wins
	origin int // index in the rule's origins
}

// item is what the rules add to a set from one remote source (an address
// set, or every address): its ranges (none for sets without addresses)
// and the rules with that source, whose spans it holds (by their indices
// in the host's rules: a rule's spans are shared by its sources).
type item struct {
	ranges []netipx.IPRange
	rules  []int32
}

// items collects a set's items by source, in first-seen order.
type items struct {
	// bySource[n] is the index in list of the item of source number n
	// (setsChain numbers them, 0 for every address), plus one; zero for
	// none yet.
	bySource []int32
	list     []item
	// adds are the rules added, each with its item's index in list, in
	// order: done gives them to the items.
	adds []itemRule
}

type itemRule struct{ item, rule int32 }

func (its *items) add(source int32, ranges []netipx.IPRange, rule int) {
	if int(source) >= len(its.bySource) {
		its.bySource = append(its.bySource, make([]int32, int(source)+1-len(its.bySource))...)
	}
	i := its.bySource[source] - 1
	if i < 0 {
		i = int32(len(its.list))
		its.bySource[source] = i + 1
		its.list = append(its.list, item{ranges: ranges})
	}
	its.adds = append(its.adds, itemRule{i, int32(rule)})
}

// done returns the items, each with its rules in the order they were
// added: cut from one array, rather than a slice grown for each item
// (10,000 of them for as many rules from one network each).
func (its *items) done() []item {
	if len(its.list) == 0 {
		return nil
	}
	// start[k] is where item k's rules start, then (filling) where its
	// next rule goes.
	start := make([]int32, len(its.list)+1)
	for _, a := range its.adds {
		start[a.item+1]++
	}
	for k := range its.list {
		start[k+1] += start[k]
	}
	rules := make([]int32, len(its.adds))
	for _, a := range its.adds {
		rules[start[a.item]] = a.rule
		start[a.item]++
	}
	from := int32(0)
	for k := range its.list {
		its.list[k].rules = rules[from:start[k]:start[k]]
		from = start[k]
	}
	return its.list
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
// hold (remote sets filled from DNS at run time), written to b after
// the lookups.
func (r *renderer) setsChain(b *text, hrs []ir.HostRule, dir ir.Direction) error {
	sets := make([]items, len(flowSets))
	ruleSpans, remotes := lookUp(r.v.Ruleset, hrs)
	// Sources are numbered once for every flow set: 0 is every address.
	sources := make(map[*ir.AddrSet]int32, min(len(hrs), len(r.v.Ruleset.Addrs)))
	var fqdn text
	// The walk of ir.HostView.Matches, without building its matches: a
	// large profile has tens of thousands.
	for ri, hr := range hrs {
		pr := hr.Rule.Protocol
		addedAll := false
		for j, set := range remotes.of(ri) {
			if set == nil {
				return fmt.Errorf("rule %s refers to unknown set %q", hr.Rule.ID, hr.Remote.Sets[j])
			}
			if set.Kind == ir.SetHost && set.Name == r.v.Host.Name {
				continue // the host itself: loopback
			}
			if set.IsAny() {
				// Every address of every family the protocol travels in.
				if !addedAll {
					sets[anySet(pr)].add(0, nil, ri)
					addedAll = true
				}
				continue
			}
			src, ok := sources[set]
			if !ok {
				src = int32(len(sources) + 1)
				sources[set] = src
			}
			for _, f := range ir.Families {
				if !f.Carries(pr) {
					continue
				}
				ranges := set.Ranges(f)
				if len(ranges) > 0 {
					sets[addrSet(pr, f)].add(src, ranges, ri)
				}
				if len(set.FQDNs) == 0 {
					continue
				}
				if err := r.fqdnLines(&fqdn, hr, dir, ir.Match{Family: f, Remote: set, RemoteRanges: ranges, RemoteFQDNs: set.FQDNs}); err != nil {
					return err
				}
			}
		}
	}
	prefix, key := "in_", "saddr"
	if dir == ir.Out {
		prefix, key = "out_", "daddr"
	}
	var wg sync.WaitGroup
	for i, k := range flowSets {
		its := sets[i].done()
		if len(its) == 0 {
			continue
		}
		s := &flowSet{name: prefix + k.suffix, typ: k.typ, comment: k.comment, match: k.match}
		if strings.Contains(k.match, "%s") {
			s.match = fmt.Sprintf(k.match, key)
		}
		// The sets are independent: cut them on all cores.
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.elems, s.comments, s.ivs = r.elements(hrs, ruleSpans, its, strings.Contains(k.typ, "_addr"))
			countParts(s)
		}()
		r.flowSets = append(r.flowSets, s)
		fmt.Fprintf(b, "\t\t%s @%s accept comment %s\n", s.match, s.name, quote("pw:set "+s.name+": each element's comment names its rule"))
	}
	wg.Wait()
	b.adopt(&fqdn)
	return nil
}

// remoteSets are the remote address sets of a chain's host rules, looked
// up by name: those of rule i are sets[start[i]:start[i+1]], nil where
// no set has the name.
type remoteSets struct {
	sets  []*ir.AddrSet
	start []int32
}

func (rs remoteSets) of(i int) []*ir.AddrSet { return rs.sets[rs.start[i]:rs.start[i+1]] }

// slabSpans is the number of spans lookUp allocates at a time.
const slabSpans = 1024

// splitAt is the number of host rules (or comments) from which a chain's
// work is split over two cores: below it, a half is less than half a
// millisecond, and a wait for a busy core costs more than it saves.
const splitAt = 1024

// lookUp returns the spans of each host rule (spans) and its remote sets,
// each set's ranges computed (AddrSet.Ranges, kept by the set). The rules
// are independent and these are most of a large chain's cost before its
// sets are cut (a set lookup by name, the ranges copied out of an IPSet
// the first time): a large chain is done in two halves, side by side.
func lookUp(rs *ir.Ruleset, hrs []ir.HostRule) ([][]span, remoteSets) {
	ruleSpans := make([][]span, len(hrs))
	remotes := remoteSets{start: make([]int32, len(hrs)+1)}
	for i, hr := range hrs {
		remotes.start[i+1] = remotes.start[i] + int32(len(hr.Remote.Sets))
	}
	remotes.sets = make([]*ir.AddrSet, remotes.start[len(hrs)])
	do := func(lo, hi int) {
		// The rules' spans share arrays of slabSpans (one per rule would
		// be 10,000 allocations; one grown by doubling, twice the
		// memory): a rule that overflows one moves on to a larger copy.
		var slab []span
		for i := lo; i < hi; i++ {
			if cap(slab)-len(slab) < slabSpans/16 {
				slab = make([]span, 0, slabSpans)
			}
			n := len(slab)
			slab = spans(slab, hrs[i].Rule, i)
			ruleSpans[i] = slab[n:len(slab):len(slab)]
			found := remotes.of(i)
			for j, n := range hrs[i].Remote.Sets {
				set, ok := rs.Set(n)
				if !ok {
					continue
				}
				found[j] = set
				if !set.IsAny() {
					set.Ranges(ir.IPv4) // computes both families' ranges, once
				}
			}
		}
	}
	if len(hrs) < splitAt {
		do(0, len(hrs))
		return ruleSpans, remotes
	}
	// The first rule's lookup builds the set index if no one has, before
	// both halves use it.
	do(0, 1)
	mid := len(hrs) / 2
	par.Both(func() { do(1, mid) }, func() { do(mid, len(hrs)) })
	return ruleSpans, remotes
}

// anySet is the index in flowSets of protocol p's flows open to every
// address.
func anySet(p proto.Protocol) int {
	switch p {
	case proto.TCP:
		return 2
	case proto.UDP:
		return 5
	case proto.ICMP:
		return 7
	}
	return 9
}

// addrSet is the index in flowSets of p's flows with remote addresses of
// family f.
func addrSet(p proto.Protocol, f ir.Family) int {
	switch {
	case p == proto.ICMP:
		return 6
	case p == proto.ICMPv6:
		return 8
	case f == ir.IPv4:
		return anySet(p) - 2
	}
	return anySet(p) - 1
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
// They are appended to out.
func spans(out []span, r *ir.Rule, ri int) []span {
	for oi, o := range r.Origins {
		switch {
		case r.Protocol.HasPorts():
			ps := r.Ports
			if !slices.Equal(o.Ports, ps) {
				// Most rules have one origin, whose ports they are:
				// only the others are cut back.
				ps = o.Ports.Intersect(r.Ports)
			}
			for _, pr := range ps {
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
	origins int // index into the interned origin lists
}

// less orders boxes on the service axis, then by owner.
func (a box) compare(b box) int {
	return cmp.Or(cmp.Compare(a.proto, b.proto), cmp.Compare(a.lo, b.lo), cmp.Compare(a.hi, b.hi),
		cmp.Compare(a.rule, b.rule), cmp.Compare(a.origins, b.origins))
}

// interner numbers the lists of origin indices, so that boxes compare and
// hash as plain numbers.
type interner struct {
	ids   map[string]int
	lists [][]int
	// single numbers the lists of one origin: single[o] is the id of
	// [o], plus one (zero: none yet).
	single []int
}

func (in *interner) id(origins []int) int {
	// Most lists are one origin: numbered by a slice, without a key.
	if len(origins) == 1 {
		o := origins[0]
		if o < len(in.single) && in.single[o] > 0 {
			return in.single[o] - 1
		}
		if o >= len(in.single) {
			in.single = append(in.single, make([]int, o+1-len(in.single))...)
		}
		in.single[o] = len(in.lists) + 1
		in.lists = append(in.lists, []int{o})
		return len(in.lists) - 1
	}
	var buf [32]byte // the key of a few origins, off the heap
	key := buf[:0]
	for _, o := range origins {
		key = strconv.AppendInt(key, int64(o), 10)
		key = append(key, ' ')
	}
	if id, ok := in.ids[string(key)]; ok {
		return id
	}
	if in.ids == nil {
		in.ids = map[string]int{}
	}
	in.ids[string(key)] = len(in.lists)
	in.lists = append(in.lists, slices.Clone(origins))
	return len(in.lists) - 1
}

// elements cuts the items into disjoint elements: the kernel refuses
// overlapping elements in a concatenated interval set, and the union of
// the items is what the rules allow. Each piece belongs to the first rule
// that covers it; its comment names that rule and the origins of it that
// cover it. A piece runs over as many touching address intervals as hold
// it, so that a group's network stays one element where it can. The
// elements come in address order, then service order; comments are
// returned once per rule and origins, and each element's box names its
// comment by index (box.origins).
func (r *renderer) elements(hrs []ir.HostRule, ruleSpans [][]span, its []item, withAddr bool) ([]element, []string, []interval) {
	var in interner
	var sw sweep
	// spansOf gathers the spans of items ks, into scratch space that the
	// next call reuses.
	var scratch []span
	spansOf := func(ks ...int) []span {
		scratch = scratch[:0]
		for _, k := range ks {
			for _, ri := range its[k].rules {
				scratch = append(scratch, ruleSpans[ri]...)
			}
		}
		return scratch
	}
	// The comments are numbered as the boxes need them (named), and
	// written once every box is named (comments).
	var wanted []commentOf
	// A rule's comment is by the rule's index: byRule[rule] holds the
	// origins of its first comment and its index plus one (zero: none
	// yet); the rare other origins of the same rule go in ids, by
	// rule<<32 | origins.
	byRule := make([]struct{ origins, id int32 }, len(hrs))
	ids := map[uint64]int{}
	// named turns a list of boxes' origins into comment indices, once per
	// rule and origins.
	named := func(bs []box) {
		for i := range bs {
			b := &bs[i]
			var id int
			ok := false
			if first := byRule[b.rule]; first.id > 0 && int(first.origins) == b.origins {
				id, ok = int(first.id-1), true
			} else if first.id > 0 {
				id, ok = ids[uint64(b.rule)<<32|uint64(b.origins)]
			}
			if !ok {
				id = len(wanted)
				if byRule[b.rule].id == 0 {
					byRule[b.rule] = struct{ origins, id int32 }{int32(b.origins), int32(id + 1)}
				} else {
					ids[uint64(b.rule)<<32|uint64(b.origins)] = id
				}
				wanted = append(wanted, commentOf{int32(b.rule), int32(b.origins)})
			}
			b.origins = id
		}
	}
	if !withAddr {
		all := make([]int, len(its))
		for k := range its {
			all[k] = k
		}
		bs := sw.boxes(spansOf(all...), &in)
		named(bs)
		out := make([]element, len(bs))
		for i, b := range bs {
			out[i] = element{first: -1, last: -1, box: b}
		}
		return out, comments(hrs, wanted, in.lists), nil
	}
	// Intervals covered by the same items have the same boxes: the
	// networks of one group, typically. Those of one item (most) are
	// kept by item, the others by a key naming their items.
	ivs := elementary(its)
	single := make([][]box, len(its))
	cache := map[string][]box{}
	perIv := make([][]box, len(ivs))
	total := 0
	var key []byte
	for i, iv := range ivs {
		var bs []box
		if k := iv.items[0]; len(iv.items) == 1 {
			if bs = single[k]; bs == nil {
				bs = sw.boxes(spansOf(k), &in)
				named(bs)
				single[k] = bs
			}
		} else {
			key = key[:0]
			for _, k := range iv.items {
				key = strconv.AppendInt(key, int64(k), 10)
				key = append(key, ' ')
			}
			var ok bool
			if bs, ok = cache[string(key)]; !ok {
				bs = sw.boxes(spansOf(iv.items...), &in)
				named(bs)
				cache[string(key)] = bs
			}
		}
		perIv[i] = bs
		total += len(bs)
	}
	out := make([]element, 0, total)
	// prev holds, for the previous interval's boxes in order, the element
	// each one is in: a box of the next, touching interval that is also
	// there extends it.
	var prev, cur []int
	for i, iv := range ivs {
		bs := perIv[i]
		cur = append(cur[:0], make([]int, len(bs))...)
		touching := i > 0 && ivs[i-1].r.To().Next() == iv.r.From()
		j := 0
		for k, b := range bs {
			if touching {
				pb := perIv[i-1]
				for j < len(pb) && pb[j].compare(b) < 0 {
					j++
				}
				if j < len(pb) && pb[j] == b {
					e := prev[j]
					out[e].last = int32(i)
					cur[k] = e
					continue
				}
			}
			cur[k] = len(out)
			out = append(out, element{first: int32(i), last: int32(i), box: b})
		}
		prev, cur = cur, prev
	}
	// Elements start in address order, each interval's in service order:
	// sorted. (An element that grows keeps its start.)
	return out, comments(hrs, wanted, in.lists), ivs
}

// commentOf names an element comment: a rule (by its index among the
// host rules) and its origins (by their interned list).
type commentOf struct{ rule, origins int32 }

// comments writes the element comments cs, in order. Each is the same
// text building on its own (a large set has one per rule): many are
// written in two halves, side by side.
func comments(hrs []ir.HostRule, cs []commentOf, origins [][]int) []string {
	out := make([]string, len(cs))
	do := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			// Custom rules are named by their index (allow[N]): their
			// free text would repeat on every element of a large set,
			// and `portwall explain` shows it.
			rule := hrs[cs[i].rule].Rule
			out[i] = commentText(generators.BriefProvenance(rule.ID, rule.Origins, origins[cs[i].origins]))
		}
	}
	if len(cs) < splitAt {
		do(0, len(cs))
		return out
	}
	mid := len(cs) / 2
	par.Both(func() { do(0, mid) }, func() { do(mid, len(cs)) })
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
	n := 0
	for _, it := range its {
		n += len(it.ranges)
	}
	events := make([]event, 0, 2*n)
	for k, it := range its {
		for _, r := range it.ranges {
			events = append(events, event{r.From(), k, +1})
			if next := r.To().Next(); next.IsValid() && next.BitLen() == r.To().BitLen() {
				events = append(events, event{next, k, -1})
			}
		}
	}
	slices.SortFunc(events, func(a, b event) int { return a.at.Compare(b.at) })
	// count[k] is how many of item k's ranges cover the current point
	// (for a moment below zero when a range closes before its neighbour
	// opens at the same point); active lists the items with a count other
	// than zero, where[k] being k's place in it, for removal by swapping.
	count := make([]int, len(its))
	where := make([]int, len(its))
	var active []int
	// The intervals' item lists share one backing array.
	keys := make([]int, 0, n)
	out := make([]interval, 0, n)
	for i := 0; i < len(events); {
		at := events[i].at
		for ; i < len(events) && events[i].at == at; i++ {
			k := events[i].item
			was := count[k]
			count[k] += events[i].delta
			switch {
			case was == 0:
				where[k] = len(active)
				active = append(active, k)
			case count[k] == 0:
				last := active[len(active)-1]
				active[where[k]], where[last] = last, where[k]
				active = active[:len(active)-1]
			}
		}
		if len(active) == 0 {
			continue
		}
		end := lastOf(at)
		if i < len(events) {
			end = events[i].at.Prev()
		}
		start := len(keys)
		keys = append(keys, active...)
		ks := keys[start:len(keys):len(keys)]
		slices.Sort(ks)
		out = append(out, interval{netipx.IPRangeFrom(at, end), ks})
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

// sweep is the scratch space of boxes, kept from one call to the next.
type sweep struct {
	events, sorted   []uint64
	active, where    []int
	origins, singles []int
}

// sortByPoint sorts boxes' events by their point (bits 33 and up): a
// radix sort, in passes of 9 bits over the points' distance from the
// lowest (two passes for one protocol's ports), as a large flow set has
// its hundreds of thousands of events sorted. The order of the events at
// one point does not matter: boxes applies them all before it cuts the
// point's box.
func (sw *sweep) sortByPoint(events []uint64) {
	if len(events) < 128 {
		slices.Sort(events)
		return
	}
	lo, hi := events[0]>>33, events[0]>>33
	for _, e := range events {
		lo, hi = min(lo, e>>33), max(hi, e>>33)
	}
	sw.sorted = append(sw.sorted[:0], make([]uint64, len(events))...)
	src, dst := events, sw.sorted
	for shift := 0; (hi-lo)>>shift > 0; shift += 9 {
		var start [1 << 9]int
		for _, e := range src {
			start[(e>>33-lo)>>shift&(1<<9-1)]++
		}
		n := 0
		for d, c := range start {
			start[d], n = n, n+c
		}
		for _, e := range src {
			d := (e>>33 - lo) >> shift & (1<<9 - 1)
			dst[start[d]] = e
			start[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &events[0] {
		copy(events, src)
	}
}

// boxes cuts spans into disjoint boxes on the service axis, each owned by
// the first rule covering it, with the origins of that rule that do.
func (sw *sweep) boxes(spans []span, in *interner) []box {
	if len(spans) == 1 {
		// One span is one box: the common case of a network that one
		// rule alone allows.
		s := spans[0]
		sw.singles = append(sw.singles[:0], s.origin)
		return []box{{proto: s.proto, lo: s.lo, hi: s.hi, rule: s.rule, origins: in.id(sw.singles)}}
	}
	// Events packed in one number each (the point on the axis, then
	// close before open, then the span), sorted as plain integers: point
	// is proto<<16 | port, one past the end for a close.
	key := func(p proto.Protocol, v uint16) uint64 { return uint64(p.Number())<<16 | uint64(v) }
	events := sw.events[:0]
	for i, s := range spans {
		events = append(events, key(s.proto, s.lo)<<33|1<<32|uint64(i), (key(s.proto, s.hi)+1)<<33|uint64(i))
	}
	sw.sortByPoint(events)
	// active lists the spans covering the current point; where[i] is span
	// i's place in it, for removal by swapping.
	active := sw.active[:0]
	where := append(sw.where[:0], make([]int, len(spans))...)
	var out []box
	origins := sw.origins[:0]
	for i := 0; i < len(events); {
		at := events[i] >> 33
		for ; i < len(events) && events[i]>>33 == at; i++ {
			k := int(events[i] & (1<<32 - 1))
			if events[i]&(1<<32) != 0 {
				where[k] = len(active)
				active = append(active, k)
				continue
			}
			last := active[len(active)-1]
			active[where[k]], where[last] = last, where[k]
			active = active[:len(active)-1]
		}
		if len(active) == 0 || i == len(events) {
			continue
		}
		end := events[i]>>33 - 1
		owner := -1
		for _, k := range active {
			if owner < 0 || spans[k].rule < owner {
				owner = spans[k].rule
			}
		}
		origins = origins[:0]
		var p proto.Protocol
		for _, k := range active {
			if spans[k].rule == owner {
				origins = append(origins, spans[k].origin)
				p = spans[k].proto
			}
		}
		slices.Sort(origins)
		origins = slices.Compact(origins)
		b := box{proto: p, lo: uint16(at), hi: uint16(end), rule: owner, origins: in.id(origins)}
		if n := len(out); n > 0 && out[n-1].rule == b.rule && out[n-1].origins == b.origins && key(out[n-1].proto, out[n-1].hi)+1 == at {
			out[n-1].hi = b.hi
			continue
		}
		out = append(out, b)
	}
	sw.events, sw.active, sw.where, sw.origins = events, active, where, origins
	return out
}

// writeElems writes elements lo to hi of a flow set, one per line:
//
//	10.0.0.0/24 . 22 comment "pw:r386669d0a767 allow[302]",
func writeElems(b *place, s *flowSet, lo, hi int) {
	// Elements of one address range follow each other: its text is
	// formatted once.
	first, last := int32(-1), int32(-1)
	var addr []byte
	// Each element is one line, built on the stack and written at once.
	var buf [256]byte
	for i := lo; i < hi; i++ {
		e := s.elems[i]
		l := append(buf[:0], "\t\t\t"...)
		if e.first >= 0 {
			if e.first != first || e.last != last {
				first, last = e.first, e.last
				addr = appendRange(addr[:0], netipx.IPRangeFrom(s.ivs[first].r.From(), s.ivs[last].r.To()))
			}
			l = append(l, addr...)
			l = append(l, " . "...)
		}
		x := e.box
		if x.proto.HasPorts() {
			l = strconv.AppendInt(l, int64(x.lo), 10)
			if x.hi != x.lo {
				l = append(l, '-')
				l = strconv.AppendInt(l, int64(x.hi), 10)
			}
		} else {
			l = append(l, valueRange(x.lo, x.hi, func(v int) string { return typeName(x.proto, v) })...)
		}
		l = append(l, " comment \""...)
		l = append(l, s.comments[x.origins]...)
		l = append(l, '"')
		if i < len(s.elems)-1 {
			l = append(l, ',')
		}
		l = append(l, '\n')
		b.Write(l)
	}
}

func valueRange(lo, hi uint16, name func(int) string) string {
	if lo == hi {
		return name(int(lo))
	}
	return strconv.Itoa(int(lo)) + "-" + strconv.Itoa(int(hi))
}

func typeName(p proto.Protocol, t int) string { return proto.ICMPTypeName(p, uint8(t)) }
