package powershell

import (
	"strings"

	"github.com/portwall/portwall/generators/windows/winfw"
)

// MaxComment is the longest free text of one comment line.
const MaxComment = 1024

// quote writes s as a PowerShell single-quoted string, in which nothing
// is expanded and the only escape is a doubled quote. The typographic
// quotes PowerShell also reads as single quotes are not ASCII, and never
// reach here: winfw.Text turns them into '?', and program paths outside
// ASCII are refused.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// commentText makes free text safe for a # comment line: as winfw.Text,
// cut to MaxComment, without a trailing backtick (PowerShell's escape
// and line continuation character).
func commentText(s string) string {
	return strings.TrimRight(winfw.Truncate(winfw.Text(s), MaxComment), " `")
}

// commentLine is a comment line. Every comment goes through commentText,
// fixed text included. Free text never starts a comment (it follows a
// fixed label), so no comment can become a #Requires statement.
func commentLine(text string) string {
	if t := commentText(text); t != "" {
		return "# " + t
	}
	return "#"
}
