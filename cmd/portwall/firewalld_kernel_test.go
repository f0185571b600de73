package main

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	fwd "github.com/portwall/portwall/internal/netns/firewalld"
	"github.com/portwall/portwall/internal/pending"
	"github.com/portwall/portwall/internal/testkit/kerneltest"
)

// fwdDaemons bounds how many private firewalld daemons these tests run at
// once: each is a Python process that takes seconds of CPU to start.
var fwdDaemons = make(chan struct{}, 2)

// fwdForeign are another tool's objects, which diff and apply must leave
// as they are, byte for byte: a zone, a policy and a service, and a file
// named like portwall's in a directory portwall does not write.
var fwdForeign = map[string]string{
	"zones/foreign.xml": `<?xml version="1.0" encoding="utf-8"?>
<zone target="ACCEPT">
  <short>foreign</short>
  <!-- another tool's comment -->
  <source address="203.0.113.0/24"/>
  <service name="foreign-svc"/>
</zone>
`,
	"policies/foreign-out.xml": `<?xml version="1.0" encoding="utf-8"?>
<policy target="CONTINUE" priority="100">
  <ingress-zone name="HOST"/>
  <egress-zone name="ANY"/>
  <port port="7000" protocol="tcp"/>
</policy>
`,
	"services/foreign-svc.xml": `<?xml version="1.0" encoding="utf-8"?>
<service>
  <short>foreign</short>
  <port port="4444" protocol="tcp"/>
</service>
`,
	"ipsets/portwall-foreign.xml": `<?xml version="1.0" encoding="utf-8"?>
<ipset type="hash:ip">
  <entry>192.0.2.99</entry>
</ipset>
`,
}

// fwdLab is a private firewalld in a throwaway namespace whose
// configuration holds the foreign objects.
type fwdLab struct {
	ns     *kerneltest.Netns
	d      *fwd.Daemon
	config string
	bus    string
}

func newFwdLab(t *testing.T) *fwdLab {
	t.Helper()
	kerneltest.Require(t, fwd.Tools...)
	t.Setenv(pending.StateEnv, t.TempDir())
	fwdDaemons <- struct{}{}
	t.Cleanup(func() { <-fwdDaemons })
	dir := t.TempDir()
	l := &fwdLab{ns: kerneltest.New(t), config: filepath.Join(dir, "etc")}
	if err := fwd.Seed(l.config); err != nil {
		t.Fatal(err)
	}
	for name, data := range fwdForeign {
		if err := os.WriteFile(filepath.Join(l.config, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d, err := fwd.Start(context.Background(), l.ns.NS, l.config, dir)
	if err != nil {
		t.Fatal(err)
	}
	// Registered after the namespace's cleanup, so run before it.
	t.Cleanup(func() {
		if err := d.Stop(); err != nil {
			t.Error(err)
		}
	})
	l.d = d
	l.bus = strings.TrimPrefix(d.Env()[0], "DBUS_SYSTEM_BUS_ADDRESS=")
	return l
}

// pw runs portwall against the lab's firewalld.
func (l *fwdLab) pw(stdin string, args ...string) (int, string, string) {
	return runIn(stdin, append(args, "--target", "firewalld", "--netns", l.ns.Name, "--firewalld-dir", l.config, "--firewalld-bus", l.bus)...)
}

func (l *fwdLab) cmd(t *testing.T, args ...string) string {
	t.Helper()
	out, err := l.d.Cmd(context.Background(), args...)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// files is every file of the configuration, with its mode, by name.
func (l *fwdLab) files(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(l.config, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(l.config, path)
		out[rel] = info.Mode().String() + "\n" + string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// foreign is the foreign objects' files and what the daemon runs of them.
func (l *fwdLab) foreign(t *testing.T) string {
	t.Helper()
	files := l.files(t)
	var names []string
	for n := range fwdForeign {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n + ":\n" + files[n])
	}
	b.WriteString(l.cmd(t, "--info-zone=foreign") + "\n" + l.cmd(t, "--info-policy=foreign-out") + "\n" + l.cmd(t, "--info-service=foreign-svc") + "\n")
	return b.String()
}

// runtime is what the daemon runs: its default zone, zone portwall and
// the ruleset it made.
func (l *fwdLab) runtime(t *testing.T) string {
	t.Helper()
	zone, _ := l.d.Cmd(context.Background(), "--info-zone=portwall")
	return l.cmd(t, "--get-default-zone") + "\n" + zone + "\n" + l.ns.MustRun("nft", "list", "ruleset")
}

func (l *fwdLab) mustApply(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := l.pw("", append([]string{"apply"}, args...)...)
	if code != 0 {
		t.Fatalf("apply %v: exit %d\n%s%s", args, code, out, errs)
	}
	return out
}

// TestFirewalldDiffApply: diff shows a fresh host's drift, apply loads
// it, diff is then clean and a second apply changes nothing; hand-made
// drift, permanent or runtime only, is reported and put right; a file
// firewall-cmd --permanent rewrote (comments gone, elements reordered)
// compares equal when it means the same; the foreign objects stay
// byte for byte, on disk and in the daemon.
func TestFirewalldDiffApply(t *testing.T) {
	l := newFwdLab(t)
	foreign := l.foreign(t)
	code, out, errs := l.pw("", "diff", xeams, "--host", "xeams1")
	if code != exitDrift || !strings.Contains(out, "+# zones/portwall.xml\n") || !strings.Contains(out, "-DefaultZone=public\n+DefaultZone=portwall\n") {
		t.Fatalf("diff of a fresh host: exit %d\n%s%s", code, out, errs)
	}
	if code, _, _ := l.pw("", "apply", xeams, "--host", "xeams1", "--dry-run"); code != exitDrift || len(l.files(t)) != len(fwdForeign)+1 {
		t.Fatalf("apply --dry-run: exit %d, or it wrote files", code)
	}
	out = l.mustApply(t, xeams, "--host", "xeams1")
	if !strings.Contains(out, "Applied: ") {
		t.Errorf("apply: %s", out)
	}
	if got := l.cmd(t, "--get-default-zone"); got != "portwall" {
		t.Errorf("default zone %s", got)
	}
	if code, out, errs := l.pw("", "diff", xeams, "--host", "xeams1"); code != 0 || out != "0 to add, 0 to remove, 0 to change\n" {
		t.Fatalf("diff after apply: exit %d\n%s%s", code, out, errs)
	}
	files, rt := l.files(t), l.runtime(t)
	if out := l.mustApply(t, xeams, "--host", "xeams1"); !strings.Contains(out, "Nothing to apply") {
		t.Errorf("second apply: %s", out)
	}
	if diff := cmp.Diff(files, l.files(t)); diff != "" {
		t.Errorf("the second apply changed files:\n%s", diff)
	}
	if diff := cmp.Diff(rt, l.runtime(t)); diff != "" {
		t.Errorf("the second apply changed the runtime:\n%s", diff)
	}

	// A --permanent edit that changes nothing rewrites the file in
	// firewalld's own layout: no drift.
	l.cmd(t, "--permanent", "--zone=portwall", "--add-port=9999/tcp")
	l.cmd(t, "--permanent", "--zone=portwall", "--remove-port=9999/tcp")
	if l.files(t)["zones/portwall.xml"] == files["zones/portwall.xml"] {
		t.Fatal("firewall-cmd --permanent did not rewrite the zone's file")
	}
	if code, out, errs := l.pw("", "diff", xeams, "--host", "xeams1"); code != 0 {
		t.Errorf("a rewritten file of the same meaning: exit %d\n%s%s", code, out, errs)
	}

	// Drift: a permanent port, and a runtime-only one.
	l.cmd(t, "--permanent", "--zone=portwall", "--add-port=9999/tcp")
	l.cmd(t, "--zone=portwall", "--add-port=8888/tcp")
	code, out, errs = l.pw("", "diff", xeams, "--host", "xeams1", "--format", "json")
	var doc fwdDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != exitDrift {
		t.Fatalf("diff --format json: exit %d, %v\n%s%s", code, err, out, errs)
	}
	if doc.Remove != 1 || doc.Add != 0 || len(doc.Changes) != 1 || doc.Changes[0].Live != `<port port="9999" protocol="tcp"/>` || doc.Changes[0].Kind != "zone" {
		t.Errorf("changes: %+v", doc.Changes)
	}
	wantRT := []string{
		"runtime: zone portwall has port 8888/tcp, its permanent configuration does not (a change without --permanent?)",
		"runtime: zone portwall lacks port 9999/tcp of its permanent configuration (not reloaded?)",
	}
	if diff := cmp.Diff(wantRT, doc.Runtime); diff != "" {
		t.Errorf("runtime (-want +got):\n%s", diff)
	}
	if !strings.Contains(doc.Unified, "\n-  <port port=\"9999\" protocol=\"tcp\"/>\n") || !strings.Contains(doc.Summary, "and a reload") {
		t.Errorf("unified diff:\n%s\n%s", doc.Unified, doc.Summary)
	}
	l.mustApply(t, xeams, "--host", "xeams1")
	if code, out, errs := l.pw("", "diff", xeams, "--host", "xeams1"); code != 0 {
		t.Errorf("diff after putting the drift right: exit %d\n%s%s", code, out, errs)
	}
	if diff := cmp.Diff(rt, l.runtime(t)); diff != "" {
		t.Errorf("the runtime is not the first apply's:\n%s", diff)
	}
	if after := l.foreign(t); after != foreign {
		t.Errorf("foreign objects changed (-before +after):\n%s", cmp.Diff(foreign, after))
	}
}

// TestFirewalldRollback: apply --confirm-timeout without a confirmation
// puts back exactly the files that were there (bytes and modes, a
// hand-edited file with its comment, firewalld.conf) and reloads them:
// the daemon runs what it ran before. From a host without portwall's
// files, the default zone comes back too.
func TestFirewalldRollback(t *testing.T) {
	l := newFwdLab(t)
	for _, step := range []struct {
		name  string
		setup func()
	}{
		{"first load", func() {}},
		{"over a hand-edited configuration", func() {
			l.mustApply(t, xeams, "--host", "xeams1")
			p := filepath.Join(l.config, "services", "portwall-hand.xml")
			if err := os.WriteFile(p, []byte("<?xml version=\"1.0\"?>\n<service><!-- by hand --><port port=\"7777\" protocol=\"tcp\"/></service>\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			l.cmd(t, "--reload")
		}},
	} {
		step.setup()
		files, rt, foreign := l.files(t), l.runtime(t), l.foreign(t)
		code, out, errs := l.pw("", "apply", site, "--host", "mail1", "--confirm-timeout", "1s")
		if code != exitRolledBack || !strings.Contains(out, "Applied: ") || !strings.Contains(errs, "rolled back to portwall's previous firewalld files") {
			t.Fatalf("%s: exit %d\n%s%s", step.name, code, out, errs)
		}
		if diff := cmp.Diff(files, l.files(t)); diff != "" {
			t.Errorf("%s: files not restored exactly (-before +after):\n%s", step.name, diff)
		}
		if diff := cmp.Diff(rt, l.runtime(t)); diff != "" {
			t.Errorf("%s: the runtime is not what it was (-before +after):\n%s", step.name, diff)
		}
		if after := l.foreign(t); after != foreign {
			t.Errorf("%s: foreign objects changed", step.name)
		}
	}
}

// TestFirewalldConfirmAndPlan: apply --no-wait leaves the change pending
// for portwall confirm (or portwall rollback); a saved plan applies only
// while nothing changed since diff.
func TestFirewalldConfirmAndPlan(t *testing.T) {
	l := newFwdLab(t)
	l.mustApply(t, xeams, "--host", "xeams1")
	before := l.files(t)

	code, out, errs := l.pw("", "apply", site, "--host", "mail1", "--confirm-timeout", "1m", "--no-wait", "--format", "json")
	var doc fwdDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 0 || doc.Pending == nil || doc.Pending.Target != pending.TargetFirewalld {
		t.Fatalf("apply --no-wait: exit %d, %v\n%s%s", code, err, out, errs)
	}
	// Another apply waits for it, whatever its target.
	if code, _, errs := runIn("", "apply", xeams, "--host", "xeams1", "--netns", l.ns.Name); code != 1 || !strings.Contains(errs, "another apply is waiting for confirmation") {
		t.Errorf("nftables apply while firewalld's waits: exit %d: %s", code, errs)
	}
	if code, _, errs := runIn("", "rollback", "--netns", l.ns.Name); code != 0 {
		t.Fatalf("rollback: exit %d: %s", code, errs)
	}
	if diff := cmp.Diff(before, l.files(t)); diff != "" {
		t.Errorf("portwall rollback did not put the files back:\n%s", diff)
	}
	if code, out, errs := l.pw("", "apply", site, "--host", "mail1", "--confirm-timeout", "1m", "--no-wait"); code != 0 || !strings.Contains(out, "Pending: run `portwall confirm --netns") {
		t.Fatalf("apply --no-wait: exit %d\n%s%s", code, out, errs)
	}
	if code, _, errs := runIn("", "confirm", "--netns", l.ns.Name); code != 0 {
		t.Fatalf("confirm: exit %d: %s", code, errs)
	}
	time.Sleep(1500 * time.Millisecond) // the timer has nothing left to do
	if code, _, _ := l.pw("", "diff", site, "--host", "mail1"); code != 0 {
		t.Errorf("the confirmed change did not stay")
	}

	// Plans.
	plan := filepath.Join(t.TempDir(), "plan.json")
	if code, _, errs := l.pw("", "diff", xeams, "--host", "xeams1", "--save-plan", plan); code != exitDrift {
		t.Fatalf("diff --save-plan: exit %d: %s", code, errs)
	}
	l.cmd(t, "--zone=portwall", "--add-port=8888/tcp")
	files := l.files(t)
	code, _, errs = l.pw("", "apply", xeams, "--host", "xeams1", "--plan", plan)
	if code != 1 || !strings.Contains(errs, "changed since the plan") {
		t.Errorf("apply --plan after a change: exit %d: %s", code, errs)
	}
	if diff := cmp.Diff(files, l.files(t)); diff != "" {
		t.Errorf("a refused plan changed files:\n%s", diff)
	}
	if code, _, errs := l.pw("", "apply", site, "--host", "mail1", "--plan", plan); code != 1 || !strings.Contains(errs, "is for host xeams1") {
		t.Errorf("a plan for another host: exit %d: %s", code, errs)
	}
	if code, _, errs := l.pw("", "diff", xeams, "--host", "xeams1", "--save-plan", plan); code != exitDrift {
		t.Fatalf("diff --save-plan: exit %d: %s", code, errs)
	}
	l.mustApply(t, xeams, "--host", "xeams1", "--plan", plan)
	if code, out, _ := l.pw("", "diff", xeams, "--host", "xeams1"); code != 0 {
		t.Errorf("after the plan: exit %d\n%s", code, out)
	}
}

// TestFirewalldReloadFailure: a configuration that passes
// firewall-offline-cmd --check-config but that firewalld fails to load (a
// direct rule iptables refuses) makes apply put portwall's previous files
// back and fail, with nothing pending.
func TestFirewalldReloadFailure(t *testing.T) {
	l := newFwdLab(t)
	l.mustApply(t, xeams, "--host", "xeams1")
	direct := filepath.Join(l.config, "direct.xml")
	if err := os.WriteFile(direct, []byte(`<?xml version="1.0" encoding="utf-8"?>
<direct>
  <rule ipv="ipv4" table="filter" chain="INPUT" priority="0">-p tcp --dport 1 -j NO_SUCH_TARGET</rule>
</direct>
`), 0o644); err != nil {
		t.Fatal(err)
	}
	files := l.files(t)
	code, out, errs := l.pw("", "apply", site, "--host", "mail1", "--confirm-timeout", "1m")
	if code != 1 || !strings.Contains(errs, "firewalld did not load the new configuration") || !strings.Contains(errs, "portwall's previous files are back") {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if diff := cmp.Diff(files, l.files(t)); diff != "" {
		t.Errorf("the previous files are not back (-before +after):\n%s", diff)
	}
	if code, _, errs := runIn("", "confirm", "--netns", l.ns.Name); code != exitNothingPending || !strings.Contains(errs, "cancelled") {
		t.Errorf("confirm after a failed apply: exit %d: %s", code, errs)
	}
	if err := os.Remove(direct); err != nil {
		t.Fatal(err)
	}
	l.cmd(t, "--reload")
	if code, out, _ := l.pw("", "diff", xeams, "--host", "xeams1"); code != 0 {
		t.Errorf("the previous configuration does not load again: exit %d\n%s", code, out)
	}
}

// TestFirewalldLockout: apply refuses files whose zone would block the
// SSH connection it runs over, unless --force; a broken staged
// configuration is refused before anything changes.
func TestFirewalldLockout(t *testing.T) {
	l := newFwdLab(t)
	// xeams1 allows SSH from 192.168.10.0/24 only.
	t.Setenv("SSH_CONNECTION", "203.0.113.9 50000 192.168.10.25 22")
	code, _, errs := l.pw("", "apply", xeams, "--host", "xeams1")
	if code != 1 || !strings.Contains(errs, "zone portwall would block SSH from 203.0.113.9 to port 22") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if len(l.files(t)) != len(fwdForeign)+1 {
		t.Errorf("a refused apply wrote files")
	}
	t.Setenv("SSH_CONNECTION", "192.168.10.7 50000 192.168.10.25 22")
	l.mustApply(t, xeams, "--host", "xeams1")

	if err := os.WriteFile(filepath.Join(l.config, "zones", "broken.xml"), []byte("<zone><bogus/></zone>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	files := l.files(t)
	code, _, errs = l.pw("", "apply", site, "--host", "mail1", "--force")
	if code != 1 || !strings.Contains(errs, "does not pass firewall-offline-cmd --check-config, so nothing was changed") {
		t.Errorf("broken configuration: exit %d: %s", code, errs)
	}
	if diff := cmp.Diff(files, l.files(t)); diff != "" {
		t.Errorf("a refused apply changed files:\n%s", diff)
	}
}
