package catalog

import (
	"strings"

	"github.com/portwall/portwall/rules/proto"
)

// Export is the catalog as `portwall catalog export --format json` prints
// it. Its shape is a contract with users' scripts: add fields, never rename
// or remove one.
type Export struct {
	Products []ExportProduct `json:"products"`
	Services []ExportService `json:"services"`
}

// ExportService is one service in an Export. TCP and UDP are port strings
// as in ExportFlow, empty when the service has none of that protocol.
// Unsupported lists what else the service needs that portwall cannot
// express; a profile that names such a service is refused.
type ExportService struct {
	Name        string   `json:"name"`
	Title       string   `json:"title"`
	TCP         []string `json:"tcp"`
	UDP         []string `json:"udp"`
	Unsupported []string `json:"unsupported"`
	Source      string   `json:"source"`
	SourceURL   string   `json:"source_url"`
	Row         string   `json:"row"`
}

// ExportProduct is one product in an Export.
type ExportProduct struct {
	Name     string       `json:"name"`
	Title    string       `json:"title"`
	Vendor   string       `json:"vendor"`
	Modes    []string     `json:"modes"`
	Roles    []string     `json:"roles"`
	Peers    []string     `json:"peers"`
	Features []string     `json:"features"`
	Flows    []ExportFlow `json:"flows"`
	// DefaultFeatures are the features a deployment gets when it lists
	// none; Versions the product's versions (empty for a product with
	// one); PeerProducts the peers that stand for another product's role.
	DefaultFeatures []string            `json:"default_features"`
	Versions        []ExportVersion     `json:"versions"`
	DefaultVersion  string              `json:"default_version"`
	PeerProducts    []ExportPeerProduct `json:"peer_products"`
	// InstallerRules are the Windows Firewall rules the installer adds by
	// itself.
	InstallerRules []ExportInstallerRule `json:"installer_rules"`
}

// ExportVersion is one version of a product and the document its flows
// come from.
type ExportVersion struct {
	Name      string `json:"name"`
	Title     string `json:"title"`
	Source    string `json:"source"`
	SourceURL string `json:"source_url"`
}

// ExportPeerProduct says that a peer is another product's role.
type ExportPeerProduct struct {
	Peer    string `json:"peer"`
	Product string `json:"product"`
	Role    string `json:"role"`
}

// ExportInstallerRule is one installer rule in an Export: inbound, from
// every address; Program is relative to the path option ProgramDir.
type ExportInstallerRule struct {
	ID         string   `json:"id"`
	Title      string   `json:"title"`
	Roles      []string `json:"roles"`
	Protocols  []string `json:"protocols"`
	Ports      []string `json:"ports"`
	Program    string   `json:"program"`
	ProgramDir string   `json:"program_dir"`
	Source     string   `json:"source"`
	SourceURL  string   `json:"source_url"`
	Row        string   `json:"row"`
}

// ExportFlow is one flow in an Export. From and To are role or peer names
// of the product; Ports are strings ("25", "20010-20014", "1-65535" for all
// ports) and empty for ICMP.
type ExportFlow struct {
	ID           string   `json:"id"`
	Feature      string   `json:"feature"`
	From         string   `json:"from"`
	To           string   `json:"to"`
	Protocols    []string `json:"protocols"`
	Ports        []string `json:"ports"`
	ICMPTypes    []string `json:"icmp_types"`
	Purpose      string   `json:"purpose"`
	Configurable bool     `json:"configurable"`
	Internal     bool     `json:"internal"`
	Deprecated   bool     `json:"deprecated"`
	Alternatives bool     `json:"alternatives"`
	Random       bool     `json:"random"`
	Modes        []string `json:"modes"`
	Source       string   `json:"source"`
	SourceURL    string   `json:"source_url"`
	Row          string   `json:"row"`
	// Versions the flow exists in (empty: all); Departure why it goes
	// beyond the document (empty: the document gives it). DefaultPorts and
	// DefaultProtocols are what it opens when the deployment does not
	// choose (empty with RequireChoice).
	Versions             []string `json:"versions"`
	Departure            string   `json:"departure"`
	ProtocolAlternatives bool     `json:"protocol_alternatives"`
	RequireChoice        bool     `json:"require_choice"`
	DefaultPorts         []string `json:"default_ports"`
	DefaultProtocols     []string `json:"default_protocols"`
}

// Export converts the catalog for JSON output. Lists are never nil, so that
// consumers always find an array.
func (c *Catalog) Export() Export {
	out := Export{Products: []ExportProduct{}, Services: []ExportService{}}
	for _, p := range c.Products {
		ep := ExportProduct{
			Name: p.Name, Title: p.Title, Vendor: p.Vendor,
			Modes: nonNil(p.Modes), Roles: p.RoleNames(), Peers: p.PeerNames(), Features: p.FeatureNames(),
			Flows:           []ExportFlow{},
			DefaultFeatures: nonNil(p.DefaultFeatures()), Versions: []ExportVersion{}, DefaultVersion: p.Version,
			PeerProducts: []ExportPeerProduct{},
		}
		for _, v := range p.Versions {
			src, _ := p.Source(v.Source)
			ep.Versions = append(ep.Versions, ExportVersion{Name: v.Name, Title: v.Title, Source: src.Title, SourceURL: src.URL})
		}
		for _, peer := range p.Peers {
			if peer.Product != "" {
				ep.PeerProducts = append(ep.PeerProducts, ExportPeerProduct{Peer: peer.Name, Product: peer.Product, Role: peer.Role})
			}
		}
		for _, f := range p.Flows {
			src, _ := p.Source(f.Source)
			def, _ := f.Default()
			if f.RequireChoice {
				def = Choice{}
			}
			ep.Flows = append(ep.Flows, ExportFlow{
				ID: f.ID, Feature: f.Feature, From: f.From, To: f.To,
				Protocols: protoStrings(f.Protocols), Ports: nonNil(f.Ports.Strings()), ICMPTypes: nonNil(f.ICMPTypes),
				Purpose: f.Purpose, Configurable: f.Configurable, Internal: f.Internal, Deprecated: f.Deprecated,
				Alternatives: f.Alternatives, Random: f.Random, Modes: nonNil(f.Modes),
				Source: src.Title, SourceURL: src.URL, Row: f.Row,
				Versions: nonNil(f.Versions), Departure: f.Departure,
				ProtocolAlternatives: f.ProtocolAlternatives, RequireChoice: f.RequireChoice,
				DefaultPorts: nonNil(def.Ports.Strings()), DefaultProtocols: protoStrings(def.Protocols),
			})
		}
		ep.InstallerRules = []ExportInstallerRule{}
		for _, r := range p.InstallerRules {
			src, _ := p.Source(r.Source)
			protos := []string{}
			for _, pr := range r.Protocols {
				protos = append(protos, pr.String())
			}
			ep.InstallerRules = append(ep.InstallerRules, ExportInstallerRule{
				ID: r.ID, Title: r.Title, Roles: nonNil(r.Roles), Protocols: protos, Ports: nonNil(r.Ports.Strings()),
				Program: r.Program, ProgramDir: r.ProgramDir, Source: src.Title, SourceURL: src.URL, Row: r.Row,
			})
		}
		out.Products = append(out.Products, ep)
	}
	for _, s := range c.Services {
		out.Services = append(out.Services, ExportService{
			Name: s.Name, Title: s.Title,
			TCP: nonNil(s.TCP.Strings()), UDP: nonNil(s.UDP.Strings()), Unsupported: nonNil(s.Unsupported),
			Source: s.Source.Title, SourceURL: s.Source.URL, Row: s.Row,
		})
	}
	return out
}

func protoStrings(ps []proto.Protocol) []string {
	out := make([]string, len(ps))
	for i, pr := range ps {
		out[i] = pr.String()
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// SourceLine formats where a flow comes from for people: the document's
// title and the row. A departure's reason is apart (Flow.Departure).
func (p *Product) SourceLine(f *Flow) string {
	src, _ := p.Source(f.Source)
	parts := []string{src.Title}
	if f.Row != "" {
		parts = append(parts, f.Row)
	}
	return strings.Join(parts, ": ")
}
