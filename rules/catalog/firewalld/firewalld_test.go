package firewalld

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portwall/portwall/internal/testkit/golden"
	"github.com/portwall/portwall/internal/testkit/kerneltest"
	"github.com/portwall/portwall/rules/catalog"
)

// summary formats a converted service for comparison: its name, title,
// ports and unsupported reasons.
func summary(s Service) string {
	var b strings.Builder
	b.WriteString(s.Name + " (" + s.File + ") " + s.Title + ":")
	if len(s.TCP) > 0 {
		b.WriteString(" tcp " + s.TCP.String())
	}
	if len(s.UDP) > 0 {
		b.WriteString(" udp " + s.UDP.String())
	}
	for _, u := range s.Unsupported {
		b.WriteString("\n  unsupported: " + u)
	}
	return b.String()
}

func svc(body string) []byte {
	return []byte(`<?xml version="1.0" encoding="utf-8"?>
<service>
` + body + `
</service>
`)
}

func TestConvert(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		files map[string][]byte
		want  []string
	}{
		{"ports and ranges", map[string][]byte{"web.xml": svc(`<short> Web
  server </short><description>d</description>
<port protocol="tcp" port="443"/><port protocol="tcp" port="8000-8010"/><port protocol="udp" port="443"/><port protocol="tcp" port="444"/>`)},
			[]string{"web (web.xml) Web server: tcp 443-444,8000-8010 udp 443"}},
		{"protocols", map[string][]byte{"vpn.xml": svc(`<protocol value="gre"/><protocol value="tcp"/><port protocol="ah" port=""/><port protocol="sctp" port="3868"/><port protocol="udp" port=""/>`)},
			[]string{`vpn (vpn.xml) vpn: tcp 1-65535 udp 1-65535
  unsupported: IP protocol ah
  unsupported: IP protocol gre
  unsupported: sctp port 3868`}},
		{"source port", map[string][]byte{"llmnr-client.xml": svc(`<source-port port="5355" protocol="udp"/>`)},
			[]string{`llmnr-client (llmnr-client.xml) llmnr-client:
  unsupported: matching on source port 5355/udp`}},
		{"destination", map[string][]byte{"mdns.xml": svc(`<short>mDNS</short><port protocol="udp" port="5353"/><destination ipv4="224.0.0.251" ipv6="ff02::fb"/><destination ipv6="fe80::/64"/>`)},
			[]string{`mdns (mdns.xml) mDNS: udp 5353
  unsupported: its destination limited to 224.0.0.251 and ff02::fb
  unsupported: its destination limited to fe80::/64`}},
		{"module and helper", map[string][]byte{"ftp.xml": svc(`<port protocol="tcp" port="21"/><helper name="ftp"/><module name="nf_conntrack_ftp"/>`)},
			[]string{`ftp (ftp.xml) ftp: tcp 21
  unsupported: conntrack helper "ftp"
  unsupported: kernel module "nf_conntrack_ftp"`}},
		{"include", map[string][]byte{
			"client.xml": svc(`<port protocol="udp" port="137"/><helper name="netbios-ns"/>`),
			"server.xml": svc(`<include service="client"/><include service="web"/><port protocol="tcp" port="445"/>`),
			"web.xml":    svc(`<include service="base"/><port protocol="tcp" port="80"/>`),
			"base.xml":   svc(`<port protocol="tcp" port="22"/><include service="missing"/>`),
			"all.xml":    svc(`<include service="server"/><include service="web"/>`),
		}, []string{
			`all (all.xml) all: tcp 22,80,445 udp 137
  unsupported: conntrack helper "netbios-ns" (from included service server -> client)
  unsupported: included service "missing" (through server -> web -> base), which no file of the directory defines`,
			`base (base.xml) base: tcp 22
  unsupported: included service "missing", which no file of the directory defines`,
			`client (client.xml) client: udp 137
  unsupported: conntrack helper "netbios-ns"`,
			`server (server.xml) server: tcp 22,80,445 udp 137
  unsupported: conntrack helper "netbios-ns" (from included service client)
  unsupported: included service "missing" (through web -> base), which no file of the directory defines`,
			`web (web.xml) web: tcp 22,80
  unsupported: included service "missing" (through base), which no file of the directory defines`,
		}},
		{"include loop", map[string][]byte{
			"a.xml":    svc(`<port protocol="tcp" port="1"/><include service="b"/>`),
			"b.xml":    svc(`<port protocol="tcp" port="2"/><include service="a"/>`),
			"self.xml": svc(`<port protocol="tcp" port="3"/><include service="self"/>`),
		}, []string{
			`a (a.xml) a: tcp 1-2
  unsupported: included services that loop (a -> b -> a)`,
			`b (b.xml) b: tcp 1-2
  unsupported: included services that loop (b -> a -> b)`,
			`self (self.xml) self: tcp 3
  unsupported: included services that loop (self -> self)`,
		}},
		{"what the importer does not know", map[string][]byte{"x.xml": []byte(`<service colour="red"><port protocol="tcp" port="22" family="ipv4"/><port port="23"/><port protocol="tcp" port="ssh"/><icmp-block name="echo-request"/></service>`)},
			[]string{`x (x.xml) x: tcp 22
  unsupported: a protocol for port "23" (the file gives none)
  unsupported: tcp port "ssh" (not a port or port range)
  unsupported: what firewalld's <icmp-block> element says
  unsupported: what the attribute colour="red" of <service> says
  unsupported: what the attribute family="ipv4" of <port> says`}},
		{"empty service", map[string][]byte{"empty.xml": svc(`<short>Nothing</short>`)},
			[]string{`empty (empty.xml) Nothing:
  unsupported: some port or protocol (empty.xml defines none)`}},
		{"names", map[string][]byte{"RH-Satellite-6.xml": svc(`<port protocol="tcp" port="443"/>`), "foo_bar.baz.xml": svc(`<port protocol="tcp" port="1"/>`)},
			[]string{"foo-bar-baz (foo_bar.baz.xml) foo_bar.baz: tcp 1", "rh-satellite-6 (RH-Satellite-6.xml) RH-Satellite-6: tcp 443"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Convert("dir", c.files)
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			for _, s := range got {
				lines = append(lines, summary(s))
			}
			if g, w := strings.Join(lines, "\n"), strings.Join(c.want, "\n"); g != w {
				t.Errorf("got:\n%s\nwant:\n%s", g, w)
			}
			// Whatever the files say, the output loads.
			data, err := Encode("dir", got)
			if err != nil {
				t.Fatal(err)
			}
			if _, errs := catalog.ParseFile("out.toml", data); errs != nil {
				t.Errorf("output does not load: %v\n%s", errs.Err(), data)
			}
		})
	}
}

func TestConvertErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		files map[string][]byte
		want  string
	}{
		{"bad XML", map[string][]byte{"ok.xml": svc(`<port protocol="tcp" port="1"/>`), "bad.xml": []byte("<service>\n  <port protocol=\"tcp\" port=\"22\">\n</service>\n")},
			"dir/bad.xml:3:11: XML syntax error: element <port> closed by </service>"},
		{"not a service", map[string][]byte{"zone.xml": []byte(`<?xml version="1.0"?>` + "\n<zone><service name=\"ssh\"/></zone>")},
			"dir/zone.xml:2:7: expected element type <service> but have <zone>"},
		{"empty file", map[string][]byte{"empty.xml": nil},
			"dir/empty.xml:1:1: no <service> element"},
		{"two services", map[string][]byte{"two.xml": []byte("<service/>\n<service/>")},
			"dir/two.xml:2:11: element <service> after </service>: a file holds one service"},
		{"garbage after the service", map[string][]byte{"tail.xml": []byte("<service/>\n<port")},
			"dir/tail.xml:2:6: XML syntax error: unexpected EOF"},
		{"names that clash", map[string][]byte{"Web.xml": svc(""), "web.xml": svc("")},
			`dir/web.xml: service name "web" is also the name of dir/Web.xml: rename one of the files`},
		{"names that cannot be made valid", map[string][]byte{"___.xml": svc(""), strings.Repeat("a", 41) + ".xml": svc("")},
			`dir/___.xml: cannot name service "___" in portwall: "" is not a valid name (letters, digits and dashes, at most 40 characters); rename the file
dir/` + strings.Repeat("a", 41) + `.xml: cannot name service "` + strings.Repeat("a", 41) + `" in portwall: "` + strings.Repeat("a", 41) + `" is not a valid name (letters, digits and dashes, at most 40 characters); rename the file`},
	}
	for _, c := range cases {
		_, err := Convert("dir", c.files)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s:\n got: %v\nwant: %s", c.name, err, c.want)
		}
	}
}

// TestImportGolden converts a handful of firewalld's own service files
// (copied from firewalld 1.3.3, GPL-2.0-or-later, into testdata/services):
// plain ports, a helper (ftp), a destination (mdns), includes (samba
// includes samba-client; kube-api includes kubelet, which is not there).
func TestImportGolden(t *testing.T) {
	t.Parallel()
	files, err := ReadDir("testdata/services")
	if err != nil {
		t.Fatal(err)
	}
	services, err := Convert("testdata/services", files)
	if err != nil {
		t.Fatal(err)
	}
	data, err := Encode("testdata/services", services)
	if err != nil {
		t.Fatal(err)
	}
	golden.Compare(t, "testdata/import.toml", data)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "firewalld.toml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := catalog.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := c.Service("ssh"); s.File != filepath.Join(dir, "firewalld.toml") || s.SourceLine() != "firewalld service files in testdata/services: ssh.xml" {
		t.Errorf("ssh does not come from the import: %s (%s)", s.File, s.SourceLine())
	}
}

// TestImportEveryFirewalldService converts every service file a firewalld
// package ships, and loads the result with the catalog loader, as
// --catalog does.
func TestImportEveryFirewalldService(t *testing.T) {
	t.Parallel()
	dir := os.Getenv("PORTWALL_FIREWALLD_SERVICES")
	if dir == "" {
		dir = "/usr/lib/firewalld/services"
	}
	if _, err := os.Stat(dir); err != nil {
		kerneltest.Missing(t, "firewalld's service files are not at $PORTWALL_FIREWALLD_SERVICES or /usr/lib/firewalld/services (.ci/run installs Debian's firewalld package)")
	}
	files, err := ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	services, err := Convert(dir, files)
	if err != nil {
		t.Fatal(err)
	}
	if len(services) != len(files) {
		t.Errorf("%d files gave %d services", len(files), len(services))
	}
	full := 0
	for _, s := range services {
		if s.Full() {
			full++
		}
	}
	t.Logf("%s: %d firewalld service files: %d converted in full, %d with unsupported parts", dir, len(files), full, len(services)-full)
	data, err := Encode(dir, services)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if err := os.WriteFile(filepath.Join(out, "firewalld.toml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := catalog.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*catalog.Service{}
	for _, s := range c.Services {
		if s.File == filepath.Join(out, "firewalld.toml") {
			byName[s.Name] = s
		}
	}
	if len(byName) != len(services) {
		t.Errorf("%d services converted, %d loaded", len(services), len(byName))
	}
	// Files every firewalld release has had, with what they must become.
	for name, want := range map[string]string{"ssh": "tcp 22", "https": "tcp 443", "dns": "tcp 53; udp 53"} {
		if s, ok := byName[name]; !ok || s.PortString() != want || len(s.Unsupported) > 0 {
			t.Errorf("%s: %+v, want %s in full", name, s, want)
		}
	}
	if s, ok := byName["ftp"]; !ok || len(s.Unsupported) == 0 {
		t.Errorf("ftp has a helper, which must be unsupported: %+v", s)
	}
}
