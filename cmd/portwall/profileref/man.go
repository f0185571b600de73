package profileref

import (
	"fmt"
	"strings"
)

// Man is portwall-profile(5): the reference as a roff manual page, for
// man -l. Nothing in it depends on the day it was made.
func (r *Reference) Man() string {
	var b strings.Builder
	b.WriteString(`.TH PORTWALL\-PROFILE 5 "" "portwall" "File Formats Manual"
.SH NAME
portwall\-profile \- the deployment profile portwall reads (TOML)
.SH SYNOPSIS
.EX
portwall validate \fIprofile.toml\fR
portwall generate \fIprofile.toml\fR \-\-target \fItarget\fR \-\-host \fIname\fR
portwall schema \-o portwall\-profile.schema.json
.EE
.SH DESCRIPTION
A profile says which products run on which hosts, with which features,
reachable from which networks, and which rules no catalog knows.
portwall resolves it against its port catalog and writes the rules for each
host.
`)
	for _, p := range intro() {
		b.WriteString(".PP\n")
		b.WriteString(roff(wrap(p, 76)))
	}
	b.WriteString(".PP\nThe keys of each table follow, with their type, default and meaning.\n")
	for _, t := range r.tables() {
		title := "Top level"
		if t.Header != "" {
			title = t.Header
		}
		fmt.Fprintf(&b, ".SS \"%s\"\n", strings.ReplaceAll(roff(title), `"`, `\(dq`))
		if t.Header != "" {
			b.WriteString(roff(upperFirst(t.Doc) + ".\n"))
		}
		for _, row := range t.Rows {
			tag := `\fB` + roff(row.Key) + `\fR (` + roff(row.Type)
			switch {
			case row.Literal:
				tag += `; default \fB` + roff(row.Default) + `\fR`
			case row.Default == "required":
				tag += "; required"
			case row.Default != "":
				tag += "; default: " + roff(row.Default)
			}
			tag += ")"
			b.WriteString(".TP\n" + tag + "\n" + roff(row.Meaning+".\n"))
		}
	}
	b.WriteString(`.SH "SEE ALSO"
.BR portwall (1);
.B portwall catalog show
.I product
lists a product's roles, peers, features, options, modes and versions.
`)
	return b.String()
}

// roff escapes text for a roff text line: backslashes, hyphens (as \- so
// that values and flags copy as typed), and a leading dot or quote that
// would make a line a request.
func roff(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			lines[i] = `\&` + l
		}
	}
	return strings.Join(lines, "\n")
}
