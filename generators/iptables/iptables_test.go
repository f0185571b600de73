package iptables_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/internal/testkit/backendtest"
	"github.com/portwall/portwall/internal/testkit/rulestest"

	"github.com/portwall/portwall/generators/iptables"
	"github.com/portwall/portwall/generators/iptables/iptparse"
	"github.com/portwall/portwall/rules/ir"
)

// ruleset loads a profile with its [iptables] section.
func ruleset(t *testing.T, file string) (*ir.Ruleset, iptables.Settings) {
	rs, s := backendtest.Load(t, file, iptables.IPv4)
	return rs, iptables.SettingsOf(s)
}

// render returns both families' files for every host, or the refusals in
// a file named "error".
func render(t *testing.T, rs *ir.Ruleset, s iptables.Settings) map[string][]byte {
	return backendtest.Render(rs, generators.Settings{iptables.Section.Name(): s}, iptables.IPv4, iptables.IPv6)
}

func cases(t *testing.T) []string { return rulestest.Cases(t) }

func TestGolden(t *testing.T) { backendtest.Golden(t, iptables.IPv4, iptables.IPv6) }

func family(name string) ir.Family {
	if strings.HasSuffix(name, ".ip6tables") {
		return ir.IPv6
	}
	return ir.IPv4
}

// TestFailClosed reads every output back, for the cases and the examples,
// and checks that each rule lets through nothing the host's IR rules do
// not allow.
func TestFailClosed(t *testing.T) {
	t.Parallel()
	profilesToCheck := rulestest.Examples(t)
	for _, dir := range cases(t) {
		profilesToCheck = append(profilesToCheck, filepath.Join(dir, "profile.toml"))
	}
	grants := 0
	for _, file := range profilesToCheck {
		rs, s := ruleset(t, file)
		for name, data := range render(t, rs, s) {
			if name == "error" {
				continue
			}
			s, err := iptparse.Parse(data, family(name))
			if err != nil {
				t.Errorf("%s %s: %v", file, name, err)
				continue
			}
			gs, err := s.Grants()
			if err != nil {
				t.Errorf("%s %s: %v", file, name, err)
				continue
			}
			v, err := rs.HostView(strings.TrimSuffix(name, filepath.Ext(name)))
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range gs {
				grants++
				if err := v.CheckGrant(g); err != nil {
					t.Errorf("%s %s: %v", file, name, err)
				}
			}
		}
	}
	t.Logf("%d grants checked", grants)
}

// TestParserRejects shows the reader is strict: each line, put into an
// otherwise valid file, must be refused.
func TestParserRejects(t *testing.T) {
	t.Parallel()
	valid := "*filter\n:PORTWALL-INPUT - [0:0]\n:PORTWALL-OUTPUT - [0:0]\n%s\n-A PORTWALL-INPUT -m comment --comment \"pw:base drop\" -j DROP\nCOMMIT\n"
	if _, err := iptparse.Parse([]byte(strings.Replace(valid, "%s\n", "", 1)), ir.IPv4); err != nil {
		t.Fatalf("the valid skeleton is refused: %v", err)
	}
	good := []string{
		`-A PORTWALL-INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 22 -m comment --comment "pw:r1 x" -j ACCEPT`,
		`-A PORTWALL-INPUT -m iprange --src-range 10.0.0.1-10.0.0.9 -p udp -m multiport --dports 53,1000:1010 -m comment --comment "pw:r1 x" -j ACCEPT`,
		`-A PORTWALL-INPUT -p icmp -m icmp --icmp-type 8 -m comment --comment "pw:r1 x" -j ACCEPT`,
	}
	for _, l := range good {
		if _, err := iptparse.Parse([]byte(strings.Replace(valid, "%s", l, 1)), ir.IPv4); err != nil {
			t.Errorf("valid line refused: %s: %v", l, err)
		}
	}
	bad := map[string]string{
		`-A PORTWALL-INPUT -p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16 -m comment --comment "pw:r1 x" -j ACCEPT`: "16 ports in one multiport",
		`-A PORTWALL-INPUT -p tcp -m tcp --dport 0 -m comment --comment "pw:r1 x" -j ACCEPT`:                                             "port 0",
		`-A PORTWALL-INPUT -p tcp -m tcp --dport 70000 -m comment --comment "pw:r1 x" -j ACCEPT`:                                         "port 70000",
		`-A PORTWALL-INPUT -p tcp -m tcp --dport 90:80 -m comment --comment "pw:r1 x" -j ACCEPT`:                                         "reversed range",
		`-A PORTWALL-INPUT -p tcp -j ACCEPT`:                                                                "tcp accept without ports",
		`-A PORTWALL-INPUT -s 10.0.0.1/8 -p tcp -m tcp --dport 22 -j ACCEPT`:                                "host bits set",
		`-A PORTWALL-INPUT -s 2001:db8::/32 -p tcp -m tcp --dport 22 -j ACCEPT`:                             "IPv6 address in an IPv4 file",
		`-A PORTWALL-INPUT -p tcp -m tcp --dport 22 -m comment --comment "pw:r1 x" -j ACCEPT ; iptables -F`: "shell text",
		`-A PORTWALL-INPUT -p tcp -m tcp --dport 22 -m comment --comment "unterminated -j ACCEPT`:           "unterminated quote",
		`-A PORTWALL-INPUT -p tcp -m tcp --dport 22 -m comment --comment "a\"b" -j ACCEPT`:                  "escaped quote",
		`-A PORTWALL-INPUT -p tcp -m tcp --dport 22 -j MASQUERADE`:                                          "unknown target",
		`-A PORTWALL-INPUT -p tcp -m tcp --dport 22 --tcp-flags SYN SYN -j ACCEPT`:                          "unknown option",
		`-A PORTWALL-INPUT -p icmp -m icmp --icmp-type 300 -j ACCEPT`:                                       "ICMP type 300",
		`-A PORTWALL-INPUT -m comment --comment "` + strings.Repeat("x", 256) + `" -j ACCEPT`:               "comment over 255",
		`-A FORWARD -j ACCEPT`: "undeclared chain",
		`-A PORTWALL-INPUT -j LOG --log-prefix "` + strings.Repeat("x", 30) + `"`: "log prefix over 29",
		`-I PORTWALL-INPUT -j ACCEPT`:         "insert instead of append",
		`-A PORTWALL-INPUT -i eth0 -j ACCEPT`: "interface other than lo",
		`-A PORTWALL-INPUT -p tcp -m tcp --dport 22 -m comment --comment "pw:r1 x" -j ACCEPT -j DROP`: "two targets",
		`:DOCKER - [0:0]`: "foreign chain",
	}
	for line, why := range bad {
		if _, err := iptparse.Parse([]byte(strings.Replace(valid, "%s", line, 1)), ir.IPv4); err == nil {
			t.Errorf("accepted (%s): %s", why, line)
		}
	}
	// Structure: a chain that does not end with the drop, and a noflush
	// file that adds a jump.
	if _, err := iptparse.Parse([]byte("*filter\n:PORTWALL-INPUT - [0:0]\n:PORTWALL-OUTPUT - [0:0]\n-A PORTWALL-INPUT -m comment --comment \"pw:base drop\" -j DROP\n-A PORTWALL-INPUT -p tcp -m tcp --dport 1 -m comment --comment \"pw:r1 x\" -j ACCEPT\nCOMMIT\n"), ir.IPv4); err == nil {
		t.Error("accepted a chain that does not end with its drop")
	}
	// A rule that claims to be baseline must look like it.
	g := strings.Replace(valid, "%s", `-A PORTWALL-INPUT -p tcp -m tcp --dport 22 -m comment --comment "pw:base loopback" -j ACCEPT`, 1)
	s, err := iptparse.Parse([]byte(g), ir.IPv4)
	if err == nil {
		_, err = s.Grants()
	}
	if err == nil {
		t.Error("a port opened under a baseline comment went unnoticed")
	}
}
