package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/portwall/portwall/internal/testkit/golden"
)

// readmeBlock returns the first fenced block of kind lang after heading.
func readmeBlock(t *testing.T, heading, lang string) string {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), heading)
	if !ok {
		t.Fatalf("README has no %q", heading)
	}
	_, block, ok := strings.Cut(rest, "```"+lang+"\n")
	if !ok {
		t.Fatalf("no %s block after %q", lang, heading)
	}
	block, _, _ = strings.Cut(block, "```")
	return block
}

// readmeMu serializes the tests that rewrite parts of README.md.
var readmeMu sync.Mutex

// readmeSection checks that README's text between the markers begin and
// end is want; with PORTWALL_UPDATE=1 it writes want there instead.
func readmeSection(t *testing.T, begin, end, want, what string) {
	t.Helper()
	readmeMu.Lock()
	defer readmeMu.Unlock()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	head, rest, ok := strings.Cut(string(data), begin)
	section, tail, ok2 := strings.Cut(rest, end)
	if !ok || !ok2 {
		t.Fatalf("README.md has no %q ... %q", begin, end)
	}
	if golden.Updating() {
		// Renamed into place: other tests read README.md meanwhile.
		f, err := os.CreateTemp("../..", ".README.md.*")
		if err != nil {
			t.Fatal(err)
		}
		defer os.Remove(f.Name())
		if _, err := f.WriteString(head + begin + want + end + tail); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(f.Name(), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(f.Name(), "../../README.md"); err != nil {
			t.Fatal(err)
		}
		return
	}
	if section != want {
		t.Errorf("README's %s differs from the generated one (PORTWALL_UPDATE=1 go test ./cmd/portwall rewrites it) (-README +generated):\n%s",
			what, golden.Diff([]byte(section), []byte(want)))
	}
}

// TestReadmeDiagram: the README's diagram is what portwall draws today.
func TestReadmeDiagram(t *testing.T) {
	t.Parallel()
	out, _ := run(t, "docs", "../../examples/fme-distributed.toml", "--format", "mermaid")
	if block := readmeBlock(t, "## Documenting what to open: docs", "mermaid"); block != out {
		t.Errorf("README diagram differs from `portwall docs examples/fme-distributed.toml --format mermaid`:\n%s", out)
	}
}

// TestReadmeExample: the profile at the top of the README is valid, as
// the README says, and generates its host's rules.
func TestReadmeExample(t *testing.T) {
	t.Parallel()
	file := t.TempDir() + "/mail.toml"
	if err := os.WriteFile(file, []byte(readmeBlock(t, "# portwall\n", "toml")), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runIn("", "validate", file)
	if want := file + ": valid: 1 deployment, 1 host, 5 rules\n"; code != 0 || out != want || errs != "" {
		t.Errorf("validate: exit %d, stdout %q, stderr %q; the README says %q", code, out, errs, want)
	}
	if code, _, errs := runIn("", "generate", file, "--target", "all", "--all-hosts", "--out-dir", t.TempDir()); code != 0 {
		t.Errorf("generate: exit %d: %s", code, errs)
	}
}

// TestReadmeContents: the README's table of contents lists its sections
// (## headings, with their ### headings beside), linked by GitHub's
// anchors (PORTWALL_UPDATE=1 rewrites it).
func TestReadmeContents(t *testing.T) {
	t.Parallel()
	const (
		begin = "<!-- contents: generated from the headings; TestReadmeContents holds it to them -->\n"
		end   = "<!-- /contents -->\n"
	)
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readmeSection(t, begin, end, readmeContents(string(data)), "table of contents")
}

// readmeContents is the table of contents of a Markdown text.
func readmeContents(md string) string {
	punct := regexp.MustCompile("[^a-z0-9 _-]")
	used := map[string]int{}
	anchor := func(h string) string {
		a := strings.ReplaceAll(punct.ReplaceAllString(strings.ToLower(h), ""), " ", "-")
		n := used[a]
		used[a]++
		if n > 0 {
			return fmt.Sprintf("%s-%d", a, n)
		}
		return a
	}
	var b strings.Builder
	var subs []string
	flush := func() {
		if len(subs) > 0 {
			fmt.Fprintf(&b, "  - %s\n", strings.Join(subs, " · "))
			subs = nil
		}
	}
	fenced := false
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "```") {
			fenced = !fenced
		}
		if fenced {
			continue
		}
		switch {
		case strings.HasPrefix(l, "# "):
			anchor(l[2:])
		case strings.HasPrefix(l, "## "):
			flush()
			h := l[3:]
			if a := anchor(h); h != "Contents" {
				fmt.Fprintf(&b, "- [%s](#%s)\n", h, a)
			}
		case strings.HasPrefix(l, "### "):
			h := l[4:]
			subs = append(subs, fmt.Sprintf("[%s](#%s)", strings.ReplaceAll(h, "|", `\|`), anchor(h)))
		}
	}
	flush()
	return b.String()
}
