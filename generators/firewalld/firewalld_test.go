package firewalld_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/firewalld"
	"github.com/portwall/portwall/generators/firewalld/fwdparse"
	"github.com/portwall/portwall/internal/testkit/backendtest"
	"github.com/portwall/portwall/rules/ir"
)

func TestGolden(t *testing.T) { backendtest.Golden(t, firewalld.Generator{}) }

// render returns every host's script, or the refusals in "error".
func render(t *testing.T, file string) (*ir.Ruleset, map[string][]byte) {
	rs, s := backendtest.Load(t, file, firewalld.Generator{})
	return rs, backendtest.Render(rs, s, firewalld.Generator{})
}

// read is the strict reader, as backendtest's read-back checks take it.
func read(data []byte) ([]ir.Grant, error) {
	c, err := fwdparse.Parse(data)
	if err != nil {
		return nil, err
	}
	return c.Grants()
}

// TestFailClosed reads every output back, for the cases and the examples,
// and checks that each element lets through nothing the host's IR rules
// do not allow.
func TestFailClosed(t *testing.T) {
	t.Parallel()
	backendtest.FailClosed(t, firewalld.Generator{}, read)
}

// TestAllowsAllTheIRSays: every rule of a host, in every family it has
// addresses in, is covered by the grants read back.
func TestAllowsAllTheIRSays(t *testing.T) {
	t.Parallel()
	backendtest.AllowsAllTheIRSays(t, firewalld.Generator{}, read)
}

// TestRefusalsPointAtTheProfile: what firewalld cannot express is refused
// as generators.Refusal values, which the command layer points at the
// profile's line.
func TestRefusalsPointAtTheProfile(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ dir, want string }{
		{"icmp-type-refused", "icmpv6 type mld-listener-query has no firewalld icmptype"},
		{"fqdn-refused", "by host name"},
		{"program-refused", "limited to the program"},
	} {
		rs, s := backendtest.Load(t, filepath.Join("testdata", c.dir, "profile.toml"), firewalld.Generator{})
		g := firewalld.Generator{}
		_, err := generators.Generate(g, generators.AllHosts(g, rs, s))
		refused, ok := generators.AsRefusals(err)
		if !ok || len(refused) == 0 {
			t.Errorf("%s: %v: not refusals", c.dir, err)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.dir, err, c.want)
		}
		for _, r := range refused {
			if r.Rule == nil && r.Set == "" {
				t.Errorf("%s: refusal names no rule or set: %v", c.dir, r)
			}
		}
	}
}
