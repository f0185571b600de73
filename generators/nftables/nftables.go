// Package nftables renders a host's rules as an `nft -f` script that owns
// table inet portwall and nothing else.
//
// Loading the script creates the table if it is missing and replaces it
// atomically if it exists (one transaction: create, delete, create), so it
// is idempotent and never touches another table. The input chain (and the
// output chain when egress is filtered) has policy drop, a baseline that
// keeps the host working (established traffic, loopback, the ICMPv6 that
// IPv6 needs, ICMP errors), one rule per allowed flow with a comment naming
// its rule ID, product, feature and flow, and named sets for the address
// groups.
package nftables

import (
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go4.org/netipx"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/internal/par"
	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

// Table is the one table portwall owns.
const Table = "portwall"

// MaxComment is nft's limit on a comment, in bytes.
const MaxComment = 128

// Generator is the nftables backend.
type Generator struct{}

func (Generator) Name() string { return "nftables" }

func (Generator) Caps() generators.Caps {
	return generators.Caps{HostView: true, FQDN: generators.FQDNDynamicSet, Ext: ".nft"}
}

func (Generator) Section() generators.Section { return Section }

// Generate renders one file per requested host.
func (g Generator) Generate(req generators.Request) ([]generators.File, error) {
	s := SettingsOf(req.Settings)
	return generators.PerHost(req, g, func(v *ir.HostView) ([]byte, error) { return Render(v, s) })
}

// set is a named set the script declares.
type set struct {
	name    string
	family  ir.Family
	comment string
	ranges  []netipx.IPRange
	dynamic []string // host names a resolver fills the set from
}

type renderer struct {
	v        *ir.HostView
	layout   Layout
	sets     map[string]*set
	lists    map[string]*list
	flowSets []*flowSet
	omitted  []generators.Omission
	// chunksOf and chunks are the comment chunks of the rule last
	// rendered (chunksFor): every line of a rule shares them.
	chunksOf *ir.Rule
	chunks   []chunk
}

// chunk is what the lines of one comment chunk of a rule share (after
// their remote address match): the service match ("tcp dport 22",
// "icmp type @icmp_types_0_8", "meta l4proto gre") and the comment,
// quoted.
type chunk struct {
	service, comment string
	// ports and types say which kind of service match it is: a line
	// without an address match needs "meta nfproto" for ports only where
	// the remote side is family specific, never for ICMP types ("icmp
	// type" and "icmpv6 type" carry their own family), and always for the
	// other protocols.
	ports, types bool
}

// list is a named set of ports or ICMP types that the rules matching
// exactly these share (ports_22_80, icmp_types_0_8). The kernel names
// an anonymous set ({ 22, 80 }) by scanning the table's other sets and
// finds it again by walking the whole transaction, so a script with
// thousands of them loads in time quadratic in its rules (42 s for
// 5,000 custom rules): shared named sets keep loading linear in the
// rules for a given set of port lists.
type list struct {
	name, typ string
	interval  bool
	elements  []string
}

// Render writes the script for one host.
func Render(v *ir.HostView, s Settings) ([]byte, error) {
	r := &renderer{v: v, sets: map[string]*set{}, lists: map[string]*list{}, layout: s.Layout.For(v)}
	pol := v.Ruleset.Policy
	// Set names become nft identifiers. The profile checker allows only
	// safe names; a ruleset from elsewhere is refused, never mangled.
	for _, hrs := range [][]ir.HostRule{v.In, v.Out} {
		for _, hr := range hrs {
			if hr.Rule.Program != "" {
				// Dropping the condition would open the ports to every process.
				return nil, fmt.Errorf("rule %s is limited to the program %s, which nftables cannot match", hr.Rule.ID, hr.Rule.Program)
			}
			for _, n := range hr.Remote.Sets {
				if !generators.SafeName(n) {
					return nil, fmt.Errorf("rule %s: address set name %q cannot be an nft identifier", hr.Rule.ID, n)
				}
			}
		}
	}
	// The chains come first: rendering them declares the sets that the
	// header and the table list.
	var input, output text
	if err := r.chain(&input, v.In, ir.In); err != nil {
		return nil, err
	}
	if pol.Output == ir.OutputDrop {
		if err := r.chain(&output, v.Out, ir.Out); err != nil {
			return nil, err
		}
	}

	// The header and the sets' declarations, then the script's end (the
	// chains). The flow sets in between are most of a large script, and
	// were counted when cut (setsChain): the script is allocated once, at
	// its size, and each flow set's parts (its chunks of elements, side
	// by side) written straight into their places.
	var pre, post text
	r.header(&pre)
	r.declarations(&pre)
	writeChain(&post, "input", inputBaseline, &input, tail(pol, "input"))
	if pol.Output == ir.OutputDrop {
		post.WriteString("\n")
		writeChain(&post, "output", outputBaseline, &output, tail(pol, "output"))
	}
	post.WriteString("}\n")
	size := pre.Len() + post.Len()
	for _, s := range r.flowSets {
		size += s.size()
	}
	script := make([]byte, size)
	rest := pre.copyTo(script)
	var wg sync.WaitGroup
	places := make([][]place, len(r.flowSets))
	for i, s := range r.flowSets {
		places[i] = make([]place, len(s.sizes))
		for k, n := range s.sizes {
			places[i][k].b = rest[:0:n]
			rest = rest[n:]
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			eachPart(s, func(k int) { writePart(&places[i][k], s, k) })
		}()
	}
	post.copyTo(rest)
	wg.Wait()
	for i, s := range r.flowSets {
		for k, n := range s.sizes {
			// Counting and writing run the same code: a difference is a
			// bug, and the script is not handed out with a hole in it.
			if places[i][k].n != n {
				return nil, fmt.Errorf("internal error: nftables flow set %s part %d came out at %d bytes, counted %d", s.name, k, places[i][k].n, n)
			}
		}
	}
	return script, nil
}

// declarations opens the table and declares its address sets and lists.
func (r *renderer) declarations(b *text) {
	fmt.Fprintf(b, "table inet %s\ndelete table inet %s\n\ntable inet %s {\n", Table, Table, Table)
	for _, name := range slices.Sorted(maps.Keys(r.sets)) {
		s := r.sets[name]
		fmt.Fprintf(b, "\tset %s {\n\t\ttype %s\n\t\tflags interval\n\t\tcomment %s\n", s.name, addrType(s.family), quote(s.comment))
		if len(s.ranges) > 0 {
			writeElements(b, s.ranges)
		}
		b.WriteString("\t}\n\n")
	}
	for _, name := range slices.Sorted(maps.Keys(r.lists)) {
		l := r.lists[name]
		fmt.Fprintf(b, "\tset %s {\n\t\ttype %s\n", l.name, l.typ)
		if l.interval {
			b.WriteString("\t\tflags interval\n")
		}
		writeItems(b, l.elements)
		b.WriteString("\t}\n\n")
	}
}

func (r *renderer) header(b *text) {
	v := r.v
	addrs := make([]string, len(v.Host.Addrs))
	for i, a := range v.Host.Addrs {
		addrs[i] = a.String()
	}
	fmt.Fprintf(b, "#!/usr/sbin/nft -f\n")
	fmt.Fprintf(b, "# portwall nftables ruleset for host %s (%s), profile %s.\n", commentText(v.Host.Name), strings.Join(addrs, ", "), commentText(v.Ruleset.Profile))
	if v.Host.Description != "" {
		fmt.Fprintf(b, "# %s\n", commentText(v.Host.Description))
	}
	fmt.Fprintf(b, "# Generated by portwall: do not edit, change the profile and generate again.\n")
	fmt.Fprintf(b, "#\n# Load with `nft -f FILE`. It replaces table inet %s in one transaction\n", Table)
	fmt.Fprintf(b, "# and touches no other table; loading it twice gives the same ruleset.\n")
	if r.layout == LayoutSets {
		fmt.Fprintf(b, "# Layout sets: the flows are elements of the sets in_* (and out_*), each\n")
		fmt.Fprintf(b, "# looked up by one rule, so that a new connection costs a few lookups\n")
		fmt.Fprintf(b, "# however many flows there are. Every element's comment starts with its\n")
		fmt.Fprintf(b, "# portwall rule ID (pw:r...), then product/feature: flows, or allow[N] for\n")
		fmt.Fprintf(b, "# the profile's custom rules; where rules overlap an element names the\n")
		fmt.Fprintf(b, "# first of them. `portwall catalog show PRODUCT` describes each flow;\n")
		fmt.Fprintf(b, "# `portwall explain` answers for a port, custom rules' comments included.\n")
	} else {
		fmt.Fprintf(b, "# Every rule's comment starts with its portwall rule ID (pw:r...), then\n")
		fmt.Fprintf(b, "# product/feature: flows; `portwall catalog show PRODUCT` describes each flow.\n")
	}
	if len(r.lists) > 0 {
		fmt.Fprintf(b, "# Lists of ports and ICMP types are named sets that the rules matching\n")
		fmt.Fprintf(b, "# them share (ports_22_80 holds 22 and 80), so that loading stays linear.\n")
	}
	if len(r.omitted) > 0 {
		fmt.Fprintf(b, "#\n# Left out (defaults.fqdn = \"omit\"): nftables cannot match host names.\n")
		for _, o := range r.omitted {
			fmt.Fprintf(b, "#   %s\n", commentText(o.String()))
		}
	}
	var dyn []*set
	for _, name := range slices.Sorted(maps.Keys(r.sets)) {
		if s := r.sets[name]; len(s.dynamic) > 0 {
			dyn = append(dyn, s)
		}
	}
	if len(dyn) > 0 {
		fmt.Fprintf(b, "#\n# Sets named *_dns_* start empty: rules that use them allow nothing until a\n")
		fmt.Fprintf(b, "# resolver adds the addresses of their host names, for example dnsmasq:\n")
		for _, s := range dyn {
			fam := "4"
			if s.family == ir.IPv6 {
				fam = "6"
			}
			fmt.Fprintf(b, "#   nftset=/%s/%s#inet#%s#%s\n", strings.Join(s.dynamic, "/"), fam, Table, s.name)
		}
		fmt.Fprintf(b, "# Reloading this script empties them again until the names are resolved anew.\n")
	}
	b.WriteString("\n")
}

var inputBaseline = []string{
	`ct state established,related accept comment "pw:base established,related"`,
	`ct state invalid drop comment "pw:base invalid"`,
	`iif "lo" accept comment "pw:base loopback"`,
	`icmp type { destination-unreachable, time-exceeded, parameter-problem } accept comment "pw:base icmp errors"`,
	`icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem } accept comment "pw:base icmpv6 errors"`,
	`icmpv6 type { nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept comment "pw:base ipv6 neighbour discovery"`,
	`icmpv6 type mld-listener-query ip6 saddr fe80::/10 accept comment "pw:base ipv6 multicast listener discovery"`,
}

var outputBaseline = []string{
	`ct state established,related accept comment "pw:base established,related"`,
	`ct state invalid drop comment "pw:base invalid"`,
	`oif "lo" accept comment "pw:base loopback"`,
	`icmp type { destination-unreachable, time-exceeded, parameter-problem } accept comment "pw:base icmp errors"`,
	`icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem } accept comment "pw:base icmpv6 errors"`,
	`icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept comment "pw:base ipv6 neighbour discovery"`,
	`icmpv6 type { mld-listener-report, mld-listener-done, mld2-listener-report } accept comment "pw:base ipv6 multicast listener discovery"`,
}

// writeChain writes a base chain with policy drop on hook: the baseline,
// the rules (written by chain), and the tail.
func writeChain(b *text, hook string, baseline []string, rules *text, tail []string) {
	fmt.Fprintf(b, "\tchain %s {\n\t\ttype filter hook %s priority filter; policy drop;\n", hook, hook)
	writeLines(b, baseline)
	b.adopt(rules)
	writeLines(b, tail)
	b.WriteString("\t}\n")
}

// writeLines writes the rules of a chain, one a line.
func writeLines(b *text, lines []string) {
	for _, l := range lines {
		b.WriteString("\t\t")
		b.WriteString(l)
		b.WriteByte('\n')
	}
}

// tail is what ends a chain: the logging of what the policy drops, and
// the reject that replaces a silent drop.
func tail(pol ir.Policy, chain string) []string {
	var out []string
	if pol.LogDropped {
		out = append(out, fmt.Sprintf(`limit rate 5/second burst 10 packets log prefix "portwall %s drop: " level info comment "pw:base log dropped"`, chain))
	}
	if chain == "input" && pol.Input == ir.InputReject {
		out = append(out,
			`meta l4proto tcp reject with tcp reset comment "pw:base reject"`,
			`reject with icmpx admin-prohibited comment "pw:base reject"`)
	}
	return out
}

// chain writes the rules of the host rules of one direction to b, one a
// line.
func (r *renderer) chain(b *text, hrs []ir.HostRule, dir ir.Direction) error {
	if r.layout == LayoutSets {
		return r.setsChain(b, hrs, dir)
	}
	if len(hrs) < splitAt {
		return r.rules(b, hrs, dir)
	}
	// Each rule's lines are its own: the second half is written beside
	// the first, by a renderer of its own whose declarations (and
	// omissions) then follow r's, as if r had gone on to write them.
	mid := len(hrs) / 2
	second := &renderer{v: r.v, layout: r.layout, sets: map[string]*set{}, lists: map[string]*list{}}
	var rest text
	var err, err2 error
	par.Both(func() { err = r.rules(b, hrs[:mid], dir) }, func() { err2 = second.rules(&rest, hrs[mid:], dir) })
	if err != nil {
		return err
	}
	if err2 != nil {
		return err2
	}
	r.merge(second)
	b.adopt(&rest)
	return nil
}

// rules writes host rules hrs, one after the other.
func (r *renderer) rules(b *text, hrs []ir.HostRule, dir ir.Direction) error {
	for _, hr := range hrs {
		if err := r.rule(b, hr, dir); err != nil {
			return err
		}
	}
	return nil
}

// merge takes what o declared and left out after what r did: a set or
// list of a name r declared already is the same (its name says what it
// holds), and is kept once.
func (r *renderer) merge(o *renderer) {
	for name, s := range o.sets {
		if _, ok := r.sets[name]; !ok {
			r.sets[name] = s
		}
	}
	for name, l := range o.lists {
		if _, ok := r.lists[name]; !ok {
			r.lists[name] = l
		}
	}
	for _, om := range o.omitted {
		if !slices.ContainsFunc(r.omitted, func(x generators.Omission) bool { return x.Rule == om.Rule && x.Set == om.Set }) {
			r.omitted = append(r.omitted, om)
		}
	}
}

// rule writes one host rule: a line per family, remote set and comment
// chunk. Matches where one side has no address of a family are absent
// (ir.HostView.Matches), so no line ever loses an address match.
func (r *renderer) rule(b *text, hr ir.HostRule, dir ir.Direction) error {
	matches := r.v.Matches(hr)
	for i := 0; i < len(matches); i++ {
		m := matches[i]
		// Every address of both families, on both sides, is one line
		// without any family or address match.
		if m.RemoteAll && hr.Rule.Protocol.Family() == 0 && i+1 < len(matches) {
			if next := matches[i+1]; next.Remote == m.Remote && next.RemoteAll {
				r.lines(b, hr, dir, m, "", false)
				i++
				continue
			}
		}
		if m.RemoteAll || len(m.RemoteRanges) > 0 {
			r.lines(b, hr, dir, m, r.staticSet(m), true)
		}
		if len(m.RemoteFQDNs) > 0 {
			if err := r.fqdnLines(b, hr, dir, m); err != nil {
				return err
			}
		}
	}
	return nil
}

// omit records a remote set's host names left out (fqdn = "omit").
func (r *renderer) omit(hr ir.HostRule, m ir.Match) {
	o := generators.Omission{Rule: hr.Rule.ID, Set: m.Remote.Name, Names: m.RemoteFQDNs}
	if !slices.ContainsFunc(r.omitted, func(x generators.Omission) bool { return x.Rule == o.Rule && x.Set == o.Set }) {
		r.omitted = append(r.omitted, o)
	}
}

// lines writes match m with the remote side matched by set ("@name",
// or an address or network; none when "" and the match is RemoteAll),
// one line per comment chunk:
//
//	ip saddr @g_web_v4 tcp dport 443 accept comment "pw:r... allow[0]"
func (r *renderer) lines(b *text, hr ir.HostRule, dir ir.Direction, m ir.Match, set string, familySpecific bool) {
	remoteKey := "saddr"
	if dir == ir.Out {
		remoteKey = "daddr"
	}
	fam := "ip"
	if m.Family == ir.IPv6 {
		fam = "ip6"
	}
	guarded := set != ""
	for _, c := range r.chunksFor(hr.Rule) {
		b.WriteString("\t\t")
		if guarded {
			b.WriteString(fam)
			b.WriteByte(' ')
			b.WriteString(remoteKey)
			b.WriteByte(' ')
			b.WriteString(set)
			b.WriteByte(' ')
		}
		if !guarded && (c.ports && familySpecific || !c.ports && !c.types) {
			b.WriteString("meta nfproto ")
			b.WriteString(m.Family.String())
			b.WriteByte(' ')
		}
		b.WriteString(c.service)
		b.WriteString(" accept comment ")
		b.WriteString(c.comment)
		b.WriteByte('\n')
	}
}

// chunksFor is the comment chunks of rule (generators.Chunks), with their
// service matches: once per rule, however many lines share them.
func (r *renderer) chunksFor(rule *ir.Rule) []chunk {
	if r.chunksOf == rule {
		return r.chunks
	}
	r.chunksOf, r.chunks = rule, r.chunks[:0]
	pr := rule.Protocol
	for _, c := range generators.Chunks(rule, MaxComment, commentText) {
		// Chunks cleaned the comment with commentText already.
		ch := chunk{comment: `"` + c.Comment + `"`}
		switch {
		case pr.HasPorts():
			ch.service, ch.ports = pr.String()+" dport "+r.portsExpr(c.Ports), true
		case len(c.ICMPTypes) > 0:
			ch.service, ch.types = pr.String()+" type "+r.typesExpr(pr, c.ICMPTypes), true
		default:
			ch.service = "meta l4proto " + l4name(pr)
		}
		r.chunks = append(r.chunks, ch)
	}
	return r.chunks
}

// staticSet is the right-hand side of m's remote address match: the
// address or network itself when that is all the set holds in m's
// family, else "@" and the named set, declared on first use. Inline
// networks keep a table of many one-network groups (Capirca's benchmark
// shape, one /24 per rule) free of named sets: the kernel finds a named
// set by walking the table's sets, so thousands of them load in time
// quadratic in the rules.
func (r *renderer) staticSet(m ir.Match) string {
	if m.RemoteAll {
		return ""
	}
	if len(m.RemoteRanges) == 1 {
		if _, ok := m.RemoteRanges[0].Prefix(); ok {
			return rangeString(m.RemoteRanges[0])
		}
	}
	name := setPrefix(m.Remote) + "_" + m.Remote.Name + "_" + famSuffix(m.Family)
	if _, ok := r.sets[name]; !ok {
		r.sets[name] = &set{name: name, family: m.Family, ranges: m.RemoteRanges, comment: fmt.Sprintf("%s %s", m.Remote.Kind, m.Remote.Name)}
	}
	return "@" + name
}

func (r *renderer) dynamicSet(m ir.Match) string {
	name := setPrefix(m.Remote) + "_" + m.Remote.Name + "_dns_" + famSuffix(m.Family)
	if _, ok := r.sets[name]; !ok {
		r.sets[name] = &set{name: name, family: m.Family, dynamic: m.RemoteFQDNs,
			comment: commentText("filled at run time from " + strings.Join(m.RemoteFQDNs, " "))}
	}
	return "@" + name
}

// maxListName bounds the name of a port or type list; longer lists are
// named by their first and last items, their count and a hash of all.
const maxListName = 64

// listRef declares (once) the shared set of items of type typ and
// returns "@" and its name: prefix and the items, joined by "_".
func (r *renderer) listRef(prefix, typ string, items, elements []string, interval bool) string {
	name := prefix + strings.Join(items, "_")
	if len(name) > maxListName {
		h := fnv.New32a()
		h.Write([]byte(strings.Join(items, ",")))
		name = fmt.Sprintf("%s%s_to_%s_%d_%08x", prefix, items[0], items[len(items)-1], len(items), h.Sum32())
	}
	if _, ok := r.lists[name]; !ok {
		r.lists[name] = &list{name: name, typ: typ, interval: interval, elements: elements}
	}
	return "@" + name
}

func setPrefix(s *ir.AddrSet) string {
	switch s.Kind {
	case ir.SetHost:
		return "h"
	case ir.SetCatalogFQDN:
		return "c"
	}
	return "g"
}

func famSuffix(f ir.Family) string {
	if f == ir.IPv4 {
		return "v4"
	}
	return "v6"
}

func addrType(f ir.Family) string {
	if f == ir.IPv4 {
		return "ipv4_addr"
	}
	return "ipv6_addr"
}

func l4name(p proto.Protocol) string {
	if p == proto.ICMPv6 {
		return "ipv6-icmp"
	}
	return p.String()
}

// portsExpr is one port or range, or a shared set of several
// (ports_22_80, ports_1024-5000_8080), which TCP and UDP rules share.
func (r *renderer) portsExpr(s ports.Set) string {
	if len(s) == 1 {
		return s[0].String()
	}
	items := s.Strings()
	return r.listRef("ports_", "inet_service", items, items, slices.ContainsFunc(s, func(x ports.Range) bool { return x.First != x.Last }))
}

// typesExpr is one ICMP type, or a shared set of several, named by their
// numbers (icmp_types_0_8, icmpv6_types_128_129).
func (r *renderer) typesExpr(p proto.Protocol, types []uint8) string {
	if len(types) == 1 {
		return proto.ICMPTypeName(p, types[0])
	}
	sorted := slices.Clone(types)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	numbers := make([]string, len(sorted))
	names := make([]string, len(sorted))
	for i, t := range sorted {
		numbers[i] = strconv.Itoa(int(t))
		names[i] = proto.ICMPTypeName(p, t)
	}
	typ := "icmp_type"
	if p == proto.ICMPv6 {
		typ = "icmpv6_type"
	}
	return r.listRef(p.String()+"_types_", typ, numbers, names, false)
}

// rangeString is an address range as nft reads it: an address, a
// network, or first-last.
func rangeString(r netipx.IPRange) string {
	var buf [96]byte
	return string(appendRange(buf[:0], r))
}

// appendRange appends rangeString(r) to b.
func appendRange(b []byte, r netipx.IPRange) []byte {
	if p, ok := r.Prefix(); ok {
		if p.IsSingleIP() {
			return p.Addr().AppendTo(b)
		}
		return p.AppendTo(b)
	}
	return r.AppendTo(b)
}

func writeElements(b *text, rs []netipx.IPRange) {
	items := make([]string, len(rs))
	for i, r := range rs {
		items[i] = rangeString(r)
	}
	writeItems(b, items)
}

// writeItems writes a set's elements, four to a line.
func writeItems(b *text, items []string) {
	const perLine = 4
	b.WriteString("\t\telements = {")
	for i, it := range items {
		switch {
		case i == 0:
			b.WriteString(" ")
		case i%perLine == 0:
			b.WriteString(",\n\t\t\t     ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(it)
	}
	b.WriteString(" }\n")
}

// fqdnLines renders the host-name part of a match (m.RemoteFQDNs) as
// defaults.fqdn says, in either layout: rules on a set that DNS fills, or
// nothing but a note in the header, or a refusal.
func (r *renderer) fqdnLines(b *text, hr ir.HostRule, dir ir.Direction, m ir.Match) error {
	switch r.v.Ruleset.Policy.FQDN {
	case ir.FQDNDynamicSet:
		r.lines(b, hr, dir, m, r.dynamicSet(m), true)
		return nil
	case ir.FQDNOmit:
		r.omit(hr, m)
		return nil
	default:
		return fmt.Errorf("rule %s reaches %s by host name, which nftables cannot match (set defaults.fqdn = \"dynamic-set\" or \"omit\")", hr.Rule.ID, m.Remote.Name)
	}
}
