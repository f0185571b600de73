package rules

import (
	"fmt"
	"strings"
	"testing"

	"github.com/portwall/portwall/profiles"
	"github.com/portwall/portwall/rules/catalog"
	"github.com/portwall/portwall/rules/ir"
)

func resolve(t *testing.T, profile string) (*ir.Ruleset, error) {
	t.Helper()
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	p, err := profiles.Parse("p.toml", []byte(profile))
	if err != nil {
		return nil, Check(p, err, cat)
	}
	return Resolve(p, cat)
}

func mustResolve(t *testing.T, profile string) *ir.Ruleset {
	t.Helper()
	rs, err := resolve(t, profile)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// rulesBy lists the rules with an origin of flow id, as "proto ports".
func rulesBy(rs *ir.Ruleset, flow string) []string {
	var out []string
	for _, r := range rs.Rules {
		for _, o := range r.Origins {
			if o.Flow == flow {
				out = append(out, r.Protocol.String()+" "+o.Ports.String())
			}
		}
	}
	return out
}

// decisions lists the resolver's decisions of one kind, for comparison.
func decisions(rs *ir.Ruleset, kind ir.DecisionKind) string {
	var out []string
	for _, d := range rs.Decisions {
		if d.Kind != kind {
			continue
		}
		switch kind {
		case ir.DecidedFeaturesDropped:
			out = append(out, d.Product+" -"+strings.Join(d.Features, " -")+" "+d.Opened)
		case ir.DecidedChoice:
			out = append(out, d.Product+"/"+d.Flow+" "+d.Opened+" of "+d.Among)
		default:
			out = append(out, d.Product+"/"+d.Flow+" "+d.Opened)
		}
	}
	return strings.Join(out, "; ")
}

const fortimail = `
[groups]
admins = ["10.0.0.0/24"]
internet = ["any"]
[hosts.fml1]
addresses = ["192.0.2.1"]
[hosts.fml2]
addresses = ["192.0.2.2"]
[[deployment]]
product = "fortimail"
%s
[deployment.roles]
unit = ["fml1", "fml2"]
[deployment.peers]
administrators = ["admins"]
monitoring = ["admins"]
email-servers = ["internet"]
email-users = ["admins"]
dns-servers = ["admins"]
ntp-servers = ["admins"]
protected-email-servers = ["admins"]
%s
`

func fm(deployment, more string) string {
	return strings.Replace(strings.Replace(fortimail, "%s", deployment, 1), "%s", more, 1)
}

func TestMergeKeepsEveryOrigin(t *testing.T) {
	t.Parallel()
	rs := mustResolve(t, fm(`features = ["admin-gui", "admin-ssh"]`, ""))
	if len(rs.Rules) != 1 {
		t.Fatalf("%d rules, want the GUI and SSH flows merged into 1", len(rs.Rules))
	}
	r := rs.Rules[0]
	if r.Ports.String() != "22,443" || len(r.Origins) != 2 || r.Origins[0].Flow != "admin-gui-https" || r.Origins[1].Flow != "admin-ssh" {
		t.Errorf("rule %+v", r)
	}
	if r.Origins[0].Ports.String() != "443" || r.Origins[1].Ports.String() != "22" {
		t.Errorf("origins keep their own ports: %v %v", r.Origins[0].Ports, r.Origins[1].Ports)
	}
	if !strings.HasPrefix(r.ID, "r") || len(r.ID) != 13 {
		t.Errorf("ID %q", r.ID)
	}
	again := mustResolve(t, fm(`features = ["admin-gui", "admin-ssh", "ping"]`, ""))
	for _, r2 := range again.Rules {
		if r2.Key() == r.Key() && r2.ID != r.ID {
			t.Errorf("ID changed from %s to %s when an unrelated rule was added", r.ID, r2.ID)
		}
	}
}

func TestAlternativesDeprecatedModes(t *testing.T) {
	t.Parallel()
	rs := mustResolve(t, fm(`features = ["fortiguard-updates"]`, ""))
	if got := strings.Join(rulesBy(rs, "fortiguard-update"), "|"); got != "tcp 443" {
		t.Errorf("default opens the catalog's choice, not every alternative: %s", got)
	}
	if got := rulesBy(rs, "fortiguard-av-push"); got != nil {
		t.Errorf("deprecated flow emitted without being asked for: %v", got)
	}
	rs = mustResolve(t, fm(`features = ["fortiguard-updates"]
deprecated = ["fortiguard-av-push"]`, `[deployment.choose]
fortiguard-update = [8890]`))
	if got := strings.Join(rulesBy(rs, "fortiguard-update"), "|"); got != "tcp 8890" {
		t.Errorf("choice: %s", got)
	}
	if got := strings.Join(rulesBy(rs, "fortiguard-av-push"), "|"); got != "udp 9443" {
		t.Errorf("named deprecated flow: %s", got)
	}
	rs = mustResolve(t, fm(`features = ["webmail", "pop3"]`, ""))
	if len(rs.Rules) != 0 {
		t.Errorf("server-mode flows in the default gateway mode: %d rules", len(rs.Rules))
	}
	rs = mustResolve(t, fm(`mode = "server"
features = ["webmail", "pop3"]`, ""))
	if got := strings.Join(append(rulesBy(rs, "webmail-https"), rulesBy(rs, "pop3")...), "|"); got != "tcp 443|tcp 110" {
		t.Errorf("server mode: %s", got)
	}
}

func TestPeerHostNamesByRegion(t *testing.T) {
	t.Parallel()
	rs := mustResolve(t, fm(`features = ["fortiguard-antispam"]`, `[deployment.options]
fortiguard-region = "us"`))
	s, ok := rs.Set("fortimail.fortiguard")
	if !ok || s.Kind != ir.SetCatalogFQDN || strings.Join(s.FQDNs, " ") != "securewf.fortiguard.net update.fortiguard.net usservice.fortiguard.net" {
		t.Errorf("set %+v", s)
	}
}

func TestRandomPortsAndPool(t *testing.T) {
	t.Parallel()
	const fme = `
[hosts.web]
addresses = ["192.0.2.10"]
[hosts.core]
addresses = ["192.0.2.20"]
[[deployment]]
product = "fme-server"
features = ["core-api"]
[deployment.roles]
web = ["web"]
core = ["core"]
%s`
	// Without a pool, the profile must say that every port is meant.
	_, err := resolve(t, strings.Replace(fme, "%s", "", 1))
	if want := `p.toml:7:11: flow core-dedicated of product fme-server uses randomly assigned ports: set the option port-pool (FME_SERVER_PORT_POOL: the range FME draws its randomly assigned ports from, e.g. 7100-7150) under [deployment.options], or write random_ports = "all" to open every port to them`; err == nil || err.Error() != want {
		t.Errorf("without a pool:\n got %v\nwant %s", err, want)
	}
	rs := mustResolve(t, strings.Replace(strings.Replace(fme, "%s", "", 1), `features = ["core-api"]`, `features = ["core-api"]`+"\nrandom_ports = \"all\"", 1))
	if got := strings.Join(rulesBy(rs, "core-dedicated"), "|"); got != "tcp 1-65535" {
		t.Errorf("random_ports = all: %s", got)
	}
	if got := decisions(rs, ir.DecidedRandomAll); got != "fme-server/core-dedicated tcp 1-65535" {
		t.Errorf("every port opened without a record for lint: %s", got)
	}
	rs = mustResolve(t, strings.Replace(fme, "%s", "[deployment.options]\nport-pool = \"7100-7150\"", 1))
	if got := strings.Join(rulesBy(rs, "core-dedicated"), "|"); got != "tcp 7100-7150" {
		t.Errorf("with a pool: %s", got)
	}
	if got := decisions(rs, ir.DecidedRandomAll); got != "" {
		t.Errorf("decisions with a pool: %s", got)
	}
	_, err = resolve(t, strings.Replace(strings.Replace(fme, "%s", "[deployment.options]\nport-pool = \"7100-7150\"", 1), `features = ["core-api"]`, `features = ["core-api"]`+"\nrandom_ports = \"all\"", 1))
	if want := `p.toml:9:16: random_ports = "all" opens nothing: no enabled flow of product fme-server is left on random ports without a port pool; remove it`; err == nil || err.Error() != want {
		t.Errorf("random_ports with a pool:\n got %v\nwant %s", err, want)
	}
}

func TestInternalFlowsAreNeverOpened(t *testing.T) {
	t.Parallel()
	rs := mustResolve(t, `
[groups]
internet = ["any"]
[hosts.x1]
addresses = ["192.0.2.1"]
[[deployment]]
product = "xeams"
features = ["smtp", "embedded-database"]
[deployment.roles]
server = ["x1"]
[deployment.peers]
email-servers = ["internet"]
`)
	for _, r := range rs.Rules {
		if r.Ports.Contains(7865) {
			t.Errorf("internal port opened: %+v", r)
		}
	}
	var internal []string
	for _, f := range rs.Internal {
		internal = append(internal, f.Origin.Flow)
	}
	if strings.Join(internal, " ") != "embedded-database" {
		t.Errorf("internal flows %v", internal)
	}
}

// Addresses never pull a rule onto a host: only names do.
func TestHostViewByNameOnly(t *testing.T) {
	t.Parallel()
	rs := mustResolve(t, `
[groups]
internet = ["any"]
dmz = ["192.0.2.0/24"]
[hosts.x1]
addresses = ["192.0.2.1"]
[hosts.store]
addresses = ["192.0.2.9"]
[[deployment]]
product = "xeams"
features = ["smtp", "pop3-fetcher"]
[deployment.roles]
server = ["x1"]
[deployment.peers]
email-servers = ["internet"]
pop3-servers = ["store"]
[[allow]]
from = "any"
to = "dmz"
protocol = "tcp"
ports = [22]
`)
	v, err := rs.HostView("store")
	if err != nil {
		t.Fatal(err)
	}
	var in []string
	for _, hr := range v.In {
		in = append(in, hr.Rule.Origins[0].Label())
	}
	// The POP3 fetcher names store as its peer: store gets the inbound rule.
	// SMTP to "any" and SSH to the dmz network name neither host.
	if strings.Join(in, " ") != "xeams/pop3-fetcher/pop3-fetcher" {
		t.Errorf("store inbound: %v", in)
	}
	x, _ := rs.HostView("x1")
	if len(x.In) != 1 || len(x.Out) != 2 {
		t.Errorf("x1: %d in, %d out", len(x.In), len(x.Out))
	}
}

func TestCatalogErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, profile, want string }{
		{"choice outside the alternatives", fm(`features = ["fortiguard-updates"]`, "[deployment.choose]\nfortiguard-update = [22]"),
			`p.toml:23:1: flow "fortiguard-update": 22 is not among its alternatives 443,8890`},
		{"choice on a flow without alternatives", fm(`features = ["smtp"]`, "[deployment.choose]\nsmtp-in = [25]"),
			`p.toml:23:1: flow "smtp-in" of product fortimail has no alternatives to choose from`},
		{"deprecated flow of a disabled feature", fm(`features = ["smtp"]
deprecated = ["fortiguard-av-push"]`, ""),
			`p.toml:12:15: deprecated flow "fortiguard-av-push" belongs to feature "fortiguard-updates", which this deployment does not enable`},
		{"deprecated names a current flow", fm(`features = ["smtp"]
deprecated = ["smtp-in"]`, ""),
			`p.toml:12:15: flow "smtp-in" of product fortimail is not deprecated; enable its feature "smtp" instead`},
		{"override of a disabled flow", fm(`features = ["smtp"]`, "[deployment.ports]\nadmin-gui-https = [8443]"),
			`p.toml:23:1: flow "admin-gui-https" belongs to feature "admin-gui", which this deployment does not enable`},
		{"unknown mode", fm(`mode = "sever"`, ""),
			`p.toml:11:8: unknown mode "sever" of product fortimail; did you mean "server"? (modes: gateway, transparent, server)`},
		{"unknown option", fm(`features = ["smtp"]`, "[deployment.options]\nregion = \"us\""),
			`p.toml:23:1: unknown option "region" of product fortimail; did you mean "fortiguard-region"?`},
		{"bad option value", fm(`features = ["smtp"]`, "[deployment.options]\nfortiguard-region = \"europe\""),
			`p.toml:23:21: invalid value "europe" for option fortiguard-region: want one of global, us`},
		{"peer bound as a role", strings.Replace(fm(`features = ["smtp"]`, ""), `unit = ["fml1", "fml2"]`, "unit = [\"fml1\"]\nfortiguard = [\"admins\"]", 1),
			`p.toml:14:1: unknown role "fortiguard" of product fortimail; it is a peer: bind it under peers`},
	}
	for _, c := range cases {
		_, err := resolve(t, c.profile)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s:\n got: %v\nwant: %s", c.name, err, c.want)
		}
	}
}

func TestRegionWithoutServers(t *testing.T) {
	t.Parallel()
	_, err := resolve(t, `
[hosts.ems1]
addresses = ["192.0.2.1"]
[[deployment]]
product = "forticlient-ems"
features = ["fortiguard-legacy"]
[deployment.roles]
ems-server = ["ems1"]
[deployment.options]
fortiguard-region = "europe"
`)
	want := `p.toml:10:21: peer "fortiguard-legacy" of product forticlient-ems has no servers for fortiguard-region "europe" (flow fortiguard-legacy); choose another region or bind the peer under [deployment.peers]`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

// TestExpectations: [[expect]] entries are resolved with their positions,
// every problem is reported with one, and an expectation must be about a
// host of the profile.
func TestExpectations(t *testing.T) {
	t.Parallel()
	const base = `
[groups]
office = ["192.0.2.0/24"]
servers = ["mail1"]
internet = ["any"]
[hosts.mail1]
addresses = ["192.0.2.25"]
[[allow]]
from = "office"
to = "mail1"
protocol = "tcp"
ports = 993
`
	rs := mustResolve(t, base+`
[[expect]]
from = "office"
to = "servers"
protocol = "tcp"
port = 993
verdict = "allow"
[[expect]]
from = "internet"
to = "mail1"
protocol = "icmp"
verdict = "deny"
comment = "no ping from outside"
`)
	var got []string
	for _, e := range rs.Expect {
		in, out := rs.Concerns(e, "mail1")
		got = append(got, fmt.Sprintf("%s %s in=%v out=%v", e.Pos, e, in, out))
	}
	want := []string{
		"p.toml:14:3 expect[0] tcp/993 from office to servers: allow in=true out=false",
		"p.toml:20:3 expect[1] icmp echo-request from internet to mail1: deny in=true out=false",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, ok := rs.Set("servers"); !ok {
		t.Error("a set only an expectation uses is missing from the ruleset")
	}

	_, err := resolve(t, base+`
[[expect]]
from = "ofice"
to = "mail1"
protocol = "tcp"
verdict = "allow"
[[expect]]
from = "office"
to = "internet"
protocol = "udp"
port = 70000
verdict = "maybe"
[[expect]]
from = "office"
to = "mail1"
protocol = "icmpv6"
port = 1
[[expect]]
from = "office"
to = "internet"
protocol = "tcp"
port = 25
verdict = "deny"
`)
	wantErr := strings.Join([]string{
		`p.toml:14:3: expectation for tcp has no port`,
		`p.toml:15:8: unknown host or group "ofice"; did you mean "office"?`,
		`p.toml:19:3: expectation from "office" to "internet" names no host of the profile: verify proves expectations on the hosts' own rules, so one side must be a host or a group that lists one`,
		`p.toml:23:8: port 70000 out of range 1-65535`,
		`p.toml:24:11: invalid verdict "maybe": want "allow" or "deny"`,
		`p.toml:25:3: expectation has no verdict ("allow" or "deny")`,
		`p.toml:29:8: ICMP has no ports: an icmpv6 expectation is about ping (echo request)`,
		`p.toml:30:3: expectation from "office" to "internet" names no host of the profile: verify proves expectations on the hosts' own rules, so one side must be a host or a group that lists one`,
	}, "\n")
	if err == nil || err.Error() != wantErr {
		t.Errorf("got:\n%v\nwant:\n%s", err, wantErr)
	}
	_, err = resolve(t, base+`
[[expect]]
from = "office"
to = "internet"
protocol = "tcp"
port = 25
verdict = "deny"
`)
	if want := `p.toml:14:3: expectation from "office" to "internet" names no host of the profile: verify proves expectations on the hosts' own rules, so one side must be a host or a group that lists one`; err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
}

// TestAllowService: a custom rule naming services opens each service's
// ports, with origins that name the service; unknown services and services
// portwall cannot express in full are errors at their position.
func TestAllowService(t *testing.T) {
	t.Parallel()
	const base = `
[groups]
admins = ["10.0.0.0/24"]
[hosts.h1]
addresses = ["192.0.2.1"]
[[allow]]
from = "admins"
to = "h1"
`
	rs := mustResolve(t, base+`service = ["https", "dns", "http"]
comment = "web and names"
`)
	var got []string
	for _, r := range rs.Rules {
		var labels []string
		for _, o := range r.Origins {
			labels = append(labels, o.Label()+"="+o.Ports.String())
		}
		got = append(got, fmt.Sprintf("%s %s %s", r.Protocol, r.Ports, strings.Join(labels, ",")))
	}
	want := []string{
		"tcp 53,80,443 allow[0] (service https)=443,allow[0] (service dns)=53,allow[0] (service http)=80",
		"udp 53 allow[0] (service dns)=53",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if o := rs.Rules[0].Origins[0]; o.Kind != ir.OriginCustom || o.Service != "https" || o.Comment != "web and names" {
		t.Errorf("origin %+v", o)
	}

	cases := []struct{ name, allow, want string }{
		{"unknown service", `service = "shh"`,
			`p.toml:9:11: unknown service "shh"; did you mean "ssh"? (portwall catalog list shows the services)`},
		{"unknown service in a list", `service = ["ssh", "postgres"]`,
			`p.toml:9:19: unknown service "postgres"; did you mean "postgresql"? (portwall catalog list shows the services)`},
		{"service with unsupported parts", `service = ["ssh", "ftp"]`,
			`p.toml:9:19: service "ftp" also needs the FTP conntrack helper (nf_conntrack_ftp) to admit the data connections the control connection negotiates, which portwall cannot express: write the [[allow]] with protocol and ports instead`},
		{"profile and catalog errors together", `service = "htps"
ports = [443]`, `p.toml:9:11: unknown service "htps"; did you mean "https"? (portwall catalog list shows the services)
p.toml:10:1: allow rule has both service and ports: a service brings its own protocols and ports; remove ports, or write a second [[allow]] for the extra ports`},
	}
	for _, c := range cases {
		_, err := resolve(t, base+c.allow+"\n")
		if err == nil || err.Error() != c.want {
			t.Errorf("%s:\n got: %v\nwant: %s", c.name, err, c.want)
		}
	}
}

// TestPartBlocks: parts from one block are parts of their own, whose
// origins grow without touching their neighbours', across blocks.
func TestPartBlocks(t *testing.T) {
	for _, expect := range []int{0, 1, 17, 40, 2 * maxPartBlock} {
		var b partBlocks
		b.expect(expect)
		var parts []*ir.Rule
		for i := range 40 {
			parts = append(parts, b.part(ir.Rule{Program: fmt.Sprint(i)}, ir.Origin{Allow: i}))
		}
		for i, p := range parts {
			p.Origins = append(p.Origins, ir.Origin{Allow: -i})
		}
		for i, p := range parts {
			if p.Program != fmt.Sprint(i) || len(p.Origins) != 2 || p.Origins[0].Allow != i || p.Origins[1].Allow != -i {
				t.Fatalf("expect %d: part %d is %+v", expect, i, p)
			}
		}
	}
}
