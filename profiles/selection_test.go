package profiles

import (
	"strings"
	"testing"
)

// TestSelection: version, random_ports, "+name"/"-name" features, choices
// of ports and protocols, and peers bound to another deployment's role are
// read as written; what needs the catalog is checked in package rules.
func TestSelection(t *testing.T) {
	t.Parallel()
	p, err := Parse("p.toml", []byte(`
[hosts.h1]
addresses = ["192.0.2.1"]
[[deployment]]
name = "mail"
product = "fortimail"
version = "7.6"
random_ports = "all"
features = ["+ha", "-ping"]
[deployment.roles]
unit = ["h1"]
[deployment.peers]
fortimanager = { deployment = "fmg", role = "unit" }
dns-servers = "h1"
[deployment.choose]
fortiguard-antispam = ["tcp", 8888]
fortiguard-update = 443
[[deployment]]
name = "fmg"
product = "fortimanager"
features = ["management"]
[deployment.roles]
unit = ["h1"]
`))
	if err != nil {
		t.Fatal(err)
	}
	d := p.Deployments[0]
	if d.Version != "7.6" || d.RandomPorts != RandomPortsAll || !d.FeatureEdits() || p.Deployments[1].FeatureEdits() {
		t.Errorf("deployment %+v", d)
	}
	if l := d.PeerLinks["fortimanager"]; l != (PeerLink{Deployment: "fmg", Role: "unit"}) || len(d.Peers) != 1 || d.Peers["dns-servers"][0] != "h1" {
		t.Errorf("peers %v, links %v", d.Peers, d.PeerLinks)
	}
	if c := d.Choose["fortiguard-antispam"]; c.String() != "tcp 8888" {
		t.Errorf("choice %v", c)
	}
	if c := d.Choose["fortiguard-update"]; c.String() != "443" || len(c.Protocols) != 0 {
		t.Errorf("choice %v", c)
	}
	if kind, pos, ok := p.Binding("mail", "fortimanager"); !ok || kind != "peer" || pos.Line != 13 {
		t.Errorf("binding %s %v %v", kind, pos, ok)
	}

	_, err = Parse("p.toml", []byte(`
[hosts.h1]
addresses = ["192.0.2.1"]
[[deployment]]
product = "fortimail"
random_ports = "some"
features = ["+ha", "ping", "++x"]
[deployment.peers]
fortimanager = { deployment = "fortimail", rol = 1 }
dns-servers = { role = "unit" }
[deployment.choose]
fortiguard-antispam = ["sctp", 0]
fortiguard-update = []
`))
	want := strings.Join([]string{
		`p.toml:6:16: invalid random_ports "some": want "all" (open every port to flows on random ports), or set the product's port pool option instead`,
		`p.toml:7:20: feature "ping" has no + or -, but other items of the list do: a list either names the features (replacing the defaults) or changes the defaults with +name and -name; write +ping`,
		`p.toml:7:28: invalid feature "++x": write a feature name, or +name to add it to the product's defaults and -name to remove it`,
		`p.toml:9:31: peer "fortimanager" is bound to its own deployment "fortimail": bind it to another deployment's role, or bind the hosts`,
		`p.toml:9:44: unknown key "rol" in a peer binding; did you mean "role"?: want { deployment = "NAME", role = "ROLE" }`,
		`p.toml:10:1: peer "dns-servers" is bound to another deployment's role, but the table names no deployment: want { deployment = "NAME", role = "ROLE" }`,
		`p.toml:12:24: invalid choice "sctp": want a port, a range "first-last" or a protocol (tcp, udp)`,
		`p.toml:12:32: port 0 out of range 1-65535`,
		`p.toml:13:1: empty choice: list the ports or protocols to open`,
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
}
