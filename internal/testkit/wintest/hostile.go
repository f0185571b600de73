package wintest

import (
	"slices"
	"strings"
	"testing"

	"github.com/portwall/portwall/generators/windows/winfw"
	"github.com/portwall/portwall/internal/testkit/rulestest"
	"github.com/portwall/portwall/rules/ir"
)

// hostileSettings are the [windows] settings hostile IR is rendered with:
// several profiles and set_policy, so that every part of a script is
// written.
var hostileSettings = winfw.Settings{Profiles: []string{"domain", "public"}, SetPolicy: true}

// RenderHostile renders the host of x's IR, or returns the backend's
// refusal. Whatever it wrote must read back and allow nothing beyond the
// IR.
func RenderHostile(t testing.TB, b Backend, x rulestest.Texts) ([]byte, error) {
	t.Helper()
	rs := rulestest.HostileRuleset(t, x)
	if rs == nil {
		return nil, nil
	}
	v, err := rs.HostView(x.Host)
	if err != nil {
		t.Fatal(err)
	}
	data, err := b.Render(v, hostileSettings)
	if err != nil {
		return nil, err
	}
	b.check(t, v, "hostile", data, nil)
	return data, nil
}

// HostileFreeText: free text (descriptions, comments, profile and set
// names, origin names) never breaks the script, and is never refused.
func HostileFreeText(t *testing.T, b Backend) {
	for _, s := range rulestest.Nasty {
		for _, x := range []rulestest.Texts{
			{Set: s, Host: "h1", Desc: "d", Comment: "c", Flow: "f", Profile: "p"},
			{Set: "office", Host: "h1", Desc: s, Comment: s, Flow: s, Profile: s},
		} {
			if x.Set == "" {
				continue
			}
			if _, err := RenderHostile(t, b, x); err != nil {
				t.Errorf("free text %q refused: %v", s, err)
			}
		}
	}
}

// Refused: each IR, named by why it must be, is refused.
func Refused(t *testing.T, b Backend, refused map[string]rulestest.Texts) {
	for why, x := range refused {
		if _, err := RenderHostile(t, b, x); err == nil {
			t.Errorf("%s: not refused", why)
		}
	}
}

// HostileRuleIDs: a rule ID goes into the rule name unchanged, so an
// unsafe one is refused, naming nothing unsafe in the error.
func HostileRuleIDs(t *testing.T, b Backend, ids []string) {
	for _, id := range ids {
		rs := rulestest.HostileRuleset(t, rulestest.Texts{Set: "g", Host: "h1"})
		rs.Rules[0].ID = id
		v, _ := rs.HostView("h1")
		_, err := b.Render(v, hostileSettings)
		if err == nil {
			t.Errorf("rule ID %q: not refused", id)
			continue
		}
		if strings.ContainsAny(err.Error(), "\r\n") {
			t.Errorf("rule ID %q: error carries a line break: %q", id, err)
		}
	}
}

// HostileSettings: settings from the [windows] section and policies that
// are not the profile checker's values are refused; own adds the cases
// written in the backend's syntax.
func HostileSettings(t *testing.T, b Backend, own map[string]func(*ir.Ruleset, *winfw.Settings)) {
	cases := map[string]func(*ir.Ruleset, *winfw.Settings){
		"profile current":     func(_ *ir.Ruleset, w *winfw.Settings) { w.Profiles = []string{"current"} },
		"profile twice":       func(_ *ir.Ruleset, w *winfw.Settings) { w.Profiles = []string{"domain", "domain"} },
		"any with others":     func(_ *ir.Ruleset, w *winfw.Settings) { w.Profiles = []string{"any", "public"} },
		"unknown input":       func(rs *ir.Ruleset, _ *winfw.Settings) { rs.Policy.Input = "accept" },
		"unknown output":      func(rs *ir.Ruleset, _ *winfw.Settings) { rs.Policy.Output = "log" },
		"host names, no omit": func(rs *ir.Ruleset, _ *winfw.Settings) { rs.Policy.FQDN = ir.FQDNError },
		"IPv4-mapped address": func(rs *ir.Ruleset, _ *winfw.Settings) {
			s, _ := rs.Set("g")
			s.IPs = rulestest.IPSet(t, "::ffff:10.0.0.0/120")
		},
	}
	for name, mod := range own {
		cases[name] = mod
	}
	for name, mod := range cases {
		rs := rulestest.HostileRuleset(t, rulestest.Texts{Set: "g", Host: "h1"})
		w := hostileSettings
		w.Profiles = slices.Clone(w.Profiles)
		mod(rs, &w)
		v, _ := rs.HostView("h1")
		if _, err := b.Render(v, w); err == nil {
			t.Errorf("%s: not refused", name)
		}
	}
}
