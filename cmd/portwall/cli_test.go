package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/portwall/portwall/internal/testkit/golden"
	"github.com/portwall/portwall/internal/testkit/kerneltest"
)

// TestEveryCommandHasAnExample: `portwall COMMAND --help` shows two
// examples (one when there is only one way to run it) and the exit
// statuses, for every command and subcommand.
func TestEveryCommandHasAnExample(t *testing.T) {
	t.Parallel()
	e := &env{stdout: io.Discard, stderr: io.Discard, stdin: strings.NewReader("")}
	var walk func(prefix string, cmds []*cli.Command)
	n := 0
	walk = func(prefix string, cmds []*cli.Command) {
		for _, c := range cmds {
			if c.Hidden {
				continue
			}
			name := strings.TrimSpace(prefix + " " + c.Name)
			if len(c.Subcommands) > 0 {
				walk(name, c.Subcommands)
				continue
			}
			n++
			if !strings.Contains(c.Description, "Example") || !strings.Contains(c.Description, "portwall ") {
				t.Errorf("portwall %s --help has no example", name)
			}
			if strings.Count(c.Description, "\n   portwall ")+strings.Count(c.Description, "\n   sudo portwall ") < 2 && c.Name != "help" {
				t.Errorf("portwall %s --help has fewer than two examples", name)
			}
			if !strings.Contains(c.Description, "Exit status") && c.Name != "help" {
				t.Errorf("portwall %s --help does not say its exit status", name)
			}
		}
	}
	walk("", e.newApp().Commands)
	if n < 13 {
		t.Errorf("only %d commands found", n)
	}
}

func TestCompletionScripts(t *testing.T) {
	t.Parallel()
	for _, shell := range []string{"bash", "zsh", "fish"} {
		code, out, errs := runIn("", "completion", shell)
		if code != 0 || errs != "" {
			t.Fatalf("%s: exit %d: %s", shell, code, errs)
		}
		golden.Compare(t, filepath.Join("testdata", "completion", shell), []byte(out))
	}
	if code, _, errs := runIn("", "completion", "tcsh"); code != 1 || errs != "portwall: completion: unknown shell \"tcsh\": want bash, zsh, fish\n" {
		t.Errorf("tcsh: exit %d: %q", code, errs)
	}
}

// TestManPage: the manual page is generated from the commands and flags,
// and groff reads it without a warning.
func TestManPage(t *testing.T) {
	t.Parallel()
	code, out, errs := runIn("", "man")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d: %s", code, errs)
	}
	golden.Compare(t, filepath.Join("testdata", "portwall.1"), []byte(out))
	for _, want := range []string{".SH EXIT STATUS", ".SH ENVIRONMENT", ".SH FILES", ".SH EXAMPLES", ".SH COMMANDS", ".SS query"} {
		if !strings.Contains(out, "\n"+want+"\n") {
			t.Errorf("the page has no %q", want)
		}
	}
	for _, artifact := range []string{"DIRect", "//", "  files"} {
		if strings.Contains(out, artifact) {
			t.Errorf("the page holds %q", artifact)
		}
	}
	kerneltest.RequireTools(t, "groff")
	cmd := exec.Command("groff", "-man", "-Tutf8", "-ww", "-z")
	cmd.Stdin = strings.NewReader(out)
	if msg, err := cmd.CombinedOutput(); err != nil || len(msg) > 0 {
		t.Errorf("groff: %v\n%s", err, msg)
	}
}

func TestQuiet(t *testing.T) {
	t.Parallel()
	if code, out, errs := runIn("", "-q", "validate", xeams); code != 0 || out != "" || errs != "" {
		t.Errorf("validate -q: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if code, out, _ := runIn("", "validate", xeams); code != 0 || !strings.Contains(out, ": valid: ") {
		t.Errorf("validate: exit %d, stdout %q", code, out)
	}
	// -q drops messages, never answers.
	if code, out, _ := runIn("", "explain", xeams, "-q", "--host", "xeams1", "--port", "25/tcp"); code != 0 || !strings.Contains(out, "opened by 1 rule") {
		t.Errorf("explain -q: exit %d, stdout %q", code, out)
	}
}

// TestColor: color only when asked, or on a terminal without NO_COLOR.
func TestColor(t *testing.T) {
	args := []string{"explain", xeams, "--host", "xeams1", "--from", "203.0.113.9", "--port", "25/tcp"}
	colored := func(extra ...string) bool {
		t.Helper()
		code, out, errs := runIn("", append(extra, args...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		return strings.Contains(out, "\x1b[")
	}
	real := isTerminal
	t.Cleanup(func() { isTerminal = real })
	isTerminal = func(io.Writer) bool { return false }
	if colored() || !colored("--color", "always") || colored("--color", "never") {
		t.Error("not a terminal: color only with --color always")
	}
	isTerminal = func(io.Writer) bool { return true }
	t.Setenv("NO_COLOR", "")
	if !colored() || colored("--color", "never") {
		t.Error("a terminal: color unless --color never")
	}
	t.Setenv("NO_COLOR", "1")
	if colored() || !colored("--color", "always") {
		t.Error("NO_COLOR: no color unless --color always")
	}
	if code, _, errs := runIn("", append([]string{"--color", "sometimes"}, args...)...); code != 1 || errs != "portwall: --color \"sometimes\": want auto, always or never\n" {
		t.Errorf("--color sometimes: exit %d: %q", code, errs)
	}
}

// TestOutputTargets: -o replaces a regular file atomically, writes through
// a symlink to its target, writes to a device or FIFO without replacing
// it (as root, replacing /dev/null would put a plain file in its place),
// and refuses a directory.
func TestOutputTargets(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	args := func(out string) []string {
		return []string{"generate", xeams, "--target", "nftables", "--host", "xeams1", "-o", out}
	}
	want, _ := run(t, "generate", xeams, "--target", "nftables", "--host", "xeams1")

	real := filepath.Join(dir, "real.nft")
	link := filepath.Join(dir, "link.nft")
	if err := os.WriteFile(real, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real.nft", link); err != nil {
		t.Fatal(err)
	}
	run(t, args(link)...)
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symlink was replaced: %v %v", fi.Mode(), err)
	}
	if data, _ := os.ReadFile(real); string(data) != want {
		t.Errorf("the symlink's target was not written")
	}

	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte)
	go func() {
		data, _ := os.ReadFile(fifo)
		got <- data
	}()
	run(t, args(fifo)...)
	if data := <-got; string(data) != want {
		t.Errorf("FIFO got %d bytes, want %d", len(data), len(want))
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO was replaced: %v %v", fi.Mode(), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("left behind: %v", entries)
	}

	if os.Geteuid() == 0 {
		run(t, args("/dev/null")...)
		if fi, err := os.Lstat("/dev/null"); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
			t.Fatalf("/dev/null is no longer a device: %v %v", fi.Mode(), err)
		}
	}
	if code, _, errs := runIn("", args(dir)...); code != 1 || !strings.Contains(errs, "is a directory") {
		t.Errorf("directory: exit %d: %s", code, errs)
	}
}

// TestHelp: every command's help (`portwall CMD --help`) is golden, and
// `portwall help A B` shows exactly B's help; global flags work before and
// after the command and the profile; --version prints the build's version.
func TestHelp(t *testing.T) {
	t.Parallel()
	e := &env{stdout: io.Discard, stderr: io.Discard, stdin: strings.NewReader("")}
	var walk func(path []string, cmds []*cli.Command)
	n := 0
	walk = func(path []string, cmds []*cli.Command) {
		for _, c := range cmds {
			if c.Name == "help" || c.Hidden {
				continue
			}
			p := append(slices.Clone(path), c.Name)
			code, out, errs := runIn("", append(p, "--help")...)
			if code != 0 || errs != "" {
				t.Errorf("%v --help: exit %d: %s", p, code, errs)
			}
			golden.Compare(t, filepath.Join("testdata", "help", strings.Join(p, "-")+".txt"), []byte(out))
			if code, via, _ := runIn("", append([]string{"help"}, p...)...); code != 0 || via != out {
				t.Errorf("help %s differs from %s --help:\n%s", strings.Join(p, " "), strings.Join(p, " "), via)
			}
			if len(c.Subcommands) > 0 && !strings.Contains(out, "COMMANDS:") {
				t.Errorf("%s --help lists no subcommands", strings.Join(p, " "))
			}
			n++
			walk(p, c.Subcommands)
		}
	}
	walk(nil, e.newApp().Commands)
	if n < 17 {
		t.Errorf("only %d commands", n)
	}
	for _, args := range [][]string{{"validate", xeams, "-q"}, {"-q", "validate", xeams}, {"validate", "-q", xeams}, {"validate", "--today", "2026-12-07", xeams, "--quiet"}} {
		if code, out, errs := runIn("", args...); code != 0 || out != "" || errs != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errs)
		}
	}
	if code, out, _ := runIn("", "--version"); code != 0 || !strings.HasPrefix(out, "portwall ") {
		t.Errorf("--version: exit %d, %q", code, out)
	}
}
