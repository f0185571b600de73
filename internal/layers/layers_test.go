package layers

import (
	"bytes"
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/portwall/portwall"

type listed struct {
	ImportPath string
	ForTest    string
	Imports    []string
	Deps       []string
}

// TestImportsPointOneWay lists every package of the module with its tests
// (go list -test -deps=false) and checks each against Rules, transitively:
// a test of rules/ that imports a test kit that imports a backend breaks
// the rule as much as a direct import.
func TestImportsPointOneWay(t *testing.T) {
	t.Parallel()
	pkgs := list(t)
	if len(pkgs) < 20 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	for _, p := range pkgs {
		path, isTest := ownPath(p)
		if path == "" {
			continue
		}
		for _, r := range Rules {
			if !under(path, r.From) {
				continue
			}
			for _, dep := range p.Deps {
				d, ok := strings.CutPrefix(plain(dep), module+"/")
				if !ok || under(d, r.From) && r.Forbidden[0] != "" {
					continue
				}
				for _, f := range r.Forbidden {
					if f == "" && !under(d, r.From) || f != "" && under(d, f) {
						t.Errorf("%s depends on %s: %s", p.ImportPath, d, r.Why)
					}
				}
			}
		}
		if !isTest {
			for _, dep := range p.Deps {
				if d, ok := strings.CutPrefix(plain(dep), module+"/"); ok && under(d, TestKits) && !under(path, TestKits) {
					t.Errorf("%s (not a test) depends on the test kit %s", p.ImportPath, d)
				}
			}
		}
	}
}

// TestRulesCatchAViolation makes sure the checks above can fail: the
// rules, applied to a made-up dependency, report it.
func TestRulesCatchAViolation(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		from, dep string
		want      bool
	}{
		{"rules/lint", "generators", true},
		{"rules/lint", "generators/nftables", true},
		{"profiles", "rules/ir", true},
		{"profiles", "rules/ports", false},
		{"internal/diag", "internal/tomldoc", true},
		{"internal/diag", "internal/diag", false},
		{"generators/nftables", "rules/ir", false},
		{"generators/nftables", "internal/live", true},
		{"cmd/portwall", "internal/live", false},
	} {
		got := false
		for _, r := range Rules {
			if !under(c.from, r.From) {
				continue
			}
			for _, f := range r.Forbidden {
				if f == "" && !under(c.dep, r.From) || f != "" && under(c.dep, f) {
					got = true
				}
			}
		}
		if got != c.want {
			t.Errorf("%s -> %s: forbidden %v, want %v", c.from, c.dep, got, c.want)
		}
	}
}

func list(t *testing.T) []listed {
	t.Helper()
	cmd := exec.Command("go", "list", "-test", "-json", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []listed
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listed
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// ownPath is the module-relative path of the package a listed package
// belongs to ("" for test mains), and whether it is a test variant.
func ownPath(p listed) (string, bool) {
	if strings.HasSuffix(p.ImportPath, ".test") {
		return "", false
	}
	path := plain(p.ImportPath)
	path = strings.TrimSuffix(path, "_test")
	rel, ok := strings.CutPrefix(path, module+"/")
	if !ok {
		return "", false
	}
	return rel, p.ForTest != "" || strings.HasSuffix(plain(p.ImportPath), "_test")
}

// plain strips go list's " [p.test]" suffix of test variants.
func plain(path string) string {
	if i := strings.Index(path, " ["); i >= 0 {
		return path[:i]
	}
	return path
}

func under(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}
