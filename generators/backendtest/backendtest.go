// Package backendtest is test support shared by the backends: the pipeline
// from a profile file to the IR, rendering as the CLI does, golden cases in
// testdata/<case>/{profile.toml,want/}, and hand-built IR whose names and
// free text a test or fuzz target may fill with anything.
package backendtest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/golden"
	"github.com/portwall/portwall/profiles"
	"github.com/portwall/portwall/rules"
	"github.com/portwall/portwall/rules/catalog"
	"github.com/portwall/portwall/rules/ir"
)

// Ruleset loads a profile and resolves it with the built-in catalog.
func Ruleset(t testing.TB, file string) *ir.Ruleset {
	t.Helper()
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	p, err := profiles.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := rules.Resolve(p, cat)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// Render runs each backend as the CLI does (Check, then Generate), over
// every host for host backends and the network view for the others, and
// returns the files by name; refusals are collected in a file "error".
func Render(rs *ir.Ruleset, gs ...generators.Generator) map[string][]byte {
	out := map[string][]byte{}
	for _, g := range gs {
		files, err := generators.Generate(g, generators.AllHosts(g, rs))
		if err != nil {
			out["error"] = append(out["error"], err.Error()+"\n"...)
			continue
		}
		for _, f := range files {
			out[f.Name] = f.Contents
		}
	}
	return out
}

// Cases lists the test cases: the directories testdata/<case>/ with a
// profile.toml (testdata/fuzz holds fuzz corpora, not cases).
func Cases(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/*/profile.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	dirs := make([]string, len(files))
	for i, f := range files {
		dirs[i] = filepath.Dir(f)
	}
	return dirs
}

// Examples lists the example profiles, found from the module root (the
// directory with go.mod above the test's package).
func Examples(t testing.TB) []string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
	files, err := filepath.Glob(filepath.Join(dir, "examples", "*.toml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	return files
}

// Golden renders every case with the backends and compares the files with
// testdata/<case>/want/ (rewritten with -update). Each case is rendered
// twice: the bytes must not change.
func Golden(t *testing.T, gs ...generators.Generator) {
	for _, dir := range Cases(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			rs := Ruleset(t, filepath.Join(dir, "profile.toml"))
			files := Render(rs, gs...)
			again := Render(rs, gs...)
			tmp := t.TempDir()
			for name, data := range files {
				if !bytes.Equal(data, again[name]) {
					t.Errorf("%s differs between two renderings", name)
				}
				if err := os.WriteFile(filepath.Join(tmp, name), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			golden.CompareDir(t, filepath.Join(dir, "want"), tmp)
		})
	}
}
