package fortiparse

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// What the model checks of the tables it models, by the reference
// (sections 3 to 7): values, references, unique names, and deletions of
// what is in use.

// Owner tells, while reading a running configuration, which entries a
// tool made (their references are checked) and which names are its (a
// reference to one must resolve).
type Owner struct {
	Entry func(table string, e *Entry) bool
	Name  func(name string) bool
}

// refKind is what a reference names.
type refKind uint8

const (
	refNone  refKind = iota
	refAddr4         // firewall address, addrgrp (and VIPs, for policies)
	refAddr6         // firewall address6, addrgrp6
	refSvc           // firewall service custom, service group
	refSched         // schedules
)

// memberTables are what a group may hold; policyAddrTables what a policy
// may name. Arrays indexed by refKind, not maps: the linker lays them out,
// where a map literal is built by every run's package initialisation.
var (
	memberTables = [...][]string{
		refAddr4: {"firewall address", "firewall addrgrp"},
		refAddr6: {"firewall address6", "firewall addrgrp6"},
		refSvc:   {"firewall service custom", "firewall service group"},
		refSched: nil,
	}
	policyAddrTables = [...][]string{
		refAddr4: {"firewall address", "firewall addrgrp", "firewall vip", "firewall vipgrp", "firewall multicast-address", "firewall proxy-address", "firewall proxy-addrgrp"},
		refAddr6: {"firewall address6", "firewall addrgrp6", "firewall vip6", "firewall vipgrp6", "firewall multicast-address6"},
		refSvc:   {"firewall service custom", "firewall service group"},
		refSched: {"firewall schedule recurring", "firewall schedule onetime", "firewall schedule group"},
	}
	// predefined names FortiOS knows whether or not a configuration
	// lists them.
	predefined = [...][]string{
		refAddr4: {"all", "none"},
		refAddr6: {"all", "none"},
		refSvc:   {"ALL"},
		refSched: {"always"},
	}
)

// kindOf is the kind of name a table's entries are.
func kindOf(table string) refKind {
	switch table {
	case "firewall address", "firewall addrgrp":
		return refAddr4
	case "firewall address6", "firewall addrgrp6":
		return refAddr6
	case "firewall service custom", "firewall service group":
		return refSvc
	case "firewall schedule recurring", "firewall schedule onetime", "firewall schedule group":
		return refSched
	}
	return refNone
}

// refOf is what an attribute of a table refers to, and whether only group
// members (not VIPs) may be named.
func refOf(table, attr string) (refKind, bool) {
	v6 := strings.HasSuffix(table, "6")
	switch attr {
	case "member", "exclude-member":
		switch table {
		case "firewall addrgrp":
			return refAddr4, true
		case "firewall addrgrp6":
			return refAddr6, true
		case "firewall service group":
			return refSvc, true
		}
		return refNone, false
	case "srcaddr", "dstaddr":
		if v6 {
			return refAddr6, false
		}
		return refAddr4, false
	case "srcaddr6", "dstaddr6":
		return refAddr6, false
	case "service":
		return refSvc, false
	case "schedule":
		if isPolicyTable(table) {
			return refSched, false
		}
	}
	return refNone, false
}

func isPolicyTable(table string) bool {
	switch table {
	case "firewall policy", "firewall policy6", "firewall local-in-policy", "firewall local-in-policy6":
		return true
	}
	return false
}

func isAddressTable(table string) bool {
	return table == "firewall address" || table == "firewall address6"
}

// modelled are the tables whose entries the model checks.
func modelled(table string) bool {
	return kindOf(table) != refNone && kindOf(table) != refSched || isPolicyTable(table)
}

// resolves reports whether name exists for a reference of kind k.
func (v *VDOM) resolves(k refKind, membersOnly bool, name string) bool {
	if slices.Contains(predefined[k], name) {
		return true
	}
	tables := policyAddrTables[k]
	if membersOnly {
		tables = memberTables[k]
	}
	for _, t := range tables {
		if v.Table(t).Entry(name) != nil {
			return true
		}
	}
	return false
}

// sameNamespace names the table other than path that already holds key
// in the namespace path's entries share ("" for none): addresses and
// address groups of a family, custom services and service groups.
func (v *VDOM) sameNamespace(path, key string) string {
	k := kindOf(path)
	if k == refNone || k == refSched {
		return ""
	}
	for _, t := range memberTables[k] {
		if t != path && v.Table(t).Entry(key) != nil {
			return t
		}
	}
	return ""
}

// checkRefs checks the references of one attribute of an entry; all
// false checks only references from or to owned names (ownedName).
func (v *VDOM) checkRefs(table string, e *Entry, attr string, strict bool, ownedName func(string) bool) error {
	if !modelled(table) {
		return nil
	}
	k, members := refOf(table, attr)
	if k == refNone {
		return nil
	}
	a := e.attr(attr)
	if a == nil {
		return nil
	}
	if err := unique(a.Values); err != nil {
		return err
	}
	for _, n := range a.Values {
		if !strict && (ownedName == nil || !ownedName(n)) {
			continue
		}
		if !v.resolves(k, members, n) {
			return fmt.Errorf("%s is not defined", n)
		}
		if members && n == e.Key && kindOf(table) == k {
			return fmt.Errorf("a group cannot hold itself")
		}
	}
	return nil
}

// checkEntry checks a modelled entry as FortiOS does when the entry is
// saved (next or end); refs false leaves references (and the cycles they
// may make) to checkRefsAll.
func (v *VDOM) checkEntry(table string, e *Entry, strict bool, ownedName func(string) bool, refs bool) error {
	if !modelled(table) {
		return nil
	}
	if refs {
		if _, err := v.checkEntryRefs(table, e, strict, ownedName); err != nil {
			return err
		}
	}
	get := func(n string) []string {
		if a := e.attr(n); a != nil {
			return a.Values
		}
		return nil
	}
	need := func(ns ...string) error {
		for _, n := range ns {
			if get(n) == nil {
				return fmt.Errorf("%s is required", n)
			}
		}
		return nil
	}
	switch table {
	case "firewall address", "firewall address6":
		f := v4
		if table == "firewall address6" {
			f = v6
		}
		switch typeOrDefault(table, e) {
		case "ipmask":
			if s := get("subnet"); s != nil {
				if _, err := lenientSubnet(s); err != nil {
					return fmt.Errorf("subnet: %v", err)
				}
			}
		case "ipprefix":
			if s := get("ip6"); s != nil {
				if len(s) != 1 {
					return fmt.Errorf("ip6 takes one prefix")
				}
				if p, err := netip.ParsePrefix(s[0]); err != nil || !v6.has(p.Addr()) {
					return fmt.Errorf("ip6: %q is not an IPv6 prefix", s[0])
				}
			}
		case "iprange":
			if err := need("start-ip", "end-ip"); err != nil {
				return err
			}
			lo, err1 := parseIP(get("start-ip")[0], f)
			hi, err2 := parseIP(get("end-ip")[0], f)
			switch {
			case err1 != nil:
				return err1
			case err2 != nil:
				return err2
			case lo.Compare(hi) > 0:
				return fmt.Errorf("start-ip %s is above end-ip %s", lo, hi)
			}
		case "fqdn":
			return need("fqdn")
		}
	case "firewall addrgrp", "firewall addrgrp6", "firewall service group":
		if err := need("member"); err != nil {
			return err
		}
	case "firewall service custom":
		switch p := typeOrDefault(table, e); p {
		case "TCP/UDP/SCTP":
			if get("tcp-portrange") == nil && get("udp-portrange") == nil && get("sctp-portrange") == nil {
				return fmt.Errorf("a TCP/UDP/SCTP service needs tcp-portrange, udp-portrange or sctp-portrange")
			}
			for _, attr := range []string{"tcp-portrange", "udp-portrange", "sctp-portrange"} {
				for _, r := range get(attr) {
					if err := lenientPortRange(r); err != nil {
						return fmt.Errorf("%s: %v", attr, err)
					}
				}
			}
		case "ICMP", "ICMP6":
			for _, attr := range []string{"icmptype", "icmpcode"} {
				if t := get(attr); t != nil {
					if len(t) != 1 {
						return fmt.Errorf("%s takes one value", attr)
					}
					if _, err := icmpType(t[0]); err != nil {
						return fmt.Errorf("%s: %v", attr, err)
					}
				}
			}
			if get("icmpcode") != nil && get("icmptype") == nil {
				return fmt.Errorf("icmpcode needs icmptype")
			}
		case "IP":
			if n := get("protocol-number"); n != nil {
				if x, err := strconv.Atoi(n[0]); err != nil || x < 0 || x > 254 {
					return fmt.Errorf("protocol-number %q is not 0-254", n[0])
				}
			}
		}
	case "firewall policy", "firewall policy6":
		if err := need("srcintf", "dstintf"); err != nil {
			return err
		}
		if n := get("name"); n != nil {
			if len(n) != 1 || len(n[0]) > 35 {
				return fmt.Errorf("name: one name of at most 35 characters")
			}
			for _, t := range []string{"firewall policy", "firewall policy6"} {
				for _, o := range v.Table(t).entries() {
					if o != e && o.Get("name") != nil && o.Get("name")[0] == n[0] {
						return fmt.Errorf("name %s is used by policy %s (config %s): policy names are unique", n[0], o.Key, t)
					}
				}
			}
		}
		if strict {
			if (get("srcaddr") == nil) != (get("dstaddr") == nil) || (get("srcaddr6") == nil) != (get("dstaddr6") == nil) {
				return fmt.Errorf("source and destination addresses go together, per IP version")
			}
			if get("srcaddr") == nil && get("srcaddr6") == nil {
				return fmt.Errorf("srcaddr is required")
			}
			return need("service", "schedule")
		}
	case "firewall local-in-policy", "firewall local-in-policy6":
		if strict {
			return need("intf", "srcaddr", "dstaddr", "service", "schedule")
		}
	}
	return nil
}

// checkEntryRefs checks every reference of an entry, and that a group
// does not hold itself; line is the attribute's.
func (v *VDOM) checkEntryRefs(table string, e *Entry, strict bool, ownedName func(string) bool) (line int, err error) {
	for _, a := range e.Attrs {
		if err := v.checkRefs(table, e, a.Name, strict, ownedName); err != nil {
			return a.Line, fmt.Errorf("%s: %v", a.Name, err)
		}
	}
	if m := e.attr("member"); m != nil && kindOf(table) != refNone && v.cycle(table, e.Key) {
		return m.Line, fmt.Errorf("member: the group holds itself through another group")
	}
	return 0, nil
}

// checkRefsAll checks the references of every modelled entry once a
// configuration is read whole: the outputs of several show commands may
// come in any order.
func (v *VDOM) checkRefsAll(strict func(table string, e *Entry) bool, ownedName func(string) bool) error {
	for _, t := range v.Tables {
		if !modelled(t.Path) {
			continue
		}
		for _, e := range t.Entries {
			if line, err := v.checkEntryRefs(t.Path, e, strict(t.Path, e), ownedName); err != nil {
				return errorf(line, "set %v", err)
			}
		}
	}
	return nil
}

func (b *Block) entries() []*Entry {
	if b == nil {
		return nil
	}
	return b.Entries
}

// cycle reports whether group key of table holds itself through others.
func (v *VDOM) cycle(table, key string) bool {
	seen := map[string]bool{}
	var walk func(n string) bool
	walk = func(n string) bool {
		e := v.Table(table).Entry(n)
		if e == nil || seen[n] {
			return false
		}
		seen[n] = true
		for _, m := range e.Get("member") {
			if m == key || walk(m) {
				return true
			}
		}
		return false
	}
	return walk(key)
}

// UsersOf lists the entries of the VDOM that name key, an entry of table,
// where FortiOS would refuse to delete it: "firewall policy 7".
func (v *VDOM) UsersOf(table, key string) []string {
	k := kindOf(table)
	if k == refNone {
		return nil
	}
	var out []string
	for _, t := range v.Tables {
		for _, e := range t.Entries {
			if t.Path == table && e.Key == key {
				continue
			}
			for _, a := range e.Attrs {
				rk, _ := refOf(t.Path, a.Name)
				if rk == k && slices.Contains(a.Values, key) {
					out = append(out, t.Path+" "+e.Key)
					break
				}
			}
		}
	}
	return out
}

// Default is the value FortiOS gives an attribute portwall sets when the
// configuration does not say (what show leaves out and show
// full-configuration prints), for the attributes whose default the
// reference implies (inferred: the CLI references list these defaults).
func Default(table, attr string) (string, bool) {
	switch table + "|" + attr {
	case "firewall address|type":
		return "ipmask", true
	case "firewall address6|type":
		return "ipprefix", true
	case "firewall service custom|protocol":
		return "TCP/UDP/SCTP", true
	case "firewall policy|status", "firewall policy6|status":
		return "enable", true
	case "firewall policy|logtraffic", "firewall policy6|logtraffic":
		return "utm", true
	case "firewall policy|action", "firewall policy6|action", "firewall local-in-policy|action", "firewall local-in-policy6|action":
		return "deny", true
	}
	return "", false
}

// defaultAttrs lists the attributes with a default, per table, in the
// order show full-configuration would add them.
func defaultAttrs(table string) []string {
	var out []string
	for _, a := range []string{"type", "protocol", "action", "logtraffic", "status"} {
		if _, ok := Default(table, a); ok {
			out = append(out, a)
		}
	}
	return out
}

// typeOrDefault is an address's type or a service's protocol, the
// default where it is not set.
func typeOrDefault(table string, e *Entry) string {
	attr := "type"
	if table == "firewall service custom" {
		attr = "protocol"
	}
	if v := e.Get(attr); v != nil {
		return v[0]
	}
	d, _ := Default(table, attr)
	return d
}

// lenientSubnet reads an IPv4 subnet as FortiOS accepts it: address and
// mask, or address/length; the mask must be contiguous.
func lenientSubnet(vals []string) (netip.Prefix, error) {
	switch len(vals) {
	case 1:
		p, err := netip.ParsePrefix(vals[0])
		if err != nil || !v4.has(p.Addr()) {
			return netip.Prefix{}, fmt.Errorf("%q is not an IPv4 subnet", vals[0])
		}
		return p, nil
	case 2:
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
		return netip.PrefixFrom(ip, ones), nil
	}
	return netip.Prefix{}, fmt.Errorf("want an address and a mask")
}

// lenientPortRange reads one port range as FortiOS accepts it:
// dst[-dsthi][:src[-srchi]], ports 0-65535 (0 only as a source low).
func lenientPortRange(s string) error {
	dst, src, hasSrc := strings.Cut(s, ":")
	check := func(r string) error {
		lo, hi, isRange := strings.Cut(r, "-")
		if !isRange {
			hi = lo
		}
		a, err1 := strconv.Atoi(lo)
		b, err2 := strconv.Atoi(hi)
		if !isDigits(lo) || !isDigits(hi) || err1 != nil || err2 != nil || a < 0 || b > 65535 || a > b {
			return fmt.Errorf("%q is not a port range", s)
		}
		return nil
	}
	if err := check(dst); err != nil {
		return err
	}
	if hasSrc {
		return check(src)
	}
	return nil
}
