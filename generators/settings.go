package generators

import (
	"errors"
	"sync"

	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/internal/tomldoc"
	"github.com/portwall/portwall/profiles"
	"github.com/portwall/portwall/rules"
	"github.com/portwall/portwall/rules/ir"
)

// Section is a backend's own part of the profile: a top-level table such
// as [nftables] that the backend declares, decodes and checks itself, the
// way sqlc hands each code generator its own options. The profile format
// and the IR carry it without knowing its fields, so that adding a backend
// touches nothing in profiles/ or rules/.
//
// Several backends may share one section (iptables and ip6tables share
// [iptables]; netsh and PowerShell share [windows]): they return the same
// Section.
type Section interface {
	// Name is the table's name, such as "nftables".
	Name() string
	// Decode decodes and checks the table (nil when the profile has none:
	// the defaults) into the backend's settings value. Problems are
	// reported as a diag.ErrorList with the profile's positions.
	Decode(t *tomldoc.Table, env Env) (any, error)
	// Keys documents the table's keys, for the manual, the README and the
	// profile's schema.
	Keys() []Key
}

// Key documents one key of a section.
type Key struct {
	Name string
	// Type is the TOML type: "string", "boolean", "list of strings",
	// "string or list of strings" (one string for a list of one),
	// "table of strings".
	Type    string
	Default string
	// Enum lists the values a string (or each element of a list) may
	// take; empty when any value of the type is allowed.
	Enum []string
	// Pattern is a regular expression (RE2, as JSON Schema's ECMA 262
	// subset also reads it) a string value must match, when its values
	// follow a rule an enum cannot list; empty for none.
	Pattern string
	Doc     string
}

// Env is what a section may refer to while it is decoded: the profile's
// endpoint names and the command line.
type Env interface {
	// IsEndpoint reports whether name is a host or group of the profile,
	// or "any".
	IsEndpoint(name string) bool
	// EndpointNames lists every host and group name, for suggestions.
	EndpointNames() []string
	// Addresses resolves a host or group of the profile to its address
	// set, references followed, for a section that places endpoints by
	// what they hold (the FortiGate's interfaces); false for other names.
	Addresses(name string) (*ir.AddrSet, bool)
	// Flag returns the value of a command-line flag that overrides a key
	// of the section ("" when it was not given).
	Flag(name string) string
}

// Tables is where the sections come from: a profile, which keeps every
// top-level table its own format does not define for its owner.
type Tables interface {
	Table(name string) *tomldoc.Table
}

// Settings holds each backend's decoded section, by section name: what a
// Request carries to its backend next to the IR.
type Settings map[string]any

// Of returns the settings of section sec: the decoded table, or the
// section's defaults when the settings do not hold it (an IR built by hand,
// a test).
func Of[T any](s Settings, sec Section) T {
	if v, ok := s[sec.Name()].(T); ok {
		return v
	}
	v, err := sec.Decode(nil, noEnv{})
	if err != nil {
		panic("generators: defaults of section " + sec.Name() + " do not decode: " + err.Error())
	}
	return v.(T)
}

type noEnv struct{}

func (noEnv) IsEndpoint(string) bool               { return false }
func (noEnv) EndpointNames() []string              { return nil }
func (noEnv) Addresses(string) (*ir.AddrSet, bool) { return nil, false }
func (noEnv) Flag(string) string                   { return "" }

// Sections lists the sections of the backends, once each, in the order the
// backends come.
func Sections(gs []Generator) []Section {
	var out []Section
	seen := map[string]bool{}
	for _, g := range gs {
		if s := g.Section(); s != nil && !seen[s.Name()] {
			seen[s.Name()] = true
			out = append(out, s)
		}
	}
	return out
}

// DecodeSettings decodes each section from the profile's tables (the
// defaults for a section the profile does not have) and reports every
// problem at once. Tables that no section owns are the profile's to report
// (profiles.Profile.UnknownTables).
func DecodeSettings(from Tables, secs []Section, env Env) (Settings, error) {
	s := Settings{}
	var errs diag.ErrorList
	var other []error
	for _, sec := range secs {
		v, err := sec.Decode(from.Table(sec.Name()), env)
		var list diag.ErrorList
		switch {
		case err == nil:
			s[sec.Name()] = v
		case errors.As(err, &list):
			errs = append(errs, list...)
		default:
			other = append(other, err)
		}
	}
	if len(other) > 0 {
		return nil, errors.Join(other...)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

// FQDNOverride is implemented by settings whose section may override
// defaults.fqdn for its backends.
type FQDNOverride interface {
	FQDN() ir.FQDNMode
}

// FQDNMode is what backend g does with host names for this request: its
// section's override, or defaults.fqdn.
func FQDNMode(g Generator, req Request) ir.FQDNMode {
	var o FQDNOverride
	if sec := g.Section(); sec != nil {
		o, _ = Of[any](req.Settings, sec).(FQDNOverride)
	}
	return ResolveFQDN(o, req.Ruleset.Policy)
}

// ResolveFQDN is the fqdn mode under settings o (nil for none): its
// override, or defaults.fqdn.
func ResolveFQDN(o FQDNOverride, p ir.Policy) ir.FQDNMode {
	if o != nil && o.FQDN() != "" {
		return o.FQDN()
	}
	return p.FQDN
}

// FQDNOverrideKey documents the fqdn key of sections whose backends
// cannot fill address sets at run time (iptables, Windows).
var FQDNOverrideKey = Key{Name: "fqdn", Type: "string", Enum: []string{string(ir.FQDNError), string(ir.FQDNOmit)},
	Doc: "overrides defaults.fqdn for these backends; they support \"error\" and \"omit\" (default: defaults.fqdn)"}

// DecodeFQDNOverride checks a section's fqdn key (FQDNOverrideKey); ""
// keeps defaults.fqdn.
func DecodeFQDNOverride(t *tomldoc.Table, errs *diag.ErrorList, v string) ir.FQDNMode {
	switch v {
	case "", string(ir.FQDNError), string(ir.FQDNOmit):
		return ir.FQDNMode(v)
	}
	t.Errorf(errs, []any{"fqdn"}, "invalid fqdn mode %q for this backend: want \"error\" or \"omit\"", v)
	return ""
}

// Endpoints is what a profile tells a section about its names.
type Endpoints interface {
	IsEndpoint(name string) bool
	EndpointNames() []string
}

// NewEnv is the Env of a profile's endpoints and the command line's flags
// (flag may be nil: no flags). The endpoints of a *profiles.Profile
// resolve to addresses (Env.Addresses) the way rules.Resolve resolves
// them, on first use.
func NewEnv(e Endpoints, flag func(name string) string) Env {
	out := env{Endpoints: e, flag: flag}
	out.sets = sync.OnceValue(func() map[string]*ir.AddrSet {
		if p, ok := e.(*profiles.Profile); ok {
			return rules.AddressSets(p)
		}
		return nil
	})
	return out
}

type env struct {
	Endpoints
	flag func(string) string
	sets func() map[string]*ir.AddrSet
}

func (e env) Addresses(name string) (*ir.AddrSet, bool) {
	if !e.IsEndpoint(name) {
		return nil, false
	}
	s, ok := e.sets()[name]
	return s, ok
}

func (e env) Flag(name string) string {
	if e.flag == nil {
		return ""
	}
	return e.flag(name)
}
