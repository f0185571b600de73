package winparse

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"go4.org/netipx"

	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

// IPRange reads one entry of an address list, as both grammars write it:
// an address, a CIDR prefix or first-last. Masks in dotted form
// (10.0.0.0/255.0.0.0), which the firewall also takes, are refused:
// portwall never writes them.
func IPRange(e string) (netipx.IPRange, error) {
	var r netipx.IPRange
	switch {
	case e == "":
		return r, fmt.Errorf("empty entry")
	case strings.Contains(e, " "):
		return r, fmt.Errorf("space in %q", e)
	case strings.Contains(e, "%"):
		return r, fmt.Errorf("%q has an IPv6 zone", e)
	case strings.Contains(e, "/"):
		p, err := netip.ParsePrefix(e)
		if err != nil {
			return r, fmt.Errorf("invalid subnet %q", e)
		}
		if p.Masked() != p {
			return r, fmt.Errorf("subnet %q has host bits set", e)
		}
		r = netipx.RangeOfPrefix(p)
	case strings.Contains(e, "-"):
		first, last, _ := strings.Cut(e, "-")
		a, err1 := netip.ParseAddr(first)
		b, err2 := netip.ParseAddr(last)
		if err1 != nil || err2 != nil {
			return r, fmt.Errorf("invalid range %q", e)
		}
		if a.Is4() != b.Is4() || b.Less(a) {
			return r, fmt.Errorf("range %q: want first-last of one IP version, first not above last", e)
		}
		r = netipx.IPRangeFrom(a, b)
	default:
		a, err := netip.ParseAddr(e)
		if err != nil {
			return r, fmt.Errorf("invalid address %q", e)
		}
		r = netipx.IPRangeFrom(a, a)
	}
	if r.From().Is4In6() || r.To().Is4In6() {
		return r, fmt.Errorf("%q is IPv4-mapped IPv6, which Windows may read as IPv4", e)
	}
	return r, nil
}

// portNumber is a port as both grammars write it: decimal, at most five
// digits (so that no long run of zeros passes for a small number).
var portNumber = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]{1,5}$`) })

// Ports reads the entries of a port list: ports 0-65535 and ranges
// first-last. Keywords, and how the grammar separates entries, are the
// reader's.
func Ports(entries []string) (ports.Set, error) {
	var rs []ports.Range
	for _, e := range entries {
		a, b, isRange := strings.Cut(e, "-")
		if !isRange {
			b = a
		}
		first, ok1 := port(a)
		last, ok2 := port(b)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%q: want ports 0-65535, ranges first-last, comma-separated", e)
		}
		if last < first {
			return nil, fmt.Errorf("reversed range %q", e)
		}
		rs = append(rs, ports.Range{First: first, Last: last})
	}
	return ports.NewSet(rs...), nil
}

func port(s string) (uint16, bool) {
	if !portNumber().MatchString(s) {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > 65535 {
		return 0, false
	}
	return uint16(n), true
}

// AllPorts is every port: what an absent port list, or the keyword any,
// lets through.
func AllPorts() ports.Set { return ports.NewSet(ports.Range{First: 0, Last: 65535}) }

// Protocol maps a protocol as both grammars name it (case-insensitively)
// or number it to portwall's, refusing what no IR rule can be: protocol
// any (the default of both when absent) and other protocol numbers.
func Protocol(p string) (proto.Protocol, error) {
	switch strings.ToLower(p) {
	case "tcp", "6":
		return proto.TCP, nil
	case "udp", "17":
		return proto.UDP, nil
	case "icmpv4", "1":
		return proto.ICMP, nil
	case "icmpv6", "58":
		return proto.ICMPv6, nil
	case "", "any":
		return 0, fmt.Errorf("protocol any allows every protocol")
	}
	return 0, fmt.Errorf("protocol %s is not one portwall rules allow", p)
}
