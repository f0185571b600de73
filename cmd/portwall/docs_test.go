package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/fortigate"
	"github.com/portwall/portwall/generators/portdoc"
	"github.com/portwall/portwall/internal/graphviz"
	"github.com/portwall/portwall/internal/testkit/golden"
	"github.com/portwall/portwall/internal/testkit/rulestest"
	"github.com/portwall/portwall/profiles"
)

// runDocs runs portwall with args in dir (the current directory if
// empty) and returns the exit status and both outputs.
func runDocs(t *testing.T, dir string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	if dir != "" {
		t.Chdir(dir)
	}
	var out, errb bytes.Buffer
	code = Run(append([]string{"portwall"}, args...), strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// TestDocsOutput checks that the command prints what package portdoc
// renders (whose goldens cover the content), for every format, with and
// without --host, and that flags go anywhere on the line: with the
// interfaces of the profile's [fortigate] section, and the HTML page's
// diagram drawn by Graphviz when it is installed.
func TestDocsOutput(t *testing.T) {
	xeams, err := filepath.Abs("../../examples/xeams.toml")
	if err != nil {
		t.Fatal(err)
	}
	rs := rulestest.Ruleset(t, xeams)
	p, err := profiles.Load(xeams)
	if err != nil {
		t.Fatal(err)
	}
	s, err := generators.DecodeSettings(p, []generators.Section{fortigate.Section}, generators.NewEnv(p, nil))
	if err != nil {
		t.Fatal(err)
	}
	zones, err := fortigate.SettingsOf(s).Zones(rs)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range portdoc.Formats() {
		for _, host := range []string{"", "xeams1"} {
			t.Run(f+"/"+host, func(t *testing.T) {
				args := []string{"docs", "--format", f, xeams}
				if host != "" {
					args = append(args, "--host", host)
				}
				code, out, errs := runDocs(t, "", args...)
				if code != exitOK || errs != "" {
					t.Fatalf("exit %d\n%s", code, errs)
				}
				opt := portdoc.Options{Host: host, Zones: zones}
				if f == string(portdoc.HTML) && graphviz.Available() {
					opt.SVG = graphviz.SVG
					if !strings.Contains(out, "<svg ") {
						t.Errorf("dot is installed, but the page has no drawing")
					}
				}
				if !strings.Contains(out, "wan1") {
					t.Errorf("the output names no interface")
				}
				want, err := portdoc.Render(rs, portdoc.Format(f), opt)
				if err != nil {
					t.Fatal(err)
				}
				if out != string(want) {
					t.Errorf("output differs from portdoc.Render:\n%s", golden.Diff(want, []byte(out)))
				}
			})
		}
	}
	// Markdown is the default.
	_, out, _ := runDocs(t, "", "docs", xeams)
	if !strings.HasPrefix(out, "# Ports to open: office-mail\n") {
		t.Errorf("default format: %.60q", out)
	}
}

func TestDocsErrors(t *testing.T) {
	xeams, err := filepath.Abs("../../examples/xeams.toml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown format", []string{"--format", "pdf"},
			`portwall: unknown format "pdf" (formats: markdown, html, mermaid, dot)`},
		{"misspelt format", []string{"--format", "markdwon"},
			`portwall: unknown format "markdwon"; did you mean "markdown"? (formats: markdown, html, mermaid, dot)`},
		{"unknown host", []string{"--host", "xeams"},
			`portwall: unknown host "xeams"; did you mean "xeams1"? (hosts: xeams1)`},
		{"unknown host in a diagram", []string{"--format", "dot", "--host", "xeams2"},
			`portwall: unknown host "xeams2"; did you mean "xeams1"? (hosts: xeams1)`},
		{"empty host", []string{"--host", ""},
			`portwall: unknown host ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "ports.md")
			code, stdout, stderr := runDocs(t, dir, append([]string{"docs", xeams, "-o", out}, tt.args...)...)
			if code != exitError {
				t.Errorf("exit %d, want %d", code, exitError)
			}
			if !strings.HasPrefix(stderr, tt.want) {
				t.Errorf("stderr %q, want %q", stderr, tt.want)
			}
			if stdout != "" {
				t.Errorf("stdout %q", stdout)
			}
			// A failed command writes nothing, not even a temporary file.
			if entries, _ := os.ReadDir(dir); len(entries) > 0 {
				t.Errorf("the command failed but left %s", entries[0].Name())
			}
		})
	}
}

// TestDocsOutputFile checks -o: the file holds what standard output would,
// it replaces an existing file, and no temporary file is left.
func TestDocsOutputFile(t *testing.T) {
	fml, err := filepath.Abs("../../examples/fortimail-ha.toml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "flows.dot")
	if err := os.WriteFile(file, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runDocs(t, dir, "docs", fml, "--format", "dot", "-o", file)
	if code != exitOK || stdout != "" || stderr != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	_, want, _ := runDocs(t, "", "docs", fml, "--format", "dot")
	got, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("the file differs from standard output")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("files left in the directory: %v", entries)
	}
}

// TestDocsHelp checks that the help names every format and has an
// example.
func TestDocsHelp(t *testing.T) {
	code, out, errs := runDocs(t, "", "docs", "--help")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	for _, want := range append(portdoc.Formats(), "Examples:", "portwall docs examples/") {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
}
