package ir

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"go4.org/netipx"

	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

// Addrs is a set of addresses a rule matches: every address of a family,
// some ranges, and host names.
type Addrs struct {
	Any   bool
	IPs   *netipx.IPSet // nil is empty
	FQDNs []string
}

func (a Addrs) String() string {
	if a.Any {
		return "any"
	}
	var parts []string
	if a.IPs != nil {
		for _, r := range a.IPs.Ranges() {
			if p, ok := r.Prefix(); ok {
				parts = append(parts, p.String())
			} else {
				parts = append(parts, r.String())
			}
		}
	}
	return strings.Join(append(parts, a.FQDNs...), ",")
}

// Grant is what one rule of a backend's output lets through, as a test
// reads it back from the output. Checking every grant against the IR
// proves the output allows nothing the IR does not (fail closed).
type Grant struct {
	// Dir is set for host outputs; network outputs leave it empty.
	Dir    Direction
	Family Family
	// Src and Dst: host outputs fill only the remote side (Src for
	// inbound, Dst for outbound); the host is the other side.
	Src, Dst  Addrs
	Protocol  proto.Protocol
	Ports     ports.Set // TCP and UDP
	ICMPTypes []uint8   // nil: every type
	Program   string    // "" matches every program
}

// HostGrant is g as a host output's grant: direction dir, family f, and
// remote on the remote side (Src inbound, Dst outbound; the host is the
// other side).
func HostGrant(dir Direction, f Family, remote Addrs, g Grant) Grant {
	g.Dir, g.Family = dir, f
	if dir == In {
		g.Src = remote
	} else {
		g.Dst = remote
	}
	return g
}

func (g Grant) String() string {
	what := g.Protocol.String()
	if g.Protocol.HasPorts() {
		what += "/" + g.Ports.String()
	} else if g.ICMPTypes != nil {
		what += fmt.Sprintf(" types %v", g.ICMPTypes)
	}
	s := fmt.Sprintf("%s %s %s from %s to %s", g.Dir, g.Family, what, g.Src, g.Dst)
	if g.Program != "" {
		s += " program " + g.Program
	}
	return strings.TrimSpace(s)
}

// candidate is an IR rule seen as a grant: its sides resolved to
// addresses of one family.
type candidate struct {
	src, dst Addrs
	ports    ports.Set
	types    []uint8 // nil: every type
}

// CheckGrant reports the part of g that the host's rules do not allow, or
// nil if they allow all of it.
func (v *HostView) CheckGrant(g Grant) error {
	var hrs []HostRule
	remote := g.Src
	switch g.Dir {
	case In:
		hrs = v.In
	case Out:
		hrs, remote = v.Out, g.Dst
	default:
		return fmt.Errorf("grant %s has no direction", g)
	}
	var cs []candidate
	for _, hr := range hrs {
		r := hr.Rule
		if r.Protocol != g.Protocol || !g.Family.Carries(r.Protocol) || (r.Program != "" && r.Program != g.Program) {
			continue
		}
		cs = append(cs, candidate{src: v.Ruleset.EndpointAddrs(hr.Remote, g.Family), ports: r.Ports, types: r.ICMPTypes})
	}
	return check(g, cs, func(u []candidate) error {
		return covered(remote, union(u, func(c candidate) Addrs { return c.src }), g.Family)
	})
}

// CheckGrant reports the part of g that the network view does not allow,
// or nil if it allows all of it.
func (rs *Ruleset) CheckGrant(g Grant) error {
	var cs []candidate
	for _, r := range rs.Rules {
		if r.Protocol != g.Protocol || !g.Family.Carries(r.Protocol) || (r.Program != "" && r.Program != g.Program) {
			continue
		}
		cs = append(cs, candidate{src: rs.EndpointAddrs(r.From, g.Family), dst: rs.EndpointAddrs(r.To, g.Family), ports: r.Ports, types: r.ICMPTypes})
	}
	return check(g, cs, func(u []candidate) error { return covered2(g.Src, g.Dst, u, g.Family) })
}

// check splits g by port interval (or ICMP type) and asks ok whether the
// candidates that allow that part cover its addresses.
func check(g Grant, cs []candidate, ok func([]candidate) error) error {
	if !g.Protocol.HasPorts() {
		if g.ICMPTypes == nil {
			var u []candidate
			for _, c := range cs {
				if c.types == nil {
					u = append(u, c)
				}
			}
			if err := ok(u); err != nil {
				return fmt.Errorf("%s: every type: %w", g, err)
			}
			return nil
		}
		for _, t := range g.ICMPTypes {
			var u []candidate
			for _, c := range cs {
				if c.types == nil || slices.Contains(c.types, t) {
					u = append(u, c)
				}
			}
			if err := ok(u); err != nil {
				return fmt.Errorf("%s: type %d: %w", g, t, err)
			}
		}
		return nil
	}
	if len(g.Ports) == 0 {
		return fmt.Errorf("%s: no ports", g)
	}
	for _, iv := range elementary(g.Ports, cs) {
		var u []candidate
		for _, c := range cs {
			if c.ports.Covers(ports.NewSet(iv)) {
				u = append(u, c)
			}
		}
		if err := ok(u); err != nil {
			return fmt.Errorf("%s: port %s: %w", g, iv, err)
		}
	}
	return nil
}

// elementary cuts the ports of want at every boundary of the candidates'
// port sets, so that each piece is either wholly in or wholly out of each
// candidate.
func elementary(want ports.Set, cs []candidate) []ports.Range {
	cuts := map[int]bool{}
	for _, c := range cs {
		for _, r := range c.ports {
			cuts[int(r.First)] = true
			cuts[int(r.Last)+1] = true
		}
	}
	var out []ports.Range
	for _, r := range want {
		first := int(r.First)
		for p := int(r.First) + 1; p <= int(r.Last); p++ {
			if cuts[p] {
				out = append(out, ports.Range{First: uint16(first), Last: uint16(p - 1)})
				first = p
			}
		}
		out = append(out, ports.Range{First: uint16(first), Last: r.Last})
	}
	return out
}

// EndpointAddrs resolves an endpoint to its addresses of one family.
func (rs *Ruleset) EndpointAddrs(e Endpoint, f Family) Addrs {
	var out Addrs
	var b netipx.IPSetBuilder
	for _, n := range e.Sets {
		s, ok := rs.Set(n)
		if !ok {
			continue
		}
		if s.IsAny() {
			out.Any = true
			continue
		}
		for _, r := range s.Ranges(f) {
			b.AddRange(r)
		}
		out.FQDNs = append(out.FQDNs, s.FQDNs...)
	}
	out.IPs, _ = b.IPSet()
	slices.Sort(out.FQDNs)
	out.FQDNs = slices.Compact(out.FQDNs)
	return out
}

func union(cs []candidate, side func(candidate) Addrs) Addrs {
	var out Addrs
	var b netipx.IPSetBuilder
	for _, c := range cs {
		a := side(c)
		out.Any = out.Any || a.Any
		if a.IPs != nil {
			b.AddSet(a.IPs)
		}
		out.FQDNs = append(out.FQDNs, a.FQDNs...)
	}
	out.IPs, _ = b.IPSet()
	return out
}

// covered reports whether a is inside u for family f.
func covered(a, u Addrs, f Family) error {
	if u.Any {
		return nil
	}
	if a.Any {
		return fmt.Errorf("every %s address is allowed, the IR allows only %s", f, orNone(u))
	}
	if a.IPs != nil {
		var b netipx.IPSetBuilder
		b.AddSet(a.IPs)
		if u.IPs != nil {
			b.RemoveSet(u.IPs)
		}
		rest, _ := b.IPSet()
		if len(rest.Ranges()) > 0 {
			return fmt.Errorf("%s is allowed, the IR allows only %s", Addrs{IPs: rest}, orNone(u))
		}
	}
	for _, n := range a.FQDNs {
		if !slices.Contains(u.FQDNs, n) {
			return fmt.Errorf("host name %s is allowed, the IR allows only %s", n, orNone(u))
		}
	}
	return nil
}

func orNone(a Addrs) string {
	if s := a.String(); s != "" {
		return s
	}
	return "nothing"
}

// covered2 reports whether src x dst is inside the union of the
// candidates' src x dst: for every piece of src (cut at the candidates'
// source boundaries), dst must be inside the union of the destinations of
// the candidates whose source holds that piece.
func covered2(src, dst Addrs, cs []candidate, f Family) error {
	for _, atom := range atoms(src, cs, f) {
		var u []candidate
		for _, c := range cs {
			if holds(c.src, atom) {
				u = append(u, c)
			}
		}
		if err := covered(dst, union(u, func(c candidate) Addrs { return c.dst }), f); err != nil {
			return fmt.Errorf("from %s: %w", atom, err)
		}
	}
	return nil
}

// atoms cuts src into pieces, each wholly in or out of every candidate's
// source: address ranges cut at the candidates' boundaries, and each host
// name on its own.
func atoms(src Addrs, cs []candidate, f Family) []Addrs {
	var ranges []netipx.IPRange
	switch {
	case src.Any:
		ranges = []netipx.IPRange{familyRange(f)}
	case src.IPs != nil:
		ranges = src.IPs.Ranges()
	}
	var cuts []netip.Addr
	for _, c := range cs {
		if c.src.IPs == nil {
			continue
		}
		for _, r := range c.src.IPs.Ranges() {
			cuts = append(cuts, r.From(), r.To().Next())
		}
	}
	slices.SortFunc(cuts, func(a, b netip.Addr) int { return cmp.Compare(a.Compare(b), 0) })
	var out []Addrs
	for _, r := range ranges {
		from := r.From()
		for _, c := range cuts {
			if c.IsValid() && c.Compare(from) > 0 && c.Compare(r.To()) <= 0 {
				out = append(out, rangeAddrs(from, c.Prev()))
				from = c
			}
		}
		out = append(out, rangeAddrs(from, r.To()))
	}
	for _, n := range src.FQDNs {
		out = append(out, Addrs{FQDNs: []string{n}})
	}
	return out
}

func rangeAddrs(from, to netip.Addr) Addrs {
	var b netipx.IPSetBuilder
	b.AddRange(netipx.IPRangeFrom(from, to))
	s, _ := b.IPSet()
	return Addrs{IPs: s}
}

func familyRange(f Family) netipx.IPRange {
	if f == IPv4 {
		return netipx.MustParseIPRange("0.0.0.0-255.255.255.255")
	}
	return netipx.MustParseIPRange("::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")
}

// holds reports whether side a contains the whole atom.
func holds(a, atom Addrs) bool {
	if a.Any {
		return true
	}
	if len(atom.FQDNs) > 0 {
		return slices.Contains(a.FQDNs, atom.FQDNs[0])
	}
	if a.IPs == nil || atom.IPs == nil {
		return false
	}
	for _, r := range atom.IPs.Ranges() {
		if !a.IPs.ContainsRange(r) {
			return false
		}
	}
	return true
}
