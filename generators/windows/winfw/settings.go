package winfw

import (
	"slices"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/internal/tomldoc"
	"github.com/portwall/portwall/rules/ir"
)

// Settings is the profile's [windows] section, shared by the netsh and
// PowerShell backends.
type Settings struct {
	// Profiles are the Windows Firewall profiles the rules apply to: any,
	// or some of domain, private, public.
	Profiles []string
	// SetPolicy also sets the profiles' default inbound and outbound
	// policy from [defaults]. It changes the whole host, so it is off
	// unless asked for.
	SetPolicy bool
	// FQDNMode overrides defaults.fqdn for these backends ("" keeps it).
	FQDNMode ir.FQDNMode
	// ForeignRules is what the PowerShell script does with enabled
	// inbound allow rules of other programs (installers) that widen
	// portwall's: ForeignReport lists them, ForeignDisable also disables
	// them. netsh cannot find them, and names the installers' rules.
	ForeignRules ForeignRules
}

// ForeignRules is the [windows] foreign_rules setting.
type ForeignRules string

const (
	ForeignReport  ForeignRules = "report"
	ForeignDisable ForeignRules = "disable"
)

// FQDN implements generators.FQDNOverride.
func (s Settings) FQDN() ir.FQDNMode { return s.FQDNMode }

// FirewallProfiles are the names [windows] profiles accepts.
var FirewallProfiles = []string{"any", "domain", "private", "public"}

// Section is the [windows] section.
var Section generators.Section = section{}

type section struct{}

func (section) Name() string { return "windows" }

func (section) Keys() []generators.Key {
	return []generators.Key{
		{Name: "profiles", Type: "string or list of strings", Default: `["any"]`, Enum: FirewallProfiles,
			Doc: "the Windows Firewall profiles the rules apply to: any, or some of domain, private and public (one string for one profile)"},
		{Name: "set_policy", Type: "boolean", Default: "false",
			Doc: "also set the profiles' default inbound and outbound policy and drop logging from [defaults]; it changes the whole host"},
		generators.FQDNOverrideKey,
		{Name: "foreign_rules", Type: "string", Default: string(ForeignReport), Enum: []string{string(ForeignReport), string(ForeignDisable)},
			Doc: "PowerShell: after adding portwall's rules, report enabled inbound allow rules of other programs (installers) that share a port or program with them and allow more remote addresses; disable also disables them (never deletes) and records them, and running the script with restore enables them again"},
	}
}

func (section) Decode(t *tomldoc.Table, _ generators.Env) (any, error) {
	out := Settings{Profiles: []string{"any"}, ForeignRules: ForeignReport}
	if t == nil {
		return out, nil
	}
	var f struct {
		Profiles     any    `toml:"profiles"`
		SetPolicy    bool   `toml:"set_policy"`
		FQDN         string `toml:"fqdn"`
		ForeignRules string `toml:"foreign_rules"`
	}
	if errs := t.Decode(&f); len(errs) > 0 {
		return nil, errs.Err()
	}
	var errs diag.ErrorList
	out.SetPolicy = f.SetPolicy
	if ps := t.StringList(&errs, []any{"profiles"}, f.Profiles); len(ps) > 0 {
		out.Profiles = ps
	}
	out.FQDNMode = generators.DecodeFQDNOverride(t, &errs, f.FQDN)
	switch f.ForeignRules {
	case "", string(ForeignReport):
	case string(ForeignDisable):
		out.ForeignRules = ForeignDisable
	default:
		t.Errorf(&errs, []any{"foreign_rules"}, "invalid foreign_rules %q: want \"report\" or \"disable\"%s", f.ForeignRules,
			diag.DidYouMean(f.ForeignRules, []string{string(ForeignReport), string(ForeignDisable)}))
	}
	for i, pr := range out.Profiles {
		if !slices.Contains(FirewallProfiles, pr) {
			t.Errorf(&errs, []any{"profiles", i}, "invalid Windows Firewall profile %q: want any, domain, private or public%s", pr, diag.DidYouMean(pr, FirewallProfiles))
		}
	}
	if slices.Contains(out.Profiles, "any") && len(out.Profiles) > 1 {
		t.Errorf(&errs, []any{"profiles"}, "\"any\" already covers every profile")
	}
	seen := map[string]bool{}
	for i, pr := range out.Profiles {
		if seen[pr] {
			t.Errorf(&errs, []any{"profiles", i}, "profile %q listed twice", pr)
		}
		seen[pr] = true
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// SettingsOf returns the [windows] settings of a request's settings.
func SettingsOf(s generators.Settings) Settings { return generators.Of[Settings](s, Section) }

// Mode is what the Windows backends do with host names under s.
func (s Settings) Mode(p ir.Policy) ir.FQDNMode { return generators.ResolveFQDN(s, p) }
