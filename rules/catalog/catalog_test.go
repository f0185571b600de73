package catalog

import (
	"strings"
	"testing"
)

func TestEmbeddedCatalogLoads(t *testing.T) {
	t.Parallel()
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ad-ds", "exchange", "fme-server", "fortianalyzer", "fortiauthenticator", "forticlient-ems",
		"fortigate", "fortimail", "fortimanager", "fortisandbox", "kubernetes", "mssql", "postgresql", "xeams"}
	if got := strings.Join(c.Names(), " "); got != strings.Join(want, " ") {
		t.Fatalf("products = %s, want %v", got, want)
	}
	for _, p := range c.Products {
		if len(p.Flows) == 0 || len(p.DefaultFeatures()) == 0 {
			t.Errorf("%s: %d flows, default features %v", p.Name, len(p.Flows), p.DefaultFeatures())
		}
		// Every feature has at least one flow: a feature that opens nothing
		// would silently do nothing when a profile enables it.
		used := map[string]bool{}
		for _, f := range p.Flows {
			used[f.Feature] = true
		}
		for _, f := range p.Features {
			if !used[f.Name] {
				t.Errorf("%s: feature %q has no flow", p.Name, f.Name)
			}
		}
	}
}

// The modelling the documents call for is present, not flattened.
func TestEmbeddedCatalogModelling(t *testing.T) {
	t.Parallel()
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	flow := func(product, id string) *Flow {
		t.Helper()
		p, ok := c.Product(product)
		if !ok {
			t.Fatalf("no product %s", product)
		}
		f, ok := p.Flow(id)
		if !ok {
			t.Fatalf("no flow %s/%s", product, id)
		}
		return f
	}
	if f := flow("xeams", "admin-console"); !f.Internal || f.Ports.String() != "5272" {
		t.Errorf("xeams admin console: %+v", f)
	}
	if f := flow("xeams", "embedded-database"); !f.Internal || f.Ports.String() != "7865" {
		t.Errorf("xeams database: %+v", f)
	}
	if f := flow("xeams", "smtp-in"); f.Configurable {
		t.Error("xeams SMTP must not be configurable")
	}
	if f := flow("xeams", "imap-server"); !f.Configurable {
		t.Error("xeams IMAP must be configurable")
	}
	if f := flow("fortimail", "fortiguard-av-push"); !f.Deprecated || f.Ports.String() != "9443" {
		t.Errorf("av push: %+v", f)
	}
	if f := flow("fortimail", "fortiguard-update"); !f.Alternatives || f.Ports.String() != "443,8890" {
		t.Errorf("fortiguard update: %+v", f)
	}
	if f := flow("fortimail", "fortiguard-antispam"); !f.Alternatives || f.Ports.String() != "53,8888" || len(f.Protocols) != 2 {
		t.Errorf("fortiguard antispam: %+v", f)
	}
	if f := flow("fortimail", "webmail-https"); len(f.Modes) != 1 || f.Modes[0] != "server" {
		t.Errorf("webmail modes: %v", f.Modes)
	}
	if f := flow("fortimail", "ping"); len(f.Protocols) != 2 || len(f.Ports) != 0 {
		t.Errorf("ping: %+v", f)
	}
	if f := flow("fme-server", "core-results"); !f.Random || !f.Ports.IsAll() || f.PortPool != "port-pool" {
		t.Errorf("fme results: %+v", f)
	}
	// AD's RPC dynamic range: every port narrowed by an option whose
	// default is the range Windows uses; FME's pool has no default.
	ad, _ := c.Product("ad-ds")
	if f := flow("ad-ds", "member-rpc"); !f.Random || !f.Ports.IsAll() || f.PortPool != "rpc-dynamic-range" || ad.DefaultPorts(f).String() != "49152-65535" {
		t.Errorf("ad-ds RPC: %+v, by default %s", f, ad.DefaultPorts(f))
	}
	fme, _ := c.Product("fme-server")
	if f := flow("fme-server", "core-results"); !fme.DefaultPorts(f).IsAll() {
		t.Errorf("fme results by default: %s", fme.DefaultPorts(f))
	}
	if f := flow("exchange", "edgesync"); len(f.Modes) != 1 || f.Modes[0] != "edge" {
		t.Errorf("exchange edgesync modes: %v", f.Modes)
	}
	if f := flow("mssql", "mirroring"); !f.Alternatives || !f.Configurable || f.Ports.String() != "5022,7022" {
		t.Errorf("mssql mirroring: %+v", f)
	}
	if f := flow("kubernetes", "kube-scheduler"); !f.Internal {
		t.Errorf("kube-scheduler: %+v", f)
	}
	ems, _ := c.Product("forticlient-ems")
	peer, _ := ems.Peer("fortiguard-anycast")
	if got := strings.Join(peer.FQDNsByRegion["europe"], ","); got != "fcteuupdate.fortinet.net" {
		t.Errorf("EMS anycast europe = %s", got)
	}
	if f := flow("forticlient-ems", "endpoint-probe"); f.Protocols[0].String() != "icmp" {
		t.Errorf("EMS probe: %+v", f)
	}
}

func TestLoadExtraDirectory(t *testing.T) {
	t.Parallel()
	c, err := Load("testdata/extra")
	if err != nil {
		t.Fatal(err)
	}
	embedded, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	// acme-app is added, xeams replaced, the rest kept.
	want := append([]string{"acme-app"}, embedded.Names()...)
	if got := strings.Join(c.Names(), " "); got != strings.Join(want, " ") {
		t.Errorf("products = %s, want %v", got, want)
	}
	x, _ := c.Product("xeams")
	if x.Title != "Xeams (site catalog)" || len(x.Flows) != 1 || x.File != "testdata/extra/xeams.toml" {
		t.Errorf("xeams not replaced: %s %d %s", x.Title, len(x.Flows), x.File)
	}
}

func TestLoadReportsEveryError(t *testing.T) {
	t.Parallel()
	_, err := Load("testdata/bad")
	if err == nil {
		t.Fatal("no error")
	}
	want := strings.Join([]string{
		`testdata/bad/broken.toml:29:1: unknown key "colour"`,
	}, "\n")
	if got := err.Error(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	_, err = Load("testdata/nonexistent")
	if err == nil || err.Error() != "testdata/nonexistent: catalog directory: stat testdata/nonexistent: no such file or directory" {
		t.Errorf("got %v", err)
	}
}

func TestParseSemanticErrors(t *testing.T) {
	t.Parallel()
	data := `name = "Broken_Product"
title = "Broken"
[[source]]
id = "doc"
title = "A document"
[[role]]
name = "server"
[[peer]]
name = "clients"
[[peer]]
name = "server"
[[feature]]
name = "web"
title = "Web"
[[flow]]
id = "web"
feature = "wbe"
from = "clinets"
to = "server"
protocols = ["tcp", "icmp"]
ports = [0, "443-80"]
purpose = "Web"
source = "doc"
`
	_, errs := Parse("b.toml", []byte(data))
	want := strings.Join([]string{
		`b.toml:1:8: invalid product name "Broken_Product": use lower-case letters, digits and dashes, at most 40 characters`,
		`b.toml:11:8: duplicate role or peer "server"`,
		`b.toml:17:11: flow "web": unknown feature "wbe"; did you mean "web"?`,
		`b.toml:18:8: flow "web": unknown role or peer "clinets"; did you mean "clients"?`,
		`b.toml:20:1: flow "web" mixes ICMP with TCP/UDP: ports would not apply to every protocol; split the flow`,
		`b.toml:21:10: port 0 out of range 1-65535`,
		`b.toml:21:13: reversed port range "443-80": 443 is greater than 80`,
	}, "\n")
	if got := errs.Err().Error(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}
