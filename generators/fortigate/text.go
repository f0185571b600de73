package fortigate

import (
	"strings"
	"unicode"

	"github.com/portwall/portwall/generators"
)

// fortiRune maps the characters FortiOS must not see in text:
//
//   - both quotes, '<' and '>' are refused by FortiOS's filter on text
//     strings (reference section 2): an apostrophe becomes the
//     typographic one (U+2019: "sender’s domain" reads as written), the
//     double quote '_', the angle brackets parentheses;
//   - '#' made FortiOS refuse an address name and '?' opens the CLI's help
//     when pasted, so both become '_' too;
//   - unprintable characters (format and bidirectional controls, odd
//     spaces) become a space, as generators.Flatten does with control
//     characters and line breaks, so that text never leaves its line.
//
// Backslashes stay; quoted writes them as "\\".
func fortiRune(r rune) rune {
	switch r {
	case '\'':
		return '’'
	case '"', '#', '?':
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

// quoteText writes a stored value (a name, or text flattened by text)
// as a FortiOS quoted string: inside "..." the CLI reads "\\" as one
// backslash. Quotes never reach it: fortiRune replaced them.
func quoteText(s string) string {
	return `"` + strings.ReplaceAll(s, `\`, `\\`) + `"`
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
