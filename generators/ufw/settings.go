package ufw

import (
	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/internal/tomldoc"
	"github.com/portwall/portwall/rules/ir"
)

// Settings is the profile's [ufw] section.
type Settings struct {
	// Enable makes the script enable ufw when it is inactive (ufw
	// --force enable), as --enable does.
	Enable bool
	// FQDNMode overrides defaults.fqdn for this backend ("" keeps it).
	FQDNMode ir.FQDNMode
}

// FQDN implements generators.FQDNOverride.
func (s Settings) FQDN() ir.FQDNMode { return s.FQDNMode }

// Section is the [ufw] section.
var Section generators.Section = section{}

type section struct{}

func (section) Name() string { return "ufw" }

func (section) Keys() []generators.Key {
	return []generators.Key{
		{Name: "enable", Type: "boolean", Default: "false",
			Doc: "the load script also enables ufw when it is inactive (ufw --force enable, as the script's --enable does); off by default, since enabling a firewall on a remote host can cut the connection that runs the script"},
		generators.FQDNOverrideKey,
	}
}

func (section) Decode(t *tomldoc.Table, _ generators.Env) (any, error) {
	var out Settings
	if t == nil {
		return out, nil
	}
	var f struct {
		Enable bool   `toml:"enable"`
		FQDN   string `toml:"fqdn"`
	}
	if errs := t.Decode(&f); len(errs) > 0 {
		return nil, errs.Err()
	}
	var errs diag.ErrorList
	out.Enable = f.Enable
	out.FQDNMode = generators.DecodeFQDNOverride(t, &errs, f.FQDN)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// SettingsOf returns the [ufw] settings of a request's settings.
func SettingsOf(s generators.Settings) Settings { return generators.Of[Settings](s, Section) }
