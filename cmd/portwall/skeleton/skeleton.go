// Package skeleton writes the profile `portwall init` prints: for the
// products named, a deployment each, with every role and peer their
// default features need bound to hosts and groups, and the rest of what a
// deployment may say (features, version, mode, options, choices among
// alternatives, moved ports, the roles and peers other features need)
// written out in comments, each with the catalog's title and default.
//
// What only the operator knows (addresses, the hosts' operating system, a
// port pool, a choice the catalog has no default for) is a placeholder,
// "<fill in: ...>", which `portwall validate` reports at its position
// until it is replaced (profiles.Placeholder): the skeleton is never taken
// for a finished profile. Filled in, it validates and generates.
//
// The output is valid TOML and depends only on the request and the
// catalog: products in the order given, everything else in the catalog's
// order or sorted.
package skeleton

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/profiles"
	"github.com/portwall/portwall/rules/catalog"
	"github.com/portwall/portwall/rules/ports"
)

// Request says what to write.
type Request struct {
	Catalog *catalog.Catalog
	// Products are the catalog's products to deploy, one deployment each,
	// in this order.
	Products []string
	// Hosts is the number of hosts written for each role the default
	// features need: 1, or 2 for an HA pair, ...
	Hosts int
	// Command is how the skeleton was asked for, for its first comment.
	Command string
}

// MaxHosts bounds Request.Hosts: a skeleton is edited by hand.
const MaxHosts = 64

// Profile writes the skeleton profile.
func Profile(req Request) ([]byte, error) {
	n := req.Hosts
	if n < 1 || n > MaxHosts {
		return nil, fmt.Errorf("--hosts %d: want 1 to %d hosts per role", req.Hosts, MaxHosts)
	}
	if len(req.Products) == 0 {
		return nil, fmt.Errorf("want one or more PRODUCT arguments (products: %s)", strings.Join(req.Catalog.Names(), ", "))
	}
	var errs []string
	s := &skeleton{req: req, hosts: n, groups: map[string]*group{}}
	seen := map[string]bool{}
	for _, name := range req.Products {
		p, ok := req.Catalog.Product(name)
		switch {
		case !ok:
			errs = append(errs, fmt.Sprintf("unknown product %q%s", name, diag.DidYouMean(name, req.Catalog.Names())))
		case seen[name]:
			errs = append(errs, fmt.Sprintf("product %q named twice: a profile deploys a product twice under two deployment names, which init cannot choose; write the second [[deployment]] by hand", name))
		default:
			s.products = append(s.products, newProduct(p))
		}
		seen[name] = true
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s (portwall catalog list shows the products)", strings.Join(errs, "; "))
	}
	s.plan()
	return s.write(), nil
}

type skeleton struct {
	req      Request
	hosts    int
	products []*product
	// groups are the peers' address groups by name; hostNames the hosts
	// in order.
	groups    map[string]*group
	hostNames []host
}

type host struct{ name, title string }

// group is the address group that stands for a peer, shared by the
// deployments whose products have a peer of that name.
type group struct {
	name   string
	titles []string // "product: Title", of each product with the peer
}

// product is a product as its deployment uses it by default: its default
// version and mode, its default features.
type product struct {
	p *catalog.Product
	// v is the product in its default version.
	v  *catalog.Product
	on map[string]bool
	// used holds the roles and peers the default flows need; notes say,
	// for the others, what would need them.
	used  map[string]bool
	notes map[string]*notes
	// roleHosts are the hosts bound to each used role.
	roleHosts map[string][]string
	// peerGroup is the group each bound peer is bound to; links the peers
	// bound to another deployment's role instead.
	peerGroup map[string]string
	links     map[string]link
}

type link struct {
	deployment, role string
	// active: the peer is needed and the other deployment binds the role.
	active bool
}

// notes say what needs a role or peer that the defaults do not: features
// that are off, other versions and modes, deprecated flows.
type notes struct {
	features, versions, modes, deprecated []string
}

func (n *notes) add(kind *[]string, xs ...string) {
	for _, x := range xs {
		if !slices.Contains(*kind, x) {
			*kind = append(*kind, x)
		}
	}
}

func (n *notes) String() string {
	var parts []string
	list := func(one, many string, xs []string, after string) {
		switch len(xs) {
		case 0:
		case 1:
			parts = append(parts, one+" "+xs[0]+after)
		default:
			parts = append(parts, many+" "+strings.Join(xs, ", ")+after)
		}
	}
	list("feature", "features", n.features, " (off)")
	list("version", "versions", n.versions, "")
	list("mode", "modes", n.modes, "")
	list("deprecated flow", "deprecated flows", n.deprecated, "")
	return strings.Join(parts, "; ")
}

func newProduct(p *catalog.Product) *product {
	x := &product{p: p, v: p.InVersion(p.Version), on: map[string]bool{}, used: map[string]bool{}, notes: map[string]*notes{},
		roleHosts: map[string][]string{}, peerGroup: map[string]string{}, links: map[string]link{}}
	for _, f := range p.DefaultFeatures() {
		x.on[f] = true
	}
	for i := range p.Flows {
		fl := &p.Flows[i]
		if x.active(fl) {
			x.used[fl.From], x.used[fl.To] = true, true
			continue
		}
		for _, label := range []string{fl.From, fl.To} {
			if x.notes[label] == nil {
				x.notes[label] = &notes{}
			}
			x.note(x.notes[label], fl)
		}
	}
	return x
}

// active reports whether a deployment with the defaults opens the flow
// (or, for an internal flow, explains it).
func (x *product) active(fl *catalog.Flow) bool {
	return x.on[fl.Feature] && fl.InVersion(x.p.Version) && (len(fl.Modes) == 0 || slices.Contains(fl.Modes, x.p.Mode)) && !fl.Deprecated
}

// note records why a deployment with the defaults does not open the flow.
func (x *product) note(n *notes, fl *catalog.Flow) {
	switch {
	case !x.on[fl.Feature]:
		n.add(&n.features, fl.Feature)
	case !fl.InVersion(x.p.Version):
		n.add(&n.versions, fl.Versions...)
	case len(fl.Modes) > 0 && !slices.Contains(fl.Modes, x.p.Mode):
		n.add(&n.modes, fl.Modes...)
	case fl.Deprecated:
		n.add(&n.deprecated, fl.ID)
	}
}

func (x *product) usedBy(label string) string {
	if x.notes[label] == nil {
		return "no flow of the catalog uses it"
	}
	return "needed with " + x.notes[label].String()
}

var namePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(profiles.NamePattern) })

// plan names the hosts, binds the roles and peers, and collects the
// groups.
func (s *skeleton) plan() {
	for _, x := range s.products {
		for _, r := range x.p.Roles {
			if !x.used[r.Name] {
				continue
			}
			for i := 1; i <= s.hosts; i++ {
				name := fmt.Sprintf("%s-%s%d", x.p.Name, r.Name, i)
				x.roleHosts[r.Name] = append(x.roleHosts[r.Name], name)
				s.hostNames = append(s.hostNames, host{name, r.Title})
			}
		}
	}
	taken := map[string]bool{}
	for _, h := range s.hostNames {
		taken[h.name] = true
	}
	for _, x := range s.products {
		for _, q := range x.p.Peers {
			if l, ok := s.link(x, &q); ok {
				x.links[q.Name] = l
				continue
			}
			if !x.used[q.Name] || q.HasDefaultFQDNs() {
				continue
			}
			name := q.Name
			if taken[name] {
				name += "-peers"
			}
			g := s.groups[name]
			if g == nil {
				g = &group{name: name}
				s.groups[name] = g
			}
			g.titles = append(g.titles, fmt.Sprintf("%s: %s", x.p.Name, oneLine(q.Title)))
			x.peerGroup[q.Name] = name
		}
	}
}

// link binds a peer that stands for another product's role to that
// product's deployment, when it is in the skeleton too.
func (s *skeleton) link(x *product, q *catalog.Peer) (link, bool) {
	if q.Product == "" {
		return link{}, false
	}
	for _, o := range s.products {
		if o == x || o.p.Name != q.Product {
			continue
		}
		role := q.Role
		if role == "" && len(o.p.Roles) == 1 {
			role = o.p.Roles[0].Name
		}
		if !o.p.IsRole(role) {
			return link{}, false
		}
		_, bound := o.roleHosts[role]
		return link{deployment: o.p.Name, role: role, active: x.used[q.Name] && bound}, true
	}
	return link{}, false
}

func (s *skeleton) write() []byte {
	w := &writer{}
	names := make([]string, len(s.products))
	for i, x := range s.products {
		names[i] = x.p.Name
	}
	w.comment(fmt.Sprintf("A portwall profile for %s, written by `%s`. Every role and peer the default features need is bound to the hosts and groups below.",
		strings.Join(names, " and "), s.req.Command))
	w.blank()
	w.comment(`Replace every "<fill in: ...>": portwall validate reports each one left, at its line, and checks the rest. What a deployment may change (features, version, mode, options, choices among alternative ports, moved ports, the roles and peers other features need) is written in comments with the catalog's defaults: uncomment what you change. portwall catalog show PRODUCT shows a product's flows and documents, portwall man profile every key of a profile.`)
	w.blank()
	name := strings.Join(names, "-")
	if !namePattern().MatchString(name) {
		name = "site"
	}
	w.kv("name = "+str(name), "in the outputs; default: the file name")
	w.flush()
	w.blank()

	w.line("[defaults]")
	w.comment(`The targets each host's rules are generated for, which validate checks: os = "linux" (nftables) or "windows" (powershell), or targets by name (targets = ["iptables", "ip6tables"]), or targets = [] for appliances that only the gateway in front filters for. A host may declare its own.`)
	w.kv("os = "+str(profiles.Placeholder("linux or windows, the hosts' operating system (or targets instead)")), "")
	w.kv(`# input = "reject"`, "reject what no rule allows (default: drop)")
	w.kv(`# output = "drop"`, "egress filtering: only the outbound flows leave (default: accept)")
	w.flush()

	if len(s.groups) > 0 {
		w.blank()
		w.comment(`The peers, outside parties the deployments talk to, as address groups: addresses, CIDR networks, ranges first-last, host names, or "any" for every address. A group may also list hosts and other groups by name.`)
		w.line("[groups]")
		for _, name := range slices.Sorted(maps.Keys(s.groups)) {
			g := s.groups[name]
			w.comment(strings.Join(g.titles, "; "))
			w.line(key(name) + " = [" + str(profiles.Placeholder(g.name+": addresses, networks or host names, or any")) + "]")
		}
	}

	w.blank()
	per := ""
	if s.hosts > 1 {
		per = fmt.Sprintf(" (%d per role)", s.hosts)
	}
	w.comment("The machines portwall writes rules for, the deployments' own hosts" + per + ": each has addresses no other host has (a shared or virtual address goes in a group).")
	for i, h := range s.hostNames {
		if i > 0 {
			w.blank()
		}
		w.line("[hosts." + key(h.name) + "]")
		w.line("description = " + str(oneLine(h.title)))
		w.line("addresses = [" + str(profiles.Placeholder("the addresses of "+h.name+", IPv4, IPv6 or both")) + "]")
	}

	for _, x := range s.products {
		w.blank()
		s.deployment(w, x)
	}
	return w.bytes()
}

func (s *skeleton) deployment(w *writer, x *product) {
	p := x.p
	title := p.Title
	if p.Vendor != "" {
		title += " (" + p.Vendor + ")"
	}
	if p.Summary != "" {
		title += ": " + p.Summary
	}
	w.comment(oneLine(title))
	w.line("[[deployment]]")
	w.line("product = " + str(p.Name))
	if len(p.Versions) > 0 {
		w.comment("The version whose document the flows follow (default " + p.Version + "):")
		for _, v := range p.Versions {
			w.line("#   " + pad(v.Name, 10) + oneLine(v.Title))
		}
		w.line("# version = " + str(p.Version))
	}
	if len(p.Modes) > 0 {
		w.comment("The operating mode (default " + p.Mode + "): " + strings.Join(p.Modes, ", ") + ".")
		w.line("# mode = " + str(p.Mode))
	}
	s.features(w, x)
	s.random(w, x)
	s.deprecated(w, x)

	w.blank()
	w.line("[deployment.roles]")
	for _, r := range p.Roles {
		if hs, ok := x.roleHosts[r.Name]; ok {
			w.kv(key(r.Name)+" = "+strList(hs), oneLine(r.Title))
			continue
		}
		w.kv("# "+key(r.Name)+" = ["+str(profiles.Placeholder("the hosts of role "+r.Name))+"]", oneLine(r.Title)+"; "+x.usedBy(r.Name))
	}
	w.flush()

	if len(p.Peers) > 0 {
		w.blank()
		w.line("[deployment.peers]")
		for _, q := range p.Peers {
			s.peer(w, x, &q)
		}
		w.flush()
	}
	s.options(w, x)
	s.choose(w, x)
	s.ports(w, x)
}

func (s *skeleton) peer(w *writer, x *product, q *catalog.Peer) {
	title := oneLine(q.Title)
	if l, ok := x.links[q.Name]; ok {
		code := key(q.Name) + " = { deployment = " + str(l.deployment) + ", role = " + str(l.role) + " }"
		if l.active {
			w.kv(code, title)
			return
		}
		why := x.usedBy(q.Name)
		if x.used[q.Name] {
			why = "deployment " + l.deployment + " binds no role " + l.role
		}
		w.kv("# "+code, title+"; "+why)
		return
	}
	if g, ok := x.peerGroup[q.Name]; ok {
		w.kv(key(q.Name)+" = ["+str(g)+"]", title)
		return
	}
	unbound := profiles.Placeholder(q.Name + ": hosts or groups")
	if x.used[q.Name] && q.HasDefaultFQDNs() {
		names := "the catalog's host names"
		if q.RegionOption != "" {
			names += " (by option " + q.RegionOption + ")"
		}
		w.kv("# "+key(q.Name)+" = ["+str(unbound)+"]", title+"; unbound, it is "+names)
		return
	}
	note := x.usedBy(q.Name)
	if q.Product != "" {
		note += "; or another deployment's role: { deployment = \"NAME\", role = \"" + cmpOr(q.Role, "ROLE") + "\" }"
	}
	w.kv("# "+key(q.Name)+" = ["+str(unbound)+"]", title+"; "+note)
}

// features lists every feature, on or off by default, as items of a
// features list of changes to the defaults, commented out.
func (s *skeleton) features(w *writer, x *product) {
	p := x.p
	if len(p.Features) == 0 {
		return
	}
	w.comment(`The features: the product's defaults (on) unless a list changes them. To change them, uncomment the list and the items to change: "-name" turns a default off, "+name" turns another on.`)
	w.line("# features = [")
	for _, f := range p.Features {
		sign, state := "+", "off: "
		if x.on[f.Name] {
			sign, state = "-", "on:  "
		}
		note := ""
		if !slices.ContainsFunc(x.v.Flows, func(fl catalog.Flow) bool { return fl.Feature == f.Name }) {
			var in []string
			for _, fl := range p.Flows {
				if fl.Feature == f.Name {
					for _, v := range fl.Versions {
						if !slices.Contains(in, v) {
							in = append(in, v)
						}
					}
				}
			}
			if len(in) > 0 {
				note = " (version " + strings.Join(in, ", ") + " only)"
			}
		}
		w.kv("#   "+str(sign+f.Name)+",", state+oneLine(f.Title)+note)
	}
	w.flush()
	w.line("# ]")
}

// random says what the default flows on randomly assigned ports need: the
// product's port pool option (in options), or random_ports = "all".
func (s *skeleton) random(w *writer, x *product) {
	var all []string
	for _, fl := range x.v.Flows {
		if fl.Random && !fl.Internal && fl.PortPool == "" && x.active(&fl) {
			all = append(all, fl.ID)
		}
	}
	if len(all) == 0 {
		return
	}
	w.comment("Flows " + strings.Join(all, ", ") + " use randomly assigned ports, and " + x.p.Name + ` has no port pool to narrow them: random_ports = "all" opens every port to them (lint warns, PW803), or turn their features off.`)
	w.line("random_ports = " + str(profiles.Placeholder("all, to open every port to flows "+strings.Join(all, ", ")+"; or turn their features off")))
}

func (s *skeleton) deprecated(w *writer, x *product) {
	var ids []string
	for _, fl := range x.v.Flows {
		if fl.Deprecated {
			ids = append(ids, fl.ID)
		}
	}
	if len(ids) == 0 {
		return
	}
	w.comment("Deprecated flows, opened only when named here (their features on):")
	w.line("# deprecated = " + strList(ids))
}

// options lists the product's options with their values and defaults; a
// port pool that default flows need and that has no default is a
// placeholder.
func (s *skeleton) options(w *writer, x *product) {
	p := x.p
	if len(p.Options) == 0 {
		return
	}
	pools := map[string][]string{}
	for _, fl := range x.v.Flows {
		if fl.Random && !fl.Internal && fl.PortPool != "" && x.active(&fl) {
			pools[fl.PortPool] = append(pools[fl.PortPool], fl.ID)
		}
	}
	w.blank()
	w.line("[deployment.options]")
	for _, o := range p.Options {
		about := oneLine(o.Title)
		switch o.Kind {
		case catalog.OptionChoice:
			about += "; one of " + strings.Join(o.Values, ", ")
		case catalog.OptionPortRange:
			about += "; a port or a range first-last"
		}
		if flows := pools[o.Name]; len(flows) > 0 && o.Default == "" {
			w.kv(key(o.Name)+" = "+str(profiles.Placeholder(o.Name+", the port pool of flows "+strings.Join(flows, ", "))),
				about+`; or random_ports = "all" above opens every port to them`)
			continue
		}
		if o.Default != "" {
			w.kv("# "+key(o.Name)+" = "+str(o.Default), about+"; the default")
			continue
		}
		w.kv("# "+key(o.Name)+" = "+str(profiles.Placeholder(o.Name)), about+"; unset by default")
	}
	w.flush()
}

// choose lists the flows with alternatives and what each opens unless
// chosen; one that needs a choice the default features make is a
// placeholder.
func (s *skeleton) choose(w *writer, x *product) {
	var fls []*catalog.Flow
	for i := range x.v.Flows {
		fl := &x.v.Flows[i]
		if (fl.Alternatives || fl.ProtocolAlternatives) && !fl.Internal {
			fls = append(fls, fl)
		}
	}
	if len(fls) == 0 {
		return
	}
	w.blank()
	w.line("[deployment.choose]")
	for _, fl := range fls {
		among := fl.AlternativesString()
		def, ok := fl.Default()
		if !ok {
			code := key(fl.ID) + " = " + str(profiles.Placeholder(fl.ID+": "+among))
			if x.active(fl) {
				w.kv(code, "no default: choose one")
				continue
			}
			w.kv("# "+code, "no default; "+x.flowNote(fl))
			continue
		}
		note := among + "; opens " + def.String() + " unless chosen"
		if !x.active(fl) {
			note += "; " + x.flowNote(fl)
		}
		w.kv("# "+key(fl.ID)+" = "+choice(fl, def), note)
	}
	w.flush()
}

// ports lists the configurable flows the default features open, at their
// ports.
func (s *skeleton) ports(w *writer, x *product) {
	var fls []*catalog.Flow
	for i := range x.v.Flows {
		fl := &x.v.Flows[i]
		// A flow with alternative ports is chosen above: a choice and a
		// move of one flow exclude each other.
		if fl.Configurable && !fl.Internal && !fl.Alternatives && x.active(fl) && len(fl.Ports) > 0 {
			fls = append(fls, fl)
		}
	}
	if len(fls) == 0 {
		return
	}
	w.blank()
	w.comment("Flows the vendor lets you move to other ports, at their default ports:")
	w.line("[deployment.ports]")
	for _, fl := range fls {
		w.kv("# "+key(fl.ID)+" = "+portList(fl.Ports), oneLine(fl.Purpose))
	}
	w.flush()
}

func (x *product) flowNote(fl *catalog.Flow) string {
	n := &notes{}
	x.note(n, fl)
	return "needed with " + n.String()
}

// choice writes a flow's default choice as [deployment.choose] takes it:
// the protocols, then the ports, each part only where the flow has
// alternatives.
func choice(fl *catalog.Flow, c catalog.Choice) string {
	var items []string
	if fl.ProtocolAlternatives {
		for _, pr := range c.Protocols {
			items = append(items, str(pr.String()))
		}
	}
	if fl.Alternatives {
		items = append(items, portItems(c.Ports)...)
	}
	return "[" + strings.Join(items, ", ") + "]"
}

func portList(s ports.Set) string { return "[" + strings.Join(portItems(s), ", ") + "]" }

// portItems writes single ports as numbers and ranges as strings.
func portItems(s ports.Set) []string {
	var out []string
	for _, r := range s {
		if r.First == r.Last {
			out = append(out, strconv.Itoa(int(r.First)))
		} else {
			out = append(out, str(r.String()))
		}
	}
	return out
}

func strList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = str(x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
