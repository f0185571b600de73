package portdoc

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"go4.org/netipx"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/proto"
)

// graph is a flow diagram: a node per address set (a host, a group, a
// peer's addresses), an edge per pair of nodes with every rule between
// them, and the nodes clustered by where they sit. A rule whose side
// binds several sets (a role of two hosts) gets an edge per set rather
// than a node of its own, so that no host is drawn twice: once alone and
// once in a combined node. Strings are plain text, escaped by the
// renderer.
type graph struct {
	Title    string
	Clusters []cluster // in order of ID
	Nodes    []node    // sorted by ID
	Edges    []edge    // sorted by From, To
}

// cluster groups nodes: the gateway interface or zone they sit behind, or
// without [fortigate.interfaces] what they are (hosts, networks, the
// Internet).
type cluster struct {
	ID, Label string
}

type node struct {
	ID    string
	Lines []string
	// Host: the node stands for hosts of the profile only (drawn as a
	// box); other nodes are networks and peers.
	Host bool
	// Cluster is the ID of the node's cluster, "" for none.
	Cluster string
	// Internet: every address, or peers known by host name only.
	Internet bool
}

type edge struct {
	From, To string // node IDs
	// Both: the same ports are open in both directions, drawn as one
	// edge with two arrowheads.
	Both  bool
	Lines []string // "tcp 25, 465"
	// Tips are the provenance of each rule, for formats with tooltips.
	Tips []string
}

// addrsPerLine keeps node labels narrow.
const addrsPerLine = 3

// drawn is one node of the diagram in the making: the set it stands for
// and the hosts of the profile it holds.
type drawn struct {
	set *ir.AddrSet
	// hostOnly: the set is hosts of the profile and nothing else (a host,
	// or a group of hosts), so it may be drawn as its hosts instead.
	hostOnly bool
	hosts    []string // sorted
}

// buildGraph draws the network view's rules, or with opt.Host those that
// concern the host, in either direction: a diagram shows flows, not one
// host's filter, so outbound flows are drawn whatever the output policy.
// Rules that connect a host with itself only stay on loopback and are left
// out, as every backend leaves them out.
func buildGraph(rs *ir.Ruleset, opt Options) (*graph, error) {
	g := &graph{Title: "Flows of " + flat(rs.Profile, maxName)}
	selected := rs.Rules
	if opt.Host != "" {
		g.Title = "Flows of host " + flat(opt.Host, maxName) + ", " + flat(rs.Profile, maxName)
		v, err := rs.HostView(opt.Host)
		if err != nil {
			return nil, err
		}
		selected = nil
		for _, hr := range append(slices.Clone(v.In), v.Out...) {
			if !slices.Contains(selected, hr.Rule) {
				selected = append(selected, hr.Rule)
			}
		}
	}
	var rules []*ir.Rule
	sets := map[string]*drawn{}
	for _, r := range selected {
		if loopbackOnly(rs, r.From, r.To) {
			continue
		}
		rules = append(rules, r)
		for _, n := range append(slices.Clone(r.From.Sets), r.To.Sets...) {
			if sets[n] != nil {
				continue
			}
			s, ok := rs.Set(n)
			if !ok {
				return nil, fmt.Errorf("internal error: the ruleset refers to unknown address set %q", n)
			}
			sets[n] = newDrawn(rs, s)
		}
	}
	nodes := nodesOf(rs, sets)

	ids := map[*drawn]string{}
	used := map[string]bool{}
	for _, d := range nodes {
		id := nodeID(d.set.Name)
		for i := 2; used[id]; i++ {
			id = nodeID(d.set.Name) + "_" + strconv.Itoa(i)
		}
		used[id], ids[d] = true, id
		g.Nodes = append(g.Nodes, drawNode(d, id, opt))
	}
	slices.SortFunc(g.Nodes, func(a, b node) int { return strings.Compare(a.ID, b.ID) })

	// A rule is an edge from each node of each set of its From to each
	// node of each set of its To, less a host's traffic with itself.
	type pair struct{ from, to string }
	byPair := map[pair][]*ir.Rule{}
	for _, r := range rules {
		for _, f := range r.From.Sets {
			for _, t := range r.To.Sets {
				for _, fn := range coverOf(sets[f], nodes) {
					for _, tn := range coverOf(sets[t], nodes) {
						if fn == tn && len(fn.hosts) == 1 && fn.hostOnly {
							continue
						}
						if opt.Host != "" && !slices.Contains(fn.hosts, opt.Host) && !slices.Contains(tn.hosts, opt.Host) {
							// Another set of the rule's side: not a
							// flow of the host asked for.
							continue
						}
						p := pair{ids[fn], ids[tn]}
						if !slices.Contains(byPair[p], r) {
							byPair[p] = append(byPair[p], r)
						}
					}
				}
			}
		}
	}
	edges := map[pair]*edge{}
	for p, rules := range byPair {
		slices.SortStableFunc(rules, func(a, b *ir.Rule) int {
			return cmp.Or(cmp.Compare(a.Protocol, b.Protocol), cmp.Compare(a.Program, b.Program), strings.Compare(a.ID, b.ID))
		})
		e := &edge{From: p.from, To: p.to, Lines: edgeLines(rules)}
		for _, r := range rules {
			e.Tips = append(e.Tips, flat(generators.Provenance(r.ID, r.Origins), 500))
		}
		edges[p] = e
	}
	// One edge for both ways: the HA pair's and the mail gateway's "25
	// in, 25 out" read better as one line than as two, and two edges
	// between the same nodes in one rank draw their labels on top of
	// each other. Different ports each way are labelled by where they go.
	names := map[string]string{}
	for _, n := range g.Nodes {
		names[n.ID] = n.Lines[0]
	}
	for _, p := range slices.SortedFunc(maps.Keys(edges), func(a, b pair) int {
		return cmp.Or(strings.Compare(a.from, b.from), strings.Compare(a.to, b.to))
	}) {
		e, ok := edges[p]
		if !ok || p.from == p.to || e.Both {
			continue
		}
		back, ok := edges[pair{p.to, p.from}]
		if !ok {
			continue
		}
		// The edge from the node that sorts first is kept.
		if !slices.Equal(e.Lines, back.Lines) {
			// "to mail1: tcp 25, 465", then the other way.
			lines := slices.Clone(e.Lines)
			lines[0] = "to " + names[p.to] + ": " + lines[0]
			e.Lines = append(lines, back.Lines...)
			e.Lines[len(lines)] = "to " + names[p.from] + ": " + e.Lines[len(lines)]
		}
		e.Tips = append(e.Tips, back.Tips...)
		e.Both = true
		delete(edges, pair{p.to, p.from})
	}
	for _, e := range edges {
		g.Edges = append(g.Edges, *e)
	}
	slices.SortFunc(g.Edges, func(a, b edge) int { return cmp.Or(strings.Compare(a.From, b.From), strings.Compare(a.To, b.To)) })
	// With --host, a set of a rule's side may have no flow of the host's
	// (the other host of a role): it is not drawn.
	g.Nodes = slices.DeleteFunc(g.Nodes, func(n node) bool {
		return !slices.ContainsFunc(g.Edges, func(e edge) bool { return e.From == n.ID || e.To == n.ID })
	})
	g.Clusters = clustersOf(g.Nodes, opt)
	return g, nil
}

func newDrawn(rs *ir.Ruleset, s *ir.AddrSet) *drawn {
	d := &drawn{set: s, hosts: slices.Sorted(slices.Values(s.Hosts))}
	if len(s.Hosts) == 0 || s.IsAny() || len(s.FQDNs) > 0 || s.IPs == nil {
		return d
	}
	// Hosts only: the set's addresses are its hosts' and nothing more.
	var b netipx.IPSetBuilder
	for _, h := range s.Hosts {
		host, ok := rs.Host(h)
		if !ok {
			return d
		}
		for _, a := range host.Addrs {
			b.Add(a)
		}
	}
	hosts, _ := b.IPSet()
	d.hostOnly = hosts.Equal(s.IPs)
	return d
}

// nodesOf chooses the nodes: the sets the rules name, but a set of hosts
// that overlaps another node is drawn as the nodes within it (its hosts,
// or a smaller group of them), until no host is in two nodes. A group
// that holds other addresses besides hosts stays one node.
func nodesOf(rs *ir.Ruleset, sets map[string]*drawn) []*drawn {
	nodes := slices.SortedFunc(maps.Values(sets), func(a, b *drawn) int { return strings.Compare(a.set.Name, b.set.Name) })
	for {
		split := slices.IndexFunc(nodes, func(a *drawn) bool {
			return slices.ContainsFunc(nodes, func(b *drawn) bool { return splits(a, b) })
		})
		if split < 0 {
			return nodes
		}
		a := nodes[split]
		nodes = slices.Delete(nodes, split, split+1)
		for _, h := range a.hosts {
			if slices.ContainsFunc(nodes, func(n *drawn) bool { return n.hostOnly && slices.Contains(n.hosts, h) && subset(n.hosts, a.hosts) }) {
				continue
			}
			nodes = append(nodes, hostDrawn(rs, h))
		}
		slices.SortFunc(nodes, func(a, b *drawn) int { return strings.Compare(a.set.Name, b.set.Name) })
	}
}

// splits reports whether node a, a set of hosts, is drawn as the nodes
// within it because node b shares hosts with it: b holds fewer of a's
// hosts, or others besides, or the same hosts as a host's own set (or a
// group that sorts first).
func splits(a, b *drawn) bool {
	if a == b || !a.hostOnly || !b.hostOnly || !overlaps(a.hosts, b.hosts) {
		return false
	}
	if !subset(a.hosts, b.hosts) {
		return true
	}
	if len(a.hosts) < len(b.hosts) {
		return false
	}
	// The same hosts: keep one.
	if (a.set.Kind == ir.SetHost) != (b.set.Kind == ir.SetHost) {
		return b.set.Kind == ir.SetHost
	}
	return b.set.Name < a.set.Name
}

// coverOf is the nodes that stand for set d: d itself, or the nodes its
// hosts were split into.
func coverOf(d *drawn, nodes []*drawn) []*drawn {
	if slices.Contains(nodes, d) {
		return []*drawn{d}
	}
	var out []*drawn
	for _, n := range nodes {
		if n.hostOnly && overlaps(n.hosts, d.hosts) && subset(n.hosts, d.hosts) {
			out = append(out, n)
		}
	}
	return out
}

// hostDrawn is the node of one host: its set in the ruleset, or one made
// of its addresses when no rule names the host alone.
func hostDrawn(rs *ir.Ruleset, name string) *drawn {
	if s, ok := rs.Set(name); ok && s.Kind == ir.SetHost {
		return &drawn{set: s, hostOnly: true, hosts: []string{name}}
	}
	var addrs []netip.Addr
	if h, ok := rs.Host(name); ok {
		addrs = h.Addrs
	}
	return &drawn{set: hostAddrsSet(name, addrs), hostOnly: true, hosts: []string{name}}
}

func overlaps(a, b []string) bool {
	return slices.ContainsFunc(a, func(x string) bool { return slices.Contains(b, x) })
}

// subset reports whether every element of a is in b.
func subset(a, b []string) bool {
	return !slices.ContainsFunc(a, func(x string) bool { return !slices.Contains(b, x) })
}

func drawNode(d *drawn, id string, opt Options) node {
	s := d.set
	n := node{ID: id, Host: d.hostOnly,
		Internet: s.IsAny() || len(s.Hosts) == 0 && len(s.FQDNs) > 0 && (s.IPs == nil || len(s.IPs.Ranges()) == 0)}
	n.Lines = append(n.Lines, flat(s.Name, maxName))
	addrs := setAddrs(s)
	for len(addrs) > 0 {
		k := min(addrsPerLine, len(addrs))
		n.Lines = append(n.Lines, strings.Join(addrs[:k], ", "))
		addrs = addrs[k:]
	}
	if opt.Zones == nil {
		switch {
		case n.Internet:
			n.Cluster = "internet"
		case len(d.hosts) > 0:
			n.Cluster = "hosts"
		default:
			n.Cluster = "networks"
		}
		return n
	}
	home, intfs, covered := zoneOf(opt, s)
	var others []string
	for _, i := range intfs {
		if i != home {
			others = append(others, flat(i, maxName))
		}
	}
	switch {
	case home != "":
		n.Cluster = "z_" + home
		if len(others) > 0 {
			n.Lines = append(n.Lines, "also behind "+strings.Join(others, ", "))
		}
		if !covered {
			n.Lines = append(n.Lines, "partly behind no interface")
		}
	case len(others) == 0:
		n.Lines = append(n.Lines, "behind no interface")
	default:
		line := "behind " + strings.Join(others, ", ")
		if !covered {
			line += " and no interface"
		}
		n.Lines = append(n.Lines, line)
	}
	return n
}

// zoneOf is where a set sits: the interfaces its addresses sit behind,
// whether every address sits behind one of them, and the interface it is
// drawn in ("" for none). A set the table names as a key is drawn in that
// key's interface, as the operator wrote it, even where longer prefixes
// place parts of it elsewhere (a LAN with a server subnet); other sets in
// the one interface they sit behind. Every address sits behind the
// default route (the Internet's side).
func zoneOf(opt Options, s *ir.AddrSet) (home string, intfs []string, covered bool) {
	p := opt.Zones.PlaceSet(s)
	intfs, covered = p.Interfaces(), p.Covered()
	switch {
	case !s.IsAny() && opt.Zones.Interface(s.Name) != "":
		home = opt.Zones.Interface(s.Name)
	case len(intfs) == 1 && covered:
		home = intfs[0]
	}
	return home, intfs, covered
}

// clustersOf lists the clusters the nodes use, by ID.
func clustersOf(nodes []node, opt Options) []cluster {
	ids := map[string]bool{}
	for _, n := range nodes {
		if n.Cluster != "" {
			ids[n.Cluster] = true
		}
	}
	var out []cluster
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		c := cluster{ID: id}
		switch id {
		case "hosts":
			c.Label = "Hosts of the profile"
		case "networks":
			c.Label = "Networks and peers"
		case "internet":
			c.Label = "Internet and peers by host name"
		default:
			intf := strings.TrimPrefix(id, "z_")
			c.Label = "interface " + flat(intf, maxName)
			if d, _ := opt.Zones.Default(); d == intf {
				c.Label += " (default route)"
			}
		}
		out = append(out, c)
	}
	return out
}

// nodeID derives an identifier from a set's name that every format
// accepts unquoted: letters, digits and "_", starting with a letter. The
// "n_" prefix keeps it off keywords (Mermaid's "end", DOT's "node") and
// off Mermaid's edge ends ("o" and "x" after "--").
func nodeID(name string) string { return "n_" + ident(name) }

// ident keeps letters and digits of s, the rest "_", at most 58
// characters.
func ident(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
		if b.Len() >= 58 {
			break
		}
	}
	return b.String()
}

// clusterIDs gives each cluster an identifier like nodeID's ("c_", then
// "cluster_" in DOT, where the prefix makes a subgraph a cluster), unique
// among the clusters.
func clusterIDs(cs []cluster) map[string]string {
	out := map[string]string{}
	used := map[string]bool{}
	for _, c := range cs {
		id := "c_" + ident(c.ID)
		for i := 2; used[id]; i++ {
			id = "c_" + ident(c.ID) + "_" + strconv.Itoa(i)
		}
		used[id], out[c.ID] = true, id
	}
	return out
}

// edgeLines labels an edge: a line per protocol (and program) with the
// ports or ICMP types of every rule between the two nodes, since several
// rules may meet on one edge (one from a group of servers, one from a
// role of one of them) and "tcp 22, 443" reads better than two lines.
func edgeLines(rules []*ir.Rule) []string {
	type key struct {
		proto   proto.Protocol
		program string
	}
	var order []key
	merged := map[key]*ir.Rule{}
	for _, r := range rules {
		k := key{r.Protocol, r.Program}
		m, ok := merged[k]
		if !ok {
			order = append(order, k)
			merged[k] = &ir.Rule{Protocol: r.Protocol, Program: r.Program, Ports: r.Ports, ICMPTypes: slices.Clone(r.ICMPTypes)}
			continue
		}
		m.Ports = m.Ports.Union(r.Ports)
		// An empty type list is every type, which absorbs any list.
		if len(m.ICMPTypes) > 0 && len(r.ICMPTypes) > 0 {
			m.ICMPTypes = slices.Compact(slices.Sorted(slices.Values(append(m.ICMPTypes, r.ICMPTypes...))))
		} else {
			m.ICMPTypes = nil
		}
	}
	out := make([]string, len(order))
	for i, k := range order {
		out[i] = ruleLabel(merged[k])
	}
	return out
}

// ruleLabel is "tcp 25, 465", "icmp echo-request" or "icmpv6 any type",
// with the program a rule is limited to.
func ruleLabel(r *ir.Rule) string {
	s := r.Protocol.String() + " "
	if r.Protocol.HasPorts() {
		s += portsText(r.Ports)
	} else {
		s += typesText(r.Protocol, r.ICMPTypes)
	}
	if r.Program != "" {
		s += " (program " + flat(r.Program, maxName) + ")"
	}
	return s
}

// renderMermaid writes a Mermaid flowchart, a subgraph per cluster.
// Labels are quoted, and every character but letters, digits and plain
// punctuation is written as a Mermaid entity code (#35; for "#"), so no
// name can end a string, a label, or a statement, nor become HTML.
func renderMermaid(g *graph) []byte {
	var b bytes.Buffer
	b.WriteString("flowchart LR\n")
	cids := clusterIDs(g.Clusters)
	writeNode := func(n node, indent string) {
		open, close := `("`, `")`
		if n.Host {
			open, close = `["`, `"]`
		}
		fmt.Fprintf(&b, "%s%s%s%s%s\n", indent, n.ID, open, mmdLines(n.Lines), close)
	}
	for _, c := range g.Clusters {
		fmt.Fprintf(&b, "    subgraph %s[\"%s\"]\n", cids[c.ID], mmdEscape(c.Label))
		for _, n := range g.Nodes {
			if n.Cluster == c.ID {
				writeNode(n, "        ")
			}
		}
		b.WriteString("    end\n")
	}
	for _, n := range g.Nodes {
		if n.Cluster == "" {
			writeNode(n, "    ")
		}
	}
	for _, e := range g.Edges {
		arrow := "-->"
		if e.Both {
			arrow = "<-->"
		}
		fmt.Fprintf(&b, "    %s %s|\"%s\"| %s\n", e.From, arrow, mmdLines(e.Lines), e.To)
	}
	return b.Bytes()
}

func mmdLines(lines []string) string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = mmdEscape(l)
	}
	return strings.Join(out, "<br>")
}

func mmdEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'),
			strings.ContainsRune(" .,:/-_()=+@", r):
			b.WriteRune(r)
		default:
			fmt.Fprintf(&b, "#%d;", r)
		}
	}
	return b.String()
}

// renderDOT writes a Graphviz digraph, a cluster subgraph per cluster.
// Every string is a quoted DOT string with backslashes and quotes
// escaped, so no name can end it or become a Graphviz escape (\N, \G,
// \l).
func renderDOT(g *graph) []byte {
	var b bytes.Buffer
	b.WriteString("digraph portwall {\n")
	// Wide gaps between the nodes of a rank leave room for the labels of
	// edges within it; cluster labels go at the bottom, clear of loops.
	fmt.Fprintf(&b, "\tgraph [label=%s, labelloc=t, rankdir=LR, nodesep=0.6, ranksep=0.7, fontname=\"Helvetica,Arial,sans-serif\", fontsize=12];\n", dotQuote(g.Title))
	b.WriteString("\tnode [shape=ellipse, fontname=\"Helvetica,Arial,sans-serif\", fontsize=10, style=filled, fillcolor=\"#ffffff\"];\n")
	b.WriteString("\tedge [fontname=\"Helvetica,Arial,sans-serif\", fontsize=9, color=\"#57606a\"];\n")
	cids := clusterIDs(g.Clusters)
	writeNode := func(n node, indent string) {
		style := ""
		switch {
		case n.Host:
			style = ", shape=box, style=\"rounded,filled\", fillcolor=\"#dbeafe\""
		case n.Internet:
			style = ", fillcolor=\"#f3f4f6\""
		}
		fmt.Fprintf(&b, "%s%s [label=%s%s];\n", indent, n.ID, dotLines(n.Lines), style)
	}
	for _, c := range g.Clusters {
		fmt.Fprintf(&b, "\n\tsubgraph cluster_%s {\n", cids[c.ID])
		fmt.Fprintf(&b, "\t\tgraph [label=%s, style=\"rounded,filled\", color=\"#9ca3af\", fillcolor=\"#f8fafc\", labeljust=l, labelloc=b, margin=12];\n", dotQuote(c.Label))
		for _, n := range g.Nodes {
			if n.Cluster == c.ID {
				writeNode(n, "\t\t")
			}
		}
		b.WriteString("\t}\n")
	}
	first := true
	for _, n := range g.Nodes {
		if n.Cluster == "" {
			if first {
				b.WriteByte('\n')
				first = false
			}
			writeNode(n, "\t")
		}
	}
	if len(g.Edges) > 0 {
		b.WriteByte('\n')
	}
	for _, e := range g.Edges {
		both := ""
		if e.Both {
			both = ", dir=both"
		}
		fmt.Fprintf(&b, "\t%s -> %s [label=%s, tooltip=%s%s];\n", e.From, e.To, dotLines(e.Lines), dotLines(e.Tips), both)
	}
	b.WriteString("}\n")
	return b.Bytes()
}

// dotLines quotes lines as one DOT string, each line centred (\n).
func dotLines(lines []string) string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = dotEscaper.Replace(l)
	}
	return `"` + strings.Join(out, `\n`) + `"`
}

func dotQuote(s string) string { return `"` + dotEscaper.Replace(s) + `"` }

var dotEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// hostAddrsSet is a host's addresses as a set, for a host no rule names
// alone.
func hostAddrsSet(name string, addrs []netip.Addr) *ir.AddrSet {
	s := &ir.AddrSet{Name: name, Kind: ir.SetHost, Hosts: []string{name}}
	var b netipx.IPSetBuilder
	for _, a := range addrs {
		b.Add(a)
	}
	s.IPs, _ = b.IPSet()
	return s
}
