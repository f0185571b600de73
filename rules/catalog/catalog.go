// Package catalog holds the port catalog: for each product, the hosts it
// runs on (roles), the outside parties it talks to (peers), its switchable
// features and the network flows each feature needs, transcribed from the
// vendor's "ports to open" documents; and well-known services (ssh, https)
// that a profile's custom rules may name instead of protocols and ports.
//
// The catalog is data: one TOML file per product, and files holding only
// [[service]] tables, embedded from data/ and extendable at run time with
// --catalog DIR. This package loads and checks those files; it knows
// nothing about deployments.
//
// # Exact to the documents by default
//
// A product's default features open only what its vendor document gives:
// every default flow is backed by a row of the document of the product's
// version (a test checks each against an independent transcription, see
// testdata/transcriptions). What the catalog adds from elsewhere (an RFC, a
// later release's page) is a departure: the flow says so in Departure,
// which `catalog show`, `explain` and `docs` print, and it sits in an
// opt-in feature unless the product cannot work without it.
//
// Where a document gives a choice ("443 or 8890", "UDP or TCP"), the flow
// lists the alternatives and opens one of them unless the profile chooses:
// DefaultChoice and DefaultProtocols (the document's first, or the choice
// the catalog states), or none when RequireChoice says the profile must
// choose. Random ports (Random) open only the product's port pool, or every
// port when the profile says so explicitly.
//
// # Versions
//
// A product whose ports changed between releases lists its Versions, each
// with the document it was transcribed from. A flow with Versions exists
// only in those; flows of different versions may share an ID (the same
// flow as each release's document gives it), and InVersion gives the
// product as one version has it. A product without versions has one
// implicit version, and flows name none.
//
// # Peers that are products
//
// A peer may stand for another catalog product's role (Peer.Product and
// Peer.Role): FortiMail's FortiManager peer is the FortiManager product's
// unit. A profile can then bind the peer to that deployment's role, and
// the other deployment's peers that stand for this product are bound back
// from the same statement (package rules).
//
// # Keys for these, in a product file
//
// All optional, so that files written before them load unchanged (README's
// catalog section shows them in place). Their flows keep their meaning but
// two: alternatives open the first port listed unless a profile chooses
// (they opened every one), and random ports need the port pool or the
// profile's consent to every port.
//
//	[[version]]              name, title, source (the version's document),
//	                         default (exactly one, when there are versions)
//	[[peer]]   product, role the catalog product and role the peer is
//	[[flow]]   versions      only in these versions
//	           departure     why the flow goes beyond its document
//	           default_choice        ports opened among alternatives
//	                                 unless chosen (default: the first listed)
//	           protocol_alternatives protocols are alternatives
//	           default_protocols     protocols opened unless chosen
//	                                 (default: the first listed)
//	           require_choice        no default: the profile must choose
package catalog

import (
	"slices"
	"strings"

	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

// Catalog is a set of products and a set of services, each sorted by
// name.
type Catalog struct {
	Products []*Product
	Services []*Service
}

// Product looks a product up by name.
func (c *Catalog) Product(name string) (*Product, bool) {
	i, ok := slices.BinarySearchFunc(c.Products, name, func(p *Product, n string) int { return strings.Compare(p.Name, n) })
	if !ok {
		return nil, false
	}
	return c.Products[i], true
}

// Service looks a service up by name.
func (c *Catalog) Service(name string) (*Service, bool) {
	i, ok := slices.BinarySearchFunc(c.Services, name, func(s *Service, n string) int { return strings.Compare(s.Name, n) })
	if !ok {
		return nil, false
	}
	return c.Services[i], true
}

// ServiceNames lists the service names, for suggestions.
func (c *Catalog) ServiceNames() []string {
	out := make([]string, len(c.Services))
	for i, s := range c.Services {
		out[i] = s.Name
	}
	return out
}

// Names lists the product names.
func (c *Catalog) Names() []string {
	out := make([]string, len(c.Products))
	for i, p := range c.Products {
		out[i] = p.Name
	}
	return out
}

// Product is one vendor product.
type Product struct {
	Name    string
	Title   string
	Vendor  string
	Summary string
	// File is where the product was loaded from: "catalog/<name>.toml" for
	// the embedded catalog, the path for --catalog files.
	File string

	Sources []Source
	Modes   []string // operating modes, empty if the product has none
	Mode    string   // the default mode
	// Versions are the releases whose documents differ, oldest first;
	// empty if the product has one. Version is the default: the release of
	// the document the product was first transcribed from.
	Versions []Version
	Version  string
	Options  []Option
	Roles    []Role
	Peers    []Peer
	Features []Feature
	Flows    []Flow
	// InstallerRules are the Windows Firewall rules the product's
	// installer adds by itself ([[installer_rule]], installer.go).
	InstallerRules []InstallerRule
}

// Source is a document the catalog was transcribed from.
type Source struct {
	ID    string
	Title string
	URL   string
	// Seed names the copy of the document kept with the project, if any.
	Seed string
}

// Version is a release of a product whose document gives other ports
// than another release's.
type Version struct {
	Name  string // as a profile writes it: "2023.2"
	Title string
	// Source is the document the version's flows are transcribed from;
	// flows that go beyond it are departures.
	Source string
}

// OptionKind says what values an option takes.
type OptionKind string

const (
	// OptionChoice takes one of Values.
	OptionChoice OptionKind = "choice"
	// OptionPortRange takes a port range such as "7100-7150".
	OptionPortRange OptionKind = "port-range"
	// OptionPath takes a file system path (a Windows install directory).
	OptionPath OptionKind = "path"
)

// Option is a product setting a deployment may give, such as the
// FortiGuard region or FME's port pool.
type Option struct {
	Name    string
	Title   string
	Kind    OptionKind
	Values  []string // for OptionChoice
	Default string   // "" means unset
}

// Service is a well-known service: the destination ports a server of it
// listens on. A profile's [[allow]] may name it instead of protocol and
// ports.
type Service struct {
	Name  string
	Title string
	// File is where the service was loaded from, as Product.File.
	File string
	// TCP and UDP are the destination ports per protocol; at least one is
	// set unless the service has Unsupported parts only.
	TCP, UDP ports.Set
	// Source is the document the definition comes from, Row its entry.
	Source Source
	Row    string
	// Unsupported says, for people, what else the service needs that
	// portwall cannot express (other IP protocols, source ports,
	// destination addresses, conntrack helpers). A service with any is
	// refused when a profile names it: opening only its ports would be
	// half a service, and the half that is missing is not always the one
	// that makes it fail safe.
	Unsupported []string

	pos diag.Pos // of the name, for "defined twice" errors
}

// Ports lists the service's protocols with their ports, TCP first.
func (s *Service) Ports() []ProtocolPorts {
	var out []ProtocolPorts
	if len(s.TCP) > 0 {
		out = append(out, ProtocolPorts{proto.TCP, s.TCP})
	}
	if len(s.UDP) > 0 {
		out = append(out, ProtocolPorts{proto.UDP, s.UDP})
	}
	return out
}

// ProtocolPorts is one protocol of a service and its ports.
type ProtocolPorts struct {
	Protocol proto.Protocol
	Ports    ports.Set
}

// PortString formats the service's ports for people: "tcp 53; udp 53".
func (s *Service) PortString() string {
	var parts []string
	for _, pp := range s.Ports() {
		parts = append(parts, pp.Protocol.String()+" "+pp.Ports.String())
	}
	return strings.Join(parts, "; ")
}

// SourceLine formats where the service comes from, as Product.SourceLine.
func (s *Service) SourceLine() string {
	if s.Row == "" {
		return s.Source.Title
	}
	return s.Source.Title + ": " + s.Row
}

// Role is one of the product's own hosts, which portwall writes rules for.
type Role struct {
	Name  string
	Title string
}

// Peer is an outside party the product talks to.
type Peer struct {
	Name  string
	Title string
	// FQDNs are the names the peer is known by when the deployment does not
	// bind it to addresses (FortiGuard servers), independent of region.
	FQDNs []string
	// RegionOption names the option that selects between FQDNsByRegion.
	RegionOption  string
	FQDNsByRegion map[string][]string
	// Product and Role say that the peer is another catalog product's
	// role (FortiMail's peer fortimanager is the fortimanager product's
	// unit), so that a profile may bind it to that deployment's role.
	// Role may be empty when the product has one role the peer can be.
	Product string
	Role    string
}

// HasDefaultFQDNs reports whether the catalog knows names for the peer, so
// that a deployment may leave it unbound.
func (p *Peer) HasDefaultFQDNs() bool { return len(p.FQDNs) > 0 || len(p.FQDNsByRegion) > 0 }

// Feature is a named, switchable part of the product.
type Feature struct {
	Name    string
	Title   string
	Default bool // enabled when a deployment does not list its features
}

// Flow is one connection the product needs: From opens a connection to To
// on Protocols and Ports.
type Flow struct {
	ID        string
	Feature   string
	From, To  string // role or peer names
	Protocols []proto.Protocol
	// Ports is the destination port set for TCP and UDP; empty for ICMP.
	Ports ports.Set
	// ICMPTypes restricts an ICMP flow to these type names; empty means
	// every type.
	ICMPTypes []string

	Purpose string
	Source  string // a Source ID
	Row     string // the row of the source document, in its own words

	// Configurable: the deployment may move the flow to other ports.
	Configurable bool
	// Internal: the product uses the port on the host itself; it never
	// needs a firewall opening, and portwall never opens it.
	Internal bool
	// Deprecated: emitted only when a deployment names the flow.
	Deprecated bool
	// Alternatives: Ports lists alternatives ("443 or 8890"). A deployment
	// may choose a subset; by default DefaultChoice is opened.
	Alternatives bool
	// DefaultChoice is what a flow with alternatives opens when the
	// deployment does not choose: the document's first or recommended
	// choice. Empty when RequireChoice is set.
	DefaultChoice ports.Set
	// ProtocolAlternatives: Protocols are alternatives ("UDP or TCP");
	// DefaultProtocols are opened unless the deployment chooses.
	ProtocolAlternatives bool
	DefaultProtocols     []proto.Protocol
	// RequireChoice: there is no default among the alternatives (the
	// right one depends on the platform); a deployment must choose.
	RequireChoice bool
	// Random: the product uses randomly assigned ports, so the flow covers
	// every port. A deployment must narrow it with the port-range option
	// named by PortPool, or accept every port explicitly.
	Random   bool
	PortPool string
	// Modes limits the flow to these operating modes; empty means all.
	Modes []string
	// Versions limits the flow to these versions of the product; empty
	// means all.
	Versions []string
	// Departure says why the flow goes beyond the product's document (for
	// its versions): what it adds and where that comes from. Empty for a
	// flow the document gives.
	Departure string
	// Program is the executable the flow is scoped to on Windows, relative
	// to the path option named by ProgramDir.
	Program    string
	ProgramDir string
}

// Role looks up a role by name.
func (p *Product) Role(name string) (*Role, bool) {
	return find(p.Roles, name, func(r *Role) string { return r.Name })
}

// Peer looks up a peer by name.
func (p *Product) Peer(name string) (*Peer, bool) {
	return find(p.Peers, name, func(r *Peer) string { return r.Name })
}

// Feature looks up a feature by name.
func (p *Product) Feature(name string) (*Feature, bool) {
	return find(p.Features, name, func(f *Feature) string { return f.Name })
}

// Flow looks up a flow by ID.
func (p *Product) Flow(id string) (*Flow, bool) {
	return find(p.Flows, id, func(f *Flow) string { return f.ID })
}

// Option looks up an option by name.
func (p *Product) Option(name string) (*Option, bool) {
	return find(p.Options, name, func(o *Option) string { return o.Name })
}

// Source looks up a source by ID.
func (p *Product) Source(id string) (*Source, bool) {
	return find(p.Sources, id, func(s *Source) string { return s.ID })
}

func find[T any](xs []T, name string, key func(*T) string) (*T, bool) {
	for i := range xs {
		if key(&xs[i]) == name {
			return &xs[i], true
		}
	}
	return nil, false
}

// RoleNames, PeerNames, FeatureNames, FlowIDs and OptionNames list names for
// "did you mean" suggestions and exports.
func (p *Product) RoleNames() []string { return names(p.Roles, func(r *Role) string { return r.Name }) }
func (p *Product) PeerNames() []string { return names(p.Peers, func(r *Peer) string { return r.Name }) }
func (p *Product) FeatureNames() []string {
	return names(p.Features, func(f *Feature) string { return f.Name })
}
func (p *Product) FlowIDs() []string { return names(p.Flows, func(f *Flow) string { return f.ID }) }
func (p *Product) OptionNames() []string {
	return names(p.Options, func(o *Option) string { return o.Name })
}

func names[T any](xs []T, key func(*T) string) []string {
	out := make([]string, len(xs))
	for i := range xs {
		out[i] = key(&xs[i])
	}
	return out
}

// InVersion returns the product as version v has it: only the flows of
// that version, each ID once. v must be one of Versions (or "" for a
// product without versions).
func (p *Product) InVersion(v string) *Product {
	q := *p
	q.Flows = nil
	for _, f := range p.Flows {
		if f.InVersion(v) {
			q.Flows = append(q.Flows, f)
		}
	}
	return &q
}

// InVersion reports whether the flow exists in version v.
func (f *Flow) InVersion(v string) bool {
	return len(f.Versions) == 0 || slices.Contains(f.Versions, v)
}

// VersionNames lists the names of the product's versions.
func (p *Product) VersionNames() []string {
	return names(p.Versions, func(v *Version) string { return v.Name })
}

// LookupVersion looks up a version by name.
func (p *Product) LookupVersion(name string) (*Version, bool) {
	return find(p.Versions, name, func(v *Version) string { return v.Name })
}

// Choice is what a flow opens: its ports and protocols, after a choice
// among alternatives.
type Choice struct {
	Ports     ports.Set
	Protocols []proto.Protocol
}

// Default is what the flow opens when the deployment chooses nothing: the
// default choice among its alternatives, every port and protocol
// otherwise. ok is false when the flow requires a choice.
func (f *Flow) Default() (c Choice, ok bool) {
	c = Choice{Ports: f.Ports, Protocols: f.Protocols}
	if f.RequireChoice {
		return c, false
	}
	if f.Alternatives {
		c.Ports = f.DefaultChoice
	}
	if f.ProtocolAlternatives {
		c.Protocols = f.DefaultProtocols
	}
	return c, true
}

// AlternativesString says what a flow with alternatives lets a deployment
// choose from, as people write it: "443 or 8890", "53 or 8888 over udp or
// tcp".
func (f *Flow) AlternativesString() string {
	var parts []string
	if f.Alternatives {
		parts = append(parts, strings.Join(f.Ports.Strings(), " or "))
	} else if len(f.Ports) > 0 {
		parts = append(parts, f.Ports.String())
	}
	var protos []string
	for _, pr := range f.Protocols {
		protos = append(protos, pr.String())
	}
	sep := "+"
	if f.ProtocolAlternatives {
		sep = " or "
	}
	parts = append(parts, "over "+strings.Join(protos, sep))
	return strings.Join(parts, " ")
}

// String formats a choice for people: "udp 53", "tcp+udp 53,8888".
func (c Choice) String() string {
	var protos []string
	for _, pr := range c.Protocols {
		protos = append(protos, pr.String())
	}
	s := strings.Join(protos, "+")
	if len(c.Ports) > 0 {
		s += " " + c.Ports.String()
	}
	return s
}

// DefaultFeatures lists the features enabled when a deployment does not
// name any.
func (p *Product) DefaultFeatures() []string {
	var out []string
	for _, f := range p.Features {
		if f.Default {
			out = append(out, f.Name)
		}
	}
	return out
}

// DefaultPorts are the ports a flow opens when a deployment sets none of
// the product's options: a random flow whose port pool has a default (AD's
// RPC dynamic range) opens the pool, not every port.
func (p *Product) DefaultPorts(f *Flow) ports.Set {
	if f.Random && f.PortPool != "" {
		if o, ok := p.Option(f.PortPool); ok && o.Default != "" {
			if r, err := ports.Parse(o.Default); err == nil {
				return ports.NewSet(r)
			}
		}
	}
	return f.Ports
}

// IsRole reports whether name is one of the product's roles (and not a
// peer).
func (p *Product) IsRole(name string) bool { _, ok := p.Role(name); return ok }
