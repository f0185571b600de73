package ufw

import (
	"strings"

	"github.com/portwall/portwall/generators"
)

// Limits of ufw, and of what portwall writes.
const (
	// MaxValue is the longest value of an application profile's field:
	// ufw skips a profile with a longer one (with a warning only).
	MaxValue = 1024
	// MaxComment is the longest comment, of a ufw rule or of an
	// iptables rule in before.rules (xt_comment's limit: 256 bytes with
	// the final NUL), and the longest application title.
	MaxComment = 255
	// MaxHeader is the longest free text of one comment line of the
	// script's header.
	MaxHeader = 1024
	// MaxPortSlots is how many ports one entry of an application's ports
	// holds: ufw refuses more than 14 commas and colons (iptables'
	// multiport match holds 15 ports, a range counting two).
	MaxPortSlots = 15
)

// clean makes free text safe for every place the ufw output carries it: a
// ufw comment (no "'", which ufw refuses; `ufw show added` prints it
// between single quotes), an iptables-restore comment in before.rules
// (between double quotes, where '"' and '\' would need escapes), a value
// of an application profile (one line; ufw reads the file in the locale's
// encoding), a comment line of the script. Control characters and line
// breaks become spaces, quotes become '`', backslashes '/', and every
// other character outside printable ASCII '?'; the text is cut to max
// bytes and trimmed (ufw's INI reader trims values).
func clean(s string, max int) string {
	s = generators.Flatten(s, max, func(r rune) rune {
		switch {
		case r == '\'' || r == '"':
			return '`'
		case r == '\\':
			return '/'
		case r < 0x20 || r > 0x7e:
			return '?'
		}
		return r
	})
	return strings.TrimSpace(s)
}

// headerText makes free text one comment line of the script.
func headerText(s string) string { return clean(s, MaxHeader) }
