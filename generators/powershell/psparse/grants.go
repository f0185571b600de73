package psparse

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
// cannot carry (local addresses, remote ports of inbound rules, local
// ports of outbound ones, ICMP codes, profiles) only narrow a rule, so
// leaving them out can only make the check stricter. What cannot be
// over-approximated by a grant (protocol Any, address and port keywords)
// is an error. Block rules and disabled rules give no grant.
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

// Grants returns what one rule lets through, one grant per IP family (per
// ICMP type list as written).
func (r *Rule) Grants() ([]ir.Grant, error) {
	if r.Action == "Block" || !r.Enabled {
		return nil, nil
	}
	dir := ir.In
	if r.Direction == "Outbound" {
		dir = ir.Out
	}
	g := ir.Grant{Dir: dir, Program: r.Program}
	switch r.Protocol {
	case "TCP", "6":
		g.Protocol = proto.TCP
	case "UDP", "17":
		g.Protocol = proto.UDP
	case "ICMPv4", "1":
		g.Protocol = proto.ICMP
	case "ICMPv6", "58":
		g.Protocol = proto.ICMPv6
	case "", "Any":
		return nil, fmt.Errorf("protocol Any allows every protocol")
	default:
		return nil, fmt.Errorf("protocol %s is not one portwall rules allow", r.Protocol)
	}
	if g.Protocol.HasPorts() {
		key := "localport"
		if dir == ir.Out {
			key = "remoteport"
		}
		ps, err := grantPorts(r.Params[key])
		if err != nil {
			return nil, fmt.Errorf("-%s: %w", key, err)
		}
		g.Ports = ps
	} else if items, ok := r.Params["icmptype"]; ok {
		types, err := icmpTypes(items)
		if err != nil {
			return nil, err
		}
		g.ICMPTypes = types
	}
	any, set, err := remote(r.Params["remoteaddress"])
	if err != nil {
		return nil, err
	}
	var out []ir.Grant
	for _, f := range ir.Families {
		if !f.Carries(g.Protocol) {
			continue
		}
		a := ir.Addrs{Any: any}
		if !any {
			if a.IPs = familySet(set, f); a.IPs == nil {
				continue // no address of this family: the rule cannot match it
			}
		}
		fg := g
		fg.Family = f
		if dir == ir.In {
			fg.Src = a
		} else {
			fg.Dst = a
		}
		out = append(out, fg)
	}
	return out, nil
}

// grantPorts reads a port list; absent or Any is every port, and the
// other keywords are ports Windows picks at run time.
func grantPorts(items []string) (ports.Set, error) {
	if len(items) == 0 || len(items) == 1 && strings.EqualFold(items[0], "Any") {
		return ports.NewSet(ports.Range{First: 0, Last: 65535}), nil
	}
	if len(items) == 1 {
		if _, err := strconv.Atoi(strings.SplitN(items[0], "-", 2)[0]); err != nil {
			return nil, fmt.Errorf("%s stands for ports Windows picks at run time", items[0])
		}
	}
	prs, err := portList(items)
	if err != nil {
		return nil, err
	}
	var rs []ports.Range
	for _, p := range prs {
		rs = append(rs, ports.Range{First: uint16(p.first), Last: uint16(p.last)})
	}
	return ports.NewSet(rs...), nil
}

// remote reads -RemoteAddress: absent or Any is every address; keywords
// are addresses only Windows knows, which no grant can bound.
func remote(items []string) (bool, *netipx.IPSet, error) {
	if len(items) == 0 || len(items) == 1 && strings.EqualFold(items[0], "Any") {
		return true, nil, nil
	}
	var b netipx.IPSetBuilder
	for _, e := range items {
		r, err := ipRange(e)
		if err != nil {
			return false, nil, fmt.Errorf("-RemoteAddress %s stands for addresses Windows finds at run time, or %v", e, err)
		}
		b.AddRange(r)
	}
	set, err := b.IPSet()
	return false, set, err
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
