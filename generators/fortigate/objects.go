package fortigate

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"go4.org/netipx"

	"github.com/portwall/portwall/generators/zones"
	"github.com/portwall/portwall/rules/addr"
	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

type addrKind uint8

const (
	kindSubnet addrKind = iota
	kindRange
	kindFQDN
)

// address is one firewall address (IPv4) or address6 (IPv6) object.
type address struct {
	name   string
	family ir.Family
	kind   addrKind
	prefix netip.Prefix
	rng    netipx.IPRange
	fqdn   string
}

// addrGroup is one addrgrp (IPv4) or addrgrp6 (IPv6): the addresses of an
// IR set in one family.
type addrGroup struct {
	name    string
	family  ir.Family
	comment string
	members []string // sorted
}

// service is one custom service: TCP or UDP ports, or ICMP(v6) with one
// type or every type.
type service struct {
	name     string
	protocol proto.Protocol
	ports    ports.Set
	icmpType int // -1: every type
	comment  string
}

// serviceGroup holds the services of an ICMP rule with several types:
// FortiOS takes one icmptype per service.
type serviceGroup struct {
	name    string
	comment string
	members []string
}

// maxSplit bounds how far a range that the set's references add is cut
// into objects. Hosts listed by a group merge into ranges in the IR: a
// range of a few addresses becomes one object per address, which the
// hosts' own groups share; otherwise a prefix, a few prefixes, or one
// range object.
const maxSplit = 4

// group returns the name of the address group holding set s's addresses
// of family f, creating it and its members on first use. The caller has
// checked that s has addresses of f and is not every address.
func (b *builder) group(s *ir.AddrSet, f ir.Family) (string, error) {
	return b.makeGroup(s, f, "", zones.FamilySet(s, f), s.FQDNs)
}

// portion returns the name of the group holding the part of set s's
// addresses of family f (and host names) behind interface intf.
func (b *builder) portion(s *ir.AddrSet, f ir.Family, intf string, ips *netipx.IPSet, fqdns []string) (string, error) {
	if ips == nil {
		ips = &netipx.IPSet{}
	}
	return b.makeGroup(s, f, intf, ips, fqdns)
}

func (b *builder) makeGroup(s *ir.AddrSet, f ir.Family, intf string, within *netipx.IPSet, fqdns []string) (string, error) {
	key := fmt.Sprintf("the %s group of %s", f, s.Name)
	if intf != "" {
		key += " behind " + intf
	}
	if n, ok := b.groupOf[key]; ok {
		return n, nil
	}
	members, err := b.members(s, f, within, fqdns)
	if err != nil {
		return "", err
	}
	name, _, err := b.addrNames.claim(groupName(s.Name, f, intf), key)
	if err != nil {
		return "", err
	}
	comment := setComment(b.rs, s)
	if intf != "" {
		comment = "part behind " + intf + " of " + comment
	}
	b.groups[name] = &addrGroup{name: name, family: f, comment: comment, members: members}
	b.groupOf[key] = name
	return name, nil
}

// members creates the address objects of set s in family f that lie
// within a region (all of the set's addresses, or those behind one
// interface), with the host names given: one per member as the profile
// wrote it, when it lies within, one per prefix (or range) of the rest,
// one per host name. Together they hold exactly the set's resolved
// addresses within the region; a member the resolved set does not hold is
// an inconsistent IR, refused rather than trusted.
func (b *builder) members(s *ir.AddrSet, f ir.Family, within *netipx.IPSet, fqdns []string) ([]string, error) {
	var names []string
	var own netipx.IPSetBuilder
	for _, m := range s.Members {
		switch m.Kind {
		case addr.KindPrefix:
			p := m.Prefix.Masked()
			if !p.IsValid() || !f.Has(p.Addr()) {
				continue
			}
			if s.IPs == nil || !s.IPs.ContainsPrefix(p) {
				return nil, fmt.Errorf("set %s lists %s, which its resolved addresses do not hold", s.Name, p)
			}
			if !within.ContainsPrefix(p) {
				continue
			}
			own.AddPrefix(p)
			n, err := b.subnet(p, f)
			if err != nil {
				return nil, err
			}
			names = append(names, n)
		case addr.KindRange:
			if !m.Range.IsValid() || !f.Has(m.Range.From()) {
				continue
			}
			if s.IPs == nil || !s.IPs.ContainsRange(m.Range) {
				return nil, fmt.Errorf("set %s lists %s, which its resolved addresses do not hold", s.Name, m.Range)
			}
			if !within.ContainsRange(m.Range) {
				continue
			}
			own.AddRange(m.Range)
			n, err := b.iprange(m.Range, f)
			if err != nil {
				return nil, err
			}
			names = append(names, n)
		case addr.KindFQDN:
			if !slices.Contains(s.FQDNs, m.FQDN) {
				return nil, fmt.Errorf("set %s lists %s, which its resolved host names do not hold", s.Name, m.FQDN)
			}
		case addr.KindAny:
			return nil, fmt.Errorf("set %s lists any but is not marked as every address", s.Name)
		}
	}
	// What the set's references add, and what of the members lies
	// partly within.
	var rest netipx.IPSetBuilder
	for _, r := range s.Ranges(f) {
		rest.AddRange(r)
	}
	rest.Intersect(within)
	ownSet, _ := own.IPSet()
	rest.RemoveSet(ownSet)
	restSet, _ := rest.IPSet()
	for _, r := range restSet.Ranges() {
		ps, err := b.restObjects(r, f)
		if err != nil {
			return nil, err
		}
		names = append(names, ps...)
	}
	for _, fq := range fqdns {
		n, err := b.fqdn(fq, f)
		if err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// restObjects creates the objects for range r of what a set's references
// add (see maxSplit).
func (b *builder) restObjects(r netipx.IPRange, f ir.Family) ([]string, error) {
	ps := addresses(r, maxSplit)
	switch p, isPrefix := r.Prefix(); {
	case ps != nil:
	case isPrefix:
		ps = []netip.Prefix{p}
	default:
		if ps = r.Prefixes(); len(ps) > maxSplit {
			n, err := b.iprange(r, f)
			return []string{n}, err
		}
	}
	var out []string
	for _, p := range ps {
		n, err := b.subnet(p, f)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// addresses lists the addresses of r as single-address prefixes, or nil
// if r holds more than max.
func addresses(r netipx.IPRange, max int) []netip.Prefix {
	var out []netip.Prefix
	for a := r.From(); a.IsValid() && a.Compare(r.To()) <= 0; a = a.Next() {
		if len(out) == max {
			return nil
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out
}

func (b *builder) subnet(p netip.Prefix, f ir.Family) (string, error) {
	return b.address(&address{family: f, kind: kindSubnet, prefix: p}, prefixName(p, f), "subnet "+p.String())
}

func (b *builder) iprange(r netipx.IPRange, f ir.Family) (string, error) {
	if p, ok := r.Prefix(); ok {
		return b.subnet(p, f)
	}
	return b.address(&address{family: f, kind: kindRange, rng: r}, rangeName(r, f), "range "+r.String())
}

func (b *builder) fqdn(fq string, f ir.Family) (string, error) {
	// The name goes inside quotes and into an object name: only a checked
	// host name may.
	if err := addr.CheckFQDN(fq); err != nil || fq != strings.ToLower(fq) {
		return "", fmt.Errorf("host name %q cannot go into a FortiOS fqdn object", fq)
	}
	return b.address(&address{family: f, kind: kindFQDN, fqdn: fq}, fqdnName(fq, f), fmt.Sprintf("%s host name %s", f, fq))
}

func (b *builder) address(a *address, name, key string) (string, error) {
	n, isNew, err := b.addrNames.claim(name, key)
	if err != nil {
		return "", err
	}
	if isNew {
		a.name = n
		b.addresses[n] = a
	}
	return n, nil
}

// setComment describes an address group: what the set is, and a host's
// description.
func setComment(rs *ir.Ruleset, s *ir.AddrSet) string {
	switch s.Kind {
	case ir.SetHost:
		c := "portwall host " + s.Name
		if h, ok := rs.Host(s.Name); ok && h.Description != "" {
			c += ": " + h.Description
		}
		return c
	case ir.SetCatalogFQDN:
		return "portwall catalog host names " + s.Name
	}
	return "portwall group " + s.Name
}

// services returns the service names a policy carrying part pt of rule r
// uses, creating the services on first use. Services are named after
// what they allow (pw-tcp-8013-10443, pw-icmp-8), so that a name never
// changes meaning: rules with the same ports share one, and a rule whose
// ports change uses another. Several ICMP types need a service group (one
// icmptype per service), named after its types.
func (b *builder) services(r *ir.Rule, pt part) ([]string, error) {
	if r.Protocol.HasPorts() {
		what := fmt.Sprintf("%s %s", strings.ToUpper(r.Protocol.String()), strings.Join(pt.ports.Strings(), ", "))
		name, isNew, err := b.svcNames.claim(portsName(r.Protocol, pt.ports), what)
		if err == nil && isNew {
			b.svcs[name] = &service{name: name, protocol: r.Protocol, ports: pt.ports, icmpType: -1, comment: "portwall " + what}
		}
		return []string{name}, err
	}
	if pt.icmpTypes == nil {
		n, err := b.icmpService(r, -1)
		return []string{n}, err
	}
	var members []string
	for _, t := range pt.icmpTypes {
		n, err := b.icmpService(r, int(t))
		if err != nil {
			return nil, err
		}
		members = append(members, n)
	}
	if len(members) == 1 {
		return members, nil
	}
	gname, what := icmpGroupName(r.Protocol, pt.icmpTypes)
	name, isNew, err := b.svcNames.claim(gname, what)
	if err == nil && isNew {
		slices.Sort(members)
		b.svcGroups[name] = &serviceGroup{name: name, comment: "portwall " + what, members: members}
	}
	return []string{name}, err
}

// icmpService returns the service for one ICMP or ICMPv6 type (-1: every
// type).
func (b *builder) icmpService(r *ir.Rule, t int) (string, error) {
	name, what := icmpServiceName(r.Protocol, t)
	n, isNew, err := b.svcNames.claim(name, what)
	if err == nil && isNew {
		b.svcs[n] = &service{name: n, protocol: r.Protocol, icmpType: t, comment: "portwall " + what}
	}
	return n, err
}
