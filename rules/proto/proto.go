// Package proto holds the closed set of protocols portwall rules match on,
// and the ICMP and ICMPv6 type names they may restrict to.
package proto

import (
	"fmt"
	"sort"
	"strconv"
	"sync"
)

// Protocol is a layer-4 protocol. The set is closed: every backend must
// handle each value, and a switch over it that misses one is a bug.
type Protocol uint8

const (
	TCP Protocol = iota + 1
	UDP
	ICMP
	ICMPv6
)

// All lists the protocols in their canonical order.
var All = []Protocol{TCP, UDP, ICMP, ICMPv6}

// names is indexed by Protocol: an array, not a map, is laid out by the
// linker instead of built by every run's initialisation.
var names = [...]string{TCP: "tcp", UDP: "udp", ICMP: "icmp", ICMPv6: "icmpv6"}

// Names lists the protocol names as profiles and catalogs spell them.
func Names() []string {
	out := make([]string, 0, len(All))
	for _, p := range All {
		out = append(out, p.String())
	}
	return out
}

func (p Protocol) String() string {
	if int(p) < len(names) && names[p] != "" {
		return names[p]
	}
	return fmt.Sprintf("protocol(%d)", uint8(p))
}

// Parse reads a protocol name.
func Parse(s string) (Protocol, error) {
	for _, p := range All {
		if names[p] == s {
			return p, nil
		}
	}
	return 0, fmt.Errorf("unknown protocol %q: want one of tcp, udp, icmp, icmpv6", s)
}

// HasPorts reports whether rules of this protocol match destination ports.
func (p Protocol) HasPorts() bool { return p == TCP || p == UDP }

// IsICMP reports whether p is ICMP or ICMPv6.
func (p Protocol) IsICMP() bool { return p == ICMP || p == ICMPv6 }

// Family is the IP version a protocol is limited to: 4 for ICMP, 6 for
// ICMPv6, 0 for protocols that run over both.
func (p Protocol) Family() int {
	switch p {
	case ICMP:
		return 4
	case ICMPv6:
		return 6
	}
	return 0
}

// Number is the IANA protocol number (the value of the IPv4 protocol field
// or the IPv6 next header).
func (p Protocol) Number() uint8 {
	switch p {
	case TCP:
		return 6
	case UDP:
		return 17
	case ICMP:
		return 1
	case ICMPv6:
		return 58
	}
	panic("proto: unknown protocol " + p.String())
}

// ICMP type names, as nftables spells them. Built on first use: package-level
// map literals are built by every run's initialisation, whatever it does.
var icmpTypes = sync.OnceValue(func() map[string]uint8 {
	return map[string]uint8{
		"echo-reply":              0,
		"destination-unreachable": 3,
		"source-quench":           4,
		"redirect":                5,
		"echo-request":            8,
		"router-advertisement":    9,
		"router-solicitation":     10,
		"time-exceeded":           11,
		"parameter-problem":       12,
		"timestamp-request":       13,
		"timestamp-reply":         14,
	}
})

var icmpv6Types = sync.OnceValue(func() map[string]uint8 {
	return map[string]uint8{
		"destination-unreachable": 1,
		"packet-too-big":          2,
		"time-exceeded":           3,
		"parameter-problem":       4,
		"echo-request":            128,
		"echo-reply":              129,
		"mld-listener-query":      130,
		"mld-listener-report":     131,
		"mld-listener-done":       132,
		"nd-router-solicit":       133,
		"nd-router-advert":        134,
		"nd-neighbor-solicit":     135,
		"nd-neighbor-advert":      136,
		"nd-redirect":             137,
		"mld2-listener-report":    143,
	}
})

func typeTable(p Protocol) map[string]uint8 {
	switch p {
	case ICMP:
		return icmpTypes()
	case ICMPv6:
		return icmpv6Types()
	}
	return nil
}

// ICMPTypeNames lists the type names known for p, sorted.
func ICMPTypeNames(p Protocol) []string {
	var out []string
	for n := range typeTable(p) {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ParseICMPType reads an ICMP type of protocol p: a name such as
// "echo-request" (the same name means type 8 for ICMP and 128 for ICMPv6)
// or a number 0-255.
func ParseICMPType(p Protocol, s string) (uint8, error) {
	table := typeTable(p)
	if table == nil {
		return 0, fmt.Errorf("protocol %s has no ICMP types", p)
	}
	if t, ok := table[s]; ok {
		return t, nil
	}
	if n, err := strconv.ParseUint(s, 10, 8); err == nil {
		return uint8(n), nil
	}
	return 0, fmt.Errorf("unknown %s type %q", p, s)
}

// ICMPTypeName returns the name of type t of protocol p, or its number.
func ICMPTypeName(p Protocol, t uint8) string {
	for n, v := range typeTable(p) {
		if v == t {
			return n
		}
	}
	return strconv.Itoa(int(t))
}
