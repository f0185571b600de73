package portdoc

import (
	"bytes"
	"html/template"
	"strings"
)

// section is one heading of the document with what follows it. Markdown
// and HTML lay out the same sections, so that the two formats cannot say
// different things. Every string is plain text, escaped by the renderer.
type section struct {
	Level int // heading level: 1 to 3
	Title string
	Paras []string
	List  []string
	Table *table
}

type table struct {
	Head []string
	Rows [][]string
}

var (
	hostHead     = []string{"Port(s) / ICMP type", "Protocol", "Direction", "Peer (set: addresses)", "Purpose", "Product/feature: flow (roles)", "Source", "Rule"}
	networkHead  = []string{"Port(s) / ICMP type", "Protocol", "From (set: addresses)", "To (set: addresses)", "Purpose", "Product/feature: flow (roles)", "Source", "Rule"}
	internalHead = []string{"Port(s)", "Protocol", "Direction", "Peer", "Purpose", "Product/feature: flow (roles)", "Source"}
	netIntHead   = []string{"Port(s)", "Protocol", "From", "To", "Purpose", "Product/feature: flow (roles)", "Source"}
)

const internalNote = "The catalog marks these flows internal: the vendor says they need no opening, so portwall never opens them. They are listed so that \"why is this port closed?\" has an answer."

func (d *document) sections() []section {
	intro := []string{
		"What must be open for this deployment, from the same resolved rules that portwall generate writes. " +
			"Each row is one catalog flow (product/feature: flow, with the vendor's document and row) or one custom rule of the profile; " +
			"Rule is the ID the generated firewall rules carry in their comments (pw:ID).",
	}
	if d.HostOnly != "" {
		intro = append(intro, "This document covers host "+d.HostOnly+" only; run portwall docs without --host for every host and the network view.")
	}
	out := []section{{Level: 1, Title: "Ports to open: " + d.Profile, Paras: intro}}
	pol := &table{Head: []string{"Setting", "Value", "Meaning"}}
	for _, p := range d.Policy {
		pol.Rows = append(pol.Rows, []string{p.Name, p.Value, p.Meaning})
	}
	out = append(out, section{Level: 2, Title: "Policy", Table: pol,
		Paras: []string{"Replies to allowed connections and loopback traffic need no row: the generated host rules allow them (the nftables and iptables rules also allow the ICMP errors and IPv6 neighbour discovery that IP itself needs)."}})
	for _, h := range d.Hosts {
		out = append(out, h.sections()...)
	}
	if n := d.Network; n != nil {
		s := section{Level: 2, Title: "Network: what a firewall between the networks must pass",
			Paras: []string{"Every rule between two endpoints, whether or not a host filters it: a gateway between the networks must pass these connections."}}
		if len(n.Rows) == 0 {
			s.Paras = append(s.Paras, "No rule: nothing is opened.")
		} else {
			t := &table{Head: networkHead}
			for _, r := range n.Rows {
				t.Rows = append(t.Rows, []string{r.Ports, r.Protocol, r.From, r.To, r.Purpose, r.Flow, r.Source, r.Rule})
			}
			s.Table = t
		}
		out = append(out, s)
		if len(n.Loopback) > 0 {
			out = append(out, section{Level: 3, Title: "Flows within one host: nothing to pass",
				Paras: []string{"These rules connect a host with itself (roles bound to the same host): the traffic stays on its loopback and crosses no firewall."},
				List:  n.Loopback})
		}
		if len(n.Internal) > 0 {
			t := &table{Head: netIntHead}
			for _, r := range n.Internal {
				t.Rows = append(t.Rows, []string{r.Ports, r.Protocol, r.From, r.To, r.Purpose, r.Flow, r.Source})
			}
			out = append(out, section{Level: 3, Title: "Internal flows: never opened", Paras: []string{internalNote}, Table: t})
		}
	}
	return out
}

func (h *hostSection) sections() []section {
	s := section{Level: 2, Title: "Host " + h.Name, Paras: []string{"Addresses: " + orDash(h.Addrs) + "."}}
	if h.Description != "" {
		s.Paras = append(s.Paras, "Description: "+h.Description)
	}
	if h.OutFiltered {
		s.Paras = append(s.Paras, "Inbound and outbound: outbound traffic is filtered (output policy drop), so the host allows only the outbound connections listed.")
	} else {
		s.Paras = append(s.Paras, "Inbound only: outbound traffic is not filtered on the host (output policy accept); its outbound flows are in the network view.")
	}
	if len(h.Rows) == 0 {
		s.Paras = append(s.Paras, "No rule opens anything on this host.")
	} else {
		t := &table{Head: hostHead}
		for _, r := range h.Rows {
			t.Rows = append(t.Rows, []string{r.Ports, r.Protocol, r.Dir, r.Peer, r.Purpose, r.Flow, r.Source, r.Rule})
		}
		s.Table = t
	}
	out := []section{s}
	if len(h.Loopback) > 0 {
		out = append(out, section{Level: 3, Title: "Flows within " + h.Name,
			Paras: []string{"These rules connect the host with itself (roles bound to the same host): the traffic stays on loopback, which is always allowed, so no rule is written for them."},
			List:  h.Loopback})
	}
	if len(h.Internal) > 0 {
		t := &table{Head: internalHead}
		for _, r := range h.Internal {
			t.Rows = append(t.Rows, []string{r.Ports, r.Protocol, r.Dir, r.Peer, r.Purpose, r.Flow, r.Source})
		}
		out = append(out, section{Level: 3, Title: "Internal flows of " + h.Name + ": never opened", Paras: []string{internalNote}, Table: t})
	}
	return out
}

// renderMarkdown writes the sections as GitHub-flavoured Markdown.
func renderMarkdown(d *document) []byte {
	var b bytes.Buffer
	for i, s := range d.sections() {
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
				mdRow(&b, r)
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

// page is the HTML document: html/template escapes every string for its
// context, so nothing from the profile can become markup.
var page = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Ports to open: {{.Profile}}</title>
<style>
body { font-family: sans-serif; margin: 2em; line-height: 1.4; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #999; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #eee; }
</style>
</head>
<body>
{{- range .Sections}}
{{if eq .Level 1}}<h1>{{.Title}}</h1>{{else if eq .Level 2}}<h2>{{.Title}}</h2>{{else}}<h3>{{.Title}}</h3>{{end}}
{{- range .Paras}}
<p>{{.}}</p>
{{- end}}
{{- if .List}}
<ul>
{{- range .List}}
<li>{{.}}</li>
{{- end}}
</ul>
{{- end}}
{{- with .Table}}
<table>
<thead>
<tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr>
</thead>
<tbody>
{{- range .Rows}}
<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{- end}}
</tbody>
</table>
{{- end}}
{{- end}}
</body>
</html>
`))

func renderHTML(d *document) ([]byte, error) {
	var b bytes.Buffer
	err := page.Execute(&b, struct {
		Profile  string
		Sections []section
	}{d.Profile, d.sections()})
	return b.Bytes(), err
}
