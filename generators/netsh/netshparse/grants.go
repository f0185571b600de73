package netshparse

import (
	"fmt"
	"strconv"
	"strings"

	"go4.org/netipx"

	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

// Grants returns what the script's rules let through, as ir.Grant values
// for ir.HostView.CheckGrant. It over-approximates: conditions a grant
// cannot carry (localip, remote ports of inbound rules, local ports of
// outbound ones, ICMP codes, profiles, interface types, services, edge)
// only narrow a rule, so leaving them out can only make the check
// stricter. What cannot be over-approximated by a grant (protocol any,
// address and port keywords) is an error: such a rule allows more than any
// IR rule says. Block rules and disabled rules allow nothing and give no
// grant.
func (s *Script) Grants() ([]ir.Grant, error) {
	var out []ir.Grant
	for _, r := range s.Rules {
		gs, err := r.Grants()
		if err != nil {
			return nil, fmt.Errorf("line %d: rule %s: %w", r.Line, r.Name, err)
		}
		out = append(out, gs...)
	}
	return out, nil
}

// Grants returns what one rule lets through, one grant per IP family.
func (r *Rule) Grants() ([]ir.Grant, error) {
	if r.Action == "block" || !r.Enable {
		return nil, nil
	}
	g := ir.Grant{Dir: ir.Direction(r.Dir), Program: r.Program}
	var err error
	if g.Protocol, err = protocol(r.Protocol); err != nil {
		return nil, err
	}
	switch {
	case g.Protocol.HasPorts():
		key := "localport"
		if g.Dir == ir.Out {
			key = "remoteport"
		}
		if g.Ports, err = grantPorts(r.Params[key]); err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
	default:
		g.ICMPTypes = icmpTypes(r.Protocol)
	}
	remote, err := remoteAddrs(r.Params["remoteip"])
	if err != nil {
		return nil, err
	}
	var out []ir.Grant
	for _, f := range ir.Families {
		if !f.Carries(g.Protocol) {
			continue
		}
		fg := g
		a := ir.Addrs{Any: remote.any}
		if !remote.any {
			fam := familySet(remote.ips, f)
			if fam == nil {
				continue // no address of this family: the rule cannot match it
			}
			a.IPs = fam
		}
		if g.Dir == ir.In {
			fg.Src = a
		} else {
			fg.Dst = a
		}
		fg.Family = f
		out = append(out, fg)
	}
	return out, nil
}

// protocol maps netsh's protocol to portwall's, refusing what no IR rule
// can be: protocol any (netsh's default) and other protocol numbers.
func protocol(p string) (proto.Protocol, error) {
	name, _, _ := strings.Cut(p, ":")
	switch name {
	case "tcp", "6":
		return proto.TCP, nil
	case "udp", "17":
		return proto.UDP, nil
	case "icmpv4", "1":
		return proto.ICMP, nil
	case "icmpv6", "58":
		return proto.ICMPv6, nil
	case "", "any":
		return 0, fmt.Errorf("protocol any allows every protocol")
	}
	return 0, fmt.Errorf("protocol %s is not one portwall rules allow", p)
}

// grantPorts reads a port list; absent or any is every port.
func grantPorts(v string) (ports.Set, error) {
	if v == "" {
		v = "any"
	}
	if _, ok := localPortKeywords[strings.ToLower(v)]; ok {
		return nil, fmt.Errorf("%s stands for ports Windows picks at run time", v)
	}
	prs, err := portList(v)
	if err != nil {
		return nil, err
	}
	var rs []ports.Range
	for _, p := range prs {
		rs = append(rs, ports.Range{First: uint16(p.first), Last: uint16(p.last)})
	}
	return ports.NewSet(rs...), nil
}

// icmpTypes reads the type of icmpv4:<type>,<code>; nil is every type.
// The code is dropped: a grant of the whole type covers it.
func icmpTypes(p string) []uint8 {
	_, tc, ok := strings.Cut(p, ":")
	if !ok {
		return nil
	}
	t, _, _ := strings.Cut(tc, ",")
	n, err := strconv.Atoi(t)
	if err != nil { // "any"
		return nil
	}
	return []uint8{uint8(n)}
}

type remote struct {
	any bool
	ips *netipx.IPSet
}

// remoteAddrs reads remoteip; absent is any. Keywords (localsubnet, dns,
// ...) are addresses only Windows knows, which no grant can bound.
func remoteAddrs(v string) (remote, error) {
	if v == "" || strings.EqualFold(v, "any") {
		return remote{any: true}, nil
	}
	var b netipx.IPSetBuilder
	for _, e := range strings.Split(v, ",") {
		if isKeyword(e) {
			return remote{}, fmt.Errorf("remoteip %s stands for addresses Windows finds at run time", e)
		}
		r, err := ipRange(e)
		if err != nil {
			return remote{}, err
		}
		b.AddRange(r)
	}
	set, err := b.IPSet()
	if err != nil {
		return remote{}, err
	}
	return remote{ips: set}, nil
}

func isKeyword(e string) bool {
	for _, k := range remoteKeywords {
		if strings.EqualFold(e, k) {
			return true
		}
	}
	return false
}

// familySet is the part of set in family f, or nil if there is none.
func familySet(set *netipx.IPSet, f ir.Family) *netipx.IPSet {
	var b netipx.IPSetBuilder
	n := 0
	for _, r := range set.Ranges() {
		if f.Has(r.From()) {
			b.AddRange(r)
			n++
		}
	}
	if n == 0 {
		return nil
	}
	s, _ := b.IPSet()
	return s
}
