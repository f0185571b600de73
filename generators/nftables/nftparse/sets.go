package nftparse

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"go4.org/netipx"

	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

// FlowSet is a set of the sets layout: flows as elements, each traced by
// its comment.
type FlowSet struct {
	Name     string
	Dir      ir.Direction
	Protocol proto.Protocol
	// Family of the remote addresses; 0 for a set without addresses
	// (every address).
	Family   ir.Family
	Elements []FlowElement
}

// FlowElement is one element: a remote address range (unless the set has
// none), a range of ports or ICMP types, and the comment naming its rule.
type FlowElement struct {
	Addr    netipx.IPRange
	Lo, Hi  uint16
	Comment string
}

var flowSetName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(in|out)_(tcp|udp|icmp|icmpv6)_(v4|v6|any)$`) })

// flowSetKind is what a flow set's name says: its type and the match of
// the rule that looks it up.
func flowSetKind(name string) (fs *FlowSet, typ, match string, err error) {
	m := flowSetName().FindStringSubmatch(name)
	if m == nil {
		return nil, "", "", fmt.Errorf("bad set name %q", name)
	}
	fs = &FlowSet{Name: name, Dir: ir.In}
	key := "saddr"
	if m[1] == "out" {
		fs.Dir, key = ir.Out, "daddr"
	}
	fs.Protocol, _ = proto.Parse(m[2])
	value := map[string]string{"tcp": "inet_service", "udp": "inet_service", "icmp": "icmp_type", "icmpv6": "icmpv6_type"}[m[2]]
	field := map[string]string{"tcp": "tcp dport", "udp": "udp dport", "icmp": "icmp type", "icmpv6": "icmpv6 type"}[m[2]]
	switch m[3] {
	case "any":
		typ, match = value, field
	case "v4":
		fs.Family = ir.IPv4
		typ, match = "ipv4_addr . "+value, "ip "+key+" . "+field
	case "v6":
		fs.Family = ir.IPv6
		typ, match = "ipv6_addr . "+value, "ip6 "+key+" . "+field
	}
	// ICMP travels in one family; its sets hold that family's addresses.
	if f := fs.Protocol.Family(); f != 0 && fs.Family != 0 && int(fs.Family) != f {
		return nil, "", "", fmt.Errorf("set %s: %s peers with %s addresses", name, fs.Protocol, fs.Family)
	}
	return fs, typ, match, nil
}

func parseFlowSet(name string, next func() (string, int)) (*FlowSet, error) {
	fs, typ, _, err := flowSetKind(name)
	if err != nil {
		return nil, err
	}
	for _, want := range []string{"type " + typ, "flags interval"} {
		if l, _ := next(); l != want {
			return nil, fmt.Errorf("set %s: want %q, got %q", name, want, l)
		}
	}
	if l, _ := next(); !strings.HasPrefix(l, "comment ") {
		return nil, fmt.Errorf("set %s: want a comment, got %q", name, l)
	} else if _, ok := quoted(strings.TrimPrefix(l, "comment ")); !ok {
		return nil, fmt.Errorf("set %s: bad comment %q", name, l)
	}
	if l, _ := next(); l != "elements = {" {
		return nil, fmt.Errorf("set %s: want its elements, got %q", name, l)
	}
	for {
		l, _ := next()
		if l == "}" {
			break
		}
		if l == "" {
			return nil, fmt.Errorf("set %s: elements not closed", name)
		}
		e, err := fs.element(strings.TrimSuffix(l, ","))
		if err != nil {
			return nil, fmt.Errorf("set %s: %w", name, err)
		}
		fs.Elements = append(fs.Elements, e)
	}
	if len(fs.Elements) == 0 {
		return nil, fmt.Errorf("set %s: no elements", name)
	}
	if err := fs.disjoint(); err != nil {
		return nil, err
	}
	if l, _ := next(); l != "}" {
		return nil, fmt.Errorf("set %s: unexpected %q", name, l)
	}
	return fs, nil
}

// element reads "ADDR . PORTS comment \"pw:r...\"" (or without ADDR).
func (fs *FlowSet) element(l string) (FlowElement, error) {
	var e FlowElement
	value, c, ok := strings.Cut(l, ` comment "`)
	comment, okc := quoted(`"` + c)
	if !ok || !okc || !strings.HasPrefix(comment, "pw:r") {
		return e, fmt.Errorf("element %q without a comment naming its rule", l)
	}
	e.Comment = comment
	fields := strings.Split(value, " . ")
	if fs.Family != 0 {
		if len(fields) != 2 {
			return e, fmt.Errorf("element %q: want ADDRESS . VALUE", l)
		}
		r, err := element(fields[0], fs.Family)
		if err != nil {
			return e, err
		}
		e.Addr = r
		fields = fields[1:]
	}
	if len(fields) != 1 {
		return e, fmt.Errorf("element %q: want one value", l)
	}
	v := fields[0]
	if fs.Protocol.HasPorts() {
		pr, err := ports.Parse(v)
		if err != nil || strings.TrimSpace(v) != v {
			return e, fmt.Errorf("element %q: bad ports", l)
		}
		e.Lo, e.Hi = pr.First, pr.Last
		return e, nil
	}
	if t, err := icmpType(fs.Protocol, v); err == nil {
		e.Lo, e.Hi = uint16(t), uint16(t)
		return e, nil
	}
	lo, hi, isRange := strings.Cut(v, "-")
	a, err1 := strconv.ParseUint(lo, 10, 8)
	b, err2 := strconv.ParseUint(hi, 10, 8)
	if !isRange || err1 != nil || err2 != nil || b < a {
		return e, fmt.Errorf("element %q: bad %s type", l, fs.Protocol)
	}
	e.Lo, e.Hi = uint16(a), uint16(b)
	return e, nil
}

// disjoint checks that no two elements overlap, as the kernel requires of
// a concatenated interval set (and so nothing is counted twice).
func (fs *FlowSet) disjoint() error {
	for i, a := range fs.Elements {
		for _, b := range fs.Elements[i+1:] {
			addrs := fs.Family == 0 || a.Addr.From().Compare(b.Addr.To()) <= 0 && b.Addr.From().Compare(a.Addr.To()) <= 0
			if addrs && a.Lo <= b.Hi && b.Lo <= a.Hi {
				return fmt.Errorf("set %s: elements %q and %q overlap", fs.Name, a.Comment, b.Comment)
			}
		}
	}
	return nil
}

// flowSetGrants reads a rule that looks up a flow set: it must be exactly
// the set's match, in the set's chain; each element is a grant.
func (s *Script) flowSetGrants(r Rule) ([]ir.Grant, error) {
	name, ok := strings.CutPrefix(r.Comment, "pw:set ")
	name, _, _ = strings.Cut(name, ":")
	fs := s.FlowSets[name]
	if !ok || fs == nil {
		return nil, fmt.Errorf("rule for an undefined set %q", name)
	}
	_, _, match, _ := flowSetKind(name)
	chain := map[ir.Direction]string{ir.In: "input", ir.Out: "output"}[fs.Dir]
	if r.Text != match+" @"+name+" accept" || r.Chain != chain {
		return nil, fmt.Errorf("set %s looked up by %q in chain %s", name, r.Text, r.Chain)
	}
	var out []ir.Grant
	for _, e := range fs.Elements {
		fams := []ir.Family{fs.Family}
		remote := ir.Addrs{Any: true}
		switch {
		case fs.Family != 0:
			var b netipx.IPSetBuilder
			b.AddRange(e.Addr)
			remote.Any = false
			remote.IPs, _ = b.IPSet()
		case fs.Protocol.Family() != 0:
			fams = []ir.Family{ir.Family(fs.Protocol.Family())}
		default:
			fams = ir.Families
		}
		for _, f := range fams {
			g := ir.Grant{Dir: fs.Dir, Family: f, Protocol: fs.Protocol}
			if fs.Protocol.HasPorts() {
				g.Ports = ports.NewSet(ports.Range{First: e.Lo, Last: e.Hi})
			} else {
				for t := int(e.Lo); t <= int(e.Hi); t++ {
					g.ICMPTypes = append(g.ICMPTypes, uint8(t))
				}
			}
			out = append(out, ir.HostGrant(fs.Dir, f, remote, g))
		}
	}
	return out, nil
}
