package rules

import (
	"strings"
	"testing"

	"github.com/portwall/portwall/profiles"
	"github.com/portwall/portwall/rules/catalog"
	"github.com/portwall/portwall/rules/ir"
)

// origins lists the rules opened for flow id with their endpoints and any
// departure, as "from>to proto ports [departure]".
func origins(rs *ir.Ruleset, flow string) []string {
	var out []string
	for _, r := range rs.Rules {
		for _, o := range r.Origins {
			if o.Flow == flow {
				s := r.From.String() + ">" + r.To.String() + " " + r.Protocol.String() + " " + o.Ports.String()
				if r.Program != "" {
					s += " program " + r.Program
				}
				if o.Departure != "" {
					s += " [departure]"
				}
				out = append(out, s)
			}
		}
	}
	return out
}

func errIs(t *testing.T, name string, err error, want string) {
	t.Helper()
	if err == nil || err.Error() != want {
		t.Errorf("%s:\n got: %v\nwant: %s", name, err, want)
	}
}

const fme = `
[groups]
users = ["10.0.0.0/24"]
[hosts.web]
addresses = ["192.0.2.10"]
[hosts.core]
addresses = ["192.0.2.20"]
[hosts.engine]
addresses = ["192.0.2.30"]
[hosts.db]
addresses = ["192.0.2.40"]
[[deployment]]
product = "fme-server"
%s
[deployment.roles]
web = ["web"]
core = ["core"]
engine = ["engine"]
database = ["db"]
%s
[deployment.peers]
users = ["users"]
[deployment.options]
port-pool = "7100-7150"
`

func fmeProfile(deployment, roles string) string {
	return strings.Replace(strings.Replace(fme, "%s", deployment, 1), "%s", roles, 1)
}

// TestAuditTable: each row of issue 14's audit of the catalog against the
// vendors' documents, fixed.
func TestAuditTable(t *testing.T) {
	t.Parallel()
	t.Run("fortimail dns-tcp: UDP only by default, TCP an opt-in departure", func(t *testing.T) {
		rs := mustResolve(t, fm("", ""))
		if got := strings.Join(origins(rs, "dns"), "|"); got != "fml1,fml2>admins udp 53" {
			t.Errorf("dns: %s", got)
		}
		if got := origins(rs, "dns-tcp"); got != nil {
			t.Errorf("default FortiMail opens DNS over TCP: %v", got)
		}
		rs = mustResolve(t, fm(`features = ["+dns-tcp"]`, ""))
		if got := strings.Join(origins(rs, "dns-tcp"), "|"); got != "fml1,fml2>admins tcp 53 [departure]" {
			t.Errorf("dns-tcp asked for: %s", got)
		}
	})
	t.Run("fortimail radius-udp: TCP as Appendix C gives it, UDP an opt-in departure", func(t *testing.T) {
		rs := mustResolve(t, fm(`features = ["+radius-auth"]`, "directory-servers = [\"admins\"]"))
		if got := strings.Join(append(origins(rs, "radius"), origins(rs, "radius-udp")...), "|"); got != "fml1,fml2>admins tcp 1812" {
			t.Errorf("radius-auth: %s", got)
		}
		rs = mustResolve(t, fm(`features = ["+radius-auth-udp"]`, "directory-servers = [\"admins\"]"))
		if got := strings.Join(origins(rs, "radius-udp"), "|"); got != "fml1,fml2>admins udp 1812 [departure]" {
			t.Errorf("radius-auth-udp: %s", got)
		}
	})
	t.Run("fme core-results: nothing from the core opens the web host", func(t *testing.T) {
		rs := mustResolve(t, fmeProfile("", ""))
		v, err := rs.HostView("web")
		if err != nil {
			t.Fatal(err)
		}
		for _, hr := range v.In {
			if strings.Join(hr.Remote.Sets, ",") != "users" {
				t.Errorf("web host opened to %s: %s", hr.Remote, hr.Rule.Origins[0].Label())
			}
		}
		// The pool is opened where the Core creates the ports: on the core.
		if got := strings.Join(origins(rs, "core-dedicated"), "|"); got != "web>core tcp 7100-7150" {
			t.Errorf("core-dedicated: %s", got)
		}
	})
	t.Run("fme engine-queue: only in FME Flow 2023.2, from the Core to the queue", func(t *testing.T) {
		rs := mustResolve(t, fmeProfile("", ""))
		for _, r := range rs.Rules {
			if r.Ports.Contains(6379) && !r.Ports.IsAll() {
				t.Errorf("6379 opened in the default version: %s", r.Origins[0].Label())
			}
		}
		rs = mustResolve(t, fmeProfile(`version = "2023.2"`, `queue = ["core"]`))
		var got []string
		for _, r := range rs.Rules {
			if r.Ports.Contains(6379) && !r.Ports.Contains(7100) {
				for _, o := range r.Origins {
					got = append(got, r.From.String()+">"+r.To.String()+" "+o.Flow)
				}
			}
		}
		if strings.Join(got, "|") != "core>core core-queue" {
			t.Errorf("6379 in 2023.2: %v", got)
		}
	})
	t.Run("fme fme-exe: from the hosts the profile names, never a guessed side", func(t *testing.T) {
		_, err := resolve(t, fmeProfile(`features = ["+windows-fme-exe"]`, ""))
		errIs(t, "fme-exe without fme-exe-clients", err,
			`p.toml:21:13: peer "fme-exe-clients" of product fme-server is not bound, but enabled flows need it (fme-exe): add fme-exe-clients = [...] under [deployment.peers]`)
		rs := mustResolve(t, strings.Replace(fmeProfile(`features = ["+windows-fme-exe"]`, ""), `users = ["users"]`, `users = ["users"]`+"\nfme-exe-clients = [\"core\"]", 1))
		if got := strings.Join(origins(rs, "fme-exe"), "|"); got != `core>engine tcp 7100-7150 program C:\Program Files\FMEServer\Server\fme\fme.exe` {
			t.Errorf("fme-exe: %s", got)
		}
	})
	t.Run("xeams admin-console: opened to the administrators when asked for", func(t *testing.T) {
		const xeams = `
[groups]
internet = ["any"]
admins = ["10.0.0.0/24"]
[hosts.x1]
addresses = ["192.0.2.1"]
[[deployment]]
product = "xeams"
%s
[deployment.roles]
server = ["x1"]
[deployment.peers]
email-servers = ["internet"]
whois-servers = ["internet"]
dns-servers = ["internet"]
xeams-update = ["internet"]
administrators = ["admins"]
`
		rs := mustResolve(t, strings.Replace(xeams, "%s", "", 1))
		if got := origins(rs, "admin-console"); got != nil {
			t.Errorf("admin console opened by default: %v", got)
		}
		rs = mustResolve(t, strings.Replace(xeams, "%s", `features = ["+admin-console"]`, 1))
		if got := strings.Join(origins(rs, "admin-console"), "|"); got != "admins>x1 tcp 5272" {
			t.Errorf("admin console: %s", got)
		}
		if len(rs.Internal) != 1 || rs.Internal[0].Origin.Flow != "embedded-database" {
			t.Errorf("internal: %v", rs.Internal)
		}
	})
	t.Run("fortimail quarantine-access: HTTPS only; HTTP and POP3 each opt-in", func(t *testing.T) {
		rs := mustResolve(t, fm(`features = ["quarantine-access"]`, ""))
		var got []string
		for _, r := range rs.Rules {
			got = append(got, r.Protocol.String()+" "+r.Ports.String())
		}
		if strings.Join(got, "|") != "tcp 443" {
			t.Errorf("quarantine-access: %v", got)
		}
	})
}

// TestChoices: alternatives open the catalog's default choice (recorded,
// for lint), or what the profile chooses among ports and protocols.
func TestChoices(t *testing.T) {
	t.Parallel()
	cases := []struct{ choose, want, decided string }{
		{"", "udp 53", "fortimail/fortiguard-antispam udp 53 of 53 or 8888 over udp or tcp"},
		{`fortiguard-antispam = ["tcp", 8888]`, "tcp 8888", ""},
		// A choice of ports alone leaves the protocol to the catalog, and the
		// other way round: recorded too.
		{`fortiguard-antispam = [8888]`, "udp 8888", "fortimail/fortiguard-antispam udp 8888 of 53 or 8888 over udp or tcp"},
		{`fortiguard-antispam = "tcp"`, "tcp 53", "fortimail/fortiguard-antispam tcp 53 of 53 or 8888 over udp or tcp"},
		{`fortiguard-antispam = ["udp", "tcp", 53, 8888]`, "udp 53,8888|tcp 53,8888", ""},
	}
	for _, c := range cases {
		rs := mustResolve(t, fm(`features = ["fortiguard-antispam"]`, "[deployment.choose]\n"+c.choose))
		if got := strings.Join(rulesBy(rs, "fortiguard-antispam"), "|"); got != c.want {
			t.Errorf("%q: %s, want %s", c.choose, got, c.want)
		}
		if got := decisions(rs, ir.DecidedChoice); got != c.decided {
			t.Errorf("%q: decided %q, want %q", c.choose, got, c.decided)
		}
	}
	for _, c := range []struct{ name, profile, want string }{
		{"protocol of a flow without protocol alternatives", fm(`features = ["fortiguard-updates"]`, "[deployment.choose]\nfortiguard-update = [\"udp\", 443]"),
			`p.toml:23:1: flow "fortiguard-update" of product fortimail has no alternative protocols to choose from: choose among its ports (443 or 8890 over tcp)`},
		{"protocol not among the flow's", fm(`features = ["fortiguard-antispam"]`, "[deployment.choose]\nfortiguard-antispam = [\"icmp\"]"),
			`p.toml:23:24: invalid choice "icmp": want a port, a range "first-last" or a protocol (tcp, udp)`},
		{"a choice that is required", strings.Replace(fmeProfile(`features = ["+smtp-publisher"]`, ""), `users = ["users"]`, `users = ["users"]`+"\nemail-senders = [\"users\"]", 1),
			`p.toml:12:3: flow "smtp-publisher" of product fme-server has alternatives (25 or 7125 over tcp) and no default: choose under [deployment.choose], e.g. smtp-publisher = [25]`},
	} {
		_, err := resolve(t, c.profile)
		errIs(t, c.name, err, c.want)
	}
}

// TestFeatureEdits: "+name" and "-name" change the defaults; a plain list
// replaces them, recorded with the defaults it leaves out.
func TestFeatureEdits(t *testing.T) {
	t.Parallel()
	features := func(rs *ir.Ruleset) string {
		seen := map[string]bool{}
		var out []string
		for _, r := range rs.Rules {
			for _, o := range r.Origins {
				if !seen[o.Feature] {
					seen[o.Feature] = true
					out = append(out, o.Feature)
				}
			}
		}
		return strings.Join(out, " ")
	}
	rs := mustResolve(t, fm(`features = ["+ha", "-ping", "-ntp"]`, ""))
	if got := features(rs); got != "admin-gui admin-ssh smtp ha fortiguard-updates fortiguard-antispam dns" {
		t.Errorf("+ha -ping -ntp: %s", got)
	}
	if got := decisions(rs, ir.DecidedFeaturesDropped); got != "" {
		t.Errorf("changes to the defaults recorded as dropped: %s", got)
	}
	rs = mustResolve(t, fm(`features = ["smtp", "ha"]`, ""))
	if got := decisions(rs, ir.DecidedFeaturesDropped); got != `fortimail -admin-gui -admin-ssh -ping -fortiguard-updates -fortiguard-antispam -dns -ntp ["+ha", "-admin-gui", "-admin-ssh", "-ping", "-fortiguard-updates", "-fortiguard-antispam", "-dns", "-ntp"]` {
		t.Errorf("dropped: %s", got)
	}
	for _, c := range []struct{ name, features, want string }{
		{"add a default", `features = ["+smtp"]`, `p.toml:11:13: feature "smtp" of product fortimail is on by default: remove "+smtp" from the list`},
		{"remove what is off", `features = ["-ha"]`, `p.toml:11:13: feature "ha" of product fortimail is not on by default: there is nothing to remove (on by default: admin-gui, admin-ssh, ping, smtp, fortiguard-updates, fortiguard-antispam, dns, ntp)`},
		{"misspelt", `features = ["+dns-tpc"]`, `p.toml:11:13: unknown feature "dns-tpc" of product fortimail; did you mean "dns-tcp"?`},
		{"mixed", `features = ["+ha", "dns-tcp"]`, `p.toml:11:20: feature "dns-tcp" has no + or -, but other items of the list do: a list either names the features (replacing the defaults) or changes the defaults with +name and -name; write +dns-tcp`},
		{"both ways", `features = ["+ha", "-ha"]`, `p.toml:11:20: feature "ha" listed twice`},
		{"sign alone", `features = ["+"]`, `p.toml:11:13: invalid feature "+": write a feature name, or +name to add it to the product's defaults and -name to remove it`},
	} {
		_, err := resolve(t, fm(c.features, ""))
		errIs(t, c.name, err, c.want)
	}
}

// TestVersions: a deployment names its product's version; flows, choices
// and features follow it.
func TestVersions(t *testing.T) {
	t.Parallel()
	rs := mustResolve(t, fmeProfile(`version = "2023.2"`, `queue = ["core"]`))
	if got := strings.Join(origins(rs, "engine-process-monitor"), "|"); got != "core>engine tcp 7501 [departure]" {
		t.Errorf("2023.2 engine-process-monitor: %s", got)
	}
	rs = mustResolve(t, fmeProfile("", ""))
	if got := strings.Join(origins(rs, "web-ui"), "|"); got != "users>web tcp 80 [departure]" {
		t.Errorf("2023.1 web-ui: %s", got)
	}
	for _, c := range []struct{ name, profile, want string }{
		{"unknown version", fmeProfile(`version = "2023.3"`, ""),
			`p.toml:14:11: unknown version "2023.3" of product fme-server; did you mean "2023.1"?; the catalog has 2023.1 (FME Server up to 2023.1 (FME Server's port list)), 2023.2 (FME Flow 2023.2 (FME Flow Ports; later releases not checked)): pick the newest that is not after yours`},
		{"product without versions", fm(`version = "7.6"`, ""), `p.toml:11:11: product fortimail has one version in the catalog: remove version`},
		{"feature of another version", fmeProfile(`features = ["+proxy"]`, ""),
			`p.toml:14:13: feature "proxy" of product fme-server has no flows in version 2023.1 (only in 2023.2): set version, or leave the feature out`},
		{"flow of another version", strings.Replace(fmeProfile(`features = ["+active-directory"]`, ""), "[deployment.options]", "[deployment.choose]\nactive-directory = [636]\n[deployment.options]", 1),
			`p.toml:14:13: feature "active-directory" of product fme-server has no flows in version 2023.1 (only in 2023.2): set version, or leave the feature out
p.toml:24:1: flow "active-directory" of product fme-server is not in version 2023.1`},
		{"role of the version unbound", fmeProfile(`version = "2023.2"`, ""),
			`p.toml:15:13: role "queue" of product fme-server is not bound, but enabled flows need it (core-queue): add queue = [...] under [deployment.roles]`},
	} {
		_, err := resolve(t, c.profile)
		errIs(t, c.name, err, c.want)
	}
}

// TestPeerLinks: a peer bound to another deployment's role takes that
// deployment's hosts, and the other deployment's peers that stand for this
// product are bound back from the same statement.
func TestPeerLinks(t *testing.T) {
	t.Parallel()
	cat, err := catalog.Load("testdata/peers")
	if err != nil {
		t.Fatal(err)
	}
	const base = `
[groups]
admins = ["10.0.0.0/24"]
[hosts.fml1]
addresses = ["192.0.2.1"]
[hosts.fmg1]
addresses = ["192.0.2.9"]
[[deployment]]
name = "mail"
product = "fortimail"
features = ["fortimanager"]
[deployment.roles]
unit = ["fml1"]
[deployment.peers]
fortimanager = %s
[[deployment]]
name = "fmg"
product = "fortimanager"
[deployment.roles]
unit = ["fmg1"]
%s
`
	profile := func(link, more string) string {
		return strings.Replace(strings.Replace(base, "%s", link, 1), "%s", more, 1)
	}
	res := func(profile string) (*ir.Ruleset, error) {
		p, err := profiles.Parse("p.toml", []byte(profile))
		if err != nil {
			return nil, Check(p, err, cat)
		}
		return Resolve(p, cat)
	}
	rs, err := res(profile(`{ deployment = "fmg" }`, ""))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(append(append(origins(rs, "fortimanager-push"), origins(rs, "fortimanager-pull")...), origins(rs, "fortimail-registration")...), "|")
	if want := "fmg1>fml1 tcp 22|fml1>fmg1 tcp 443|fml1>fmg1 tcp 541"; got != want {
		t.Errorf("one statement, both sides:\n got %s\nwant %s", got, want)
	}
	// The other side's own binding wins over the one it would get back.
	rs, err = res(profile(`{ deployment = "fmg", role = "unit" }`, "[deployment.peers]\nfortimails = [\"admins\"]"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(origins(rs, "fortimail-registration"), "|"); got != "admins>fmg1 tcp 541" {
		t.Errorf("explicit binding on the other side: %s", got)
	}
	for _, c := range []struct{ name, link, more, want string }{
		{"unknown deployment", `{ deployment = "fmgg" }`, "", `p.toml:15:31: unknown deployment "fmgg"; did you mean "fmg"?
p.toml:16:3: peer "fortimails" of product fortimanager is not bound, but enabled flows need it (fortimail-registration): add fortimails = [...] under [deployment.peers], or bind it to a fortimail deployment's role with fortimails = { deployment = "NAME", role = "unit" }`},
		{"own deployment", `{ deployment = "mail", role = "unit" }`, "",
			`p.toml:15:31: peer "fortimanager" is bound to its own deployment "mail": bind it to another deployment's role, or bind the hosts
p.toml:16:3: peer "fortimails" of product fortimanager is not bound, but enabled flows need it (fortimail-registration): add fortimails = [...] under [deployment.peers], or bind it to a fortimail deployment's role with fortimails = { deployment = "NAME", role = "unit" }`},
		{"a deployment of another product", `{ deployment = "x", role = "server" }`, "[[deployment]]\nname = \"x\"\nproduct = \"xeams\"\nfeatures = []\n[deployment.roles]\nserver = [\"fmg1\"]",
			`p.toml:15:31: peer "fortimanager" of product fortimail stands for product fortimanager, but deployment "x" runs xeams
p.toml:16:3: peer "fortimails" of product fortimanager is not bound, but enabled flows need it (fortimail-registration): add fortimails = [...] under [deployment.peers], or bind it to a fortimail deployment's role with fortimails = { deployment = "NAME", role = "unit" }`},
		{"unknown role", `{ deployment = "fmg", role = "unti" }`, "", `p.toml:15:45: unknown role "unti" of product fortimanager; did you mean "unit"? (roles: unit, logger)`},
		{"role the other deployment leaves unbound", `{ deployment = "fmg", role = "logger" }`, "",
			`p.toml:15:31: peer "fortimanager" is bound to role "logger" of deployment "fmg", which does not bind that role`},
		{"no deployment", `{ role = "unit" }`, "",
			`p.toml:15:1: peer "fortimanager" is bound to another deployment's role, but the table names no deployment: want { deployment = "NAME", role = "ROLE" }
p.toml:16:3: peer "fortimails" of product fortimanager is not bound, but enabled flows need it (fortimail-registration): add fortimails = [...] under [deployment.peers], or bind it to a fortimail deployment's role with fortimails = { deployment = "NAME", role = "unit" }`},
		{"unknown key", `{ deployment = "fmg", rol = "unit" }`, "",
			`p.toml:15:38: unknown key "rol" in a peer binding; did you mean "role"?: want { deployment = "NAME", role = "ROLE" }`},
	} {
		_, err := res(profile(c.link, c.more))
		errIs(t, c.name, err, c.want)
	}
	// A peer that stands for a product may not be bound to another one.
	_, err = res(strings.Replace(profile(`["admins"]`, "[deployment.peers]\ndevices = { deployment = \"mail\", role = \"unit\" }\nfortimails = { deployment = \"mail\" }"),
		`features = ["fortimanager"]`, `features = ["fortimanager"]`, 1))
	if err != nil {
		t.Errorf("peer without a product bound to a role: %v", err)
	}
	_, err = resolve(t, fm(`features = ["fortimanager"]`, `fortimanager = { deployment = "fortimail" }`))
	errIs(t, "link to itself", err, `p.toml:22:31: peer "fortimanager" is bound to its own deployment "fortimail": bind it to another deployment's role, or bind the hosts`)
	_, err = resolve(t, fm(`features = ["fortimanager"]`, ""))
	errIs(t, "hint", err, `p.toml:14:13: peer "fortimanager" of product fortimail is not bound, but enabled flows need it (fortimanager-push, fortimanager-pull): add fortimanager = [...] under [deployment.peers], or bind it to a fortimanager deployment's role with fortimanager = { deployment = "NAME", role = "unit" }`)
}
