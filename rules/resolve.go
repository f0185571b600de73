// Package rules resolves a deployment profile against the port catalog
// into the abstract rules of package ir.
package rules

import (
	"fmt"
	"maps"
	"net/netip"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"go4.org/netipx"

	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/profiles"
	"github.com/portwall/portwall/rules/addr"
	"github.com/portwall/portwall/rules/catalog"
	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

// Resolve turns a profile into rules. It checks everything that needs the
// catalog (products, features, roles, peers, modes, options, port
// overrides) and reports every problem at once, positioned in the profile.
//
// Check is the same for a profile that failed its own checks: it adds the
// catalog's problems to the profile's, so that one run reports both.
func Check(p *profiles.Profile, profileErr error, c *catalog.Catalog) error {
	var errs diag.ErrorList
	errs.Append(diag.AsList(profileErr))
	if p != nil {
		if _, err := Resolve(p, c); err != nil && profileErr == nil {
			return err
		} else if err != nil {
			errs.Append(diag.AsList(err))
		}
	}
	return errs.Err()
}

// Resolve turns a checked profile into rules; see Check.
func Resolve(p *profiles.Profile, c *catalog.Catalog) (*ir.Ruleset, error) {
	r := &resolver{p: p, c: c, sets: map[string]*ir.AddrSet{}}
	rs := &ir.Ruleset{
		Profile: p.Name,
		Policy: ir.Policy{
			Input:      ir.InputPolicy(p.Defaults.Input),
			Output:     ir.OutputPolicy(p.Defaults.Output),
			LogDropped: p.Defaults.LogDropped,
			FQDN:       ir.FQDNMode(p.Defaults.FQDN),
		},
	}
	if rs.Profile == "" {
		rs.Profile = strings.TrimSuffix(filepath.Base(p.File), filepath.Ext(p.File))
	}
	r.addressSets()
	for _, name := range slices.Sorted(maps.Keys(p.Hosts)) {
		h := p.Hosts[name]
		addrs := slices.Clone(h.Addrs)
		slices.SortFunc(addrs, netip.Addr.Compare)
		rs.Hosts = append(rs.Hosts, &ir.Host{Name: h.Name, Description: h.Description, Addrs: slices.Compact(addrs)})
	}
	for _, d := range p.Deployments {
		r.deployment(d)
	}
	for _, a := range p.Allows {
		r.allow(a)
	}
	for _, e := range p.Expects {
		rs.Expect = append(rs.Expect, r.expect(e))
	}
	if err := r.errs.Err(); err != nil {
		return nil, err
	}
	merged, err := ir.Merge(r.parts)
	if err != nil {
		return nil, err
	}
	rs.Rules = merged
	rs.Internal = r.internal
	rs.Installers = r.installers
	// Keep the sets rules and internal flows use, in name order.
	used := map[string]bool{}
	for _, rule := range rs.Rules {
		for _, n := range append(slices.Clone(rule.From.Sets), rule.To.Sets...) {
			used[n] = true
		}
	}
	for _, f := range rs.Internal {
		for _, n := range append(slices.Clone(f.From.Sets), f.To.Sets...) {
			used[n] = true
		}
	}
	for _, e := range rs.Expect {
		for _, n := range append(slices.Clone(e.From.Sets), e.To.Sets...) {
			used[n] = true
		}
	}
	for _, n := range slices.Sorted(maps.Keys(used)) {
		rs.Addrs = append(rs.Addrs, r.sets[n])
	}
	return rs, nil
}

type resolver struct {
	p        *profiles.Profile
	c        *catalog.Catalog
	errs     diag.ErrorList
	sets     map[string]*ir.AddrSet
	parts    []*ir.Rule
	internal []*ir.InternalFlow
	// installers: see installer.go.
	installers []*ir.InstallerRule
}

func (r *resolver) errorf(path []any, format string, args ...any) {
	r.p.Doc.Errorf(&r.errs, path, format, args...)
}

func (r *resolver) keyErrorf(path []any, format string, args ...any) {
	r.p.Doc.KeyErrorf(&r.errs, path, format, args...)
}

// addressSets resolves every group and host of the profile into an
// AddrSet, following group references (the profile checker has already
// rejected unknown names and cycles).
func (r *resolver) addressSets() {
	r.sets[ir.AnySet] = &ir.AddrSet{Name: ir.AnySet, Kind: ir.SetAny}
	for _, name := range slices.Sorted(maps.Keys(r.p.Hosts)) {
		var b netipx.IPSetBuilder
		h := r.p.Hosts[name]
		var members []addr.Member
		for _, a := range h.Addrs {
			b.Add(a)
			members = append(members, addr.Member{Kind: addr.KindPrefix, Prefix: netip.PrefixFrom(a, a.BitLen())})
		}
		ips, _ := b.IPSet()
		r.sets[name] = &ir.AddrSet{Name: name, Kind: ir.SetHost, Members: members, Hosts: []string{name}, IPs: ips}
	}
	for _, name := range slices.Sorted(maps.Keys(r.p.Groups)) {
		r.group(name)
	}
}

func (r *resolver) group(name string) *ir.AddrSet {
	if s, ok := r.sets[name]; ok {
		return s
	}
	g := r.p.Groups[name]
	s := &ir.AddrSet{Name: name, Kind: ir.SetGroup, Members: g.Members, Refs: g.Refs}
	r.sets[name] = s // references are acyclic, so this is never read half-built
	var b netipx.IPSetBuilder
	fqdns := map[string]bool{}
	hosts := map[string]bool{}
	for _, m := range g.Members {
		switch m.Kind {
		case addr.KindPrefix:
			b.AddPrefix(m.Prefix)
		case addr.KindRange:
			b.AddRange(m.Range)
		case addr.KindFQDN:
			fqdns[m.FQDN] = true
		case addr.KindAny:
			s.All = true
		}
	}
	for _, ref := range g.Refs {
		var sub *ir.AddrSet
		if _, isHost := r.p.Hosts[ref]; isHost {
			sub = r.sets[ref]
		} else {
			sub = r.group(ref)
		}
		if sub.IPs != nil {
			b.AddSet(sub.IPs)
		}
		for _, f := range sub.FQDNs {
			fqdns[f] = true
		}
		for _, h := range sub.Hosts {
			hosts[h] = true
		}
		s.All = s.All || sub.All
	}
	s.IPs, _ = b.IPSet()
	s.FQDNs = slices.Sorted(maps.Keys(fqdns))
	s.Hosts = slices.Sorted(maps.Keys(hosts))
	return s
}

// deployment resolves one [[deployment]] into rule parts.
func (r *resolver) deployment(d *profiles.Deployment) {
	at := func(more ...any) []any { return append([]any{"deployment", d.Index}, more...) }
	prod, ok := r.c.Product(d.Product)
	if !ok {
		if d.Product != "" {
			r.errorf(at("product"), "unknown product %q%s (known: %s)", d.Product, diag.DidYouMean(d.Product, r.c.Names()), strings.Join(r.c.Names(), ", "))
		}
		return
	}

	mode := d.Mode
	switch {
	case mode != "" && len(prod.Modes) == 0:
		r.errorf(at("mode"), "product %s has no operating modes", prod.Name)
	case mode != "" && !slices.Contains(prod.Modes, mode):
		r.errorf(at("mode"), "unknown mode %q of product %s%s (modes: %s)", mode, prod.Name, diag.DidYouMean(mode, prod.Modes), strings.Join(prod.Modes, ", "))
	case mode == "":
		mode = prod.Mode
	}

	options := r.options(d, prod, at)

	features := d.Features
	if features == nil {
		features = prod.DefaultFeatures()
	}
	enabled := map[string]bool{}
	for i, f := range features {
		if _, ok := prod.Feature(f); !ok {
			r.errorf(at("features", i), "unknown feature %q of product %s%s", f, prod.Name, diag.DidYouMean(f, prod.FeatureNames()))
			continue
		}
		enabled[f] = true
	}

	deprecated := map[string]bool{}
	for i, id := range d.Deprecated {
		fl, ok := prod.Flow(id)
		switch {
		case !ok:
			r.errorf(at("deprecated", i), "unknown flow %q of product %s%s", id, prod.Name, diag.DidYouMean(id, prod.FlowIDs()))
		case !fl.Deprecated:
			r.errorf(at("deprecated", i), "flow %q of product %s is not deprecated; enable its feature %q instead", id, prod.Name, fl.Feature)
		case !enabled[fl.Feature]:
			r.errorf(at("deprecated", i), "deprecated flow %q belongs to feature %q, which this deployment does not enable", id, fl.Feature)
		default:
			deprecated[id] = true
		}
	}

	// Port overrides and choices name flows; check them before use.
	for _, id := range slices.Sorted(maps.Keys(d.Ports)) {
		fl, ok := r.flowKey(prod, at("ports", id), id)
		switch {
		case !ok:
		case !fl.Configurable:
			r.keyErrorf(at("ports", id), "flow %q of product %s is not configurable: its port %s is fixed by the vendor", id, prod.Name, fl.Ports)
		case !enabled[fl.Feature]:
			r.keyErrorf(at("ports", id), "flow %q belongs to feature %q, which this deployment does not enable", id, fl.Feature)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(d.Choose)) {
		fl, ok := r.flowKey(prod, at("choose", id), id)
		switch {
		case !ok:
		case !fl.Alternatives:
			r.keyErrorf(at("choose", id), "flow %q of product %s has no alternatives to choose from", id, prod.Name)
		case !fl.Ports.Covers(d.Choose[id]):
			r.errorf(at("choose", id), "flow %q: %s is not among its alternatives %s", id, d.Choose[id], fl.Ports)
		case !enabled[fl.Feature]:
			r.keyErrorf(at("choose", id), "flow %q belongs to feature %q, which this deployment does not enable", id, fl.Feature)
		}
		if ok && d.Ports[id] != nil {
			r.keyErrorf(at("choose", id), "flow %q has both a port override and a choice; keep one", id)
		}
	}

	// A misspelt binding is reported once, as such, not again as the
	// missing binding it was meant to be.
	meant := map[string]bool{}
	r.unknownBindings(at("roles"), prod, d.Roles, "role", prod.RoleNames(), prod.PeerNames(), "peer", meant)
	r.unknownBindings(at("peers"), prod, d.Peers, "peer", prod.PeerNames(), prod.RoleNames(), "role", meant)

	// Every flow the deployment enables, and what it needs bound.
	missing := map[string][]string{} // unbound role or peer -> flows needing it
	for fi := range prod.Flows {
		fl := &prod.Flows[fi]
		if !enabled[fl.Feature] || (len(fl.Modes) > 0 && !slices.Contains(fl.Modes, mode)) {
			continue
		}
		if fl.Deprecated && !deprecated[fl.ID] {
			continue
		}
		// Internal flows are never opened, so they need no binding; what is
		// bound is recorded for explanations.
		need := missing
		if fl.Internal {
			need = map[string][]string{}
		}
		from, okFrom := r.bind(d, prod, fl.From, options, need, fl.ID)
		to, okTo := r.bind(d, prod, fl.To, options, need, fl.ID)
		if !fl.Internal && (!okFrom || !okTo) {
			continue
		}
		origin := ir.Origin{
			Kind: ir.OriginFlow, Order: [3]int{0, d.Index, fi},
			Deployment: d.Name, Product: prod.Name, Feature: fl.Feature, Flow: fl.ID,
			FromLabel: fl.From, ToLabel: fl.To, Purpose: fl.Purpose, Source: prod.SourceLine(fl),
		}
		ps := fl.Ports
		switch {
		case d.Ports[fl.ID] != nil:
			ps = d.Ports[fl.ID]
		case d.Choose[fl.ID] != nil:
			ps = d.Choose[fl.ID]
		case fl.Random && options[fl.PortPool] != "":
			pool, _ := ports.Parse(options[fl.PortPool]) // checked in options
			ps = ports.NewSet(pool)
		}
		if fl.Internal {
			// The ports say where it would be, for "why is this closed?".
			origin.Ports = ps
			for _, pr := range fl.Protocols {
				r.internal = append(r.internal, &ir.InternalFlow{Origin: origin, From: from, To: to, Protocol: pr})
			}
			continue
		}
		program := ""
		if fl.Program != "" {
			program = strings.TrimRight(options[fl.ProgramDir], `\`) + `\` + fl.Program
			origin.ProgramOption = fl.ProgramDir
		}
		for _, pr := range fl.Protocols {
			o := origin
			part := &ir.Rule{From: from, To: to, Protocol: pr, Program: program}
			if pr.HasPorts() {
				part.Ports, o.Ports = ps, ps
			} else {
				part.ICMPTypes = r.icmpTypes([]any{"deployment", d.Index, "product"}, pr, fl.ICMPTypes)
				o.ICMPTypes = part.ICMPTypes
			}
			part.Origins = []ir.Origin{o}
			r.parts = append(r.parts, part)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(missing)) {
		if meant[name] {
			continue
		}
		kind, key := "role", "roles"
		if !prod.IsRole(name) {
			kind, key = "peer", "peers"
		}
		r.keyErrorf(at(key), "%s %q of product %s is not bound, but enabled flows need it (%s): add %s = [...] under [deployment.%s]",
			kind, name, prod.Name, strings.Join(missing[name], ", "), name, key)
	}
	r.installerRules(d, prod, options)
}

// unknownBindings reports keys of a roles or peers table that are not
// names of that kind, and records which name each was probably meant as.
func (r *resolver) unknownBindings(path []any, prod *catalog.Product, bound map[string][]string,
	kind string, names, otherNames []string, other string, meant map[string]bool) {
	for _, k := range slices.Sorted(maps.Keys(bound)) {
		if slices.Contains(names, k) {
			continue
		}
		hint := diag.DidYouMean(k, names)
		meant[diag.Suggest(k, names)] = true
		if slices.Contains(otherNames, k) {
			hint = fmt.Sprintf("; it is a %s: bind it under %ss", other, other)
		}
		r.keyErrorf(append(slices.Clone(path), k), "unknown %s %q of product %s%s", kind, k, prod.Name, hint)
	}
}

func (r *resolver) flowKey(prod *catalog.Product, path []any, id string) (*catalog.Flow, bool) {
	fl, ok := prod.Flow(id)
	if !ok {
		r.keyErrorf(path, "unknown flow %q of product %s%s", id, prod.Name, diag.DidYouMean(id, prod.FlowIDs()))
	}
	return fl, ok
}

// options checks the deployment's options and fills in defaults.
func (r *resolver) options(d *profiles.Deployment, prod *catalog.Product, at func(...any) []any) map[string]string {
	out := map[string]string{}
	for _, o := range prod.Options {
		if o.Default != "" {
			out[o.Name] = o.Default
		}
	}
	for _, k := range slices.Sorted(maps.Keys(d.Options)) {
		v := d.Options[k]
		o, ok := prod.Option(k)
		if !ok {
			r.keyErrorf(at("options", k), "unknown option %q of product %s%s", k, prod.Name, diag.DidYouMean(k, prod.OptionNames()))
			continue
		}
		switch o.Kind {
		case catalog.OptionChoice:
			if !slices.Contains(o.Values, v) {
				r.errorf(at("options", k), "invalid value %q for option %s: want one of %s%s", v, k, strings.Join(o.Values, ", "), diag.DidYouMean(v, o.Values))
				continue
			}
		case catalog.OptionPortRange:
			if _, err := ports.Parse(v); err != nil {
				r.errorf(at("options", k), "option %s: %v", k, err)
				continue
			}
		case catalog.OptionPath:
			if v == "" || strings.ContainsAny(v, "\"\r\n\x00|") {
				r.errorf(at("options", k), "option %s: a path may not be empty or hold quotes, '|', or line breaks", k)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// bind resolves a flow end (a role or peer of the product) to an endpoint.
// A peer the deployment leaves unbound falls back to the catalog's host
// names for it; anything else unbound is recorded in missing.
func (r *resolver) bind(d *profiles.Deployment, prod *catalog.Product, name string, options map[string]string, missing map[string][]string, flow string) (ir.Endpoint, bool) {
	if names, ok := d.Roles[name]; ok && prod.IsRole(name) {
		return ir.NewEndpoint(names...), true
	}
	if names, ok := d.Peers[name]; ok && !prod.IsRole(name) {
		return ir.NewEndpoint(names...), true
	}
	if peer, ok := prod.Peer(name); ok && peer.HasDefaultFQDNs() {
		fqdns := peer.FQDNs
		region := ""
		if peer.RegionOption != "" {
			region = options[peer.RegionOption]
			fqdns = peer.FQDNsByRegion[region]
		}
		if len(fqdns) == 0 {
			r.errorf([]any{"deployment", d.Index, "options", peer.RegionOption},
				"peer %q of product %s has no servers for %s %q (flow %s); choose another region or bind the peer under [deployment.peers]",
				name, prod.Name, peer.RegionOption, region, flow)
			return ir.Endpoint{}, false
		}
		setName := d.Name + "." + name
		if _, done := r.sets[setName]; !done {
			sorted := slices.Clone(fqdns)
			sort.Strings(sorted)
			var members []addr.Member
			for _, f := range sorted {
				members = append(members, addr.Member{Kind: addr.KindFQDN, FQDN: f})
			}
			r.sets[setName] = &ir.AddrSet{Name: setName, Kind: ir.SetCatalogFQDN, Members: members, FQDNs: sorted}
		}
		return ir.NewEndpoint(setName), true
	}
	if !slices.Contains(missing[name], flow) {
		missing[name] = append(missing[name], flow)
	}
	return ir.Endpoint{}, false
}

// icmpTypes converts ICMP type names. Names were checked when the catalog
// or the profile was loaded; a bad one here is reported again (with the
// same message, which the sorted list merges) rather than dropped, since
// dropping it would leave an empty list: every type.
func (r *resolver) icmpTypes(path []any, p proto.Protocol, names []string) []uint8 {
	var out []uint8
	for i, n := range names {
		t, err := proto.ParseICMPType(p, n)
		if err != nil {
			r.errorf(append(path, i), "%v%s", err, diag.DidYouMean(n, proto.ICMPTypeNames(p)))
			continue
		}
		out = append(out, t)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// allow turns a custom rule into rule parts.
func (r *resolver) allow(a *profiles.Allow) {
	from, to := ir.NewEndpoint(a.From...), ir.NewEndpoint(a.To...)
	for i, name := range a.Services {
		r.allowService(a, i, name, from, to)
	}
	for _, pr := range a.Protocols {
		o := ir.Origin{Kind: ir.OriginCustom, Order: [3]int{1, a.Index, 0}, Allow: a.Index, Comment: a.Comment}
		part := &ir.Rule{From: from, To: to, Protocol: pr}
		if pr.HasPorts() {
			part.Ports, o.Ports = a.Ports, a.Ports
		} else {
			part.ICMPTypes = r.icmpTypes([]any{"allow", a.Index, "icmp_types"}, pr, a.ICMPTypes)
			o.ICMPTypes = part.ICMPTypes
		}
		part.Origins = []ir.Origin{o}
		r.parts = append(r.parts, part)
	}
}

// allowService turns the i-th service a custom rule names into rule parts,
// one per protocol, each origin naming the service.
func (r *resolver) allowService(a *profiles.Allow, i int, name string, from, to ir.Endpoint) {
	// Written as one string the service has no index; Pos falls back to
	// the key.
	path := []any{"allow", a.Index, "service", i}
	svc, ok := r.c.Service(name)
	if !ok {
		r.errorf(path, "unknown service %q%s (portwall catalog list shows the services)", name, diag.DidYouMean(name, r.c.ServiceNames()))
		return
	}
	if len(svc.Unsupported) > 0 {
		// Opening only the ports would open half a service: refuse it
		// whole, and say what is missing.
		r.errorf(path, "service %q also needs %s, which portwall cannot express: write the [[allow]] with protocol and ports instead",
			name, strings.Join(svc.Unsupported, "; "))
		return
	}
	for _, pp := range svc.Ports() {
		o := ir.Origin{Kind: ir.OriginCustom, Order: [3]int{1, a.Index, i}, Allow: a.Index, Service: name, Comment: a.Comment, Ports: pp.Ports}
		r.parts = append(r.parts, &ir.Rule{From: from, To: to, Protocol: pp.Protocol, Ports: pp.Ports, Origins: []ir.Origin{o}})
	}
}

// expect resolves an [[expect]] entry. One of its sides must name a host
// of the profile: verify proves expectations on the hosts' rulesets.
func (r *resolver) expect(e *profiles.Expect) *ir.Expectation {
	path := []any{"expect", e.Index}
	out := &ir.Expectation{
		Index: e.Index, Pos: r.p.Doc.Pos(path...).String(),
		From: ir.NewEndpoint(e.From), To: ir.NewEndpoint(e.To),
		Protocol: e.Protocol, Port: e.Port, Allow: e.Verdict == profiles.VerdictAllow, Comment: e.Comment,
	}
	if s, ok := r.sets[e.From]; ok && len(s.Hosts) > 0 {
		return out
	}
	if s, ok := r.sets[e.To]; ok && len(s.Hosts) > 0 {
		return out
	}
	r.errorf(path, "expectation from %q to %q names no host of the profile: verify proves expectations on the hosts' own rules, so one side must be a host or a group that lists one", e.From, e.To)
	return out
}
