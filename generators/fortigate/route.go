package fortigate

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"go4.org/netipx"

	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/rules/addr"
	"github.com/portwall/portwall/rules/ir"
)

// defaultKey names the default route in [fortigate.interfaces], as "any"
// does.
const defaultKey = "default"

// routes say which interface or zone each address sits behind: the
// [fortigate.interfaces] keys as networks (a host or group stands for its
// addresses), longest prefix first, and the default route for the rest.
type routes struct {
	deflt   string // the default route's interface; "" when there is none
	deflKey string // "any" or "default"
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

// routeErr is a problem with one key of [fortigate.interfaces]; value
// errors point at the value, the others at the key.
type routeErr struct {
	key, msg string
	value    bool
}

// namePattern is what a profile's host and group names look like: a key
// shaped like one that is not one is a misspelt name, not an address.
var namePattern = regexp.MustCompile(`^[a-z0-9_-]+$`)

// buildRoutes reads the keys of fg.Interfaces. lookup resolves a host or
// group key to its address set (isName false: not a name; s nil: a name
// whose addresses are not known here, skipped); suggest lists the names
// for a misspelt one.
func buildRoutes(fg Settings, lookup func(name string) (s *ir.AddrSet, isName bool), suggest []string) (*routes, []routeErr) {
	if lookup == nil {
		lookup = func(k string) (*ir.AddrSet, bool) {
			s, ok := fg.KeySets[k]
			return s, ok
		}
	}
	rt := &routes{keyIntf: map[string]string{}, fqdns: map[string][]string{}}
	var errs []routeErr
	type claim struct {
		prefix netip.Prefix
		key    string
	}
	var claims []claim
	owner := map[netip.Prefix]string{} // prefix -> key
	intfs := map[string]bool{}
	for _, k := range slices.Sorted(maps.Keys(fg.Interfaces)) {
		intf := fg.Interfaces[k]
		rt.keyIntf[k] = intf
		intfs[intf] = true
		var prefixes []netip.Prefix
		var names []string
		s, isName := lookup(k)
		switch {
		case k == ir.AnySet || k == defaultKey || isName && s != nil && s.IsAny():
			// A group of every address (internet = ["any"]) is the
			// default route too.
			if rt.deflKey != "" {
				errs = append(errs, routeErr{key: k, msg: fmt.Sprintf("%s and %s both name the default route: keep one", rt.deflKey, k)})
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
			case err != nil && namePattern.MatchString(k):
				errs = append(errs, routeErr{key: k, msg: fmt.Sprintf("unknown host or group %q%s (a key is a host or group, an address, CIDR or range, a host name, or any)", k, diag.DidYouMean(k, suggest))})
				continue
			case err != nil:
				errs = append(errs, routeErr{key: k, msg: err.Error()})
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
					errs = append(errs, routeErr{key: k, msg: fmt.Sprintf("%s of %s is also behind %s (key %s): one network, one interface", p, k, rt.keyIntf[prev], prev)})
				}
				continue
			}
			owner[p] = k
			claims = append(claims, claim{p, k})
		}
		for _, n := range names {
			if prev, ok := rt.fqdns[n]; ok {
				if prev[0] != intf {
					errs = append(errs, routeErr{key: k, msg: fmt.Sprintf("host name %s of %s is also behind %s (key %s): one name, one interface", n, k, prev[0], prev[1])})
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

// placed is where one set's addresses of one family sit.
type placed struct {
	ips   map[string]*netipx.IPSet // by interface
	fqdns map[string][]string      // by interface
	// keys are the [fortigate.interfaces] keys that hold some of them.
	keys []string
	// uncovered are the addresses (and host names) behind no interface.
	uncovered *netipx.IPSet
	names     []string
}

// place splits addresses and host names by the interface they sit
// behind.
func (rt *routes) place(ips *netipx.IPSet, names []string) placed {
	out := placed{ips: map[string]*netipx.IPSet{}, fqdns: map[string][]string{}}
	add := func(intf string, s *netipx.IPSet) {
		var b netipx.IPSetBuilder
		if prev := out.ips[intf]; prev != nil {
			b.AddSet(prev)
		}
		b.AddSet(s)
		out.ips[intf], _ = b.IPSet()
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
				out.uncovered = rest
			}
		}
	}
	for _, n := range names {
		switch r, ok := rt.fqdns[n]; {
		case ok:
			out.fqdns[r[0]] = append(out.fqdns[r[0]], n)
			keys[r[1]] = true
		case rt.deflKey != "":
			out.fqdns[rt.deflt] = append(out.fqdns[rt.deflt], n)
			keys[rt.deflKey] = true
		default:
			out.names = append(out.names, n)
		}
	}
	out.keys = slices.Sorted(maps.Keys(keys))
	return out
}

// intfNames lists the interfaces a placement uses, sorted.
func (p placed) intfNames() []string {
	m := map[string]bool{}
	for i := range p.ips {
		m[i] = true
	}
	for i := range p.fqdns {
		m[i] = true
	}
	return slices.Sorted(maps.Keys(m))
}

// uncoveredText lists what no key holds, for an error.
func (p placed) uncoveredText() string {
	var out []string
	if p.uncovered != nil {
		for _, r := range p.uncovered.Ranges() {
			if pr, ok := r.Prefix(); ok {
				out = append(out, pr.String())
			} else {
				out = append(out, r.String())
			}
		}
	}
	out = append(out, p.names...)
	if len(out) > 4 {
		out = append(out[:4], fmt.Sprintf("and %d more", len(out)-4))
	}
	return strings.Join(out, ", ")
}

// familySet is the addresses of one family of a set, as an IPSet.
func familySet(s *ir.AddrSet, f ir.Family) *netipx.IPSet {
	var b netipx.IPSetBuilder
	for _, r := range s.Ranges(f) {
		b.AddRange(r)
	}
	out, _ := b.IPSet()
	return out
}
