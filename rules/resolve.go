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
	"strconv"
	"strings"
	"time"

	"go4.org/netipx"

	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/internal/par"
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
	// A placeholder the profile reports is not reported again as the
	// unknown name or invalid value it is to the catalog's checks.
	return profiles.FilterPlaceholders(errs).Err()
}

// Option changes how a profile is resolved.
type Option func(*resolver)

// On resolves the profile as of day: custom rules that expire before it
// are left out (ir.Ruleset.Expired). The default is the local date when
// Resolve runs.
func On(day profiles.Date) Option { return func(r *resolver) { r.today = day } }

// Resolve turns a checked profile into rules; see Check.
func Resolve(p *profiles.Profile, c *catalog.Catalog, opts ...Option) (*ir.Ruleset, error) {
	r := &resolver{p: p, c: c, sets: make(map[string]*ir.AddrSet, 1+len(p.Hosts)+len(p.Groups)), today: profiles.DateOf(time.Now())}
	for _, o := range opts {
		o(r)
	}
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
	// The custom rules need no address set: a resolver of their own
	// resolves them while the sets are built. Their parts and errors come
	// after the deployments', as in profile order.
	custom := &resolver{p: p, c: c, today: r.today}
	both(len(p.Allows)+len(p.Groups) >= parallelMin, func() {
		rs.Hosts = hostList(p)
		rs.Expired = custom.allows()
	}, r.addressSets)
	r.reverseLinks()
	for _, d := range p.Deployments {
		r.deployment(d)
	}
	r.errs.Append(custom.errs)
	for _, e := range p.Expects {
		rs.Expect = append(rs.Expect, r.expect(e))
	}
	if err := r.errs.Err(); err != nil {
		return nil, err
	}
	parts := slices.Concat(r.parts, custom.parts)
	r.parts, custom.parts = nil, nil // Merge takes them over
	// Which sets are used is read off the parts before Merge writes over
	// them (merged rules keep their parts' endpoints); the sets are sorted
	// meanwhile.
	used := usedSets(len(r.sets), parts, r.internal, rs.Expect)
	var sorted []namedSet
	var merged []*ir.Rule
	var err error
	both(len(r.sets)+len(parts) >= parallelMin, func() { sorted = sortedSets(r.sets) }, func() { merged, err = ir.Merge(parts) })
	if err != nil {
		return nil, err
	}
	rs.Rules = merged
	rs.Internal = r.internal
	rs.Decisions = r.decisions
	rs.Installers = r.installers
	rs.Addrs, rs.Unused = splitSets(sorted, used)
	return rs, nil
}

// hostList lists the profile's hosts for the Ruleset, sorted by name,
// each with its addresses sorted and unique.
func hostList(p *profiles.Profile) []*ir.Host {
	var out []*ir.Host
	for _, name := range slices.Sorted(maps.Keys(p.Hosts)) {
		h := p.Hosts[name]
		addrs := slices.Clone(h.Addrs)
		slices.SortFunc(addrs, netip.Addr.Compare)
		out = append(out, &ir.Host{Name: h.Name, Description: h.Description, Addrs: slices.Compact(addrs)})
	}
	return out
}

// allows resolves the profile's custom rules into r.parts, and returns
// those that expired.
func (r *resolver) allows() []*ir.ExpiredRule {
	var expired []*ir.ExpiredRule
	// A custom rule is mostly one part.
	r.parts = make([]*ir.Rule, 0, len(r.p.Allows))
	r.blocks.expect(len(r.p.Allows))
	for _, a := range r.p.Allows {
		if a.Expires != nil && a.Expires.Before(r.today) {
			expired = append(expired, &ir.ExpiredRule{Allow: a.Index, Owner: a.Owner, Ticket: a.Ticket, Expires: a.Expires.String(),
				Comment: a.Comment, Pos: r.p.Doc.Pos("allow", a.Index, "expires").String()})
			continue
		}
		r.allow(a)
	}
	return expired
}

// parallelMin is the number of items (rules, sets) below which work is
// not worth a goroutine: it takes a few microseconds to start one.
var parallelMin = 256 // a variable for TestParallelAsSerial

// both runs f and g, side by side if parallel (par.Both), and returns
// when both are done. The two must share nothing they change: the result
// is the same whichever runs first.
func both(parallel bool, f, g func()) {
	if parallel {
		par.Both(f, g)
		return
	}
	f()
	g()
}

// usedSets names the sets that rule parts, internal flows and
// expectations use, of n sets.
func usedSets(n int, parts []*ir.Rule, internal []*ir.InternalFlow, expect []*ir.Expectation) map[string]bool {
	used := make(map[string]bool, n)
	// Consecutive parts mostly share a side (endpointMemo): its names are
	// marked once.
	var last []string
	use := func(ends ...ir.Endpoint) {
		for _, e := range ends {
			if len(e.Sets) > 0 && len(e.Sets) == len(last) && &e.Sets[0] == &last[0] {
				continue
			}
			for _, n := range e.Sets {
				used[n] = true
			}
			last = e.Sets
		}
	}
	for _, p := range parts {
		use(p.From, p.To)
	}
	for _, f := range internal {
		use(f.From, f.To)
	}
	for _, e := range expect {
		use(e.From, e.To)
	}
	return used
}

// sortedSets lists sets by name.
func sortedSets(sets map[string]*ir.AddrSet) []namedSet {
	all := make([]namedSet, 0, len(sets))
	for name, s := range sets {
		all = append(all, namedSet{name, s})
	}
	slices.SortFunc(all, func(a, b namedSet) int { return strings.Compare(a.name, b.name) })
	return all
}

// splitSets splits sorted sets into those used and the others, each in
// order.
func splitSets(sorted []namedSet, used map[string]bool) (in, out []*ir.AddrSet) {
	in = make([]*ir.AddrSet, 0, min(len(used), len(sorted)))
	for _, ns := range sorted {
		if used[ns.name] {
			in = append(in, ns.set)
		} else {
			out = append(out, ns.set)
		}
	}
	if len(in) == 0 {
		return nil, out
	}
	return slices.Clip(in), out
}

// namedSet is a set with its name at hand: sorting thousands of sets by
// name then compares names without visiting each set.
type namedSet struct {
	name string
	set  *ir.AddrSet
}

type resolver struct {
	p         *profiles.Profile
	c         *catalog.Catalog
	errs      diag.ErrorList
	sets      map[string]*ir.AddrSet
	parts     []*ir.Rule
	internal  []*ir.InternalFlow
	decisions []*ir.Decision
	today     profiles.Date
	// linked holds the peers bound from the other side: deployment ->
	// peer -> hosts and groups (see reverseLinks).
	linked map[string]map[string][]string
	// allowFrom and allowTo are the sides of the last custom rule.
	allowFrom, allowTo endpointMemo
	// installers: see installer.go.
	installers []*ir.InstallerRule
	// blocks holds the parts' memory.
	blocks partBlocks
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
//
// Each set depends only on its own definition and those it refers to, so
// the maps are walked in their own order: sorting thousands of names here
// would change nothing.
func (r *resolver) addressSets() {
	r.sets[ir.AnySet] = &ir.AddrSet{Name: ir.AnySet, Kind: ir.SetAny}
	for name, h := range r.p.Hosts {
		var b netipx.IPSetBuilder
		var members []addr.Member
		if len(h.Addrs) > 0 {
			members = make([]addr.Member, 0, len(h.Addrs))
		}
		for _, a := range h.Addrs {
			b.Add(a)
			members = append(members, addr.Member{Kind: addr.KindPrefix, Prefix: netip.PrefixFrom(a, a.BitLen())})
		}
		ips, _ := b.IPSet()
		r.sets[name] = &ir.AddrSet{Name: name, Kind: ir.SetHost, Members: members, Hosts: []string{name}, IPs: ips}
	}
	// Groups that refer to no other set are most of a large profile, and
	// independent of each other: they are built into one block, on two
	// goroutines. A name that is also a host's, or "any", is that set's
	// (the profile reports the clash).
	leaves := make([]ir.AddrSet, 0, len(r.p.Groups))
	var others []*profiles.Group
	var names []string // of others
	for name, g := range r.p.Groups {
		if _, isHost := r.p.Hosts[name]; isHost || name == ir.AnySet {
			continue
		}
		if len(g.Refs) > 0 {
			others, names = append(others, g), append(names, name)
			continue
		}
		leaves = leaves[:len(leaves)+1]
		s := &leaves[len(leaves)-1]
		s.Name, s.Kind, s.Members, s.Refs = name, ir.SetGroup, g.Members, g.Refs
	}
	half := len(leaves) / 2
	both(len(leaves) >= parallelMin, func() { leafSets(leaves[:half]) }, func() { leafSets(leaves[half:]) })
	for i := range leaves {
		r.sets[leaves[i].Name] = &leaves[i]
	}
	for i, g := range others {
		if _, done := r.sets[names[i]]; !done {
			r.newGroup(names[i], g)
		}
	}
}

// group returns the set of group name, resolving it on first use.
func (r *resolver) group(name string) *ir.AddrSet {
	if s, ok := r.sets[name]; ok {
		return s
	}
	return r.newGroup(name, r.p.Groups[name])
}

// newGroup resolves group g, named name, into its set.
func (r *resolver) newGroup(name string, g *profiles.Group) *ir.AddrSet {
	s := &ir.AddrSet{Name: name, Kind: ir.SetGroup, Members: g.Members, Refs: g.Refs}
	r.sets[name] = s // references are acyclic, so this is never read half-built
	var b netipx.IPSetBuilder
	// FQDNs and hosts are gathered with repeats, then sorted and made
	// unique: most groups have none, or those of one reference.
	fqdns := addMembers(s, &b)
	var hosts []string
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
		fqdns = append(fqdns, sub.FQDNs...)
		hosts = append(hosts, sub.Hosts...)
		s.All = s.All || sub.All
	}
	s.IPs, _ = b.IPSet()
	s.FQDNs = sortedUnique(fqdns)
	s.Hosts = sortedUnique(hosts)
	return s
}

// leafSets resolves sets of groups that refer to no other set: each has
// its own Members, from which the rest is filled in.
func leafSets(sets []ir.AddrSet) {
	for i := range sets {
		s := &sets[i]
		var b netipx.IPSetBuilder
		fqdns := addMembers(s, &b)
		s.IPs, _ = b.IPSet()
		s.FQDNs = sortedUnique(fqdns)
	}
}

// addMembers adds the set's own members to b, sets All if one is "any",
// and returns the FQDNs among them, unsorted.
func addMembers(s *ir.AddrSet, b *netipx.IPSetBuilder) []string {
	var fqdns []string
	for i := range s.Members {
		m := &s.Members[i]
		switch m.Kind {
		case addr.KindPrefix:
			b.AddPrefix(m.Prefix)
		case addr.KindRange:
			b.AddRange(m.Range)
		case addr.KindFQDN:
			fqdns = append(fqdns, m.FQDN)
		case addr.KindAny:
			s.All = true
		}
	}
	return fqdns
}

// sortedUnique sorts names and drops repeats, in place; nil for none.
func sortedUnique(names []string) []string {
	if len(names) == 0 {
		return nil
	}
	slices.Sort(names)
	return slices.Compact(names)
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

	full := prod
	version := r.version(d, full, at)
	prod = full.InVersion(version)
	options := r.options(d, prod, at)
	enabled := r.features(d, full, prod, version, at)

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
		fl, ok := r.flowKey(full, prod, version, at("ports", id), id)
		switch {
		case !ok:
		case !fl.Configurable:
			r.keyErrorf(at("ports", id), "flow %q of product %s is not configurable: its port %s is fixed by the vendor", id, prod.Name, fl.Ports)
		case !enabled[fl.Feature]:
			r.keyErrorf(at("ports", id), "flow %q belongs to feature %q, which this deployment does not enable", id, fl.Feature)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(d.Choose)) {
		fl, ok := r.flowKey(full, prod, version, at("choose", id), id)
		ch := d.Choose[id]
		switch {
		case !ok:
		case !fl.Alternatives && !fl.ProtocolAlternatives:
			r.keyErrorf(at("choose", id), "flow %q of product %s has no alternatives to choose from", id, prod.Name)
		case len(ch.Ports) > 0 && !fl.Alternatives:
			r.keyErrorf(at("choose", id), "flow %q of product %s has no alternative ports to choose from: choose among its protocols (%s)", id, prod.Name, fl.AlternativesString())
		case len(ch.Protocols) > 0 && !fl.ProtocolAlternatives:
			r.keyErrorf(at("choose", id), "flow %q of product %s has no alternative protocols to choose from: choose among its ports (%s)", id, prod.Name, fl.AlternativesString())
		case !fl.Ports.Covers(ch.Ports):
			r.errorf(at("choose", id), "flow %q: %s is not among its alternatives %s", id, ch.Ports, fl.Ports)
		case !subset(ch.Protocols, fl.Protocols):
			r.errorf(at("choose", id), "flow %q: %s is not among its protocols %s", id, ch, fl.AlternativesString())
		case !enabled[fl.Feature]:
			r.keyErrorf(at("choose", id), "flow %q belongs to feature %q, which this deployment does not enable", id, fl.Feature)
		}
		if ok && d.Ports[id] != nil && len(ch.Ports) > 0 {
			r.keyErrorf(at("choose", id), "flow %q has both a port override and a choice; keep one", id)
		}
	}

	// A misspelt binding is reported once, as such, not again as the
	// missing binding it was meant to be.
	meant := map[string]bool{}
	r.unknownBindings(at("roles"), prod, d.Roles, "role", prod.RoleNames(), prod.PeerNames(), "peer", meant)
	peerKeys := maps.Clone(d.Peers)
	for k := range d.PeerLinks {
		peerKeys[k] = nil
	}
	r.unknownBindings(at("peers"), prod, peerKeys, "peer", prod.PeerNames(), prod.RoleNames(), "role", meant)
	links := r.links(d, prod, at)
	var randomAll []string // flows that opened every port for want of a pool

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
		from, okFrom := r.bind(d, prod, fl.From, options, links, need, fl.ID)
		to, okTo := r.bind(d, prod, fl.To, options, links, need, fl.ID)
		if !fl.Internal && (!okFrom || !okTo) {
			continue
		}
		origin := ir.Origin{
			Kind: ir.OriginFlow, Order: [3]int{0, d.Index, fi},
			Deployment: d.Name, Product: prod.Name, Feature: fl.Feature, Flow: fl.ID,
			FromLabel: fl.From, ToLabel: fl.To, Purpose: fl.Purpose, Source: prod.SourceLine(fl),
			Departure: fl.Departure,
		}
		if src, ok := prod.Source(fl.Source); ok {
			origin.Document = src.Title
		}
		open, ok := r.choice(d, fl, at)
		if !ok {
			continue
		}
		ps, protocols := open.Ports, open.Protocols
		switch {
		case d.Ports[fl.ID] != nil:
			ps = d.Ports[fl.ID]
		case fl.Random && options[fl.PortPool] != "":
			pool, _ := ports.Parse(options[fl.PortPool]) // checked in options
			ps = ports.NewSet(pool)
		case fl.Random && !fl.Internal:
			randomAll = append(randomAll, fl.ID)
			if d.RandomPorts != profiles.RandomPortsAll {
				continue
			}
			r.decide(&ir.Decision{Kind: ir.DecidedRandomAll, Deployment: d.Index, Name: d.Name, Product: prod.Name, Flow: fl.ID,
				Opened: fl.PortString(), From: fl.From, To: fl.To})
		}
		if fl.Internal {
			// The ports say where it would be, for "why is this closed?".
			origin.Ports = ps
			for _, pr := range protocols {
				r.internal = append(r.internal, &ir.InternalFlow{Origin: origin, From: from, To: to, Protocol: pr})
			}
			continue
		}
		program := ""
		if fl.Program != "" {
			program = strings.TrimRight(options[fl.ProgramDir], `\`) + `\` + fl.Program
			origin.ProgramOption = fl.ProgramDir
		}
		for _, pr := range protocols {
			o := origin
			part := ir.Rule{From: from, To: to, Protocol: pr, Program: program}
			if pr.HasPorts() {
				part.Ports, o.Ports = ps, ps
			} else {
				part.ICMPTypes = r.icmpTypes([]any{"deployment", d.Index, "product"}, pr, fl.ICMPTypes)
				o.ICMPTypes = part.ICMPTypes
			}
			r.addPart(part, o)
		}
	}
	r.randomPorts(d, prod, options, randomAll, at)
	for _, name := range slices.Sorted(maps.Keys(missing)) {
		if meant[name] {
			continue
		}
		kind, key := "role", "roles"
		if !prod.IsRole(name) {
			kind, key = "peer", "peers"
		}
		hint := ""
		if peer, ok := prod.Peer(name); ok && peer.Product != "" {
			role := peer.Role
			if role == "" {
				role = "ROLE"
			}
			hint = fmt.Sprintf(", or bind it to a %s deployment's role with %s = { deployment = \"NAME\", role = %q }", peer.Product, name, role)
		}
		r.keyErrorf(at(key), "%s %q of product %s is not bound, but enabled flows need it (%s): add %s = [...] under [deployment.%s]%s",
			kind, name, prod.Name, strings.Join(missing[name], ", "), name, key, hint)
	}
	r.installerRules(d, prod, options)
}

func (r *resolver) decide(dc *ir.Decision) { r.decisions = append(r.decisions, dc) }

func subset[T comparable](xs, of []T) bool {
	for _, x := range xs {
		if !slices.Contains(of, x) {
			return false
		}
	}
	return true
}

// version checks the deployment's version and returns the one to use: the
// catalog's default when the profile names none (or a wrong one, already
// reported, so that the rest is still checked).
func (r *resolver) version(d *profiles.Deployment, prod *catalog.Product, at func(...any) []any) string {
	if d.Version == "" {
		return prod.Version
	}
	if len(prod.Versions) == 0 {
		r.errorf(at("version"), "product %s has one version in the catalog: remove version", prod.Name)
		return ""
	}
	if _, ok := prod.LookupVersion(d.Version); !ok {
		var known []string
		for _, v := range prod.Versions {
			known = append(known, fmt.Sprintf("%s (%s)", v.Name, v.Title))
		}
		r.errorf(at("version"), "unknown version %q of product %s%s; the catalog has %s: pick the newest that is not after yours",
			d.Version, prod.Name, diag.DidYouMean(d.Version, prod.VersionNames()), strings.Join(known, ", "))
		return prod.Version
	}
	return d.Version
}

// features works out the features a deployment enables: the product's
// defaults, a list that replaces them, or "+name" and "-name" changes to
// them. A replacing list that leaves defaults out is recorded (lint
// names them).
func (r *resolver) features(d *profiles.Deployment, full, prod *catalog.Product, version string, at func(...any) []any) map[string]bool {
	enabled := map[string]bool{}
	defaults := prod.DefaultFeatures()
	if d.Features == nil || d.FeatureEdits() {
		for _, f := range defaults {
			enabled[f] = true
		}
	}
	seen := map[string]bool{}
	for i, item := range d.Features {
		name := strings.TrimLeft(item, "+-")
		if name == "" || seen[name] || d.FeatureEdits() && !profiles.IsFeatureEdit(item) {
			continue // reported with the profile
		}
		seen[name] = true
		ft, ok := prod.Feature(name)
		switch {
		case !ok:
			r.errorf(at("features", i), "unknown feature %q of product %s%s", name, prod.Name, diag.DidYouMean(name, prod.FeatureNames()))
			continue
		case !d.FeatureEdits():
			enabled[name] = true
		case item[0] == '+' && ft.Default:
			r.errorf(at("features", i), "feature %q of product %s is on by default: remove %q from the list", name, prod.Name, item)
		case item[0] == '+':
			enabled[name] = true
		case !ft.Default:
			r.errorf(at("features", i), "feature %q of product %s is not on by default: there is nothing to remove (on by default: %s)", name, prod.Name, strings.Join(defaults, ", "))
		default:
			delete(enabled, name)
		}
		// A feature without flows in this version would do nothing.
		if enabled[name] && !slices.ContainsFunc(prod.Flows, func(f catalog.Flow) bool { return f.Feature == name }) {
			var in []string
			for _, f := range full.Flows {
				if f.Feature == name {
					for _, v := range f.Versions {
						if !slices.Contains(in, v) {
							in = append(in, v)
						}
					}
				}
			}
			r.errorf(at("features", i), "feature %q of product %s has no flows in version %s (only in %s): set version, or leave the feature out",
				name, prod.Name, version, strings.Join(in, ", "))
		}
	}
	if d.Features != nil && !d.FeatureEdits() {
		var dropped []string
		for _, f := range defaults {
			if !enabled[f] {
				dropped = append(dropped, f)
			}
		}
		if len(dropped) > 0 {
			// The same selection as changes to the defaults, for lint to
			// suggest.
			var edits []string
			for _, f := range d.Features {
				if ft, ok := prod.Feature(f); ok && !ft.Default {
					edits = append(edits, strconv.Quote("+"+f))
				}
			}
			for _, f := range dropped {
				edits = append(edits, strconv.Quote("-"+f))
			}
			r.decide(&ir.Decision{Kind: ir.DecidedFeaturesDropped, Deployment: d.Index, Name: d.Name, Product: prod.Name, Features: dropped,
				Opened: "[" + strings.Join(edits, ", ") + "]"})
		}
	}
	return enabled
}

// choice is what a flow opens after the deployment's choice among its
// alternatives, or the catalog's default choice (recorded). ok is false,
// with the error reported, when the flow needs a choice the deployment
// did not make.
func (r *resolver) choice(d *profiles.Deployment, fl *catalog.Flow, at func(...any) []any) (catalog.Choice, bool) {
	open := catalog.Choice{Ports: fl.Ports, Protocols: fl.Protocols}
	if !fl.Alternatives && !fl.ProtocolAlternatives {
		return open, true
	}
	def, hasDefault := fl.Default()
	ch := d.Choose[fl.ID]
	var missing []string
	defaulted := false
	if fl.Alternatives {
		switch {
		case d.Ports[fl.ID] != nil, len(ch.Ports) > 0:
			open.Ports = ch.Ports // an override replaces them below
		case hasDefault:
			open.Ports, defaulted = def.Ports, true
		default:
			missing = append(missing, "ports")
		}
	}
	if fl.ProtocolAlternatives {
		switch {
		case len(ch.Protocols) > 0:
			open.Protocols = ch.Protocols
		case hasDefault:
			open.Protocols, defaulted = def.Protocols, true
		default:
			missing = append(missing, "protocols")
		}
	}
	if len(missing) > 0 && r.p.Unfilled("deployment", d.Index, "choose", fl.ID) {
		return open, false // the placeholder is reported
	}
	if len(missing) > 0 {
		example := fl.Ports.Strings()[0]
		if fl.ProtocolAlternatives && !fl.Alternatives {
			example = strconv.Quote(fl.Protocols[0].String())
		}
		r.errorf(at(), "flow %q of product %s has alternatives (%s) and no default: choose under [deployment.choose], e.g. %s = [%s]",
			fl.ID, d.Product, fl.AlternativesString(), fl.ID, example)
		return open, false
	}
	if defaulted && !fl.Internal {
		r.decide(&ir.Decision{Kind: ir.DecidedChoice, Deployment: d.Index, Name: d.Name, Product: d.Product, Flow: fl.ID,
			Opened: open.String(), Among: fl.AlternativesString(), From: fl.From, To: fl.To})
	}
	return open, true
}

// randomPorts checks a deployment's flows on random ports: each must be
// narrowed by the product's port pool, or the profile must accept every
// port with random_ports = "all"; and random_ports = "all" must open
// something.
func (r *resolver) randomPorts(d *profiles.Deployment, prod *catalog.Product, options map[string]string, all []string, at func(...any) []any) {
	switch {
	case len(all) > 0 && d.RandomPorts != profiles.RandomPortsAll:
		var pools []string
		unfilled := r.p.Unfilled("deployment", d.Index, "random_ports")
		for _, id := range all {
			fl, _ := prod.Flow(id)
			if fl.PortPool != "" && !slices.Contains(pools, fl.PortPool) {
				pools = append(pools, fl.PortPool)
				unfilled = unfilled || r.p.Unfilled("deployment", d.Index, "options", fl.PortPool)
			}
		}
		if unfilled {
			return // the pool or random_ports is a placeholder, reported
		}
		how := ""
		for _, name := range pools {
			opt, _ := prod.Option(name)
			how += fmt.Sprintf("set the option %s (%s) under [deployment.options], or ", name, opt.Title)
		}
		what := "flows " + strings.Join(all, ", ") + " of product " + prod.Name + " use"
		if len(all) == 1 {
			what = "flow " + all[0] + " of product " + prod.Name + " uses"
		}
		r.errorf(at("product"), "%s randomly assigned ports: %swrite random_ports = \"all\" to open every port to them", what, how)
	case len(all) == 0 && d.RandomPorts == profiles.RandomPortsAll:
		r.errorf(at("random_ports"), "random_ports = \"all\" opens nothing: no enabled flow of product %s is left on random ports without a port pool; remove it", prod.Name)
	}
}

// links resolves the deployment's peers bound to another deployment's
// role, to that deployment's binding of the role.
func (r *resolver) links(d *profiles.Deployment, prod *catalog.Product, at func(...any) []any) map[string][]string {
	out := map[string][]string{}
	for _, name := range slices.Sorted(maps.Keys(d.PeerLinks)) {
		l := d.PeerLinks[name]
		peer, ok := prod.Peer(name)
		other := r.deploymentNamed(l.Deployment)
		if !ok || other == nil || other == d {
			continue // reported: unknown peer, unknown or own deployment
		}
		path := at("peers", name)
		op, ok := r.c.Product(other.Product)
		if !ok {
			continue // reported with the other deployment
		}
		if peer.Product != "" && peer.Product != op.Name {
			r.errorf(append(path, "deployment"), "peer %q of product %s stands for product %s, but deployment %q runs %s", name, prod.Name, peer.Product, other.Name, op.Name)
			continue
		}
		role := l.Role
		switch {
		case role == "" && peer.Role != "":
			role = peer.Role
		case role == "" && len(op.Roles) == 1:
			role = op.Roles[0].Name
		case role == "":
			r.keyErrorf(path, "peer %q is bound to deployment %q: name the role of product %s it stands for with role = \"...\" (roles: %s)",
				name, other.Name, op.Name, strings.Join(op.RoleNames(), ", "))
			continue
		}
		if !op.IsRole(role) {
			r.errorf(append(path, "role"), "unknown role %q of product %s%s (roles: %s)", role, op.Name, diag.DidYouMean(role, op.RoleNames()), strings.Join(op.RoleNames(), ", "))
			continue
		}
		names, bound := other.Roles[role]
		if !bound {
			r.errorf(append(path, "deployment"), "peer %q is bound to role %q of deployment %q, which does not bind that role", name, role, other.Name)
			continue
		}
		out[name] = names
	}
	return out
}

func (r *resolver) deploymentNamed(name string) *profiles.Deployment {
	for _, d := range r.p.Deployments {
		if d.Name == name {
			return d
		}
	}
	return nil
}

// reverseLinks binds peers from the other side of a peer binding. When
// deployment A binds its peer to deployment B's role, B's peers that
// stand for A's product (catalog: peer product and role) and that B does
// not bind itself are bound to A's hosts of that role: one statement
// gives both deployments' rules. Problems are reported where each
// deployment is resolved.
func (r *resolver) reverseLinks() {
	r.linked = map[string]map[string][]string{}
	for _, a := range r.p.Deployments {
		for _, name := range slices.Sorted(maps.Keys(a.PeerLinks)) {
			b := r.deploymentNamed(a.PeerLinks[name].Deployment)
			if b == nil {
				continue
			}
			bp, ok := r.c.Product(b.Product)
			if !ok {
				continue
			}
			for _, q := range bp.Peers {
				_, explicit := b.Peers[q.Name]
				_, linked := b.PeerLinks[q.Name]
				names, bound := a.Roles[q.Role]
				if q.Product != a.Product || q.Role == "" || explicit || linked || !bound {
					continue
				}
				if r.linked[b.Name] == nil {
					r.linked[b.Name] = map[string][]string{}
				}
				for _, n := range names {
					if !slices.Contains(r.linked[b.Name][q.Name], n) {
						r.linked[b.Name][q.Name] = append(r.linked[b.Name][q.Name], n)
					}
				}
			}
		}
	}
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

func (r *resolver) flowKey(full, prod *catalog.Product, version string, path []any, id string) (*catalog.Flow, bool) {
	fl, ok := prod.Flow(id)
	switch {
	case ok:
	case slices.Contains(full.FlowIDs(), id):
		r.keyErrorf(path, "flow %q of product %s is not in version %s", id, prod.Name, version)
	default:
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
func (r *resolver) bind(d *profiles.Deployment, prod *catalog.Product, name string, options map[string]string, links map[string][]string,
	missing map[string][]string, flow string) (ir.Endpoint, bool) {
	if names, ok := d.Roles[name]; ok && prod.IsRole(name) {
		return ir.NewEndpoint(names...), true
	}
	if names, ok := d.Peers[name]; ok && !prod.IsRole(name) {
		return ir.NewEndpoint(names...), true
	}
	if _, ok := d.PeerLinks[name]; ok && !prod.IsRole(name) {
		// Bound to another deployment's role; a problem with it is
		// reported already, and is not a missing binding as well.
		names, ok := links[name]
		return ir.NewEndpoint(names...), ok
	}
	if names, ok := r.linked[d.Name][name]; ok && !prod.IsRole(name) {
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
	from, to := r.allowFrom.of(a.From), r.allowTo.of(a.To)
	for i, name := range a.Services {
		r.allowService(a, i, name, from, to)
	}
	for _, pr := range a.Protocols {
		o := customOrigin(a, 0)
		part := ir.Rule{From: from, To: to, Protocol: pr}
		if pr.HasPorts() {
			part.Ports, o.Ports = a.Ports, a.Ports
		} else {
			part.ICMPTypes = r.icmpTypes([]any{"allow", a.Index, "icmp_types"}, pr, a.ICMPTypes)
			o.ICMPTypes = part.ICMPTypes
		}
		r.addPart(part, o)
	}
}

// addPart adds a rule part with its one origin.
func (r *resolver) addPart(part ir.Rule, o ir.Origin) {
	r.parts = append(r.parts, r.blocks.part(part, o))
}

// partBlocks hands out rule parts, each with its one origin, from blocks
// of them: 10,000 custom rules then cost a few allocations, not 20,000.
// A block lives as long as any of its parts, even one merged away: the
// parts are mostly the rules themselves (Merge). Blocks hold at most
// maxPartBlock parts: the heap then grows with the parts made, as it did
// part by part, rather than ahead of them (a collection that starts
// meanwhile counts a block whole, and sets a higher goal).
type partBlocks struct {
	rules   []ir.Rule
	origins []ir.Origin
	size    int // of the next block
}

const maxPartBlock = 1024

// expect says that about n parts are coming.
func (b *partBlocks) expect(n int) { b.size = min(n, maxPartBlock) }

// part returns a new part like rule, its Origins o alone.
func (b *partBlocks) part(rule ir.Rule, o ir.Origin) *ir.Rule {
	if len(b.rules) == 0 {
		n := b.size
		if n == 0 {
			n = 16 // deployments: a few parts per flow
		}
		b.rules, b.origins = make([]ir.Rule, n), make([]ir.Origin, n)
	}
	p, o1 := &b.rules[0], b.origins[:1:1]
	b.rules, b.origins = b.rules[1:], b.origins[1:]
	*p, o1[0] = rule, o
	p.Origins = o1
	return p
}

// endpointMemo remembers the last endpoint made from a list of names:
// consecutive custom rules mostly name the same side (the host they open),
// which then costs one Endpoint. Rules share endpoints, never change them.
type endpointMemo struct {
	names []string
	e     ir.Endpoint
}

func (m *endpointMemo) of(names []string) ir.Endpoint {
	if m.e.Sets == nil || !slices.Equal(names, m.names) {
		m.names, m.e = names, ir.NewEndpoint(names...)
	}
	return m.e
}

// customOrigin is the origin of a custom rule's i-th part.
func customOrigin(a *profiles.Allow, i int) ir.Origin {
	o := ir.Origin{Kind: ir.OriginCustom, Order: [3]int{1, a.Index, i}, Allow: a.Index, Comment: a.Comment, Owner: a.Owner, Ticket: a.Ticket}
	if a.Expires != nil {
		o.Expires = a.Expires.String()
	}
	return o
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
		o := customOrigin(a, i)
		o.Service, o.Ports = name, pp.Ports
		r.addPart(ir.Rule{From: from, To: to, Protocol: pp.Protocol, Ports: pp.Ports}, o)
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
