package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/portwall/portwall/internal/testkit/golden"
)

// TestCases runs every folder of testdata/cases as one invocation of the
// command, the way users run it:
//
//	testdata/cases/<case>/args          the command line, without "portwall"
//	testdata/cases/<case>/*             input files (profile.toml, ...)
//	testdata/cases/<case>/want/exit     the exit status
//	testdata/cases/<case>/want/stdout   standard output
//	testdata/cases/<case>/want/stderr   standard error
//	testdata/cases/<case>/want/files/   files the command writes
//
// Each case runs in a copy of its folder. A case that fails must leave the
// folder exactly as it found it: no output file, not even a partial one.
func TestCases(t *testing.T) {
	dirs, err := filepath.Glob("testdata/cases/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no cases")
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) { runCase(t, dir) })
	}
}

func runCase(t *testing.T, dir string) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	argsLine, err := os.ReadFile(filepath.Join(abs, "args"))
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	copyInputs(t, abs, work)
	before := listFiles(t, work)

	t.Chdir(work)
	var stdout, stderr bytes.Buffer
	stdin := []byte(nil)
	if data, err := os.ReadFile(filepath.Join(abs, "stdin")); err == nil {
		stdin = data
	}
	code := Run(append([]string{"portwall"}, strings.Fields(string(argsLine))...), bytes.NewReader(stdin), &stdout, &stderr)

	want := filepath.Join(abs, "want")
	golden.Compare(t, filepath.Join(want, "exit"), []byte(strconv.Itoa(code)+"\n"))
	golden.Compare(t, filepath.Join(want, "stdout"), stdout.Bytes())
	golden.Compare(t, filepath.Join(want, "stderr"), stderr.Bytes())

	after := listFiles(t, work)
	written := t.TempDir()
	for name := range after {
		if _, existed := before[name]; existed {
			continue
		}
		if code != exitOK {
			t.Errorf("the command failed but wrote %s", name)
		}
		data, err := os.ReadFile(filepath.Join(work, name))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(written, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	filesDir := filepath.Join(want, "files")
	_, statErr := os.Stat(filesDir)
	switch {
	case len(after) > len(before):
		golden.CompareDir(t, filesDir, written)
	case statErr == nil && golden.Updating():
		if err := os.RemoveAll(filesDir); err != nil {
			t.Fatal(err)
		}
	case statErr == nil:
		t.Errorf("the case expects the files in want/files, but the command wrote none")
	}
}

// copyInputs copies the case's input files (everything but args, stdin and
// want/) into work.
func copyInputs(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		switch e.Name() {
		case "args", "stdin", "want":
			continue
		}
		src := filepath.Join(from, e.Name())
		err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(from, path)
			if d.IsDir() {
				return os.MkdirAll(filepath.Join(to, rel), 0o755)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(to, rel), data, 0o644)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// listFiles lists every file under dir, hidden ones (temporary files)
// included.
func listFiles(t *testing.T, dir string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			out[rel] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
