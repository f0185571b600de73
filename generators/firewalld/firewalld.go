// Package firewalld renders a host's rules as firewalld's permanent
// configuration: for RHEL, Rocky, Alma and every other host where firewalld
// is the firewall manager and loading portwall's own nftables table would
// mean turning it off.
//
// The output for a host is a shell script that holds the XML files and
// puts them in place (script.go says why). portwall owns the objects named
// portwall*, and nothing else:
//
//   - zone portwall (zones/portwall.xml) holds the inbound rules. Its
//     target is DROP (%%REJECT%% with input = "reject"); the script makes
//     it the default zone, so every interface no other zone claims is
//     filtered by it.
//   - policy portwall-out (policies/portwall-out.xml), with output = "drop"
//     only, filters the host's own new connections (HOST to ANY).
//   - service portwall-<rule ID> (services/) per TCP or UDP rule holds the
//     rule's ports, and its description the rule's provenance.
//
// Every rule is one zone or policy element: the service alone when the
// remote side is any address, otherwise a rich rule per IP family and
// remote prefix, with the service or the ICMP type. All rules are accepts
// in one zone, so overlapping groups keep the IR's meaning exactly (a
// packet is let in when any rule allows it): source-bound zones would
// dispatch each source to one zone only, chosen by zone name.
package firewalld

import (
	"bytes"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"sync"

	"go4.org/netipx"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/proto"
)

// Names of the objects portwall owns.
const (
	Zone          = "portwall"
	OutPolicy     = "portwall-out"
	ServicePrefix = "portwall-"
)

// Priorities of the rich rules that end the zone and the policy: after
// every accept (priority 0), logging first, then the TCP reset of input =
// "reject" (rules of one priority run in no defined order).
const (
	LogPriority    = 32766
	RejectPriority = 32767
)

// Generator is the firewalld backend.
type Generator struct{}

func (Generator) Name() string { return "firewalld" }

func (Generator) Caps() generators.Caps {
	return generators.Caps{HostView: true, FQDN: generators.FQDNNone, Ext: ".firewalld.sh"}
}

func (Generator) Section() generators.Section { return Section }

// Generate renders one script per requested host.
func (g Generator) Generate(req generators.Request) ([]generators.File, error) {
	mode := generators.FQDNMode(g, req)
	return generators.PerHost(req, g, func(v *ir.HostView) ([]byte, error) { return Render(v, mode) })
}

// ICMPTypes are the ICMP types firewalld can match, by its icmptype names
// (those its nftables backend translates without a code), per family. A
// type without a name here cannot be expressed: a rule that needs one is
// refused, never widened to every type. Built on first use: a package-level
// map literal is built by every run's initialisation, whatever it does.
var ICMPTypes = sync.OnceValue(func() map[ir.Family]map[uint8]string {
	return map[ir.Family]map[uint8]string{
		ir.IPv4: {
			0: "echo-reply", 3: "destination-unreachable", 4: "source-quench", 5: "redirect", 8: "echo-request",
			9: "router-advertisement", 10: "router-solicitation", 11: "time-exceeded", 12: "parameter-problem",
			13: "timestamp-request", 14: "timestamp-reply",
		},
		ir.IPv6: {
			1: "destination-unreachable", 2: "packet-too-big", 3: "time-exceeded", 4: "parameter-problem",
			128: "echo-request", 129: "echo-reply", 133: "router-solicitation", 134: "router-advertisement",
			135: "neighbour-solicitation", 136: "neighbour-advertisement", 137: "redirect",
		},
	}
})

// idChars is what a rule ID must look like to name a service. IDs from the
// resolver are "r" and 12 hex digits; a ruleset built elsewhere may hold
// anything, and is refused rather than mangled.
var idChars = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9]{1,64}$`) })

// rich is one rich rule.
type rich struct {
	family      ir.Family // 0: both
	priority    int
	source      string // address or prefix
	destination string
	service     string
	icmpType    string
	protocol    string
	log         string // log prefix
	reject      string // reject type; "" with accept
	accept      bool
}

func (r rich) write(b *bytes.Buffer) {
	b.WriteString("  <rule")
	if r.family != 0 {
		fmt.Fprintf(b, ` family="%s"`, r.family)
	}
	if r.priority != 0 {
		fmt.Fprintf(b, ` priority="%d"`, r.priority)
	}
	b.WriteString(">\n")
	if r.source != "" {
		fmt.Fprintf(b, "    <source address=\"%s\"/>\n", r.source)
	}
	if r.destination != "" {
		fmt.Fprintf(b, "    <destination address=\"%s\"/>\n", r.destination)
	}
	switch {
	case r.service != "":
		fmt.Fprintf(b, "    <service name=\"%s\"/>\n", r.service)
	case r.icmpType != "":
		fmt.Fprintf(b, "    <icmp-type name=\"%s\"/>\n", r.icmpType)
	case r.protocol != "":
		fmt.Fprintf(b, "    <protocol value=\"%s\"/>\n", r.protocol)
	}
	if r.log != "" {
		fmt.Fprintf(b, "    <log prefix=\"%s\" level=\"info\">\n      <limit value=\"5/s\"/>\n    </log>\n", r.log)
	}
	switch {
	case r.reject != "":
		fmt.Fprintf(b, "    <reject type=\"%s\"/>\n", r.reject)
	case r.accept:
		b.WriteString("    <accept/>\n")
	}
	b.WriteString("  </rule>\n")
}

// object is a zone or a policy being built: its elements in order, each
// rich rule once (firewalld refuses a rule it already has).
type object struct {
	body bytes.Buffer
	seen map[string]bool
}

func (o *object) comment(text string) { fmt.Fprintf(&o.body, "  <!-- %s -->\n", commentText(text)) }

// add writes rules not written before and reports how many it wrote.
func (o *object) add(rs ...rich) int {
	n := 0
	for _, r := range rs {
		var b bytes.Buffer
		r.write(&b)
		if o.seen[b.String()] {
			continue
		}
		o.seen[b.String()] = true
		o.body.Write(b.Bytes())
		n++
	}
	return n
}

// block writes a commented group of rules; the comment only when a rule
// of it is new.
func (o *object) block(text string, rs []rich, services []string) {
	var b object
	b.seen = o.seen
	for _, s := range services {
		fmt.Fprintf(&b.body, "  <service name=\"%s\"/>\n", s)
	}
	if b.add(rs...) == 0 && len(services) == 0 {
		if len(rs) > 0 {
			o.comment(text + " (allowed by the rules above)")
		}
		return
	}
	o.comment(text)
	o.body.Write(b.body.Bytes())
}

// renderer builds one host's configuration.
type renderer struct {
	v        *ir.HostView
	fqdn     ir.FQDNMode
	services map[string][]byte // file name -> XML
	omitted  []generators.Omission
	refused  generators.Refusals
}

// Render writes the load script for one host, with host names handled as
// fqdn says.
func Render(v *ir.HostView, fqdn ir.FQDNMode) ([]byte, error) {
	pol := v.Ruleset.Policy
	switch pol.Input {
	case ir.InputDrop, ir.InputReject:
	default:
		return nil, fmt.Errorf("input policy %q: want drop or reject", pol.Input)
	}
	switch pol.Output {
	case ir.OutputAccept, ir.OutputDrop:
	default:
		return nil, fmt.Errorf("output policy %q: want accept or drop", pol.Output)
	}
	r := &renderer{v: v, fqdn: fqdn, services: map[string][]byte{}}
	zone := &object{seen: map[string]bool{}}
	zone.comment("pw:base icmp errors and ipv6 neighbour discovery")
	zone.add(baseline(ir.In)...)
	if err := r.rules(zone, v.In, ir.In); err != nil {
		return nil, err
	}
	zone.tail(pol, ir.In)
	var policy *object
	if pol.Output == ir.OutputDrop {
		policy = &object{seen: map[string]bool{}}
		policy.comment("pw:base icmp errors, ipv6 neighbour and multicast listener discovery")
		policy.add(baseline(ir.Out)...)
		if err := r.rules(policy, v.Out, ir.Out); err != nil {
			return nil, err
		}
		policy.tail(pol, ir.Out)
	}
	if err := r.refused.Err(); err != nil {
		return nil, err
	}

	var b bytes.Buffer
	r.header(&b, policy != nil)
	b.WriteString(Prelude)
	target := "DROP"
	if pol.Input == ir.InputReject {
		target = "%%REJECT%%"
	}
	file(&b, "zones/"+Zone+".xml", func(x *bytes.Buffer) {
		fmt.Fprintf(x, "<zone target=\"%s\">\n", target)
		fmt.Fprintf(x, "  <short>%s</short>\n", Zone)
		fmt.Fprintf(x, "  <description>%s</description>\n", text(r.describe("inbound rules")))
		x.Write(zone.body.Bytes())
		x.WriteString("</zone>\n")
	})
	if policy != nil {
		file(&b, "policies/"+OutPolicy+".xml", func(x *bytes.Buffer) {
			x.WriteString("<policy target=\"DROP\" priority=\"-1\">\n")
			fmt.Fprintf(x, "  <short>%s</short>\n", OutPolicy)
			fmt.Fprintf(x, "  <description>%s</description>\n", text(r.describe("outbound rules (egress filtering)")))
			x.WriteString("  <ingress-zone name=\"HOST\"/>\n  <egress-zone name=\"ANY\"/>\n")
			x.Write(policy.body.Bytes())
			x.WriteString("</policy>\n")
		})
	}
	names := make([]string, 0, len(r.services))
	for n := range r.services {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		file(&b, "services/"+n+".xml", func(x *bytes.Buffer) { x.Write(r.services[n]) })
	}
	b.WriteString(Epilogue)
	return b.Bytes(), nil
}

// file writes one file of the script as a quoted here-document.
func file(b *bytes.Buffer, name string, body func(*bytes.Buffer)) {
	fmt.Fprintf(b, "%s %s <<'%s'\n", FileFunc, name, Heredoc)
	b.WriteString("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n")
	body(b)
	b.WriteString(Heredoc + "\n")
}

func (r *renderer) describe(what string) string {
	return fmt.Sprintf("portwall %s for host %s, profile %s. Generated by portwall: do not edit, change the profile and generate again.",
		what, r.v.Host.Name, r.v.Ruleset.Profile)
}

func (r *renderer) header(b *bytes.Buffer, egress bool) {
	v := r.v
	var addrs []string
	for _, a := range v.Host.Addrs {
		addrs = append(addrs, a.String())
	}
	target, policy := "DROP", "no policy (output = accept)"
	if v.Ruleset.Policy.Input == ir.InputReject {
		target = "%%REJECT%%"
	}
	if egress {
		policy = "policy " + OutPolicy + " (HOST to ANY, target DROP)"
	}
	line := func(s string) { fmt.Fprintf(b, "# %s\n", s) }
	b.WriteString("#!/bin/sh\n")
	line(fmt.Sprintf("portwall firewalld configuration for host %s (%s), profile %s.", headerText(v.Host.Name), strings.Join(addrs, ", "), headerText(v.Ruleset.Profile)))
	if v.Host.Description != "" {
		line(headerText(v.Host.Description))
	}
	line("Generated by portwall: do not edit, change the profile and generate again.")
	b.WriteString("#\n")
	for _, l := range []string{
		"Load as root with `sh " + headerText(v.Host.Name) + Generator{}.Caps().Ext + "`. It writes portwall's files into",
		"/etc/firewalld, checks the whole configuration with firewall-offline-cmd",
		"--check-config before changing anything, removes portwall files an earlier",
		"run wrote that are no longer needed, reloads firewalld (putting the previous",
		"files back if the reload fails) and makes zone " + Zone + " the default zone.",
		"Loading it twice gives the same configuration.",
		"  --dir DIR      the configuration directory (firewalld --system-config DIR)",
		"  --files-only   write and check the files only: no reload, no default zone",
		"",
		"portwall owns the objects named portwall* and nothing else: zone " + Zone + "",
		"(inbound, target " + target + "), " + policy + ",",
		"and a service portwall-RULEID per TCP or UDP rule. Other zones, policies and",
		"services are left as they are; interfaces or sources bound to another zone",
		"are not filtered by zone " + Zone + ", and other policies from HOST run too.",
		"Every rule's comment (and each service's description) starts with its",
		"portwall rule ID (pw:r...), then product/feature: flows;",
		"`portwall catalog show PRODUCT` describes each flow.",
	} {
		if l == "" {
			b.WriteString("#\n")
			continue
		}
		line(l)
	}
	if len(r.omitted) > 0 {
		b.WriteString("#\n")
		line("Left out (fqdn = \"omit\"): firewalld cannot match host names.")
		for _, o := range r.omitted {
			line("  " + headerText(o.String()))
		}
	}
}

// rules writes the host rules of one direction into o.
func (r *renderer) rules(o *object, hrs []ir.HostRule, dir ir.Direction) error {
	for _, hr := range hrs {
		rule := hr.Rule
		if !idChars().MatchString(rule.ID) {
			return fmt.Errorf("rule %q: the rule ID cannot name a firewalld service (want letters and digits)", rule.ID)
		}
		if rule.Program != "" {
			// Dropping the condition would open the ports to every process.
			r.refused = append(r.refused, &generators.Refusal{Target: "firewalld", Host: r.v.Host.Name, Rule: rule, Program: true,
				Msg: fmt.Sprintf("limited to the program %s, which firewalld cannot match", rule.Program)})
			continue
		}
		var rs []rich
		var services []string
		service := ""
		if rule.Protocol.HasPorts() {
			if len(rule.Ports) == 0 {
				return fmt.Errorf("rule %s: %s without ports", rule.ID, rule.Protocol)
			}
			service = ServicePrefix + rule.ID
		} else if !rule.Protocol.IsICMP() {
			return fmt.Errorf("rule %s: unknown protocol %s", rule.ID, rule.Protocol)
		}
		// The remote side per family: every address, or the union of the
		// matched sets' addresses (sets of one rule may overlap).
		rm := generators.HostRuleRemotes("firewalld", r.v, hr, r.fqdn, &r.refused, &r.omitted)
		all, families := rm.All, rm.Families
		if service != "" && all[ir.IPv4] && all[ir.IPv6] {
			// Every address of both families: the zone's (or policy's)
			// own service element.
			services = append(services, service)
			families = nil
		}
		for _, f := range families {
			elems, err := r.elements(rule, f, service)
			if err != nil {
				return err
			}
			addrs := []string{""}
			if !all[f] {
				set, err := rm.Set(f)
				if err != nil {
					return fmt.Errorf("rule %s: %v", rule.ID, err)
				}
				addrs = prefixes(set.Ranges())
			}
			for _, a := range addrs {
				for _, e := range elems {
					e.family, e.accept = f, true
					if dir == ir.In {
						e.source = a
					} else {
						e.destination = a
					}
					rs = append(rs, e)
				}
			}
		}
		if service != "" && (len(rs) > 0 || len(services) > 0) {
			// Written only when used: a rule may have no match on this
			// host (no address of either family but the host's own).
			r.service(service, rule)
		}
		o.block(generators.Provenance(rule.ID, rule.Origins), rs, services)
	}
	return nil
}

// elements are the match elements of a rule in one family: its service,
// or its ICMP types (every type: the protocol).
func (r *renderer) elements(rule *ir.Rule, f ir.Family, service string) ([]rich, error) {
	if service != "" {
		return []rich{{service: service}}, nil
	}
	if len(rule.ICMPTypes) == 0 {
		if rule.Protocol == proto.ICMPv6 {
			return []rich{{protocol: "ipv6-icmp"}}, nil
		}
		return []rich{{protocol: "icmp"}}, nil
	}
	var out []rich
	for _, t := range rule.ICMPTypes {
		name, ok := ICMPTypes()[f][t]
		if !ok {
			r.refused = append(r.refused, &generators.Refusal{Target: "firewalld", Host: r.v.Host.Name, Rule: rule,
				Msg: fmt.Sprintf("%s type %s has no firewalld icmptype, so firewalld cannot match it", rule.Protocol, proto.ICMPTypeName(rule.Protocol, t)),
				Fix: "firewalld names these " + rule.Protocol.String() + " types: " + typeNames(f)})
			continue
		}
		out = append(out, rich{icmpType: name})
	}
	return out, nil
}

func typeNames(f ir.Family) string {
	var out []string
	for _, n := range ICMPTypes()[f] {
		out = append(out, n)
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// service writes the service of a TCP or UDP rule: its ports, and its
// provenance as the description.
func (r *renderer) service(name string, rule *ir.Rule) {
	if _, ok := r.services[name]; ok {
		return
	}
	var x bytes.Buffer
	x.WriteString("<service>\n")
	fmt.Fprintf(&x, "  <short>%s</short>\n", name)
	fmt.Fprintf(&x, "  <description>%s</description>\n", text(generators.Provenance(rule.ID, rule.Origins)))
	for _, p := range rule.Ports {
		port := fmt.Sprint(p.First)
		if p.Last != p.First {
			port = fmt.Sprintf("%d-%d", p.First, p.Last)
		}
		fmt.Fprintf(&x, "  <port port=\"%s\" protocol=\"%s\"/>\n", port, rule.Protocol)
	}
	x.WriteString("</service>\n")
	r.services[name] = x.Bytes()
}

// prefixes writes address ranges as rich-rule addresses: an address, or a
// prefix, as many as a range needs.
func prefixes(ranges []netipx.IPRange) []string {
	var out []string
	for _, rg := range ranges {
		for _, p := range rg.Prefixes() {
			out = append(out, addrString(p))
		}
	}
	return out
}

func addrString(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}

// baseline keeps the host working, as the other Linux backends do: ICMP
// errors and IPv6 neighbour discovery in both directions, and multicast
// listener reports out. Connection tracking (established, related),
// invalid packets and loopback are firewalld's own first rules. firewalld
// cannot match ICMPv6 types 130 to 132 and 143 (multicast listener
// discovery) by name, and neither hop limits: the reports are let out to
// ff02::16, where MLDv2 sends them.
func baseline(dir ir.Direction) []rich {
	var out []rich
	for _, t := range []string{"destination-unreachable", "time-exceeded", "parameter-problem"} {
		out = append(out, rich{family: ir.IPv4, icmpType: t, accept: true})
	}
	for _, t := range []string{"destination-unreachable", "packet-too-big", "time-exceeded", "parameter-problem"} {
		out = append(out, rich{family: ir.IPv6, icmpType: t, accept: true})
	}
	nd := []string{"router-advertisement", "neighbour-solicitation", "neighbour-advertisement"}
	if dir == ir.Out {
		nd = []string{"router-solicitation", "neighbour-solicitation", "neighbour-advertisement"}
	}
	for _, t := range nd {
		out = append(out, rich{family: ir.IPv6, icmpType: t, accept: true})
	}
	if dir == ir.Out {
		out = append(out, rich{family: ir.IPv6, destination: "ff02::16", protocol: "ipv6-icmp", accept: true})
	}
	return out
}

// tail ends the zone or the policy: logging of what the target drops
// (rate limited), and for input = "reject" a TCP reset, as the other
// backends answer TCP; the zone's target rejects the rest.
func (o *object) tail(pol ir.Policy, dir ir.Direction) {
	if pol.LogDropped {
		chain := "input"
		if dir == ir.Out {
			chain = "output"
		}
		o.comment("pw:base log dropped")
		o.add(rich{priority: LogPriority, log: "portwall " + chain + " drop: "})
	}
	if dir == ir.In && pol.Input == ir.InputReject {
		o.comment("pw:base reject")
		for _, f := range ir.Families {
			o.add(rich{family: f, priority: RejectPriority, protocol: "tcp", reject: "tcp-reset"})
		}
	}
}
