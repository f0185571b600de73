package fwdparse_test

import (
	"strings"
	"testing"

	"github.com/portwall/portwall/generators/firewalld"
	"github.com/portwall/portwall/generators/firewalld/fwdparse"
	"github.com/portwall/portwall/rules/ir"
)

// zoneRule is the placeholder the cases replace in the zone.
const zoneRule = "  <!-- RULE -->\n"

// skeleton is a valid script: the fixed text, a zone with one service
// rule and the placeholder, a policy, and the service.
func skeleton() string {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n# portwall firewalld configuration for host h1.\n#\n")
	b.WriteString(firewalld.Prelude)
	b.WriteString("portwall_file zones/portwall.xml <<'PORTWALL_EOF'\n" +
		`<?xml version="1.0" encoding="utf-8"?>` + "\n" +
		`<zone target="DROP">` + "\n" +
		"  <short>portwall</short>\n  <description>zone</description>\n" +
		`  <rule family="ipv4">` + "\n" +
		`    <source address="10.0.0.0/8"/>` + "\n" +
		`    <service name="portwall-r1"/>` + "\n" +
		"    <accept/>\n  </rule>\n" +
		zoneRule +
		`  <rule priority="32766">` + "\n" +
		`    <log prefix="portwall input drop: " level="info">` + "\n" +
		`      <limit value="5/s"/>` + "\n    </log>\n  </rule>\n" +
		"</zone>\nPORTWALL_EOF\n")
	b.WriteString("portwall_file policies/portwall-out.xml <<'PORTWALL_EOF'\n" +
		`<?xml version="1.0" encoding="utf-8"?>` + "\n" +
		`<policy target="DROP" priority="-1">` + "\n" +
		"  <short>portwall-out</short>\n  <description>policy</description>\n" +
		`  <ingress-zone name="HOST"/>` + "\n" + `  <egress-zone name="ANY"/>` + "\n" +
		`  <rule family="ipv6">` + "\n" +
		`    <destination address="ff02::16"/>` + "\n" +
		`    <protocol value="ipv6-icmp"/>` + "\n" +
		"    <accept/>\n  </rule>\n" +
		"</policy>\nPORTWALL_EOF\n")
	b.WriteString("portwall_file services/portwall-r1.xml <<'PORTWALL_EOF'\n" +
		`<?xml version="1.0" encoding="utf-8"?>` + "\n" +
		"<service>\n  <short>portwall-r1</short>\n  <description>pw:r1 x</description>\n" +
		`  <port port="22" protocol="tcp"/>` + "\n" +
		`  <port port="8000-8010" protocol="tcp"/>` + "\n" +
		"</service>\nPORTWALL_EOF\n")
	b.WriteString(firewalld.Epilogue)
	return b.String()
}

func TestSkeleton(t *testing.T) {
	t.Parallel()
	c, err := fwdparse.Parse([]byte(skeleton()))
	if err != nil {
		t.Fatalf("the valid skeleton is refused: %v", err)
	}
	gs, err := c.Grants()
	if err != nil {
		t.Fatal(err)
	}
	// The service rule only: the MLD rule is baseline, the log rule
	// allows nothing.
	if len(gs) != 1 || gs[0].String() != "in ipv4 tcp/22,8000-8010 from 10.0.0.0/8 to" {
		t.Errorf("grants %v", gs)
	}
}

// TestParserAccepts: rules portwall writes, in the zone, read back.
func TestParserAccepts(t *testing.T) {
	t.Parallel()
	for rule, want := range map[string]string{
		`<service name="portwall-r1"/>`: "in ipv4 tcp/22,8000-8010 from any to|in ipv6 tcp/22,8000-8010 from any to",
		`<rule family="ipv6"><source address="2001:db8::/32"/><icmp-type name="echo-request"/><accept/></rule>`: "in ipv6 icmpv6 types [128] from 2001:db8::/32 to",
		`<rule family="ipv4"><source address="192.0.2.1"/><protocol value="icmp"/><accept/></rule>`:             "in ipv4 icmp from 192.0.2.1/32 to",
		`<rule family="ipv4"><icmp-type name="time-exceeded"/><accept/></rule>`:                                 "",
		`<rule family="ipv6" priority="32767"><protocol value="tcp"/><reject type="tcp-reset"/></rule>`:         "",
	} {
		data := strings.Replace(skeleton(), zoneRule, "  "+rule+"\n", 1)
		c, err := fwdparse.Parse([]byte(data))
		if err != nil {
			t.Errorf("valid rule refused: %s: %v", rule, err)
			continue
		}
		gs, err := c.Grants()
		if err != nil {
			t.Errorf("%s: %v", rule, err)
			continue
		}
		var got []string
		for _, g := range gs {
			if s := g.String(); s != "in ipv4 tcp/22,8000-8010 from 10.0.0.0/8 to" { // the skeleton's own
				got = append(got, s)
			}
		}
		if strings.Join(got, "|") != want {
			t.Errorf("%s: grants %q, want %q", rule, strings.Join(got, "|"), want)
		}
	}
}

// TestParserRejects shows the reader is strict: each zone element, put
// into an otherwise valid script, must be refused.
func TestParserRejects(t *testing.T) {
	t.Parallel()
	bad := map[string]string{
		`<port port="22" protocol="tcp"/>`:                     "a zone-level port",
		`<source address="10.0.0.0/8"/>`:                       "a zone-level source binding",
		`<interface name="eth0"/>`:                             "an interface binding",
		`<masquerade/>`:                                        "masquerade",
		`<forward-port port="22" protocol="tcp" to-port="2"/>`: "a forward port",
		`<icmp-block-inversion/>`:                              "icmp block inversion",
		`<protocol value="tcp"/>`:                              "a zone-level protocol",
		`<service name="ssh"/>`:                                "a foreign service",
		`<service name="portwall-r2"/>`:                        "a service the script does not write",
		`<rule><service name="portwall-r1"/><accept/></rule><rule family="ipv4"><source address="10.0.0.1/8"/><service name="portwall-r1"/><accept/></rule>`: "host bits set",
		`<rule family="ipv4"><source address="2001:db8::/32"/><service name="portwall-r1"/><accept/></rule>`:                                                 "IPv6 address in an IPv4 rule",
		`<rule><source address="10.0.0.0/8"/><service name="portwall-r1"/><accept/></rule>`:                                                                  "address without family",
		`<rule family="ipv4"><source address="10.0.0.0/8" invert="True"/><service name="portwall-r1"/><accept/></rule>`:                                      "inverted source",
		`<rule family="ipv4"><source ipset="office"/><service name="portwall-r1"/><accept/></rule>`:                                                          "ipset source",
		`<rule family="ipv4"><source mac="00:11:22:33:44:55"/><service name="portwall-r1"/><accept/></rule>`:                                                 "mac source",
		`<rule family="ipv4"><destination address="10.0.0.0/8"/><service name="portwall-r1"/><accept/></rule>`:                                               "destination in the zone",
		`<rule family="ipv4"><port port="22" protocol="tcp"/><accept/></rule>`:                                                                               "rich rule port",
		`<rule family="ipv4"><protocol value="tcp"/><accept/></rule>`:                                                                                        "accept a whole protocol",
		`<rule family="ipv4"><protocol value="ipv6-icmp"/><accept/></rule>`:                                                                                  "ICMPv6 in an IPv4 rule",
		`<rule family="ipv4"><icmp-type name="neighbour-solicitation"/><accept/></rule>`:                                                                     "an IPv6 type in an IPv4 rule",
		`<rule family="ipv4"><icmp-type name="host-unreachable"/><accept/></rule>`:                                                                           "a type with a code",
		`<rule family="ipv4"><accept/></rule>`:                                                                                                               "accept everything",
		`<rule family="ipv4"><service name="portwall-r1"/><accept><limit value="1/s"/></accept></rule>`:                                                      "accept with a limit",
		`<rule family="ipv4" priority="-5"><service name="portwall-r1"/><accept/></rule>`:                                                                    "accept with a priority",
		`<rule family="ipv4" priority="x"><service name="portwall-r1"/><accept/></rule>`:                                                                     "priority not a number",
		`<rule family="ipv4"><service name="portwall-r1"/><drop/></rule>`:                                                                                    "unknown action",
		`<rule family="ipv4"><service name="portwall-r1"/><mark set="1"/></rule>`:                                                                            "mark",
		`<rule family="ipv4"><service name="portwall-r1"/><accept/><accept/></rule>`:                                                                         "two actions",
		`<rule family="ipv4"><accept/><service name="portwall-r1"/></rule>`:                                                                                  "elements out of order",
		`<rule family="ipv4"><service name="portwall-r1"/><log prefix="portwall input drop: " level="info"><limit value="5/s"/></log><accept/></rule>`:       "log on an accept",
		`<rule priority="32766"><log prefix="other: " level="info"><limit value="5/s"/></log></rule>`:                                                        "another log prefix",
		`<rule priority="32766"><log prefix="portwall input drop: " level="warning"><limit value="5/s"/></log></rule>`:                                       "another log level",
		`<rule priority="32767"><protocol value="tcp"/><reject type="tcp-reset"/></rule>`:                                                                    "reject without family",
		`<rule family="ipv4" priority="32767"><protocol value="udp"/><reject type="icmp-port-unreachable"/></rule>`:                                          "another reject",
		`<rule family="ipv5"><service name="portwall-r1"/><accept/></rule>`:                                                                                  "unknown family",
		`<rule family="ipv4" extra="1"><service name="portwall-r1"/><accept/></rule>`:                                                                        "unknown attribute",
		`<rule family="ipv4" family="ipv6"><service name="portwall-r1"/><accept/></rule>`:                                                                    "repeated attribute",
		`<rule family="ipv4"><service name="portwall-r1"/>text<accept/></rule>`:                                                                              "text in a rule",
		`<!-- a -- b -->`:           "-- in a comment",
		`<x:rule xmlns:x="urn:x"/>`: "a namespace",
		`<rule family="ipv4"><source address="::ffff:10.0.0.1"/><service name="portwall-r1"/><accept/></rule>`: "mapped address",
	}
	for rule, why := range bad {
		data := strings.Replace(skeleton(), zoneRule, "  "+rule+"\n", 1)
		c, err := fwdparse.Parse([]byte(data))
		if err == nil {
			_, err = c.Grants()
		}
		if err == nil {
			t.Errorf("accepted (%s): %s", why, rule)
		} else {
			t.Logf("%s: %v", why, err)
		}
	}
}

// TestScriptRejects: the shell around the files, the files' names and
// the other files are as strict.
func TestScriptRejects(t *testing.T) {
	t.Parallel()
	good := skeleton()
	bad := map[string]func(string) string{
		"no shebang":              func(s string) string { return strings.TrimPrefix(s, "#!/bin/sh\n") },
		"a command in the header": func(s string) string { return strings.Replace(s, "#\n", "#\nrm -rf /\n", 1) },
		"a header line without a space": func(s string) string {
			return strings.Replace(s, "#\n", "#x\n", 1)
		},
		"a changed prelude":    func(s string) string { return strings.Replace(s, "umask 022", "umask 000", 1) },
		"a changed epilogue":   func(s string) string { return strings.Replace(s, "--check-config 2>&1", "--version 2>&1", 1) },
		"text after the end":   func(s string) string { return s + "reboot\n" },
		"no final line break":  func(s string) string { return strings.TrimSuffix(s, "\n") },
		"unquoted here-doc":    func(s string) string { return strings.Replace(s, "<<'PORTWALL_EOF'", "<<PORTWALL_EOF", 1) },
		"a file outside kinds": func(s string) string { return strings.Replace(s, "services/portwall-r1.xml", "../portwall-r1.xml", 1) },
		"a foreign zone":       func(s string) string { return strings.Replace(s, "zones/portwall.xml", "zones/public.xml", 1) },
		"a foreign policy name": func(s string) string {
			return strings.Replace(s, "policies/portwall-out.xml", "policies/allow-host-ipv6.xml", 1)
		},
		"a second zone file": func(s string) string {
			i := strings.Index(s, "portwall_file policies")
			j := strings.Index(s, "portwall_file zones")
			return s[:i] + s[j:i] + s[i:]
		},
		"a here-doc that does not end": func(s string) string {
			i := strings.LastIndex(s, "PORTWALL_EOF\n")
			return s[:i] + s[i+len("PORTWALL_EOF\n"):]
		},
		"a carriage return":   func(s string) string { return strings.Replace(s, "#\n", "#\r\n", 1) },
		"a NUL":               func(s string) string { return strings.Replace(s, "<description>zone", "<description>z\x00one", 1) },
		"invalid UTF-8":       func(s string) string { return strings.Replace(s, "<description>zone", "<description>z\xffone", 1) },
		"zone target ACCEPT":  func(s string) string { return strings.Replace(s, `<zone target="DROP">`, `<zone target="ACCEPT">`, 1) },
		"zone default target": func(s string) string { return strings.Replace(s, `<zone target="DROP">`, `<zone>`, 1) },
		"zone short name": func(s string) string {
			return strings.Replace(s, "<short>portwall</short>", "<short>public</short>", 1)
		},
		"policy target ACCEPT": func(s string) string {
			return strings.Replace(s, `<policy target="DROP"`, `<policy target="ACCEPT"`, 1)
		},
		"policy from ANY": func(s string) string {
			return strings.Replace(s, `<ingress-zone name="HOST"/>`, `<ingress-zone name="ANY"/>`, 1)
		},
		"policy without a target": func(s string) string {
			return strings.Replace(s, `<policy target="DROP" priority="-1">`, `<policy priority="-1">`, 1)
		},
		"service port 0":         func(s string) string { return strings.Replace(s, `port="22"`, `port="0"`, 1) },
		"service port 70000":     func(s string) string { return strings.Replace(s, `port="22"`, `port="70000"`, 1) },
		"service range reversed": func(s string) string { return strings.Replace(s, `port="8000-8010"`, `port="8010-8000"`, 1) },
		"service range of one":   func(s string) string { return strings.Replace(s, `port="8000-8010"`, `port="8000-8000"`, 1) },
		"service port leading 0": func(s string) string { return strings.Replace(s, `port="22"`, `port="022"`, 1) },
		"service protocol sctp": func(s string) string {
			return strings.Replace(s, `port="22" protocol="tcp"`, `port="22" protocol="sctp"`, 1)
		},
		"service source port": func(s string) string {
			return strings.Replace(s, "</service>", `  <source-port port="53" protocol="udp"/>`+"\n</service>", 1)
		},
		"service destination": func(s string) string {
			return strings.Replace(s, "</service>", `  <destination ipv4="10.0.0.1"/>`+"\n</service>", 1)
		},
		"service helper module": func(s string) string {
			return strings.Replace(s, "</service>", `  <helper name="ftp"/>`+"\n</service>", 1)
		},
		"service includes another": func(s string) string {
			return strings.Replace(s, "</service>", `  <include service="ssh"/>`+"\n</service>", 1)
		},
		"service short name": func(s string) string {
			return strings.Replace(s, "<short>portwall-r1</short>", "<short>ssh</short>", 1)
		},
		"service without ports": func(s string) string {
			s = strings.Replace(s, `  <port port="22" protocol="tcp"/>`+"\n", "", 1)
			return strings.Replace(s, `  <port port="8000-8010" protocol="tcp"/>`+"\n", "", 1)
		},
		"a DOCTYPE": func(s string) string {
			return strings.Replace(s, "<service>", `<!DOCTYPE service [<!ENTITY x "y">]>`+"\n<service>", 1)
		},
		"no XML declaration": func(s string) string {
			return strings.Replace(s, "PORTWALL_EOF'\n<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<service>", "PORTWALL_EOF'\n<service>", 1)
		},
		"two root elements": func(s string) string { return strings.Replace(s, "</service>\n", "</service>\n<service/>\n", 1) },
		"an unused service": func(s string) string {
			return strings.Replace(s, `    <service name="portwall-r1"/>`+"\n    <accept/>", `    <icmp-type name="echo-request"/>`+"\n    <accept/>", 1)
		},
	}
	for why, edit := range bad {
		data := edit(good)
		if data == good {
			t.Errorf("%s: the edit does not apply", why)
			continue
		}
		c, err := fwdparse.Parse([]byte(data))
		if err == nil {
			_, err = c.Grants()
		}
		if err == nil {
			t.Errorf("accepted: %s", why)
		} else {
			t.Logf("%s: %v", why, err)
		}
	}
}

// TestBaselineIsRecognised: baseline rules give no grant, but only in
// their exact form.
func TestBaselineIsRecognised(t *testing.T) {
	t.Parallel()
	// The policy's MLD rule widened to every link-local multicast group
	// is not the baseline: it is read as a grant, which the IR refuses.
	data := strings.Replace(skeleton(), `<destination address="ff02::16"/>`, `<destination address="ff02::/16"/>`, 1)
	c, err := fwdparse.Parse([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	gs, err := c.Grants()
	if err != nil || len(gs) != 2 || gs[1].String() != "out ipv6 icmpv6 from  to ff02::/16" {
		t.Errorf("grants %v, %v", gs, err)
	}
	for _, c := range []struct {
		r    fwdparse.Rule
		dir  ir.Direction
		want bool
	}{
		{fwdparse.Rule{Family: "ipv6", ICMPType: "neighbour-solicitation", Action: "accept"}, ir.In, true},
		{fwdparse.Rule{Family: "ipv6", ICMPType: "router-solicitation", Action: "accept"}, ir.In, false},
		{fwdparse.Rule{Family: "ipv6", ICMPType: "router-solicitation", Action: "accept"}, ir.Out, true},
		{fwdparse.Rule{Family: "ipv4", ICMPType: "echo-request", Action: "accept"}, ir.In, false},
	} {
		if got := c.r.Baseline(c.dir); got != c.want {
			t.Errorf("%+v %s: baseline %v, want %v", c.r, c.dir, got, c.want)
		}
	}
}
