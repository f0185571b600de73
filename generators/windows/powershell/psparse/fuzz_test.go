package psparse

import (
	"testing"

	"github.com/portwall/portwall/internal/testkit/wintest"
)

// FuzzParse: whatever the input, Parse and Grants return errors; they
// never panic.
func FuzzParse(f *testing.F) {
	wintest.FuzzReader(f, "../testdata/*/want/*.ps1", func(data []byte) {
		if s, err := Parse(data); err == nil {
			_, _ = s.Grants()
		}
	})
}
