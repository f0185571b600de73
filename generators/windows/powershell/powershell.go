// Package powershell renders a host's rules as a PowerShell script of
// NetSecurity cmdlets (New-NetFirewallRule), the interface Microsoft
// recommends over netsh.
//
// The script stops at the first error, removes every rule of group
// portwall (the rules an earlier run added), adds one rule per part of
// each host rule (see package winfw: provenance chunk, ICMP type, address
// list of at most 1000 entries), and optionally sets the Windows Firewall
// profiles' default policies. Every line is one of a few fixed forms that
// package psparse reads back, so tests can prove that no rule allows more
// than the IR. Nothing here has been run on Windows.
package powershell

import (
	"fmt"
	"strings"
	"sync"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/windows/winfw"
	"github.com/portwall/portwall/rules/ir"
)

// Generator is the PowerShell backend.
type Generator struct{}

func (Generator) Name() string { return "powershell" }

func (Generator) Caps() generators.Caps { return winfw.Caps(".ps1") }

func (Generator) Section() generators.Section { return winfw.Section }

// Generate renders one file per requested host.
func (g Generator) Generate(req generators.Request) ([]generators.File, error) {
	s := winfw.SettingsOf(req.Settings)
	return generators.PerHost(req, g, func(v *ir.HostView) ([]byte, error) { return Render(v, s) })
}

// Group is the rule group of every rule portwall adds.
const Group = "portwall"

// Fixed lines of the script.
const (
	// Requires makes PowerShell refuse to run the script unelevated,
	// before it changes anything.
	Requires = "#Requires -RunAsAdministrator"
	// Stop turns every error into a stop: no half-configured host that
	// reports success.
	Stop = "$ErrorActionPreference = 'Stop'"
	// RemoveLine deletes the rules of an earlier run, whichever backend
	// made them: netsh cannot set a group, so rules are found by their
	// name (DisplayName) prefix. Only the lookup is silenced (finding
	// nothing is not an error); a failing removal stops the script, since
	// adding new rules beside old ones would leave the old ones open.
	RemoveLine = "Get-NetFirewallRule -DisplayName '" + winfw.NamePrefix + "*' -ErrorAction SilentlyContinue | Remove-NetFirewallRule"
)

// script collects the lines of one host's script.
type script struct {
	fqdn    ir.FQDNMode // what to do with host names
	lines   []string
	names   winfw.Names
	omitted []generators.Omission
}

func (s *script) comment(text string) { s.lines = append(s.lines, commentLine(text)) }

// Render writes the script for one host.
func Render(v *ir.HostView, w winfw.Settings) ([]byte, error) {
	if err := winfw.CheckHost(v.Host.Name); err != nil {
		return nil, err
	}
	profiles, err := winfw.Profiles(w.Profiles)
	if err != nil {
		return nil, err
	}
	s := &script{names: winfw.Names{}, fqdn: w.Mode(v.Ruleset.Policy)}
	var rules []string
	for _, hr := range v.Enforced() {
		lines, err := s.rule(v, hr, profiles)
		if err != nil {
			return nil, err
		}
		rules = append(rules, lines...)
	}
	policy, err := policyLines(v.Ruleset.Policy, w, profiles)
	if err != nil {
		return nil, err
	}

	mode := w.ForeignRules
	if mode == "" {
		mode = winfw.ForeignReport
	}
	s.lines = append(s.lines, Requires)
	s.header(v, mode)
	s.lines = append(s.lines, ParamLine, Stop)
	s.lines = append(s.lines, lines(RestoreBlock)...)
	s.comment("Remove every rule an earlier run added (group " + Group + "), then add them anew.")
	s.lines = append(s.lines, RemoveLine)
	s.lines = append(s.lines, rules...)
	s.lines = append(s.lines, lines(AuditHead)...)
	s.lines = append(s.lines, ModeLine(mode))
	s.lines = append(s.lines, lines(AuditBody)...)
	s.lines = append(s.lines, policy...)

	return winfw.Script(s.lines), nil
}

func (s *script) header(v *ir.HostView, mode winfw.ForeignRules) {
	audit := []string{
		"Other programs' rules: after adding its own, the script lists enabled inbound allow",
		"rules outside group " + Group + " that share a protocol and port, or the program, with",
		"one of portwall's and allow a remote address it does not (foreign_rules = " + string(mode) + ").",
	}
	if mode == winfw.ForeignDisable {
		audit = append(audit, "It disables them (never deletes them) and records their names in",
			RecordFile+".")
	} else {
		audit = append(audit, `With [windows] foreign_rules = "disable" it also disables them, recording their names.`)
	}
	audit = append(audit, "powershell -NoProfile -File "+v.Host.Name+".ps1 restore enables the recorded rules",
		"again and changes nothing else.")
	for _, l := range winfw.Header(v, s.omitted, winfw.HeaderText{
		Audit:      audit,
		Installers: []string{"The audit at the end of this script finds them if they are enabled."},
		Title:      "portwall PowerShell script",
		DescPrefix: "Host description: ",
		Run: []string{
			"Run in an elevated PowerShell: powershell -NoProfile -File " + v.Host.Name + ".ps1",
			"(the execution policy must allow local scripts).",
		},
		Naming: []string{
			"Every rule is in group " + Group + " and named " + winfw.NamePrefix + "RULEID-in or -out, then -cN per part",
			"of a long provenance, -tTYPE per ICMP type and -pN per part of a long address list.",
			"Its description starts with pw:RULEID, then product/feature: flows;",
			"`portwall catalog show PRODUCT` describes each flow.",
		},
		Omitted:    "Left out (fqdn = omit): the firewall cannot match host names.",
		NamePrefix: "host name: ",
	}) {
		s.comment(l)
	}
}

// psProfile names a Windows Firewall profile in the cmdlets. Built on first use: a package-level map literal is built by
// every run's initialisation, whatever the run does.
var psProfile = sync.OnceValue(func() map[string]string {
	return map[string]string{"any": "Any", "domain": "Domain", "private": "Private", "public": "Public"}
})

// profileList is the value of -Profile: Any, or Domain,Private,...
func profileList(profiles []string) string {
	out := make([]string, len(profiles))
	for i, p := range profiles {
		out[i] = psProfile()[p]
	}
	return strings.Join(out, ",")
}

// policyLines sets the profiles' default policies when the profile asks
// for it ([windows] set_policy), after the rules, so that the host never
// blocks by default before the rules that keep it reachable exist.
func policyLines(pol ir.Policy, w winfw.Settings, profiles []string) ([]string, error) {
	if !w.SetPolicy {
		return []string{commentLine("Default policies and logging of the Windows Firewall profiles are left as they are (set_policy = false).")}, nil
	}
	var out []string
	switch pol.Input {
	case ir.InputDrop:
	case ir.InputReject:
		out = append(out, commentLine("input = reject: Windows Firewall cannot reject, it drops what no rule allows."))
	default:
		return nil, fmt.Errorf("input policy %s: want drop or reject", winfw.Quoted(string(pol.Input)))
	}
	outb := ""
	switch pol.Output {
	case ir.OutputAccept:
		outb = "Allow"
	case ir.OutputDrop:
		outb = "Block"
	default:
		return nil, fmt.Errorf("output policy %s: want accept or drop", winfw.Quoted(string(pol.Output)))
	}
	out = append(out, commentLine("Default policies from [defaults] (set_policy = true); whether the firewall is enabled is left as it is."))
	if len(profiles) == 1 && profiles[0] == "any" {
		profiles = []string{"domain", "private", "public"}
	}
	line := fmt.Sprintf("Set-NetFirewallProfile -Profile %s -DefaultInboundAction Block -DefaultOutboundAction %s", profileList(profiles), outb)
	if pol.LogDropped {
		line += " -LogBlocked True"
	} else {
		out = append(out, commentLine("log_dropped = false: the profiles' logging settings are left as they are."))
	}
	return append(out, line), nil
}
