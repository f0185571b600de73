package main

import (
	"slices"
	"strings"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/fortigate"
	"github.com/portwall/portwall/generators/targets"
	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/profiles"
	"github.com/portwall/portwall/rules"
)

// declared is what a profile declares each host is generated for, and
// whether the FortiGate network view is declared (a [fortigate] section).
type declared struct {
	any     bool                              // the profile declares targets
	hosts   map[string][]generators.Generator // by host, in registry order
	network []generators.Generator
}

// declaredTargets reads the profile's declarations (targets and os, in
// [defaults] and [hosts.X]), checking each name against the backends.
func declaredTargets(p *profiles.Profile) (*declared, diag.ErrorList) {
	d := &declared{any: p.DeclaresTargets(), hosts: map[string][]generators.Generator{}}
	var errs diag.ErrorList
	resolve := func(t profiles.Targets) []generators.Generator {
		names := t.Names
		if t.OS != "" {
			names = targets.Recommended()[string(t.OS)]
		}
		var out []generators.Generator
		for i, n := range names {
			g, ok := targets.Lookup(n)
			switch {
			case !ok:
				p.Doc.Errorf(&errs, append(slices.Clone(t.Path), "targets", i), "unknown target %q%s (targets: %s)", n, diag.DidYouMean(n, targets.Names()), strings.Join(targets.Names(), ", "))
			case !g.Caps().HostView:
				p.Doc.Errorf(&errs, append(slices.Clone(t.Path), "targets", i), "target %s renders the network view, not hosts: it is declared by its own section ([%s])", n, g.Name())
			default:
				out = append(out, g)
			}
		}
		return out
	}
	def := resolve(p.Defaults.Targets)
	for name, h := range p.Hosts {
		if h.Targets.Declared() {
			d.hosts[name] = resolve(h.Targets)
		} else {
			d.hosts[name] = def
		}
	}
	if p.Table(fortigate.Section.Name()) != nil {
		g, _ := targets.Lookup("fortigate")
		d.network = append(d.network, g)
	}
	errs.Sort()
	return d, errs
}

// locate points every refusal in err at the line of the profile to
// change; other errors pass unchanged.
func locate(r *resolved, err error) error {
	refused, ok := generators.AsRefusals(err)
	if !ok || len(refused) == 0 {
		return err
	}
	at := rules.NewLocator(r.p, r.rs)
	var errs diag.ErrorList
	for _, ref := range refused {
		errs.Add(refusalPos(at, ref), "", "%s", ref.Error())
	}
	return errs.Err()
}

// refusalPos is the line a refusal is about: the set, the section key,
// the rule, the host, in that order.
func refusalPos(at *rules.Locator, ref *generators.Refusal) diag.Pos {
	switch {
	case ref.Program && ref.Rule != nil:
		return at.Program(ref.Rule)
	case ref.Set != "":
		return at.Set(ref.Set)
	case ref.Section != "":
		return at.Section(ref.Section, ref.Key...)
	case ref.Rule != nil:
		return at.Rule(ref.Rule)
	case ref.Host != "":
		return at.Host(ref.Host)
	}
	return diag.Pos{File: at.Profile().File, Line: 1, Col: 1}
}
