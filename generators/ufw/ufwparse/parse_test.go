package ufwparse_test

import (
	"strings"
	"testing"

	"github.com/portwall/portwall/generators/ufw"
	"github.com/portwall/portwall/generators/ufw/ufwparse"
)

// skeleton is a valid script: the fixed text, settings, two application
// profiles, their rules and both ICMP blocks. The cases change one line.
func skeleton() string {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n# portwall ufw configuration for host h1.\n#\n")
	b.WriteString(ufw.Prelude)
	b.WriteString("portwall_settings <<'PORTWALL_EOF'\nincoming=deny\noutgoing=deny\nlogging=on\nenable=no\nipv6=yes\nPORTWALL_EOF\n")
	b.WriteString("portwall_apps <<'PORTWALL_EOF'\n# one\n# two\n" +
		"\n[portwall-r1]\ntitle=pw:r1 x/y: z\ndescription=pw:r1 x/y: z\nports=22,8000:8010/tcp\n" +
		"\n[portwall-r2]\ntitle=pw:r2 allow[0]: dns\ndescription=pw:r2 allow[0]: dns\nports=53/udp\n" +
		"PORTWALL_EOF\n")
	b.WriteString("portwall_rules <<'PORTWALL_EOF'\n" +
		"allow from 10.0.0.0/8 to any app portwall-r1 comment 'pw:r1 x/y: z'\n" +
		"allow out to 2001:db8::53 app portwall-r2 comment 'pw:r2 allow[0]: dns'\n" +
		"PORTWALL_EOF\n")
	b.WriteString("portwall_before4 <<'PORTWALL_EOF'\n" + ufw.BlockBegin + "\n" +
		"-A ufw-before-input -s 10.0.0.0/8 -p icmp -m icmp --icmp-type 8 -m comment --comment \"pw:r3 ping\" -j ACCEPT\n" +
		"-A ufw-before-input ! -i lo -p icmp -m icmp --icmp-type 8 -j ufw-logging-deny\n" +
		"-A ufw-before-input ! -i lo -p icmp -m icmp --icmp-type 8 -j ufw-skip-to-policy-input\n" +
		"-A ufw-before-output ! -o lo -p icmp -m icmp --icmp-type 8 -j ufw-skip-to-policy-output\n" +
		ufw.BlockEnd + "\nPORTWALL_EOF\n")
	b.WriteString("portwall_before6 <<'PORTWALL_EOF'\n" + ufw.BlockBegin + "\n" +
		"-A ufw6-before-input -p icmpv6 -m comment --comment \"pw:r4 all icmpv6\" -j ACCEPT\n" +
		"-A ufw6-before-input ! -i lo -p icmpv6 -m icmp6 --icmpv6-type 128 -j ufw6-skip-to-policy-input\n" +
		"-A ufw6-before-output ! -o lo -p icmpv6 -m icmp6 --icmpv6-type 128 -j ufw6-skip-to-policy-output\n" +
		ufw.BlockEnd + "\nPORTWALL_EOF\n")
	b.WriteString(ufw.Epilogue)
	return b.String()
}

func grants(t *testing.T, script string) string {
	t.Helper()
	s, err := ufwparse.Parse([]byte(script))
	if err != nil {
		t.Fatalf("refused: %v", err)
	}
	gs, err := s.Grants()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, g := range gs {
		out = append(out, g.String())
	}
	return strings.Join(out, "\n")
}

func TestSkeleton(t *testing.T) {
	t.Parallel()
	want := strings.Join([]string{
		"in ipv4 tcp/22,8000-8010 from 10.0.0.0/8 to",
		"out ipv6 udp/53 from  to 2001:db8::53/128",
		"in ipv4 icmp types [8] from 10.0.0.0/8 to",
		"in ipv6 icmpv6 from any to",
	}, "\n")
	if got := grants(t, skeleton()); got != want {
		t.Errorf("grants:\n%s\nwant:\n%s", got, want)
	}
}

// TestEchoRequestsWithoutTheBlock: ufw's stock before.rules accept echo
// requests from every address (before6.rules also to every address, out):
// a script whose block does not send them to the default policy grants
// that, and the fail-closed tests catch it.
func TestEchoRequestsWithoutTheBlock(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ drop, want string }{
		{"-A ufw-before-input ! -i lo -p icmp -m icmp --icmp-type 8 -j ufw-skip-to-policy-input\n", "in ipv4 icmp types [8] from any to"},
		{"-A ufw6-before-input ! -i lo -p icmpv6 -m icmp6 --icmpv6-type 128 -j ufw6-skip-to-policy-input\n", "in ipv6 icmpv6 types [128] from any to"},
		{"-A ufw6-before-output ! -o lo -p icmpv6 -m icmp6 --icmpv6-type 128 -j ufw6-skip-to-policy-output\n", "out ipv6 icmpv6 types [128] from  to any"},
		// IPv4's stock rules let no echo request out.
		{"-A ufw-before-output ! -o lo -p icmp -m icmp --icmp-type 8 -j ufw-skip-to-policy-output\n", ""},
	} {
		script := strings.Replace(skeleton(), c.drop, "", 1)
		if script == skeleton() {
			t.Fatalf("%q is not in the skeleton", c.drop)
		}
		got := grants(t, script)
		if has := strings.Contains(got, c.want); c.want != "" && !has || c.want == "" && got != grants(t, skeleton()) {
			t.Errorf("without %q: grants\n%s\nwant %q", c.drop, got, c.want)
		}
	}
}

// TestParserRefuses: a hand-made list of what portwall never writes, each
// made from the valid skeleton by one change, and each refused.
func TestParserRefuses(t *testing.T) {
	t.Parallel()
	if _, err := ufwparse.Parse([]byte(skeleton())); err != nil {
		t.Fatalf("the skeleton is refused: %v", err)
	}
	cases := []struct{ old, new, why string }{
		// The shell around the parts.
		{"# portwall ufw configuration", "#portwall ufw configuration", "header without a space"},
		{"set -eu\n", "set -u\n", "prelude changed"},
		{"\tufw reload", "\tufw disable; ufw reload", "epilogue changed"},
		{"PORTWALL_EOF\nsetting() {", "PORTWALL_EOF\nufw disable\nsetting() {", "a command between the parts"},
		{"portwall_rules <<'PORTWALL_EOF'", "portwall_rules <<PORTWALL_EOF", "an unquoted here-document"},
		{"portwall_rules <<'PORTWALL_EOF'", "portwall_rules <<'EOF'", "another delimiter"},
		{ufw.BlockEnd + "\nPORTWALL_EOF\nsetting() {", ufw.BlockEnd + "\nsetting() {", "a part that does not end"},
		{"portwall_before6 <<'PORTWALL_EOF'", "portwall_before5 <<'PORTWALL_EOF'", "an unknown part"},
		{"h1.\n", "h1.\r\n", "a carriage return"},
		{"h1.\n", "h1\xc3\xa9.\n", "a byte outside ASCII"},
		// Settings.
		{"incoming=deny", "incoming=allow", "incoming allow"},
		{"outgoing=deny", "outgoing=reject", "outgoing reject"},
		{"logging=on", "logging=low", "a log level"},
		{"logging=on\nenable=no\n", "logging=on\n", "a setting missing"},
		{"logging=on\nenable=no\n", "logging=on\nenable=no\nenable=yes\n", "a setting twice"},
		{"ipv6=yes", "ipv6=no", "IPv6 rules with ipv6=no"},
		// Application profiles.
		{"[portwall-r1]", "[ssh]", "a profile that is not portwall's"},
		{"[portwall-r1]", "[portwall r1]", "a name with a space"},
		{"[portwall-r1]", "[portwall-r1-0]", "a part number 0"},
		{"[portwall-r2]\n", "[portwall-r1]\n", "a profile twice"},
		{"title=pw:r1 x/y: z\n", "", "no title"},
		{"title=pw:r1 x/y: z", "title=r1 x/y: z", "a title without its rule ID"},
		{"title=pw:r1 x/y: z", "title=pw:r1 it's", "a quote"},
		{"title=pw:r1 x/y: z", "title=pw:r1 back\\slash", "a backslash"},
		{"title=pw:r1 x/y: z", "title=pw:r1 x ", "trailing space"},
		{"title=pw:r1 x/y: z", "title=pw:" + strings.Repeat("x", 300), "a title longer than 255 bytes"},
		{"description=pw:r1 x/y: z", "description=pw:" + strings.Repeat("x", 1100), "a description longer than ufw reads"},
		{"description=pw:r1 x/y: z", "Description=pw:r1 x/y: z", "a key in another case"},
		{"ports=22,8000:8010/tcp", "ports=22,8000:8010", "ports without a protocol"},
		{"ports=22,8000:8010/tcp", "ports=22/icmp", "ports of ICMP"},
		{"ports=22,8000:8010/tcp", "ports=22/tcp|53/udp", "two protocols in one profile"},
		{"ports=22,8000:8010/tcp", "ports=8010:8000/tcp", "a reversed range"},
		{"ports=22,8000:8010/tcp", "ports=22:22/tcp", "a range of one port"},
		{"ports=22,8000:8010/tcp", "ports=0/tcp", "port 0"},
		{"ports=22,8000:8010/tcp", "ports=65536/tcp", "port 65536"},
		{"ports=22,8000:8010/tcp", "ports=022/tcp", "a leading zero"},
		{"ports=22,8000:8010/tcp", "ports=ssh/tcp", "a service name"},
		{"ports=22,8000:8010/tcp", "ports=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16/tcp", "16 ports in one entry"},
		{"ports=22,8000:8010/tcp", "ports=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15:20/tcp", "a range making 16"},
		{"ports=22,8000:8010/tcp", "ports=" + strings.Repeat("1/tcp|", 200) + "1/tcp", "a ports field longer than ufw reads"},
		{"ports=22,8000:8010/tcp", "ports=22,/tcp", "an empty port"},
		{"\n[portwall-r2]", "\n[portwall-r3]\ntitle=pw:r3\ndescription=pw:r3\nports=1/tcp\n\n[portwall-r2]", "a profile no rule uses"},
		{"# two\n", "", "one comment line"},
		{"ports=53/udp\n", "ports=53/udp\nextra=1\n", "another field"},
		// Rules.
		{"allow from 10.0.0.0/8 to any app portwall-r1", "allow from 10.0.0.0/8 to any port 22", "a port rule"},
		{"allow from 10.0.0.0/8 to any app portwall-r1", "deny from 10.0.0.0/8 to any app portwall-r1", "a deny rule"},
		{"allow from 10.0.0.0/8 to any app portwall-r1", "allow in on eth0 from 10.0.0.0/8 to any app portwall-r1", "an interface"},
		{"allow from 10.0.0.0/8 to any app portwall-r1", "allow from 10.0.0.0/8 to 192.0.2.1 app portwall-r1", "a destination"},
		{"allow from 10.0.0.0/8 to any app portwall-r1", "allow from 10.0.0.0/8 to any app portwall-r9", "an application not in the script"},
		{"allow from 10.0.0.0/8 to any app portwall-r1", "allow from 10.0.0.0/8 to any app SSH", "an application not portwall's"},
		{"allow from 10.0.0.0/8", "allow from 10.0.0.1/8", "host bits set"},
		{"allow from 10.0.0.0/8", "allow from 10.0.0.1/32", "a single address as a prefix"},
		{"allow from 10.0.0.0/8", "allow from 0.0.0.0/0", "every IPv4 address, which ufw prints as any"},
		{"allow from 10.0.0.0/8", "allow from 010.0.0.0/8", "a leading zero in an address"},
		{"allow from 10.0.0.0/8", "allow from $(reboot)", "a command"},
		{"allow out to 2001:db8::53", "allow out to 2001:DB8::53", "an IPv6 address in upper case"},
		{"allow out to 2001:db8::53", "allow out to 2001:db8:0:0::53", "an IPv6 address not compressed"},
		{"allow out to 2001:db8::53", "allow out to ::ffff:10.0.0.1", "an IPv4-mapped address"},
		{"comment 'pw:r1 x/y: z'", "comment 'r1 x/y: z'", "a comment without its rule ID"},
		{"comment 'pw:r1 x/y: z'", "comment 'pw:r1 x'y: z'", "a quote in a comment"},
		{"comment 'pw:r1 x/y: z'", "comment \"pw:r1 x/y: z\"", "a comment in double quotes"},
		{"comment 'pw:r1 x/y: z'", "comment 'pw:" + strings.Repeat("x", 300) + "'", "a comment longer than 255 bytes"},
		{"comment 'pw:r1 x/y: z'\n", "comment 'pw:r1 x/y: z'\nallow from 10.0.0.0/8 to any app portwall-r1 comment 'pw:r1 again'\n", "a rule twice"},
		{"comment 'pw:r1 x/y: z'\n", "comment 'pw:r1 x/y: z' \n", "trailing space"},
		// The ICMP blocks.
		{ufw.BlockBegin + "\n-A ufw-before-input -s", "-A ufw-before-input -s", "no BEGIN line"},
		{"ufw-skip-to-policy-input\n" + "-A ufw-before-output ! -o lo -p icmp -m icmp --icmp-type 8 -j ufw-skip-to-policy-output\n" + ufw.BlockEnd, "ufw-skip-to-policy-input\n" + "-A ufw-before-output ! -o lo -p icmp -m icmp --icmp-type 8 -j ufw-skip-to-policy-output\n", "no END line"},
		{"-A ufw-before-input ! -i lo -p icmp -m icmp --icmp-type 8 -j ufw-logging-deny\n", "-A INPUT -j ACCEPT\n", "a rule of another chain"},
		{"-A ufw-before-input ! -i lo -p icmp -m icmp --icmp-type 8 -j ufw-logging-deny\n", "-A ufw-before-input -j ACCEPT\n", "an accept of everything"},
		{"-A ufw-before-input ! -i lo -p icmp -m icmp --icmp-type 8 -j ufw-logging-deny\n", "-A ufw-before-input -p tcp -m comment --comment \"pw:x\" -j ACCEPT\n", "TCP in the block"},
		{"-A ufw-before-input -s 10.0.0.0/8", "-A ufw6-before-input -s 10.0.0.0/8", "an IPv6 chain in before.rules"},
		{"-A ufw-before-input -s 10.0.0.0/8", "-A ufw-before-input -s 2001:db8::/32", "an IPv6 address in before.rules"},
		{"-A ufw-before-input -s 10.0.0.0/8", "-A ufw-before-input -d 10.0.0.0/8", "a destination inbound"},
		{"-A ufw-before-input -s 10.0.0.0/8", "-A ufw-before-input -s 10.0.0.0/8 -i eth0", "an interface"},
		{"-A ufw-before-input -s 10.0.0.0/8 -p icmp", "-A ufw-before-input -s 10.0.0.0/8 -p icmpv6", "ICMPv6 in before.rules"},
		{"--icmp-type 8 -m comment", "--icmp-type 256 -m comment", "type 256"},
		{"--icmp-type 8 -m comment", "--icmp-type echo-request -m comment", "a type by name"},
		{"--comment \"pw:r3 ping\"", "--comment \"pw:r3 \\\"ping\"", "an escaped quote in a comment"},
		{"--comment \"pw:r3 ping\"", "--comment \"r3 ping\"", "a comment without its rule ID"},
		{"-j ufw-skip-to-policy-input\n", "-j ACCEPT\n", "an echo request accept from everywhere"},
		{"-j ufw-skip-to-policy-input\n", "-j ufw-skip-to-policy-output\n", "another direction's policy"},
		{"-i lo -p icmp -m icmp --icmp-type 8 -j ufw-logging-deny", "-i lo -p icmp -m icmp --icmp-type 0 -j ufw-logging-deny", "another type sent to the policy"},
		{"! -i lo -p icmp -m icmp --icmp-type 8 -j ufw-logging-deny", "! -o lo -p icmp -m icmp --icmp-type 8 -j ufw-logging-deny", "the other interface"},
		{"-j ufw-logging-deny\n", "-j ufw-logging-deny\n-A ufw-before-input ! -i lo -p icmp -m icmp --icmp-type 8 -j ufw-logging-deny\n", "a line twice"},
		{"-A ufw6-before-input -p icmpv6 -m comment", "-A ufw6-before-input -p icmpv6 -m icmp --icmp-type 8 -m comment", "ICMPv4's type match in before6.rules"},
	}
	for _, c := range cases {
		script := strings.Replace(skeleton(), c.old, c.new, 1)
		if script == skeleton() {
			t.Errorf("%s: %q is not in the skeleton", c.why, c.old)
			continue
		}
		if _, err := ufwparse.Parse([]byte(script)); err == nil {
			t.Errorf("%s: accepted", c.why)
		} else {
			t.Logf("%s: %v", c.why, err)
		}
	}
}
