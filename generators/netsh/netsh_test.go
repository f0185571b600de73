package netsh_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/portwall/portwall/generators/backendtest"
	"github.com/portwall/portwall/generators/netsh"
	"github.com/portwall/portwall/generators/netsh/netshparse"
	"github.com/portwall/portwall/rules/ir"
)

// render checks and renders every host of rs, returning the files by name,
// or the error as a file named "error".
func render(rs *ir.Ruleset) map[string][]byte { return backendtest.Render(rs, netsh.Generator{}) }

func cases(t *testing.T) []string { return backendtest.Cases(t) }

// TestGolden compares the output (or the refusal) of each case with
// testdata/<case>/want/.
func TestGolden(t *testing.T) { backendtest.Golden(t, netsh.Generator{}) }

// stats counts what the fail-closed checks covered, for the log.
type stats struct{ files, rules, grants int }

// verify parses one host's script and checks every grant against the
// host's view of the IR: the script allows nothing the IR does not.
func verify(t testing.TB, v *ir.HostView, name string, data []byte, st *stats) *netshparse.Script {
	t.Helper()
	s, err := netshparse.Parse(data)
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return nil
	}
	gs, err := s.Grants()
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return nil
	}
	for _, g := range gs {
		if err := v.CheckGrant(g); err != nil {
			t.Errorf("%s: allows more than the IR: %v", name, err)
		}
	}
	if st != nil {
		st.files++
		st.rules += len(s.Rules)
		st.grants += len(gs)
	}
	return s
}

var nameRE = regexp.MustCompile(`^portwall-[A-Za-z0-9-]{1,246}$`)

// invariants checks what the parser does not: portwall's own limits.
func invariants(t testing.TB, name string, data []byte, s *netshparse.Script) {
	t.Helper()
	for i, l := range strings.Split(strings.TrimSuffix(string(data), "\r\n"), "\r\n") {
		if len(l) > netsh.MaxLine {
			t.Errorf("%s:%d: line of %d characters", name, i+1, len(l))
		}
	}
	for _, r := range s.Rules {
		if !nameRE.MatchString(r.Name) {
			t.Errorf("%s:%d: rule name %q", name, r.Line, r.Name)
		}
		if !strings.HasPrefix(r.Description, "pw:") || len(r.Description) > netsh.MaxDescription {
			t.Errorf("%s:%d: description %q", name, r.Line, r.Description)
		}
		if r.Action != "allow" || !r.Enable {
			t.Errorf("%s:%d: not an enabled allow rule", name, r.Line)
		}
	}
}

// TestGoldenOutputsParse reads back every golden script and checks it
// against its IR.
func TestGoldenOutputsParse(t *testing.T) {
	var st stats
	for _, dir := range cases(t) {
		rs := backendtest.Ruleset(t, filepath.Join(dir, "profile.toml"))
		files, _ := filepath.Glob(filepath.Join(dir, "want", "*.cmd"))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			v, err := rs.HostView(strings.TrimSuffix(filepath.Base(f), ".cmd"))
			if err != nil {
				t.Fatal(err)
			}
			if s := verify(t, v, f, data, &st); s != nil {
				invariants(t, f, data, s)
			}
		}
	}
	if st.files == 0 {
		t.Fatal("no golden scripts")
	}
	t.Logf("golden: %d scripts, %d rules, %d grants checked", st.files, st.rules, st.grants)
}

// TestExamples renders every host of every example twice (byte-identical),
// parses each script and checks every grant against the IR: as the
// example is, and with egress filtering and set_policy, so that outbound
// rules and policy lines are read back too.
func TestExamples(t *testing.T) {
	examples, _ := filepath.Glob("../../examples/*.toml")
	if len(examples) == 0 {
		t.Fatal("no examples")
	}
	variants := map[string]func(*ir.Ruleset){
		"as is": func(*ir.Ruleset) {},
		"egress, set_policy": func(rs *ir.Ruleset) {
			rs.Policy.Output = ir.OutputDrop
			rs.Settings.Windows.SetPolicy = true
		},
	}
	var st stats
	for _, e := range examples {
		for vname, mod := range variants {
			rs := backendtest.Ruleset(t, e)
			mod(rs)
			got, again := render(rs), render(rs)
			if msg, ok := got["error"]; ok {
				// Examples may reach peers by host name, which netsh
				// refuses by default; with [windows] fqdn = "omit" the
				// same example must render.
				if !strings.Contains(string(msg), "by host name") {
					t.Errorf("%s (%s): %s", e, vname, msg)
					continue
				}
				t.Logf("%s (%s): refused as expected: %s", filepath.Base(e), vname, strings.TrimSpace(string(msg)))
				rs.Settings.Windows.FQDN = ir.FQDNOmit
				got, again = render(rs), render(rs)
				if msg, ok := got["error"]; ok {
					t.Errorf("%s (%s) with fqdn = omit: %s", e, vname, msg)
					continue
				}
			}
			for _, h := range rs.HostNames() {
				name := h + ".cmd"
				data := got[name]
				if !bytes.Equal(data, again[name]) {
					t.Errorf("%s %s: two renderings differ", e, name)
				}
				v, err := rs.HostView(h)
				if err != nil {
					t.Fatal(err)
				}
				if s := verify(t, v, filepath.Base(e)+"/"+name+" ("+vname+")", data, &st); s != nil {
					invariants(t, name, data, s)
				}
			}
		}
	}
	t.Logf("examples: %d scripts, %d rules, %d grants checked", st.files, st.rules, st.grants)
}
