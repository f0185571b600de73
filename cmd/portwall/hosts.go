package main

import (
	"fmt"
	"strings"

	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/rules/ir"
)

// unknownHost is the error for a --host the profile does not have: the
// closest name, and the profile's hosts (the first and last of them when
// there are many, so that the message stays one readable line).
func unknownHost(rs *ir.Ruleset, name string) error {
	hosts := rs.HostNames()
	list := strings.Join(hosts, ", ")
	if len(hosts) > 12 {
		list = fmt.Sprintf("%d of them: %s, ..., %s", len(hosts), strings.Join(hosts[:5], ", "), hosts[len(hosts)-1])
	}
	return fmt.Errorf("unknown host %q%s (hosts: %s)", name, diag.DidYouMean(name, hosts), list)
}
