package fortigate

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/zones"
	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/internal/tomldoc"
	"github.com/portwall/portwall/rules/ir"
)

// Settings is the profile's [fortigate] section.
type Settings struct {
	// Version is the FortiOS version the snippet is for: a release
	// ("7.4") or a patch level of one ("7.4.4"), which takes its
	// release's syntax. From 6.4 IPv4 and IPv6 share one policy; before,
	// IPv6 has policy6.
	Version string
	// VDOM, when set, wraps the snippet in config vdom / edit VDOM / end,
	// and --running reads that VDOM of a multi-VDOM configuration.
	VDOM string
	// LogTraffic is the policies' logtraffic: all, utm or disable.
	LogTraffic string
	// Interfaces maps what sits behind each interface or zone: a key is a
	// host or group (its addresses), an address, CIDR or range, a host
	// name, or "any" (or "default"): the default route. A rule's side
	// goes behind the interface whose key holds its addresses, by
	// longest prefix.
	Interfaces map[string]string
	// KeySets are the address sets of the host and group keys of
	// Interfaces, resolved from the profile whether or not a rule uses
	// them. A key missing here (settings built by hand) is looked up in
	// the ruleset.
	KeySets map[string]*ir.AddrSet
	// IntraInterface renders rules whose two sides sit behind the same
	// interface, which do not cross the FortiGate unless it routes
	// between hosts of one network; they are left out by default.
	IntraInterface bool
	// Place is where portwall's policies go in the policy table when
	// synchronised against a running configuration: "top", "bottom" (the
	// default, also ""), "before ID" or "after ID".
	Place string
	// Self names the host or group that stands for the FortiGate's own
	// addresses: rules to it become local-in policies when LocalIn is set.
	Self    string
	LocalIn bool
}

// DefaultVersion is the version the snippet is for unless the profile
// says otherwise.
const DefaultVersion = "7.4"

// interfacePattern is what FortiOS interface and zone names look like
// (interfaces hold 15 characters, zones 35).
var interfacePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,34}$`) })

// vdomPattern: VDOM names hold letters, digits, '_' and '-' (reference
// section 2), at most 31 characters.
var vdomPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_-]{1,31}$`) })

// Section is the [fortigate] section.
var Section generators.Section = section{}

type section struct{}

func (section) Name() string { return "fortigate" }

func (section) Keys() []generators.Key {
	return []generators.Key{
		{Name: "version", Type: "string", Default: DefaultVersion, Pattern: versionKeyPattern(),
			Doc: "the FortiOS version the snippet is for: a release (" + strings.Join(versionNames(), ", ") + ") or a patch level of one (7.6.1), which takes its release's syntax"},
		{Name: "vdom", Type: "string", Default: `""`, Doc: "wrap the snippet in config vdom / edit VDOM / end; --running reads that VDOM"},
		{Name: "logtraffic", Type: "string", Default: "all", Enum: logTraffic, Doc: "the policies' logtraffic"},
		{Name: "interfaces", Type: "table of strings", Default: "{}",
			Doc: "what sits behind each interface or zone: a host or group (its addresses), an address, CIDR or range, a host name, or \"any\" (or \"default\", or a group of every address): the default route; longest prefix wins"},
		{Name: "intra_interface", Type: "boolean", Default: "false",
			Doc: "also write policies for rules whose two sides sit behind the same interface (left out by default)"},
		{Name: "place", Type: "string", Default: "bottom",
			Doc: "where --running puts portwall's policies in the policy table: top, bottom, \"before ID\" or \"after ID\""},
		{Name: "self", Type: "string", Default: `""`, Doc: "the host or group that stands for the FortiGate's own addresses"},
		{Name: "local_in", Type: "boolean", Default: "false", Doc: "rules to self become local-in policies (needs self)"},
	}
}

func (section) Decode(t *tomldoc.Table, env generators.Env) (any, error) {
	out := Settings{Version: DefaultVersion, LogTraffic: "all", Interfaces: map[string]string{}, Place: "bottom"}
	if t == nil {
		return out, nil
	}
	var f struct {
		Version        string            `toml:"version"`
		VDOM           string            `toml:"vdom"`
		LogTraffic     string            `toml:"logtraffic"`
		Interfaces     map[string]string `toml:"interfaces"`
		IntraInterface bool              `toml:"intra_interface"`
		Place          string            `toml:"place"`
		Self           string            `toml:"self"`
		LocalIn        bool              `toml:"local_in"`
	}
	if errs := t.Decode(&f); len(errs) > 0 {
		return nil, errs.Err()
	}
	var errs diag.ErrorList
	out.Self, out.LocalIn, out.IntraInterface = f.Self, f.LocalIn, f.IntraInterface
	if f.Version != "" {
		out.Version = f.Version
		if _, err := parseVersion(f.Version); err != nil {
			t.Errorf(&errs, []any{"version"}, "%s", strings.TrimPrefix(err.Error(), "fortigate: "))
		}
	}
	if f.VDOM != "" {
		out.VDOM = f.VDOM
		if !vdomPattern().MatchString(f.VDOM) {
			t.Errorf(&errs, []any{"vdom"}, "invalid VDOM name %q: letters, digits, '_' and '-', at most 31 characters", f.VDOM)
		}
	}
	if f.Place != "" {
		out.Place = f.Place
		if _, err := parsePlace(f.Place); err != nil {
			t.Errorf(&errs, []any{"place"}, "%v", err)
		}
	}
	if f.LogTraffic != "" {
		out.LogTraffic = f.LogTraffic
		if !slices.Contains(logTraffic, f.LogTraffic) {
			t.Errorf(&errs, []any{"logtraffic"}, "invalid logtraffic %q: want all, utm or disable", f.LogTraffic)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(f.Interfaces)) {
		path := []any{"interfaces", k}
		v := f.Interfaces[k]
		if !interfacePattern().MatchString(v) {
			t.Errorf(&errs, path, "invalid interface or zone name %q: letters, digits, '_', '.' and '-', at most 35 characters", v)
		}
		out.Interfaces[k] = v
		if k == ir.AnySet || k == zones.DefaultKey || !env.IsEndpoint(k) {
			continue
		}
		if s, ok := env.Addresses(k); ok {
			if out.KeySets == nil {
				out.KeySets = map[string]*ir.AddrSet{}
			}
			out.KeySets[k] = s
		}
	}
	// The keys' meaning: names, addresses, conflicts.
	if _, rerrs := buildRoutes(out, nil, env.EndpointNames()); len(rerrs) > 0 {
		for _, e := range rerrs {
			if e.Value {
				t.Errorf(&errs, []any{"interfaces", e.Key}, "%s", e.Msg)
			} else {
				t.KeyErrorf(&errs, []any{"interfaces", e.Key}, "%s", e.Msg)
			}
		}
	}
	if f.Self != "" && !env.IsEndpoint(f.Self) {
		t.Errorf(&errs, []any{"self"}, "unknown host or group %q%s", f.Self, diag.DidYouMean(f.Self, env.EndpointNames()))
	}
	if f.LocalIn && f.Self == "" {
		t.Errorf(&errs, []any{"local_in"}, "local_in needs self: the host or group that stands for the FortiGate's own addresses")
	}
	errs.Sort()
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// SettingsOf returns the [fortigate] settings of a request's settings.
func SettingsOf(s generators.Settings) Settings { return generators.Of[Settings](s, Section) }

func versionNames() []string {
	names := make([]string, len(versions))
	for i, v := range versions {
		names[i] = v.name
	}
	return names
}

// placement is where portwall's block of policies goes.
type placement struct {
	where string // "top", "bottom", "before", "after"
	id    uint64 // for before and after
}

func parsePlace(s string) (placement, error) {
	switch s {
	case "", "bottom":
		return placement{where: "bottom"}, nil
	case "top":
		return placement{where: "top"}, nil
	}
	w, id, ok := strings.Cut(s, " ")
	if ok && (w == "before" || w == "after") {
		n, err := strconv.ParseUint(id, 10, 32)
		if err == nil && n > 0 && n <= maxPolicyID && strconv.FormatUint(n, 10) == id {
			return placement{where: w, id: n}, nil
		}
	}
	return placement{}, fmt.Errorf("invalid place %q: want \"top\", \"bottom\", \"before ID\" or \"after ID\" (a policy id of the running configuration)", s)
}

func (p placement) String() string {
	if p.where == "before" || p.where == "after" {
		return p.where + " " + strconv.FormatUint(p.id, 10)
	}
	return p.where
}
