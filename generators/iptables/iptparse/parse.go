// Package iptparse reads back what the iptables backend writes: a strict
// parser for the subset of the iptables-restore format portwall emits, and
// the traffic each rule lets through, so that tests can prove the output
// allows nothing the IR does not.
//
// It is deliberately not the backend run backwards: it knows the baseline
// rules a host needs from its own list, and anything it does not know is
// an error.
package iptparse

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go4.org/netipx"

	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

// Chains portwall owns.
const (
	InputChain  = "PORTWALL-INPUT"
	OutputChain = "PORTWALL-OUTPUT"
)

// Script is a parsed restore file.
type Script struct {
	Family ir.Family
	// NoFlush is true when the file declares no built-in chain (the
	// noflush mode), false when it replaces the filter table.
	NoFlush  bool
	Policies map[string]string // built-in chain -> policy
	Rules    []Rule
}

// Rule is one -A line.
type Rule struct {
	Line    int
	Chain   string
	Target  string
	Comment string

	Src, Dst   *netipx.IPRange // nil: any
	In, Out    string          // -i / -o interface
	Protocol   string          // tcp, udp, icmp, ipv6-icmp, or ""
	Ports      ports.Set       // --dport / --dports
	ICMPType   int             // -1: none
	CTState    string
	HopLimit   int // --hl-eq, 0 if none
	Limit      string
	LogPrefix  string
	LogLevel   string
	RejectWith string
}

// Parse reads data as a restore file for family f.
func Parse(data []byte, f ir.Family) (*Script, error) {
	s := &Script{Family: f, Policies: map[string]string{}}
	chains := map[string]bool{}
	state := "start" // start, table, done
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		errf := func(format string, args ...any) error {
			return fmt.Errorf("line %d: %s: %q", n, fmt.Sprintf(format, args...), line)
		}
		switch {
		case line == "" && state == "done":
			continue
		case strings.HasPrefix(line, "#") && state == "start":
			continue
		case line == "*filter" && state == "start":
			state = "table"
		case line == "COMMIT" && state == "table":
			state = "done"
		case strings.HasPrefix(line, ":") && state == "table":
			if len(s.Rules) > 0 {
				return nil, errf("chain declared after rules")
			}
			name, policy, err := chainDecl(line)
			if err != nil {
				return nil, errf("%v", err)
			}
			if chains[name] {
				return nil, errf("chain declared twice")
			}
			chains[name] = true
			if policy != "-" {
				s.Policies[name] = policy
			}
		case strings.HasPrefix(line, "-A ") && state == "table":
			r, err := parseRule(line[3:], f)
			if err != nil {
				return nil, errf("%v", err)
			}
			if !chains[r.Chain] {
				return nil, errf("rule in undeclared chain %s", r.Chain)
			}
			if (r.Target == InputChain || r.Target == OutputChain) && !chains[r.Target] {
				return nil, errf("jump to undeclared chain %s", r.Target)
			}
			r.Line = n
			s.Rules = append(s.Rules, r)
		default:
			return nil, errf("unexpected line")
		}
	}
	if state != "done" {
		return nil, fmt.Errorf("no COMMIT")
	}
	if !chains[InputChain] || !chains[OutputChain] {
		return nil, fmt.Errorf("portwall's chains are not both declared")
	}
	s.NoFlush = len(s.Policies) == 0
	if !s.NoFlush {
		for _, c := range []string{"INPUT", "FORWARD", "OUTPUT"} {
			if s.Policies[c] == "" {
				return nil, fmt.Errorf("replace mode: built-in chain %s not declared", c)
			}
		}
		if s.Policies["INPUT"] != "DROP" {
			return nil, fmt.Errorf("replace mode: INPUT policy %s, want DROP", s.Policies["INPUT"])
		}
	}
	if err := s.checkStructure(); err != nil {
		return nil, err
	}
	return s, nil
}

func chainDecl(line string) (name, policy string, err error) {
	f := strings.Fields(line[1:])
	if len(f) != 3 || f[2] != "[0:0]" {
		return "", "", fmt.Errorf("malformed chain declaration")
	}
	name, policy = f[0], f[1]
	switch name {
	case "INPUT", "FORWARD", "OUTPUT":
		if policy != "ACCEPT" && policy != "DROP" {
			return "", "", fmt.Errorf("policy %s", policy)
		}
	case InputChain, OutputChain:
		if policy != "-" {
			return "", "", fmt.Errorf("user chain with a policy")
		}
	default:
		return "", "", fmt.Errorf("chain %s is not portwall's", name)
	}
	return name, policy, nil
}

// checkStructure checks how the chains fit together: the built-in chains
// only jump to portwall's, and each of portwall's chains with rules ends
// with an unconditional drop, so that it stays closed whatever the
// built-in chain's policy.
func (s *Script) checkStructure() error {
	last := map[string]Rule{}
	jumps := map[string]int{}
	for _, r := range s.Rules {
		switch r.Chain {
		case "INPUT", "OUTPUT":
			want := InputChain
			if r.Chain == "OUTPUT" {
				want = OutputChain
			}
			if r.Target != want || r.Comment != "" || r.Protocol != "" || r.Src != nil || r.Dst != nil {
				return fmt.Errorf("line %d: %s may only jump to %s", r.Line, r.Chain, want)
			}
			jumps[r.Chain]++
		case "FORWARD":
			return fmt.Errorf("line %d: rule in FORWARD", r.Line)
		default:
			if r.Target == InputChain || r.Target == OutputChain {
				return fmt.Errorf("line %d: jump between portwall's chains", r.Line)
			}
		}
		last[r.Chain] = r
	}
	if s.NoFlush && len(jumps) > 0 {
		return fmt.Errorf("noflush mode must not add jumps: each reload would add them again")
	}
	if !s.NoFlush && (jumps["INPUT"] != 1 || jumps["OUTPUT"] != 1) {
		return fmt.Errorf("replace mode: want one jump from INPUT and one from OUTPUT, got %v", jumps)
	}
	for _, c := range []string{InputChain, OutputChain} {
		r, ok := last[c]
		if c == InputChain && !ok {
			return fmt.Errorf("%s is empty", c)
		}
		if ok && !(r.Target == "DROP" && r.Comment == "pw:base drop" && r.Protocol == "" && r.Src == nil && r.Dst == nil && r.CTState == "" && r.In == "" && r.Out == "") {
			return fmt.Errorf("line %d: %s does not end with an unconditional drop", r.Line, c)
		}
	}
	return nil
}

// tokens splits a rule into words, a double-quoted word being one; quotes
// hold no escapes in what portwall writes.
func tokens(s string) ([]string, error) {
	var out []string
	for s != "" {
		if s[0] == ' ' {
			if strings.HasPrefix(s, "  ") || len(s) == 1 {
				return nil, fmt.Errorf("stray space")
			}
			s = s[1:]
			continue
		}
		if s[0] == '"' {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("unterminated quote")
			}
			w := s[1 : end+1]
			if strings.ContainsAny(w, "\\") {
				return nil, fmt.Errorf("backslash in a quoted word")
			}
			out = append(out, w)
			s = s[end+2:]
			if s != "" && s[0] != ' ' {
				return nil, fmt.Errorf("text after a closing quote")
			}
			continue
		}
		end := strings.IndexByte(s, ' ')
		if end < 0 {
			end = len(s)
		}
		w := s[:end]
		if strings.ContainsAny(w, "\"\\'`$;|&<>(){}") {
			return nil, fmt.Errorf("unexpected character in %q", w)
		}
		out = append(out, w)
		s = s[end:]
	}
	return out, nil
}

// parseRule reads the words after "-A".
func parseRule(line string, f ir.Family) (Rule, error) {
	w, err := tokens(line)
	if err != nil {
		return Rule{}, err
	}
	if len(w) == 0 {
		return Rule{}, fmt.Errorf("empty rule")
	}
	r := Rule{Chain: w[0], ICMPType: -1}
	modules := map[string]bool{}
	seen := map[string]bool{}
	arg := func(i int) (string, error) {
		if i+1 >= len(w) {
			return "", fmt.Errorf("%s needs a value", w[i])
		}
		return w[i+1], nil
	}
	for i := 1; i < len(w); i += 2 {
		opt := w[i]
		if seen[opt] && opt != "-m" {
			return Rule{}, fmt.Errorf("%s given twice", opt)
		}
		seen[opt] = true
		v, err := arg(i)
		if err != nil {
			return Rule{}, err
		}
		switch opt {
		case "-s", "-d":
			p, err := netip.ParsePrefix(v)
			if err != nil || p.Masked() != p || !f.Has(p.Addr()) {
				return Rule{}, fmt.Errorf("bad %s %q", opt, v)
			}
			rg := netipx.RangeOfPrefix(p)
			if opt == "-s" {
				r.Src = &rg
			} else {
				r.Dst = &rg
			}
		case "-i", "-o":
			if v != "lo" {
				return Rule{}, fmt.Errorf("interface %q", v)
			}
			if opt == "-i" {
				r.In = v
			} else {
				r.Out = v
			}
		case "-p":
			want := "icmp"
			if f == ir.IPv6 {
				want = "ipv6-icmp"
			}
			if v != "tcp" && v != "udp" && v != want {
				return Rule{}, fmt.Errorf("protocol %q", v)
			}
			r.Protocol = v
		case "-m":
			if modules[v] {
				return Rule{}, fmt.Errorf("module %s twice", v)
			}
			modules[v] = true
			if err := checkModule(v, &r); err != nil {
				return Rule{}, err
			}
		case "--dport":
			if !modules[r.Protocol] || (r.Protocol != "tcp" && r.Protocol != "udp") {
				return Rule{}, fmt.Errorf("--dport without -p tcp/udp -m tcp/udp")
			}
			pr, err := portRange(v)
			if err != nil {
				return Rule{}, err
			}
			r.Ports = ports.NewSet(pr)
		case "--dports":
			if !modules["multiport"] || (r.Protocol != "tcp" && r.Protocol != "udp") {
				return Rule{}, fmt.Errorf("--dports without -p tcp/udp -m multiport")
			}
			slots := 0
			var rs []ports.Range
			for _, item := range strings.Split(v, ",") {
				pr, err := portRange(item)
				if err != nil {
					return Rule{}, err
				}
				slots++
				if pr.First != pr.Last {
					slots++
				}
				rs = append(rs, pr)
			}
			if slots > 15 {
				return Rule{}, fmt.Errorf("multiport holds %d ports, more than 15", slots)
			}
			r.Ports = ports.NewSet(rs...)
		case "--src-range", "--dst-range":
			if !modules["iprange"] {
				return Rule{}, fmt.Errorf("%s without -m iprange", opt)
			}
			rg, err := netipx.ParseIPRange(v)
			if err != nil || !f.Has(rg.From()) {
				return Rule{}, fmt.Errorf("bad range %q", v)
			}
			if opt == "--src-range" {
				r.Src = &rg
			} else {
				r.Dst = &rg
			}
		case "--icmp-type", "--icmpv6-type":
			p := proto.ICMP
			if opt == "--icmpv6-type" {
				p = proto.ICMPv6
			}
			if (p == proto.ICMP && !modules["icmp"]) || (p == proto.ICMPv6 && !modules["icmp6"]) {
				return Rule{}, fmt.Errorf("%s without its module", opt)
			}
			t, err := icmpType(p, v)
			if err != nil {
				return Rule{}, err
			}
			r.ICMPType = t
		case "--ctstate":
			if !modules["conntrack"] || (v != "RELATED,ESTABLISHED" && v != "INVALID") {
				return Rule{}, fmt.Errorf("--ctstate %q", v)
			}
			r.CTState = v
		case "--hl-eq":
			if !modules["hl"] || v != "255" {
				return Rule{}, fmt.Errorf("--hl-eq %q", v)
			}
			r.HopLimit = 255
		case "--limit":
			if !modules["limit"] || v != "5/sec" {
				return Rule{}, fmt.Errorf("--limit %q", v)
			}
			r.Limit = v
		case "--limit-burst":
			if !modules["limit"] || v != "10" {
				return Rule{}, fmt.Errorf("--limit-burst %q", v)
			}
		case "--comment":
			if !modules["comment"] || len(v) > 255 || v == "" {
				return Rule{}, fmt.Errorf("bad comment")
			}
			r.Comment = v
		case "-j":
			switch v {
			case "ACCEPT", "DROP", "LOG", "REJECT", InputChain, OutputChain:
			default:
				return Rule{}, fmt.Errorf("target %q", v)
			}
			r.Target = v
		case "--log-prefix":
			if r.Target != "LOG" || len(v) > 29 {
				return Rule{}, fmt.Errorf("bad --log-prefix")
			}
			r.LogPrefix = v
		case "--log-level":
			if r.Target != "LOG" || v != "6" {
				return Rule{}, fmt.Errorf("bad --log-level")
			}
			r.LogLevel = v
		case "--reject-with":
			ok := v == "tcp-reset" && r.Protocol == "tcp" || v == "icmp-admin-prohibited" && f == ir.IPv4 || v == "icmp6-adm-prohibited" && f == ir.IPv6
			if r.Target != "REJECT" || !ok {
				return Rule{}, fmt.Errorf("bad --reject-with %q", v)
			}
			r.RejectWith = v
		default:
			return Rule{}, fmt.Errorf("unknown option %s", opt)
		}
	}
	if r.Target == "" {
		return Rule{}, fmt.Errorf("no target")
	}
	if (r.Target == "LOG") != (r.LogPrefix != "") || (r.Target == "REJECT") != (r.RejectWith != "") {
		return Rule{}, fmt.Errorf("target options do not match -j %s", r.Target)
	}
	if (r.Protocol == "tcp" || r.Protocol == "udp") && r.Target == "ACCEPT" && r.Ports == nil {
		return Rule{}, fmt.Errorf("%s accept without ports", r.Protocol)
	}
	if (modules["tcp"] || modules["udp"]) && r.Ports == nil {
		return Rule{}, fmt.Errorf("-m %s without --dport", r.Protocol)
	}
	if (modules["icmp"] || modules["icmp6"]) && r.ICMPType < 0 {
		return Rule{}, fmt.Errorf("ICMP module without a type")
	}
	return r, nil
}

func checkModule(m string, r *Rule) error {
	switch m {
	case "tcp", "udp":
		if r.Protocol != m {
			return fmt.Errorf("-m %s without -p %s", m, m)
		}
	case "icmp":
		if r.Protocol != "icmp" {
			return fmt.Errorf("-m icmp without -p icmp")
		}
	case "icmp6":
		if r.Protocol != "ipv6-icmp" {
			return fmt.Errorf("-m icmp6 without -p ipv6-icmp")
		}
	case "multiport":
		if r.Protocol != "tcp" && r.Protocol != "udp" {
			return fmt.Errorf("-m multiport without -p tcp/udp")
		}
	case "iprange", "conntrack", "comment", "limit", "hl":
	default:
		return fmt.Errorf("module %q", m)
	}
	return nil
}

func portRange(s string) (ports.Range, error) {
	a, b, isRange := strings.Cut(s, ":")
	first, err := strconv.Atoi(a)
	if err != nil || first < 1 || first > 65535 || strings.HasPrefix(a, "0") {
		return ports.Range{}, fmt.Errorf("bad port %q", s)
	}
	last := first
	if isRange {
		if last, err = strconv.Atoi(b); err != nil || last <= first || last > 65535 || strings.HasPrefix(b, "0") {
			return ports.Range{}, fmt.Errorf("bad port range %q", s)
		}
	}
	return ports.Range{First: uint16(first), Last: uint16(last)}, nil
}

// Type names iptables accepts and portwall's baseline uses.
var icmpNames = sync.OnceValue(func() map[proto.Protocol]map[string]int {
	return map[proto.Protocol]map[string]int{
		proto.ICMP: {"destination-unreachable": 3, "time-exceeded": 11, "parameter-problem": 12},
		proto.ICMPv6: {"destination-unreachable": 1, "packet-too-big": 2, "time-exceeded": 3, "parameter-problem": 4,
			"router-solicitation": 133, "router-advertisement": 134, "neighbour-solicitation": 135, "neighbour-advertisement": 136},
	}
})

func icmpType(p proto.Protocol, s string) (int, error) {
	if t, ok := icmpNames()[p][s]; ok {
		return t, nil
	}
	t, err := strconv.Atoi(s)
	if err != nil || t < 0 || t > 255 || (len(s) > 1 && s[0] == '0') {
		return 0, fmt.Errorf("bad ICMP type %q", s)
	}
	return t, nil
}

// baseline recognises the rules a host needs whatever the profile, by
// their exact shape; every other rule marked "pw:base" is an error.
func (s *Script) baseline(r Rule) (bool, error) {
	if !strings.HasPrefix(r.Comment, "pw:base") {
		return false, nil
	}
	in := r.Chain == InputChain
	v6 := s.Family == ir.IPv6
	plain := r.Src == nil && r.Dst == nil && r.In == "" && r.Out == "" && r.Protocol == "" && r.CTState == "" && r.Limit == ""
	icmpOnly := func(types ...int) bool {
		return r.Src == nil && r.Dst == nil && r.In == "" && r.Out == "" && r.CTState == "" &&
			r.Protocol == map[bool]string{false: "icmp", true: "ipv6-icmp"}[v6] && slices.Contains(types, r.ICMPType)
	}
	ok := false
	switch r.Comment {
	case "pw:base established,related":
		ok = r.Target == "ACCEPT" && r.CTState == "RELATED,ESTABLISHED" && r.Protocol == "" && r.Src == nil && r.Dst == nil
	case "pw:base invalid":
		ok = r.Target == "DROP" && r.CTState == "INVALID"
	case "pw:base loopback":
		ok = r.Target == "ACCEPT" && r.Protocol == "" && r.Src == nil && r.Dst == nil && r.CTState == "" &&
			(in && r.In == "lo" && r.Out == "" || !in && r.Out == "lo" && r.In == "")
	case "pw:base icmp errors":
		ok = !v6 && r.Target == "ACCEPT" && icmpOnly(3, 11, 12)
	case "pw:base icmpv6 errors":
		ok = v6 && r.Target == "ACCEPT" && icmpOnly(1, 2, 3, 4)
	case "pw:base ipv6 neighbour discovery":
		types := []int{134, 135, 136}
		if !in {
			types = []int{133, 135, 136}
		}
		ok = v6 && r.Target == "ACCEPT" && r.HopLimit == 255 && icmpOnly(types...)
	case "pw:base ipv6 multicast listener discovery":
		if in {
			fe80 := netipx.RangeOfPrefix(netip.MustParsePrefix("fe80::/10"))
			ok = v6 && r.Target == "ACCEPT" && r.Src != nil && *r.Src == fe80 && r.Dst == nil && r.Protocol == "ipv6-icmp" && r.ICMPType == 130 && r.CTState == ""
		} else {
			ok = v6 && r.Target == "ACCEPT" && icmpOnly(131, 132, 143)
		}
	case "pw:base log dropped":
		ok = r.Target == "LOG" && r.Limit == "5/sec" && r.Src == nil && r.Dst == nil && r.Protocol == ""
	case "pw:base reject":
		ok = in && r.Target == "REJECT" && r.Src == nil && r.Dst == nil && (r.Protocol == "" || r.Protocol == "tcp" && r.Ports == nil)
	case "pw:base drop":
		ok = r.Target == "DROP" && plain
	}
	if !ok {
		return false, fmt.Errorf("line %d: %q is not a baseline rule of that shape", r.Line, r.Comment)
	}
	return true, nil
}

// Grants lists what the non-baseline rules let through. Every such rule
// must be an accept carrying a portwall rule ID.
func (s *Script) Grants() ([]ir.Grant, error) {
	var out []ir.Grant
	for _, r := range s.Rules {
		if r.Chain != InputChain && r.Chain != OutputChain {
			continue
		}
		base, err := s.baseline(r)
		if err != nil {
			return nil, err
		}
		if base {
			continue
		}
		if r.Target != "ACCEPT" || !strings.HasPrefix(r.Comment, "pw:r") || r.CTState != "" || r.In != "" || r.Out != "" || r.HopLimit != 0 {
			return nil, fmt.Errorf("line %d: not an allow rule portwall writes", r.Line)
		}
		g := ir.Grant{Dir: ir.In, Family: s.Family, Ports: r.Ports}
		remote, local := r.Src, r.Dst
		if r.Chain == OutputChain {
			g.Dir, remote, local = ir.Out, r.Dst, r.Src
		}
		if local != nil {
			return nil, fmt.Errorf("line %d: matches the host's own address", r.Line)
		}
		if remote == nil {
			g.Src.Any = true
		} else {
			var b netipx.IPSetBuilder
			b.AddRange(*remote)
			g.Src.IPs, _ = b.IPSet()
		}
		if g.Dir == ir.Out {
			g.Src, g.Dst = ir.Addrs{}, g.Src
		}
		switch r.Protocol {
		case "tcp":
			g.Protocol = proto.TCP
		case "udp":
			g.Protocol = proto.UDP
		case "icmp":
			g.Protocol = proto.ICMP
		case "ipv6-icmp":
			g.Protocol = proto.ICMPv6
		default:
			return nil, fmt.Errorf("line %d: an allow rule without a protocol", r.Line)
		}
		if r.ICMPType >= 0 {
			g.ICMPTypes = []uint8{uint8(r.ICMPType)}
		}
		out = append(out, g)
	}
	return out, nil
}
