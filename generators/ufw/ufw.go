// Package ufw renders a host's rules for ufw, the Uncomplicated Firewall
// that Ubuntu ships: for hosts where ufw is the firewall manager and
// loading portwall's own nftables table beside it would mean two tools
// fighting over one host.
//
// The output for a host is a shell script (script.go says why a script,
// and why ufw's own commands) that holds:
//
//   - an application profile per TCP or UDP rule, in
//     /etc/ufw/applications.d/portwall: section portwall-<rule ID>, its
//     title and description the rule's provenance (pw:<rule ID>
//     product/feature: flows), its ports the rule's ports ("25,465/tcp",
//     ranges "60000:61000/udp");
//   - the ufw rules that use them, one per remote prefix and family: `ufw
//     allow from 10.0.0.0/24 to any app portwall-<rule ID> comment
//     'pw:...'` inbound, `ufw allow out to ... app ...` outbound (output =
//     "drop"), `ufw allow portwall-<rule ID>` when the remote side is
//     every address;
//   - portwall's block of ICMP rules in /etc/ufw/before.rules and
//     before6.rules, where ufw keeps ICMP: the profile's ICMP rules, then
//     echo requests (which ufw's stock rules accept from every address)
//     sent to ufw's default policy;
//   - the default policies and logging the profile's [defaults] give.
//
// ufw decides each packet by the first rule that matches, and portwall
// writes only accepts: overlapping and nested groups keep the IR's meaning
// (a packet is let in when any rule allows it), and rules of other tools
// placed before portwall's keep theirs.
package ufw

import (
	"bytes"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go4.org/netipx"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

// AppPrefix starts the name of every application profile portwall
// writes; CommentPrefix every comment of its rules.
const (
	AppPrefix     = "portwall-"
	CommentPrefix = "pw:"
)

// Generator is the ufw backend.
type Generator struct{}

func (Generator) Name() string { return "ufw" }

func (Generator) Caps() generators.Caps {
	return generators.Caps{HostView: true, FQDN: generators.FQDNNone, Ext: ".ufw.sh"}
}

func (Generator) Section() generators.Section { return Section }

// Generate renders one script per requested host.
func (g Generator) Generate(req generators.Request) ([]generators.File, error) {
	s, mode := SettingsOf(req.Settings), generators.FQDNMode(g, req)
	return generators.PerHost(req, g, func(v *ir.HostView) ([]byte, error) { return Render(v, s, mode) })
}

// idChars is what a rule ID must look like to name an application
// profile. IDs from the resolver are "r" and 12 hex digits; a ruleset
// built elsewhere may hold anything, and is refused rather than mangled.
var idChars = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9]{1,40}$`) })

// Chains of before.rules (IPv4) and before6.rules (IPv6), by family and
// direction, and the chains ufw's own rules jump to.
func chain(f ir.Family, dir ir.Direction, what string) string {
	pre := "ufw"
	if f == ir.IPv6 {
		pre = "ufw6"
	}
	d := "input"
	if dir == ir.Out {
		d = "output"
	}
	switch what {
	case "log":
		return pre + "-logging-deny"
	case "policy":
		return pre + "-skip-to-policy-" + d
	}
	return pre + "-before-" + d
}

// icmpMatch is the protocol and type match of ICMP type t (-1: every type)
// in family f.
func icmpMatch(f ir.Family, t int) string {
	if f == ir.IPv6 {
		if t < 0 {
			return "-p icmpv6"
		}
		return "-p icmpv6 -m icmp6 --icmpv6-type " + strconv.Itoa(t)
	}
	if t < 0 {
		return "-p icmp"
	}
	return "-p icmp -m icmp --icmp-type " + strconv.Itoa(t)
}

// echoRequest is the ICMP echo request type per family: the one type
// ufw's stock before.rules accept from every address that portwall's
// profiles decide on. An array indexed by the family, not a map: the
// linker lays it out, where a map literal is built by every run's
// initialisation.
var echoRequest = [...]int{ir.IPv4: 8, ir.IPv6: 128}

// renderer builds one host's script.
type renderer struct {
	v        *ir.HostView
	settings Settings
	fqdn     ir.FQDNMode
	apps     bytes.Buffer
	appNames []string
	rules    []string
	block    map[ir.Family][]string
	seen     map[string]bool // block lines written
	ipv6     bool
	omitted  []generators.Omission
	refused  generators.Refusals
}

// Render writes the load script for one host, with host names handled as
// fqdn says.
func Render(v *ir.HostView, s Settings, fqdn ir.FQDNMode) ([]byte, error) {
	pol := v.Ruleset.Policy
	incoming := map[ir.InputPolicy]string{ir.InputDrop: "deny", ir.InputReject: "reject"}[pol.Input]
	outgoing := map[ir.OutputPolicy]string{ir.OutputAccept: "allow", ir.OutputDrop: "deny"}[pol.Output]
	if incoming == "" {
		return nil, fmt.Errorf("input policy %q: want drop or reject", pol.Input)
	}
	if outgoing == "" {
		return nil, fmt.Errorf("output policy %q: want accept or drop", pol.Output)
	}
	r := &renderer{v: v, settings: s, fqdn: fqdn, block: map[ir.Family][]string{}, seen: map[string]bool{}}
	for _, a := range v.Host.Addrs {
		r.ipv6 = r.ipv6 || a.Is6()
	}
	if err := r.hostRules(v.Enforced()); err != nil {
		return nil, err
	}
	if err := r.refused.Err(); err != nil {
		return nil, err
	}
	dirs := []ir.Direction{ir.In}
	if pol.Output == ir.OutputDrop {
		dirs = append(dirs, ir.Out)
	}
	for _, f := range ir.Families {
		for _, dir := range dirs {
			// Echo requests portwall's rules above did not accept go to
			// ufw's default policy (logged as ufw logs its own blocks),
			// not on to the stock rule that accepts them from anywhere.
			// Loopback is the host's own.
			lo := "! -i lo"
			if dir == ir.Out {
				lo = "! -o lo"
			}
			m := icmpMatch(f, echoRequest[f])
			if pol.LogDropped {
				r.blockLine(f, fmt.Sprintf("-A %s %s %s -j %s", chain(f, dir, ""), lo, m, chain(f, dir, "log")))
			}
			r.blockLine(f, fmt.Sprintf("-A %s %s %s -j %s", chain(f, dir, ""), lo, m, chain(f, dir, "policy")))
		}
	}

	var b bytes.Buffer
	r.header(&b, incoming, outgoing)
	b.WriteString(Prelude)
	logging := "off"
	if pol.LogDropped {
		logging = "on"
	}
	enable := "no"
	if s.Enable {
		enable = "yes"
	}
	ipv6 := "no"
	if r.ipv6 {
		ipv6 = "yes"
	}
	heredoc(&b, "portwall_settings", func(x *bytes.Buffer) {
		fmt.Fprintf(x, "incoming=%s\noutgoing=%s\nlogging=%s\nenable=%s\nipv6=%s\n", incoming, outgoing, logging, enable, ipv6)
	})
	heredoc(&b, "portwall_apps", func(x *bytes.Buffer) {
		fmt.Fprintf(x, "# portwall's application profiles for host %s, profile %s.\n", headerText(v.Host.Name), headerText(v.Ruleset.Profile))
		x.WriteString("# Generated by portwall: do not edit; the host's portwall ufw script writes this file.\n")
		x.Write(r.apps.Bytes())
	})
	heredoc(&b, "portwall_rules", func(x *bytes.Buffer) {
		for _, l := range r.rules {
			x.WriteString(l + "\n")
		}
	})
	for i, f := range ir.Families {
		heredoc(&b, Parts[3+i], func(x *bytes.Buffer) {
			x.WriteString(BlockBegin + "\n")
			for _, l := range r.block[f] {
				x.WriteString(l + "\n")
			}
			x.WriteString(BlockEnd + "\n")
		})
	}
	b.WriteString(Epilogue)
	return b.Bytes(), nil
}

// heredoc writes one part of the script as a quoted here-document.
func heredoc(b *bytes.Buffer, fn string, body func(*bytes.Buffer)) {
	fmt.Fprintf(b, "%s <<'%s'\n", fn, Heredoc)
	body(b)
	b.WriteString(Heredoc + "\n")
}

func (r *renderer) blockLine(f ir.Family, l string) {
	if !r.seen[l] {
		r.seen[l] = true
		r.block[f] = append(r.block[f], l)
	}
}

func (r *renderer) header(b *bytes.Buffer, incoming, outgoing string) {
	v := r.v
	var addrs []string
	for _, a := range v.Host.Addrs {
		addrs = append(addrs, a.String())
	}
	line := func(s string) {
		if s == "" {
			b.WriteString("#\n")
			return
		}
		fmt.Fprintf(b, "# %s\n", s)
	}
	b.WriteString("#!/bin/sh\n")
	line(fmt.Sprintf("portwall ufw configuration for host %s (%s), profile %s.", headerText(v.Host.Name), strings.Join(addrs, ", "), headerText(v.Ruleset.Profile)))
	if v.Host.Description != "" {
		line(headerText(v.Host.Description))
	}
	line("Generated by portwall: do not edit, change the profile and generate again.")
	line("")
	enable := "An inactive ufw stays so: the rules apply once it is enabled"
	if r.settings.Enable {
		enable = "An inactive ufw is enabled ([ufw] enable = true)"
	}
	for _, l := range []string{
		"Load as root with `sh " + headerText(v.Host.Name) + Generator{}.Caps().Ext + "` (ufw 0.35 or later).",
		"It checks everything first, then writes portwall's application profiles",
		"to /etc/ufw/applications.d/" + AppsFile + ", adds the ufw rules portwall needs and",
		"removes those it no longer needs (ufw allow, ufw delete), sets the default",
		"policies (incoming " + incoming + ", outgoing " + outgoing + ") and logging, writes portwall's",
		"ICMP block in /etc/ufw/before.rules and before6.rules, and reloads ufw when",
		"it is active. " + enable,
		"(ufw enable, or run the script with --enable). Loading it twice changes",
		"nothing.",
		"",
		"portwall owns the application profiles named " + AppPrefix + "*, the ufw rules that",
		"use them with a comment starting pw:, and the lines between # BEGIN portwall",
		"and # END portwall in before.rules and before6.rules; other rules stay as",
		"they are. Every rule's comment (and each profile's description) starts",
		"with its portwall rule ID (pw:r...), then product/feature: flows;",
		"`portwall catalog show PRODUCT` describes each flow.",
	} {
		line(l)
	}
	if len(r.omitted) > 0 {
		line("")
		line("Left out (fqdn = \"omit\"): ufw cannot match host names.")
		for _, o := range r.omitted {
			line("  " + headerText(o.String()))
		}
	}
}

// hostRules writes the rules of the host, inbound then outbound.
func (r *renderer) hostRules(hrs []ir.HostRule) error {
	for _, hr := range hrs {
		rule := hr.Rule
		if !idChars().MatchString(rule.ID) {
			return fmt.Errorf("rule %q: the rule ID cannot name a ufw application profile (want letters and digits)", rule.ID)
		}
		if rule.Program != "" {
			// Dropping the condition would open the ports to every process.
			r.refused = append(r.refused, &generators.Refusal{Target: "ufw", Host: r.v.Host.Name, Rule: rule, Program: true,
				Msg: fmt.Sprintf("limited to the program %s, which ufw cannot match", rule.Program)})
			continue
		}
		switch {
		case rule.Protocol.HasPorts():
			if len(rule.Ports) == 0 {
				return fmt.Errorf("rule %s: %s without ports", rule.ID, rule.Protocol)
			}
		case rule.Protocol.IsICMP():
		default:
			return fmt.Errorf("rule %s: unknown protocol %s", rule.ID, rule.Protocol)
		}
		// The remote side per family: every address, or the union of the
		// matched sets' addresses (sets of one rule may overlap).
		rm := generators.HostRuleRemotes("ufw", r.v, hr, r.fqdn, &r.refused, &r.omitted)
		all, families := rm.All, rm.Families
		// remotes are the address matches per family: "" for every
		// address of the family.
		remotes := map[ir.Family][]string{}
		for _, f := range families {
			if all[f] {
				remotes[f] = []string{""}
				continue
			}
			set, err := rm.Set(f)
			if err != nil {
				return fmt.Errorf("rule %s: %v", rule.ID, err)
			}
			remotes[f] = prefixes(set.Ranges())
		}
		if rule.Protocol.HasPorts() {
			if err := r.portRule(hr, families, remotes); err != nil {
				return err
			}
			continue
		}
		comment := clean(generators.Provenance(rule.ID, rule.Origins), MaxComment)
		for _, f := range families {
			r.ipv6 = r.ipv6 || f == ir.IPv6
			types := []int{-1}
			if len(rule.ICMPTypes) > 0 {
				types = nil
				for _, t := range rule.ICMPTypes {
					types = append(types, int(t))
				}
			}
			for _, a := range remotes[f] {
				for _, t := range types {
					l := "-A " + chain(f, hr.Dir, "")
					if a != "" {
						side := "-s"
						if hr.Dir == ir.Out {
							side = "-d"
						}
						l += " " + side + " " + a
					}
					l += fmt.Sprintf(" %s -m comment --comment \"%s\" -j ACCEPT", icmpMatch(f, t), comment)
					r.blockLine(f, l)
				}
			}
		}
	}
	return nil
}

// portRule writes a TCP or UDP rule: its application profiles, and a ufw
// rule per profile and remote match.
func (r *renderer) portRule(hr ir.HostRule, families []ir.Family, remotes map[ir.Family][]string) error {
	rule := hr.Rule
	var specs []string // the remote part of each ufw rule, before the app
	out := hr.Dir == ir.Out
	if len(remotes[ir.IPv4]) == 1 && remotes[ir.IPv4][0] == "" && len(remotes[ir.IPv6]) == 1 && remotes[ir.IPv6][0] == "" {
		// Every address of both families: one ufw rule for both.
		if out {
			specs = append(specs, "allow out ")
		} else {
			specs = append(specs, "allow ")
		}
	} else {
		for _, f := range families {
			for _, a := range remotes[f] {
				if a == "" {
					// Every address of one family only: ufw has no
					// word for it ("any" is both), and 0.0.0.0/0 would
					// print as "any" in ufw show added.
					return fmt.Errorf("rule %s: every %s address but not every %s address", rule.ID, f, other(f))
				}
				if f == ir.IPv6 {
					r.ipv6 = true
				}
				if out {
					specs = append(specs, "allow out to "+a+" app ")
				} else {
					specs = append(specs, "allow from "+a+" to any app ")
				}
			}
		}
	}
	if len(specs) == 0 {
		// Written only when used: the remote side may be host names
		// only, left out.
		return nil
	}
	comment := clean(generators.Provenance(rule.ID, rule.Origins), MaxComment)
	for _, app := range r.app(rule) {
		for _, s := range specs {
			r.rules = append(r.rules, s+app+" comment '"+comment+"'")
		}
	}
	return nil
}

func other(f ir.Family) ir.Family {
	if f == ir.IPv4 {
		return ir.IPv6
	}
	return ir.IPv4
}

// app writes the application profiles of a TCP or UDP rule and returns
// their names: portwall-<rule ID>, and portwall-<rule ID>-2 and on when
// the ports do not fit one profile's ports field (1024 characters).
func (r *renderer) app(rule *ir.Rule) []string {
	entries := PortEntries(rule.Ports, rule.Protocol)
	var groups [][]string
	n := 0 // the length of the last group's ports value
	for _, e := range entries {
		if len(groups) == 0 || n+len("|")+len(e) > MaxValue {
			groups = append(groups, nil)
			n = -len("|")
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], e)
		n += len("|") + len(e)
	}
	prov := generators.Provenance(rule.ID, rule.Origins)
	var names []string
	for i, g := range groups {
		name := AppPrefix + rule.ID
		if i > 0 {
			name += "-" + strconv.Itoa(i+1)
		}
		if slices.Contains(r.appNames, name) {
			names = append(names, name)
			continue
		}
		r.appNames = append(r.appNames, name)
		names = append(names, name)
		fmt.Fprintf(&r.apps, "\n[%s]\ntitle=%s\ndescription=%s\nports=%s\n", name,
			clean(prov, MaxComment), clean(prov, MaxValue), strings.Join(g, "|"))
	}
	return names
}

// PortEntries writes ports as application profile entries of one
// protocol, each of at most MaxPortSlots ports (a range counting two):
// "25,465,587/tcp", "60000:61000/udp".
func PortEntries(ps ports.Set, p proto.Protocol) []string {
	var out []string
	var cur []string
	slots := 0
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.Join(cur, ",")+"/"+p.String())
			cur, slots = nil, 0
		}
	}
	for _, rg := range ps {
		s, n := strconv.Itoa(int(rg.First)), 1
		if rg.Last != rg.First {
			s, n = fmt.Sprintf("%d:%d", rg.First, rg.Last), 2
		}
		if slots+n > MaxPortSlots {
			flush()
		}
		cur = append(cur, s)
		slots += n
	}
	flush()
	return out
}

// prefixes writes address ranges as ufw addresses: an address, or a
// prefix, as many as a range needs. A prefix of every address of a
// family (0.0.0.0/0, ::/0) becomes its two halves: ufw prints it as
// "any", which means both families.
func prefixes(ranges []netipx.IPRange) []string {
	var out []string
	for _, rg := range ranges {
		for _, p := range rg.Prefixes() {
			if p.Bits() == 0 {
				lo := netip.PrefixFrom(p.Addr(), 1)
				hi := netipx.RangeOfPrefix(lo).To().Next()
				out = append(out, lo.String(), netip.PrefixFrom(hi, 1).String())
				continue
			}
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
