package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portwall/portwall/generators/fortigate"
	"github.com/portwall/portwall/generators/fortigate/fortiparse"
	"github.com/portwall/portwall/internal/testkit/golden"
)

// TestReadmeFortiGate runs the README's FortiGate walkthrough: the change
// it describes, made to examples/xeams.toml, against the configuration
// the first paste left (testdata/readme/fgt.conf), gives the delta the
// README shows; diff exits 2 before the paste and 0 after it, and a
// second run prints no command.
func TestReadmeFortiGate(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../examples/xeams.toml")
	if err != nil {
		t.Fatal(err)
	}
	const config = "testdata/readme/fgt.conf"
	if golden.Updating() {
		// The README's CONFIG is the first paste of the example as it is:
		// bring the file to the example with portwall's own delta.
		code, delta, errs := runIn("", "generate", "../../examples/xeams.toml", "--target", "fortigate", "--running", config)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		before, err := os.ReadFile(config)
		if err != nil {
			t.Fatal(err)
		}
		m, err := fortiparse.ReadConfig(before, fortigate.Owner)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Apply([]byte(delta)); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(config, m.Show(fortiparse.ShowTerse), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	changed := strings.Replace(string(data), `features = ["+imaps-server", "+pop3s-server"]`, `features = ["+imaps-server", "+pop3s-server", "-junk-filtering"]`, 1)
	changed = strings.Replace(changed, "[fortigate]\n", "[fortigate]\nplace = \"top\"\n", 1)
	if !strings.Contains(changed, "-junk-filtering") || strings.Count(changed, "place") != 1 {
		t.Fatal("the README's change no longer applies to examples/xeams.toml")
	}
	dir := t.TempDir()
	profile := filepath.Join(dir, "xeams.toml")
	if err := os.WriteFile(profile, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runIn("", "diff", profile, "--target", "fortigate", "--running", config); code != 2 {
		t.Errorf("diff before the paste: exit %d, want 2: %s", code, errs)
	}
	code, delta, errs := runIn("", "generate", profile, "--target", "fortigate", "--running", config)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var commands []string
	for _, l := range strings.SplitAfter(delta, "\n") {
		if l != "\n" && l != "" && !strings.HasPrefix(l, "#") {
			commands = append(commands, l)
		}
	}
	if got, want := strings.Join(commands, ""), readmeBlock(t, "### Changing what is on the FortiGate", "text"); got != want {
		t.Errorf("README's delta differs from the output:\n%s", got)
	}
	before, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	m, err := fortiparse.ReadConfig(before, fortigate.Owner)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Apply([]byte(delta)); err != nil {
		t.Fatalf("the delta does not paste: %v", err)
	}
	after := filepath.Join(dir, "fgt.conf")
	if err := os.WriteFile(after, m.Show(fortiparse.ShowTerse), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := runIn("", "diff", profile, "--target", "fortigate", "--running", after); code != 0 || out != "0 to create, 0 to change, 0 to delete, 0 to move\n" {
		t.Errorf("diff after the paste: exit %d\n%s%s", code, out, errs)
	}
	if code, out, _ := runIn("", "generate", profile, "--target", "fortigate", "--running", after); code != 0 || !strings.Contains(out, "No changes") {
		t.Errorf("a second run: exit %d\n%s", code, out)
	}
}
