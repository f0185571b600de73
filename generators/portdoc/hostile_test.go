package portdoc_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/portdoc"
	"github.com/portwall/portwall/generators/zones"
	"github.com/portwall/portwall/internal/testkit/kerneltest"
	"github.com/portwall/portwall/internal/testkit/rulestest"
	"github.com/portwall/portwall/rules/ir"
)

// hostile are strings aimed at each format's quoting, on top of the
// backends' rulestest.Nasty.
var hostile = append([]string{
	`<script>alert(1)</script>`,
	`</td></tr></table><h1>x</h1>`,
	`a | b || c \| d`,
	`"] --> evil["x`,
	`x"] ; y -> z ; "`,
	`} digraph x { a -> b`,
	`\N \G \l \n \"`,
	"line one\nline two\r\n# heading\n| a | b |",
	`#quot; #35; &lt; &amp; &#60;`,
	"end",
	"o--x",
	`%%{init: {"securityLevel": "loose"}}%%`,
	"[link](javascript:alert(1)) ![img](x) *em* _em_ `code` ~~s~~ $x$",
	"{{.}} {{template \"x\"}}",
	"\u202e\u200b zero width and bidi",
}, rulestest.Nasty...)

// texts fills every free field of the hand-built IR with s. The set and
// host names differ by a prefix so that they never collide.
func texts(s string) rulestest.Texts {
	return rulestest.Texts{Set: "set " + s, Host: "host " + s, Desc: s, Comment: s, Flow: s, Profile: s, Program: s}
}

// plain is texts with every non-empty field replaced by "x": the same
// document shape (an empty description or program leaves a paragraph or a
// rule out), with nothing to escape.
func plain(s string) rulestest.Texts {
	x := func(v string) string {
		if v == "" {
			return ""
		}
		return "x"
	}
	return rulestest.Texts{Set: "set x", Host: "host x", Desc: x(s), Comment: x(s), Flow: x(s), Profile: x(s), Program: x(s)}
}

// flatName is how a name appears in the output before escaping.
func flatName(s string) string {
	return generators.Flatten(s, 200, func(r rune) rune { return r })
}

// TestHostile renders the hand-built IR with hostile names and free text
// in every format, and checks that the output has exactly the structure
// of the same IR with harmless text: the same lines, tags, table cells,
// nodes and edges. A string that broke out of its quoting would add or
// remove some.
func TestHostile(t *testing.T) {
	t.Parallel()
	for i, s := range hostile {
		bad := rulestest.HostileRuleset(t, texts(s))
		good := rulestest.HostileRuleset(t, plain(s))
		host := bad.Hosts[0].Name
		for _, f := range formats() {
			for _, h := range []string{"", host} {
				for _, zoned := range []bool{false, true} {
					t.Run(fmt.Sprintf("%d/%s/host=%t/interfaces=%t", i, f, h != "", zoned), func(t *testing.T) {
						gopt, bopt := portdoc.Options{}, portdoc.Options{Host: h}
						if h != "" {
							gopt.Host = good.Hosts[0].Name
						}
						if zoned {
							// Interface names from settings built by hand,
							// which nothing checked.
							bopt.Zones = hostileZones(t, "if "+s, "wan "+s)
							gopt.Zones = hostileZones(t, "if x", "wan x")
						}
						got := renderOpt(t, bad, f, bopt)
						want := renderOpt(t, good, f, gopt)
						if !utf8.Valid(got) {
							t.Errorf("output is not valid UTF-8")
						}
						if i := bytes.IndexFunc(got, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }); i >= 0 {
							t.Errorf("control character at %d: %q", i, got[max(0, i-20):min(len(got), i+20)])
						}
						switch f {
						case portdoc.Markdown:
							checkMarkdown(t, got, want, s)
						case portdoc.HTML:
							checkHTML(t, got, want, flatName("host "+s))
							if zoned && !slices.Contains(htmlText(t, got, "td"), flatName("wan "+s)) {
								t.Errorf("no cell %q", flatName("wan "+s))
							}
						case portdoc.Mermaid:
							checkMermaid(t, got, want, flatName("set "+s))
						case portdoc.DOT:
							checkDOT(t, got, want, flatName("set "+s))
						}
					})
				}
			}
		}
	}
}

// hostileZones places the hostile IR's host behind interface intf and
// everything else behind the default route's interface wan.
func hostileZones(t *testing.T, intf, wan string) *zones.Map {
	t.Helper()
	z, errs := zones.Build(map[string]string{"192.0.2.0/24": intf, "any": wan},
		func(string) (*ir.AddrSet, bool) { return nil, false }, nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return z
}

// mdShape describes each line of a Markdown document: its kind and, for
// table rows, the number of cells (unescaped "|").
func mdShape(t *testing.T, doc []byte) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(string(doc), "\n") {
		switch {
		case line == "":
			out = append(out, "blank")
		case strings.HasPrefix(line, "|"):
			if !strings.HasSuffix(line, " |") {
				t.Errorf("table row does not end with \" |\": %.100q", line)
			}
			out = append(out, "row"+strconv.Itoa(cells(line)))
		case strings.HasPrefix(line, "#"):
			level := len(line) - len(strings.TrimLeft(line, "#"))
			out = append(out, "h"+strconv.Itoa(level))
		case strings.HasPrefix(line, "- "):
			out = append(out, "item")
		default:
			out = append(out, "para")
		}
	}
	return out
}

// cells counts the unescaped pipes of a table row, as GFM splits it.
func cells(line string) int {
	n := 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++
		case '|':
			n++
		}
	}
	return n
}

func checkMarkdown(t *testing.T, got, want []byte, s string) {
	t.Helper()
	if g, w := mdShape(t, got), mdShape(t, want); !slices.Equal(g, w) {
		t.Errorf("the document's structure changed:\n got %v\nwant %v", g, w)
	}
	// Raw HTML, entities and unescaped Markdown punctuation would be
	// rendered rather than shown.
	text := string(got)
	if strings.ContainsAny(text, "<>") {
		t.Errorf("raw < or > in the Markdown")
	}
	for _, m := range regexp.MustCompile(`&[^;\s]*;?`).FindAllString(text, -1) {
		if m != "&amp;" && m != "&lt;" && m != "&gt;" {
			t.Errorf("raw entity %q", m)
		}
	}
	for i := 0; i < len(text); i++ {
		if text[i] == '\\' {
			i++
			continue
		}
		if strings.IndexByte("`*_[]~$", text[i]) >= 0 {
			t.Errorf("unescaped %q at %d: %.60q", text[i], i, text[max(0, i-30):])
			break
		}
	}
}

// pageAttrs are the page's elements with the attributes each may have;
// svgAttrs those of the Graphviz drawing embedded in it.
var (
	pageAttrs = map[string][]string{"html": {"lang"}, "head": nil, "meta": {"charset", "name", "content", "http-equiv"},
		"title": nil, "style": nil, "body": nil, "header": nil, "nav": {"class"}, "main": nil,
		"h1": nil, "h2": {"id"}, "h3": {"class"}, "p": nil, "ul": nil, "ol": {"class"}, "li": {"id"},
		"a": {"href"}, "span": {"class"}, "sup": nil, "table": {"class"}, "thead": nil, "tbody": nil,
		"tr": nil, "th": nil, "td": {"class", "title"}, "figure": nil, "pre": nil, "svg": {"width", "height", "viewbox", "xmlns", "xmlns:xlink"}}
	svgAttrs = map[string][]string{"g": {"id", "class", "transform"}, "title": nil, "a": {"xlink:title"},
		"polygon": {"fill", "stroke", "points"}, "polyline": {"fill", "stroke", "points"}, "path": {"fill", "stroke", "d"},
		"ellipse": {"fill", "stroke", "cx", "cy", "rx", "ry"},
		"text":    {"text-anchor", "x", "y", "font-family", "font-size", "fill"}}
	svgShapes = map[string]bool{"polygon": true, "polyline": true, "path": true, "ellipse": true}
)

// htmlTags lists the start and end tags of a page, and checks that every
// element but the void ones is closed in order and that only the tags and
// attributes the page is built from occur (and in the embedded drawing,
// only what Graphviz draws).
func htmlTags(t *testing.T, doc []byte) []string {
	t.Helper()
	z := html.NewTokenizer(bytes.NewReader(doc))
	var tags, stack []string
	inSVG := func() bool { return slices.Contains(stack, "svg") }
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if !errors.Is(z.Err(), io.EOF) {
				t.Fatal(z.Err())
			}
			if len(stack) > 0 {
				t.Errorf("unclosed elements: %v", stack)
			}
			return tags
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			allowed, ok := pageAttrs[tok.Data]
			if inSVG() && tok.Data != "svg" {
				allowed, ok = svgAttrs[tok.Data]
			}
			if !ok {
				t.Errorf("unexpected element <%s>", tok.Data)
			}
			for _, a := range tok.Attr {
				key := a.Key
				if a.Namespace != "" {
					key = a.Namespace + ":" + a.Key
				}
				if !slices.Contains(allowed, key) && !(inSVG() && svgShapes[tok.Data] && strings.HasPrefix(key, "stroke-")) {
					t.Errorf("unexpected attribute %s on <%s>", key, tok.Data)
				}
			}
			switch {
			case tt == html.SelfClosingTagToken:
				if !inSVG() {
					t.Errorf("self-closing <%s/>", tok.Data)
				}
			case tt == html.StartTagToken && tok.Data != "meta":
				stack = append(stack, tok.Data)
			case tt == html.EndTagToken:
				if len(stack) == 0 || stack[len(stack)-1] != tok.Data {
					t.Fatalf("</%s> closes %v", tok.Data, stack)
				}
				stack = stack[:len(stack)-1]
			}
			tags = append(tags, tt.String()+":"+tok.Data)
		}
	}
}

// htmlText collects the text of every element named tag.
func htmlText(t *testing.T, doc []byte, tag string) []string {
	t.Helper()
	root, err := html.Parse(bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var text func(*html.Node) string
	text = func(n *html.Node) string {
		if n.Type == html.TextNode {
			return n.Data
		}
		var b strings.Builder
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			b.WriteString(text(c))
		}
		return b.String()
	}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == tag {
			out = append(out, text(n))
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	return out
}

func checkHTML(t *testing.T, got, want []byte, host string) {
	t.Helper()
	if g, w := htmlTags(t, got), htmlTags(t, want); !slices.Equal(g, w) {
		t.Errorf("the page's structure changed:\n got %v\nwant %v", g, w)
	}
	// The text comes back as it was: escaped, not mangled.
	if !slices.Contains(htmlText(t, got, "h2"), "Host "+host) {
		t.Errorf("no heading %q in %q", "Host "+host, htmlText(t, got, "h2"))
	}
}

var (
	mmdLabel = `(?:[A-Za-z0-9 .,:/()=+@_-]|#[0-9]+;|<br>)*`
	mmdNode  = regexp.MustCompile(`^    (?:    )?n_[A-Za-z0-9_]+(?:\["` + mmdLabel + `"\]|\("` + mmdLabel + `"\))$`)
	mmdSub   = regexp.MustCompile(`^    subgraph c_[A-Za-z0-9_]+\["` + mmdLabel + `"\]$`)
	mmdEdge  = regexp.MustCompile(`^    n_[A-Za-z0-9_]+ (?:-->|<-->)\|"` + mmdLabel + `"\| n_[A-Za-z0-9_]+$`)
	mmdCode  = regexp.MustCompile(`#([0-9]+);`)
)

// mmdShape checks every line of a flowchart against the only forms the
// renderer writes, and describes it.
func mmdShape(t *testing.T, doc []byte) []string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(string(doc), "\n"), "\n")
	if lines[0] != "flowchart LR" {
		t.Errorf("first line %q", lines[0])
	}
	out := []string{"head"}
	for _, l := range lines[1:] {
		switch {
		case mmdNode.MatchString(l):
			out = append(out, "node")
		case mmdSub.MatchString(l):
			out = append(out, "subgraph")
		case l == "    end":
			out = append(out, "end")
		case mmdEdge.MatchString(l):
			out = append(out, "edge")
		default:
			t.Errorf("unexpected line %.200q", l)
		}
	}
	return out
}

func checkMermaid(t *testing.T, got, want []byte, set string) {
	t.Helper()
	if g, w := mmdShape(t, got), mmdShape(t, want); !slices.Equal(g, w) {
		t.Errorf("the diagram's structure changed:\n got %v\nwant %v", g, w)
	}
	// Decoding the entity codes gives the name back.
	decoded := mmdCode.ReplaceAllStringFunc(string(got), func(m string) string {
		n, _ := strconv.Atoi(mmdCode.FindStringSubmatch(m)[1])
		return string(rune(n))
	})
	if !strings.Contains(decoded, `("`+set+"<br>") {
		t.Errorf("node label %q is not in the decoded diagram", set)
	}
}

var (
	dotString = `"(?:[^"\\\n]|\\[^\n])*"`
	dotNode   = regexp.MustCompile(`^\t\t?n_[A-Za-z0-9_]+ \[label=` + dotString + `(?:, shape=box, style="rounded,filled", fillcolor="#dbeafe"|, fillcolor="#f3f4f6")?\];$`)
	dotEdge   = regexp.MustCompile(`^\tn_[A-Za-z0-9_]+ -> n_[A-Za-z0-9_]+ \[label=` + dotString + `, tooltip=` + dotString + `(?:, dir=both)?\];$`)
	dotGraph  = regexp.MustCompile(`^\tgraph \[label=` + dotString + `, labelloc=t, rankdir=LR, nodesep=0.6, ranksep=0.7, fontname="Helvetica,Arial,sans-serif", fontsize=12\];$`)
	dotSub    = regexp.MustCompile(`^\tsubgraph cluster_c_[A-Za-z0-9_]+ \{$`)
	dotSubAtt = regexp.MustCompile(`^\t\tgraph \[label=` + dotString + `, style="rounded,filled", color="#9ca3af", fillcolor="#f8fafc", labeljust=l, labelloc=b, margin=12\];$`)
)

func dotShape(t *testing.T, doc []byte) []string {
	t.Helper()
	var out []string
	for _, l := range strings.Split(strings.TrimSuffix(string(doc), "\n"), "\n") {
		switch {
		case l == "digraph portwall {", l == "}", l == "", strings.HasPrefix(l, "\tnode ["), strings.HasPrefix(l, "\tedge ["):
			out = append(out, l)
		case dotGraph.MatchString(l):
			out = append(out, "graph")
		case dotNode.MatchString(l):
			out = append(out, "node")
		case dotSub.MatchString(l):
			out = append(out, "subgraph")
		case dotSubAtt.MatchString(l):
			out = append(out, "cluster")
		case l == "\t}":
			out = append(out, "end")
		case dotEdge.MatchString(l):
			out = append(out, "edge")
		default:
			t.Errorf("unexpected line %.200q", l)
		}
	}
	return out
}

func checkDOT(t *testing.T, got, want []byte, set string) {
	t.Helper()
	if g, w := dotShape(t, got), dotShape(t, want); !slices.Equal(g, w) {
		t.Errorf("the graph's structure changed:\n got %v\nwant %v", g, w)
	}
	quoted := `[label="` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(set) + `\n`
	if !bytes.Contains(got, []byte(quoted)) {
		t.Errorf("node label %.100q is not in the graph", quoted)
	}
}

// drawDOT renders a DOT file to SVG, which must succeed without a word
// on stderr and be well-formed XML.
func drawDOT(t *testing.T, dot []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), kerneltest.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "dot", "-Tsvg")
	cmd.Stdin = bytes.NewReader(dot)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("dot -Tsvg: %v\n%s", err, stderr.Bytes())
	}
	if stderr.Len() > 0 {
		t.Errorf("dot -Tsvg wrote to stderr:\n%s", stderr.Bytes())
	}
	d := xml.NewDecoder(&stdout)
	d.Strict = true
	d.Entity = xml.HTMLEntity
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed: %v", err)
		}
	}
}

// TestGraphviz renders the DOT of every example (and of every host of it)
// and of the hostile IR with Graphviz.
func TestGraphviz(t *testing.T) {
	t.Parallel()
	kerneltest.RequireTools(t, "dot")
	for _, file := range rulestest.Examples(t) {
		rs := rulestest.Ruleset(t, file)
		for _, h := range append([]string{""}, rs.HostNames()...) {
			t.Run(filepath.Base(file)+"/"+h, func(t *testing.T) {
				drawDOT(t, render(t, rs, portdoc.DOT, h))
			})
		}
	}
	for i, s := range hostile {
		t.Run("hostile/"+strconv.Itoa(i), func(t *testing.T) {
			rs := rulestest.HostileRuleset(t, texts(s))
			drawDOT(t, render(t, rs, portdoc.DOT, ""))
			drawDOT(t, render(t, rs, portdoc.DOT, rs.Hosts[0].Name))
		})
	}
}

// TestHTMLExamples checks every example's page, and that the text of its
// host headings is the host names.
func TestHTMLExamples(t *testing.T) {
	t.Parallel()
	for _, file := range rulestest.Examples(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			rs := rulestest.Ruleset(t, file)
			page := render(t, rs, portdoc.HTML, "")
			htmlTags(t, page)
			var want []string
			for _, h := range rs.Hosts {
				want = append(want, "Host "+h.Name)
			}
			var got []string
			for _, h2 := range htmlText(t, page, "h2") {
				if strings.HasPrefix(h2, "Host ") {
					got = append(got, h2)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("host headings %q, want %q", got, want)
			}
			rows := 0
			for _, l := range strings.Split(string(render(t, rs, portdoc.Markdown, "")), "\n") {
				if strings.HasPrefix(l, "| ") && !strings.HasPrefix(l, "| --- |") {
					rows++
				}
			}
			if n := len(htmlText(t, page, "tr")); n != rows {
				t.Errorf("%d table rows in HTML, %d in Markdown", n, rows)
			}
		})
	}
}

// TestDiagramMerging checks how rules become edges: an edge per pair of
// sets with a line per protocol, one two-headed edge for both ways, an
// edge per host of a role of two hosts, and no edge for a host's traffic
// with itself.
func TestDiagramMerging(t *testing.T) {
	t.Parallel()
	tests := []struct {
		example, host string
		want, notWant []string
	}{
		// The HA pair: a node per host, the HA flows one edge between
		// them, never a combined fml1+fml2 node.
		{example: "fortimail-ha", want: []string{
			`n_fml1 <-->|"tcp 25, 465"| n_internet`,
			`n_fml2 <-->|"tcp 25, 465"| n_internet`,
			`n_admins -->|"tcp 22, 443<br>icmp echo-request<br>icmpv6 echo-request"| n_fml1`,
			`n_fml1 <-->|"tcp 25, 80, 110, 143, 443, 6688, 20000-20005, 20010-20014<br>udp 20000-20001, 20005, 20010-20014"| n_fml2`,
			// Different ports each way: one edge, labelled by where they go.
			`n_fml1 <-->|"to fortimanager: tcp 443<br>to fml1: tcp 22"| n_fortimanager`,
		}, notWant: []string{"n_fml1__fml2"}},
		// fme1 runs every FME role: its flows between roles stay on it.
		// The group servers is drawn as its hosts and the gateways' group.
		{example: "site", notWant: []string{`n_fme1 -->|"tcp 1-65535"| n_fme1`, "n_servers"},
			want: []string{`n_lan -->|"tcp 80"| n_fme1`, `n_admins -->|"tcp 22, 443"| n_mail_gateways`,
				`n_mail_gateways <-->|"to monitoring: tcp 514<br>udp 514<br>to mail-gateways: udp 161<br>icmp echo-request<br>icmpv6 echo-request"| n_monitoring`,
				`n_monitoring -->|"udp 161<br>icmp echo-request<br>icmpv6 echo-request"| n_mail1`}},
		{example: "xeams", host: "xeams1", want: []string{`n_xeams1 -->|"tcp 53<br>udp 53"| n_resolvers`}},
		// With --host, only the host's flows: not the web host's, and no
		// engine, which talks to the core only.
		{example: "fme-distributed", host: "fme-db", want: []string{`n_fme_core -->|"tcp 7082"| n_fme_db`},
			notWant: []string{`n_users`, `n_fme_engine1`}},
		// fml1's diagram: fml2 only as its HA peer.
		{example: "fortimail-ha", host: "fml1", want: []string{`n_fml1 <-->|"tcp 25, 80`}, notWant: []string{`n_fml2 <-->|"tcp 25, 465"| n_internet`}},
	}
	for _, tt := range tests {
		t.Run(tt.example+"/"+tt.host, func(t *testing.T) {
			ex := loadExample(t, filepath.Join("..", "..", "examples", tt.example+".toml"))
			ex.opt.Host = tt.host
			got := string(renderOpt(t, ex.rs, portdoc.Mermaid, ex.opt))
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in\n%s", w, got)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(got, w) {
					t.Errorf("unexpected %q in\n%s", w, got)
				}
			}
		})
	}
}

// TestTwoHosts checks the diagram of two hosts that rules name alone,
// together and through a group: a node per host and edges per host, where
// a node per rule side drew "ems1, xeams1" and "servers" next to ems1 and
// xeams1.
func TestTwoHosts(t *testing.T) {
	t.Parallel()
	rs := rulestest.Ruleset(t, filepath.Join("testdata", "two-hosts.toml"))
	got := string(render(t, rs, portdoc.Mermaid, ""))
	want := `flowchart LR
    subgraph c_hosts["Hosts of the profile"]
        n_ems1["ems1<br>192.168.10.10"]
        n_xeams1["xeams1<br>192.168.10.25"]
    end
    subgraph c_networks["Networks and peers"]
        n_monitoring("monitoring<br>192.168.10.5")
        n_office("office<br>192.168.10.0/24")
    end
    n_monitoring -->|"udp 161"| n_ems1
    n_monitoring -->|"udp 161"| n_xeams1
    n_office -->|"tcp 22, 443"| n_ems1
    n_office -->|"tcp 22, 993"| n_xeams1
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// With one host, the other host's edges go.
	one := string(render(t, rs, portdoc.Mermaid, "ems1"))
	if strings.Contains(one, "n_xeams1") || !strings.Contains(one, `n_office -->|"tcp 22, 443"| n_ems1`) {
		t.Errorf("host ems1:\n%s", one)
	}
}

// TestNoHostTwice checks every example's diagrams, whole and per host:
// no host of the profile is in two nodes.
func TestNoHostTwice(t *testing.T) {
	t.Parallel()
	files := append(rulestest.Examples(t), filepath.Join("testdata", "two-hosts.toml"))
	for _, file := range files {
		rs := rulestest.Ruleset(t, file)
		for _, h := range append([]string{""}, rs.HostNames()...) {
			t.Run(filepath.Base(file)+"/"+h, func(t *testing.T) {
				dot := string(render(t, rs, portdoc.DOT, h))
				seen := map[string]string{}
				for _, m := range regexp.MustCompile(`(?m)^\t\t?(n_\w+) \[label="([^"\\]+)`).FindAllStringSubmatch(dot, -1) {
					name, _, _ := strings.Cut(m[2], `\n`)
					s, ok := rs.Set(name)
					if !ok {
						if _, host := rs.Host(name); !host {
							t.Fatalf("node %s: no set or host %q", m[1], name)
						}
						s = &ir.AddrSet{Hosts: []string{name}}
					}
					for _, host := range s.Hosts {
						if prev, dup := seen[host]; dup {
							t.Errorf("host %s is in nodes %s and %s", host, prev, m[1])
						}
						seen[host] = m[1]
					}
				}
			})
		}
	}
}

// TestHostRows checks the per-host table on the hand-built IR: inbound
// and (egress filtered) outbound rows, the origin's claim cut back to the
// rule's ports, and the ports no origin claims listed anyway.
func TestHostRows(t *testing.T) {
	t.Parallel()
	rs := rulestest.HostileRuleset(t, texts("x"))
	doc := string(render(t, rs, portdoc.Markdown, rs.Hosts[0].Name))
	in, out, ok := strings.Cut(doc, "### Outbound: what host x may open")
	if !ok || !strings.Contains(in, "### Inbound: what host x accepts") {
		t.Fatalf("no inbound and outbound sections:\n%s", doc)
	}
	for _, want := range []string{
		"| 22 | tcp | set x (10.0.0.0/24, 2001:db8:1::/64, a.example) | x | profile | custom rule allow\\[3\\]: x |",
		"| 8000-8010 | tcp | set x (10.0.0.0/24, 2001:db8:1::/64, a.example) | — | x/x: x | — | r",
		"| 8000-8010 | tcp | set x (10.0.0.0/24, 2001:db8:1::/64, a.example) | — (only for the program x) | x/x: x | — | r",
		"| echo-reply, echo-request | icmp | set x",
		"| any type | icmpv6 | set x",
	} {
		if !strings.Contains(in, want) {
			t.Errorf("missing inbound %q in\n%s", want, doc)
		}
	}
	// The flow claims 8000-8010 for a rule that opens 53 only.
	if want := "| 53 | udp | any (any address) | — | x/x/x | no origin of the rule claims all of its ports |"; !strings.Contains(out, want) {
		t.Errorf("missing outbound %q in\n%s", want, doc)
	}
	if strings.Contains(doc, "8000-8010 | udp") {
		t.Errorf("a row shows ports the rule does not open:\n%s", doc)
	}
}
