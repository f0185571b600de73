package proof

import (
	"fmt"
	"strings"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/firewalld"
	"github.com/portwall/portwall/generators/iptables"
	"github.com/portwall/portwall/generators/targets"
	"github.com/portwall/portwall/generators/ufw"
	"github.com/portwall/portwall/rules/ir"
)

// Command is one program run in the host's namespace to load its rules.
type Command struct {
	Argv  []string
	Stdin []byte
	// Unless, when set, is run first: Argv runs only if it fails.
	Unless []string
	// Firewalld, when set, is a firewalld load script (and Argv is
	// empty): it is run as its header says, against a private firewalld
	// daemon in the host's namespace that the lab starts for it, with
	// --dir naming the daemon's configuration; then the daemon's
	// configuration must pass firewall-cmd --check-config and
	// firewall-offline-cmd --check-config.
	Firewalld []byte
	// Ufw, when set, is a ufw load script (and Argv is empty): it is run
	// as its header says, with --enable, against ufw in the host's
	// namespace with a private configuration that the lab makes for it
	// (package defaults, nothing of the machine's /etc/ufw); then ufw
	// must be active.
	Ufw []byte
}

// Targets are the backends a proof can load: Linux host firewalls.
var Targets = []string{"nftables", "iptables", "firewalld", "ufw"}

// Default are the targets verify proves when none is named: those whose
// tools every Linux host has. firewalld needs the daemon and its bus,
// ufw its package.
var Default = []string{"nftables", "iptables"}

// Backends lists the generators whose files target loads, in load order.
func Backends(target string) ([]string, error) {
	switch target {
	case "nftables":
		return []string{"nftables"}, nil
	case "iptables":
		return []string{"iptables", "ip6tables"}, nil
	case "firewalld":
		return []string{"firewalld"}, nil
	case "ufw":
		return []string{"ufw"}, nil
	}
	return nil, fmt.Errorf("no packet proof for target %q: want one of %s", target, strings.Join(Targets, ", "))
}

// Load says how files generated for a host are loaded, as their headers
// tell operators: `nft -f`, iptables-restore and ip6tables-restore
// (with --noflush and the hooks in noflush mode), `sh HOST.firewalld.sh`
// against a running firewalld, or `sh HOST.ufw.sh --enable`.
func Load(s generators.Settings, files []generators.File) ([]Command, error) {
	var out []Command
	noflush := iptables.SettingsOf(s).Mode == iptables.NoFlush
	for _, f := range files {
		switch {
		case strings.HasSuffix(f.Name, firewalld.Generator{}.Caps().Ext):
			out = append(out, Command{Firewalld: f.Contents})
		case strings.HasSuffix(f.Name, ufw.Generator{}.Caps().Ext):
			out = append(out, Command{Ufw: f.Contents})
		case strings.HasSuffix(f.Name, ".nft"):
			out = append(out, Command{Argv: []string{"nft", "-f", "-"}, Stdin: f.Contents})
		case strings.HasSuffix(f.Name, ".iptables"), strings.HasSuffix(f.Name, ".ip6tables"):
			fam, tool := ir.IPv4, "iptables-restore"
			if strings.HasSuffix(f.Name, ".ip6tables") {
				fam, tool = ir.IPv6, "ip6tables-restore"
			}
			argv := []string{tool}
			if noflush {
				argv = append(argv, "--noflush")
			}
			out = append(out, Command{Argv: argv, Stdin: f.Contents})
			if noflush {
				for _, h := range iptables.Hooks(fam) {
					out = append(out, Command{Argv: h.Insert, Unless: h.Check})
				}
			}
		default:
			return nil, fmt.Errorf("%s: no packet proof loads this kind of file", f.Name)
		}
	}
	return out, nil
}

// Render renders host's rules with target's backends, checked first as
// `portwall generate` checks them.
func Render(rs *ir.Ruleset, s generators.Settings, host, target string) ([]generators.File, error) {
	names, err := Backends(target)
	if err != nil {
		return nil, err
	}
	var files []generators.File
	for _, name := range names {
		g, ok := targets.Lookup(name)
		if !ok {
			return nil, fmt.Errorf("no backend %q", name)
		}
		out, err := generators.Generate(g, generators.Request{Ruleset: rs, Hosts: []string{host}, Settings: s})
		if err != nil {
			return nil, err
		}
		files = append(files, out...)
	}
	return files, nil
}
