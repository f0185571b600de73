package diag

import "testing"

func TestSuggest(t *testing.T) {
	t.Parallel()
	names := []string{"webmail", "admin-gui", "ha", "smtp", "pop3"}
	cases := map[string]string{
		"webmial":   "webmail",
		"admin-gu":  "admin-gui",
		"Webmail":   "webmail",
		"hq":        "ha",
		"pop":       "pop3",
		"mtsp":      "",
		"admin":     "admin-gui",
		"imap":      "",
		"web":       "",
		"ldap-auth": "",
		"x":         "",
	}
	for in, want := range cases {
		if got := Suggest(in, names); got != want {
			t.Errorf("Suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestErrorListSortAndDedupe(t *testing.T) {
	t.Parallel()
	var l ErrorList
	l.Add(Pos{File: "b", Line: 1, Col: 1}, "", "z")
	l.Add(Pos{File: "a", Line: 3, Col: 1}, "", "y")
	l.Add(Pos{File: "a", Line: 3, Col: 1}, "", "y")
	l.Add(Pos{File: "a"}, "x.y", "no line")
	got := l.Err().Error()
	want := "a: x.y: no line\na:3:1: y\nb:1:1: z"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if (ErrorList{}).Err() != nil {
		t.Error("empty list is not nil error")
	}
}

func TestEscape(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"plain":              "plain",
		"a\x1b[31mred":       `a\x1b[31mred`,
		"two\nlines":         "two\nlines",
		"tab\there":          `tab\x09here`,
		"del\x7f c1\u0085 é": `del\x7f c1\x85 é`,
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestEscapeLayout: a ruleset's or diff's tabs and line breaks stay; an
// ESC sequence in a comment another tool put in the kernel does not reach
// the terminal.
func TestEscapeLayout(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"\t\ttcp dport 22 accept\n":                  "\t\ttcp dport 22 accept\n",
		"-\t\taccept comment \"\x1b]0;owned\x07\"\n": "-\t\taccept comment \"\\x1b]0;owned\\x07\"\n",
		"cr\r del\x7f c1\u0085 é":                    `cr\x0d del\x7f c1\x85 é`,
	} {
		if got := EscapeLayout(in); got != want {
			t.Errorf("EscapeLayout(%q) = %q, want %q", in, got, want)
		}
	}
}
