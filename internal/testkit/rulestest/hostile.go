package rulestest

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"go4.org/netipx"

	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

// Texts are the strings of the hand-built IR that a profile, a catalog or
// a caller building IR may fill with anything.
type Texts struct {
	Set, Host, Desc, Comment, Flow, Profile, Program string
}

// IPSet builds an address set from prefixes.
func IPSet(t testing.TB, prefixes ...string) *netipx.IPSet {
	var b netipx.IPSetBuilder
	for _, p := range prefixes {
		b.AddPrefix(netip.MustParsePrefix(p))
	}
	s, err := b.IPSet()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// HostileRuleset builds an IR by hand, as a caller other than the
// resolver might: a group (with addresses and a host name), a host,
// inbound TCP, ICMP, ICMPv6 and (with x.Program) program rules, and an
// outbound rule, with egress filtering and fqdn = omit so that every part of a
// script is written (a test adds set_policy through the backend's
// settings). One origin claims ports its
// rule does not have, as only a hand-built IR can. It returns nil when
// the names collide (the IR would be malformed).
func HostileRuleset(t testing.TB, x Texts) *ir.Ruleset {
	if x.Set == x.Host || x.Set == ir.AnySet || x.Host == ir.AnySet {
		return nil
	}
	rs := &ir.Ruleset{
		Profile: x.Profile,
		Policy:  ir.Policy{Input: ir.InputReject, Output: ir.OutputDrop, LogDropped: true, FQDN: ir.FQDNOmit},
		Addrs: []*ir.AddrSet{
			{Name: ir.AnySet, Kind: ir.SetAny},
			{Name: x.Set, Kind: ir.SetGroup, IPs: IPSet(t, "10.0.0.0/24", "2001:db8:1::/64"), FQDNs: []string{"a.example"}},
			{Name: x.Host, Kind: ir.SetHost, Hosts: []string{x.Host}, IPs: IPSet(t, "192.0.2.1/32")},
		},
		Hosts: []*ir.Host{{Name: x.Host, Description: x.Desc, Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1")}}},
	}
	slices.SortFunc(rs.Addrs, func(a, b *ir.AddrSet) int { return strings.Compare(a.Name, b.Name) })
	custom := ir.Origin{Kind: ir.OriginCustom, Allow: 3, Comment: x.Comment, Ports: ports.NewSet(ports.Single(22))}
	flow := ir.Origin{Kind: ir.OriginFlow, Product: x.Flow, Feature: x.Flow, Flow: x.Flow, Ports: ports.NewSet(ports.Range{First: 8000, Last: 8010})}
	rules := []*ir.Rule{
		{From: ir.NewEndpoint(x.Set), To: ir.NewEndpoint(x.Host), Protocol: proto.TCP,
			Ports: ports.NewSet(ports.Single(22), ports.Range{First: 8000, Last: 8010}), Origins: []ir.Origin{custom, flow}},
		{From: ir.NewEndpoint(x.Set), To: ir.NewEndpoint(x.Host), Protocol: proto.ICMP, ICMPTypes: []uint8{0, 8},
			Origins: []ir.Origin{{Kind: ir.OriginCustom, Comment: x.Comment, ICMPTypes: []uint8{0, 8}}}},
		{From: ir.NewEndpoint(x.Set), To: ir.NewEndpoint(x.Host), Protocol: proto.ICMPv6,
			Origins: []ir.Origin{{Kind: ir.OriginCustom, Comment: x.Comment}}},
		// The flow origin claims 8000-8010; the rule allows 53 only.
		{From: ir.NewEndpoint(x.Host), To: ir.NewEndpoint(ir.AnySet), Protocol: proto.UDP,
			Ports: ports.NewSet(ports.Single(53)), Origins: []ir.Origin{flow}},
	}
	if x.Program != "" {
		rules = append(rules, &ir.Rule{From: ir.NewEndpoint(x.Set), To: ir.NewEndpoint(x.Host), Protocol: proto.TCP, Program: x.Program,
			Ports: ports.NewSet(ports.Range{First: 1, Last: 65535}), Origins: []ir.Origin{flow}})
	}
	for _, r := range rules {
		r.SetID()
	}
	rs.Rules = rules
	return rs
}

// Nasty is free text that must never break a script nor be refused.
var Nasty = []string{
	`a" dir=out remoteip=any action=allow "`,
	`a' -Direction Outbound -RemoteAddress Any '`,
	"line\r\nnetsh advfirewall set allprofiles state off",
	"x & calc.exe | more > out < in ^",
	"100% %PATH% %~dp0 %1 %%",
	"$(Remove-NetFirewallRule -All) ${env:PATH} `n `",
	"#Requires -Version 99",
	"<# block #> '' ''' ",
	`trailing backslash \`,
	"caret at the end ^",
	"!delayed! expansion",
	"(parens) ; # :label",
	"\x00\x1a\x7f tab\there",
	"unicode é 🔥 \u2028 \ufffd \u2018quoted\u2019 \u201a\u201b",
	strings.Repeat("long ", 400),
	strings.Repeat("%x&'", 5000),
	"rem /?",
	"requires admin",
	"",
}
