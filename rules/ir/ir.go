// Package ir holds portwall's intermediate representation: abstract
// allow-rules between named address sets, each remembering which products,
// features and flows (or custom rules) asked for it. Every backend renders
// a Ruleset; none looks at profiles or the catalog.
package ir

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"go4.org/netipx"

	"github.com/portwall/portwall/rules/addr"
	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

// Ruleset is a resolved profile.
type Ruleset struct {
	// Profile names the profile the rules came from (its name, or its file
	// name without extension).
	Profile string
	Policy  Policy
	// Addrs holds every address set a rule refers to, sorted by name.
	Addrs []*AddrSet
	// Unused holds the profile's other groups and hosts, sorted by name:
	// no backend renders them, but questions about the profile (query,
	// explain) may name them.
	Unused []*AddrSet
	// Hosts are the profile's hosts, sorted by name.
	Hosts []*Host
	// Rules is the network view: every flow between every pair of
	// endpoints, merged where endpoints, protocol and program agree.
	Rules []*Rule
	// Internal lists flows the catalog marks internal: never opened, kept
	// so that "why is this port closed?" has an answer.
	Internal []*InternalFlow
	// Expect holds the profile's expectations, in profile order.
	Expect []*Expectation
	// Expired lists the custom rules that expired and are not generated,
	// so that "why is this port closed?" has an answer.
	Expired []*ExpiredRule
	// Decisions are what the resolver chose where the profile left it to
	// the catalog, in profile order. Nothing is rendered from them; lint
	// names each, so that no default is silent.
	Decisions []*Decision
	// Installers are the Windows Firewall rules the deployed products'
	// installers add by themselves (installer.go), in profile order.
	Installers []*InstallerRule

	setIndex atomic.Pointer[setIndex]
	hosts    atomic.Pointer[hostRules]
}

// Policy is what happens to traffic no rule allows.
type Policy struct {
	Input      InputPolicy
	Output     OutputPolicy
	LogDropped bool
	FQDN       FQDNMode
}

// InputPolicy, OutputPolicy and FQDNMode mirror the profile's defaults; see
// package profiles for their meaning.
type (
	InputPolicy  string
	OutputPolicy string
	FQDNMode     string
)

const (
	InputDrop      InputPolicy  = "drop"
	InputReject    InputPolicy  = "reject"
	OutputAccept   OutputPolicy = "accept"
	OutputDrop     OutputPolicy = "drop"
	FQDNError      FQDNMode     = "error"
	FQDNDynamicSet FQDNMode     = "dynamic-set"
	FQDNOmit       FQDNMode     = "omit"
)

// SetKind says where an address set comes from.
type SetKind string

const (
	SetAny   SetKind = "any"   // every address
	SetHost  SetKind = "host"  // a host of the profile
	SetGroup SetKind = "group" // a group of the profile
	// SetCatalogFQDN is a peer the deployment left unbound, known by the
	// host names the catalog gives (FortiGuard servers).
	SetCatalogFQDN SetKind = "catalog-fqdn"
)

// AnySet is the name of the set of every address.
const AnySet = "any"

// AddrSet is a named set of addresses. Its contents are resolved: IPs and
// FQDNs include those of every group and host it refers to.
type AddrSet struct {
	Name string
	Kind SetKind
	// Members and Refs are the set's own entries as the profile wrote them,
	// for backends that keep the structure (FortiGate address groups).
	Members []addr.Member
	Refs    []string
	// Hosts lists the hosts the set includes by name, directly or through
	// groups; a rule to such a set applies to those hosts in full.
	Hosts []string
	// IPs holds every address of the set (IPv4 and IPv6); nil for SetAny.
	IPs   *netipx.IPSet
	FQDNs []string // sorted
	// All is set when the set includes "any".
	All bool

	// ranges caches Ranges per family: host views of a large profile ask
	// for them once per rule. IPs must not change after the first call.
	rangesOnce sync.Once
	ranges     [2][]netipx.IPRange
}

// IsAny reports whether the set is every address: the built-in "any", or
// a group that includes it.
func (s *AddrSet) IsAny() bool { return s.Kind == SetAny || s.All }

// Ranges returns the set's addresses of one family as ranges, in order.
// The slice is shared: callers must not modify it.
func (s *AddrSet) Ranges(f Family) []netipx.IPRange {
	if s.IPs == nil {
		return nil
	}
	s.rangesOnce.Do(func() { s.ranges = familyRanges(s.IPs) })
	if f == IPv4 {
		return s.ranges[0]
	}
	return s.ranges[1]
}

// familyRanges splits set's ranges into its IPv4 and its IPv6 ones (nil
// for a family it has none of). Both share the one copy set.Ranges makes:
// the ranges are sorted, and netip orders every IPv4 address before every
// IPv6 one (IPv4-mapped IPv6 included), so the IPv4 ranges are a prefix.
func familyRanges(set *netipx.IPSet) [2][]netipx.IPRange {
	rr := set.Ranges()
	n := sort.Search(len(rr), func(i int) bool { return !IPv4.Has(rr[i].From()) })
	var out [2][]netipx.IPRange
	if n > 0 {
		out[0] = rr[:n:n]
	}
	if n < len(rr) {
		out[1] = rr[n:]
	}
	return out
}

// Host is a machine of the profile.
type Host struct {
	Name        string
	Description string
	Addrs       []netip.Addr // sorted
}

// Endpoint is one side of a rule: the union of some address sets.
type Endpoint struct {
	// Sets are AddrSet names, sorted and unique. If one is AnySet it is the
	// only one.
	Sets []string
}

// NewEndpoint normalises names into an Endpoint.
func NewEndpoint(names ...string) Endpoint {
	if slices.Contains(names, AnySet) {
		return Endpoint{Sets: []string{AnySet}}
	}
	s := slices.Clone(names)
	slices.Sort(s)
	return Endpoint{Sets: slices.Compact(s)}
}

// IsAny reports whether the endpoint is every address.
func (e Endpoint) IsAny() bool { return len(e.Sets) == 1 && e.Sets[0] == AnySet }

func (e Endpoint) String() string { return strings.Join(e.Sets, ",") }

// Rule allows connections from From to To. The set of rules is closed:
// there is no deny, and a rule allows exactly what its fields say.
type Rule struct {
	// ID is stable for the same endpoints, protocol and program, whatever
	// else the profile holds: backends put it in comments so that live
	// rules can be traced and diffed.
	ID       string
	From, To Endpoint
	Protocol proto.Protocol
	// Ports are the destination ports of a TCP or UDP rule, never empty.
	Ports ports.Set
	// ICMPTypes restrict an ICMP or ICMPv6 rule; empty means every type.
	ICMPTypes []uint8
	// Program restricts the rule to one executable (Windows backends). It
	// is a full path.
	Program string
	// Origins say why the rule exists, sorted.
	Origins []Origin

	allTypes bool // while merging: some part allowed every ICMP type
}

// OriginKind says whether a rule part came from the catalog or from a
// custom rule of the profile.
type OriginKind string

const (
	OriginFlow   OriginKind = "flow"
	OriginCustom OriginKind = "custom"
)

// Origin is one reason for a rule.
type Origin struct {
	Kind OriginKind
	// Order sorts origins as the profile and catalog list them.
	Order [3]int

	// For OriginFlow:
	Deployment string
	Product    string
	Feature    string
	Flow       string
	FromLabel  string // role or peer name the rule's From stands for
	ToLabel    string
	Purpose    string
	Source     string // document and row
	// Document is the title of the document Source cites (Source without
	// the row), for outputs that cite it briefly.
	Document string
	// ProgramOption is the deployment option that holds the directory of
	// the rule's program, for a flow limited to one.
	ProgramOption string
	// Departure says why the flow goes beyond its product's document;
	// empty when the document gives it.
	Departure string

	// For OriginCustom: the index of the profile's [[allow]] entry, and the
	// catalog service it names, if any ("" for protocol and ports), with
	// the rule's comment, owner, ticket and expiry date (YYYY-MM-DD).
	Allow                  int
	Service                string
	Comment                string
	Owner, Ticket, Expires string

	// What this origin contributed to the rule.
	Ports     ports.Set
	ICMPTypes []uint8
}

// Label names the origin briefly: "fortimail/ha/ha-heartbeat", or
// "allow[2]" for a custom rule, "allow[2] (service ssh)" for one that names
// a service: the service says which of the rule's ports it opened.
func (o *Origin) Label() string {
	if o.Kind == OriginCustom {
		l := "allow[" + strconv.Itoa(o.Allow) + "]"
		if o.Service != "" {
			l += " (service " + o.Service + ")"
		}
		return l
	}
	return o.Product + "/" + o.Feature + "/" + o.Flow
}

// ExpiredRule is a custom rule whose expires date has passed.
type ExpiredRule struct {
	Allow                  int
	Owner, Ticket, Expires string
	Comment                string
	// Pos is where the expiry date is in the profile ("file:line:col").
	Pos string
}

// DecisionKind says what the resolver decided for a profile.
type DecisionKind string

const (
	// DecidedFeaturesDropped: a features list replaced the product's
	// defaults and left some of them out (Features).
	DecidedFeaturesDropped DecisionKind = "features-dropped"
	// DecidedChoice: a flow with alternatives opened the catalog's
	// default choice (Opened) among them (Among).
	DecidedChoice DecisionKind = "choice"
	// DecidedRandomAll: a flow on random ports opened every port
	// (random_ports = "all").
	DecidedRandomAll DecisionKind = "random-all"
)

// Decision is one thing the resolver decided for the profile.
type Decision struct {
	Kind DecisionKind
	// Deployment is the index of the profile's [[deployment]], Name its
	// name.
	Deployment int
	Name       string
	Product    string
	Flow       string   // DecidedChoice, DecidedRandomAll
	Features   []string // DecidedFeaturesDropped
	// Opened is what the flow opens ("udp 53"), Among what it could
	// have ("53 or 8888 over udp or tcp"); From and To its roles or peers.
	// For DecidedFeaturesDropped, Opened is the same selection written as
	// changes to the defaults (["+imaps-server", "-dns"]).
	Opened, Among string
	From, To      string
}

// InternalFlow is a catalog flow portwall never opens.
type InternalFlow struct {
	Origin   Origin
	From, To Endpoint
	Protocol proto.Protocol
}

// Key identifies a rule for merging: rules with equal keys are one rule.
func (r *Rule) Key() string { return string(r.appendKey(nil)) }

// appendKey appends the rule's Key to b: "from|to|protocol|program", each
// endpoint's sets joined by commas. Merge builds keys in one buffer.
func (r *Rule) appendKey(b []byte) []byte {
	b = appendJoined(b, r.From.Sets)
	b = append(b, '|')
	b = appendJoined(b, r.To.Sets)
	b = append(b, '|')
	b = append(b, r.Protocol.String()...)
	b = append(b, '|')
	return append(b, r.Program...)
}

// appendJoined appends names to b joined by commas, as Endpoint.String
// writes them.
func appendJoined(b []byte, names []string) []byte {
	for i, n := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, n...)
	}
	return b
}

// SetID computes the rule's ID from its key.
func (r *Rule) SetID() { r.ID = hashKey(r.appendKey(nil)).id() }

// idHash is what a rule's ID says of its key: the first six bytes of the
// key's SHA-256.
type idHash [6]byte

func hashKey(key []byte) idHash {
	sum := sha256.Sum256(key)
	return idHash(sum[:6])
}

// idLen is the length of a rule ID.
const idLen = 1 + 2*len(idHash{})

// id is the rule ID of h: "r" and h in hex.
func (h idHash) id() string { return string(h.appendID(make([]byte, 0, idLen))) }

// appendID appends the rule ID of h to b.
func (h idHash) appendID(b []byte) []byte {
	b = append(b, 'r')
	return hex.AppendEncode(b, h[:])
}

// compareOrigins sorts origins as the profile lists them.
func compareOrigins(a, b Origin) int {
	return cmp.Or(cmp.Compare(a.Order[0], b.Order[0]), cmp.Compare(a.Order[1], b.Order[1]), cmp.Compare(a.Order[2], b.Order[2]))
}

// Clone returns a shallow copy of rs (the slices are shared), for callers
// that change a field or two, such as the rules.
func (rs *Ruleset) Clone() *Ruleset {
	return &Ruleset{Profile: rs.Profile, Policy: rs.Policy, Addrs: rs.Addrs, Hosts: rs.Hosts, Rules: rs.Rules,
		Internal: rs.Internal, Expect: rs.Expect, Expired: rs.Expired, Decisions: rs.Decisions, Unused: rs.Unused, Installers: rs.Installers}
}

// Set looks up an address set by name.
func (rs *Ruleset) Set(name string) (*AddrSet, bool) {
	// Host views of a large profile ask for every rule's sets: index them,
	// again whenever Addrs is another slice than the one indexed.
	idx := rs.setIndex.Load()
	if idx == nil || len(idx.of) != len(rs.Addrs) || len(rs.Addrs) > 0 && &idx.of[0] != &rs.Addrs[0] {
		idx = &setIndex{of: rs.Addrs, byName: make(map[string]*AddrSet, len(rs.Addrs))}
		for _, s := range rs.Addrs {
			idx.byName[s.Name] = s
		}
		rs.setIndex.Store(idx)
	}
	s, ok := idx.byName[name]
	return s, ok
}

// Named looks up a group or host of the profile by name, used by a rule
// or not.
func (rs *Ruleset) Named(name string) (*AddrSet, bool) {
	if s, ok := rs.Set(name); ok {
		return s, true
	}
	i, ok := slices.BinarySearchFunc(rs.Unused, name, func(s *AddrSet, n string) int { return strings.Compare(s.Name, n) })
	if !ok {
		return nil, false
	}
	return rs.Unused[i], true
}

type setIndex struct {
	of     []*AddrSet
	byName map[string]*AddrSet
}

// Host looks up a host by name.
func (rs *Ruleset) Host(name string) (*Host, bool) {
	i, ok := slices.BinarySearchFunc(rs.Hosts, name, func(h *Host, n string) int { return strings.Compare(h.Name, n) })
	if !ok {
		return nil, false
	}
	return rs.Hosts[i], true
}

// HostNames lists the hosts' names.
func (rs *Ruleset) HostNames() []string {
	out := make([]string, len(rs.Hosts))
	for i, h := range rs.Hosts {
		out[i] = h.Name
	}
	return out
}
