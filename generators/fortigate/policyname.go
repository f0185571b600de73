package fortigate

import (
	"fmt"
	"strings"

	"github.com/portwall/portwall/rules/ir"
)

// Policy names say what a policy is for, within FortiOS's 35 characters:
// the deployment and flow of the rule's first origin ("pw-mail-smtp-in",
// "pw-ems-telemetry"), or for a custom rule its comment ("pw-ssh-for-
// administrators"), else its sides. Policies that would share a name get
// a suffix made of what tells them apart (protocol, interfaces, "v6" for
// policy6, the part), and a short hash of their identity only when even
// that does not: a name depends on its own rule and the rules of the same
// flow, never on an unrelated one.

// policyBase is the readable name of a rule's policies before any
// suffix.
func policyBase(r *ir.Rule) string {
	if len(r.Origins) > 0 {
		switch o := r.Origins[0]; o.Kind {
		case ir.OriginFlow:
			dep := o.Deployment
			if dep == "" {
				dep = o.Product
			}
			if n := slug(dep + " " + o.Flow); n != "" {
				return Prefix + n
			}
		case ir.OriginCustom:
			if n := slug(o.Comment); n != "" {
				return Prefix + n
			}
			if o.Service != "" {
				if n := slug(o.Service + " " + strings.Join(r.From.Sets, " ") + " to " + strings.Join(r.To.Sets, " ")); n != "" {
					return Prefix + n
				}
			}
		}
	}
	if n := slug(strings.Join(r.From.Sets, " ") + " to " + strings.Join(r.To.Sets, " ")); n != "" {
		return Prefix + n
	}
	return Prefix + "rule"
}

// identity tells one policy from every other of the same profile.
func (p *policy) identity() string {
	return strings.Join([]string{p.rule.ID + p.part.suffix, p.table, strings.Join(p.srcintf, " "), strings.Join(p.dstintf, " ")}, "|")
}

// traits are what may tell policies of one base name apart, in the order
// a suffix lists them; "" where there is nothing to say.
func (p *policy) traits() []string {
	fam := ""
	if p.table == tablePolicy6 {
		fam = "v6"
	}
	return []string{p.rule.Protocol.String(), strings.Join(p.srcintf, "_"), strings.Join(p.dstintf, "_"), fam, strings.TrimPrefix(p.part.suffix, "-")}
}

// maxSuffix bounds a readable suffix: a longer one gives way to a hash.
const maxSuffix = 18

// namePolicies names the firewall policies (and policy6 entries, which
// share their names' namespace in case FortiOS checks across both).
func (b *builder) namePolicies() error {
	byBase := map[string][]*policy{}
	var bases []string
	for _, p := range b.policies {
		base := policyBase(p.rule)
		if _, ok := byBase[base]; !ok {
			bases = append(bases, base)
		}
		byBase[base] = append(byBase[base], p)
	}
	for _, base := range bases {
		ps := byBase[base]
		if len(ps) == 1 {
			ps[0].name = cutName(base, maxPolicyName)
			continue
		}
		traits := make([][]string, len(ps))
		for i, p := range ps {
			traits[i] = p.traits()
		}
		for i, p := range ps {
			var suffix []string
			for t := range traits[i] {
				if varies(traits, t) && traits[i][t] != "" {
					suffix = append(suffix, traits[i][t])
				}
			}
			p.name = withSuffix(base, strings.Join(suffix, "-"), p)
		}
	}
	// What the traits did not tell apart gets a hash of its identity.
	seen := map[string][]*policy{}
	for _, p := range b.policies {
		seen[p.name] = append(seen[p.name], p)
	}
	final := map[string]string{}
	for _, p := range b.policies {
		if len(seen[p.name]) > 1 {
			p.name = withSuffix(policyBase(p.rule), hashOf(p.identity(), 4), p)
		}
		if prev, ok := final[p.name]; ok {
			return fmt.Errorf("fortigate: policy name %s stands for both %s and %s", p.name, prev, p.identity())
		}
		final[p.name] = p.identity()
		if !safeName().MatchString(p.name) {
			return fmt.Errorf("fortigate: policy name %q has characters FortiOS names cannot safely hold", p.name)
		}
	}
	return nil
}

func varies(traits [][]string, t int) bool {
	for _, tr := range traits[1:] {
		if tr[t] != traits[0][t] {
			return true
		}
	}
	return false
}

// withSuffix fits base and suffix into a policy name; a suffix too long
// to read gives way to a hash of the policy's identity.
func withSuffix(base, suffix string, p *policy) string {
	if suffix == "" {
		return cutName(base, maxPolicyName)
	}
	if len(suffix) > maxSuffix {
		suffix = hashOf(p.identity(), 4)
	}
	return cutName(base, maxPolicyName-len(suffix)-1) + "-" + suffix
}
