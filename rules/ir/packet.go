package ir

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/portwall/portwall/rules/proto"
)

// Packet is one connection attempt between a host and one address: the
// question "does this get through?" that verify asks with real packets and
// explain answers from the rules.
type Packet struct {
	Dir Direction
	// Remote is the other side: the source of an inbound packet, the
	// destination of an outbound one.
	Remote   netip.Addr
	Protocol proto.Protocol
	Port     uint16 // TCP and UDP: the destination port
	ICMPType uint8  // ICMP and ICMPv6
}

func (p Packet) String() string {
	what := fmt.Sprintf("%s/%d", p.Protocol, p.Port)
	if p.Protocol.IsICMP() {
		what = fmt.Sprintf("%s %s", p.Protocol, proto.ICMPTypeName(p.Protocol, p.ICMPType))
	}
	if p.Dir == Out {
		return fmt.Sprintf("out %s to %s", what, p.Remote)
	}
	return fmt.Sprintf("in %s from %s", what, p.Remote)
}

// Family is the packet's IP version.
func (p Packet) Family() Family { return FamilyOf(p.Remote) }

// FamilyOf is the IP version of a.
func FamilyOf(a netip.Addr) Family {
	if a.Is4() {
		return IPv4
	}
	return IPv6
}

// Allowing lists the host rules that allow p, in the view's order. It is
// the single-packet form of CheckGrant, with the same meaning: the remote
// side matches by address (a set of host names only matches no address),
// the host's own set is never a remote side, and ICMP rules without types
// allow every type.
func (v *HostView) Allowing(p Packet) []HostRule {
	hrs := v.In
	if p.Dir == Out {
		hrs = v.Out
	}
	f := p.Family()
	var out []HostRule
	for _, hr := range hrs {
		r := hr.Rule
		if r.Protocol != p.Protocol || !f.Carries(r.Protocol) || r.Program != "" {
			continue
		}
		if r.Protocol.HasPorts() && !r.Ports.Contains(p.Port) {
			continue
		}
		if r.Protocol.IsICMP() && len(r.ICMPTypes) > 0 && !slices.Contains(r.ICMPTypes, p.ICMPType) {
			continue
		}
		if v.remoteHas(hr.Remote, p.Remote) {
			out = append(out, hr)
		}
	}
	return out
}

// Admits reports whether the host lets p through: a rule allows it, or it
// is outbound and outbound traffic is not filtered.
func (v *HostView) Admits(p Packet) bool {
	if !v.HasFamily(p.Family()) {
		// The host has no address of the packet's family: no such packet
		// reaches it or leaves it, whatever the rules say.
		return false
	}
	if p.Dir == Out && v.Ruleset.Policy.Output != OutputDrop {
		return true
	}
	return len(v.Allowing(p)) > 0
}

// HasFamily reports whether the host has an address of family f.
func (v *HostView) HasFamily(f Family) bool {
	return slices.ContainsFunc(v.Host.Addrs, f.Has)
}

func (v *HostView) remoteHas(e Endpoint, a netip.Addr) bool {
	for _, n := range e.Sets {
		s, ok := v.Ruleset.Set(n)
		if !ok || s.Kind == SetHost && s.Name == v.Host.Name {
			continue
		}
		if s.IsAny() || s.IPs != nil && s.IPs.Contains(a) {
			return true
		}
	}
	return false
}
