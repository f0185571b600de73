package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/fortigate"
	"github.com/portwall/portwall/generators/portdoc"
	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/internal/graphviz"
	"github.com/portwall/portwall/rules/ir"
)

func (e *env) docsCommand() *cli.Command {
	return &cli.Command{
		Name:      "docs",
		Usage:     "write the deployment's \"ports to open\" document or flow diagram",
		ArgsUsage: "PROFILE",
		Description: fmt.Sprintf(`Renders what the network team must open for the deployment, from the same
resolved rules generate writes, so the document cannot disagree with them.

--format markdown or html: a section per host (what it allows in, and out
when the output policy is drop), the network view (every rule between two
endpoints: what a firewall between the networks must pass), the internal
flows portwall never opens, and the policy. Each row names the ports, the
protocol, the peer with its addresses, the purpose, the catalog flow
(product/feature: flow) and the vendor's document and row, or the profile's
custom rule, and the rule ID the generated rules carry (pw:ID). With
[fortigate.interfaces], an Interface column names the FortiGate interface or
zone each peer sits behind. HTML is one self-contained page: contents,
inbound and outbound tables set apart, sources as numbered notes, print
styles, and the flow diagram drawn by Graphviz (dot) when it is installed,
else its DOT text.

--format mermaid or dot: a flow diagram, with a node per address set (a
host, group or peer, with its addresses) clustered by FortiGate interface
(without interfaces: hosts, networks, the Internet), and an edge per pair
of nodes, labelled with protocols and ports. No host is drawn twice.

--host NAME restricts the document to that host's section, and the diagram
to the flows to and from the host. Output goes to standard output, or to the
file given with -o (written to a temporary file and renamed into place).
Formats: %s.

Exit status: 0, or 1 on an error (nothing is written).

Examples:
   portwall docs examples/xeams.toml --format markdown -o ports.md
   portwall docs examples/site.toml --format html -o ports.html`, strings.Join(portdoc.Formats(), ", ")),
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Value: string(portdoc.Markdown), Usage: "output: " + strings.Join(portdoc.Formats(), ", ")},
			&cli.StringFlag{Name: "host", Usage: "only host `NAME`"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `FILE` instead of standard output"},
		},
		Action: e.docs,
	}
}

func (e *env) docs(c *cli.Context) error {
	// The format is checked before the profile is read: a typo should not
	// wait for (or hide behind) the profile's problems.
	format := c.String("format")
	if !slices.Contains(portdoc.Formats(), format) {
		return fmt.Errorf("unknown format %q%s (formats: %s)", format,
			diag.DidYouMean(format, portdoc.Formats()), strings.Join(portdoc.Formats(), ", "))
	}
	r, err := e.resolve(c)
	if err != nil {
		return err
	}
	e.warnExpired(r)
	rs := r.rs
	host := c.String("host")
	if c.IsSet("host") {
		if _, ok := rs.Host(host); !ok {
			return unknownHost(rs, host)
		}
	}
	opt, err := docsOptions(rs, r.settings, portdoc.Format(format), host, graphviz.Available())
	if err != nil {
		return err
	}
	data, err := portdoc.Render(rs, portdoc.Format(format), opt)
	if err != nil {
		return err
	}
	if out := c.String("output"); out != "" {
		return writeFiles(filepath.Dir(out), []generators.File{{Name: filepath.Base(out), Contents: data}})
	}
	_, err = e.stdout.Write(data)
	return err
}

// docsOptions are what the document shows beyond the rules: with
// [fortigate.interfaces], the interface each endpoint sits behind, as the
// FortiGate backend places it (its own settings, decoded by it with the
// profile, read here and never written); and the HTML page's diagram drawn
// by Graphviz when dot is installed (else the page carries the DOT text).
func docsOptions(rs *ir.Ruleset, settings generators.Settings, f portdoc.Format, host string, dot bool) (portdoc.Options, error) {
	opt := portdoc.Options{Host: host}
	if fg := fortigate.SettingsOf(settings); len(fg.Interfaces) > 0 {
		z, err := fg.Zones(rs)
		if err != nil {
			return opt, err
		}
		opt.Zones = z
	}
	if f == portdoc.HTML && dot {
		opt.SVG = graphviz.SVG
	}
	return opt, nil
}
