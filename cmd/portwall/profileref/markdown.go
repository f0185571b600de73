package profileref

import (
	"fmt"
	"strings"
)

// Markdown is the reference as Markdown: the notes that hold for every
// key, then a table per table of the profile under a heading of level
// depth (3 gives "###"). README.md's "Profile reference" holds it.
func (r *Reference) Markdown(depth int) string {
	var b strings.Builder
	for _, p := range intro() {
		b.WriteString(wrap(p, 76))
		b.WriteString("\n")
	}
	for _, t := range r.tables() {
		title := "Top level"
		if t.Header != "" {
			title = "`" + t.Header + "`"
		}
		fmt.Fprintf(&b, "%s %s\n\n", strings.Repeat("#", depth), title)
		if t.Header != "" {
			fmt.Fprintf(&b, "%s.\n\n", upperFirst(t.Doc))
		}
		b.WriteString("| Key | Type | Default | Meaning |\n|---|---|---|---|\n")
		for _, row := range t.Rows {
			def := cell(row.Default)
			if row.Literal {
				def = "`" + row.Default + "`"
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", row.Key, cell(codeQuoted(row.Type)), def, cell(row.Meaning))
		}
		b.WriteString("\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// cell escapes text for a Markdown table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// codeQuoted sets the quoted values of a type in code: "drop" -> `"drop"`.
func codeQuoted(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		if r == '"' {
			if !in {
				b.WriteString("`\"")
			} else {
				b.WriteString("\"`")
			}
			in = !in
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// wrap breaks text into lines of at most width characters.
func wrap(text string, width int) string {
	var b strings.Builder
	n := 0
	for i, w := range strings.Fields(text) {
		if i > 0 && n+1+len(w) > width {
			b.WriteString("\n")
			n = 0
		} else if i > 0 {
			b.WriteString(" ")
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	b.WriteString("\n")
	return b.String()
}
