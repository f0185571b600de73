package portdoc

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"html/template"
	"io"
	"regexp"
	"strings"
	"sync"
)

// diagram is the HTML page's flow diagram: Graphviz's drawing when it
// was drawn (SVG, checked by cleanSVG), else the DOT text.
type diagram struct {
	DOT string
	SVG template.HTML
}

// css is the page's only style. The page is one file that shares and
// prints as it is: no script, no font, no image, nothing fetched. Its
// Content-Security-Policy allows this style alone (by hash), so that a
// browser refuses anything else the page might come to hold.
const css = `
:root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --head: #f6f8fa;
  --in: #1a7f37; --in-bg: #e6f4ea; --out: #9a4d00; --out-bg: #fff1e0; --warn: #b42318; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0 auto; max-width: 1500px; padding: 24px 32px 48px; color: var(--ink); background: #fff;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 24px; margin: 0 0 8px; }
h2 { font-size: 19px; margin: 36px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 15px; margin: 20px 0 6px; }
p { margin: 6px 0; max-width: 110ch; }
header p { color: var(--muted); }
a { color: #0b57d0; }
nav.toc { margin: 16px 0 8px; padding: 10px 16px; background: var(--head); border: 1px solid var(--line); border-radius: 6px; }
nav.toc h2 { font-size: 14px; margin: 0 0 6px; border: 0; padding: 0; }
nav.toc ol { margin: 0; padding-left: 20px; columns: 3 18em; column-gap: 32px; }
nav.toc li { break-inside: avoid; }
.count { color: var(--muted); font-size: 12px; }
p.meta { color: var(--muted); }
h3.in, h3.out { display: flex; align-items: center; gap: 8px; }
.badge { display: inline-block; min-width: 40px; padding: 1px 6px; border-radius: 4px; color: #fff;
  font-size: 11px; font-weight: 700; letter-spacing: .05em; text-align: center; }
h3.in { color: var(--in); } h3.in .badge { background: var(--in); }
h3.out { color: var(--out); } h3.out .badge { background: var(--out); }
table { border-collapse: collapse; width: 100%; margin: 6px 0 14px; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 4px 7px; text-align: left; vertical-align: top; }
th { background: var(--head); font-weight: 600; }
table.in { border-left: 4px solid var(--in); } table.in th { background: var(--in-bg); }
table.out { border-left: 4px solid var(--out); } table.out th { background: var(--out-bg); }
tbody tr:nth-child(even) td { background: #fafbfc; }
td.ports { white-space: nowrap; font-weight: 600; font-variant-numeric: tabular-nums; }
td.proto, td.intf { white-space: nowrap; }
td.peer { min-width: 11em; }
td.purpose { min-width: 14em; }
td.flow { min-width: 12em; }
td.src { min-width: 11em; max-width: 16em; }
td.rule { white-space: nowrap; font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; color: var(--muted); }
.main { display: block; }
.sub { display: block; color: var(--muted); font-size: 12px; overflow-wrap: anywhere; }
.warn { color: var(--warn); font-weight: 600; }
sup { line-height: 0; }
sup a { text-decoration: none; }
figure { margin: 8px 0; padding: 8px; border: 1px solid var(--line); border-radius: 6px; overflow-x: auto; }
figure svg { display: block; max-width: 100%; height: auto; margin: 0 auto; }
pre { margin: 0; font: 12px/1.35 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; white-space: pre-wrap; }
ol.sources { padding-left: 28px; font-size: 13px; }
ol.sources li { margin: 2px 0; }
@media print {
  @page { size: A4 landscape; margin: 12mm; }
  body { max-width: none; padding: 0; font-size: 10pt; }
  a { color: inherit; text-decoration: none; }
  nav.toc ol { columns: 3; }
  h2, h3 { break-after: avoid; }
  h2 { margin-top: 18pt; }
  table { font-size: 8.5pt; }
  th, td { padding: 2px 4px; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; }
  tbody tr:nth-child(even) td { background: none; }
  th, table.in th, table.out th, .badge { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  h2#diagram { break-before: page; }
  figure { break-inside: avoid; border: 0; overflow: visible; }
  figure svg { max-height: 150mm; }
}
`

// csp allows the page's own style and nothing else. A function that page
// calls once: computed at init, the hash cost every run of every command.
func csp() string {
	sum := sha256.Sum256([]byte(css))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// page is the HTML document: html/template escapes every string for its
// context, so nothing from the profile can become markup. Only the SVG
// that cleanSVG passed goes in as it is.
// page is parsed on first use: parsed at init, it cost every run of
// every command a fifth of a millisecond.
var page = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page").Funcs(template.FuncMap{"inc": func(i int) int { return i + 1 }}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="` + csp() + `">
<title>Ports to open: {{.Profile}}</title>
<style>` + css + `</style>
</head>
<body>
{{- with .Head}}
<header>
<h1>{{.Title}}</h1>
{{- range .Paras}}
<p>{{.}}</p>
{{- end}}
</header>
{{- end}}
<nav class="toc">
<h2>Contents</h2>
<ol>
{{- range .Sections}}{{if and (eq .Level 2) .ID}}
<li><a href="#{{.ID}}">{{.Title}}</a>{{with .Summary}} <span class="count">{{.}}</span>{{end}}</li>
{{- end}}{{end}}
<li><a href="#diagram">Flow diagram</a></li>
{{- if .Notes}}
<li><a href="#sources">Sources</a> <span class="count">{{len .Notes}}</span></li>
{{- end}}
</ol>
</nav>
<main>
{{- range $s := .Sections}}
{{if eq .Level 2}}<h2{{with .ID}} id="{{.}}"{{end}}>{{.Title}}</h2>
{{- else if .Class}}<h3 class="{{.Class}}"><span class="badge">{{if eq .Class "in"}}IN{{else}}OUT{{end}}</span> {{.Title}}</h3>
{{- else}}<h3>{{.Title}}</h3>{{end}}
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
{{- with $t := .Table}}
<table{{with $s.Class}} class="{{.}}"{{end}}>
<thead>
<tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr>
</thead>
<tbody>
{{- range .Rows}}
<tr>{{range $i, $c := .}}<td{{with index $t.Cols $i}} class="{{.}}"{{end}}{{with $c.Hint}} title="{{.}}"{{end}}>
{{- if $c.Lines}}{{range $c.Lines}}{{if .Main}}<span class="main">{{.Main}}{{with .Note}}<sup><a href="#src-{{.}}">[{{.}}]</a></sup>{{end}}</span>{{end}}{{if .Sub}}<span class="sub{{if .Warn}} warn{{end}}">{{.Sub}}</span>{{end}}{{end}}
{{- else}}{{$c.Text}}{{end}}</td>{{end}}</tr>
{{- end}}
</tbody>
</table>
{{- end}}
{{- end}}
<h2 id="diagram">Flow diagram</h2>
{{- if .Diagram.SVG}}
<p>Nodes are address sets{{if .Zones}}, grouped by the FortiGate interface or zone they sit behind{{else}}, grouped into the profile's hosts, other networks and the Internet{{end}}; an edge is every rule between two of them (two arrowheads: the same ports both ways). Hover over an edge for its rules.</p>
<figure>
{{.Diagram.SVG}}
</figure>
{{- else}}
<p>Graphviz (dot) was not at hand when this page was written, so the diagram is given as its DOT text: render it with dot -Tsvg, or write the page again where Graphviz is installed.</p>
<figure>
<pre>{{.Diagram.DOT}}</pre>
</figure>
{{- end}}
{{- if .Notes}}
<h2 id="sources">Sources</h2>
<p>The vendors' documents and rows the Source column cites.</p>
<ol class="sources">
{{- range $i, $n := .Notes}}
<li id="src-{{inc $i}}">{{$n}}</li>
{{- end}}
</ol>
{{- end}}
</main>
</body>
</html>
`))
})

func renderHTML(d *document, dia diagram) ([]byte, error) {
	var n notes
	secs := d.sections(&n)
	data := struct {
		Profile  string
		Head     *section
		Sections []section
		Diagram  diagram
		Notes    []string
		Zones    bool
	}{Profile: d.Profile, Head: &secs[0], Sections: secs[1:], Diagram: dia, Notes: n.list, Zones: d.Zones}
	var b bytes.Buffer
	err := page().Execute(&b, data)
	return b.Bytes(), err
}

// svgElements and svgAttrs are what Graphviz's SVG is made of; anything
// else (a script, a foreign object, a link, an event handler, a style
// sheet) makes cleanSVG refuse the drawing rather than embed it. Built on
// first use: package-level map literals are built by every run's
// initialisation, whatever the run does.
var (
	svgElements = sync.OnceValue(func() map[string]bool {
		return map[string]bool{"svg": true, "g": true, "title": true, "polygon": true, "polyline": true,
			"path": true, "ellipse": true, "text": true, "a": true}
	})
	svgAttrs = sync.OnceValue(func() map[string]bool {
		return map[string]bool{"width": true, "height": true, "viewBox": true, "id": true, "class": true,
			"transform": true, "fill": true, "stroke": true, "points": true, "d": true, "cx": true, "cy": true,
			"rx": true, "ry": true, "x": true, "y": true, "text-anchor": true, "font-family": true, "font-size": true,
			"font-weight": true, "font-style": true, "stroke-width": true, "stroke-dasharray": true, "fill-opacity": true,
			"stroke-opacity": true}
	})
	xlinkNS = "http://www.w3.org/1999/xlink"
	svgNS   = "http://www.w3.org/2000/svg"
)

var svgComment = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?s)<!--.*?-->`) })

// cleanSVG makes Graphviz's SVG fit to embed in the page: the XML
// declaration, the doctype and the comments (which name Graphviz's
// version) are dropped, and what is left must be one well-formed <svg>
// element built only of what Graphviz draws: shapes, text, titles and
// links that carry a tooltip and go nowhere.
func cleanSVG(svg []byte) (template.HTML, error) {
	s := svgComment().ReplaceAllString(string(svg), "")
	i := strings.Index(s, "<svg")
	if i < 0 {
		return "", errors.New("no <svg> element in Graphviz's output")
	}
	s = strings.TrimSpace(s[i:])
	if strings.Contains(s, "<!") || strings.Contains(s, "<?") {
		return "", errors.New("Graphviz's SVG holds a declaration or CDATA section")
	}
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = true
	d.Entity = xml.HTMLEntity
	depth, roots := 0, 0
	elements, attrs := svgElements(), svgAttrs()
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", fmt.Errorf("Graphviz's SVG is not well-formed: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
			if t.Name.Space != svgNS || !elements[t.Name.Local] {
				return "", fmt.Errorf("Graphviz's SVG has an element <%s> the page does not embed", t.Name.Local)
			}
			for _, a := range t.Attr {
				switch {
				case a.Name.Space == "" && attrs[a.Name.Local],
					a.Name.Space == "" && a.Name.Local == "xmlns" && a.Value == svgNS,
					a.Name.Space == "xmlns" && a.Name.Local == "xlink" && a.Value == xlinkNS,
					a.Name.Space == xlinkNS && a.Name.Local == "title" && t.Name.Local == "a":
				default:
					return "", fmt.Errorf("Graphviz's SVG has an attribute %s on <%s> the page does not embed", a.Name.Local, t.Name.Local)
				}
			}
		case xml.EndElement:
			depth--
		case xml.ProcInst, xml.Directive, xml.Comment:
			return "", errors.New("Graphviz's SVG holds a declaration or comment")
		}
	}
	if roots != 1 {
		return "", fmt.Errorf("Graphviz's output holds %d elements, want one <svg>", roots)
	}
	return template.HTML(s), nil
}
