package catalog

import (
	"fmt"
	"strings"

	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

// Query is what `catalog search` looks for: a port ("8013", "7100-7150",
// "25/tcp"), or words matched against names, titles and purposes.
type Query struct {
	Ports    ports.Set      // set for a port query
	Protocol proto.Protocol // with "PORT/PROTOCOL"; 0 matches TCP and UDP
	Text     string         // lower case, for a word query
}

// ParseQuery reads a search query: a port or a port range (with an
// optional /tcp or /udp), or words. A query that starts with a digit is a
// port and must be a valid one (99999 is an error, not a word).
func ParseQuery(s string) (Query, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	num, pr, hasProto := strings.Cut(s, "/")
	if num == "" || num[0] < '0' || num[0] > '9' {
		return Query{Text: s}, nil
	}
	r, err := ports.Parse(num)
	if err != nil {
		return Query{}, err
	}
	q := Query{Ports: ports.NewSet(r)}
	if hasProto {
		p, err := proto.Parse(pr)
		if err != nil || !p.HasPorts() {
			return Query{}, fmt.Errorf("invalid protocol %q in %q: want tcp or udp", pr, s)
		}
		q.Protocol = p
	}
	return q, nil
}

// IsPort reports whether the query is about ports.
func (q Query) IsPort() bool { return len(q.Ports) > 0 }

// FlowHit is a flow that matches a query.
type FlowHit struct {
	Product *Product
	Flow    *Flow
}

// Search finds the flows (of every product) and services that use the
// query's ports (a flow's ports by default: see Product.DefaultPorts), or
// whose names, titles or purposes hold its text: which products open 8013,
// what is "smtp". Flows come in catalog order, services by name.
func (c *Catalog) Search(q Query) ([]FlowHit, []*Service) {
	var flows []FlowHit
	for _, p := range c.Products {
		for i := range p.Flows {
			f := &p.Flows[i]
			if q.matchFlow(p, f) {
				flows = append(flows, FlowHit{p, f})
			}
		}
	}
	var services []*Service
	for _, s := range c.Services {
		if q.matchService(s) {
			services = append(services, s)
		}
	}
	return flows, services
}

func (q Query) matchFlow(p *Product, f *Flow) bool {
	if q.IsPort() {
		for _, pr := range f.Protocols {
			if pr.HasPorts() && (q.Protocol == 0 || q.Protocol == pr) && p.DefaultPorts(f).Intersect(q.Ports).Len() > 0 {
				return true
			}
		}
		return false
	}
	feature := ""
	if ft, ok := p.Feature(f.Feature); ok {
		feature = ft.Title
	}
	return q.holds(p.Name, p.Title, f.ID, f.Feature, feature, f.From, f.To, f.Purpose, f.Row, f.Departure)
}

func (q Query) matchService(s *Service) bool {
	if q.IsPort() {
		for _, pp := range s.Ports() {
			if (q.Protocol == 0 || q.Protocol == pp.Protocol) && pp.Ports.Intersect(q.Ports).Len() > 0 {
				return true
			}
		}
		return false
	}
	return q.holds(s.Name, s.Title, s.Row)
}

// holds reports whether every word of the query is in one of the texts.
func (q Query) holds(texts ...string) bool {
	all := strings.ToLower(strings.Join(texts, "\n"))
	for _, w := range strings.Fields(q.Text) {
		if !strings.Contains(all, w) {
			return false
		}
	}
	return q.Text != ""
}

// PortString formats a flow's protocols and ports for people: "tcp 443",
// "tcp+udp 53", "icmp+icmpv6 echo-request".
func (f *Flow) PortString() string {
	var protos []string
	for _, pr := range f.Protocols {
		protos = append(protos, pr.String())
	}
	s := strings.Join(protos, "+")
	if len(f.Ports) > 0 {
		s += " " + f.Ports.String()
	}
	if len(f.ICMPTypes) > 0 {
		s += " " + strings.Join(f.ICMPTypes, ",")
	}
	return s
}
