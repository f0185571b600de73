package rules

import (
	"slices"

	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/profiles"
	"github.com/portwall/portwall/rules/ir"
)

// Locator finds the line of the profile that an element of its resolved
// rules comes from, so that what a backend refuses, and what lint finds,
// points at the line to change.
type Locator struct {
	p  *profiles.Profile
	rs *ir.Ruleset
}

// NewLocator locates the elements of rs, resolved from p.
func NewLocator(p *profiles.Profile, rs *ir.Ruleset) *Locator { return &Locator{p: p, rs: rs} }

// Profile is the profile the locator points into.
func (l *Locator) Profile() *profiles.Profile { return l.p }

// Origin is the line that makes an origin's rule: the custom rule, or the
// binding of the flow's side label (a role or peer), else its deployment.
func (l *Locator) Origin(o ir.Origin, label string) diag.Pos {
	if o.Kind == ir.OriginCustom {
		return l.p.Doc.Pos("allow", o.Allow)
	}
	_, pos, _ := l.p.Binding(o.Deployment, label)
	return pos
}

// Rule is where a rule comes from: its first origin's custom rule, or the
// deployment that enables the flow (its features, when it lists them).
func (l *Locator) Rule(r *ir.Rule) diag.Pos {
	if len(r.Origins) == 0 {
		return diag.Pos{File: l.p.File}
	}
	o := r.Origins[0]
	if o.Kind == ir.OriginCustom {
		return l.p.Doc.Pos("allow", o.Allow)
	}
	return l.deployment(o.Deployment, "features")
}

// Program is where the program path of a rule limited to one comes from:
// the deployment option its flow names, else the rule.
func (l *Locator) Program(r *ir.Rule) diag.Pos {
	for _, o := range r.Origins {
		if o.Kind == ir.OriginFlow && o.ProgramOption != "" {
			return l.deployment(o.Deployment, "options", o.ProgramOption)
		}
	}
	return l.Rule(r)
}

// Set is where an address set is defined: its group or host, for a peer
// left to the catalog's host names the deployment that leaves it, else
// the first rule that names it.
func (l *Locator) Set(name string) diag.Pos {
	switch l.p.Lookup(name) {
	case profiles.KindGroup:
		return l.p.Doc.KeyPos("groups", name)
	case profiles.KindHost:
		return l.p.Doc.KeyPos("hosts", name)
	}
	// Not defined by the profile: a peer left to the catalog, or a name
	// every profile has ("any"). The first rule that uses it says where
	// it comes in.
	for _, r := range l.rs.Rules {
		if !slices.Contains(r.From.Sets, name) && !slices.Contains(r.To.Sets, name) {
			continue
		}
		for _, o := range r.Origins {
			if o.Kind == ir.OriginFlow {
				return l.deployment(o.Deployment)
			}
		}
		return l.Rule(r)
	}
	return diag.Pos{File: l.p.File}
}

// Host is where a host is defined.
func (l *Locator) Host(name string) diag.Pos { return l.p.Doc.KeyPos("hosts", name) }

// Section is where a key of a top-level table (a backend's section) is,
// or the nearest table above it that the profile has; the file's first
// line when it has no such table.
func (l *Locator) Section(name string, key ...any) diag.Pos {
	// The document, not Profile.Table: a section's owner has decoded it
	// by the time a backend refuses, and Table no longer hands it out.
	path := append([]any{name}, key...)
	for n := len(path); n > 0; n-- {
		if pos := l.p.Doc.Pos(path[:n]...); pos.IsValid() {
			return pos
		}
	}
	return diag.Pos{File: l.p.File, Line: 1, Col: 1}
}

// deployment is the position of deployment name's key (or the deployment
// when it does not have the key).
func (l *Locator) deployment(name string, key ...any) diag.Pos {
	for _, d := range l.p.Deployments {
		if d.Name == name {
			return l.p.Doc.Pos(append([]any{"deployment", d.Index}, key...)...)
		}
	}
	return diag.Pos{File: l.p.File}
}
