package catalog

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCompiledMatchesTOML: the compiled catalog (compiled.go) is what
// parsing and checking data/*.toml gives, field for field, positions
// included. It fails when the TOML changed and compiled.go was not
// generated again.
func TestCompiledMatchesTOML(t *testing.T) {
	t.Parallel()
	if compiled == nil {
		t.Fatal("compiled.go is missing: run go generate ./rules/catalog")
	}
	wantP, wantS, err := ParseBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	gotP, gotS := compiled()
	if len(gotP) == 0 || len(gotS) == 0 {
		t.Fatalf("compiled catalog has %d products and %d services", len(gotP), len(gotS))
	}
	opt := cmp.AllowUnexported(Service{})
	if d := cmp.Diff(wantP, gotP, opt); d != "" {
		t.Errorf("compiled products differ from data/*.toml (-toml +compiled); run go generate ./rules/catalog:\n%s", d)
	}
	if d := cmp.Diff(wantS, gotS, opt); d != "" {
		t.Errorf("compiled services differ from data/*.toml (-toml +compiled); run go generate ./rules/catalog:\n%s", d)
	}
	// Load's fast path relies on the compiled order: sorted by name, as
	// the loader sorts.
	if !slices.IsSortedFunc(gotP, func(a, b *Product) int { return strings.Compare(a.Name, b.Name) }) ||
		!slices.IsSortedFunc(gotS, func(a, b *Service) int { return strings.Compare(a.Name, b.Name) }) {
		t.Error("compiled products or services are not sorted by name")
	}
}

// BenchmarkLoadBuiltin: the built-in catalog, compiled (what Load does)
// and parsed from the TOML (what it did, and still does for --catalog
// directories).
func BenchmarkLoadBuiltin(b *testing.B) {
	b.Run("compiled", func(b *testing.B) {
		for b.Loop() {
			if _, err := Load(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("toml", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := ParseBuiltin(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("toml-one-product", func(b *testing.B) {
		data, err := embedded.ReadFile("data/fortimail.toml")
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, errs := ParseFile("fortimail.toml", data); errs != nil {
				b.Fatal(errs)
			}
		}
	})
}
