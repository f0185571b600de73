package generators

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Flatten makes free text (comments, descriptions, purposes) safe for one
// line of a backend's output: control characters, line and paragraph
// separators and invalid UTF-8 become spaces, repl maps every other
// character (return -1 to drop it), and the result is cut to max bytes on
// a character boundary, the cut marked with "...".
func Flatten(s string, max int, repl func(rune) rune) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return repl(r)
	}, s)
	if len(s) <= max {
		return s
	}
	cut := max - len("...")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
