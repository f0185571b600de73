package skeleton

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// writer writes TOML lines: full-line comments wrapped at width, and runs
// of lines with a trailing comment aligned on one column.
type writer struct {
	b    strings.Builder
	rows [][2]string // the run of lines with trailing comments
}

const (
	width = 78
	// maxAlign is the farthest column a trailing comment is aligned to;
	// longer lines get theirs after two spaces.
	maxAlign = 44
)

func (w *writer) line(s string) {
	w.flush()
	w.b.WriteString(s)
	w.b.WriteByte('\n')
}

func (w *writer) blank() { w.line("") }

// comment writes text as "# " lines wrapped at width.
func (w *writer) comment(text string) {
	w.flush()
	line := "#"
	for _, word := range strings.Fields(oneLine(text)) {
		if len(line) > 1 && utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) > width {
			w.line(line)
			line = "#"
		}
		line += " " + word
	}
	w.line(line)
}

// kv adds a line with a trailing comment (none when comment is empty) to
// the run aligned together.
func (w *writer) kv(code, comment string) { w.rows = append(w.rows, [2]string{code, comment}) }

func (w *writer) flush() {
	col := 0
	for _, r := range w.rows {
		if n := utf8.RuneCountInString(r[0]); r[1] != "" && n+2 <= maxAlign {
			col = max(col, n+2)
		}
	}
	rows := w.rows
	w.rows = nil
	for _, r := range rows {
		s := r[0]
		if r[1] != "" {
			if n := utf8.RuneCountInString(s); n+2 <= col {
				s = pad(s, col)
			} else {
				s += "  "
			}
			s += "# " + noControl(r[1])
		}
		w.line(s)
	}
}

func (w *writer) bytes() []byte { return []byte(w.b.String()) }

// pad fills s with spaces to n characters.
func pad(s string, n int) string {
	if k := utf8.RuneCountInString(s); k < n {
		return s + strings.Repeat(" ", n-k)
	}
	return s + " "
}

// noControl replaces control characters (line breaks among them) with
// spaces.
func noControl(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// oneLine makes catalog text fit a comment: control characters (line
// breaks among them) become spaces, runs of spaces one.
func oneLine(s string) string {
	return strings.Join(strings.Fields(noControl(s)), " ")
}

// str writes s as a TOML basic string.
func str(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case unicode.IsControl(r):
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// key writes a TOML key: bare when it can be.
func key(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == "" {
		return s
	}
	return str(s)
}
