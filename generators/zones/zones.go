// Package zones places addresses behind a gateway's interfaces or zones,
// from a table that says what sits behind each one ([fortigate.interfaces]):
// a key is a host or group of the profile (its addresses), an address,
// CIDR or range, a host name, or "any" (or "default"): the default route.
// An address sits behind the key that holds it by longest prefix, else
// behind the default route.
//
// The FortiGate backend writes its policies from this placement, and the
// port document draws and lists endpoints by it, so that the two cannot
// disagree about where an address is.
package zones

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"sync"

	"go4.org/netipx"

	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/rules/addr"
	"github.com/portwall/portwall/rules/ir"
)

// DefaultKey names the default route, as "any" does.
const DefaultKey = "default"

// Map says which interface or zone each address sits behind: the keys as
// networks (a host or group stands for its addresses), longest prefix
// first, and the default route for the rest.
type Map struct {
	deflt   string // the default route's interface; "" when there is none
	deflKey string // the key that names it: "any", "default" or a group of every address
	keyIntf map[string]string
	regions []region            // by key, what each key's networks hold after longer prefixes
	index   []indexed           // the regions' ranges, by address
	fqdns   map[string][]string // host name -> [interface, key]
	// intfs lists every interface named, sorted.
	intfs []string
}

// region is what one key holds: its networks, less the longer prefixes
// of other keys within them.
type region struct {
	key, intf string
	ips       *netipx.IPSet
}

// indexed is a range of region i.
type indexed struct {
	r netipx.IPRange
	i int
}

// KeyError is a problem with one key of the table; Value errors point at
// the key's value, the others at the key.
type KeyError struct {
	Key, Msg string
	Value    bool
}

// namePattern is what a profile's host and group names look like: a key
// shaped like one that is not one is a misspelt name, not an address.
var namePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9_-]+$`) })

// Lookup resolves a key to the address set of the host or group it names:
// isName false when it names none; s nil for a name whose addresses are
// not known here (skipped).
type Lookup func(key string) (s *ir.AddrSet, isName bool)

// Build reads the table (key -> interface). suggest lists the profile's
// names for a misspelt one. The map is usable whatever the errors: a key
// in error is left out.
func Build(table map[string]string, lookup Lookup, suggest []string) (*Map, []KeyError) {
	rt := &Map{keyIntf: map[string]string{}, fqdns: map[string][]string{}}
	var errs []KeyError
	type claim struct {
		prefix netip.Prefix
		key    string
	}
	var claims []claim
	owner := map[netip.Prefix]string{} // prefix -> key
	intfs := map[string]bool{}
	for _, k := range slices.Sorted(maps.Keys(table)) {
		intf := table[k]
		rt.keyIntf[k] = intf
		intfs[intf] = true
		var prefixes []netip.Prefix
		var names []string
		s, isName := lookup(k)
		switch {
		case k == ir.AnySet || k == DefaultKey || isName && s != nil && s.IsAny():
			// A group of every address (internet = ["any"]) is the
			// default route too.
			if rt.deflKey != "" {
				errs = append(errs, KeyError{Key: k, Msg: fmt.Sprintf("%s and %s both name the default route: keep one", rt.deflKey, k)})
				continue
			}
			rt.deflt, rt.deflKey = intf, k
			continue
		case isName && s == nil:
			continue
		case isName:
			for _, f := range ir.Families {
				for _, r := range s.Ranges(f) {
					prefixes = append(prefixes, r.Prefixes()...)
				}
			}
			names = s.FQDNs
		default:
			m, err := addr.Parse(k)
			switch {
			case err != nil && namePattern().MatchString(k):
				errs = append(errs, KeyError{Key: k, Msg: fmt.Sprintf("unknown host or group %q%s (a key is a host or group, an address, CIDR or range, a host name, or any)", k, diag.DidYouMean(k, suggest))})
				continue
			case err != nil:
				errs = append(errs, KeyError{Key: k, Msg: err.Error()})
				continue
			case m.Kind == addr.KindPrefix:
				prefixes = []netip.Prefix{m.Prefix}
			case m.Kind == addr.KindRange:
				prefixes = m.Range.Prefixes()
			case m.Kind == addr.KindFQDN:
				names = []string{m.FQDN}
			}
		}
		for _, p := range prefixes {
			if prev, ok := owner[p]; ok {
				if rt.keyIntf[prev] != intf {
					errs = append(errs, KeyError{Key: k, Msg: fmt.Sprintf("%s of %s is also behind %s (key %s): one network, one interface", p, k, rt.keyIntf[prev], prev)})
				}
				continue
			}
			owner[p] = k
			claims = append(claims, claim{p, k})
		}
		for _, n := range names {
			if prev, ok := rt.fqdns[n]; ok {
				if prev[0] != intf {
					errs = append(errs, KeyError{Key: k, Msg: fmt.Sprintf("host name %s of %s is also behind %s (key %s): one name, one interface", n, k, prev[0], prev[1])})
				}
				continue
			}
			rt.fqdns[n] = []string{intf, k}
		}
	}
	// Longest prefix first: a key holds what no longer prefix holds.
	slices.SortFunc(claims, func(a, b claim) int {
		return cmp.Or(-cmp.Compare(a.prefix.Bits(), b.prefix.Bits()), a.prefix.Addr().Compare(b.prefix.Addr()), cmp.Compare(a.key, b.key))
	})
	// Same-length prefixes are disjoint (equal ones were merged above),
	// so every claim of one length loses the same longer prefixes: the
	// union of those is computed once per length, and each claim takes
	// out only the ranges of it that lie within its prefix. (Computing
	// the union again for every claim made 2,500 keys take seconds.)
	var all netipx.IPSetBuilder
	held := map[string]*netipx.IPSetBuilder{}
	var order []string
	var longer []netipx.IPRange
	for i, c := range claims {
		if i == 0 || c.prefix.Bits() != claims[i-1].prefix.Bits() {
			done, _ := all.IPSet()
			longer = done.Ranges()
		}
		var b netipx.IPSetBuilder
		b.AddPrefix(c.prefix)
		pr := netipx.RangeOfPrefix(c.prefix)
		j, _ := slices.BinarySearchFunc(longer, pr.From(), func(r netipx.IPRange, a netip.Addr) int { return r.To().Compare(a) })
		for ; j < len(longer) && longer[j].From().Compare(pr.To()) <= 0; j++ {
			b.RemoveRange(longer[j])
		}
		part, _ := b.IPSet()
		if held[c.key] == nil {
			held[c.key] = &netipx.IPSetBuilder{}
			order = append(order, c.key)
		}
		held[c.key].AddSet(part)
		all.AddPrefix(c.prefix)
	}
	slices.Sort(order)
	for _, k := range order {
		ips, _ := held[k].IPSet()
		rt.regions = append(rt.regions, region{key: k, intf: rt.keyIntf[k], ips: ips})
	}
	// The regions do not overlap: one index of their ranges finds the
	// regions an address set touches without intersecting it with each.
	for i, r := range rt.regions {
		for _, x := range r.ips.Ranges() {
			rt.index = append(rt.index, indexed{x, i})
		}
	}
	slices.SortFunc(rt.index, func(a, b indexed) int { return a.r.From().Compare(b.r.From()) })
	rt.intfs = slices.Sorted(maps.Keys(intfs))
	return rt, errs
}

// Interfaces lists every interface or zone the table names, sorted.
func (rt *Map) Interfaces() []string { return rt.intfs }

// Default is the default route's interface and the key that names it;
// both empty when the table has none.
func (rt *Map) Default() (intf, key string) { return rt.deflt, rt.deflKey }

// Interface is the interface a key of the table names ("" for none).
func (rt *Map) Interface(key string) string { return rt.keyIntf[key] }

// Placement is where addresses and host names sit.
type Placement struct {
	IPs   map[string]*netipx.IPSet // by interface
	FQDNs map[string][]string      // by interface
	// Keys are the keys that hold some of them, sorted.
	Keys []string
	// Uncovered are the addresses (and Names the host names) behind no
	// interface: no key holds them and there is no default route.
	Uncovered *netipx.IPSet
	Names     []string
}

// Place splits addresses and host names by the interface they sit
// behind.
func (rt *Map) Place(ips *netipx.IPSet, names []string) Placement {
	out := Placement{IPs: map[string]*netipx.IPSet{}, FQDNs: map[string][]string{}}
	add := func(intf string, s *netipx.IPSet) {
		var b netipx.IPSetBuilder
		if prev := out.IPs[intf]; prev != nil {
			b.AddSet(prev)
		}
		b.AddSet(s)
		out.IPs[intf], _ = b.IPSet()
	}
	keys := map[string]bool{}
	if ips != nil && len(ips.Ranges()) > 0 {
		parts := map[int]*netipx.IPSetBuilder{}
		// rest is what no region holds: the regions together are the
		// assigned addresses.
		var restB netipx.IPSetBuilder
		restB.AddSet(ips)
		for _, x := range ips.Ranges() {
			j, _ := slices.BinarySearchFunc(rt.index, x.From(), func(e indexed, a netip.Addr) int { return e.r.To().Compare(a) })
			for ; j < len(rt.index) && rt.index[j].r.From().Compare(x.To()) <= 0; j++ {
				e := rt.index[j]
				from, to := e.r.From(), e.r.To()
				if x.From().Compare(from) > 0 {
					from = x.From()
				}
				if x.To().Compare(to) < 0 {
					to = x.To()
				}
				if parts[e.i] == nil {
					parts[e.i] = &netipx.IPSetBuilder{}
				}
				parts[e.i].AddRange(netipx.IPRangeFrom(from, to))
				restB.RemoveRange(netipx.IPRangeFrom(from, to))
			}
		}
		for _, i := range slices.Sorted(maps.Keys(parts)) {
			part, _ := parts[i].IPSet()
			r := rt.regions[i]
			add(r.intf, part)
			keys[r.key] = true
		}
		rest, _ := restB.IPSet()
		if len(rest.Ranges()) > 0 {
			if rt.deflKey != "" {
				add(rt.deflt, rest)
				keys[rt.deflKey] = true
			} else {
				out.Uncovered = rest
			}
		}
	}
	for _, n := range names {
		switch r, ok := rt.fqdns[n]; {
		case ok:
			out.FQDNs[r[0]] = append(out.FQDNs[r[0]], n)
			keys[r[1]] = true
		case rt.deflKey != "":
			out.FQDNs[rt.deflt] = append(out.FQDNs[rt.deflt], n)
			keys[rt.deflKey] = true
		default:
			out.Names = append(out.Names, n)
		}
	}
	out.Keys = slices.Sorted(maps.Keys(keys))
	return out
}

// PlaceSet places every address and host name of an address set, both
// families. A set of every address sits behind the default route (the
// Internet's side), or is uncovered without one.
func (rt *Map) PlaceSet(s *ir.AddrSet) Placement {
	if !s.IsAny() {
		return rt.Place(s.IPs, s.FQDNs)
	}
	var b netipx.IPSetBuilder
	b.AddPrefix(netip.PrefixFrom(netip.IPv4Unspecified(), 0))
	b.AddPrefix(netip.PrefixFrom(netip.IPv6Unspecified(), 0))
	every, _ := b.IPSet()
	out := Placement{IPs: map[string]*netipx.IPSet{}, FQDNs: map[string][]string{}}
	if rt.deflKey == "" {
		out.Uncovered = every
		return out
	}
	out.IPs[rt.deflt], out.Keys = every, []string{rt.deflKey}
	return out
}

// Interfaces lists the interfaces a placement uses, sorted.
func (p Placement) Interfaces() []string {
	m := map[string]bool{}
	for i := range p.IPs {
		m[i] = true
	}
	for i := range p.FQDNs {
		m[i] = true
	}
	return slices.Sorted(maps.Keys(m))
}

// Covered reports whether everything placed sits behind some interface.
func (p Placement) Covered() bool { return p.Uncovered == nil && len(p.Names) == 0 }

// UncoveredText lists what no key holds, for an error.
func (p Placement) UncoveredText() string {
	var out []string
	if p.Uncovered != nil {
		for _, r := range p.Uncovered.Ranges() {
			if pr, ok := r.Prefix(); ok {
				out = append(out, pr.String())
			} else {
				out = append(out, r.String())
			}
		}
	}
	out = append(out, p.Names...)
	if len(out) > 4 {
		out = append(out[:4], fmt.Sprintf("and %d more", len(out)-4))
	}
	return strings.Join(out, ", ")
}

// FamilySet is the addresses of one family of a set, as an IPSet.
func FamilySet(s *ir.AddrSet, f ir.Family) *netipx.IPSet {
	var b netipx.IPSetBuilder
	for _, r := range s.Ranges(f) {
		b.AddRange(r)
	}
	out, _ := b.IPSet()
	return out
}
