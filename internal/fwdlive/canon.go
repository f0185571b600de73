package fwdlive

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// element is an XML element as firewalld reads it: comments, processing
// instructions and the whitespace between elements are gone.
type element struct {
	name     string
	attrs    []xml.Attr
	children []*element
	text     string
}

// parse reads any well-formed XML document: the live files may hold
// whatever an administrator or another tool wrote.
func parse(data []byte) (*element, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	var root *element
	var stack []*element
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			if root == nil || len(stack) > 0 {
				return nil, errors.New("no complete root element")
			}
			return root, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			e := &element{name: xmlName(t.Name), attrs: t.Copy().Attr}
			if len(stack) == 0 {
				if root != nil {
					return nil, fmt.Errorf("a second root element <%s>", e.name)
				}
				root = e
			} else {
				p := stack[len(stack)-1]
				p.children = append(p.children, e)
			}
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(t)
			}
		}
	}
}

func xmlName(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

// line writes an element and everything in it on one line, attributes
// sorted by name, text trimmed and escaped anew.
func (e *element) line() string {
	var b strings.Builder
	e.write(&b)
	return b.String()
}

func (e *element) write(b *strings.Builder) {
	b.WriteString("<" + e.name)
	attrs := slices.Clone(e.attrs)
	slices.SortFunc(attrs, func(x, y xml.Attr) int { return strings.Compare(xmlName(x.Name), xmlName(y.Name)) })
	for _, a := range attrs {
		fmt.Fprintf(b, " %s=\"%s\"", xmlName(a.Name), escape(a.Value))
	}
	text := strings.TrimSpace(e.text)
	if len(e.children) == 0 && text == "" {
		b.WriteString("/>")
		return
	}
	b.WriteString(">" + escape(text))
	for _, c := range e.children {
		c.write(b)
	}
	b.WriteString("</" + e.name + ">")
}

func escape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s)) // to memory: no error
	return b.String()
}

// canonical is a file's meaning as lines: the root element's start tag,
// then each child element on a line of its own, indented, then the end
// tag. The root's <short> and <description> come first, as firewalld
// writes them; the other children are sorted, since firewalld gives
// their order no meaning (a zone's services, ports and rich rules are
// sets, rich rules of one priority run in no defined order). Inside a
// child (a rich rule) the order is kept. A file that is not well-formed
// XML is one line saying so: it never equals anything.
func canonical(data []byte) []string {
	root, err := parse(data)
	if err != nil {
		return []string{fmt.Sprintf("(not XML that firewalld can read: %v)", err)}
	}
	var head, rest []string
	for _, c := range root.children {
		if c.name == "short" || c.name == "description" {
			head = append(head, "  "+c.line())
		} else {
			rest = append(rest, "  "+c.line())
		}
	}
	slices.Sort(rest)
	start := (&element{name: root.name, attrs: root.attrs}).line()
	start = strings.TrimSuffix(start, "/>") + ">"
	if text := strings.TrimSpace(root.text); text != "" {
		head = append([]string{"  " + escape(text)}, head...)
	}
	out := append([]string{start}, head...)
	out = append(out, rest...)
	return append(out, "</"+root.name+">")
}
