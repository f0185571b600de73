// Package diag reports problems in portwall's input the way go/scanner
// does: a sortable list of errors, each with the file, line and column it
// refers to, and suggestions for misspelt names. It imports nothing of the
// project, so that every layer can use it.
package diag

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Pos is a position in an input file. Line and Col start at 1; a zero Line
// means the position is unknown and only the file (and the key path of the
// Error) can be reported.
type Pos struct {
	File string
	Line int
	Col  int
}

// IsValid reports whether the position has a line.
func (p Pos) IsValid() bool { return p.Line > 0 }

// String formats the position as "file:line:col", or just "file" when the
// line is unknown.
func (p Pos) String() string {
	if !p.IsValid() {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Error is one problem in an input file.
type Error struct {
	Pos Pos
	// Path is the TOML key path the problem belongs to, such as
	// "deployment[0].features[2]". It is printed when Pos has no line.
	Path string
	Msg  string
}

func (e *Error) Error() string {
	switch {
	case e.Pos.IsValid():
		return e.Pos.String() + ": " + e.Msg
	case e.Path != "" && e.Pos.File != "":
		return e.Pos.File + ": " + e.Path + ": " + e.Msg
	case e.Path != "":
		return e.Path + ": " + e.Msg
	case e.Pos.File != "":
		return e.Pos.File + ": " + e.Msg
	}
	return e.Msg
}

// ErrorList collects every problem found in one pass so that the user can
// fix them all at once.
type ErrorList []*Error

// Add appends an error at pos for the key path.
func (l *ErrorList) Add(pos Pos, path, format string, args ...any) {
	*l = append(*l, &Error{Pos: pos, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Append adds every error of other.
func (l *ErrorList) Append(other ErrorList) { *l = append(*l, other...) }

// Len, Less and Swap make ErrorList sortable by file, line, column and
// message.
func (l ErrorList) Len() int      { return len(l) }
func (l ErrorList) Swap(i, j int) { l[i], l[j] = l[j], l[i] }
func (l ErrorList) Less(i, j int) bool {
	return compareErrors(l[i], l[j]) < 0
}

func compareErrors(a, b *Error) int {
	return cmp.Or(
		cmp.Compare(a.Pos.File, b.Pos.File),
		cmp.Compare(a.Pos.Line, b.Pos.Line),
		cmp.Compare(a.Pos.Col, b.Pos.Col),
		cmp.Compare(a.Path, b.Path),
		cmp.Compare(a.Msg, b.Msg),
	)
}

// Sort orders the list by position and removes exact duplicates, which
// arise when one mistake is reached through several paths.
func (l *ErrorList) Sort() {
	slices.SortStableFunc(*l, compareErrors)
	*l = slices.CompactFunc(*l, func(a, b *Error) bool { return compareErrors(a, b) == 0 })
}

// Error prints one problem per line.
func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Err returns nil for an empty list and the sorted list otherwise, so that
// callers can write `return errs.Err()`.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	l.Sort()
	return l
}

// AsList returns err as an ErrorList: the list itself, or a one-element
// list wrapping any other error. A nil error gives a nil list.
func AsList(err error) ErrorList {
	if err == nil {
		return nil
	}
	var l ErrorList
	if errors.As(err, &l) {
		return l
	}
	var e *Error
	if errors.As(err, &e) {
		return ErrorList{e}
	}
	return ErrorList{{Msg: err.Error()}}
}

// Escape writes the control characters of s (other than line breaks
// between messages) as \xNN, so that text from a profile (an ESC sequence,
// say) reaches a terminal as text, never as a command to it.
func Escape(s string) string { return escape(s, isControl) }

// EscapeLayout is Escape for text laid out in lines and tabs (a ruleset,
// a diff of one): its tabs stay, every other control character is
// written as \xNN. For what the kernel holds, which another tool may have
// put there (a rule's comment, say).
func EscapeLayout(s string) string {
	return escape(s, func(r rune) bool { return r != '\t' && isControl(r) })
}

func escape(s string, control func(rune) bool) string {
	if !strings.ContainsFunc(s, control) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if control(r) {
			fmt.Fprintf(&b, `\x%02x`, r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isControl(r rune) bool { return r < 0x20 && r != '\n' || r == 0x7f || r >= 0x80 && r < 0xa0 }
