package nftables_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/portwall/portwall/internal/testkit/backendtest"
	"github.com/portwall/portwall/internal/testkit/rulestest"

	"github.com/portwall/portwall/generators/nftables"
	"github.com/portwall/portwall/generators/nftables/nftparse"
	"github.com/portwall/portwall/internal/testkit/kerneltest"
)

// TestNoInjection checks the structure of every script: free text from the
// profile only ever appears inside a # comment line or an nft quoted
// string, so no profile can add a command.
func render(t *testing.T, dir string) map[string][]byte {
	rs, s := backendtest.Load(t, filepath.Join(dir, "profile.toml"), nftables.Generator{})
	return backendtest.Render(rs, s, nftables.Generator{})
}

func cases(t *testing.T) []string { return rulestest.Cases(t) }

// TestGolden compares the output (or the refusal) of each case with
// testdata/<case>/want/.
func TestGolden(t *testing.T) { backendtest.Golden(t, nftables.Generator{}) }

func TestNoInjection(t *testing.T) {
	t.Parallel()
	for _, dir := range cases(t) {
		for name, data := range render(t, dir) {
			if name == "error" {
				continue
			}
			for i, line := range strings.Split(string(data), "\n") {
				trimmed := strings.TrimSpace(line)
				if trimmed == "" || strings.HasPrefix(trimmed, "#") {
					continue
				}
				code := line
				if q := strings.Index(line, `"`); q >= 0 {
					code = line[:q]
					if strings.Count(line, `"`)%2 != 0 {
						t.Errorf("%s/%s:%d: unbalanced quotes: %s", dir, name, i+1, line)
					}
					// Outside the quoted strings only nft keywords remain.
					parts := strings.Split(line, `"`)
					for j := 0; j < len(parts); j += 2 {
						code += parts[j]
					}
				}
				for _, bad := range []string{"flush", "#", ";;"} {
					if strings.Contains(code, bad) && !strings.Contains(code, "policy drop;") {
						t.Errorf("%s/%s:%d: %q outside a string: %s", dir, name, i+1, bad, line)
					}
				}
				if strings.Contains(line, `comment "`) {
					c := line[strings.Index(line, `comment "`)+len(`comment "`):]
					c = c[:strings.LastIndex(c, `"`)]
					if len(c) > nftables.MaxComment {
						t.Errorf("%s/%s:%d: comment of %d bytes", dir, name, i+1, len(c))
					}
				}
			}
		}
	}
}

// TestCasesLoadInKernel loads each rendered case into a fresh namespace.
func TestCasesLoadInKernel(t *testing.T) {
	t.Parallel()
	kerneltest.Require(t, "nft")
	for _, dir := range cases(t) {
		for name, data := range render(t, dir) {
			if name == "error" {
				continue
			}
			t.Run(filepath.Base(dir)+"/"+name, func(t *testing.T) {
				ns := kerneltest.New(t)
				if out, err := ns.RunStdin(data, "nft", "-c", "-f", "-"); err != nil {
					t.Fatalf("nft -c: %v\n%s", err, out)
				}
				if out, err := ns.RunStdin(data, "nft", "-f", "-"); err != nil {
					t.Fatalf("nft -f: %v\n%s", err, out)
				}
			})
		}
	}
}

// TestFailClosed reads back every case's and every example's script and
// checks that each rule lets through nothing the host's IR rules do not.
func TestFailClosed(t *testing.T) {
	t.Parallel()
	files := rulestest.Examples(t)
	for _, dir := range cases(t) {
		files = append(files, filepath.Join(dir, "profile.toml"))
	}
	grants := 0
	for _, file := range files {
		rs, s := backendtest.Load(t, file, nftables.Generator{})
		for _, h := range rs.HostNames() {
			v, _ := rs.HostView(h)
			data, err := nftables.Render(v, nftables.SettingsOf(s))
			if err != nil {
				continue // refusals are golden-tested
			}
			s, err := nftparse.Parse(data)
			if err != nil {
				t.Errorf("%s %s: %v", file, h, err)
				continue
			}
			gs, err := s.Grants()
			if err != nil {
				t.Errorf("%s %s: %v", file, h, err)
				continue
			}
			for _, g := range gs {
				grants++
				if err := v.CheckGrant(g); err != nil {
					t.Errorf("%s %s: %v", file, h, err)
				}
			}
		}
	}
	t.Logf("%d grants checked", grants)
}

// TestReaderRejects shows the reader is strict.
func TestReaderRejects(t *testing.T) {
	t.Parallel()
	skeleton := "table inet portwall\ndelete table inet portwall\ntable inet portwall {\n\tset g_a_v4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\tcomment \"group a\"\n\t\telements = { 10.0.0.0/8 }\n\t}\n" +
		"\tset ports_22_80-90 {\n\t\ttype inet_service\n\t\tflags interval\n\t\telements = { 22, 80-90 }\n\t}\n" +
		"\tset icmp_types_0_8 {\n\t\ttype icmp_type\n\t\telements = { echo-reply, echo-request }\n\t}\n\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n\t\t%s\n\t}\n}\n"
	for _, good := range []string{
		`ip saddr @g_a_v4 tcp dport { 22, 80-90 } accept comment "pw:r1 x"`,
		`ip saddr 10.1.0.0/16 tcp dport @ports_22_80-90 accept comment "pw:r1 x"`,
		`ip6 saddr 2001:db8::1 udp dport @ports_22_80-90 accept comment "pw:r1 x"`,
		`ip saddr 10.1.2.3 icmp type @icmp_types_0_8 accept comment "pw:r1 x"`,
	} {
		s, err := nftparse.Parse([]byte(strings.Replace(skeleton, "%s", good, 1)))
		if err == nil {
			_, err = s.Grants()
		}
		if err != nil {
			t.Fatalf("valid rule refused: %v\n%s", err, good)
		}
	}
	bad := map[string]string{
		`ip saddr @g_a_v4 tcp dport 22 accept`:                                     "no comment",
		`ip saddr @g_b_v4 tcp dport 22 accept comment "pw:r1 x"`:                   "undefined set",
		`ip6 saddr @g_a_v4 tcp dport 22 accept comment "pw:r1 x"`:                  "set of the other family",
		`ip saddr @g_a_v4 tcp dport 0 accept comment "pw:r1 x"`:                    "port 0",
		`ip saddr @g_a_v4 tcp dport 22 drop comment "pw:r1 x"`:                     "not an accept",
		`ip saddr @g_a_v4 accept comment "pw:r1 x"`:                                "no protocol",
		`meta l4proto icmp accept comment "pw:r1 x"`:                               "l4proto without a family guard",
		`ip saddr @g_a_v4 tcp dport 22 accept comment "pw:base loopback"`:          "a port under a baseline comment",
		`ip saddr @g_a_v4 ct state new tcp dport 22 accept comment "pw:r1"`:        "unknown match",
		`tcp dport 22 accept comment "pw:r1 x" ; flush ruleset`:                    "text after the comment",
		`ip saddr @g_a_v4 icmpv6 type echo-request accept comment "pw:r1"`:         "ICMPv6 with an IPv4 set",
		`tcp dport 22 accept comment "` + strings.Repeat("x", 129) + `"`:           "comment over 128 bytes",
		`ip saddr 10.0.0.1-10.0.0.5 tcp dport 22 accept comment "pw:r1 x"`:         "an inline range",
		`ip saddr 10.0.0.1/8 tcp dport 22 accept comment "pw:r1 x"`:                "an inline network with host bits",
		`ip6 saddr 10.0.0.0/8 tcp dport 22 accept comment "pw:r1 x"`:               "an inline network of the other family",
		`ip saddr 10.0.0.0/8 ip saddr @g_a_v4 tcp dport 22 accept comment "pw:r1"`: "two address matches",
		`tcp dport @ports_1_2 accept comment "pw:r1 x"`:                            "undefined port set",
		`tcp dport @icmp_types_0_8 accept comment "pw:r1 x"`:                       "ports from a set of ICMP types",
		`icmpv6 type @icmp_types_0_8 accept comment "pw:r1 x"`:                     "ICMPv6 types from a set of ICMP types",
	}
	for line, why := range bad {
		s, err := nftparse.Parse([]byte(strings.Replace(skeleton, "%s", line, 1)))
		if err == nil {
			_, err = s.Grants()
		}
		if err == nil {
			t.Errorf("accepted (%s): %s", why, line)
		}
	}
}

// TestReaderRejectsLists: the shared sets of ports and ICMP types are read
// as strictly as the rules.
func TestReaderRejectsLists(t *testing.T) {
	t.Parallel()
	skeleton := "table inet portwall\ndelete table inet portwall\ntable inet portwall {\n%s\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n\t\ttcp dport @ports_22_80 accept comment \"pw:r1 x\"\n\t}\n}\n"
	good := "\tset ports_22_80 {\n\t\ttype inet_service\n\t\telements = { 22, 80 }\n\t}\n"
	if s, err := nftparse.Parse([]byte(strings.Replace(skeleton, "%s", good, 1))); err != nil {
		t.Fatalf("valid list refused: %v", err)
	} else if _, err := s.Grants(); err != nil {
		t.Fatalf("valid list refused: %v", err)
	}
	bad := map[string]string{
		"\tset ports_22_80 {\n\t\ttype icmp_type\n\t\telements = { 22, 80 }\n\t}\n":                       "the wrong type",
		"\tset ports_22_80 {\n\t\ttype inet_service\n\t\telements = { 22, 80-90 }\n\t}\n":                 "a range without flags interval",
		"\tset ports_22_80 {\n\t\ttype inet_service\n\t\telements = { 22 }\n\t}\n":                        "one item",
		"\tset ports_22_80 {\n\t\ttype inet_service\n\t\telements = { 22, 0 }\n\t}\n":                     "port 0",
		"\tset ports_22_80 {\n\t\ttype inet_service\n\t\telements = { 22, 80 }\n\t\tcomment \"x\"\n\t}\n": "text after the elements",
		"\tset icmp_types_0_8 {\n\t\ttype icmp_type\n\t\tflags interval\n\t\telements = { 0, 8 }\n\t}\n":  "ICMP types as intervals",
	}
	for set, why := range bad {
		s, err := nftparse.Parse([]byte(strings.Replace(skeleton, "%s", set, 1)))
		if err == nil {
			_, err = s.Grants()
		}
		if err == nil {
			t.Errorf("accepted (%s):\n%s", why, set)
		}
	}
}
