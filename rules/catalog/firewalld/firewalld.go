// Package firewalld converts firewalld's service definitions (the XML files
// of /usr/lib/firewalld/services, see firewalld.service(5)) into a portwall
// services catalog file, which --catalog loads.
//
// Conversion never fails on what a file says, only on files that cannot be
// read as a service at all (bad XML, another root element) or cannot be
// named. TCP and UDP destination ports become the service's ports;
// everything else a file says (other protocols, source ports, destination
// addresses, conntrack helpers and modules, includes that cannot be
// resolved, elements this package does not know) becomes an `unsupported`
// reason, which makes a profile that names the service fail. Nothing is
// dropped: dropping a destination address or a helper would open more, or
// less, than firewalld does, silently.
package firewalld

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/rules/catalog"
	"github.com/portwall/portwall/rules/ports"
)

// Service is one converted firewalld service.
type Service struct {
	// Name is the portwall name; see Name.
	Name string
	// File is the firewalld file's base name, "ssh.xml".
	File  string
	Title string
	// TCP and UDP are the destination ports, includes flattened in.
	TCP, UDP ports.Set
	// Unsupported lists, sorted, what else the service needs that portwall
	// cannot express.
	Unsupported []string
}

// Full reports whether the service converted without unsupported parts.
func (s *Service) Full() bool { return len(s.Unsupported) == 0 }

// service is a firewalld service file as XML. Elements and attributes this
// package does not know are collected, not ignored: firewalld may grow
// another restriction, and dropping it would open more than it does.
type service struct {
	XMLName      xml.Name      `xml:"service"`
	Version      string        `xml:"version,attr"`
	OtherAttrs   []xml.Attr    `xml:",any,attr"`
	Short        string        `xml:"short"`
	Description  string        `xml:"description"`
	Ports        []port        `xml:"port"`
	SourcePorts  []port        `xml:"source-port"`
	Protocols    []value       `xml:"protocol"`
	Modules      []named       `xml:"module"`
	Helpers      []named       `xml:"helper"`
	Destinations []destination `xml:"destination"`
	Includes     []include     `xml:"include"`
	Other        []other       `xml:",any"`
}

type port struct {
	Port       string     `xml:"port,attr"`
	Protocol   string     `xml:"protocol,attr"`
	OtherAttrs []xml.Attr `xml:",any,attr"`
}

type value struct {
	Value      string     `xml:"value,attr"`
	OtherAttrs []xml.Attr `xml:",any,attr"`
}

type named struct {
	Name       string     `xml:"name,attr"`
	OtherAttrs []xml.Attr `xml:",any,attr"`
}

type destination struct {
	IPv4       string     `xml:"ipv4,attr"`
	IPv6       string     `xml:"ipv6,attr"`
	OtherAttrs []xml.Attr `xml:",any,attr"`
}

type include struct {
	Service    string     `xml:"service,attr"`
	OtherAttrs []xml.Attr `xml:",any,attr"`
}

type other struct {
	XMLName xml.Name
}

// parsed is one file after reading, before includes are resolved.
type parsed struct {
	name     string // firewalld name: the file name without .xml
	file     string
	title    string
	tcp, udp []ports.Range
	reasons  []string
	includes []string
}

// Convert converts the firewalld service files in files (base name, such as
// "ssh.xml", to contents), read from dir, which only names them in errors.
// The result is sorted by name. Every file that cannot be read as a service
// or named is reported, as file:line:col where the XML says.
func Convert(dir string, files map[string][]byte) ([]Service, error) {
	var errs diag.ErrorList
	byName := map[string]*parsed{}
	for _, file := range slices.Sorted(maps.Keys(files)) {
		p, err := parse(file, files[file])
		if err != nil {
			pos := diag.Pos{File: filepath.Join(dir, file)}
			var xe *xmlError
			if errors.As(err, &xe) {
				pos.Line, pos.Col = xe.line, xe.col
			}
			errs.Add(pos, "", "%v", err)
			continue
		}
		byName[p.name] = p
	}
	var out []Service
	named := map[string]string{} // portwall name -> file
	for _, fwName := range slices.Sorted(maps.Keys(byName)) {
		p := byName[fwName]
		name, err := Name(fwName)
		if err != nil {
			errs.Add(diag.Pos{File: filepath.Join(dir, p.file)}, "", "%v", err)
			continue
		}
		if other, dup := named[name]; dup {
			errs.Add(diag.Pos{File: filepath.Join(dir, p.file)}, "", "service name %q is also the name of %s: rename one of the files", name, filepath.Join(dir, other))
			continue
		}
		named[name] = p.file
		out = append(out, flatten(p, byName, name))
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Service) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Name turns a firewalld service name (its file name without .xml) into a
// portwall catalog name: lower-case, every run of characters other than
// ASCII letters and digits turned into one dash, dashes trimmed from the
// ends. "RH-Satellite-6" becomes "rh-satellite-6", "foo_bar.baz"
// "foo-bar-baz". A name that is still
// not valid (empty, or longer than catalog.MaxNameLen) is an error: cutting
// it short could make two services one.
func Name(firewalld string) (string, error) {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(firewalld) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	n := strings.Trim(b.String(), "-")
	if !catalog.ValidName(n) {
		return "", fmt.Errorf("cannot name service %q in portwall: %q is not a valid name (letters, digits and dashes, at most %d characters); rename the file", firewalld, n, catalog.MaxNameLen)
	}
	return n, nil
}

// xmlError is an XML problem with its position.
type xmlError struct {
	line, col int
	err       error
}

func (e *xmlError) Error() string { return e.err.Error() }

// parse reads one service file.
func parse(file string, data []byte) (*parsed, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	var s service
	if err := d.Decode(&s); err != nil {
		line, col := d.InputPos()
		var se *xml.SyntaxError
		switch {
		case errors.Is(err, io.EOF):
			err = errors.New("no <service> element")
		case errors.As(err, &se):
			// The position goes in front, as for every input error.
			err = errors.New("XML syntax error: " + se.Msg)
		}
		return nil, &xmlError{line, col, err}
	}
	// Decode stops after the root element: what follows must be nothing
	// but comments and white space.
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		line, col := d.InputPos()
		var se *xml.SyntaxError
		if errors.As(err, &se) {
			return nil, &xmlError{line, col, errors.New("XML syntax error: " + se.Msg)}
		}
		if err != nil {
			return nil, &xmlError{line, col, err}
		}
		if se, ok := tok.(xml.StartElement); ok {
			return nil, &xmlError{line, col, fmt.Errorf("element <%s> after </service>: a file holds one service", se.Name.Local)}
		}
	}
	p := &parsed{name: strings.TrimSuffix(file, ".xml"), file: file, title: strings.Join(strings.Fields(s.Short), " ")}
	if p.title == "" {
		p.title = p.name
	}
	reason := func(format string, args ...any) { p.reasons = append(p.reasons, fmt.Sprintf(format, args...)) }
	attrs := func(elem string, as []xml.Attr) {
		for _, a := range as {
			reason("what the attribute %s=%q of <%s> says", attrName(a.Name), a.Value, elem)
		}
	}
	attrs("service", s.OtherAttrs)
	for _, pt := range s.Ports {
		attrs("port", pt.OtherAttrs)
		proto, spec := strings.TrimSpace(pt.Protocol), strings.TrimSpace(pt.Port)
		var list *[]ports.Range
		switch proto {
		case "tcp":
			list = &p.tcp
		case "udp":
			list = &p.udp
		case "":
			reason("a protocol for port %q (the file gives none)", spec)
			continue
		default:
			// firewalld writes "IP protocol only" as a port without a
			// number, for compatibility; sctp and dccp have ports.
			if spec == "" {
				reason("IP protocol %s", proto)
			} else {
				reason("%s port %s", proto, spec)
			}
			continue
		}
		if spec == "" {
			// An empty port matches the protocol (firewalld.service(5)):
			// every port, which portwall can say.
			*list = append(*list, ports.All)
			continue
		}
		r, err := ports.Parse(spec)
		if err != nil {
			reason("%s port %q (not a port or port range)", proto, spec)
			continue
		}
		*list = append(*list, r)
	}
	for _, v := range s.Protocols {
		attrs("protocol", v.OtherAttrs)
		switch pr := strings.TrimSpace(v.Value); pr {
		case "tcp":
			p.tcp = append(p.tcp, ports.All)
		case "udp":
			p.udp = append(p.udp, ports.All)
		default:
			reason("IP protocol %s", pr)
		}
	}
	for _, sp := range s.SourcePorts {
		attrs("source-port", sp.OtherAttrs)
		reason("matching on source port %s/%s", strings.TrimSpace(sp.Port), strings.TrimSpace(sp.Protocol))
	}
	for _, dst := range s.Destinations {
		attrs("destination", dst.OtherAttrs)
		var to []string
		for _, a := range []string{dst.IPv4, dst.IPv6} {
			if a = strings.TrimSpace(a); a != "" {
				to = append(to, a)
			}
		}
		reason("its destination limited to %s", strings.Join(to, " and "))
	}
	for _, m := range s.Modules {
		attrs("module", m.OtherAttrs)
		reason("kernel module %q", m.Name)
	}
	for _, h := range s.Helpers {
		attrs("helper", h.OtherAttrs)
		reason("conntrack helper %q", h.Name)
	}
	for _, inc := range s.Includes {
		attrs("include", inc.OtherAttrs)
		p.includes = append(p.includes, strings.TrimSpace(inc.Service))
	}
	for _, o := range s.Other {
		reason("what firewalld's <%s> element says", o.XMLName.Local)
	}
	if len(p.tcp) == 0 && len(p.udp) == 0 && len(p.reasons) == 0 && len(p.includes) == 0 {
		// firewalld accepts an empty service, which opens nothing; naming
		// it in a profile would silently do nothing.
		reason("some port or protocol (%s defines none)", file)
	}
	return p, nil
}

func attrName(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

// flatten resolves p's includes: their ports join p's, their reasons too,
// marked with the include they come from. An include of a service no file
// defines, or one that leads back to a service already being included, is
// a reason of its own.
func flatten(p *parsed, byName map[string]*parsed, name string) Service {
	out := Service{Name: name, File: p.file, Title: p.title}
	tcp, udp := slices.Clone(p.tcp), slices.Clone(p.udp)
	reasons := map[string]bool{}
	for _, r := range p.reasons {
		reasons[r] = true
	}
	done := map[string]bool{p.name: true}
	var visit func(inc string, stack []string)
	visit = func(inc string, stack []string) {
		via := strings.Join(stack[1:], " -> ")
		if slices.Contains(stack, inc) {
			reasons[fmt.Sprintf("included services that loop (%s -> %s)", strings.Join(stack, " -> "), inc)] = true
			return
		}
		if done[inc] {
			return // reached twice without a loop: counted once
		}
		done[inc] = true
		q, ok := byName[inc]
		if !ok {
			if via == "" {
				reasons[fmt.Sprintf("included service %q, which no file of the directory defines", inc)] = true
			} else {
				reasons[fmt.Sprintf("included service %q (through %s), which no file of the directory defines", inc, via)] = true
			}
			return
		}
		tcp = append(tcp, q.tcp...)
		udp = append(udp, q.udp...)
		path := strings.Join(append(stack[1:], inc), " -> ")
		for _, r := range q.reasons {
			reasons[fmt.Sprintf("%s (from included service %s)", r, path)] = true
		}
		for _, next := range q.includes {
			visit(next, append(slices.Clone(stack), inc))
		}
	}
	for _, inc := range p.includes {
		visit(inc, []string{p.name})
	}
	out.TCP, out.UDP = ports.NewSet(tcp...), ports.NewSet(udp...)
	out.Unsupported = slices.Sorted(maps.Keys(reasons))
	return out
}

// fileOut is the TOML layout of a services catalog file, as package
// catalog reads it.
type fileOut struct {
	Sources  []sourceOut  `toml:"source"`
	Services []serviceOut `toml:"service"`
}

type sourceOut struct {
	ID    string `toml:"id"`
	Title string `toml:"title"`
	URL   string `toml:"url"`
}

type serviceOut struct {
	Name        string   `toml:"name"`
	Title       string   `toml:"title"`
	TCP         []any    `toml:"tcp,omitempty"`
	UDP         []any    `toml:"udp,omitempty"`
	Source      string   `toml:"source"`
	Row         string   `toml:"row"`
	Unsupported []string `toml:"unsupported,omitempty,multiline"`
}

// ManPage documents the format the files are in.
const ManPage = "https://firewalld.org/documentation/man-pages/firewalld.service.html"

// Encode writes services as one services catalog file. dir names the
// directory they came from in the file's source.
func Encode(dir string, services []Service) ([]byte, error) {
	full := 0
	for i := range services {
		if services[i].Full() {
			full++
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `# portwall services catalog, converted by portwall catalog import-firewalld
# from the firewalld service files in %s.
#
# %d services: %d convert in full, %d need parts portwall cannot express
# (listed under unsupported; a profile that names such a service is
# refused). Names are the file names lower-cased, each run of characters
# other than letters and digits turned into a dash; row names the file.
# Includes are flattened. Load the file with --catalog DIR: its services
# replace built-in ones of the same name.

`, dir, len(services), full, len(services)-full)
	f := fileOut{Sources: []sourceOut{{ID: "firewalld", Title: "firewalld service files in " + dir, URL: ManPage}}}
	for _, s := range services {
		f.Services = append(f.Services, serviceOut{
			Name: s.Name, Title: s.Title, TCP: portValues(s.TCP), UDP: portValues(s.UDP),
			Source: "firewalld", Row: s.File, Unsupported: s.Unsupported,
		})
	}
	data, err := toml.Marshal(f)
	if err != nil {
		return nil, err
	}
	b.Write(data)
	return b.Bytes(), nil
}

// portValues writes single ports as numbers and ranges as strings, as the
// hand-written catalog does.
func portValues(s ports.Set) []any {
	var out []any
	for _, r := range s {
		if r.First == r.Last {
			out = append(out, int64(r.First))
		} else {
			out = append(out, r.String())
		}
	}
	return out
}

// ReadDir reads the service files (*.xml) of dir, for Convert.
func ReadDir(dir string) (map[string][]byte, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.xml"))
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		if _, err := os.Stat(dir); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%s: no firewalld service files (*.xml)", dir)
	}
	files := map[string][]byte{}
	for _, n := range names {
		data, err := os.ReadFile(n)
		if err != nil {
			return nil, err
		}
		files[filepath.Base(n)] = data
	}
	return files, nil
}
