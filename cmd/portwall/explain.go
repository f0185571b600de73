package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/portwall/portwall/generators/jsonrules"
	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/profiles"
	"github.com/portwall/portwall/rules/explain"
	"github.com/portwall/portwall/rules/ir"
)

func (e *env) explainCommand() *cli.Command {
	return &cli.Command{
		Name:      "explain",
		Usage:     "say why a port is open on a host, or why not, down to the vendor's document",
		ArgsUsage: "PROFILE",
		Description: `With --from ADDR (inbound) or --to ADDR (outbound): whether the host lets that
traffic through, and every rule that allows it, with the catalog flows
(product, feature, flow, purpose, the vendor document and row) or the
profile's custom rules behind it. When it is blocked, the rules that open the
port to other addresses. Without an address: everything that opens the port.
Flows the catalog marks internal (never opened, such as Xeams' embedded
database) are shown with why; a flow beyond its product's document says so
(departure).

--port takes 25/tcp, 53/udp, a bare number (TCP), icmp or icmpv6 (ping),
icmp/TYPE, or a service name of the catalog (https). The answer is the one
portwall verify checks with packets.

Without --host, or with a host or group on either side, explain answers
what portwall query answers (every host the sides name, every address of a
group) and shows the rules behind each answer.

Exit status: 0 (whatever the answer; portwall query answers with its exit
status), or 1 on an error.

Examples:
   portwall explain examples/xeams.toml --host xeams1 --from 203.0.113.9 --port 25/tcp
   portwall explain examples/xeams.toml --host xeams1 --port 7865/tcp
   portwall explain examples/site.toml --from lan --to mail1 --port imaps`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "host", Usage: "the profile's host `NAME` (default: the hosts --from and --to name)"},
			&cli.StringFlag{Name: "port", Usage: "`PORT/PROTOCOL` (25/tcp), a port (TCP), icmp, icmpv6, icmp/TYPE or a service name", Required: true},
			&cli.StringFlag{Name: "from", Usage: "traffic from `SRC`: an address, a host or group, or any"},
			&cli.StringFlag{Name: "to", Usage: "traffic to `DST`: an address, a host or group, or any"},
			&cli.StringFlag{Name: "format", Value: "text", Usage: "output: text or json"},
		},
		Action: e.explain,
	}
}

func (e *env) explain(c *cli.Context) error {
	if f := c.String("format"); f != "text" && f != "json" {
		return fmt.Errorf("unknown format %q: want text or json", f)
	}
	r, err := e.resolve(c)
	if err != nil {
		return err
	}
	p, rs := r.p, r.rs
	if !c.IsSet("host") || isName(rs, c.String("from")) || isName(rs, c.String("to")) {
		return e.explainQuery(c, r)
	}
	q := explain.Question{Host: c.String("host"), Dir: ir.In}
	if _, ok := rs.Host(q.Host); !ok {
		return unknownHost(rs, q.Host)
	}
	if q.Protocol, q.Port, q.ICMPType, err = explain.ParsePort(c.String("port")); err != nil {
		return err
	}
	addr := c.String("from")
	switch {
	case c.IsSet("from") && c.IsSet("to"):
		return errors.New("--from and --to: give one (inbound from an address, or outbound to one)")
	case c.IsSet("to"):
		q.Dir, addr = ir.Out, c.String("to")
	}
	if addr != "" {
		if q.Remote, err = netip.ParseAddr(addr); err != nil || q.Remote.Zone() != "" {
			return fmt.Errorf("address %q: want one IPv4 or IPv6 address", addr)
		}
	}
	a, err := explain.Explain(rs, q)
	if err != nil {
		return err
	}
	if c.String("format") == "json" {
		return writeExplainJSON(e.stdout, a)
	}
	e.writeExplain(p, a)
	return nil
}

// writeExplain prints an answer for people.
func (e *env) writeExplain(p *profiles.Profile, a *explain.Answer) {
	w, v := e.stdout, a.View
	var addrs []string
	for _, x := range v.Host.Addrs {
		addrs = append(addrs, x.String())
	}
	dir := "inbound"
	if a.Dir == ir.Out {
		dir = "outbound"
	}
	head := fmt.Sprintf("%s (%s), %s %s", v.Host.Name, strings.Join(addrs, ", "), dir, a.What())
	switch {
	case !a.Remote.IsValid():
		fmt.Fprintf(w, "%s: opened by %s\n", head, countRules(len(a.Rules)))
	case a.Dir == ir.Out:
		fmt.Fprintf(w, "%s to %s: %s\n", head, a.Remote, e.verdict(a))
	default:
		fmt.Fprintf(w, "%s from %s: %s\n", head, a.Remote, e.verdict(a))
	}
	if a.Dir == ir.Out && v.Ruleset.Policy.Output != ir.OutputDrop && !a.Remote.IsValid() {
		fmt.Fprintln(w, "  (outbound traffic is not filtered: output policy accept opens every port outward)")
	}
	for _, hr := range a.Rules {
		writeRule(w, p, a, hr)
	}
	if len(a.Elsewhere) > 0 {
		fmt.Fprintf(w, "  %s is open to other addresses only:\n", a.What())
		for _, hr := range a.Elsewhere {
			writeRule(w, p, a, hr)
		}
	}
	for _, f := range a.Internal {
		o := f.Origin
		fmt.Fprintf(w, "  internal, never opened: %s/%s/%s (%s -> %s): %s\n", o.Product, o.Feature, o.Flow, o.FromLabel, o.ToLabel, o.Purpose)
		fmt.Fprintf(w, "      source: %s\n", o.Source)
		if o.Departure != "" {
			fmt.Fprintf(w, "      departure from the document: %s\n", o.Departure)
		}
	}
}

func (e *env) verdict(a *explain.Answer) string {
	if a.Allowed {
		return e.paint(green, a.Reason)
	}
	return e.paint(red, a.Reason)
}

func countRules(n int) string {
	if n == 0 {
		return "no rule"
	}
	return diag.Plural(n, "rule")
}

// writeRule prints a rule with the remote side's addresses, and the
// origins that ask for the port in question, with where the profile asks
// for each.
func writeRule(w io.Writer, p *profiles.Profile, a *explain.Answer, hr ir.HostRule) {
	r, rs := hr.Rule, a.View.Ruleset
	side := "from"
	if hr.Dir == ir.Out {
		side = "to"
	}
	var remote []string
	for _, n := range hr.Remote.Sets {
		remote = append(remote, describeSet(rs, n))
	}
	what := r.Protocol.String()
	if r.Protocol.HasPorts() {
		what += " " + r.Ports.String()
	}
	fmt.Fprintf(w, "  rule %s: %s %s, %s\n", r.ID, side, strings.Join(remote, " and "), what)
	others := 0
	for _, o := range r.Origins {
		if !a.Carries(o) {
			others++
			continue
		}
		if o.Kind == ir.OriginCustom {
			fmt.Fprintf(w, "    %s (%s): %s\n", o.Label(), p.Doc.Pos("allow", o.Allow), orNone(o.Comment))
			continue
		}
		fmt.Fprintf(w, "    %s/%s/%s (%s -> %s): %s\n", o.Product, o.Feature, o.Flow, o.FromLabel, o.ToLabel, o.Purpose)
		fmt.Fprintf(w, "      source: %s\n", o.Source)
		if o.Departure != "" {
			fmt.Fprintf(w, "      departure from the document: %s\n", o.Departure)
		}
		if at := bindingPos(p, o); at != "" {
			fmt.Fprintf(w, "      bound at %s\n", at)
		}
	}
	if others > 0 {
		fmt.Fprintf(w, "    (and %s of this rule on other ports)\n", diag.Plural(others, "flow"))
	}
}

// bindingPos finds where the profile binds the origin's remote role or
// peer: the line that decides who may connect.
func bindingPos(p *profiles.Profile, o ir.Origin) string {
	for _, label := range []string{o.FromLabel, o.ToLabel} {
		if kind, pos, ok := p.Binding(o.Deployment, label); ok && kind == "peer" {
			return fmt.Sprintf("%s (peer %s)", pos, label)
		}
	}
	for _, label := range []string{o.FromLabel, o.ToLabel} {
		if kind, pos, ok := p.Binding(o.Deployment, label); ok && kind == "role" {
			return fmt.Sprintf("%s (role %s)", pos, label)
		}
	}
	return ""
}

func describeSet(rs *ir.Ruleset, name string) string {
	s, ok := rs.Set(name)
	if !ok || s.IsAny() {
		return name + " (any address)"
	}
	var parts []string
	for _, f := range ir.Families {
		for _, r := range s.Ranges(f) {
			if pfx, ok := r.Prefix(); ok {
				parts = append(parts, pfx.String())
			} else {
				parts = append(parts, r.String())
			}
		}
	}
	parts = append(parts, s.FQDNs...)
	return fmt.Sprintf("%s (%s)", name, strings.Join(parts, ", "))
}

func orNone(s string) string {
	if s == "" {
		return "(no comment)"
	}
	return s
}

// explainJSON is explain's answer for scripts: fields are added, never
// renamed or removed.
type explainJSON struct {
	Host      string               `json:"host"`
	Direction string               `json:"direction"`
	Remote    string               `json:"remote,omitempty"`
	Protocol  string               `json:"protocol"`
	Port      uint16               `json:"port,omitempty"`
	ICMPType  *uint8               `json:"icmp_type,omitempty"`
	Allowed   *bool                `json:"allowed,omitempty"`
	Reason    string               `json:"reason,omitempty"`
	Rules     []jsonrules.Rule     `json:"rules"`
	Elsewhere []jsonrules.Rule     `json:"elsewhere"`
	Internal  []jsonrules.Internal `json:"internal"`
}

func writeExplainJSON(w io.Writer, a *explain.Answer) error {
	doc := explainJSON{
		Host: a.Host, Direction: string(a.Dir), Protocol: a.Protocol.String(), Port: a.Port, Reason: a.Reason,
		Rules: []jsonrules.Rule{}, Elsewhere: []jsonrules.Rule{}, Internal: []jsonrules.Internal{},
	}
	if a.Protocol.IsICMP() {
		t := a.ICMPType
		doc.ICMPType = &t
	}
	if a.Remote.IsValid() {
		doc.Remote = a.Remote.String()
		allowed := a.Allowed
		doc.Allowed = &allowed
	}
	for _, hr := range a.Rules {
		doc.Rules = append(doc.Rules, jsonrules.RuleJSON(hr.Rule))
	}
	for _, hr := range a.Elsewhere {
		doc.Elsewhere = append(doc.Elsewhere, jsonrules.RuleJSON(hr.Rule))
	}
	for _, f := range a.Internal {
		doc.Internal = append(doc.Internal, jsonrules.InternalJSON(f))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}

// isName reports whether s is a host or group of the profile (or any).
func isName(rs *ir.Ruleset, s string) bool {
	_, ok := rs.Named(s)
	return ok || s == ir.AnySet
}

// explainQuery answers a query (explain.Query) and shows the rules behind
// each answer: explain for sides that are hosts and groups.
func (e *env) explainQuery(c *cli.Context, r *resolved) error {
	if c.String("format") != "text" {
		return errors.New("--format json: give --host and an address (a query's answer is in `portwall query`'s exit status)")
	}
	fromArg, toArg := c.String("from"), c.String("to")
	switch h := c.String("host"); {
	case fromArg != "" && toArg != "":
	case h != "" && fromArg != "":
		toArg = h
	case h != "" && toArg != "":
		fromArg = h
	default:
		return errors.New("without --host, give both --from and --to: the hosts asked are those they name")
	}
	cat, err := loadCatalog(c)
	if err != nil {
		return err
	}
	ts, err := parseTraffic(cat, c.String("port"))
	if err != nil {
		return err
	}
	from, err := explain.NewSide(r.rs, fromArg)
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	to, err := explain.NewSide(r.rs, toArg)
	if err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	checks, err := explain.Query(r.rs, from, to, ts)
	if err != nil {
		return err
	}
	for _, ch := range checks {
		if h := c.String("host"); h != "" && ch.Host != h {
			continue
		}
		v, _ := r.rs.HostView(ch.Host)
		a := &explain.Answer{Question: explain.Question{Host: ch.Host, Dir: ch.Dir, Protocol: ch.Traffic.Protocol, Ports: ch.Traffic.Ports, ICMPType: ch.Traffic.ICMPType}, View: v}
		side := "from " + from.Name
		if ch.Dir == ir.Out {
			side = "to " + to.Name
		}
		verdict := e.paint(green, "allowed")
		if !ch.Allowed {
			verdict = e.paint(red, "blocked")
		}
		fmt.Fprintf(e.stdout, "%s %s, %s %s %s: %s: %s\n", ch.Host, ch.Family, map[ir.Direction]string{ir.In: "inbound", ir.Out: "outbound"}[ch.Dir], ch.Traffic, side, verdict, ch.Reason)
		for _, hr := range ch.Rules {
			writeRule(e.stdout, r.p, a, hr)
		}
	}
	return nil
}
