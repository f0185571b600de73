package profiles

import (
	"slices"
	"strconv"

	"github.com/portwall/portwall/rules/proto"
)

// The profile's reference: every key of the format with its type, default,
// allowed values and meaning, as data. The command layer adds the backends'
// sections and renders it as the README's tables, the portwall-profile(5)
// manual page and the JSON Schema editors use. The keys are the fields of
// the schema structs in load.go; reference_test.go holds the two together
// (every field documented, every documented key a field of a fitting type)
// and holds the documented constraints to what Parse does (each enum value
// loads and another value fails, each default loads as leaving the key out
// does, and so on), so that the reference cannot drift from the loader.

// Key documents one key of the profile, or of a table in it.
type Key struct {
	Name string
	Type Type
	// Default is the value the key takes when it is left out, written as
	// TOML; "" when that is not a value, and then Otherwise says what
	// leaving it out means.
	Default   string
	Otherwise string
	Required  bool
	// Enum lists the values a string, or each item of a list, must take.
	Enum []string
	// Suggest lists usual values that are not the only valid ones (ICMP
	// type names: numbers are valid too).
	Suggest []string
	// Names says that the values are names from outside the profile
	// format: the backends' targets, the catalog's products; the command
	// layer knows them.
	Names Names
	// Pattern is a regular expression a string, or each item of a list,
	// must match, in the syntax Go's regexp and ECMA-262 read alike.
	Pattern string
	// MaxLength is the most characters a string may have (0: no limit).
	MaxLength int
	// Min and Max bound an integer (both 0: no bound).
	Min, Max int
	// NonEmpty: a string must not be empty, a list must have an item.
	NonEmpty bool
	// Unique: no item of a list twice.
	Unique bool
	// Format is a JSON Schema format of a string or each item: "date"
	// (a TOML date, no quotes), or FormatIP.
	Format string
	// Conflicts lists sibling keys that may not be given with this one.
	Conflicts []string
	Doc       string
	// Keys are the keys of a table, an array of tables or an inline
	// table (TypeBinding).
	Keys []Key
	// Elem documents each value of a table whose keys are names (hosts,
	// groups, roles); its Name is the placeholder (NAME, ROLE).
	Elem *Key
	// NamePattern is the pattern of a table of names' keys, Reserved the
	// names it may not use.
	NamePattern string
	Reserved    []string
}

// Type is the shape of a key's value.
type Type string

const (
	TypeString  Type = "string"
	TypeBoolean Type = "boolean"
	TypeInteger Type = "integer"
	// TypeDate is a TOML local date without quotes: 2027-03-31.
	TypeDate Type = "date"
	// TypeStrings is a list of strings, or one string for a list of one.
	TypeStrings Type = "string or list of strings"
	// TypeList is a list of strings, written as a list.
	TypeList Type = "list of strings"
	// TypePorts is a list of ports (numbers and "first-last" strings), or
	// one of them.
	TypePorts Type = "port or list of ports"
	// TypeChoice is a list of ports and protocol names, or one of them.
	TypeChoice Type = "ports and protocols"
	// TypeScalar is a string or an integer.
	TypeScalar Type = "string or integer"
	// TypeBinding is a TypeStrings, or an inline table of Keys.
	TypeBinding Type = "names or inline table"
	// TypeTable is a table of Keys.
	TypeTable Type = "table"
	// TypeArray is an array of tables of Keys: [[name]].
	TypeArray Type = "array of tables"
	// TypeMap is a table whose keys are names, each value an Elem.
	TypeMap Type = "table of names"
)

// FormatIP is the format of a single IPv4 or IPv6 address.
const FormatIP = "ip"

// Names are sets of names the command layer knows and the profile format
// does not.
type Names string

const (
	// NamesTargets are the --target names a host may declare: the
	// backends that write hosts' rules.
	NamesTargets Names = "targets"
	// NamesProducts are the catalog's products.
	NamesProducts Names = "products"
	// NamesServices are the catalog's services.
	NamesServices Names = "services"
	// NamesLintCodes are the lint checks' codes.
	NamesLintCodes Names = "lint codes"
)

// Reference documents the profile format: the top-level table and,
// through it, every key. Backends' sections are not in it: each backend
// documents its own (generators.Section).
func Reference() Key {
	targets := func(where string) Key {
		return Key{Name: "targets", Type: TypeStrings, Names: NamesTargets, Unique: true, Conflicts: []string{"os"},
			Otherwise: "none declared",
			Doc:       "the --target names generated for " + where + "; [] declares none (an appliance the gateway in front protects). validate checks every declared target"}
	}
	osKey := func(where string) Key {
		return Key{Name: "os", Type: TypeString, Enum: osNames(), Conflicts: []string{"targets"},
			Doc: "the operating system of " + where + ": stands for the targets portwall recommends on it; instead of targets"}
	}
	firewall := func(where string) Key {
		return Key{Name: "firewall", Type: TypeString, Enum: firewallNames(), Otherwise: "not declared",
			Doc: "what else manages the packet filter of " + where + ": none, a ruleset of its own in nftables or iptables, firewalld, ufw, or Docker alone; lint (PW961) checks that the targets suit it"}
	}
	endpoints := func(side string) Key {
		return Key{Name: side, Type: TypeStrings, Required: true, NonEmpty: true,
			Doc: "hosts and groups by name, or \"any\""}
	}
	comment := Key{Name: "comment", Type: TypeString, MaxLength: MaxComment, Doc: "why: carried into each backend's comment next to the rule"}
	return Key{Type: TypeTable, Doc: "a deployment profile", Keys: []Key{
		{Name: "name", Type: TypeString, Pattern: NamePattern, Otherwise: "the file name without its extension",
			Doc: "the profile's name, in the outputs"},
		{Name: "description", Type: TypeString, Doc: "what the profile is for"},
		{Name: "defaults", Type: TypeTable, Doc: "profile-wide policies", Keys: []Key{
			{Name: "input", Type: TypeString, Default: quote(InputDrop), Enum: []string{string(InputDrop), string(InputReject)},
				Doc: "what happens to inbound packets no rule allows: dropped, or rejected (TCP reset, ICMP unreachable)"},
			{Name: "output", Type: TypeString, Default: quote(OutputAccept), Enum: []string{string(OutputAccept), string(OutputDrop)},
				Doc: "outbound packets: all accepted, or dropped unless an outbound flow or rule allows them (egress filtering)"},
			{Name: "log_dropped", Type: TypeBoolean, Default: "true", Doc: "log what the policy drops, rate limited"},
			{Name: "fqdn", Type: TypeString, Default: quote(FQDNError), Enum: []string{string(FQDNError), string(FQDNDynamicSet), string(FQDNOmit)},
				Doc: "host names in rules: error refuses them; dynamic-set gives nftables empty sets for a resolver to fill (allowing nothing until then); omit leaves them out of backends that cannot match them and says so"},
			targets("every host without its own declaration"),
			osKey("every host without its own declaration"),
			firewall("every host without its own declaration"),
		}},
		{Name: "groups", Type: TypeMap, NamePattern: NamePattern, Reserved: []string{"any"},
			Doc: "named address groups; hosts and groups share one namespace",
			Elem: &Key{Name: "NAME", Type: TypeStrings, NonEmpty: true,
				Doc: "the members: addresses, CIDR networks, ranges first-last, host names (FQDNs), \"any\", and hosts and other groups by name"}},
		{Name: "hosts", Type: TypeMap, NamePattern: NamePattern, Reserved: []string{"any"},
			Doc: "the machines portwall writes rules for",
			Elem: &Key{Name: "NAME", Type: TypeTable, Doc: "one machine", Keys: []Key{
				{Name: "description", Type: TypeString, Doc: "what the host is"},
				{Name: "addresses", Type: TypeStrings, Required: true, NonEmpty: true, Format: FormatIP,
					Doc: "the host's IPv4 and IPv6 addresses, single addresses that no other host has (networks and shared addresses go in [groups])"},
				targets("this host"),
				osKey("this host"),
				firewall("this host"),
			}}},
		{Name: "deployment", Type: TypeArray, Doc: "one product installed on some hosts", Keys: []Key{
			{Name: "name", Type: TypeString, Pattern: NamePattern, Otherwise: "the product's name",
				Doc: "the deployment's name, unique in the profile: two deployments of one product need one"},
			{Name: "product", Type: TypeString, Required: true, NonEmpty: true, Names: NamesProducts,
				Doc: "the catalog's product (portwall catalog list)"},
			{Name: "mode", Type: TypeString, Otherwise: "the product's default mode",
				Doc: "the product's operating mode, for products with modes (portwall catalog show PRODUCT)"},
			{Name: "version", Type: TypeString, Otherwise: "the catalog's default version",
				Doc: "the product's version whose document the flows follow, for products with versions"},
			{Name: "features", Type: TypeStrings, Otherwise: "the product's default features",
				Doc: "plain names replace the product's default features; +name and -name add to and remove from them (a list does one or the other)"},
			{Name: "deprecated", Type: TypeStrings, Doc: "deprecated flows to emit, by flow ID: they are emitted only when named"},
			{Name: "random_ports", Type: TypeString, Enum: []string{RandomPortsAll},
				Doc: "all: flows on randomly assigned ports open every port (for a product with no port pool option set)"},
			{Name: "roles", Type: TypeMap, Doc: "the product's own hosts, by role",
				Elem: &Key{Name: "ROLE", Type: TypeStrings, NonEmpty: true, Unique: true, Doc: "the hosts and groups in the role"}},
			{Name: "peers", Type: TypeMap, Doc: "the outside parties the flows name, by peer",
				Elem: &Key{Name: "PEER", Type: TypeBinding, NonEmpty: true, Unique: true,
					Doc: "the hosts and groups that are the peer, or another deployment's role: { deployment = \"NAME\", role = \"ROLE\" }",
					Keys: []Key{
						{Name: "deployment", Type: TypeString, Required: true, Doc: "another deployment of the profile"},
						{Name: "role", Type: TypeString, Otherwise: "the role the catalog names for the peer", Doc: "that deployment's role"},
					}}},
			{Name: "ports", Type: TypeMap, Doc: "configurable flows moved to other ports, by flow ID",
				Elem: &Key{Name: "FLOW", Type: TypePorts, NonEmpty: true, Doc: "the ports the flow uses instead"}},
			{Name: "choose", Type: TypeMap, Doc: "choices among flows' alternatives (\"443 or 8890\"), by flow ID",
				Elem: &Key{Name: "FLOW", Type: TypeChoice, NonEmpty: true,
					Doc: "the ports, ranges and protocols (tcp, udp) to open; a part left out keeps its default"}},
			{Name: "options", Type: TypeMap, Doc: "the product's options (portwall catalog show PRODUCT)",
				Elem: &Key{Name: "OPTION", Type: TypeScalar, Doc: "the option's value"}},
		}},
		{Name: "allow", Type: TypeArray, Doc: "a rule no catalog knows", Keys: []Key{
			endpoints("from"),
			endpoints("to"),
			{Name: "service", Type: TypeStrings, NonEmpty: true, Unique: true, Names: NamesServices, Conflicts: []string{"protocol", "ports", "icmp_types"},
				Doc: "well-known services by name (portwall catalog list), which bring their own protocols and ports; instead of protocol, ports and icmp_types"},
			{Name: "protocol", Type: TypeStrings, NonEmpty: true, Enum: proto.Names(), Doc: "the protocols; ICMP is not mixed with TCP and UDP"},
			{Name: "ports", Type: TypePorts, NonEmpty: true, Doc: "the destination ports, numbers and \"first-last\" ranges; required for tcp and udp, none for ICMP"},
			{Name: "icmp_types", Type: TypeStrings, Suggest: icmpTypeNames(), Otherwise: "every type",
				Doc: "ICMP and ICMPv6 rules only: the types, by name or number"},
			comment,
			{Name: "owner", Type: TypeString, MaxLength: MaxLabel, Pattern: noControl, Doc: "who asked for the rule: carried into the comment"},
			{Name: "ticket", Type: TypeString, MaxLength: MaxLabel, Pattern: noControl, Doc: "the ticket or change that asked for it: carried into the comment"},
			{Name: "expires", Type: TypeDate, Format: "date", Otherwise: "never",
				Doc: "a TOML date without quotes (2030-03-31): from the next day on the rule is no longer generated"},
		}},
		{Name: "expect", Type: TypeArray, Doc: "traffic that must be allowed or denied: verify checks it; nothing is generated", Keys: []Key{
			{Name: "from", Type: TypeString, Required: true, NonEmpty: true, Doc: "a host or group name, or \"any\""},
			{Name: "to", Type: TypeString, Required: true, NonEmpty: true, Doc: "a host or group name, or \"any\""},
			{Name: "protocol", Type: TypeString, Required: true, Enum: proto.Names(), Doc: "the protocol; icmp and icmpv6 mean ping (echo request)"},
			{Name: "port", Type: TypeInteger, Min: 1, Max: 65535, Doc: "the destination port: required for tcp and udp, none for ICMP"},
			{Name: "verdict", Type: TypeString, Required: true, Enum: []string{string(VerdictAllow), string(VerdictDeny)}, Doc: "what must happen to the traffic"},
			comment,
		}},
		{Name: "lint", Type: TypeTable, Doc: "lint's settings for this profile", Keys: []Key{
			{Name: "ignore", Type: TypeStrings, Unique: true, Names: NamesLintCodes, Doc: "lint codes this profile accepts (say why in a comment)"},
		}},
	}}
}

// noControl refuses control characters (unicode.IsControl: C0, DEL, C1).
const noControl = `^[^\x00-\x1F\x7F-\x9F]*$`

func quote[T ~string](s T) string { return strconv.Quote(string(s)) }

func osNames() []string {
	out := make([]string, len(OSes))
	for i, o := range OSes {
		out[i] = string(o)
	}
	return out
}

func firewallNames() []string {
	out := make([]string, len(Firewalls))
	for i, f := range Firewalls {
		out[i] = string(f)
	}
	return out
}

// icmpTypeNames lists the ICMP and ICMPv6 type names, once each.
func icmpTypeNames() []string {
	out := append(proto.ICMPTypeNames(proto.ICMP), proto.ICMPTypeNames(proto.ICMPv6)...)
	slices.Sort(out)
	return slices.Compact(out)
}
