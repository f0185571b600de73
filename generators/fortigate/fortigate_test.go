package fortigate_test

import (
	"path/filepath"
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
