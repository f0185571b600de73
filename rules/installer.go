package rules

import (
	"slices"
	"strings"

	"github.com/portwall/portwall/profiles"
	"github.com/portwall/portwall/rules/catalog"
	"github.com/portwall/portwall/rules/ir"
)

// installerRules records, for a deployment, the Windows Firewall rules its
// product's installer adds by itself on the hosts bound to the roles that
// run it. Features do not matter: the installer adds them whatever the
// deployment uses.
func (r *resolver) installerRules(d *profiles.Deployment, prod *catalog.Product, options map[string]string) {
	for i := range prod.InstallerRules {
		cr := &prod.InstallerRules[i]
		var hosts []string
		for _, role := range cr.Roles {
			for _, name := range d.Roles[role] {
				if s, ok := r.sets[name]; ok {
					hosts = append(hosts, s.Hosts...)
				}
			}
		}
		slices.Sort(hosts)
		hosts = slices.Compact(hosts)
		if len(hosts) == 0 {
			continue
		}
		program := ""
		if cr.Program != "" {
			program = strings.TrimRight(options[cr.ProgramDir], `\`) + `\` + cr.Program
		}
		r.installers = append(r.installers, &ir.InstallerRule{
			Deployment: d.Name, Product: prod.Name, ID: cr.ID, Title: cr.Title, Hosts: hosts,
			Protocols: slices.Clone(cr.Protocols), Ports: cr.Ports, Program: program,
			Source: prod.InstallerSourceLine(cr),
		})
	}
}
