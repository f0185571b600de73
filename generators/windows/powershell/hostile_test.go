package powershell_test

import (
	"strings"
	"testing"

	"github.com/portwall/portwall/generators/windows/winfw"
	"github.com/portwall/portwall/internal/testkit/rulestest"
	"github.com/portwall/portwall/internal/testkit/wintest"
	"github.com/portwall/portwall/rules/ir"
)

// TestHostileIR: free text never breaks the script and is never refused;
// what must go into a file name, rule name or program path unchanged is
// refused when unsafe.
func TestHostileIR(t *testing.T) {
	t.Parallel()
	wintest.HostileFreeText(t, backend)
	wintest.Refused(t, backend, map[string]rulestest.Texts{
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
	})
	// A quote is legal in a Windows path: doubled, not refused.
	for _, p := range []string{`C:\Program Files\FMEServer\Server\fme\fme.exe`, `%ProgramFiles%\x\fme.exe`, `C:\O'Brien's $(x) ; #\a.exe`} {
		data, err := wintest.RenderHostile(t, backend, rulestest.Texts{Set: "g", Host: "h1", Program: p})
		if err != nil {
			t.Errorf("program %s refused: %v", p, err)
		} else if !strings.Contains(string(data), "-Program '"+strings.ReplaceAll(p, "'", "''")+"'") {
			t.Errorf("program %s not written as one quoted string", p)
		}
	}
}

// TestHostileRuleID: a rule ID goes into the rule name unchanged, so an
// unsafe one is refused, naming nothing unsafe in the error.
func TestHostileRuleID(t *testing.T) {
	t.Parallel()
	wintest.HostileRuleIDs(t, backend, []string{`r1' -Direction Outbound '`, "r1 ; calc", "r1\r\nexit", "r1--x", "-r1", strings.Repeat("r", 250), "r1$(x)"})
}

// TestHostileSettings: settings from the [windows] section and policies
// that are not the profile checker's values are refused.
func TestHostileSettings(t *testing.T) {
	t.Parallel()
	wintest.HostileSettings(t, backend, map[string]func(*ir.Ruleset, *winfw.Settings){
		"profile injection": func(_ *ir.Ruleset, w *winfw.Settings) { w.Profiles = []string{"Domain -Enabled False"} },
	})
}

// FuzzPowerShell feeds arbitrary strings into the names and free text of a
// small IR: the backend never panics, and either refuses or writes a
// script that parses and allows nothing beyond the IR.
func FuzzPowerShell(f *testing.F) {
	f.Add("office", "h1", "host", "comment", "fortimail", "profile", "")
	f.Add(`a' ; b`, "h1", "x\r\ny", "$(calc) `", "\u2019 -Direction Outbound", "#Requires", `C:\O'Brien\x.exe`)
	f.Add("g", "h-1.x_y", "\x00", `\`, "é", "!x!", `%SystemRoot%\a.exe`)
	f.Fuzz(func(t *testing.T, set, host, desc, comment, flow, profile, program string) {
		_, _ = wintest.RenderHostile(t, backend, rulestest.Texts{Set: set, Host: host, Desc: desc, Comment: comment, Flow: flow, Profile: profile, Program: program})
	})
}
