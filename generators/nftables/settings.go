package nftables

import (
	"fmt"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/internal/tomldoc"
	"github.com/portwall/portwall/rules/ir"
)

// Settings is the profile's [nftables] section.
type Settings struct {
	Layout Layout
}

// Layout is how a host's rules are laid out.
type Layout string

// Layouts of a host's rules.
const (
	// LayoutReadable: one rule per flow and remote set, address groups in
	// named sets. What people read and diff.
	LayoutReadable Layout = "readable"
	// LayoutSets: the flows as elements of a few concatenated interval
	// sets (remote address . protocol . port, or remote address . ICMP
	// type), looked up by a fixed handful of rules: a new connection costs
	// one lookup per set however many flows the profile has. Each element
	// carries the comment of the rule it comes from.
	LayoutSets Layout = "sets"
	// LayoutAuto picks readable up to AutoLimit flow rules and sets
	// above.
	LayoutAuto Layout = "auto"

	// AutoLimit is the number of flow rules (per host, both chains) above
	// which auto picks the sets layout. Up to it a chain is short enough
	// to read, and walking it costs a new connection microseconds; above
	// it lookups beat walking, and nobody reads the rules one by one.
	// Loading favours sets too, though less since the readable layout
	// shares named sets for its port lists and writes one-network groups
	// inline (it took 257 s for 10,000 custom rules when every port list
	// was an anonymous set; README, Layouts).
	AutoLimit = 200
)

// Layouts lists the layouts a profile or --layout may name.
var Layouts = []Layout{LayoutAuto, LayoutReadable, LayoutSets}

// ParseLayout checks a layout name.
func ParseLayout(s string) (Layout, error) {
	for _, l := range Layouts {
		if string(l) == s {
			return l, nil
		}
	}
	return "", fmt.Errorf("invalid nftables layout %q: want \"auto\", \"readable\" or \"sets\"", s)
}

// For is the layout host v gets: l itself, or for auto the one its size
// calls for.
func (l Layout) For(v *ir.HostView) Layout {
	if l == LayoutReadable || l == LayoutSets {
		return l
	}
	// Count the rules the readable layout would write: one per remote
	// set and family (an upper bound, cheaper than rendering them).
	n := 0
	count := func(hrs []ir.HostRule) {
		for _, hr := range hrs {
			fams := 2
			if hr.Rule.Protocol.Family() != 0 {
				fams = 1
			}
			n += len(hr.Remote.Sets) * fams
		}
	}
	// The rules of v.Enforced(), without copying them.
	count(v.In)
	if v.Ruleset.Policy.Output == ir.OutputDrop {
		count(v.Out)
	}
	if n > AutoLimit {
		return LayoutSets
	}
	return LayoutReadable
}

// LayoutFlag is the command-line flag that overrides the section's layout
// for one run.
const LayoutFlag = "layout"

// Section is the [nftables] section.
var Section generators.Section = section{}

type section struct{}

func (section) Name() string { return "nftables" }

func (section) Keys() []generators.Key {
	return []generators.Key{{Name: "layout", Type: "string", Default: string(LayoutAuto), Enum: []string{string(LayoutAuto), string(LayoutReadable), string(LayoutSets)},
		Doc: fmt.Sprintf("readable: one rule per flow; sets: flows as elements of concatenated interval sets, a few rules whatever the size; auto: readable up to %d flow rules per host, sets above (--layout overrides it for one run)", AutoLimit)}}
}

func (section) Decode(t *tomldoc.Table, env generators.Env) (any, error) {
	out := Settings{Layout: LayoutAuto}
	var errs diag.ErrorList
	if t != nil {
		var f struct {
			Layout string `toml:"layout"`
		}
		if errs := t.Decode(&f); len(errs) > 0 {
			return nil, errs.Err()
		}
		if f.Layout != "" {
			l, err := ParseLayout(f.Layout)
			if err != nil {
				t.Errorf(&errs, []any{"layout"}, "%v", err)
			}
			out.Layout = l
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	if flag := env.Flag(LayoutFlag); flag != "" {
		l, err := ParseLayout(flag)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", LayoutFlag, err)
		}
		out.Layout = l
	}
	return out, nil
}

// SettingsOf returns the [nftables] settings of a request's settings.
func SettingsOf(s generators.Settings) Settings { return generators.Of[Settings](s, Section) }
