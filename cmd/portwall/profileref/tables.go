package profileref

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/portwall/portwall/profiles"
)

// The reference as tables, one per table of the profile, for the README
// (Markdown) and the manual page (Man).

// docTable is one table of the profile: its TOML header, what it is, and
// a row per key.
type docTable struct {
	Header string // [defaults], [[deployment]], [hosts.NAME]; "" for the top level
	Doc    string
	Rows   []row
}

type row struct {
	Key, Type, Default, Meaning string
	// Literal marks a Default that is a TOML value rather than words.
	Literal bool
}

// intro is what holds for every key, said once before the tables.
func intro() []string {
	return []string{
		"A profile is one TOML file. Unknown keys are errors, and so are values of another type: " +
			"keys have one spelling, and ports and dates are written one way.",
		"Where a list is expected (type \"string or list of strings\", \"port or list of ports\"), " +
			"a single value stands for a list of one. A port is a number 1-65535 or a string \"first-last\" " +
			"(\"7100-7150\"), digits only.",
		"A name (of the profile, a host, a group or a deployment) has lower-case letters, digits, '-' and '_', " +
			"at most 48 characters, starting and ending with a letter or digit. Hosts and groups share one " +
			"namespace, in which \"any\" stands for every address.",
		"Backends' sections ([nftables], [iptables], ...) hold each backend's own settings; " +
			"a profile without one gets the defaults.",
		profiles.PlaceholderRule,
	}
}

// tables lists the profile's tables, each after the table that holds it.
func (r *Reference) tables() []docTable {
	var out []docTable
	var visit func(k profiles.Key, header string, path []string)
	visit = func(k profiles.Key, header string, path []string) {
		t := docTable{Header: header, Doc: k.Doc}
		for _, sub := range k.Keys {
			t.Rows = append(t.Rows, r.row(sub))
		}
		out = append(out, t)
		for _, sub := range k.Keys {
			p := append(append([]string(nil), path...), sub.Name)
			name := strings.Join(p, ".")
			switch sub.Type {
			case profiles.TypeTable:
				visit(sub, "["+name+"]", p)
			case profiles.TypeArray:
				visit(sub, "[["+name+"]]", p)
			case profiles.TypeMap:
				e := *sub.Elem
				if e.Type == profiles.TypeTable {
					visit(e, "["+name+"."+e.Name+"]", append(p, e.Name))
					continue
				}
				out = append(out, docTable{Header: "[" + name + "]", Doc: sub.Doc, Rows: []row{r.row(e)}})
				if len(e.Keys) > 0 {
					inline := docTable{Header: name + "." + e.Name + " = { ... }", Doc: "the inline table of " + e.Name}
					for _, ik := range e.Keys {
						inline.Rows = append(inline.Rows, r.row(ik))
					}
					out = append(out, inline)
				}
			}
		}
	}
	visit(r.Root, "", nil)
	return out
}

func (r *Reference) row(k profiles.Key) row {
	out := row{Key: k.Name, Type: r.typeText(k), Meaning: k.Doc}
	switch {
	case k.Required:
		out.Default = "required"
	case k.Default != "":
		out.Default, out.Literal = k.Default, true
	default:
		out.Default = k.Otherwise
	}
	return out
}

// maxListed is the most values a type names; longer sets are named by
// what they are.
const maxListed = 10

// typeText says what a key's value is, in words.
func (r *Reference) typeText(k profiles.Key) string {
	words := map[profiles.Type]string{
		profiles.TypeString:  "string",
		profiles.TypeBoolean: "boolean",
		profiles.TypeInteger: "integer",
		profiles.TypeDate:    "date",
		profiles.TypeStrings: "string or list of strings",
		profiles.TypeList:    "list of strings",
		profiles.TypePorts:   "port or list of ports",
		profiles.TypeChoice:  "port, range or protocol (tcp, udp), or a list of them",
		profiles.TypeScalar:  "string or integer",
		profiles.TypeBinding: "string or list of strings, or inline table",
		profiles.TypeTable:   "table",
		profiles.TypeArray:   "array of tables",
		profiles.TypeMap:     "table",
	}
	t := words[k.Type]
	if k.Pattern == profiles.NamePattern {
		t = "name"
	}
	if k.Format == profiles.FormatIP {
		t = "address or list of addresses"
	}
	if k.Min != 0 || k.Max != 0 {
		t += fmt.Sprintf(" %d-%d", k.Min, k.Max)
	}
	if k.MaxLength > 0 {
		t += fmt.Sprintf(", at most %d characters", k.MaxLength)
	}
	values, hard := r.values(k)
	switch {
	case !hard || len(values) == 0:
	case len(values) <= maxListed:
		quoted := make([]string, len(values))
		for i, v := range values {
			quoted[i] = strconv.Quote(v.Name)
		}
		t += ": " + strings.Join(quoted, ", ")
	default:
		t += ": " + string(k.Names)
	}
	return t
}
