package fwdparse

import (
	"fmt"
	"net/netip"
	"sync"

	"go4.org/netipx"

	"github.com/portwall/portwall/rules/ir"
)

// baselineTypes are the ICMP types any address may send in (In) or the
// host may send out (Out): errors and IPv6 neighbour discovery, as the
// other Linux backends allow. They are the host's, not the profile's, and
// give no grant. Built on first use, as the other tables here: package-level
// map literals are built by every run's initialisation, whatever it does.
var baselineTypes = sync.OnceValue(func() map[ir.Direction]map[string][]string {
	return map[ir.Direction]map[string][]string{
		ir.In: {
			"ipv4": {"destination-unreachable", "time-exceeded", "parameter-problem"},
			"ipv6": {"destination-unreachable", "packet-too-big", "time-exceeded", "parameter-problem",
				"router-advertisement", "neighbour-solicitation", "neighbour-advertisement"},
		},
		ir.Out: {
			"ipv4": {"destination-unreachable", "time-exceeded", "parameter-problem"},
			"ipv6": {"destination-unreachable", "packet-too-big", "time-exceeded", "parameter-problem",
				"router-solicitation", "neighbour-solicitation", "neighbour-advertisement"},
		},
	}
})

// mldReports is where MLDv2 sends its reports: the policy lets the host
// send any ICMPv6 there, since firewalld cannot name the report types.
var mldReports = netip.MustParsePrefix("ff02::16/128")

// Baseline reports whether r is one of the baseline rules of direction
// dir.
func (r Rule) Baseline(dir ir.Direction) bool {
	if r.Action != "accept" || r.Source.IsValid() {
		return false
	}
	if r.ICMPType != "" && !r.Destination.IsValid() {
		for _, t := range baselineTypes()[dir][r.Family] {
			if t == r.ICMPType {
				return true
			}
		}
		return false
	}
	return dir == ir.Out && r.Family == "ipv6" && r.Protocol == "ipv6-icmp" && r.Destination == mldReports
}

// Grants returns what the configuration lets through: the zone's inbound,
// the policy's outbound. Baseline rules, log and reject rules give none.
func (c *Config) Grants() ([]ir.Grant, error) {
	out, err := c.grants(ir.In, c.Zone.Services, c.Zone.Rules)
	if err != nil {
		return nil, err
	}
	if c.Policy != nil {
		g, err := c.grants(ir.Out, c.Policy.Services, c.Policy.Rules)
		if err != nil {
			return nil, err
		}
		out = append(out, g...)
	}
	return out, nil
}

func (c *Config) grants(dir ir.Direction, services []string, rules []Rule) ([]ir.Grant, error) {
	var out []ir.Grant
	any := ir.Addrs{Any: true}
	for _, name := range services {
		for _, f := range ir.Families {
			out = append(out, c.serviceGrants(dir, f, any, name)...)
		}
	}
	for i, r := range rules {
		if r.Action != "accept" || r.Baseline(dir) {
			continue
		}
		families := ir.Families
		switch r.Family {
		case "ipv4":
			families = []ir.Family{ir.IPv4}
		case "ipv6":
			families = []ir.Family{ir.IPv6}
		}
		remote := any
		if p := r.Source; p.IsValid() || r.Destination.IsValid() {
			if !p.IsValid() {
				p = r.Destination
			}
			var b netipx.IPSetBuilder
			b.AddPrefix(p)
			set, err := b.IPSet()
			if err != nil {
				return nil, fmt.Errorf("rule %d: %w", i+1, err)
			}
			remote = ir.Addrs{IPs: set}
		}
		for _, f := range families {
			switch {
			case r.Service != "":
				out = append(out, c.serviceGrants(dir, f, remote, r.Service)...)
			case r.ICMPType != "":
				t := icmpTypes()[r.Family][r.ICMPType]
				out = append(out, ir.HostGrant(dir, f, remote, ir.Grant{Protocol: f.ICMP(), ICMPTypes: []uint8{t}}))
			case r.Protocol == "icmp" || r.Protocol == "ipv6-icmp":
				out = append(out, ir.HostGrant(dir, f, remote, ir.Grant{Protocol: f.ICMP()}))
			default:
				return nil, fmt.Errorf("rule %d: an accept rule that matches nothing portwall writes", i+1)
			}
		}
	}
	return out, nil
}

// serviceGrants: one grant per protocol of the service.
func (c *Config) serviceGrants(dir ir.Direction, f ir.Family, remote ir.Addrs, name string) []ir.Grant {
	s := c.Services[name]
	var out []ir.Grant
	for _, p := range s.protocols() {
		out = append(out, ir.HostGrant(dir, f, remote, ir.Grant{Protocol: p, Ports: s.Ports[p]}))
	}
	return out
}
