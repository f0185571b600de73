package ir

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/portwall/portwall/rules/ports"
)

// Merge combines rules with equal keys (endpoints, protocol, program):
// their ports and ICMP types are joined and their origins kept. The result
// is in the order of each rule's first origin, every rule with its ID.
//
// Merge takes parts over: the first part of each key becomes the merged
// rule, keeping its Origins slice, so that a profile of rules that do not
// merge costs one Rule and one Origins slice per rule, not two. Callers
// must not use parts afterwards (the result is written over them). Ports
// and ICMP types, which parts may share with each other or with the
// profile, are copied.
func Merge(parts []*Rule) ([]*Rule, error) {
	// Rules are found by their ID's hash rather than by key: the ID is
	// needed anyway, and two keys with one ID are an error whether they
	// would merge or not. Keys are built in reused buffers.
	byID := make(map[idHash]*Rule, len(parts))
	// The rules are written over parts: the j-th rule comes from the i-th
	// part or one before it, for j <= i.
	out := parts[:0]
	ids := make([]idHash, 0, len(parts)) // the j-th rule's
	var key, other []byte
	for _, p := range parts {
		key = p.appendKey(key[:0])
		h := hashKey(key)
		r, ok := byID[h]
		if !ok {
			r = p
			byID[h] = r
			out = append(out, r)
			ids = append(ids, h)
			r.Ports = ports.Set(nil).Union(p.Ports)
			r.ICMPTypes = slices.Clone(p.ICMPTypes)
			r.allTypes = len(p.ICMPTypes) == 0
			// Clipped, so that appending the next part's origins copies
			// them rather than writing past p's own.
			r.Origins = slices.Clip(p.Origins)
			continue
		}
		if other = r.appendKey(other[:0]); !bytes.Equal(key, other) {
			return nil, fmt.Errorf("internal error: rule ID %s is shared by %s and %s", h.id(), other, key)
		}
		r.Ports = r.Ports.Union(p.Ports)
		// An empty type list means every type, which absorbs any list.
		if len(p.ICMPTypes) == 0 {
			r.allTypes = true
		}
		r.ICMPTypes = append(r.ICMPTypes, p.ICMPTypes...)
		r.Origins = append(r.Origins, p.Origins...)
	}
	// The parts merged into others are garbage: keep them out of reach of
	// the result's backing array.
	clear(parts[len(out):])
	setIDs(out, ids)
	// Parts mostly come in origin order already, and a stable sort of
	// sorted rules changes nothing: check while each rule's origins are at
	// hand.
	sorted := true
	for i, r := range out {
		if r.allTypes {
			r.ICMPTypes = nil
		} else {
			slices.Sort(r.ICMPTypes)
			r.ICMPTypes = slices.Compact(r.ICMPTypes)
		}
		r.allTypes = false
		slices.SortStableFunc(r.Origins, compareOrigins)
		if i > 0 && sorted {
			sorted = compareOrigins(out[i-1].Origins[0], r.Origins[0]) <= 0
		}
	}
	if !sorted {
		slices.SortStableFunc(out, func(a, b *Rule) int { return compareOrigins(a.Origins[0], b.Origins[0]) })
	}
	return out, nil
}

// setIDs gives each rule the ID of its hash, all of them substrings of
// one string: one allocation, not one per rule.
func setIDs(rules []*Rule, ids []idHash) {
	var b strings.Builder
	b.Grow(len(ids) * idLen)
	var id [idLen]byte
	for _, h := range ids {
		b.Write(h.appendID(id[:0]))
	}
	all := b.String()
	for i, r := range rules {
		r.ID = all[i*idLen : (i+1)*idLen]
	}
}

// PortsOf returns the union of the ports the origins contributed.
func PortsOf(origins []Origin) ports.Set {
	var s ports.Set
	for _, o := range origins {
		s = s.Union(o.Ports)
	}
	return s
}
