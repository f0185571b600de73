package firewalld

import (
	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/internal/tomldoc"
	"github.com/portwall/portwall/rules/ir"
)

// Settings is the profile's [firewalld] section.
type Settings struct {
	// FQDNMode overrides defaults.fqdn for this backend ("" keeps it).
	FQDNMode ir.FQDNMode
}

// FQDN implements generators.FQDNOverride.
func (s Settings) FQDN() ir.FQDNMode { return s.FQDNMode }

// Section is the [firewalld] section.
var Section generators.Section = section{}

type section struct{}

func (section) Name() string { return "firewalld" }

func (section) Keys() []generators.Key {
	return []generators.Key{generators.FQDNOverrideKey}
}

func (section) Decode(t *tomldoc.Table, _ generators.Env) (any, error) {
	var out Settings
	if t == nil {
		return out, nil
	}
	var f struct {
		FQDN string `toml:"fqdn"`
	}
	if errs := t.Decode(&f); len(errs) > 0 {
		return nil, errs.Err()
	}
	var errs diag.ErrorList
	out.FQDNMode = generators.DecodeFQDNOverride(t, &errs, f.FQDN)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// SettingsOf returns the [firewalld] settings of a request's settings.
func SettingsOf(s generators.Settings) Settings { return generators.Of[Settings](s, Section) }
