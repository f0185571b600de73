// Package netns is the namespace plumbing shared by the packet proof and
// the kernel tests: named network namespaces (created under /var/run/netns,
// so that ip(8), nft and iptables can enter them too), commands run inside
// them, and Go code run on a thread that has entered one.
package netns

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// CommandTimeout bounds every program run in a namespace unless the
// caller's context is shorter.
const CommandTimeout = time.Minute

// NS is a named network namespace.
type NS struct {
	Name string
	fd   int
}

// Create adds the namespace name (ip netns add) and opens it.
func Create(ctx context.Context, name string) (*NS, error) {
	if _, err := Run(ctx, nil, "ip", "netns", "add", name); err != nil {
		return nil, err
	}
	fd, err := unix.Open("/var/run/netns/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		_, _ = Run(context.Background(), nil, "ip", "netns", "del", name)
		return nil, fmt.Errorf("open namespace %s: %w", name, err)
	}
	return &NS{Name: name, fd: fd}, nil
}

// Remove deletes the namespace. Its sockets must be closed first, or the
// kernel keeps it alive (unnamed) until they are.
func (n *NS) Remove() error {
	unix.Close(n.fd)
	_, err := Run(context.Background(), nil, "ip", "netns", "del", n.Name)
	return err
}

// Do runs fn inside the namespace: the sockets fn creates belong to it.
func (n *NS) Do(fn func() error) error { return Do(n.fd, n.Name, fn) }

// Exec runs a program inside the namespace with stdin (nil for none) and
// returns its combined output.
func (n *NS) Exec(ctx context.Context, stdin []byte, argv ...string) (string, error) {
	return Run(ctx, stdin, "ip", append([]string{"netns", "exec", n.Name}, argv...)...)
}

// IP runs ip(8) commands, one per line, inside the namespace.
func (n *NS) IP(ctx context.Context, lines []string) error {
	_, err := Run(ctx, []byte(strings.Join(lines, "\n")+"\n"), "ip", "-n", n.Name, "-batch", "-")
	return err
}

// Sysctl sets net sysctls (paths under /proc/sys/net) inside the
// namespace: /proc/sys/net shows the namespace of the thread that opens it.
func (n *NS) Sysctl(kv ...string) error {
	return n.Do(func() error {
		for i := 0; i+1 < len(kv); i += 2 {
			if err := os.WriteFile("/proc/sys/net/"+kv[i], []byte(kv[i+1]), 0); err != nil {
				return fmt.Errorf("namespace %s: sysctl net/%s=%s: %w", n.Name, kv[i], kv[i+1], err)
			}
		}
		return nil
	})
}

// Run runs a program with stdin (nil for none), bounded by
// CommandTimeout, and returns its combined output. A failure carries the
// command line and its output.
func Run(ctx context.Context, stdin []byte, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, CommandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return string(out), nil
}

// Do runs fn on an OS thread that has entered the network namespace open
// as fd (name is for errors), so that the sockets fn creates belong to it:
// a socket stays in the namespace it was created in, whichever thread
// uses it later. The thread goes back to its own namespace before
// anything else runs on it; if it cannot, it stays locked and is thrown
// away when the goroutine ends.
func Do(fd int, name string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("open own namespace: %w", err)
			return
		}
		defer unix.Close(orig)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("enter namespace %s: %w", name, err)
			return
		}
		ferr := fn()
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("leave namespace %s: %w", name, err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}
