package lint

import (
	"fmt"
	"slices"
	"strings"

	"github.com/portwall/portwall/internal/diag"
)

// installerRules warns about products whose installers add Windows
// Firewall allow rules of their own, from any address (the catalog's
// [[installer_rule]]), on hosts the profile declares for a Windows target
// whose output leaves them enabled (PW951): Windows Firewall lets a packet
// in when any enabled allow rule matches it, so the installer's rule
// widens portwall's (8013 from the office becomes 8013 from anywhere).
// One warning per deployment and host, at the deployment's product.
func (l *linter) installerRules(targets []Target) {
	type key struct{ deployment, host string }
	found, sources := map[key][]string{}, map[key][]string{}
	var order []key
	for _, r := range l.rs.Installers {
		for _, h := range r.Hosts {
			k := key{r.Deployment, h}
			if _, ok := found[k]; !ok {
				order = append(order, k)
			}
			found[k] = append(found[k], fmt.Sprintf("%s (%s)", r.ID, r.What()))
			if !slices.Contains(sources[k], r.Source) {
				sources[k] = append(sources[k], r.Source)
			}
		}
	}
	for _, k := range order {
		var leave, disable []string
		for _, t := range targets {
			if !t.Windows || !slices.Contains(t.DeclaredHosts, k.host) {
				continue
			}
			if t.DisablesForeign {
				disable = append(disable, t.Name)
			} else {
				leave = append(leave, t.Name)
			}
		}
		if len(leave) == 0 {
			continue
		}
		fix := "the PowerShell script reports such rules; set [windows] foreign_rules = \"disable\" to disable them"
		if len(disable) > 0 {
			fix = fmt.Sprintf("%s disables them ([windows] foreign_rules = \"disable\"); %s cannot", strings.Join(disable, ", "), strings.Join(leave, ", "))
		}
		l.warn(l.deploymentPos(k.deployment), "PW951", "host %s (%s): the installer adds its own inbound allow rules from any address, which Windows Firewall lets through whatever portwall allows: %s, as %s; %s",
			k.host, strings.Join(leave, ", "), strings.Join(found[k], ", "), strings.Join(sources[k], "; "), fix)
	}
}

// deploymentPos is the position of a deployment's product.
func (l *linter) deploymentPos(name string) diag.Pos {
	for _, d := range l.p.Deployments {
		if d.Name == name {
			return l.p.Doc.Pos("deployment", d.Index, "product")
		}
	}
	return diag.Pos{File: l.p.File}
}
