package ir

import (
	"fmt"
	"net/netip"
	"slices"

	"go4.org/netipx"

	"github.com/portwall/portwall/rules/proto"
)

// Family is an IP version.
type Family uint8

const (
	IPv4 Family = 4
	IPv6 Family = 6
)

// Families lists both families in output order.
var Families = []Family{IPv4, IPv6}

// Has reports whether a is an address of family f.
func (f Family) Has(a netip.Addr) bool {
	return f == IPv4 && a.Is4() || f == IPv6 && a.Is6()
}

// Carries reports whether protocol p can occur in family f (ICMP only in
// IPv4, ICMPv6 only in IPv6).
func (f Family) Carries(p proto.Protocol) bool {
	return p.Family() == 0 || p.Family() == int(f)
}

// ICMP is the ICMP protocol of family f: ICMP for IPv4, ICMPv6 for IPv6.
func (f Family) ICMP() proto.Protocol {
	if f == IPv6 {
		return proto.ICMPv6
	}
	return proto.ICMP
}

func (f Family) String() string {
	if f == IPv4 {
		return "ipv4"
	}
	return "ipv6"
}

// Direction is inbound (to the host) or outbound (from the host).
type Direction string

const (
	In  Direction = "in"
	Out Direction = "out"
)

// HostRule is a network rule seen from one host.
type HostRule struct {
	Rule *Rule
	Dir  Direction
	// Remote is the other side: the rule's From for inbound rules, its To
	// for outbound ones.
	Remote Endpoint
}

// HostView is what one host must allow.
type HostView struct {
	Ruleset *Ruleset
	Host    *Host
	In, Out []HostRule
}

// HostView selects the rules that concern host name: inbound rules whose
// To names the host and outbound rules whose From does.
//
// A rule names a host when one of its sets is the host or a group that
// includes the host by name (roles and peers bind to such sets). Addresses
// never pull a rule onto a host: "any", or a group whose networks happen to
// contain a host's address, stands for other machines. An outbound flow to
// "any" on port 25 therefore opens nothing on the profile's own hosts.
func (rs *Ruleset) HostView(name string) (*HostView, error) {
	h, ok := rs.Host(name)
	if !ok {
		return nil, fmt.Errorf("unknown host %q", name)
	}
	v := &HostView{Ruleset: rs, Host: h}
	in, out := rs.rulesNaming(name)
	v.In = viewRules(rs.Rules, in, In)
	v.Out = viewRules(rs.Rules, out, Out)
	return v, nil
}

// rulesNaming returns the indices into Rules of the rules naming host name:
// on their To side (in) and on their From side (out), in order.
//
// The first view asked of a Ruleset's rules scans them for that host
// alone (scanHost): generate --host, explain and diff ask for one, and
// the index of every host costs a set lookup by name for each side of
// each rule (2 ms of 10,000). The second view builds the index
// (hostIndex), so that each further host of a fleet costs its own rules.
func (rs *Ruleset) rulesNaming(name string) (in, out []int) {
	idx := rs.hosts.Load()
	if !idx.current(rs.Rules) && rs.hosts.CompareAndSwap(idx, &hostRules{of: rs.Rules}) {
		return rs.scanHost(name)
	}
	idx = rs.hostIndex()
	return idx.in[name], idx.out[name]
}

// scanHost is rulesNaming without an index: the sets that name the host,
// then the rules that name one of them.
func (rs *Ruleset) scanHost(name string) (in, out []int) {
	// Few sets name a host (its own, its groups, roles bound to it): a
	// list beats a map for the lookups below.
	var naming []string
	for _, s := range rs.Addrs {
		if slices.Contains(s.Hosts, name) {
			naming = append(naming, s.Name)
		}
	}
	if len(naming) == 0 {
		return nil, nil
	}
	names := func(e Endpoint) bool {
		return slices.ContainsFunc(e.Sets, func(n string) bool { return slices.Contains(naming, n) })
	}
	for i, r := range rs.Rules {
		if names(r.To) {
			in = append(in, i)
		}
		if names(r.From) {
			out = append(out, i)
		}
	}
	return in, out
}

// viewRules returns the rules at indices, seen in direction dir; nil for
// none.
func viewRules(rules []*Rule, indices []int, dir Direction) []HostRule {
	if len(indices) == 0 {
		return nil
	}
	out := make([]HostRule, len(indices))
	for j, i := range indices {
		r := rules[i]
		remote := r.From
		if dir == Out {
			remote = r.To
		}
		out[j] = HostRule{Rule: r, Dir: dir, Remote: remote}
	}
	return out
}

// Enforced lists the host rules a host firewall enforces: inbound rules
// always, outbound rules only when egress is filtered (output policy
// drop). Every host backend renders exactly these.
func (v *HostView) Enforced() []HostRule {
	if v.Ruleset.Policy.Output == OutputDrop {
		return slices.Concat(v.In, v.Out)
	}
	return slices.Clone(v.In)
}

// hostRules indexes the rules by the hosts they name, so that the view of
// each of a fleet's hosts costs its own rules, not the whole profile's.
// Without maps it only records that one view of the rules was asked
// (Ruleset.rulesNaming).
type hostRules struct {
	of      []*Rule
	in, out map[string][]int // host -> indices into Rules, in order
}

// current reports whether idx is about rules (and not another slice).
func (idx *hostRules) current(rules []*Rule) bool {
	return idx != nil && len(idx.of) == len(rules) && (len(rules) == 0 || &idx.of[0] == &rules[0])
}

// hostIndex returns the index, built again whenever Rules is another
// slice than the one indexed.
func (rs *Ruleset) hostIndex() *hostRules {
	idx := rs.hosts.Load()
	if idx.current(rs.Rules) && idx.in != nil {
		return idx
	}
	idx = &hostRules{of: rs.Rules, in: map[string][]int{}, out: map[string][]int{}}
	add := func(m map[string][]int, e Endpoint, i int) {
		for _, n := range e.Sets {
			s, ok := rs.Set(n)
			if !ok {
				continue
			}
			for _, h := range s.Hosts {
				// A rule naming the host through two sets is in its view
				// once.
				if l := m[h]; len(l) == 0 || l[len(l)-1] != i {
					m[h] = append(l, i)
				}
			}
		}
	}
	for i, r := range rs.Rules {
		add(idx.in, r.To, i)
		add(idx.out, r.From, i)
	}
	rs.hosts.Store(idx)
	return idx
}

// names reports whether endpoint e names host h.
func (rs *Ruleset) names(e Endpoint, h *Host) bool {
	for _, n := range e.Sets {
		if s, ok := rs.Set(n); ok && slices.Contains(s.Hosts, h.Name) {
			return true
		}
	}
	return false
}

// Match is the part of a host rule for one family and one remote address
// set: what a backend emits as one rule. A host rule has no match in a
// family where it cannot apply; backends must emit nothing for it there.
// This is where "an ICMPv6 rule under an IPv4 header became a bare accept"
// is made impossible: a side with no address of the family drops the
// family, it never drops the address match.
type Match struct {
	Family Family
	// Remote is the address set of the other side; RemoteAll is set when
	// it is every address, and no address match is needed.
	Remote    *AddrSet
	RemoteAll bool
	// RemoteRanges are Remote's addresses of the family; RemoteFQDNs its
	// host names, which backends resolve, refuse, or handle as documented.
	RemoteRanges []netipx.IPRange
	RemoteFQDNs  []string
}

// Matches splits a host rule into its per-family, per-set matches, IPv4
// first, sets in name order. The host itself is left out of the remote
// side: its traffic to itself never leaves loopback, which the baseline
// allows, so HA peers bound as one role get rules from the other members
// only.
func (v *HostView) Matches(hr HostRule) []Match {
	var out []Match
	for _, f := range Families {
		if !f.Carries(hr.Rule.Protocol) {
			continue
		}
		for _, n := range hr.Remote.Sets {
			s, ok := v.Ruleset.Set(n)
			if !ok {
				panic(fmt.Sprintf("ir: rule %s refers to unknown set %q", hr.Rule.ID, n))
			}
			if s.Kind == SetHost && s.Name == v.Host.Name {
				continue
			}
			if s.IsAny() {
				out = append(out, Match{Family: f, Remote: s, RemoteAll: true})
				continue
			}
			ranges := s.Ranges(f)
			if len(ranges) == 0 && len(s.FQDNs) == 0 {
				continue
			}
			out = append(out, Match{Family: f, Remote: s, RemoteRanges: ranges, RemoteFQDNs: s.FQDNs})
		}
	}
	return out
}
