// Package winfw holds what portwall's two Windows Firewall backends (netsh
// and PowerShell) share before syntax: rule names, the remote address
// list of a host rule, the split of a rule into firewall rules (by
// provenance chunk, ICMP type and address-list part), free-text cleaning
// and the checks on program paths and profile settings.
//
// Each backend writes its own syntax and has its own, independent parser;
// this package only decides what the rules are.
package winfw

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/rules/ir"
)

// Limits. The firewall documents none of them; see
// /work/shared/reference/netsh-advfirewall.md, sections 3 and 7.
const (
	// MaxName is the longest rule name portwall emits (inferred limit).
	MaxName = 255
	// MaxDescription is the longest description, in characters as the
	// firewall receives them.
	MaxDescription = 1024
	// MaxEntries is the most addresses, prefixes or ranges in one rule's
	// remote address list (reported limit of the firewall's rule scope).
	MaxEntries = 1000
)

// NamePrefix starts every rule name: scripts remove earlier rules by it.
const NamePrefix = "portwall-"

// nameChars is what a rule name may hold: nothing that batch, netsh,
// PowerShell strings or PowerShell wildcards read specially.
var nameChars = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9-]+$`) })

// ruleIDChars is what a rule ID must look like to become part of a name.
// IDs from the resolver are "r" and 12 hex digits; a ruleset built
// elsewhere may hold anything, and is refused rather than mangled, so that
// names stay traceable to the IR.
var ruleIDChars = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$`) })

// Name is "portwall-<id>-<dir>" plus suffixes, or an error naming the rule
// when the result is not a safe, short name.
func Name(id string, dir ir.Direction, suffixes ...string) (string, error) {
	if !ruleIDChars().MatchString(id) {
		return "", fmt.Errorf("rule %s: the rule ID cannot be part of a firewall rule name (want letters, digits and single dashes)", Quoted(id))
	}
	name := strings.Join(append([]string{strings.TrimSuffix(NamePrefix, "-"), id, string(dir)}, suffixes...), "-")
	if !nameChars().MatchString(name) {
		return "", fmt.Errorf("rule %s: name %s is not a safe firewall rule name", id, Quoted(name))
	}
	if len(name) > MaxName {
		return "", fmt.Errorf("rule %s: name %s is longer than %d characters", id, name, MaxName)
	}
	return name, nil
}

// hostChars is what a host name must look like: it becomes a file name and
// appears in the "how to run" comment.
var hostChars = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`) })

// Caps is what both Windows backends support; ext names their files.
// Neither can match host names; both match programs. [windows] fqdn may
// choose to leave host names out (omit).
func Caps(ext string) generators.Caps {
	return generators.Caps{HostView: true, FQDN: generators.FQDNNone, Program: true, Ext: ext}
}

// Script joins a script's lines with the CRLF line ends that cmd and
// Windows PowerShell expect.
func Script(lines []string) []byte {
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString(l)
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// CheckHost refuses a host name that cannot name a script file.
func CheckHost(name string) error {
	if !hostChars().MatchString(name) {
		return fmt.Errorf("host name %s cannot name a script file", Quoted(name))
	}
	return nil
}

// Profiles returns the Windows Firewall profiles of [windows] profiles in
// a canonical order: ["any"], or some of domain, private and public. The
// profile checker allows only these; a ruleset built elsewhere is refused,
// never mangled.
func Profiles(ps []string) ([]string, error) {
	if len(ps) == 0 || slices.Equal(ps, []string{"any"}) {
		return []string{"any"}, nil
	}
	var out []string
	for _, p := range []string{"domain", "private", "public"} {
		if slices.Contains(ps, p) {
			out = append(out, p)
		}
	}
	if len(out) != len(ps) {
		return nil, fmt.Errorf("Windows Firewall profiles %s: want any, or some of domain, private and public, each once", Quoted(strings.Join(ps, ",")))
	}
	return out, nil
}

// Text makes free text from a profile safe for a rule description or a
// comment line of either script:
//
//   - a double quote becomes an apostrophe: netsh has no escape for it.
//   - '|' becomes '/': the firewall API forbids it in names and
//     descriptions.
//   - control characters and line breaks become spaces: a line break
//     would end the line.
//   - characters outside printable ASCII become '?': cmd reads a batch
//     file in the console's OEM code page and Windows PowerShell 5.1 a
//     script without BOM in the ANSI code page, so UTF-8 bytes would be
//     other characters (in double-byte code pages a lead byte can swallow
//     the byte after it); and PowerShell reads the typographic quotes
//     U+2018-U+201B as single quotes.
//   - trailing '\' and '^' are dropped: "\" before netsh's closing quote
//     may be read as an escaped quote, and '^' ends up next to it.
//
// What else a backend must escape ('%' for cmd, "'" for PowerShell) it
// escapes itself.
func Text(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '"':
			return '\''
		case r == '|':
			return '/'
		case r < 0x20 || r == 0x7f:
			return ' '
		case r > 0x7e:
			return '?'
		}
		return r
	}, s)
	return strings.TrimRight(s, `\^`)
}

// Truncate cuts s to at most n characters, ending in "..." when cut. s is
// ASCII after Text, so bytes are characters.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.TrimRight(s[:n-3], `\^`) + "..."
}

// Description makes a rule's provenance (generators.Provenance) safe for a
// description and cuts it to MaxDescription characters.
func Description(s string) string { return Truncate(Text(s), MaxDescription) }

// Quoted shows untrusted text in an error message: as it is when it is a
// plain name, otherwise quoted with every non-ASCII or control character
// escaped, and cut short, so that an error can neither break a terminal
// line nor run to megabytes, and shows exactly what was refused.
func Quoted(s string) string {
	if plain().MatchString(s) {
		return s
	}
	if len(s) > 100 {
		return strconv.QuoteToASCII(s[:100]) + "..."
	}
	return strconv.QuoteToASCII(s)
}

var plain = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_.:/-]{1,100}$`) })

// CheckProgram refuses a program path the firewall would not receive
// exactly as the IR says: the path cannot be changed to make it safe,
// since another path is another program (a narrower or wider rule).
func CheckProgram(target, host string, r *ir.Rule) error {
	p := r.Program
	bad := func(why string) error {
		return &generators.Refusal{Target: target, Host: host, Rule: r, Program: true,
			Msg: fmt.Sprintf("program path %s %s", Quoted(p), why), Fix: "change the directory option of the deployment"}
	}
	for _, r := range p {
		switch {
		case r < 0x20 || r == 0x7f:
			return bad("holds a control character")
		case r > 0x7e:
			return bad("holds a character outside ASCII, which the script's code page would change")
		case strings.ContainsRune(`"*?<>|`, r):
			return bad(fmt.Sprintf("holds %q, which no Windows path can hold", r))
		}
	}
	if !absolutePath().MatchString(p) {
		return bad(`is not a full path (want C:\..., \\server\... or %VARIABLE%\...)`)
	}
	if strings.HasSuffix(p, `\`) || strings.HasSuffix(p, " ") {
		return bad("ends in a backslash or space")
	}
	// The firewall expands %VARIABLE% in program paths; any '%' but a
	// leading variable would make it match another path than the IR's.
	if strings.Contains(absolutePath().ReplaceAllString(p, ""), "%") {
		return bad("holds '%' other than a leading %VARIABLE%, which Windows would expand")
	}
	return nil
}

// absolutePath: a drive path, a UNC path, or a path under an environment
// variable (the firewall expands those, as in %SystemRoot%).
var absolutePath = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([A-Za-z]:\\|\\\\[^\\]|%[A-Za-z0-9_()]+%\\)`) })

// HeaderText is what differs between the two scripts' headers.
type HeaderText struct {
	// Title names the script: "portwall netsh script".
	Title string
	// DescPrefix comes before the host's description.
	DescPrefix string
	// Run says how to run the script; Naming how its rules are named.
	Run, Naming []string
	// Omitted introduces what fqdn = omit left out; NamePrefix comes
	// before each host name left out.
	Omitted, NamePrefix string
	// Audit says what the script does about other programs' rules
	// (always); Installers, after the list of the installers' own rules
	// on the host (when there are any), what to do about them.
	Audit, Installers []string
}

// Header is the text of a script's header, one comment line each: the
// host, how to run the script and read its rules, and what was left out.
func Header(v *ir.HostView, omitted []generators.Omission, t HeaderText) []string {
	addrs := make([]string, len(v.Host.Addrs))
	for i, a := range v.Host.Addrs {
		addrs[i] = a.String()
	}
	out := []string{fmt.Sprintf("%s for host %s (%s), profile %s.", t.Title, v.Host.Name, strings.Join(addrs, ", "), v.Ruleset.Profile)}
	if v.Host.Description != "" {
		out = append(out, t.DescPrefix+v.Host.Description)
	}
	out = append(out, "Generated by portwall, do not edit: change the profile and generate again.", "")
	out = append(out, t.Run...)
	out = append(out, t.Naming...)
	if v.Ruleset.Policy.Output == ir.OutputDrop {
		out = append(out, "Outbound rules are included (output = drop); they restrict traffic only while the",
			"profiles block outbound connections by default.")
	}
	if len(t.Audit) > 0 {
		out = append(out, "")
		out = append(out, t.Audit...)
	}
	if rules := v.InstallerRules(); len(rules) > 0 {
		out = append(out, "", "Installers add inbound allow rules of their own, from any address, and Windows",
			"Firewall lets a packet in when any enabled allow rule matches it: these widen",
			"portwall's rules. Documented for this host:")
		for _, r := range rules {
			out = append(out, fmt.Sprintf("  %s (deployment %s) %s: %s", r.Product, r.Deployment, r.ID, r.What()),
				"    "+r.Source)
		}
		out = append(out, t.Installers...)
	}
	if len(omitted) > 0 {
		out = append(out, "", t.Omitted)
		// One host name per line: a set may hold many.
		for _, o := range omitted {
			out = append(out, fmt.Sprintf("  rule %s: host names of %s:", o.Rule, o.Set))
			for _, n := range o.Names {
				out = append(out, "    "+t.NamePrefix+n)
			}
		}
	}
	return append(out, "")
}
