package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portwall/portwall/internal/pending"
	"github.com/portwall/portwall/internal/testkit/golden"
	"github.com/portwall/portwall/internal/testkit/kerneltest"
)

// runIn runs portwall with stdin and returns its exit status and output.
// The live tests are not parallel: github.com/google/nftables waits for
// netlink replies with select(2), whose fd sets end at 1023, and panics on a
// socket numbered above. The packet proofs of the verify tests (parallel,
// so they start after these) hold thousands of sockets open in this
// process.

func runIn(stdin string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Run(append([]string{"portwall"}, args...), strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// exampleHosts lists (example file, host, its nftables script) for every
// host of every example.
type exampleHost struct{ file, host, script string }

func exampleHosts(t *testing.T, layout string) []exampleHost {
	var out []exampleHost
	for _, f := range examples(t) {
		dir := t.TempDir()
		run(t, "generate", f, "--target", "nftables", "--layout", layout, "--all-hosts", "--out-dir", dir)
		scripts, _ := filepath.Glob(filepath.Join(dir, "*.nft"))
		for _, s := range scripts {
			out = append(out, exampleHost{f, strings.TrimSuffix(filepath.Base(s), ".nft"), s})
		}
	}
	return out
}

// TestLiveEveryExample: for every example host, apply then diff finds no
// drift, and nft -f of the generated script then diff finds none either.
func TestLiveEveryExample(t *testing.T) {
	kerneltest.Require(t, "nft")
	for _, layout := range []string{"readable", "sets"} {
		for _, h := range exampleHosts(t, layout) {
			t.Run(layout+"/"+strings.TrimSuffix(filepath.Base(h.file), ".toml")+"/"+h.host, func(t *testing.T) {
				ns := kerneltest.New(t)
				if code, out, errs := runIn("", "apply", h.file, "--host", h.host, "--netns", ns.Name, "--layout", layout); code != 0 {
					t.Fatalf("apply: exit %d\n%s%s", code, out, errs)
				}
				if code, out, errs := runIn("", "diff", h.file, "--host", h.host, "--netns", ns.Name, "--layout", layout); code != 0 || out != "0 to add, 0 to remove, 0 to change\n" {
					t.Errorf("diff after apply: exit %d\n%s%s", code, out, errs)
				}
				loaded := kerneltest.New(t)
				loaded.MustRun("nft", "-f", h.script)
				if code, out, errs := runIn("", "diff", h.file, "--host", h.host, "--netns", loaded.Name, "--layout", layout); code != 0 || out != "0 to add, 0 to remove, 0 to change\n" {
					t.Errorf("diff after nft -f: exit %d\n%s%s", code, out, errs)
				}
				// And the other layout is drift: diff compares exactly.
				other := map[string]string{"readable": "sets", "sets": "readable"}[layout]
				if code, _, _ := runIn("", "diff", h.file, "--host", h.host, "--netns", loaded.Name, "--layout", other); code != 2 {
					t.Errorf("diff against the %s layout: exit %d, want 2", other, code)
				}
			})
		}
	}
}

const xeams = "../../examples/xeams.toml"

// xeamsLoaded returns a namespace with the Xeams example's table loaded by
// nft -f.
func xeamsLoaded(t *testing.T) *kerneltest.Netns {
	t.Helper()
	ns := kerneltest.New(t)
	ns.MustRun("nft", "-f", "testdata/golden/xeams/nftables/xeams1.nft")
	return ns
}

// TestLiveDrift makes each kind of change by hand and compares diff's
// output with testdata/live/<case>.txt: every one is drift (exit 2).
func TestLiveDrift(t *testing.T) {
	kerneltest.Require(t, "nft")
	cases := map[string][]string{
		"rule-added":              {"add rule inet portwall input tcp dport 9999 accept"},
		"rule-deleted":            {"delete rule inet portwall input handle 12"},
		"port-changed":            {`replace rule inet portwall input handle 13 tcp dport 2525 accept comment "pw:rd1471c0ade35 xeams/smtp: smtp-in"`},
		"address-changed":         {`replace rule inet portwall input handle 14 ip saddr 192.168.99.0/24 tcp dport @ports_22_993_1995 accept comment "pw:rc4e3cf3d8e20 xeams/pop3s-server: pop3s-server; xeams/imaps-server: imaps-server; allow[0] (service ssh): administration"`},
		"element-added":           {"add element inet portwall ports_22_993_1995 { 8080 }"},
		"element-removed":         {"delete element inet portwall ports_22_993_1995 { 1995 }"},
		"policy-changed":          {"chain inet portwall input { policy accept ; }"},
		"table-missing":           {"delete table inet portwall"},
		"unrecognised-expression": {"add rule inet portwall input socket transparent 1 accept", "add rule inet portwall input meta mark set 1 accept"},
	}
	for name, cmds := range cases {
		t.Run(name, func(t *testing.T) {
			ns := xeamsLoaded(t)
			for _, c := range cmds {
				ns.MustRun("sh", "-c", "nft '"+c+"'")
			}
			code, out, errs := runIn("", "diff", xeams, "--host", "xeams1", "--netns", ns.Name)
			if code != 2 || errs != "" {
				t.Errorf("exit %d, want 2\n%s", code, errs)
			}
			golden.Compare(t, filepath.Join("testdata/live", name+".txt"), []byte(out))
			code, out, _ = runIn("", "diff", xeams, "--host", "xeams1", "--netns", ns.Name, "--format", "json")
			if code != 2 || !strings.Contains(out, `"drift": true`) {
				t.Errorf("json: exit %d\n%s", code, out)
			}
		})
	}
}

// TestDiffIsReadOnly: diff, with drift, leaves `nft list ruleset` byte for
// byte as it was.
func TestDiffIsReadOnly(t *testing.T) {
	kerneltest.Require(t, "nft")
	ns := xeamsLoaded(t)
	ns.MustRun("nft", "add", "rule", "inet", "portwall", "input", "tcp", "dport", "9999", "accept")
	ns.MustRun("nft", "add", "table", "ip", "other")
	before := ns.MustRun("nft", "list", "ruleset")
	for _, format := range []string{"text", "json"} {
		if code, _, errs := runIn("", "diff", xeams, "--host", "xeams1", "--netns", ns.Name, "--format", format); code != 2 {
			t.Fatalf("exit %d: %s", code, errs)
		}
	}
	if after := ns.MustRun("nft", "list", "ruleset"); after != before {
		t.Errorf("diff changed the ruleset:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	// --dry-run is diff.
	if code, out, _ := runIn("", "apply", xeams, "--host", "xeams1", "--netns", ns.Name, "--dry-run"); code != 2 || !strings.HasSuffix(out, "0 to add, 1 to remove, 0 to change\n") {
		t.Errorf("apply --dry-run: exit %d\n%s", code, out)
	}
	if after := ns.MustRun("nft", "list", "ruleset"); after != before {
		t.Errorf("apply --dry-run changed the ruleset")
	}
}

// TestApplyLeavesOtherTables: apply touches only table inet portwall.
func TestApplyLeavesOtherTables(t *testing.T) {
	kerneltest.Require(t, "nft")
	ns := xeamsLoaded(t)
	if out, err := ns.RunStdin([]byte(otherTables), "nft", "-f", "-"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	others := func() string {
		return ns.MustRun("nft", "list", "table", "ip", "filter") + ns.MustRun("nft", "list", "table", "inet", "other")
	}
	before := others()
	ns.MustRun("nft", "add", "rule", "inet", "portwall", "input", "tcp", "dport", "9999", "accept")
	if code, out, errs := runIn("", "apply", xeams, "--host", "xeams1", "--netns", ns.Name); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errs)
	}
	if after := others(); after != before {
		t.Errorf("other tables changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if code, _, _ := runIn("", "diff", xeams, "--host", "xeams1", "--netns", ns.Name); code != 0 {
		t.Errorf("drift after apply")
	}
}

// TestRollback: without "yes" in time, apply puts the previous table back
// exactly; with it, keeps the new one.
func TestRollback(t *testing.T) {
	kerneltest.Require(t, "nft")
	t.Setenv(pending.StateEnv, t.TempDir())
	ns := xeamsLoaded(t)
	ns.MustRun("nft", "add", "rule", "inet", "portwall", "input", "tcp", "dport", "9999", "accept", "comment", `"by hand"`)
	ns.MustRun("nft", "add", "element", "inet", "portwall", "ports_22_993_1995", "{ 8080 }")
	before := ns.MustRun("nft", "list", "ruleset")
	code, out, errs := runIn("", "apply", xeams, "--host", "xeams1", "--netns", ns.Name, "--confirm-timeout", "200ms")
	if code != exitRolledBack || !strings.Contains(errs, "not confirmed within 200ms: rolled back to the previous table") || !strings.Contains(out, "Applied: ") {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if after := ns.MustRun("nft", "list", "ruleset"); after != before {
		t.Errorf("rollback did not restore the table exactly:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	code, out, errs = runIn("yes\n", "apply", xeams, "--host", "xeams1", "--netns", ns.Name, "--confirm-timeout", "10s")
	if code != 0 || !strings.Contains(out, "Confirmed") {
		t.Fatalf("confirmed apply: exit %d\n%s%s", code, out, errs)
	}
	if code, _, _ := runIn("", "diff", xeams, "--host", "xeams1", "--netns", ns.Name); code != 0 {
		t.Errorf("drift after a confirmed apply")
	}
	// Any other answer rolls back at once.
	ns.MustRun("nft", "flush", "chain", "inet", "portwall", "input")
	before = ns.MustRun("nft", "list", "ruleset")
	code, _, errs = runIn("no\n", "apply", xeams, "--host", "xeams1", "--netns", ns.Name, "--confirm-timeout", "1h")
	if code != exitRolledBack || !strings.Contains(errs, `answered "no", not yes: rolled back`) {
		t.Fatalf("answered no: exit %d\n%s", code, errs)
	}
	if after := ns.MustRun("nft", "list", "ruleset"); after != before {
		t.Errorf("answering no did not restore the table")
	}
	// Rolling back to no table at all.
	empty := kerneltest.New(t)
	if code, _, errs := runIn("", "apply", xeams, "--host", "xeams1", "--netns", empty.Name, "--confirm-timeout", "100ms"); code != exitRolledBack {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if tables := empty.MustRun("nft", "list", "tables"); tables != "" {
		t.Errorf("rollback left tables: %q", tables)
	}
}

// TestLockoutGuard: apply refuses rules that would block the SSH
// connection it runs over, unless --force.
func TestLockoutGuard(t *testing.T) {
	kerneltest.Require(t, "nft")
	ns := kerneltest.New(t)
	// The Xeams example opens SSH to the office only.
	t.Setenv("SSH_CONNECTION", "203.0.113.7 50000 192.168.10.25 22")
	code, _, errs := runIn("", "apply", xeams, "--host", "xeams1", "--netns", ns.Name)
	if code != 1 || !strings.Contains(errs, "would block SSH from 203.0.113.7 to port 22") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if tables := ns.MustRun("nft", "list", "tables"); tables != "" {
		t.Errorf("a refused apply changed the ruleset: %q", tables)
	}
	if code, _, errs := runIn("", "apply", xeams, "--host", "xeams1", "--netns", ns.Name, "--force"); code != 0 {
		t.Fatalf("--force: exit %d: %s", code, errs)
	}
	// The FortiMail example allows SSH from the jump host.
	t.Setenv("SSH_CONNECTION", "10.20.9.9 50000 192.0.2.11 22")
	if code, _, errs := runIn("", "apply", "../../examples/fortimail-ha.toml", "--host", "fml1", "--netns", ns.Name); code != 0 {
		t.Fatalf("allowed session refused: exit %d: %s", code, errs)
	}
}

func TestLiveNeedsAHost(t *testing.T) {
	code, _, errs := runIn("", "diff", xeams, "--host", "xeam1")
	if code != 1 || !strings.Contains(errs, `unknown host "xeam1"; did you mean "xeams1"?`) {
		t.Errorf("exit %d: %s", code, errs)
	}
	if _, err := os.Stat("/var/run/netns/pw-does-not-exist"); err == nil {
		t.Skip("namespace exists")
	}
	code, _, errs = runIn("", "diff", xeams, "--host", "xeams1", "--netns", "pw-does-not-exist")
	if code != 1 || !strings.Contains(errs, "network namespace pw-does-not-exist") {
		t.Errorf("exit %d: %s", code, errs)
	}
}
