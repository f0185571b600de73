// Package targets is the one list of backends: the --target names the CLI
// accepts. A backend is registered here and nowhere else.
package targets

import (
	"sort"
	"sync"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/firewalld"
	"github.com/portwall/portwall/generators/fortigate"
	"github.com/portwall/portwall/generators/iptables"
	"github.com/portwall/portwall/generators/jsonrules"
	"github.com/portwall/portwall/generators/nftables"
	"github.com/portwall/portwall/generators/ufw"
	"github.com/portwall/portwall/generators/windows/netsh"
	"github.com/portwall/portwall/generators/windows/powershell"
)

var all = []generators.Generator{
	nftables.Generator{},
	iptables.IPv4,
	iptables.IPv6,
	firewalld.Generator{},
	ufw.Generator{},
	netsh.Generator{},
	powershell.Generator{},
	fortigate.Generator{},
	jsonrules.Generator{},
}

// Lookup returns the backend for a --target name.
func Lookup(name string) (generators.Generator, bool) {
	for _, g := range all {
		if g.Name() == name {
			return g, true
		}
	}
	return nil, false
}

// Names lists the --target names, sorted.
func Names() []string {
	out := make([]string, len(all))
	for i, g := range all {
		out[i] = g.Name()
	}
	sort.Strings(out)
	return out
}

// All returns every backend.
func All() []generators.Generator { return append([]generators.Generator(nil), all...) }

// Recommended are the targets `os = "..."` in a profile stands for: the
// host firewall portwall recommends on that operating system. Built on first use: a package-level map literal is built by
// every run's initialisation, whatever the run does.
var Recommended = sync.OnceValue(func() map[string][]string {
	return map[string][]string{
		"linux":   {"nftables"},
		"windows": {"powershell"},
	}
})
