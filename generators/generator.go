// Package generators holds what every backend shares: the request a
// backend renders, the files it returns, and the declaration of what it can
// express, checked before it renders (a backend never silently drops a
// match it cannot express, and never widens a rule).
//
// Backends are pure functions from a Request to files; only the command
// layer writes to disk.
package generators

import (
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/portwall/portwall/rules/ir"
)

// File is one output file; Name is relative to the output directory.
type File struct {
	Name     string
	Contents []byte
}

// Request asks a backend to render a ruleset.
type Request struct {
	Ruleset *ir.Ruleset
	// Hosts to render, one file each, for backends that render hosts. Empty
	// asks for the network view, for backends that have one.
	Hosts []string
	// Settings are the backends' own sections of the profile, decoded by
	// their owners (DecodeSettings); a section missing here is rendered
	// with its defaults.
	Settings Settings
}

// Generator is one backend.
type Generator interface {
	// Name is the --target name.
	Name() string
	Caps() Caps
	// Section is the backend's own section of the profile, or nil.
	Section() Section
	// Generate renders the request. It may assume Check passed.
	Generate(Request) ([]File, error)
}

// FQDNSupport says what a backend does with host names in address sets.
type FQDNSupport uint8

const (
	// FQDNNone: the backend matches addresses only.
	FQDNNone FQDNSupport = iota
	// FQDNDynamicSet: the backend can leave names to a run-time resolver
	// when the profile sets defaults.fqdn = "dynamic-set".
	FQDNDynamicSet
	// FQDNNative: the backend carries names as they are.
	FQDNNative
)

// Caps declares what a backend can express.
type Caps struct {
	// HostView: renders one file per host; NetworkView: renders the whole
	// network (gateways, exports).
	HostView, NetworkView bool
	FQDN                  FQDNSupport
	// Program: can limit a rule to one executable.
	Program bool
	// Extension of host files, such as ".nft".
	Ext string
}

// Check reports every rule of the request that the backend cannot express,
// naming the rule and why (as Refusals), so that nothing is rendered half
// right.
func Check(g Generator, req Request) error {
	caps := g.Caps()
	var refused Refusals
	rs := req.Ruleset
	if len(req.Hosts) == 0 {
		if !caps.NetworkView {
			return fmt.Errorf("target %s renders hosts: name one with --host, or use --all-hosts", g.Name())
		}
		for _, r := range rs.Rules {
			refused = append(refused, checkRule(g, caps, req, r, append(slices.Clone(r.From.Sets), r.To.Sets...), "")...)
		}
		return refused.Err()
	}
	if !caps.HostView {
		return fmt.Errorf("target %s renders the network view, not hosts: leave out --host and --all-hosts", g.Name())
	}
	for _, h := range req.Hosts {
		if !SafeName.MatchString(h) {
			return fmt.Errorf("%s: host name %q cannot name a file or go into a rule", g.Name(), h)
		}
		v, err := rs.HostView(h)
		if err != nil {
			return err
		}
		for _, hr := range v.Enforced() {
			refused = append(refused, checkRule(g, caps, req, hr.Rule, hr.Remote.Sets, h)...)
		}
	}
	return refused.Err()
}

// Generate checks req against g's capabilities (Check) and only then
// renders it: the way to render, so that no caller can render what the
// backend cannot express.
func Generate(g Generator, req Request) ([]File, error) {
	if err := Check(g, req); err != nil {
		return nil, err
	}
	return g.Generate(req)
}

// AllHosts is the request for every host of rs (generate --all-hosts):
// the hosts for a host backend, the network view (one file) for the
// others.
func AllHosts(g Generator, rs *ir.Ruleset, s Settings) Request {
	req := Request{Ruleset: rs, Settings: s}
	if g.Caps().HostView {
		req.Hosts = rs.HostNames()
	}
	return req
}

// GenerateAll renders every host of rs with each backend (AllHosts), the
// backends side by side, and returns their files in the order of gs. Every
// backend's refusal is reported.
func GenerateAll(gs []Generator, rs *ir.Ruleset, s Settings) ([][]File, error) {
	reqs := make([]Request, len(gs))
	for i, g := range gs {
		reqs[i] = AllHosts(g, rs, s)
	}
	return GenerateEach(gs, reqs)
}

// GenerateEach renders reqs[i] with gs[i], the backends side by side, and
// returns their files in the order of gs. Every backend's refusal is
// reported.
func GenerateEach(gs []Generator, reqs []Request) ([][]File, error) {
	out := make([][]File, len(gs))
	errs := make([]error, len(gs))
	var wg sync.WaitGroup
	for i, g := range gs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = Generate(g, reqs[i])
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func checkRule(g Generator, caps Caps, req Request, r *ir.Rule, sets []string, host string) Refusals {
	var out Refusals
	if r.Program != "" && !caps.Program {
		out = append(out, &Refusal{Target: g.Name(), Host: host, Rule: r,
			Msg: fmt.Sprintf("limited to the program %s, which %s cannot match", r.Program, g.Name()),
			Fix: "turn the feature off for this host, or generate a target that matches programs (netsh, powershell)"})
	}
	for _, n := range sets {
		s, ok := req.Ruleset.Set(n)
		if !ok || len(s.FQDNs) == 0 {
			continue
		}
		handling := HostNames(g, req)
		if handling == NamesMatched || handling == NamesOmitted {
			continue
		}
		where := "[defaults]"
		if sec := g.Section(); sec != nil && slices.ContainsFunc(sec.Keys(), func(k Key) bool { return k.Name == FQDNOverrideKey.Name }) {
			where = "[" + sec.Name() + "] or [defaults]"
		}
		fix := fmt.Sprintf("bind it to address groups, or set fqdn = \"omit\" in %s to leave the names out", where)
		if handling == NamesRefusedDynamic {
			fix = fmt.Sprintf("bind it to address groups, set fqdn = \"dynamic-set\" in [defaults] to fill an address set from DNS at run time, or fqdn = \"omit\" in %s to leave the names out", where)
		}
		out = append(out, &Refusal{Target: g.Name(), Host: host, Rule: r, Set: n,
			Msg: fmt.Sprintf("reaches %s by host name (%s), which %s cannot match", n, strings.Join(s.FQDNs, ", "), g.Name()), Fix: fix})
	}
	return out
}

// NameHandling is what a backend does with an address set matched by host
// names, for one profile.
type NameHandling uint8

const (
	// NamesMatched: the backend matches them (natively, or through an
	// address set filled at run time).
	NamesMatched NameHandling = iota
	// NamesOmitted: it leaves them out (fqdn = "omit"), allowing less.
	NamesOmitted
	// NamesRefused: it refuses to generate (fqdn = "error").
	NamesRefused
	// NamesRefusedDynamic: it refuses, but could fill a set at run time
	// with fqdn = "dynamic-set".
	NamesRefusedDynamic
)

// HostNames says what backend g does with host names for this request:
// from its capabilities and the fqdn mode (FQDNMode).
func HostNames(g Generator, req Request) NameHandling {
	caps, mode := g.Caps(), FQDNMode(g, req)
	switch {
	case caps.FQDN == FQDNNative, caps.FQDN == FQDNDynamicSet && mode == ir.FQDNDynamicSet:
		return NamesMatched
	case mode == ir.FQDNOmit:
		return NamesOmitted
	case caps.FQDN == FQDNDynamicSet:
		return NamesRefusedDynamic
	}
	return NamesRefused
}

// SafeName is what host and set names must look like to reach any
// backend's output or a file name. The profile checker allows less; a
// ruleset built elsewhere is refused, never mangled.
var SafeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$`)

// PerHost renders each requested host with render into <host><ext>: the
// Generate of every host backend. Hosts are rendered on all cores; the
// files come in request order. Refusals of every host are returned
// together; any other error stops at the first (in that order).
func PerHost(req Request, g Generator, render func(*ir.HostView) ([]byte, error)) ([]File, error) {
	files := make([]File, len(req.Hosts))
	errs := make([]error, len(req.Hosts))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(req.Hosts)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				h := req.Hosts[i]
				v, err := req.Ruleset.HostView(h)
				if err != nil {
					errs[i] = err
					continue
				}
				data, err := render(v)
				if _, refused := AsRefusals(err); err != nil && !refused {
					err = fmt.Errorf("%s: host %q: %w", g.Name(), h, err)
				}
				if err != nil {
					errs[i] = err
					continue
				}
				files[i] = File{Name: h + g.Caps().Ext, Contents: data}
			}
		}()
	}
	for i := range req.Hosts {
		next <- i
	}
	close(next)
	wg.Wait()
	// Refusals of every host are reported together; anything else stops
	// at the first error, in request order.
	var refused Refusals
	for _, err := range errs {
		if rs, ok := AsRefusals(err); ok {
			refused = append(refused, rs...)
		} else {
			return nil, err
		}
	}
	if len(refused) > 0 {
		return nil, refused
	}
	return files, nil
}

// Omission records what a backend left out under defaults.fqdn = "omit".
type Omission struct {
	Rule  string   // rule ID
	Set   string   // the address set whose host names were left out
	Names []string // the host names
}

func (o Omission) String() string {
	return fmt.Sprintf("rule %s: host names of %s: %s", o.Rule, o.Set, strings.Join(o.Names, " "))
}

// OriginLabels lists a rule's origins briefly, for error messages.
func OriginLabels(os []ir.Origin) string {
	labels := make([]string, len(os))
	for i := range os {
		labels[i] = os[i].Label()
	}
	return strings.Join(labels, ", ")
}
