package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/portwall/portwall/internal/testkit/golden"
	"github.com/portwall/portwall/rules/lint"
)

// TestLintEveryCode: testdata/lint/every-code.toml sets off every check;
// the warnings are golden, and each code appears.
func TestLintEveryCode(t *testing.T) {
	t.Parallel()
	const profile = "testdata/lint/every-code.toml"
	code, out, errs := runIn("", "lint", profile, "--today", "2026-12-07")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d: %s", code, errs)
	}
	n := strings.Count(out, "\n")
	golden.Compare(t, "testdata/lint/every-code.txt", []byte(out))
	// What the catalog decides for a profile, and a rule no target
	// generates when the profile declares no network view, have cases of
	// their own.
	var more string
	for _, name := range []string{"catalog-decisions", "no-network-view"} {
		file := "testdata/lint/" + name + ".toml"
		code, out, errs := runIn("", "lint", file)
		if code != 0 || errs != "" {
			t.Fatalf("%s: exit %d: %s", file, code, errs)
		}
		golden.Compare(t, "testdata/lint/"+name+".txt", []byte(out))
		more += out
	}
	for _, c := range lint.Checks {
		if !strings.Contains(out+more, ": "+c.Code+" "+c.Name+": ") {
			t.Errorf("no %s %s warning", c.Code, c.Name)
		}
	}
	code, _, errs = runIn("", "lint", "--strict", profile, "--today", "2026-12-07")
	if want := fmt.Sprintf("portwall: lint --strict: %d warnings\n", n); code != 1 || errs != want {
		t.Errorf("--strict: exit %d, stderr %q, want %q", code, errs, want)
	}
	code, out, _ = runIn("", "lint", "--format", "json", profile, "--today", "2026-12-07")
	var items []struct{ File, Code, Message string }
	if err := json.Unmarshal([]byte(out), &items); code != 0 || err != nil || len(items) != n || items[0].File != profile {
		t.Errorf("json: exit %d, %v, %d items", code, err, len(items))
	}
}

// TestLintExamples: the examples are what users copy; their warnings are
// golden, and each one is there on purpose.
func TestLintExamples(t *testing.T) {
	t.Parallel()
	for _, file := range examples(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".toml")
		code, out, errs := runIn("", "lint", file)
		if code != 0 || errs != "" {
			t.Fatalf("%s: exit %d: %s", name, code, errs)
		}
		golden.Compare(t, filepath.Join("testdata", "lint", "example-"+name+".txt"), []byte(out))
	}
}

// TestLintIgnore: [lint] ignore drops the codes a profile accepts; an
// unknown code is an error at its position.
func TestLintIgnore(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/lint/every-code.toml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(extra string) string {
		file := filepath.Join(dir, "p.toml")
		if err := os.WriteFile(file, append(append([]byte(nil), data...), extra...), 0o644); err != nil {
			t.Fatal(err)
		}
		return file
	}
	file := write("\n[lint]\nignore = [\"PW101\", \"PW102\", \"PW501\"]\n")
	code, out, errs := runIn("", "lint", file)
	if code != 0 || errs != "" || strings.Contains(out, "PW101") || strings.Contains(out, "PW102") || strings.Contains(out, "PW501") || !strings.Contains(out, "PW201") {
		t.Errorf("ignore: exit %d\n%s%s", code, out, errs)
	}
	lines := strings.Count(string(data), "\n")
	file = write("\n[lint]\nignore = [\"PW40\"]\n")
	code, _, errs = runIn("", "lint", file)
	if want := fmt.Sprintf("%s:%d:11: unknown lint code \"PW40\"; did you mean \"PW401\"?\n", file, lines+3); code != 1 || errs != want {
		t.Errorf("unknown code: exit %d\n got %q\nwant %q", code, errs, want)
	}
}

// TestLintInstallerRules: PW951 warns about an installer's own rules on a
// host declared for a Windows target that leaves them enabled: netsh
// always, PowerShell unless [windows] foreign_rules = "disable"; nothing
// for hosts declared for Linux targets only.
func TestLintInstallerRules(t *testing.T) {
	t.Parallel()
	base := `[hosts.ems1]
addresses = ["10.1.0.10"]
%s
[groups]
office = ["10.1.0.0/16"]

[[deployment]]
product = "forticlient-ems"
features = ["telemetry", "web-console"]
[deployment.roles]
ems-server = ["ems1"]
[deployment.peers]
endpoints = ["office"]
administrators = ["office"]
%s
`
	for _, c := range []struct{ host, windows, want string }{
		{`os = "windows"`, "", "host ems1 (powershell): "},
		{`os = "windows"`, "[windows]\nforeign_rules = \"disable\"", ""},
		{`targets = ["netsh", "powershell"]`, "[windows]\nforeign_rules = \"disable\"", "host ems1 (netsh): "},
		{`targets = ["netsh"]`, "", "host ems1 (netsh): "},
		{`targets = ["nftables", "firewalld"]`, "", ""},
		{`targets = ["ufw"]`, "", ""},
		{``, "", ""},
	} {
		code, out, errs := runIn(fmt.Sprintf(base, c.host, c.windows), "lint", "-")
		got := ""
		for _, line := range strings.Split(out, "\n") {
			if i := strings.Index(line, "PW951 installer-rules: "); i >= 0 {
				got = line[i+len("PW951 installer-rules: "):]
			}
		}
		if code != 0 || errs != "" || c.want == "" && got != "" || c.want != "" && !strings.HasPrefix(got, c.want) {
			t.Errorf("%s / %q: exit %d, %s\n%s, want %q", c.host, c.windows, code, errs, out, c.want)
		}
	}
}

// TestLintIgnoreFlag: --ignore leaves the named codes out of one run, in
// text and JSON, and --strict counts only what is left; an unknown code is
// an error with a suggestion.
func TestLintIgnoreFlag(t *testing.T) {
	t.Parallel()
	const profile = "testdata/lint/every-code.toml"
	args := []string{"lint", profile, "--today", "2026-12-07"}
	_, all, _ := runIn("", args...)
	var codes []string
	for _, c := range lint.Checks {
		if strings.Contains(all, ": "+c.Code+" ") {
			codes = append(codes, c.Code)
		}
	}
	if len(codes) < 3 {
		t.Fatalf("only %d codes to ignore", len(codes))
	}
	var want []string
	for _, l := range strings.SplitAfter(all, "\n") {
		if !strings.Contains(l, ": "+codes[0]+" ") && !strings.Contains(l, ": "+codes[1]+" ") {
			want = append(want, l)
		}
	}
	for _, ignore := range [][]string{{"--ignore", codes[0] + "," + codes[1]}, {"--ignore", codes[1], "--ignore", codes[0]}} {
		code, out, errs := runIn("", append(slices.Clone(args), ignore...)...)
		if code != 0 || errs != "" || out != strings.Join(want, "") {
			t.Errorf("%v: exit %d, stderr %q, got:\n%s", ignore, code, errs, out)
		}
	}
	code, _, errs := runIn("", append(slices.Clone(args), "--strict", "--ignore", strings.Join(codes, ","))...)
	if code != 0 || errs != "" {
		t.Errorf("--strict with every code ignored: exit %d, %q", code, errs)
	}
	code, out, errs := runIn("", append(slices.Clone(args), "--ignore", "PW8O2")...)
	if code != 1 || out != "" || errs != "portwall: lint --ignore: unknown lint code \"PW8O2\"; did you mean \"PW802\"? (lint --help lists them)\n" {
		t.Errorf("unknown code: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

// TestLintFirewallManagers: PW961 warns when a host's targets do not suit
// the firewall manager it runs, and says what does; nothing when they do.
func TestLintFirewallManagers(t *testing.T) {
	t.Parallel()
	base := `[defaults]
%s
[hosts.web1]
addresses = ["10.1.0.80"]
%s
[[allow]]
from = "any"
to = "web1"
service = "https"
[[allow]]
from = "office"
to = "web1"
service = "ssh"
[groups]
office = ["10.1.0.0/16"]
`
	for _, c := range []struct {
		defaults, host string
		want           []string // fragments of the PW961 message; none: no warning
	}{
		{"", `firewall = "firewalld"`, []string{`host web1 runs firewalld (firewall = "firewalld"), with no target declared`, `declare targets = ["firewalld"]`}},
		{"", "firewall = \"firewalld\"\ntargets = [\"nftables\"]", []string{"with its targets (nftables)", "open nothing"}},
		{"", "firewall = \"firewalld\"\ntargets = [\"firewalld\", \"iptables\"]", []string{"with its targets (iptables, firewalld)"}},
		{"", "firewall = \"firewalld\"\ntargets = [\"firewalld\"]", nil},
		{`firewall = "firewalld"`, `targets = ["firewalld"]`, nil},
		{`firewall = "firewalld"`, `targets = ["nftables"]`, []string{"host web1 runs firewalld", "with its targets (nftables)"}},
		{"", "firewall = \"ufw\"\ntargets = [\"nftables\"]", []string{"ufw's INPUT chain drops what ufw does not allow", `[iptables] mode = "noflush"`, "ufw disable"}},
		{"", "firewall = \"ufw\"\ntargets = [\"iptables\", \"ip6tables\"]", []string{`mode = "replace" replaces ufw's whole filter table`}},
		{"", "firewall = \"ufw\"\ntargets = [\"ufw\"]", nil},
		{"", "firewall = \"ufw\"", []string{"with no target declared", `declare targets = ["ufw"]`}},
		{"", "firewall = \"none\"\ntargets = [\"ufw\"]", []string{`which a host with firewall = "none" does not run`, `declare targets = ["nftables"]`}},
		{"", "firewall = \"firewalld\"\ntargets = [\"firewalld\", \"ufw\"]", []string{"with its targets (firewalld, ufw)", "ufw's own commands"}},
		{"[iptables]\nmode = \"noflush\"", "firewall = \"ufw\"\ntargets = [\"iptables\", \"ip6tables\"]", nil},
		{"", "firewall = \"docker\"\ntargets = [\"iptables\"]", []string{"Docker's rules (DOCKER-USER and the forwarding to containers)"}},
		{"", "firewall = \"docker\"\ntargets = [\"nftables\"]", nil},
		{"", "firewall = \"iptables\"\ntargets = [\"iptables\"]", []string{"the host's own iptables rules included"}},
		{"", "firewall = \"none\"\ntargets = [\"firewalld\"]", []string{`a host with firewall = "none" does not run`, `declare targets = ["nftables"]`}},
		{"", "firewall = \"none\"\ntargets = [\"iptables\"]", nil},
		{"", "firewall = \"nftables\"\ntargets = [\"nftables\"]", nil},
		{"", "firewall = \"firewalld\"\ntargets = []", nil},
		{"", "firewall = \"firewalld\"\nos = \"windows\"", nil},
	} {
		profile := fmt.Sprintf(base, c.defaults, c.host)
		if strings.HasPrefix(c.defaults, "[") {
			profile = fmt.Sprintf(base, "", c.host) + c.defaults + "\n"
		}
		code, out, errs := runIn(profile, "lint", "-")
		var got string
		for _, line := range strings.Split(out, "\n") {
			if i := strings.Index(line, "PW961 firewall-manager-targets: "); i >= 0 {
				got = line[i+len("PW961 firewall-manager-targets: "):]
			}
		}
		ok := code == 0 && errs == "" && (len(c.want) == 0) == (got == "")
		for _, w := range c.want {
			ok = ok && strings.Contains(got, w)
		}
		if !ok {
			t.Errorf("%q / %q: exit %d %s\n%s\nwant %q", c.defaults, c.host, code, errs, out, c.want)
		}
	}
}
