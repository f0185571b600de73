// Package portdoc renders a resolved ruleset as the deployment's "ports to
// open" document (Markdown or one self-contained HTML page) or as a flow
// diagram (Mermaid or Graphviz DOT). It reads the same IR the rule backends
// render, so the document cannot disagree with the rules: every row names
// the catalog flow (product, feature, flow) and the vendor's document and
// row, or the profile's custom rule, and the rule ID the generated rules
// carry in their comments.
//
// Output is deterministic: rows and nodes are sorted, and nothing depends
// on the time or the machine. Every name and free text comes from a profile
// or a catalog and is escaped for the format; none can break a table, a
// tag, or a diagram's quoting.
package portdoc

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"unicode/utf8"

	"go4.org/netipx"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/zones"
	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

// Format is an output format.
type Format string

const (
	Markdown Format = "markdown"
	HTML     Format = "html"
	Mermaid  Format = "mermaid"
	DOT      Format = "dot"
)

// Formats lists the format names, documents first.
func Formats() []string {
	return []string{string(Markdown), string(HTML), string(Mermaid), string(DOT)}
}

// Options select what to render.
type Options struct {
	// Host restricts the output to one host of the profile: the document
	// gets that host's section only (no network section), the diagram the
	// flows to and from the host. Empty renders every host and the network.
	Host string
	// Zones places addresses behind the gateway's interfaces or zones
	// ([fortigate.interfaces], as fortigate.Settings.Zones reads them):
	// the documents get an interface column, and the diagrams a cluster
	// per interface. Nil: no interface column, and the diagrams cluster
	// hosts, networks and the Internet.
	Zones *zones.Map
	// SVG draws the HTML page's flow diagram from its DOT text (Graphviz's
	// dot -Tsvg). Nil embeds the DOT text instead, so that the page does
	// not depend on what is installed; the drawing depends on the Graphviz
	// version, so golden pages are rendered without it.
	SVG func(dot []byte) ([]byte, error)
}

// Render renders rs in format f.
func Render(rs *ir.Ruleset, f Format, opt Options) ([]byte, error) {
	if opt.Host != "" {
		if _, ok := rs.Host(opt.Host); !ok {
			return nil, fmt.Errorf("unknown host %q", opt.Host)
		}
	}
	switch f {
	case Markdown, HTML:
		d, err := build(rs, opt)
		if err != nil {
			return nil, err
		}
		if f == Markdown {
			return renderMarkdown(d), nil
		}
		g, err := buildGraph(rs, opt)
		if err != nil {
			return nil, err
		}
		dia := diagram{DOT: string(renderDOT(g))}
		if opt.SVG != nil {
			svg, err := opt.SVG([]byte(dia.DOT))
			if err != nil {
				return nil, fmt.Errorf("drawing the flow diagram: %w", err)
			}
			if dia.SVG, err = cleanSVG(svg); err != nil {
				return nil, fmt.Errorf("drawing the flow diagram: %w", err)
			}
		}
		return renderHTML(d, dia)
	case Mermaid, DOT:
		g, err := buildGraph(rs, opt)
		if err != nil {
			return nil, err
		}
		if f == Mermaid {
			return renderMermaid(g), nil
		}
		return renderDOT(g), nil
	}
	return nil, fmt.Errorf("unknown format %q (formats: %s)", f, strings.Join(Formats(), ", "))
}

// Limits of free text and names in a cell or label. Vendor rows and
// purposes are far shorter; a profile may hold anything, and a document
// must stay readable rather than refuse it.
const (
	maxText = 2000
	maxName = 200
)

// flat makes free text one line (see generators.Flatten); the format's own
// escaping comes later.
func flat(s string, max int) string {
	return generators.Flatten(s, max, func(r rune) rune { return r })
}

// document is what the Markdown and HTML renderers lay out. Every string
// is plain text, one line, not yet escaped.
type document struct {
	Profile  string
	Policy   []policyLine
	Hosts    []hostSection
	Network  *networkSection // nil when one host was asked for
	HostOnly string          // the host asked for, if any
	// Zones: endpoints are placed behind the gateway's interfaces
	// (Options.Zones), and the tables have an interface column.
	Zones bool
}

type policyLine struct {
	Name, Value, Meaning string
}

type hostSection struct {
	Name, Description, Addrs string
	// Intf is the interfaces the host sits behind (with Zones).
	Intf string
	// OutFiltered: outbound rows are listed because egress is filtered.
	OutFiltered bool
	In, Out     []row
	// Loopback lists flows that stay on the host: no rule needed.
	Loopback []string
	Internal []internalRow
}

type networkSection struct {
	Rows []row
	// Loopback lists rules of a host with itself.
	Loopback []string
	Internal []internalRow
}

// row is one origin of one rule: the ports one catalog flow or custom rule
// asked for, which is how vendors' tables list them.
type row struct {
	Ports, Protocol string
	// Peer is set in host sections, From and To in the network section.
	Peer, From, To []part
	// Intf is the peer's interfaces in host sections, "from → to" in the
	// network section (with Zones).
	Intf    string
	Purpose string
	Flow    flowText
	Source  citation
	Rule    string

	key rowKey
}

// part is one address set of an endpoint: its name and addresses.
type part struct{ Name, Addrs string }

func partsText(ps []part) string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name + " (" + p.Addrs + ")"
	}
	return strings.Join(out, "; ")
}

// flowText names the catalog flow ("fortimail/smtp: smtp-in") and the
// roles or peers on both sides ("email-servers → unit"), which is how the
// vendor's table words them; "profile" for a custom rule.
type flowText struct{ Name, Roles string }

func (f flowText) String() string {
	if f.Roles == "" {
		return f.Name
	}
	return f.Name + " (" + f.Roles + ")"
}

// citation is where a row comes from: the vendor's document and row, or
// the profile's custom rule.
type citation struct {
	// Text is the whole citation, as the Markdown table gives it.
	Text string
	// Short names the document briefly, for a narrow column; the whole
	// citation goes in a note.
	Short string
	// Note is the text of the note ("" for none: a custom rule, whose
	// comment is the purpose).
	Note string
	// Departure: the flow goes beyond the vendor's document.
	Departure bool
}

// rowKey sorts rows: a host's by direction, then protocol and port, as a
// "ports to open" table reads; the network's by source and destination
// first, as a gateway's policies group them.
type rowKey struct {
	dir, from, to    string
	proto            proto.Protocol
	first, last      uint16
	peer, flow, rule string
}

func compareRows(a, b row) int {
	x, y := a.key, b.key
	return cmp.Or(cmp.Compare(x.dir, y.dir), cmp.Compare(x.from, y.from), cmp.Compare(x.to, y.to),
		cmp.Compare(x.proto, y.proto), cmp.Compare(x.first, y.first), cmp.Compare(x.last, y.last),
		cmp.Compare(x.peer, y.peer), cmp.Compare(x.flow, y.flow), cmp.Compare(x.rule, y.rule))
}

type internalRow struct {
	Ports, Protocol, Dir, Peer, From, To, Purpose string
	Flow                                          flowText
	Source                                        citation
}

// builder carries what every row needs.
type builder struct {
	rs  *ir.Ruleset
	opt Options
}

func build(rs *ir.Ruleset, opt Options) (*document, error) {
	b := builder{rs: rs, opt: opt}
	d := &document{Profile: flat(rs.Profile, maxName), Policy: policyLines(rs.Policy), HostOnly: flat(opt.Host, maxName), Zones: opt.Zones != nil}
	for _, h := range rs.Hosts {
		if opt.Host != "" && h.Name != opt.Host {
			continue
		}
		s, err := b.host(h)
		if err != nil {
			return nil, err
		}
		d.Hosts = append(d.Hosts, s)
	}
	if opt.Host != "" {
		return d, nil
	}
	n := &networkSection{}
	for _, r := range rs.Rules {
		from, err := endpointParts(rs, r.From, "")
		if err != nil {
			return nil, err
		}
		to, err := endpointParts(rs, r.To, "")
		if err != nil {
			return nil, err
		}
		if loopbackOnly(rs, r.From, r.To) {
			// No firewall between networks sees it; a row would suggest
			// opening the ports between the networks.
			n.Loopback = append(n.Loopback, flat(r.From.Sets[0], maxName)+", "+loopbackItem(r))
			continue
		}
		intf := ""
		if d.Zones {
			intf = b.intf(r.From, "") + " → " + b.intf(r.To, "")
		}
		for _, x := range ruleRows(r) {
			x.From, x.To, x.Intf = from, to, intf
			x.key.from, x.key.to = r.From.String(), r.To.String()
			n.Rows = append(n.Rows, x)
		}
	}
	slices.SortStableFunc(n.Rows, compareRows)
	for _, f := range rs.Internal {
		x, err := internal(rs, f)
		if err != nil {
			return nil, err
		}
		n.Internal = append(n.Internal, x)
	}
	d.Network = n
	return d, nil
}

func policyLines(p ir.Policy) []policyLine {
	in := "inbound traffic no rule allows is dropped without an answer"
	if p.Input == ir.InputReject {
		in = "inbound traffic no rule allows is refused (TCP reset, ICMP unreachable)"
	}
	out := "outbound traffic is not filtered on the hosts; outbound flows are listed for firewalls between the networks"
	if p.Output == ir.OutputDrop {
		out = "hosts may connect out only as the outbound rules allow"
	}
	logged := "no"
	if p.LogDropped {
		logged = "yes"
	}
	return []policyLine{
		{"Input", flat(string(p.Input), maxName), in},
		{"Output", flat(string(p.Output), maxName), out},
		{"Log dropped", logged, "whether the hosts log what the policy drops"},
		{"Host names (fqdn)", flat(string(p.FQDN), maxName), "what backends do with address sets known by host name"},
	}
}

func (b builder) host(h *ir.Host) (hostSection, error) {
	rs := b.rs
	s := hostSection{
		Name: flat(h.Name, maxName), Description: flat(h.Description, maxText),
		Addrs: strings.Join(addrStrings(h.Addrs), ", "), OutFiltered: rs.Policy.Output == ir.OutputDrop,
	}
	if b.opt.Zones != nil {
		set, ok := rs.Set(h.Name)
		if !ok || set.Kind != ir.SetHost {
			set = hostAddrsSet(h.Name, h.Addrs)
		}
		s.Intf = b.setIntf(set)
	}
	v, err := rs.HostView(h.Name)
	if err != nil {
		return s, err
	}
	// The rows are what the host's rules allow: inbound always, outbound
	// only when egress is filtered, as generators.Rendered selects them.
	for _, hr := range v.Enforced() {
		peer, err := endpointParts(rs, hr.Remote, h.Name)
		if err != nil {
			return s, err
		}
		if len(peer) == 0 {
			// The remote side is the host itself: loopback, which every
			// backend's baseline allows, so no rule is emitted for it. With
			// egress filtered the rule is both inbound and outbound.
			if item := loopbackItem(hr.Rule); !slices.Contains(s.Loopback, item) {
				s.Loopback = append(s.Loopback, item)
			}
			continue
		}
		intf := ""
		if b.opt.Zones != nil {
			intf = b.intf(hr.Remote, h.Name)
		}
		for _, x := range ruleRows(hr.Rule) {
			x.Peer, x.Intf = peer, intf
			x.key.peer = hr.Remote.String()
			if hr.Dir == ir.In {
				s.In = append(s.In, x)
			} else {
				s.Out = append(s.Out, x)
			}
		}
	}
	slices.SortStableFunc(s.In, compareRows)
	slices.SortStableFunc(s.Out, compareRows)
	for _, f := range rs.Internal {
		in, out := names(rs, f.To, h.Name), names(rs, f.From, h.Name)
		if !in && !out {
			continue
		}
		x, err := internal(rs, f)
		if err != nil {
			return s, err
		}
		switch {
		case in && out:
			x.Dir, x.Peer = "on the host", "the host itself"
		case in:
			x.Dir, x.Peer = string(ir.In), x.From
		default:
			x.Dir, x.Peer = string(ir.Out), x.To
		}
		s.Internal = append(s.Internal, x)
	}
	return s, nil
}

// intf names the interfaces an endpoint's sets sit behind, the host set
// named self left out: "internal", "dmz, servers".
func (b builder) intf(e ir.Endpoint, self string) string {
	var out []string
	for _, n := range e.Sets {
		s, ok := b.rs.Set(n)
		if !ok || self != "" && s.Kind == ir.SetHost && s.Name == self {
			continue
		}
		for _, i := range strings.Split(b.setIntf(s), ", ") {
			if i != "" && !slices.Contains(out, i) {
				out = append(out, i)
			}
		}
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// setIntf names every interface a set's addresses sit behind (zoneOf),
// as the FortiGate's policies place them, "no interface" for what none
// holds.
func (b builder) setIntf(s *ir.AddrSet) string {
	_, intfs, covered := zoneOf(b.opt, s)
	out := make([]string, len(intfs))
	for i, x := range intfs {
		out[i] = flat(x, maxName)
	}
	if !covered {
		out = append(out, "no interface")
	}
	return strings.Join(out, ", ")
}

// loopbackItem names a rule of a host with itself: what it allows and why.
func loopbackItem(r *ir.Rule) string {
	return ruleLabel(r) + ": " + flat(generators.Provenance(r.ID, r.Origins), maxText)
}

// ruleRows lists a rule's origins as rows, each with the ports (or ICMP
// types) it asked for, cut back to what the rule allows: a hand-built IR
// may claim more, and the document must never show a port as open that
// the rules do not open. Ports of the rule that no origin claims get a row
// of their own, so that nothing open goes unlisted.
func ruleRows(r *ir.Rule) []row {
	var out []row
	var claimed ports.Set
	for _, o := range r.Origins {
		x := row{Protocol: r.Protocol.String(), Rule: r.ID}
		x.key.proto, x.key.rule = r.Protocol, r.ID
		if r.Protocol.HasPorts() {
			ps := o.Ports.Intersect(r.Ports)
			if len(ps) == 0 {
				continue
			}
			claimed = claimed.Union(ps)
			x.Ports = portsText(ps)
			x.key.first, x.key.last = ps[0].First, ps[0].Last
		} else {
			x.Ports = typesText(r.Protocol, clampTypes(o.ICMPTypes, r.ICMPTypes))
		}
		x.Purpose, x.Flow, x.Source = originText(o)
		x.key.flow = o.Label()
		if r.Program != "" {
			x.Purpose += " (only for the program " + flat(r.Program, maxName) + ")"
		}
		out = append(out, x)
	}
	if r.Protocol.HasPorts() && !claimed.Covers(r.Ports) {
		const why = "no origin of the rule claims all of its ports"
		x := row{Protocol: r.Protocol.String(), Rule: r.ID, Ports: portsText(r.Ports),
			Purpose: "—", Flow: flowText{Name: flat(generators.OriginLabels(r.Origins), maxText)},
			Source: citation{Text: why, Short: why}}
		x.key.proto, x.key.rule, x.key.first, x.key.last = r.Protocol, r.ID, r.Ports[0].First, r.Ports[0].Last
		out = append(out, x)
	}
	return out
}

// clampTypes is the part of an origin's ICMP types its rule allows; an
// empty list means every type, for the rule and for the origin.
func clampTypes(o, r []uint8) []uint8 {
	switch {
	case len(r) == 0:
		return o
	case len(o) == 0:
		return r
	}
	return slices.DeleteFunc(slices.Clone(o), func(t uint8) bool { return !slices.Contains(r, t) })
}

// originText is an origin's purpose, flow and source cells.
func originText(o ir.Origin) (purpose string, flow flowText, source citation) {
	if o.Kind == ir.OriginCustom {
		src := "custom rule " + o.Label()
		if o.Comment != "" {
			src += ": " + o.Comment
		} else {
			src += " (no comment)"
		}
		return orDash(flat(o.Comment, maxText)), flowText{Name: "profile"},
			citation{Text: flat(src, maxText), Short: flat("custom rule "+o.Label(), maxName)}
	}
	flow.Name = flat(o.Product+"/"+o.Feature+": "+o.Flow, maxText)
	if o.FromLabel != "" || o.ToLabel != "" {
		flow.Roles = flat(o.FromLabel+" → "+o.ToLabel, maxText)
	}
	text := o.Source
	if o.Departure != "" {
		// A flow beyond the vendor's document says so where the document
		// is cited, so that nobody takes it for the vendor's word.
		text += " (departure from the document: " + o.Departure + ")"
	}
	source = citation{Text: orDash(flat(text, maxText)), Departure: o.Departure != ""}
	if strings.TrimSpace(o.Source) != "" {
		doc := o.Document
		if doc == "" {
			doc = o.Source
		}
		source.Short, source.Note = shortTitle(flat(doc, maxText)), source.Text
	} else {
		source.Short = source.Text
	}
	return orDash(flat(o.Purpose, maxText)), flow, source
}

// shortTitle names a document in a few words: its title up to the first
// ": " (a guide's name, "FortiClient EMS Administration Guide"), or more
// when that is only a publisher or a number ("Microsoft", "RFC 7766"),
// cut at a word to about 44 characters.
func shortTitle(title string) string {
	head, _, ok := strings.Cut(title, ": ")
	if !ok || utf8.RuneCountInString(head) <= 12 {
		head = title
	}
	const max = 44
	if utf8.RuneCountInString(head) <= max {
		return head
	}
	r := []rune(head)[:max]
	if i := strings.LastIndexAny(string(r), " ,"); i > max/2 {
		return strings.TrimRight(string(r)[:i], " ,:") + "…"
	}
	return string(r) + "…"
}

func internal(rs *ir.Ruleset, f *ir.InternalFlow) (internalRow, error) {
	o := f.Origin
	x := internalRow{Protocol: f.Protocol.String()}
	switch {
	case f.Protocol.HasPorts():
		x.Ports = orDash(portsText(o.Ports))
	default:
		x.Ports = typesText(f.Protocol, o.ICMPTypes)
	}
	var err error
	if x.From, err = endpointText(rs, f.From, ""); err != nil {
		return x, err
	}
	if x.To, err = endpointText(rs, f.To, ""); err != nil {
		return x, err
	}
	if x.From == "" {
		x.From = flat(o.FromLabel, maxName) + " (not bound in the profile)"
	}
	if x.To == "" {
		x.To = flat(o.ToLabel, maxName) + " (not bound in the profile)"
	}
	x.Purpose, x.Flow, x.Source = originText(o)
	return x, nil
}

// names reports whether endpoint e names host h: one of its sets is the
// host or includes it by name, as ir.HostView decides.
func names(rs *ir.Ruleset, e ir.Endpoint, h string) bool {
	for _, n := range e.Sets {
		if s, ok := rs.Set(n); ok && slices.Contains(s.Hosts, h) {
			return true
		}
	}
	return false
}

// loopbackOnly reports whether a rule connects one host with itself only.
func loopbackOnly(rs *ir.Ruleset, from, to ir.Endpoint) bool {
	if len(from.Sets) != 1 || !slices.Equal(from.Sets, to.Sets) {
		return false
	}
	s, ok := rs.Set(from.Sets[0])
	return ok && s.Kind == ir.SetHost
}

// endpointParts lists an endpoint's sets with their addresses. The host
// set named self is left out (the host's rules never match itself); the
// result is empty when nothing else is left.
func endpointParts(rs *ir.Ruleset, e ir.Endpoint, self string) ([]part, error) {
	var parts []part
	for _, n := range e.Sets {
		s, ok := rs.Set(n)
		if !ok {
			return nil, fmt.Errorf("internal error: the ruleset refers to unknown address set %q", n)
		}
		if self != "" && s.Kind == ir.SetHost && s.Name == self {
			continue
		}
		parts = append(parts, part{flat(s.Name, maxName), strings.Join(setAddrs(s), ", ")})
	}
	return parts, nil
}

// endpointText describes an endpoint's sets with their addresses:
// "office (192.168.10.0/24, fd00:10::/64); resolvers (192.168.10.1)".
func endpointText(rs *ir.Ruleset, e ir.Endpoint, self string) (string, error) {
	ps, err := endpointParts(rs, e, self)
	return partsText(ps), err
}

// setAddrs lists a set's addresses, IPv4 first, then its host names.
func setAddrs(s *ir.AddrSet) []string {
	if s.IsAny() {
		return []string{"any address"}
	}
	var out []string
	for _, f := range ir.Families {
		for _, r := range s.Ranges(f) {
			out = append(out, rangeText(r))
		}
	}
	for _, n := range s.FQDNs {
		out = append(out, flat(n, maxName))
	}
	if len(out) == 0 {
		return []string{"no address"}
	}
	return out
}

// rangeText writes a single address without a prefix length, since
// readers copy addresses from the document into other tools.
func rangeText(r netipx.IPRange) string {
	if r.From() == r.To() {
		return r.From().String()
	}
	if p, ok := r.Prefix(); ok {
		return p.String()
	}
	return r.String()
}

func addrStrings(as []netip.Addr) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	return out
}

func portsText(s ports.Set) string { return strings.Join(s.Strings(), ", ") }

func typesText(p proto.Protocol, ts []uint8) string {
	if len(ts) == 0 {
		return "any type"
	}
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = proto.ICMPTypeName(p, t)
	}
	return strings.Join(names, ", ")
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}
