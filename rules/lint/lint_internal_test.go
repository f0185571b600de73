package lint

import (
	"slices"
	"testing"

	"github.com/portwall/portwall/rules/ports"
)

// TestServicesNormalised: the services' Set literals are what
// ports.NewSet makes of their ranges, as the checks' set operations expect.
func TestServicesNormalised(t *testing.T) {
	for _, tc := range []struct {
		table    string
		services []service
	}{
		{"cleartext", cleartext},
		{"httpPorts", httpPorts},
		{"adminPorts", adminPorts},
	} {
		for _, s := range tc.services {
			if want := ports.NewSet(s.ports...); len(s.ports) == 0 || !slices.Equal(s.ports, want) {
				t.Errorf("%s: %s: %v, normalised %v", tc.table, s.name, s.ports, want)
			}
		}
	}
}
