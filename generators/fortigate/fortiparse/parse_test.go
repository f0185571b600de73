package fortiparse

import (
	"fmt"
	"strings"
	"testing"

	"github.com/portwall/portwall/internal/testkit/golden"
)

// objects is a valid prefix that snippets below refer to.
const objects = `config firewall address
    edit "pw-a"
        set type ipmask
        set subnet 10.0.0.0 255.255.255.0
    next
end
config firewall address6
    edit "pw-a6"
        set type ipprefix
        set ip6 2001:db8::/64
    next
end
config firewall service custom
    edit "pw-s"
        set protocol TCP/UDP/SCTP
        set tcp-portrange 22
    next
    edit "pw-i"
        set protocol ICMP
    next
end
`

// objectLines is where a snippet after objects starts.
var objectLines = strings.Count(objects, "\n")

// policy wraps attribute lines into one firewall policy after objects;
// the first line of body is line objectLines+3.
func policy(body ...string) string {
	return objects + "config firewall policy\n    edit 0\n" + lines(body...) + "    next\nend\n"
}

// entry wraps attribute lines into one entry of table.
func entry(table, key string, body ...string) string {
	return "config " + table + "\n    edit " + key + "\n" + lines(body...) + "    next\nend\n"
}

func lines(ls ...string) string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString("        " + l + "\n")
	}
	return b.String()
}

// at is the line of the i-th body line of policy (from 0).
func at(i int) string { return fmt.Sprintf("line %d: ", objectLines+3+i) }

var okPolicy = []string{`set name "p"`, `set srcintf "port1"`, `set dstintf "port2"`, `set action accept`, `set schedule "always"`}

// TestInvalid lists snippets the reference's constraints forbid (or that
// portwall never emits) and the exact reason the parser gives.
func TestInvalid(t *testing.T) {
	t.Parallel()
	long := func(c string, n int) string { return strings.Repeat(c, n) }
	tests := []struct {
		name, version, input, want string
	}{
		{"comma in portrange", "7.4", entry("firewall service custom", `"x"`, "set protocol TCP/UDP/SCTP", "set tcp-portrange 80,443"),
			`line 4: set tcp-portrange: "80,443": ranges are separated by spaces, not commas`},
		{"several icmp types", "7.4", entry("firewall service custom", `"x"`, "set protocol ICMP", "set icmptype 0 8"),
			`line 4: set icmptype: takes one type, not 2: several types need one service each`},
		{"icmp type above 255", "7.4", entry("firewall service custom", `"x"`, "set protocol ICMP", "set icmptype 256"),
			`line 4: set icmptype: "256" is not an ICMP type 0-255`},
		{"icmptype on a TCP service", "7.4", entry("firewall service custom", `"x"`, "set protocol TCP/UDP/SCTP", "set icmptype 8"),
			`line 4: set icmptype: needs protocol ICMP or ICMP6 set before it, the service has "TCP/UDP/SCTP"`},
		{"slash in a name", "7.4", entry("firewall address", `"pw-n4-10.0.0.0/24"`),
			`line 2: edit "pw-n4-10.0.0.0/24": a name holds only letters, digits, '_', '.' and '-'`},
		{"80-character name", "7.4", entry("firewall address", `"`+long("a", 80)+`"`),
			`line 2: edit "` + long("a", 80) + `": name of 80 characters, FortiOS 7.4 allows 79`},
		{"64-character name on 6.0", "6.0", entry("firewall addrgrp", `"`+long("a", 64)+`"`),
			`line 2: edit "` + long("a", 64) + `": name of 64 characters, FortiOS 6.0 allows 63`},
		{"explicit policy id", "7.4", entry("firewall policy", "1"),
			`line 2: edit 1: an explicit policy id overwrites the policy that holds it; portwall appends with edit 0`},
		{"named local-in entry", "7.4", entry("firewall local-in-policy", `"x"`),
			`line 2: edit "x": firewall local-in-policy entries are created with edit 0`},
		{"36-character policy name", "7.4", policy(`set name "` + long("p", 36) + `"`),
			at(0) + `set name: name of 36 characters, FortiOS 7.4 allows 35`},
		{"unescaped quote in comments", "7.4", policy(`set comments "say "hi" now"`),
			at(0) + `set comments: "say hi now" is not one double-quoted string (a quote inside the text ends it)`},
		{"escaped quote in comments", "7.4", policy(`set comments "say \"hi\" now"`),
			at(0) + `set comments: '"' is not allowed in FortiOS text`},
		{"unknown attribute", "7.4", policy(`set nat enable`),
			at(0) + `unknown attribute nat in config firewall policy on FortiOS 7.4`},
		{"non-contiguous mask", "7.4", entry("firewall address", `"x"`, "set type ipmask", "set subnet 10.0.0.0 255.0.255.0"),
			`line 4: set subnet: mask 255.0.255.0 is not contiguous`},
		{"host bits set", "7.4", entry("firewall address", `"x"`, "set type ipmask", "set subnet 10.0.0.1 255.255.255.0"),
			`line 4: set subnet: 10.0.0.1 has host bits set under mask 255.255.255.0`},
		{"CIDR form", "7.4", entry("firewall address", `"x"`, "set type ipmask", "set subnet 10.0.0.0/24"),
			`line 4: set subnet needs 2 values`},
		{"undefined reference", "7.4", policy(`set srcaddr "pw-nope"`),
			at(0) + `set srcaddr: pw-nope is not defined before`},
		{"undefined service", "7.4", policy(`set service "HTTPS"`),
			at(0) + `set service: service HTTPS is not defined before`},
		{"uuid", "7.4", policy(`set uuid 0a6a3f3c-0000-0000-0000-000000000000`),
			at(0) + `set uuid: FortiOS assigns uuids; portwall never sets them`},
		{"end without config", "7.4", "end\n", `line 1: end without config`},
		{"missing next", "7.4", "config firewall address\n    edit \"x\"\n        set type fqdn\n        set fqdn \"a.example.com\"\nend\n",
			`line 5: end before next: edit on line 2 is not closed`},
		{"missing end", "7.4", "config firewall address\n", `line 1: config firewall address is not closed with end`},
		{"edit not closed at the end", "7.4", "config firewall address\n    edit \"x\"\n", `line 2: edit is not closed with next`},
		{"srcaddr6 on 6.2", "6.2", policy(`set srcaddr6 "pw-a6"`),
			at(0) + `unknown attribute srcaddr6 in config firewall policy on FortiOS 6.2 (IPv6 addresses join the policy in 6.4; before, they go to policy6)`},
		{"policy6 on 7.4", "7.4", "config firewall policy6\nend\n",
			`line 1: config firewall policy6 does not exist on FortiOS 7.4 (6.4 merged IPv6 into config firewall policy)`},
		{"IPv6 object in addrgrp", "7.4", objects + entry("firewall addrgrp", `"g"`, `set member "pw-a6"`),
			fmt.Sprintf(`line %d: set member: pw-a6 is an IPv6 object (config firewall address6), this list takes IPv4`, objectLines+3)},
		{"IPv6 object in srcaddr", "7.4", policy(`set srcaddr "pw-a6"`),
			at(0) + `set srcaddr: pw-a6 is an IPv6 object (config firewall address6), this list takes IPv4`},
		{"IPv4 object in policy6", "6.2", objects + entry("firewall policy6", "0", `set srcaddr "pw-a"`),
			fmt.Sprintf(`line %d: set srcaddr: pw-a is an IPv4 object (config firewall address), this list takes IPv6`, objectLines+3)},
		{"name on a local-in policy", "7.4", objects + entry("firewall local-in-policy", "0", `set name "x"`),
			fmt.Sprintf(`line %d: unknown attribute name in config firewall local-in-policy on FortiOS 7.4`, objectLines+3)},
		{"two local-in interfaces before 8.0", "7.6", objects + entry("firewall local-in-policy", "0", `set intf "port1" "port2"`),
			fmt.Sprintf(`line %d: set intf takes one value, not 2`, objectLines+3)},
		{"deny", "7.4", policy(`set action deny`), at(0) + `set action: "deny" is not one of accept`},
		{"schedule", "7.4", policy(`set schedule "weekdays"`),
			at(0) + `set schedule: schedule "weekdays": portwall's policies always apply ("always")`},
		{"logtraffic", "7.4", policy(`set logtraffic enable`), at(0) + `set logtraffic: "enable" is not one of all, utm, disable`},
		{"reversed range", "7.4", entry("firewall address", `"x"`, "set type iprange", "set start-ip 10.0.0.9", "set end-ip 10.0.0.1"),
			`line 2: start-ip 10.0.0.9 is above end-ip 10.0.0.1`},
		{"port 0", "7.4", entry("firewall service custom", `"x"`, "set protocol TCP/UDP/SCTP", "set udp-portrange 0"),
			`line 4: set udp-portrange: "0" is not a port or range of ports 1-65535`},
		{"port 65536", "7.4", entry("firewall service custom", `"x"`, "set protocol TCP/UDP/SCTP", "set udp-portrange 1-65536"),
			`line 4: set udp-portrange: "1-65536" is not a port or range of ports 1-65535`},
		{"reversed port range", "7.4", entry("firewall service custom", `"x"`, "set protocol TCP/UDP/SCTP", "set tcp-portrange 90-80"),
			`line 4: set tcp-portrange: "90-80" is reversed`},
		{"source ports", "7.4", entry("firewall service custom", `"x"`, "set protocol TCP/UDP/SCTP", "set udp-portrange 53:1024"),
			`line 4: set udp-portrange: "53:1024": source port ranges are not what portwall emits`},
		{"service without ports", "7.4", entry("firewall service custom", `"x"`, "set protocol TCP/UDP/SCTP"),
			`line 2: TCP/UDP/SCTP service without tcp-portrange or udp-portrange`},
		{"quoted keyword", "7.4", policy(`set action "accept"`), at(0) + `set action: "accept" must not be quoted`},
		{"unquoted name", "7.4", entry("firewall address", "pw-x"), `line 2: edit pw-x: names are written in double quotes`},
		{"edit 0 in an object table", "7.4", entry("firewall address", "0"), `line 2: edit 0: names are written in double quotes`},
		{"unterminated quote", "7.4", "config firewall address\n    edit \"pw-x\n    next\nend\n", `line 2: quote opened here is never closed`},
		{"hash outside quotes", "7.4", "config firewall address # all of them\nend\n", `line 1: '#' outside quotes`},
		{"question mark outside quotes", "7.4", policy(`set srcintf port1?`), at(0) + `'?' outside quotes`},
		{"256-character object comment", "7.4", entry("firewall addrgrp", `"x"`, `set comment "`+long("c", 256)+`"`),
			`line 3: set comment: 256 characters, at most 255`},
		{"1024-character policy comment", "7.4", policy(`set comments "` + long("c", 1024) + `"`),
			at(0) + `set comments: 1024 characters, at most 1023`},
		{"angle bracket in comments", "7.4", policy(`set comments "a <script>"`), at(0) + `set comments: '<' is not allowed in FortiOS text`},
		{"tab in comments", "7.4", policy("set comments \"a\tb\""), at(0) + `set comments: control or unprintable character '\t'`},
		{"line break in comments", "7.4", policy("set comments \"a\nend\""), at(0) + `set comments: control or unprintable character '\n'`},
		{"duplicate policy name", "7.4", policy(append(okPolicy, `set srcaddr "all"`, `set dstaddr "pw-a"`, `set service "pw-s"`)...) +
			"config firewall policy\n    edit 0\n        set name \"p\"\n",
			fmt.Sprintf(`line %d: set name: policy name p is already used on line %d; names are unique`, objectLines+15, objectLines+3)},
		{"srcaddr without dstaddr", "7.4", policy(append(okPolicy, `set srcaddr "pw-a"`, `set service "pw-s"`)...),
			fmt.Sprintf(`line %d: srcaddr and dstaddr go together: source and destination must be of one IP version`, objectLines+2)},
		{"policy without addresses", "7.4", policy(append(okPolicy, `set service "pw-s"`)...),
			fmt.Sprintf(`line %d: policy without addresses`, objectLines+2)},
		{"policy without service", "7.4", policy(append(okPolicy, `set srcaddr "all"`, `set dstaddr "pw-a"`)...),
			fmt.Sprintf(`line %d: firewall policy entry without service`, objectLines+2)},
		{"all with others", "7.4", policy(`set srcaddr "all" "pw-a"`), at(0) + `set srcaddr: all holds every address and stands alone`},
		{"ICMP in an IPv6 policy", "7.4", policy(append(okPolicy, `set srcaddr6 "pw-a6"`, `set dstaddr6 "all"`, `set service "pw-i"`)...),
			fmt.Sprintf(`line %d: service pw-i is ICMP, which cannot apply to the policy's IPv6 addresses`, objectLines+2)},
		{"fqdn too long", "7.4", entry("firewall address", `"x"`, "set type fqdn", `set fqdn "`+long("a", 256)+`"`),
			`line 4: set fqdn: 256 characters, at most 255`},
		{"fqdn not a host name", "7.4", entry("firewall address", `"x"`, "set type fqdn", `set fqdn "a b.example.com"`),
			`line 4: set fqdn: "a b.example.com" is not a host name`},
		{"comment line ending in a backslash", "7.4", "# comment \\\nconfig firewall address\nend\n",
			`line 1: comment line ends in a backslash, which may continue it into the next line`},
		{"nested config", "7.4", "config firewall address\n    edit \"x\"\n        config tagging\n",
			`line 3: config inside edit: nested tables are not what portwall emits`},
		{"subnet before type", "7.4", entry("firewall address", `"x"`, "set subnet 10.0.0.0 255.0.0.0", "set type ipmask"),
			`line 3: set subnet: belongs to type ipmask: set type ipmask first`},
		{"attribute of another type", "7.4", entry("firewall address", `"x"`, "set type fqdn", "set subnet 10.0.0.0 255.0.0.0"),
			`line 4: set subnet: belongs to type ipmask, the entry is type fqdn`},
		{"set twice", "7.4", policy(`set action accept`, `set action accept`), at(1) + `set action twice in one entry`},
		{"unknown table", "7.4", "config firewall vip\nend\n", `line 1: unknown table "firewall vip"`},
		{"edited twice", "7.4", entry("firewall address", `"x"`, "set type fqdn", `set fqdn "a.example.com"`) + entry("firewall address", `"x"`),
			`line 8: edit "x": the name is taken by config firewall address (line 2)`},
		{"group and address of one name", "7.4", objects + entry("firewall addrgrp", `"pw-a"`),
			fmt.Sprintf(`line %d: edit "pw-a": the name is taken by config firewall address (line 2)`, objectLines+2)},
		{"unset", "7.4", "config firewall address\n    unset x\nend\n", `line 2: unset is not a command portwall emits`},
		{"predefined name", "7.4", entry("firewall address", `"all"`), `line 2: edit "all": all is predefined`},
		{"any with other interfaces", "7.4", policy(`set srcintf "any" "port1"`), at(0) + `set srcintf: any holds every interface and stands alone`},
		{"single-quoted value", "7.4", policy(`set name 'p'`), at(0) + `set name: "p" is not one double-quoted string (a quote inside the text ends it)`},
		{"group member undefined", "7.4", entry("firewall service group", `"g"`, `set member "pw-x"`), `line 3: set member: service pw-x is not defined before`},
		{"set outside edit", "7.4", "config firewall address\n    set type ipmask\nend\n", `line 2: set outside an edit block`},
		{"unknown version", "6.6", "", `unknown FortiOS version "6.6"`},
	}
	if len(tests) < 15 {
		t.Fatalf("only %d invalid snippets", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.input), tt.version)
			if err == nil {
				t.Fatalf("accepted:\n%s", tt.input)
			}
			if err.Error() != tt.want {
				t.Errorf("got  %s\nwant %s", err, tt.want)
			}
		})
	}
	t.Logf("%d invalid snippets rejected", len(tests))
}

// TestValid parses the reference's examples, in the form portwall
// writes them (names quoted, attributes it emits), and checks what the
// policies grant.
func TestValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, version, input string
		want                 []string // grants
	}{
		{"addresses, groups, services, merged policy (reference 3-6)", "7.4", `# a comment line
config firewall address
    edit "net-10"
        set type ipmask
        set subnet 10.0.0.0 255.0.0.0
        set comment "text"
    next
    edit "range-1"
        set type iprange
        set start-ip 192.0.2.10
        set end-ip 192.0.2.20
    next
    edit "fqdn-1"
        set type fqdn
        set fqdn "www.example.com"
    next
end
config firewall address6
    edit "v6-net"
        set type ipprefix
        set ip6 2001:db8::/32
    next
end
config firewall addrgrp
    edit "grp-web"
        set member "net-10" "range-1"
        set comment "text"
    next
end
config firewall service custom
    edit "tcp-web"
        set protocol TCP/UDP/SCTP
        set tcp-portrange 80 443 8000-8100
        set udp-portrange 53
    next
    edit "icmp-echo"
        set protocol ICMP
        set icmptype 8
    next
end
config firewall service group
    edit "svc-grp"
        set member "tcp-web" "icmp-echo"
    next
end
config firewall policy
    edit 0
        set name "pw-allow-web"
        set srcintf "port1"
        set dstintf "port2"
        set srcaddr "net-10"
        set dstaddr "grp-web"
        set srcaddr6 "v6-net"
        set dstaddr6 "all"
        set action accept
        set schedule "always"
        set service "tcp-web"
        set logtraffic all
        set comments "portwall id=r12"
        set status enable
    next
    edit 0
        set name "pw-web-v4"
        set srcintf "any"
        set dstintf "port2"
        set srcaddr "all"
        set dstaddr "fqdn-1"
        set action accept
        set schedule "always"
        set service "svc-grp"
    next
end
`, []string{
			"ipv4 tcp/80,443,8000-8100 from 10.0.0.0/8 to 10.0.0.0/8,192.0.2.10-192.0.2.20",
			"ipv4 udp/53 from 10.0.0.0/8 to 10.0.0.0/8,192.0.2.10-192.0.2.20",
			"ipv6 tcp/80,443,8000-8100 from 2001:db8::/32 to any",
			"ipv6 udp/53 from 2001:db8::/32 to any",
			"ipv4 tcp/80,443,8000-8100 from any to www.example.com",
			"ipv4 udp/53 from any to www.example.com",
			"ipv4 icmp types [8] from any to www.example.com",
		}},
		{"policy6 and local-in policies (reference 6-7)", "6.2", `config firewall address
    edit "mgmt-net"
        set type ipmask
        set subnet 192.0.2.0 255.255.255.0
    next
end
config firewall address6
    edit "v6-range"
        set type iprange
        set start-ip 2001:db8::10
        set end-ip 2001:db8::20
    next
    edit "v6-host"
        set type fqdn
        set fqdn "fw.example.com"
    next
end
config firewall addrgrp6
    edit "grp6"
        set member "v6-range" "v6-host"
    next
end
config firewall service custom
    edit "admin"
        set protocol TCP/UDP/SCTP
        set tcp-portrange 22 443
    next
    edit "ping6"
        set protocol ICMP6
    next
end
config firewall policy6
    edit 0
        set name "pw-v6"
        set srcintf "port1"
        set dstintf "port2"
        set srcaddr "grp6"
        set dstaddr "all"
        set action accept
        set schedule "always"
        set service "admin" "ping6"
        set logtraffic disable
        set comments "a \\ backslash; (parentheses) and 100% | end next"
        set status enable
    next
end
config firewall local-in-policy
    edit 0
        set intf "port1"
        set srcaddr "mgmt-net"
        set dstaddr "all"
        set service "admin"
        set schedule "always"
        set action accept
        set comments "text"
    next
end
config firewall local-in-policy6
    edit 0
        set intf "port1"
        set srcaddr "all"
        set dstaddr "v6-host"
        set action accept
        set service "ping6"
        set schedule "always"
    next
end
`, []string{
			"ipv6 tcp/22,443 from 2001:db8::10-2001:db8::20,fw.example.com to any",
			"ipv6 icmpv6 from 2001:db8::10-2001:db8::20,fw.example.com to any",
			"ipv4 tcp/22,443 from 192.0.2.0/24 to any",
			"ipv6 icmpv6 from any to fw.example.com",
		}},
		{"local-in interface list on 8.0", "8.0", `config firewall address
    edit "a"
        set type ipmask
        set subnet 192.0.2.1 255.255.255.255
    next
end
config firewall service custom
    edit "s"
        set protocol TCP/UDP/SCTP
        set tcp-portrange 1-65535
    next
end
config firewall local-in-policy
    edit 0
        set intf "port1" "port2"
        set srcaddr "all"
        set dstaddr "a"
        set action accept
        set service "s"
        set schedule "always"
    next
end
`, []string{"ipv4 tcp/1-65535 from any to 192.0.2.1/32"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.input), tt.version)
			if err != nil {
				t.Fatal(err)
			}
			gs, err := c.Grants()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, g := range gs {
				got = append(got, g.String())
			}
			if d := golden.Diff([]byte(strings.Join(tt.want, "\n")), []byte(strings.Join(got, "\n"))); d != "" {
				t.Errorf("grants (-want +got):\n%s", d)
			}
		})
	}
}

// TestEscapes checks the lexical rules on values: in "...", \\ is one
// backslash and \' an apostrophe (which the text check then refuses);
// other backslashes stay.
func TestEscapes(t *testing.T) {
	t.Parallel()
	line := objectLines + 4
	for _, tt := range []struct{ in, want, err string }{
		{`"a\\b"`, `a\b`, ""},
		{`"a\b"`, `a\b`, ""},
		{`"a\'b"`, "", fmt.Sprintf(`line %d: set comment: '\'' is not allowed in FortiOS text`, line)},
		{`"a" "b"`, "", fmt.Sprintf(`line %d: set comment takes one value, not 2`, line)},
		{`"a"b`, "", fmt.Sprintf(`line %d: set comment: "ab" is not one double-quoted string (a quote inside the text ends it)`, line)},
		{`a\"b`, "", fmt.Sprintf(`line %d: set comment: "a\"b" is not one double-quoted string (a quote inside the text ends it)`, line)},
	} {
		c, err := Parse([]byte(objects+entry("firewall addrgrp", `"g"`, `set member "pw-a"`, "set comment "+tt.in)), "7.4")
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%s: got %v, want %s", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		got := c.Tables[len(c.Tables)-1].Entries[0].Get("comment")
		if len(got) != 1 || got[0] != tt.want {
			t.Errorf("%s: read %q, want %q", tt.in, got, tt.want)
		}
	}
}
