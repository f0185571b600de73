package psparse

import (
	"strings"
	"testing"

	"github.com/portwall/portwall/internal/testkit/wintest"
	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/ports"
)

// head is what every script starts with: #Requires, a comment, the param
// line, $ErrorActionPreference, the restore block, the removal line.
func head() []string {
	out := []string{requires, "# head", paramLine, stop}
	out = append(out, strings.Split(restoreBlock, "\n")...)
	return append(out, removeLine)
}

// audit is the audit block in mode m.
func audit(m string) []string {
	out := strings.Split(auditHead, "\n")
	out = append(out, "$foreignRules = '"+m+"'")
	return append(out, strings.Split(auditBody, "\n")...)
}

// bodyLine is the line number of the first body line.
var bodyLine = len(head()) + 1

// script wraps body lines (CRLF added) in the fixed head, and ends with
// the audit in report mode.
func script(body ...string) []byte {
	lines := append(append(head(), body...), audit("report")...)
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}

const rule = `New-NetFirewallRule -Group 'portwall' -Name 'portwall-x' -DisplayName 'portwall-x' -Direction Inbound -Action Allow `
const good = rule + `-Protocol TCP -LocalPort 22 -RemoteAddress '10.0.0.0/8' -Profile Any -Description 'pw:r1 x' | Out-Null`

// TestRejectsLines: each line breaks a rule of the cmdlets, the firewall
// or PowerShell's parsing; the parser must refuse it at its line (the
// first of the body), for the reason given.
func TestRejectsLines(t *testing.T) {
	t.Parallel()
	end := " | Out-Null"
	bad := []wintest.BadLine{
		{rule + `-Protocol ICMPv4 -LocalPort 80` + end, "ports need TCP or UDP", "only for TCP and UDP"},
		{rule + `-LocalPort 80` + end, "ports with the default protocol (Any)", "only for TCP and UDP"},
		{rule + `-Protocol TCP -IcmpType 8` + end, "ICMP type without ICMP", "-IcmpType without"},
		{rule + `-Protocol TCP -Description 'it's'` + end, "an undoubled quote ends the string", "right after a string"},
		{rule + `-Protocol TCP -Description 'open` + end, "unterminated string", "unterminated"},
		{rule + `-Protocol TCP -Description "pw:$(calc)"` + end, "double quotes expand $(...)", "outside quotes"},
		{rule + `-Protocol TCP -LocalPort $port` + end, "a variable", "outside quotes"},
		{rule + `-Protocol TCP ; Remove-NetFirewallRule -All` + end, "a second statement", "want a parameter"},
		{rule + "-Protocol TCP `" + end, "a backtick escape", "want a parameter"},
		{rule + `-Protocol TCP` + " | Out-Null > x", "a redirection after Out-Null", "Out-Null"},
		{rule + `-Protocol TCP`, "output not discarded", "Out-Null"},
		{rule + `-Protocol TCP -LocalPort 70000` + end, "port above 65535", "want ports"},
		{rule + `-Protocol TCP -LocalPort 90-80` + end, "reversed port range", "reversed"},
		{rule + `-Protocol TCP -RemoteAddress 10.0.0.1` + end, "a bare address", "outside quotes"},
		{rule + `-Protocol TCP -RemoteAddress '10.0.0.1/8'` + end, "subnet with host bits", "host bits"},
		{rule + `-Protocol TCP -RemoteAddress '::ffff:10.0.0.1'` + end, "IPv4-mapped IPv6", "IPv4-mapped"},
		{rule + `-Protocol TCP -RemoteAddress '10.0.0.0/255.0.0.0'` + end, "dotted mask", "invalid subnet"},
		{rule + `-Protocol TCP -Profile Current` + end, "no profile Current", "-Profile"},
		{rule + `-Protocol TCP -Profile Any,Public` + end, "Any with other profiles", "Any with other"},
		{rule + `-Protocol TCP -Description 'a|b'` + end, "'|' in a description", "'|'"},
		{rule + `-Protocol TCP -Description '` + strings.Repeat("x", 1025) + `'` + end, "description over 1024", "1024"},
		{rule + `-Protocol TCP -Dir Outbound` + end, "abbreviated parameter names are not portwall's", "unknown parameter"},
		{rule + `-Protocol TCP -Direction Outbound` + end, "parameter given twice", "twice"},
		{rule + `-Protocol TCP  -LocalPort 22` + end, "two spaces", "want a parameter"},
		{rule + `-Protocol GRE` + end, "protocol name", "-Protocol GRE"},
		{rule + `-Protocol ICMPv4 -IcmpType 256` + end, "ICMP type above 255", "0-255"},
		{rule + `-Protocol TCP -Program 'C:\x\*.exe'` + end, "wildcard in a program path", "-Program"},
		{strings.Replace(good, "-Group 'portwall'", "-Group 'other'", 1), "another group: the removal line would miss it", "group portwall"},
		{strings.Replace(good, "-DisplayName 'portwall-x'", "-DisplayName 'portwall-y'", 1), "DisplayName differs from Name", "differs"},
		{strings.ReplaceAll(good, "portwall-x", "web"), "name without portwall-", "portwall-"},
		{strings.Replace(good, "-Action Allow ", "", 1), "-Action is required (its default is Allow)", "-action is required"},
		{strings.Replace(good, "-Action Allow", "-Action Bypass", 1), "no action Bypass", "-Action"},
		{rule + `-Protocol TCP -Enabled 1` + end, "Enabled is True or False", "-Enabled"},
		{"Set-NetFirewallProfile -Profile Domain -DefaultInboundAction Allow -DefaultOutboundAction Allow", "inbound Allow opens every port", "DefaultInboundAction"},
		{"Set-NetFirewallProfile -Profile Any -DefaultInboundAction Block -DefaultOutboundAction Allow", "Any is no profile name for Set-NetFirewallProfile", "-Profile"},
		{"Set-NetFirewallProfile -Profile Domain -Enabled False", "turning the firewall off", "portwall sets only"},
		{"Set-NetFirewallProfile -All -DefaultInboundAction Block -DefaultOutboundAction Allow", "-All is not portwall's", "reads as a parameter"},
		{"Remove-NetFirewallRule -All", "removing every rule", "unknown line"},
		{removeLine, "a second removal line", "second removal"},
		{stop, "a second $ErrorActionPreference", "second"},
		{paramLine, "a second param line", "first statement"},
		{"param([string] $Mode = 'apply')", "another param line", "unknown line"},
		{strings.Split(restoreBlock, "\n")[0], "a second restore block", "right after"},
		{"$foreignRules = 'report'", "a mode line outside the audit", "unknown line"},
		{"Disable-NetFirewallRule -All", "disabling every rule", "unknown line"},
		{"Get-NetFirewallRule -Direction Inbound | Disable-NetFirewallRule", "disabling outside the audit", "unknown line"},
		{"Get-NetFirewallRule -Direction Inbound | Remove-NetFirewallRule", "deleting other programs' rules", "unknown line"},
		{"#Requires -Version 99", "a #Requires statement", "unknown line"},
		{"# requires -Version 99", "a comment that may read as #Requires", "#Requires"},
		{"# continued `", "a trailing backtick", "backtick"},
		{"#no space", "a comment without a space", "unknown line"},
		{"", "a blank line", "unknown line"},
		{"Write-Host hi", "unknown command", "unknown line"},
		{"# caf\xc3\xa9", "non-ASCII: the ANSI code page, typographic quotes", "outside ASCII"},
		{"# tab\there", "control character", "control character"},
	}
	if _, err := Parse(script(good)); err != nil {
		t.Fatalf("valid script refused: %v", err)
	}
	wintest.RejectsLines(t, bodyLine, func(line string) error {
		_, err := Parse(script(line))
		return err
	}, bad)
}

func TestRejectsScripts(t *testing.T) {
	t.Parallel()
	ok := string(script(good))
	bad := map[string]string{
		"LF line endings":               strings.ReplaceAll(ok, "\r\n", "\n"),
		"no CRLF after the last line":   strings.TrimSuffix(ok, "\r\n"),
		"no #Requires":                  strings.Replace(ok, requires+"\r\n", "", 1),
		"no $ErrorActionPreference":     strings.Replace(ok, stop+"\r\n", "", 1),
		"no removal line":               strings.Replace(ok, removeLine+"\r\n", "", 1),
		"rule before the removal":       strings.Replace(ok, removeLine+"\r\n"+good, good+"\r\n"+removeLine, 1),
		"duplicate rule name":           string(script(good, strings.ReplaceAll(good, "portwall-x", "portwall-X"))),
		"empty script":                  "",
		"stop after the first command":  strings.Replace(strings.Replace(ok, stop+"\r\n", "", 1), good, good+"\r\n"+stop, 1),
		"bare CR inside a line":         strings.Replace(ok, "-Action", "-Action\r", 1),
		"typographic quote in a string": strings.Replace(ok, "'pw:r1 x'", "'pw:r1 \xe2\x80\x99 x'", 1),
	}
	wintest.RejectsScripts(t, func(data []byte) error { _, err := Parse(data); return err }, bad)
}

// TestAcceptsDocumented: lines in the style of Microsoft's
// New-NetFirewallRule examples, renamed with portwall's prefix and group,
// parse; so the parser does not refuse everything.
func TestAcceptsDocumented(t *testing.T) {
	t.Parallel()
	head := func(name, dir string) string {
		return `New-NetFirewallRule -Group 'portwall' -Name '` + name + `' -DisplayName '` + name + `' -Direction ` + dir + ` `
	}
	lines := []string{
		head("portwall-block-outbound-telnet", "Outbound") + `-Action Block -Protocol TCP -RemotePort 23 -Program '%SystemRoot%\System32\tlntsvr.exe' | Out-Null`,
		head("portwall-allow-inbound-telnet", "Inbound") + `-Action Allow -Protocol TCP -LocalPort 23 -RemoteAddress LocalSubnet -Program '%SystemRoot%\System32\tlntsvr.exe' | Out-Null`,
		head("portwall-icmp", "Inbound") + `-Action Allow -Protocol ICMPv4 -IcmpType 8:0,0 -RemoteAddress Any -Profile Domain,Private | Out-Null`,
		head("portwall-quotes", "Inbound") + `-Action Allow -Protocol UDP -LocalPort 500,4500,5000-5010 -RemoteAddress '10.0.0.1','10.1.0.0/16','10.2.0.1-10.2.0.9','2001:db8::/32' -Description 'it''s $(not) ` + "`" + `expanded' -Enabled False | Out-Null`,
		"# a comment, with 'quotes' and $dollars",
		"Set-NetFirewallProfile -Profile Domain,Public,Private -DefaultInboundAction Block -DefaultOutboundAction Allow -LogBlocked True",
	}
	s, err := Parse(script(lines...))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Rules) != 4 || len(s.Profiles) != 1 {
		t.Fatalf("got %d rules, %d profile settings", len(s.Rules), len(s.Profiles))
	}
	if got := s.Rules[3].Description; got != "it's $(not) `expanded" {
		t.Errorf("description %q", got)
	}
	if got := s.Rules[3].Params["remoteaddress"]; len(got) != 4 {
		t.Errorf("remote addresses %q", got)
	}
}

func TestGrants(t *testing.T) {
	t.Parallel()
	// rest follows -Action; "-Action Block" in rest replaces Allow.
	parse := func(rest string) (*Script, error) {
		head := rule
		if strings.HasPrefix(rest, "-Action ") {
			head = strings.Replace(rule, "-Action Allow ", "", 1)
		}
		return Parse(script(head + rest + " | Out-Null"))
	}
	cases := map[string]struct {
		rest  string
		want  []string // grants as strings
		err   string
		extra func(ir.Grant) bool
	}{
		"both families": {rest: `-Protocol TCP -LocalPort 22,80-90 -RemotePort 1000 -RemoteAddress '10.0.0.0/8','2001:db8::1' -Program 'C:\a b\x.exe'`,
			want: []string{`in ipv4 tcp/22,80-90 from 10.0.0.0/8 to  program C:\a b\x.exe`, `in ipv6 tcp/22,80-90 from 2001:db8::1/128 to  program C:\a b\x.exe`}},
		"block":           {rest: `-Action Block -Protocol TCP`, want: nil},
		"no port":         {rest: `-Protocol UDP -RemoteAddress '10.0.0.1'`, extra: func(g ir.Grant) bool { return g.Ports.Equal(ports.NewSet(ports.Range{First: 0, Last: 65535})) }},
		"icmpv4 any":      {rest: `-Protocol ICMPv4`, want: []string{"in ipv4 icmp from any to"}},
		"icmpv6 types":    {rest: `-Protocol ICMPv6 -IcmpType 128,1:4`, want: []string{"in ipv6 icmpv6 types [128 1] from any to"}},
		"icmpv4 with v6":  {rest: `-Protocol ICMPv4 -RemoteAddress '2001:db8::1'`, want: nil},
		"protocol any":    {rest: `-RemoteAddress Any`, err: "every protocol"},
		"keyword address": {rest: `-Protocol TCP -LocalPort 1 -RemoteAddress LocalSubnet`, err: "run time"},
		"keyword port":    {rest: `-Protocol TCP -LocalPort RPC`, err: "run time"},
	}
	for name, c := range cases {
		s, err := parse(c.rest)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		gs, err := s.Grants()
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: got %v, want error %q", name, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if c.extra != nil {
			for _, g := range gs {
				if !c.extra(g) {
					t.Errorf("%s: %v", name, g)
				}
			}
			continue
		}
		var got []string
		for _, g := range gs {
			got = append(got, g.String())
		}
		if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%s: got %q, want %q", name, got, c.want)
		}
	}
}

// TestAudit: the audit of other programs' rules reads in both modes, and
// a hand-made list of variants of it, and of the param line and the
// restore block it needs, is refused: anything else could disable or
// delete other rules, or enable rules no run recorded.
func TestAudit(t *testing.T) {
	t.Parallel()
	for _, m := range []string{"report", "disable"} {
		lines := append(append(head(), good), audit(m)...)
		lines = append(lines, "Set-NetFirewallProfile -Profile Domain -DefaultInboundAction Block -DefaultOutboundAction Allow")
		s, err := Parse([]byte(strings.Join(lines, "\r\n") + "\r\n"))
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		if s.ForeignRules != m || len(s.Rules) != 1 || len(s.Profiles) != 1 {
			t.Errorf("%s: mode %q, %d rules, %d profile settings", m, s.ForeignRules, len(s.Rules), len(s.Profiles))
		}
	}
	ok := string(script(good))
	replace := func(old, new string) string {
		if !strings.Contains(ok, old) {
			t.Fatalf("the edit does not apply: %q", old)
		}
		return strings.Replace(ok, old, new, 1)
	}
	auditText := strings.Join(audit("report"), "\r\n") + "\r\n"
	restoreText := strings.Join(strings.Split(restoreBlock, "\n"), "\r\n") + "\r\n"
	bad := map[string]string{
		"mode delete":                      replace("$foreignRules = 'report'", "$foreignRules = 'delete'"),
		"mode in double quotes":            replace("$foreignRules = 'report'", `$foreignRules = "report"`),
		"mode from a variable":             replace("$foreignRules = 'report'", "$foreignRules = $env:MODE"),
		"no mode line":                     replace("$foreignRules = 'report'\r\n", ""),
		"Remove instead of Disable":        replace("$portwallWider | Disable-NetFirewallRule", "$portwallWider | Remove-NetFirewallRule"),
		"disable before recording":         replace("    Set-Content -LiteralPath $portwallRecord", "    $portwallWider | Disable-NetFirewallRule\r\n    Set-Content -LiteralPath $portwallRecord"),
		"portwall's own rules compared":    replace("if ($rule.Group -eq 'portwall' -or $rule.DisplayName -like 'portwall-*') { continue }", "if ($false) { continue }"),
		"outbound rules too":               replace("@(Get-NetFirewallRule -Direction Inbound -Action Allow -Enabled True -ErrorAction SilentlyContinue)) {", "@(Get-NetFirewallRule -Action Allow -ErrorAction SilentlyContinue)) {"),
		"a command inside the audit":       replace("foreach ($rule in $portwallWider) {", "Remove-NetFirewallRule -All\r\nforeach ($rule in $portwallWider) {"),
		"a line of the audit missing":      replace("    if ($null -eq $x) { continue }\r\n", ""),
		"re-indented with a tab":           replace("    $other = Get-PortwallFilters $rule", "\t$other = Get-PortwallFilters $rule"),
		"the audit cut short":              strings.TrimSuffix(ok, "}\r\n"),
		"two audits":                       ok + auditText,
		"no audit":                         strings.Replace(ok, auditText, "", 1),
		"audit before the removal line":    strings.Replace(strings.Replace(ok, auditText, "", 1), removeLine+"\r\n", auditText+removeLine+"\r\n", 1),
		"a rule after the audit":           ok + good + "\r\n",
		"no restore block":                 strings.Replace(ok, restoreText, "", 1),
		"restore block after removal":      strings.Replace(strings.Replace(ok, restoreText, "", 1), removeLine+"\r\n", removeLine+"\r\n"+restoreText, 1),
		"restore enables every rule":       replace("            Enable-NetFirewallRule -Name $name", "            Enable-NetFirewallRule -All"),
		"restore goes on to add rules":     replace("    exit 0\r\n", ""),
		"restore reads another file":       replace("$portwallRecord = Join-Path $env:ProgramData 'portwall\\disabled-foreign-rules.txt'", "$portwallRecord = $args[0]"),
		"no param line":                    replace(paramLine+"\r\n", ""),
		"param line after stop":            replace(paramLine+"\r\n"+stop, stop+"\r\n"+paramLine),
		"param line with another value":    replace("'apply', 'restore'", "'apply', 'restore', 'wipe'"),
		"param line not right before stop": replace(paramLine+"\r\n", paramLine+"\r\n# comment\r\n"),
	}
	wintest.RejectsScripts(t, func(data []byte) error { _, err := Parse(data); return err }, bad)
}
