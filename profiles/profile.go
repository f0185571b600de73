// Package profiles reads deployment profiles: the TOML files in which an
// operator says which products run where, with which features, which
// networks may reach them, and which extra rules no catalog knows.
//
// Loading checks everything that can be checked without the catalog (syntax,
// unknown keys, names, addresses, ports) and reports every problem at once.
// Checks against the catalog (unknown product or feature) happen when the
// profile is resolved (package rules), with the same positions.
package profiles

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/internal/tomldoc"
	"github.com/portwall/portwall/rules/addr"
	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

// Profile is a checked deployment profile.
type Profile struct {
	File string
	// Doc locates keys of the file for error messages.
	Doc *tomldoc.Doc

	Name        string
	Description string
	Defaults    Defaults
	Groups      map[string]*Group
	Hosts       map[string]*Host
	Deployments []*Deployment
	Allows      []*Allow
	// Expects are what the author says must hold, checked by verify.
	Expects []*Expect
	// LintIgnore lists the lint codes the profile accepts ([lint] ignore);
	// package lint checks that they exist.
	LintIgnore []string

	// file keeps the top-level tables the profile format does not define:
	// the backends' sections, each decoded by its owner (Table).
	file *tomldoc.File
	// unfilled are the key paths of the placeholders (Unfilled).
	unfilled []string
}

// InputPolicy is what happens to inbound packets no rule allows.
type InputPolicy string

const (
	InputDrop   InputPolicy = "drop"
	InputReject InputPolicy = "reject"
)

// OutputPolicy is what happens to outbound packets: accept all, or drop
// what the outbound flows do not allow (egress filtering).
type OutputPolicy string

const (
	OutputAccept OutputPolicy = "accept"
	OutputDrop   OutputPolicy = "drop"
)

// FQDNMode says what backends that match addresses do with host names.
// Backends whose section may override it decode that override themselves.
type FQDNMode string

const (
	// FQDNError refuses to generate a rule that needs a host name.
	FQDNError FQDNMode = "error"
	// FQDNDynamicSet emits an empty address set per name group, for a
	// resolver (dnsmasq's nftset, for example) to fill at run time. Until
	// it is filled the rule allows nothing.
	FQDNDynamicSet FQDNMode = "dynamic-set"
	// FQDNOmit leaves the host-name part of such rules out of backends
	// that cannot express it, and says so in the output. It allows less,
	// never more.
	FQDNOmit FQDNMode = "omit"
)

// Defaults are the profile-wide policies.
type Defaults struct {
	Input      InputPolicy
	Output     OutputPolicy
	LogDropped bool
	FQDN       FQDNMode
	// Targets and OS declare what every host without its own gets.
	Targets Targets
	// Firewall is what every host without its own declaration runs.
	Firewall Firewall
}

// Targets declares which --target names a host's rules are generated for:
// listed (Names, as the profile wrote them, checked against the backends
// by the command layer; an empty list declares none, for an appliance that
// only the gateway in front protects), or the recommended ones of an
// operating system (OS). Zero means nothing is declared.
type Targets struct {
	Names []string
	// Listed: the profile wrote targets, perhaps as an empty list.
	Listed bool
	OS     OS
	// Path is where the declaration is, for positions: the table that
	// holds targets or os.
	Path []any
}

// Declared reports whether t declares anything.
func (t Targets) Declared() bool { return t.Listed || t.OS != "" }

// OS is a host's operating system, for the os = "..." shorthand of
// targets.
type OS string

const (
	OSLinux   OS = "linux"
	OSWindows OS = "windows"
)

// OSes lists the operating systems os accepts.
var OSes = []OS{OSLinux, OSWindows}

// Firewall is the tool that manages a Linux host's packet filter
// besides portwall: what portwall's rules must coexist with. lint
// (PW961) checks that the host's targets suit it; "" is undeclared.
type Firewall string

const (
	// FirewallNone: nothing else filters packets; portwall's rules are
	// the host's firewall.
	FirewallNone Firewall = "none"
	// FirewallNftables: a ruleset of the host's own in nftables
	// (nftables.service).
	FirewallNftables Firewall = "nftables"
	// FirewallIptables: iptables rules of the host's own
	// (iptables-persistent, netfilter-persistent).
	FirewallIptables Firewall = "iptables"
	// FirewallFirewalld: firewalld (RHEL, Rocky, Alma, Fedora, SUSE).
	FirewallFirewalld Firewall = "firewalld"
	// FirewallUFW: ufw (Ubuntu), over iptables.
	FirewallUFW Firewall = "ufw"
	// FirewallDocker: Docker Engine's rules, and no other manager (a host
	// with firewalld and Docker runs firewalld).
	FirewallDocker Firewall = "docker"
)

// Firewalls lists the values firewall accepts.
var Firewalls = []Firewall{FirewallNone, FirewallNftables, FirewallIptables, FirewallFirewalld, FirewallUFW, FirewallDocker}

// HostFirewall is what host name runs: its own firewall, else the
// defaults', with the path of the key that says so ("" and nil when
// neither does).
func (p *Profile) HostFirewall(name string) (Firewall, []any) {
	if h := p.Hosts[name]; h != nil && h.Firewall != "" {
		return h.Firewall, []any{"hosts", name, "firewall"}
	}
	if p.Defaults.Firewall != "" {
		return p.Defaults.Firewall, []any{"defaults", "firewall"}
	}
	return "", nil
}

// Group is a named set of addresses.
type Group struct {
	Name    string
	Members []addr.Member
	// Refs are other groups and hosts included by name.
	Refs []string
}

// Host is a machine portwall writes a ruleset for.
type Host struct {
	Name        string
	Description string
	Addrs       []netip.Addr
	// Targets are the host's own declaration; HostTargets falls back to
	// the defaults'.
	Targets Targets
	// Firewall is the host's own declaration; HostFirewall falls back to
	// the defaults'.
	Firewall Firewall
}

// HostTargets is what host name declares: its own targets or os, else the
// defaults'.
func (p *Profile) HostTargets(name string) Targets {
	if h := p.Hosts[name]; h != nil && h.Targets.Declared() {
		return h.Targets
	}
	return p.Defaults.Targets
}

// DeclaresTargets reports whether the profile declares targets anywhere.
func (p *Profile) DeclaresTargets() bool {
	if p.Defaults.Targets.Declared() {
		return true
	}
	for _, h := range p.Hosts {
		if h.Targets.Declared() {
			return true
		}
	}
	return false
}

// Deployment is one product installed on some hosts.
type Deployment struct {
	Index   int // position in the file's [[deployment]] list
	Name    string
	Product string
	// Mode is the product's operating mode; "" means the product default.
	Mode string
	// Version is the product's version; "" means the catalog's default
	// (the version of the document it was transcribed from).
	Version string
	// Features enabled, as written; nil means the product's defaults. A
	// list of plain names replaces the defaults; a list whose items all
	// start with "+" or "-" adds to them and removes from them instead
	// (FeatureEdits).
	Features []string
	// Deprecated lists deprecated flows the profile asks for by ID.
	Deprecated []string
	// Roles and Peers bind the product's roles and peers to host and
	// group names.
	Roles map[string][]string
	Peers map[string][]string
	// PeerLinks bind peers to the hosts of another deployment's role
	// (peer = { deployment = "fmg", role = "unit" }).
	PeerLinks map[string]PeerLink
	// Ports moves configurable flows to other ports.
	Ports map[string]ports.Set
	// Choose picks among a flow's alternative ports and protocols.
	Choose  map[string]Choice
	Options map[string]string
	// RandomPorts is RandomPortsAll when the profile accepts that flows on
	// random ports open every port (no port pool), "" otherwise.
	RandomPorts string
}

// RandomPortsAll is the one value of random_ports: open every port.
const RandomPortsAll = "all"

// PeerLink binds a peer to the hosts of another deployment's role.
type PeerLink struct {
	Deployment string
	// Role is the other deployment's role; "" leaves it to the catalog
	// (the role the peer stands for).
	Role string
}

// Choice is what a deployment picks among a flow's alternatives: ports,
// protocols, or both. An empty part keeps the flow's default for it.
type Choice struct {
	Ports     ports.Set
	Protocols []proto.Protocol
}

// String formats a choice as the profile writes it: "[\"udp\", 53]".
func (c Choice) String() string {
	var parts []string
	for _, pr := range c.Protocols {
		parts = append(parts, pr.String())
	}
	parts = append(parts, c.Ports.Strings()...)
	return strings.Join(parts, " ")
}

// FeatureEdits reports whether the features list changes the product's
// defaults ("+name", "-name") rather than replacing them.
func (d *Deployment) FeatureEdits() bool {
	return len(d.Features) > 0 && IsFeatureEdit(d.Features[0])
}

// IsFeatureEdit reports whether a features item adds or removes ("+name",
// "-name") rather than names a feature.
func IsFeatureEdit(item string) bool {
	return strings.HasPrefix(item, "+") || strings.HasPrefix(item, "-")
}

// Allow is a custom rule for what no catalog knows.
type Allow struct {
	Index    int
	From, To []string // host and group names, or "any"
	// Services name catalog services, which bring their own protocols and
	// ports; a rule has either Services or Protocols (with Ports or
	// ICMPTypes). The names are checked against the catalog when the
	// profile is resolved.
	Services  []string
	Protocols []proto.Protocol
	Ports     ports.Set
	ICMPTypes []string
	Comment   string
	// Owner and Ticket say who asked for the rule and why; backends carry
	// them in the rule's comment. After Expires the rule is no longer
	// generated (nil: it does not expire).
	Owner, Ticket string
	Expires       *Date
}

// Date is a calendar date, as a profile's expires gives it.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// Before reports whether d is an earlier day than e.
func (d Date) Before(e Date) bool {
	return d.Year < e.Year || d.Year == e.Year && (d.Month < e.Month || d.Month == e.Month && d.Day < e.Day)
}

// DateOf is the calendar date of t in its location.
func DateOf(t time.Time) Date { return Date{Year: t.Year(), Month: t.Month(), Day: t.Day()} }

// Verdict is what an expectation says happens to its traffic.
type Verdict string

const (
	VerdictAllow Verdict = "allow"
	VerdictDeny  Verdict = "deny"
)

// Expect is an [[expect]] entry: traffic the author says the rules must
// allow or deny. `portwall verify` checks each one against the resolved
// rules and with real packets. ICMP expectations are about ping (echo
// request), the one ICMP message verify can send and see answered.
type Expect struct {
	Index    int
	From, To string // a host or group name, or "any"
	Protocol proto.Protocol
	Port     uint16 // TCP and UDP
	Verdict  Verdict
	Comment  string
}

// Kind of a name in the profile's one namespace of endpoints.
type Kind uint8

const (
	KindNone Kind = iota
	KindHost
	KindGroup
	KindAny
)

// Lookup says whether name is a host, a group or "any".
func (p *Profile) Lookup(name string) Kind {
	switch {
	case name == addr.Any:
		return KindAny
	case p.Hosts[name] != nil:
		return KindHost
	case p.Groups[name] != nil:
		return KindGroup
	}
	return KindNone
}

// EndpointNames lists every host and group name, for suggestions.
func (p *Profile) EndpointNames() []string {
	out := []string{addr.Any}
	for n := range p.Hosts {
		out = append(out, n)
	}
	for n := range p.Groups {
		out = append(out, n)
	}
	return out
}

// IsEndpoint reports whether name is a host, a group or "any".
func (p *Profile) IsEndpoint(name string) bool { return p.Lookup(name) != KindNone }

// Table returns a top-level table the profile format does not define (a
// backend's section such as [nftables]) for its owner to decode, or nil
// when the profile has no such table.
func (p *Profile) Table(name string) *tomldoc.Table {
	if !slices.Contains(p.file.Rest(), name) {
		return nil
	}
	return p.file.Table(name)
}

// UnknownTables reports the top-level keys that neither the profile format
// nor one of owned (the backends' section names) defines, suggesting one
// of those.
func (p *Profile) UnknownTables(owned []string) diag.ErrorList {
	known := append(slices.Clone(owned), topLevelKeys...)
	slices.Sort(known)
	var errs diag.ErrorList
	for _, name := range p.file.Rest() {
		if !slices.Contains(owned, name) {
			errs = append(errs, p.file.UnknownTable(name, known)...)
		}
	}
	return errs
}
