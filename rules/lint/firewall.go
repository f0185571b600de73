package lint

import (
	"fmt"
	"slices"
	"strings"

	"github.com/portwall/portwall/profiles"
)

// firewallManagers checks each host's targets against the firewall
// manager the profile says it runs (firewall = "..."), PW961. netfilter
// runs every base chain on a hook and a packet any of them drops is
// dropped, so portwall's rules open nothing where another manager's
// chain drops what that manager does not allow (firewalld's zones, ufw's
// INPUT policy); and a target that replaces a whole table (iptables in
// mode replace) removes the other manager's rules. One warning per host,
// at the firewall key that applies to it.
func (l *linter) firewallManagers(targets []Target) {
	hosts := make([]string, 0, len(l.p.Hosts))
	for name := range l.p.Hosts {
		hosts = append(hosts, name)
	}
	slices.Sort(hosts)
	for _, host := range hosts {
		fw, path := l.p.HostFirewall(host)
		if fw == "" {
			continue
		}
		var linux []string
		replaces := false
		for _, t := range targets {
			if t.Firewall == "" || !slices.Contains(t.DeclaredHosts, host) {
				continue
			}
			linux = append(linux, t.Name)
			replaces = replaces || t.Replaces
		}
		declared := l.p.HostTargets(host).Declared()
		if declared && len(linux) == 0 {
			continue // no Linux target: an appliance, or another OS
		}
		has := func(name string) bool { return slices.Contains(linux, name) }
		iptables := has("iptables") || has("ip6tables")
		var problems []string
		what := "its targets (" + strings.Join(linux, ", ") + ")"
		if !declared {
			what = "no target declared (every target may be generated, and apply loads nftables)"
		}
		var fix string
		switch fw {
		case profiles.FirewallFirewalld:
			if !has("firewalld") || len(linux) > 1 {
				problems = append(problems, "firewalld's table inet firewalld rejects what its zones do not allow, and a packet any base chain drops is dropped: the rules of nftables or iptables beside it open nothing")
				fix = `declare targets = ["firewalld"]: portwall's firewalld output opens the flows in firewalld itself`
			}
		case profiles.FirewallUFW:
			if has("nftables") || !declared {
				problems = append(problems, "ufw's INPUT chain drops what ufw does not allow (policy DROP), and a packet any base chain drops is dropped: table inet portwall beside it opens nothing")
			}
			if iptables && replaces {
				problems = append(problems, "iptables-restore in [iptables] mode = \"replace\" replaces ufw's whole filter table")
			}
			fix = `declare targets = ["ufw"]: portwall's ufw output opens the flows in ufw itself; or targets = ["iptables", "ip6tables"] with [iptables] mode = "noflush": portwall's chains, jumped to first from ufw's own INPUT and OUTPUT, decide before ufw's rules; or disable ufw (ufw disable) and declare firewall = "none"`
		case profiles.FirewallDocker, profiles.FirewallIptables:
			if iptables && replaces {
				whose := "Docker's rules (DOCKER-USER and the forwarding to containers)"
				if fw == profiles.FirewallIptables {
					whose = "the host's own iptables rules"
				}
				problems = append(problems, "iptables-restore in [iptables] mode = \"replace\" replaces the whole filter table, "+whose+" included")
				fix = `set [iptables] mode = "noflush" (portwall's chains only), or declare targets = ["nftables"] (a table of portwall's own)`
			}
		}
		if has("firewalld") && fw != profiles.FirewallFirewalld {
			problems = append(problems, fmt.Sprintf("the firewalld target is loaded into a running firewalld, which a host with firewall = %q does not run", fw))
			if fix == "" {
				fix = `declare targets = ["nftables"]`
			}
		}
		if has("ufw") && fw != profiles.FirewallUFW {
			problems = append(problems, fmt.Sprintf("the ufw target is loaded with ufw's own commands, which a host with firewall = %q does not run", fw))
			if fix == "" {
				fix = `declare targets = ["nftables"]`
			}
		}
		if len(problems) == 0 {
			continue
		}
		l.warn(l.p.Doc.Pos(path...), "PW961", "host %s runs %s (firewall = %q), with %s: %s; %s",
			host, managerName(fw), fw, what, strings.Join(problems, "; "), fix)
	}
}

func managerName(fw profiles.Firewall) string {
	switch fw {
	case profiles.FirewallNone:
		return "no other firewall"
	case profiles.FirewallNftables:
		return "a ruleset of its own in nftables"
	case profiles.FirewallIptables:
		return "iptables rules of its own"
	case profiles.FirewallDocker:
		return "Docker"
	}
	return string(fw)
}
