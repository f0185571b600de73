package fortigate_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/internal/testkit/backendtest"
	"github.com/portwall/portwall/internal/testkit/rulestest"

	"github.com/portwall/portwall/generators/fortigate"
	"github.com/portwall/portwall/generators/fortigate/fortiparse"
	"github.com/portwall/portwall/profiles"
	"github.com/portwall/portwall/rules/ir"
)

// resolve loads a profile with its [fortigate] section.
func resolve(t *testing.T, file string) (*ir.Ruleset, fortigate.Settings) {
	rs, s := backendtest.Load(t, file, fortigate.Generator{})
	return rs, fortigate.SettingsOf(s)
}

// render runs the backend on the network view as the CLI does and returns
// its files, or the error as a file named "error".
func render(t *testing.T, rs *ir.Ruleset, fg fortigate.Settings) map[string][]byte {
	return backendtest.Render(rs, generators.Settings{fortigate.Section.Name(): fg}, fortigate.Generator{})
}

func cases(t *testing.T) []string { return rulestest.Cases(t) }

// TestGolden compares the output (or the refusal) of each case with
// testdata/<case>/want/, rendered twice.
func TestGolden(t *testing.T) { backendtest.Golden(t, fortigate.Generator{}) }

// checkOutput reads a snippet back strictly for the ruleset's FortiOS
// version and checks that every policy allows nothing the IR does not
// (fail closed), and that everything it names is portwall's. It returns
// the number of grants.
func checkOutput(t *testing.T, rs *ir.Ruleset, version string, data []byte) int {
	t.Helper()
	c, err := fortiparse.Parse(data, version)
	if err != nil {
		t.Fatalf("output does not parse: %v\n%s", err, data)
	}
	grants, err := c.Grants()
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range grants {
		if err := rs.CheckGrant(g); err != nil {
			t.Errorf("wider than the IR: %v", err)
		}
	}
	for _, tb := range c.Tables {
		for _, e := range tb.Entries {
			if e.Key != "0" && !strings.HasPrefix(e.Key, fortigate.Prefix) {
				t.Errorf("line %d: %s is not named %s...", e.Line, e.Key, fortigate.Prefix)
			}
			if n := e.Get("name"); n != nil && !strings.HasPrefix(n[0], fortigate.Prefix) {
				t.Errorf("line %d: policy %s is not named %s...", e.Line, n[0], fortigate.Prefix)
			}
		}
	}
	return len(grants)
}

// TestGoldenReadsBack parses every golden snippet and checks its grants
// against the IR.
func TestGoldenReadsBack(t *testing.T) {
	t.Parallel()
	total := 0
	for _, dir := range cases(t) {
		rs, fg := resolve(t, filepath.Join(dir, "profile.toml"))
		for name, data := range render(t, rs, fg) {
			if name == "error" {
				continue
			}
			t.Run(filepath.Base(dir), func(t *testing.T) { total += checkOutput(t, rs, fg.Version, data) })
		}
	}
	t.Logf("%d grants of the golden cases checked against the IR", total)
}

// TestExamples renders every example for every FortiOS version the
// backend knows, reads it back and checks each grant against the IR.
func TestExamples(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../../examples/*.toml")
	if err != nil || len(files) < 5 {
		t.Fatalf("examples: %v %v", files, err)
	}
	total, outputs := 0, 0
	for _, f := range files {
		for _, v := range []string{"6.0", "6.2", "6.4", "7.0", "7.2", "7.4", "7.6", "8.0"} {
			t.Run(filepath.Base(f)+"/"+v, func(t *testing.T) {
				rs, fg := resolve(t, f)
				if len(fg.Interfaces) == 0 {
					fg.Interfaces = map[string]string{"any": "port1"}
				}
				fg.Version = v
				out := render(t, rs, fg)
				data, ok := out[fortigate.FileName]
				if !ok {
					t.Fatalf("refused: %s", out["error"])
				}
				total += checkOutput(t, rs, fg.Version, data)
				outputs++
			})
		}
	}
	t.Logf("%d outputs of %d examples parsed, %d grants checked against the IR", outputs, len(files), total)
}

// TestDefaultRouteByGroup: a group of every address as a key of
// [fortigate.interfaces] is the default route, as any is (the way
// profiles wrote it before keys were addresses); two default routes are
// an error at the second.
func TestDefaultRouteByGroup(t *testing.T) {
	t.Parallel()
	const profile = `
[groups]
internet = ["any"]
lab = ["10.9.0.0/16"]
[hosts.web1]
addresses = ["10.2.0.80"]
[[allow]]
from = ["internet", "lab"]
to = "web1"
protocol = "tcp"
ports = [443]
[fortigate.interfaces]
internet = "wan1"
web1 = "dmz"
`
	rs, fg := load(t, "p.toml", []byte(profile))
	out, err := fortigate.Render(rs, fg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := fortiparse.Parse(out, fg.Version)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tb := range c.Tables {
		for _, e := range tb.Entries {
			if tb.Path == "firewall policy" {
				got = append(got, strings.Join(e.Get("srcintf"), " ")+" -> "+strings.Join(e.Get("dstintf"), " "))
			}
		}
	}
	// The lab has no key: behind the default route, like the Internet.
	if strings.Join(got, ", ") != "wan1 -> dmz" {
		t.Errorf("policies %v", got)
	}
	if unused := fortigate.UnusedInterfaces(rs, fg); len(unused) != 0 {
		t.Errorf("unused %v", unused)
	}
	p, err := profiles.Parse("p.toml", []byte(profile+"any = \"port9\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = generators.DecodeSettings(p, []generators.Section{fortigate.Section}, generators.NewEnv(p, nil))
	if err == nil || err.Error() != "p.toml:13:1: any and internet both name the default route: keep one" {
		t.Errorf("got %v", err)
	}
}

// policies reads a snippet's firewall policies by name.
func policies(t *testing.T, data []byte, version string) map[string]*fortiparse.Entry {
	t.Helper()
	c, err := fortiparse.Parse(data, version)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	out := map[string]*fortiparse.Entry{}
	for _, tb := range c.Tables {
		for _, e := range tb.Entries {
			if n := e.Get("name"); n != nil {
				out[n[0]] = e
			}
		}
	}
	return out
}

// TestIssueDMZ is the case issue 13 reports (testdata/dmz-by-address):
// office -> ems1 goes to dstintf "dmz", the flows within the DMZ get no
// policy, and the key no rule's side sits behind is reported.
func TestIssueDMZ(t *testing.T) {
	t.Parallel()
	rs, fg := resolve(t, "testdata/dmz-by-address/profile.toml")
	out, err := fortigate.Render(rs, fg)
	if err != nil {
		t.Fatal(err)
	}
	ps := policies(t, out, fg.Version)
	toEMS := 0
	for name, e := range ps {
		src, dst := strings.Join(e.Get("srcintf"), " "), strings.Join(e.Get("dstintf"), " ")
		if slices.Contains(e.Get("dstaddr"), "pw-g-ems1") {
			toEMS++
			if src != "internal" || dst != "dmz" {
				t.Errorf("%s: %s -> %s, want internal -> dmz", name, src, dst)
			}
		}
		if slices.Contains(e.Get("srcintf"), "dmz") && slices.Contains(e.Get("dstintf"), "dmz") {
			t.Errorf("%s: a policy within the DMZ", name)
		}
	}
	if toEMS != 1 {
		t.Errorf("%d policies to ems1, want 1", toEMS)
	}
	if !strings.Contains(string(out), "rule rb0f0f2b0003f (xeams/dns/dns): the rule dmz to dmz does not cross the FortiGate") {
		t.Errorf("the DMZ's DNS is not listed as left out:\n%s", out)
	}
	if got := fortigate.UnusedInterfaces(rs, fg); strings.Join(got, " ") != "10.9.0.0/16" {
		t.Errorf("unused keys %v, want 10.9.0.0/16", got)
	}
}

// TestNamesStableExamples: a rule of its own added to each example (an
// unrelated network, a new interface) renames nothing the example had.
func TestNamesStableExamples(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("../../examples/*.toml")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rs, fg := load(t, f, data)
		before, err := fortigate.Render(rs, fg)
		if err != nil {
			t.Fatal(err)
		}
		// The new group and rule go before everything else of their kind.
		extra := strings.Replace(string(data), "[groups]\n", "[groups]\nbackup-net = [\"172.31.0.0/24\"]\n", 1)
		extra = strings.Replace(extra, "[fortigate.interfaces]\n", "[fortigate.interfaces]\n\"172.31.0.0/24\" = \"backup\"\n", 1)
		i := strings.Index(extra, "[[allow]]")
		if i < 0 {
			i = strings.Index(extra, "[fortigate]")
		}
		extra = extra[:i] + "[[allow]]\nfrom = \"backup-net\"\nto = \"" + rs.Hosts[0].Name + "\"\nprotocol = \"tcp\"\nports = [873]\ncomment = \"rsync backups\"\n\n" + extra[i:]
		rs2, fg2 := load(t, f, []byte(extra))
		after, err := fortigate.Render(rs2, fg2)
		if err != nil {
			t.Fatal(err)
		}
		b, a := policies(t, before, fg.Version), policies(t, after, fg2.Version)
		for name := range b {
			if a[name] == nil {
				t.Errorf("%s: policy %s is gone after an unrelated rule was added", filepath.Base(f), name)
			}
		}
		if len(a) <= len(b) {
			t.Errorf("%s: the new rule added no policy", filepath.Base(f))
		}
	}
}
