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
// outside it.
func TestBenchSourcesAreNewFlows(t *testing.T) {
	t.Parallel()
	group := netip.MustParsePrefix("198.18.0.0/15")
	seen := map[netip.AddrPort]bool{}
	for k := range 3*packetBatch + 200 {
		a, port := benchSource(k)
		ap := netip.AddrPortFrom(a, port)
		if seen[ap] || !group.Contains(a) {
			t.Fatalf("packet %d: %v repeated or outside %v", k, ap, group)
		}
		seen[ap] = true
	}
	for k := range 100 {
		if a, _ := outsideSource(k); group.Contains(a) {
			t.Fatalf("outside source %v is in %v", a, group)
		}
	}
}
