package rules

import (
	"github.com/portwall/portwall/profiles"
	"github.com/portwall/portwall/rules/ir"
)

// AddressSets resolves every host and group of a checked profile, and
// "any", into its address set, as Resolve does for the sets its rules
// use: for a backend's section that refers to endpoints by what they
// hold, whether or not a rule uses them.
func AddressSets(p *profiles.Profile) map[string]*ir.AddrSet {
	r := &resolver{p: p, sets: map[string]*ir.AddrSet{}}
	r.addressSets()
	return r.sets
}
