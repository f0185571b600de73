package iptables

import (
	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/internal/tomldoc"
	"github.com/portwall/portwall/rules/ir"
)

// Settings is the profile's [iptables] section, shared by iptables and
// ip6tables.
type Settings struct {
	Mode Mode
	// FQDNMode overrides defaults.fqdn for these backends ("" keeps it).
	FQDNMode ir.FQDNMode
}

// FQDN implements generators.FQDNOverride.
func (s Settings) FQDN() ir.FQDNMode { return s.FQDNMode }

// Mode is how the output is loaded.
type Mode string

const (
	// Replace: `iptables-restore FILE` replaces the filter table, with
	// portwall's chains hooked into INPUT and OUTPUT.
	Replace Mode = "replace"
	// NoFlush: `iptables-restore --noflush FILE` replaces only portwall's
	// chains; the jump from INPUT is installed once, apart.
	NoFlush Mode = "noflush"
)

// Section is the [iptables] section.
var Section generators.Section = section{}

type section struct{}

func (section) Name() string { return "iptables" }

func (section) Keys() []generators.Key {
	return []generators.Key{
		{Name: "mode", Type: "string", Default: string(Replace), Enum: []string{string(Replace), string(NoFlush)},
			Doc: "replace: iptables-restore replaces the whole filter table; noflush: iptables-restore --noflush replaces only portwall's chains, hooked in once apart"},
		generators.FQDNOverrideKey,
	}
}

func (section) Decode(t *tomldoc.Table, _ generators.Env) (any, error) {
	out := Settings{Mode: Replace}
	if t == nil {
		return out, nil
	}
	var f struct {
		Mode string `toml:"mode"`
		FQDN string `toml:"fqdn"`
	}
	if errs := t.Decode(&f); len(errs) > 0 {
		return nil, errs.Err()
	}
	var errs diag.ErrorList
	out.FQDNMode = generators.DecodeFQDNOverride(t, &errs, f.FQDN)
	switch f.Mode {
	case "", string(Replace):
	case string(NoFlush):
		out.Mode = NoFlush
	default:
		t.Errorf(&errs, []any{"mode"}, "invalid iptables mode %q: want \"replace\" or \"noflush\"", f.Mode)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// SettingsOf returns the [iptables] settings of a request's settings.
func SettingsOf(s generators.Settings) Settings { return generators.Of[Settings](s, Section) }
