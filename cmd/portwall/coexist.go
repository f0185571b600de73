package main

import (
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"go4.org/netipx"

	"github.com/portwall/portwall/generators/iptables"
	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/internal/live"
	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

// The coexistence check: portwall's table is one of the tables on the
// namespace's input and output hooks, and netfilter runs every base chain
// on a hook. For each other base chain there, it follows sample packets
// of every flow the profile allows the host (live.Others.Judge) and says
// whether the chain lets them through. diff and apply print it; apply
// refuses when a chain drops, or may drop, what portwall allows.

// otherChain is one other base chain and what it does with the flows
// portwall allows; the JSON output's "other_chains".
type otherChain struct {
	live.OtherChain
	// Verdict: passes (every sample packet of every flow), drops (some),
	// or unknown (portwall cannot tell for some, and none is dropped).
	Verdict  live.Verdict `json:"verdict"`
	Findings []finding    `json:"findings"`
}

// finding is one flow of the profile that the chain drops (or may drop).
type finding struct {
	// ID is portwall's rule id (pw:ID in the rule's comment); Origin its
	// first origin.
	ID        string `json:"id"`
	Origin    string `json:"origin"`
	Direction string `json:"direction"` // in, out
	Protocol  string `json:"protocol"`
	Ports     string `json:"ports,omitempty"`
	Remote    string `json:"remote"` // the address sets of the other side
	// Packet is the first sample packet it drops (or cannot tell about);
	// Affected of Samples sample packets of the flow are.
	Packet   string `json:"packet"`
	Affected int    `json:"affected"`
	Samples  int    `json:"samples"`
	live.Judgement
}

// coexistence is the check's result.
type coexistence struct {
	Chains []otherChain
	// own are portwall's base chains, for the listing.
	own []live.Chain
}

// blocks lists the chains that drop (or may drop) what portwall allows.
func (c *coexistence) blocks() []otherChain {
	var out []otherChain
	for _, ch := range c.Chains {
		if ch.Verdict != live.Passes {
			out = append(out, ch)
		}
	}
	return out
}

// sampleFlow is one flow of the profile (a host rule and one of its
// matches: a family and a remote address set) with the packets that
// stand for it.
type sampleFlow struct {
	hr      ir.HostRule
	remote  string
	packets []live.Packet
}

// maxFindingLines is how many flows the text lists per chain: a table
// that drops everything would otherwise list every rule of a large
// profile.
const maxFindingLines = 10

// Bounds on the sample packets of one flow: the edges of its port ranges
// and of its remote address ranges.
const (
	samplePorts = 16
	sampleAddrs = 3
)

// outside addresses stand for "any" (and strangers), as in verify. Built on
// first use: a package-level map literal is built by every run's
// initialisation, whatever the command.
var outside = sync.OnceValue(func() map[ir.Family]netip.Addr {
	return map[ir.Family]netip.Addr{ir.IPv4: netip.MustParseAddr("203.0.113.77"), ir.IPv6: netip.MustParseAddr("2001:db8:ffff:77::77")}
})

// sampleFlows lists the flows the host's view allows, in both directions
// (outbound flows are what the host's products need, whether or not
// portwall filters egress), with their sample packets.
func sampleFlows(v *ir.HostView) []sampleFlow {
	var out []sampleFlow
	for _, hr := range append(slices.Clone(v.In), v.Out...) {
		if hr.Rule.Program != "" {
			continue // Windows only
		}
		for _, m := range v.Matches(hr) {
			self, ok := firstAddr(v.Host.Addrs, m.Family)
			if !ok {
				continue
			}
			var remotes []netip.Addr
			if m.RemoteAll {
				remotes = []netip.Addr{outside()[m.Family]}
			} else {
				remotes = rangeSamples(m.RemoteRanges)
			}
			f := sampleFlow{hr: hr, remote: m.Remote.Name}
			for _, remote := range remotes {
				for _, pk := range rulePackets(hr.Rule) {
					pk.Out = hr.Dir == ir.Out
					pk.Src, pk.Dst = remote, self
					if pk.Out {
						pk.Src, pk.Dst = self, remote
					}
					f.packets = append(f.packets, pk)
				}
			}
			if len(f.packets) > 0 {
				out = append(out, f)
			}
		}
	}
	return out
}

func firstAddr(addrs []netip.Addr, f ir.Family) (netip.Addr, bool) {
	for _, a := range addrs {
		if f.Has(a) {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// rangeSamples are the first and last address of the first range, then
// the first of the others, at most sampleAddrs.
func rangeSamples(rs []netipx.IPRange) []netip.Addr {
	var out []netip.Addr
	add := func(a netip.Addr) {
		if len(out) < sampleAddrs && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	for i, r := range rs {
		add(r.From())
		if i == 0 {
			add(r.To())
		}
	}
	return out
}

// rulePackets are a rule's packets with their protocol fields: the first
// and last port of each range (at most samplePorts), or its ICMP types
// (echo-request for every type).
func rulePackets(r *ir.Rule) []live.Packet {
	base := live.Packet{Protocol: r.Protocol, SPort: 40000}
	var out []live.Packet
	switch {
	case r.Protocol.HasPorts():
		var ps []uint16
		for _, pr := range r.Ports {
			for _, p := range []uint16{pr.First, pr.Last} {
				if !slices.Contains(ps, p) && len(ps) < samplePorts {
					ps = append(ps, p)
				}
			}
		}
		for _, p := range ps {
			pk := base
			pk.DPort = p
			out = append(out, pk)
		}
	case len(r.ICMPTypes) > 0:
		for _, t := range r.ICMPTypes {
			pk := base
			pk.ICMPType = t
			out = append(out, pk)
		}
	default:
		pk := base
		pk.ICMPType = ir.EchoRequest(r.Protocol)
		out = append(out, pk)
	}
	return out
}

// checkCoexistence judges every flow's sample packets through every other
// base chain on the namespace's input and output hooks.
func checkCoexistence(others *live.Others, v *ir.HostView, own *live.Table) *coexistence {
	c := &coexistence{}
	if own != nil {
		for _, ch := range own.Chains {
			if ch.Hook == "input" || ch.Hook == "output" {
				c.own = append(c.own, ch)
			}
		}
	}
	if len(others.Chains) == 0 {
		// Nothing to judge: the sample packets of a large profile are
		// tens of megabytes.
		return c
	}
	flows := sampleFlows(v)
	for _, ch := range others.Chains {
		oc := otherChain{OtherChain: ch, Verdict: live.Passes, Findings: []finding{}}
		// One finding per rule and direction, over its families and
		// remote sets.
		type key struct {
			id  string
			dir ir.Direction
		}
		byRule := map[key]*finding{}
		var order []key
		for _, f := range flows {
			k := key{f.hr.Rule.ID, f.hr.Dir}
			fd := byRule[k]
			for _, pk := range f.packets {
				j := others.Judge(ch, pk)
				if j.Verdict == live.Passes {
					continue
				}
				if fd == nil {
					fd = &finding{ID: f.hr.Rule.ID, Direction: string(f.hr.Dir), Protocol: f.hr.Rule.Protocol.String(),
						Remote: f.hr.Remote.String(), Packet: packetText(pk), Judgement: j}
					if f.hr.Rule.Protocol.HasPorts() {
						fd.Ports = ports.Set(f.hr.Rule.Ports).String()
					}
					if len(f.hr.Rule.Origins) > 0 {
						fd.Origin = f.hr.Rule.Origins[0].Label()
					}
					byRule[k] = fd
					order = append(order, k)
				}
				if j.Verdict == live.Drops && fd.Verdict != live.Drops {
					// A drop says more than a doubt: report the first.
					fd.Judgement, fd.Packet = j, packetText(pk)
				}
				fd.Affected++
			}
		}
		for _, f := range flows {
			if fd := byRule[key{f.hr.Rule.ID, f.hr.Dir}]; fd != nil {
				for _, pk := range f.packets {
					if ch.Sees(pk.Version()) && (ch.Hook == "output") == pk.Out {
						fd.Samples++
					}
				}
			}
		}
		for _, k := range order {
			fd := byRule[k]
			oc.Findings = append(oc.Findings, *fd)
			switch {
			case fd.Verdict == live.Drops:
				oc.Verdict = live.Drops
			case oc.Verdict == live.Passes:
				oc.Verdict = live.Unknown
			}
		}
		c.Chains = append(c.Chains, oc)
	}
	return c
}

func packetText(p live.Packet) string {
	what := fmt.Sprintf("%s/%d", p.Protocol, p.DPort)
	if p.Protocol.IsICMP() {
		what = fmt.Sprintf("%s %s", p.Protocol, proto.ICMPTypeName(p.Protocol, p.ICMPType))
	}
	return fmt.Sprintf("%s %s -> %s", what, p.Src, p.Dst)
}

// write prints the listing: every base chain on the hooks with its table,
// hook, priority and policy, what each does with portwall's flows, and
// the rule that every chain must pass, after subject ("other tables hook
// ..."). Nothing when no other table hooks input or output.
func (c *coexistence) write(w io.Writer, subject string) {
	if len(c.Chains) == 0 {
		return
	}
	fmt.Fprintf(w, "portwall: %s. A packet must pass every base chain on its hook, portwall's and theirs:\n", subject)
	fmt.Fprintf(w, "portwall: they run in priority order, lowest first; an accept ends only its own chain, a drop in any chain is final.\n")
	type line struct {
		hook     string
		priority int32
		text     string
		details  []string
	}
	var lines []line
	for _, ch := range c.own {
		lines = append(lines, line{ch.Hook, ch.Priority, fmt.Sprintf("table inet %s chain %s (%s, policy %s): portwall's", live.TableName, ch.Name, ch.Type, ch.Policy), nil})
	}
	for _, ch := range c.Chains {
		l := line{hook: ch.Hook, priority: ch.Priority}
		l.text = fmt.Sprintf("%s (%s, policy %s): ", ch.Name(), ch.Type, ch.Policy)
		switch ch.Verdict {
		case live.Passes:
			l.text += "passes what portwall allows"
		case live.Drops:
			l.text += "DROPS what portwall allows"
		default:
			l.text += "cannot tell whether it drops what portwall allows"
		}
		for i, f := range ch.Findings {
			if i == maxFindingLines {
				l.details = append(l.details, fmt.Sprintf("and %d more flows (--format json lists every one)", len(ch.Findings)-i))
				break
			}
			l.details = append(l.details, f.text())
		}
		lines = append(lines, l)
	}
	slices.SortStableFunc(lines, func(a, b line) int {
		if a.hook != b.hook {
			return strings.Compare(a.hook, b.hook)
		}
		return int(a.priority) - int(b.priority)
	})
	for _, l := range lines {
		fmt.Fprintf(w, "  %-6s priority %4d  %s\n", l.hook, l.priority, diag.Escape(l.text))
		for _, d := range l.details {
			fmt.Fprintf(w, "      %s\n", diag.Escape(d))
		}
	}
}

// text is one finding's line: the flow, one packet of it, and what
// happens to it.
func (f finding) text() string {
	side := "from"
	if f.Direction == string(ir.Out) {
		side = "to"
	}
	what := f.Protocol
	if f.Ports != "" {
		what += "/" + f.Ports
	}
	s := fmt.Sprintf("%s %s %s %s, pw:%s", f.Direction, what, side, f.Remote, f.ID)
	if f.Origin != "" {
		s += " (" + f.Origin + ")"
	}
	return s + fmt.Sprintf(": %s: %s (%d of %d sample packets)", f.Packet, f.Describe(), f.Affected, f.Samples)
}

// refusal is apply's error when other chains drop (or may drop) what
// portwall allows.
func (c *coexistence) refusal() error {
	blocks := c.blocks()
	if len(blocks) == 0 {
		return nil
	}
	var drops, unknown []string
	hints := map[string]bool{}
	var hintList []string
	for _, ch := range blocks {
		if ch.Verdict == live.Drops {
			drops = append(drops, ch.Name())
		} else {
			unknown = append(unknown, ch.Name())
		}
		if h := managerHint(ch.OtherChain); h != "" && !hints[h] {
			hints[h] = true
			hintList = append(hintList, h)
		}
	}
	var msg []string
	if len(drops) > 0 {
		msg = append(msg, strings.Join(drops, ", ")+" would drop what portwall allows (listed above)")
	}
	if len(unknown) > 0 {
		msg = append(msg, "portwall cannot tell whether "+strings.Join(unknown, ", ")+" would drop what portwall allows (listed above)")
	}
	fix := "Allow those flows in the other tables too, or remove the tables"
	if len(hintList) > 0 {
		fix = strings.Join(hintList, "; ")
	}
	force := "or apply with --force to load portwall's table anyway: what the other tables drop stays dropped"
	if len(drops) == 0 {
		fix, force = "If you know that they let those flows through", "apply with --force"
	}
	return fmt.Errorf("refusing to apply: %s; nothing was applied. %s; %s", strings.Join(msg, "; "), fix, force)
}

// managerHint recognises the tables of the usual firewall managers and
// says what works with each.
func managerHint(ch live.OtherChain) string {
	switch {
	case ch.Family == "inet" && ch.Table == "firewalld":
		return `firewalld runs here: generate portwall's firewalld output (targets = ["firewalld"], portwall generate --target firewalld) and load it into firewalld, which then opens the profile's ports itself`
	case ch.Table == "filter" && (ch.Family == "ip" || ch.Family == "ip6") && ch.Policy == "drop":
		return fmt.Sprintf(`the iptables filter table (ufw's, or iptables rules) drops what it does not allow: where ufw runs, generate portwall's ufw output (targets = ["ufw"], portwall generate --target ufw), which opens the profile's ports in ufw itself; or open the flows in that table, or use portwall's iptables output with [iptables] mode = %q, whose chains that table's INPUT and OUTPUT jump to first`, iptables.NoFlush)
	}
	return ""
}
