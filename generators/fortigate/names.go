package fortigate

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"go4.org/netipx"

	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/proto"
)

// Prefix starts the name of everything portwall creates on the FortiGate:
// it keeps clear of predefined objects and services ("all", "ALL",
// "HTTP") and lets an operator find portwall's objects.
const Prefix = "pw-"

// safeName is what portwall puts into a FortiOS name: letters, digits,
// '_', '.' and '-'. No '/' (it breaks REST tools, which put names into
// URLs), no ':', quotes, '#', spaces or anything the CLI could read
// otherwise.
var safeName = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// interfaceName is what an interface or zone name may look like: the
// profile checks the same, the IR may come from elsewhere.
var interfaceName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,35}$`)

// shorten fits a derived name into limit characters. A longer name keeps
// its first characters and ends in a hash of the whole name, so that
// names stay distinct and the same input always gives the same name.
func shorten(name string, limit int) string {
	if len(name) <= limit {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	h := hex.EncodeToString(sum[:4])
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

// Object names. Members are named after their contents, so that an object
// means the same on the FortiGate whatever profile created it, and groups
// after their sets, so that they stay put when the profile changes
// elsewhere.

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

func groupName(set string, f ir.Family) string {
	if f == ir.IPv4 {
		return Prefix + "g-" + set
	}
	return Prefix + "g6-" + set
}

func serviceName(ruleID string) string { return Prefix + "svc-" + ruleID }

// icmpServiceName names the service for one ICMP or ICMPv6 type (-1:
// every type) and says what it is.
func icmpServiceName(p proto.Protocol, t int) (name, what string) {
	tag, label := "icmp", "ICMP"
	if p == proto.ICMPv6 {
		tag, label = "icmp6", "ICMPv6"
	}
	if t < 0 {
		return Prefix + tag + "-any", label + ", every type"
	}
	what = fmt.Sprintf("%s type %d", label, t)
	if n := proto.ICMPTypeName(p, uint8(t)); n != strconv.Itoa(t) {
		what += " (" + n + ")"
	}
	return fmt.Sprintf("%s%s-%d", Prefix, tag, t), what
}

// policyName names a rule's policy; the IPv6 policy of 6.0 and 6.2 lives
// in policy6 and gets its own name, in case FortiOS checks names across
// both tables.
func policyName(ruleID string, f ir.Family, merged bool) string {
	if f == ir.IPv6 && !merged {
		return Prefix + ruleID + "-v6"
	}
	return Prefix + ruleID
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
	if !safeName.MatchString(name) {
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
