package profiles

import (
	"maps"
	"slices"
	"strings"

	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/internal/tomldoc"
	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

// What a deployment selects of its product beyond the plain names: changes
// to the default features, choices among alternatives, peers bound to
// another deployment's role.

// features checks a features list: plain names replace the product's
// defaults, "+name" and "-name" change them; one list does one or the
// other. Each feature once, whatever its sign.
func (c *checker) features(path keyPath, items []string) {
	names := make([]string, len(items))
	edits := 0
	for i, item := range items {
		names[i] = strings.TrimLeft(item, "+-")
		if IsFeatureEdit(item) {
			edits++
		}
		if names[i] == "" || len(item)-len(names[i]) > 1 {
			c.errorf(path.index(i), "invalid feature %q: write a feature name, or +name to add it to the product's defaults and -name to remove it", item)
		}
	}
	if edits > 0 && edits < len(items) {
		for i, item := range items {
			if !IsFeatureEdit(item) {
				c.errorf(path.index(i), "feature %q has no + or -, but other items of the list do: a list either names the features (replacing the defaults) or changes the defaults with +name and -name; write +%s", item, item)
			}
		}
	}
	c.noDuplicates(path, "feature", names)
}

// peerBindings checks the peers table: each peer bound to hosts and
// groups (a name or a list), or to another deployment's role with an
// inline table { deployment = "NAME", role = "ROLE" }.
func (c *checker) peerBindings(p *Profile, path keyPath, m map[string]any) (map[string][]string, map[string]PeerLink) {
	lists := map[string]any{}
	links := map[string]PeerLink{}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		t, isTable := m[k].(map[string]any)
		if !isTable {
			lists[k] = m[k]
			continue
		}
		var l PeerLink
		for _, key := range slices.Sorted(maps.Keys(t)) {
			s, ok := t[key].(string)
			switch {
			case key != "deployment" && key != "role":
				c.keyErrorf(path.key(k).key(key), "unknown key %q in a peer binding%s: want { deployment = \"NAME\", role = \"ROLE\" }", key, diag.DidYouMean(key, []string{"deployment", "role"}))
			case !ok:
				c.errorf(path.key(k).key(key), "%s: want a string, found %s", key, tomldoc.TypeName(t[key]))
			case key == "deployment":
				l.Deployment = s
			default:
				l.Role = s
			}
		}
		if _, has := t["deployment"]; !has {
			c.keyErrorf(path.key(k), "peer %q is bound to another deployment's role, but the table names no deployment: want { deployment = \"NAME\", role = \"ROLE\" }", k)
		}
		links[k] = l
	}
	return c.bindings(p, path, lists), links
}

// peerLinks checks that peer bindings name other deployments of the
// profile; the roles are checked against the catalog (package rules).
func (c *checker) peerLinks(p *Profile) {
	var names []string
	for _, d := range p.Deployments {
		names = append(names, d.Name)
	}
	for _, d := range p.Deployments {
		for _, k := range slices.Sorted(maps.Keys(d.PeerLinks)) {
			l := d.PeerLinks[k]
			path := keyAt("deployment").index(d.Index).key("peers").key(k).key("deployment")
			switch {
			case l.Deployment == "":
			case l.Deployment == d.Name:
				c.errorf(path, "peer %q is bound to its own deployment %q: bind it to another deployment's role, or bind the hosts", k, d.Name)
			case !slices.Contains(names, l.Deployment):
				c.errorf(path, "unknown deployment %q%s", l.Deployment, diag.DidYouMean(l.Deployment, names))
			}
		}
	}
}

// choices checks [deployment.choose]: per flow, a list of ports (numbers
// and "first-last" ranges) and protocol names, or one of them alone.
func (c *checker) choices(path keyPath, m map[string]any) map[string]Choice {
	out := map[string]Choice{}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		items, isList := m[k].([]any)
		if !isList {
			items = []any{m[k]}
		}
		if len(items) == 0 {
			c.errorf(path.key(k), "empty choice: list the ports or protocols to open")
		}
		var ch Choice
		var rs []ports.Range
		for i, x := range items {
			ip := path.key(k).index(i)
			if !isList {
				ip = path.key(k)
			}
			if s, ok := x.(string); ok && s != "" && (s[0] < '0' || s[0] > '9') {
				pr, err := proto.Parse(s)
				switch {
				case err != nil || !pr.HasPorts():
					c.errorf(ip, "invalid choice %q: want a port, a range \"first-last\" or a protocol (tcp, udp)%s", s, diag.DidYouMean(s, []string{"tcp", "udp"}))
				case slices.Contains(ch.Protocols, pr):
					c.errorf(ip, "protocol %s listed twice", pr)
				default:
					ch.Protocols = append(ch.Protocols, pr)
				}
				continue
			}
			r, err := ports.ParseValue(x)
			if err != nil {
				c.errorf(ip, "%v", err)
				continue
			}
			rs = append(rs, r)
		}
		ch.Ports = ports.NewSet(rs...)
		out[k] = ch
	}
	return out
}
