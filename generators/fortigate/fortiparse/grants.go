package fortiparse

import (
	"fmt"
	"slices"

	"go4.org/netipx"

	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

// Grants reads every firewall policy and local-in policy back as the
// network grants it allows: one per address family and service protocol,
// its sides resolved through groups to addresses and host names ("all" is
// every address of the family), its ports or ICMP types from the
// services. Interfaces are not part of a grant: they narrow a policy,
// never widen it.
func (c *Config) Grants() ([]ir.Grant, error) {
	var out []ir.Grant
	for _, t := range c.Tables {
		if !specs()[t.Path].numbered {
			continue
		}
		for _, e := range t.Entries {
			gs, err := c.grants(e)
			if err != nil {
				return nil, fmt.Errorf("line %d: %v", e.Line, err)
			}
			out = append(out, gs...)
		}
	}
	return out, nil
}

// what one protocol of a policy's services allows.
type allowed struct {
	ports    ports.Set
	types    []uint8
	allTypes bool
}

func (c *Config) grants(e *Entry) ([]ir.Grant, error) {
	byProto := map[proto.Protocol]*allowed{}
	get := func(p proto.Protocol) *allowed {
		if byProto[p] == nil {
			byProto[p] = &allowed{}
		}
		return byProto[p]
	}
	for _, s := range c.serviceEntries(e.Get("service")) {
		switch protocolOf(s) {
		case "TCP/UDP/SCTP":
			for attr, p := range map[string]proto.Protocol{"tcp-portrange": proto.TCP, "udp-portrange": proto.UDP} {
				for _, v := range s.Get(attr) {
					lo, hi, err := portRange(v)
					if err != nil {
						return nil, err
					}
					a := get(p)
					a.ports = a.ports.Union(ports.NewSet(ports.Range{First: lo, Last: hi}))
				}
			}
		case "ICMP", "ICMP6":
			p := proto.ICMP
			if protocolOf(s) == "ICMP6" {
				p = proto.ICMPv6
			}
			a := get(p)
			if t := s.Get("icmptype"); t != nil {
				n, err := icmpType(t[0])
				if err != nil {
					return nil, err
				}
				a.types = append(a.types, n)
			} else {
				a.allTypes = true
			}
		default:
			return nil, fmt.Errorf("service %s has protocol %s", s.Key, protocolOf(s))
		}
	}
	var out []ir.Grant
	for _, f := range families(e) {
		srcAttr, dstAttr := "srcaddr", "dstaddr"
		if f == v6 && e.Table == "firewall policy" {
			srcAttr, dstAttr = "srcaddr6", "dstaddr6"
		}
		src, err := c.addrs(e.Get(srcAttr), f)
		if err != nil {
			return nil, err
		}
		dst, err := c.addrs(e.Get(dstAttr), f)
		if err != nil {
			return nil, err
		}
		fam := ir.IPv4
		if f == v6 {
			fam = ir.IPv6
		}
		for _, p := range proto.All {
			a := byProto[p]
			if a == nil || !fam.Carries(p) {
				continue
			}
			g := ir.Grant{Family: fam, Src: src, Dst: dst, Protocol: p, Ports: a.ports}
			if p.IsICMP() && !a.allTypes {
				slices.Sort(a.types)
				g.ICMPTypes = slices.Compact(slices.Clone(a.types))
			}
			out = append(out, g)
		}
	}
	return out, nil
}

// addrs resolves address names of family f.
func (c *Config) addrs(names []string, f family) (ir.Addrs, error) {
	var out ir.Addrs
	var b netipx.IPSetBuilder
	var walk func(n string, depth int) error
	walk = func(n string, depth int) error {
		if n == "all" {
			out.Any = true
			return nil
		}
		e, ok := c.objects[n]
		if !ok || depth > 16 {
			return fmt.Errorf("address %s cannot be resolved", n)
		}
		if ef, _ := tableFamily(e.Table); ef != f {
			return fmt.Errorf("address %s is %s, not %s", n, ef, f)
		}
		if e.Table == "firewall addrgrp" || e.Table == "firewall addrgrp6" {
			for _, m := range e.Get("member") {
				if err := walk(m, depth+1); err != nil {
					return err
				}
			}
			return nil
		}
		switch typeOf(e) {
		case "ipmask":
			p, err := subnet(e.Get("subnet"))
			if err != nil {
				return err
			}
			b.AddPrefix(p)
		case "ipprefix":
			p, err := ip6(e.Get("ip6")[0])
			if err != nil {
				return err
			}
			b.AddPrefix(p)
		case "iprange":
			from, err1 := parseIP(e.Get("start-ip")[0], f)
			to, err2 := parseIP(e.Get("end-ip")[0], f)
			if err1 != nil || err2 != nil {
				return fmt.Errorf("address %s has a bad range", n)
			}
			b.AddRange(netipx.IPRangeFrom(from, to))
		case "fqdn":
			out.FQDNs = append(out.FQDNs, e.Get("fqdn")[0])
		default:
			return fmt.Errorf("address %s has type %s", n, typeOf(e))
		}
		return nil
	}
	for _, n := range names {
		if err := walk(n, 0); err != nil {
			return ir.Addrs{}, err
		}
	}
	ips, err := b.IPSet()
	if err != nil {
		return ir.Addrs{}, err
	}
	if len(ips.Ranges()) > 0 {
		out.IPs = ips
	}
	slices.Sort(out.FQDNs)
	out.FQDNs = slices.Compact(out.FQDNs)
	return out, nil
}
