// Package fwdparse reads back what the firewalld backend writes: a strict
// reader of the load script (its fixed shell text, its header comments and
// the here-documents holding the XML files) and of the subset of
// firewalld's zone, policy and service XML that portwall emits, and the
// traffic each element lets through, so that tests can prove the output
// allows nothing the IR does not.
//
// The shell around the files must be exactly the backend's fixed text:
// nothing from a profile may reach the shell outside comments and quoted
// here-documents. The XML is read by its own rules, not by running the
// backend backwards: it knows the baseline a host needs from its own list
// and the ICMP type names from firewalld's, and anything else is an error.
package fwdparse

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/portwall/portwall/generators/firewalld"
)

// Config is a parsed load script.
type Config struct {
	// Header holds the comment lines before the shell, without "# ".
	Header   []string
	Zone     *Zone
	Policy   *Policy // nil without egress filtering
	Services map[string]*Service
	// Files lists the files in script order, as KIND/NAME.xml.
	Files []string
	// Data holds each file's contents, by KIND/NAME.xml, as the script
	// writes it (what portwall diff and apply compare and install).
	Data map[string][]byte
}

// fileLine is how each file starts.
var fileLine = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^` + firewalld.FileFunc + ` (zones|policies|services)/([A-Za-z0-9-]+)\.xml <<'` + firewalld.Heredoc + `'$`)
})

// serviceName is what portwall names its services.
var serviceName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^portwall-[A-Za-z0-9]{1,64}$`) })

// Parse reads a load script.
func Parse(data []byte) (*Config, error) {
	if err := checkBytes(data); err != nil {
		return nil, err
	}
	text := string(data)
	if !strings.HasSuffix(text, "\n") {
		return nil, fmt.Errorf("the script does not end with a line break")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	c := &Config{Services: map[string]*Service{}, Data: map[string][]byte{}}
	if len(lines) == 0 || lines[0] != "#!/bin/sh" {
		return nil, fmt.Errorf("line 1: want #!/bin/sh")
	}
	i := 1
	for ; i < len(lines) && strings.HasPrefix(lines[i], "#"); i++ {
		l := lines[i]
		if l != "#" && !strings.HasPrefix(l, "# ") {
			return nil, fmt.Errorf("line %d: a header comment starts with \"# \": %q", i+1, l)
		}
		c.Header = append(c.Header, strings.TrimPrefix(strings.TrimPrefix(l, "#"), " "))
	}
	var err error
	if i, err = expect(lines, i, firewalld.Prelude, "the script's fixed start"); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for i < len(lines) && strings.HasPrefix(lines[i], firewalld.FileFunc+" ") {
		m := fileLine().FindStringSubmatch(lines[i])
		if m == nil {
			return nil, fmt.Errorf("line %d: not a file of portwall's: %q", i+1, lines[i])
		}
		name := m[1] + "/" + m[2] + ".xml"
		if seen[name] {
			return nil, fmt.Errorf("line %d: %s written twice", i+1, name)
		}
		seen[name] = true
		start := i + 1
		end := start
		for end < len(lines) && lines[end] != firewalld.Heredoc {
			end++
		}
		if end == len(lines) {
			return nil, fmt.Errorf("line %d: %s: the here-document does not end", i+1, name)
		}
		body := strings.Join(lines[start:end], "\n") + "\n"
		if err := c.file(m[1], m[2], []byte(body)); err != nil {
			return nil, fmt.Errorf("line %d: %s: %w", i+1, name, err)
		}
		c.Files = append(c.Files, name)
		c.Data[name] = []byte(body)
		i = end + 1
	}
	if i, err = expect(lines, i, firewalld.Epilogue, "the script's fixed end"); err != nil {
		return nil, err
	}
	if i != len(lines) {
		return nil, fmt.Errorf("line %d: text after the script's end: %q", i+1, lines[i])
	}
	if c.Zone == nil {
		return nil, fmt.Errorf("no zone %s", firewalld.Zone)
	}
	return c, c.checkReferences()
}

// checkBytes refuses control characters other than tab and line feed,
// and invalid UTF-8, anywhere in the script.
func checkBytes(data []byte) error {
	if !utf8.Valid(data) {
		return fmt.Errorf("the script is not valid UTF-8")
	}
	line := 1
	for _, c := range data {
		switch {
		case c == '\n':
			line++
		case c == '\t':
		case c < 0x20 || c == 0x7f:
			return fmt.Errorf("line %d: control character %#x", line, c)
		}
	}
	return nil
}

// expect checks that lines from i on are exactly fixed, and returns the
// line after it.
func expect(lines []string, i int, fixed, what string) (int, error) {
	want := strings.Split(strings.TrimSuffix(fixed, "\n"), "\n")
	for j, w := range want {
		if i+j >= len(lines) {
			return 0, fmt.Errorf("%s is cut short after line %d", what, i+j)
		}
		if lines[i+j] != w {
			return 0, fmt.Errorf("line %d: %s differs: got %q, want %q", i+j+1, what, lines[i+j], w)
		}
	}
	return i + len(want), nil
}

// file reads one XML file of kind (zones, policies, services).
func (c *Config) file(kind, name string, data []byte) error {
	root, err := parseXML(data)
	if err != nil {
		return err
	}
	switch kind {
	case "zones":
		if name != firewalld.Zone {
			return fmt.Errorf("a zone portwall does not write")
		}
		c.Zone, err = zone(root)
	case "policies":
		if name != firewalld.OutPolicy {
			return fmt.Errorf("a policy portwall does not write")
		}
		c.Policy, err = policy(root)
	case "services":
		if !serviceName().MatchString(name) {
			return fmt.Errorf("a service portwall does not write")
		}
		var s *Service
		if s, err = service(root, name); err == nil {
			c.Services[name] = s
		}
	}
	return err
}

// checkReferences: every service a zone or policy names is in the
// script, and every service in the script is named.
func (c *Config) checkReferences() error {
	used := map[string]bool{}
	check := func(where string, names []string, rules []Rule) error {
		for _, r := range rules {
			if r.Service != "" {
				names = append(names, r.Service)
			}
		}
		for _, n := range names {
			if c.Services[n] == nil {
				return fmt.Errorf("%s names service %s, which the script does not write", where, n)
			}
			used[n] = true
		}
		return nil
	}
	if err := check("zone "+firewalld.Zone, c.Zone.Services, c.Zone.Rules); err != nil {
		return err
	}
	if c.Policy != nil {
		if err := check("policy "+firewalld.OutPolicy, c.Policy.Services, c.Policy.Rules); err != nil {
			return err
		}
	}
	for n := range c.Services {
		if !used[n] {
			return fmt.Errorf("service %s is written but never used", n)
		}
	}
	return nil
}

// node is an XML element: its attributes in order, its children, and its
// text (only elements that hold text may have any).
type node struct {
	name     string
	attrs    []xml.Attr
	children []*node
	text     string
}

// attr returns an attribute's value and whether it is there.
func (n *node) attr(name string) (string, bool) {
	for _, a := range n.attrs {
		if a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

// onlyAttrs refuses attributes other than allowed.
func (n *node) onlyAttrs(allowed ...string) error {
	for _, a := range n.attrs {
		ok := false
		for _, w := range allowed {
			ok = ok || a.Name.Local == w
		}
		if !ok {
			return fmt.Errorf("<%s>: attribute %q", n.name, a.Name.Local)
		}
	}
	return nil
}

// leaf refuses children and text.
func (n *node) leaf() error {
	if len(n.children) > 0 || n.text != "" {
		return fmt.Errorf("<%s> holds something", n.name)
	}
	return nil
}

// xmlDecl is the declaration every file starts with.
const xmlDecl = `<?xml version="1.0" encoding="utf-8"?>` + "\n"

// parseXML reads one document into a tree: the declaration, one root
// element, comments; no DOCTYPE, other processing instructions or
// namespaces. Text is kept for elements; whitespace between elements is
// dropped.
func parseXML(data []byte) (*node, error) {
	if !bytes.HasPrefix(data, []byte(xmlDecl)) {
		return nil, fmt.Errorf("does not start with %s", strings.TrimSpace(xmlDecl))
	}
	d := xml.NewDecoder(bytes.NewReader(data[len(xmlDecl):]))
	d.Strict = true
	var root *node
	var stack []*node
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) && root != nil && len(stack) == 0 {
			return root, nil
		}
		if err != nil {
			return nil, fmt.Errorf("XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space != "" {
				return nil, fmt.Errorf("XML: namespace %q", t.Name.Space)
			}
			seen := map[string]bool{}
			for _, a := range t.Attr {
				if a.Name.Space != "" || seen[a.Name.Local] {
					return nil, fmt.Errorf("<%s>: attribute %s:%s repeated or in a namespace", t.Name.Local, a.Name.Space, a.Name.Local)
				}
				seen[a.Name.Local] = true
			}
			n := &node{name: t.Name.Local, attrs: t.Copy().Attr}
			if len(stack) == 0 {
				if root != nil {
					return nil, fmt.Errorf("XML: a second root element <%s>", n.name)
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				if p.text != "" {
					return nil, fmt.Errorf("XML: <%s> mixes text and elements", p.name)
				}
				p.children = append(p.children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if strings.TrimSpace(string(t)) != "" {
					return nil, fmt.Errorf("XML: text outside the root element")
				}
				continue
			}
			top := stack[len(stack)-1]
			if strings.TrimSpace(string(t)) != "" {
				if len(top.children) > 0 {
					return nil, fmt.Errorf("XML: <%s> mixes text and elements", top.name)
				}
				top.text += string(t)
			}
		case xml.Comment:
			if len(stack) == 0 && root == nil {
				return nil, fmt.Errorf("XML: comment before the root element")
			}
		case xml.ProcInst, xml.Directive:
			return nil, fmt.Errorf("XML: processing instruction or directive")
		}
	}
}
