// Package probe plans the probes that test one host's rules: which peers
// stand for which address sets, which packets to send in each direction,
// and what the rules say happens to each (ir.HostView.Allowing), and which
// packets check the profile's [[expect]] entries. It is pure: the packet
// proof (internal/proof) sends the plan, and lint checks expectations
// with it.
package probe

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"go4.org/netipx"

	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/proto"
)

// Limits that keep a proof bounded whatever the profile's size.
const (
	// MaxPeers is how many peer namespaces one proof builds.
	MaxPeers = 32
	// samplesPerFamily is how many addresses stand for one address set in
	// one family.
	samplesPerFamily = 3
)

// Outside is the peer that stands for addresses no address set of the
// profile holds: "any", and strangers.
const Outside = "outside"

// outsideCandidates are documentation addresses, tried in order, for the
// outside peer: the first that no set of the profile holds is used.
var outsideCandidates = []string{
	"203.0.113.77", "198.51.100.77", "192.0.2.77", "100.64.77.77",
	"2001:db8:ffff:77::77", "2001:db8:fffe:77::77", "3fff:fff:77::77",
}

// extraPorts are probed on every host besides the rules' own ports and
// their neighbours: common services that must stay closed unless a rule
// opens them.
var extraPorts = []uint16{22, 23, 25, 53, 80, 110, 143, 443, 445, 3306, 3389, 5432, 8080}

// Plan is the probe matrix for one host.
type Plan struct {
	View *ir.HostView
	// Dst is the host's address probed in each family; a family the host
	// has no address in is not probed.
	Dst map[ir.Family]netip.Addr
	// Peers stand for the address sets, each with its sample addresses.
	Peers []*Peer
	// Ports are probed with TCP and UDP from every peer address.
	Ports  []uint16
	Probes []*Probe
	// Expect checks each of the profile's expectations that concern the
	// host.
	Expect []*ExpectCheck
	// Unprobed says what the plan could not probe, and why: what no probe
	// can reach (a set known only by host names).
	Unprobed []string
	// Sampled says what the plan left out to stay within its limits
	// (MaxPeers namespaces, the ports limit of SamplePorts): a proof of a
	// sampled plan is not a proof of every rule.
	Sampled   []string
	portLimit int

	index map[ir.Packet]int
}

// Peer is a namespace standing for one address set.
type Peer struct {
	Name  string // the address set's name, or Outside
	Addrs []netip.Addr
}

// Probe is one connection attempt, and what the rules say of it.
type Probe struct {
	Peer   string
	Packet ir.Packet
	// Want is the rules' answer; Rules are the IDs of the rules that allow
	// the packet (none when it passes only because egress is not
	// filtered).
	Want  bool
	Rules []string
	// Expect lists the indexes (in Plan.Expect) of the expectations this
	// probe checks.
	Expect []int
}

// ExpectCheck is one expectation of the profile as it concerns the host:
// its probes, and its static answer from the rules.
type ExpectCheck struct {
	E   *ir.Expectation
	Dir ir.Direction
	// Probes are indexes into Plan.Probes.
	Probes []int
	// Unprobed says why the expectation has no probe, if it has none.
	Unprobed string
}

// Option changes a plan.
type Option func(*Plan)

// SamplePorts limits the ports probed to n, spread over the ports the
// rules name (the first, the last, and evenly between); the plan says so
// in Sampled. Without it every port a rule names (its edges and their
// neighbours) is probed.
func SamplePorts(n int) Option { return func(p *Plan) { p.portLimit = n } }

// NewPlan plans the probes for host name of rs. Every probe's Want comes
// from the IR.
func NewPlan(rs *ir.Ruleset, name string, opts ...Option) (*Plan, error) {
	v, err := rs.HostView(name)
	if err != nil {
		return nil, err
	}
	p := &Plan{View: v, Dst: map[ir.Family]netip.Addr{}, index: map[ir.Packet]int{}}
	for _, o := range opts {
		o(p)
	}
	for _, a := range v.Host.Addrs {
		f := family(a)
		if _, ok := p.Dst[f]; !ok && usable(a) {
			p.Dst[f] = a
		}
	}
	if len(p.Dst) == 0 {
		return nil, fmt.Errorf("host %s has no address a probe can reach", name)
	}
	p.peers()
	p.ports()
	p.matrix()
	p.expectations()
	return p, nil
}

func family(a netip.Addr) ir.Family {
	if a.Is4() {
		return ir.IPv4
	}
	return ir.IPv6
}

// probeSpace holds the addresses a probe can use on a veth link: IPv4
// unicast without "this network", loopback and link-local; IPv6 global
// unicast and unique local. Built on first use, not at init: every run
// paid for it, probing or not.
var probeSpace = sync.OnceValue(func() *netipx.IPSet {
	var b netipx.IPSetBuilder
	for _, r := range []string{"1.0.0.0-126.255.255.255", "128.0.0.0-169.253.255.255", "169.255.0.0-223.255.255.255"} {
		b.AddRange(netipx.MustParseIPRange(r))
	}
	b.AddPrefix(netip.MustParsePrefix("2000::/3"))
	b.AddPrefix(netip.MustParsePrefix("fc00::/7"))
	s, err := b.IPSet()
	if err != nil {
		panic(err)
	}
	return s
})

// usable reports whether a can be a probe's address.
func usable(a netip.Addr) bool { return probeSpace().Contains(a) }

// peers picks the peer namespaces and their addresses: the sets the host's
// rules and expectations name first, then every other set of the profile
// (they stand for peers that are not allowed), then Outside. Each address
// belongs to one peer: the oracle answers per address, so an address two
// sets hold is probed once.
func (p *Plan) peers() {
	v, rs := p.View, p.View.Ruleset
	taken := map[netip.Addr]bool{}
	for _, a := range v.Host.Addrs {
		taken[a] = true
	}
	named := map[string]bool{}
	for _, hr := range append(slices.Clone(v.In), v.Out...) {
		for _, n := range hr.Remote.Sets {
			named[n] = true
		}
	}
	for _, e := range rs.Expect {
		if in, out := rs.Concerns(e, v.Host.Name); in || out {
			for _, n := range append(slices.Clone(e.From.Sets), e.To.Sets...) {
				named[n] = true
			}
		}
	}
	var left []string
	sets := slices.Clone(rs.Addrs)
	slices.SortStableFunc(sets, func(a, b *ir.AddrSet) int {
		return cmp.Compare(rank(named[a.Name]), rank(named[b.Name]))
	})
	for _, s := range sets {
		if s.IsAny() || s.Kind == ir.SetHost && s.Name == v.Host.Name {
			continue
		}
		var addrs []netip.Addr
		for _, f := range ir.Families {
			if _, ok := p.Dst[f]; ok {
				addrs = append(addrs, samples(s.Ranges(f), taken)...)
			}
		}
		switch {
		case len(addrs) == 0 && len(s.FQDNs) > 0 && named[s.Name]:
			p.Unprobed = append(p.Unprobed, fmt.Sprintf("%s is known only by host names (%s): no address to probe it from", s.Name, strings.Join(s.FQDNs, ", ")))
		case len(addrs) == 0:
		case len(p.Peers) == MaxPeers-1 && named[s.Name]:
			// A set the host's rules name: the rules about it go
			// unprobed.
			left = append(left, s.Name)
		case len(p.Peers) == MaxPeers-1:
			// A set no rule of this host names stands only for more
			// addresses the rules must stop, which the outside peer
			// stands for too.
		default:
			p.Peers = append(p.Peers, &Peer{Name: s.Name, Addrs: addrs})
		}
	}
	if len(left) > 0 {
		shown := left[:min(len(left), 5)]
		more := ""
		if len(left) > len(shown) {
			more = fmt.Sprintf(" and %d more", len(left)-len(shown))
		}
		p.Sampled = append(p.Sampled, fmt.Sprintf("%d address sets the rules name got no namespace (at most %d): %s%s", len(left), MaxPeers-1, strings.Join(shown, ", "), more))
	}
	var all netipx.IPSetBuilder
	for _, s := range rs.Addrs {
		if s.IPs != nil {
			all.AddSet(s.IPs)
		}
	}
	held, _ := all.IPSet()
	out := &Peer{Name: Outside}
	for _, f := range ir.Families {
		if _, ok := p.Dst[f]; !ok {
			continue
		}
		for _, c := range outsideCandidates {
			if a := netip.MustParseAddr(c); family(a) == f && !held.Contains(a) && !taken[a] {
				out.Addrs = append(out.Addrs, a)
				taken[a] = true
				break
			}
		}
	}
	if len(out.Addrs) > 0 {
		p.Peers = append(p.Peers, out)
	} else {
		p.Unprobed = append(p.Unprobed, "the profile's sets hold every documentation address tried: no outside peer")
	}
}

func rank(named bool) int {
	if named {
		return 0
	}
	return 1
}

// samples picks up to samplesPerFamily addresses of ranges that probes
// can use and are not taken yet: the first of the first range, the last
// of the last, and the first of a middle one, so that the edges of every
// set are probed.
func samples(ranges []netipx.IPRange, taken map[netip.Addr]bool) []netip.Addr {
	var b netipx.IPSetBuilder
	for _, r := range ranges {
		b.AddRange(r)
	}
	b.Intersect(probeSpace())
	set, _ := b.IPSet()
	ranges = set.Ranges()
	if len(ranges) == 0 {
		return nil
	}
	var out []netip.Addr
	pick := func(r netipx.IPRange, fromEnd bool) {
		a := r.From()
		if fromEnd {
			a = r.To()
		}
		for range 8 {
			if !r.Contains(a) {
				return
			}
			if !taken[a] {
				taken[a] = true
				out = append(out, a)
				return
			}
			if fromEnd {
				a = a.Prev()
			} else {
				a = a.Next()
			}
		}
	}
	pick(ranges[0], false)
	pick(ranges[len(ranges)-1], true)
	if len(ranges) > 2 {
		pick(ranges[len(ranges)/2], false)
	}
	if len(out) > samplesPerFamily {
		out = out[:samplesPerFamily]
	}
	return out
}

// ports picks the ports to probe: every edge of every port range the
// host's rules and expectations name, the ports just outside them and one
// inside, the ports of internal flows (never opened), and common services.
func (p *Plan) ports() {
	v := p.View
	set := map[uint16]bool{}
	add := func(ps ...int) {
		for _, n := range ps {
			if n >= 1 && n <= 65535 {
				set[uint16(n)] = true
			}
		}
	}
	for _, hr := range append(slices.Clone(v.In), v.Out...) {
		for _, r := range hr.Rule.Ports {
			first, last := int(r.First), int(r.Last)
			add(first-1, first, (first+last)/2, last, last+1)
		}
	}
	for _, e := range v.Ruleset.Expect {
		if in, out := v.Ruleset.Concerns(e, v.Host.Name); (in || out) && e.Protocol.HasPorts() {
			add(int(e.Port))
		}
	}
	for _, f := range v.Ruleset.Internal {
		for _, r := range f.Origin.Ports {
			add(int(r.First), int(r.Last))
		}
	}
	for _, n := range extraPorts {
		add(int(n))
	}
	p.Ports = slices.Sorted(func(yield func(uint16) bool) {
		for n := range set {
			if !yield(n) {
				return
			}
		}
	})
	if n := p.portLimit; n > 0 && len(p.Ports) > n {
		p.Sampled = append(p.Sampled, fmt.Sprintf("%d of %d ports probed (--sample %d)", n, len(p.Ports), n))
		p.Ports = spread(p.Ports, n)
	}
}

// directions are the directions probed: inbound always, outbound when
// egress is filtered (with output accept every outbound probe would pass,
// proving nothing about the rules).
func (p *Plan) directions() []ir.Direction {
	if p.View.Ruleset.Policy.Output == ir.OutputDrop {
		return []ir.Direction{ir.In, ir.Out}
	}
	return []ir.Direction{ir.In}
}

// matrix adds a probe for every direction, peer address, protocol and
// port, and a ping.
func (p *Plan) matrix() {
	for _, dir := range p.directions() {
		for _, peer := range p.Peers {
			for _, a := range peer.Addrs {
				for _, pr := range []proto.Protocol{proto.TCP, proto.UDP} {
					for _, port := range p.Ports {
						p.probe(peer.Name, ir.Packet{Dir: dir, Remote: a, Protocol: pr, Port: port})
					}
				}
				p.probe(peer.Name, ping(dir, a))
			}
		}
	}
}

func ping(dir ir.Direction, a netip.Addr) ir.Packet {
	pr := proto.ICMP
	if a.Is6() {
		pr = proto.ICMPv6
	}
	return ir.Packet{Dir: dir, Remote: a, Protocol: pr, ICMPType: ir.EchoRequest(pr)}
}

// probe adds a probe for packet from peer, or returns the one already
// planned for it.
func (p *Plan) probe(peer string, pk ir.Packet) int {
	if i, ok := p.index[pk]; ok {
		return i
	}
	pr := &Probe{Peer: peer, Packet: pk, Want: p.View.Admits(pk)}
	for _, hr := range p.View.Allowing(pk) {
		pr.Rules = append(pr.Rules, hr.Rule.ID)
	}
	p.Probes = append(p.Probes, pr)
	p.index[pk] = len(p.Probes) - 1
	return len(p.Probes) - 1
}

// peerOf finds the peer that holds address a.
func (p *Plan) peerOf(a netip.Addr) string {
	for _, peer := range p.Peers {
		if slices.Contains(peer.Addrs, a) {
			return peer.Name
		}
	}
	return ""
}

// expectations plans the probes of every expectation that concerns the
// host: from (or to) every sample address of its other side.
func (p *Plan) expectations() {
	v, rs := p.View, p.View.Ruleset
	for _, e := range rs.Expect {
		in, out := rs.Concerns(e, v.Host.Name)
		for _, dir := range []ir.Direction{ir.In, ir.Out} {
			if dir == ir.In && !in || dir == ir.Out && !out {
				continue
			}
			c := &ExpectCheck{E: e, Dir: dir}
			remote := e.From
			if dir == ir.Out {
				remote = e.To
			}
			for _, a := range p.remoteSamples(remote) {
				f := family(a)
				if _, ok := p.Dst[f]; !ok || !f.Carries(e.Protocol) {
					continue
				}
				pk := ir.Packet{Dir: dir, Remote: a, Protocol: e.Protocol, Port: e.Port}
				if e.Protocol.IsICMP() {
					pk = ping(dir, a)
				}
				i := p.probe(p.peerOf(a), pk)
				p.Probes[i].Expect = append(p.Probes[i].Expect, len(p.Expect))
				c.Probes = append(c.Probes, i)
			}
			if len(c.Probes) == 0 {
				c.Unprobed = fmt.Sprintf("no address of %s shares a family with %s and %s", remote, v.Host.Name, e.Protocol)
			}
			p.Expect = append(p.Expect, c)
		}
	}
}

// remoteSamples lists the probe addresses that stand for endpoint e: the
// sample addresses of its sets, or Outside's for "any".
func (p *Plan) remoteSamples(e ir.Endpoint) []netip.Addr {
	var out []netip.Addr
	rs := p.View.Ruleset
	for _, n := range e.Sets {
		s, ok := rs.Set(n)
		if !ok || s.Kind == ir.SetHost && s.Name == p.View.Host.Name {
			continue
		}
		if s.IsAny() {
			for _, peer := range p.Peers {
				if peer.Name == Outside {
					out = append(out, peer.Addrs...)
				}
			}
			continue
		}
		for _, peer := range p.Peers {
			for _, a := range peer.Addrs {
				if s.IPs != nil && s.IPs.Contains(a) && (peer.Name == s.Name || !slices.Contains(out, a)) {
					out = append(out, a)
				}
			}
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out)
}

// CanCheckND reports whether the plan has an IPv6 peer, whose neighbour
// discovery through the router the proof can check.
func (p *Plan) CanCheckND() bool {
	for _, peer := range p.Peers {
		if len(peer.Addrs) > 0 && peer.Addrs[len(peer.Addrs)-1].Is6() {
			return true
		}
	}
	return false
}

// HostAddrs lists the host's probed addresses, one per family.
func (p *Plan) HostAddrs() []netip.Addr {
	var out []netip.Addr
	for _, f := range ir.Families {
		if a, ok := p.Dst[f]; ok {
			out = append(out, a)
		}
	}
	return out
}

// Outbound reports whether the plan probes the host's own connections.
func (p *Plan) Outbound() bool {
	for _, pr := range p.Probes {
		if pr.Packet.Dir == ir.Out {
			return true
		}
	}
	return false
}

// spread picks n of ports (n >= 1): the first, the last, and the rest
// evenly between, in order.
func spread(ports []uint16, n int) []uint16 {
	if n == 1 {
		return ports[:1]
	}
	out := make([]uint16, 0, n)
	for i := range n {
		out = append(out, ports[i*(len(ports)-1)/(n-1)])
	}
	return slices.Compact(out)
}
