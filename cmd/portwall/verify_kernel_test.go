package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	fwd "github.com/portwall/portwall/internal/netns/firewalld"
	ufwenv "github.com/portwall/portwall/internal/netns/ufw"
	"github.com/portwall/portwall/internal/testkit/golden"
	"github.com/portwall/portwall/internal/testkit/kerneltest"
)

// TestVerifyEveryExample is the packet proof of every example: portwall
// verify builds namespaces for every host, loads its nftables and its
// iptables output in turn, and every probe must do what the rules say.
// The whole matrix is compared with testdata/verify/<example>.txt, and the
// log gives the counts.
func TestVerifyEveryExample(t *testing.T) {
	t.Parallel()
	kerneltest.Require(t, "nft", "iptables-restore", "ip6tables-restore")
	kerneltest.TimesPackets(t)
	totals := map[string]*[4]int{"nftables": {}, "iptables": {}}
	for _, file := range examples(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".toml")
		code, out, errs := runIn("", "verify", file, "--parallel", "4")
		if code != 0 {
			t.Errorf("%s: exit %d\n%s%s", name, code, out, errs)
		}
		golden.Compare(t, filepath.Join("testdata", "verify", name+".txt"), []byte(out))
		target := ""
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "host ") {
				target = strings.Fields(strings.SplitN(line, ", ", 2)[1])[0]
				continue
			}
			var c [4]int
			if n, _ := fmt.Sscanf(strings.TrimSpace(line), "%d allowed and passed, %d blocked and stopped, %d mismatches (%d allowed but stopped", &c[0], &c[1], &c[2], &c[3]); n == 4 {
				for i := range c {
					totals[target][i] += c[i]
				}
			}
		}
	}
	for _, target := range []string{"nftables", "iptables"} {
		c := totals[target]
		t.Logf("%s, every host of every example: %d allowed and passed, %d blocked and stopped, %d mismatches", target, c[0], c[1], c[2])
		if c[0] == 0 || c[1] == 0 {
			t.Errorf("%s: no probe of one kind: the proof proves nothing", target)
		}
	}
}

// TestVerifyFailingExpectations: expectations the rules do not meet fail
// verify with exit status 1, each reported with its position.
func TestVerifyFailingExpectations(t *testing.T) {
	t.Parallel()
	kerneltest.Require(t, "nft", "iptables-restore", "ip6tables-restore")
	kerneltest.TimesPackets(t)
	code, out, errs := runIn("", "verify", "testdata/verify/wrong-expectations.toml", "--target", "nftables")
	if code != 1 || progressOnly(errs) != "" {
		t.Errorf("exit %d, stderr:\n%s", code, errs)
	}
	golden.Compare(t, "testdata/verify/wrong-expectations.txt", []byte(out))
}

// TestVerifyUsage: bad targets and hosts are refused before anything runs.
func TestVerifyUsage(t *testing.T) {
	t.Parallel()
	code, _, errs := runIn("", "verify", xeams, "--target", "pf")
	if want := "portwall: verify cannot load target \"pf\": want nftables, iptables, firewalld or ufw\n"; code != 1 || errs != want {
		t.Errorf("exit %d, stderr %q, want %q", code, errs, want)
	}
	code, _, errs = runIn("", "verify", xeams, "--host", "xeams2")
	if want := "portwall: unknown host \"xeams2\"; did you mean \"xeams1\"? (hosts: xeams1)\n"; code != 1 || errs != want {
		t.Errorf("exit %d, stderr %q, want %q", code, errs, want)
	}
}

// TestVerifyNeedsItsTools: without ip(8) and the loaders, verify says what
// is missing instead of failing half-way.
func TestVerifyNeedsItsTools(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	code, out, errs := runIn("", "verify", xeams, "--target", "iptables")
	if code != 1 || out != "" || !strings.Contains(errs, "verify builds network namespaces and loads rules into them: it needs ") ||
		!strings.HasSuffix(errs, "ip, iptables-restore, ip6tables-restore\n") {
		t.Errorf("exit %d\nstdout %q\nstderr %q", code, out, errs)
	}
}

// sections splits verify's output into the matrices of each host and
// target, keyed by their title without the layout.
func sections(out string) map[string]string {
	m := map[string]string{}
	title := ""
	for _, line := range strings.SplitAfter(out, "\n") {
		if strings.HasPrefix(line, "host ") {
			title = line
		}
		if title != "" && strings.HasPrefix(line, " ") || line == title {
			m[title] += line
		}
	}
	return m
}

// TestVerifySetsLayout is the packet proof of the nftables sets layout:
// for every example, the same probes must do the same as with the
// readable layout (whose matrices are golden), down to the last line.
func TestVerifySetsLayout(t *testing.T) {
	t.Parallel()
	kerneltest.Require(t, "nft")
	kerneltest.TimesPackets(t)
	for _, file := range examples(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".toml")
		code, out, errs := runIn("", "verify", file, "--target", "nftables", "--layout", "sets", "--parallel", "4")
		if code != 0 {
			t.Errorf("%s: exit %d\n%s%s", name, code, out, errs)
		}
		readable, err := os.ReadFile(filepath.Join("testdata", "verify", name+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		want, got := sections(string(readable)), sections(out)
		n := 0
		for title, matrix := range got {
			n++
			if want[title] != matrix {
				t.Errorf("%s: %s differs from the readable layout's matrix:\n%s\nwant:\n%s", name, strings.TrimSpace(title), matrix, want[title])
			}
		}
		if n == 0 {
			t.Errorf("%s: no matrix in the output:\n%s", name, out)
		}
	}
}

// TestVerifySampling: a plan that cannot cover every rule (more address
// sets than namespaces) fails verify, naming what it left out, unless
// --sample accepts sampling; then verify says it sampled.
func TestVerifySampling(t *testing.T) {
	t.Parallel()
	kerneltest.Require(t, "nft")
	var b strings.Builder
	b.WriteString("[hosts.h1]\naddresses = [\"192.0.2.1\"]\n[groups]\n")
	for i := range 40 {
		fmt.Fprintf(&b, "g%02d = [\"10.0.%d.1\"]\n", i, i)
	}
	for i := range 40 {
		fmt.Fprintf(&b, "[[allow]]\nfrom = \"g%02d\"\nto = \"h1\"\nprotocol = \"tcp\"\nports = %d\n", i, 2000+i)
	}
	file := filepath.Join(t.TempDir(), "many.toml")
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runIn("", "verify", file, "--target", "nftables")
	if code != 1 || !strings.Contains(errs, "portwall: verify h1 with nftables: not every rule was probed: ") || !strings.Contains(out, "  sampled: ") {
		t.Errorf("without --sample: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	code, out, errs = runIn("", "verify", file, "--target", "nftables", "--sample", "20")
	if code != 0 || !strings.Contains(out, "verified, sampled (--sample 20): 1 host ruleset") || !strings.Contains(out, "  sampled: 20 of ") {
		t.Errorf("--sample 20: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
}

// progressOnly drops verify's progress lines from its standard error.
func progressOnly(stderr string) string {
	var rest []string
	for _, l := range strings.SplitAfter(stderr, "\n") {
		if l != "" && !strings.HasPrefix(l, "[") && !strings.HasPrefix(l, "portwall: verify: ") {
			rest = append(rest, l)
		}
	}
	return strings.Join(rest, "")
}

// TestVerifyFirewalld is the packet proof of the firewalld output: for
// every example, each host's configuration is loaded by its script into a
// private firewalld daemon in the host's namespace (both configuration
// checks must pass), and the same probes must do the same as with the
// nftables output (whose matrices are golden), down to the last line. The
// log gives the counts. It does not run beside the other packet proofs:
// a firewalld daemon and its Python tools take seconds of CPU each, and
// on a loaded machine the other proofs' probes time out before the rules
// are even loaded.
func TestVerifyFirewalld(t *testing.T) {
	kerneltest.Require(t, fwd.Tools...)
	verifyLikeNftables(t, "firewalld")
}

// TestVerifyUfw is the packet proof of the ufw output: for every
// example, each host's script is loaded (with --enable) into ufw in the
// host's namespace, with a private configuration (the package's defaults),
// ufw must be active, and the same probes must do the same as with the
// nftables output (whose matrices are golden), down to the last line. The
// log gives the counts. Like the firewalld proof it runs alone: every ufw
// command is a Python start.
func TestVerifyUfw(t *testing.T) {
	kerneltest.Require(t, ufwenv.Tools...)
	verifyLikeNftables(t, "ufw")
}

// verifyLikeNftables runs verify --target target on every example and
// holds each host's matrix to the nftables one (golden), line for line;
// the log gives the counts.
func verifyLikeNftables(t *testing.T, target string) {
	var total [4]int
	for _, file := range examples(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".toml")
		start := time.Now()
		code, out, errs := runIn("", "verify", file, "--target", target, "--parallel", "2")
		if code != 0 {
			t.Errorf("%s: exit %d\n%s%s", name, code, out, errs)
		}
		nft, err := os.ReadFile(filepath.Join("testdata", "verify", name+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		want := sections(strings.ReplaceAll(string(nft), ", nftables (", ", "+target+" ("))
		got := sections(out)
		for title, matrix := range got {
			if want[title] != matrix {
				t.Errorf("%s: %s differs from the nftables matrix:\n%s\nwant:\n%s", name, strings.TrimSpace(title), matrix, want[title])
			}
		}
		var c [4]int
		for _, line := range strings.Split(out, "\n") {
			var l [4]int
			if n, _ := fmt.Sscanf(strings.TrimSpace(line), "%d allowed and passed, %d blocked and stopped, %d mismatches (%d allowed but stopped", &l[0], &l[1], &l[2], &l[3]); n == 4 {
				for i := range c {
					c[i] += l[i]
				}
			}
		}
		if len(got) == 0 || c[0] == 0 || c[1] == 0 {
			t.Errorf("%s: no matrix, or no probe of one kind:\n%s", name, out)
		}
		t.Logf("%s: %d host rulesets, %d allowed and passed, %d blocked and stopped, %d mismatches, %s", name, len(got), c[0], c[1], c[2], time.Since(start).Round(100*time.Millisecond))
		for i := range total {
			total[i] += c[i]
		}
	}
	t.Logf("%s, every host of every example: %d allowed and passed, %d blocked and stopped, %d mismatches", target, total[0], total[1], total[2])
}
