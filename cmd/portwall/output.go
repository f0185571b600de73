package main

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

// outputFlags are the output options, set from the global flags before any
// command runs. Flags are made anew for every app: urfave/cli writes into
// a flag when it parses it, so flags shared between concurrent runs would
// race.
func outputFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only results, warnings and errors: no progress or success messages"},
		&cli.StringFlag{Name: "color", Value: "auto", Usage: "color output: auto (on a terminal, unless NO_COLOR is set), always or never"},
	}
}

// isTerminal reports whether w is a terminal; tests replace it.
var isTerminal = func(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// setOutput reads -q and --color. Color follows https://no-color.org:
// NO_COLOR (set and not empty) turns off automatic color; --color always
// is the user asking explicitly and wins.
func (e *env) setOutput(c *cli.Context) error {
	e.quiet = c.Bool("quiet")
	switch mode := c.String("color"); mode {
	case "always":
		e.color = true
	case "never":
		e.color = false
	case "auto":
		e.color = os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb" && isTerminal(e.stdout)
	default:
		return fmt.Errorf("--color %q: want auto, always or never", mode)
	}
	return nil
}

// info prints a progress or success message, unless -q.
func (e *env) info(format string, args ...any) {
	if !e.quiet {
		fmt.Fprintf(e.stdout, format, args...)
	}
}

const (
	red    = "\x1b[31m"
	green  = "\x1b[32m"
	yellow = "\x1b[33m"
	cyan   = "\x1b[36m"
	reset  = "\x1b[0m"
)

// paint colors text when color is on ("" leaves it as it is).
func (e *env) paint(color, text string) string {
	if !e.color || text == "" || color == "" {
		return text
	}
	return color + text + reset
}

// paintLines colors each line of text by what it starts with; lines
// keep their bytes otherwise, so that output is the same without color.
func (e *env) paintLines(text string, rules map[string]string) string {
	if !e.color {
		return text
	}
	lines := strings.SplitAfter(text, "\n")
	for i, l := range lines {
		body := strings.TrimSuffix(l, "\n")
		for _, prefix := range sortedPrefixes(rules) {
			if strings.HasPrefix(body, prefix) {
				lines[i] = e.paint(rules[prefix], body) + l[len(body):]
				break
			}
		}
	}
	return strings.Join(lines, "")
}

// sortedPrefixes lists longer prefixes first, so that "---" wins over "-".
func sortedPrefixes(rules map[string]string) []string {
	return slices.SortedFunc(maps.Keys(rules), func(a, b string) int {
		return cmp.Or(cmp.Compare(len(b), len(a)), strings.Compare(a, b))
	})
}

// Colors of diff and verify output, by line prefix. Built on first use: a
// package-level map literal is built by every run's initialisation,
// whatever the command.
var (
	diffColors = sync.OnceValue(func() map[string]string {
		return map[string]string{"---": "", "+++": "", "@@": cyan, "-": red, "+": green}
	})
	verifyColors = sync.OnceValue(func() map[string]string {
		return map[string]string{"  MISMATCH": red, "  FAILED": red, "FAILED": red, "  held": green, "verified": green}
	})
)

// progress shows progress on standard error: on a terminal one line,
// rewritten in place by each step and kept by each done; elsewhere (CI
// logs) only the done lines, one each. -q shows none.
type progress struct {
	w        io.Writer
	terminal bool
	width    int
	quiet    bool
}

func (e *env) progress() *progress {
	return &progress{w: e.stderr, terminal: isTerminal(e.stderr), quiet: e.quiet}
}

// step shows what is under way (terminal only).
func (p *progress) step(msg string) {
	if p.quiet || !p.terminal {
		return
	}
	fmt.Fprintf(p.w, "\r%-*s\r%s", p.width, "", msg)
	p.width = len(msg)
}

// done reports a finished step on a line of its own.
func (p *progress) done(msg string) {
	if p.quiet {
		return
	}
	p.clear()
	fmt.Fprintln(p.w, msg)
}

// clear removes the step line, before other output to the terminal.
func (p *progress) clear() {
	if p.terminal && p.width > 0 {
		fmt.Fprintf(p.w, "\r%-*s\r", p.width, "")
		p.width = 0
	}
}
