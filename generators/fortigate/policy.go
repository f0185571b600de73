package fortigate

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/rules/ir"
)

// policy is one entry of a policy table: a firewall policy (name,
// srcintf, dstintf) or a local-in policy (intf, no name).
type policy struct {
	name               string
	srcintf, dstintf   []string
	intf               []string
	srcaddr, dstaddr   []string
	srcaddr6, dstaddr6 []string
	service            []string
	comments           string
}

// builder turns the rules into objects and policies.
type builder struct {
	rs *ir.Ruleset
	v  version
	fg Settings

	addrNames, svcNames, policyNames *namespace

	addresses map[string]*address
	groups    map[string]*addrGroup
	groupOf   map[string]string // "the ipv4 group of office" -> its name
	svcs      map[string]*service
	svcGroups map[string]*serviceGroup

	// Policies by table, in rule order. policy6 is used up to 6.2 only.
	policies, policies6, localIn, localIn6 []*policy

	ruleIDs map[string]bool
	notes   []string
	refused generators.Refusals
}

// Render writes the snippet for the ruleset's network view.
func Render(rs *ir.Ruleset, fg Settings) ([]byte, error) {
	if rs == nil {
		return nil, fmt.Errorf("fortigate: no ruleset")
	}
	v, err := parseVersion(fg.Version)
	if err != nil {
		return nil, err
	}
	if err := checkLogTraffic(fg.LogTraffic); err != nil {
		return nil, err
	}
	b := &builder{
		rs: rs, v: v, fg: fg,
		// Addresses and groups of both families share one namespace, and
		// so do custom services and service groups: policies name either.
		addrNames:   newNamespace("address", v.maxName()),
		svcNames:    newNamespace("service", v.maxName()),
		policyNames: newNamespace("policy", maxPolicyName),
		addresses:   map[string]*address{},
		groups:      map[string]*addrGroup{},
		groupOf:     map[string]string{},
		svcs:        map[string]*service{},
		svcGroups:   map[string]*serviceGroup{},
		ruleIDs:     map[string]bool{},
	}
	if err := b.checkSelf(); err != nil {
		return nil, err
	}
	for _, r := range rs.Rules {
		b.rule(r)
	}
	if err := b.refused.Err(); err != nil {
		return nil, err
	}
	return b.write(), nil
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
	if !generators.SafeName.MatchString(self) {
		return fmt.Errorf("fortigate: self set name %q cannot go into a FortiOS name", self)
	}
	if s, ok := b.rs.Set(self); self == ir.AnySet || ok && s.IsAny() {
		return fmt.Errorf("fortigate: self = %q includes every address; it must name the host or group holding the FortiGate's own addresses", self)
	}
	return nil
}

// rule renders one IR rule: the part from the FortiGate itself is left
// out (FortiOS does not filter its own traffic with policies), the part
// to it becomes local-in policies, the rest a firewall policy.
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
	if !generators.SafeName.MatchString(r.ID) {
		b.errorf(r, "its ID cannot go into a FortiOS name")
		ok = false
	}
	if b.ruleIDs[r.ID] {
		// Names derive from rule IDs: two rules under one ID would share
		// a service and a policy name.
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
		} else if !generators.SafeName.MatchString(n) {
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

// side returns the address names for sets in family f: "all" only when a
// set is every address, otherwise the sets' groups.
func (b *builder) side(sets []string, f ir.Family) ([]string, error) {
	var out []string
	for _, n := range sets {
		s, _ := b.rs.Set(n)
		if s.IsAny() {
			return []string{"all"}, nil
		}
		if len(s.Ranges(f)) == 0 && len(s.FQDNs) == 0 {
			continue
		}
		g, err := b.group(s, f)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	slices.Sort(out)
	return out, nil
}

// interfaces maps sets to the interfaces or zones they sit behind.
func (b *builder) interfaces(r *ir.Rule, sets []string) (map[string][]string, bool) {
	out := map[string][]string{}
	ok := true
	for _, n := range sets {
		intf, found := b.fg.Interfaces[n]
		if !found {
			intf, found = b.fg.Interfaces[ir.AnySet]
		}
		switch {
		case !found:
			// About the section, not the rule: one refusal however many
			// rules reach the set.
			b.refused = append(b.refused, &generators.Refusal{Target: "fortigate", Section: Section.Name(), Key: []any{"interfaces"},
				Msg: "no interface for " + n, Fix: fmt.Sprintf("add %s = \"<interface or zone>\" (or any = \"...\" for every set) under [fortigate.interfaces]", n)})
			ok = false
		case !interfaceName.MatchString(intf):
			b.errorf(r, "interface %q of %s is not a FortiOS interface or zone name", intf, n)
			ok = false
		default:
			out[intf] = append(out[intf], n)
		}
	}
	return out, ok
}

// intfList is the interfaces of a policy: sorted, and just "any" when one
// of them is "any", which holds the others.
func intfList(m map[string][]string) []string {
	if _, ok := m["any"]; ok {
		return []string{"any"}
	}
	return slices.Sorted(maps.Keys(m))
}

// forward renders the firewall policies of a rule between two sides that
// are not the FortiGate: per part of the rule, one policy holding both
// families (from 6.4), or a policy and a policy6 (up to 6.2).
func (b *builder) forward(r *ir.Rule, from, to []string) {
	fams := b.families(r, from, to)
	if len(fams) == 0 {
		b.note(r, "%s; no policy", b.missing(r, from, to))
		return
	}
	// The families each policy carries, with its interfaces: those of the
	// sets that have addresses in them, so that a set dropped from a
	// family does not bring its interface along.
	type shape struct {
		fams             []ir.Family
		srcintf, dstintf []string
	}
	var shapes []shape
	ok := true
	for _, fs := range b.policyFamilies(fams) {
		src, ok1 := b.interfaces(r, b.contributing(from, fs))
		dst, ok2 := b.interfaces(r, b.contributing(to, fs))
		ok = ok && ok1 && ok2
		shapes = append(shapes, shape{fs, intfList(src), intfList(dst)})
	}
	b.eachPart(r, ok, func(pt part, svc []string) error {
		for _, sh := range shapes {
			id := r.ID + pt.suffix
			name, _, err := b.policyNames.claim(policyName(id, sh.fams[0], b.v.merged()), "rule "+id+" "+sh.fams[0].String())
			if err != nil {
				return err
			}
			p := &policy{name: name, srcintf: sh.srcintf, dstintf: sh.dstintf, service: svc, comments: pt.comment}
			for _, f := range sh.fams {
				src, err1 := b.side(from, f)
				dst, err2 := b.side(to, f)
				if err := firstErr(err1, err2); err != nil {
					return err
				}
				// policy6 names IPv6 objects in srcaddr and dstaddr.
				if f == ir.IPv6 && b.v.merged() {
					p.srcaddr6, p.dstaddr6 = src, dst
				} else {
					p.srcaddr, p.dstaddr = src, dst
				}
			}
			if sh.fams[0] == ir.IPv6 && !b.v.merged() {
				b.policies6 = append(b.policies6, p)
			} else {
				b.policies = append(b.policies, p)
			}
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

// policyFamilies groups a rule's families into policies: one policy for
// both from 6.4, one per family before.
func (b *builder) policyFamilies(fams []ir.Family) [][]ir.Family {
	if b.v.merged() {
		return [][]ir.Family{fams}
	}
	var out [][]ir.Family
	for _, f := range fams {
		out = append(out, []ir.Family{f})
	}
	return out
}

// contributing lists the sets that have addresses in one of fams.
func (b *builder) contributing(sets []string, fams []ir.Family) []string {
	var out []string
	for _, n := range sets {
		if slices.ContainsFunc(fams, func(f ir.Family) bool { return b.has([]string{n}, f) }) {
			out = append(out, n)
		}
	}
	return out
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
// local-in policies, per family. Up to 7.x intf holds one interface, so
// each source interface gets its own entry with the sets behind it; from
// 8.0 one entry lists them all.
func (b *builder) localInRule(r *ir.Rule, from []string) {
	self := []string{b.fg.Self}
	fams := b.families(r, from, self)
	if len(fams) == 0 {
		b.note(r, "to the FortiGate itself: %s; no local-in policy", b.missing(r, from, self))
		return
	}
	type entry struct{ intf, from []string }
	entries := map[ir.Family][]entry{}
	ok := true
	for _, f := range fams {
		sets := b.contributing(from, []ir.Family{f})
		byIntf, found := b.interfaces(r, sets)
		ok = ok && found
		if b.v.localInList() {
			entries[f] = []entry{{intfList(byIntf), sets}}
			continue
		}
		for _, intf := range slices.Sorted(maps.Keys(byIntf)) {
			entries[f] = append(entries[f], entry{[]string{intf}, byIntf[intf]})
		}
	}
	b.eachPart(r, ok, func(pt part, svc []string) error {
		for _, f := range fams {
			for _, e := range entries[f] {
				src, err1 := b.side(e.from, f)
				dst, err2 := b.side(self, f)
				if err := firstErr(err1, err2); err != nil {
					return err
				}
				// local-in-policy6 names IPv6 objects in srcaddr and dstaddr.
				p := &policy{intf: e.intf, srcaddr: src, dstaddr: dst, service: svc, comments: pt.comment}
				if f == ir.IPv4 {
					b.localIn = append(b.localIn, p)
				} else {
					b.localIn6 = append(b.localIn6, p)
				}
			}
		}
		return nil
	})
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
