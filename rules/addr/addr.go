// Package addr parses the members of address groups: IPv4 and IPv6
// addresses, CIDR prefixes, ranges, fully qualified domain names and "any".
package addr

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"sync"

	"go4.org/netipx"
)

// Kind is what a Member holds.
type Kind uint8

const (
	KindPrefix Kind = iota + 1 // an address or CIDR prefix
	KindRange                  // an inclusive range of addresses
	KindFQDN                   // a DNS name, resolved by the firewall or not at all
	KindAny                    // every IPv4 and IPv6 address
)

// Member is one entry of an address group.
type Member struct {
	Kind   Kind
	Prefix netip.Prefix   // KindPrefix; a single address is a /32 or /128
	Range  netipx.IPRange // KindRange
	FQDN   string         // KindFQDN, lower case, without a trailing dot
}

// Any is the member that matches every address.
const Any = "any"

// Parse reads one group member.
func Parse(s string) (Member, error) {
	switch {
	case s == Any:
		return Member{Kind: KindAny}, nil
	case strings.Contains(s, "/"):
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return Member{}, fmt.Errorf("invalid CIDR %q: %s", s, cidrProblem(s))
		}
		if p.Addr().Zone() != "" || p.Addr().Is4In6() {
			return Member{}, fmt.Errorf("invalid CIDR %q: write IPv4 prefixes in IPv4 form and leave out zones", s)
		}
		if p.Masked() != p {
			return Member{}, fmt.Errorf("invalid CIDR %q: host bits are set; did you mean %s or %s/%d?", s, p.Masked(), p.Addr(), p.Addr().BitLen())
		}
		return Member{Kind: KindPrefix, Prefix: p}, nil
	case strings.Contains(s, "-") && looksLikeIP(s):
		r, err := netipx.ParseIPRange(strings.ReplaceAll(s, " ", ""))
		if err != nil {
			return Member{}, fmt.Errorf("invalid address range %q: want FIRST-LAST, both of one IP version, FIRST not above LAST", s)
		}
		if p, ok := r.Prefix(); ok {
			return Member{Kind: KindPrefix, Prefix: p}, nil
		}
		return Member{Kind: KindRange, Range: r}, nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Zone() != "" || a.Is4In6() {
			return Member{}, fmt.Errorf("invalid address %q: write IPv4 addresses in IPv4 form and leave out zones", s)
		}
		return Member{Kind: KindPrefix, Prefix: netip.PrefixFrom(a, a.BitLen())}, nil
	}
	if looksLikeIP(s) {
		return Member{}, fmt.Errorf("invalid address %q", s)
	}
	if err := CheckFQDN(s); err != nil {
		return Member{}, err
	}
	return Member{Kind: KindFQDN, FQDN: strings.ToLower(strings.TrimSuffix(s, "."))}, nil
}

func cidrProblem(s string) string {
	a, bits, _ := strings.Cut(s, "/")
	addr, err := netip.ParseAddr(a)
	if err != nil {
		return "not an IP address before the slash"
	}
	return fmt.Sprintf("prefix length %q is not 0-%d", bits, addr.BitLen())
}

// looksLikeIP tells addresses with typos ("10.0.0.300", "2001:db8::g")
// from host names, so that they get an address error, not an FQDN one.
func looksLikeIP(s string) bool {
	return ipish().MatchString(s)
}

var ipish = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9.\- ]+$|:`) })

// String formats the member as a profile would write it.
func (m Member) String() string {
	switch m.Kind {
	case KindPrefix:
		if m.Prefix.IsSingleIP() {
			return m.Prefix.Addr().String()
		}
		return m.Prefix.String()
	case KindRange:
		return m.Range.String()
	case KindFQDN:
		return m.FQDN
	case KindAny:
		return Any
	}
	return "invalid"
}

// CheckFQDN checks that s is a fully qualified domain name every backend can
// carry: letters, digits, dashes and dots, labels of 1-63 characters, at
// least two labels, at most 253 characters.
func CheckFQDN(s string) error {
	if len(s) == 0 || len(s) > 253 {
		return fmt.Errorf("invalid host name %q: want 1-253 characters", s)
	}
	labels := strings.Split(strings.TrimSuffix(s, "."), ".")
	if len(labels) < 2 {
		return fmt.Errorf("invalid host name %q: not fully qualified (want a name such as mail.example.com)", s)
	}
	for _, l := range labels {
		if !fqdnLabel().MatchString(l) {
			return fmt.Errorf("invalid host name %q: bad label %q", s, l)
		}
	}
	return nil
}

var fqdnLabel = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`) })
