package nftables

import "github.com/portwall/portwall/generators"

// commentText makes s safe inside an nft quoted string and a # comment:
// nft has no escape for '"', and a line break would end the comment, so
// quotes become apostrophes and control characters spaces. The result is
// cut to MaxComment bytes on a character boundary.
func commentText(s string) string {
	if plain(s) {
		return s // what Flatten would return: nothing to replace or cut
	}
	return generators.Flatten(s, MaxComment, func(r rune) rune {
		if r == '"' {
			return '\''
		}
		return r
	})
}

func quote(s string) string { return `"` + commentText(s) + `"` }

// plain reports whether s is short printable ASCII without '"': most
// comments, which commentText leaves as they are.
func plain(s string) bool {
	if len(s) > MaxComment {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' || c == '"' {
			return false
		}
	}
	return true
}
