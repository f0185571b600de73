package proof

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/portwall/portwall/generators/targets"
	fwd "github.com/portwall/portwall/internal/netns/firewalld"
	ufwenv "github.com/portwall/portwall/internal/netns/ufw"
	"github.com/portwall/portwall/internal/testkit/backendtest"
	"github.com/portwall/portwall/internal/testkit/kerneltest"
	"github.com/portwall/portwall/internal/testkit/rulestest"
	"github.com/portwall/portwall/rules/probe"
)

// mutation changes a generated file the way a backend bug would.
type mutation struct {
	name string
	// edit returns the file changed, or the file as it was when the
	// mutation does not apply to it.
	edit func(name string, data []byte) []byte
	// caught says whether the proof saw it.
	caught func(*Result) bool
}

// replaceFirst applies re's first match in a file of the given suffix.
func replaceFirst(suffix, re, repl string) func(string, []byte) []byte {
	rx := regexp.MustCompile(re)
	return func(name string, data []byte) []byte {
		if !strings.HasSuffix(name, suffix) {
			return data
		}
		loc := rx.FindSubmatchIndex(data)
		if loc == nil {
			return data
		}
		out := append([]byte(nil), data[:loc[0]]...)
		out = rx.Expand(out, []byte(repl), data, loc)
		return append(out, data[loc[1]:]...)
	}
}

func both(a, b func(string, []byte) []byte) func(string, []byte) []byte {
	return func(name string, data []byte) []byte { return b(name, a(name, data)) }
}

// TestMutationsAreCaught: the proof fails for outputs that allow more or
// less than the rules say, and when the neighbour discovery rules are
// gone. A harness that passes these would prove nothing.
func TestMutationsAreCaught(t *testing.T) {
	kerneltest.Require(t, "nft", "iptables-restore", "ip6tables-restore")
	widened := func(r *Result) bool { return r.Counts().BlockedPassed > 0 }
	dropped := func(r *Result) bool { return r.Counts().AllowedStopped > 0 }
	ndBroken := func(r *Result) bool { return !r.NDWorks }
	mutations := map[string][]mutation{
		"nftables": {
			{"source match removed", replaceFirst(".nft", `(?m)^(\t\t)ip saddr \S+ (.*pw:r)`, "$1$2"), widened},
			{"port range widened", replaceFirst(".nft", `(?m)^(\t\t.*tcp dport )(\d+)( accept comment "pw:r)`, "${1}${2}-65535$3"), widened},
			{"rule deleted", replaceFirst(".nft", `(?m)^\t\tip saddr .*"pw:r.*\n`, ""), dropped},
			{"neighbour discovery deleted", replaceFirst(".nft", `(?m)^\t\ticmpv6 type \{ nd-router-advert.*\n`, ""), ndBroken},
		},
		"iptables": {
			{"source match removed", replaceFirst(".iptables", `(?m)^(-A PORTWALL-INPUT )-s \S+ (.*pw:r)`, "$1$2"), widened},
			{"port range widened", replaceFirst(".ip6tables", `(?m)^(-A PORTWALL-INPUT .*--dport )(\d+)( .*pw:r)`, "${1}${2}:65535$3"), widened},
			{"rule deleted", replaceFirst(".ip6tables", `(?m)^-A PORTWALL-INPUT -s .*pw:r.*\n`, ""), dropped},
			{"neighbour discovery deleted", both(
				replaceFirst(".ip6tables", `(?m)^-A PORTWALL-INPUT .*neighbour-solicitation.*\n`, ""),
				replaceFirst(".ip6tables", `(?m)^-A PORTWALL-INPUT .*neighbour-advertisement.*\n`, "")), ndBroken},
		},
	}
	// firewalld's stock policy allow-host-ipv6 lets neighbour discovery
	// in whatever zone portwall's says: breaking it takes a policy that
	// runs before that one.
	ndDropped := `portwall_file policies/portwall-nd.xml <<'PORTWALL_EOF'
<?xml version="1.0" encoding="utf-8"?>
<policy target="CONTINUE" priority="-32768">
  <ingress-zone name="ANY"/>
  <egress-zone name="HOST"/>
  <rule family="ipv6">
    <icmp-type name="neighbour-solicitation"/>
    <drop/>
  </rule>
</policy>
PORTWALL_EOF
$0`
	mutations["firewalld"] = []mutation{
		{"source match removed", replaceFirst(".firewalld.sh", `(?m)^    <source address="[^"]+"/>\n`, ""), widened},
		{"port range widened", replaceFirst(".firewalld.sh", `(?m)^(  <port port=")(\d+)(" protocol="tcp"/>)`, "${1}${2}-65535$3"), widened},
		{"rule deleted", replaceFirst(".firewalld.sh", `(?m)^  <rule family="ipv6">\n    <source address=.*\n    <service .*\n    <accept/>\n  </rule>\n`, ""), dropped},
		{"neighbour discovery dropped", replaceFirst(".firewalld.sh", `(?m)^portwall_file zones/portwall.xml .*$`, ndDropped), ndBroken},
	}
	// ufw: the rules are ufw commands and application profiles in the
	// script, ICMP lines in its before.rules blocks.
	ndBlocked := "$1\n-A ufw6-before-input -p icmpv6 -m icmp6 --icmpv6-type 135 -j DROP"
	mutations["ufw"] = []mutation{
		{"source match removed", replaceFirst(".ufw.sh", `(?m)^allow from \S+ to any app (\S+)`, "allow $1"), widened},
		{"port range widened", replaceFirst(".ufw.sh", `(?m)^(ports=)(\d+)/tcp$`, "${1}${2}:65535/tcp"), widened},
		{"rule deleted", replaceFirst(".ufw.sh", `(?m)^allow from \S+ to any app .*\n`, ""), dropped},
		{"echo requests let in", replaceFirst(".ufw.sh", `(?m)^-A ufw-before-input ! -i lo .* -j ufw-skip-to-policy-input\n`, ""), widened},
		{"neighbour discovery deleted", replaceFirst(".ufw.sh", `(?m)^(portwall_before6 <<'PORTWALL_EOF'\n# BEGIN portwall.*)$`, ndBlocked), ndBroken},
	}
	rs, settings := backendtest.Load(t, filepath.Join(filepath.Dir(rulestest.Examples(t)[0]), "xeams.toml"), targets.All()...)
	for _, target := range Targets {
		for _, m := range mutations[target] {
			t.Run(target+"/"+m.name, func(t *testing.T) {
				t.Parallel()
				switch target {
				case "firewalld":
					kerneltest.Require(t, fwd.Tools...)
				case "ufw":
					kerneltest.Require(t, ufwenv.Tools...)
				}
				files, err := Render(rs, settings, "xeams1", target)
				if err != nil {
					t.Fatal(err)
				}
				changed := false
				for i, f := range files {
					data := m.edit(f.Name, f.Contents)
					changed = changed || string(data) != string(f.Contents)
					files[i].Contents = data
				}
				if !changed {
					t.Fatal("the mutation does not apply to the generated files")
				}
				load, err := Load(settings, files)
				if err != nil {
					t.Fatal(err)
				}
				p, err := probe.NewPlan(rs, "xeams1")
				if err != nil {
					t.Fatal(err)
				}
				res, err := Run(context.Background(), p, load, Options{})
				if err != nil {
					t.Fatal(err)
				}
				if !m.caught(res) || !res.Failed() {
					var b strings.Builder
					res.WriteMatrix(&b, "xeams1", false)
					t.Fatalf("mutation not caught:\n%s", b.String())
				}
				t.Logf("caught: %s; %s", res.Counts(), res.NeighbourDiscovery)
				for _, m := range res.Mismatches() {
					t.Logf("  %s", m)
				}
			})
		}
	}
}
