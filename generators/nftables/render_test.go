package nftables

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"go4.org/netipx"

	"github.com/portwall/portwall/internal/testkit/rulestest"
	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

// The profile name can come from a file name, which may hold anything: it
// must stay inside its comment line.
func TestHeaderTextStaysInComments(t *testing.T) {
	t.Parallel()
	rs := &ir.Ruleset{
		Profile: "a\nflush ruleset\r\n\"x",
		Policy:  ir.Policy{Input: ir.InputDrop, Output: ir.OutputAccept},
		Hosts:   []*ir.Host{{Name: "h1", Description: "b\nflush ruleset", Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1")}}},
	}
	v, err := rs.HostView("h1")
	if err != nil {
		t.Fatal(err)
	}
	out, err := Render(v, Settings{Layout: LayoutAuto})
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "flush") && !strings.HasPrefix(line, "#") {
			t.Errorf("free text escaped its comment: %q", line)
		}
	}
}

func TestHostileSetNameRefused(t *testing.T) {
	t.Parallel()
	rs := &ir.Ruleset{
		Addrs: []*ir.AddrSet{
			{Name: "a\"; flush ruleset", Kind: ir.SetGroup},
			{Name: "h1", Kind: ir.SetHost, Hosts: []string{"h1"}},
		},
		Hosts: []*ir.Host{{Name: "h1", Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1")}}},
		Rules: []*ir.Rule{{ID: "r1", From: ir.NewEndpoint("a\"; flush ruleset"), To: ir.NewEndpoint("h1"), Protocol: proto.TCP, Ports: ports.NewSet(ports.Single(22))}},
	}
	slices.SortFunc(rs.Addrs, func(a, b *ir.AddrSet) int { return strings.Compare(a.Name, b.Name) })
	v, err := rs.HostView("h1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Render(v, Settings{Layout: LayoutAuto}); err == nil || !strings.Contains(err.Error(), "cannot be an nft identifier") {
		t.Errorf("got %v", err)
	}
}

// TestReadableHalves: a large chain in the readable layout, written in
// two halves side by side (chain), is the chain written rule after rule
// (rules): the same lines, and the same sets, lists and omissions
// declared, whether host names are left out or filled at run time, and
// the same error where a rule cannot be rendered.
func TestReadableHalves(t *testing.T) {
	t.Parallel()
	ipset := func(prefixes ...string) *netipx.IPSet { return rulestest.IPSet(t, prefixes...) }
	addrs := []*ir.AddrSet{
		{Name: "any", Kind: ir.SetAny},
		{Name: "h1", Kind: ir.SetHost, Hosts: []string{"h1"}, IPs: ipset("192.0.2.1/32")},
	}
	for i := range 5 {
		addrs = append(addrs, &ir.AddrSet{Name: fmt.Sprintf("f%d", i), Kind: ir.SetGroup, FQDNs: []string{fmt.Sprintf("n%d.example", i)}})
	}
	for i := range 150 {
		ips := ipset(fmt.Sprintf("10.%d.0.0/24", i))
		if i%2 == 1 {
			ips = ipset(fmt.Sprintf("10.%d.0.0/24", i), fmt.Sprintf("10.%d.9.0/24", i), fmt.Sprintf("2001:db8:%x::/48", i))
		}
		addrs = append(addrs, &ir.AddrSet{Name: fmt.Sprintf("g%03d", i), Kind: ir.SetGroup, IPs: ips})
	}
	portLists := []ports.Set{
		ports.NewSet(ports.Single(22)),
		ports.NewSet(ports.Single(22), ports.Single(80)),
		ports.NewSet(ports.Range{First: 1000, Last: 2000}, ports.Single(8080)),
	}
	// The second half has groups and port lists of its own: what it
	// declares must not be lost.
	n := 3 * splitAt
	var rules []*ir.Rule
	for i := range n {
		from := []string{fmt.Sprintf("g%03d", i%100)}
		if i >= n/2 {
			from = []string{fmt.Sprintf("g%03d", 100+i%50)}
		}
		switch i % 7 {
		case 3:
			from = append(from, fmt.Sprintf("f%d", i%5))
		case 5:
			from = []string{"any"}
		}
		r := &ir.Rule{ID: fmt.Sprintf("r%04d", i), From: ir.NewEndpoint(from...), To: ir.NewEndpoint("h1")}
		o := ir.Origin{Kind: ir.OriginFlow, Product: "p", Feature: "f", Flow: fmt.Sprint("flow", i%13)}
		switch i % 3 {
		case 0, 1:
			r.Protocol, r.Ports = proto.TCP, portLists[i%len(portLists)]
			if i >= n/2 && i%5 == 0 {
				r.Ports = ports.NewSet(ports.Single(443), ports.Single(uint16(9000+i%4)))
			}
			if i%2 == 1 {
				r.Protocol = proto.UDP
			}
			o.Ports = r.Ports
		default:
			r.Protocol = proto.ICMP
			if i%2 == 0 {
				r.ICMPTypes = []uint8{0, 8}
			}
			o.ICMPTypes = r.ICMPTypes
		}
		r.Origins = []ir.Origin{o}
		rules = append(rules, r)
	}
	for _, fqdn := range []ir.FQDNMode{ir.FQDNOmit, ir.FQDNDynamicSet, ir.FQDNError} {
		rs := &ir.Ruleset{
			Policy: ir.Policy{Input: ir.InputDrop, Output: ir.OutputAccept, FQDN: fqdn},
			Addrs:  addrs,
			Hosts:  []*ir.Host{{Name: "h1", Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1")}}},
			Rules:  rules,
		}
		v, err := rs.HostView("h1")
		if err != nil {
			t.Fatal(err)
		}
		render := func(write func(*renderer, *text) error) (string, error) {
			r := &renderer{v: v, layout: LayoutReadable, sets: map[string]*set{}, lists: map[string]*list{}}
			var lines, decl text
			if err := write(r, &lines); err != nil {
				return "", err
			}
			r.header(&decl)
			r.declarations(&decl)
			out := make([]byte, decl.Len()+lines.Len())
			lines.copyTo(decl.copyTo(out))
			return string(out), nil
		}
		one, err1 := render(func(r *renderer, b *text) error { return r.rules(b, v.In, ir.In) })
		halves, err2 := render(func(r *renderer, b *text) error { return r.chain(b, v.In, ir.In) })
		if fmt.Sprint(err1) != fmt.Sprint(err2) {
			t.Errorf("fqdn %s: rule after rule: %v; in halves: %v", fqdn, err1, err2)
		}
		if one != halves {
			t.Errorf("fqdn %s: in halves, %d bytes differ from rule after rule, %d", fqdn, len(halves), len(one))
		}
		if fqdn != ir.FQDNError && (!strings.Contains(one, "n4.example") || !strings.Contains(one, "ports_")) {
			t.Errorf("fqdn %s: the chain lacks host names or port lists: the test tests less than it says", fqdn)
		}
	}
}
