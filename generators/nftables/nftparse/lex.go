package nftparse

import (
	"bytes"
	"fmt"
	"strings"
)

// The pieces of portwall's nft syntax that the strict reader here and the
// netlink compiler (package live) both read.

// Lines reads a script's lines: Next returns the next line that is not
// blank or a comment, trimmed, with its number ("" at the end).
type Lines struct {
	data []byte
	i    int // lines read
}

// NewLines starts reading data. Lines are copied out one at a time: a
// script of 150,000 lines is not held twice.
func NewLines(data []byte) *Lines {
	if data == nil {
		data = []byte{}
	}
	return &Lines{data: data}
}

// Next is the next line with content, and its number.
func (l *Lines) Next() (string, int) {
	// data is nil once its last line is read (as strings.Split counts
	// them, the empty text after a final newline is a line).
	for l.data != nil {
		line := l.data
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line, l.data = line[:i], l.data[i+1:]
		} else {
			l.data = nil
		}
		l.i++
		line = bytes.TrimSpace(line)
		if len(line) > 0 && line[0] != '#' {
			return string(line), l.i
		}
	}
	return "", l.i
}

// Preamble reads the lines every portwall script opens with: the two that
// make loading idempotent, and the table's opening.
func (l *Lines) Preamble() error {
	for _, want := range []string{"table inet portwall", "delete table inet portwall", "table inet portwall {"} {
		if s, n := l.Next(); s != want {
			return fmt.Errorf("line %d: want %q, got %q", n, want, s)
		}
	}
	return nil
}

// Words splits rule text into words, keeping "{ ... }" and "..." whole.
func Words(text string) ([]string, error) {
	var out []string
	for text != "" {
		text = strings.TrimPrefix(text, " ")
		switch {
		case strings.HasPrefix(text, "{ "):
			end := strings.Index(text, " }")
			if end < 0 {
				return nil, fmt.Errorf("unclosed {")
			}
			out = append(out, text[:end+2])
			text = text[end+2:]
		case strings.HasPrefix(text, `"`):
			end := strings.Index(text[1:], `"`)
			if end < 0 {
				return nil, fmt.Errorf("unclosed quote")
			}
			out = append(out, text[:end+2])
			text = text[end+2:]
		default:
			w, rest, _ := strings.Cut(text, " ")
			out = append(out, w)
			text = rest
		}
	}
	return out, nil
}

// List is the items of a word: those of "{ a, b }", or the word itself.
func List(w string) []string {
	if !strings.HasPrefix(w, "{ ") {
		return []string{w}
	}
	return strings.Split(strings.TrimSuffix(strings.TrimPrefix(w, "{ "), " }"), ", ")
}

// Table is what Walk calls for the blocks of portwall's table.
type Table struct {
	// Set reads the set block NAME (Walk has read "set NAME {"), through
	// its closing "}", with next.
	Set func(name string, line int, next func() (string, int)) error
	// Chain starts the base chain input or output: Walk has read its
	// header and checked its hook line.
	Chain func(name string, line int) error
	// Rule is one rule line of the chain.
	Rule func(chain, text string, line int) error
}

// Walk reads a script's table as portwall writes it: the preamble, then
// set blocks and the input and output chains, then nothing after the
// table. The strict reader (Parse) and the netlink compiler
// (internal/live) both read scripts through it.
func Walk(data []byte, t Table) error {
	lines := NewLines(data)
	if err := lines.Preamble(); err != nil {
		return err
	}
	next := lines.Next
	for {
		l, n := next()
		switch {
		case l == "}":
			if rest, n := next(); rest != "" {
				return fmt.Errorf("line %d: text after the table: %q", n, rest)
			}
			return nil
		case strings.HasPrefix(l, "set ") && strings.HasSuffix(l, " {"):
			if err := t.Set(strings.TrimSuffix(strings.TrimPrefix(l, "set "), " {"), n, next); err != nil {
				return err
			}
		case l == "chain input {" || l == "chain output {":
			name := strings.Fields(l)[1]
			want := "type filter hook " + name + " priority filter; policy drop;"
			if h, n := next(); h != want {
				return fmt.Errorf("line %d: want %q, got %q", n, want, h)
			}
			if err := t.Chain(name, n); err != nil {
				return err
			}
			for {
				r, n := next()
				if r == "}" {
					break
				}
				if r == "" {
					return fmt.Errorf("line %d: chain %s not closed", n, name)
				}
				if err := t.Rule(name, r, n); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("line %d: unexpected %q", n, l)
		}
	}
}
