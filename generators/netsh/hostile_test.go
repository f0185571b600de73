package netsh_test

import (
	"strings"
	"testing"

	"github.com/portwall/portwall/generators/backendtest"
	"github.com/portwall/portwall/generators/netsh"
	"github.com/portwall/portwall/rules/ir"
)

// renderHostile renders the host of x's IR, or returns netsh's refusal.
// Whatever it wrote must parse and allow nothing beyond the IR.
func renderHostile(t testing.TB, x backendtest.Texts) (data []byte, err error) {
	t.Helper()
	rs := backendtest.HostileRuleset(t, x)
	if rs == nil {
		return nil, nil
	}
	v, err := rs.HostView(x.Host)
	if err != nil {
		t.Fatal(err)
	}
	data, err = netsh.Render(v)
	if err != nil {
		return nil, err
	}
	if s := verify(t, v, "hostile", data, nil); s != nil {
		invariants(t, "hostile", data, s)
	}
	return data, nil
}

// TestHostileIR: free text (descriptions, comments, profile and set names,
// origin names) never breaks the script, and is never refused; names that
// would have to go into a file name or rule name unchanged (host names,
// rule IDs, program paths) are refused when unsafe.
func TestHostileIR(t *testing.T) {
	base := backendtest.Texts{Set: "office", Host: "h1", Desc: "d", Comment: "c", Flow: "f", Profile: "p"}
	for _, s := range backendtest.Nasty {
		for _, x := range []backendtest.Texts{
			{Set: s, Host: base.Host, Desc: base.Desc, Comment: base.Comment, Flow: base.Flow, Profile: base.Profile},
			{Set: base.Set, Host: base.Host, Desc: s, Comment: s, Flow: s, Profile: s},
		} {
			if x.Set == "" {
				continue
			}
			if _, err := renderHostile(t, x); err != nil {
				t.Errorf("free text %q refused: %v", s, err)
			}
		}
	}

	refused := map[string]backendtest.Texts{
		"host name with a quote":         {Set: "g", Host: `h1" & calc`},
		"host name with a path":          {Set: "g", Host: `..\..\x`},
		"host name with a line break":    {Set: "g", Host: "h1\r\nexit"},
		"program with a quote":           {Set: "g", Host: "h1", Program: `C:\a" & calc & "\x.exe`},
		"program with %":                 {Set: "g", Host: "h1", Program: `C:\100%\x.exe`},
		"program with a variable inside": {Set: "g", Host: "h1", Program: `C:\x\%USERNAME%\x.exe`},
		"program not a full path":        {Set: "g", Host: "h1", Program: `fme.exe`},
		"program with a line break":      {Set: "g", Host: "h1", Program: "C:\\x\r\n.exe"},
		"program with non-ASCII":         {Set: "g", Host: "h1", Program: `C:\Größe\x.exe`},
		"program ending in a backslash":  {Set: "g", Host: "h1", Program: `C:\x\`},
	}
	for why, x := range refused {
		if _, err := renderHostile(t, x); err == nil {
			t.Errorf("%s: not refused", why)
		}
	}
	for _, p := range []string{`C:\Program Files\FMEServer\Server\fme\fme.exe`, `%ProgramFiles%\x\fme.exe`, `\\srv\share\x.exe`, `C:\R&D ^tools (x86)\!x!\a.exe`} {
		if _, err := renderHostile(t, backendtest.Texts{Set: "g", Host: "h1", Program: p}); err != nil {
			t.Errorf("program %s refused: %v", p, err)
		}
	}
}

// TestHostileRuleID: a rule ID goes into the rule name unchanged, so an
// unsafe one is refused, naming nothing unsafe in the error.
func TestHostileRuleID(t *testing.T) {
	for _, id := range []string{`r1" dir=out`, "r1 & calc", "r1\r\nexit", "r1--x", "-r1", strings.Repeat("r", 250), "r1%PATH%"} {
		rs := backendtest.HostileRuleset(t, backendtest.Texts{Set: "g", Host: "h1"})
		rs.Rules[0].ID = id
		v, _ := rs.HostView("h1")
		_, err := netsh.Render(v)
		if err == nil {
			t.Errorf("rule ID %q: not refused", id)
			continue
		}
		if strings.ContainsAny(err.Error(), "\r\n") {
			t.Errorf("rule ID %q: error carries a line break: %q", id, err)
		}
	}
}

// TestHostileSettings: settings from the [windows] section and policies
// that are not the profile checker's values are refused.
func TestHostileSettings(t *testing.T) {
	for name, mod := range map[string]func(*ir.Ruleset){
		"profile current":     func(rs *ir.Ruleset) { rs.Settings.Windows.Profiles = []string{"current"} },
		"profile injection":   func(rs *ir.Ruleset) { rs.Settings.Windows.Profiles = []string{"domain enable=no"} },
		"profile twice":       func(rs *ir.Ruleset) { rs.Settings.Windows.Profiles = []string{"domain", "domain"} },
		"any with others":     func(rs *ir.Ruleset) { rs.Settings.Windows.Profiles = []string{"any", "public"} },
		"unknown input":       func(rs *ir.Ruleset) { rs.Policy.Input = "accept" },
		"unknown output":      func(rs *ir.Ruleset) { rs.Policy.Output = "log" },
		"host names, no omit": func(rs *ir.Ruleset) { rs.Policy.FQDN = ir.FQDNError },
		"IPv4-mapped address": func(rs *ir.Ruleset) {
			s, _ := rs.Set("g")
			s.IPs = backendtest.IPSet(t, "::ffff:10.0.0.0/120")
		},
	} {
		rs := backendtest.HostileRuleset(t, backendtest.Texts{Set: "g", Host: "h1"})
		mod(rs)
		v, _ := rs.HostView("h1")
		if _, err := netsh.Render(v); err == nil {
			t.Errorf("%s: not refused", name)
		}
	}
}

// FuzzNetsh feeds arbitrary strings into the names and free text of a
// small IR: netsh never panics, and either refuses or writes a script that
// parses and allows nothing beyond the IR.
func FuzzNetsh(f *testing.F) {
	f.Add("office", "h1", "host", "comment", "fortimail", "profile", "")
	f.Add(`a" & b`, "h1", "x\r\ny", "100% ^", `q"|`, "%~dp0", `C:\Program Files\x.exe`)
	f.Add("g", "h-1.x_y", "\x00", `\`, "é", "!x!", `%SystemRoot%\a.exe`)
	f.Fuzz(func(t *testing.T, set, host, desc, comment, flow, profile, program string) {
		_, _ = renderHostile(t, backendtest.Texts{Set: set, Host: host, Desc: desc, Comment: comment, Flow: flow, Profile: profile, Program: program})
	})
}
