package firewalld

import (
	"bytes"
	"encoding/xml"
	"strings"

	"github.com/portwall/portwall/generators"
)

// Limits on free text. firewalld sets none; these keep files readable.
const (
	// MaxText is the longest description or XML comment, in bytes.
	MaxText = 4096
	// MaxHeader is the longest free text of one comment line of the
	// script's header.
	MaxHeader = 1024
)

// flat makes free text one line of valid XML characters: control
// characters and line breaks become spaces (generators.Flatten), and so do
// U+FFFE and U+FFFF, which XML does not allow.
func flat(s string, max int) string {
	return generators.Flatten(s, max, func(r rune) rune {
		if r == '\uFFFE' || r == '\uFFFF' {
			return ' '
		}
		return r
	})
}

// text escapes free text for an XML element or attribute.
func text(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(flat(s, MaxText))) // writes to memory: no error
	return b.String()
}

// commentText makes free text safe inside <!-- -->, where "--" may not
// appear (and nothing is escaped).
func commentText(s string) string {
	s = flat(s, MaxText)
	for strings.Contains(s, "--") {
		s = strings.ReplaceAll(s, "--", "- -")
	}
	return s
}

// headerText makes free text one comment line of the script.
func headerText(s string) string { return flat(s, MaxHeader) }
