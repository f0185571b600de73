// Package kerneltest runs tests against the real kernel inside network
// namespaces that the test creates and deletes, so that nothing touches
// the host's own ruleset.
//
// Kernel tests need root. Without it they are skipped with a message,
// unless PORTWALL_REQUIRE_KERNEL=1 (set by CI) makes them fail instead.
// `go test -short` (the quick tier of the edit-test loop) skips them
// whatever the machine has.
package kerneltest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/portwall/portwall/internal/netns"
)

// RequireEnv is the variable that turns skips into failures.
const RequireEnv = "PORTWALL_REQUIRE_KERNEL"

// Require skips (or, with PORTWALL_REQUIRE_KERNEL=1, fails) the test unless
// it runs as root with ip(8) and the given tools installed.
func Require(t testing.TB, tools ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("kernel test: not in the -short tier")
	}
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	for _, tool := range append([]string{"ip"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) == 0 {
		return
	}
	Missing(t, fmt.Sprintf("kernel test needs %s (it runs in throwaway network namespaces)", strings.Join(missing, ", ")))
}

// Missing skips a test that lacks something from the system (root, a tool,
// test data that .ci/run installs), or fails it when PORTWALL_REQUIRE_KERNEL=1:
// in CI nothing may be skipped.
func Missing(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("%s, and %s=1 requires every system test to run", msg, RequireEnv)
	}
	t.Skip(msg + "; skipped: run as root with the tools .ci/run installs, or set " + RequireEnv + "=1 to make this a failure")
}

// RequireTools is Require without root: for tests that run programs
// (graphviz, say) but touch no kernel state.
func RequireTools(t testing.TB, tools ...string) {
	t.Helper()
	var missing []string
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		Missing(t, "test needs "+strings.Join(missing, ", "))
	}
}

// Timeout bounds every command a test runs in a namespace.
const Timeout = 60 * time.Second

var seq atomic.Int64

// Netns is a network namespace created by a test and deleted when it ends.
type Netns struct {
	*netns.NS
	t testing.TB
}

// New creates a namespace with its loopback up. It is deleted when the test
// ends, whatever the outcome.
func New(t testing.TB) *Netns {
	t.Helper()
	name := fmt.Sprintf("pwtest-%d-%d", os.Getpid(), seq.Add(1))
	ns, err := netns.Create(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	n := &Netns{NS: ns, t: t}
	t.Cleanup(func() {
		if err := ns.Remove(); err != nil {
			t.Error(err)
		}
	})
	n.MustRun("ip", "link", "set", "lo", "up")
	return n
}

// Run runs a command inside the namespace and returns its combined output.
func (n *Netns) Run(name string, args ...string) (string, error) {
	return n.RunStdin(nil, name, args...)
}

// RunStdin is Run with data on the command's standard input.
func (n *Netns) RunStdin(stdin []byte, name string, args ...string) (string, error) {
	return n.RunStdinTimeout(Timeout, stdin, name, args...)
}

// RunStdinTimeout is RunStdin for a command that may take longer than
// Timeout.
func (n *Netns) RunStdinTimeout(timeout time.Duration, stdin []byte, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.Name, name}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// MustRun is Run that fails the test on error.
func (n *Netns) MustRun(name string, args ...string) string {
	n.t.Helper()
	out, err := n.Run(name, args...)
	if err != nil {
		n.t.Fatalf("in netns %s: %s %s: %v\n%s", n.Name, name, strings.Join(args, " "), err, out)
	}
	return out
}

// go test runs the packages' tests at the same time. Tests that time
// packets (verify's probes wait 250 ms, then 2 s, for an answer) fail when
// a test in another package loads both cores for a minute (the Ansible
// fleet, 20 hosts' worth of Python). The first take a shared lock, the
// second an exclusive one, on one file, so that they never overlap.
var lockFile = filepath.Join(os.TempDir(), "portwall-kerneltest.lock")

// TimesPackets marks a test whose verdicts depend on timely answers: it
// waits while a LoadsMachine test runs.
func TimesPackets(t testing.TB) { lock(t, unix.LOCK_SH) }

// LoadsMachine marks a test that keeps both cores busy for long: it runs
// alone among TimesPackets tests, whatever their package.
func LoadsMachine(t testing.TB) { lock(t, unix.LOCK_EX) }

func lock(t testing.TB, how int) {
	t.Helper()
	f, err := os.OpenFile(lockFile, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		t.Fatal(err)
	}
	for {
		if err = unix.Flock(int(f.Fd()), how); err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		t.Fatalf("locking %s: %v", lockFile, err)
	}
	t.Cleanup(func() { f.Close() })
}
