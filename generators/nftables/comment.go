package nftables

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// commentText makes s safe inside an nft quoted string and a # comment:
// nft has no escape for '"', and a line break would end the comment, so
// quotes become apostrophes and control characters spaces. The result is
// cut to MaxComment bytes on a character boundary.
func commentText(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '"':
			return '\''
		case unicode.IsControl(r) || r == utf8.RuneError || r == '\u2028' || r == '\u2029':
			return ' '
		}
		return r
	}, s)
	if len(s) <= MaxComment {
		return s
	}
	cut := MaxComment - len("...")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func quote(s string) string { return `"` + commentText(s) + `"` }
