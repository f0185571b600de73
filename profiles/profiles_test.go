package profiles

import (
	"math/rand/v2"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/portwall/portwall/rules/addr"
)

func TestParseNormalises(t *testing.T) {
	t.Parallel()
	p, err := Parse("p.toml", []byte(`
[groups]
web = ["10.0.0.0/24", "web1", "mail.example.com"]
all-web = ["web", "192.0.2.0-192.0.2.9"]
[hosts.web1]
addresses = "192.0.2.80"
[[allow]]
from = "all-web"
to = "web1"
protocol = "tcp"
ports = 443
[[allow]]
from = ["web", "any"]
to = "web1"
protocol = ["tcp", "udp"]
ports = ["7100-7150", 53]
`))
	if err != nil {
		t.Fatal(err)
	}
	if g := p.Groups["web"]; len(g.Members) != 2 || g.Refs[0] != "web1" || g.Members[1].Kind != addr.KindFQDN {
		t.Errorf("group web: %+v", g)
	}
	if g := p.Groups["all-web"]; g.Refs[0] != "web" || g.Members[0].Kind != addr.KindRange {
		t.Errorf("group all-web: %+v", g)
	}
	if h := p.Hosts["web1"]; len(h.Addrs) != 1 {
		t.Errorf("host: %+v", h)
	}
	if a := p.Allows[0]; a.Ports.String() != "443" || a.From[0] != "all-web" {
		t.Errorf("allow 0: %+v", a)
	}
	if a := p.Allows[1]; a.Ports.String() != "53,7100-7150" || len(a.Protocols) != 2 || len(a.From) != 2 {
		t.Errorf("allow 1: %+v", a)
	}
	if !reflect.DeepEqual(p.Defaults, Defaults{Input: InputDrop, Output: OutputAccept, LogDropped: true, FQDN: FQDNError, Targets: Targets{Path: []any{"defaults"}}}) {
		t.Errorf("defaults: %+v", p.Defaults)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	profile := `
[defaults]
input = "accept"
output = "reject"
fqdn = "resolve"

[groups]
loop-a = ["loop-b"]
loop-b = ["loop-a"]
Bad_Name = ["10.0.0.0/8"]
h1 = ["10.0.0.1"]
weird = ["10.0.0.0/8", 5, "no_such_thing"]

[hosts.h1]
addresses = ["10.0.0.0/24"]

[[deployment]]
product = "xeams"
features = ["smtp", "smtp"]

[[deployment]]
product = "xeams"

[[allow]]
from = "h1"
to = "h2"
protocol = ["tcp", "icmp"]
ports = [22]

[[allow]]
from = "h1"
to = "h1"
protocol = "udp"

[[allow]]
from = "h1"
to = "h1"
protocol = "icmp"
ports = [1]
icmp_types = ["packet-too-big"]

[[allow]]
to = "h1"
protocol = "tpc"
ports = [22]
`
	_, err := Parse("p.toml", []byte(profile))
	want := []string{
		`p.toml:3:9: invalid input policy "accept": want "drop" or "reject"`,
		`p.toml:4:10: invalid output policy "reject": want "accept" or "drop" (drop allows only the outbound flows)`,
		`p.toml:5:8: invalid fqdn mode "resolve": want "error", "dynamic-set" or "omit"`,
		`p.toml:8:1: group "loop-a" includes itself: loop-a -> loop-b -> loop-a`,
		`p.toml:10:1: invalid group name "Bad_Name": use lower-case letters, digits, '-' and '_', at most 48 characters, starting and ending with a letter or digit`,
		`p.toml:11:1: "h1" is both a host and a group: hosts and groups share one namespace`,
		`p.toml:12:24: want a string, found an integer`,
		`p.toml:15:14: invalid host address "10.0.0.0/24": want one IPv4 or IPv6 address (put networks in [groups])`,
		`p.toml:19:21: feature "smtp" listed twice`,
		`p.toml:21:3: duplicate deployment name "xeams" (deployment[0] has it too); set name to tell them apart`,
		`p.toml:26:6: unknown host or group "h2"; did you mean "h1"?`,
		`p.toml:27:1: allow rule mixes ICMP with TCP/UDP; write two rules`,
		`p.toml:30:3: allow rule for udp has no ports (write ports = ["1-65535"] for all)`,
		`p.toml:39:1: ICMP has no ports; use icmp_types to restrict it`,
		`p.toml:40:15: unknown icmp type "packet-too-big"`,
		`p.toml:42:3: allow rule has no "from"`,
		`p.toml:44:12: unknown protocol "tpc": want one of tcp, udp, icmp, icmpv6; did you mean "tcp"?`,
	}
	if err == nil {
		t.Fatal("no error")
	}
	got := strings.Split(err.Error(), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestOtherTables: tables the profile format does not define are kept for
// their owners (the backends), and reported as unknown keys unless one
// owns them.
func TestOtherTables(t *testing.T) {
	t.Parallel()
	p, err := Parse("p.toml", []byte(`
[hosts.h1]
addresses = ["192.0.2.1"]
[[allow]]
from = "any"
to = "h1"
protocol = "tcp"
ports = 22
[nftables]
layout = "sets"
[nftabels]
layout = "sets"
`))
	if err != nil {
		t.Fatal(err)
	}
	if p.Table("nftables") == nil || p.Table("hosts") != nil || p.Table("iptables") != nil {
		t.Errorf("Table: nftables %v, hosts %v, iptables %v", p.Table("nftables"), p.Table("hosts"), p.Table("iptables"))
	}
	got := p.UnknownTables([]string{"nftables", "iptables"}).Err()
	want := `p.toml:11:2: unknown key "nftabels"; did you mean "nftables"?`
	if got == nil || got.Error() != want {
		t.Errorf("got %v, want %s", got, want)
	}
}

// A custom rule may name catalog services instead of protocol and ports;
// the names are checked against the catalog later (package rules).
func TestAllowService(t *testing.T) {
	t.Parallel()
	p, err := Parse("p.toml", []byte(`
[hosts.h1]
addresses = ["192.0.2.1"]
[[allow]]
from = "any"
to = "h1"
service = "ssh"
[[allow]]
from = "any"
to = "h1"
service = ["https", "http"]
comment = "web"
`))
	if err != nil {
		t.Fatal(err)
	}
	if a := p.Allows[0]; strings.Join(a.Services, " ") != "ssh" || a.Protocols != nil || a.Ports != nil {
		t.Errorf("allow 0: %+v", a)
	}
	if a := p.Allows[1]; strings.Join(a.Services, " ") != "https http" || a.Comment != "web" {
		t.Errorf("allow 1: %+v", a)
	}

	cases := []struct{ name, allow, want string }{
		{"service with ports", `service = "ssh"
ports = [2222]`, `p.toml:8:1: allow rule has both service and ports: a service brings its own protocols and ports; remove ports, or write a second [[allow]] for the extra ports`},
		{"service with protocol and icmp types", `service = ["dns"]
protocol = "icmp"
icmp_types = ["echo-request"]`, `p.toml:8:1: allow rule has both service and protocol: a service brings its own protocols and ports; remove protocol, or write a second [[allow]] for the extra ports
p.toml:9:1: allow rule has both service and icmp_types: a service brings its own protocols and ports; remove icmp_types, or write a second [[allow]] for the extra ports`},
		{"empty list", `service = []`, `p.toml:7:1: empty service list`},
		{"listed twice", `service = ["ssh", "http", "ssh"]`, `p.toml:7:27: service "ssh" listed twice`},
		{"not a string", `service = ["ssh", 22]`, `p.toml:7:19: want a string, found an integer`},
		{"neither service nor protocol", `comment = "x"`, `p.toml:4:3: allow rule has no protocol (tcp, udp, icmp or icmpv6) and no service`},
	}
	for _, c := range cases {
		_, err := Parse("p.toml", []byte(`
[hosts.h1]
addresses = ["192.0.2.1"]
[[allow]]
from = "any"
to = "h1"
`+c.allow+"\n"))
		if err == nil || err.Error() != c.want {
			t.Errorf("%s:\n got: %v\nwant: %s", c.name, err, c.want)
		}
	}
}

// TestValidNameIsNamePattern: the loop that checks names accepts exactly
// what NamePattern (the schema's pattern) does, on edge cases and on
// random strings over the characters that matter.
func TestValidNameIsNamePattern(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(NamePattern)
	cases := []string{"", "a", "0", "-", "_", "a-", "-a", "a_b", "a-b", "ab", "A", "a.b", "a b", "é",
		strings.Repeat("a", 48), strings.Repeat("a", 49), "a" + strings.Repeat("-", 46) + "a", "a" + strings.Repeat("-", 47) + "a"}
	rng := rand.New(rand.NewPCG(1, 2))
	const chars = "az09-_.A "
	for range 20000 {
		b := make([]byte, rng.IntN(52))
		for i := range b {
			b[i] = chars[rng.IntN(len(chars))]
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		if got, want := validName(s), re.MatchString(s); got != want {
			t.Errorf("validName(%q) = %v, NamePattern says %v", s, got, want)
		}
	}
}
