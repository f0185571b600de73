// Package explain answers "why is this port open?" (and "why not?") for a
// host of a resolved profile: the rules that allow a packet, the catalog
// flows and custom rules behind each, with their source documents, and
// the internal flows portwall never opens.
//
// It asks the IR the same question the packet proof does
// (ir.HostView.Admits), so its answers and verify's probes agree.
package explain

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

// Question is what explain is asked: traffic between a host and an
// address, or (Remote invalid) a port on a host from anywhere.
type Question struct {
	Host     string
	Dir      ir.Direction
	Remote   netip.Addr
	Protocol proto.Protocol
	Port     uint16 // TCP and UDP
	ICMPType uint8  // ICMP and ICMPv6
	// Ports, when set, asks about a range of TCP or UDP ports (a query)
	// rather than Port.
	Ports ports.Set
}

// Answer is explain's answer.
type Answer struct {
	Question
	View *ir.HostView
	// Allowed and Reason answer a question with an address: whether the
	// host lets the packet through, and why in a few words.
	Allowed bool
	Reason  string
	// Rules allow the packet (with an address), or open the port at all
	// (without one), inbound then outbound.
	Rules []ir.HostRule
	// Elsewhere are the rules that open the port to other addresses, when
	// the packet itself is blocked: "open, but not for you".
	Elsewhere []ir.HostRule
	// Internal are flows of the catalog on this port that portwall never
	// opens (Xeams' admin console, say), with why.
	Internal []*ir.InternalFlow
}

// ParsePort reads what --port takes: "25/tcp" (or "tcp/25"), "53/udp",
// "icmp", "icmpv6" (ping: echo request), or "icmp/TYPE".
func ParsePort(s string) (proto.Protocol, uint16, uint8, error) {
	a, b, found := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "/")
	if p, err := proto.Parse(a); err == nil {
		if p.IsICMP() {
			if !found {
				return p, 0, ir.EchoRequest(p), nil
			}
			t, err := proto.ParseICMPType(p, b)
			return p, 0, t, err
		}
		a, b = b, a
	} else if !found {
		return 0, 0, 0, fmt.Errorf("port %q: want PORT/PROTOCOL such as 25/tcp or 53/udp, or icmp, icmpv6, icmp/TYPE", s)
	}
	p, err := proto.Parse(b)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("port %q: %w", s, err)
	}
	if !p.HasPorts() {
		return 0, 0, 0, fmt.Errorf("port %q: %s has no ports; write %s or %s/TYPE", s, p, p, p)
	}
	n, err := strconv.ParseUint(a, 10, 16)
	if err != nil || n == 0 {
		return 0, 0, 0, fmt.Errorf("port %q: %q is not a port number (1-65535)", s, a)
	}
	return p, uint16(n), 0, nil
}

// Explain answers q about rs.
func Explain(rs *ir.Ruleset, q Question) (*Answer, error) {
	v, err := rs.HostView(q.Host)
	if err != nil {
		return nil, err
	}
	if q.Remote.IsValid() {
		q.Remote = q.Remote.Unmap()
		if !ir.IPv4.Carries(q.Protocol) && q.Remote.Is4() || !ir.IPv6.Carries(q.Protocol) && q.Remote.Is6() {
			return nil, fmt.Errorf("%s does not travel over %s", q.Protocol, family(q.Remote))
		}
	}
	a := &Answer{Question: q, View: v}
	internalIn, internalOut := rs.InternalFlows(q.Host)
	internal := internalIn
	if q.Dir == ir.Out {
		internal = internalOut
	}
	for _, f := range internal {
		if f.Protocol == q.Protocol && (!q.Protocol.HasPorts() || f.Origin.Ports.Contains(q.Port)) {
			a.Internal = append(a.Internal, f)
		}
	}
	opening := a.opening(v)
	if !q.Remote.IsValid() {
		a.Rules = opening
		return a, nil
	}
	pk := ir.Packet{Dir: q.Dir, Remote: q.Remote, Protocol: q.Protocol, Port: q.Port, ICMPType: q.ICMPType}
	a.Allowed = v.Admits(pk)
	if v.HasFamily(pk.Family()) {
		a.Rules = v.Allowing(pk)
	}
	pol := rs.Policy
	switch {
	case !v.HasFamily(ir.FamilyOf(q.Remote)):
		a.Reason = fmt.Sprintf("blocked: %s has no %s address, so no %s packet reaches it or leaves it", q.Host, family(q.Remote), family(q.Remote))
	case len(a.Rules) > 0:
		a.Reason = "allowed by " + diag.Plural(len(a.Rules), "rule")
	case a.Allowed:
		a.Reason = "allowed: outbound traffic is not filtered (output policy accept)"
	case q.Dir == ir.Out:
		a.Reason = "blocked: no rule allows it (output policy drop)"
	default:
		a.Reason = fmt.Sprintf("blocked: no rule allows it (input policy %s)", pol.Input)
	}
	if !a.Allowed {
		a.Elsewhere = opening
	}
	return a, nil
}

// opening lists the host's rules in the question's direction that open
// its protocol and port (or ICMP type) to any address.
func (a *Answer) opening(v *ir.HostView) []ir.HostRule {
	hrs := v.In
	if a.Dir == ir.Out {
		hrs = v.Out
	}
	var out []ir.HostRule
	for _, hr := range hrs {
		r := hr.Rule
		switch {
		case r.Protocol != a.Protocol || r.Program != "":
		case r.Protocol.HasPorts() && !r.Ports.Contains(a.Port):
		case r.Protocol.IsICMP() && len(r.ICMPTypes) > 0 && !slices.Contains(r.ICMPTypes, a.ICMPType):
		default:
			out = append(out, hr)
		}
	}
	return out
}

// Carries reports whether origin o asks for the question's port (or ICMP
// type): a merged rule holds the ports of all its origins.
func (q Question) Carries(o ir.Origin) bool {
	if q.Protocol.HasPorts() && q.Ports != nil {
		return o.Ports.Intersect(q.Ports).Len() > 0
	}
	if q.Protocol.HasPorts() {
		return o.Ports.Contains(q.Port)
	}
	return len(o.ICMPTypes) == 0 || slices.Contains(o.ICMPTypes, q.ICMPType)
}

func family(a netip.Addr) string {
	if a.Is4() {
		return "IPv4"
	}
	return "IPv6"
}

// What names the traffic: "tcp/25", "icmp echo-request".
func (q Question) What() string {
	if q.Protocol.IsICMP() {
		return q.Protocol.String() + " " + proto.ICMPTypeName(q.Protocol, q.ICMPType)
	}
	return q.Protocol.String() + "/" + strconv.Itoa(int(q.Port))
}
