package fortiparse

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary text to the parser: it accepts or refuses
// with a line number, never panics, and whatever it accepts reads back as
// grants.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../testdata/*/want/fortigate.conf")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			continue // being rewritten by PORTWALL_UPDATE=1 go test in the parent package
		}
		f.Add(data, "7.4")
		f.Add(data, "6.2")
	}
	f.Add([]byte(policy(`set comments "a\\"b"`)), "7.4")
	f.Fuzz(func(t *testing.T, data []byte, version string) {
		c, err := Parse(data, version)
		if err != nil {
			return
		}
		if _, err := c.Grants(); err != nil {
			t.Fatalf("accepted but does not read back: %v", err)
		}
	})
}

// FuzzReadConfig feeds arbitrary text to the configuration reader and
// pastes arbitrary text onto what it read: neither panics, and whatever
// the model holds, Show prints something it reads back to the same
// configuration.
func FuzzReadConfig(f *testing.F) {
	files, _ := filepath.Glob("testdata/running/*.conf")
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data, []byte(base))
		}
	}
	f.Add([]byte(base), []byte("config firewall policy\n"+pol("0", "n")+"    move 6 before 5\n    delete 2\nend\n"))
	f.Fuzz(func(t *testing.T, config, script []byte) {
		m, err := ReadConfig(config, pwOwner)
		if err != nil {
			return
		}
		_ = m.Apply(script) // may stop halfway, as FortiOS would
		shown := m.Show(ShowStored)
		again, err := ReadConfig(shown, nil)
		if err != nil {
			t.Fatalf("Show printed what does not read back: %v\n%s", err, shown)
		}
		if got := again.Show(ShowStored); string(got) != string(shown) {
			t.Fatalf("Show is not stable:\n%s\n----\n%s", shown, got)
		}
	})
}
