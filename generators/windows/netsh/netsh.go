// Package netsh renders a host's rules as a Windows batch script of
// `netsh advfirewall firewall add rule` commands.
//
// The script removes every rule portwall added before (by name prefix),
// adds one allow rule per host rule, IP-family-merged address list and
// ICMP type, checks each add, and optionally sets the Windows Firewall
// profiles' default policies. Every line is one of a few fixed forms that
// package netshparse reads back, so tests can prove that no rule allows
// more than the IR. The reference is
// /work/shared/reference/netsh-advfirewall.md (unverified on Windows).
package netsh

import (
	"fmt"
	"strings"
	"sync"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/windows/winfw"
	"github.com/portwall/portwall/rules/ir"
)

// Generator is the netsh backend.
type Generator struct{}

func (Generator) Name() string { return "netsh" }

func (Generator) Caps() generators.Caps { return winfw.Caps(".cmd") }

func (Generator) Section() generators.Section { return winfw.Section }

// Generate renders one file per requested host.
func (g Generator) Generate(req generators.Request) ([]generators.File, error) {
	s := winfw.SettingsOf(req.Settings)
	return generators.PerHost(req, g, func(v *ir.HostView) ([]byte, error) { return Render(v, s) })
}

// RemoveLine deletes every rule whose name starts with NamePrefix. netsh
// cannot: `delete rule` takes one exact name (or name=all, which deletes
// rules portwall never made). The NetSecurity module's DisplayName is the
// netsh rule name, and it takes wildcards.
const RemoveLine = `powershell -NoProfile -NonInteractive -Command "Get-NetFirewallRule -DisplayName '` + NamePrefix + `*' -ErrorAction SilentlyContinue | Remove-NetFirewallRule"`

// Fixed lines of the script.
const (
	EchoOff = "@echo off"
	// Setlocal keeps command extensions on (exit /b needs them) and
	// delayed expansion off, whatever the registry says, so that '!' in
	// free text stays literal.
	Setlocal = "setlocal EnableExtensions DisableDelayedExpansion"
	Exit     = "exit /b 0"
)

// RemoveCheckLine follows RemoveLine: if earlier rules cannot be removed,
// adding the new ones would leave the old ones open beside them, so the
// script stops. With nothing to remove, Get-NetFirewallRule (silenced)
// passes nothing on and the command succeeds.
const RemoveCheckLine = "if errorlevel 1 (echo portwall: removing earlier portwall rules failed & exit /b 1)"

// CheckLine is the line after each add rule: stop at the first failure
// rather than leave a half-configured host that reports success.
func CheckLine(name string) string {
	return "if errorlevel 1 (echo portwall: adding " + name + " failed & exit /b 1)"
}

// SetCheckLine follows each line that changes a profile setting.
func SetCheckLine(profile, setting string) string {
	return "if errorlevel 1 (echo portwall: setting " + setting + " of " + profile + " failed & exit /b 1)"
}

// script collects the lines of one host's script.
type script struct {
	fqdn    ir.FQDNMode // what to do with host names
	lines   []string
	names   winfw.Names
	omitted []generators.Omission
}

func (s *script) rem(text string) { s.lines = append(s.lines, remLine(text)) }

// Render writes the script for one host.
func Render(v *ir.HostView, w winfw.Settings) ([]byte, error) {
	if err := winfw.CheckHost(v.Host.Name); err != nil {
		return nil, err
	}
	profiles, err := winfw.Profiles(w.Profiles)
	if err != nil {
		return nil, err
	}
	profile := strings.Join(profiles, ",")
	s := &script{names: winfw.Names{}, fqdn: w.Mode(v.Ruleset.Policy)}
	var rules []string
	for _, hr := range v.Enforced() {
		lines, err := s.rule(v, hr, profile)
		if err != nil {
			return nil, err
		}
		rules = append(rules, lines...)
	}
	policy, err := policyLines(v.Ruleset.Policy, w, profiles)
	if err != nil {
		return nil, err
	}

	s.lines = append(s.lines, EchoOff, Setlocal)
	s.header(v)
	s.rem("netsh has no wildcard delete: remove every rule an earlier run added (its")
	s.rem("name, which PowerShell calls DisplayName, starts with " + NamePrefix + "), then add them anew.")
	s.lines = append(s.lines, RemoveLine, RemoveCheckLine)
	s.lines = append(s.lines, rules...)
	s.lines = append(s.lines, policy...)
	s.lines = append(s.lines, Exit)

	return winfw.Script(s.lines), nil
}

func (s *script) header(v *ir.HostView) {
	for _, l := range winfw.Header(v, s.omitted, winfw.HeaderText{
		Title: "portwall netsh script",
		Run:   []string{"Run as administrator: cmd /c " + v.Host.Name + ".cmd"},
		Naming: []string{
			"Each rule is named " + NamePrefix + "RULEID-in or -out, then -cN per part of a long provenance,",
			"-tTYPE per ICMP type and -pN per part of a long address list. Its description starts",
			"with pw:RULEID, then product/feature: flows; `portwall catalog show PRODUCT` describes",
			"each flow.",
		},
		Omitted: "Left out (fqdn = omit): netsh cannot match host names.",
		Installers: []string{
			"netsh cannot find rules by port or program: run this host's PowerShell script",
			"(portwall generate --target powershell), whose audit lists such rules, or disables",
			"them with [windows] foreign_rules = disable (restore enables them again).",
		},
	}) {
		s.rem(l)
	}
}

// netshProfile names a Windows Firewall profile in `netsh advfirewall set`.
// Built on first use: a package-level map literal is built by
// every run's initialisation, whatever the run does.
var netshProfile = sync.OnceValue(func() map[string]string {
	return map[string]string{"any": "allprofiles", "domain": "domainprofile", "private": "privateprofile", "public": "publicprofile"}
})

// policyLines sets the profiles' default policies when the profile asks
// for it ([windows] set_policy). They come after the rules, so that the
// host never blocks by default before the rules that keep it reachable
// exist.
func policyLines(pol ir.Policy, w winfw.Settings, profiles []string) ([]string, error) {
	if !w.SetPolicy {
		return []string{remLine("Default policies and logging of the Windows Firewall profiles are left as they are (set_policy = false).")}, nil
	}
	var out, lines []string
	var in, outb string
	switch pol.Input {
	case ir.InputDrop:
		in = "blockinbound"
	case ir.InputReject:
		in = "blockinbound"
		out = append(out, remLine("input = reject: Windows Firewall cannot reject, it drops what no rule allows."))
	default:
		return nil, fmt.Errorf("input policy %s: want drop or reject", winfw.Quoted(string(pol.Input)))
	}
	switch pol.Output {
	case ir.OutputAccept:
		outb = "allowoutbound"
	case ir.OutputDrop:
		outb = "blockoutbound"
	default:
		return nil, fmt.Errorf("output policy %s: want accept or drop", winfw.Quoted(string(pol.Output)))
	}
	out = append(out, remLine("Default policies from [defaults] (set_policy = true); the firewall's on/off state is left as it is."))
	for _, p := range profiles {
		p = netshProfile()[p]
		lines = append(lines, fmt.Sprintf("netsh advfirewall set %s firewallpolicy %s,%s", p, in, outb), SetCheckLine(p, "firewallpolicy"))
		if pol.LogDropped {
			lines = append(lines, fmt.Sprintf("netsh advfirewall set %s logging droppedconnections enable", p), SetCheckLine(p, "logging"))
		}
	}
	if !pol.LogDropped {
		out = append(out, remLine("log_dropped = false: the profiles' logging settings are left as they are."))
	}
	return append(out, lines...), nil
}
