package fortigate

import (
	"strings"
	"unicode"

	"github.com/portwall/portwall/generators"
)

// fortiRune maps the characters FortiOS must not see in text:
//
//   - both quotes, '<' and '>' are refused by FortiOS's filter on text
//     strings (reference section 2): the quotes become '_', the angle
//     brackets parentheses;
//   - '#' made FortiOS refuse an address name and '?' opens the CLI's help
//     when pasted, so both become '_' too;
//   - unprintable characters (format and bidirectional controls, odd
//     spaces) become a space, as generators.Flatten does with control
//     characters and line breaks, so that text never leaves its line.
//
// Backslashes stay; quoted writes them as "\\".
func fortiRune(r rune) rune {
	switch r {
	case '"', '\'', '#', '?':
		return '_'
	case '<':
		return '('
	case '>':
		return ')'
	}
	if !unicode.IsPrint(r) {
		return ' '
	}
	return r
}

// quoted is free text as a FortiOS quoted string of at most limit bytes
// once read: flattened, cut, and with '\' escaped as "\\" (inside "..."
// the CLI reads "\\" as one backslash). FortiOS counts characters or
// bytes; bytes are never fewer.
func quoted(s string, limit int) string {
	return `"` + strings.ReplaceAll(generators.Flatten(s, limit, fortiRune), `\`, `\\`) + `"`
}

// maxHeaderText bounds free text on a '#' line.
const maxHeaderText = 1023

// headerText is free text for a '#' line: flattened, and without
// backslashes, since a line ending in one might continue into the next
// command.
func headerText(s string) string {
	return strings.ReplaceAll(generators.Flatten(s, maxHeaderText, fortiRune), `\`, "/")
}

// quoteName quotes an object, policy or interface name, which has been
// checked to need no escaping.
func quoteName(n string) string { return `"` + n + `"` }

func quoteNames(ns []string) string {
	q := make([]string, len(ns))
	for i, n := range ns {
		q[i] = quoteName(n)
	}
	return strings.Join(q, " ")
}
