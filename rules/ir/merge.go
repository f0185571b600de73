package ir

import (
	"fmt"
	"slices"

	"github.com/portwall/portwall/rules/ports"
)

// Merge combines rules with equal keys (endpoints, protocol, program):
// their ports and ICMP types are joined and their origins kept. The result
// is in the order of each rule's first origin, every rule with its ID.
func Merge(parts []*Rule) ([]*Rule, error) {
	byKey := map[string]*Rule{}
	var out []*Rule
	for _, p := range parts {
		k := p.Key()
		r, ok := byKey[k]
		if !ok {
			r = &Rule{From: p.From, To: p.To, Protocol: p.Protocol, Program: p.Program, ICMPTypes: slices.Clone(p.ICMPTypes), allTypes: len(p.ICMPTypes) == 0}
			byKey[k] = r
			out = append(out, r)
		}
		r.Ports = r.Ports.Union(p.Ports)
		// An empty type list means every type, which absorbs any list.
		if len(p.ICMPTypes) == 0 {
			r.allTypes = true
		}
		r.ICMPTypes = append(r.ICMPTypes, p.ICMPTypes...)
		r.Origins = append(r.Origins, p.Origins...)
	}
	ids := map[string]string{}
	for _, r := range out {
		if r.allTypes {
			r.ICMPTypes = nil
		} else {
			slices.Sort(r.ICMPTypes)
			r.ICMPTypes = slices.Compact(r.ICMPTypes)
		}
		r.allTypes = false
		slices.SortStableFunc(r.Origins, compareOrigins)
		r.SetID()
		if other, dup := ids[r.ID]; dup {
			return nil, fmt.Errorf("internal error: rule ID %s is shared by %s and %s", r.ID, other, r.Key())
		}
		ids[r.ID] = r.Key()
	}
	slices.SortStableFunc(out, func(a, b *Rule) int { return compareOrigins(a.Origins[0], b.Origins[0]) })
	return out, nil
}

// PortsOf returns the union of the ports the origins contributed.
func PortsOf(origins []Origin) ports.Set {
	var s ports.Set
	for _, o := range origins {
		s = s.Union(o.Ports)
	}
	return s
}
