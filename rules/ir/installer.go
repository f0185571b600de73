package ir

import (
	"slices"

	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

// InstallerRule is a Windows Firewall rule that a deployed product's
// installer adds by itself on the deployment's hosts, as its vendor
// documents (the catalog's [[installer_rule]]). portwall emits nothing for
// it: it is what the Windows backends name, and what the PowerShell
// backend's audit looks for, since Windows Firewall lets a packet in when
// any enabled allow rule matches it. It is inbound, from every address.
type InstallerRule struct {
	Deployment, Product string
	ID, Title           string
	// Hosts are the deployment's hosts that run the installer, sorted.
	Hosts []string
	// Protocols and Ports, when set, are what the rule allows; Program,
	// when set, the full path of the program it allows (every port and
	// protocol unless Protocols and Ports narrow it).
	Protocols []proto.Protocol
	Ports     ports.Set
	Program   string
	// Source is the vendor's document and row.
	Source string
}

// What says briefly what the rule allows: "tcp 8013", or "program
// C:\...\fme.exe".
func (r *InstallerRule) What() string {
	var out string
	for i, p := range r.Protocols {
		if i > 0 {
			out += ", "
		}
		out += p.String() + " " + r.Ports.String()
	}
	if r.Program != "" {
		if out != "" {
			out += " "
		}
		out += "program " + r.Program
	}
	return out
}

// InstallerRules lists the installer rules on the view's host, in
// profile order.
func (v *HostView) InstallerRules() []*InstallerRule {
	var out []*InstallerRule
	for _, r := range v.Ruleset.Installers {
		if slices.Contains(r.Hosts, v.Host.Name) {
			out = append(out, r)
		}
	}
	return out
}
