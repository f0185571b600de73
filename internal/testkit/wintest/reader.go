package wintest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portwall/portwall/generators/windows/winparse"
)

// BadLine is a line a reader must refuse: why it is wrong, and what the
// error must say.
type BadLine = struct{ Line, Why, Want string }

// RejectsLines checks that parse (which puts the line into an otherwise
// valid script, at line at) refuses each bad line at its line, for the
// reason given, so that no refusal is some other line's.
func RejectsLines(t *testing.T, at int, parse func(line string) error, bad []BadLine) {
	t.Helper()
	for _, c := range bad {
		err := parse(c.Line)
		var pe *winparse.Error
		switch {
		case err == nil:
			t.Errorf("accepted (%s): %s", c.Why, winparse.Short(c.Line))
		case !errors.As(err, &pe) || pe.Line != at:
			t.Errorf("%s: error not at line %d: %v", c.Why, at, err)
		case !strings.Contains(err.Error(), c.Want):
			t.Errorf("%s: refused for another reason: %v (want %q)", c.Why, err, c.Want)
		}
	}
	t.Logf("%d invalid lines rejected", len(bad))
}

// RejectsScripts checks that parse refuses each script, named by why.
func RejectsScripts(t *testing.T, parse func([]byte) error, bad map[string]string) {
	t.Helper()
	for why, data := range bad {
		if err := parse([]byte(data)); err == nil {
			t.Errorf("accepted: %s", why)
		}
	}
	t.Logf("%d invalid scripts rejected", len(bad))
}

// FuzzReader seeds f with the files glob matches (the golden scripts)
// and runs read on whatever the fuzzer makes of them: a reader returns
// errors, it never panics.
func FuzzReader(f *testing.F, glob string, read func(data []byte)) {
	files, _ := filepath.Glob(glob)
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) { read(data) })
}
