package catalog

import (
	"strings"
	"testing"
)

// TestInstallerRules: the embedded catalog records the installer rules
// the vendors' documents describe, with the document's row.
func TestInstallerRules(t *testing.T) {
	t.Parallel()
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range c.Products {
		for i := range p.InstallerRules {
			r := &p.InstallerRules[i]
			got = append(got, p.Name+"/"+r.ID+" roles="+strings.Join(r.Roles, ",")+" ports="+r.Ports.String()+" program="+r.Program+" | "+p.InstallerSourceLine(r))
		}
	}
	want := []string{
		`fme-server/fme-exe-allow-all roles=core,engine ports= program=Server\fme\fme.exe | FME Server documentation: Firewalls and Ports: Note: An Inbound Rule "Allow All" is created for <FMEServerInstall>\Server\fme\fme.exe on Windows machines when FME Server is installed.`,
		`forticlient-ems/telemetry-8013 roles=ems-server ports=8013 program= | FortiClient EMS Administration Guide: Required services and ports: You do not need to enable ports 8013 and 10443 as the FortiClient EMS installation opens these.`,
		`forticlient-ems/client-download-10443 roles=ems-server ports=10443 program= | FortiClient EMS Administration Guide: Required services and ports: You do not need to enable ports 8013 and 10443 as the FortiClient EMS installation opens these.`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestInstallerRuleErrors: every check of [[installer_rule]], at its
// position.
func TestInstallerRuleErrors(t *testing.T) {
	t.Parallel()
	data := `name = "p"
title = "P"
[[source]]
id = "doc"
title = "A document"
[[option]]
name = "dir"
kind = "choice"
values = ["a"]
[[role]]
name = "server"
[[installer_rule]]
id = "a"
title = "A"
roles = ["sever"]
protocols = ["icmp"]
ports = [8013]
source = "dco"
row = "the row"
[[installer_rule]]
id = "a"
roles = ["server"]
program = 'x.exe'
program_dir = "dir"
source = "doc"
[[installer_rule]]
id = "c"
title = "C"
roles = ["server"]
protocols = ["tcp"]
source = "doc"
row = "r"
`
	_, errs := Parse("i.toml", []byte(data))
	want := strings.Join([]string{
		`i.toml:15:10: installer rule "a": unknown role "sever"; did you mean "server"?`,
		`i.toml:16:14: installer rule "a": protocol icmp: only tcp and udp`,
		`i.toml:18:10: installer rule "a": unknown source "dco"`,
		`i.toml:20:3: installer rule "a" has no row: quote the document`,
		`i.toml:20:3: installer rule "a" has no title`,
		`i.toml:21:6: duplicate installer rule "a"`,
		`i.toml:24:15: installer rule "a": program_dir "dir" is not a path option of the product`,
		`i.toml:26:3: installer rule "c": give the program, or the protocols and ports, the installer allows`,
		`i.toml:26:3: installer rule "c": protocols and ports go together`,
	}, "\n")
	if got := errs.Err().Error(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}
