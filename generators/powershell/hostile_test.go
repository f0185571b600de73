package powershell_test

import (
	"strings"
	"testing"

	"github.com/portwall/portwall/generators/backendtest"
	"github.com/portwall/portwall/generators/powershell"
	"github.com/portwall/portwall/rules/ir"
)

// renderHostile renders the host of x's IR, or returns the refusal.
// Whatever it wrote must parse and allow nothing beyond the IR.
func renderHostile(t testing.TB, x backendtest.Texts) ([]byte, error) {
	t.Helper()
	rs := backendtest.HostileRuleset(t, x)
	if rs == nil {
		return nil, nil
	}
	v, err := rs.HostView(x.Host)
	if err != nil {
		t.Fatal(err)
	}
	data, err := powershell.Render(v)
	if err != nil {
		return nil, err
	}
	if s := verify(t, v, "hostile", data, nil); s != nil {
		invariants(t, "hostile", s)
	}
	return data, nil
}

// TestHostileIR: free text never breaks the script and is never refused;
// what must go into a file name, rule name or program path unchanged is
// refused when unsafe.
func TestHostileIR(t *testing.T) {
	for _, s := range backendtest.Nasty {
		for _, x := range []backendtest.Texts{
			{Set: s, Host: "h1", Desc: "d", Comment: "c", Flow: "f", Profile: "p"},
			{Set: "office", Host: "h1", Desc: s, Comment: s, Flow: s, Profile: s},
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
		"host name with a quote":        {Set: "g", Host: `h1' ; calc`},
		"host name with a variable":     {Set: "g", Host: `$env:x`},
		"host name with a line break":   {Set: "g", Host: "h1\r\nexit"},
		"program with a double quote":   {Set: "g", Host: "h1", Program: `C:\a" ; calc\x.exe`},
		"program with %":                {Set: "g", Host: "h1", Program: `C:\100%\x.exe`},
		"program not a full path":       {Set: "g", Host: "h1", Program: `fme.exe`},
		"program with a line break":     {Set: "g", Host: "h1", Program: "C:\\x\r\n.exe"},
		"program with a typographic '":  {Set: "g", Host: "h1", Program: "C:\\a\u2019 ; calc ; \u2018\\x.exe"},
		"program ending in a backslash": {Set: "g", Host: "h1", Program: `C:\x\`},
		"program with a wildcard":       {Set: "g", Host: "h1", Program: `C:\x\*.exe`},
	}
	for why, x := range refused {
		if _, err := renderHostile(t, x); err == nil {
			t.Errorf("%s: not refused", why)
		}
	}
	// A quote is legal in a Windows path: doubled, not refused.
	for _, p := range []string{`C:\Program Files\FMEServer\Server\fme\fme.exe`, `%ProgramFiles%\x\fme.exe`, `C:\O'Brien's $(x) ; #\a.exe`} {
		data, err := renderHostile(t, backendtest.Texts{Set: "g", Host: "h1", Program: p})
		if err != nil {
			t.Errorf("program %s refused: %v", p, err)
		} else if !strings.Contains(string(data), "-Program '"+strings.ReplaceAll(p, "'", "''")+"'") {
			t.Errorf("program %s not written as one quoted string", p)
		}
	}
}

func TestHostileRuleID(t *testing.T) {
	for _, id := range []string{`r1' -Direction Outbound '`, "r1 ; calc", "r1\r\nexit", "r1--x", "-r1", strings.Repeat("r", 250), "r1$(x)"} {
		rs := backendtest.HostileRuleset(t, backendtest.Texts{Set: "g", Host: "h1"})
		rs.Rules[0].ID = id
		v, _ := rs.HostView("h1")
		if _, err := powershell.Render(v); err == nil {
			t.Errorf("rule ID %q: not refused", id)
		}
	}
}

func TestHostileSettings(t *testing.T) {
	for name, mod := range map[string]func(*ir.Ruleset){
		"profile current":     func(rs *ir.Ruleset) { rs.Settings.Windows.Profiles = []string{"current"} },
		"profile injection":   func(rs *ir.Ruleset) { rs.Settings.Windows.Profiles = []string{"Domain -Enabled False"} },
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
		if _, err := powershell.Render(v); err == nil {
			t.Errorf("%s: not refused", name)
		}
	}
}

// FuzzPowerShell feeds arbitrary strings into the names and free text of a
// small IR: the backend never panics, and either refuses or writes a
// script that parses and allows nothing beyond the IR.
func FuzzPowerShell(f *testing.F) {
	f.Add("office", "h1", "host", "comment", "fortimail", "profile", "")
	f.Add(`a' ; b`, "h1", "x\r\ny", "$(calc) `", "\u2019 -Direction Outbound", "#Requires", `C:\O'Brien\x.exe`)
	f.Add("g", "h-1.x_y", "\x00", `\`, "é", "!x!", `%SystemRoot%\a.exe`)
	f.Fuzz(func(t *testing.T, set, host, desc, comment, flow, profile, program string) {
		_, _ = renderHostile(t, backendtest.Texts{Set: set, Host: host, Desc: desc, Comment: comment, Flow: flow, Profile: profile, Program: program})
	})
}
