// Package fleet runs the Ansible collection in examples/ansible against a
// fleet of 20 managed hosts, each a network namespace on this machine
// (connection local, the namespace in the module's netns option; the
// "lossy" connection plugin here, test only, simulates a host that cannot
// be reached again). It needs root, nft and Debian's ansible-core, like the
// kernel tests: skipped without them, a failure under
// PORTWALL_REQUIRE_KERNEL=1.
package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	fwd "github.com/portwall/portwall/internal/netns/firewalld"
	"github.com/portwall/portwall/internal/pending"
	"github.com/portwall/portwall/internal/testkit/kerneltest"
)

const hosts = 20

// fwdHosts run firewalld (each a private daemon in its namespace: they
// take seconds of CPU each, so few).
const fwdHosts = 3

// profile gives every host its address, SSH from the admins and HTTPS from
// anywhere: the nftables hosts node01..node20 and the firewalld hosts
// fw01..fw03.
func profile() string {
	var b strings.Builder
	b.WriteString("name = \"fleet\"\n\n[groups]\nadmins = [\"10.77.100.0/24\", \"fd00:77:100::/64\"]\nfleet = [")
	for i := 1; i <= hosts; i++ {
		fmt.Fprintf(&b, "%q, ", name(i))
	}
	for i := 1; i <= fwdHosts; i++ {
		fmt.Fprintf(&b, "%q, ", fwdName(i))
	}
	b.WriteString("]\n")
	for i := 1; i <= hosts; i++ {
		fmt.Fprintf(&b, "\n[hosts.%s]\naddresses = [\"10.77.0.%d\", \"fd00:77::%d\"]\n", name(i), i, i)
	}
	for i := 1; i <= fwdHosts; i++ {
		fmt.Fprintf(&b, "\n[hosts.%s]\naddresses = [\"10.77.0.%d\", \"fd00:77::%d\"]\n", fwdName(i), 100+i, 100+i)
	}
	b.WriteString(`
[[allow]]
from = "admins"
to = "fleet"
service = "ssh"
comment = "SSH from the admins"

[[allow]]
from = "any"
to = "fleet"
protocol = "tcp"
ports = [443]
comment = "HTTPS"
`)
	return b.String()
}

func name(i int) string { return fmt.Sprintf("node%02d", i) }

func fwdName(i int) string { return fmt.Sprintf("fw%02d", i) }

type stats struct{ OK, Changed, Failures, Unreachable, Skipped int }

// run is one ansible-playbook run's result from the json callback.
type run struct {
	code    int
	wall    time.Duration
	stats   map[string]stats
	results map[string]map[string]map[string]any // task name -> host -> result
	raw     string
}

type fleet struct {
	t      *testing.T
	dir    string
	env    []string
	ns     map[string]*kerneltest.Netns
	fwd    map[string]*fwd.Daemon
	common []string
}

func (f *fleet) playbook(book string, args ...string) run {
	f.t.Helper()
	argv := append([]string{"-i", filepath.Join(f.dir, "inventory"), "portwall.portwall." + book}, f.common...)
	cmd := exec.Command("ansible-playbook", append(argv, args...)...)
	cmd.Env = f.env
	cmd.Dir = f.dir
	start := time.Now()
	out, err := cmd.Output()
	r := run{wall: time.Since(start), raw: string(out), results: map[string]map[string]map[string]any{}}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		f.t.Fatalf("ansible-playbook: %v", err)
	}
	var doc struct {
		Stats map[string]stats `json:"stats"`
		Plays []struct {
			Tasks []struct {
				Task  struct{ Name string } `json:"task"`
				Hosts map[string]map[string]any
			} `json:"tasks"`
		} `json:"plays"`
	}
	from := strings.IndexByte(string(out), '{')
	if from < 0 {
		f.t.Fatalf("ansible-playbook %s: exit %d, no JSON\n%s", book, r.code, out)
	}
	if err := json.Unmarshal(out[from:], &doc); err != nil {
		f.t.Fatalf("ansible-playbook %s: %v\n%s", book, err, out)
	}
	r.stats = doc.Stats
	for _, p := range doc.Plays {
		for _, task := range p.Tasks {
			if r.results[task.Task.Name] == nil {
				r.results[task.Task.Name] = map[string]map[string]any{}
			}
			for h, res := range task.Hosts {
				r.results[task.Task.Name][h] = res
			}
		}
	}
	return r
}

// with returns the hosts whose stats satisfy ok, sorted.
func (r run) with(ok func(stats) bool) []string {
	var out []string
	for h, s := range r.stats {
		if ok(s) {
			out = append(out, h)
		}
	}
	slices.Sort(out)
	return out
}

func (f *fleet) rulesets() map[string]string {
	out := map[string]string{}
	for h, ns := range f.ns {
		out[h] = ns.MustRun("nft", "list", "ruleset")
	}
	return out
}

func allHosts() []string {
	var out []string
	for i := 1; i <= hosts; i++ {
		out = append(out, name(i))
	}
	return out
}

func TestFleet(t *testing.T) {
	kerneltest.Require(t, append([]string{"nft", "ansible-playbook", "ansible-galaxy", "go"}, fwd.Tools...)...)
	kerneltest.LoadsMachine(t)
	dir := t.TempDir()
	f := &fleet{t: t, dir: dir, ns: map[string]*kerneltest.Netns{}, fwd: map[string]*fwd.Daemon{}}

	// The binary the collection copies to every host, and the collection,
	// built and installed as its README says.
	bin := filepath.Join(dir, "portwall")
	// The release build: static, without urfave/cli's documentation
	// writer (the firewalld hosts' D-Bus client then finds the user
	// without libc).
	build := exec.Command("go", "build", "-tags", "urfave_cli_no_docs", "-o", bin, "../../../../cmd/portwall")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	mustRun(t, "", "ansible-galaxy", "collection", "build", "--output-path", filepath.Join(dir, "dist"), "../..")
	mustRun(t, "", "ansible-galaxy", "collection", "install", "-p", filepath.Join(dir, "collections"), filepath.Join(dir, "dist", "portwall-portwall-1.1.0.tar.gz"))

	good, bad := filepath.Join(dir, "fleet.toml"), filepath.Join(dir, "bad.toml")
	writeFile(t, good, profile())
	writeFile(t, bad, strings.Replace(profile(), "ports = [443]", "ports = [443]\nport = 80", 1))

	var inv strings.Builder
	inv.WriteString("[fleet]\n")
	for i := 1; i <= hosts; i++ {
		ns := kerneltest.New(t)
		ns.MustRun("ip", "link", "add", "pw0", "type", "veth", "peer", "name", "pw1")
		ns.MustRun("ip", "addr", "add", fmt.Sprintf("10.77.0.%d/24", i), "dev", "pw0")
		ns.MustRun("ip", "addr", "add", fmt.Sprintf("fd00:77::%d/64", i), "dev", "pw0", "nodad")
		ns.MustRun("ip", "link", "set", "pw0", "up")
		ns.MustRun("ip", "link", "set", "pw1", "up")
		f.ns[name(i)] = ns
		fmt.Fprintf(&inv, "%s portwall_netns=%s\n", name(i), ns.Name)
	}
	inv.WriteString("\n[fleet:vars]\nansible_connection=local\nansible_python_interpreter=/usr/bin/python3\n")
	// The firewalld hosts: a namespace each, with a private firewalld
	// whose configuration directory and bus the inventory names.
	inv.WriteString("\n[fwd]\n")
	for i := 1; i <= fwdHosts; i++ {
		h := fwdName(i)
		ns := kerneltest.New(t)
		ns.MustRun("ip", "link", "add", "pw0", "type", "veth", "peer", "name", "pw1")
		ns.MustRun("ip", "addr", "add", fmt.Sprintf("10.77.0.%d/24", 100+i), "dev", "pw0")
		ns.MustRun("ip", "addr", "add", fmt.Sprintf("fd00:77::%d/64", 100+i), "dev", "pw0", "nodad")
		ns.MustRun("ip", "link", "set", "pw0", "up")
		ns.MustRun("ip", "link", "set", "pw1", "up")
		scratch := filepath.Join(dir, "fwd", h)
		config := filepath.Join(scratch, "etc")
		if err := fwd.Seed(config); err != nil {
			t.Fatal(err)
		}
		d, err := fwd.Start(context.Background(), ns.NS, config, scratch)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := d.Stop(); err != nil {
				t.Error(err)
			}
		})
		f.ns[h], f.fwd[h] = ns, d
		fmt.Fprintf(&inv, "%s portwall_netns=%s portwall_firewalld_dir=%s portwall_firewalld_bus=%s\n", h, ns.Name, config, strings.TrimPrefix(d.Env()[0], "DBUS_SYSTEM_BUS_ADDRESS="))
	}
	inv.WriteString("\n[fwd:vars]\nportwall_target=firewalld\nansible_connection=local\nansible_python_interpreter=/usr/bin/python3\n")
	writeFile(t, filepath.Join(dir, "inventory"), inv.String())

	plugins, err := filepath.Abs("connection_plugins")
	if err != nil {
		t.Fatal(err)
	}
	f.env = append(os.Environ(),
		"ANSIBLE_COLLECTIONS_PATH="+filepath.Join(dir, "collections"),
		"ANSIBLE_CONNECTION_PLUGINS="+plugins,
		"ANSIBLE_STDOUT_CALLBACK=json",
		"ANSIBLE_LOCAL_TEMP="+filepath.Join(dir, "tmp-local"),
		"ANSIBLE_REMOTE_TMP="+filepath.Join(dir, "tmp-remote"),
		"ANSIBLE_FORKS=10",
		"ANSIBLE_RETRY_FILES_ENABLED=0",
		"ANSIBLE_DEPRECATION_WARNINGS=0",
		pending.StateEnv+"="+filepath.Join(dir, "state"),
	)
	f.common = []string{"-e", "portwall_profile=" + good, "-e", "portwall_bin=" + bin, "-e", "portwall_remote_dir=" + filepath.Join(dir, "remote")}
	all := allHosts()
	var timings []string
	timed := func(what string, r run) {
		timings = append(timings, fmt.Sprintf("%s: %.1fs", what, r.wall.Seconds()))
	}

	// 1. First check run: every host drifted (no table yet).
	r := f.playbook("drift", "--check", "--diff", "-l", "fleet")
	timed("first check run (drift.yml --check --diff)", r)
	if got := r.with(func(s stats) bool { return s.Changed == 1 && s.Failures == 0 }); r.code != 0 || !slices.Equal(got, all) {
		t.Fatalf("first check run: exit %d, changed %v\n%s", r.code, got, r.raw)
	}
	t.Logf("first check run: %d changed, %d ok", len(r.with(func(s stats) bool { return s.Changed > 0 })), len(r.with(func(s stats) bool { return s.Changed == 0 && s.Failures == 0 })))

	// 2. Apply run: every host changed and confirmed, then clean.
	r = f.playbook("rollout", "-l", "fleet", "-e", "portwall_confirm_timeout=60")
	timed("apply run (rollout.yml, verify on the controller, serial 5)", r)
	applied := r.results["Apply the profile's rules"]
	var confirmed []string
	for h, res := range applied {
		if res["changed"] == true && res["confirmed"] == true {
			confirmed = append(confirmed, h)
		}
	}
	slices.Sort(confirmed)
	if r.code != 0 || !slices.Equal(confirmed, all) || len(r.with(func(s stats) bool { return s.Failures > 0 })) > 0 {
		t.Fatalf("apply run: exit %d, confirmed %v\n%s", r.code, confirmed, r.raw)
	}
	t.Logf("apply run: %d changed and confirmed", len(confirmed))

	// 3. Second check run: every host ok.
	r = f.playbook("drift", "--check", "--diff", "-l", "fleet")
	timed("second check run", r)
	if got := r.with(func(s stats) bool { return s.Changed == 0 && s.Failures == 0 }); r.code != 0 || !slices.Equal(got, all) {
		t.Fatalf("second check run: exit %d, ok %v\n%s", r.code, got, r.raw)
	}
	t.Logf("second check run: %d ok", len(all))

	// 4. Drift by hand on two hosts: the check run reports exactly those,
	// with the drifted rule in the diff.
	drifted := []string{"node03", "node11"}
	for _, h := range drifted {
		f.ns[h].MustRun("nft", "add", "rule", "inet", "portwall", "input", "tcp", "dport", "9999", "accept")
	}
	r = f.playbook("drift", "--check", "--diff", "-l", "fleet")
	timed("drift check run", r)
	if got := r.with(func(s stats) bool { return s.Changed > 0 }); r.code != 0 || !slices.Equal(got, drifted) {
		t.Fatalf("drift run: exit %d, changed %v, want %v\n%s", r.code, got, drifted, r.raw)
	}
	for _, h := range drifted {
		res := r.results["Diff"][h]
		diff, _ := json.Marshal(res["diff"])
		if !strings.Contains(string(diff), "tcp dport 9999 accept") || !slices.Contains(anyStrings(res["removed"]), "tcp dport 9999 accept") {
			t.Errorf("%s: the drifted rule is not in the diff: %s", h, diff)
		}
	}
	var report string
	for _, res := range r.results["Report the hosts that drifted"] {
		report, _ = res["msg"].(string)
	}
	if report != "2 of 20 hosts drifted: node03, node11" {
		t.Errorf("report: %q", report)
	}
	t.Logf("drift run: %s", report)
	logHuman(t, f, drifted)

	// 5. A host that is never confirmed: its connection is lost once the
	// change is made. The play fails it; the host rolls itself back.
	lost := "node11"
	before := f.ns[lost].MustRun("nft", "list", "ruleset")
	r = f.playbook("rollout", "-l", lost, "-e", "ansible_connection=lossy", "-e", "portwall_verify=false", "-e", "portwall_confirm_timeout=5")
	timed("lost-connection run (one host, confirm timeout 5s)", r)
	res := r.results["Apply the profile's rules"][lost]
	if r.code == 0 || r.stats[lost].Failures != 1 || res["changed"] != true || res["confirmed"] != false || res["rolled_back"] != true {
		t.Fatalf("lost host: exit %d, %+v\n%s", r.code, res, r.raw)
	}
	t.Logf("lost host %s: failed: %s", lost, res["msg"])
	deadline, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(res["pending"].(map[string]any)["deadline"]))
	var after string
	for time.Now().Before(deadline.Add(10 * time.Second)) {
		if after = f.ns[lost].MustRun("nft", "list", "ruleset"); after == before {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if after != before {
		t.Errorf("%s: the previous table is not back after the timeout", lost)
	} else {
		t.Logf("%s: the previous table is back (drifted rule included), %.1fs after the deadline", lost, time.Since(deadline).Seconds())
	}

	// 6. A bad profile: the play fails on the controller, no host changes.
	beforeAll := f.rulesets()
	f.common[1] = "portwall_profile=" + bad
	r = f.playbook("rollout", "-l", "fleet", "-e", "portwall_verify=false")
	timed("bad-profile run", r)
	if r.code == 0 || !strings.Contains(r.raw, "bad.toml:") || len(r.results["Apply the profile's rules"]) > 0 {
		t.Errorf("bad profile: exit %d\n%s", r.code, r.raw)
	}
	if afterAll := f.rulesets(); !mapsEqual(beforeAll, afterAll) {
		t.Errorf("a bad profile changed hosts")
	}
	// On a host, the module fails with portwall's own message.
	r = f.playbook("drift", "--check", "-l", "node01")
	msg := fmt.Sprint(r.results["Diff"]["node01"]["msg"])
	if r.code == 0 || !strings.HasPrefix(msg, bad+":") || !strings.Contains(msg, `unknown key "port"`) {
		t.Errorf("bad profile on a host: exit %d, msg %q", r.code, msg)
	}
	t.Logf("bad profile on a host: %s", msg)
	f.common[1] = "portwall_profile=" + good

	timings = append(timings, f.firewalld()...)
	for _, l := range timings {
		t.Log("wall time, " + l)
	}
}

// logHuman runs the drift report once more with Ansible's default output
// and logs what it shows for the drifted hosts (the README quotes it).
func logHuman(t *testing.T, f *fleet, drifted []string) {
	t.Helper()
	env := slices.Clone(f.env)
	for i, e := range env {
		if strings.HasPrefix(e, "ANSIBLE_STDOUT_CALLBACK=") {
			env[i] = "ANSIBLE_STDOUT_CALLBACK=default"
		}
	}
	argv := append([]string{"-i", filepath.Join(f.dir, "inventory"), "portwall.portwall.drift", "--check", "--diff", "-l", strings.Join(drifted, ",")}, f.common...)
	cmd := exec.Command("ansible-playbook", argv...)
	cmd.Env, cmd.Dir = append(env, "ANSIBLE_NOCOLOR=1"), f.dir
	out, _ := cmd.CombinedOutput()
	t.Logf("drift report for %v:\n%s", drifted, out)
}

func anyStrings(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, x := range l {
			out = append(out, fmt.Sprint(x))
		}
	}
	return out
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func mustRun(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// firewalld runs the same sequence on the firewalld hosts (group fwd,
// portwall_target=firewalld): first check, rollout with verify --target
// firewalld on the controller, second check, drift made by hand (one
// permanent, one runtime only), and a host never confirmed. It returns
// the wall times.
func (f *fleet) firewalld() []string {
	t := f.t
	t.Helper()
	var all []string
	for i := 1; i <= fwdHosts; i++ {
		all = append(all, fwdName(i))
	}
	var timings []string
	timed := func(what string, r run) {
		timings = append(timings, fmt.Sprintf("firewalld hosts, %s: %.1fs", what, r.wall.Seconds()))
	}
	r := f.playbook("drift", "--check", "--diff", "-l", "fwd")
	timed("first check run", r)
	if got := r.with(func(s stats) bool { return s.Changed == 1 && s.Failures == 0 }); r.code != 0 || !slices.Equal(got, all) {
		t.Fatalf("firewalld: first check run: exit %d, changed %v\n%s", r.code, got, r.raw)
	}
	t.Logf("firewalld: first check run: %d changed, %d ok", len(r.with(func(s stats) bool { return s.Changed > 0 })), len(r.with(func(s stats) bool { return s.Changed == 0 && s.Failures == 0 })))

	r = f.playbook("rollout", "-l", "fwd", "-e", "portwall_confirm_timeout=60")
	timed("apply run (rollout.yml, verify --target firewalld on the controller)", r)
	var confirmed []string
	for h, res := range r.results["Apply the profile's rules"] {
		if res["changed"] == true && res["confirmed"] == true {
			confirmed = append(confirmed, h)
		}
	}
	slices.Sort(confirmed)
	if r.code != 0 || !slices.Equal(confirmed, all) || len(r.with(func(s stats) bool { return s.Failures > 0 })) > 0 {
		t.Fatalf("firewalld: apply run: exit %d, confirmed %v\n%s", r.code, confirmed, r.raw)
	}
	for _, h := range all {
		if z := f.fwdCmd(h, "--get-default-zone"); z != "portwall" {
			t.Errorf("%s: default zone %s", h, z)
		}
	}
	t.Logf("firewalld: apply run: %d changed and confirmed", len(confirmed))
	foreign := f.fwdForeign()

	r = f.playbook("drift", "--check", "--diff", "-l", "fwd")
	timed("second check run", r)
	if got := r.with(func(s stats) bool { return s.Changed == 0 && s.Failures == 0 }); r.code != 0 || !slices.Equal(got, all) {
		t.Fatalf("firewalld: second check run: exit %d, ok %v\n%s", r.code, got, r.raw)
	}
	t.Logf("firewalld: second check run: %d ok", len(all))

	// Drift by hand: fw02 as an administrator would (--permanent, then a
	// reload), fw03 in the runtime only.
	f.fwdCmd("fw02", "--permanent", "--zone=portwall", "--add-port=9999/tcp")
	f.fwdCmd("fw02", "--reload")
	f.fwdCmd("fw03", "--zone=portwall", "--add-port=8888/tcp")
	drifted := []string{"fw02", "fw03"}
	r = f.playbook("drift", "--check", "--diff", "-l", "fwd")
	timed("drift check run", r)
	if got := r.with(func(s stats) bool { return s.Changed > 0 }); r.code != 0 || !slices.Equal(got, drifted) {
		t.Fatalf("firewalld: drift run: exit %d, changed %v, want %v\n%s", r.code, got, drifted, r.raw)
	}
	res := r.results["Diff"]["fw02"]
	diff, _ := res["diff"].(map[string]any)
	if before, _ := diff["before"].(string); !strings.Contains(before, `  <port port="9999" protocol="tcp"/>`) ||
		!slices.Contains(anyStrings(res["removed"]), `zone portwall: <port port="9999" protocol="tcp"/>`) {
		t.Errorf("fw02: the drifted port is not in the diff: %v %v", res["diff"], res["removed"])
	}
	res = r.results["Diff"]["fw03"]
	if rt := anyStrings(res["runtime"]); len(rt) != 1 || !strings.Contains(rt[0], "zone portwall has port 8888/tcp") {
		t.Errorf("fw03: the runtime drift is not reported: %v", res["runtime"])
	}
	var report string
	for _, res := range r.results["Report the hosts that drifted"] {
		report, _ = res["msg"].(string)
	}
	if report != "2 of 3 hosts drifted: fw02, fw03" {
		t.Errorf("firewalld report: %q", report)
	}
	t.Logf("firewalld: drift run: %s", report)
	logHuman(t, f, drifted)

	// fw02 is never confirmed: the host puts its files back (the drift
	// included) and reloads them.
	lost := "fw02"
	before := f.fwdState(lost)
	r = f.playbook("rollout", "-l", lost, "-e", "ansible_connection=lossy", "-e", "portwall_verify=false", "-e", "portwall_confirm_timeout=5")
	timed("lost-connection run (one host, confirm timeout 5s)", r)
	res = r.results["Apply the profile's rules"][lost]
	if r.code == 0 || r.stats[lost].Failures != 1 || res["changed"] != true || res["confirmed"] != false || res["rolled_back"] != true {
		t.Fatalf("firewalld: lost host: exit %d, %+v\n%s", r.code, res, r.raw)
	}
	t.Logf("firewalld: lost host %s: failed: %s", lost, res["msg"])
	deadline, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(res["pending"].(map[string]any)["deadline"]))
	var after string
	for time.Now().Before(deadline.Add(20 * time.Second)) {
		if after = f.fwdState(lost); after == before {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	if after != before {
		t.Errorf("%s: the previous files and runtime are not back after the timeout", lost)
	} else {
		t.Logf("%s: the previous files are back and loaded (drift included), %.1fs after the deadline", lost, time.Since(deadline).Seconds())
	}
	if got := f.fwdForeign(); got != foreign {
		t.Errorf("firewalld's stock objects changed")
	}
	return timings
}

// fwdCmd runs firewall-cmd against a firewalld host's daemon.
func (f *fleet) fwdCmd(h string, args ...string) string {
	f.t.Helper()
	out, err := f.fwd[h].Cmd(context.Background(), args...)
	if err != nil {
		f.t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// fwdState is a firewalld host's files, default zone and ruleset.
func (f *fleet) fwdState(h string) string {
	var b strings.Builder
	dir := f.fwd[h].Config
	_ = filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		fmt.Fprintf(&b, "%s:\n%s", strings.TrimPrefix(p, dir), data)
		return err
	})
	b.WriteString(f.fwdCmd(h, "--get-default-zone") + "\n")
	b.WriteString(f.ns[h].MustRun("nft", "list", "ruleset"))
	return b.String()
}

// fwdForeign is what the daemons run of their stock zones: public's
// settings, which portwall must leave alone.
func (f *fleet) fwdForeign() string {
	var b strings.Builder
	for i := 1; i <= fwdHosts; i++ {
		b.WriteString(f.fwdCmd(fwdName(i), "--info-zone=public") + "\n")
	}
	return b.String()
}
