// Package wintest is test support shared by portwall's two Windows
// Firewall backends, netsh and powershell, and by their strict readers:
// reading every script a backend writes back against the IR, the hostile
// IR both must survive, and the table-driven refusals of the readers'
// tests. What is not Windows-specific lives in package backendtest.
//
// It takes each backend and reader as values and imports none of them:
// the readers' own tests use it, and the readers must stay independent
// of the generators they check.
package wintest

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/windows/winfw"
	"github.com/portwall/portwall/internal/testkit/backendtest"
	"github.com/portwall/portwall/internal/testkit/rulestest"
	"github.com/portwall/portwall/rules/ir"
)

// Backend is a Windows backend with its strict reader.
type Backend struct {
	Generator generators.Generator
	// Render writes one host's script.
	Render func(*ir.HostView, winfw.Settings) ([]byte, error)
	// Read parses a script with the backend's reader and returns its
	// rules and what they let through.
	Read func(data []byte) ([]Rule, []ir.Grant, error)
	// MaxLine is the longest line the backend writes (0: the reader's
	// limit only); MaxDescription the longest rule description.
	MaxLine, MaxDescription int
}

// Rule is what the checks need of a rule the reader read.
type Rule struct {
	Line              int
	Name, Description string
	// Allow is an enabled allow rule, the only kind portwall writes.
	Allow bool
}

// Read makes a Backend's Read of a reader: parse, then the script's
// grants, and each of its rules (listed by rules) as rule says.
func Read[S interface{ Grants() ([]ir.Grant, error) }, R any](parse func([]byte) (S, error), rules func(S) []R, rule func(R) Rule) func([]byte) ([]Rule, []ir.Grant, error) {
	return func(data []byte) ([]Rule, []ir.Grant, error) {
		s, err := parse(data)
		if err != nil {
			return nil, nil, err
		}
		gs, err := s.Grants()
		if err != nil {
			return nil, nil, err
		}
		var out []Rule
		for _, r := range rules(s) {
			out = append(out, rule(r))
		}
		return out, gs, nil
	}
}

// stats counts what the fail-closed checks covered, for the log.
type stats struct{ files, rules, grants int }

// nameRE is the rule names portwall writes: the readers accept any
// name with its prefix, portwall's are at most 255 characters.
var nameRE = regexp.MustCompile(`^portwall-[A-Za-z0-9-]{1,246}$`)

// check reads one host's script back and checks every grant against the
// host's view of the IR, so that the script allows nothing the IR does
// not; then what the reader does not check: portwall's own limits and
// choices. It reports whether the script could be read.
func (b Backend) check(t testing.TB, v *ir.HostView, name string, data []byte, st *stats) bool {
	t.Helper()
	rules, gs, err := b.Read(data)
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return false
	}
	for _, g := range gs {
		if err := v.CheckGrant(g); err != nil {
			t.Errorf("%s: allows more than the IR: %v", name, err)
		}
	}
	if st != nil {
		st.files++
		st.rules += len(rules)
		st.grants += len(gs)
	}
	if b.MaxLine > 0 {
		for i, l := range strings.Split(strings.TrimSuffix(string(data), "\r\n"), "\r\n") {
			if len(l) > b.MaxLine {
				t.Errorf("%s:%d: line of %d characters", name, i+1, len(l))
			}
		}
	}
	for _, r := range rules {
		if !nameRE.MatchString(r.Name) {
			t.Errorf("%s:%d: rule name %q", name, r.Line, r.Name)
		}
		if !strings.HasPrefix(r.Description, "pw:") || len(r.Description) > b.MaxDescription {
			t.Errorf("%s:%d: description %q", name, r.Line, r.Description)
		}
		if !r.Allow {
			t.Errorf("%s:%d: not an enabled allow rule", name, r.Line)
		}
	}
	return true
}

// GoldenReadBack reads back every golden script and checks it against
// its IR.
func GoldenReadBack(t *testing.T, b Backend) {
	ext := b.Generator.Caps().Ext
	var st stats
	for _, dir := range rulestest.Cases(t) {
		rs := rulestest.Ruleset(t, filepath.Join(dir, "profile.toml"))
		files, _ := filepath.Glob(filepath.Join(dir, "want", "*"+ext))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			v, err := rs.HostView(strings.TrimSuffix(filepath.Base(f), ext))
			if err != nil {
				t.Fatal(err)
			}
			b.check(t, v, f, data, &st)
		}
	}
	if st.files == 0 {
		t.Fatal("no golden scripts")
	}
	t.Logf("golden: %d scripts, %d rules, %d grants checked", st.files, st.rules, st.grants)
}

// Examples renders every host of every example twice (byte-identical),
// reads each script back and checks every grant against the IR: as the
// example is, and with egress filtering and set_policy, so that outbound
// rules and policy lines are read back too.
func Examples(t *testing.T, b Backend) {
	variants := map[string]func(*ir.Ruleset, *winfw.Settings){
		"as is": func(*ir.Ruleset, *winfw.Settings) {},
		"egress, set_policy": func(rs *ir.Ruleset, w *winfw.Settings) {
			rs.Policy.Output = ir.OutputDrop
			w.SetPolicy = true
		},
	}
	var st stats
	for _, e := range rulestest.Examples(t) {
		for vname, mod := range variants {
			rs, s := backendtest.Load(t, e, b.Generator)
			w := winfw.SettingsOf(s)
			mod(rs, &w)
			s = generators.Settings{winfw.Section.Name(): w}
			got, again := backendtest.Render(rs, s, b.Generator), backendtest.Render(rs, s, b.Generator)
			if msg, ok := got["error"]; ok {
				// Examples may reach peers by host name, which the
				// Windows Firewall cannot match and the backends refuse
				// by default; with [windows] fqdn = "omit" the same
				// example must render.
				if !strings.Contains(string(msg), "by host name") {
					t.Errorf("%s (%s): %s", e, vname, msg)
					continue
				}
				t.Logf("%s (%s): refused as expected: %s", filepath.Base(e), vname, strings.TrimSpace(string(msg)))
				w.FQDNMode = ir.FQDNOmit
				s = generators.Settings{winfw.Section.Name(): w}
				got, again = backendtest.Render(rs, s, b.Generator), backendtest.Render(rs, s, b.Generator)
				if msg, ok := got["error"]; ok {
					t.Errorf("%s (%s) with fqdn = omit: %s", e, vname, msg)
					continue
				}
			}
			for _, h := range rs.HostNames() {
				name := h + b.Generator.Caps().Ext
				data := got[name]
				if !bytes.Equal(data, again[name]) {
					t.Errorf("%s %s: two renderings differ", e, name)
				}
				v, err := rs.HostView(h)
				if err != nil {
					t.Fatal(err)
				}
				b.check(t, v, filepath.Base(e)+"/"+name+" ("+vname+")", data, &st)
			}
		}
	}
	t.Logf("examples: %d scripts, %d rules, %d grants checked", st.files, st.rules, st.grants)
}
