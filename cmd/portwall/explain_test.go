package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/portwall/portwall/internal/testkit/golden"
	"github.com/portwall/portwall/internal/testkit/rulestest"
	"github.com/portwall/portwall/rules/explain"
	"github.com/portwall/portwall/rules/probe"
)

// TestExplain compares explain's answers on the examples with
// testdata/explain/<case>.txt.
func TestExplain(t *testing.T) {
	t.Parallel()
	const (
		xeams = "../../examples/xeams.toml"
		ems   = "../../examples/ems-chromebooks.toml"
		fml   = "../../examples/fortimail-ha.toml"
		fme   = "../../examples/fme-distributed.toml"
	)
	cases := map[string][]string{
		"allowed-from-any":       {xeams, "--host", "xeams1", "--from", "203.0.113.9", "--port", "25/tcp"},
		"blocked-open-elsewhere": {xeams, "--host", "xeams1", "--from", "203.0.113.9", "--port", "993/tcp"},
		"internal-port":          {xeams, "--host", "xeams1", "--port", "7865/tcp"},
		"internal-blocked":       {xeams, "--host", "xeams1", "--from", "192.168.10.7", "--port", "tcp/7865"},
		"outbound-custom-rule":   {ems, "--host", "ems1", "--to", "10.50.0.53", "--port", "53/udp"},
		"outbound-blocked":       {ems, "--host", "ems1", "--to", "203.0.113.9", "--port", "25/tcp"},
		"outbound-not-filtered":  {xeams, "--host", "xeams1", "--to", "203.0.113.9", "--port", "22/tcp"},
		"ping":                   {fml, "--host", "fml1", "--from", "2001:db8:20:5::9", "--port", "icmpv6"},
		"port-pool":              {fme, "--host", "fme-core", "--port", "7125/tcp"},
		"json":                   {xeams, "--host", "xeams1", "--from", "203.0.113.9", "--port", "993/tcp", "--format", "json"},
		"moved-port-closed":      {xeams, "--host", "xeams1", "--from", "192.168.10.7", "--port", "995/tcp"},
		"no-address-of-family":   {"../../examples/site.toml", "--host", "fme1", "--from", "2001:db8:1::5", "--port", "443/tcp"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			code, out, errs := runIn("", append([]string{"explain"}, args...)...)
			if code != 0 || errs != "" {
				t.Fatalf("exit %d\n%s", code, errs)
			}
			golden.Compare(t, filepath.Join("testdata", "explain", name+".txt"), []byte(out))
		})
	}
}

func TestExplainErrors(t *testing.T) {
	t.Parallel()
	const xeams = "../../examples/xeams.toml"
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--host", "xeams2", "--port", "25/tcp"}, `portwall: unknown host "xeams2"; did you mean "xeams1"? (hosts: xeams1)`},
		{[]string{"--host", "xeams1", "--port", "25"}, `portwall: port "25": want PORT/PROTOCOL such as 25/tcp or 53/udp, or icmp, icmpv6, icmp/TYPE`},
		{[]string{"--host", "xeams1", "--port", "25/tpc"}, `portwall: port "25/tpc": unknown protocol "tpc": want one of tcp, udp, icmp, icmpv6`},
		{[]string{"--host", "xeams1", "--port", "70000/tcp"}, `portwall: port "70000/tcp": "70000" is not a port number (1-65535)`},
		{[]string{"--host", "xeams1", "--port", "icmp/echo-requets"}, `portwall: unknown icmp type "echo-requets"`},
		{[]string{"--host", "xeams1", "--port", "25/tcp", "--from", "10.0.0.1", "--to", "10.0.0.2"}, `portwall: --from and --to: give one (inbound from an address, or outbound to one)`},
		{[]string{"--host", "xeams1", "--port", "25/tcp", "--from", "offce"}, `portwall: address "offce": want one IPv4 or IPv6 address`},
		{[]string{"--port", "25/tcp", "--from", "offce", "--to", "xeams1"}, `portwall: --from: "offce" is no host or group of the profile, nor one IPv4 or IPv6 address; did you mean "office"?`},
		{[]string{"--port", "25/tcp", "--from", "office"}, `portwall: without --host, give both --from and --to: the hosts asked are those they name`},
		{[]string{"--port", "smtps-submission", "--from", "office", "--to", "xeams1"}, `portwall: port "smtps-submission": want PORT/PROTOCOL such as 443/tcp, a port number (TCP), icmp, icmpv6, icmp/TYPE, or a service name (portwall catalog list shows them)`},
		{[]string{"--host", "xeams1", "--port", "icmpv6", "--from", "10.0.0.1"}, `portwall: icmpv6 does not travel over IPv4`},
	}
	for _, c := range cases {
		code, _, errs := runIn("", append([]string{"explain", xeams}, c.args...)...)
		if code != 1 || strings.TrimSpace(errs) != c.want {
			t.Errorf("%v: exit %d\n got %q\nwant %q", c.args, code, strings.TrimSpace(errs), c.want)
		}
	}
}

// TestExplainAgreesWithTheProof: for every probe the packet proof plans
// on every example host, explain gives the answer the proof expects (and
// the proof's kernel run checks it with packets: testdata/verify).
func TestExplainAgreesWithTheProof(t *testing.T) {
	t.Parallel()
	probes, allowed := 0, 0
	for _, file := range rulestest.Examples(t) {
		rs := rulestest.Ruleset(t, file)
		for _, host := range rs.HostNames() {
			p, err := probe.NewPlan(rs, host)
			if err != nil {
				t.Fatal(err)
			}
			for _, pr := range p.Probes {
				pk := pr.Packet
				a, err := explain.Explain(rs, explain.Question{Host: host, Dir: pk.Dir, Remote: pk.Remote, Protocol: pk.Protocol, Port: pk.Port, ICMPType: pk.ICMPType})
				if err != nil {
					t.Fatal(err)
				}
				probes++
				if a.Allowed {
					allowed++
				}
				var ids []string
				for _, hr := range a.Rules {
					ids = append(ids, hr.Rule.ID)
				}
				if a.Allowed != pr.Want || strings.Join(ids, ",") != strings.Join(pr.Rules, ",") {
					t.Errorf("%s %s: explain says %v (%v), the proof expects %v (%v)", host, pk, a.Allowed, ids, pr.Want, pr.Rules)
				}
			}
		}
	}
	t.Logf("%d probes, %d allowed: explain agrees with every one", probes, allowed)
}
