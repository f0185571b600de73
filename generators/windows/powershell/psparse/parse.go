// Package psparse reads back the PowerShell scripts of portwall's
// powershell backend, strictly: it accepts the few line forms the backend
// writes and nothing else, checks every New-NetFirewallRule against the
// cmdlet's parameters and the firewall's constraints, and turns the rules
// into ir.Grant values so that tests can prove the script allows nothing
// the IR does not.
//
// PowerShell on Linux lacks the NetSecurity module, so nothing can run
// these scripts here; this package is the validator. It is a normal
// package so that tests of other packages can use it. What it shares with
// netshparse, the netsh backend's reader, is in package winparse.
package psparse

import (
	"fmt"
	"strings"

	"github.com/portwall/portwall/generators/windows/winparse"
)

// Fixed lines, as package powershell writes them. They are repeated here,
// not imported, so that the parser is an independent reading of the
// format.
const (
	requires   = "#Requires -RunAsAdministrator"
	stop       = "$ErrorActionPreference = 'Stop'"
	removeLine = "Get-NetFirewallRule -DisplayName 'portwall-*' -ErrorAction SilentlyContinue | Remove-NetFirewallRule"
	newPrefix  = "New-NetFirewallRule "
	newSuffix  = " | Out-Null"
	setPrefix  = "Set-NetFirewallProfile "
)

// Script is a parsed script.
type Script struct {
	Rules    []*Rule
	Profiles []*ProfileSetting
	Comments []string
	// ForeignRules is the mode of the audit of other programs' rules:
	// "report" or "disable".
	ForeignRules string
}

// ProfileSetting is a Set-NetFirewallProfile line.
type ProfileSetting struct {
	Line     int
	Profiles []string // Domain, Private, Public
	// Inbound and Outbound are the default actions; LogBlocked is "" when
	// not set.
	Inbound, Outbound, LogBlocked string
}

// Error is a problem at a line of the script: winparse's type, so that
// one errors.As serves both readers.
type Error = winparse.Error

// Parse reads a script. The first problem is returned, with its line.
func Parse(data []byte) (*Script, error) {
	lines, err := winparse.Lines(data)
	if err != nil {
		return nil, err
	}
	p := &parser{s: &Script{}}
	for i := 0; i < len(lines); {
		n, err := p.block(lines, i)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			i += n
			continue
		}
		if err := p.line(i+1, lines[i]); err != nil {
			return nil, err
		}
		p.last = lines[i]
		i++
	}
	if err := p.order.End(len(lines)); err != nil {
		return nil, err
	}
	switch {
	case !p.param:
		return nil, winparse.Errorf(len(lines), "no param line: the script takes apply or restore")
	case !p.restore:
		return nil, winparse.Errorf(len(lines), "no restore block after %q", stop)
	case p.s.ForeignRules == "":
		return nil, winparse.Errorf(len(lines), "no audit of other programs' rules after the rules")
	}
	return p.s, nil
}

type parser struct {
	s       *Script
	stopped bool
	order   winparse.Order
	// param, restore: the param line and the restore block are there;
	// last is the line before the current one.
	param, restore bool
	last           string
}

// block reads a fixed block of lines at lines[i], if one starts there,
// and returns how many lines it took (0 when none starts there).
func (p *parser) block(lines []string, i int) (int, error) {
	n := i + 1
	match := func(fixed string, at int) (int, error) {
		want := strings.Split(fixed, "\n")
		for j, w := range want {
			if at+j >= len(lines) || lines[at+j] != w {
				return 0, winparse.Errorf(at+j+1, "the fixed block that starts at line %d differs from portwall's: want %q", at+1, winparse.Short(w))
			}
		}
		return len(want), nil
	}
	switch lines[i] {
	case paramLine:
		if p.param || p.stopped {
			return 0, winparse.Errorf(n, "the param line must be the script's first statement, once")
		}
		if i+1 >= len(lines) || lines[i+1] != stop {
			return 0, winparse.Errorf(n, "the param line must come right before %q", stop)
		}
		p.param = true
		return 1, nil
	case strings.Split(restoreBlock, "\n")[0]:
		if p.restore || p.last != stop {
			return 0, winparse.Errorf(n, "the restore block must come right after %q, once", stop)
		}
		k, err := match(restoreBlock, i)
		if err != nil {
			return 0, err
		}
		p.restore = true
		return k, nil
	case strings.Split(auditHead, "\n")[0]:
		if p.s.ForeignRules != "" {
			return 0, winparse.Errorf(n, "a second audit of other programs' rules")
		}
		if err := p.order.Adding(n, "the audit"); err != nil {
			return 0, err
		}
		if !p.restore {
			return 0, winparse.Errorf(n, "the audit needs the restore block (its record file) before it")
		}
		k, err := match(auditHead, i)
		if err != nil {
			return 0, err
		}
		mode, ok := modeLines()[lineAt(lines, i+k)]
		if !ok {
			return 0, winparse.Errorf(i+k+1, "the audit's mode must be %q or %q", "$foreignRules = 'report'", "$foreignRules = 'disable'")
		}
		m, err := match(auditBody, i+k+1)
		if err != nil {
			return 0, err
		}
		p.s.ForeignRules = mode
		return k + 1 + m, nil
	}
	return 0, nil
}

func lineAt(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return ""
}

func (p *parser) line(n int, l string) error {
	if err := winparse.CheckBytes(n, l, "Windows PowerShell 5.1 reads a script without BOM in the ANSI code page, and U+2018-U+201B as single quotes"); err != nil {
		return err
	}
	switch {
	case n == 1:
		if l != requires {
			return winparse.Errorf(n, "the script must start with %q", requires)
		}
		return nil
	case l == "#" || strings.HasPrefix(l, "# "):
		t := strings.TrimPrefix(strings.TrimPrefix(l, "#"), " ")
		if strings.HasPrefix(strings.ToLower(strings.TrimLeft(t, " ")), "requires") {
			return winparse.Errorf(n, "comment that reads as a #Requires statement")
		}
		if strings.HasSuffix(t, "`") {
			return winparse.Errorf(n, "comment ending in a backtick")
		}
		p.s.Comments = append(p.s.Comments, t)
		return nil
	case l == stop:
		if p.stopped {
			return winparse.Errorf(n, "second %q", stop)
		}
		p.stopped = true
		return nil
	case !p.stopped:
		return winparse.Errorf(n, "%q must come before any command", stop)
	case l == removeLine:
		return p.order.Remove(n)
	case strings.HasPrefix(l, newPrefix):
		if err := p.order.Adding(n, "New-NetFirewallRule"); err != nil {
			return err
		}
		if p.s.ForeignRules != "" {
			return winparse.Errorf(n, "New-NetFirewallRule after the audit, which compares other programs' rules with portwall's only as they stand then")
		}
		if !strings.HasSuffix(l, newSuffix) {
			return winparse.Errorf(n, "New-NetFirewallRule must end with %q", newSuffix)
		}
		args, err := arguments(strings.TrimSuffix(strings.TrimPrefix(l, newPrefix), newSuffix))
		if err != nil {
			return winparse.Errorf(n, "%v", err)
		}
		r, err := parseRule(args)
		if err != nil {
			return winparse.Errorf(n, "%v", err)
		}
		r.Line = n
		if err := p.order.Name(n, r.Name); err != nil {
			return err
		}
		p.s.Rules = append(p.s.Rules, r)
		return nil
	case strings.HasPrefix(l, setPrefix):
		args, err := arguments(strings.TrimPrefix(l, setPrefix))
		if err != nil {
			return winparse.Errorf(n, "%v", err)
		}
		st, err := parseProfileSetting(args)
		if err != nil {
			return winparse.Errorf(n, "%v", err)
		}
		st.Line = n
		p.s.Profiles = append(p.s.Profiles, st)
		return nil
	}
	return winparse.Errorf(n, "unknown line %q", winparse.Short(l))
}

// value is a parameter's value: a list of single-quoted strings (decoded)
// or a bare word split at commas.
type value struct {
	quoted bool
	items  []string
}

// bareChars are what a bare argument of portwall's cmdlet lines may
// hold: keywords, numbers, port ranges and ICMP type:code. Anything else
// outside quotes ($ ( ) ; ` @ & | # " { } and more) could be an
// expression, a variable, a second statement or a redirection.
func bareChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ',' || c == '-' || c == ':'
}

// arguments reads "-Name value -Name value ...": parameter names, one
// space, a value, one space. Parameter names are returned lower case.
func arguments(s string) (map[string]value, error) {
	out := map[string]value{}
	for i := 0; i < len(s); {
		if s[i] != '-' {
			return nil, fmt.Errorf("want a parameter at column %d, found %q", i+1, winparse.Short(s[i:]))
		}
		j := i + 1
		for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z') {
			j++
		}
		name := strings.ToLower(s[i+1 : j])
		if name == "" {
			return nil, fmt.Errorf("empty parameter name at column %d", i+1)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("parameter -%s given twice", name)
		}
		if j >= len(s) || s[j] != ' ' {
			return nil, fmt.Errorf("-%s: want one space and a value", name)
		}
		v, next, err := readValue(s, j+1)
		if err != nil {
			return nil, fmt.Errorf("-%s: %v", name, err)
		}
		out[name] = v
		if next < len(s) {
			if s[next] != ' ' || next+1 >= len(s) {
				return nil, fmt.Errorf("-%s: want one space after the value, found %q", name, winparse.Short(s[next:]))
			}
			next++
		}
		i = next
	}
	return out, nil
}

// readValue reads a value at s[i:] and returns where it ends.
func readValue(s string, i int) (value, int, error) {
	if i >= len(s) {
		return value{}, i, fmt.Errorf("missing value")
	}
	if s[i] == '-' {
		return value{}, i, fmt.Errorf("value starting with '-' at column %d reads as a parameter", i+1)
	}
	if s[i] != '\'' {
		j := i
		for j < len(s) && s[j] != ' ' {
			if !bareChar(s[j]) {
				return value{}, j, fmt.Errorf("%q outside quotes at column %d", s[j], j+1)
			}
			j++
		}
		word := s[i:j]
		items := strings.Split(word, ",")
		for _, it := range items {
			if it == "" {
				return value{}, j, fmt.Errorf("empty item in %q", word)
			}
		}
		return value{items: items}, j, nil
	}
	v := value{quoted: true}
	for {
		// A single-quoted string: nothing is expanded, '' is a quote.
		var b strings.Builder
		j := i + 1
		for {
			if j >= len(s) {
				return value{}, j, fmt.Errorf("unterminated string")
			}
			if s[j] == '\'' {
				if j+1 < len(s) && s[j+1] == '\'' {
					b.WriteByte('\'')
					j += 2
					continue
				}
				break
			}
			b.WriteByte(s[j])
			j++
		}
		v.items = append(v.items, b.String())
		j++ // the closing quote
		if j < len(s) && s[j] == ',' {
			if j+1 >= len(s) || s[j+1] != '\'' {
				return value{}, j, fmt.Errorf("want a quoted string after ',' at column %d", j+1)
			}
			i = j + 1
			continue
		}
		if j < len(s) && s[j] != ' ' {
			return value{}, j, fmt.Errorf("%q right after a string at column %d", s[j], j+1)
		}
		return v, j, nil
	}
}
