package psparse

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: whatever the input, Parse and Grants return errors; they
// never panic.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../testdata/*/want/*.ps1")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if s, err := Parse(data); err == nil {
			_, _ = s.Grants()
		}
	})
}
