package nftparse

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"go4.org/netipx"

	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

var setName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[hgc]_[A-Za-z0-9][A-Za-z0-9_.-]*_v[46]$`) })

// baseline is every rule a host needs whatever its profile, by chain: the
// rules marked "pw:base" must be exactly these.
var baseline = sync.OnceValue(func() map[string][]string {
	return map[string][]string{
		"input": {
			`ct state established,related accept`,
			`ct state invalid drop`,
			`iif "lo" accept`,
			`icmp type { destination-unreachable, time-exceeded, parameter-problem } accept`,
			`icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem } accept`,
			`icmpv6 type { nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept`,
			`icmpv6 type mld-listener-query ip6 saddr fe80::/10 accept`,
			`limit rate 5/second burst 10 packets log prefix "portwall input drop: " level info`,
			`meta l4proto tcp reject with tcp reset`,
			`reject with icmpx admin-prohibited`,
		},
		"output": {
			`ct state established,related accept`,
			`ct state invalid drop`,
			`oif "lo" accept`,
			`icmp type { destination-unreachable, time-exceeded, parameter-problem } accept`,
			`icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem } accept`,
			`icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept`,
			`icmpv6 type { mld-listener-report, mld-listener-done, mld2-listener-report } accept`,
			`limit rate 5/second burst 10 packets log prefix "portwall output drop: " level info`,
		},
	}
})

// Grants lists what the non-baseline rules let through.
func (s *Script) Grants() ([]ir.Grant, error) {
	var out []ir.Grant
	for _, chain := range []string{"input", "output"} {
		for _, r := range s.Chains[chain] {
			if strings.HasPrefix(r.Comment, "pw:base") {
				if !slices.Contains(baseline()[chain], r.Text) {
					return nil, fmt.Errorf("line %d: %q is not a baseline rule", r.Line, r.Text)
				}
				continue
			}
			if strings.HasPrefix(r.Comment, "pw:set ") {
				gs, err := s.flowSetGrants(r)
				if err != nil {
					return nil, fmt.Errorf("line %d: %w: %q", r.Line, err, r.Text)
				}
				out = append(out, gs...)
				continue
			}
			if !strings.HasPrefix(r.Comment, "pw:r") {
				return nil, fmt.Errorf("line %d: rule without a portwall rule ID", r.Line)
			}
			gs, err := s.grants(r)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w: %q", r.Line, err, r.Text)
			}
			out = append(out, gs...)
		}
	}
	return out, nil
}

// grants reads one allow rule: an optional address match on the remote
// side, an optional family guard, one protocol clause, accept.
func (s *Script) grants(r Rule) ([]ir.Grant, error) {
	w, err := Words(r.Text)
	if err != nil {
		return nil, err
	}
	dir, remoteKey := ir.In, "saddr"
	if r.Chain == "output" {
		dir, remoteKey = ir.Out, "daddr"
	}
	var fams []ir.Family
	setFamily := func(f ir.Family) error {
		if len(fams) > 0 && fams[0] != f {
			return fmt.Errorf("mixed families")
		}
		fams = []ir.Family{f}
		return nil
	}
	remote := ir.Addrs{Any: true}
	var protocol proto.Protocol
	var ps ports.Set
	var types []uint8
	if len(w) == 0 || w[len(w)-1] != "accept" {
		return nil, fmt.Errorf("not an accept rule")
	}
	w = w[:len(w)-1]
	for len(w) > 0 {
		if len(w) < 3 {
			return nil, fmt.Errorf("trailing %v", w)
		}
		switch {
		case (w[0] == "ip" || w[0] == "ip6") && w[1] == remoteKey && strings.HasPrefix(w[2], "@"):
			if !remote.Any {
				return nil, fmt.Errorf("two address matches")
			}
			set := s.Sets[w[2][1:]]
			if set == nil {
				return nil, fmt.Errorf("undefined set %s", w[2])
			}
			f := ir.IPv4
			if w[0] == "ip6" {
				f = ir.IPv6
			}
			if set.Family != f {
				return nil, fmt.Errorf("set %s of the other family", set.Name)
			}
			if err := setFamily(f); err != nil {
				return nil, err
			}
			remote = ir.Addrs{IPs: set.IPs, FQDNs: set.Names}
		case (w[0] == "ip" || w[0] == "ip6") && w[1] == remoteKey:
			// A set of one network or address, written inline.
			if !remote.Any {
				return nil, fmt.Errorf("two address matches")
			}
			f := ir.IPv4
			if w[0] == "ip6" {
				f = ir.IPv6
			}
			r, err := element(w[2], f)
			if err != nil {
				return nil, err
			}
			if _, ok := r.Prefix(); !ok {
				return nil, fmt.Errorf("inline range %q: only a network or an address is written inline", w[2])
			}
			if err := setFamily(f); err != nil {
				return nil, err
			}
			var b netipx.IPSetBuilder
			b.AddRange(r)
			ips, _ := b.IPSet()
			remote = ir.Addrs{IPs: ips}
		case w[0] == "meta" && w[1] == "nfproto" && (w[2] == "ipv4" || w[2] == "ipv6"):
			f := ir.IPv4
			if w[2] == "ipv6" {
				f = ir.IPv6
			}
			if err := setFamily(f); err != nil {
				return nil, err
			}
		case (w[0] == "tcp" || w[0] == "udp") && w[1] == "dport" && protocol == 0:
			protocol, _ = proto.Parse(w[0])
			if name, ok := strings.CutPrefix(w[2], "@"); ok {
				l := s.Lists[name]
				if l == nil || l.Type != "inet_service" {
					return nil, fmt.Errorf("undefined port set %s", w[2])
				}
				ps = l.Ports
				break
			}
			var rs []ports.Range
			for _, item := range List(w[2]) {
				pr, err := ports.Parse(item)
				if err != nil || strings.Contains(item, " ") {
					return nil, fmt.Errorf("bad port %q", item)
				}
				rs = append(rs, pr)
			}
			ps = ports.NewSet(rs...)
		case (w[0] == "icmp" || w[0] == "icmpv6") && w[1] == "type" && protocol == 0:
			protocol, _ = proto.Parse(w[0])
			if err := setFamily(ir.Family(map[string]int{"icmp": 4, "icmpv6": 6}[w[0]])); err != nil {
				return nil, err
			}
			if name, ok := strings.CutPrefix(w[2], "@"); ok {
				l := s.Lists[name]
				if l == nil || l.Type != map[string]string{"icmp": "icmp_type", "icmpv6": "icmpv6_type"}[w[0]] {
					return nil, fmt.Errorf("undefined ICMP type set %s", w[2])
				}
				types = append(types, l.Types...)
				break
			}
			for _, name := range List(w[2]) {
				t, err := icmpType(protocol, name)
				if err != nil {
					return nil, err
				}
				types = append(types, t)
			}
		case w[0] == "meta" && w[1] == "l4proto" && (w[2] == "icmp" || w[2] == "ipv6-icmp") && protocol == 0:
			protocol = proto.ICMP
			if w[2] == "ipv6-icmp" {
				protocol = proto.ICMPv6
			}
			if len(fams) == 0 {
				return nil, fmt.Errorf("meta l4proto without a family guard")
			}
			if err := setFamily(ir.Family(protocol.Family())); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("unknown match %v", w[:3])
		}
		w = w[3:]
	}
	if protocol == 0 {
		return nil, fmt.Errorf("no protocol")
	}
	if len(fams) == 0 {
		fams = ir.Families
	}
	var out []ir.Grant
	for _, f := range fams {
		out = append(out, ir.HostGrant(dir, f, remote, ir.Grant{Protocol: protocol, Ports: ps, ICMPTypes: types}))
	}
	return out, nil
}

func icmpType(p proto.Protocol, name string) (uint8, error) {
	return proto.ParseICMPType(p, name)
}
