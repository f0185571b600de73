package netsh_test

import (
	"strings"
	"testing"

	"github.com/portwall/portwall/generators/windows/winfw"
	"github.com/portwall/portwall/internal/testkit/rulestest"
	"github.com/portwall/portwall/internal/testkit/wintest"
	"github.com/portwall/portwall/rules/ir"
)

// TestHostileIR: free text (descriptions, comments, profile and set names,
// origin names) never breaks the script, and is never refused; names that
// would have to go into a file name or rule name unchanged (host names,
// rule IDs, program paths) are refused when unsafe.
func TestHostileIR(t *testing.T) {
	t.Parallel()
	wintest.HostileFreeText(t, backend)
	wintest.Refused(t, backend, map[string]rulestest.Texts{
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
	})
	for _, p := range []string{`C:\Program Files\FMEServer\Server\fme\fme.exe`, `%ProgramFiles%\x\fme.exe`, `\\srv\share\x.exe`, `C:\R&D ^tools (x86)\!x!\a.exe`} {
		if _, err := wintest.RenderHostile(t, backend, rulestest.Texts{Set: "g", Host: "h1", Program: p}); err != nil {
			t.Errorf("program %s refused: %v", p, err)
		}
	}
}

// TestHostileRuleID: a rule ID goes into the rule name unchanged, so an
// unsafe one is refused, naming nothing unsafe in the error.
func TestHostileRuleID(t *testing.T) {
	t.Parallel()
	wintest.HostileRuleIDs(t, backend, []string{`r1" dir=out`, "r1 & calc", "r1\r\nexit", "r1--x", "-r1", strings.Repeat("r", 250), "r1%PATH%"})
}

// TestHostileSettings: settings from the [windows] section and policies
// that are not the profile checker's values are refused.
func TestHostileSettings(t *testing.T) {
	t.Parallel()
	wintest.HostileSettings(t, backend, map[string]func(*ir.Ruleset, *winfw.Settings){
		"profile injection": func(_ *ir.Ruleset, w *winfw.Settings) { w.Profiles = []string{"domain enable=no"} },
	})
}

// FuzzNetsh feeds arbitrary strings into the names and free text of a
// small IR: netsh never panics, and either refuses or writes a script that
// parses and allows nothing beyond the IR.
func FuzzNetsh(f *testing.F) {
	f.Add("office", "h1", "host", "comment", "fortimail", "profile", "")
	f.Add(`a" & b`, "h1", "x\r\ny", "100% ^", `q"|`, "%~dp0", `C:\Program Files\x.exe`)
	f.Add("g", "h-1.x_y", "\x00", `\`, "é", "!x!", `%SystemRoot%\a.exe`)
	f.Fuzz(func(t *testing.T, set, host, desc, comment, flow, profile, program string) {
		_, _ = wintest.RenderHostile(t, backend, rulestest.Texts{Set: set, Host: host, Desc: desc, Comment: comment, Flow: flow, Profile: profile, Program: program})
	})
}
