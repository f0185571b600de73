package targets_test

import (
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"go4.org/netipx"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/firewalld/fwdparse"
	"github.com/portwall/portwall/generators/fortigate"
	"github.com/portwall/portwall/generators/fortigate/fortiparse"
	"github.com/portwall/portwall/generators/iptables/iptparse"
	"github.com/portwall/portwall/generators/nftables"
	"github.com/portwall/portwall/generators/nftables/nftparse"
	"github.com/portwall/portwall/generators/targets"
	"github.com/portwall/portwall/generators/ufw/ufwparse"
	"github.com/portwall/portwall/generators/windows/netsh/netshparse"
	"github.com/portwall/portwall/generators/windows/powershell/psparse"
	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

// reader reads a backend's file back into grants: host grants when the
// backend renders hosts, network grants otherwise.
type reader func(s generators.Settings, name string, data []byte) ([]ir.Grant, error)

// readers holds a strict reader for every backend; a backend without one
// fails TestEveryBackendHasAReader.
var readers = map[string]reader{
	"nftables": func(_ generators.Settings, _ string, data []byte) ([]ir.Grant, error) {
		s, err := nftparse.Parse(data)
		if err != nil {
			return nil, err
		}
		return s.Grants()
	},
	"firewalld": func(_ generators.Settings, _ string, data []byte) ([]ir.Grant, error) {
		c, err := fwdparse.Parse(data)
		if err != nil {
			return nil, err
		}
		return c.Grants()
	},
	"ufw": func(_ generators.Settings, _ string, data []byte) ([]ir.Grant, error) {
		s, err := ufwparse.Parse(data)
		if err != nil {
			return nil, err
		}
		return s.Grants()
	},
	"iptables":  iptReader(ir.IPv4),
	"ip6tables": iptReader(ir.IPv6),
	"netsh": func(_ generators.Settings, _ string, data []byte) ([]ir.Grant, error) {
		s, err := netshparse.Parse(data)
		if err != nil {
			return nil, err
		}
		return s.Grants()
	},
	"powershell": func(_ generators.Settings, _ string, data []byte) ([]ir.Grant, error) {
		s, err := psparse.Parse(data)
		if err != nil {
			return nil, err
		}
		return s.Grants()
	},
	"fortigate": func(s generators.Settings, _ string, data []byte) ([]ir.Grant, error) {
		c, err := fortiparse.Parse(data, fortigate.SettingsOf(s).Version)
		if err != nil {
			return nil, err
		}
		return c.Grants()
	},
	"json": func(_ generators.Settings, _ string, data []byte) ([]ir.Grant, error) {
		// JSON is encoded by encoding/json; it can only be malformed,
		// never carry a command.
		var v any
		return nil, json.Unmarshal(data, &v)
	},
}

func iptReader(f ir.Family) reader {
	return func(_ generators.Settings, _ string, data []byte) ([]ir.Grant, error) {
		s, err := iptparse.Parse(data, f)
		if err != nil {
			return nil, err
		}
		return s.Grants()
	}
}

func TestEveryBackendHasAReader(t *testing.T) {
	t.Parallel()
	for _, n := range targets.Names() {
		if readers[n] == nil {
			t.Errorf("backend %s has no reader in this test: its output cannot be proven", n)
		}
	}
}

// hostileRuleset builds IR directly, bypassing the profile checker that
// rejects unsafe names, so that each backend's own escaping and refusals
// are what is tested.
func hostileRuleset(setName, hostName, comment, purpose, program string) *ir.Ruleset {
	var b netipx.IPSetBuilder
	b.AddPrefix(netip.MustParsePrefix("10.0.0.0/24"))
	b.AddPrefix(netip.MustParsePrefix("2001:db8::/64"))
	peers, _ := b.IPSet()
	var hb netipx.IPSetBuilder
	hb.Add(netip.MustParseAddr("192.0.2.1"))
	hostIPs, _ := hb.IPSet()
	origin := func(kind ir.OriginKind, p ports.Set) ir.Origin {
		return ir.Origin{Kind: kind, Product: "fortimail", Feature: "smtp", Flow: "smtp-in", Purpose: purpose, Source: purpose, Comment: comment, Ports: p}
	}
	rs := &ir.Ruleset{
		Profile: comment,
		Policy:  ir.Policy{Input: ir.InputDrop, Output: ir.OutputDrop, LogDropped: true, FQDN: ir.FQDNError},
		Hosts:   []*ir.Host{{Name: hostName, Description: comment, Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1")}}},
		Addrs: []*ir.AddrSet{
			{Name: setName, Kind: ir.SetGroup, IPs: peers, Members: nil},
			{Name: hostName, Kind: ir.SetHost, Hosts: []string{hostName}, IPs: hostIPs},
		},
	}
	slices.SortFunc(rs.Addrs, func(a, b *ir.AddrSet) int { return strings.Compare(a.Name, b.Name) })
	p := ports.NewSet(ports.Single(25), ports.Range{First: 1000, Last: 1010})
	in := &ir.Rule{From: ir.NewEndpoint(setName), To: ir.NewEndpoint(hostName), Protocol: proto.TCP, Ports: p,
		Origins: []ir.Origin{origin(ir.OriginFlow, p), origin(ir.OriginCustom, p)}}
	out := &ir.Rule{From: ir.NewEndpoint(hostName), To: ir.NewEndpoint(setName), Protocol: proto.UDP, Ports: ports.NewSet(ports.Single(53)), Program: program,
		Origins: []ir.Origin{origin(ir.OriginCustom, ports.NewSet(ports.Single(53)))}}
	icmp := &ir.Rule{From: ir.NewEndpoint(setName), To: ir.NewEndpoint(hostName), Protocol: proto.ICMPv6, ICMPTypes: []uint8{128},
		Origins: []ir.Origin{{Kind: ir.OriginCustom, Comment: comment, ICMPTypes: []uint8{128}}}}
	for _, r := range []*ir.Rule{in, out, icmp} {
		r.SetID()
	}
	rs.Rules = []*ir.Rule{in, out, icmp}
	return rs
}

// checkBackends renders the ruleset with every backend. A backend may
// refuse; what it does render must read back strictly and allow nothing
// the IR does not.
func checkBackends(t *testing.T, rs *ir.Ruleset) {
	t.Helper()
	for _, layout := range []nftables.Layout{nftables.LayoutReadable, nftables.LayoutSets} {
		checkEach(t, rs, layout)
	}
}

func checkEach(t *testing.T, rs *ir.Ruleset, layout nftables.Layout) {
	t.Helper()
	settings := generators.Settings{
		fortigate.Section.Name(): fortigate.Settings{Version: "7.4", LogTraffic: "all", Interfaces: map[string]string{"any": "port1"}},
		nftables.Section.Name():  nftables.Settings{Layout: layout},
	}
	for _, g := range targets.All() {
		if layout == nftables.LayoutSets && g.Name() != "nftables" {
			continue
		}
		req := generators.Request{Ruleset: rs, Settings: settings}
		if g.Caps().HostView {
			req.Hosts = rs.HostNames()
		}
		if generators.Check(g, req) != nil {
			continue
		}
		files, err := g.Generate(req)
		if err != nil {
			continue
		}
		for _, f := range files {
			grants, err := readers[g.Name()](settings, f.Name, f.Contents)
			if err != nil {
				t.Fatalf("%s: output does not read back: %v\n%s", g.Name(), err, f.Contents)
			}
			for _, gr := range grants {
				var err error
				if g.Caps().HostView {
					v, _ := rs.HostView(rs.Hosts[0].Name)
					err = v.CheckGrant(gr)
				} else {
					err = rs.CheckGrant(gr)
				}
				if err != nil {
					t.Fatalf("%s: %v\n%s", g.Name(), err, f.Contents)
				}
			}
		}
	}
}

var hostileStrings = []string{
	`ok`,
	`a"b`, `a'b`, "line\nflush ruleset\nadd rule", "cr\r\nx", `semi;colon`, `pipe|x`, `100%`, `%PATH%`, `#hash`,
	"end", "next", `back\slash`, `trailing\`, `caret^`, `amp&x`, `<lt>gt`, "tab\tx", "nul\x00x", "\u2028sep",
	strings.Repeat("x", 300), strings.Repeat("é", 150), `"; flush ruleset; "`, "\"\nend\nconfig system admin\n",
	"-A INPUT -j ACCEPT", `$(reboot)`, "`id`",
}

// TestHostileStrings feeds hostile strings into every free-text field and
// every name of a ruleset, for every backend.
func TestHostileStrings(t *testing.T) {
	t.Parallel()
	for _, s := range hostileStrings {
		checkBackends(t, hostileRuleset("peers", "h1", s, s, ""))
		checkBackends(t, hostileRuleset(s, "h1", "c", "p", ""))
		checkBackends(t, hostileRuleset("peers", s, "c", "p", ""))
		checkBackends(t, hostileRuleset("peers", "h1", "c", "p", `C:\Program Files\`+s))
	}
}

func FuzzBackends(f *testing.F) {
	for _, s := range hostileStrings {
		f.Add(s, "h1", s, s)
		f.Add("peers", s, s, "p")
	}
	f.Fuzz(func(t *testing.T, setName, hostName, comment, purpose string) {
		if setName == "" || hostName == "" || setName == hostName || setName == ir.AnySet || hostName == ir.AnySet {
			return // not a ruleset the resolver can build
		}
		checkBackends(t, hostileRuleset(setName, hostName, comment, purpose, ""))
	})
}
