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
