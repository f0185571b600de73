package main

import (
	"path/filepath"
	"testing"

	"github.com/portwall/portwall/internal/testkit/golden"
)

// TestQuery: query's exit status answers the question (0 allowed, 3
// blocked, 1 an error), for services, hosts, groups and addresses on
// either side; its output is golden.
func TestQuery(t *testing.T) {
	t.Parallel()
	const site, xeams = "../../examples/site.toml", "../../examples/xeams.toml"
	for _, c := range []struct {
		name string
		code int
		args []string
	}{
		{"group-to-host-service", 0, []string{site, "--from", "lan", "--to", "mail1", "--port", "imaps"}},
		{"any-to-host-blocked-in-part", exitBlocked, []string{site, "--from", "internet", "--to", "mail1", "--port", "ssh"}},
		{"address-to-host", 0, []string{xeams, "--from", "203.0.113.9", "--to", "xeams1", "--port", "25/tcp"}},
		{"address-to-host-blocked", exitBlocked, []string{xeams, "--from", "203.0.113.9", "--to", "xeams1", "--port", "993"}},
		{"no-family-in-common", exitBlocked, []string{site, "--from", "2001:db8:1::5", "--to", "fme1", "--port", "443/tcp"}},
		{"host-to-group-egress", 0, []string{"../../examples/ems-chromebooks.toml", "--from", "ems1", "--to", "resolvers", "--port", "dns"}},
		{"unknown-name", 1, []string{site, "--from", "lann", "--to", "mail1", "--port", "443"}},
		{"no-host", 1, []string{site, "--from", "lan", "--to", "internet", "--port", "443"}},
		{"range", exitBlocked, []string{"../../examples/fme-distributed.toml", "--from", "users", "--to", "fme-core", "--port", "7100-7150/tcp"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			code, out, errs := runIn("", append([]string{"query"}, c.args...)...)
			if code != c.code {
				t.Errorf("exit %d, want %d\n%s%s", code, c.code, out, errs)
			}
			golden.Compare(t, filepath.Join("testdata", "query", c.name+".txt"), []byte(out+errs))
		})
	}
}
