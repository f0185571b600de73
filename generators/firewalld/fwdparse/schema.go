package fwdparse

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/portwall/portwall/generators/firewalld"
	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

// Zone is zone portwall.
type Zone struct {
	// Target is DROP or %%REJECT%%: never ACCEPT, and never the default
	// target, which lets every ICMP packet in.
	Target      string
	Description string
	// Services are the zone's own service elements: open to every
	// address of both families.
	Services []string
	Rules    []Rule
}

// Policy is policy portwall-out, from HOST to ANY.
type Policy struct {
	Target      string // DROP
	Priority    int
	Description string
	Services    []string
	Rules       []Rule
}

// Rule is one rich rule.
type Rule struct {
	Family   string // "", "ipv4" or "ipv6"
	Priority int
	// Source (zone) or Destination (policy); invalid when absent.
	Source, Destination netip.Prefix
	// The one element: a service, an ICMP type name, or a protocol.
	Service, ICMPType, Protocol string
	// Log is the log prefix of a log rule.
	Log string
	// Action is "accept", "reject" (RejectType tcp-reset) or "" (a log
	// rule).
	Action, RejectType string
}

// Service is a service of portwall's.
type Service struct {
	Name, Description string
	Ports             map[proto.Protocol]ports.Set
}

// icmpTypes are firewalld's ICMP type names that match a whole type (its
// nftables backend's table, firewall/core/nftables.py, without the names
// that also match a code), with the type numbers. Built on first use.
var icmpTypes = sync.OnceValue(func() map[string]map[string]uint8 {
	return map[string]map[string]uint8{
		"ipv4": {
			"echo-reply": 0, "destination-unreachable": 3, "source-quench": 4, "redirect": 5, "echo-request": 8,
			"router-advertisement": 9, "router-solicitation": 10, "time-exceeded": 11, "parameter-problem": 12,
			"timestamp-request": 13, "timestamp-reply": 14,
		},
		"ipv6": {
			"destination-unreachable": 1, "packet-too-big": 2, "time-exceeded": 3, "parameter-problem": 4,
			"echo-request": 128, "echo-reply": 129, "router-solicitation": 133, "router-advertisement": 134,
			"neighbour-solicitation": 135, "neighbour-advertisement": 136, "redirect": 137,
		},
	}
})

// kids walks an element's children in the order portwall writes them:
// take returns the next child if it has that name.
type kids struct {
	n *node
	i int
}

func (k *kids) take(name string) *node {
	if k.i < len(k.n.children) && k.n.children[k.i].name == name {
		k.i++
		return k.n.children[k.i-1]
	}
	return nil
}

func (k *kids) next() *node {
	if k.i < len(k.n.children) {
		return k.n.children[k.i]
	}
	return nil
}

// textElem reads <short> or <description>: text only, required.
func textElem(k *kids, name string) (string, error) {
	n := k.take(name)
	if n == nil {
		return "", fmt.Errorf("<%s> missing", name)
	}
	if err := n.onlyAttrs(); err != nil {
		return "", err
	}
	if len(n.children) > 0 || strings.TrimSpace(n.text) == "" {
		return "", fmt.Errorf("<%s> must hold text only", name)
	}
	return n.text, nil
}

// named reads a leaf element with one attribute.
func named(n *node, attr string) (string, error) {
	if err := n.onlyAttrs(attr); err != nil {
		return "", err
	}
	if err := n.leaf(); err != nil {
		return "", err
	}
	v, ok := n.attr(attr)
	if !ok || v == "" {
		return "", fmt.Errorf("<%s> without %s", n.name, attr)
	}
	return v, nil
}

func zone(root *node) (*Zone, error) {
	if root.name != "zone" {
		return nil, fmt.Errorf("root element <%s>, want <zone>", root.name)
	}
	if err := root.onlyAttrs("target"); err != nil {
		return nil, err
	}
	z := &Zone{}
	z.Target, _ = root.attr("target")
	if z.Target != "DROP" && z.Target != "%%REJECT%%" {
		return nil, fmt.Errorf("zone target %q: want DROP or %%%%REJECT%%%%", z.Target)
	}
	k := &kids{n: root}
	short, err := textElem(k, "short")
	if err != nil {
		return nil, err
	}
	if short != firewalld.Zone {
		return nil, fmt.Errorf("zone short name %q", short)
	}
	if z.Description, err = textElem(k, "description"); err != nil {
		return nil, err
	}
	for n := k.next(); n != nil; n = k.next() {
		k.i++
		switch n.name {
		case "service":
			s, err := named(n, "name")
			if err != nil {
				return nil, err
			}
			z.Services = append(z.Services, s)
		case "rule":
			r, err := rule(n, "source")
			if err != nil {
				return nil, err
			}
			z.Rules = append(z.Rules, r)
		default:
			return nil, fmt.Errorf("zone element <%s>", n.name)
		}
	}
	return z, nil
}

func policy(root *node) (*Policy, error) {
	if root.name != "policy" {
		return nil, fmt.Errorf("root element <%s>, want <policy>", root.name)
	}
	if err := root.onlyAttrs("target", "priority"); err != nil {
		return nil, err
	}
	p := &Policy{}
	p.Target, _ = root.attr("target")
	if p.Target != "DROP" {
		return nil, fmt.Errorf("policy target %q: want DROP", p.Target)
	}
	prio, _ := root.attr("priority")
	if prio != "-1" {
		return nil, fmt.Errorf("policy priority %q: want -1", prio)
	}
	p.Priority = -1
	k := &kids{n: root}
	short, err := textElem(k, "short")
	if err != nil {
		return nil, err
	}
	if short != firewalld.OutPolicy {
		return nil, fmt.Errorf("policy short name %q", short)
	}
	if p.Description, err = textElem(k, "description"); err != nil {
		return nil, err
	}
	for _, want := range [][2]string{{"ingress-zone", "HOST"}, {"egress-zone", "ANY"}} {
		n := k.take(want[0])
		if n == nil {
			return nil, fmt.Errorf("<%s> missing", want[0])
		}
		v, err := named(n, "name")
		if err != nil {
			return nil, err
		}
		if v != want[1] {
			return nil, fmt.Errorf("<%s name=%q>: want %s", want[0], v, want[1])
		}
	}
	for n := k.next(); n != nil; n = k.next() {
		k.i++
		switch n.name {
		case "service":
			s, err := named(n, "name")
			if err != nil {
				return nil, err
			}
			p.Services = append(p.Services, s)
		case "rule":
			r, err := rule(n, "destination")
			if err != nil {
				return nil, err
			}
			p.Rules = append(p.Rules, r)
		default:
			return nil, fmt.Errorf("policy element <%s>", n.name)
		}
	}
	return p, nil
}

// rule reads a rich rule; side is the address element it may have
// (source in the zone, destination in the policy).
func rule(n *node, side string) (Rule, error) {
	var r Rule
	if err := n.onlyAttrs("family", "priority"); err != nil {
		return r, err
	}
	r.Family, _ = n.attr("family")
	if fam, ok := n.attr("family"); ok && fam != "ipv4" && fam != "ipv6" {
		return r, fmt.Errorf("rule family %q", fam)
	}
	if p, ok := n.attr("priority"); ok {
		v, err := strconv.Atoi(p)
		if err != nil || strconv.Itoa(v) != p || v == 0 {
			return r, fmt.Errorf("rule priority %q", p)
		}
		r.Priority = v
	}
	k := &kids{n: n}
	var err error
	if a := k.take(side); a != nil {
		addr, err := named(a, "address")
		if err != nil {
			return r, err
		}
		p, err := prefix(addr, r.Family)
		if err != nil {
			return r, err
		}
		if side == "source" {
			r.Source = p
		} else {
			r.Destination = p
		}
	}
	if c := k.take("service"); c != nil {
		if r.Service, err = named(c, "name"); err != nil {
			return r, err
		}
	} else if c := k.take("icmp-type"); c != nil {
		if r.ICMPType, err = named(c, "name"); err != nil {
			return r, err
		}
		if _, ok := icmpTypes()[r.Family][r.ICMPType]; !ok {
			return r, fmt.Errorf("ICMP type %q in a rule of family %q", r.ICMPType, r.Family)
		}
	} else if c := k.take("protocol"); c != nil {
		if r.Protocol, err = named(c, "value"); err != nil {
			return r, err
		}
		switch {
		case r.Protocol == "icmp" && r.Family == "ipv4", r.Protocol == "ipv6-icmp" && r.Family == "ipv6", r.Protocol == "tcp" && r.Family != "":
		default:
			return r, fmt.Errorf("protocol %q in a rule of family %q", r.Protocol, r.Family)
		}
	}
	if l := k.take("log"); l != nil {
		if r.Log, err = logElem(l); err != nil {
			return r, err
		}
	}
	if a := k.take("accept"); a != nil {
		if err := a.onlyAttrs(); err != nil {
			return r, err
		}
		if err := a.leaf(); err != nil {
			return r, err
		}
		r.Action = "accept"
	} else if a := k.take("reject"); a != nil {
		if r.RejectType, err = named(a, "type"); err != nil {
			return r, err
		}
		r.Action = "reject"
	}
	if c := k.next(); c != nil {
		return r, fmt.Errorf("rule element <%s> out of place", c.name)
	}
	element := r.Service != "" || r.ICMPType != "" || r.Protocol != ""
	hasAddr := r.Source.IsValid() || r.Destination.IsValid()
	switch r.Action {
	case "accept":
		if !element || r.Log != "" || r.Priority != 0 || r.Protocol == "tcp" {
			return r, fmt.Errorf("an accept rule has one service, ICMP type or ICMP protocol, no log and no priority")
		}
	case "reject":
		if r.Protocol != "tcp" || hasAddr || r.RejectType != "tcp-reset" || r.Priority != firewalld.RejectPriority || r.Log != "" || side != "source" {
			return r, fmt.Errorf("a reject rule is the zone's TCP reset: family, protocol tcp, reject type tcp-reset, priority %d", firewalld.RejectPriority)
		}
	default:
		if r.Log == "" || element || hasAddr || r.Family != "" || r.Priority != firewalld.LogPriority {
			return r, fmt.Errorf("a rule without an action is the log rule: log only, priority %d", firewalld.LogPriority)
		}
		want := "portwall input drop: "
		if side == "destination" {
			want = "portwall output drop: "
		}
		if r.Log != want {
			return r, fmt.Errorf("log prefix %q, want %q", r.Log, want)
		}
	}
	return r, nil
}

// logElem reads <log prefix=... level="info"><limit value="5/s"/></log>.
func logElem(n *node) (string, error) {
	if err := n.onlyAttrs("prefix", "level"); err != nil {
		return "", err
	}
	if lv, _ := n.attr("level"); lv != "info" {
		return "", fmt.Errorf("log level %q", lv)
	}
	if len(n.children) != 1 || n.text != "" || n.children[0].name != "limit" {
		return "", fmt.Errorf("<log> holds one <limit>")
	}
	v, err := named(n.children[0], "value")
	if err != nil {
		return "", err
	}
	if v != "5/s" {
		return "", fmt.Errorf("log limit %q", v)
	}
	p, _ := n.attr("prefix")
	return p, nil
}

// prefix reads a rich rule's address: an address or a prefix of the
// rule's family, without host bits.
func prefix(s, family string) (netip.Prefix, error) {
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return p, err
		}
		if p != p.Masked() {
			return p, fmt.Errorf("address %s has host bits set", s)
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return p, err
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if p.Addr().Zone() != "" {
		return p, fmt.Errorf("address %s has a zone", s)
	}
	if p.Addr().Is4() && family != "ipv4" || p.Addr().Is6() && family != "ipv6" || p.Addr().Is4In6() {
		return p, fmt.Errorf("address %s in a rule of family %q", s, family)
	}
	return p, nil
}

// portValue is a service port: a port, or a range whose first port is
// below its last (firewalld refuses "25-25").
var portValue = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([1-9][0-9]{0,4})(?:-([1-9][0-9]{0,4}))?$`) })

func service(root *node, name string) (*Service, error) {
	if root.name != "service" {
		return nil, fmt.Errorf("root element <%s>, want <service>", root.name)
	}
	if err := root.onlyAttrs(); err != nil {
		return nil, err
	}
	s := &Service{Name: name, Ports: map[proto.Protocol]ports.Set{}}
	k := &kids{n: root}
	short, err := textElem(k, "short")
	if err != nil {
		return nil, err
	}
	if short != name {
		return nil, fmt.Errorf("service short name %q, want %q", short, name)
	}
	if s.Description, err = textElem(k, "description"); err != nil {
		return nil, err
	}
	count := 0
	for n := k.next(); n != nil; n = k.next() {
		k.i++
		if n.name != "port" {
			return nil, fmt.Errorf("service element <%s>", n.name)
		}
		if err := n.onlyAttrs("port", "protocol"); err != nil {
			return nil, err
		}
		if err := n.leaf(); err != nil {
			return nil, err
		}
		pv, _ := n.attr("port")
		m := portValue().FindStringSubmatch(pv)
		if m == nil {
			return nil, fmt.Errorf("port %q", pv)
		}
		first, _ := strconv.Atoi(m[1])
		last := first
		if m[2] != "" {
			last, _ = strconv.Atoi(m[2])
			if last <= first {
				return nil, fmt.Errorf("port range %q", pv)
			}
		}
		if last > 65535 {
			return nil, fmt.Errorf("port %q", pv)
		}
		pn, _ := n.attr("protocol")
		if pn != "tcp" && pn != "udp" {
			return nil, fmt.Errorf("port protocol %q", pn)
		}
		p, _ := proto.Parse(pn)
		s.Ports[p] = s.Ports[p].Union(ports.NewSet(ports.Range{First: uint16(first), Last: uint16(last)}))
		count++
	}
	if count == 0 {
		return nil, fmt.Errorf("service without ports")
	}
	return s, nil
}

// protocols lists a service's protocols in order.
func (s *Service) protocols() []proto.Protocol {
	var out []proto.Protocol
	for p := range s.Ports {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}
