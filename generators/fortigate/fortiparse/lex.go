package fortiparse

import (
	"fmt"
	"strings"
)

// kind says how a token was written.
type kind uint8

const (
	bare   kind = iota // unquoted characters only
	quoted             // exactly one "..." string
	mixed              // anything else: '...', \x escapes, pieces joined
)

// token is one word of a statement, its escapes resolved.
type token struct {
	text string
	kind kind
	line int
}

// statement is one logical line: the words of a command.
type statement struct {
	line   int
	tokens []token
}

// special are the characters an unquoted word cannot hold (reference
// section 2): '#' starts a comment, '?' opens the CLI's help, the others
// are refused or mean something else.
const special = "#()<>?'\"\\"

// lex splits data into statements by the reference's lexical rules, as
// Batfish models them:
//
//   - a line whose first non-blank character is '#' is a comment;
//   - in "...", \" \' and \\ are escapes and other backslashes stay;
//     in '...' nothing is special; quoted strings may span lines;
//   - outside quotes, \x is x and a backslash at the end of a line joins
//     the next line; unquoted words hold no blank and none of special;
//   - pieces written next to each other form one word.
//
// It refuses what those rules leave undefined or dangerous: an unclosed
// quote, a special character or control character outside quotes, and a
// comment line ending in a backslash (which may swallow the next line).
func lex(data []byte) ([]statement, error) {
	l := &lexer{src: string(data), line: 1}
	return l.run()
}

type lexer struct {
	src  string
	pos  int
	line int

	out []statement
	cur statement
	tok strings.Builder
	in  bool // a token is being read
	// How the current token is written: unquoted characters, "..."
	// strings, anything else ('...', escapes).
	bareChars, doubles, others int
}

func (l *lexer) errorf(line int, format string, args ...any) error {
	return fmt.Errorf("line %d: %s", line, fmt.Sprintf(format, args...))
}

func (l *lexer) run() ([]statement, error) {
	atStart := true // at the start of a statement: a '#' begins a comment
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == '\n':
			l.endToken()
			l.endStatement()
			l.line++
			l.pos++
			atStart = true
			continue
		case c == ' ' || c == '\t':
			l.endToken()
			l.pos++
			continue
		case c == '#' && atStart && !l.in && len(l.cur.tokens) == 0:
			end := strings.IndexByte(l.src[l.pos:], '\n')
			text := l.src[l.pos:]
			if end >= 0 {
				text = text[:end]
			}
			if strings.HasSuffix(text, `\`) {
				return nil, l.errorf(l.line, "comment line ends in a backslash, which may continue it into the next line")
			}
			if i := strings.IndexFunc(text, isControl); i >= 0 {
				return nil, l.errorf(l.line, "control character %q in a comment line", text[i])
			}
			l.pos += len(text)
			continue
		}
		if c == '\\' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '\n' {
			// A continued line: the statement (and the word) goes on.
			l.line++
			l.pos += 2
			continue
		}
		atStart = false
		if !l.in {
			l.in, l.bareChars, l.doubles, l.others = true, 0, 0, 0
			l.cur.tokens = append(l.cur.tokens, token{line: l.line})
			if len(l.cur.tokens) == 1 {
				l.cur.line = l.line
			}
		}
		var err error
		switch {
		case c == '"':
			err = l.doubleQuoted()
		case c == '\'':
			err = l.singleQuoted()
		case c == '\\':
			err = l.escape()
		case strings.IndexByte(special, c) >= 0:
			return nil, l.errorf(l.line, "%q outside quotes", c)
		case isControl(rune(c)):
			return nil, l.errorf(l.line, "control character %q outside quotes", c)
		default:
			l.tok.WriteByte(c)
			l.pos++
			l.bareChars++
		}
		if err != nil {
			return nil, err
		}
	}
	l.endToken()
	l.endStatement()
	return l.out, nil
}

func isControl(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }

func (l *lexer) doubleQuoted() error {
	open := l.line
	l.doubles++
	l.pos++
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == '"':
			l.pos++
			return nil
		case c == '\\' && l.pos+1 < len(l.src) && strings.IndexByte(`"'\`, l.src[l.pos+1]) >= 0:
			l.tok.WriteByte(l.src[l.pos+1])
			l.pos += 2
			continue
		case c == '\n':
			l.line++
		}
		l.tok.WriteByte(c)
		l.pos++
	}
	return l.errorf(open, "quote opened here is never closed")
}

func (l *lexer) singleQuoted() error {
	open := l.line
	l.others++
	l.pos++
	end := strings.IndexByte(l.src[l.pos:], '\'')
	if end < 0 {
		return l.errorf(open, "quote opened here is never closed")
	}
	s := l.src[l.pos : l.pos+end]
	l.line += strings.Count(s, "\n")
	l.tok.WriteString(s)
	l.pos += end + 1
	return nil
}

func (l *lexer) escape() error {
	if l.pos+1 >= len(l.src) {
		return l.errorf(l.line, "backslash at the end of the input")
	}
	l.others++
	l.tok.WriteByte(l.src[l.pos+1])
	l.pos += 2
	return nil
}

func (l *lexer) endToken() {
	if !l.in {
		return
	}
	t := &l.cur.tokens[len(l.cur.tokens)-1]
	t.text = l.tok.String()
	switch {
	case l.others == 0 && l.doubles == 0:
		t.kind = bare
	case l.others == 0 && l.doubles == 1 && l.bareChars == 0:
		t.kind = quoted
	default:
		t.kind = mixed
	}
	l.tok.Reset()
	l.in = false
}

func (l *lexer) endStatement() {
	if len(l.cur.tokens) > 0 {
		l.out = append(l.out, l.cur)
	}
	l.cur = statement{}
}
