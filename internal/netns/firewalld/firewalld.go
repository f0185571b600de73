// Package firewalld runs a private firewalld daemon inside a network
// namespace, for the packet proof and the kernel tests: nothing on the
// machine outside the namespace changes.
//
// The daemon gets its own configuration directory (bind-mounted over
// /etc/firewalld in a mount namespace of its own, and named with
// --system-config), a private /run, and a private D-Bus system bus: a
// dbus-daemon listening on a socket in the scratch directory, with no
// service activation, so that nothing else is started. firewall-cmd
// reaches it through DBUS_SYSTEM_BUS_ADDRESS from any namespace. Both
// processes die with the process that started them (Pdeathsig), and Stop
// ends them whatever state they are in.
//
// See /work/shared/reference/firewalld.md for the recipe this follows.
package firewalld

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/portwall/portwall/internal/netns"
)

// Tools are the programs a daemon needs.
var Tools = []string{"firewalld", "firewall-cmd", "firewall-offline-cmd", "dbus-daemon", "unshare", "mount"}

// Timeouts.
const (
	// StartTimeout bounds the wait for the bus and for the daemon to
	// report "running".
	StartTimeout = 60 * time.Second
	// StopTimeout is how long a process has to end after SIGTERM before
	// it is killed.
	StopTimeout = 5 * time.Second
)

// Conf is the private daemon's firewalld.conf: Debian's defaults, except
// that nothing is cleaned up on exit (the namespace goes away with its
// rules, and stopping is quicker).
const Conf = `# portwall's private firewalld, in a throwaway network namespace.
DefaultZone=public
CleanupOnExit=no
CleanupModulesOnExit=no
Lockdown=no
IPv6_rpfilter=yes
IndividualCalls=no
LogDenied=off
FirewallBackend=nftables
FlushAllOnReload=yes
RFC3964_IPv4=yes
`

// busConf is the private bus: root only, no service activation (no
// <servicedir>), nothing else listening.
const busConf = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="root"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
`

// Seed makes dir a fresh firewalld configuration directory: Conf and the
// empty directories of the object kinds. Stock objects come from
// /usr/lib/firewalld, as on any host.
func Seed(dir string) error {
	for _, d := range []string{"zones", "policies", "services", "ipsets", "icmptypes", "helpers"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, "firewalld.conf"), []byte(Conf), 0o644)
}

// Daemon is a running private firewalld.
type Daemon struct {
	// Config is the configuration directory (the daemon's /etc/firewalld).
	Config string
	// Log is firewalld's log file.
	Log string
	bus string // the socket's path
	// firewalld and dbus-daemon, and what their Wait returned.
	fw, dbus       *exec.Cmd
	fwDone, dbDone chan error
}

// Start starts dbus-daemon and firewalld with configuration directory
// config (see Seed) in namespace ns; scratch is a directory of the
// caller's for the bus socket and the logs. It returns when the daemon
// reports "running". On error nothing is left running.
func Start(ctx context.Context, ns *netns.NS, config, scratch string) (d *Daemon, err error) {
	d = &Daemon{Config: config, Log: filepath.Join(scratch, "firewalld.log"), bus: filepath.Join(scratch, "bus.sock")}
	defer func() {
		if err != nil {
			err = errors.Join(err, d.Stop())
		}
	}()
	conf := filepath.Join(scratch, "bus.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, busConf, d.bus), 0o600); err != nil {
		return nil, err
	}
	var dbusOut bytes.Buffer
	d.dbus = exec.Command("dbus-daemon", "--config-file="+conf, "--nofork", "--nopidfile", "--nosyslog")
	d.dbus.Stdout, d.dbus.Stderr = &dbusOut, &dbusOut
	d.dbus.SysProcAttr = daemonAttr()
	if d.dbDone, err = start(d.dbus); err != nil {
		return nil, fmt.Errorf("start dbus-daemon: %w", err)
	}
	if err := d.wait(ctx, func() (bool, error) {
		select {
		case err := <-d.dbDone:
			d.dbDone <- err
			return false, fmt.Errorf("dbus-daemon ended: %v\n%s", err, dbusOut.String())
		default:
		}
		_, err := os.Stat(d.bus)
		return err == nil, nil
	}); err != nil {
		return nil, err
	}

	// ip netns exec, unshare and sh each exec the next: the process
	// started here is firewalld itself. /etc/firewalld is only
	// bind-mounted over where it exists: nothing on the machine is
	// created for the daemon.
	script := `[ ! -d /etc/firewalld ] || mount --bind "$0" /etc/firewalld
mount -t tmpfs portwall-firewalld /run
mkdir -p /run/firewalld
exec firewalld --nofork --nopid --system-config "$0" --log-target file --log-file "$1"`
	var fwOut bytes.Buffer
	d.fw = exec.Command("ip", "netns", "exec", ns.Name, "unshare", "--mount", "--propagation", "private", "--",
		"sh", "-c", script, config, d.Log)
	d.fw.Env = append(os.Environ(), d.Env()...)
	d.fw.Stdout, d.fw.Stderr = &fwOut, &fwOut
	d.fw.SysProcAttr = daemonAttr()
	if d.fwDone, err = start(d.fw); err != nil {
		return nil, fmt.Errorf("start firewalld: %w", err)
	}
	var state string
	if err := d.wait(ctx, func() (bool, error) {
		select {
		case err := <-d.fwDone:
			d.fwDone <- err
			return false, fmt.Errorf("firewalld ended: %v\n%s%s", err, fwOut.String(), d.logTail())
		default:
		}
		state, _ = d.Cmd(ctx, "--state")
		state = strings.TrimSpace(state)
		if state == "failed" {
			return false, fmt.Errorf("firewalld failed to start\n%s", d.logTail())
		}
		return state == "running", nil
	}); err != nil {
		return nil, fmt.Errorf("%w (last state %q)", err, state)
	}
	return d, nil
}

// daemonAttr: a process group of its own (so that a terminal's signals do
// not reach it first) and death with its parent.
func daemonAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// start starts cmd and returns a channel that gets Wait's result once.
func start(cmd *exec.Cmd) (chan error, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	return done, nil
}

// wait polls ready every 50 ms until it says yes, fails, or StartTimeout
// passes.
func (d *Daemon) wait(ctx context.Context, ready func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	for {
		ok, err := ready()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready after %s: %w", StartTimeout, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Env is the environment that points firewall-cmd at this daemon.
func (d *Daemon) Env() []string {
	return []string{"DBUS_SYSTEM_BUS_ADDRESS=unix:path=" + d.bus}
}

// Cmd runs firewall-cmd against this daemon, bounded by
// netns.CommandTimeout, and returns its combined output.
func (d *Daemon) Cmd(ctx context.Context, args ...string) (string, error) {
	return d.Run(ctx, nil, "firewall-cmd", args...)
}

// Run runs a program with this daemon's bus in its environment.
func (d *Daemon) Run(ctx context.Context, stdin []byte, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, netns.CommandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), d.Env()...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return string(out), nil
}

// logTail is the end of firewalld's log, for errors.
func (d *Daemon) logTail() string {
	data, err := os.ReadFile(d.Log)
	if err != nil {
		return ""
	}
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return "firewalld's log:\n" + string(data)
}

// Stop ends firewalld, then its bus: SIGTERM, then SIGKILL after
// StopTimeout. It may be called more than once.
func (d *Daemon) Stop() error {
	return errors.Join(stop(d.fw, d.fwDone), stop(d.dbus, d.dbDone))
}

func stop(cmd *exec.Cmd, done chan error) error {
	if cmd == nil || cmd.Process == nil || done == nil {
		return nil
	}
	select {
	case err := <-done:
		done <- err
		return nil
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		done <- err
		return nil
	case <-time.After(StopTimeout):
	}
	if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill %s: %w", cmd.Path, err)
	}
	err := <-done
	done <- err
	return nil
}
