// Package winparse is what portwall's two strict Windows Firewall readers,
// netshparse and psparse, share: script lines and their bytes, the order
// of removal line and rules, rule names and descriptions, address and
// port lists, and the step from a parsed rule to ir.Grant values. The two
// grammars (tokens, quoting, line forms, keywords) stay in their readers.
//
// Like the readers, it imports none of the generators (netsh, powershell,
// winfw): it exists to check them, and a reading shared with the writer
// would prove nothing.
package winparse

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Limits portwall keeps to (netsh-advfirewall.md section 3; the firewall
// documents none).
const (
	MaxName        = 255
	MaxDescription = 1024
	MaxEntries     = 1000
)

// Error is a problem at a line of a script.
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Errorf is an *Error at line.
func Errorf(line int, format string, args ...any) error {
	return &Error{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// Lines splits a script into its lines. Both backends write CRLF after
// every line, the last one included, and nothing else ends a line; a
// script without lines is a mistake, not an empty rule set.
func Lines(data []byte) ([]string, error) {
	if len(data) == 0 {
		return nil, Errorf(1, "empty script")
	}
	if !strings.HasSuffix(string(data), "\r\n") {
		return nil, Errorf(strings.Count(string(data), "\n")+1, "the last line does not end in CRLF")
	}
	return strings.Split(strings.TrimSuffix(string(data), "\r\n"), "\r\n"), nil
}

// CheckBytes refuses what neither cmd nor PowerShell reads as one line of
// plain text: a line break other than CRLF, control characters and bytes
// outside ASCII, which each shell reads in a code page of its own (why
// says how, for the message).
func CheckBytes(line int, l, why string) error {
	for i := 0; i < len(l); i++ {
		switch c := l[i]; {
		case c == '\r' || c == '\n':
			return Errorf(line, "line break other than CRLF")
		case c < 0x20 || c == 0x7f:
			return Errorf(line, "control character %q", c)
		case c > 0x7e:
			return Errorf(line, "byte 0x%02x outside ASCII; %s", c, why)
		}
	}
	return nil
}

// Order checks what both scripts require of their rules: one removal
// line, before the first rule, so that no rule of an earlier run stays
// beside the new ones; and each rule name once (compared case-
// insensitively, as the firewall does), so that no rule hides another.
type Order struct {
	removed bool
	names   map[string]int // lower-case rule name -> line
}

// Remove records the removal line at line.
func (o *Order) Remove(line int) error {
	if o.removed {
		return Errorf(line, "second removal line")
	}
	if len(o.names) > 0 {
		return Errorf(line, "the removal line must come before the first rule")
	}
	o.removed = true
	return nil
}

// Adding refuses a command that adds a rule (what names it) before the
// removal line.
func (o *Order) Adding(line int, what string) error {
	if !o.removed {
		return Errorf(line, "%s before the removal line: rules from an earlier run would stay", what)
	}
	return nil
}

// Name records the name of the rule at line.
func (o *Order) Name(line int, name string) error {
	key := strings.ToLower(name)
	if prev, ok := o.names[key]; ok {
		return Errorf(line, "rule name %s is already used at line %d", name, prev)
	}
	if o.names == nil {
		o.names = map[string]int{}
	}
	o.names[key] = line
	return nil
}

// End checks the whole script, whose last line is line.
func (o *Order) End(line int) error {
	if !o.removed {
		return Errorf(line, "no removal line: rules from an earlier run would stay")
	}
	return nil
}

// portwallName is what portwall's rule names look like: its prefix, then
// only letters, digits and dashes (nothing batch, netsh or PowerShell
// wildcards read specially).
var portwallName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^portwall-[A-Za-z0-9-]+$`) })

// CheckName refuses a rule name portwall does not write. Both removal
// lines delete by the display name "portwall-*", so a rule named
// otherwise would outlive the next run.
func CheckName(name string) error {
	switch {
	case len(name) > MaxName:
		return fmt.Errorf("name of %d characters, portwall keeps to %d", len(name), MaxName)
	case !portwallName().MatchString(name):
		return fmt.Errorf("name %q: want portwall- and letters, digits and dashes; the removal line deletes only names starting with portwall-", name)
	}
	return nil
}

// CheckDescription refuses a description the firewall does not take.
func CheckDescription(d string) error {
	switch {
	case strings.Contains(d, "|"):
		return fmt.Errorf("'|' in description, which the firewall API forbids")
	case len(d) > MaxDescription:
		return fmt.Errorf("description of %d characters, portwall keeps to %d", len(d), MaxDescription)
	}
	return nil
}

// Short cuts s for a message.
func Short(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}

// CheckProfiles checks a list of firewall profiles: each one of names
// (compared case-insensitively, reported as names spells them) and once,
// and any (where names holds it) alone, since it already means all.
func CheckProfiles(items []string, names ...string) error {
	seen := map[string]bool{}
	anyName := ""
	for _, it := range items {
		i := slices.IndexFunc(names, func(n string) bool { return strings.EqualFold(n, it) })
		if i < 0 {
			return fmt.Errorf("want one of %s (not %q)", strings.Join(names, ", "), it)
		}
		p := names[i]
		if seen[p] {
			return fmt.Errorf("%s twice", p)
		}
		seen[p] = true
		if strings.EqualFold(p, "any") {
			anyName = p
		}
	}
	if anyName != "" && len(seen) > 1 {
		return fmt.Errorf("%s with other profiles", anyName)
	}
	return nil
}
