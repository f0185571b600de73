package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/targets"
	"github.com/portwall/portwall/internal/testkit/backendtest"
	"github.com/portwall/portwall/internal/testkit/golden"
	"github.com/portwall/portwall/internal/testkit/kerneltest"
	"github.com/portwall/portwall/rules/ir"
)

// mk runs the command with args and returns the profile it printed.
func mk(t testing.TB, args ...string) []byte {
	t.Helper()
	var out, errs bytes.Buffer
	if code := run(args, &out, &errs); code != 0 {
		t.Fatalf("mkprofile %s: exit %d: %s", strings.Join(args, " "), code, errs.String())
	}
	return out.Bytes()
}

func resolve(t testing.TB, name string, data []byte) *ir.Ruleset {
	t.Helper()
	rs, _ := resolveWith(t, name, data)
	return rs
}

// resolveWith also decodes every backend's section, as the CLI does.
func resolveWith(t testing.TB, name string, data []byte) (*ir.Ruleset, generators.Settings) {
	t.Helper()
	return backendtest.LoadData(t, name, data, targets.All()...)
}

func TestGolden(t *testing.T) {
	t.Parallel()
	golden.Compare(t, "testdata/small.toml", mk(t, "-rules", "10", "-hosts", "3", "-groups", "4"))
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"-rules", "10", "-hosts", "3", "-groups", "4"},
		{"-rules", "500", "-hosts", "40", "-groups", "20", "-products"},
		{"-rules", "300", "-hosts", "1", "-groups", "6", "-seed", "7"},
		{"-shape", "simple", "-rules", "300", "-hosts", "2"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			a, b := mk(t, args...), mk(t, args...)
			if !bytes.Equal(a, b) {
				t.Errorf("two runs differ:\n%s", golden.Diff(a, b))
			}
			if slices.Contains(args, "-products") {
				return // -ferm refuses -products
			}
			dir := t.TempDir()
			f1, f2 := filepath.Join(dir, "1.ferm"), filepath.Join(dir, "2.ferm")
			mk(t, append(args, "-ferm", f1)...)
			mk(t, append(args, "-ferm", f2)...)
			if fa, fb := readFile(t, f1), readFile(t, f2); !bytes.Equal(fa, fb) {
				t.Errorf("two ferm files differ:\n%s", golden.Diff(fa, fb))
			}
			// The seed must matter, or "deterministic" would hold trivially
			// for a generator that ignored it.
			if c := mk(t, append(args, "-seed", "12345")...); bytes.Equal(a, c) {
				t.Errorf("-seed 12345 gives the same profile")
			}
		})
	}
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// customOrigins counts the [[allow]] entries the ruleset's origins
// carry: every entry must survive merging as an origin.
func customOrigins(rs *ir.Ruleset) (origins int, allows map[int]bool) {
	allows = map[int]bool{}
	for _, r := range rs.Rules {
		for _, o := range r.Origins {
			if o.Kind == ir.OriginCustom {
				origins++
				allows[o.Allow] = true
			}
		}
	}
	return origins, allows
}

func TestValid(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args            []string
		rules, hosts    int
		products        bool
		noMerge         bool // every [[allow]] is its own rule
		merges          bool // the key space is exhausted: some rules merge
		renderEveryHost bool
	}{
		{args: []string{"-rules", "10", "-hosts", "3", "-groups", "4"}, rules: 10, hosts: 3, noMerge: true, renderEveryHost: true},
		{args: []string{"-rules", "10", "-hosts", "8", "-groups", "4", "-products"}, rules: 10, hosts: 8, products: true, renderEveryHost: true},
		{args: []string{"-rules", "0", "-hosts", "11", "-groups", "1", "-products"}, rules: 0, hosts: 11, products: true, renderEveryHost: true},
		{args: []string{"-rules", "1000", "-hosts", "2000", "-groups", "50", "-products"}, rules: 1000, hosts: 2000, products: true},
		// The benchmark policies: one host, and no two rules merge, so
		// that ferm and portwall render the same rules.
		{args: []string{"-rules", "1000", "-hosts", "1", "-groups", "50"}, rules: 1000, hosts: 1, noMerge: true},
		{args: []string{"-rules", "10000", "-hosts", "1", "-groups", "50"}, rules: 10000, hosts: 1, noMerge: true},
		// 6 groups and one host give 168 keys for 300 rules.
		{args: []string{"-rules", "300", "-hosts", "1", "-groups", "6"}, rules: 300, hosts: 1, merges: true},
		// The simple shape: one /24 and one TCP port per rule; no
		// [fortigate] section, so the network view is not rendered.
		{args: []string{"-shape", "simple", "-rules", "1000", "-hosts", "1"}, rules: 1000, hosts: 1, noMerge: true},
		{args: []string{"-shape", "simple", "-rules", "10000", "-hosts", "1"}, rules: 10000, hosts: 1, noMerge: true},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			if testing.Short() && tc.rules*tc.hosts > 100000 {
				t.Skip("large profile; not in -short")
			}
			rs, settings := resolveWith(t, "synthetic.toml", mk(t, tc.args...))
			if len(rs.Hosts) != tc.hosts {
				t.Errorf("%d hosts, want %d", len(rs.Hosts), tc.hosts)
			}
			origins, allows := customOrigins(rs)
			if origins != tc.rules || len(allows) != tc.rules {
				t.Errorf("%d custom origins from %d [[allow]] entries, want %d of each", origins, len(allows), tc.rules)
			}
			custom := 0
			products := map[string]bool{}
			for _, r := range rs.Rules {
				if r.Origins[0].Kind == ir.OriginCustom {
					custom++
				}
				for _, o := range r.Origins {
					if o.Product != "" {
						products[o.Product] = true
					}
				}
			}
			if tc.noMerge && custom != tc.rules {
				t.Errorf("%d rules from %d [[allow]] entries: some merged", custom, tc.rules)
			}
			if tc.merges && custom >= tc.rules {
				t.Errorf("%d rules from %d [[allow]] entries: none merged, though the key space is smaller", custom, tc.rules)
			}
			want := map[string]bool{}
			if tc.products {
				want = map[string]bool{"fortimail": true, "fme-server": true, "forticlient-ems": true, "xeams": true}
			}
			if !equalKeys(products, want) {
				t.Errorf("products %v, want %v", sortedKeys(products), sortedKeys(want))
			}
			if tc.products {
				// Every host runs a product, so every host has inbound
				// rules. (Asked of the rules' sets, not of HostView per
				// host: that costs hosts times rules, seconds at 2,000.)
				inbound := map[string]bool{}
				for _, r := range rs.Rules {
					for _, n := range r.To.Sets {
						if s, ok := rs.Set(n); ok {
							for _, h := range s.Hosts {
								inbound[h] = true
							}
						}
					}
				}
				for _, h := range rs.Hosts {
					if !inbound[h.Name] {
						t.Errorf("host %s: no inbound rules", h.Name)
					}
				}
			}
			if tc.renderEveryHost {
				renderAll(t, rs, settings)
			}
		})
	}
}

func equalKeys(a, b map[string]bool) bool { return slices.Equal(sortedKeys(a), sortedKeys(b)) }

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// renderAll renders every host with every host backend and the network
// view with the others, as generate --all-hosts does: every backend must
// express every rule (no host names left to resolve, FortiGate interfaces
// for every set).
func renderAll(t *testing.T, rs *ir.Ruleset, settings generators.Settings) {
	t.Helper()
	for _, g := range targets.All() {
		req := generators.Request{Ruleset: rs, Settings: settings}
		if g.Caps().HostView {
			req.Hosts = rs.HostNames()
		}
		if err := generators.Check(g, req); err != nil {
			t.Errorf("%s: %v", g.Name(), err)
			continue
		}
		files, err := g.Generate(req)
		if err != nil {
			t.Errorf("%s: %v", g.Name(), err)
			continue
		}
		if want := max(1, len(req.Hosts)); len(files) != want {
			t.Errorf("%s: %d files, want %d", g.Name(), len(files), want)
		}
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-groups", "0"}, 2, "-groups 0: want 1 to 4000"},
		{[]string{"-hosts", "0"}, 2, "-hosts 0: want 1 to 100000"},
		{[]string{"-rules", "-1"}, 2, "-rules -1: want 0 to 1000000"},
		{[]string{"-ferm-host", "host-01"}, 2, "-ferm-host goes with -ferm"},
		{[]string{"-products", "-ferm", "x.ferm"}, 2, "-ferm with -products"},
		{[]string{"-hosts", "3", "-ferm", "x.ferm", "-ferm-host", "host-04"}, 2, `-ferm-host "host-04": no such host (hosts are host-01 to host-03)`},
		{[]string{"extra"}, 2, "unexpected arguments"},
		{[]string{"-shape", "round"}, 2, `-shape "round": want groups or simple`},
		{[]string{"-shape", "simple", "-groups", "5"}, 2, "-groups with -shape simple"},
		{[]string{"-shape", "simple", "-products"}, 2, "-products with -shape simple"},
		{[]string{"-shape", "simple", "-rules", "24577"}, 2, "-rules 24577 with -shape simple: want 0 to 24576"},
		{[]string{"-bogus"}, 2, "flag provided but not defined"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Chdir(t.TempDir()) // -ferm writes x.ferm here
			var out, errs bytes.Buffer
			code := run(tc.args, &out, &errs)
			if code != tc.code || !strings.Contains(errs.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errs.String(), tc.code, tc.want)
			}
			if out.Len() > 0 {
				t.Errorf("printed a profile on error: %.80q", out.String())
			}
		})
	}
}

// TestFermSamePolicy checks that the ferm file is the policy portwall
// renders for the host: ferm's iptables and ip6tables rules, from
// `ferm --remote`, are portwall's iptables and ip6tables rules, one for
// one (source, protocol, ports, [[allow]] entry), which is what makes the
// timing comparison fair.
func TestFermSamePolicy(t *testing.T) {
	t.Parallel()
	kerneltest.RequireTools(t, "ferm")
	for _, tc := range []struct {
		args []string
		host string
	}{
		{[]string{"-rules", "10", "-hosts", "3", "-groups", "4"}, "host-01"},
		{[]string{"-rules", "10", "-hosts", "3", "-groups", "4"}, "host-03"},
		{[]string{"-rules", "200", "-hosts", "1", "-groups", "12", "-seed", "3"}, "host-01"},
		{[]string{"-shape", "simple", "-rules", "50", "-hosts", "1"}, "host-01"},
		{[]string{"-shape", "simple", "-rules", "50", "-hosts", "3"}, "host-02"},
	} {
		t.Run(strings.Join(tc.args, " ")+" "+tc.host, func(t *testing.T) {
			ferm := filepath.Join(t.TempDir(), "policy.ferm")
			args := append(slices.Clone(tc.args), "-ferm", ferm)
			if tc.host != "host-01" {
				args = append(args, "-ferm-host", tc.host)
			}
			rs := resolve(t, "synthetic.toml", mk(t, args...))
			// --remote builds the rules without touching the kernel.
			cmd := exec.Command("ferm", "--remote", ferm)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("ferm --remote: %v\n%s", err, stderr.String())
			}
			got := fermRules(t, out)
			var want []string
			for _, target := range []string{"iptables", "ip6tables"} {
				g, _ := targets.Lookup(target)
				files, err := g.Generate(generators.Request{Ruleset: rs, Hosts: []string{tc.host}})
				if err != nil {
					t.Fatal(err)
				}
				want = append(want, ruleKeys(t, target, files[0].Contents)...)
			}
			slices.Sort(got)
			slices.Sort(want)
			if len(want) == 0 {
				t.Fatal("portwall rendered no custom rule: the comparison would be empty")
			}
			if !slices.Equal(got, want) {
				t.Errorf("ferm's rules differ from portwall's (-portwall +ferm):\n%s",
					golden.Diff([]byte(strings.Join(want, "\n")), []byte(strings.Join(got, "\n"))))
			}
		})
	}
}

// fermRules splits ferm --remote output into its iptables and ip6tables
// parts and returns their rule keys.
func fermRules(t *testing.T, out []byte) []string {
	t.Helper()
	var keys []string
	family := ""
	var part []byte
	flush := func() {
		if family != "" {
			keys = append(keys, ruleKeys(t, family, part)...)
		}
		part = nil
	}
	for _, line := range bytes.SplitAfter(out, []byte("\n")) {
		switch {
		case bytes.Contains(line, []byte("(iptables-save)")):
			flush()
			family = "iptables"
		case bytes.Contains(line, []byte("(ip6tables-save)")):
			flush()
			family = "ip6tables"
		}
		part = append(part, line...)
	}
	flush()
	return keys
}

var (
	allowRE   = regexp.MustCompile(`allow\[(\d+)\]`)
	commentRE = regexp.MustCompile(`"[^"]*"`)
)

// ruleKeys reduces each rule line of an iptables-restore file that comes
// from an [[allow]] entry to "family allow[N] source protocol ports",
// whichever spelling (portwall's short options, ferm's long ones) wrote it.
func ruleKeys(t *testing.T, family string, data []byte) []string {
	t.Helper()
	var keys []string
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "-A ") {
			continue
		}
		m := allowRE.FindAllStringSubmatch(line, -1)
		if len(m) == 0 {
			continue
		}
		if len(m) > 1 {
			t.Errorf("rule from more than one [[allow]] entry (merged): %s", line)
		}
		f := strings.Fields(commentRE.ReplaceAllString(line, `""`))
		src, proto, ports := "any", "", ""
		for i := 0; i+1 < len(f); i++ {
			switch f[i] {
			case "-s", "--source", "--src-range":
				src = f[i+1]
			case "-p", "--protocol":
				proto = f[i+1]
			case "--dport", "--dports", "--destination-ports":
				ports = f[i+1]
			}
		}
		// iptables-save leaves out /32 and /128; portwall writes them.
		if !strings.ContainsAny(src, "/-") && src != "any" {
			src += map[bool]string{true: "/128", false: "/32"}[strings.Contains(src, ":")]
		}
		keys = append(keys, fmt.Sprintf("%s %s %s %s %s", family, m[0][0], src, proto, ports))
	}
	return keys
}
