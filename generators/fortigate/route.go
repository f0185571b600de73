package fortigate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/zones"
	"github.com/portwall/portwall/rules/ir"
)

// buildRoutes reads the keys of fg.Interfaces into the placement of
// addresses behind interfaces (package zones, which the port document
// shares). lookup resolves a host or group key (nil: fg.KeySets); suggest
// lists the names for a misspelt one.
func buildRoutes(fg Settings, lookup zones.Lookup, suggest []string) (*zones.Map, []zones.KeyError) {
	if lookup == nil {
		lookup = func(k string) (*ir.AddrSet, bool) {
			s, ok := fg.KeySets[k]
			return s, ok
		}
	}
	return zones.Build(fg.Interfaces, lookup, suggest)
}

// Zones is where [fortigate.interfaces] places addresses: the map the
// backend writes its policies from, its host and group keys resolved from
// the profile (KeySets), else from the ruleset. Other outputs (the port
// document) show endpoints by it, so that they cannot place an address
// elsewhere than the policies do. Its keys were checked when the profile
// was read; settings built by hand are refused here, at the key.
func (fg Settings) Zones(rs *ir.Ruleset) (*zones.Map, error) {
	rt, errs := buildRoutes(fg, func(k string) (*ir.AddrSet, bool) {
		if s, ok := fg.KeySets[k]; ok {
			return s, true
		}
		if rs == nil {
			return nil, false
		}
		if s, ok := rs.Set(k); ok {
			return s, true
		}
		if h, ok := rs.Host(k); ok {
			return hostSet(h), true
		}
		return nil, false
	}, nil)
	for k, intf := range fg.Interfaces {
		if !interfaceName().MatchString(intf) {
			errs = append(errs, zones.KeyError{Key: k, Value: true, Msg: fmt.Sprintf("interface %q of %s is not a FortiOS interface or zone name", intf, k)})
		}
	}
	var refused generators.Refusals
	for _, e := range errs {
		refused = append(refused, &generators.Refusal{Target: "fortigate", Section: Section.Name(), Key: []any{"interfaces", e.Key}, Msg: e.Msg})
	}
	slices.SortFunc(refused, func(a, b *generators.Refusal) int { return strings.Compare(a.Error(), b.Error()) })
	if err := refused.Err(); err != nil {
		return nil, err
	}
	return rt, nil
}
