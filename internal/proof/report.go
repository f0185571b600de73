package proof

import (
	"fmt"
	"io"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/probe"
	"github.com/portwall/portwall/rules/proto"
)

// Counts sums up a result: probes the rules allow that got through
// (AllowedPassed) and were stopped (AllowedStopped: a rule missing from
// the output), probes the rules block that were stopped (BlockedStopped)
// and got through (BlockedPassed: the output allows more than the rules).
type Counts struct {
	AllowedPassed, AllowedStopped, BlockedStopped, BlockedPassed int
}

// Mismatches is how many probes did not do what the rules say.
func (c Counts) Mismatches() int { return c.AllowedStopped + c.BlockedPassed }

func (c Counts) String() string {
	return fmt.Sprintf("%d allowed and passed, %d blocked and stopped, %d mismatches (%d allowed but stopped, %d blocked but passed)",
		c.AllowedPassed, c.BlockedStopped, c.Mismatches(), c.AllowedStopped, c.BlockedPassed)
}

// Counts sums up the outcomes.
func (r *Result) Counts() Counts {
	var c Counts
	for i, pr := range r.Plan.Probes {
		switch passed := r.Outcomes[i].Passed; {
		case pr.Want && passed:
			c.AllowedPassed++
		case pr.Want:
			c.AllowedStopped++
		case passed:
			c.BlockedPassed++
		default:
			c.BlockedStopped++
		}
	}
	return c
}

// Mismatches lists the probes that did not do what the rules say.
func (r *Result) Mismatches() []string {
	var out []string
	for i, pr := range r.Plan.Probes {
		o := r.Outcomes[i]
		switch {
		case pr.Want && !o.Passed:
			why := "egress is not filtered"
			if len(pr.Rules) > 0 {
				why = "rule " + strings.Join(pr.Rules, ", ")
			}
			out = append(out, fmt.Sprintf("%s (%s): the rules allow it (%s), it was stopped (%s)", pr.Packet, pr.Peer, why, o.How))
		case !pr.Want && o.Passed:
			out = append(out, fmt.Sprintf("%s (%s): the rules block it, it got through", pr.Packet, pr.Peer))
		}
	}
	return out
}

// ExpectFailures lists the expectations that do not hold: the rules say
// otherwise, the packets did otherwise, or nothing could be probed.
func (r *Result) ExpectFailures() []string {
	var out []string
	for _, c := range r.Plan.Expect {
		if msg := r.expectFailure(c); msg != "" {
			out = append(out, fmt.Sprintf("%s: %s (%s): %s", c.E.Pos, c.E, direction(c.Dir), msg))
		}
	}
	return out
}

func (r *Result) expectFailure(c *probe.ExpectCheck) string {
	if c.Unprobed != "" {
		return "cannot be checked: " + c.Unprobed
	}
	var msgs []string
	for _, i := range c.Probes {
		pr, o := r.Plan.Probes[i], r.Outcomes[i]
		if pr.Want == c.E.Allow && o.Passed == c.E.Allow {
			continue
		}
		rules := "the rules block it"
		if pr.Want {
			rules = "the rules allow it"
		}
		probe := "the probe was stopped"
		if o.Passed {
			probe = "the probe got through"
		}
		msgs = append(msgs, fmt.Sprintf("%s %s %s and %s", fromTo(pr.Packet.Dir), pr.Packet.Remote, rules, probe))
	}
	return strings.Join(msgs, "; ")
}

func fromTo(d ir.Direction) string {
	if d == ir.Out {
		return "to"
	}
	return "from"
}

// Failed reports whether the proof failed: a mismatch, an expectation
// that does not hold, or IPv6 neighbour discovery broken by the rules.
func (r *Result) Failed() bool {
	return r.Counts().Mismatches() > 0 || len(r.ExpectFailures()) > 0 || r.NeighbourDiscovery != "" && !r.NDWorks && r.Plan.CanCheckND()
}

// WriteMatrix prints the result: a line per direction and peer address
// with what got through, then every mismatch and expectation. With all,
// every probe is listed on its own line first.
func (r *Result) WriteMatrix(w io.Writer, title string, all bool) {
	p := r.Plan
	var dst []string
	for _, a := range p.HostAddrs() {
		dst = append(dst, a.String())
	}
	fmt.Fprintf(w, "%s (%s): %d probes, %d peers, %d ports\n", title, strings.Join(dst, ", "), len(p.Probes), len(p.Peers), len(p.Ports))
	if !p.Outbound() {
		fmt.Fprintf(w, "  out: not probed, egress is not filtered (output accept)\n")
	}
	type key struct {
		dir    ir.Direction
		remote netip.Addr
	}
	type row struct {
		key
		peer    string
		passed  []string
		stopped int
	}
	rows := map[key]*row{}
	for i, pr := range p.Probes {
		k := key{pr.Packet.Dir, pr.Packet.Remote}
		rw := rows[k]
		if rw == nil {
			rw = &row{key: k, peer: pr.Peer}
			rows[k] = rw
		}
		if r.Outcomes[i].Passed {
			rw.passed = append(rw.passed, short(pr.Packet))
		} else {
			rw.stopped++
		}
		if all {
			fmt.Fprintf(w, "  %-40s want %-5s got %s\n", pr.Packet, verdict(pr.Want), r.Outcomes[i].How)
		}
	}
	sorted := slices.SortedFunc(maps.Values(rows), func(a, b *row) int {
		if a.dir != b.dir {
			return strings.Compare(string(a.dir), string(b.dir))
		}
		return a.remote.Compare(b.remote)
	})
	peerWidth, addrWidth := 0, 0
	for _, rw := range sorted {
		peerWidth, addrWidth = max(peerWidth, len(rw.peer)), max(addrWidth, len(rw.remote.String()))
	}
	for _, rw := range sorted {
		through := "nothing"
		if len(rw.passed) > 0 {
			through = strings.Join(rw.passed, " ")
		}
		fmt.Fprintf(w, "  %-3s %-4s %-*s %-*s  passed: %s; stopped: %d\n", rw.dir, fromTo(rw.dir), peerWidth, rw.peer, addrWidth, rw.remote, through, rw.stopped)
	}
	for _, m := range r.Mismatches() {
		fmt.Fprintf(w, "  MISMATCH %s\n", m)
	}
	for _, c := range p.Expect {
		if msg := r.expectFailure(c); msg != "" {
			fmt.Fprintf(w, "  FAILED %s: %s (%s): %s\n", c.E.Pos, c.E, direction(c.Dir), msg)
		} else {
			fmt.Fprintf(w, "  held %s: %s (%s, %s)\n", c.E.Pos, c.E, direction(c.Dir), diag.Plural(len(c.Probes), "probe"))
		}
	}
	for _, u := range p.Unprobed {
		fmt.Fprintf(w, "  not probed: %s\n", u)
	}
	for _, s := range p.Sampled {
		fmt.Fprintf(w, "  sampled: %s\n", s)
	}
	if r.NeighbourDiscovery != "" {
		fmt.Fprintf(w, "  ipv6 neighbour discovery: %s\n", r.NeighbourDiscovery)
	}
	fmt.Fprintf(w, "  %s\n", r.Counts())
}

func direction(d ir.Direction) string {
	if d == ir.Out {
		return "outbound"
	}
	return "inbound"
}

func verdict(allow bool) string {
	if allow {
		return "allow"
	}
	return "block"
}

// short names a probe's protocol and port: "tcp/25", "ping".
func short(pk ir.Packet) string {
	if pk.Protocol == proto.ICMP || pk.Protocol == proto.ICMPv6 {
		return "ping"
	}
	return pk.Protocol.String() + "/" + strconv.Itoa(int(pk.Port))
}
