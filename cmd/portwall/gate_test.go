package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/portwall/portwall/generators/targets"
)

// positioned is what every line of a refusal must start with: the
// profile's file:line:col.
var positioned = regexp.MustCompile(`^[^:\n]+\.toml:\d+:\d+: `)

// TestValidateMeansGenerates is the CI gate's promise, over every profile
// in the repository: if validate exits 0, generate of the declared targets
// (--target all) exits 0; and for each backend, validate --target T fails
// exactly when generate --target T does, with the same positioned lines.
func TestValidateMeansGenerates(t *testing.T) {
	t.Parallel()
	var files []string
	patterns := []string{"../../examples/*.toml", "testdata/cases/*/profile.toml", "../../generators/*/testdata/*/profile.toml",
		"../../generators/windows/*/testdata/*/profile.toml", "testdata/lint/*.toml", "testdata/verify/*.toml"}
	if testing.Short() {
		patterns = patterns[:1] // about 30 s for all of them on 2 cores
	}
	for _, pattern := range patterns {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 40 && !testing.Short() {
		t.Fatalf("only %d profiles", len(files))
	}
	valid, refusals := 0, 0
	for _, f := range files {
		args := []string{"--today", "2026-12-07"}
		code, stdout, warnings := runIn("", append([]string{"validate", f}, args...)...)
		if code != 0 || strings.Contains(stdout, ", 0 hosts, ") {
			continue // invalid input (the cases test its messages), or nothing a host target renders
		}
		valid++
		// A profile that declares its targets: generate --target all
		// writes them, and succeeds. One that declares none: validate
		// warned about every refusal generate --target all meets.
		out := t.TempDir()
		code, _, errs := runIn("", append([]string{"generate", f, "--target", "all", "--all-hosts", "--out-dir", out}, args...)...)
		if code != 0 && !strings.Contains(warnings, ": warning: ") {
			t.Errorf("%s: validate exits 0, generate --target all exits %d:\n%s", f, code, errs)
		}
		for _, l := range strings.Split(strings.TrimSuffix(errs, "\n"), "\n") {
			if w := strings.Replace(l, ": ", ": warning: ", 1); code != 0 && !strings.Contains(warnings, w+"\n") && !strings.Contains(l, "expired on") {
				t.Errorf("%s: generate --target all refuses what validate did not warn about: %s", f, l)
			}
		}
		for _, target := range targets.Names() {
			gen := []string{"generate", f, "--target", target, "--all-hosts", "--out-dir", t.TempDir()}
			gcode, _, gerrs := runIn("", append(gen, args...)...)
			vcode, _, verrs := runIn("", append([]string{"validate", f, "--target", target}, args...)...)
			if gcode == 0 && vcode == 0 {
				continue
			}
			if gcode != vcode || gerrs != verrs {
				t.Errorf("%s --target %s: generate exits %d, validate %d\ngenerate:\n%svalidate:\n%s", f, target, gcode, vcode, gerrs, verrs)
				continue
			}
			if strings.Contains(gerrs, "has no hosts") {
				continue
			}
			refusals++
			for _, l := range strings.Split(strings.TrimSuffix(gerrs, "\n"), "\n") {
				if !positioned.MatchString(l) {
					t.Errorf("%s --target %s: refusal without a position: %s", f, target, l)
				}
			}
		}
	}
	t.Logf("%d of %d profiles valid; %d refusals by target, each at the same positions in validate and generate", valid, len(files), refusals)
	if refusals == 0 && !testing.Short() {
		t.Error("no refusal at all: the test proves nothing")
	}
}
