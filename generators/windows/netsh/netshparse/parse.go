// Package netshparse reads back the batch scripts of portwall's netsh
// backend, strictly: it accepts the few line forms the backend writes and
// nothing else, checks every `add rule` against netsh's grammar and
// constraints (/work/shared/reference/netsh-advfirewall.md, sections 1-4),
// and turns the rules into ir.Grant values so that tests can prove the
// script allows nothing the IR does not.
//
// No netsh parser or linter exists outside Windows, and Wine's netsh
// accepts anything; this package is the validator the reference asks for.
// It is a normal package so that tests of other packages can use it. What
// it shares with psparse, the PowerShell backend's reader, is in package
// winparse.
package netshparse

import (
	"fmt"
	"strings"

	"github.com/portwall/portwall/generators/windows/winparse"
)

// Fixed lines, as package netsh writes them. They are repeated here, not
// imported, so that the parser is an independent reading of the format.
const (
	echoOff    = "@echo off"
	setlocal   = "setlocal EnableExtensions DisableDelayedExpansion"
	exitLine   = "exit /b 0"
	removeLine = `powershell -NoProfile -NonInteractive -Command "Get-NetFirewallRule -DisplayName 'portwall-*' -ErrorAction SilentlyContinue | Remove-NetFirewallRule"`
	// MaxLine is cmd.exe's limit on a command line.
	MaxLine = 8191
)

// Script is a parsed script.
type Script struct {
	Rules    []*Rule
	Settings []*Setting
	// Comments are the rem lines' texts as cmd sees them ("%%" read as
	// "%").
	Comments []string
}

// Setting is a `netsh advfirewall set` line.
type Setting struct {
	Line    int
	Profile string // allprofiles, domainprofile, privateprofile, publicprofile, currentprofile
	Key     string // firewallpolicy or logging
	Value   string // "<in>,<out>", or "droppedconnections enable|disable"
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
	for i, l := range lines {
		if err := p.line(i+1, l, i == len(lines)-1); err != nil {
			return nil, err
		}
	}
	n := len(lines)
	switch {
	case p.pending != "":
		return nil, winparse.Errorf(n, "%s is not followed by its errorlevel check", p.pendWhat)
	case n < 3 || lines[n-1] != exitLine:
		return nil, winparse.Errorf(n, "the script must end with %q", exitLine)
	}
	if err := p.order.End(n); err != nil {
		return nil, err
	}
	return p.s, nil
}

type parser struct {
	s        *Script
	order    winparse.Order
	pending  string // the check line the next line must be
	pendWhat string
}

func (p *parser) line(n int, l string, last bool) error {
	if len(l) > MaxLine {
		return winparse.Errorf(n, "line of %d characters; cmd.exe reads at most %d", len(l), MaxLine)
	}
	if err := winparse.CheckBytes(n, l, "cmd reads batch files in the console code page"); err != nil {
		return err
	}
	if p.pending != "" {
		if l != p.pending {
			return winparse.Errorf(n, "%s must be followed by %q", p.pendWhat, p.pending)
		}
		p.pending = ""
		return nil
	}
	switch {
	case n == 1:
		if l != echoOff {
			return winparse.Errorf(n, "the script must start with %q", echoOff)
		}
		return nil
	case n == 2:
		if l != setlocal {
			return winparse.Errorf(n, "the second line must be %q", setlocal)
		}
		return nil
	case l == exitLine:
		if !last {
			return winparse.Errorf(n, "%q before the end of the script", l)
		}
		return nil
	case l == echoOff || l == setlocal:
		return winparse.Errorf(n, "%q out of place", l)
	case l == removeLine:
		if err := p.order.Remove(n); err != nil {
			return err
		}
		p.pending, p.pendWhat = "if errorlevel 1 (echo portwall: removing earlier portwall rules failed & exit /b 1)", "the removal line"
		return nil
	case l == "rem" || strings.HasPrefix(l, "rem "):
		t, err := remText(strings.TrimPrefix(strings.TrimPrefix(l, "rem"), " "))
		if err != nil {
			return winparse.Errorf(n, "rem line: %v", err)
		}
		p.s.Comments = append(p.s.Comments, t)
		return nil
	case strings.HasPrefix(strings.ToLower(l), "netsh "):
		return p.netsh(n, l)
	}
	return winparse.Errorf(n, "unknown line %q", winparse.Short(l))
}

// netsh reads a netsh command line: batch syntax first, then netsh's.
func (p *parser) netsh(n int, l string) error {
	args, err := tokens(l)
	if err != nil {
		return winparse.Errorf(n, "%v", err)
	}
	words := make([]string, 0, 5)
	for _, a := range args[:min(5, len(args))] {
		words = append(words, strings.ToLower(a.raw))
	}
	switch {
	case len(words) >= 5 && strings.Join(words, " ") == "netsh advfirewall firewall add rule":
		if err := p.order.Adding(n, "add rule"); err != nil {
			return err
		}
		r, err := parseRule(args[5:])
		if err != nil {
			return winparse.Errorf(n, "%v", err)
		}
		r.Line = n
		if err := p.order.Name(n, r.Name); err != nil {
			return err
		}
		p.s.Rules = append(p.s.Rules, r)
		p.pending, p.pendWhat = "if errorlevel 1 (echo portwall: adding "+r.Name+" failed & exit /b 1)", "add rule "+r.Name
		return nil
	case len(words) >= 3 && strings.Join(words[:3], " ") == "netsh advfirewall set":
		st, err := parseSetting(args[3:])
		if err != nil {
			return winparse.Errorf(n, "%v", err)
		}
		st.Line = n
		p.s.Settings = append(p.s.Settings, st)
		p.pending, p.pendWhat = "if errorlevel 1 (echo portwall: setting "+st.Key+" of "+st.Profile+" failed & exit /b 1)", "set "+st.Profile+" "+st.Key
		return nil
	}
	return winparse.Errorf(n, "unknown netsh command %q", winparse.Short(l))
}

// remText checks the text of a rem line. cmd expands %...% even in rem
// lines ("%~" aborts the script), '^' at the end joins the next line,
// "rem /?" prints help, and the operators & | < > have no business in a
// comment portwall writes.
func remText(s string) (string, error) {
	if strings.Contains(s, "/?") {
		return "", fmt.Errorf(`"/?" in a comment: "rem /?" prints help`)
	}
	if i := strings.IndexAny(s, "&|<>^\""); i >= 0 {
		return "", fmt.Errorf("%q in a comment", s[i])
	}
	return percent(s)
}

// percent reads "%%" as "%" and refuses a single '%', which cmd would
// expand as a variable or argument.
func percent(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			if i+1 >= len(s) || s[i+1] != '%' {
				return "", fmt.Errorf("single %% at column %d: cmd would expand it", i+1)
			}
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String(), nil
}

// arg is one space-separated word of a command line.
type arg struct {
	raw    string // as written, with quotes, "%%" read as "%"
	quoted bool   // the value after '=' (or the word) is in double quotes
}

// tokens splits a command line into words the way cmd and netsh do for
// the lines portwall writes: words separated by one space, a value either
// bare or wholly in double quotes. Outside quotes, the cmd operators
// & | < > ^ ( ) are refused; inside quotes they are literal.
func tokens(l string) ([]arg, error) {
	var out []arg
	var cur strings.Builder
	inQuote, quoted := false, false
	flush := func(col int) error {
		if cur.Len() == 0 {
			return fmt.Errorf("empty word at column %d (two spaces, or a space at the end)", col)
		}
		out = append(out, arg{raw: cur.String(), quoted: quoted})
		cur.Reset()
		quoted = false
		return nil
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		switch {
		case c == '"':
			inQuote = !inQuote
			quoted = true
			cur.WriteByte(c)
		case c == '%':
			if i+1 >= len(l) || l[i+1] != '%' {
				return nil, fmt.Errorf("single %% at column %d: cmd would expand it", i+1)
			}
			cur.WriteByte('%')
			i++
		case inQuote:
			cur.WriteByte(c)
		case c == ' ':
			if err := flush(i + 1); err != nil {
				return nil, err
			}
		case strings.IndexByte("&|<>^()", c) >= 0:
			return nil, fmt.Errorf("%q outside quotes at column %d is a cmd operator", c, i+1)
		default:
			cur.WriteByte(c)
		}
	}
	if inQuote {
		return nil, fmt.Errorf("unbalanced double quote")
	}
	if err := flush(len(l)); err != nil {
		return nil, err
	}
	return out, nil
}
