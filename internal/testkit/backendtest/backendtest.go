// Package backendtest is test support shared by the backends: rendering as
// the CLI does, and golden cases in testdata/<case>/{profile.toml,want/}.
package backendtest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/internal/testkit/golden"
	"github.com/portwall/portwall/internal/testkit/rulestest"
	"github.com/portwall/portwall/profiles"
	"github.com/portwall/portwall/rules"
	"github.com/portwall/portwall/rules/catalog"
	"github.com/portwall/portwall/rules/ir"
)

// Render runs each backend as the CLI does (Check, then Generate), over
// every host for host backends and the network view for the others, and
// returns the files by name; refusals are collected in a file "error".
func Render(rs *ir.Ruleset, s generators.Settings, gs ...generators.Generator) map[string][]byte {
	out := map[string][]byte{}
	for _, g := range gs {
		files, err := generators.Generate(g, generators.AllHosts(g, rs, s))
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

// Golden renders every case with the backends and compares the files with
// testdata/<case>/want/ (rewritten with PORTWALL_UPDATE=1). Each case is rendered
// twice: the bytes must not change.
func Golden(t *testing.T, gs ...generators.Generator) {
	for _, dir := range rulestest.Cases(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			rs, s := Load(t, filepath.Join(dir, "profile.toml"), gs...)
			files := Render(rs, s, gs...)
			again := Render(rs, s, gs...)
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

// Load loads a profile, resolves it with the built-in catalog and decodes
// the sections of the backends gs, as the CLI does.
func Load(t testing.TB, file string, gs ...generators.Generator) (*ir.Ruleset, generators.Settings) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return LoadData(t, file, data, gs...)
}

// LoadData is Load for a profile in memory, named file.
func LoadData(t testing.TB, file string, data []byte, gs ...generators.Generator) (*ir.Ruleset, generators.Settings) {
	t.Helper()
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	p, err := profiles.Parse(file, data)
	if err != nil {
		t.Fatal(err)
	}
	s, err := generators.DecodeSettings(p, generators.Sections(gs), generators.NewEnv(p, nil))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := rules.Resolve(p, cat)
	if err != nil {
		t.Fatal(err)
	}
	return rs, s
}
