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
	"github.com/portwall/portwall/internal/testkit/kerneltest"
	"github.com/portwall/portwall/internal/testkit/rulestest"
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
				t.Run(fmt.Sprintf("%d/%s/host=%t", i, f, h != ""), func(t *testing.T) {
					gh := ""
					if h != "" {
						gh = good.Hosts[0].Name
					}
					got := render(t, bad, f, h)
					want := render(t, good, f, gh)
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

// htmlTags lists the start and end tags of a page, and checks that every
// element but the void ones is closed in order and that only the tags and
// attributes the page is built from occur.
func htmlTags(t *testing.T, doc []byte) []string {
	t.Helper()
	allowed := map[string]bool{"html": true, "head": true, "meta": true, "title": true, "style": true, "body": true,
		"h1": true, "h2": true, "h3": true, "p": true, "ul": true, "li": true,
		"table": true, "thead": true, "tbody": true, "tr": true, "th": true, "td": true}
	z := html.NewTokenizer(bytes.NewReader(doc))
	var tags, stack []string
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
			if !allowed[tok.Data] {
				t.Errorf("unexpected element <%s>", tok.Data)
			}
			for _, a := range tok.Attr {
				if !(tok.Data == "html" && a.Key == "lang" || tok.Data == "meta" && a.Key == "charset") {
					t.Errorf("unexpected attribute %s on <%s>", a.Key, tok.Data)
				}
			}
			switch {
			case tt == html.SelfClosingTagToken:
				t.Errorf("self-closing <%s/>", tok.Data)
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
	mmdNode  = regexp.MustCompile(`^    n_[A-Za-z0-9_]+(?:\["` + mmdLabel + `"\]|\("` + mmdLabel + `"\))$`)
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
	dotNode   = regexp.MustCompile(`^\tn_[A-Za-z0-9_]+ \[label=` + dotString + `(?:, shape=box)?\];$`)
	dotEdge   = regexp.MustCompile(`^\tn_[A-Za-z0-9_]+ -> n_[A-Za-z0-9_]+ \[label=` + dotString + `, tooltip=` + dotString + `(?:, dir=both)?\];$`)
	dotGraph  = regexp.MustCompile(`^\tgraph \[label=` + dotString + `, labelloc=t, rankdir=LR\];$`)
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

// graphviz renders a DOT file to SVG, which must succeed without a word
// on stderr and be well-formed XML.
func graphviz(t *testing.T, dot []byte) {
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
				graphviz(t, render(t, rs, portdoc.DOT, h))
			})
		}
	}
	for i, s := range hostile {
		t.Run("hostile/"+strconv.Itoa(i), func(t *testing.T) {
			rs := rulestest.HostileRuleset(t, texts(s))
			graphviz(t, render(t, rs, portdoc.DOT, ""))
			graphviz(t, render(t, rs, portdoc.DOT, rs.Hosts[0].Name))
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

// TestDiagramMerging checks how rules become edges: one edge per pair of
// endpoints with a line per rule, one two-headed edge for the same ports
// both ways, and no edge for a host's traffic with itself.
func TestDiagramMerging(t *testing.T) {
	t.Parallel()
	tests := []struct {
		example, host string
		want, notWant []string
	}{
		{example: "fortimail-ha", want: []string{
			`n_fml1__fml2 <-->|"tcp 25, 465"| n_internet`,
			`n_admins -->|"tcp 22, 443<br>icmp echo-request<br>icmpv6 echo-request"| n_fml1__fml2`,
			`n_fml1__fml2 -->|"tcp 25, 80, 110, 143, 443, 6688, 20000-20005, 20010-20014<br>udp 20000-20001, 20005, 20010-20014"| n_fml1__fml2`,
		}},
		// fme1 runs every FME role: its flows between roles stay on it.
		{example: "site", notWant: []string{`n_fme1 -->|"tcp 1-65535"| n_fme1`}, want: []string{`n_lan -->|"tcp 80"| n_fme1`}},
		{example: "xeams", host: "xeams1", want: []string{`n_xeams1 -->|"tcp 53<br>udp 53"| n_resolvers`}},
		// With --host, only the host's flows: not the web host's.
		{example: "fme-distributed", host: "fme-db", want: []string{`n_fme_core -->|"tcp 7082"| n_fme_db`},
			notWant: []string{`n_users`}},
	}
	for _, tt := range tests {
		t.Run(tt.example+"/"+tt.host, func(t *testing.T) {
			rs := rulestest.Ruleset(t, filepath.Join("..", "..", "examples", tt.example+".toml"))
			got := string(render(t, rs, portdoc.Mermaid, tt.host))
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

// TestHostRows checks the per-host table on the hand-built IR: inbound
// and (egress filtered) outbound rows, the origin's claim cut back to the
// rule's ports, and the ports no origin claims listed anyway.
func TestHostRows(t *testing.T) {
	t.Parallel()
	rs := rulestest.HostileRuleset(t, texts("x"))
	doc := string(render(t, rs, portdoc.Markdown, rs.Hosts[0].Name))
	for _, want := range []string{
		"| 22 | tcp | in | set x (10.0.0.0/24, 2001:db8:1::/64, a.example) | x | profile | custom rule allow\\[3\\]: x |",
		"| 8000-8010 | tcp | in | set x (10.0.0.0/24, 2001:db8:1::/64, a.example) | — | x/x: x | — | r",
		"| 8000-8010 | tcp | in | set x (10.0.0.0/24, 2001:db8:1::/64, a.example) | — (only for the program x) | x/x: x | — | r",
		"| echo-reply, echo-request | icmp | in |",
		"| any type | icmpv6 | in |",
		// The flow claims 8000-8010 for a rule that opens 53 only.
		"| 53 | udp | out | any (any address) | — | x/x/x | no origin of the rule claims all of its ports |",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("missing %q in\n%s", want, doc)
		}
	}
	if strings.Contains(doc, "8000-8010 | udp") {
		t.Errorf("a row shows ports the rule does not open:\n%s", doc)
	}
}
