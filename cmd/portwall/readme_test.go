package main

import (
	"os"
	"strings"
	"testing"
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

// TestReadmeDiagram: the README's diagram is what portwall draws today.
func TestReadmeDiagram(t *testing.T) {
	t.Parallel()
	out, _ := run(t, "docs", "../../examples/fme-distributed.toml", "--format", "mermaid")
	if block := readmeBlock(t, "## Documenting what to open: docs", "mermaid"); block != out {
		t.Errorf("README diagram differs from `portwall docs examples/fme-distributed.toml --format mermaid`:\n%s", out)
	}
}
