package main

import (
	"net/netip"
	"testing"
)

// The packet-path benchmark's pieces that need no kernel.

func TestUDPDelivered(t *testing.T) {
	t.Parallel()
	snmp := []byte(`Ip: Forwarding DefaultTTL
Ip: 2 64
Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors
Udp: 7 1 30 0 30 0
UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors
UdpLite: 100 0 0 0 100 0
`)
	if n, err := udpDelivered(snmp); err != nil || n != 37 {
		t.Errorf("udpDelivered = %d, %v; want 37 (InDatagrams 7 + RcvbufErrors 30, not UdpLite's)", n, err)
	}
	if _, err := udpDelivered([]byte("Udp: InDatagrams\nUdp: 7\n")); err == nil {
		t.Error("no RcvbufErrors column: want an error")
	}
	if _, err := udpDelivered([]byte("Ip: 1\n")); err == nil {
		t.Error("no Udp lines: want an error")
	}
}

func TestUDPPacket(t *testing.T) {
	t.Parallel()
	p := make([]byte, 44)
	for i := range p {
		p[i] = 0xee // udpPacket must clear what a previous packet left
	}
	udpPacket(p, netip.MustParseAddr("198.18.1.2"), netip.MustParseAddr("10.224.0.10"), 1025, 9)
	want := []byte{
		0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 198, 18, 1, 2, 10, 224, 0, 10, // IPv4, UDP
		0x04, 0x01, 0, 9, 0, 24, 0, 0, // ports 1025 -> 9, length 24, no checksum
	}
	for i, b := range want {
		if p[i] != b {
			t.Fatalf("byte %d = %#x, want %#x\n got %v", i, p[i], b, p[:len(want)])
		}
	}
	for i := len(want); i < len(p); i++ {
		if p[i] != 0 {
			t.Fatalf("payload byte %d = %#x, want 0", i, p[i])
		}
	}
}

// TestBenchSourcesAreNewFlows: every packet the benchmark sends is a flow
// of its own, from inside the benchmark rule's group; outside sources are
// outside it. In both families.
func TestBenchSourcesAreNewFlows(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		v6    bool
		group netip.Prefix
	}{{false, netip.MustParsePrefix("198.18.0.0/15")}, {true, netip.MustParsePrefix("2001:2::/48")}} {
		seen := map[netip.AddrPort]bool{}
		for k := range 3*packetBatch + 200 {
			a, port := benchSource(k, c.v6)
			ap := netip.AddrPortFrom(a, port)
			if seen[ap] || !c.group.Contains(a) {
				t.Fatalf("packet %d: %v repeated or outside %v", k, ap, c.group)
			}
			seen[ap] = true
		}
		for k := range 100 {
			if a, _ := outsideSource(k, c.v6); c.group.Contains(a) || a.Is6() != c.v6 {
				t.Fatalf("outside source %v is in %v, or of the other family", a, c.group)
			}
		}
	}
}

// TestUDP6Packet: the IPv6 packet's UDP checksum verifies (the sum over
// the pseudo-header and the datagram, checksum included, is all ones).
func TestUDP6Packet(t *testing.T) {
	t.Parallel()
	p := make([]byte, 40+8+16)
	for i := range p {
		p[i] = 0xee
	}
	src, dst := netip.MustParseAddr("2001:2::1:2"), netip.MustParseAddr("fd10::10")
	udp6Packet(p, src, dst, 1025, 9)
	if p[0]>>4 != 6 || p[6] != 17 || int(p[4])<<8|int(p[5]) != 24 {
		t.Fatalf("bad IPv6 header % x", p[:8])
	}
	if netip.AddrFrom16([16]byte(p[8:24])) != src || netip.AddrFrom16([16]byte(p[24:40])) != dst {
		t.Fatalf("bad addresses % x", p[8:40])
	}
	var sum uint32
	for i := 8; i < 40; i += 2 {
		sum += uint32(p[i])<<8 | uint32(p[i+1])
	}
	sum += 24 + 17
	for i := 40; i < len(p); i += 2 {
		sum += uint32(p[i])<<8 | uint32(p[i+1])
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	if sum != 0xffff {
		t.Errorf("UDP checksum does not verify: sum %#x", sum)
	}
	for i := 48; i < len(p); i++ {
		if p[i] != 0 {
			t.Fatalf("payload byte %d = %#x, want 0", i, p[i])
		}
	}
}

func TestUDP6Delivered(t *testing.T) {
	t.Parallel()
	snmp6 := []byte("Udp6InDatagrams                 \t7\nUdp6NoPorts 1\nUdp6RcvbufErrors 30\nUdpLite6InDatagrams 100\n")
	if n, err := udp6Delivered(snmp6); err != nil || n != 37 {
		t.Errorf("udp6Delivered = %d, %v; want 37", n, err)
	}
	if _, err := udp6Delivered([]byte("Udp6InDatagrams 7\n")); err == nil {
		t.Error("no Udp6RcvbufErrors: want an error")
	}
}
