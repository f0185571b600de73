package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/nftables"
	"github.com/portwall/portwall/generators/targets"
	"github.com/portwall/portwall/internal/testkit/kerneltest"
)

// BenchmarkPacketPath measures the packet path through a 10,000-rule
// host in the kernel: how many new flows per second pass the input chain
// of the readable layout and of the sets layout, against the ceiling of
// no ruleset at all and the cost of connection tracking alone, in IPv4
// and in IPv6. Root only, in two throwaway namespaces joined by a veth
// pair. It takes minutes, so `go test -bench .` leaves it out: name it,
// or set PORTWALL_BENCH_PACKETS=1:
//
//	go test -run '^$' -bench PacketPath -benchtime 3x -timeout 30m ./cmd/mkprofile
//
// Every packet is a new UDP flow (its own source address and port) to
// the port of one extra rule appended after the 10,000 (from
// 198.18.0.0/15 or 2001:2::/48, the benchmarking ranges of RFC 2544 and
// RFC 5180), so with the readable layout each
// packet is compared with every rule before it: the worst case, which
// established flows never see (they are accepted by the first rule).
// Packets are written by a raw socket in the sender's namespace and
// counted by the receiver's UDP counters (a bound socket that is never
// read: InDatagrams + RcvbufErrors), so no user-space reader limits the
// rate. An op is one batch of packetBatch packets; pkts/s is delivered
// packets over the time from the first send until the counter stops
// moving, and %lost what the receiving side dropped (the backlog of a
// CPU too busy to keep up).
//
// Bounded: packetBatch packets per op, and every namespace (with its
// connection-tracking entries) is deleted when the benchmark ends.
func BenchmarkPacketPath(b *testing.B) {
	if f := flag.Lookup("test.bench"); (f == nil || !strings.Contains(f.Value.String(), "PacketPath")) && os.Getenv(packetsEnv) != "1" {
		b.Skipf("minutes long: run with -bench PacketPath, or set %s=1", packetsEnv)
	}
	kerneltest.Require(b, "nft")
	data := ruleProfile(b, 10000)
	if !bytes.Contains(data, []byte("\n[groups]\n")) {
		b.Fatal("the profile has no [groups] table")
	}
	data = bytes.Replace(data, []byte("\n[groups]\n"), []byte("\n[groups]\n"+benchGroup), 1)
	data = append(data, benchRule...)
	rs := resolve(b, "synthetic.toml", data)
	h, ok := rs.Host(benchHost)
	if !ok {
		b.Fatalf("no host %s", benchHost)
	}
	var dst4, dst6 netip.Addr
	for _, a := range h.Addrs {
		switch {
		case a.Is4() && !dst4.IsValid():
			dst4 = a
		case a.Is6() && !dst6.IsValid():
			dst6 = a
		}
	}
	if !dst4.IsValid() || !dst6.IsValid() {
		b.Fatalf("host %s lacks an IPv4 or an IPv6 address", benchHost)
	}
	nft, _ := targets.Lookup("nftables")
	script := func(layout nftables.Layout) []byte {
		s := generators.Settings{nftables.Section.Name(): nftables.Settings{Layout: layout}}
		files, err := nft.Generate(generators.Request{Ruleset: rs, Hosts: []string{benchHost}, Settings: s})
		if err != nil {
			b.Fatal(err)
		}
		return files[0].Contents
	}
	readable, sets := script(nftables.LayoutReadable), script(nftables.LayoutSets)
	// The benchmark's rule must be the last one the readable chain
	// tries, or the readable figure would not be the worst case.
	for _, prefix := range []string{"ip saddr ", "ip6 saddr "} {
		if last := lastRule(readable, prefix); !strings.Contains(last, benchComment) {
			b.Fatalf("the benchmark rule is not the last %q rule of the readable layout; last: %s", prefix, last)
		}
	}
	cases := []struct {
		name   string
		script []byte
		filter bool // drops what the profile does not allow
	}{
		{"none", nil, false},
		{"conntrack", []byte(conntrackOnly), false},
		{"readable", readable, true},
		{"sets", sets, true},
	}
	for _, fam := range []struct {
		name string
		dst  netip.Addr
	}{{"ipv4", dst4}, {"ipv6", dst6}} {
		for _, c := range cases {
			b.Run(fam.name+"/"+c.name, func(b *testing.B) { packetCase(b, fam.dst, c.script, c.filter) })
		}
	}
}

// packetCase loads script (nil: no ruleset) into the receiver and sends
// it batches of new flows to dst; with filter, flows from outside every
// group must not pass.
func packetCase(b *testing.B, dst netip.Addr, script []byte, filter bool) {
	l := newPacketLab(b, dst)
	if script != nil {
		// Loading is not timed.
		if out, err := l.rx.RunStdinTimeout(10*time.Minute, script, "nft", "-f", "-"); err != nil {
			b.Fatalf("nft -f: %v\n%s", err, out)
		}
	}
	// The ruleset does what it says before it is timed: the benchmark's
	// flows pass, others do not.
	if got, _ := l.batch(b, 100, benchSource); got != 100 {
		b.Fatalf("%d of 100 allowed packets delivered", got)
	}
	if got, _ := l.batch(b, 100, outsideSource); filter && got != 0 {
		b.Fatalf("%d of 100 packets from outside every group delivered", got)
	}
	var sent, delivered int
	var took time.Duration
	b.ResetTimer()
	for b.Loop() {
		n, d := l.batch(b, packetBatch, benchSource)
		delivered += n
		took += d
		sent += packetBatch
	}
	b.ReportMetric(float64(delivered)/took.Seconds(), "pkts/s")
	b.ReportMetric(100*float64(sent-delivered)/float64(sent), "%lost")
}

const (
	// packetsEnv runs the packet benchmark under a -bench pattern that
	// does not name it.
	packetsEnv  = "PORTWALL_BENCH_PACKETS"
	packetBatch = 20000
	benchPort   = 9
	// benchComment marks the rule the packets match.
	benchComment = "packet-path benchmark"
	benchGroup   = "bench = [\"198.18.0.0/15\", \"2001:2::/48\"]\n"
	benchRule    = `
[[allow]]
from = "bench"
to = "` + benchHost + `"
protocol = "udp"
ports = [9]
comment = "` + benchComment + `"
`
	// conntrackOnly hooks connection tracking and accepts everything:
	// the cost of tracking each new flow, without portwall's rules.
	conntrackOnly = `table inet pwbench {
	chain input {
		type filter hook input priority filter; policy accept;
		ct state established,related accept
	}
}
`
)

// A source of packets: the k-th packet's address and port.
type source func(k int, v6 bool) (netip.Addr, uint16)

// benchSource is unique for every k the benchmark sends, so that every
// packet is a new flow, inside the benchmark rule's group.
func benchSource(k int, v6 bool) (netip.Addr, uint16) {
	if v6 {
		return addrAdd(netip.MustParseAddr("2001:2::"), k%(1<<17)), uint16(1024 + k>>17)
	}
	return addrAdd(netip.MustParseAddr("198.18.0.0"), k%(1<<17)), uint16(1024 + k>>17)
}

func outsideSource(k int, v6 bool) (netip.Addr, uint16) {
	if v6 {
		return addrAdd(netip.MustParseAddr("2001:db8:ffff::"), k%256), uint16(1024 + k>>8)
	}
	return addrAdd(netip.MustParseAddr("203.0.113.0"), k%256), uint16(1024 + k>>8)
}

// addrAdd adds n to the low 32 bits of a.
func addrAdd(a netip.Addr, n int) netip.Addr {
	b := a.As16()
	v := binary.BigEndian.Uint32(b[12:]) + uint32(n)
	binary.BigEndian.PutUint32(b[12:], v)
	out := netip.AddrFrom16(b)
	if a.Is4() {
		return out.Unmap()
	}
	return out
}

// lastRule is the last rule of the script that starts with prefix.
func lastRule(script []byte, prefix string) string {
	last := ""
	for _, l := range strings.Split(string(script), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), prefix) {
			last = strings.TrimSpace(l)
		}
	}
	return last
}

// packetLab is a sender namespace and a receiver namespace (the host)
// joined by a veth pair.
type packetLab struct {
	tx, rx *kerneltest.Netns
	dst    netip.Addr
	raw    int // the sender's raw socket
	sock   int // the receiver's UDP socket
	sent   int // packets sent so far: the next packet's index
}

func newPacketLab(b *testing.B, dst netip.Addr) *packetLab {
	l := &packetLab{tx: kerneltest.New(b), rx: kerneltest.New(b), dst: dst, raw: -1}
	b.Cleanup(func() {
		if l.raw >= 0 {
			unix.Close(l.raw)
		}
	})
	v6 := dst.Is6()
	// ip runs ip(8) for dst's family in ns.
	ip := func(ns *kerneltest.Netns, args ...string) {
		if v6 {
			args = append([]string{"-6"}, args...)
		}
		ns.MustRun("ip", args...)
	}
	host := "/32"
	if v6 {
		host = "/128"
	}
	// The pair is created in the sender's namespace with its peer in the
	// receiver's: nothing appears in the host's namespace.
	l.tx.MustRun("ip", "link", "add", "tx0", "type", "veth", "peer", "name", "rx0", "netns", l.rx.Name)
	l.tx.MustRun("ip", "link", "set", "tx0", "up")
	ip(l.tx, "route", "add", dst.String()+host, "dev", "tx0")
	if v6 {
		l.rx.MustRun("ip", "-6", "addr", "add", dst.String()+host, "dev", "rx0", "nodad")
	} else {
		l.tx.MustRun("ip", "addr", "add", "10.255.0.1/24", "dev", "tx0")
		l.rx.MustRun("ip", "addr", "add", dst.String()+host, "dev", "rx0")
	}
	l.rx.MustRun("ip", "link", "set", "rx0", "up")
	if !v6 {
		l.rx.MustRun("ip", "route", "add", "10.255.0.0/24", "dev", "rx0")
		// Sources come from everywhere but the veth's own subnet: the
		// receiver must not drop them as martians.
		if err := l.rx.Do(func() error {
			for _, k := range []string{"all", "default", "rx0"} {
				// /proc/sys/net shows the namespace of the thread that opens it.
				if err := os.WriteFile("/proc/sys/net/ipv4/conf/"+k+"/rp_filter", []byte("0"), 0); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	var link []struct {
		Address string `json:"address"`
	}
	if err := json.Unmarshal([]byte(l.rx.MustRun("ip", "-j", "link", "show", "rx0")), &link); err != nil || len(link) != 1 {
		b.Fatalf("rx0's MAC address: %v", err)
	}
	ip(l.tx, "neigh", "replace", dst.String(), "lladdr", link[0].Address, "dev", "tx0", "nud", "permanent")

	// The receiver's socket has the smallest buffer the kernel allows:
	// UDP counts what overflows it as RcvbufErrors, and what it drains as
	// InDatagrams (counted when read, not when queued).
	if err := l.rx.Do(func() error {
		family := unix.AF_INET
		var sa unix.Sockaddr = &unix.SockaddrInet4{Port: benchPort}
		if v6 {
			family, sa = unix.AF_INET6, &unix.SockaddrInet6{Port: benchPort}
		}
		fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
		if err != nil {
			return err
		}
		l.sock = fd
		b.Cleanup(func() { unix.Close(fd) })
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 0); err != nil {
			return err
		}
		return unix.Bind(fd, sa)
	}); err != nil {
		b.Fatal(err)
	}
	if err := l.tx.Do(func() error {
		// IPPROTO_RAW: the packet carries its own header, in IPv6 too
		// (raw(7), ipv6(7)).
		family := unix.AF_INET
		if v6 {
			family = unix.AF_INET6
		}
		var err error
		l.raw, err = unix.Socket(family, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	return l
}

// batch sends n packets, one new flow each, from the sources src gives,
// and returns how many the receiver's UDP delivered and the time from the
// first send to the last delivery seen.
func (l *packetLab) batch(b *testing.B, n int, src source) (int, time.Duration) {
	before := l.delivered(b)
	v6 := l.dst.Is6()
	var pkt []byte
	var to unix.Sockaddr
	if v6 {
		pkt, to = make([]byte, 40+8+16), &unix.SockaddrInet6{Addr: l.dst.As16()}
	} else {
		pkt, to = make([]byte, 20+8+16), &unix.SockaddrInet4{Addr: l.dst.As4()}
	}
	start := time.Now()
	for range n {
		a, port := src(l.sent, v6)
		l.sent++
		if v6 {
			udp6Packet(pkt, a, l.dst, port, benchPort)
		} else {
			udpPacket(pkt, a, l.dst, port, benchPort)
		}
		if err := unix.Sendto(l.raw, pkt, 0, to); err != nil {
			b.Fatalf("sendto: %v", err)
		}
	}
	// The receiving side may still be working through its backlog: wait
	// until every packet is counted, or the count has not moved for
	// 50 ms (the rest were lost), or 10 s at most.
	got, last := before, time.Now()
	for deadline := last.Add(10 * time.Second); time.Now().Before(deadline); {
		now := l.delivered(b)
		if now != got {
			got, last = now, time.Now()
		}
		if got-before >= n || time.Since(last) > 50*time.Millisecond {
			break
		}
		time.Sleep(time.Millisecond)
	}
	return got - before, last.Sub(start)
}

// udpPacket writes an IPv4 UDP packet into p. The kernel fills in the
// IPv4 checksum, total length and id (raw(7), IP_HDRINCL); the UDP
// checksum is left 0, which IPv4 allows.
func udpPacket(p []byte, src, dst netip.Addr, sport, dport uint16) {
	clear(p)
	p[0] = 0x45
	p[8] = 64 // TTL
	p[9] = unix.IPPROTO_UDP
	s, d := src.As4(), dst.As4()
	copy(p[12:16], s[:])
	copy(p[16:20], d[:])
	binary.BigEndian.PutUint16(p[20:], sport)
	binary.BigEndian.PutUint16(p[22:], dport)
	binary.BigEndian.PutUint16(p[24:], uint16(len(p)-20))
}

// udp6Packet writes an IPv6 UDP packet into p, with its UDP checksum,
// which IPv6 requires (RFC 8200 8.1); the kernel fills in nothing.
func udp6Packet(p []byte, src, dst netip.Addr, sport, dport uint16) {
	clear(p)
	p[0] = 0x60
	n := len(p) - 40
	binary.BigEndian.PutUint16(p[4:], uint16(n))
	p[6] = unix.IPPROTO_UDP
	p[7] = 64 // hop limit
	s, d := src.As16(), dst.As16()
	copy(p[8:24], s[:])
	copy(p[24:40], d[:])
	u := p[40:]
	binary.BigEndian.PutUint16(u[0:], sport)
	binary.BigEndian.PutUint16(u[2:], dport)
	binary.BigEndian.PutUint16(u[4:], uint16(n))
	// The checksum covers the pseudo-header (addresses, length, next
	// header) and the UDP header and payload, as 16-bit words.
	var sum uint32
	for i := 8; i < 40; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(p[i:]))
	}
	sum += uint32(n) + unix.IPPROTO_UDP
	for i := 0; i+1 < len(u); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(u[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	c := ^uint16(sum)
	if c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(u[6:], c)
}

// delivered drains the receiver's socket and returns its UDP
// InDatagrams + RcvbufErrors (Udp6 for IPv6): datagrams that passed its
// input chain and reached the socket.
func (l *packetLab) delivered(b *testing.B) int {
	var n int
	if err := l.rx.Do(func() error {
		buf := make([]byte, 64)
		for {
			if _, _, err := unix.Recvfrom(l.sock, buf, 0); err == unix.EAGAIN {
				break
			} else if err != nil {
				return err
			}
		}
		if l.dst.Is6() {
			data, err := os.ReadFile("/proc/thread-self/net/snmp6")
			if err != nil {
				return err
			}
			n, err = udp6Delivered(data)
			return err
		}
		data, err := os.ReadFile("/proc/thread-self/net/snmp")
		if err != nil {
			return err
		}
		n, err = udpDelivered(data)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	return n
}

// udp6Delivered reads Udp6InDatagrams + Udp6RcvbufErrors from
// /proc/net/snmp6: one "name value" pair a line.
func udp6Delivered(snmp6 []byte) (int, error) {
	total, found := 0, 0
	sc := bufio.NewScanner(bytes.NewReader(snmp6))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && (f[0] == "Udp6InDatagrams" || f[0] == "Udp6RcvbufErrors") {
			v, err := strconv.Atoi(f[1])
			if err != nil {
				return 0, err
			}
			total += v
			found++
		}
	}
	if found != 2 {
		return 0, fmt.Errorf("/proc/net/snmp6: no Udp6InDatagrams and Udp6RcvbufErrors")
	}
	return total, nil
}

// udpDelivered reads InDatagrams + RcvbufErrors from /proc/net/snmp: a
// "Udp:" line of names followed by a "Udp:" line of values.
func udpDelivered(snmp []byte) (int, error) {
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(snmp))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] != "Udp:" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		total, found := 0, 0
		for i, name := range names {
			if (name == "InDatagrams" || name == "RcvbufErrors") && i < len(f) {
				v, err := strconv.Atoi(f[i])
				if err != nil {
					return 0, err
				}
				total += v
				found++
			}
		}
		if found != 2 {
			return 0, fmt.Errorf("/proc/net/snmp: no Udp InDatagrams and RcvbufErrors")
		}
		return total, nil
	}
	return 0, fmt.Errorf("/proc/net/snmp: no Udp lines")
}
