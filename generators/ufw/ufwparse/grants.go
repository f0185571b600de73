package ufwparse

import (
	"fmt"
	"net/netip"

	"go4.org/netipx"

	"github.com/portwall/portwall/rules/ir"
)

// Grants returns what the script lets through once loaded into ufw: its
// ufw rules and the accepts of its ICMP block. ufw's stock before.rules
// accept echo requests from every address (and before6.rules to every
// address, out): unless the block sends them to ufw's default policy, that
// is a grant too. The rest of ufw's own baseline (ICMP errors, IPv6
// neighbour and multicast listener discovery, DHCP and multicast service
// discovery replies) is the host's, as for every backend, and gives none.
func (s *Script) Grants() ([]ir.Grant, error) {
	var out []ir.Grant
	for i, r := range s.Rules {
		a := s.Apps[r.App]
		if a == nil {
			return nil, fmt.Errorf("rule %d: no application profile %s", i+1, r.App)
		}
		families := ir.Families
		remote := ir.Addrs{Any: true}
		if r.Remote.IsValid() {
			families = []ir.Family{family(r.Remote.Addr())}
			var err error
			if remote, err = prefixAddrs(r.Remote); err != nil {
				return nil, fmt.Errorf("rule %d: %w", i+1, err)
			}
		}
		for _, f := range families {
			out = append(out, ir.HostGrant(r.Dir, f, remote, ir.Grant{Protocol: a.Protocol, Ports: a.Ports}))
		}
	}
	for _, f := range ir.Families {
		caught := map[ir.Direction]bool{}
		for i, r := range s.Block[f] {
			switch r.Target {
			case "policy":
				caught[r.Dir] = true
				continue
			case "log":
				continue
			}
			remote := ir.Addrs{Any: true}
			if r.Remote.IsValid() {
				var err error
				if remote, err = prefixAddrs(r.Remote); err != nil {
					return nil, fmt.Errorf("%s block rule %d: %w", f, i+1, err)
				}
			}
			g := ir.Grant{Protocol: f.ICMP()}
			if r.Type >= 0 {
				g.ICMPTypes = []uint8{uint8(r.Type)}
			}
			out = append(out, ir.HostGrant(r.Dir, f, remote, g))
		}
		echo := ir.Grant{Protocol: f.ICMP(), ICMPTypes: []uint8{map[ir.Family]uint8{ir.IPv4: 8, ir.IPv6: 128}[f]}}
		if !caught[ir.In] {
			out = append(out, ir.HostGrant(ir.In, f, ir.Addrs{Any: true}, echo))
		}
		if f == ir.IPv6 && s.Settings.Outgoing == "deny" && !caught[ir.Out] {
			out = append(out, ir.HostGrant(ir.Out, f, ir.Addrs{Any: true}, echo))
		}
	}
	return out, nil
}

func family(a netip.Addr) ir.Family {
	if a.Is4() {
		return ir.IPv4
	}
	return ir.IPv6
}

func prefixAddrs(p netip.Prefix) (ir.Addrs, error) {
	var b netipx.IPSetBuilder
	b.AddPrefix(p)
	set, err := b.IPSet()
	if err != nil {
		return ir.Addrs{}, err
	}
	return ir.Addrs{IPs: set}, nil
}
