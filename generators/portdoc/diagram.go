package portdoc

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/rules/ir"
)

// graph is a flow diagram: a node per rule endpoint (a role's or peer's
// address sets, as the profile binds them), an edge per pair of endpoints
// with every rule between them. A node per endpoint rather than per set
// keeps a role of two hosts one node with one edge, as the vendor's
// tables draw it, instead of doubling every edge. Strings are plain text,
// escaped by the renderer.
type graph struct {
	Title string
	Nodes []node // sorted by ID
	Edges []edge // sorted by From, To
}

type node struct {
	ID    string
	Lines []string
	// Host: the endpoint holds a host of the profile, itself or through
	// a group (drawn as a box); other endpoints are networks and peers.
	Host bool
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
	type pair struct{ from, to string }
	byPair := map[pair][]*ir.Rule{}
	endpoints := map[string]ir.Endpoint{}
	for _, r := range selected {
		if loopbackOnly(rs, r.From, r.To) {
			continue
		}
		p := pair{r.From.String(), r.To.String()}
		byPair[p] = append(byPair[p], r)
		endpoints[p.from], endpoints[p.to] = r.From, r.To
	}
	ids := map[string]string{}
	used := map[string]bool{}
	for _, k := range sortedKeys(endpoints) {
		e := endpoints[k]
		id := nodeID(e)
		for i := 2; used[id]; i++ {
			id = nodeID(e) + "_" + strconv.Itoa(i)
		}
		used[id], ids[k] = true, id
		n, err := endpointNode(rs, e)
		if err != nil {
			return nil, err
		}
		n.ID = id
		g.Nodes = append(g.Nodes, n)
	}
	slices.SortFunc(g.Nodes, func(a, b node) int { return strings.Compare(a.ID, b.ID) })

	edges := map[pair]*edge{}
	for p, rules := range byPair {
		slices.SortStableFunc(rules, func(a, b *ir.Rule) int {
			return cmp.Or(cmp.Compare(a.Protocol, b.Protocol), cmp.Compare(a.Program, b.Program))
		})
		e := &edge{From: ids[p.from], To: ids[p.to]}
		for _, r := range rules {
			e.Lines = append(e.Lines, ruleLabel(r))
			e.Tips = append(e.Tips, flat(generators.Provenance(r.ID, r.Origins), 500))
		}
		edges[p] = e
	}
	// One edge for the same ports both ways: the HA pair's and the mail
	// gateway's "25 in, 25 out" read better as one line than as two.
	for p, e := range edges {
		back, ok := edges[pair{p.to, p.from}]
		if !ok || p.from == p.to || e.Both || back.Both || !slices.Equal(e.Lines, back.Lines) {
			continue
		}
		keep, drop := e, pair{p.to, p.from}
		if e.From > e.To {
			keep, drop = back, p
		}
		if keep == back {
			keep.Tips = append(keep.Tips, e.Tips...)
		} else {
			keep.Tips = append(keep.Tips, back.Tips...)
		}
		keep.Both = true
		delete(edges, drop)
	}
	for _, e := range edges {
		g.Edges = append(g.Edges, *e)
	}
	slices.SortFunc(g.Edges, func(a, b edge) int { return cmp.Or(strings.Compare(a.From, b.From), strings.Compare(a.To, b.To)) })
	return g, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// nodeID derives an identifier from the endpoint's set names that every
// format accepts unquoted: letters, digits and "_", starting with a
// letter. The "n_" prefix keeps it off keywords (Mermaid's "end", DOT's
// "node") and off Mermaid's edge ends ("o" and "x" after "--").
func nodeID(e ir.Endpoint) string {
	var b strings.Builder
	b.WriteString("n_")
	for i, s := range e.Sets {
		if i > 0 {
			b.WriteString("__")
		}
		for _, r := range s {
			if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				b.WriteRune(r)
			} else {
				b.WriteByte('_')
			}
		}
		if b.Len() > 60 {
			break
		}
	}
	id := b.String()
	if len(id) > 60 {
		id = id[:60]
	}
	return id
}

func endpointNode(rs *ir.Ruleset, e ir.Endpoint) (node, error) {
	var n node
	for _, name := range e.Sets {
		s, ok := rs.Set(name)
		if !ok {
			return n, fmt.Errorf("internal error: the ruleset refers to unknown address set %q", name)
		}
		n.Host = n.Host || len(s.Hosts) > 0
		addrs := setAddrs(s)
		if len(e.Sets) == 1 {
			n.Lines = append(n.Lines, flat(s.Name, maxName))
		} else {
			addrs[0] = flat(s.Name, maxName) + ": " + addrs[0]
		}
		for len(addrs) > 0 {
			k := min(addrsPerLine, len(addrs))
			n.Lines = append(n.Lines, strings.Join(addrs[:k], ", "))
			addrs = addrs[k:]
		}
	}
	return n, nil
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

// renderMermaid writes a Mermaid flowchart. Labels are quoted, and every
// character but letters, digits and plain punctuation is written as a
// Mermaid entity code (#35; for "#"), so no name can end a string, a
// label, or a statement, nor become HTML.
func renderMermaid(g *graph) []byte {
	var b bytes.Buffer
	b.WriteString("flowchart LR\n")
	for _, n := range g.Nodes {
		open, close := `("`, `")`
		if n.Host {
			open, close = `["`, `"]`
		}
		fmt.Fprintf(&b, "    %s%s%s%s\n", n.ID, open, mmdLines(n.Lines), close)
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

// renderDOT writes a Graphviz digraph. Every string is a quoted DOT string
// with backslashes and quotes escaped, so no name can end it or become a
// Graphviz escape (\N, \G, \l).
func renderDOT(g *graph) []byte {
	var b bytes.Buffer
	b.WriteString("digraph portwall {\n")
	fmt.Fprintf(&b, "\tgraph [label=%s, labelloc=t, rankdir=LR];\n", dotQuote(g.Title))
	b.WriteString("\tnode [shape=ellipse, fontsize=10];\n")
	b.WriteString("\tedge [fontsize=9];\n")
	if len(g.Nodes) > 0 {
		b.WriteByte('\n')
	}
	for _, n := range g.Nodes {
		shape := ""
		if n.Host {
			shape = ", shape=box"
		}
		fmt.Fprintf(&b, "\t%s [label=%s%s];\n", n.ID, dotLines(n.Lines), shape)
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
