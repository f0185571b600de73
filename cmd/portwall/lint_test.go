package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portwall/portwall/generators/golden"
	"github.com/portwall/portwall/rules/lint"
)

// TestLintEveryCode: testdata/lint/every-code.toml sets off every check;
// the warnings are golden, and each code appears.
func TestLintEveryCode(t *testing.T) {
	const profile = "testdata/lint/every-code.toml"
	code, out, errs := runIn("", "lint", profile)
	if code != 0 || errs != "" {
		t.Fatalf("exit %d: %s", code, errs)
	}
	golden.Compare(t, "testdata/lint/every-code.txt", []byte(out))
	for _, c := range lint.Checks {
		if !strings.Contains(out, ": "+c.Code+" "+c.Name+": ") {
			t.Errorf("no %s %s warning", c.Code, c.Name)
		}
	}
	code, _, errs = runIn("", "lint", "--strict", profile)
	if want := "portwall: lint --strict: 13 warnings\n"; code != 1 || errs != want {
		t.Errorf("--strict: exit %d, stderr %q, want %q", code, errs, want)
	}
	code, out, _ = runIn("", "lint", "--format", "json", profile)
	var items []struct{ File, Code, Message string }
	if err := json.Unmarshal([]byte(out), &items); code != 0 || err != nil || len(items) != 13 || items[0].File != profile {
		t.Errorf("json: exit %d, %v, %d items", code, err, len(items))
	}
}

// TestLintExamples: the examples are what users copy; their warnings are
// golden, and each one is there on purpose.
func TestLintExamples(t *testing.T) {
	for _, file := range examples(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".toml")
		code, out, errs := runIn("", "lint", file)
		if code != 0 || errs != "" {
			t.Fatalf("%s: exit %d: %s", name, code, errs)
		}
		golden.Compare(t, filepath.Join("testdata", "lint", "example-"+name+".txt"), []byte(out))
	}
}
