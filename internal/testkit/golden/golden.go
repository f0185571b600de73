// Package golden compares test output with files checked in under
// testdata, and rewrites them when the tests run with PORTWALL_UPDATE=1:
//
//	PORTWALL_UPDATE=1 go test ./...
//
// An environment variable rather than a -update flag: a flag would have to
// be defined in every test binary that `go test ./... -update` starts,
// golden files or not.
package golden

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// UpdateEnv is the environment variable that makes Compare and CompareDir
// rewrite the golden files with the current output.
const UpdateEnv = "PORTWALL_UPDATE"

var update = os.Getenv(UpdateEnv) == "1"

// Updating reports whether the test run rewrites golden files.
func Updating() bool { return update }

// Compare checks got against the golden file at path (or rewrites it).
func Compare(t testing.TB, path string, got []byte) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run PORTWALL_UPDATE=1 go test to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (-golden +got):\n%s", path, Diff(want, got))
	}
}

// CompareDir checks that dir holds exactly the golden files under
// goldenDir (or replaces goldenDir with dir's files).
func CompareDir(t testing.TB, goldenDir, dir string) {
	t.Helper()
	got := readDir(t, dir)
	if update {
		if err := os.RemoveAll(goldenDir); err != nil {
			t.Fatal(err)
		}
		for name, data := range got {
			Compare(t, filepath.Join(goldenDir, name), data)
		}
		return
	}
	want := readDir(t, goldenDir)
	for _, name := range sortedNames(want) {
		if _, ok := got[name]; !ok {
			t.Errorf("missing output file %s (golden %s)", name, filepath.Join(goldenDir, name))
		}
	}
	for _, name := range sortedNames(got) {
		if _, ok := want[name]; !ok {
			t.Errorf("unexpected output file %s (run PORTWALL_UPDATE=1 go test to accept it)", name)
			continue
		}
		if !bytes.Equal(got[name], want[name]) {
			t.Errorf("%s differs from the output (-golden +got):\n%s", filepath.Join(goldenDir, name), Diff(want[name], got[name]))
		}
	}
}

func readDir(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		data, err := os.ReadFile(path)
		out[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil && !(os.IsNotExist(err) && update) {
		t.Fatal(err)
	}
	return out
}

func sortedNames(m map[string][]byte) []string { return slices.Sorted(maps.Keys(m)) }

// Diff shows how got differs from want, line by line.
func Diff(want, got []byte) string {
	return cmp.Diff(string(want), string(got))
}
