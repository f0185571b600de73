package proto

import "testing"

func TestParseRoundTrip(t *testing.T) {
	t.Parallel()
	for _, p := range All {
		got, err := Parse(p.String())
		if err != nil || got != p {
			t.Errorf("Parse(%s) = %v, %v", p, got, err)
		}
	}
	if _, err := Parse("TCP"); err == nil {
		t.Error("upper-case accepted: names are case-sensitive like every other profile name")
	}
	if _, err := Parse("sctp"); err == nil || err.Error() != `unknown protocol "sctp": want one of tcp, udp, icmp, icmpv6` {
		t.Errorf("got %v", err)
	}
}

func TestICMPTypes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		p    Protocol
		name string
		want uint8
	}{
		{ICMP, "echo-request", 8},
		{ICMPv6, "echo-request", 128},
		{ICMPv6, "packet-too-big", 2},
		{ICMP, "13", 13},
	}
	for _, c := range cases {
		got, err := ParseICMPType(c.p, c.name)
		if err != nil || got != c.want {
			t.Errorf("ParseICMPType(%s, %s) = %d, %v", c.p, c.name, got, err)
		}
		if c.name != "13" && ICMPTypeName(c.p, got) != c.name {
			t.Errorf("ICMPTypeName(%s, %d) = %s", c.p, got, ICMPTypeName(c.p, got))
		}
	}
	for _, bad := range []struct {
		p Protocol
		s string
	}{{ICMP, "packet-too-big"}, {ICMP, "256"}, {TCP, "echo-request"}} {
		if _, err := ParseICMPType(bad.p, bad.s); err == nil {
			t.Errorf("ParseICMPType(%s, %s) accepted", bad.p, bad.s)
		}
	}
}

func TestFamilies(t *testing.T) {
	t.Parallel()
	if ICMP.Family() != 4 || ICMPv6.Family() != 6 || TCP.Family() != 0 || !UDP.HasPorts() || ICMP.HasPorts() {
		t.Error("family or ports wrong")
	}
}

// TestStringUnknown: values outside the closed set, below and past the
// names array, print as numbers.
func TestStringUnknown(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		p    Protocol
		want string
	}{
		{0, "protocol(0)"},
		{ICMPv6 + 1, "protocol(5)"},
		{255, "protocol(255)"},
		{TCP, "tcp"},
		{ICMPv6, "icmpv6"},
	} {
		if got := c.p.String(); got != c.want {
			t.Errorf("Protocol(%d).String() = %q, want %q", uint8(c.p), got, c.want)
		}
	}
}
