package lint

import (
	"slices"
	"strings"
	"time"

	"github.com/portwall/portwall/rules/ir"
)

// expiry reports custom rules that expired (PW702: the resolver left them
// out) or expire within the warning period (PW701).
func (l *linter) expiry() {
	for _, x := range l.rs.Expired {
		l.warn(l.p.Doc.Pos("allow", x.Allow, "expires"), "PW702", "allow[%d]%s expired on %s and is not generated: remove it, or move expires", x.Allow, who(x.Owner, x.Ticket), x.Expires)
	}
	today := time.Date(l.cfg.Today.Year, l.cfg.Today.Month, l.cfg.Today.Day, 0, 0, 0, 0, time.UTC)
	for _, a := range l.p.Allows {
		if a.Expires == nil || a.Expires.Before(l.cfg.Today) {
			continue
		}
		until := time.Date(a.Expires.Year, a.Expires.Month, a.Expires.Day, 0, 0, 0, 0, time.UTC)
		days := int(until.Sub(today).Hours() / 24)
		if days <= l.cfg.ExpiryWarning {
			l.warn(l.p.Doc.Pos("allow", a.Index, "expires"), "PW701", "allow[%d]%s expires on %s, in %d day%s: renew it (move expires) or let it lapse", a.Index, who(a.Owner, a.Ticket), a.Expires, days, map[bool]string{true: "", false: "s"}[days == 1])
		}
	}
}

func who(owner, ticket string) string {
	var parts []string
	if owner != "" {
		parts = append(parts, "owner "+owner)
	}
	if ticket != "" {
		parts = append(parts, "ticket "+ticket)
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// unusedBindings reports roles and peers a deployment binds that no
// enabled flow uses (PW703): usually a feature the profile meant to enable
// and did not, or a binding left from one it turned off.
func (l *linter) unusedBindings() {
	used := map[string]map[string]bool{} // deployment -> labels
	mark := func(o ir.Origin) {
		if o.Kind != ir.OriginFlow {
			return
		}
		if used[o.Deployment] == nil {
			used[o.Deployment] = map[string]bool{}
		}
		used[o.Deployment][o.FromLabel] = true
		used[o.Deployment][o.ToLabel] = true
	}
	for _, r := range l.rs.Rules {
		for _, o := range r.Origins {
			mark(o)
		}
	}
	for _, f := range l.rs.Internal {
		mark(f.Origin)
	}
	for _, d := range l.p.Deployments {
		for _, kind := range []struct {
			key   string
			names map[string][]string
		}{{"roles", d.Roles}, {"peers", d.Peers}} {
			for label := range kind.names {
				if !used[d.Name][label] {
					l.warn(l.p.Doc.Pos("deployment", d.Index, kind.key, label), "PW703",
						"%s %q of deployment %s is bound, but no enabled flow uses it: enable the feature that needs it, or remove the binding", strings.TrimSuffix(kind.key, "s"), label, d.Name)
				}
			}
		}
	}
}

// dynamicSetsWithoutDNS reports hosts whose egress is filtered and whose
// outbound rules reach host names through sets a resolver fills at run
// time, but that no rule lets reach a DNS server (PW704).
func (l *linter) dynamicSetsWithoutDNS() {
	if l.rs.Policy.Output != ir.OutputDrop || l.rs.Policy.FQDN != ir.FQDNDynamicSet {
		return
	}
	for _, h := range l.rs.Hosts {
		v, err := l.rs.HostView(h.Name)
		if err != nil {
			continue
		}
		var named []string
		dns := false
		for _, hr := range v.Out {
			for _, n := range hr.Remote.Sets {
				if s, ok := l.rs.Set(n); ok && len(s.FQDNs) > 0 && !slices.Contains(named, n) {
					named = append(named, n)
				}
			}
			if hr.Rule.Protocol.HasPorts() && hr.Rule.Ports.Contains(53) {
				dns = true
			}
		}
		if len(named) > 0 && !dns {
			l.warn(l.at.Host(h.Name), "PW704", "host %s filters egress and reaches %s by host name through sets filled from DNS (fqdn = \"dynamic-set\"), but no outbound rule allows DNS (port 53): the sets stay empty; allow DNS to its resolvers", h.Name, strings.Join(named, ", "))
		}
	}
}

// noCommonFamily reports what can never match because its two sides
// share no IP family (PW706): an IPv4-only side and an IPv6-only side.
// It judges each origin (a custom rule, or a flow between two bindings)
// as a whole: a flow of ICMP and ICMPv6 between IPv4 hosts matches by its
// ICMP part, and only an origin none of whose rules can match is a
// mistake in a group or a binding.
func (l *linter) noCommonFamily() {
	type finding struct {
		o        ir.Origin
		r        *ir.Rule
		from, to map[ir.Family]bool
		alive    bool
	}
	byOrigin := map[string]*finding{}
	var order []string
	for _, r := range l.rs.Rules {
		from, to := l.families(r.From), l.families(r.To)
		alive := false
		for _, f := range ir.Families {
			if from[f] && to[f] && f.Carries(r.Protocol) {
				alive = true
			}
		}
		for _, o := range r.Origins {
			key := o.Label() + "|" + o.FromLabel + "|" + o.ToLabel + "|" + r.From.String() + "|" + r.To.String()
			if o.Kind == ir.OriginCustom {
				key = o.Label()
			}
			f, ok := byOrigin[key]
			if !ok {
				f = &finding{o: o, r: r, from: from, to: to}
				byOrigin[key] = f
				order = append(order, key)
			}
			f.alive = f.alive || alive
		}
	}
	for _, key := range order {
		f := byOrigin[key]
		if f.alive {
			continue
		}
		l.warn(l.at.Rule(&ir.Rule{Origins: []ir.Origin{f.o}}), "PW706", "%s from %s (%s) to %s (%s) can never match: the two sides share no IP family",
			f.o.Label(), f.r.From, famNames(f.from), f.r.To, famNames(f.to))
	}
}

// families is which IP families an endpoint has addresses (or host
// names, which may resolve to either) in.
func (l *linter) families(e ir.Endpoint) map[ir.Family]bool {
	out := map[ir.Family]bool{}
	for _, n := range e.Sets {
		s, ok := l.rs.Set(n)
		if !ok {
			continue
		}
		if s.IsAny() || len(s.FQDNs) > 0 {
			return map[ir.Family]bool{ir.IPv4: true, ir.IPv6: true}
		}
		for _, f := range ir.Families {
			if len(s.Ranges(f)) > 0 {
				out[f] = true
			}
		}
	}
	return out
}

func famNames(m map[ir.Family]bool) string {
	var out []string
	for _, f := range ir.Families {
		if m[f] {
			out = append(out, map[ir.Family]string{ir.IPv4: "IPv4", ir.IPv6: "IPv6"}[f])
		}
	}
	if len(out) == 0 {
		return "no address"
	}
	return strings.Join(out, " and ") + " only"
}

// generatesNothing reports custom rules neither side of which names a
// host of the profile (PW707): host backends apply a rule to the hosts it
// names, so only network-view backends (FortiGate, the JSON network view)
// emit it. "to = any" is the usual case: any stands for other machines.
func (l *linter) generatesNothing() {
	if l.cfg.NetworkView {
		return
	}
	for _, a := range l.p.Allows {
		if a.Expires != nil && a.Expires.Before(l.cfg.Today) {
			continue
		}
		if l.namesHost(a.From) || l.namesHost(a.To) {
			continue
		}
		l.warn(l.p.Doc.Pos("allow", a.Index), "PW707", "allow[%d] names no host of the profile on either side (%s -> %s): host targets generate nothing for it, only the network view (FortiGate) does; name the host it is for", a.Index, strings.Join(a.From, ","), strings.Join(a.To, ","))
	}
}

func (l *linter) namesHost(names []string) bool {
	for _, n := range names {
		if s, ok := l.rs.Set(n); ok && len(s.Hosts) > 0 {
			return true
		}
	}
	return false
}
