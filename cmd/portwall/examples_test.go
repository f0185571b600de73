package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/portwall/portwall/generators/targets"
	"github.com/portwall/portwall/internal/testkit/golden"
)

// examples lists the profiles users copy.
func examples(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../examples/*.toml")
	if err != nil || len(files) < 5 {
		t.Fatalf("examples: %v %v", files, err)
	}
	return files
}

func run(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := Run(append([]string{"portwall"}, args...), strings.NewReader(""), &out, &errb); code != exitOK {
		t.Fatalf("portwall %s: exit %d\n%s", strings.Join(args, " "), code, errb.String())
	}
	return out.String(), errb.String()
}

func TestExamplesValidate(t *testing.T) {
	t.Parallel()
	for _, f := range examples(t) {
		out, _ := run(t, "validate", f)
		if !strings.Contains(out, ": valid: ") {
			t.Errorf("%s: %s", f, out)
		}
	}
}

// TestExamplesGolden renders every example with every backend and compares
// the files with testdata/golden/<example>/<target>/. Rendering twice must
// give the same bytes.
func TestExamplesGolden(t *testing.T) {
	t.Parallel()
	for _, f := range examples(t) {
		name := strings.TrimSuffix(filepath.Base(f), ".toml")
		// The nftables sets layout has goldens of its own (nftables-sets).
		for _, target := range append(targets.Names(), "nftables-sets") {
			t.Run(name+"/"+target, func(t *testing.T) {
				dir := t.TempDir()
				args := []string{"generate", f, "--target", target, "--all-hosts", "--out-dir", dir}
				if target == "nftables-sets" {
					args = []string{"generate", f, "--target", "nftables", "--layout", "sets", "--all-hosts", "--out-dir", dir}
				}
				run(t, args...)
				if target == "json" {
					net, _ := run(t, "generate", f, "--target", "json")
					if err := os.WriteFile(filepath.Join(dir, "network.json"), []byte(net), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				golden.CompareDir(t, filepath.Join("testdata/golden", name, target), dir)

				again := t.TempDir()
				args[len(args)-1] = again
				run(t, args...)
				entries, _ := os.ReadDir(again)
				for _, e := range entries {
					a, _ := os.ReadFile(filepath.Join(dir, e.Name()))
					b, _ := os.ReadFile(filepath.Join(again, e.Name()))
					if !bytes.Equal(a, b) {
						t.Errorf("%s differs between two runs", e.Name())
					}
				}
			})
		}
	}
}

// TestReadmeProfile validates the profile the README documents, so that the
// reference cannot drift from what portwall accepts.
func TestReadmeProfile(t *testing.T) {
	t.Parallel()
	block := readmeBlock(t, "## The profile", "toml")
	dir := t.TempDir()
	file := filepath.Join(dir, "readme.toml")
	if err := os.WriteFile(file, []byte(block), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, "validate", file)
	for _, target := range targets.Names() {
		run(t, "generate", file, "--target", target, "--all-hosts", "--out-dir", filepath.Join(dir, target))
	}
}

// TestGenerateAllTargets: --target all writes, into DIR/<target>/, exactly
// what each target writes alone.
func TestGenerateAllTargets(t *testing.T) {
	t.Parallel()
	every := strings.Join(targets.Names(), ",")
	for _, f := range examples(t) {
		dir := t.TempDir()
		run(t, "generate", f, "--target", every, "--all-hosts", "--out-dir", dir)
		for _, target := range targets.Names() {
			alone := t.TempDir()
			run(t, "generate", f, "--target", target, "--all-hosts", "--out-dir", alone)
			want, _ := os.ReadDir(alone)
			got, _ := os.ReadDir(filepath.Join(dir, target))
			if len(want) != len(got) || len(want) == 0 {
				t.Errorf("%s %s: %d files, want %d", f, target, len(got), len(want))
			}
			for _, e := range want {
				a, _ := os.ReadFile(filepath.Join(alone, e.Name()))
				b, _ := os.ReadFile(filepath.Join(dir, target, e.Name()))
				if !bytes.Equal(a, b) {
					t.Errorf("%s %s/%s differs from the target alone", f, target, e.Name())
				}
			}
		}
	}
	// A target named twice is rendered once, not written over itself.
	dup := t.TempDir()
	run(t, "generate", xeams, "--target", every+",nftables,nftables", "--all-hosts", "--out-dir", dup)
	if got, _ := os.ReadDir(dup); len(got) != len(targets.Names()) {
		t.Errorf("all,nftables,nftables: %d target directories, want %d", len(got), len(targets.Names()))
	}
	if code, _, errs := runIn("", "generate", xeams, "--target", "nftables,iptables", "--host", "xeams1"); code != 1 || !strings.Contains(errs, "use --all-hosts --out-dir DIR") {
		t.Errorf("several targets without --all-hosts: exit %d: %s", code, errs)
	}
}

// TestGenerateAllDeclared: --target all writes each host only the targets
// the profile declares for it, and the FortiGate view its [fortigate]
// section declares.
func TestGenerateAllDeclared(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	run(t, "generate", "../../examples/site.toml", "--target", "all", "--all-hosts", "--out-dir", dir)
	var got []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			got = append(got, rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// gw1 and gw2 declare no targets (appliances), mail1 the defaults'
	// os = "linux", fme1 and ems1 os = "windows".
	want := []string{"fortigate/fortigate.conf", "nftables/mail1.nft", "powershell/ems1.ps1", "powershell/fme1.ps1"}
	if !slices.Equal(got, want) {
		t.Errorf("wrote %v, want %v", got, want)
	}
}
