// Package jsonrules renders the abstract rules as JSON, for scripts and for
// tools portwall has no backend for: per host (what the host allows in and
// out) or the network view (every rule between every pair of endpoints).
//
// The output is a contract: fields may be added, never renamed or removed.
package jsonrules

import (
	"bytes"
	"encoding/json"

	"go4.org/netipx"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/proto"
)

// Generator is the JSON backend.
type Generator struct{}

func (Generator) Name() string { return "json" }

func (Generator) Caps() generators.Caps {
	return generators.Caps{HostView: true, NetworkView: true, FQDN: generators.FQDNNative, Program: true, Ext: ".json"}
}

// Section: the JSON export has no settings.
func (Generator) Section() generators.Section { return nil }

// Generate renders one file per host, or network.json for the network view.
func (g Generator) Generate(req generators.Request) ([]generators.File, error) {
	rs := req.Ruleset
	if len(req.Hosts) == 0 {
		doc := Network{Comment: comment, Profile: rs.Profile, Policy: policy(rs.Policy), AddressSets: sets(rs, nil), Rules: []Rule{}, Internal: []Internal{}}
		for _, r := range rs.Rules {
			doc.Rules = append(doc.Rules, rule(r))
		}
		for _, f := range rs.Internal {
			doc.Internal = append(doc.Internal, InternalJSON(f))
		}
		data, err := encode(doc)
		return []generators.File{{Name: "network.json", Contents: data}}, err
	}
	var files []generators.File
	for _, h := range req.Hosts {
		v, err := rs.HostView(h)
		if err != nil {
			return nil, err
		}
		used := map[string]bool{}
		doc := HostDoc{
			Comment: comment, Profile: rs.Profile, Policy: policy(rs.Policy),
			Host:    HostInfo{Name: v.Host.Name, Description: v.Host.Description, Addresses: addrStrings(v.Host)},
			Inbound: []Rule{}, Outbound: []Rule{},
		}
		for _, hr := range v.In {
			doc.Inbound = append(doc.Inbound, rule(hr.Rule))
			markUsed(used, hr.Rule.From, hr.Rule.To)
		}
		for _, hr := range v.Out {
			doc.Outbound = append(doc.Outbound, rule(hr.Rule))
			markUsed(used, hr.Rule.From, hr.Rule.To)
		}
		doc.AddressSets = sets(rs, used)
		data, err := encode(doc)
		if err != nil {
			return nil, err
		}
		files = append(files, generators.File{Name: h + g.Caps().Ext, Contents: data})
	}
	return files, nil
}

// comment starts every document, as a comment line starts every other
// backend's output.
const comment = generators.Marker + ": do not edit; change the profile and generate again."

// HostDoc is the JSON of one host.
type HostDoc struct {
	// Comment says who wrote the file (generators.Marker).
	Comment     string    `json:"comment"`
	Profile     string    `json:"profile"`
	Host        HostInfo  `json:"host"`
	Policy      Policy    `json:"policy"`
	AddressSets []AddrSet `json:"address_sets"`
	// Inbound rules allow traffic to the host, Outbound from it. Outbound
	// rules matter only when policy.output is "drop".
	Inbound  []Rule `json:"inbound"`
	Outbound []Rule `json:"outbound"`
}

// Network is the JSON of the network view.
type Network struct {
	Comment     string     `json:"comment"`
	Profile     string     `json:"profile"`
	Policy      Policy     `json:"policy"`
	AddressSets []AddrSet  `json:"address_sets"`
	Rules       []Rule     `json:"rules"`
	Internal    []Internal `json:"internal"`
}

// HostInfo describes the host.
type HostInfo struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Addresses   []string `json:"addresses"`
}

// Policy is the profile's default policy.
type Policy struct {
	Input      string `json:"input"`
	Output     string `json:"output"`
	LogDropped bool   `json:"log_dropped"`
	FQDN       string `json:"fqdn"`
}

// AddrSet is a named address set with its resolved contents.
type AddrSet struct {
	Name  string   `json:"name"`
	Kind  string   `json:"kind"`
	All   bool     `json:"all"`
	IPv4  []string `json:"ipv4"`
	IPv6  []string `json:"ipv6"`
	FQDNs []string `json:"fqdns"`
}

// Rule is one abstract rule. From and To name address sets.
type Rule struct {
	ID        string   `json:"id"`
	From      []string `json:"from"`
	To        []string `json:"to"`
	Protocol  string   `json:"protocol"`
	Ports     []string `json:"ports"`
	ICMPTypes []string `json:"icmp_types"`
	Program   string   `json:"program,omitempty"`
	Origins   []Origin `json:"origins"`
}

// Origin says why a rule exists.
type Origin struct {
	Kind       string   `json:"kind"`
	Deployment string   `json:"deployment,omitempty"`
	Product    string   `json:"product,omitempty"`
	Feature    string   `json:"feature,omitempty"`
	Flow       string   `json:"flow,omitempty"`
	FromLabel  string   `json:"from_label,omitempty"`
	ToLabel    string   `json:"to_label,omitempty"`
	Purpose    string   `json:"purpose,omitempty"`
	Source     string   `json:"source,omitempty"`
	Departure  string   `json:"departure,omitempty"`
	Allow      *int     `json:"allow,omitempty"`
	Service    string   `json:"service,omitempty"`
	Comment    string   `json:"comment,omitempty"`
	Ports      []string `json:"ports"`
	ICMPTypes  []string `json:"icmp_types"`
}

// Internal is a flow portwall never opens.
type Internal struct {
	From     []string `json:"from"`
	To       []string `json:"to"`
	Protocol string   `json:"protocol"`
	Origin   Origin   `json:"origin"`
}

func policy(p ir.Policy) Policy {
	return Policy{Input: string(p.Input), Output: string(p.Output), LogDropped: p.LogDropped, FQDN: string(p.FQDN)}
}

func markUsed(used map[string]bool, es ...ir.Endpoint) {
	for _, e := range es {
		for _, n := range e.Sets {
			used[n] = true
		}
	}
}

func sets(rs *ir.Ruleset, used map[string]bool) []AddrSet {
	out := []AddrSet{}
	for _, s := range rs.Addrs {
		if used != nil && !used[s.Name] {
			continue
		}
		out = append(out, AddrSet{
			Name: s.Name, Kind: string(s.Kind), All: s.IsAny(),
			IPv4: ranges(s.Ranges(ir.IPv4)), IPv6: ranges(s.Ranges(ir.IPv6)), FQDNs: nonNil(s.FQDNs),
		})
	}
	return out
}

func ranges(rs []netipx.IPRange) []string {
	out := []string{}
	for _, r := range rs {
		if p, ok := r.Prefix(); ok {
			out = append(out, p.String())
		} else {
			out = append(out, r.String())
		}
	}
	return out
}

func addrStrings(h *ir.Host) []string {
	out := []string{}
	for _, a := range h.Addrs {
		out = append(out, a.String())
	}
	return out
}

// RuleJSON is a rule as this backend writes it, for other commands that
// print rules as JSON (explain).
func RuleJSON(r *ir.Rule) Rule { return rule(r) }

// InternalJSON is an internal flow as this backend writes it.
func InternalJSON(f *ir.InternalFlow) Internal {
	return Internal{From: nonNil(f.From.Sets), To: nonNil(f.To.Sets), Protocol: f.Protocol.String(), Origin: origin(f.Origin, f.Protocol)}
}

func rule(r *ir.Rule) Rule {
	out := Rule{
		ID: r.ID, From: r.From.Sets, To: r.To.Sets, Protocol: r.Protocol.String(),
		Ports: nonNil(r.Ports.Strings()), ICMPTypes: typeNames(r.Protocol, r.ICMPTypes), Program: r.Program,
	}
	for _, o := range r.Origins {
		out.Origins = append(out.Origins, origin(o, r.Protocol))
	}
	return out
}

func origin(o ir.Origin, p proto.Protocol) Origin {
	out := Origin{
		Kind: string(o.Kind), Deployment: o.Deployment, Product: o.Product, Feature: o.Feature, Flow: o.Flow,
		FromLabel: o.FromLabel, ToLabel: o.ToLabel, Purpose: o.Purpose, Source: o.Source, Departure: o.Departure, Service: o.Service, Comment: o.Comment,
		Ports: nonNil(o.Ports.Strings()), ICMPTypes: typeNames(p, o.ICMPTypes),
	}
	if o.Kind == ir.OriginCustom {
		i := o.Allow
		out.Allow = &i
	}
	return out
}

func typeNames(p proto.Protocol, ts []uint8) []string {
	out := []string{}
	for _, t := range ts {
		out = append(out, proto.ICMPTypeName(p, t))
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func encode(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return b.Bytes(), err
}
