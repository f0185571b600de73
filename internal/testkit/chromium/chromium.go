// Package chromium renders pages with headless Chromium for tests, the
// way a reader opens them: a screenshot or a PDF, and every message the
// page wrote to the browser's console (a script error, a resource the
// page's Content-Security-Policy refused), which a test fails on.
//
// Chromium comes from Debian's package (.ci/run installs it). Without it
// the tests are skipped with a message, unless PORTWALL_REQUIRE_KERNEL=1
// (set by CI) makes them fail; `go test -short` skips them.
package chromium

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portwall/portwall/internal/testkit/kerneltest"
)

// Timeout bounds one rendering.
const Timeout = 2 * time.Minute

// binaries are the names Chromium is installed under.
var binaries = []string{"chromium", "chromium-browser"}

// Require returns Chromium's path, or skips (fails in CI) the test.
func Require(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test: not in the -short tier")
	}
	for _, b := range binaries {
		if p, err := exec.LookPath(b); err == nil {
			return p
		}
	}
	kerneltest.Missing(t, "browser test needs chromium (Debian's package)")
	return ""
}

// Result is what one rendering reported.
type Result struct {
	// Console lists the page's console messages: "message (source)".
	Console []string
	// Log is Chromium's whole standard error, for a failure's message.
	Log string
}

// consoleLine is how Chromium logs a console message with
// --enable-logging=stderr: "[...:INFO:CONSOLE:12] "message", source:
// file:///page.html (12)" (older releases write CONSOLE(12)).
var consoleLine = regexp.MustCompile(`:CONSOLE[:(]\d*\)?\] "(.*)", source: (.*)$`)

// Screenshot renders page at width×height pixels into the PNG file png.
func Screenshot(t testing.TB, page []byte, png string, width, height int) Result {
	t.Helper()
	return run(t, page, "--screenshot="+png, fmt.Sprintf("--window-size=%d,%d", width, height))
}

// PrintPDF prints page as the browser's print dialog would, into pdf.
func PrintPDF(t testing.TB, page []byte, pdf string) Result {
	t.Helper()
	return run(t, page, "--print-to-pdf="+pdf, "--no-pdf-header-footer")
}

func run(t testing.TB, page []byte, args ...string) Result {
	t.Helper()
	bin := Require(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "page.html")
	if err := os.WriteFile(file, page, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	// A private profile and home: nothing read from or left in the
	// user's, and no other browser's state.
	cmd := exec.CommandContext(ctx, bin, append([]string{
		"--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--hide-scrollbars",
		"--disable-extensions", "--disable-background-networking", "--disable-sync",
		"--enable-logging=stderr", "--v=0", "--user-data-dir=" + filepath.Join(dir, "profile"),
	}, append(args, "file://"+file)...)...)
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+dir, "XDG_CACHE_HOME="+dir)
	// Chromium starts helper processes: on a timeout, end them all.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	err := cmd.Run()
	res := Result{Log: stderr.String()}
	if err != nil {
		t.Fatalf("%s: %v\n%s", bin, err, res.Log)
	}
	for _, l := range strings.Split(res.Log, "\n") {
		if m := consoleLine.FindStringSubmatch(l); m != nil {
			res.Console = append(res.Console, m[1]+" ("+m[2]+")")
		}
	}
	return res
}
