package fortigate

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"go4.org/netipx"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/zones"
	"github.com/portwall/portwall/rules/ir"
)

// The policy tables.
const (
	tablePolicy   = "firewall policy"
	tablePolicy6  = "firewall policy6"
	tableLocalIn  = "firewall local-in-policy"
	tableLocalIn6 = "firewall local-in-policy6"
)

// policy is one entry of a policy table: a firewall policy (name,
// srcintf, dstintf) or a local-in policy (intf, no name).
type policy struct {
	table              string
	rule               *ir.Rule
	part               part
	srcintf, dstintf   []string
	intf               []string
	srcaddr, dstaddr   []string
	srcaddr6, dstaddr6 []string
	service            []string
	comments           string
	// name is given once every policy is known (namePolicies).
	name string
}

// builder turns the rules into objects and policies.
type builder struct {
	rs *ir.Ruleset
	v  version
	fg Settings
	rt *zones.Map

	addrNames, svcNames *namespace

	addresses map[string]*address
	groups    map[string]*addrGroup
	groupOf   map[string]string // "the ipv4 group of office" -> its name
	svcs      map[string]*service
	svcGroups map[string]*serviceGroup

	// Firewall policies (policy and, up to 6.2, policy6) and local-in
	// policies, in rule order.
	policies, localIn []*policy

	// used are the [fortigate.interfaces] keys some rule's side sits
	// behind; anyUsed: some side is every address.
	used    map[string]bool
	ruleIDs map[string]bool
	notes   []string
	refused generators.Refusals

	// placed memoizes where a set's addresses of one family sit: many
	// rules share a set, and placing one intersects it with every
	// interface's addresses.
	placed map[setFamily]zones.Placement
}

type setFamily struct {
	set string
	f   ir.Family
}

// place is where set s (named n) sits in family f.
func (b *builder) place(n string, s *ir.AddrSet, f ir.Family) zones.Placement {
	k := setFamily{n, f}
	if p, ok := b.placed[k]; ok {
		return p
	}
	if b.placed == nil {
		b.placed = map[setFamily]zones.Placement{}
	}
	p := b.rt.Place(zones.FamilySet(s, f), s.FQDNs)
	b.placed[k] = p
	return p
}

// Render writes the snippet for the ruleset's network view.
func Render(rs *ir.Ruleset, fg Settings) ([]byte, error) {
	b, err := build(rs, fg)
	if err != nil {
		return nil, err
	}
	return b.write(), nil
}

// UnusedInterfaces lists the keys of [fortigate.interfaces] behind which
// no side of any rule sits: a mapping that changes nothing, most likely a
// mistake (lint reports it). A profile the backend refuses has none.
func UnusedInterfaces(rs *ir.Ruleset, fg Settings) []string {
	b, err := build(rs, fg)
	if err != nil {
		return nil
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(fg.Interfaces)) {
		if !b.used[k] {
			out = append(out, k)
		}
	}
	return out
}

// build renders the rules into objects and named policies.
func build(rs *ir.Ruleset, fg Settings) (*builder, error) {
	if rs == nil {
		return nil, fmt.Errorf("fortigate: no ruleset")
	}
	// The section's values were checked when the profile was read;
	// settings built otherwise are refused at their key.
	var refused generators.Refusals
	v, err := parseVersion(fg.Version)
	if err != nil {
		refused = append(refused, keyRefusal("version", strings.TrimPrefix(err.Error(), "fortigate: ")))
	}
	if err := checkLogTraffic(fg.LogTraffic); err != nil {
		refused = append(refused, keyRefusal("logtraffic", strings.TrimPrefix(err.Error(), "fortigate: ")))
	}
	if fg.VDOM != "" && !vdomPattern().MatchString(fg.VDOM) {
		refused = append(refused, keyRefusal("vdom", fmt.Sprintf("VDOM name %q is not one FortiOS accepts", fg.VDOM)))
	}
	if _, err := parsePlace(fg.Place); err != nil {
		refused = append(refused, keyRefusal("place", err.Error()))
	}
	if err := refused.Err(); err != nil {
		return nil, err
	}
	b := &builder{
		rs: rs, v: v, fg: fg,
		// Addresses and groups of both families share one namespace, and
		// so do custom services and service groups: policies name either.
		addrNames: newNamespace("address", v.maxName()),
		svcNames:  newNamespace("service", v.maxName()),
		addresses: map[string]*address{},
		groups:    map[string]*addrGroup{},
		groupOf:   map[string]string{},
		svcs:      map[string]*service{},
		svcGroups: map[string]*serviceGroup{},
		used:      map[string]bool{},
		ruleIDs:   map[string]bool{},
	}
	if err := b.checkSelf(); err != nil {
		return nil, err
	}
	if err := b.buildRoutes(); err != nil {
		return nil, err
	}
	for _, r := range rs.Rules {
		b.rule(r)
	}
	if err := b.refused.Err(); err != nil {
		return nil, err
	}
	if err := b.namePolicies(); err != nil {
		return nil, err
	}
	return b, nil
}

// buildRoutes reads [fortigate.interfaces] (Settings.Zones).
func (b *builder) buildRoutes() error {
	rt, err := b.fg.Zones(b.rs)
	b.rt = rt
	return err
}

func (b *builder) errorf(r *ir.Rule, format string, args ...any) {
	b.refused = append(b.refused, &generators.Refusal{Target: "fortigate", Rule: r, Msg: fmt.Sprintf(format, args...)})
}

func (b *builder) note(r *ir.Rule, format string, args ...any) {
	b.notes = append(b.notes, fmt.Sprintf("%s: %s", ruleLabel(r), fmt.Sprintf(format, args...)))
}

// checkSelf refuses a self set that cannot stand for the FortiGate's own
// addresses: every address would turn every rule to "any" into traffic
// to the FortiGate.
func (b *builder) checkSelf() error {
	self := b.fg.Self
	if self == "" {
		return nil
	}
	if !generators.SafeName(self) {
		return keyRefusal("self", fmt.Sprintf("self set name %q cannot go into a FortiOS name", self))
	}
	if s, ok := b.rs.Set(self); self == ir.AnySet || ok && s.IsAny() {
		return keyRefusal("self", fmt.Sprintf("self = %q includes every address; it must name the host or group holding the FortiGate's own addresses", self))
	}
	return nil
}

// keyRefusal refuses a value of the [fortigate] section, at its key.
func keyRefusal(key, msg string) *generators.Refusal {
	return &generators.Refusal{Target: "fortigate", Section: Section.Name(), Key: []any{key}, Msg: msg}
}

// rule renders one IR rule: the part from the FortiGate itself is left
// out (FortiOS does not filter its own traffic with policies), the part
// to it becomes local-in policies, the rest firewall policies.
func (b *builder) rule(r *ir.Rule) {
	if !b.checkRule(r) {
		return
	}
	from, to := r.From.Sets, r.To.Sets
	if self := b.fg.Self; self != "" {
		if slices.Contains(from, self) {
			b.note(r, "%s from the FortiGate itself (self = %s) is its own traffic, which firewall policies do not filter; left out", wholeOrPart(from), self)
			from = without(from, self)
		}
		if slices.Contains(to, self) && len(from) > 0 {
			if b.fg.LocalIn {
				b.localInRule(r, from)
			} else {
				b.note(r, "%s to the FortiGate itself (self = %s) needs local-in policies, which are off (set local_in = true under [fortigate]); left out", wholeOrPart(to), self)
			}
			to = without(to, self)
		}
	}
	if len(from) > 0 && len(to) > 0 {
		b.forward(r, from, to)
	}
}

// wholeOrPart says whether a note is about a whole rule or the part of it one
// set stands for.
func wholeOrPart(sets []string) string {
	if len(sets) == 1 {
		return "the rule"
	}
	return "the part"
}

func without(sets []string, s string) []string {
	return slices.DeleteFunc(slices.Clone(sets), func(x string) bool { return x == s })
}

// checkRule refuses what the snippet cannot carry faithfully.
func (b *builder) checkRule(r *ir.Rule) bool {
	ok := true
	if !generators.SafeName(r.ID) {
		b.errorf(r, "its ID cannot go into a FortiOS comment")
		ok = false
	}
	if b.ruleIDs[r.ID] {
		// Comments and policy names identify rules by their IDs.
		b.errorf(r, "another rule has the same ID")
		ok = false
	}
	b.ruleIDs[r.ID] = true
	if r.Program != "" {
		b.errorf(r, "it is limited to the program %s, which FortiGate policies cannot match", r.Program)
		ok = false
	}
	switch {
	case r.Protocol.HasPorts():
		if len(r.Ports) == 0 {
			b.errorf(r, "%s without ports", r.Protocol)
			ok = false
		}
	case r.Protocol.IsICMP():
	default:
		b.errorf(r, "protocol %s has no FortiOS service", r.Protocol)
		ok = false
	}
	for _, n := range append(slices.Clone(r.From.Sets), r.To.Sets...) {
		if _, found := b.rs.Set(n); !found {
			b.errorf(r, "unknown address set %q", n)
			ok = false
		} else if !generators.SafeName(n) {
			b.errorf(r, "address set name %q cannot go into a FortiOS name (letters, digits, '_', '.' and '-' only)", n)
			ok = false
		}
	}
	if len(r.From.Sets) == 0 || len(r.To.Sets) == 0 {
		b.errorf(r, "a side without address sets")
		ok = false
	}
	return ok
}

// families lists the IP versions a policy between two sides carries:
// those the protocol runs over and both sides have addresses of. A side
// with no address of a family drops the family, never the address match.
func (b *builder) families(r *ir.Rule, from, to []string) []ir.Family {
	var out []ir.Family
	for _, f := range ir.Families {
		if f.Carries(r.Protocol) && b.has(from, f) && b.has(to, f) {
			out = append(out, f)
		}
	}
	return out
}

// has reports whether the sets hold addresses of family f (host names
// count for both families, as in the IR).
func (b *builder) has(sets []string, f ir.Family) bool {
	for _, n := range sets {
		s, _ := b.rs.Set(n)
		if s.IsAny() || len(s.Ranges(f)) > 0 || len(s.FQDNs) > 0 {
			return true
		}
	}
	return false
}

// sideOf is where one side of a rule sits, per family: every address
// (any) on every interface, or the sets' addresses behind each interface.
type sideOf struct {
	any bool
	// pieces: family -> interface -> the parts of sets behind it.
	pieces map[ir.Family]map[string][]piece
}

// piece is the part of one set behind one interface, in one family.
type piece struct {
	set *ir.AddrSet
	// whole: the set sits wholly behind the interface, which its own
	// group stands for.
	whole bool
	ips   *netipx.IPSet
	fqdns []string
}

// at returns the address names of family f behind intf ("all" for a side
// of every address), creating the groups on first use: a set wholly
// behind one interface is its group (pw-g-SET), a set split over several
// is one group per interface (pw-g-SET.INTF) holding the addresses behind
// it.
func (b *builder) at(s sideOf, f ir.Family, intf string) ([]string, error) {
	if s.any {
		return []string{"all"}, nil
	}
	var out []string
	for _, p := range s.pieces[f][intf] {
		var name string
		var err error
		if p.whole {
			name, err = b.group(p.set, f)
		} else {
			name, err = b.portion(p.set, f, intf, p.ips, p.fqdns)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return out, nil
}

// has reports whether the side has addresses of family f behind intf.
func (s sideOf) has(f ir.Family, intf string) bool {
	return s.any || len(s.pieces[f][intf]) > 0
}

// intfs lists the interfaces the side sits behind in family f.
func (s sideOf) intfs(b *builder, f ir.Family) []string {
	if s.any {
		return b.rt.Interfaces()
	}
	return slices.Sorted(maps.Keys(s.pieces[f]))
}

// side places the sets of one side of rule r behind their interfaces,
// family by family. What no key holds, with no default route, is refused
// at the set.
func (b *builder) side(sets []string, fams []ir.Family) (sideOf, bool) {
	out := sideOf{pieces: map[ir.Family]map[string][]piece{}}
	for _, n := range sets {
		if s, _ := b.rs.Set(n); s.IsAny() {
			_, deflKey := b.rt.Default()
			if deflKey == "" {
				b.refused = append(b.refused, &generators.Refusal{Target: "fortigate", Set: n,
					Msg: fmt.Sprintf("%s is every address, part of which sits behind no interface: [fortigate.interfaces] has no default route", n),
					Fix: "add any = \"<interface or zone>\" (the default route, the Internet's side) under [fortigate.interfaces]"})
				return out, false
			}
			// Every address: behind every interface, the default route
			// (the Internet's side) among them.
			b.used[deflKey] = true
			out.any = true
			return out, true
		}
	}
	ok := true
	for _, f := range fams {
		byIntf := map[string][]piece{}
		for _, n := range sets {
			s, _ := b.rs.Set(n)
			if len(s.Ranges(f)) == 0 && len(s.FQDNs) == 0 {
				continue
			}
			p := b.place(n, s, f)
			for _, k := range p.Keys {
				b.used[k] = true
			}
			if !p.Covered() {
				b.refused = append(b.refused, &generators.Refusal{Target: "fortigate", Set: n,
					Msg: fmt.Sprintf("%s of %s sits behind no interface: no key of [fortigate.interfaces] holds it and there is no default route", p.UncoveredText(), n),
					Fix: "add a key that holds it (a group, host, CIDR or host name = \"<interface or zone>\"), or any = \"<interface>\" for the default route, under [fortigate.interfaces]"})
				ok = false
				continue
			}
			intfs := p.Interfaces()
			for _, intf := range intfs {
				byIntf[intf] = append(byIntf[intf], piece{set: s, whole: len(intfs) == 1, ips: p.IPs[intf], fqdns: p.FQDNs[intf]})
			}
		}
		out.pieces[f] = byIntf
	}
	return out, ok
}

// pair is one policy's interfaces.
type pair struct{ src, dst []string }

// crosses reports whether traffic from interface a to b crosses the
// FortiGate as a policy sees it: not when both are the same interface
// (unless intra_interface asks for it). "any" holds every interface.
func (b *builder) crosses(a, c string) bool {
	return a != c || a == "any" || b.fg.IntraInterface
}

// others is every interface but intf (all of them with intra_interface).
func (b *builder) others(intf string) []string {
	return slices.DeleteFunc(slices.Clone(b.rt.Interfaces()), func(i string) bool { return !b.crosses(i, intf) })
}

// pairs lists the interface pairs of a policy between two placed sides
// in family f: one policy per pair of interfaces, so that the addresses
// behind one interface are never matched arriving on another; a side of
// every address takes every other interface in one policy ("all" is
// right behind each). Pairs that do not cross the FortiGate go to skipped.
func (b *builder) pairs(src, dst sideOf, f ir.Family, skipped map[string]bool) []pair {
	var out []pair
	switch {
	case src.any && dst.any:
		for _, s := range b.rt.Interfaces() {
			if d := b.others(s); len(d) > 0 {
				out = append(out, pair{[]string{s}, d})
			}
		}
	case src.any:
		for _, d := range dst.intfs(b, f) {
			if s := b.others(d); len(s) > 0 {
				out = append(out, pair{s, []string{d}})
			} else {
				skipped[d+" to "+d] = true
			}
		}
	case dst.any:
		for _, s := range src.intfs(b, f) {
			if d := b.others(s); len(d) > 0 {
				out = append(out, pair{[]string{s}, d})
			} else {
				skipped[s+" to "+s] = true
			}
		}
	default:
		for _, s := range src.intfs(b, f) {
			for _, d := range dst.intfs(b, f) {
				if b.crosses(s, d) {
					out = append(out, pair{[]string{s}, []string{d}})
				} else {
					skipped[s+" to "+d] = true
				}
			}
		}
	}
	return out
}

// collapse writes an interface list as a policy holds it: just "any" when
// "any" is one of them, which holds the others.
func collapse(intfs []string) []string {
	if slices.Contains(intfs, "any") {
		return []string{"any"}
	}
	return intfs
}

// forward renders the firewall policies of a rule between two sides that
// are not the FortiGate: per part of the rule and pair of interfaces, one
// policy holding both families (from 6.4), or a policy and a policy6 (up
// to 6.2).
func (b *builder) forward(r *ir.Rule, from, to []string) {
	fams := b.families(r, from, to)
	if len(fams) == 0 {
		b.note(r, "%s; no policy", b.missing(r, from, to))
		return
	}
	src, ok1 := b.side(from, fams)
	dst, ok2 := b.side(to, fams)
	type shape struct {
		table string
		pair  pair
		fams  []ir.Family
	}
	var shapes []shape
	skipped := map[string]bool{}
	// A policy per pair; from 6.4 a pair's policy holds every family
	// both sides have there.
	byPair := map[string]int{}
	for _, f := range fams {
		table := tablePolicy
		if f == ir.IPv6 && !b.v.merged() {
			table = tablePolicy6
		}
		for _, p := range b.pairs(src, dst, f, skipped) {
			if !src.has(f, p.src[0]) || !dst.has(f, p.dst[0]) {
				continue
			}
			key := table + "|" + strings.Join(p.src, " ") + "|" + strings.Join(p.dst, " ")
			if i, ok := byPair[key]; ok {
				shapes[i].fams = append(shapes[i].fams, f)
				continue
			}
			byPair[key] = len(shapes)
			shapes = append(shapes, shape{table, p, []ir.Family{f}})
		}
	}
	if len(skipped) > 0 {
		what := "the rule"
		if len(shapes) > 0 {
			what = "the part"
		}
		b.note(r, "%s %s does not cross the FortiGate (both sides behind one interface); left out (intra_interface = true under [fortigate] writes it)",
			what, strings.Join(slices.Sorted(maps.Keys(skipped)), ", "))
	}
	// Objects only for what a policy uses: a rule left out leaves none.
	b.eachPart(r, ok1 && ok2 && len(shapes) > 0, func(pt part, svc []string) error {
		for _, sh := range shapes {
			p := &policy{table: sh.table, rule: r, part: pt, srcintf: collapse(sh.pair.src), dstintf: collapse(sh.pair.dst), service: svc, comments: pt.comment}
			for _, f := range sh.fams {
				s, err1 := b.at(src, f, sh.pair.src[0])
				d, err2 := b.at(dst, f, sh.pair.dst[0])
				if err := firstErr(err1, err2); err != nil {
					return err
				}
				// policy6 names IPv6 objects in srcaddr and dstaddr.
				if f == ir.IPv6 && sh.table == tablePolicy {
					p.srcaddr6, p.dstaddr6 = s, d
				} else {
					p.srcaddr, p.dstaddr = s, d
				}
			}
			b.policies = append(b.policies, p)
		}
		return nil
	})
}

// eachPart renders a rule part by part (parts: one per provenance chunk),
// each with its services, into emit; the first error is the rule's. ok
// false (a problem already reported) still checks the parts, so that one
// run reports every problem, but renders nothing.
func (b *builder) eachPart(r *ir.Rule, ok bool, emit func(pt part, svc []string) error) {
	pts, err := parts(r)
	if err != nil {
		b.errorf(r, "%v", err)
		return
	}
	if !ok {
		return
	}
	for _, pt := range pts {
		svc, err := b.services(r, pt)
		if err == nil {
			err = emit(pt, svc)
		}
		if err != nil {
			b.errorf(r, "%v", err)
			return
		}
	}
}

// missing says which sides lack which IP version, for a note on a rule
// that has none in common.
func (b *builder) missing(r *ir.Rule, from, to []string) string {
	var out []string
	for _, f := range ir.Families {
		if !f.Carries(r.Protocol) {
			continue
		}
		var lack []string
		for _, side := range [][]string{from, to} {
			if !b.has(side, f) {
				lack = append(lack, strings.Join(side, ","))
			}
		}
		out = append(out, fmt.Sprintf("no %s address in %s", famName(f), strings.Join(lack, " nor in ")))
	}
	return strings.Join(out, ", ")
}

func famName(f ir.Family) string {
	if f == ir.IPv4 {
		return "IPv4"
	}
	return "IPv6"
}

// localInRule renders the part of a rule to the FortiGate itself as
// local-in policies, per family and source interface: each entry holds
// the sources behind its interface, so that none is matched arriving on
// another. A source of every address needs no such care: before 8.0 it
// gets an entry per interface (intf holds one), from 8.0 one entry
// listing them.
func (b *builder) localInRule(r *ir.Rule, from []string) {
	self := []string{b.fg.Self}
	fams := b.families(r, from, self)
	if len(fams) == 0 {
		b.note(r, "to the FortiGate itself: %s; no local-in policy", b.missing(r, from, self))
		return
	}
	src, ok := b.side(from, fams)
	type entry struct {
		fam  ir.Family
		intf []string
	}
	var entries []entry
	for _, f := range fams {
		if src.any && b.v.localInList() {
			entries = append(entries, entry{f, collapse(b.rt.Interfaces())})
			continue
		}
		for _, i := range src.intfs(b, f) {
			entries = append(entries, entry{f, []string{i}})
		}
	}
	b.eachPart(r, ok, func(pt part, svc []string) error {
		for _, e := range entries {
			dst, err := b.group(mustSet(b.rs, b.fg.Self), e.fam)
			if err != nil {
				return err
			}
			srcaddr, err := b.at(src, e.fam, e.intf[0])
			if err != nil {
				return err
			}
			// local-in-policy6 names IPv6 objects in srcaddr and dstaddr.
			p := &policy{table: tableLocalIn, rule: r, part: pt, intf: e.intf, srcaddr: srcaddr, dstaddr: []string{dst},
				service: svc, comments: pt.comment}
			if e.fam == ir.IPv6 {
				p.table = tableLocalIn6
			}
			b.localIn = append(b.localIn, p)
		}
		return nil
	})
}

func mustSet(rs *ir.Ruleset, name string) *ir.AddrSet {
	s, ok := rs.Set(name)
	if !ok {
		panic("fortigate: no set " + name)
	}
	return s
}

// hostSet is a host as an address set, for a key of [fortigate.interfaces]
// naming a host no rule uses (settings built without the profile).
func hostSet(h *ir.Host) *ir.AddrSet {
	s := &ir.AddrSet{Name: h.Name, Kind: ir.SetHost, Hosts: []string{h.Name}}
	var b netipx.IPSetBuilder
	for _, a := range h.Addrs {
		b.Add(a)
	}
	s.IPs, _ = b.IPSet()
	return s
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
