package rules

import (
	"fmt"
	"strings"
	"testing"
)

// TestInstallerRulesResolved: a deployment's installer rules land on the
// hosts bound to the roles that run the installer (through groups too),
// with the program under the deployment's install directory, whatever
// features it enables.
func TestInstallerRulesResolved(t *testing.T) {
	t.Parallel()
	rs := mustResolve(t, `
[groups]
engines = ["e1", "e2"]
users = ["10.0.0.0/24"]

[hosts.web]
addresses = ["192.0.2.10"]
[hosts.core]
addresses = ["192.0.2.20"]
[hosts.e1]
addresses = ["192.0.2.31"]
[hosts.e2]
addresses = ["192.0.2.32"]
[hosts.ems]
addresses = ["192.0.2.40"]

[[deployment]]
product = "fme-server"
features = ["web-ui"]
[deployment.roles]
web = ["web"]
core = ["core"]
engine = ["engines"]
database = ["core"]
[deployment.peers]
users = ["users"]
[deployment.options]
install-dir = 'D:\FME\'

[[deployment]]
name = "ems"
product = "forticlient-ems"
features = ["web-console"]
[deployment.roles]
ems-server = ["ems"]
[deployment.peers]
administrators = ["users"]
`)
	var got []string
	for _, r := range rs.Installers {
		got = append(got, fmt.Sprintf("%s/%s %s on %s", r.Deployment, r.ID, r.What(), strings.Join(r.Hosts, ",")))
	}
	want := []string{
		`fme-server/fme-exe-allow-all program D:\FME\Server\fme\fme.exe on core,e1,e2`,
		`ems/telemetry-8013 tcp 8013 on ems`,
		`ems/client-download-10443 tcp 10443 on ems`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	v, _ := rs.HostView("web")
	if len(v.InstallerRules()) != 0 {
		t.Errorf("the web host runs no installer of these: %v", v.InstallerRules())
	}
	v, _ = rs.HostView("e2")
	if rules := v.InstallerRules(); len(rules) != 1 || rules[0].ID != "fme-exe-allow-all" {
		t.Errorf("e2: %v", rules)
	}
}
