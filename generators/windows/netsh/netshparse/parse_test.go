package netshparse

import (
	"strings"
	"testing"

	"github.com/portwall/portwall/internal/testkit/wintest"
	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

const remove = `powershell -NoProfile -NonInteractive -Command "Get-NetFirewallRule -DisplayName 'portwall-*' -ErrorAction SilentlyContinue | Remove-NetFirewallRule"`

const removeCheck = "if errorlevel 1 (echo portwall: removing earlier portwall rules failed & exit /b 1)"

// script wraps body lines (CRLF added) in the fixed head and tail.
func script(body ...string) []byte {
	lines := append([]string{"@echo off", "setlocal EnableExtensions DisableDelayedExpansion", remove, removeCheck}, body...)
	lines = append(lines, "exit /b 0")
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}

// rule is an add rule line with its check, for a rule named name.
func rule(name, params string) []string {
	return []string{
		`netsh advfirewall firewall add rule name="` + name + `" ` + params,
		"if errorlevel 1 (echo portwall: adding " + name + " failed & exit /b 1)",
	}
}

const good = `dir=in action=allow protocol=tcp localport=22 remoteip=10.0.0.0/8 profile=any enable=yes description="pw:r1 x"`

// TestRejectsLines: each line breaks a rule of the reference (sections
// 1-4) or of batch files; the parser must refuse it at its line (5), for
// the reason given.
func TestRejectsLines(t *testing.T) {
	t.Parallel()
	n := `netsh advfirewall firewall add rule name="portwall-x" `
	bad := []wintest.BadLine{
		{n + `dir=in action=allow protocol=icmpv4 localport=80 remoteip=any`, "ports need protocol tcp or udp", "Ports can only"},
		{n + `dir=in action=allow localport=80 remoteip=any`, "ports with the default protocol (any)", "Ports can only"},
		{`netsh advfirewall firewall add rule name=all dir=in action=allow protocol=tcp`, "name all stands for every rule", `"all"`},
		{`netsh advfirewall firewall add rule name="portwall-a|b" dir=in action=allow protocol=tcp`, "'|' in a name", "'|' in name"},
		{`netsh advfirewall firewall add rule name="portwall-a"b" dir=in action=allow protocol=tcp`, "'\"' in a name: netsh has no escape", "quote"},
		{n + `dir=out action=allow protocol=tcp edge=yes`, "edge only with dir=in", "edge only"},
		{n + `dir=in action=bypass protocol=tcp security=authenticate`, "bypass inbound needs rmtcomputergrp", "rmtcomputergrp"},
		{n + `dir=out action=allow protocol=tcp security=authdynenc`, "authdynenc only with dir=in", "authdynenc only"},
		{n + `dir=in action=allow protocol=tcp profile=current`, "profile=current is invalid", "profile=current"},
		{n + `dir=in action=allow protocol=tcp rmtusrgrp="D:(A;;CC;;;S-1-5-32-544)"`, "rmtusrgrp needs security", "needs security"},
		{n + `dir=in action=allow protocol=tcp security=authenc,authnoencap`, "authenc with authnoencap", "cannot be combined"},
		{n + `dir=in action=allow protocol=tcp localport=70000`, "port above 65535", "want ports"},
		{n + `dir=in action=allow protocol=tcp localport=80-20`, "reversed port range", "reversed"},
		{n + `dir=in action=allow protocol=tcp localport=80, 443`, "space in a list (a new parameter to netsh)", "not key=value"},
		{n + `dir=in action=allow protocol=tcp remoteip=10.0.0.1/8`, "subnet with host bits", "host bits"},
		{n + `dir=in action=allow protocol=icmpv4:256,any`, "ICMP type above 255", "0-255"},
		{n + `dir=in action=allow protocol=icmp`, "icmp is not a netsh protocol name", "want tcp"},
		{n + `dir=inbound action=allow protocol=tcp`, "dir is in or out", "dir=inbound"},
		{n + `dir=inbound action=permit protocol=tcp`, "two bad keywords: the first by parameter name, every time", "action=permit"},
		{n + `dir=in protocol=tcp`, "action is required", "action is required"},
		{n + `dir=in action=allow protocol=tcp foo=bar`, "unknown parameter", "unknown parameter"},
		{n + `dir=in action=allow protocol=tcp dir=out`, "parameter given twice", "twice"},
		{n + `dir=in action=allow protocol=tcp description="a|b"`, "'|' in a description", "'|' in description"},
		{n + `dir=in action=allow protocol=tcp description=a&b`, "'&' outside quotes runs a second command", "cmd operator"},
		{n + `dir=in action=allow protocol=tcp >nul`, "redirection outside quotes", "cmd operator"},
		{n + `dir=in action=allow protocol=tcp description="50% off"`, "single '%' is expanded by cmd", "single %"},
		{n + `dir=in action=allow protocol=tcp description="open`, "unbalanced quote", "unbalanced"},
		{`netsh advfirewall firewall add rule name="web" dir=in action=allow protocol=tcp`, "name without portwall-: the removal line would miss it", "portwall-"},
		{n + `dir=in action=allow protocol=tcp localip=localsubnet`, "localsubnet is for remoteip only", "remoteip only"},
		{n + `dir=in action=allow protocol=tcp remoteip=any,10.0.0.1`, "any inside a list", "any in a list"},
		{n + `dir=in action=allow protocol=udp localport=RPC`, "RPC is a TCP keyword", "needs protocol=tcp"},
		{n + `dir=out action=allow protocol=tcp remoteport=RPC`, "port keywords are for localport only", "localport only"},
		{n + `dir=in action=allow protocol=tcp description="` + strings.Repeat("x", 1025) + `"`, "description over 1024 characters", "1024"},
		{n + `dir=in action=allow protocol=tcp interfacetype=wifi`, "interfacetype values", "interfacetype=wifi"},
		{n + `dir=in action=allow protocol=tcp enable=true`, "enable is yes or no", "enable=true"},
		{n + `dir=in action=allow protocol=tcp remoteip=::ffff:10.0.0.1`, "IPv4-mapped IPv6 is ambiguous", "IPv4-mapped"},
		{n + `dir=in action=allow protocol=tcp remoteip=fe80::1%%eth0`, "IPv6 zone", "zone"},
		{n + `dir=in  action=allow protocol=tcp`, "two spaces: an empty word", "empty word"},
		{n + `dir=in action=allow protocol=tcp program="C:\x\"`, `trailing '\' before the closing quote`, "ends in"},
		{n + `dir=in action=allow protocol=tcp description=""`, "empty value", "empty value"},
		{n + `dir=in action=allow protocol=tcp service=a;b`, "service short names", "service="},
		{`netsh advfirewall firewall add rule name="portwall-` + strings.Repeat("x", 250) + `" dir=in action=allow`, "name over 255 characters", "255"},
		{"netsh advfirewall firewall delete rule name=all", "delete is not portwall's: name=all deletes every rule", "unknown netsh command"},
		{"netsh advfirewall set allprofiles state off", "turning the firewall off", "portwall sets only"},
		{"netsh advfirewall set allprofiles firewallpolicy allowinbound,allowoutbound", "allowinbound opens everything", "allow inbound"},
		{"netsh advfirewall set allprofiles firewallpolicy blockinboundalways,allowoutbound", "blockinboundalways blocks the rules too", "block what the rules allow"},
		{"netsh advfirewall set currentprofile firewallpolicy blockinbound", "firewallpolicy needs <in>,<out>", "outbound policy"},
		{"rem 100% sure", "single '%' in a rem line is expanded (and %~ aborts the script)", "single %"},
		{"rem continued ^", "trailing '^' joins the next line", "'^'"},
		{"rem a & echo b", "'&' in a comment", "'&'"},
		{"rem /?", "rem /? prints help", "help"},
		{"echo hello", "unknown command", "unknown line"},
		{":label", "labels are not portwall's (Capirca writes them as comments)", "unknown line"},
		{"rem\ttab", "control character", "control character"},
		{"rem caf\xc3\xa9", "non-ASCII: cmd reads the console code page", "outside ASCII"},
		{"rem " + strings.Repeat("x", 8200), "line over 8191 characters", "8191"},
		{"@echo off", "@echo off out of place", "out of place"},
		{remove, "a second removal line", "second removal"},
		{"exit /b 0", "exit before the end", "before the end"},
	}
	// The valid line parses in the same place, so each refusal is the
	// bad line's.
	if _, err := Parse(script(rule("portwall-x", good)...)); err != nil {
		t.Fatalf("valid script refused: %v", err)
	}
	wintest.RejectsLines(t, 5, func(line string) error {
		_, err := Parse(script(line, "if errorlevel 1 (echo portwall: adding portwall-x failed & exit /b 1)"))
		return err
	}, bad)
}

// TestRejectsScripts: mistakes that are about the script, not one line.
func TestRejectsScripts(t *testing.T) {
	t.Parallel()
	ok := string(script(rule("portwall-x", good)...))
	check := "if errorlevel 1 (echo portwall: adding portwall-x failed & exit /b 1)\r\n"
	bad := map[string]string{
		"LF line endings":                   strings.ReplaceAll(ok, "\r\n", "\n"),
		"bare CR inside a line":             strings.Replace(ok, "rule name=", "rule\rname=", 1),
		"no CRLF after the last line":       strings.TrimSuffix(ok, "\r\n"),
		"add rule without its check":        strings.Replace(ok, check, "", 1),
		"check naming another rule":         strings.Replace(ok, "adding portwall-x failed", "adding portwall-y failed", 1),
		"no removal line":                   strings.Replace(ok, remove+"\r\n"+removeCheck+"\r\n", "", 1),
		"removal without its check":         strings.Replace(ok, removeCheck+"\r\n", "", 1),
		"add rule before the removal":       strings.Replace(strings.Replace(ok, remove+"\r\n"+removeCheck+"\r\n", "", 1), "exit /b 0", remove+"\r\n"+removeCheck+"\r\nexit /b 0", 1),
		"no exit at the end":                strings.Replace(ok, "exit /b 0\r\n", "", 1),
		"no @echo off":                      strings.Replace(ok, "@echo off\r\n", "", 1),
		"setlocal without its options":      strings.Replace(ok, "setlocal EnableExtensions DisableDelayedExpansion", "setlocal", 1),
		"duplicate rule name":               string(script(append(rule("portwall-x", good), rule("portwall-X", good)...)...)),
		"set line without its check":        string(script("netsh advfirewall set allprofiles firewallpolicy blockinbound,allowoutbound")),
		"empty script":                      "",
		"blank line":                        strings.Replace(ok, check, check+"\r\n", 1),
		"text after the check on its line":  strings.Replace(ok, "exit /b 1)", "exit /b 1) & calc", 1),
		"trailing space after an add rule":  strings.Replace(ok, `x"`+"\r\n", `x" `+"\r\n", 1),
		"remove line with another wildcard": strings.Replace(ok, "'portwall-*'", "'*'", 1),
	}
	wintest.RejectsScripts(t, func(data []byte) error { _, err := Parse(data); return err }, bad)
}

// TestAcceptsDocumented: lines from Microsoft's netsh reference and the
// Capirca/Aerleon outputs (reference sections 5 and 8), renamed with
// portwall's prefix (and without '_', which portwall's names do not use),
// parse; so the parser does not refuse everything.
func TestAcceptsDocumented(t *testing.T) {
	t.Parallel()
	good := []struct{ name, params string }{
		{"portwall-allow80", `protocol=TCP dir=out localport=80 action=block`},
		{"portwall-allow-messenger", `dir=in program="c:\programfiles\messenger\msmsgs.exe" security=authnoencap action=allow`},
		{"portwall-allow-machine", `dir=in security=authenticate action=bypass rmtcomputergrp="D:(A;;CC;;;S-1-5-21-1-2-3-1001)"`},
		{"portwall-icmp-allow-incoming-v4-echo-request", `protocol=icmpv4:8,any dir=in action=allow`},
		{"portwall-web-https", `dir=in action=allow protocol=tcp localport=443 remoteip=10.0.0.0/8,2001:db8::/32 profile=any enable=yes description="portwall web https"`},
		{"portwall-scope", `dir=in action=allow protocol=tcp localport=80,443,8000-8100 remoteip=157.60.0.1,172.16.0.0/16,LocalSubnet`},
		{"portwall-range", `dir=in action=allow protocol=udp localport=5000-5010 remoteip=192.168.0.1-192.168.0.12`},
		{"portwall-o-good-term-tcp", `enable=yes interfacetype=any dir=out localip=any remoteip=10.0.0.0/8 remoteport=25 protocol=tcp action=allow`},
		{"portwall-rpc", `dir=in action=allow protocol=tcp localport=RPC-EPMap edge=deferapp profile=domain,private`},
	}
	var body []string
	for _, g := range good {
		body = append(body, rule(g.name, g.params)...)
	}
	body = append(body,
		"rem percent %% doubled",
		"netsh advfirewall set allprofiles firewallpolicy blockinbound,allowoutbound",
		"if errorlevel 1 (echo portwall: setting firewallpolicy of allprofiles failed & exit /b 1)",
		"netsh advfirewall set publicprofile logging droppedconnections enable",
		"if errorlevel 1 (echo portwall: setting logging of publicprofile failed & exit /b 1)",
	)
	s, err := Parse(script(body...))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Rules) != len(good) || len(s.Settings) != 2 || s.Comments[0] != "percent % doubled" {
		t.Fatalf("got %d rules, %d settings, comments %q", len(s.Rules), len(s.Settings), s.Comments)
	}
	if got := s.Rules[1].Program; got != `c:\programfiles\messenger\msmsgs.exe` {
		t.Errorf("program %q", got)
	}
}

// TestGrants: what rules let through, and what no grant can express.
func TestGrants(t *testing.T) {
	t.Parallel()
	parse := func(params string) (*Script, error) {
		return Parse(script(rule("portwall-g", params)...))
	}
	s, err := parse(`dir=in action=allow protocol=tcp localport=22,80-90 remoteport=1000 remoteip=10.0.0.0/8,2001:db8::1 program="C:\a b\x.exe"`)
	if err != nil {
		t.Fatal(err)
	}
	gs, err := s.Grants()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`in ipv4 tcp/22,80-90 from 10.0.0.0/8 to  program C:\a b\x.exe`,
		`in ipv6 tcp/22,80-90 from 2001:db8::1/128 to  program C:\a b\x.exe`,
	}
	if len(gs) != len(want) {
		t.Fatalf("got %v", gs)
	}
	for i := range gs {
		if gs[i].String() != want[i] {
			t.Errorf("grant %d: got %q, want %q", i, gs[i], want[i])
		}
	}

	cases := map[string]struct {
		params string
		n      int    // grants
		err    string // or an error
		check  func(ir.Grant) bool
	}{
		"block allows nothing":          {params: `dir=in action=block protocol=tcp`, n: 0},
		"disabled allows nothing":       {params: `dir=in action=allow protocol=tcp enable=no`, n: 0},
		"no localport is every port":    {params: `dir=in action=allow protocol=tcp remoteip=10.0.0.1`, n: 1, check: func(g ir.Grant) bool { return g.Ports.Equal(ports.NewSet(ports.Range{First: 0, Last: 65535})) }},
		"outbound ports are remoteport": {params: `dir=out action=allow protocol=udp localport=53 remoteport=5353 remoteip=10.0.0.1`, n: 1, check: func(g ir.Grant) bool { return g.Ports.Equal(ports.NewSet(ports.Single(5353))) && g.Dst.IPs != nil }},
		"any remote is both families":   {params: `dir=in action=allow protocol=tcp localport=1`, n: 2, check: func(g ir.Grant) bool { return g.Src.Any }},
		"icmpv4 any is IPv4 only":       {params: `dir=in action=allow protocol=icmpv4 remoteip=any`, n: 1, check: func(g ir.Grant) bool { return g.Family == ir.IPv4 && g.ICMPTypes == nil }},
		"icmpv6 type": {params: `dir=in action=allow protocol=icmpv6:128,0 remoteip=any`, n: 1, check: func(g ir.Grant) bool {
			return g.Protocol == proto.ICMPv6 && len(g.ICMPTypes) == 1 && g.ICMPTypes[0] == 128
		}},
		"icmpv4 with IPv6 only matches0": {params: `dir=in action=allow protocol=icmpv4 remoteip=2001:db8::1`, n: 0},
		"protocol any":                   {params: `dir=in action=allow`, err: "every protocol"},
		"protocol 47":                    {params: `dir=in action=allow protocol=47`, err: "not one portwall"},
		"localsubnet":                    {params: `dir=in action=allow protocol=tcp localport=1 remoteip=LocalSubnet`, err: "run time"},
		"RPC":                            {params: `dir=in action=allow protocol=tcp localport=RPC`, err: "run time"},
	}
	for name, c := range cases {
		s, err := parse(c.params)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		gs, err := s.Grants()
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: got %v, want error %q", name, err, c.err)
			}
		case err != nil:
			t.Errorf("%s: %v", name, err)
		case len(gs) != c.n:
			t.Errorf("%s: %d grants %v, want %d", name, len(gs), gs, c.n)
		case c.check != nil:
			for _, g := range gs {
				if !c.check(g) {
					t.Errorf("%s: %v", name, g)
				}
			}
		}
	}
}
