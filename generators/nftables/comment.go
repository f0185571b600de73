package nftables

import "github.com/portwall/portwall/generators"

// commentText makes s safe inside an nft quoted string and a # comment:
// nft has no escape for '"', and a line break would end the comment, so
// quotes become apostrophes and control characters spaces. The result is
// cut to MaxComment bytes on a character boundary.
func commentText(s string) string {
	return generators.Flatten(s, MaxComment, func(r rune) rune {
		if r == '"' {
			return '\''
		}
		return r
	})
}

func quote(s string) string { return `"` + commentText(s) + `"` }
