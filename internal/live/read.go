package live

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/google/nftables"
	"github.com/google/nftables/userdata"
	"github.com/mdlayher/netlink"
	"go4.org/netipx"
	"golang.org/x/sys/unix"
)

// NetNSDir is where `ip netns add` keeps named network namespaces.
const NetNSDir = "/var/run/netns"

// Conn talks to the nftables of one network namespace.
type Conn struct {
	NFT  *nftables.Conn
	nsfd int // 0: the current namespace
}

// Open connects to the network namespace named netns (as `ip netns`
// names it), or to the current one when netns is "".
func Open(netns string) (*Conn, error) {
	if netns == "" {
		return open(0)
	}
	f, err := OpenNamespace(netns)
	if err != nil {
		return nil, err
	}
	fd, err := unix.Dup(int(f.Fd()))
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("network namespace %s: %w", netns, err)
	}
	unix.CloseOnExec(fd)
	return open(fd)
}

// OpenNamespace opens the network namespace named netns, or the current
// one when netns is "", as a file.
func OpenNamespace(netns string) (*os.File, error) {
	if netns == "" {
		return os.Open("/proc/self/ns/net")
	}
	if netns != filepath.Base(netns) || strings.HasPrefix(netns, ".") {
		return nil, fmt.Errorf("invalid network namespace name %q", netns)
	}
	f, err := os.Open(filepath.Join(NetNSDir, netns))
	if err != nil {
		return nil, fmt.Errorf("network namespace %s: %w", netns, errors.Unwrap(err))
	}
	return f, nil
}

// OpenFD connects to the network namespace open as fd, which the Conn
// then owns.
func OpenFD(fd int) (*Conn, error) { return open(fd) }

func open(fd int) (*Conn, error) {
	c := &Conn{nsfd: fd}
	// One socket for the many requests a read makes (one per set).
	opts := []nftables.ConnOption{nftables.AsLasting()}
	if fd != 0 {
		opts = append(opts, nftables.WithNetNSFd(fd))
	}
	nft, err := nftables.New(opts...)
	if err != nil {
		c.Close()
		return nil, err
	}
	c.NFT = nft
	return c, nil
}

// Namespace returns the Conn's network namespace as a new open file.
func (c *Conn) Namespace() (*os.File, error) {
	if c.nsfd == 0 {
		return os.Open("/proc/self/ns/net")
	}
	fd, err := unix.FcntlInt(uintptr(c.nsfd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("network namespace: %w", err)
	}
	return os.NewFile(uintptr(fd), "netns"), nil
}

// Close releases the socket and the namespace.
func (c *Conn) Close() error {
	if c.NFT != nil {
		c.NFT.CloseLasting()
		c.NFT = nil
	}
	if c.nsfd > 0 {
		fd := c.nsfd
		c.nsfd = 0
		return unix.Close(fd)
	}
	return nil
}

var table = &nftables.Table{Name: TableName, Family: nftables.TableFamilyINet}

// Read returns portwall's table as the kernel holds it, or nil when there
// is none. It only reads.
func (c *Conn) Read() (*Table, error) {
	tables, err := c.NFT.ListTablesOfFamily(nftables.TableFamilyINet)
	if err != nil {
		return nil, fmt.Errorf("listing tables: %w", err)
	}
	if !slices.ContainsFunc(tables, func(t *nftables.Table) bool { return t.Name == TableName }) {
		return nil, nil
	}
	sets, err := c.NFT.GetSets(table)
	if err != nil {
		return nil, fmt.Errorf("listing sets: %w", err)
	}
	t := &Table{}
	anon := map[string]*elemList{}
	// Elements are read straight from the netlink dump, as it arrives:
	// a large table holds more than 100,000 of them.
	conn, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: c.nsfd})
	if err != nil {
		return nil, fmt.Errorf("netlink: %w", err)
	}
	defer conn.Close()
	in := interner{}
	buf := make([]byte, dumpBufferSize)
	for _, s := range sets {
		if !s.Anonymous && isDynamic(s.Name) {
			// Filled at run time: state, not content.
			t.Sets = append(t.Sets, canonicalSet(s, nil))
			continue
		}
		els, err := dumpElements(conn, s.Name, buf, in)
		if err != nil {
			return nil, err
		}
		if s.Anonymous {
			anon[s.Name] = els
			continue
		}
		t.Sets = append(t.Sets, canonicalSet(s, els))
	}
	// The raw dump (to catch expressions the library drops) reads the
	// rules a second time: do it on its own socket while the library
	// reads them.
	type countResult struct {
		counts map[ruleKey]int
		err    error
	}
	done := make(chan countResult, 1)
	go func() {
		counts, err := c.exprCounts()
		done <- countResult{counts, err}
	}()
	chains, err := c.NFT.ListChainsOfTableFamily(nftables.TableFamilyINet)
	if err != nil {
		<-done
		return nil, fmt.Errorf("listing chains: %w", err)
	}
	byName := map[string]*nftables.Set{}
	for _, s := range sets {
		byName[s.Name] = s
	}
	lookup := func(name string) (*nftables.Set, *elemList, bool) {
		// Named sets are looked up for their type only (concatenations).
		s, ok := byName[name]
		return s, anon[name], ok
	}
	read := map[string][]*nftables.Rule{}
	for _, ch := range chains {
		if ch.Table.Name != TableName {
			continue
		}
		if read[ch.Name], err = c.NFT.GetRules(table, ch); err != nil {
			<-done
			return nil, fmt.Errorf("chain %s: %w", ch.Name, err)
		}
	}
	res := <-done
	if res.err != nil {
		return nil, res.err
	}
	counts := res.counts
	for _, ch := range chains {
		if ch.Table.Name != TableName {
			continue
		}
		cc := canonicalChain(ch)
		for _, r := range read[ch.Name] {
			text, unknown := Decode(r.Exprs, lookup)
			comment, _ := userdata.GetString(r.UserData, userdata.TypeComment)
			// The library drops expressions it cannot decode: count them
			// in the raw message, and never call such a rule equal.
			if n, ok := counts[ruleKey{ch.Name, r.Handle}]; !ok || n != len(r.Exprs) {
				unknown = append(unknown, fmt.Sprintf("%d of %d expressions not decoded by the netlink library", n-len(r.Exprs), n))
			}
			cc.Rules = append(cc.Rules, Rule{Handle: r.Handle, Text: text, Comment: comment, Opaque: len(unknown) > 0, Why: strings.Join(unknown, "; ")})
		}
		t.Chains = append(t.Chains, cc)
	}
	t.sort()
	return t, nil
}

func (t *Table) sort() {
	slices.SortFunc(t.Sets, func(a, b Set) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(t.Chains, func(a, b Chain) int { return cmp.Compare(a.Name, b.Name) })
}

// canonicalSet reads a named set: its elements (as the kernel stores
// them) as sorted spans.
func canonicalSet(s *nftables.Set, els *elemList) Set {
	out := Set{Name: s.Name, Type: s.KeyType.Name, Comment: s.Comment, Dynamic: isDynamic(s.Name), keyType: s.KeyType, concat: s.Concatenation}
	for _, f := range []struct {
		on   bool
		name string
	}{{s.Constant, "constant"}, {s.Interval, "interval"}, {s.HasTimeout, "timeout"}, {s.Dynamic, "dynamic"}} {
		if f.on {
			out.Flags = append(out.Flags, f.name)
		}
	}
	if out.Dynamic || els == nil {
		out.elems = &elemList{}
		return out
	}
	out.elems = canonical(els, s.Interval, s.Concatenation)
	return out
}

// isDynamic: portwall's *_dns_* sets are filled at run time by a resolver.
func isDynamic(name string) bool { return strings.Contains(name, "_dns_") }

// typeField is how a set type's values read.
func typeField(t nftables.SetDatatype) field {
	n := int(t.Bytes)
	f := field{kind: kindRaw, full: n, load: n}
	switch t.Name {
	case "ipv4_addr", "ipv6_addr":
		f.kind = kindAddr
	case "inet_proto":
		f.kind = kindL4Proto
	case "inet_service":
		f.kind = kindPort
	case "icmp_type":
		f.kind = kindICMP
	case "icmpv6_type":
		f.kind = kindICMPv6
	}
	return f
}

// span writes one element: an address, a prefix when the range is one, or
// first-last.
func (f field) span(sp span) string {
	if f.kind == kindAddr {
		from, ok1 := netipFrom(sp.from)
		to, ok2 := netipFrom(sp.to)
		if ok1 && ok2 {
			r := netipx.IPRangeFrom(from, to)
			if p, ok := r.Prefix(); ok {
				if p.IsSingleIP() {
					return p.Addr().String()
				}
				return p.String()
			}
			return r.String()
		}
	}
	if string(sp.from) == string(sp.to) {
		return f.value(sp.from)
	}
	if f.kind == kindICMP || f.kind == kindICMPv6 || f.kind == kindL4Proto {
		// Ranges of named values are written as numbers, as portwall
		// writes them.
		return fmt.Sprintf("%d-%d", sp.from[0], sp.to[0])
	}
	return f.value(sp.from) + "-" + f.value(sp.to)
}

// hookNames are the hooks' names in nft's syntax. Built on first use: package-level map literals are built by every
// run's initialisation, whether it touches the kernel or not.
var hookNames = sync.OnceValue(func() map[nftables.ChainHook]string {
	return map[nftables.ChainHook]string{
		*nftables.ChainHookPrerouting: "prerouting", *nftables.ChainHookInput: "input", *nftables.ChainHookForward: "forward",
		*nftables.ChainHookOutput: "output", *nftables.ChainHookPostrouting: "postrouting",
	}
})

func canonicalChain(c *nftables.Chain) Chain {
	out := Chain{Name: c.Name, Type: string(c.Type), Hook: "none", Policy: "accept"}
	if c.Hooknum != nil {
		out.Hook = hookNames()[*c.Hooknum]
	}
	if c.Priority != nil {
		out.Priority = int32(*c.Priority)
	}
	if c.Policy != nil && *c.Policy == nftables.ChainPolicyDrop {
		out.Policy = "drop"
	}
	return out
}

func netipFrom(b []byte) (netip.Addr, bool) { return netip.AddrFromSlice(b) }
