// Package ufw runs ufw inside a network namespace with a private
// configuration, for the packet proof and the kernel tests: nothing on the
// machine outside the namespace changes.
//
// ufw has no option to name its configuration directory for the rules it
// loads (--datadir is for packaging tests and changes where ufw-init looks
// too), and its paths are fixed: /etc/ufw, /etc/default/ufw, /lib/ufw
// (ufw-init), /run/ufw.lock. Every command runs in the network namespace
// and in a mount namespace of its own (unshare --mount, propagation
// private) in which a directory of the caller's is bind-mounted over each
// of them and /run is a fresh tmpfs; TMPDIR points into the directory,
// where ufw writes its temporary files. The directory keeps ufw's state
// from one command to the next. ufw's rules go to the kernel through
// iptables and ip6tables, in the namespace; on Debian and Ubuntu these are
// iptables-nft.
//
// No daemon is involved: ufw is a command, and its rules live in the
// namespace's netfilter tables, which go away with the namespace.
package ufw

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/portwall/portwall/internal/netns"
)

// Tools are the programs a private ufw needs.
var Tools = []string{"ufw", "iptables", "ip6tables", "iptables-restore", "ip6tables-restore", "unshare", "mount"}

// Package is where ufw's package keeps the pristine files a fresh
// configuration starts from, and the machine's own paths that a private
// configuration hides.
const (
	Templates = "/usr/share/ufw"
	InitDir   = "/lib/ufw"
)

// Defaults is the private /etc/default/ufw: Debian's and Ubuntu's
// defaults.
const Defaults = `# /etc/default/ufw: portwall's private ufw, in a throwaway network namespace.
IPV6=yes
DEFAULT_INPUT_POLICY="DROP"
DEFAULT_OUTPUT_POLICY="ACCEPT"
DEFAULT_FORWARD_POLICY="DROP"
DEFAULT_APPLICATION_POLICY="SKIP"
MANAGE_BUILTINS=no
IPT_SYSCTL=/etc/ufw/sysctl.conf
IPT_MODULES=""
`

// Sysctl is the private /etc/ufw/sysctl.conf: the settings of Debian's
// (ufw applies them when it starts). Every one is a network setting, of
// the namespace only.
const Sysctl = `net/ipv4/conf/all/accept_redirects=0
net/ipv4/conf/default/accept_redirects=0
net/ipv6/conf/all/accept_redirects=0
net/ipv6/conf/default/accept_redirects=0
net/ipv4/icmp_echo_ignore_broadcasts=1
net/ipv4/icmp_ignore_bogus_error_responses=1
net/ipv4/icmp_echo_ignore_all=0
net/ipv4/conf/all/log_martians=0
net/ipv4/conf/default/log_martians=0
`

// Env is a private ufw configuration, used in one namespace.
type Env struct {
	// Dir holds the configuration: etc (the private /etc/ufw),
	// default (/etc/default/ufw), lib (/lib/ufw) and tmp.
	Dir string
	NS  *netns.NS
}

// Conf is the private /etc/ufw.
func (e *Env) Conf() string { return filepath.Join(e.Dir, "etc") }

// Seed makes dir a fresh ufw configuration, as the package installs it:
// the rules files and ufw.conf from the package's templates (inactive,
// logging low), no application profiles, Defaults and Sysctl.
func Seed(dir string) error {
	for _, d := range []string{"etc/applications.d", "lib", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	copies := map[string]string{filepath.Join(Templates, "ufw.conf"): "etc/ufw.conf"}
	for _, f := range []string{"before", "after", "user"} {
		for _, v := range []string{"", "6"} {
			copies[filepath.Join(Templates, "iptables", f+v+".rules")] = "etc/" + f + v + ".rules"
		}
	}
	for _, f := range []string{"ufw-init", "ufw-init-functions"} {
		copies[filepath.Join(InitDir, f)] = "lib/" + f
	}
	for from, to := range copies {
		data, err := os.ReadFile(from)
		if err != nil {
			return err
		}
		info, err := os.Stat(from)
		if err != nil {
			return err
		}
		mode := info.Mode().Perm()
		if strings.HasSuffix(to, ".rules") {
			mode = 0o640 // as the package's postinst leaves them
		}
		if err := os.WriteFile(filepath.Join(dir, to), data, mode); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "etc", "sysctl.conf"), []byte(Sysctl), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "default"), []byte(Defaults), 0o644)
}

// script enters the private configuration, then runs its arguments. The
// mount points are the machine's own paths, which ufw's package creates:
// nothing on the machine is created for the private configuration.
const script = `d=$0
mount --bind "$d/etc" /etc/ufw
mount --bind "$d/default" /etc/default/ufw
mount --bind "$d/lib" /lib/ufw
mount -t tmpfs portwall-ufw /run
export TMPDIR="$d/tmp"
exec "$@"`

// Run runs a program inside the namespace, with the private
// configuration in place of the machine's, bounded by
// netns.CommandTimeout, and returns its combined output.
func (e *Env) Run(ctx context.Context, stdin []byte, argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, netns.CommandTimeout)
	defer cancel()
	args := append([]string{"netns", "exec", e.NS.Name, "unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script, e.Dir}, argv...)
	cmd := exec.CommandContext(ctx, "ip", args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, bytes.TrimSpace(out))
	}
	return string(out), nil
}

// Ufw runs ufw with args in the private configuration.
func (e *Env) Ufw(ctx context.Context, args ...string) (string, error) {
	return e.Run(ctx, nil, append([]string{"ufw"}, args...)...)
}

// Load runs a load script of portwall's as its header says, with args
// (such as --enable): `sh HOST.ufw.sh`.
func (e *Env) Load(ctx context.Context, script []byte, args ...string) (string, error) {
	path := filepath.Join(e.Dir, "load.sh")
	if err := os.WriteFile(path, script, 0o600); err != nil {
		return "", err
	}
	return e.Run(ctx, nil, append([]string{"sh", path}, args...)...)
}

// Active reports whether ufw is enabled and its rules loaded.
func (e *Env) Active(ctx context.Context) (bool, error) {
	out, err := e.Ufw(ctx, "status")
	if err != nil {
		return false, err
	}
	return strings.HasPrefix(out, "Status: active\n"), nil
}

// Backend says which iptables ufw drives: "nf_tables" or "legacy", from
// iptables -V.
func Backend(ctx context.Context) (string, error) {
	out, err := netns.Run(ctx, nil, "iptables", "-V")
	if err != nil {
		return "", err
	}
	switch {
	case strings.Contains(out, "nf_tables"):
		return "nf_tables", nil
	case strings.Contains(out, "legacy"):
		return "legacy", nil
	}
	return "", fmt.Errorf("iptables -V: %s", strings.TrimSpace(out))
}
