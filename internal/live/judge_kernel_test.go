package live_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/portwall/portwall/internal/live"
	"github.com/portwall/portwall/internal/testkit/kerneltest"
	"github.com/portwall/portwall/rules/proto"
)

// The judge is checked against the kernel itself: each case loads a
// ruleset into a host namespace joined to a peer namespace by a veth
// pair, asks Judge what every base chain on the hook does with a packet,
// and sends that packet for real. Where the judge gives an answer, the
// packet must do what it says; where it says it cannot tell, the case
// says so (want unknown).

const (
	hostIf = "pwjh0" // the host's end of the veth pair
	peerIf = "pwjp0"
)

var (
	host4, peer4 = netip.MustParseAddr("10.199.0.1"), netip.MustParseAddr("10.199.0.2")
	host6, peer6 = netip.MustParseAddr("fd99:199::1"), netip.MustParseAddr("fd99:199::2")
)

type judgeCase struct {
	name    string
	ruleset string   // nft syntax, loaded with nft -f
	argv    []string // or a command that loads the ruleset (iptables-restore)
	packets []judgePacket
}

type judgePacket struct {
	out   bool // from the host to the peer (output hook)
	proto proto.Protocol
	v6    bool
	port  uint16
	icmp  uint8
	// unknown: the judge must say it cannot tell (and the packet is not
	// sent: what it does depends on what the judge cannot know).
	unknown bool
}

func (p judgePacket) String() string {
	dir := "in"
	if p.out {
		dir = "out"
	}
	fam := "ipv4"
	if p.v6 {
		fam = "ipv6"
	}
	return fmt.Sprintf("%s %s %s/%d", dir, fam, p.proto, p.port)
}

func (p judgePacket) packet() live.Packet {
	pk := live.Packet{Out: p.out, Protocol: p.proto, Src: peer4, Dst: host4, SPort: 40000, DPort: p.port, ICMPType: p.icmp}
	if p.v6 {
		pk.Src, pk.Dst = peer6, host6
	}
	if p.out {
		pk.Src, pk.Dst = pk.Dst, pk.Src
	}
	return pk
}

var (
	tcp = func(port uint16) judgePacket { return judgePacket{proto: proto.TCP, port: port} }
	v6  = func(p judgePacket) judgePacket { p.v6 = true; return p }
	out = func(p judgePacket) judgePacket { p.out = true; return p }
	unk = func(p judgePacket) judgePacket { p.unknown = true; return p }
	udp = func(port uint16) judgePacket { return judgePacket{proto: proto.UDP, port: port} }
)

var judgeCases = []judgeCase{
	{name: "policy-drop", ruleset: `table inet t { chain input { type filter hook input priority 10; policy drop;
		ct state established,related accept
		tcp dport 22 accept
	}
	}`, packets: []judgePacket{tcp(22), tcp(25), v6(tcp(22)), v6(tcp(25)), udp(53)}},
	{name: "ip-family-only", ruleset: `table ip t { chain input { type filter hook input priority 0; policy accept;
		tcp dport 25 reject with tcp reset
	}
	}`, packets: []judgePacket{tcp(25), v6(tcp(25)), tcp(26)}},
	{name: "jump-return-goto", ruleset: `table inet t {
		chain input { type filter hook input priority 0; policy drop;
			ct state established,related accept
			jump side
			tcp dport 80 goto web
			tcp dport 443 accept
		}
		chain side {
			tcp dport 22 return
			tcp dport 23 drop
			tcp dport 24 accept
		}
		chain web {
			ip saddr 10.199.0.0/24 accept
		}
	}`, packets: []judgePacket{tcp(22), tcp(23), tcp(24), tcp(80), v6(tcp(80)), tcp(443)}},
	{name: "sets-and-maps", ruleset: `table inet t {
		set web { type inet_service; flags interval; elements = { 80, 443, 8000-8100 } }
		set peers { type ipv4_addr; flags interval; elements = { 10.199.0.0/30, 192.0.2.0/24 } }
		map v { type inet_service : verdict; elements = { 25 : drop, 26 : accept } }
		set pairs { type ipv4_addr . inet_service; elements = { 10.199.0.2 . 9000 } }
		chain input { type filter hook input priority 0; policy accept;
			ip saddr . tcp dport @pairs reject
			tcp dport vmap @v
			ip saddr != @peers drop
			tcp dport @web ip saddr @peers drop
		}
	}`, packets: []judgePacket{tcp(25), tcp(26), tcp(80), tcp(8050), tcp(8101), tcp(9000), v6(tcp(9000)), udp(80)}},
	{name: "ranges-and-prefixes", ruleset: `table inet t { chain input { type filter hook input priority 0; policy accept;
		tcp dport 1000-2000 drop
		ip6 saddr fd99:199::/120 tcp dport 3000 drop
		ip saddr 10.199.0.0/31 tcp dport 3001 drop
		ip saddr 10.199.0.4/30 tcp dport 3002 drop
	}
	}`, packets: []judgePacket{tcp(999), tcp(1000), tcp(2000), tcp(2001), v6(tcp(3000)), tcp(3000), tcp(3001), tcp(3002)}},
	{name: "interfaces", ruleset: `table inet t { chain input { type filter hook input priority 0; policy accept;
		iifname "lo" accept
		iifname "` + hostIf + `" tcp dport 25 drop
		iifname "other0" tcp dport 26 drop
		iifname "pwj*" tcp dport 27 drop
		iif "lo" tcp dport 28 drop
		oifname "` + hostIf + `" tcp dport 29 drop
	}
	}`, packets: []judgePacket{tcp(25), tcp(26), tcp(27), tcp(28), tcp(29), tcp(30)}},
	{name: "output", ruleset: `table inet t { chain output { type filter hook output priority 0; policy drop;
		ct state established,related accept
		oifname "lo" accept
		tcp dport 7000 accept
		ip6 daddr fd99:199::2 tcp dport 7001 accept
		tcp dport 7002 reject
	}
	}`, packets: []judgePacket{out(tcp(7000)), out(tcp(7001)), out(v6(tcp(7001))), out(tcp(7002)), out(tcp(7003)), tcp(7003)}},
	{name: "fib-marks-limits", ruleset: `table inet t { chain input { type filter hook input priority 0; policy drop;
		ct state established,related accept
		tcp dport 80 meta mark set 7
		meta mark 7 accept
		fib daddr type local tcp dport 81 accept
		fib daddr type broadcast tcp dport 82 accept
		limit rate over 1/second tcp dport 83 accept
		limit rate 100/second tcp dport 84 accept
		ct status dnat accept
		ct state new tcp dport 85 accept
		meta l4proto { tcp, udp } th dport 86 accept
	}
	}`, packets: []judgePacket{tcp(80), tcp(81), tcp(82), tcp(83), tcp(84), tcp(85), tcp(86), udp(86), v6(tcp(86))}},
	{name: "cannot-tell", ruleset: `table inet t {
		chain output { type filter hook output priority 0; policy accept;
			meta skuid 0 tcp dport 7100 drop
			tcp dport 7101 socket transparent 1 drop
			tcp dport 7102 meta cpu 0 drop
			tcp dport 7103 meta skuid 0 accept
			tcp dport 7103 accept
		}
	}`, packets: []judgePacket{unk(out(tcp(7100))), unk(out(tcp(7101))), unk(out(tcp(7102))), out(tcp(7103)), out(tcp(7104))}},
	{name: "iptables-nft-xt", argv: []string{"iptables-nft-restore"}, ruleset: `*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:user-input - [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -m conntrack --ctstate INVALID -j DROP
-A INPUT -p icmp -m icmp --icmp-type 8 -j ACCEPT
-A INPUT -m addrtype --dst-type BROADCAST -j DROP
-A INPUT -j user-input
-A INPUT -m limit --limit 3/min --limit-burst 10 -j LOG --log-prefix "[BLOCK] "
-A user-input -p tcp -m tcp --dport 22 -j ACCEPT
-A user-input -p tcp -m multiport --dports 80,443,8000:8010 -j ACCEPT
-A user-input -p tcp -m tcp --dport 25 -j REJECT --reject-with tcp-reset
-A user-input -m state --state NEW -p udp -m udp --dport 53 -j ACCEPT
-A user-input -s 10.199.0.0/24 -p tcp -m tcp --dport 9000:9010 -j ACCEPT
-A user-input -m iprange --src-range 10.199.0.1-10.199.0.9 -p tcp --dport 9100 -j ACCEPT
COMMIT
`, packets: []judgePacket{tcp(22), tcp(23), tcp(25), tcp(80), tcp(8005), tcp(8011), udp(53), udp(54), tcp(9005), tcp(9100), v6(tcp(23)),
		{proto: proto.ICMP, icmp: 8}}},
}

func TestJudgeAgreesWithTheKernel(t *testing.T) {
	t.Parallel()
	kerneltest.Require(t, "nft", "iptables-nft-restore")
	for _, c := range judgeCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			hostNS, peerNS := judgeLab(t)
			argv := c.argv
			if argv == nil {
				argv = []string{"nft", "-f", "-"}
			}
			if out, err := hostNS.RunStdin([]byte(c.ruleset), argv[0], argv[1:]...); err != nil {
				t.Fatalf("loading the ruleset: %v\n%s", err, out)
			}
			conn := open(t, hostNS)
			others, err := conn.ReadOthers()
			if err != nil {
				t.Fatal(err)
			}
			if len(others.Chains) == 0 {
				t.Fatal("no base chain read")
			}
			for _, p := range c.packets {
				pk := p.packet()
				verdict, why := live.Passes, ""
				for _, ch := range others.Chains {
					j := others.Judge(ch, pk)
					if j.Verdict == live.Passes {
						continue
					}
					dropped := j.Verdict == live.Drops && onInterface(j, c.ruleset)
					if j.Verdict == live.Unknown || dropped {
						verdict, why = j.Verdict, ch.Name()+": "+j.Describe()
						break
					}
				}
				if p.unknown {
					if verdict != live.Unknown {
						t.Errorf("%s: judged %s (%s), want unknown", p, verdict, why)
					}
					continue
				}
				if verdict == live.Unknown {
					t.Errorf("%s: judged unknown: %s", p, why)
					continue
				}
				passed := send(t, hostNS, peerNS, p, verdict == live.Passes)
				if passed != (verdict == live.Passes) {
					t.Errorf("%s: judged %s (%s), but the packet %s", p, verdict, why, map[bool]string{true: "got through", false: "was stopped"}[passed])
				}
			}
		})
	}
}

// onInterface reports whether a drop applies to a packet arriving on (or
// leaving by) the host's veth.
func onInterface(j live.Judgement, ruleset string) bool {
	if len(j.Interfaces) == 0 || slices.Contains(j.Interfaces, hostIf) {
		return true
	}
	named := strings.Contains(ruleset, `"`+hostIf+`"`) || strings.Contains(ruleset, `"pwj*"`)
	return !named && slices.Contains(j.Interfaces, live.OtherInterface)
}

// judgeLab makes a host and a peer namespace joined by a veth pair.
func judgeLab(t *testing.T) (hostNS, peerNS *kerneltest.Netns) {
	hostNS, peerNS = kerneltest.New(t), kerneltest.New(t)
	// Fixed link-layer addresses and permanent neighbours: a chain that
	// drops neighbour discovery must not stop IPv6 packets it lets
	// through.
	const hostMAC, peerMAC = "02:00:5e:10:00:01", "02:00:5e:10:00:02"
	hostNS.MustRun("ip", "link", "add", hostIf, "address", hostMAC, "type", "veth", "peer", "name", peerIf, "address", peerMAC, "netns", peerNS.Name)
	for _, side := range []struct {
		ns     *kerneltest.Netns
		link   string
		a4, a6 netip.Addr
	}{{hostNS, hostIf, host4, host6}, {peerNS, peerIf, peer4, peer6}} {
		side.ns.MustRun("ip", "addr", "add", side.a4.String()+"/24", "dev", side.link)
		side.ns.MustRun("ip", "addr", "add", side.a6.String()+"/64", "dev", side.link, "nodad")
		side.ns.MustRun("ip", "link", "set", side.link, "up")
		other, mac := peer4, peerMAC
		if side.ns == peerNS {
			other, mac = host4, hostMAC
		}
		for _, a := range []netip.Addr{other, map[netip.Addr]netip.Addr{peer4: peer6, host4: host6}[other]} {
			side.ns.MustRun("ip", "neigh", "replace", a.String(), "lladdr", mac, "dev", side.link, "nud", "permanent")
		}
		// ICMP datagram sockets, for pings without raw sockets.
		if err := side.ns.Sysctl("ipv4/ping_group_range", "0 2147483647"); err != nil {
			t.Fatal(err)
		}
	}
	return hostNS, peerNS
}

// send sends the packet for real (a TCP connect, a UDP datagram that the
// other side echoes, or a ping) and reports whether it got through. With
// retry, a packet that gets no answer is sent again with a longer wait,
// so that a slow machine is not taken for a drop (a packet expected to be
// dropped needs no second look: slowness cannot make it pass).
func send(t *testing.T, hostNS, peerNS *kerneltest.Netns, p judgePacket, retry bool) bool {
	waits := []time.Duration{time.Second, 3 * time.Second}
	if !retry {
		waits = waits[:1]
	}
	t.Helper()
	from, to := peerNS, hostNS
	if p.out {
		from, to = hostNS, peerNS
	}
	pk := p.packet()
	if p.proto.IsICMP() {
		for _, wait := range waits {
			var err error
			if derr := from.Do(func() error { err = ping(pk.Src, pk.Dst, wait); return nil }); derr != nil {
				t.Fatal(derr)
			}
			if err == nil {
				return true
			}
		}
		return false
	}
	network := strings.ToLower(p.proto.String())
	var ln net.Listener
	var pc net.PacketConn
	if err := to.Do(func() error {
		var err error
		addr := net.JoinHostPort(pk.Dst.String(), strconv.Itoa(int(p.port)))
		if network == "tcp" {
			ln, err = net.Listen("tcp", addr)
		} else {
			pc, err = net.ListenPacket("udp", addr)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if ln != nil {
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
	} else {
		defer pc.Close()
		go func() {
			buf := make([]byte, 64)
			for {
				n, a, err := pc.ReadFrom(buf)
				if err != nil {
					return
				}
				pc.WriteTo(buf[:n], a)
			}
		}()
	}
	for _, wait := range waits {
		ok := false
		err := from.Do(func() error {
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			var d net.Dialer
			c, err := d.DialContext(ctx, network, net.JoinHostPort(pk.Dst.String(), strconv.Itoa(int(p.port))))
			if err != nil {
				return nil // refused, unreachable, or timed out: stopped
			}
			defer c.Close()
			if network == "tcp" {
				ok = true
				return nil
			}
			c.SetDeadline(time.Now().Add(wait))
			if _, err := c.Write([]byte("pw")); err != nil {
				return nil
			}
			buf := make([]byte, 8)
			_, err = c.Read(buf)
			ok = err == nil
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			return true
		}
	}
	return false
}

// ping sends an echo request from an ICMP datagram socket and waits for
// its reply.
func ping(from, to netip.Addr, timeout time.Duration) error {
	network, number := "udp4", 1
	var request, reply icmp.Type = ipv4.ICMPTypeEcho, ipv4.ICMPTypeEchoReply
	if from.Is6() {
		network, number = "udp6", 58
		request, reply = ipv6.ICMPTypeEchoRequest, ipv6.ICMPTypeEchoReply
	}
	c, err := icmp.ListenPacket(network, from.String())
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	msg, err := (&icmp.Message{Type: request, Body: &icmp.Echo{Seq: 1, Data: []byte("portwall")}}).Marshal(nil)
	if err != nil {
		return err
	}
	if _, err := c.WriteTo(msg, &net.UDPAddr{IP: to.AsSlice()}); err != nil {
		return err
	}
	buf := make([]byte, 512)
	for {
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			return err
		}
		if m, err := icmp.ParseMessage(number, buf[:n]); err == nil && m.Type == reply {
			return nil
		}
	}
}
