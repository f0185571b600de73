package netsh

import (
	"strings"

	"github.com/portwall/portwall/generators/windows/winfw"
)

// MaxLine is the longest line portwall writes; cmd.exe's limit is 8191
// characters (reference section 4), the rest is a margin.
const MaxLine = 8000

// Limits shared with the PowerShell backend, for callers of this package.
const (
	MaxName        = winfw.MaxName
	MaxDescription = winfw.MaxDescription
	MaxEntries     = winfw.MaxEntries
	NamePrefix     = winfw.NamePrefix
)

// MaxRem is the longest free text of one rem line, in characters before
// '%' is doubled: far below cmd's line limit.
const MaxRem = 1024

// batch doubles '%' so that cmd, which expands %VAR% and %1 even inside
// double quotes and in rem lines, passes a literal '%' on. It is applied
// to every value that comes from the IR, after winfw.Text.
func batch(s string) string { return strings.ReplaceAll(s, "%", "%%") }

// remText makes free text safe for a rem line: as winfw.Text, without
// the cmd operators & < > ^ (rem lines are not quoted, and a trailing '^'
// would join the next line to the comment), without "/?" (which makes rem
// print its help instead), cut to MaxRem, '%' doubled.
func remText(s string) string {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune("&<>^", r) {
			return -1
		}
		return r
	}, winfw.Text(s))
	s = strings.ReplaceAll(s, "/?", "/ ?")
	return batch(strings.TrimRight(winfw.Truncate(s, MaxRem), " "))
}

// remLine is a comment line. Every rem line goes through remText, fixed
// text included, so that no comment can hold what cmd reads specially.
func remLine(text string) string {
	if t := remText(text); t != "" {
		return "rem " + t
	}
	return "rem"
}
