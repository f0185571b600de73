// Package iptables renders a host's rules in iptables-restore format, one
// file for IPv4 (iptables) and one for IPv6 (ip6tables).
//
// portwall's rules live in its own chains, PORTWALL-INPUT and
// PORTWALL-OUTPUT, each complete in itself: the baseline (established
// traffic, loopback, the ICMP and ICMPv6 a host needs), the flows, then
// log and drop (or reject). Two ways to load them, chosen with
// [iptables] mode in the profile:
//
//   - replace (default): `iptables-restore FILE` replaces the whole filter
//     table: policies, portwall's chains, and the jumps from INPUT and
//     OUTPUT. For hosts where portwall is the only firewall tool.
//   - noflush: `iptables-restore --noflush FILE` declares (and so flushes)
//     only portwall's chains and touches nothing else. The jumps from
//     INPUT and OUTPUT are installed once, apart (the file says how):
//     iptables-restore has no "add if missing", so a file that added the
//     jump would add it again on every reload.
package iptables

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/rules/ir"
)

// Chain names portwall owns.
const (
	InputChain  = "PORTWALL-INPUT"
	OutputChain = "PORTWALL-OUTPUT"
)

// Limits of the kernel and the tools.
const (
	// MaxComment is the xt_comment limit: 256 bytes with the final NUL.
	MaxComment = 255
	// MaxMultiport is how many ports one multiport match holds; a range
	// counts as two.
	MaxMultiport = 15
)

// Generator renders one family: iptables (IPv4) or ip6tables (IPv6).
type Generator struct {
	Family ir.Family
}

// IPv4 and IPv6 are the two registered backends.
var (
	IPv4 = Generator{Family: ir.IPv4}
	IPv6 = Generator{Family: ir.IPv6}
)

func (g Generator) Name() string {
	if g.Family == ir.IPv6 {
		return "ip6tables"
	}
	return "iptables"
}

func (g Generator) Caps() generators.Caps {
	return generators.Caps{HostView: true, FQDN: generators.FQDNNone, Ext: "." + g.Name()}
}

func (Generator) Section() generators.Section { return Section }

// Generate renders one file per requested host.
func (g Generator) Generate(req generators.Request) ([]generators.File, error) {
	s, mode := SettingsOf(req.Settings), generators.FQDNMode(g, req)
	return generators.PerHost(req, g, func(v *ir.HostView) ([]byte, error) { return render(v, g.Family, s.Mode, mode) })
}

type renderer struct {
	v       *ir.HostView
	fam     ir.Family
	fqdn    ir.FQDNMode
	omitted []generators.Omission
	safe    map[string]bool // set names found safe
}

// Hook is how noflush mode hooks one of portwall's chains into the
// built-in chain once: run Insert when Check fails. The file header
// prints them for operators, and the packet proof runs them.
type Hook struct {
	Check, Insert []string
}

// Hooks lists the hooks of family f, INPUT first.
func Hooks(f ir.Family) []Hook {
	tool := "iptables"
	if f == ir.IPv6 {
		tool = "ip6tables"
	}
	var out []Hook
	for _, c := range [][2]string{{"INPUT", InputChain}, {"OUTPUT", OutputChain}} {
		out = append(out, Hook{
			Check:  []string{tool, "-C", c[0], "-j", c[1]},
			Insert: []string{tool, "-I", c[0], "1", "-j", c[1]},
		})
	}
	return out
}

// render writes the restore file of one family for one host, loaded in
// mode, with host names handled as fqdn says.
func render(v *ir.HostView, fam ir.Family, mode Mode, fqdn ir.FQDNMode) ([]byte, error) {
	r := &renderer{v: v, fam: fam, fqdn: fqdn, safe: map[string]bool{}}
	pol := v.Ruleset.Policy
	noflush := mode == NoFlush
	egress := pol.Output == ir.OutputDrop

	in, err := r.chain(v.In, ir.In)
	if err != nil {
		return nil, err
	}
	var out []string
	if egress {
		if out, err = r.chain(v.Out, ir.Out); err != nil {
			return nil, err
		}
	}

	var b bytes.Buffer
	b.Grow(linesSize(in) + linesSize(out) + 4096) // 10,000 rules are megabytes
	r.header(&b, noflush)
	b.WriteString("*filter\n")
	if !noflush {
		outPolicy := "ACCEPT"
		if egress {
			outPolicy = "DROP"
		}
		fmt.Fprintf(&b, ":INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT %s [0:0]\n", outPolicy)
	}
	// Both chains are always declared, so that turning egress filtering
	// off empties PORTWALL-OUTPUT instead of leaving old rules in it.
	fmt.Fprintf(&b, ":%s - [0:0]\n:%s - [0:0]\n", InputChain, OutputChain)
	if !noflush {
		fmt.Fprintf(&b, "-A INPUT -j %s\n-A OUTPUT -j %s\n", InputChain, OutputChain)
	}
	for _, l := range baseline(fam, ir.In) {
		writeRule(&b, InputChain, l)
	}
	for _, l := range in {
		writeRule(&b, InputChain, l)
	}
	for _, l := range tail(fam, pol, ir.In) {
		writeRule(&b, InputChain, l)
	}
	if egress {
		for _, l := range baseline(fam, ir.Out) {
			writeRule(&b, OutputChain, l)
		}
		for _, l := range out {
			writeRule(&b, OutputChain, l)
		}
		for _, l := range tail(fam, pol, ir.Out) {
			writeRule(&b, OutputChain, l)
		}
	}
	b.WriteString("COMMIT\n")
	return b.Bytes(), nil
}

// writeRule appends "-A chain rule".
func writeRule(b *bytes.Buffer, chain, rule string) {
	b.WriteString("-A ")
	b.WriteString(chain)
	b.WriteByte(' ')
	b.WriteString(rule)
	b.WriteByte('\n')
}

// linesSize is about what the lines take in the output.
func linesSize(lines []string) int {
	n := 0
	for _, l := range lines {
		n += len(l) + len("-A PORTWALL-OUTPUT \n")
	}
	return n
}

func (r *renderer) header(b *bytes.Buffer, noflush bool) {
	v := r.v
	tool, restore := "iptables", "iptables-restore"
	if r.fam == ir.IPv6 {
		tool, restore = "ip6tables", "ip6tables-restore"
	}
	var addrs []string
	for _, a := range v.Host.Addrs {
		addrs = append(addrs, a.String())
	}
	fmt.Fprintf(b, "# portwall %s ruleset for host %s (%s), profile %s.\n", tool, commentText(v.Host.Name), strings.Join(addrs, ", "), commentText(v.Ruleset.Profile))
	if v.Host.Description != "" {
		fmt.Fprintf(b, "# %s\n", commentText(v.Host.Description))
	}
	fmt.Fprintf(b, "# Generated by portwall: do not edit, change the profile and generate again.\n#\n")
	if noflush {
		fmt.Fprintf(b, "# Mode noflush. Load with `%s --noflush FILE`: it replaces the rules of\n", restore)
		fmt.Fprintf(b, "# %s and %s and touches nothing else. Once per boot, after\n", InputChain, OutputChain)
		fmt.Fprintf(b, "# the first load, hook them in (these commands never add a second jump):\n")
		for _, h := range Hooks(r.fam) {
			fmt.Fprintf(b, "#   %s 2>/dev/null || %s\n", strings.Join(h.Check, " "), strings.Join(h.Insert, " "))
		}
		fmt.Fprintf(b, "# The chains end with their own drop, whatever the policies of INPUT and OUTPUT.\n")
	} else {
		fmt.Fprintf(b, "# Mode replace. Load with `%s FILE`: it replaces the whole filter table,\n", restore)
		fmt.Fprintf(b, "# other tools' rules included; loading it twice gives the same table.\n")
		fmt.Fprintf(b, "# Set [iptables] mode = \"noflush\" to leave other tools' rules alone.\n")
	}
	fmt.Fprintf(b, "# Every rule's comment starts with its portwall rule ID (pw:r...), then\n")
	fmt.Fprintf(b, "# product/feature: flows; `portwall catalog show PRODUCT` describes each flow.\n")
	if len(r.omitted) > 0 {
		fmt.Fprintf(b, "#\n# Left out (fqdn = \"omit\"): %s cannot match host names.\n", tool)
		for _, o := range r.omitted {
			fmt.Fprintf(b, "#   %s\n", commentText(o.String()))
		}
	}
}

// baseline keeps the host working: replies, loopback, and the ICMP (and
// for IPv6 the neighbour discovery) that networking needs. The rules
// carry comments starting "pw:base", which readers of the output check
// against this exact list.
func baseline(fam ir.Family, dir ir.Direction) []string {
	lo := "-i lo"
	if dir == ir.Out {
		lo = "-o lo"
	}
	out := []string{
		`-m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "pw:base established,related" -j ACCEPT`,
		`-m conntrack --ctstate INVALID -m comment --comment "pw:base invalid" -j DROP`,
		lo + ` -m comment --comment "pw:base loopback" -j ACCEPT`,
	}
	if fam == ir.IPv4 {
		for _, t := range []string{"destination-unreachable", "time-exceeded", "parameter-problem"} {
			out = append(out, fmt.Sprintf(`-p icmp -m icmp --icmp-type %s -m comment --comment "pw:base icmp errors" -j ACCEPT`, t))
		}
		return out
	}
	for _, t := range []string{"destination-unreachable", "packet-too-big", "time-exceeded", "parameter-problem"} {
		out = append(out, fmt.Sprintf(`-p ipv6-icmp -m icmp6 --icmpv6-type %s -m comment --comment "pw:base icmpv6 errors" -j ACCEPT`, t))
	}
	nd := []string{"router-advertisement", "neighbour-solicitation", "neighbour-advertisement"}
	if dir == ir.Out {
		nd = []string{"router-solicitation", "neighbour-solicitation", "neighbour-advertisement"}
	}
	for _, t := range nd {
		out = append(out, fmt.Sprintf(`-p ipv6-icmp -m icmp6 --icmpv6-type %s -m hl --hl-eq 255 -m comment --comment "pw:base ipv6 neighbour discovery" -j ACCEPT`, t))
	}
	if dir == ir.In {
		out = append(out, `-s fe80::/10 -p ipv6-icmp -m icmp6 --icmpv6-type 130 -m comment --comment "pw:base ipv6 multicast listener discovery" -j ACCEPT`)
	} else {
		for _, t := range []string{"131", "132", "143"} {
			out = append(out, fmt.Sprintf(`-p ipv6-icmp -m icmp6 --icmpv6-type %s -m comment --comment "pw:base ipv6 multicast listener discovery" -j ACCEPT`, t))
		}
	}
	return out
}

// tail ends a chain: log (rate limited), then drop or reject. The chain
// enforces its policy itself, so it stays closed whatever INPUT's policy.
func tail(fam ir.Family, pol ir.Policy, dir ir.Direction) []string {
	name := "input"
	if dir == ir.Out {
		name = "output"
	}
	var out []string
	if pol.LogDropped {
		out = append(out, fmt.Sprintf(`-m limit --limit 5/sec --limit-burst 10 -m comment --comment "pw:base log dropped" -j LOG --log-prefix "portwall %s drop: " --log-level 6`, name))
	}
	if dir == ir.In && pol.Input == ir.InputReject {
		unreach := "icmp-admin-prohibited"
		if fam == ir.IPv6 {
			unreach = "icmp6-adm-prohibited"
		}
		out = append(out,
			`-p tcp -m comment --comment "pw:base reject" -j REJECT --reject-with tcp-reset`,
			`-m comment --comment "pw:base reject" -j REJECT --reject-with `+unreach)
	}
	return append(out, `-m comment --comment "pw:base drop" -j DROP`)
}

// chain renders the host rules of one direction for the file's family.
func (r *renderer) chain(hrs []ir.HostRule, dir ir.Direction) ([]string, error) {
	var out []string
	for _, hr := range hrs {
		if hr.Rule.Program != "" {
			// Dropping the condition would open the ports to every process.
			return nil, fmt.Errorf("rule %s is limited to the program %s, which iptables cannot match", hr.Rule.ID, hr.Rule.Program)
		}
		if !r.fam.Carries(hr.Rule.Protocol) {
			continue
		}
		for _, n := range hr.Remote.Sets {
			if !r.safe[n] && !generators.SafeName(n) {
				return nil, fmt.Errorf("rule %s: address set name %q is not one portwall writes", hr.Rule.ID, n)
			}
			r.safe[n] = true
		}
		var chunks []generators.Chunk // the same for both families: made once
		for _, m := range r.v.Matches(hr) {
			if m.Family != r.fam {
				continue
			}
			if len(m.RemoteFQDNs) > 0 {
				if r.fqdn != ir.FQDNOmit {
					return nil, fmt.Errorf("rule %s reaches %s by host name, which iptables cannot match (set fqdn = \"omit\" in [iptables] or [defaults])", hr.Rule.ID, m.Remote.Name)
				}
				o := generators.Omission{Rule: hr.Rule.ID, Set: m.Remote.Name, Names: m.RemoteFQDNs}
				if !slices.ContainsFunc(r.omitted, func(x generators.Omission) bool { return x.Rule == o.Rule && x.Set == o.Set }) {
					r.omitted = append(r.omitted, o)
				}
			}
			if chunks == nil {
				chunks = generators.Chunks(hr.Rule, MaxComment, commentText)
			}
			out = append(out, ruleLines(dir, m, chunks, hr.Rule.Protocol)...)
		}
	}
	return out, nil
}
