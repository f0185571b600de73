package nftables_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/golden"
	"github.com/portwall/portwall/generators/kerneltest"
	"github.com/portwall/portwall/generators/nftables"
	"github.com/portwall/portwall/profiles"
	"github.com/portwall/portwall/rules"
	"github.com/portwall/portwall/rules/catalog"
)

// render runs the pipeline on testdata/<case>/profile.toml and returns the
// files for every host, or the error as a file named "error".
func render(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	p, err := profiles.Load(filepath.Join(dir, "profile.toml"))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := rules.Resolve(p, cat)
	if err != nil {
		t.Fatal(err)
	}
	g := nftables.Generator{}
	req := generators.Request{Ruleset: rs, Hosts: rs.HostNames()}
	err = generators.Check(g, req)
	var files []generators.File
	if err == nil {
		files, err = g.Generate(req)
	}
	out := map[string][]byte{}
	if err != nil {
		out["error"] = []byte(err.Error() + "\n")
		return out
	}
	for _, f := range files {
		out[f.Name] = f.Contents
	}
	return out
}

func cases(t *testing.T) []string {
	dirs, err := filepath.Glob("testdata/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	return dirs
}

// TestGolden compares the output (or the refusal) of each case with
// testdata/<case>/want/.
func TestGolden(t *testing.T) {
	for _, dir := range cases(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			tmp := t.TempDir()
			for name, data := range render(t, dir) {
				if err := os.WriteFile(filepath.Join(tmp, name), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			golden.CompareDir(t, filepath.Join(dir, "want"), tmp)
		})
	}
}

// TestNoInjection checks the structure of every script: free text from the
// profile only ever appears inside a # comment line or an nft quoted
// string, so no profile can add a command.
func TestNoInjection(t *testing.T) {
	for _, dir := range cases(t) {
		for name, data := range render(t, dir) {
			if name == "error" {
				continue
			}
			for i, line := range strings.Split(string(data), "\n") {
				trimmed := strings.TrimSpace(line)
				if trimmed == "" || strings.HasPrefix(trimmed, "#") {
					continue
				}
				code := line
				if q := strings.Index(line, `"`); q >= 0 {
					code = line[:q]
					if strings.Count(line, `"`)%2 != 0 {
						t.Errorf("%s/%s:%d: unbalanced quotes: %s", dir, name, i+1, line)
					}
					// Outside the quoted strings only nft keywords remain.
					parts := strings.Split(line, `"`)
					for j := 0; j < len(parts); j += 2 {
						code += parts[j]
					}
				}
				for _, bad := range []string{"flush", "#", ";;"} {
					if strings.Contains(code, bad) && !strings.Contains(code, "policy drop;") {
						t.Errorf("%s/%s:%d: %q outside a string: %s", dir, name, i+1, bad, line)
					}
				}
				if strings.Contains(line, `comment "`) {
					c := line[strings.Index(line, `comment "`)+len(`comment "`):]
					c = c[:strings.LastIndex(c, `"`)]
					if len(c) > nftables.MaxComment {
						t.Errorf("%s/%s:%d: comment of %d bytes", dir, name, i+1, len(c))
					}
				}
			}
		}
	}
}

// TestCasesLoadInKernel loads each rendered case into a fresh namespace.
func TestCasesLoadInKernel(t *testing.T) {
	kerneltest.Require(t, "nft")
	for _, dir := range cases(t) {
		for name, data := range render(t, dir) {
			if name == "error" {
				continue
			}
			t.Run(filepath.Base(dir)+"/"+name, func(t *testing.T) {
				ns := kerneltest.New(t)
				if out, err := ns.RunStdin(data, "nft", "-c", "-f", "-"); err != nil {
					t.Fatalf("nft -c: %v\n%s", err, out)
				}
				if out, err := ns.RunStdin(data, "nft", "-f", "-"); err != nil {
					t.Fatalf("nft -f: %v\n%s", err, out)
				}
			})
		}
	}
}
