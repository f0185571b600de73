// Package lint finds what is valid but risky in a profile: cleartext or
// administration ports open to everyone, deprecated flows, custom rules
// that add nothing, hosts left without a management path, host names some
// backends cannot match, expectations the rules contradict, and what the
// catalog decided because the profile did not (PW8xx).
//
// Each finding has a stable code (PW101, ...) and the position of the line
// to look at. Codes are never reused; README lists them.
package lint

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/profiles"
	"github.com/portwall/portwall/rules"
	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/probe"
	"github.com/portwall/portwall/rules/proto"
)

// Check is one kind of finding.
type Check struct {
	Code, Name, Summary string
}

// Checks lists every check, by code.
var Checks = []Check{
	{"PW101", "cleartext-open-to-any", "a cleartext protocol (telnet, FTP, POP3, IMAP, LDAP, r-services, HTTP administration) reachable from any address"},
	{"PW102", "admin-open-to-any", "an administration port (a flow from the administrators, SSH, RDP, WinRM, VNC) reachable from any address"},
	{"PW201", "deprecated-flow", "a deprecated flow the profile asks for by name"},
	{"PW301", "duplicate-allow", "a custom rule identical to an earlier one"},
	{"PW302", "shadowed-allow", "a custom rule whose traffic other rules already allow in full"},
	{"PW401", "no-management-path", "a host no rule lets anyone manage (SSH, RDP, WinRM or an administrators flow): a lockout risk"},
	{"PW501", "fqdn-not-expressible", "host names some backends cannot match: they refuse, or leave them out"},
	{"PW601", "expectation-contradicted", "an [[expect]] entry the rules contradict"},
	{"PW602", "expectation-unprobed", "an [[expect]] entry no probe can check"},
	{"PW701", "expires-soon", "a custom rule that expires within the warning period (--expiry-warning)"},
	{"PW702", "expired", "a custom rule that has expired and is no longer generated"},
	{"PW703", "unused-binding", "a role or peer bound to hosts or groups that no enabled flow uses"},
	{"PW704", "dynamic-set-without-dns", "egress filtered and host names filled from DNS (fqdn = \"dynamic-set\"), but no rule lets the host reach DNS: the sets stay empty"},
	{"PW705", "windows-egress-without-policy", "egress filtered (output = \"drop\") for Windows targets without [windows] set_policy = true: the outbound rules change nothing"},
	{"PW706", "no-common-family", "a rule whose two sides share no IP family: it can never match"},
	{"PW707", "generates-nothing", "a custom rule that names no host of the profile: host targets generate nothing for it"},
	{"PW801", "default-features-replaced", "a features list that replaces the product's defaults and leaves some out"},
	{"PW802", "alternative-defaulted", "a flow with alternatives (\"443 or 8890\", \"UDP or TCP\") opened with the catalog's default choice"},
	{"PW803", "random-ports-all", "a flow on random ports opened on every port (random_ports = \"all\"), not on a port pool"},
	{"PW951", "installer-rules", "a product whose installer adds its own Windows Firewall allow rules, on a host declared for a Windows target that leaves them enabled"},
	{"PW961", "firewall-manager-targets", "a Linux host whose targets do not suit the firewall manager it runs (firewall = ...): another manager's chains would drop what the rules allow, or the target would replace that manager's rules"},
}

func check(code string) Check {
	for _, c := range Checks {
		if c.Code == code {
			return c
		}
	}
	panic("lint: unknown code " + code)
}

// Warning is one finding.
type Warning struct {
	Pos  diag.Pos
	Code string
	Name string
	Msg  string
}

func (w Warning) String() string {
	return fmt.Sprintf("%s: %s %s: %s", w.Pos, w.Code, w.Name, w.Msg)
}

// Target is what lint needs to know of a backend whose limits matter: the
// command layer, which knows the backends, passes it in.
type Target struct {
	Name string
	// HostView: the backend renders hosts (the rules a host enforces),
	// else the network view (every rule).
	HostView bool
	// Names is what it does with address sets matched by host names, for
	// this profile.
	Names HostNames
	// Windows: the backend writes Windows Firewall rules, which other
	// programs' allow rules widen (PW951). DeclaredHosts are the hosts the
	// profile declares it for (targets or os); DisablesForeign says its
	// output disables other programs' wider rules under this profile's
	// settings.
	Windows         bool
	DeclaredHosts   []string
	DisablesForeign bool
	// Firewall is the Linux packet filter the backend's output is loaded
	// into: "nftables" (a table of its own), "iptables" (the filter
	// table), "firewalld" (a running firewalld), "ufw" (ufw's rules); ""
	// for other backends
	// (PW961). Replaces: its output replaces the whole table under this
	// profile's settings (iptables in mode replace).
	Firewall string
	Replaces bool
}

// HostNames is what a backend does with host names in an address set.
type HostNames uint8

const (
	NamesMatched HostNames = iota // it matches them
	NamesOmitted                  // it leaves them out, allowing less
	NamesRefused                  // it refuses to generate
)

// Lint checks a resolved profile. targets are the backends whose limits
// matter (PW501); every finding is sorted by position, then code. The
// codes the profile ignores ([lint] ignore) are left out; an unknown one
// is an error.
func Lint(p *profiles.Profile, rs *ir.Ruleset, cfg Config) ([]Warning, error) {
	var errs diag.ErrorList
	var codes []string
	for _, c := range Checks {
		codes = append(codes, c.Code)
	}
	for i, code := range p.LintIgnore {
		if !slices.Contains(codes, code) {
			errs.Add(p.Doc.Pos("lint", "ignore", i), "", "unknown lint code %q%s", code, diag.DidYouMean(code, codes))
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	l := &linter{p: p, rs: rs, at: rules.NewLocator(p, rs), cfg: cfg}
	l.openToAny()
	l.deprecated()
	l.customRules()
	l.managementPaths()
	l.hostNames(cfg.Targets)
	l.expectations()
	l.expiry()
	l.unusedBindings()
	l.dynamicSetsWithoutDNS()
	l.noCommonFamily()
	l.generatesNothing()
	for _, w := range cfg.Findings {
		l.warn(w.Pos, w.Code, "%s", w.Msg)
	}
	l.decisions()
	l.installerRules(cfg.Targets)
	l.firewallManagers(cfg.Targets)
	slices.SortStableFunc(l.out, func(a, b Warning) int {
		return cmp.Or(cmp.Compare(a.Pos.File, b.Pos.File), cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col), cmp.Compare(a.Code, b.Code), cmp.Compare(a.Msg, b.Msg))
	})
	out := slices.CompactFunc(l.out, func(a, b Warning) bool { return a == b })
	return slices.DeleteFunc(out, func(w Warning) bool { return slices.Contains(p.LintIgnore, w.Code) }), nil
}

type linter struct {
	p   *profiles.Profile
	rs  *ir.Ruleset
	at  *rules.Locator
	cfg Config
	out []Warning
}

// Config is what lint needs from the command layer: the backends whose
// limits matter, the date and the expiry warning period, and findings
// only a backend's own knowledge can make (each with a code of Checks).
type Config struct {
	Targets []Target
	// Today judges expires dates; ExpiryWarning is how many days ahead
	// an expiring rule is reported (PW701).
	Today         profiles.Date
	ExpiryWarning int
	Findings      []Warning
	// NetworkView: a network-view target (the FortiGate) is declared, so
	// a rule between no hosts of the profile is generated there (PW707).
	NetworkView bool
}

func (l *linter) warn(pos diag.Pos, code, format string, args ...any) {
	c := check(code)
	l.out = append(l.out, Warning{Pos: pos, Code: c.Code, Name: c.Name, Msg: fmt.Sprintf(format, args...)})
}

// service is a well-known port the checks look for.
type service struct {
	name  string
	ports ports.Set
}

// The tables hold Set literals, not ports.NewSet calls, so that the linker
// lays them out instead of every run's initialisation building them; a
// Set of one range is already normalised (TestServicesNormalised).
var (
	// cleartext protocols, over TCP.
	cleartext = []service{{"FTP", ports.Set{{First: 21, Last: 21}}}, {"telnet", ports.Set{{First: 23, Last: 23}}},
		{"POP3", ports.Set{{First: 110, Last: 110}}}, {"IMAP", ports.Set{{First: 143, Last: 143}}},
		{"LDAP", ports.Set{{First: 389, Last: 389}}}, {"rexec/rlogin/rsh", ports.Set{{First: 512, Last: 514}}}}
	// httpPorts carry administration in clear text.
	httpPorts = []service{{"HTTP", ports.Set{{First: 80, Last: 80}}}, {"HTTP", ports.Set{{First: 8080, Last: 8080}}}}
	// adminPorts manage a host, over TCP.
	adminPorts = []service{{"SSH", ports.Set{{First: 22, Last: 22}}}, {"RDP", ports.Set{{First: 3389, Last: 3389}}},
		{"WinRM", ports.Set{{First: 5985, Last: 5986}}}, {"VNC", ports.Set{{First: 5900, Last: 5900}}}}
)

const administrators = "administrators"

// openToAny finds cleartext and administration ports open to any address
// (PW101, PW102), one finding per origin.
func (l *linter) openToAny() {
	for _, r := range l.rs.Rules {
		if r.Protocol != proto.TCP || !l.anyIn(r.From) {
			continue
		}
		for _, o := range r.Origins {
			ps := o.Ports.Intersect(r.Ports)
			what := l.what(r, o)
			pos := l.at.Origin(o, o.FromLabel)
			admin := o.Kind == ir.OriginFlow && o.FromLabel == administrators
			for _, s := range cleartext {
				if ps.Intersect(s.ports).Len() > 0 {
					l.warn(pos, "PW101", "%s: tcp %s (%s, cleartext) is open to any address", what, ps.Intersect(s.ports), s.name)
				}
			}
			for _, s := range httpPorts {
				if admin && ps.Intersect(s.ports).Len() > 0 {
					l.warn(pos, "PW101", "%s: administration over %s (tcp %s, cleartext) is open to any address", what, s.name, s.ports)
				}
			}
			switch {
			case admin:
				l.warn(pos, "PW102", "%s: administration (tcp %s) is open to any address; bind %s to the networks admins work from", what, ps, administrators)
			case o.Kind == ir.OriginCustom:
				for _, s := range adminPorts {
					if ps.Intersect(s.ports).Len() > 0 {
						l.warn(pos, "PW102", "%s: %s (tcp %s) is open to any address", what, s.name, ps.Intersect(s.ports))
					}
				}
			}
		}
	}
}

// what names an origin and the rule it is part of.
func (l *linter) what(r *ir.Rule, o ir.Origin) string {
	return fmt.Sprintf("%s (rule %s to %s)", o.Label(), r.ID, r.To)
}

func (l *linter) anyIn(e ir.Endpoint) bool {
	for _, n := range e.Sets {
		if s, ok := l.rs.Set(n); ok && s.IsAny() {
			return true
		}
	}
	return false
}

// deprecated reports every deprecated flow a deployment asks for (PW201).
func (l *linter) deprecated() {
	for _, d := range l.p.Deployments {
		for j, id := range d.Deprecated {
			purpose := ""
			for _, r := range l.rs.Rules {
				for _, o := range r.Origins {
					if o.Deployment == d.Name && o.Flow == id {
						purpose = ": " + o.Purpose
					}
				}
			}
			l.warn(l.p.Doc.Pos("deployment", d.Index, "deprecated", j), "PW201",
				"deprecated flow %s/%s is opened%s; the vendor no longer uses it", d.Product, id, purpose)
		}
	}
}

// part is what one custom rule allows for one protocol.
type part struct {
	from, to ir.Endpoint
	proto    proto.Protocol
	ports    ports.Set
	types    []uint8
}

// customRules finds custom rules that repeat an earlier one (PW301) or
// that the other rules already cover in full (PW302).
func (l *linter) customRules() {
	parts := map[int][]part{}
	for _, r := range l.rs.Rules {
		for _, o := range r.Origins {
			if o.Kind == ir.OriginCustom {
				parts[o.Allow] = append(parts[o.Allow], part{r.From, r.To, r.Protocol, o.Ports, o.ICMPTypes})
			}
		}
	}
	// Copies of a rule are reported as such (PW301), and do not shadow
	// the first of them.
	keys := map[int]string{}
	first := map[string]int{}
	for _, a := range l.p.Allows {
		if ps := parts[a.Index]; len(ps) > 0 {
			keys[a.Index] = fmt.Sprint(ps)
			if _, seen := first[keys[a.Index]]; !seen {
				first[keys[a.Index]] = a.Index
			}
		}
	}
	for _, a := range l.p.Allows {
		ps := parts[a.Index]
		if len(ps) == 0 {
			continue
		}
		pos := l.p.Doc.Pos("allow", a.Index)
		if prev := first[keys[a.Index]]; prev != a.Index {
			l.warn(pos, "PW301", "allow[%d] repeats allow[%d]", a.Index, prev)
			continue
		}
		var copies []int
		for i, k := range keys {
			if k == keys[a.Index] {
				copies = append(copies, i)
			}
		}
		without := l.without(copies...)
		covered := true
		for _, pt := range ps {
			if !covers(without, pt) {
				covered = false
				break
			}
		}
		if len(coverers(without, ps)) == 0 {
			// Covered by nothing: the rule allows nothing itself (no
			// common IP family, PW706), which is not shadowing.
			continue
		}
		if covered {
			l.warn(pos, "PW302", "allow[%d] adds nothing: %s already allow%s everything it does", a.Index,
				strings.Join(coverers(without, ps), ", "), plural(len(coverers(without, ps))))
		}
	}
}

func plural(n int) string {
	if n == 1 {
		return "s"
	}
	return ""
}

// without is the network view without the contributions of custom rules
// skip.
func (l *linter) without(skip ...int) *ir.Ruleset {
	rs := l.rs.Clone()
	rs.Rules = nil
	for _, r := range l.rs.Rules {
		nr := *r
		nr.Origins, nr.Ports, nr.ICMPTypes = nil, nil, nil
		allTypes := false
		for _, o := range r.Origins {
			if o.Kind == ir.OriginCustom && slices.Contains(skip, o.Allow) {
				continue
			}
			nr.Origins = append(nr.Origins, o)
			nr.Ports = nr.Ports.Union(o.Ports)
			allTypes = allTypes || len(o.ICMPTypes) == 0
			nr.ICMPTypes = append(nr.ICMPTypes, o.ICMPTypes...)
		}
		if len(nr.Origins) == 0 {
			continue
		}
		nr.Ports = nr.Ports.Intersect(r.Ports)
		if allTypes {
			nr.ICMPTypes = nil
		}
		rs.Rules = append(rs.Rules, &nr)
	}
	return rs
}

// covers reports whether rs allows all of part pt, in every family.
func covers(rs *ir.Ruleset, pt part) bool {
	for _, f := range ir.Families {
		if !f.Carries(pt.proto) {
			continue
		}
		g := ir.Grant{Family: f, Src: rs.EndpointAddrs(pt.from, f), Dst: rs.EndpointAddrs(pt.to, f), Protocol: pt.proto, Ports: pt.ports, ICMPTypes: pt.types}
		if g.Src.String() == "" || g.Dst.String() == "" {
			continue
		}
		if rs.CheckGrant(g) != nil {
			return false
		}
	}
	return true
}

// coverers names the origins of the rules that share a protocol and ports
// with the parts.
func coverers(rs *ir.Ruleset, ps []part) []string {
	var out []string
	for _, pt := range ps {
		for _, r := range rs.Rules {
			if r.Protocol != pt.proto || (pt.proto.HasPorts() && r.Ports.Intersect(pt.ports).Len() == 0) {
				continue
			}
			for _, o := range r.Origins {
				if pt.proto.HasPorts() && o.Ports.Intersect(pt.ports).Len() == 0 {
					continue // merged into the rule, but not for these ports
				}
				if !slices.Contains(out, o.Label()) {
					out = append(out, o.Label())
				}
			}
		}
	}
	return out
}

// managementPaths finds hosts whose inbound rules let nobody manage them
// (PW401): rules are all a firewall allows, so a host without one is
// reachable only from its console.
func (l *linter) managementPaths() {
	for _, h := range l.rs.Hosts {
		v, err := l.rs.HostView(h.Name)
		if err != nil {
			continue
		}
		if !manageable(v) {
			l.warn(l.p.Doc.KeyPos("hosts", h.Name), "PW401",
				"host %s: no rule lets anyone manage it (SSH, RDP, WinRM or a flow from the administrators): with input policy %s, a lockout risk; add an [[allow]] from your admin network",
				h.Name, l.rs.Policy.Input)
		}
	}
}

func manageable(v *ir.HostView) bool {
	for _, hr := range v.In {
		for _, o := range hr.Rule.Origins {
			if o.Kind == ir.OriginFlow && o.FromLabel == administrators {
				return true
			}
		}
		if hr.Rule.Protocol != proto.TCP {
			continue
		}
		for _, s := range adminPorts {
			if hr.Rule.Ports.Intersect(s.ports).Len() > 0 {
				return true
			}
		}
	}
	return false
}

// hostNames reports sets matched by host name that some backends cannot
// match (PW501): they refuse to generate, or leave the names out. A
// backend counts only if it renders a rule that uses the set: host
// backends render outbound rules only with egress filtering.
func (l *linter) hostNames(targets []Target) {
	hostSets, allSets := map[string]bool{}, map[string]bool{}
	for _, r := range l.rs.Rules {
		for _, n := range append(slices.Clone(r.From.Sets), r.To.Sets...) {
			allSets[n] = true
		}
	}
	for _, h := range l.rs.Hosts {
		if v, err := l.rs.HostView(h.Name); err == nil {
			for _, hr := range v.Enforced() {
				for _, n := range hr.Remote.Sets {
					hostSets[n] = true
				}
			}
		}
	}
	for _, s := range l.rs.Addrs {
		if len(s.FQDNs) == 0 {
			continue
		}
		var refuse, omit []string
		for _, t := range targets {
			switch {
			case t.HostView && !hostSets[s.Name], !t.HostView && !allSets[s.Name]:
			case t.Names == NamesOmitted:
				omit = append(omit, t.Name)
			case t.Names == NamesRefused:
				refuse = append(refuse, t.Name)
			}
		}
		if len(refuse)+len(omit) == 0 {
			continue
		}
		var what []string
		if len(refuse) > 0 {
			what = append(what, strings.Join(refuse, ", ")+" refuse to generate (fqdn = \"error\")")
		}
		if len(omit) > 0 {
			what = append(what, strings.Join(omit, ", ")+" leave them out, allowing less (fqdn = \"omit\")")
		}
		l.warn(l.at.Set(s.Name), "PW501", "%s is matched by host name (%s): %s", s.Name, strings.Join(s.FQDNs, ", "), strings.Join(what, "; "))
	}
}

// expectations checks the profile's [[expect]] entries against the rules,
// with the probes verify would send (PW601, PW602).
func (l *linter) expectations() {
	if len(l.rs.Expect) == 0 {
		return
	}
	for _, h := range l.rs.Hosts {
		plan, err := probe.NewPlan(l.rs, h.Name)
		if err != nil {
			continue
		}
		for _, c := range plan.Expect {
			pos := l.p.Doc.Pos("expect", c.E.Index)
			if c.Unprobed != "" {
				l.warn(pos, "PW602", "%s: cannot be checked on %s: %s", c.E, h.Name, c.Unprobed)
				continue
			}
			var wrong []string
			for _, i := range c.Probes {
				if pr := plan.Probes[i]; pr.Want != c.E.Allow {
					wrong = append(wrong, pr.Packet.Remote.String())
				}
			}
			if len(wrong) > 0 {
				verb := "block"
				if !c.E.Allow {
					verb = "allow"
				}
				l.warn(pos, "PW601", "%s: the rules of %s %s it %s %s", c.E, h.Name, verb, map[ir.Direction]string{ir.In: "from", ir.Out: "to"}[c.Dir], strings.Join(wrong, ", "))
			}
		}
	}
}
