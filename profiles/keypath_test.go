package profiles

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestKeyPath: a keyPath is the []any of keys and indices tomldoc takes,
// and extending one leaves it as it was.
func TestKeyPath(t *testing.T) {
	dep := keyAt("deployment").index(3)
	roles := dep.key("roles")
	deepest := roles.key("web").index(1)
	for _, c := range []struct {
		path keyPath
		want []any
	}{
		{keyAt("name"), []any{"name"}},
		{dep, []any{"deployment", 3}},
		{roles, []any{"deployment", 3, "roles"}},
		{deepest, []any{"deployment", 3, "roles", "web", 1}},
		{keyAt("groups").key(""), []any{"groups", ""}},
	} {
		if d := cmp.Diff(c.want, c.path.slice()); d != "" {
			t.Errorf("path (-want +got):\n%s", d)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("a path deeper than maxPathDepth did not panic")
		}
	}()
	deepest.key("too deep")
}
