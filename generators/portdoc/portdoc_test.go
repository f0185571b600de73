package portdoc_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/fortigate"
	"github.com/portwall/portwall/generators/portdoc"
	"github.com/portwall/portwall/internal/testkit/golden"
	"github.com/portwall/portwall/internal/testkit/rulestest"
	"github.com/portwall/portwall/profiles"
	"github.com/portwall/portwall/rules/ir"
)

// ext is the golden file's extension per format, so that the goldens open
// in a viewer.
var ext = map[portdoc.Format]string{
	portdoc.Markdown: ".md", portdoc.HTML: ".html", portdoc.Mermaid: ".mmd", portdoc.DOT: ".dot",
}

func formats() []portdoc.Format {
	var out []portdoc.Format
	for _, f := range portdoc.Formats() {
		out = append(out, portdoc.Format(f))
	}
	return out
}

func render(t testing.TB, rs *ir.Ruleset, f portdoc.Format, host string) []byte {
	t.Helper()
	return renderOpt(t, rs, f, portdoc.Options{Host: host})
}

func renderOpt(t testing.TB, rs *ir.Ruleset, f portdoc.Format, opt portdoc.Options) []byte {
	t.Helper()
	data, err := portdoc.Render(rs, f, opt)
	if err != nil {
		t.Fatalf("%s (host %q): %v", f, opt.Host, err)
	}
	return data
}

// example is an example profile resolved, with the options the docs
// command renders it with but the diagram's drawing: the interfaces of
// its [fortigate] section, which the FortiGate backend decodes.
type example struct {
	rs  *ir.Ruleset
	opt portdoc.Options
}

func loadExample(t testing.TB, file string) example {
	t.Helper()
	p, err := profiles.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	s, err := generators.DecodeSettings(p, []generators.Section{fortigate.Section}, generators.NewEnv(p, nil))
	if err != nil {
		t.Fatal(err)
	}
	ex := example{rs: rulestest.Ruleset(t, file)}
	if fg := fortigate.SettingsOf(s); len(fg.Interfaces) > 0 {
		if ex.opt.Zones, err = fg.Zones(ex.rs); err != nil {
			t.Fatal(err)
		}
	}
	return ex
}

// goldenCase is one rendering checked against testdata/<example>/<file>.
type goldenCase struct {
	example, host string
	format        portdoc.Format
	// noZones leaves the example's interfaces out.
	noZones bool
}

func (c goldenCase) file() string {
	name := string(c.format) + ext[c.format]
	if c.host != "" {
		name = "host-" + c.host + "." + name
	}
	if c.noZones {
		name = "no-interfaces." + name
	}
	return filepath.Join("testdata", c.example, name)
}

// TestGolden renders every example in every format with its interfaces,
// plus one host of the HA example (a host of a two-host role, so the
// peer column leaves the host itself out) and the HA example without
// interfaces, and compares with the goldens. Rendering twice must give
// the same bytes. The HTML pages carry the diagram's DOT text: Graphviz's
// drawing depends on its version (TestGraphvizEmbedded checks it).
func TestGolden(t *testing.T) {
	t.Parallel()
	var cases []goldenCase
	examples := map[string]example{}
	for _, file := range rulestest.Examples(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".toml")
		examples[name] = loadExample(t, file)
		for _, f := range formats() {
			cases = append(cases, goldenCase{example: name, format: f})
		}
	}
	for _, f := range formats() {
		cases = append(cases, goldenCase{example: "fortimail-ha", host: "fml1", format: f},
			goldenCase{example: "fortimail-ha", format: f, noZones: true})
	}
	for _, c := range cases {
		t.Run(c.file(), func(t *testing.T) {
			ex, ok := examples[c.example]
			if !ok {
				t.Fatalf("no example %s", c.example)
			}
			if ex.opt.Zones == nil {
				t.Fatalf("example %s has no [fortigate.interfaces]", c.example)
			}
			opt := ex.opt
			opt.Host = c.host
			if c.noZones {
				opt.Zones = nil
			}
			got := renderOpt(t, ex.rs, c.format, opt)
			if again := renderOpt(t, ex.rs, c.format, opt); !bytes.Equal(got, again) {
				t.Errorf("two renderings differ")
			}
			golden.Compare(t, c.file(), got)
		})
	}
}

func TestRenderErrors(t *testing.T) {
	t.Parallel()
	rs := rulestest.Ruleset(t, filepath.Join("..", "..", "examples", "xeams.toml"))
	tests := []struct {
		name   string
		format portdoc.Format
		host   string
		want   string
	}{
		{"unknown format", "pdf", "", `unknown format "pdf" (formats: markdown, html, mermaid, dot)`},
		{"unknown host", portdoc.Markdown, "xeams2", `unknown host "xeams2"`},
		{"unknown host in a diagram", portdoc.DOT, "nobody", `unknown host "nobody"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := portdoc.Render(rs, tt.format, portdoc.Options{Host: tt.host})
			if err == nil || err.Error() != tt.want {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// TestTraceability checks that every rule of every example shows up with
// each of its origins: the rule ID, the flow and the vendor's row (or the
// custom rule) in the network view, and the host's rows in its section.
func TestTraceability(t *testing.T) {
	t.Parallel()
	for _, file := range rulestest.Examples(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			rs := rulestest.Ruleset(t, file)
			doc := string(render(t, rs, portdoc.Markdown, ""))
			for _, r := range rs.Rules {
				// A rule of a host with itself is listed by its provenance.
				if _, line, ok := strings.Cut(doc, "pw:"+r.ID+" "); ok {
					line, _, _ = strings.Cut(line, "\n")
					for _, o := range r.Origins {
						if !strings.Contains(line, " "+o.Flow) {
							t.Errorf("rule %s: flow %s is missing from %q", r.ID, o.Flow, line)
						}
					}
					continue
				}
				if !strings.Contains(doc, "| "+r.ID+" |") {
					t.Errorf("rule %s is missing", r.ID)
				}
				for _, o := range r.Origins {
					want := o.Product + "/" + o.Feature + ": " + o.Flow
					if o.Kind == ir.OriginCustom {
						want = "custom rule " + o.Label()
					}
					want = strings.NewReplacer("_", `\_`, "[", `\[`, "]", `\]`).Replace(want)
					if !strings.Contains(doc, want) {
						t.Errorf("rule %s: origin %q is missing", r.ID, want)
					}
				}
			}
			for _, f := range rs.Internal {
				if !strings.Contains(doc, ": "+f.Origin.Flow+" (") {
					t.Errorf("internal flow %s is missing", f.Origin.Flow)
				}
			}
			for _, h := range rs.Hosts {
				v, err := rs.HostView(h.Name)
				if err != nil {
					t.Fatal(err)
				}
				one := string(render(t, rs, portdoc.Markdown, h.Name))
				if strings.Contains(one, "## Network") {
					t.Errorf("host %s: the one-host document has the network view", h.Name)
				}
				for _, hr := range v.In {
					if !strings.Contains(one, "| "+hr.Rule.ID+" |") && !strings.Contains(one, "pw:"+hr.Rule.ID) {
						t.Errorf("host %s: inbound rule %s is missing", h.Name, hr.Rule.ID)
					}
				}
			}
		})
	}
}

// TestLoopback checks rules of a host with itself (site.toml's fme1 runs
// every FME role): never a table row, which would ask for ports to be
// opened, but listed once under the host and once in the network view,
// also when egress filtering makes the rule both inbound and outbound.
func TestLoopback(t *testing.T) {
	t.Parallel()
	for _, output := range []ir.OutputPolicy{ir.OutputAccept, ir.OutputDrop} {
		t.Run(string(output), func(t *testing.T) {
			rs := rulestest.Ruleset(t, filepath.Join("..", "..", "examples", "site.toml"))
			rs.Policy.Output = output
			var id string
			for _, r := range rs.Rules {
				if r.From.String() == "fme1" && r.To.String() == "fme1" {
					id = r.ID
				}
			}
			if id == "" {
				t.Fatal("site.toml has no rule from fme1 to fme1")
			}
			host := string(render(t, rs, portdoc.Markdown, "fme1"))
			if n := strings.Count(host, "pw:"+id+" "); n != 1 {
				t.Errorf("host fme1 lists rule %s %d times", id, n)
			}
			all := string(render(t, rs, portdoc.Markdown, ""))
			if n := strings.Count(all, "pw:"+id+" "); n != 2 {
				t.Errorf("the document lists rule %s %d times, want twice (host and network)", id, n)
			}
			if strings.Contains(all, "| "+id+" |") {
				t.Errorf("rule %s is a table row", id)
			}
			if !strings.Contains(all, "- fme1, tcp 1-65535: pw:"+id) {
				t.Errorf("the network view does not list rule %s under flows within one host", id)
			}
		})
	}
}
