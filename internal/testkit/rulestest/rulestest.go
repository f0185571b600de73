// Package rulestest is test support for everything that reads the IR: the
// pipeline from a profile file to the IR, the example profiles and the
// test cases in testdata/<case>/profile.toml, and hand-built IR whose
// names and free text a test or fuzz target may fill with anything. It
// knows no backend, so that tests of profiles/ and rules/ can use it.
package rulestest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
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

// CatalogUnchanged reports whether the built-in catalog that Load shares
// between callers is still what its TOML files say: a test binary calls
// it after its tests, so that code that changes a shared product or
// service (instead of copying it) fails the tests that ran it.
func CatalogUnchanged() error {
	cat, err := catalog.Load()
	if err != nil {
		return err
	}
	products, services, err := catalog.ParseBuiltin()
	if err != nil {
		return err
	}
	opt := cmp.AllowUnexported(catalog.Service{})
	if d := cmp.Diff(products, cat.Products, opt); d != "" {
		return fmt.Errorf("the shared built-in catalog was changed by a test's code (-TOML +now):\n%s", d)
	}
	if d := cmp.Diff(services, cat.Services, opt); d != "" {
		return fmt.Errorf("the shared built-in catalog's services were changed by a test's code (-TOML +now):\n%s", d)
	}
	return nil
}
