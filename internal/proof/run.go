// Package proof proves a host's generated firewall rules with real packets.
//
// For one host it takes the plan of probes (package rules/probe, pure),
// builds a throwaway network of namespaces on this machine (a router, the
// host with the rules loaded, one namespace per peer address set), sends
// every probe, and compares what got through with what the rules say
// (Run). Nothing outside these namespaces is touched: the host's own
// ruleset is never read or changed, and every packet stays on the veth
// pairs between them.
//
// What the rules say comes from the IR, never from the generated file: the
// proof compares a backend's output with the source it was generated from.
package proof

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/portwall/portwall/internal/netns"
	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/probe"
)

// Options bound a proof's time.
type Options struct {
	// Timeout is how long a probe waits for its answer (default 250ms).
	// A probe that should get through (every probe before the rules are
	// loaded, those the rules allow after) and got no answer is sent
	// again with Retry (default 2s), so that a slow machine does not pass
	// for a dropped rule or a broken lab; a probe that got through needs
	// no second look.
	Timeout, Retry time.Duration
	// Parallel is how many probes are in flight at once (default 256).
	Parallel int
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = 250 * time.Millisecond
	}
	if o.Retry <= 0 {
		o.Retry = 2 * time.Second
	}
	if o.Parallel <= 0 {
		o.Parallel = 256
	}
	return o
}

// Result is a proof's outcome: what happened to each probe of the plan.
type Result struct {
	Plan     *probe.Plan
	Outcomes []Outcome // by probe index
	// Ceiling is how many probes got through before the rules were
	// loaded: all of them, or Run fails (a broken lab proves nothing).
	Ceiling int
	// NeighbourDiscovery says whether the router could still resolve the
	// host's IPv6 address with the rules loaded; "" when the host has no
	// IPv6 address.
	NeighbourDiscovery string
	NDWorks            bool
	Elapsed            time.Duration
}

// Run builds the lab for plan, checks that every probe gets through with
// no rules loaded, loads the rules with load, sends every probe, and
// removes the lab. A mismatch is not an error: see Result.
func Run(ctx context.Context, p *probe.Plan, load []Command, o Options) (res *Result, err error) {
	start := time.Now()
	o = o.withDefaults()
	l, err := newLab(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("build the test network: %w", err)
	}
	defer func() {
		if cerr := l.close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("remove the test network: %w", cerr))
		}
	}()
	if err := l.listen(l.host, p.HostAddrs(), p.Ports); err != nil {
		return nil, err
	}
	if p.Outbound() {
		for _, peer := range p.Peers {
			if err := l.listen(l.peers[peer.Name], peer.Addrs, p.Ports); err != nil {
				return nil, err
			}
		}
	}
	res = &Result{Plan: p}

	// The ceiling: with no rules every probe must get through, so that
	// each one stopped later was stopped by the rules.
	ceiling, err := l.sendTwice(ctx, p, o, func(int) bool { return true })
	if err != nil {
		return nil, err
	}
	var broken []string
	for i, out := range ceiling {
		if out.Passed {
			res.Ceiling++
		} else if len(broken) < 5 {
			broken = append(broken, fmt.Sprintf("%s (%s)", p.Probes[i].Packet, out.How))
		}
	}
	if res.Ceiling != len(p.Probes) {
		return nil, fmt.Errorf("the test network is broken: with no rules loaded, %d of %d probes did not get through, such as %s",
			len(p.Probes)-res.Ceiling, len(p.Probes), strings.Join(broken, "; "))
	}

	// Forget the neighbours learnt so far: neighbour discovery must work
	// under the rules.
	for _, n := range []*netns.NS{l.router, l.host} {
		if err := n.IP(ctx, []string{"neigh flush all"}); err != nil {
			return nil, err
		}
	}
	for _, c := range load {
		if c.Firewalld != nil {
			if err := l.loadFirewalld(ctx, c.Firewalld); err != nil {
				return nil, fmt.Errorf("load the rules: %w", err)
			}
			continue
		}
		if c.Ufw != nil {
			if err := l.loadUfw(ctx, c.Ufw); err != nil {
				return nil, fmt.Errorf("load the rules: %w", err)
			}
			continue
		}
		if c.Unless != nil {
			if _, err := l.host.Exec(ctx, nil, c.Unless...); err == nil {
				continue
			}
		}
		if _, err := l.host.Exec(ctx, c.Stdin, c.Argv...); err != nil {
			return nil, fmt.Errorf("load the rules: %w", err)
		}
	}
	if res.Outcomes, err = l.sendTwice(ctx, p, o, func(i int) bool { return p.Probes[i].Want }); err != nil {
		return nil, err
	}
	if err := res.neighbourDiscovery(ctx, l); err != nil {
		return nil, err
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// sendTwice sends every probe, then sends again, with the longer Retry
// timeout, those that got no answer and that retry selects.
func (l *lab) sendTwice(ctx context.Context, p *probe.Plan, o Options, retry func(int) bool) ([]Outcome, error) {
	out, err := l.sendAll(ctx, p, o, func(int) bool { return true })
	if err != nil {
		return nil, err
	}
	slow := o
	slow.Timeout = o.Retry
	again, err := l.sendAll(ctx, p, slow, func(i int) bool { return retry(i) && out[i].How == "no answer" })
	if err != nil {
		return nil, err
	}
	for i, a := range again {
		if a.How != "" {
			out[i] = a
		}
	}
	return out, nil
}

// sendAll sends the probes that pick selects, Parallel at a time, and
// returns their outcomes by probe index (zero for those not sent).
func (l *lab) sendAll(ctx context.Context, p *probe.Plan, o Options, pick func(int) bool) ([]Outcome, error) {
	out := make([]Outcome, len(p.Probes))
	errs := make([]error, len(p.Probes))
	sem := make(chan struct{}, o.Parallel)
	var wg sync.WaitGroup
	for i, pr := range p.Probes {
		if !pick(i) {
			continue
		}
		if err := ctx.Err(); err != nil {
			wg.Wait()
			return nil, err
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			out[i], errs[i] = l.send(ctx, p, pr, o.Timeout)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	return out, nil
}

// neighbourDiscovery checks that the router resolves the host's IPv6
// address with the rules loaded: the host must take in neighbour
// solicitations and send advertisements under policy drop. A datagram
// from a peer makes the router ask; whether the firewall then lets the
// datagram in does not matter.
func (r *Result) neighbourDiscovery(ctx context.Context, l *lab) error {
	p := r.Plan
	dst, ok := p.Dst[ir.IPv6]
	if !ok {
		return nil
	}
	var from *probe.Peer
	for _, peer := range p.Peers {
		if len(peer.Addrs) > 0 && peer.Addrs[len(peer.Addrs)-1].Is6() {
			from = peer
		}
	}
	if from == nil {
		r.NeighbourDiscovery = "not checked: no peer has an IPv6 address"
		return nil
	}
	src := from.Addrs[len(from.Addrs)-1]
	if err := l.router.IP(ctx, []string{"neigh flush all"}); err != nil {
		return err
	}
	if err := l.peers[from.Name].Do(func() error {
		err := udpProbe(src, dst, 9, 10*time.Millisecond)
		if err != nil && stopped(err) == "" {
			return err
		}
		return nil
	}); err != nil {
		return err
	}
	var state string
	for range 40 {
		out, err := netns.Run(ctx, nil, "ip", "-n", l.router.Name, "-6", "neigh", "show", dst.String())
		if err != nil {
			return err
		}
		state = strings.TrimSpace(out)
		for _, good := range []string{" REACHABLE", " STALE", " DELAY", " PROBE"} {
			if strings.HasSuffix(state, good) {
				r.NeighbourDiscovery, r.NDWorks = "the router resolved "+dst.String()+" under the rules", true
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if state == "" {
		state = "no entry"
	}
	r.NeighbourDiscovery = fmt.Sprintf("the router could not resolve %s under the rules (%s)", dst, state)
	return nil
}
