package proof

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/portwall/portwall/internal/netns"
	fwd "github.com/portwall/portwall/internal/netns/firewalld"
	ufwenv "github.com/portwall/portwall/internal/netns/ufw"
	"github.com/portwall/portwall/rules/probe"
)

// The lab's addressing. Every namespace hangs off the router on its own
// veth pair; addresses are host routes (/32, /128) on the link, so that a
// profile's networks may overlap and nest in any way. Each link's router
// side holds the same gateway addresses, which never appear in a profile
// (link-local).
const (
	gateway4  = "169.254.0.1"
	gateway6  = "fe80::1"
	linkLocal = "fe80::2"
	linkName  = "eth0"
)

var labSeq atomic.Int64

// lab is the throwaway network of one proof.
type lab struct {
	router, host *netns.NS
	peers        map[string]*netns.NS     // by peer name
	where        map[netip.Addr]*netns.NS // peer address -> its namespace
	all          []*netns.NS
	closers      []func() error
	// firewalld is the host's private firewalld, started by the first
	// firewalld load; scratch holds its configuration, bus and log.
	firewalld *fwd.Daemon
	scratch   string
	// ufw is the host's private ufw configuration, made by the first ufw
	// load in scratch.
	ufw *ufwenv.Env
}

// newLab builds the namespaces of plan: a router, the host with its
// addresses, and a namespace per peer with the peer's addresses. On error
// everything built so far is removed.
func newLab(ctx context.Context, p *probe.Plan) (_ *lab, err error) {
	l := &lab{peers: map[string]*netns.NS{}, where: map[netip.Addr]*netns.NS{}}
	defer func() {
		if err != nil {
			err = errors.Join(err, l.close())
		}
	}()
	prefix := fmt.Sprintf("pwproof-%d-%d", os.Getpid(), labSeq.Add(1))
	mk := func(suffix string) (*netns.NS, error) {
		n, err := netns.Create(ctx, prefix+"-"+suffix)
		if err != nil {
			return nil, err
		}
		l.all = append(l.all, n)
		// Set before any link exists, so that every link inherits them:
		// no reverse-path filter (routes are asymmetric by design), and
		// ping sockets for the ICMP probes.
		return n, n.Sysctl(
			"ipv4/conf/all/rp_filter", "0", "ipv4/conf/default/rp_filter", "0",
			"ipv4/ping_group_range", "0 2147483647",
		)
	}
	if l.router, err = mk("router"); err != nil {
		return nil, err
	}
	if err := l.router.Sysctl("ipv4/ip_forward", "1", "ipv6/conf/all/forwarding", "1"); err != nil {
		return nil, err
	}
	if l.host, err = mk("host"); err != nil {
		return nil, err
	}
	var router []string
	if router, err = l.attach(ctx, l.host, 0, p.HostAddrs(), router); err != nil {
		return nil, err
	}
	for i, peer := range p.Peers {
		n, err := mk(fmt.Sprintf("p%d", i))
		if err != nil {
			return nil, err
		}
		l.peers[peer.Name] = n
		for _, a := range peer.Addrs {
			l.where[a] = n
		}
		if router, err = l.attach(ctx, n, i+1, peer.Addrs, router); err != nil {
			return nil, err
		}
	}
	if err := l.router.IP(ctx, router); err != nil {
		return nil, err
	}
	return l, nil
}

// attach links namespace n to the router through veth pair i, gives n its
// addresses and default routes, and returns the router's commands (run
// together once every link exists) with the routes back to n.
func (l *lab) attach(ctx context.Context, n *netns.NS, i int, addrs []netip.Addr, router []string) ([]string, error) {
	r := fmt.Sprintf("r%d", i)
	if err := l.router.IP(ctx, []string{
		fmt.Sprintf("link add %s type veth peer name %s netns %s", r, linkName, n.Name),
		"link set " + r + " addrgenmode none",
	}); err != nil {
		return nil, err
	}
	router = append(router,
		"link set "+r+" up",
		"addr add "+gateway4+"/32 dev "+r,
		"addr add "+gateway6+"/64 dev "+r+" nodad",
	)
	lines := []string{
		"link set lo up",
		"link set " + linkName + " addrgenmode none",
		"link set " + linkName + " up",
		"addr add " + linkLocal + "/64 dev " + linkName + " nodad",
	}
	has4, has6 := false, false
	for _, a := range addrs {
		if a.Is4() {
			has4 = true
			lines = append(lines, fmt.Sprintf("addr add %s/32 dev %s", a, linkName))
			router = append(router, fmt.Sprintf("route add %s/32 dev %s", a, r))
		} else {
			has6 = true
			lines = append(lines, fmt.Sprintf("addr add %s/128 dev %s nodad", a, linkName))
			router = append(router, fmt.Sprintf("route add %s/128 dev %s", a, r))
		}
	}
	if has4 {
		lines = append(lines,
			"route add "+gateway4+"/32 dev "+linkName+" scope link",
			"route add 0.0.0.0/0 via "+gateway4+" dev "+linkName)
	}
	if has6 {
		lines = append(lines, "route add ::/0 via "+gateway6+" dev "+linkName)
	}
	if err := n.IP(ctx, lines); err != nil {
		return nil, err
	}
	// Room for every probe in flight while a neighbour is being resolved:
	// the default queue holds a few packets and drops the rest of a burst,
	// unanswered. (Only the links' own settings exist in a new namespace.)
	if err := l.router.Sysctl(roomyNeighbours(r)...); err != nil {
		return nil, err
	}
	return router, n.Sysctl(roomyNeighbours(linkName)...)
}

func roomyNeighbours(link string) []string {
	return []string{
		"ipv4/neigh/" + link + "/unres_qlen_bytes", "4194304",
		"ipv6/neigh/" + link + "/unres_qlen_bytes", "4194304",
	}
}

// close stops the lab's listeners and daemons, deletes its namespaces
// and its scratch directory.
func (l *lab) close() error {
	var errs []error
	for _, c := range l.closers {
		errs = append(errs, c())
	}
	if l.firewalld != nil {
		errs = append(errs, l.firewalld.Stop())
	}
	for _, n := range l.all {
		errs = append(errs, n.Remove())
	}
	if l.scratch != "" {
		errs = append(errs, os.RemoveAll(l.scratch))
	}
	return errors.Join(errs...)
}

// loadFirewalld runs a firewalld load script against the host's private
// daemon, started on first use with a fresh configuration (package
// defaults, nothing of this machine's /etc/firewalld), then checks the
// configuration as an operator would.
func (l *lab) loadFirewalld(ctx context.Context, script []byte) error {
	if l.firewalld == nil {
		dir, err := os.MkdirTemp("", "pwproof-firewalld-")
		if err != nil {
			return err
		}
		l.scratch = dir
		config := filepath.Join(dir, "etc")
		if err := fwd.Seed(config); err != nil {
			return err
		}
		if l.firewalld, err = fwd.Start(ctx, l.host, config, dir); err != nil {
			return err
		}
	}
	d := l.firewalld
	path := filepath.Join(l.scratch, "load.sh")
	if err := os.WriteFile(path, script, 0o600); err != nil {
		return err
	}
	if _, err := d.Run(ctx, nil, "sh", path, "--dir", d.Config); err != nil {
		return err
	}
	if out, err := d.Cmd(ctx, "--check-config"); err != nil || strings.TrimSpace(out) != "success" {
		return fmt.Errorf("firewall-cmd --check-config after the load: %v %s", err, out)
	}
	if out, err := d.Run(ctx, nil, "firewall-offline-cmd", "--system-config", d.Config, "--check-config"); err != nil || out != "" {
		return fmt.Errorf("firewall-offline-cmd --check-config after the load: %v %s", err, out)
	}
	return nil
}

// loadUfw runs a ufw load script with --enable in the host's namespace,
// against a private ufw configuration made on first use (the package's
// defaults, nothing of this machine's /etc/ufw); then ufw must be active.
func (l *lab) loadUfw(ctx context.Context, script []byte) error {
	if l.ufw == nil {
		dir, err := os.MkdirTemp("", "pwproof-ufw-")
		if err != nil {
			return err
		}
		l.scratch = dir
		if err := ufwenv.Seed(dir); err != nil {
			return err
		}
		l.ufw = &ufwenv.Env{Dir: dir, NS: l.host}
	}
	if _, err := l.ufw.Load(ctx, script, "--enable"); err != nil {
		return err
	}
	active, err := l.ufw.Active(ctx)
	if err != nil {
		return err
	}
	if !active {
		return fmt.Errorf("ufw is not active after the load")
	}
	return nil
}
