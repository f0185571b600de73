package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/rules/catalog"
)

func (e *env) catalogCommand() *cli.Command {
	cmd := &cli.Command{
		Name:  "catalog",
		Usage: "list, show and export the port catalog; import firewalld services",
		Subcommands: []*cli.Command{
			{
				Name:  "list",
				Usage: "list the products and the services",
				Description: `Lists the products, then the services a profile's [[allow]] may name with
service = "NAME". A service with parts portwall cannot express lists them;
a profile that names it is refused.

Exit status: 0, or 1 when a --catalog directory does not load.

Examples:
   portwall catalog list
   portwall --catalog site-catalog catalog list`,
				Action: func(c *cli.Context) error {
					cat, err := loadCatalog(c)
					if err != nil {
						return err
					}
					w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
					fmt.Fprintln(w, "PRODUCT\tTITLE\tVENDOR\tFEATURES\tFLOWS")
					for _, p := range cat.Products {
						fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d\n", p.Name, p.Title, p.Vendor, len(p.Features), len(p.Flows))
					}
					if err := w.Flush(); err != nil {
						return err
					}
					// A table of its own, so that the products' columns stay
					// as they were.
					fmt.Fprintln(e.stdout)
					w = tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
					fmt.Fprintln(w, "SERVICE\tTITLE\tPORTS\tCANNOT EXPRESS")
					for _, s := range cat.Services {
						unsupported := "-"
						if len(s.Unsupported) > 0 {
							unsupported = strings.Join(s.Unsupported, "; ")
						}
						ports := s.PortString()
						if ports == "" {
							ports = "-"
						}
						fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", s.Name, s.Title, ports, unsupported)
					}
					return w.Flush()
				},
			},
			{
				Name:      "show",
				Usage:     "show a product's roles, peers, features, options and flows, or a service",
				ArgsUsage: "PRODUCT|SERVICE",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "version", Usage: "show the flows of this version of the product only"},
					&cli.StringFlag{Name: "feature", Usage: "show the flows of the product's feature `NAME` only"},
				},
				Description: `Lists the product's documents, then each flow with the document (source)
and versions it comes from; NOTES say what a deployment may change
(configurable ports, alternatives with the default the catalog opens,
random ports) and mark departures: flows that go beyond the product's
document, each with why at the end. A name that is both a product and a
service shows both.

With --feature, only that feature's flows are listed (and the documents,
roles, peers and options as without it).

Exit status: 0, or 1 for an unknown product, service, version or feature.

Examples:
   portwall catalog show fortimail
   portwall catalog show fme-server --version 2023.2
   portwall catalog show fortimail --feature ha
   portwall catalog show ssh`,
				Action: func(c *cli.Context) error {
					cat, err := loadCatalog(c)
					if err != nil {
						return err
					}
					if c.NArg() != 1 {
						return fmt.Errorf("catalog show: want one PRODUCT argument, got %d", c.NArg())
					}
					name := c.Args().First()
					p, isProduct := cat.Product(name)
					s, isService := cat.Service(name)
					if isProduct {
						v := c.String("version")
						if v != "" {
							if _, ok := p.LookupVersion(v); !ok {
								return fmt.Errorf("catalog show: unknown version %q of product %s%s (versions: %s)", v, p.Name,
									diag.DidYouMean(v, p.VersionNames()), orDash(strings.Join(p.VersionNames(), ", ")))
							}
							p = p.InVersion(v)
						}
						if f := c.String("feature"); f != "" {
							if _, ok := p.Feature(f); !ok {
								return fmt.Errorf("catalog show: unknown feature %q of product %s%s", f, p.Name, diag.DidYouMean(f, p.FeatureNames()))
							}
							p = onlyFeature(p, f)
						}
						if err := e.showProduct(p, v); err != nil || !isService || v != "" || c.String("feature") != "" {
							return err
						}
						// Products and services have names of their own
						// (postgresql the product, postgresql the port):
						// show both rather than hide one.
						fmt.Fprintln(e.stdout)
					} else if c.String("version") != "" || c.String("feature") != "" {
						return fmt.Errorf("catalog show: --version and --feature are for products; %q is a service", name)
					}
					if isService {
						return e.showService(s)
					}
					return fmt.Errorf("unknown product or service %q%s (products: %s; catalog list shows the services)", name,
						diag.DidYouMean(name, append(cat.Names(), cat.ServiceNames()...)), strings.Join(cat.Names(), ", "))
				},
			},
			{
				Name:      "search",
				Usage:     "find the products, flows and services that use a port, or match words",
				ArgsUsage: "PORT|WORDS",
				Description: `A port (8013), a range (7100-7150) or PORT/PROTOCOL (53/udp) finds every flow
of every product, and every service, that uses it. Anything else is matched,
word by word and ignoring case, against product, feature, flow and service
names, titles, purposes and the vendors' rows.

Exit status: 0 (also when nothing matches), or 1 for an invalid port.

Examples:
   portwall catalog search 8013
   portwall catalog search smtp`,
				Action: func(c *cli.Context) error {
					if c.NArg() == 0 {
						return fmt.Errorf("catalog search: want a PORT or WORDS to look for")
					}
					cat, err := loadCatalog(c)
					if err != nil {
						return err
					}
					return e.search(cat, strings.Join(c.Args().Slice(), " "))
				},
			},
			{
				Name:  "export",
				Usage: "print the whole catalog in a machine-readable format",
				Flags: []cli.Flag{&cli.StringFlag{Name: "format", Value: "json", Usage: "output format: json"}},
				Description: `Prints {"products":[{"name","title","roles","peers","features","flows":[...],
"default_features","versions","default_version","peer_products"}],
"services":[...]}. Each flow has id, feature, from and to (role or peer
names), protocols, ports (strings; "1-65535" for all ports, empty for ICMP),
purpose, configurable, internal, deprecated, alternatives,
protocol_alternatives, require_choice, default_ports and default_protocols
(what opens unless a profile chooses), versions (empty: all), departure
(why it goes beyond the document; empty: the document gives it) and
source. Each service has
name, title, tcp and udp (port strings), unsupported (what it needs that
portwall cannot express; a profile naming it is refused) and source.

Exit status: 0, or 1 on an error.

Examples:
   portwall catalog export --format json
   portwall catalog export | jq '.products[].name'`,
				Action: func(c *cli.Context) error {
					if f := c.String("format"); f != "json" {
						return fmt.Errorf("unknown format %q: want json", f)
					}
					cat, err := loadCatalog(c)
					if err != nil {
						return err
					}
					enc := json.NewEncoder(e.stdout)
					enc.SetIndent("", "  ")
					enc.SetEscapeHTML(false)
					return enc.Encode(cat.Export())
				},
			},
			e.importFirewalldCommand(),
		},
	}
	cmd.Subcommands = append(cmd.Subcommands, helpCommand())
	cmd.Action = unknownCommand(cmd.Subcommands, cli.ShowSubcommandHelp)
	return cmd
}

// onlyFeature is the product with the flows of one feature.
func onlyFeature(p *catalog.Product, feature string) *catalog.Product {
	q := *p
	q.Flows = slices.DeleteFunc(slices.Clone(p.Flows), func(f catalog.Flow) bool { return f.Feature != feature })
	return &q
}

// showProduct prints a product; version is the one it was narrowed to
// with --version, if any.
func (e *env) showProduct(p *catalog.Product, version string) error {
	out := e.stdout
	fmt.Fprintf(out, "%s: %s (%s)\n", p.Name, p.Title, p.Vendor)
	if p.Summary != "" {
		fmt.Fprintf(out, "%s\n", p.Summary)
	}
	fmt.Fprintf(out, "Defined in %s.\n", definedIn(p.File))
	if len(p.Sources) > 0 {
		// The documents the flows transcribe: what a reviewer checks the
		// catalog against.
		fmt.Fprintln(out, "\nDocuments:")
		for _, s := range p.Sources {
			fmt.Fprintf(out, "  %s: %s\n", s.ID, s.Title)
			if s.URL != "" {
				fmt.Fprintf(out, "      %s\n", s.URL)
			}
		}
	}
	if len(p.Modes) > 0 {
		fmt.Fprintf(out, "\nModes: %s (default %s)\n", strings.Join(p.Modes, ", "), p.Mode)
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	if len(p.Versions) > 0 {
		fmt.Fprintln(w, "\nVersions (each from its document; * the default):")
		for _, v := range p.Versions {
			mark := " "
			if v.Name == p.Version {
				mark = "*"
			}
			shown := ""
			if v.Name == version {
				shown = "  [shown below]"
			}
			fmt.Fprintf(w, "  %s %s\t%s\t(source %s)%s\n", mark, v.Name, v.Title, v.Source, shown)
		}
	}
	fmt.Fprintln(w, "\nRoles (the product's own hosts):")
	for _, r := range p.Roles {
		fmt.Fprintf(w, "  %s\t%s\n", r.Name, r.Title)
	}
	fmt.Fprintln(w, "\nPeers (outside parties):")
	for _, r := range p.Peers {
		extra := ""
		switch {
		case len(r.FQDNs) > 0:
			extra = " [default: " + strings.Join(r.FQDNs, " ") + "]"
		case r.RegionOption != "":
			var regions []string
			for _, k := range slices.Sorted(maps.Keys(r.FQDNsByRegion)) {
				regions = append(regions, k+": "+strings.Join(r.FQDNsByRegion[k], " "))
			}
			extra = " [default by " + r.RegionOption + ": " + strings.Join(regions, "; ") + "]"
		}
		if r.Product != "" {
			extra += " [product " + r.Product
			if r.Role != "" {
				extra += ", role " + r.Role
			}
			extra += "]"
		}
		fmt.Fprintf(w, "  %s\t%s%s\n", r.Name, r.Title, extra)
	}
	if len(p.Options) > 0 {
		fmt.Fprintln(w, "\nOptions:")
		for _, o := range p.Options {
			def := o.Default
			if def == "" {
				def = "unset"
			}
			vals := string(o.Kind)
			if o.Kind == catalog.OptionChoice {
				vals = strings.Join(o.Values, "|")
			}
			fmt.Fprintf(w, "  %s\t%s\t(%s; default %s)\n", o.Name, o.Title, vals, def)
		}
	}
	fmt.Fprintln(w, "\nFeatures (* enabled by default):")
	for _, f := range p.Features {
		mark := " "
		if f.Default {
			mark = "*"
		}
		fmt.Fprintf(w, "  %s %s\t%s\n", mark, f.Name, f.Title)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out, "\nFlows:")
	w = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "  ID\tFEATURE\tFROM -> TO\tPROTOCOL/PORTS\tNOTES\tSOURCE\tPURPOSE")
	for i := range p.Flows {
		f := &p.Flows[i]
		fmt.Fprintf(w, "  %s\t%s\t%s -> %s\t%s\t%s\t%s\t%s\n", f.ID, f.Feature, f.From, f.To, f.PortString(), flowNotes(f), f.Source, f.Purpose)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out, "\nSources:")
	w = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	for _, src := range p.Sources {
		extra := ""
		if src.URL != "" {
			extra += " <" + src.URL + ">"
		}
		if src.Seed != "" {
			extra += " (copy kept: " + src.Seed + ")"
		}
		fmt.Fprintf(w, "  %s\t%s%s\n", src.ID, src.Title, extra)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	first := true
	for i := range p.Flows {
		f := &p.Flows[i]
		if f.Departure == "" {
			continue
		}
		if first {
			fmt.Fprintln(out, "\nDepartures (flows beyond the product's document):")
			first = false
		}
		where := ""
		if len(f.Versions) > 0 {
			where = " (" + strings.Join(f.Versions, ", ") + ")"
		}
		fmt.Fprintf(out, "  %s%s: %s\n", f.ID, where, f.Departure)
	}
	if len(p.InstallerRules) > 0 {
		fmt.Fprintln(out, "\nInstaller rules (Windows Firewall allow rules the installer adds itself, inbound from any address):")
		for i := range p.InstallerRules {
			r := &p.InstallerRules[i]
			what := ""
			for _, pr := range r.Protocols {
				what += pr.String() + " " + r.Ports.String() + " "
			}
			if r.Program != "" {
				what += "program <" + r.ProgramDir + `>\` + r.Program + " "
			}
			fmt.Fprintf(out, "  %s: %son %s\n    %s\n", r.ID, what, strings.Join(r.Roles, ", "), p.InstallerSourceLine(r))
		}
	}
	return nil
}

func flowNotes(f *catalog.Flow) string {
	var n []string
	if f.Configurable {
		n = append(n, "configurable")
	}
	switch def, ok := f.Default(); {
	case f.Alternatives || f.ProtocolAlternatives:
		if ok {
			n = append(n, "choose "+f.AlternativesString()+" (default "+def.String()+")")
		} else {
			n = append(n, "choose "+f.AlternativesString()+" (required)")
		}
	}
	if f.Random {
		n = append(n, "random")
		if f.PortPool != "" {
			// The option narrows the flow, and its default (in the
			// Options list) is what a deployment gets without setting it.
			n = append(n, "pool="+f.PortPool)
		}
	}
	if f.Internal {
		n = append(n, "internal")
	}
	if f.Deprecated {
		n = append(n, "deprecated")
	}
	if len(f.Modes) > 0 {
		n = append(n, "modes="+strings.Join(f.Modes, ","))
	}
	if len(f.Versions) > 0 {
		n = append(n, "versions="+strings.Join(f.Versions, ","))
	}
	if f.Departure != "" {
		n = append(n, "DEPARTURE")
	}
	if f.Program != "" {
		n = append(n, "program")
	}
	if len(n) == 0 {
		return "-"
	}
	return strings.Join(n, ", ")
}

// search prints what uses a port or matches words.
func (e *env) search(cat *catalog.Catalog, query string) error {
	q, err := catalog.ParseQuery(query)
	if err != nil {
		return fmt.Errorf("catalog search: %w", err)
	}
	flows, services := cat.Search(q)
	if len(flows)+len(services) == 0 {
		fmt.Fprintf(e.stdout, "nothing in the catalog matches %q\n", query)
		return nil
	}
	if len(flows) > 0 {
		w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "PRODUCT\tFEATURE\tFLOW\tFROM -> TO\tPROTOCOL/PORTS\tNOTES\tPURPOSE")
		for _, h := range flows {
			f := h.Flow
			fmt.Fprintf(w, "%s\t%s\t%s\t%s -> %s\t%s\t%s\t%s\n", h.Product.Name, f.Feature, f.ID, f.From, f.To, f.PortString(), flowNotes(f), f.Purpose)
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	if len(services) > 0 {
		if len(flows) > 0 {
			fmt.Fprintln(e.stdout)
		}
		w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "SERVICE\tPORTS\tTITLE\tCANNOT EXPRESS")
		for _, s := range services {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", s.Name, s.PortString(), s.Title, strings.Join(s.Unsupported, "; "))
		}
		return w.Flush()
	}
	return nil
}

// showService prints one service.
func (e *env) showService(s *catalog.Service) error {
	fmt.Fprintf(e.stdout, "%s: %s (service)\n", s.Name, s.Title)
	fmt.Fprintf(e.stdout, "Defined in %s.\n", definedIn(s.File))
	fmt.Fprintf(e.stdout, "Ports: %s\n", orDash(s.PortString()))
	fmt.Fprintf(e.stdout, "Source: %s\n", s.SourceLine())
	if len(s.Unsupported) > 0 {
		fmt.Fprintln(e.stdout, "Cannot be used in a profile: it also needs")
		for _, u := range s.Unsupported {
			fmt.Fprintf(e.stdout, "  %s\n", u)
		}
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// definedIn says where a catalog file is: a --catalog directory's file as
// given, a built-in one as part of portwall (its path in the source tree).
func definedIn(file string) string {
	if strings.HasPrefix(file, catalog.EmbeddedDir+"/") {
		return file + " (built in; in portwall's source tree)"
	}
	return file
}
