package explain

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"go4.org/netipx"

	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

// Side is one side of a query: a host or group of the profile, an
// address, or any.
type Side struct {
	// Name is what was asked: a name, an address, or "any".
	Name string
	// Set is the host or group a name stands for; nil for an address.
	Set *ir.AddrSet
	// Addr is the address asked for; invalid for a name.
	Addr netip.Addr
}

// NewSide reads a side: "any", a host or group of rs, or one address.
func NewSide(rs *ir.Ruleset, s string) (Side, error) {
	if set, ok := rs.Named(s); ok {
		return Side{Name: s, Set: set}, nil
	}
	if s == ir.AnySet {
		return Side{Name: s, Set: &ir.AddrSet{Name: ir.AnySet, Kind: ir.SetAny}}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		var names []string
		for _, set := range append(slices.Clone(rs.Addrs), rs.Unused...) {
			names = append(names, set.Name)
		}
		return Side{}, fmt.Errorf("%q is no host or group of the profile, nor one IPv4 or IPv6 address%s", s, diag.DidYouMean(s, names))
	}
	return Side{Name: s, Addr: a.Unmap()}, nil
}

// addrs are the side's addresses of family f, as a grant's remote side.
func (s Side) addrs(f ir.Family) (ir.Addrs, bool) {
	if s.Set == nil {
		if !f.Has(s.Addr) {
			return ir.Addrs{}, false
		}
		var b netipx.IPSetBuilder
		b.Add(s.Addr)
		set, _ := b.IPSet()
		return ir.Addrs{IPs: set}, true
	}
	if s.Set.IsAny() {
		return ir.Addrs{Any: true}, true
	}
	rs := s.Set.Ranges(f)
	if len(rs) == 0 {
		return ir.Addrs{}, false
	}
	var b netipx.IPSetBuilder
	for _, r := range rs {
		b.AddRange(r)
	}
	set, _ := b.IPSet()
	return ir.Addrs{IPs: set}, true
}

// hosts are the profile's hosts a side names: a host, the hosts a group
// lists by name, or the hosts that have the address. Networks never pull
// in a host (as for rules: see ir.Ruleset.HostView).
func (s Side) hosts(rs *ir.Ruleset) []string {
	if s.Set != nil {
		return s.Set.Hosts
	}
	var out []string
	for _, h := range rs.Hosts {
		if slices.Contains(h.Addrs, s.Addr) {
			out = append(out, h.Name)
		}
	}
	return out
}

// Traffic is what a query asks about: one protocol, and its ports (TCP,
// UDP) or ICMP type.
type Traffic struct {
	Protocol proto.Protocol
	Ports    ports.Set
	ICMPType uint8
}

func (t Traffic) String() string {
	if t.Protocol.HasPorts() {
		return t.Protocol.String() + "/" + t.Ports.String()
	}
	return t.Protocol.String()
}

// Check is one host's answer for one direction and IP family.
type Check struct {
	Host    string
	Dir     ir.Direction
	Family  ir.Family
	Traffic Traffic
	Allowed bool
	// Reason says why, in a few words: the rules, or what they leave out.
	Reason string
	// Rules are the host's rules that allow part or all of it.
	Rules []ir.HostRule
}

// Query asks whether traffic goes from one side to the other: for every
// host the destination names, whether its inbound rules let every address
// of the source through, and for every host the source names, whether its
// outbound rules let it reach every address of the destination (always,
// when egress is not filtered). It answers with the host firewalls only;
// a gateway between them is not asked. It is the question `portwall
// verify` checks with packets, asked of a whole address set at once
// (ir.HostView.CheckGrant).
func Query(rs *ir.Ruleset, from, to Side, ts []Traffic) ([]Check, error) {
	in, out := to.hosts(rs), from.hosts(rs)
	if len(in) == 0 && len(out) == 0 {
		return nil, fmt.Errorf("neither %s nor %s is (or names) a host of the profile: portwall writes host rules only", from.Name, to.Name)
	}
	var checks []Check
	ask := func(host string, dir ir.Direction, remote Side) error {
		v, err := rs.HostView(host)
		if err != nil {
			return err
		}
		for _, t := range ts {
			for _, f := range ir.Families {
				a, ok := remote.addrs(f)
				if !ok || !f.Carries(t.Protocol) {
					continue
				}
				if !v.HasFamily(f) {
					checks = append(checks, Check{Host: host, Dir: dir, Family: f, Traffic: t,
						Reason: fmt.Sprintf("%s has no %s address, so no such packet reaches it or leaves it", host, f)})
					continue
				}
				checks = append(checks, check(v, dir, f, a, t))
			}
		}
		return nil
	}
	for _, h := range in {
		if err := ask(h, ir.In, from); err != nil {
			return nil, err
		}
	}
	for _, h := range out {
		if err := ask(h, ir.Out, to); err != nil {
			return nil, err
		}
	}
	if len(checks) == 0 {
		return nil, fmt.Errorf("%s and %s share no IP family with the hosts involved: nothing can travel between them", from.Name, to.Name)
	}
	return checks, nil
}

func check(v *ir.HostView, dir ir.Direction, f ir.Family, remote ir.Addrs, t Traffic) Check {
	c := Check{Host: v.Host.Name, Dir: dir, Family: f, Traffic: t}
	g := ir.HostGrant(dir, f, remote, ir.Grant{Protocol: t.Protocol, Ports: t.Ports})
	if t.Protocol.IsICMP() {
		g.ICMPTypes = []uint8{t.ICMPType}
	}
	hrs := v.In
	if dir == ir.Out {
		hrs = v.Out
	}
	for _, hr := range hrs {
		r := hr.Rule
		switch {
		case r.Protocol != t.Protocol || r.Program != "" || !f.Carries(r.Protocol):
		case r.Protocol.HasPorts() && r.Ports.Intersect(t.Ports).Len() == 0:
		case r.Protocol.IsICMP() && len(r.ICMPTypes) > 0 && !slices.Contains(r.ICMPTypes, t.ICMPType):
		default:
			c.Rules = append(c.Rules, hr)
		}
	}
	switch err := v.CheckGrant(g); {
	case dir == ir.Out && v.Ruleset.Policy.Output != ir.OutputDrop:
		c.Allowed, c.Reason = true, "outbound traffic is not filtered (output policy accept)"
	case err == nil:
		c.Allowed, c.Reason = true, fmt.Sprintf("allowed by %s", ruleIDs(c.Rules))
	case len(c.Rules) == 0:
		c.Reason = "no rule allows it"
	default:
		var parts []string
		for _, hr := range c.Rules {
			what := hr.Rule.Protocol.String()
			if hr.Rule.Protocol.HasPorts() {
				what += "/" + hr.Rule.Ports.Intersect(t.Ports).String()
			}
			side := "from"
			if dir == ir.Out {
				side = "to"
			}
			parts = append(parts, fmt.Sprintf("rule %s allows %s %s %s", hr.Rule.ID, what, side, hr.Remote))
		}
		c.Reason = "only in part: " + strings.Join(parts, "; ")
	}
	return c
}

func ruleIDs(hrs []ir.HostRule) string {
	ids := make([]string, len(hrs))
	for i, hr := range hrs {
		ids[i] = hr.Rule.ID
	}
	if len(ids) == 1 {
		return "rule " + ids[0]
	}
	return fmt.Sprintf("rules %v", ids)
}
