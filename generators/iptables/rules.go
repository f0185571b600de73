package iptables

import (
	"fmt"
	"strings"

	"go4.org/netipx"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

// ruleLines renders one match of a host rule: one line per remote address
// range, multiport group and comment chunk. A match with host names only
// (left out under fqdn = "omit") renders nothing.
func ruleLines(dir ir.Direction, m ir.Match, chunks []generators.Chunk, proto proto.Protocol) []string {
	var addrs []string
	switch {
	case m.RemoteAll:
		addrs = []string{""}
	default:
		for _, r := range m.RemoteRanges {
			addrs = append(addrs, addrMatch(dir, r))
		}
	}
	var out []string
	for _, c := range chunks {
		for _, p := range protoMatches(proto, c) {
			// Everything after the address match is the same for each
			// address: built once.
			tail := p + ` -m comment --comment "` + c.Comment + `" -j ACCEPT`
			for _, a := range addrs {
				if a == "" {
					out = append(out, tail)
				} else {
					out = append(out, a+" "+tail)
				}
			}
		}
	}
	return out
}

// addrMatch matches the remote side: the source of inbound traffic, the
// destination of outbound.
func addrMatch(dir ir.Direction, r netipx.IPRange) string {
	flag, rangeFlag := "-s", "--src-range"
	if dir == ir.Out {
		flag, rangeFlag = "-d", "--dst-range"
	}
	if p, ok := r.Prefix(); ok {
		return flag + " " + p.String()
	}
	return fmt.Sprintf("-m iprange %s %s-%s", rangeFlag, r.From(), r.To())
}

// protoMatches renders the protocol part of a chunk: ports in multiport
// groups of at most 15 (a range counts two), one ICMP type per line.
func protoMatches(p proto.Protocol, c generators.Chunk) []string {
	switch p {
	case proto.TCP, proto.UDP:
		var out []string
		for _, group := range multiportGroups(c.Ports) {
			if len(group) == 1 {
				out = append(out, fmt.Sprintf("-p %s -m %s --dport %s", p, p, portString(group[0])))
				continue
			}
			s := make([]string, len(group))
			for i, r := range group {
				s[i] = portString(r)
			}
			out = append(out, fmt.Sprintf("-p %s -m multiport --dports %s", p, strings.Join(s, ",")))
		}
		return out
	case proto.ICMP, proto.ICMPv6:
		name, module, flag := "icmp", "icmp", "--icmp-type"
		if p == proto.ICMPv6 {
			name, module, flag = "ipv6-icmp", "icmp6", "--icmpv6-type"
		}
		if c.ICMPTypes == nil {
			return []string{"-p " + name}
		}
		out := make([]string, len(c.ICMPTypes))
		for i, t := range c.ICMPTypes {
			out[i] = fmt.Sprintf("-p %s -m %s %s %d", name, module, flag, t)
		}
		return out
	}
	panic("iptables: unknown protocol " + p.String())
}

// multiportGroups splits a port set into groups of at most MaxMultiport
// slots, a range taking two.
func multiportGroups(s ports.Set) [][]ports.Range {
	var out [][]ports.Range
	var cur []ports.Range
	slots := 0
	for _, r := range s {
		n := 1
		if r.First != r.Last {
			n = 2
		}
		if slots+n > MaxMultiport {
			out = append(out, cur)
			cur, slots = nil, 0
		}
		cur = append(cur, r)
		slots += n
	}
	return append(out, cur)
}

func portString(r ports.Range) string {
	if r.First == r.Last {
		return fmt.Sprint(r.First)
	}
	return fmt.Sprintf("%d:%d", r.First, r.Last)
}

// commentText makes s safe inside an iptables-restore quoted argument and
// a # comment line: iptables-restore treats '"' and '\' specially inside
// quotes, and a line break would end the line, so quotes become
// apostrophes, backslashes slashes and control characters spaces. The
// result is cut to MaxComment bytes on a character boundary.
func commentText(s string) string {
	return generators.Flatten(s, MaxComment, func(r rune) rune {
		switch r {
		case '"':
			return '\''
		case '\\':
			return '/'
		}
		return r
	})
}
