// Package nftparse reads back what the nftables backend writes: a strict
// parser for the subset of nft syntax portwall emits, and the traffic each
// rule lets through, so that tests can prove the output allows nothing the
// IR does not.
//
// It is not the backend run backwards: it recognises the baseline rules a
// host needs from its own list, and anything else it does not know is an
// error.
package nftparse

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"sync"

	"go4.org/netipx"

	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

// Set is a named set of the table.
type Set struct {
	Name    string
	Family  ir.Family
	Comment string
	IPs     *netipx.IPSet
	// Names are the host names a resolver fills a dynamic (*_dns_*) set
	// from, read from its comment.
	Names []string
}

// Rule is one rule of a chain.
type Rule struct {
	Line    int
	Chain   string // input or output
	Text    string // the statements before the comment
	Comment string
}

// ItemSet is a named set of ports or ICMP types that rules share.
type ItemSet struct {
	Name  string
	Type  string // inet_service, icmp_type or icmpv6_type
	Ports ports.Set
	Types []uint8
}

// Script is a parsed script.
type Script struct {
	Sets     map[string]*Set
	Lists    map[string]*ItemSet // ports_*, icmp_types_*, icmpv6_types_*
	FlowSets map[string]*FlowSet // the sets layout's sets
	Chains   map[string][]Rule
}

// Parse reads a script. It accepts the preamble that makes loading
// idempotent, one table inet portwall with sets and the input (and
// optionally output) chain, and nothing else.
func Parse(data []byte) (*Script, error) {
	s := &Script{Sets: map[string]*Set{}, Lists: map[string]*ItemSet{}, FlowSets: map[string]*FlowSet{}, Chains: map[string][]Rule{}}
	err := Walk(data, Table{
		Set: func(name string, n int, next func() (string, int)) error {
			if listName().MatchString(name) {
				l, err := parseList(name, next)
				if err != nil {
					return fmt.Errorf("line %d: set: %w", n, err)
				}
				if s.Lists[l.Name] != nil || len(s.Chains) > 0 {
					return fmt.Errorf("line %d: set %s declared twice or after a chain", n, l.Name)
				}
				s.Lists[l.Name] = l
				return nil
			}
			if flowSetName().MatchString(name) {
				fs, err := parseFlowSet(name, next)
				if err != nil {
					return fmt.Errorf("line %d: set: %w", n, err)
				}
				if s.FlowSets[fs.Name] != nil || len(s.Chains) > 0 {
					return fmt.Errorf("line %d: set %s declared twice or after a chain", n, fs.Name)
				}
				s.FlowSets[fs.Name] = fs
				return nil
			}
			set, err := parseSet(name, next)
			if err != nil {
				return fmt.Errorf("line %d: set: %w", n, err)
			}
			if s.Sets[set.Name] != nil || len(s.Chains) > 0 {
				return fmt.Errorf("line %d: set %s declared twice or after a chain", n, set.Name)
			}
			s.Sets[set.Name] = set
			return nil
		},
		Chain: func(name string, n int) error {
			if _, dup := s.Chains[name]; dup {
				return fmt.Errorf("line %d: chain %s twice", n, name)
			}
			s.Chains[name] = []Rule{}
			return nil
		},
		Rule: func(chain, text string, n int) error {
			rule, err := splitComment(text)
			if err != nil {
				return fmt.Errorf("line %d: %w", n, err)
			}
			rule.Line, rule.Chain = n, chain
			s.Chains[chain] = append(s.Chains[chain], rule)
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	if _, ok := s.Chains["input"]; !ok {
		return nil, fmt.Errorf("no input chain")
	}
	return s, nil
}

func parseSet(name string, next func() (string, int)) (*Set, error) {
	if !setName().MatchString(name) {
		return nil, fmt.Errorf("bad set name %q", name)
	}
	set := &Set{Name: name}
	l, _ := next()
	switch l {
	case "type ipv4_addr":
		set.Family = ir.IPv4
	case "type ipv6_addr":
		set.Family = ir.IPv6
	default:
		return nil, fmt.Errorf("set %s: type %q", name, l)
	}
	if l, _ := next(); l != "flags interval" {
		return nil, fmt.Errorf("set %s: want flags interval, got %q", name, l)
	}
	l, _ = next()
	c, ok := quoted(strings.TrimPrefix(l, "comment "))
	if !strings.HasPrefix(l, "comment ") || !ok {
		return nil, fmt.Errorf("set %s: want a comment, got %q", name, l)
	}
	set.Comment = c
	dynamic := strings.Contains(name, "_dns_")
	if dynamic {
		names, ok := strings.CutPrefix(c, "filled at run time from ")
		if !ok {
			return nil, fmt.Errorf("set %s: dynamic set without its host names", name)
		}
		set.Names = strings.Fields(names)
	}
	l, _ = next()
	var b netipx.IPSetBuilder
	if strings.HasPrefix(l, "elements = {") {
		if dynamic {
			return nil, fmt.Errorf("set %s: a dynamic set starts empty", name)
		}
		// Joined once: appending line by line is quadratic in a large set.
		parts := []string{strings.TrimPrefix(l, "elements = {")}
		for !strings.HasSuffix(parts[len(parts)-1], "}") {
			more, _ := next()
			if more == "" {
				return nil, fmt.Errorf("set %s: elements not closed", name)
			}
			parts = append(parts, more)
		}
		for _, e := range strings.Split(strings.TrimSuffix(strings.Join(parts, " "), "}"), ",") {
			r, err := element(strings.TrimSpace(e), set.Family)
			if err != nil {
				return nil, fmt.Errorf("set %s: %w", name, err)
			}
			b.AddRange(r)
		}
		l, _ = next()
	} else if !dynamic {
		return nil, fmt.Errorf("set %s: a static set without elements", name)
	}
	if l != "}" {
		return nil, fmt.Errorf("set %s: unexpected %q", name, l)
	}
	set.IPs, _ = b.IPSet()
	return set, nil
}

func element(e string, f ir.Family) (netipx.IPRange, error) {
	var r netipx.IPRange
	switch {
	case strings.Contains(e, "/"):
		p, err := netip.ParsePrefix(e)
		if err != nil || p.Masked() != p {
			return r, fmt.Errorf("bad element %q", e)
		}
		r = netipx.RangeOfPrefix(p)
	case strings.Contains(e, "-"):
		var err error
		if r, err = netipx.ParseIPRange(e); err != nil {
			return r, fmt.Errorf("bad element %q", e)
		}
	default:
		a, err := netip.ParseAddr(e)
		if err != nil {
			return r, fmt.Errorf("bad element %q", e)
		}
		r = netipx.IPRangeFrom(a, a)
	}
	if !f.Has(r.From()) {
		return r, fmt.Errorf("element %q of the wrong family", e)
	}
	return r, nil
}

// quoted reads a string in double quotes with no quote inside.
func quoted(s string) (string, bool) {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' || strings.Contains(s[1:len(s)-1], `"`) {
		return "", false
	}
	return s[1 : len(s)-1], len(s)-2 <= 128
}

func splitComment(l string) (Rule, error) {
	text, c, ok := strings.Cut(l, ` comment "`)
	if !ok {
		return Rule{}, fmt.Errorf("rule without a comment: %q", l)
	}
	comment, ok := quoted(`"` + c)
	if !ok {
		return Rule{}, fmt.Errorf("bad comment in %q", l)
	}
	return Rule{Text: text, Comment: comment}, nil
}

var listName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(ports|icmp_types|icmpv6_types)_[0-9a-z_-]+$`) })

// parseList reads a set of ports or ICMP types: its type, "flags
// interval" for ports with a range, and its elements on lines of their
// own.
func parseList(name string, next func() (string, int)) (*ItemSet, error) {
	l := &ItemSet{Name: name}
	line, _ := next()
	want := map[string]string{"ports": "inet_service", "icmp": "icmp_type", "icmpv6": "icmpv6_type"}[strings.SplitN(name, "_", 2)[0]]
	if line != "type "+want {
		return nil, fmt.Errorf("set %s: want type %s, got %q", name, want, line)
	}
	l.Type = want
	line, _ = next()
	interval := line == "flags interval"
	if interval {
		if want != "inet_service" {
			return nil, fmt.Errorf("set %s: ICMP types are not intervals", name)
		}
		line, _ = next()
	}
	if !strings.HasPrefix(line, "elements = {") {
		return nil, fmt.Errorf("set %s: want its elements, got %q", name, line)
	}
	parts := []string{strings.TrimPrefix(line, "elements = {")}
	for !strings.HasSuffix(parts[len(parts)-1], "}") {
		more, _ := next()
		if more == "" {
			return nil, fmt.Errorf("set %s: elements not closed", name)
		}
		parts = append(parts, more)
	}
	var rs []ports.Range
	for _, e := range strings.Split(strings.TrimSuffix(strings.Join(parts, " "), "}"), ",") {
		e = strings.TrimSpace(e)
		switch want {
		case "inet_service":
			pr, err := ports.Parse(e)
			if err != nil || strings.Contains(e, " ") {
				return nil, fmt.Errorf("set %s: bad port %q", name, e)
			}
			if pr.First != pr.Last && !interval {
				return nil, fmt.Errorf("set %s: range %q in a set without flags interval", name, e)
			}
			rs = append(rs, pr)
		default:
			p := proto.ICMP
			if want == "icmpv6_type" {
				p = proto.ICMPv6
			}
			t, err := icmpType(p, e)
			if err != nil {
				return nil, fmt.Errorf("set %s: %w", name, err)
			}
			l.Types = append(l.Types, t)
		}
	}
	l.Ports = ports.NewSet(rs...)
	if len(l.Ports) < 2 && len(l.Types) < 2 {
		return nil, fmt.Errorf("set %s: a list of fewer than two items", name)
	}
	if line, _ := next(); line != "}" {
		return nil, fmt.Errorf("set %s: unexpected %q", name, line)
	}
	return l, nil
}
