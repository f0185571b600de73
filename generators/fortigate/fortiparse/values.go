package fortiparse

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/portwall/portwall/rules/addr"
)

func oneOf(v string, allowed []string) error {
	if !slices.Contains(allowed, v) {
		return fmt.Errorf("%q is not one of %s", v, strings.Join(allowed, ", "))
	}
	return nil
}

// nameChars is what portwall's names hold (reference section 2: no '/',
// which breaks REST tools, no quotes, '#', '<', '>', spaces or control
// characters).
var nameChars = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_.-]+$`) })

// builtins are predefined names an edit must not redefine.
var builtins = []string{"all", "none", "always", "ALL"}

func (c *Config) checkName(n string, limit int) error {
	switch {
	case !nameChars().MatchString(n):
		return fmt.Errorf("a name holds only letters, digits, '_', '.' and '-'")
	case len(n) > limit:
		return fmt.Errorf("name of %d characters, FortiOS %s allows %d", len(n), c.Version, limit)
	case slices.Contains(builtins, n):
		return fmt.Errorf("%s is predefined", n)
	}
	return nil
}

// checkText checks a comment: within limit bytes once read, valid UTF-8,
// and free of what FortiOS refuses in text (both quotes, '<', '>'), of '#'
// and '?' (portwall replaces both, see the generator) and of control
// characters (a line break would end the command).
func checkText(s string, limit int) error {
	switch {
	case len(s) > limit:
		return fmt.Errorf("%d characters, at most %d", len(s), limit)
	case !utf8.ValidString(s):
		return fmt.Errorf("not valid UTF-8")
	}
	for _, r := range s {
		switch {
		case strings.ContainsRune(`"'<>#?`, r):
			return fmt.Errorf("%q is not allowed in FortiOS text", r)
		case !unicode.IsPrint(r):
			return fmt.Errorf("control or unprintable character %q", r)
		}
	}
	return nil
}

func parseIP(s string, f family) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" || !f.has(a) {
		return netip.Addr{}, fmt.Errorf("%q is not an %s address", s, f)
	}
	return a, nil
}

// checkSubnet: an IPv4 network address and a contiguous mask, the form
// `show` prints.
func checkSubnet(_ *Config, _ *Entry, a *Attr) error {
	_, err := subnet(a.Values)
	return err
}

func subnet(vals []string) (netip.Prefix, error) {
	ip, err := parseIP(vals[0], v4)
	if err != nil {
		return netip.Prefix{}, err
	}
	mask, err := parseIP(vals[1], v4)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("mask %q is not a dotted IPv4 mask", vals[1])
	}
	m := mask.As4()
	bits := uint32(m[0])<<24 | uint32(m[1])<<16 | uint32(m[2])<<8 | uint32(m[3])
	ones := 0
	for ones < 32 && bits&(1<<(31-ones)) != 0 {
		ones++
	}
	if ones < 32 && bits<<ones != 0 {
		return netip.Prefix{}, fmt.Errorf("mask %s is not contiguous", vals[1])
	}
	p := netip.PrefixFrom(ip, ones)
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("%s has host bits set under mask %s", vals[0], vals[1])
	}
	return p, nil
}

func checkIP6(_ *Config, _ *Entry, a *Attr) error {
	_, err := ip6(a.Values[0])
	return err
}

func ip6(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil || !v6.has(p.Addr()) {
		return netip.Prefix{}, fmt.Errorf("%q is not an IPv6 prefix", s)
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("%s has host bits set", s)
	}
	return p, nil
}

func checkFQDN(_ *Config, _ *Entry, a *Attr) error {
	s := a.Values[0]
	if len(s) > 255 {
		return fmt.Errorf("%d characters, at most 255", len(s))
	}
	if err := addr.CheckFQDN(s); err != nil || strings.HasSuffix(s, ".") {
		return fmt.Errorf("%q is not a host name", s)
	}
	return nil
}

// checkPortRanges: entries lo[-hi] separated by spaces, ports 1-65535.
// Commas are not separators (a comma list was once silently mis-stored)
// and source ports (":") are not what portwall emits.
func checkPortRanges(_ *Config, e *Entry, a *Attr) error {
	if p := protocolOf(e); p != "TCP/UDP/SCTP" {
		return fmt.Errorf("needs protocol TCP/UDP/SCTP set before it, the service has %q", p)
	}
	for _, v := range a.Values {
		if _, _, err := portRange(v); err != nil {
			return err
		}
	}
	return nil
}

func portRange(s string) (lo, hi uint16, err error) {
	switch {
	case strings.Contains(s, ","):
		return 0, 0, fmt.Errorf("%q: ranges are separated by spaces, not commas", s)
	case strings.Contains(s, ":"):
		return 0, 0, fmt.Errorf("%q: source port ranges are not what portwall emits", s)
	}
	a, b, isRange := strings.Cut(s, "-")
	if !isRange {
		b = a
	}
	l, err1 := port(a)
	h, err2 := port(b)
	switch {
	case err1 != nil || err2 != nil:
		return 0, 0, fmt.Errorf("%q is not a port or range of ports 1-65535", s)
	case l > h:
		return 0, 0, fmt.Errorf("%q is reversed", s)
	}
	return l, h, nil
}

func port(s string) (uint16, error) {
	if !isDigits(s) || len(s) > 5 {
		return 0, fmt.Errorf("bad port")
	}
	n, _ := strconv.Atoi(s)
	if n < 1 || n > 65535 {
		return 0, fmt.Errorf("bad port")
	}
	return uint16(n), nil
}

// checkICMPType: one integer 0-255; several types need a service each.
func checkICMPType(_ *Config, e *Entry, a *Attr) error {
	if p := protocolOf(e); p != "ICMP" && p != "ICMP6" {
		return fmt.Errorf("needs protocol ICMP or ICMP6 set before it, the service has %q", p)
	}
	if len(a.Values) != 1 {
		return fmt.Errorf("takes one type, not %d: several types need one service each", len(a.Values))
	}
	if _, err := icmpType(a.Values[0]); err != nil {
		return err
	}
	return nil
}

func icmpType(s string) (uint8, error) {
	n, err := strconv.Atoi(s)
	if !isDigits(s) || err != nil || n > 255 {
		return 0, fmt.Errorf("%q is not an ICMP type 0-255", s)
	}
	return uint8(n), nil
}

func protocolOf(e *Entry) string {
	if v := e.Get("protocol"); v != nil {
		return v[0]
	}
	return ""
}

func checkPolicyName(c *Config, _ *Entry, a *Attr) error {
	n := a.Values[0]
	if err := c.checkName(n, 35); err != nil {
		return err
	}
	if line, ok := c.names[n]; ok {
		return fmt.Errorf("policy name %s is already used on line %d; names are unique", n, line)
	}
	c.names[n] = a.Line
	return nil
}

// interfaceChars: interface names hold 15 characters, zones 35; the
// field holds 35.
var interfaceChars = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_.-]{1,35}$`) })

func checkInterfaces(_ *Config, _ *Entry, a *Attr) error {
	if err := unique(a.Values); err != nil {
		return err
	}
	for _, v := range a.Values {
		if !interfaceChars().MatchString(v) {
			return fmt.Errorf("%q is not an interface or zone name", v)
		}
		if v == "any" && len(a.Values) > 1 {
			return fmt.Errorf("any holds every interface and stands alone")
		}
	}
	return nil
}

func unique(vals []string) error {
	seen := map[string]bool{}
	for _, v := range vals {
		if seen[v] {
			return fmt.Errorf("%s listed twice", v)
		}
		seen[v] = true
	}
	return nil
}

// addrRefs: policy addresses of family f, defined earlier, or the
// built-in "all" on its own.
func addrRefs(f family) func(*Config, *Entry, *Attr) error {
	return func(c *Config, _ *Entry, a *Attr) error {
		if err := unique(a.Values); err != nil {
			return err
		}
		for _, v := range a.Values {
			if v == "all" {
				if len(a.Values) > 1 {
					return fmt.Errorf("all holds every address and stands alone")
				}
				continue
			}
			if err := c.addrRef(v, f); err != nil {
				return err
			}
		}
		return nil
	}
}

// memberRefs: group members of family f, defined earlier. portwall never
// puts the built-in "all" into a group.
func memberRefs(f family) func(*Config, *Entry, *Attr) error {
	return func(c *Config, _ *Entry, a *Attr) error {
		if err := unique(a.Values); err != nil {
			return err
		}
		for _, v := range a.Values {
			if err := c.addrRef(v, f); err != nil {
				return err
			}
		}
		return nil
	}
}

func (c *Config) addrRef(name string, f family) error {
	e, ok := c.objects[name]
	if !ok {
		return fmt.Errorf("%s is not defined before", name)
	}
	if ef, _ := tableFamily(e.Table); ef != f {
		return fmt.Errorf("%s is an %s object (config %s), this list takes %s", name, ef, e.Table, f)
	}
	return nil
}

func checkServiceRefs(c *Config, _ *Entry, a *Attr) error {
	if err := unique(a.Values); err != nil {
		return err
	}
	for _, v := range a.Values {
		if _, ok := c.svcs[v]; !ok {
			return fmt.Errorf("service %s is not defined before", v)
		}
	}
	return nil
}

// Checks at next.

func require(e *Entry, attrs ...string) error {
	for _, n := range attrs {
		if e.attr(n) == nil {
			return errorf(e.Line, "%s entry without %s", e.Table, n)
		}
	}
	return nil
}

func forbid(e *Entry, why string, attrs ...string) error {
	for _, n := range attrs {
		if a := e.attr(n); a != nil {
			return errorf(a.Line, "set %s: %s", n, why)
		}
	}
	return nil
}

func closeAddress(_ *Config, e *Entry) error {
	if err := require(e, "type"); err != nil {
		return err
	}
	switch typeOf(e) {
	case "ipmask":
		return require(e, "subnet")
	case "ipprefix":
		return require(e, "ip6")
	case "fqdn":
		return require(e, "fqdn")
	}
	if err := require(e, "start-ip", "end-ip"); err != nil {
		return err
	}
	f := v4
	if e.Table == "firewall address6" {
		f = v6
	}
	start, _ := parseIP(e.Get("start-ip")[0], f)
	end, _ := parseIP(e.Get("end-ip")[0], f)
	if start.Compare(end) > 0 {
		return errorf(e.Line, "start-ip %s is above end-ip %s", start, end)
	}
	return nil
}

func closeGroup(_ *Config, e *Entry) error { return require(e, "member") }

func closeService(_ *Config, e *Entry) error {
	if err := require(e, "protocol"); err != nil {
		return err
	}
	if protocolOf(e) == "TCP/UDP/SCTP" && e.attr("tcp-portrange") == nil && e.attr("udp-portrange") == nil {
		return errorf(e.Line, "TCP/UDP/SCTP service without tcp-portrange or udp-portrange")
	}
	return nil
}

// families lists the address families of a policy or local-in entry:
// the pairs of source and destination it sets.
func families(e *Entry) []family {
	var out []family
	switch e.Table {
	case "firewall policy":
		if e.attr("srcaddr") != nil {
			out = append(out, v4)
		}
		if e.attr("srcaddr6") != nil {
			out = append(out, v6)
		}
	case "firewall local-in-policy":
		out = []family{v4}
	default: // policy6, local-in-policy6
		out = []family{v6}
	}
	return out
}

func closePolicy(c *Config, e *Entry) error {
	if err := require(e, "name", "srcintf", "dstintf", "action", "schedule", "service"); err != nil {
		return err
	}
	for _, pair := range [][2]string{{"srcaddr", "dstaddr"}, {"srcaddr6", "dstaddr6"}} {
		if (e.attr(pair[0]) == nil) != (e.attr(pair[1]) == nil) {
			return errorf(e.Line, "%s and %s go together: source and destination must be of one IP version", pair[0], pair[1])
		}
	}
	if e.attr("srcaddr") == nil && e.attr("srcaddr6") == nil {
		return errorf(e.Line, "policy without addresses")
	}
	return c.checkServiceFamilies(e)
}

func closeLocalIn(c *Config, e *Entry) error {
	if err := require(e, "intf", "srcaddr", "dstaddr", "action", "service", "schedule"); err != nil {
		return err
	}
	return c.checkServiceFamilies(e)
}

// checkServiceFamilies refuses an ICMP service in an IPv6 policy (and
// ICMP6 in IPv4): it would match nothing there, and portwall never mixes
// them.
func (c *Config) checkServiceFamilies(e *Entry) error {
	fams := families(e)
	for _, s := range c.serviceEntries(e.Get("service")) {
		switch p := protocolOf(s); {
		case p == "ICMP" && slices.Contains(fams, v6), p == "ICMP6" && slices.Contains(fams, v4):
			return errorf(e.Line, "service %s is %s, which cannot apply to the policy's %s addresses", s.Key, p, famList(fams))
		}
	}
	return nil
}

// serviceEntries resolves service names to custom services, through
// groups.
func (c *Config) serviceEntries(names []string) []*Entry {
	var out []*Entry
	for _, n := range names {
		e := c.svcs[n]
		if e == nil {
			continue
		}
		if e.Table == "firewall service group" {
			out = append(out, c.serviceEntries(e.Get("member"))...)
			continue
		}
		out = append(out, e)
	}
	return out
}

func famList(fs []family) string {
	var out []string
	for _, f := range fs {
		out = append(out, f.String())
	}
	return strings.Join(out, " and ")
}
