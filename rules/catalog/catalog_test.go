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
	if f := flow("xeams", "admin-console"); f.Internal || f.Ports.String() != "5272" || f.From != "administrators" {
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
	if f := flow("fortimail", "fortiguard-update"); !f.Alternatives || f.Ports.String() != "443,8890" || f.DefaultChoice.String() != "443" {
		t.Errorf("fortiguard update: %+v", f)
	}
	f := flow("fortimail", "fortiguard-antispam")
	if def, ok := f.Default(); !ok || def.String() != "udp 53" || f.AlternativesString() != "53 or 8888 over udp or tcp" {
		t.Errorf("fortiguard antispam: %+v, default %v", f, def)
	}
	if f := flow("fortimail", "webmail-https"); len(f.Modes) != 1 || f.Modes[0] != "server" {
		t.Errorf("webmail modes: %v", f.Modes)
	}
	if f := flow("fortimail", "ping"); len(f.Protocols) != 2 || len(f.Ports) != 0 {
		t.Errorf("ping: %+v", f)
	}
	if f := flow("fme-server", "core-dedicated"); !f.Random || !f.Ports.IsAll() || f.PortPool != "port-pool" || f.From != "web" || f.To != "core" {
		t.Errorf("fme dedicated: %+v", f)
	}
	if f := flow("fme-server", "smtp-publisher"); !f.RequireChoice {
		t.Errorf("fme SMTP publisher (25 on Windows, 7125 on Linux) must require a choice: %+v", f)
	} else if _, ok := f.Default(); ok {
		t.Error("a flow that requires a choice has a default")
	}
	// AD's RPC dynamic range: every port narrowed by an option whose
	// default is the range Windows uses; FME's pool has no default.
	ad, _ := c.Product("ad-ds")
	if f := flow("ad-ds", "member-rpc"); !f.Random || !f.Ports.IsAll() || f.PortPool != "rpc-dynamic-range" || ad.DefaultPorts(f).String() != "49152-65535" {
		t.Errorf("ad-ds RPC: %+v, by default %s", f, ad.DefaultPorts(f))
	}
	fme, _ := c.Product("fme-server")
	if f := flow("fme-server", "core-dedicated"); !fme.DefaultPorts(f).IsAll() {
		t.Errorf("fme dedicated ports by default: %s", fme.DefaultPorts(f))
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

// TestParseVersionsAndChoices: the fields of versions, departures and
// alternatives are checked, each problem at its position.
func TestParseVersionsAndChoices(t *testing.T) {
	t.Parallel()
	data := `name = "app"
title = "App"
[[source]]
id = "doc"
title = "A document"
[[version]]
name = "1.0"
title = "First"
source = "doc"
[[version]]
name = "2.0"
title = "Second"
source = "dco"
[[role]]
name = "server"
[[peer]]
name = "clients"
product = "other"
[[peer]]
name = "admins"
role = "unit"
[[feature]]
name = "web"
title = "Web"
default = true
[[flow]]
id = "web"
versions = ["1.0"]
feature = "web"
from = "clients"
to = "server"
protocols = ["tcp"]
ports = [80, 443]
alternatives = true
default_choice = [8080]
purpose = "Web"
source = "doc"
[[flow]]
id = "web"
versions = ["1.0", "3.0"]
feature = "web"
from = "clients"
to = "server"
protocols = ["udp", "tcp"]
ports = [53]
default_protocols = ["tcp"]
require_choice = true
purpose = "Web"
source = "doc"
`
	_, errs := Parse("v.toml", []byte(data))
	want := strings.Join([]string{
		`v.toml:6:3: no version is the default: mark the one the product's first document describes with default = true`,
		`v.toml:13:10: version "2.0": unknown source "dco"; did you mean "doc"?`,
		`v.toml:21:8: peer "admins": role without product: role names a role of the product the peer stands for`,
		`v.toml:35:1: flow "web": default choice 8080 is not among its alternatives 80,443`,
		`v.toml:39:6: duplicate flow "web": flow[0] has the same ID in a version this one is in too (give each a disjoint versions list)`,
		`v.toml:40:20: flow "web": unknown version "3.0"; did you mean "1.0"? (versions: 1.0, 2.0)`,
		`v.toml:46:1: flow "web": default_protocols without protocol_alternatives`,
		`v.toml:47:18: flow "web": require_choice and a default choice exclude each other`,
		`v.toml:47:18: flow "web": require_choice without alternatives or protocol_alternatives`,
	}, "\n")
	if got := errs.Err().Error(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}

	// Flows of different versions share an ID; InVersion keeps each once.
	data = strings.NewReplacer(`source = "dco"`, `source = "doc"`, `name = "1.0"`, "name = \"1.0\"\ndefault = true",
		`versions = ["1.0", "3.0"]`, `versions = ["2.0"]`, `default_choice = [8080]`, `default_choice = [443]`,
		`default_protocols = ["tcp"]`, `protocol_alternatives = true`, `role = "unit"`, "").Replace(data)
	p, errs := Parse("v.toml", []byte(data))
	if len(errs) > 0 {
		t.Fatal(errs.Err())
	}
	if p.Version != "1.0" || len(p.Flows) != 2 {
		t.Fatalf("version %q, %d flows", p.Version, len(p.Flows))
	}
	for v, want := range map[string]string{"1.0": "tcp 443", "2.0": ""} {
		flows := p.InVersion(v).Flows
		if len(flows) != 1 {
			t.Fatalf("%s: %d flows", v, len(flows))
		}
		def, ok := flows[0].Default()
		if got := def.String(); ok && got != want || !ok && want != "" {
			t.Errorf("%s: default %q (%v), want %q", v, got, ok, want)
		}
	}
	if got := p.InVersion("2.0").Flows[0].AlternativesString(); got != "53 over udp or tcp" {
		t.Errorf("alternatives %q", got)
	}
}

// TestPeerProducts: a peer that stands for a product the catalog holds
// must name one of its roles; one the catalog does not hold is left to the
// profile (a site catalog may add it).
func TestPeerProducts(t *testing.T) {
	t.Parallel()
	_, err := Load("testdata/peer-role")
	if want := `testdata/peer-role/relay.toml: product relay, peer "mailbox": product xeams has no role "sever"; did you mean "server"?`; err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
