package fortiparse

import (
	"fmt"
	"net/netip"
	"sync"
)

type tableKind uint8

const (
	kindAddress tableKind = iota
	kindAddress6
	kindGroup
	kindGroup6
	kindService
	kindServiceGroup
	kindPolicy
	kindPolicy6
	kindLocalIn
	kindLocalIn6
)

// tableSpec is what one table accepts.
type tableSpec struct {
	kind tableKind
	// numbered tables create entries with edit 0; the others edit names.
	numbered bool
	// before: the table exists only before this version.
	before    *version
	beforeWhy string
	attrs     map[string]*attrSpec
	// close checks an entry at next.
	close func(c *Config, e *Entry) error
}

// attrSpec is what one attribute accepts.
type attrSpec struct {
	// min and max count values; max 0 is no limit; maxFn overrides max
	// for versions that differ.
	min, max int
	maxFn    func(version) int
	// quoted values are names and text, written "..."; the others are
	// keywords, numbers and addresses, written bare.
	quoted bool
	// first: the attribute must be the entry's first (type, protocol:
	// they decide what the others mean).
	first bool
	// since: the attribute exists from this version on.
	since    *version
	sinceWhy string
	check    func(c *Config, e *Entry, a *Attr) error
}

// The attributes, by what their values are.
func one(check func(*Config, *Entry, *Attr) error) *attrSpec {
	return &attrSpec{min: 1, max: 1, check: check}
}

func oneQuoted(check func(*Config, *Entry, *Attr) error) *attrSpec {
	return &attrSpec{min: 1, max: 1, quoted: true, check: check}
}

func list(check func(*Config, *Entry, *Attr) error) *attrSpec {
	return &attrSpec{min: 1, quoted: true, check: check}
}

func keyword(values ...string) *attrSpec {
	return one(func(_ *Config, _ *Entry, a *Attr) error { return oneOf(a.Values[0], values) })
}

// The attributes several tables share. Functions, not package variables:
// each table gets its own (the checks hold no state), built with specs.
func objectComment() *attrSpec {
	return oneQuoted(func(_ *Config, _ *Entry, a *Attr) error { return checkText(a.Values[0], 255) })
}

func policyComment() *attrSpec {
	return oneQuoted(func(_ *Config, _ *Entry, a *Attr) error { return checkText(a.Values[0], 1023) })
}

func schedule() *attrSpec {
	return oneQuoted(func(_ *Config, _ *Entry, a *Attr) error {
		if a.Values[0] != "always" {
			return fmt.Errorf("schedule %q: portwall's policies always apply (\"always\")", a.Values[0])
		}
		return nil
	})
}

func action() *attrSpec     { return keyword("accept") }
func logtraffic() *attrSpec { return keyword("all", "utm", "disable") }
func status() *attrSpec     { return keyword("enable") }
func services() *attrSpec   { return list(checkServiceRefs) }
func intfs() *attrSpec      { return list(checkInterfaces) }

func addrType(types ...string) *attrSpec {
	s := keyword(types...)
	s.first = true
	return s
}

// ofType is an address attribute valid for one address type.
func ofType(t string, s *attrSpec) *attrSpec {
	inner := s.check
	out := *s
	out.check = func(c *Config, e *Entry, a *Attr) error {
		switch got := typeOf(e); {
		case got == "":
			return fmt.Errorf("belongs to type %s: set type %s first", t, t)
		case got != t:
			return fmt.Errorf("belongs to type %s, the entry is type %s", t, got)
		}
		if inner != nil {
			return inner(c, e, a)
		}
		return nil
	}
	return &out
}

func typeOf(e *Entry) string {
	if v := e.Get("type"); v != nil {
		return v[0]
	}
	return ""
}

func ipAttr(f family) func(*Config, *Entry, *Attr) error {
	return func(_ *Config, _ *Entry, a *Attr) error {
		_, err := parseIP(a.Values[0], f)
		return err
	}
}

// specs are the tables the model knows, by path. Built on first use: the
// attribute checks are closures, which a package-level map literal would
// have every run build at initialisation, whether it reads a FortiGate
// configuration or not.
var specs = sync.OnceValue(func() map[string]*tableSpec {
	return map[string]*tableSpec{
		"firewall address": {kind: kindAddress, close: closeAddress, attrs: map[string]*attrSpec{
			"type":     addrType("ipmask", "iprange", "fqdn"),
			"subnet":   ofType("ipmask", &attrSpec{min: 2, max: 2, check: checkSubnet}),
			"start-ip": ofType("iprange", one(ipAttr(v4))),
			"end-ip":   ofType("iprange", one(ipAttr(v4))),
			"fqdn":     ofType("fqdn", oneQuoted(checkFQDN)),
			"comment":  objectComment(),
		}},
		"firewall address6": {kind: kindAddress6, close: closeAddress, attrs: map[string]*attrSpec{
			"type":     addrType("ipprefix", "iprange", "fqdn"),
			"ip6":      ofType("ipprefix", one(checkIP6)),
			"start-ip": ofType("iprange", one(ipAttr(v6))),
			"end-ip":   ofType("iprange", one(ipAttr(v6))),
			"fqdn":     ofType("fqdn", oneQuoted(checkFQDN)),
			"comment":  objectComment(),
		}},
		"firewall addrgrp": {kind: kindGroup, close: closeGroup, attrs: map[string]*attrSpec{
			"member":  list(memberRefs(v4)),
			"comment": objectComment(),
		}},
		"firewall addrgrp6": {kind: kindGroup6, close: closeGroup, attrs: map[string]*attrSpec{
			"member":  list(memberRefs(v6)),
			"comment": objectComment(),
		}},
		"firewall service custom": {kind: kindService, close: closeService, attrs: map[string]*attrSpec{
			"protocol": {min: 1, max: 1, first: true, check: func(_ *Config, _ *Entry, a *Attr) error {
				return oneOf(a.Values[0], []string{"TCP/UDP/SCTP", "ICMP", "ICMP6"})
			}},
			"tcp-portrange": {min: 1, check: checkPortRanges},
			"udp-portrange": {min: 1, check: checkPortRanges},
			"icmptype":      {min: 1, check: checkICMPType},
			"comment":       objectComment(),
		}},
		"firewall service group": {kind: kindServiceGroup, close: closeGroup, attrs: map[string]*attrSpec{
			"member":  list(checkServiceRefs),
			"comment": objectComment(),
		}},
		"firewall policy": {kind: kindPolicy, numbered: true, close: closePolicy, attrs: map[string]*attrSpec{
			"name":       oneQuoted(checkPolicyName),
			"srcintf":    intfs(),
			"dstintf":    intfs(),
			"srcaddr":    list(addrRefs(v4)),
			"dstaddr":    list(addrRefs(v4)),
			"srcaddr6":   since(v64, "IPv6 addresses join the policy in 6.4; before, they go to policy6", list(addrRefs(v6))),
			"dstaddr6":   since(v64, "IPv6 addresses join the policy in 6.4; before, they go to policy6", list(addrRefs(v6))),
			"action":     action(),
			"schedule":   schedule(),
			"service":    services(),
			"logtraffic": logtraffic(),
			"comments":   policyComment(),
			"status":     status(),
		}},
		"firewall policy6": {kind: kindPolicy6, numbered: true, before: &v64, beforeWhy: "6.4 merged IPv6 into config firewall policy", close: closePolicy, attrs: map[string]*attrSpec{
			"name":       oneQuoted(checkPolicyName),
			"srcintf":    intfs(),
			"dstintf":    intfs(),
			"srcaddr":    list(addrRefs(v6)),
			"dstaddr":    list(addrRefs(v6)),
			"action":     action(),
			"schedule":   schedule(),
			"service":    services(),
			"logtraffic": logtraffic(),
			"comments":   policyComment(),
			"status":     status(),
		}},
		"firewall local-in-policy":  localIn(kindLocalIn, v4),
		"firewall local-in-policy6": localIn(kindLocalIn6, v6),
	}
})

// localIn is a local-in table. It has no name (the references list none)
// and no logtraffic before 8.0; portwall sets neither.
func localIn(k tableKind, f family) *tableSpec {
	intf := list(checkInterfaces)
	intf.maxFn = func(v version) int {
		if v.atLeast(v80) {
			return 0
		}
		return 1
	}
	return &tableSpec{kind: k, numbered: true, close: closeLocalIn, attrs: map[string]*attrSpec{
		"intf":     intf,
		"srcaddr":  list(addrRefs(f)),
		"dstaddr":  list(addrRefs(f)),
		"action":   action(),
		"service":  services(),
		"schedule": schedule(),
		"comments": policyComment(),
	}}
}

func since(v version, why string, s *attrSpec) *attrSpec {
	s.since, s.sinceWhy = &v, why
	return s
}

// family is an IP version as the tables see it.
type family uint8

const (
	v4 family = 4
	v6 family = 6
)

func (f family) String() string {
	if f == v4 {
		return "IPv4"
	}
	return "IPv6"
}

func (f family) has(a netip.Addr) bool {
	return f == v4 && a.Is4() || f == v6 && a.Is6() && !a.Is4In6()
}

// tableFamily is the address family of an address or group table.
func tableFamily(path string) (family, bool) {
	switch path {
	case "firewall address", "firewall addrgrp":
		return v4, true
	case "firewall address6", "firewall addrgrp6":
		return v6, true
	}
	return 0, false
}
