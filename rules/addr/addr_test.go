package addr

import "testing"

func TestParse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		kind Kind
		want string
		err  string
	}{
		{in: "any", kind: KindAny, want: "any"},
		{in: "10.0.0.0/8", kind: KindPrefix, want: "10.0.0.0/8"},
		{in: "192.0.2.7", kind: KindPrefix, want: "192.0.2.7"},
		{in: "192.0.2.7/32", kind: KindPrefix, want: "192.0.2.7"},
		{in: "2001:db8::/32", kind: KindPrefix, want: "2001:db8::/32"},
		{in: "2001:db8::1", kind: KindPrefix, want: "2001:db8::1"},
		{in: "192.0.2.10-192.0.2.20", kind: KindRange, want: "192.0.2.10-192.0.2.20"},
		{in: "192.0.2.0-192.0.2.255", kind: KindPrefix, want: "192.0.2.0/24"},
		{in: "Mail.Example.com.", kind: KindFQDN, want: "mail.example.com"},
		{in: "10.0.0.1/8", err: `invalid CIDR "10.0.0.1/8": host bits are set; did you mean 10.0.0.0/8 or 10.0.0.1/32?`},
		{in: "10.0.0.0/33", err: `invalid CIDR "10.0.0.0/33": prefix length "33" is not 0-32`},
		{in: "10.0.0.300/24", err: `invalid CIDR "10.0.0.300/24": not an IP address before the slash`},
		{in: "10.0.0.300", err: `invalid address "10.0.0.300"`},
		{in: "192.0.2.20-192.0.2.10", err: `invalid address range "192.0.2.20-192.0.2.10": want FIRST-LAST, both of one IP version, FIRST not above LAST`},
		{in: "localhost", err: `invalid host name "localhost": not fully qualified (want a name such as mail.example.com)`},
		{in: "bad_name.example.com", err: `invalid host name "bad_name.example.com": bad label "bad_name"`},
		{in: "fe80::1%eth0", err: `invalid address "fe80::1%eth0": write IPv4 addresses in IPv4 form and leave out zones`},
	}
	for _, c := range cases {
		m, err := Parse(c.in)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("Parse(%q) error = %v\nwant %s", c.in, err, c.err)
			}
			continue
		}
		if err != nil || m.Kind != c.kind || m.String() != c.want {
			t.Errorf("Parse(%q) = %v %q, %v; want %v %q", c.in, m.Kind, m.String(), err, c.kind, c.want)
		}
	}
}
