package fortigate

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"go4.org/netipx"

	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

// Prefix starts the name of everything portwall creates on the FortiGate:
// it keeps clear of predefined objects and services ("all", "ALL",
// "HTTP") and lets an operator, and a later run against the running
// configuration, find portwall's objects. Nothing without it is ever
// edited or deleted.
const Prefix = "pw-"

// CommentPrefix starts the comments of portwall's policies; local-in
// policies, which have no name, are known by it.
const CommentPrefix = "pw:"

// safeName is what portwall puts into a FortiOS name: letters, digits,
// '_', '.' and '-'. No '/' (it breaks REST tools, which put names into
// URLs), no ':', quotes, '#', spaces or anything the CLI could read
// otherwise.
var safeName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_.-]+$`) })

// interfaceName is what an interface or zone name may look like: the
// profile checks the same, the IR may come from elsewhere.
var interfaceName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_.-]{1,35}$`) })

// hashOf is a short hash of s, for names that must be cut or told apart.
func hashOf(s string, n int) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:n]
}

// shorten fits a derived name into limit characters. A longer name keeps
// its first characters and ends in a hash of the whole name, so that
// names stay distinct and the same input always gives the same name.
func shorten(name string, limit int) string {
	if len(name) <= limit {
		return name
	}
	h := hashOf(name, 8)
	return name[:limit-len(h)-1] + "-" + h
}

// addrText writes an address into a name: IPv6 ':' becomes '_', which no
// address contains, so the mapping is one to one.
func addrText(a netip.Addr) string { return strings.ReplaceAll(a.String(), ":", "_") }

func famTag(f ir.Family) string {
	if f == ir.IPv4 {
		return "4"
	}
	return "6"
}

// Object names. Addresses and services are named after their contents,
// so that a name means the same on the FortiGate whatever profile or rule
// created it and never needs updating; address groups after the profile's
// sets, so that they stay put when the profile changes elsewhere.

func prefixName(p netip.Prefix, f ir.Family) string {
	return fmt.Sprintf("%sn%s-%s-%d", Prefix, famTag(f), addrText(p.Addr()), p.Bits())
}

func rangeName(r netipx.IPRange, f ir.Family) string {
	return fmt.Sprintf("%sr%s-%s-%s", Prefix, famTag(f), addrText(r.From()), addrText(r.To()))
}

func fqdnName(fqdn string, f ir.Family) string {
	if f == ir.IPv4 {
		return Prefix + "fqdn-" + fqdn
	}
	return Prefix + "fqdn6-" + fqdn
}

// groupName names the group of a set's addresses of one family, or, with
// intf, of the part of them behind that interface. Profile names hold no
// '.', so "SET.INTF" never equals another set's name.
func groupName(set string, f ir.Family, intf string) string {
	n := Prefix + "g-" + set
	if f == ir.IPv6 {
		n = Prefix + "g6-" + set
	}
	if intf != "" {
		n += "." + intf
	}
	return n
}

// portsName names a TCP or UDP service after its ports: "pw-tcp-8013-10443",
// a range written "7100_7150".
func portsName(p proto.Protocol, ps ports.Set) string {
	parts := make([]string, len(ps))
	for i, r := range ps {
		parts[i] = strconv.Itoa(int(r.First))
		if r.Last != r.First {
			parts[i] += "_" + strconv.Itoa(int(r.Last))
		}
	}
	return Prefix + p.String() + "-" + strings.Join(parts, "-")
}

// icmpServiceName names the service for one ICMP or ICMPv6 type (-1:
// every type) and says what it is.
func icmpServiceName(p proto.Protocol, t int) (name, what string) {
	tag, label := icmpTag(p)
	if t < 0 {
		return Prefix + tag + "-any", label + ", every type"
	}
	what = fmt.Sprintf("%s type %d", label, t)
	if n := proto.ICMPTypeName(p, uint8(t)); n != strconv.Itoa(t) {
		what += " (" + n + ")"
	}
	return fmt.Sprintf("%s%s-%d", Prefix, tag, t), what
}

// icmpGroupName names the service group of several ICMP types:
// "pw-icmp-0-8". A single service always has one number, so the two never
// meet.
func icmpGroupName(p proto.Protocol, types []uint8) (name, what string) {
	tag, label := icmpTag(p)
	nums := make([]string, len(types))
	for i, t := range types {
		nums[i] = strconv.Itoa(int(t))
	}
	return Prefix + tag + "-" + strings.Join(nums, "-"), label + " types " + strings.Join(nums, ", ")
}

func icmpTag(p proto.Protocol) (tag, label string) {
	if p == proto.ICMPv6 {
		return "icmp6", "ICMPv6"
	}
	return "icmp", "ICMP"
}

// slug makes free text into a name part: lower-case letters and digits,
// runs of anything else one '-'.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			continue
		}
		dash = true
	}
	return b.String()
}

// cutName cuts a name to limit characters at a '-' where one is near, so
// that a readable name stays readable.
func cutName(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	s = s[:limit]
	if i := strings.LastIndexByte(s, '-'); i > limit/2 {
		s = s[:i]
	}
	return strings.TrimRight(s, "-_.")
}

// namespace hands out names of one FortiOS namespace and refuses two
// different things under one name (a hash collision, or a derived name
// that happens to equal a shortened one).
type namespace struct {
	what  string
	limit int
	owner map[string]string // name -> what it stands for
}

func newNamespace(what string, limit int) *namespace {
	return &namespace{what: what, limit: limit, owner: map[string]string{}}
}

// claim shortens name to the namespace's limit and records that it stands
// for key. It reports whether the name is new.
func (ns *namespace) claim(name, key string) (string, bool, error) {
	name = shorten(name, ns.limit)
	if !safeName().MatchString(name) {
		return "", false, fmt.Errorf("%s name %q has characters FortiOS names cannot safely hold", ns.what, name)
	}
	if prev, ok := ns.owner[name]; ok {
		if prev != key {
			return "", false, fmt.Errorf("%s name %s stands for both %s and %s", ns.what, name, prev, key)
		}
		return name, false, nil
	}
	ns.owner[name] = key
	return name, true, nil
}
