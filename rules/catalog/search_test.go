package catalog

import (
	"strings"
	"testing"

	"github.com/portwall/portwall/rules/proto"
)

func TestParseQuery(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in          string
		ports, text string
		protocol    proto.Protocol
		err         string
	}{
		{"8013", "8013", "", 0, ""},
		{"7100-7150", "7100-7150", "", 0, ""},
		{"53/udp", "53", "", proto.UDP, ""},
		{"53/UDP", "53", "", proto.UDP, ""},
		{"SMTP", "", "smtp", 0, ""},
		{"smtp relay", "", "smtp relay", 0, ""},
		{"-5", "", "-5", 0, ""},
		{"53/icmp", "", "", 0, `invalid protocol "icmp" in "53/icmp": want tcp or udp`},
		{"0", "", "", 0, "port 0 out of range 1-65535"},
		{"70000", "", "", 0, "port 70000 out of range 1-65535"},
		{"99999", "", "", 0, "port 99999 out of range 1-65535"},
		{"80-70", "", "", 0, `reversed port range "80-70": 80 is greater than 70`},
	}
	for _, c := range cases {
		q, err := ParseQuery(c.in)
		if c.err != "" || err != nil {
			if err == nil || err.Error() != c.err {
				t.Errorf("%q: error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if q.Ports.String() != c.ports || q.Text != c.text || q.Protocol != c.protocol {
			t.Errorf("%q: got ports %q text %q protocol %v", c.in, q.Ports, q.Text, q.Protocol)
		}
	}
}

// TestSearch: a port finds every product and service that uses it; words
// must all match.
func TestSearch(t *testing.T) {
	t.Parallel()
	cat, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	names := func(q string) (flows []string, services []string) {
		pq, err := ParseQuery(q)
		if err != nil {
			t.Fatal(err)
		}
		fs, ss := cat.Search(pq)
		for _, h := range fs {
			if !h.Flow.Ports.IsAll() { // random ports, fme.exe's every port
				flows = append(flows, h.Product.Name+"/"+h.Flow.ID)
			}
		}
		for _, s := range ss {
			services = append(services, s.Name)
		}
		return
	}
	// Ranges that hold the port count: AD's RPC on 1024-65535 does use it.
	if f, s := names("8013"); strings.Join(f, " ") != "ad-ds/member-rpc-full-range ad-ds/dc-rpc-full-range forticlient-ems/telemetry "+
		"fortigate/fabric-downstream fortigate/fabric-upstream fortimail/fabric-upstream" || len(s) != 0 {
		t.Errorf("8013: %v %v", f, s)
	}
	if f, s := names("22/udp"); len(f) != 0 || len(s) != 0 {
		t.Errorf("22/udp: %v %v", f, s)
	}
	if _, s := names("22/tcp"); len(s) != 1 || s[0] != "ssh" {
		t.Errorf("22/tcp services: %v", s)
	}
	// Every word must match, in any of the texts (the feature's title too).
	if f, _ := names("admin console"); strings.Join(f, " ") != "forticlient-ems/web-console xeams/admin-console" {
		t.Errorf("admin console: %v", f)
	}
	if f, _ := names("xeams relational database"); strings.Join(f, " ") != "xeams/embedded-database" {
		t.Errorf("xeams relational database: %v", f)
	}
	// Departures are found by what they say.
	if f, _ := names("rfc 7766"); strings.Join(f, " ") != "fortimail/dns-tcp" {
		t.Errorf("rfc 7766: %v", f)
	}
}
