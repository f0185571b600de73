package fortigate

import (
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/internal/tomldoc"
)

// Settings is the profile's [fortigate] section.
type Settings struct {
	// Version is the FortiOS version the snippet is for, "major.minor".
	// From 6.4 IPv4 and IPv6 share one policy; before, IPv6 has policy6.
	Version string
	// LogTraffic is the policies' logtraffic: all, utm or disable.
	LogTraffic string
	// Interfaces maps host and group names (and "any", the default) to
	// the interface or zone they sit behind.
	Interfaces map[string]string
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
var interfacePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,34}$`)

// Section is the [fortigate] section.
var Section generators.Section = section{}

type section struct{}

func (section) Name() string { return "fortigate" }

func (section) Keys() []generators.Key {
	return []generators.Key{
		{Name: "version", Type: "string", Default: DefaultVersion, Enum: versionNames(),
			Doc: "the FortiOS version the snippet is for: from 6.4 one policy carries IPv4 and IPv6, before IPv6 has policy6"},
		{Name: "logtraffic", Type: "string", Default: "all", Enum: logTraffic, Doc: "the policies' logtraffic"},
		{Name: "interfaces", Type: "table of strings", Default: "{}",
			Doc: "host or group name (or \"any\", the default route) = the interface or zone it sits behind"},
		{Name: "self", Type: "string", Default: `""`, Doc: "the host or group that stands for the FortiGate's own addresses"},
		{Name: "local_in", Type: "boolean", Default: "false", Doc: "rules to self become local-in policies (needs self)"},
	}
}

func (section) Decode(t *tomldoc.Table, env generators.Env) (any, error) {
	out := Settings{Version: DefaultVersion, LogTraffic: "all", Interfaces: map[string]string{}}
	if t == nil {
		return out, nil
	}
	var f struct {
		Version    string            `toml:"version"`
		LogTraffic string            `toml:"logtraffic"`
		Interfaces map[string]string `toml:"interfaces"`
		Self       string            `toml:"self"`
		LocalIn    bool              `toml:"local_in"`
	}
	if errs := t.Decode(&f); len(errs) > 0 {
		return nil, errs.Err()
	}
	var errs diag.ErrorList
	out.Self, out.LocalIn = f.Self, f.LocalIn
	if f.Version != "" {
		out.Version = f.Version
		if !slices.Contains(versionNames(), f.Version) {
			t.Errorf(&errs, []any{"version"}, "unknown FortiOS version %q: want one of %s", f.Version, strings.Join(versionNames(), ", "))
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
		if !env.IsEndpoint(k) {
			t.KeyErrorf(&errs, path, "unknown host or group %q%s", k, diag.DidYouMean(k, env.EndpointNames()))
		}
		v := f.Interfaces[k]
		if !interfacePattern.MatchString(v) {
			t.Errorf(&errs, path, "invalid interface or zone name %q: letters, digits, '_', '.' and '-', at most 35 characters", v)
		}
		out.Interfaces[k] = v
	}
	if f.Self != "" && !env.IsEndpoint(f.Self) {
		t.Errorf(&errs, []any{"self"}, "unknown host or group %q%s", f.Self, diag.DidYouMean(f.Self, env.EndpointNames()))
	}
	if f.LocalIn && f.Self == "" {
		t.Errorf(&errs, []any{"local_in"}, "local_in needs self: the host or group that stands for the FortiGate's own addresses")
	}
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
