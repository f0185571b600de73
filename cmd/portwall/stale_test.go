package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/portwall/portwall/generators"
)

// TestStaleOutput: a host removed from the profile leaves its file from
// an earlier run; generate warns about it and --prune removes it, and
// nothing that is not portwall's (or not in the run's scope) is touched.
func TestStaleOutput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	profile := filepath.Join(dir, "p.toml")
	write := func(hosts ...string) {
		var b strings.Builder
		for i, h := range hosts {
			b.WriteString("[hosts." + h + "]\naddresses = [\"192.0.2." + string(rune('1'+i)) + "\"]\n")
		}
		b.WriteString("[[allow]]\nfrom = \"any\"\nto = [\"" + strings.Join(hosts, "\", \"") + "\"]\nprotocol = \"tcp\"\nports = 22\n")
		if err := os.WriteFile(profile, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "out")
	write("h1", "h2")
	run(t, "generate", profile, "--target", "nftables", "--all-hosts", "--out-dir", out)
	run(t, "generate", profile, "--target", "iptables", "--all-hosts", "--out-dir", out)
	foreign := filepath.Join(out, "notes.nft")
	if err := os.WriteFile(foreign, []byte("# someone else's\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	write("h1")
	code, stdout, stderr := runIn("", "generate", profile, "--target", "nftables", "--all-hosts", "--out-dir", out)
	want := "portwall: warning: " + filepath.Join(out, "h2.nft") + " is from an earlier run, for a host or target the profile no longer has: remove it, or generate with --prune\n"
	if code != 0 || stderr != want || stdout != "" {
		t.Errorf("without --prune: exit %d, stdout %q, stderr %q, want %q", code, stdout, stderr, want)
	}
	if _, err := os.Stat(filepath.Join(out, "h2.nft")); err != nil {
		t.Errorf("without --prune the stale file must stay: %v", err)
	}
	code, stdout, stderr = runIn("", "generate", profile, "--target", "nftables", "--all-hosts", "--out-dir", out, "--prune")
	if code != 0 || stderr != "" || stdout != "removed "+filepath.Join(out, "h2.nft")+" (from an earlier run; no longer in the profile)\n" {
		t.Errorf("--prune: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	for name, want := range map[string]bool{"h1.nft": true, "h2.nft": false, "notes.nft": true, "h1.iptables": true, "h2.iptables": true} {
		if _, err := os.Stat(filepath.Join(out, name)); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", name, err == nil, want)
		}
	}
	if code, _, stderr := runIn("", "generate", profile, "--target", "nftables", "--host", "h1", "--prune"); code != 1 || stderr != "portwall: --prune goes with --out-dir\n" {
		t.Errorf("--prune without --out-dir: exit %d, %q", code, stderr)
	}
}

// TestUnchangedFilesLeftAlone: regenerating writes only the files whose
// contents change; the others keep their inode (no rename over them).
func TestUnchangedFilesLeftAlone(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	profile := filepath.Join(dir, "p.toml")
	write := func(port string) {
		p := "[hosts.h1]\naddresses = [\"192.0.2.1\"]\n[hosts.h2]\naddresses = [\"192.0.2.2\"]\n" +
			"[[allow]]\nfrom = \"any\"\nto = \"h1\"\nprotocol = \"tcp\"\nports = 22\n" +
			"[[allow]]\nfrom = \"any\"\nto = \"h2\"\nprotocol = \"tcp\"\nports = " + port + "\n"
		if err := os.WriteFile(profile, []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "out")
	inode := func(name string) uint64 {
		t.Helper()
		fi, err := os.Stat(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		return fi.Sys().(*syscall.Stat_t).Ino
	}
	write("22")
	run(t, "generate", profile, "--target", "nftables", "--all-hosts", "--out-dir", out)
	h1, h2 := inode("h1.nft"), inode("h2.nft")
	write("2222")
	run(t, "generate", profile, "--target", "nftables", "--all-hosts", "--out-dir", out)
	if inode("h1.nft") != h1 {
		t.Error("h1.nft did not change, but was replaced")
	}
	if inode("h2.nft") == h2 {
		t.Error("h2.nft changed, but was not replaced")
	}
	if data, err := os.ReadFile(filepath.Join(out, "h2.nft")); err != nil || !strings.Contains(string(data), "2222") {
		t.Errorf("h2.nft does not hold the new port: %v", err)
	}
	// A file of the right contents but another mode is written again.
	if err := os.Chmod(filepath.Join(out, "h1.nft"), 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, "generate", profile, "--target", "nftables", "--all-hosts", "--out-dir", out)
	if fi, err := os.Stat(filepath.Join(out, "h1.nft")); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("h1.nft mode %v (%v), want 0644", fi.Mode(), err)
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 2 {
		t.Errorf("%d entries in out, want 2 (temporary files left?)", len(entries))
	}
}

// TestNewDirectory: into a directory that does not exist, the files are
// written beside it and the directory renamed into place: the same files,
// modes and layout as a run into an existing directory, and nothing left
// beside it; a run that fails halfway leaves no directory at all.
func TestNewDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := []generators.File{{Name: "nftables/h1.nft", Contents: []byte("one\n")}, {Name: "json/h1.json", Contents: []byte("{}\n")}, {Name: "top.txt", Contents: []byte("top\n")}}
	fresh, existing := filepath.Join(dir, "a", "fresh"), filepath.Join(dir, "existing")
	if err := os.Mkdir(existing, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{fresh, existing} {
		if err := writeFiles(d, files); err != nil {
			t.Fatal(err)
		}
	}
	tree := func(root string) string {
		var b strings.Builder
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			data := ""
			if !d.IsDir() {
				b, _ := os.ReadFile(p)
				data = string(b)
			}
			fmt.Fprintf(&b, "%s %v %q\n", rel, fi.Mode(), data)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	if got, want := tree(fresh), tree(existing); got != want {
		t.Errorf("new directory:\n%s\nexisting directory:\n%s", got, want)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "a")); len(entries) != 1 {
		t.Errorf("%d entries beside the new directory, want 1 (the directory)", len(entries))
	}
	// The second file of a name fails to be created: nothing is left.
	failed := filepath.Join(dir, "failed")
	if err := writeFiles(failed, append(files, files[0])); err == nil {
		t.Fatal("writing a name twice did not fail")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("after a failed run into a new directory: %v, want a and existing", names)
	}
}
