package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/portwall/portwall/internal/pending"
	"github.com/portwall/portwall/internal/testkit/handmade"
	"github.com/portwall/portwall/internal/testkit/kerneltest"
)

const site = "../../examples/site.toml"

// TestRollbackVerdictMap is issue 12's reproduction: a verdict map with a
// jump to a chain added by hand to the Xeams table; applying another
// profile with --confirm-timeout and no confirmation puts the table back
// byte for byte.
func TestRollbackVerdictMap(t *testing.T) {
	kerneltest.Require(t, "nft")
	t.Setenv(pending.StateEnv, t.TempDir())
	ns := kerneltest.New(t)
	if code, out, errs := runIn("", "apply", xeams, "--host", "xeams1", "--netns", ns.Name); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errs)
	}
	ns.MustRun("nft", "add", "chain", "inet", "portwall", "side")
	ns.MustRun("nft", "add", "rule", "inet", "portwall", "input", "tcp", "dport", "vmap", "{ 7777 : jump side }")
	before := ns.MustRun("nft", "list", "table", "inet", "portwall")
	code, out, errs := runIn("", "apply", site, "--host", "mail1", "--netns", ns.Name, "--confirm-timeout", "2s")
	if code != exitRolledBack || !strings.Contains(errs, "rolled back to the previous table") {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if after := ns.MustRun("nft", "list", "table", "inet", "portwall"); after != before {
		t.Errorf("not restored byte for byte (-before +after):\n%s", cmp.Diff(before, after))
	}
}

// TestRollbackEveryConstruct: for each construct people add by hand,
// apply --confirm-timeout without a confirmation puts the table back
// exactly (`nft list table inet portwall`, the time left of elements
// with a timeout aside).
func TestRollbackEveryConstruct(t *testing.T) {
	kerneltest.Require(t, "nft")
	t.Setenv(pending.StateEnv, t.TempDir())
	for _, tb := range append(handmade.Tables, handmade.Everything()) {
		t.Run(tb.Name, func(t *testing.T) {
			t.Parallel()
			ns := kerneltest.New(t)
			if ok, out := tb.Load(ns); !ok {
				if tb.Device != "" {
					t.Skipf("this kernel cannot hold a %s (nft: %s)", tb.Name, strings.TrimSpace(out))
				}
				t.Fatalf("loading: %s", out)
			}
			before := handmade.Listing(ns)
			code, out, errs := runIn("", "apply", xeams, "--host", "xeams1", "--netns", ns.Name, "--confirm-timeout", "300ms")
			if code != exitRolledBack || !strings.Contains(out, "Applied: ") {
				t.Fatalf("exit %d\n%s%s", code, out, errs)
			}
			if after := handmade.Listing(ns); after != before {
				t.Errorf("not restored exactly (-before +after):\n%s", cmp.Diff(before, after))
			}
		})
	}
}

// TestRefusesATableItCannotRestore: a rule whose kernel dump the kernel
// does not take back (osf: its flags are dumped as 0, and refused as 0)
// makes apply --confirm-timeout refuse before any change, naming it.
func TestRefusesATableItCannotRestore(t *testing.T) {
	kerneltest.Require(t, "nft")
	t.Setenv(pending.StateEnv, t.TempDir())
	ns := xeamsLoaded(t)
	ns.MustRun("nft", "add", "rule", "inet", "portwall", "input", "osf", "name", `"Linux"`, "accept")
	handle := strings.Fields(ns.MustRun("sh", "-c", "nft -a list chain inet portwall input | grep osf"))
	before := ns.MustRun("nft", "list", "ruleset")
	code, out, errs := runIn("", "apply", site, "--host", "mail1", "--netns", ns.Name, "--confirm-timeout", "1m")
	want := "refusing to apply: --confirm-timeout must be able to put the current table back exactly, and cannot: the kernel refused to restore the rule with handle " + handle[len(handle)-1] + " in chain input: invalid argument. Nothing was changed."
	if code != 1 || !strings.Contains(errs, want) || out != "" {
		t.Fatalf("exit %d\n%s%s\nwant %s", code, out, errs, want)
	}
	if after := ns.MustRun("nft", "list", "ruleset"); after != before {
		t.Errorf("a refused apply changed the ruleset")
	}
	// Without a rollback to make, nothing stops it.
	if code, _, errs := runIn("", "apply", site, "--host", "mail1", "--netns", ns.Name); code != 0 {
		t.Errorf("apply without --confirm-timeout: exit %d: %s", code, errs)
	}
}

// applyNoWait applies with --no-wait and returns the pending transaction.
func applyNoWait(t *testing.T, ns *kerneltest.Netns, file, host, timeout string) *pending.Txn {
	t.Helper()
	code, out, errs := runIn("", "apply", file, "--host", host, "--netns", ns.Name, "--confirm-timeout", timeout, "--no-wait", "--format", "json")
	if code != 0 {
		t.Fatalf("apply --no-wait: exit %d\n%s%s", code, out, errs)
	}
	var doc liveDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.Pending == nil || doc.Applied == nil || !*doc.Applied {
		t.Fatalf("apply --no-wait --format json: %v\n%s", err, out)
	}
	return doc.Pending
}

// TestConfirm: apply --no-wait returns with the change made and pending;
// portwall confirm keeps it (exit 0), and says when there is nothing to
// confirm (exit 4), with how the last apply ended.
func TestConfirm(t *testing.T) {
	kerneltest.Require(t, "nft")
	t.Setenv(pending.StateEnv, t.TempDir())
	ns := kerneltest.New(t)
	code, _, errs := runIn("", "confirm", "--netns", ns.Name)
	if code != exitNothingPending || errs != "portwall: nothing to confirm in this network namespace\n" {
		t.Errorf("nothing pending: exit %d: %q", code, errs)
	}
	txn := applyNoWait(t, ns, xeams, "xeams1", "1m")
	if code, _, _ := runIn("", "diff", xeams, "--host", "xeams1", "--netns", ns.Name); code != 0 {
		t.Errorf("the change is not live while pending")
	}
	// Another apply waits until this one is settled.
	code, _, errs = runIn("", "apply", site, "--host", "mail1", "--netns", ns.Name)
	if code != 1 || !strings.Contains(errs, "refusing to apply: another apply is waiting for confirmation in this namespace (host xeams1, transaction "+txn.ID) {
		t.Errorf("apply while pending: exit %d: %s", code, errs)
	}
	if code, _, errs := runIn("", "confirm", "--netns", ns.Name, "--id", "0123456789abcdef"); code != exitNothingPending || !strings.Contains(errs, "nothing pending with ID 0123456789abcdef (transaction "+txn.ID+" is)") {
		t.Errorf("another ID: exit %d: %s", code, errs)
	}
	code, out, errs := runIn("", "confirm", "--netns", ns.Name, "--id", txn.ID)
	if code != 0 || !strings.HasPrefix(out, "Confirmed: keeping the rules of transaction "+txn.ID+" (host xeams1, ") {
		t.Fatalf("confirm: exit %d\n%s%s", code, out, errs)
	}
	code, _, errs = runIn("", "confirm", "--netns", ns.Name)
	if code != exitNothingPending || !strings.Contains(errs, "nothing to confirm in this network namespace; the last apply (transaction "+txn.ID+", host xeams1, ") || !strings.Contains(errs, ") was confirmed at ") {
		t.Errorf("confirmed already: exit %d: %s", code, errs)
	}
	// The timer stops: nothing will roll the confirmed rules back.
	for i := 0; txn.TimerAlive(); i++ {
		if i == 50 {
			t.Fatal("the rollback timer still runs 5s after the confirmation")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, _, _ := runIn("", "diff", xeams, "--host", "xeams1", "--netns", ns.Name); code != 0 {
		t.Errorf("drift after confirming")
	}
}

// TestRollbackCommand: portwall rollback puts the previous table back at
// once.
func TestRollbackCommand(t *testing.T) {
	kerneltest.Require(t, "nft")
	t.Setenv(pending.StateEnv, t.TempDir())
	ns := xeamsLoaded(t)
	before := ns.MustRun("nft", "list", "ruleset")
	txn := applyNoWait(t, ns, site, "mail1", "1h")
	code, out, errs := runIn("", "rollback", "--netns", ns.Name)
	if code != 0 || out != "Rolled back transaction "+txn.ID+" (host mail1): the previous table is back.\n" {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if after := ns.MustRun("nft", "list", "ruleset"); after != before {
		t.Errorf("rollback did not restore the table")
	}
	code, _, errs = runIn("", "confirm", "--netns", ns.Name)
	if code != exitNothingPending || !strings.Contains(errs, "was rolled back at ") || !strings.Contains(errs, ": rolled back by portwall rollback") {
		t.Errorf("confirm after rollback: exit %d: %s", code, errs)
	}
}

// TestPendingPerNamespace: two namespaces wait at once; confirming one
// leaves the other to its timer.
func TestPendingPerNamespace(t *testing.T) {
	kerneltest.Require(t, "nft")
	t.Setenv(pending.StateEnv, t.TempDir())
	a, b := xeamsLoaded(t), xeamsLoaded(t)
	beforeB := b.MustRun("nft", "list", "ruleset")
	ta := applyNoWait(t, a, site, "mail1", "1s")
	tb := applyNoWait(t, b, site, "mail1", "1s")
	if ta.ID == tb.ID {
		t.Fatal("one transaction ID for two namespaces")
	}
	if code, _, errs := runIn("", "confirm", "--netns", a.Name, "--id", tb.ID); code != exitNothingPending {
		t.Errorf("confirmed b's transaction in a: exit %d: %s", code, errs)
	}
	if code, _, errs := runIn("", "confirm", "--netns", a.Name); code != 0 {
		t.Fatalf("confirm a: exit %d: %s", code, errs)
	}
	waitOutcome(t, b, tb)
	if code, _, _ := runIn("", "diff", site, "--host", "mail1", "--netns", a.Name); code != 0 {
		t.Errorf("a: the confirmed rules are gone")
	}
	if after := b.MustRun("nft", "list", "ruleset"); after != beforeB {
		t.Errorf("b: not rolled back")
	}
}

// waitOutcome waits until the transaction in ns has an outcome.
func waitOutcome(t *testing.T, ns *kerneltest.Netns, txn *pending.Txn) *pending.Outcome {
	t.Helper()
	f, err := os.Open("/var/run/netns/" + ns.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	store, err := pending.Open(f)
	if err != nil {
		t.Fatal(err)
	}
	o := store.Wait(txn.ID, txn.Deadline.Add(10*time.Second), nil)
	if o == nil {
		t.Fatalf("transaction %s: no outcome 10s after its deadline", txn.ID)
	}
	return o
}

// TestTimerSurvivesItsCaller: the rollback happens when apply's whole
// process group is killed (as Ansible's async_wrapper does), and when its
// terminal or SSH session hangs up.
func TestTimerSurvivesItsCaller(t *testing.T) {
	kerneltest.Require(t, "nft")
	state := t.TempDir()
	t.Setenv(pending.StateEnv, state)
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			ns := xeamsLoaded(t)
			before := ns.MustRun("nft", "list", "ruleset")
			cmd := exec.Command(os.Args[0], "apply", site, "--host", "mail1", "--netns", ns.Name, "--confirm-timeout", "1s")
			cmd.Env = append(os.Environ(), asMain+"=1")
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			// Standard input stays open, and silent, until the kill.
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			defer stdin.Close()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open("/var/run/netns/" + ns.Name)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			store, _ := pending.Open(f)
			var txn *pending.Txn
			for i := 0; txn == nil || txn.Timer == 0; i++ {
				if i == 100 {
					t.Fatal("no pending transaction after 10s")
				}
				time.Sleep(100 * time.Millisecond)
				txn, _ = store.Pending()
			}
			// Wait until the change is live, then kill the caller's group.
			for i := 0; ; i++ {
				if code, _, _ := runIn("", "diff", site, "--host", "mail1", "--netns", ns.Name); code == 0 {
					break
				}
				if i == 100 {
					t.Fatal("the change is not live after 5s")
				}
				time.Sleep(50 * time.Millisecond)
			}
			if err := syscall.Kill(-cmd.Process.Pid, sig); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			if o := waitOutcome(t, ns, txn); o.Result != pending.RolledBack || o.Detail != "not confirmed within 1s" {
				t.Errorf("outcome %s: %s", o.Result, o.Detail)
			}
			if after := ns.MustRun("nft", "list", "ruleset"); after != before {
				t.Errorf("not rolled back after the caller died (%s)", sig)
			}
		})
	}
}

// TestPlan: apply --plan applies exactly what diff --save-plan showed,
// and refuses when anything changed since: the ruleset, the profile's
// table, the namespace, the host.
func TestPlan(t *testing.T) {
	kerneltest.Require(t, "nft")
	t.Setenv(pending.StateEnv, t.TempDir())
	ns := xeamsLoaded(t)
	plan := filepath.Join(t.TempDir(), "plan.json")
	diff := func() {
		t.Helper()
		if code, _, errs := runIn("", "diff", site, "--host", "mail1", "--netns", ns.Name, "--save-plan", plan); code != exitDrift {
			t.Fatalf("diff --save-plan: exit %d: %s", code, errs)
		}
	}
	diff()
	other := kerneltest.New(t)
	refusals := []struct {
		name   string
		args   []string
		change func()
		want   string
	}{
		{"host", []string{site, "--host", "mail1", "--netns", ns.Name}, nil, ""},
		{"another host", []string{site, "--host", "gw1", "--netns", ns.Name}, nil, "is for host mail1, not gw1"},
		{"another namespace", []string{site, "--host", "mail1", "--netns", other.Name}, nil, "was made in another network namespace"},
		{"another table", []string{site, "--host", "mail1", "--netns", ns.Name, "--layout", "sets"}, nil, "now gives host mail1 another table than the plan"},
		{"ruleset changed", []string{site, "--host", "mail1", "--netns", ns.Name}, func() { ns.MustRun("nft", "add", "table", "ip", "other") }, "the ruleset changed since the plan"},
	}
	for _, r := range refusals[1:] {
		if r.change != nil {
			r.change()
		}
		before := ns.MustRun("nft", "list", "ruleset")
		code, _, errs := runIn("", append([]string{"apply", "--plan", plan}, r.args...)...)
		if code != 1 || !strings.Contains(errs, r.want) {
			t.Errorf("%s: exit %d: %s", r.name, code, errs)
		}
		if after := ns.MustRun("nft", "list", "ruleset"); after != before {
			t.Errorf("%s: a refused plan changed the ruleset", r.name)
		}
	}
	diff()
	code, out, errs := runIn("", append([]string{"apply", "--plan", plan}, refusals[0].args...)...)
	if code != 0 || !strings.Contains(out, "Applied: ") {
		t.Fatalf("apply --plan: exit %d\n%s%s", code, out, errs)
	}
	if code, _, _ := runIn("", "diff", site, "--host", "mail1", "--netns", ns.Name); code != 0 {
		t.Errorf("drift after apply --plan")
	}
}
