// Package psparse reads back the PowerShell scripts of portwall's
// powershell backend, strictly: it accepts the few line forms the backend
// writes and nothing else, checks every New-NetFirewallRule against the
// cmdlet's parameters and the firewall's constraints, and turns the rules
// into ir.Grant values so that tests can prove the script allows nothing
// the IR does not.
//
// PowerShell on Linux lacks the NetSecurity module, so nothing can run
// these scripts here; this package is the validator. It is a normal
// package so that tests of other packages can use it.
package psparse

import (
	"fmt"
	"strings"
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
}

// ProfileSetting is a Set-NetFirewallProfile line.
type ProfileSetting struct {
	Line     int
	Profiles []string // Domain, Private, Public
	// Inbound and Outbound are the default actions; LogBlocked is "" when
	// not set.
	Inbound, Outbound, LogBlocked string
}

// Error is a problem at a line of the script.
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

func errorf(line int, format string, args ...any) error {
	return &Error{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// Parse reads a script. The first problem is returned, with its line.
func Parse(data []byte) (*Script, error) {
	if len(data) == 0 {
		return nil, errorf(1, "empty script")
	}
	if !strings.HasSuffix(string(data), "\r\n") {
		return nil, errorf(strings.Count(string(data), "\n")+1, "the last line does not end in CRLF")
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\r\n"), "\r\n")
	p := &parser{s: &Script{}, names: map[string]int{}}
	for i, l := range lines {
		if err := p.line(i+1, l); err != nil {
			return nil, err
		}
	}
	if !p.removed {
		return nil, errorf(len(lines), "no removal line: rules from an earlier run would stay")
	}
	return p.s, nil
}

type parser struct {
	s                *Script
	stopped, removed bool
	names            map[string]int // lower-case rule name -> line
}

func (p *parser) line(n int, l string) error {
	for i := 0; i < len(l); i++ {
		switch c := l[i]; {
		case c == '\r' || c == '\n':
			return errorf(n, "line break other than CRLF")
		case c < 0x20 || c == 0x7f:
			return errorf(n, "control character %q", c)
		case c > 0x7e:
			// Windows PowerShell 5.1 reads a script without BOM in the ANSI
			// code page, and reads U+2018-U+201B as single quotes.
			return errorf(n, "byte 0x%02x outside ASCII", c)
		}
	}
	switch {
	case n == 1:
		if l != requires {
			return errorf(n, "the script must start with %q", requires)
		}
		return nil
	case l == "#" || strings.HasPrefix(l, "# "):
		t := strings.TrimPrefix(strings.TrimPrefix(l, "#"), " ")
		if strings.HasPrefix(strings.ToLower(strings.TrimLeft(t, " ")), "requires") {
			return errorf(n, "comment that reads as a #Requires statement")
		}
		if strings.HasSuffix(t, "`") {
			return errorf(n, "comment ending in a backtick")
		}
		p.s.Comments = append(p.s.Comments, t)
		return nil
	case l == stop:
		if p.stopped {
			return errorf(n, "second %q", stop)
		}
		p.stopped = true
		return nil
	case !p.stopped:
		return errorf(n, "%q must come before any command", stop)
	case l == removeLine:
		if p.removed {
			return errorf(n, "second removal line")
		}
		if len(p.s.Rules) > 0 {
			return errorf(n, "the removal line must come before the first rule")
		}
		p.removed = true
		return nil
	case strings.HasPrefix(l, newPrefix):
		if !p.removed {
			return errorf(n, "New-NetFirewallRule before the removal line: rules from an earlier run would stay")
		}
		if !strings.HasSuffix(l, newSuffix) {
			return errorf(n, "New-NetFirewallRule must end with %q", newSuffix)
		}
		args, err := arguments(strings.TrimSuffix(strings.TrimPrefix(l, newPrefix), newSuffix))
		if err != nil {
			return errorf(n, "%v", err)
		}
		r, err := parseRule(args)
		if err != nil {
			return errorf(n, "%v", err)
		}
		r.Line = n
		key := strings.ToLower(r.Name)
		if prev, ok := p.names[key]; ok {
			return errorf(n, "rule name %s is already used at line %d", r.Name, prev)
		}
		p.names[key] = n
		p.s.Rules = append(p.s.Rules, r)
		return nil
	case strings.HasPrefix(l, setPrefix):
		args, err := arguments(strings.TrimPrefix(l, setPrefix))
		if err != nil {
			return errorf(n, "%v", err)
		}
		st, err := parseProfileSetting(args)
		if err != nil {
			return errorf(n, "%v", err)
		}
		st.Line = n
		p.s.Profiles = append(p.s.Profiles, st)
		return nil
	}
	return errorf(n, "unknown line %q", short(l))
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
			return nil, fmt.Errorf("want a parameter at column %d, found %q", i+1, short(s[i:]))
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
				return nil, fmt.Errorf("-%s: want one space after the value, found %q", name, short(s[next:]))
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

func short(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}
