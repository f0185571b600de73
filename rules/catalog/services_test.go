package catalog

import (
	"slices"
	"strings"
	"testing"
)

// TestBuiltinServices: the embedded table loads, holds the services the
// documentation promises, and every entry is complete.
func TestBuiltinServices(t *testing.T) {
	t.Parallel()
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"ssh": "tcp 22", "http": "tcp 80", "https": "tcp 443", "dns": "tcp 53; udp 53", "ntp": "udp 123",
		"smtp": "tcp 25", "submission": "tcp 587", "smtps": "tcp 465", "imap": "tcp 143", "imaps": "tcp 993",
		"pop3": "tcp 110", "pop3s": "tcp 995", "ldap": "tcp 389", "ldaps": "tcp 636", "kerberos": "tcp 88; udp 88",
		"snmp": "udp 161", "syslog": "udp 514", "rdp": "tcp 3389; udp 3389", "winrm": "tcp 5985-5986",
		"mysql": "tcp 3306", "postgresql": "tcp 5432", "mssql": "tcp 1433", "nfs": "tcp 2049", "smb": "tcp 445",
		"samba": "tcp 139,445; udp 137-138", "ftp": "tcp 21", "dhcp": "udp 67",
	}
	for name, ports := range want {
		s, ok := c.Service(name)
		if !ok {
			t.Errorf("no built-in service %q", name)
			continue
		}
		if got := s.PortString(); got != ports {
			t.Errorf("%s: ports %s, want %s", name, got, ports)
		}
	}
	// Only these need what portwall cannot express; anything else marked
	// unsupported would be unusable by mistake.
	var unsupported []string
	for _, s := range c.Services {
		if s.File != EmbeddedDir+"/services.toml" || s.Title == "" || s.Row == "" || !strings.HasPrefix(s.Source.URL, "https://www.iana.org/") {
			t.Errorf("%s: file %q, title %q, row %q, source %+v", s.Name, s.File, s.Title, s.Row, s.Source)
		}
		if len(s.Ports()) == 0 {
			t.Errorf("%s: no ports", s.Name)
		}
		if len(s.Unsupported) > 0 {
			unsupported = append(unsupported, s.Name)
		}
	}
	if got := strings.Join(unsupported, " "); got != "ftp ipsec tftp" {
		t.Errorf("services with unsupported parts: %s", got)
	}
	if !slices.IsSortedFunc(c.Services, func(a, b *Service) int { return strings.Compare(a.Name, b.Name) }) {
		t.Error("services are not sorted")
	}
}

func TestServiceReplacedByCatalogDir(t *testing.T) {
	t.Parallel()
	c, err := Load("testdata/extra")
	if err != nil {
		t.Fatal(err)
	}
	ssh, _ := c.Service("ssh")
	if ssh.PortString() != "tcp 2222" || ssh.File != "testdata/extra/services.toml" || ssh.SourceLine() != "Site conventions" {
		t.Errorf("ssh not replaced: %s from %s (%s)", ssh.PortString(), ssh.File, ssh.SourceLine())
	}
	acme, ok := c.Service("acme-sync")
	if !ok || acme.PortString() != "tcp 7000-7001; udp 7000" || acme.SourceLine() != "Site conventions: sync daemon" {
		t.Errorf("acme-sync: %+v", acme)
	}
	if _, ok := c.Service("https"); !ok {
		t.Error("a services file replaced the whole built-in table")
	}
	e := c.Export()
	if len(e.Services) != len(c.Services) || e.Services[0].Name != "acme-sync" || strings.Join(e.Services[0].TCP, " ") != "7000-7001" {
		t.Errorf("export: %+v", e.Services[0])
	}
}

func TestServicesDefinedTwice(t *testing.T) {
	t.Parallel()
	_, err := Load("testdata/services-dup")
	want := `testdata/services-dup/b.toml:6:8: service "backup" is also defined in testdata/services-dup/a.toml`
	if err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
}

func TestParseServiceErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, data, want string }{
		{"product keys in a services file", `name = "x"
vendor = "v"
[[source]]
id = "s"
title = "S"
[[service]]
name = "a"
title = "A"
tcp = [1]
source = "s"
`, `s.toml:1:1: "name" is a product key, but this file has [[service]] tables: a services file holds only [[service]] and [[source]]; put products in files of their own
s.toml:2:1: "vendor" is a product key, but this file has [[service]] tables: a services file holds only [[service]] and [[source]]; put products in files of their own`},
		{"unknown key", `[[source]]
id = "iana"
title = "IANA"
[[service]]
name = "mystery"
title = "Mystery"
tcp = [1]
source = "iana"
colour = "blue"
`, `s.toml:9:1: unknown key "colour"`},
	}
	for _, c := range cases {
		_, errs := ParseFile("s.toml", []byte(c.data))
		if got := errs.Err(); got == nil || got.Error() != c.want {
			t.Errorf("%s:\n got: %v\nwant: %s", c.name, got, c.want)
		}
	}
	// Semantic errors, once the file decodes.
	data := `[[source]]
id = "iana"
title = "IANA"
[[service]]
name = "Web_Server"
tcp = [0, "90-80"]
source = "ianna"
[[service]]
name = "dup"
title = "Dup"
udp = []
source = "iana"
[[service]]
name = "dup"
title = "Dup"
tcp = [1]
source = "iana"
unsupported = [""]
[[service]]
name = "nothing"
title = "Nothing"
`
	_, errs := ParseFile("s.toml", []byte(data))
	want := strings.Join([]string{
		`s.toml:4:3: service "Web_Server" has no title`,
		`s.toml:5:8: invalid service name "Web_Server": use lower-case letters, digits and dashes, at most 40 characters`,
		`s.toml:6:8: port 0 out of range 1-65535`,
		`s.toml:6:11: reversed port range "90-80": 90 is greater than 80`,
		`s.toml:7:10: service "Web_Server": unknown source "ianna"; did you mean "iana"?`,
		`s.toml:11:1: empty port list: leave the key out instead`,
		`s.toml:14:8: duplicate service "dup"`,
		`s.toml:18:16: service "dup": empty unsupported reason: say what portwall cannot express`,
		`s.toml:19:3: service "nothing" has no source: name the [[source]] its ports come from`,
		`s.toml:19:3: service "nothing" has no tcp or udp ports`,
	}, "\n")
	if got := errs.Err(); got == nil || got.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", got, want)
	}
	if _, errs := Parse("s.toml", []byte(`[[source]]
id = "s"
title = "S"
[[service]]
name = "a"
title = "A"
tcp = [1]
source = "s"
`)); errs.Err() == nil || errs.Err().Error() != "s.toml: the file holds services, not a product" {
		t.Errorf("Parse of a services file: %v", errs.Err())
	}
}
