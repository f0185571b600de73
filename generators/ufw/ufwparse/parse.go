// Package ufwparse reads back what the ufw backend writes: a strict reader
// of the load script (its fixed shell text, its header comments and the
// five here-documents), of the application profiles, the ufw rules and the
// ICMP block in the forms portwall emits, and the traffic each lets
// through, so that tests can prove the output allows nothing the IR does
// not.
//
// The shell around the here-documents must be exactly the backend's fixed
// text: nothing from a profile may reach the shell outside comments and
// quoted here-documents. The parts are read by ufw's own rules (profile
// names, field lengths, port lists of at most 15 ports, comments without
// "'") and by the forms portwall writes, not by running the backend
// backwards: anything else is an error.
package ufwparse

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/portwall/portwall/generators/ufw"
	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

// Script is a parsed load script.
type Script struct {
	// Header holds the comment lines before the shell, without "# ".
	Header   []string
	Settings Settings
	// Apps are the application profiles, by name; AppOrder in file order.
	Apps     map[string]*App
	AppOrder []string
	Rules    []Rule
	// Block holds the lines of portwall's block in before.rules (IPv4)
	// and before6.rules (IPv6), without the markers.
	Block map[ir.Family][]BlockRule
}

// Settings are the script's settings.
type Settings struct {
	Incoming string // deny or reject
	Outgoing string // allow or deny
	Logging  bool
	Enable   bool
	IPv6     bool
}

// App is an application profile of portwall's.
type App struct {
	Name, Title, Description string
	Protocol                 proto.Protocol
	Ports                    ports.Set
}

// Rule is a ufw rule.
type Rule struct {
	Dir ir.Direction
	// Remote is the other side's prefix; invalid for every address of
	// both families.
	Remote  netip.Prefix
	App     string
	Comment string
}

// BlockRule is a rule of portwall's ICMP block.
type BlockRule struct {
	Dir ir.Direction
	// Remote is the source (inbound) or destination (outbound); invalid
	// when absent.
	Remote netip.Prefix
	// Type is the ICMP type matched, or -1 for every type.
	Type int
	// NotLoopback: the rule leaves the loopback interface out.
	NotLoopback bool
	Comment     string
	// Target is ACCEPT, or "log" (ufw's logging-deny chain) or "policy"
	// (ufw's skip-to-policy chain).
	Target string
}

// Parse reads a load script.
func Parse(data []byte) (*Script, error) {
	if err := checkBytes(data); err != nil {
		return nil, err
	}
	text := string(data)
	if !strings.HasSuffix(text, "\n") {
		return nil, fmt.Errorf("the script does not end with a line break")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if lines[0] != "#!/bin/sh" {
		return nil, fmt.Errorf("line 1: want #!/bin/sh")
	}
	s := &Script{Apps: map[string]*App{}, Block: map[ir.Family][]BlockRule{}}
	i := 1
	for ; i < len(lines) && strings.HasPrefix(lines[i], "#"); i++ {
		l := lines[i]
		if l != "#" && !strings.HasPrefix(l, "# ") {
			return nil, fmt.Errorf("line %d: a header comment starts with \"# \": %q", i+1, l)
		}
		s.Header = append(s.Header, strings.TrimPrefix(strings.TrimPrefix(l, "#"), " "))
	}
	var err error
	if i, err = expect(lines, i, ufw.Prelude, "the script's fixed start"); err != nil {
		return nil, err
	}
	bodies := make([][]string, len(ufw.Parts))
	starts := make([]int, len(ufw.Parts))
	for k, fn := range ufw.Parts {
		if i >= len(lines) || lines[i] != fn+" <<'"+ufw.Heredoc+"'" {
			got := ""
			if i < len(lines) {
				got = lines[i]
			}
			return nil, fmt.Errorf("line %d: want %s <<'%s', got %q", i+1, fn, ufw.Heredoc, got)
		}
		end := i + 1
		for end < len(lines) && lines[end] != ufw.Heredoc {
			end++
		}
		if end == len(lines) {
			return nil, fmt.Errorf("line %d: %s: the here-document does not end", i+1, fn)
		}
		bodies[k], starts[k] = lines[i+1:end], i+2
		i = end + 1
	}
	if i, err = expect(lines, i, ufw.Epilogue, "the script's fixed end"); err != nil {
		return nil, err
	}
	if i != len(lines) {
		return nil, fmt.Errorf("line %d: text after the script's end: %q", i+1, lines[i])
	}
	if err := s.settings(bodies[0], starts[0]); err != nil {
		return nil, err
	}
	if err := s.apps(bodies[1], starts[1]); err != nil {
		return nil, err
	}
	if err := s.rules(bodies[2], starts[2]); err != nil {
		return nil, err
	}
	for k, f := range ir.Families {
		if err := s.block(f, bodies[3+k], starts[3+k]); err != nil {
			return nil, err
		}
	}
	return s, s.check()
}

// checkBytes refuses anything but printable ASCII, tab and line feed: the
// backend writes nothing else, so that no locale changes what ufw reads.
func checkBytes(data []byte) error {
	line := 1
	for _, c := range data {
		switch {
		case c == '\n':
			line++
		case c == '\t':
		case c < 0x20 || c > 0x7e:
			return fmt.Errorf("line %d: byte %#x: the script holds printable ASCII only", line, c)
		}
	}
	return nil
}

// expect checks that lines from i on are exactly fixed, and returns the
// line after it.
func expect(lines []string, i int, fixed, what string) (int, error) {
	want := strings.Split(strings.TrimSuffix(fixed, "\n"), "\n")
	for j, w := range want {
		if i+j >= len(lines) {
			return 0, fmt.Errorf("%s is cut short after line %d", what, i+j)
		}
		if lines[i+j] != w {
			return 0, fmt.Errorf("line %d: %s differs: got %q, want %q", i+j+1, what, lines[i+j], w)
		}
	}
	return i + len(want), nil
}

var settingLines = []struct {
	key    string
	values []string
}{
	{"incoming", []string{"deny", "reject"}},
	{"outgoing", []string{"allow", "deny"}},
	{"logging", []string{"on", "off"}},
	{"enable", []string{"yes", "no"}},
	{"ipv6", []string{"yes", "no"}},
}

func (s *Script) settings(body []string, start int) error {
	if len(body) != len(settingLines) {
		return fmt.Errorf("line %d: portwall_settings holds %d lines, want %d", start, len(body), len(settingLines))
	}
	got := map[string]string{}
	for j, sl := range settingLines {
		k, v, ok := strings.Cut(body[j], "=")
		if !ok || k != sl.key || !contains(sl.values, v) {
			return fmt.Errorf("line %d: want %s=%s, got %q", start+j, sl.key, strings.Join(sl.values, "|"), body[j])
		}
		got[k] = v
	}
	s.Settings = Settings{Incoming: got["incoming"], Outgoing: got["outgoing"], Logging: got["logging"] == "on",
		Enable: got["enable"] == "yes", IPv6: got["ipv6"] == "yes"}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// appName is what portwall names its application profiles: ufw allows
// names of at most 64 characters from a wider set.
var appName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^portwall-[A-Za-z0-9]{1,40}(-[1-9][0-9]{0,3})?$`) })

// value is a field's value as portwall writes it: provenance, printable
// ASCII without quotes or backslashes, trimmed.
var value = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^pw:[ !#-&(-\[\]-~]*[!#-&(-\[\]-~]$`) })

func (s *Script) apps(body []string, start int) error {
	j := 0
	for ; j < len(body) && strings.HasPrefix(body[j], "# "); j++ {
	}
	if j != 2 {
		return fmt.Errorf("line %d: the application profiles start with two comment lines", start)
	}
	for j < len(body) {
		if j+5 > len(body) || body[j] != "" {
			return fmt.Errorf("line %d: want an empty line, then [portwall-...], title=, description= and ports=", start+j)
		}
		at := start + j + 1
		name, ok := strings.CutPrefix(body[j+1], "[")
		name, ok2 := strings.CutSuffix(name, "]")
		if !ok || !ok2 || !appName().MatchString(name) {
			return fmt.Errorf("line %d: not an application profile of portwall's: %q", at, body[j+1])
		}
		if s.Apps[name] != nil {
			return fmt.Errorf("line %d: application profile %s written twice", at, name)
		}
		a := &App{Name: name}
		fields := []struct {
			key string
			max int
			to  *string
		}{{"title", ufw.MaxComment, &a.Title}, {"description", ufw.MaxValue, &a.Description}}
		for k, f := range fields {
			v, ok := strings.CutPrefix(body[j+2+k], f.key+"=")
			if !ok || !value().MatchString(v) || len(v) > f.max {
				return fmt.Errorf("line %d: want %s= and the provenance (pw:..., printable ASCII without quotes or backslashes, at most %d bytes), got %q", at+1+k, f.key, f.max, body[j+2+k])
			}
			*f.to = v
		}
		p, ok := strings.CutPrefix(body[j+4], "ports=")
		if !ok {
			return fmt.Errorf("line %d: want ports=", at+3)
		}
		var err error
		if a.Protocol, a.Ports, err = portsField(p); err != nil {
			return fmt.Errorf("line %d: %s: %w", at+3, name, err)
		}
		s.Apps[name] = a
		s.AppOrder = append(s.AppOrder, name)
		j += 5
	}
	return nil
}

// portEntry is one entry of a ports field: ports and ranges of one
// protocol.
var portEntry = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^([0-9]+(?::[0-9]+)?(?:,[0-9]+(?::[0-9]+)?)*)/(tcp|udp)$`)
})

// portsField reads a ports field as ufw does, strictly: entries of one
// protocol, each of at most 15 ports (a range counting two), ranges
// increasing, ports 1-65535 without leading zeros, at most 1024 bytes.
func portsField(v string) (proto.Protocol, ports.Set, error) {
	if len(v) > ufw.MaxValue {
		return 0, nil, fmt.Errorf("ports longer than %d bytes: ufw skips the profile", ufw.MaxValue)
	}
	var p proto.Protocol
	var set ports.Set
	for i, e := range strings.Split(v, "|") {
		m := portEntry().FindStringSubmatch(e)
		if m == nil {
			return 0, nil, fmt.Errorf("ports entry %q: want PORT[,PORT|,FIRST:LAST...]/tcp or /udp", e)
		}
		ep, err := proto.Parse(m[2])
		if err != nil {
			return 0, nil, err
		}
		if i > 0 && ep != p {
			return 0, nil, fmt.Errorf("ports entry %q: another protocol than %s", e, p)
		}
		p = ep
		if n := strings.Count(m[1], ",") + strings.Count(m[1], ":"); n > ufw.MaxPortSlots-1 {
			return 0, nil, fmt.Errorf("ports entry %q: more than %d ports (a range counts two)", e, ufw.MaxPortSlots)
		}
		for _, item := range strings.Split(m[1], ",") {
			first, last, isRange := strings.Cut(item, ":")
			a, err := port(first)
			if err != nil {
				return 0, nil, err
			}
			b := a
			if isRange {
				if b, err = port(last); err != nil {
					return 0, nil, err
				}
				if b <= a {
					return 0, nil, fmt.Errorf("ports entry %q: range %s does not increase", e, item)
				}
			}
			set = set.Union(ports.NewSet(ports.Range{First: a, Last: b}))
		}
	}
	return p, set, nil
}

func port(s string) (uint16, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != s {
		return 0, fmt.Errorf("port %q: want 1-65535", s)
	}
	return uint16(n), nil
}

// Rule forms, as `ufw show added` prints them.
var (
	ruleAny = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^allow (out )?(\S+) comment '([^']*)'$`) })
	ruleIn  = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^allow from (\S+) to any app (\S+) comment '([^']*)'$`)
	})
	ruleOut = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^allow out to (\S+) app (\S+) comment '([^']*)'$`) })
)

func (s *Script) rules(body []string, start int) error {
	seen := map[string]bool{}
	for j, l := range body {
		at := start + j
		var r Rule
		var app, addr string
		if m := ruleIn().FindStringSubmatch(l); m != nil {
			r.Dir, addr, app, r.Comment = ir.In, m[1], m[2], m[3]
		} else if m := ruleOut().FindStringSubmatch(l); m != nil {
			r.Dir, addr, app, r.Comment = ir.Out, m[1], m[2], m[3]
		} else if m := ruleAny().FindStringSubmatch(l); m != nil {
			r.Dir, app, r.Comment = ir.In, m[2], m[3]
			if m[1] != "" {
				r.Dir = ir.Out
			}
		} else {
			return fmt.Errorf("line %d: not a ufw rule of portwall's: %q", at, l)
		}
		if !appName().MatchString(app) {
			return fmt.Errorf("line %d: application %q is not one of portwall's", at, app)
		}
		if s.Apps[app] == nil {
			return fmt.Errorf("line %d: application %s is not in the script", at, app)
		}
		r.App = app
		if !value().MatchString(r.Comment) || len(r.Comment) > ufw.MaxComment {
			return fmt.Errorf("line %d: comment %q: want the provenance (pw:...), printable ASCII without quotes or backslashes, at most %d bytes", at, r.Comment, ufw.MaxComment)
		}
		if addr != "" {
			p, err := canonical(addr)
			if err != nil {
				return fmt.Errorf("line %d: %w", at, err)
			}
			r.Remote = p
		}
		spec := l[:strings.Index(l, " comment '")]
		if seen[spec] {
			return fmt.Errorf("line %d: rule %q written twice", at, spec)
		}
		seen[spec] = true
		s.Rules = append(s.Rules, r)
	}
	return nil
}

// canonical reads an address or prefix as ufw prints it: an address for
// a single one, the prefix's network address, and never every address
// of a family (ufw prints 0.0.0.0/0 and ::/0 as "any", both families).
func canonical(s string) (netip.Prefix, error) {
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return p, fmt.Errorf("address %q: %w", s, err)
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return p, fmt.Errorf("address %q: %w", s, err)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	want := p.Masked().String()
	if p.IsSingleIP() {
		want = p.Addr().String()
	}
	if want != s || p.Addr().Zone() != "" || p.Addr().Is4In6() {
		return p, fmt.Errorf("address %q: not in the form ufw prints (%s)", s, want)
	}
	if p.Bits() == 0 {
		return p, fmt.Errorf("address %q: ufw prints every address of one family as \"any\", both families", s)
	}
	return p, nil
}

// blockLine is a rule of portwall's ICMP block.
var (
	blockAccept = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^-A (\S+)(?: (-s|-d) (\S+))? -p (icmp|icmpv6)(?: -m (icmp|icmp6) --(icmp|icmpv6)-type ([0-9]+))? -m comment --comment "([^"\\]*)" -j ACCEPT$`)
	})
	blockCatch = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^-A (\S+) ! -([io]) lo -p (icmp|icmpv6) -m (icmp|icmp6) --(icmp|icmpv6)-type ([0-9]+) -j (\S+)$`)
	})
)

func (s *Script) block(f ir.Family, body []string, start int) error {
	if len(body) < 2 || body[0] != ufw.BlockBegin || body[len(body)-1] != ufw.BlockEnd {
		return fmt.Errorf("line %d: the %s block starts with %q and ends with %q", start, f, ufw.BlockBegin, ufw.BlockEnd)
	}
	pre, p, m, t := "ufw", "icmp", "icmp", "icmp"
	if f == ir.IPv6 {
		pre, p, m, t = "ufw6", "icmpv6", "icmp6", "icmpv6"
	}
	chains := map[string]ir.Direction{pre + "-before-input": ir.In, pre + "-before-output": ir.Out}
	seen := map[string]bool{}
	for j, l := range body[1 : len(body)-1] {
		at := start + 1 + j
		if seen[l] {
			return fmt.Errorf("line %d: %q written twice", at, l)
		}
		seen[l] = true
		var r BlockRule
		if mm := blockAccept().FindStringSubmatch(l); mm != nil {
			dir, ok := chains[mm[1]]
			if !ok {
				return fmt.Errorf("line %d: chain %s is not one of ufw's %s before chains", at, mm[1], f)
			}
			r.Dir, r.Target, r.Comment, r.Type = dir, "ACCEPT", mm[8], -1
			if mm[4] != p || mm[5] != "" && (mm[5] != m || mm[6] != t) {
				return fmt.Errorf("line %d: another protocol than %s", at, p)
			}
			if mm[2] != "" {
				if want := map[ir.Direction]string{ir.In: "-s", ir.Out: "-d"}[dir]; mm[2] != want {
					return fmt.Errorf("line %d: %s in chain %s: the remote side is %s", at, mm[2], mm[1], want)
				}
				pr, err := canonical(mm[3])
				if err != nil {
					return fmt.Errorf("line %d: %w", at, err)
				}
				if pr.Addr().Is4() != (f == ir.IPv4) {
					return fmt.Errorf("line %d: address %s is not %s", at, mm[3], f)
				}
				r.Remote = pr
			}
			if mm[7] != "" {
				n, err := strconv.Atoi(mm[7])
				if err != nil || n > 255 || strconv.Itoa(n) != mm[7] {
					return fmt.Errorf("line %d: ICMP type %q", at, mm[7])
				}
				r.Type = n
			}
			if !value().MatchString(r.Comment) || len(r.Comment) > ufw.MaxComment {
				return fmt.Errorf("line %d: comment %q: want the provenance (pw:...), printable ASCII without quotes or backslashes, at most %d bytes", at, r.Comment, ufw.MaxComment)
			}
		} else if mm := blockCatch().FindStringSubmatch(l); mm != nil {
			dir, ok := chains[mm[1]]
			if !ok {
				return fmt.Errorf("line %d: chain %s is not one of ufw's %s before chains", at, mm[1], f)
			}
			iface := map[ir.Direction]string{ir.In: "i", ir.Out: "o"}[dir]
			echo := map[ir.Family]string{ir.IPv4: "8", ir.IPv6: "128"}[f]
			if mm[2] != iface || mm[3] != p || mm[4] != m || mm[5] != t || mm[6] != echo {
				return fmt.Errorf("line %d: not portwall's echo request rule for chain %s", at, mm[1])
			}
			d := map[ir.Direction]string{ir.In: "input", ir.Out: "output"}[dir]
			switch mm[7] {
			case pre + "-logging-deny":
				r.Target = "log"
			case pre + "-skip-to-policy-" + d:
				r.Target = "policy"
			default:
				return fmt.Errorf("line %d: jump to %s: want %s-logging-deny or %s-skip-to-policy-%s", at, mm[7], pre, pre, d)
			}
			r.Dir, r.Type, r.NotLoopback = dir, 8, true
			if f == ir.IPv6 {
				r.Type = 128
			}
		} else {
			return fmt.Errorf("line %d: not a rule of portwall's %s block: %q", at, f, l)
		}
		s.Block[f] = append(s.Block[f], r)
	}
	return nil
}

// check: every application profile is used, and IPv6 rules need ipv6=yes
// (the script's check that ufw handles IPv6).
func (s *Script) check() error {
	used := map[string]bool{}
	v6 := false
	for _, r := range s.Rules {
		used[r.App] = true
		v6 = v6 || r.Remote.IsValid() && r.Remote.Addr().Is6()
	}
	for _, r := range s.Block[ir.IPv6] {
		v6 = v6 || r.Target == "ACCEPT"
	}
	for _, n := range s.AppOrder {
		if !used[n] {
			return fmt.Errorf("application profile %s is written but never used", n)
		}
	}
	if v6 && !s.Settings.IPv6 {
		return fmt.Errorf("IPv6 rules with ipv6=no: the script would not check that ufw handles IPv6")
	}
	return nil
}
