package profiles

import "github.com/portwall/portwall/internal/diag"

// Binding finds where deployment dep binds role or peer label, for
// messages that answer "who may connect, and which line says so". ok is
// false when the deployment does not bind it (a peer left to the
// catalog's host names, say).
func (p *Profile) Binding(dep, label string) (kind string, pos diag.Pos, ok bool) {
	for _, d := range p.Deployments {
		if d.Name != dep {
			continue
		}
		if _, bound := d.Peers[label]; bound {
			return "peer", p.Doc.Pos("deployment", d.Index, "peers", label), true
		}
		if _, bound := d.PeerLinks[label]; bound {
			return "peer", p.Doc.KeyPos("deployment", d.Index, "peers", label), true
		}
		if _, bound := d.Roles[label]; bound {
			return "role", p.Doc.Pos("deployment", d.Index, "roles", label), true
		}
		return "", p.Doc.Pos("deployment", d.Index), false
	}
	return "", diag.Pos{File: p.File}, false
}
