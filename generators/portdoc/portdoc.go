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

	"go4.org/netipx"

	"github.com/portwall/portwall/generators"
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
		return renderHTML(d)
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
}

type policyLine struct {
	Name, Value, Meaning string
}

type hostSection struct {
	Name, Description, Addrs string
	// OutFiltered: outbound rows are listed because egress is filtered.
	OutFiltered bool
	Rows        []row
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
	// Dir and Peer are set in host sections, From and To in the network
	// section.
	Dir, Peer, From, To         string
	Purpose, Flow, Source, Rule string

	key rowKey
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
	Ports, Protocol, Dir, Peer, From, To, Purpose, Flow, Source string
}

func build(rs *ir.Ruleset, opt Options) (*document, error) {
	d := &document{Profile: flat(rs.Profile, maxName), Policy: policyLines(rs.Policy), HostOnly: flat(opt.Host, maxName)}
	for _, h := range rs.Hosts {
		if opt.Host != "" && h.Name != opt.Host {
			continue
		}
		s, err := buildHost(rs, h)
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
		from, err := endpointText(rs, r.From, "")
		if err != nil {
			return nil, err
		}
		to, err := endpointText(rs, r.To, "")
		if err != nil {
			return nil, err
		}
		if loopbackOnly(rs, r.From, r.To) {
			// No firewall between networks sees it; a row would suggest
			// opening the ports between the networks.
			n.Loopback = append(n.Loopback, flat(r.From.Sets[0], maxName)+", "+loopbackItem(r))
			continue
		}
		for _, x := range ruleRows(r) {
			x.From, x.To = from, to
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

func buildHost(rs *ir.Ruleset, h *ir.Host) (hostSection, error) {
	s := hostSection{
		Name: flat(h.Name, maxName), Description: flat(h.Description, maxText),
		Addrs: strings.Join(addrStrings(h.Addrs), ", "), OutFiltered: rs.Policy.Output == ir.OutputDrop,
	}
	v, err := rs.HostView(h.Name)
	if err != nil {
		return s, err
	}
	// The rows are what the host's rules allow: inbound always, outbound
	// only when egress is filtered, as generators.Rendered selects them.
	for _, hr := range v.Enforced() {
		peer, err := endpointText(rs, hr.Remote, h.Name)
		if err != nil {
			return s, err
		}
		if peer == "" {
			// The remote side is the host itself: loopback, which every
			// backend's baseline allows, so no rule is emitted for it. With
			// egress filtered the rule is both inbound and outbound.
			if item := loopbackItem(hr.Rule); !slices.Contains(s.Loopback, item) {
				s.Loopback = append(s.Loopback, item)
			}
			continue
		}
		for _, x := range ruleRows(hr.Rule) {
			x.Dir, x.Peer = string(hr.Dir), peer
			x.key.dir, x.key.peer = dirOrder(hr.Dir), hr.Remote.String()
			s.Rows = append(s.Rows, x)
		}
	}
	slices.SortStableFunc(s.Rows, compareRows)
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

// loopbackItem names a rule of a host with itself: what it allows and why.
func loopbackItem(r *ir.Rule) string {
	return ruleLabel(r) + ": " + flat(generators.Provenance(r.ID, r.Origins), maxText)
}

// dirOrder sorts inbound rows before outbound ones.
func dirOrder(d ir.Direction) string {
	if d == ir.In {
		return "0"
	}
	return "1"
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
		x := row{Protocol: r.Protocol.String(), Rule: r.ID, Ports: portsText(r.Ports),
			Purpose: "—", Flow: flat(generators.OriginLabels(r.Origins), maxText),
			Source: "no origin of the rule claims all of its ports"}
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

// originText is an origin's purpose, flow and source cells. The flow cell
// names the catalog's roles or peers on both sides, which is how the
// vendor's table words them.
func originText(o ir.Origin) (purpose, flow, source string) {
	if o.Kind == ir.OriginCustom {
		src := "custom rule " + o.Label()
		if o.Comment != "" {
			src += ": " + o.Comment
		} else {
			src += " (no comment)"
		}
		return orDash(flat(o.Comment, maxText)), "profile", flat(src, maxText)
	}
	flow = o.Product + "/" + o.Feature + ": " + o.Flow
	if o.FromLabel != "" || o.ToLabel != "" {
		flow += " (" + o.FromLabel + " → " + o.ToLabel + ")"
	}
	source = o.Source
	if o.Departure != "" {
		// A flow beyond the vendor's document says so where the document
		// is cited, so that nobody takes it for the vendor's word.
		source += " (departure from the document: " + o.Departure + ")"
	}
	return orDash(flat(o.Purpose, maxText)), flat(flow, maxText), orDash(flat(source, maxText))
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

// endpointText describes an endpoint's sets with their addresses:
// "office (192.168.10.0/24, fd00:10::/64); resolvers (192.168.10.1)". The
// host set named self is left out (the host's rules never match itself);
// the result is empty when nothing else is left.
func endpointText(rs *ir.Ruleset, e ir.Endpoint, self string) (string, error) {
	var parts []string
	for _, n := range e.Sets {
		s, ok := rs.Set(n)
		if !ok {
			return "", fmt.Errorf("internal error: the ruleset refers to unknown address set %q", n)
		}
		if self != "" && s.Kind == ir.SetHost && s.Name == self {
			continue
		}
		parts = append(parts, flat(s.Name, maxName)+" ("+strings.Join(setAddrs(s), ", ")+")")
	}
	return strings.Join(parts, "; "), nil
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
