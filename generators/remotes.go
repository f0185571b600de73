package generators

import (
	"fmt"
	"slices"
	"strings"

	"go4.org/netipx"

	"github.com/portwall/portwall/rules/ir"
)

// Remotes is the remote side of one host rule per IP family, for a
// backend that matches addresses but not host names (firewalld, ufw).
type Remotes struct {
	// Families are the families the rule matches in, in the order of
	// its matches.
	Families []ir.Family
	// All says the remote side is every address of the family.
	All map[ir.Family]bool
	ips map[ir.Family]*netipx.IPSetBuilder
}

// Set returns the remote addresses in family f: the union of the
// matched sets' addresses, which may overlap.
func (r Remotes) Set(f ir.Family) (*netipx.IPSet, error) {
	if r.ips[f] == nil {
		return &netipx.IPSet{}, nil
	}
	return r.ips[f].IPSet()
}

// HostRuleRemotes reads the matches of hr on the host v for target, whose
// profile section is named after it. A match by host name is refused
// with fqdn = "error" (appended to refused) and, with fqdn = "omit", left
// out and recorded in omitted, once per rule and set.
func HostRuleRemotes(target string, v *ir.HostView, hr ir.HostRule, fqdn ir.FQDNMode, refused *Refusals, omitted *[]Omission) Remotes {
	r := Remotes{All: map[ir.Family]bool{}, ips: map[ir.Family]*netipx.IPSetBuilder{}}
	rule := hr.Rule
	for _, m := range v.Matches(hr) {
		if len(m.RemoteFQDNs) > 0 {
			if fqdn != ir.FQDNOmit {
				*refused = append(*refused, &Refusal{Target: target, Host: v.Host.Name, Rule: rule, Set: m.Remote.Name,
					Msg: fmt.Sprintf("reaches %s by host name (%s), which %s cannot match", m.Remote.Name, strings.Join(m.RemoteFQDNs, ", "), target),
					Fix: fmt.Sprintf("bind it to address groups, or set fqdn = \"omit\" in [%s] or [defaults] to leave the names out", target)})
				continue
			}
			o := Omission{Rule: rule.ID, Set: m.Remote.Name, Names: m.RemoteFQDNs}
			if !slices.ContainsFunc(*omitted, func(x Omission) bool { return x.Rule == o.Rule && x.Set == o.Set }) {
				*omitted = append(*omitted, o)
			}
		}
		if r.ips[m.Family] == nil {
			r.ips[m.Family] = &netipx.IPSetBuilder{}
			r.Families = append(r.Families, m.Family)
		}
		r.All[m.Family] = r.All[m.Family] || m.RemoteAll
		for _, rg := range m.RemoteRanges {
			r.ips[m.Family].AddRange(rg)
		}
	}
	return r
}
