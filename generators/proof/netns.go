package proof

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

// netns is a network namespace the proof created, named under
// /var/run/netns so that ip(8), nft and iptables can enter it too.
type netns struct {
	name string
	fd   int
}

func createNetns(ctx context.Context, name string) (*netns, error) {
	if _, err := run(ctx, nil, "ip", "netns", "add", name); err != nil {
		return nil, err
	}
	fd, err := unix.Open("/var/run/netns/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		_, _ = run(context.Background(), nil, "ip", "netns", "del", name)
		return nil, fmt.Errorf("open namespace %s: %w", name, err)
	}
	return &netns{name: name, fd: fd}, nil
}

// remove deletes the namespace. Its sockets must be closed first, or the
// kernel keeps it alive (unnamed) until they are.
func (n *netns) remove() error {
	unix.Close(n.fd)
	_, err := run(context.Background(), nil, "ip", "netns", "del", n.name)
	return err
}

// do runs fn on an OS thread that has entered the namespace, so that the
// sockets fn creates belong to it (a socket stays in the namespace it was
// created in, whichever thread uses it later). The thread goes back to its
// own namespace before anything else runs on it; if it cannot, it stays
// locked and is thrown away when the goroutine ends.
func (n *netns) do(fn func() error) error {
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
		if err := unix.Setns(n.fd, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("enter namespace %s: %w", n.name, err)
			return
		}
		ferr := fn()
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("leave namespace %s: %w", n.name, err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// sysctl sets net sysctls (paths under /proc/sys/net) inside the
// namespace: /proc/sys/net shows the namespace of the thread that opens it.
func (n *netns) sysctl(kv ...string) error {
	return n.do(func() error {
		for i := 0; i+1 < len(kv); i += 2 {
			if err := os.WriteFile("/proc/sys/net/"+kv[i], []byte(kv[i+1]), 0); err != nil {
				return fmt.Errorf("namespace %s: sysctl net/%s=%s: %w", n.name, kv[i], kv[i+1], err)
			}
		}
		return nil
	})
}

// ip runs ip(8) commands, one per line, inside the namespace.
func (n *netns) ip(ctx context.Context, lines []string) error {
	_, err := run(ctx, []byte(strings.Join(lines, "\n")+"\n"), "ip", "-n", n.name, "-batch", "-")
	return err
}

// exec runs a program inside the namespace with stdin.
func (n *netns) exec(ctx context.Context, stdin []byte, argv ...string) (string, error) {
	return run(ctx, stdin, "ip", append([]string{"netns", "exec", n.name}, argv...)...)
}

// commandTimeout bounds every program the proof runs.
const commandTimeout = time.Minute

func run(ctx context.Context, stdin []byte, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
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
