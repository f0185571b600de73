package proof

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/portwall/portwall/generators/proof/nsenter"
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

// do runs fn inside the namespace (nsenter.Do): the sockets fn creates
// belong to it.
func (n *netns) do(fn func() error) error { return nsenter.Do(n.fd, n.name, fn) }

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
