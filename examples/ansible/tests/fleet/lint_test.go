package fleet

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portwall/portwall/internal/testkit/kerneltest"
)

// sanityTests are the ansible-test sanity tests that run offline (the
// others build a virtualenv from the network).
var sanityTests = []string{"action-plugin-docs", "compile", "empty-init", "future-import-boilerplate", "line-endings",
	"metaclass-boilerplate", "no-basestring", "no-smart-quotes", "replace-urlopen", "shebang", "use-argspec-type-path"}

// TestCollectionLint runs ansible-lint (production profile) and the offline
// ansible-test sanity tests on the collection, laid out where both expect
// it (ansible_collections/portwall/portwall), and checks that ansible-doc
// reads the module's documentation.
func TestCollectionLint(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ansible-lint and ansible-test: not in the -short tier")
	}
	kerneltest.RequireTools(t, "ansible-lint", "ansible-test", "ansible-doc")
	root := t.TempDir()
	dst := filepath.Join(root, "ansible_collections", "portwall", "portwall")
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("../..", path)
		if rel == filepath.Join("tests", "fleet") {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "ANSIBLE_COLLECTIONS_PATH="+root, "ANSIBLE_NOCOLOR=1", "NO_COLOR=1", "HOME="+root)
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir, cmd.Env = dst, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if out := run("ansible-lint", "--offline", "--nocolor", "--profile", "production"); !strings.Contains(out, "Passed with production profile: 0 failure(s), 0 warning(s)") {
		t.Errorf("ansible-lint:\n%s", out)
	}
	args := []string{"sanity", "--local", "--python", "3.11"}
	for _, s := range sanityTests {
		args = append(args, "--test", s)
	}
	run("ansible-test", args...)
	if out := run("ansible-doc", "-t", "module", "portwall.portwall.ruleset"); !strings.Contains(out, "confirm_timeout") {
		t.Errorf("ansible-doc:\n%s", out)
	}
}
