package portdoc

import (
	"bytes"
	"strconv"
	"strings"
)

// section is one heading of the document with what follows it. Markdown
// and HTML lay out the same sections, so that the two formats cannot say
// different things; HTML adds a table of contents, the flow diagram and
// the notes its narrow Source column points to. Every string is plain
// text, escaped by the renderer.
type section struct {
	Level int // heading level: 1 to 3
	// ID is the HTML anchor of a section the table of contents lists.
	ID string
	// Class marks a host's inbound ("in") and outbound ("out") tables,
	// which the page sets apart.
	Class string
	Title string
	// Summary says what the section holds, in the table of contents:
	// "7 in, 2 out".
	Summary string
	Paras   []string
	List    []string
	Table   *table
}

type table struct {
	Head []string
	// Cols are the HTML classes of the columns, which size them.
	Cols []string
	Rows [][]cell
}

// cell is one table cell: Text for Markdown; HTML shows Lines (a name
// with details beneath) where they are set, with Text on hover when it
// shows less.
type cell struct {
	Text  string
	Lines []line
	Hint  string
}

type line struct {
	Main, Sub string
	// Note is the number of the note that cites Main in full (0: none).
	Note int
	// Warn marks a line the reader must not miss (a departure from the
	// vendor's document).
	Warn bool
}

func textCells(texts ...string) []cell {
	out := make([]cell, len(texts))
	for i, t := range texts {
		out[i] = cell{Text: t}
	}
	return out
}

// notes numbers the citations the HTML page lists under Sources, in the
// order they first appear.
type notes struct {
	list []string
	num  map[string]int
}

func (n *notes) add(text string) int {
	if text == "" {
		return 0
	}
	if i, ok := n.num[text]; ok {
		return i
	}
	if n.num == nil {
		n.num = map[string]int{}
	}
	n.list = append(n.list, text)
	n.num[text] = len(n.list)
	return len(n.list)
}

const internalNote = "The catalog marks these flows internal: the vendor says they need no opening, so portwall never opens them. They are listed so that \"why is this port closed?\" has an answer."

// columns of the rule tables: heading and HTML class.
type column struct{ head, class string }

var (
	colPorts    = column{"Port(s) / ICMP type", "ports"}
	colProto    = column{"Protocol", "proto"}
	colIntf     = column{"Interface", "intf"}
	colIntfs    = column{"Interfaces (from → to)", "intf"}
	colFrom     = column{"From (set: addresses)", "peer"}
	colTo       = column{"To (set: addresses)", "peer"}
	colPurpose  = column{"Purpose", "purpose"}
	colFlow     = column{"Product/feature: flow (roles)", "flow"}
	colSource   = column{"Source", "src"}
	colRule     = column{"Rule", "rule"}
	internalCol = []column{{"Port(s)", "ports"}, colProto, {"Direction", "proto"}, {"Peer", "peer"}, colPurpose, colFlow, colSource}
	netIntCol   = []column{{"Port(s)", "ports"}, colProto, {"From", "peer"}, {"To", "peer"}, colPurpose, colFlow, colSource}
)

func newTable(cols ...column) *table {
	t := &table{}
	for _, c := range cols {
		t.Head = append(t.Head, c.head)
		t.Cols = append(t.Cols, c.class)
	}
	return t
}

func (d *document) sections(n *notes) []section {
	intro := []string{
		"What must be open for this deployment, from the same resolved rules that portwall generate writes. " +
			"Each row is one catalog flow (product/feature: flow, with the vendor's document and row) or one custom rule of the profile; " +
			"Rule is the ID the generated firewall rules carry in their comments (pw:ID).",
	}
	if d.Zones {
		intro = append(intro, "Interface is the FortiGate interface or zone the addresses sit behind, as [fortigate.interfaces] places them (the longest prefix wins; every address is behind the default route). "+
			"A flow within one interface (dmz → dmz) does not cross the FortiGate, which gets no policy for it unless intra_interface is set.")
	}
	if d.HostOnly != "" {
		intro = append(intro, "This document covers host "+d.HostOnly+" only; run portwall docs without --host for every host and the network view.")
	}
	out := []section{{Level: 1, Title: "Ports to open: " + d.Profile, Paras: intro}}
	pol := newTable(column{"Setting", ""}, column{"Value", ""}, column{"Meaning", ""})
	for _, p := range d.Policy {
		pol.Rows = append(pol.Rows, textCells(p.Name, p.Value, p.Meaning))
	}
	out = append(out, section{Level: 2, ID: "policy", Title: "Policy", Table: pol,
		Paras: []string{"Replies to allowed connections and loopback traffic need no row: the generated host rules allow them (the nftables and iptables rules also allow the ICMP errors and IPv6 neighbour discovery that IP itself needs)."}})
	ids := map[string]bool{}
	for _, h := range d.Hosts {
		out = append(out, h.sections(d, n, anchor(ids, "host-", h.Name))...)
	}
	if nw := d.Network; nw != nil {
		s := section{Level: 2, ID: "network", Title: "Network: what a firewall between the networks must pass",
			Summary: count(len(nw.Rows), "row", "rows"),
			Paras:   []string{"Every rule between two endpoints, whether or not a host filters it: a gateway between the networks must pass these connections."}}
		if len(nw.Rows) == 0 {
			s.Paras = append(s.Paras, "No rule: nothing is opened.")
		} else {
			cols := []column{colPorts, colProto, colFrom, colTo, colPurpose, colFlow, colSource, colRule}
			if d.Zones {
				cols = []column{colPorts, colProto, colIntfs, colFrom, colTo, colPurpose, colFlow, colSource, colRule}
			}
			t := newTable(cols...)
			for _, r := range nw.Rows {
				cells := []cell{{Text: r.Ports}, {Text: r.Protocol}}
				if d.Zones {
					cells = append(cells, cell{Text: r.Intf})
				}
				cells = append(cells, peerCell(r.From), peerCell(r.To), cell{Text: r.Purpose}, flowCell(r.Flow), sourceCell(r.Source, n), cell{Text: r.Rule})
				t.Rows = append(t.Rows, cells)
			}
			s.Table = t
		}
		out = append(out, s)
		if len(nw.Loopback) > 0 {
			out = append(out, section{Level: 3, Title: "Flows within one host: nothing to pass",
				Paras: []string{"These rules connect a host with itself (roles bound to the same host): the traffic stays on its loopback and crosses no firewall."},
				List:  nw.Loopback})
		}
		if len(nw.Internal) > 0 {
			t := newTable(netIntCol...)
			for _, r := range nw.Internal {
				t.Rows = append(t.Rows, append(textCells(r.Ports, r.Protocol, r.From, r.To, r.Purpose), flowCell(r.Flow), sourceCell(r.Source, n)))
			}
			out = append(out, section{Level: 3, Title: "Internal flows: never opened", Paras: []string{internalNote}, Table: t})
		}
	}
	return out
}

func (h *hostSection) sections(d *document, n *notes, id string) []section {
	s := section{Level: 2, ID: id, Title: "Host " + h.Name, Paras: []string{"Addresses: " + orDash(h.Addrs) + "."}}
	if d.Zones {
		s.Paras = append(s.Paras, "Interface: "+orDash(h.Intf)+".")
	}
	if h.Description != "" {
		s.Paras = append(s.Paras, "Description: "+h.Description)
	}
	if h.OutFiltered {
		s.Summary = strconv.Itoa(len(h.In)) + " in, " + strconv.Itoa(len(h.Out)) + " out"
		s.Paras = append(s.Paras, "Inbound and outbound: outbound traffic is filtered (output policy drop), so the host allows only the outbound connections listed.")
	} else {
		s.Summary = strconv.Itoa(len(h.In)) + " in"
		s.Paras = append(s.Paras, "Inbound only: outbound traffic is not filtered on the host (output policy accept); its outbound flows are in the network view.")
	}
	out := []section{s, h.rules(d, n, "in", "Inbound: what "+h.Name+" accepts", colFrom, h.In)}
	if h.OutFiltered {
		out = append(out, h.rules(d, n, "out", "Outbound: what "+h.Name+" may open", colTo, h.Out))
	}
	if len(h.Loopback) > 0 {
		out = append(out, section{Level: 3, Title: "Flows within " + h.Name,
			Paras: []string{"These rules connect the host with itself (roles bound to the same host): the traffic stays on loopback, which is always allowed, so no rule is written for them."},
			List:  h.Loopback})
	}
	if len(h.Internal) > 0 {
		t := newTable(internalCol...)
		for _, r := range h.Internal {
			t.Rows = append(t.Rows, append(textCells(r.Ports, r.Protocol, r.Dir, r.Peer, r.Purpose), flowCell(r.Flow), sourceCell(r.Source, n)))
		}
		out = append(out, section{Level: 3, Title: "Internal flows of " + h.Name + ": never opened", Paras: []string{internalNote}, Table: t})
	}
	return out
}

// rules is a host's inbound or outbound table, the peer in column peer.
func (h *hostSection) rules(d *document, n *notes, class, title string, peer column, rows []row) section {
	s := section{Level: 3, Class: class, Title: title}
	if len(rows) == 0 {
		s.Paras = []string{"No rule opens anything " + map[string]string{"in": "inbound", "out": "outbound"}[class] + "."}
		return s
	}
	cols := []column{colPorts, colProto, peer, colPurpose, colFlow, colSource, colRule}
	if d.Zones {
		cols = []column{colPorts, colProto, colIntf, peer, colPurpose, colFlow, colSource, colRule}
	}
	t := newTable(cols...)
	for _, r := range rows {
		cells := []cell{{Text: r.Ports}, {Text: r.Protocol}}
		if d.Zones {
			cells = append(cells, cell{Text: r.Intf})
		}
		cells = append(cells, peerCell(r.Peer), cell{Text: r.Purpose}, flowCell(r.Flow), sourceCell(r.Source, n), cell{Text: r.Rule})
		t.Rows = append(t.Rows, cells)
	}
	s.Table = t
	return s
}

// peerCell shows each set's name with its addresses beneath.
func peerCell(ps []part) cell {
	c := cell{Text: partsText(ps)}
	for _, p := range ps {
		c.Lines = append(c.Lines, line{Main: p.Name, Sub: p.Addrs})
	}
	return c
}

// flowCell shows the flow with its roles beneath.
func flowCell(f flowText) cell {
	return cell{Text: f.String(), Lines: []line{{Main: f.Name, Sub: f.Roles}}}
}

// sourceCell shows the document's short name and the number of the note
// that cites it in full (shown on hover too); a departure from the
// document stays in sight.
func sourceCell(c citation, n *notes) cell {
	out := cell{Text: c.Text, Lines: []line{{Main: c.Short, Note: n.add(c.Note)}}}
	if c.Short != c.Text {
		out.Hint = c.Text
	}
	if c.Departure {
		out.Lines = append(out.Lines, line{Sub: "departs from the document", Warn: true})
	}
	return out
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// anchor makes an HTML id from a name: "host-" and the name's letters,
// digits, '-', '_' and '.', unique among ids.
func anchor(ids map[string]bool, prefix, name string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for _, r := range name {
		switch {
		case r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 64 {
			break
		}
	}
	id := b.String()
	for i := 2; ids[id]; i++ {
		id = b.String() + "-" + strconv.Itoa(i)
	}
	ids[id] = true
	return id
}

// renderMarkdown writes the sections as GitHub-flavoured Markdown.
func renderMarkdown(d *document) []byte {
	var b bytes.Buffer
	for i, s := range d.sections(&notes{}) {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(strings.Repeat("#", s.Level) + " " + mdEscape(s.Title) + "\n")
		for _, p := range s.Paras {
			b.WriteString("\n" + mdEscape(p) + "\n")
		}
		if len(s.List) > 0 {
			b.WriteByte('\n')
			for _, item := range s.List {
				b.WriteString("- " + mdEscape(item) + "\n")
			}
		}
		if t := s.Table; t != nil {
			b.WriteByte('\n')
			mdRow(&b, t.Head)
			b.WriteString("|" + strings.Repeat(" --- |", len(t.Head)) + "\n")
			for _, r := range t.Rows {
				texts := make([]string, len(r))
				for i, c := range r {
					texts[i] = c.Text
				}
				mdRow(&b, texts)
			}
		}
	}
	return b.Bytes()
}

func mdRow(b *bytes.Buffer, cells []string) {
	b.WriteString("|")
	for _, c := range cells {
		b.WriteString(" " + mdEscape(c) + " |")
	}
	b.WriteByte('\n')
}

// mdEscaper makes plain text (one line: newlines are flattened before)
// literal in Markdown: characters that start HTML or entities become
// entities, and punctuation that could start emphasis, code, links, math,
// headings or end a table cell is backslash-escaped. A backslash itself is
// escaped first, so that a trailing one cannot swallow a cell's "|".
var mdEscaper = strings.NewReplacer(
	`&`, "&amp;", `<`, "&lt;", `>`, "&gt;",
	`\`, `\\`, "`", "\\`", `*`, `\*`, `_`, `\_`, `[`, `\[`, `]`, `\]`,
	`|`, `\|`, `~`, `\~`, `$`, `\$`, `#`, `\#`,
)

func mdEscape(s string) string { return mdEscaper.Replace(s) }
