package fortigate_test

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"go4.org/netipx"

	"github.com/portwall/portwall/generators/fortigate"
	"github.com/portwall/portwall/generators/fortigate/fortiparse"
	"github.com/portwall/portwall/rules/addr"
	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

func ipset(cidrs ...string) *netipx.IPSet {
	var b netipx.IPSetBuilder
	for _, c := range cidrs {
		b.AddPrefix(netip.MustParsePrefix(c))
	}
	s, _ := b.IPSet()
	return s
}

// hostileRuleset is a small IR built directly, bypassing the profile
// checker, with text in every free-text field and a set name of the
// caller's choosing: a TCP rule from the set to a host, an ICMP rule, and
// a rule from the host to the FortiGate itself.
func hostileRuleset(setName, text, purpose string) *ir.Ruleset {
	origin := func(p ports.Set) ir.Origin {
		return ir.Origin{Kind: ir.OriginFlow, Product: "fortimail", Feature: "smtp", Flow: "smtp-in", Purpose: purpose, Ports: p}
	}
	custom := func(p ports.Set, types []uint8) ir.Origin {
		return ir.Origin{Kind: ir.OriginCustom, Allow: 0, Comment: text, Order: [3]int{1, 0, 0}, Ports: p, ICMPTypes: types}
	}
	rs := &ir.Ruleset{
		Profile: text,
		Policy:  ir.Policy{Input: ir.InputDrop, Output: ir.OutputAccept, FQDN: ir.FQDNError},
		Hosts:   []*ir.Host{{Name: "h1", Description: text, Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1")}}},
		Addrs: []*ir.AddrSet{
			{Name: setName, Kind: ir.SetGroup, IPs: ipset("10.0.0.0/24", "2001:db8::/64"),
				Members: []addr.Member{{Kind: addr.KindPrefix, Prefix: netip.MustParsePrefix("10.0.0.0/24")}}},
			{Name: "h1", Kind: ir.SetHost, Hosts: []string{"h1"}, IPs: ipset("192.0.2.1/32")},
			{Name: "fw", Kind: ir.SetGroup, IPs: ipset("192.0.2.254/32")},
		},
	}
	slices.SortFunc(rs.Addrs, func(a, b *ir.AddrSet) int { return strings.Compare(a.Name, b.Name) })
	p := ports.NewSet(ports.Single(25), ports.Range{First: 1000, Last: 1010})
	tcp := &ir.Rule{From: ir.NewEndpoint(setName), To: ir.NewEndpoint("h1"), Protocol: proto.TCP, Ports: p,
		Origins: []ir.Origin{origin(p), custom(p, nil)}}
	icmp := &ir.Rule{From: ir.NewEndpoint(setName), To: ir.NewEndpoint("h1"), Protocol: proto.ICMP, ICMPTypes: []uint8{0, 8},
		Origins: []ir.Origin{custom(nil, []uint8{0, 8})}}
	admin := &ir.Rule{From: ir.NewEndpoint("h1", setName), To: ir.NewEndpoint("fw"), Protocol: proto.TCP, Ports: ports.NewSet(ports.Single(443)),
		Origins: []ir.Origin{origin(ports.NewSet(ports.Single(443)))}}
	rs.Rules = []*ir.Rule{tcp, icmp, admin}
	for _, r := range rs.Rules {
		r.SetID()
	}
	return rs
}

// hostileSettings is the [fortigate] section hostile IR is rendered with:
// local-in policies for the FortiGate's own set "fw", h1 behind dmz.
func hostileSettings() fortigate.Settings {
	return fortigate.Settings{
		Version: "7.4", LogTraffic: "all", Self: "fw", LocalIn: true,
		Interfaces: map[string]string{"any": "port1", "h1": "dmz"},
	}
}

var hostileStrings = []string{
	`ok`, ``,
	`a"b`, `a'b`, "line\nconfig system admin\nend", "cr\r\nx", `semi;colon`, `pipe|x`, `100%`, `#hash`, `what?`,
	"end", "next", `back\slash`, `trailing\`, `<lt>gt`, "tab\tx", "nul\x00x", "\u2028sep", "bidi\u202eevil", "nb\u00a0sp",
	strings.Repeat("x", 300), strings.Repeat("é", 600), `"; end; config system admin; "`, "\"\nend\nconfig system admin\n",
	`$(reboot)`, "`id`", "a/b", "a:b", "a b", "\xff\xfe",
}

// TestHostileIR feeds hostile strings into the set name, the comments,
// the purposes, the profile name and the host description of an IR built
// in Go. A name that cannot go into FortiOS is refused; everything else
// must come out as a snippet that reads back strictly and grants no more
// than the IR.
func TestHostileIR(t *testing.T) {
	t.Parallel()
	rendered := 0
	for _, s := range hostileStrings {
		for _, c := range []struct {
			rs *ir.Ruleset
			// Free text never makes the backend refuse; names may.
			mustRender bool
		}{
			{hostileRuleset("peers", s, s), true},
			{hostileRuleset(s, "c", "p"), s == "ok" || s == "end" || s == "next"},
		} {
			rs := c.rs
			out := render(t, rs, hostileSettings())
			data, ok := out[fortigate.FileName]
			if !ok {
				if c.mustRender {
					t.Errorf("%q: refused: %s", s, out["error"])
				}
				continue
			}
			checkOutput(t, rs, "7.4", data)
			rendered++
		}
	}
	t.Logf("%d hostile rulesets rendered and read back", rendered)
}

// TestHostileSetNameRefused pins the refusal of a set name FortiOS names
// cannot hold.
func TestHostileSetNameRefused(t *testing.T) {
	t.Parallel()
	rs := hostileRuleset("a\"; end", "c", "p")
	_, err := fortigate.Render(rs, hostileSettings())
	id := rs.Rules[0].ID
	want := strings.Join([]string{
		fmt.Sprintf(`fortigate: rule %s (allow[0]): address set name "a\"; end" cannot go into a FortiOS name (letters, digits, '_', '.' and '-' only)`, rs.Rules[1].ID),
		fmt.Sprintf(`fortigate: rule %s (fortimail/smtp/smtp-in): address set name "a\"; end" cannot go into a FortiOS name (letters, digits, '_', '.' and '-' only)`, rs.Rules[2].ID),
		fmt.Sprintf(`fortigate: rule %s (fortimail/smtp/smtp-in, allow[0]): address set name "a\"; end" cannot go into a FortiOS name (letters, digits, '_', '.' and '-' only)`, id),
	}, "\n")
	if err == nil || sortedLines(err.Error()) != sortedLines(want) {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
}

func sortedLines(s string) string {
	l := strings.Split(s, "\n")
	slices.Sort(l)
	return strings.Join(l, "\n")
}

// TestLongNames: a 200-character set name and rule ID (the most
// generators.SafeName allows) give names within every limit, on 6.0 and
// later versions alike.
func TestLongNames(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"6.0", "6.2", "7.4"} {
		long := strings.Repeat("s", 200)
		rs := hostileRuleset(long, "c", "p")
		fg := hostileSettings()
		fg.Version = v
		rs.Rules[0].ID = strings.Repeat("r", 200)
		out := render(t, rs, fg)
		data, ok := out[fortigate.FileName]
		if !ok {
			t.Fatalf("%s: refused: %s", v, out["error"])
		}
		// The reader enforces the version's name limits.
		checkOutput(t, rs, v, data)
	}
}

// TestRefusals pins what the backend refuses rather than render wrongly.
func TestRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(rs *ir.Ruleset, fg *fortigate.Settings)
		want   string
	}{
		{"unknown version", func(_ *ir.Ruleset, fg *fortigate.Settings) { fg.Version = "6.6" },
			`fortigate: unknown FortiOS version "6.6": want a release (6.0, 6.2, 6.4, 7.0, 7.2, 7.4, 7.6, 8.0) or a patch level of one, such as 7.6.1`},
		{"unknown patch level's release", func(_ *ir.Ruleset, fg *fortigate.Settings) { fg.Version = "7.5.1" },
			`fortigate: unknown FortiOS version "7.5.1": want a release (6.0, 6.2, 6.4, 7.0, 7.2, 7.4, 7.6, 8.0) or a patch level of one, such as 7.6.1`},
		{"no version", func(_ *ir.Ruleset, fg *fortigate.Settings) { fg.Version = "" },
			`fortigate: unknown FortiOS version "": want a release (6.0, 6.2, 6.4, 7.0, 7.2, 7.4, 7.6, 8.0) or a patch level of one, such as 7.6.1`},
		{"bad VDOM", func(_ *ir.Ruleset, fg *fortigate.Settings) { fg.VDOM = "root\nend" },
			`fortigate: VDOM name "root\nend" is not one FortiOS accepts`},
		{"bad place", func(_ *ir.Ruleset, fg *fortigate.Settings) { fg.Place = "before 0" },
			`fortigate: invalid place "before 0": want "top", "bottom", "before ID" or "after ID" (a policy id of the running configuration)`},
		{"bad logtraffic", func(_ *ir.Ruleset, fg *fortigate.Settings) { fg.LogTraffic = "enable" },
			`fortigate: invalid logtraffic "enable": want all, utm or disable`},
		{"self is any", func(_ *ir.Ruleset, fg *fortigate.Settings) { fg.Self = "any" },
			`fortigate: self = "any" includes every address; it must name the host or group holding the FortiGate's own addresses`},
		{"hostile interface", func(_ *ir.Ruleset, fg *fortigate.Settings) { fg.Interfaces["h1"] = `dmz" "port9` },
			`fortigate: interface "dmz\" \"port9" of h1 is not a FortiOS interface or zone name`},
		{"unknown key", func(_ *ir.Ruleset, fg *fortigate.Settings) { fg.Interfaces["lab"] = "port9" },
			`fortigate: unknown host or group "lab" (a key is a host or group, an address, CIDR or range, a host name, or any)`},
		{"one network behind two interfaces", func(_ *ir.Ruleset, fg *fortigate.Settings) { fg.Interfaces["192.0.2.1"] = "port9" },
			`fortigate: 192.0.2.1/32 of h1 is also behind port9 (key 192.0.2.1): one network, one interface`},
		{"no default route", func(_ *ir.Ruleset, fg *fortigate.Settings) { delete(fg.Interfaces, "any") },
			`fortigate: 10.0.0.0/24 of peers sits behind no interface: no key of [fortigate.interfaces] holds it and there is no default route: add a key that holds it (a group, host, CIDR or host name = "<interface or zone>"), or any = "<interface>" for the default route, under [fortigate.interfaces]`},
		{"member outside the resolved set", func(rs *ir.Ruleset, _ *fortigate.Settings) {
			s, _ := rs.Set("peers")
			s.Members = append(s.Members, addr.Member{Kind: addr.KindPrefix, Prefix: netip.MustParsePrefix("172.16.0.0/12")})
		}, `fortigate: rule RULE0 (fortimail/smtp/smtp-in, allow[0]): set peers lists 172.16.0.0/12, which its resolved addresses do not hold` + "\n" +
			`fortigate: rule RULE1 (allow[0]): set peers lists 172.16.0.0/12, which its resolved addresses do not hold` + "\n" +
			`fortigate: rule RULE2 (fortimail/smtp/smtp-in): set peers lists 172.16.0.0/12, which its resolved addresses do not hold`},
		{"any member of a set not marked any", func(rs *ir.Ruleset, _ *fortigate.Settings) {
			s, _ := rs.Set("peers")
			s.Members = []addr.Member{{Kind: addr.KindAny}}
		}, `fortigate: rule RULE0 (fortimail/smtp/smtp-in, allow[0]): set peers lists any but is not marked as every address` + "\n" +
			`fortigate: rule RULE1 (allow[0]): set peers lists any but is not marked as every address` + "\n" +
			`fortigate: rule RULE2 (fortimail/smtp/smtp-in): set peers lists any but is not marked as every address`},
		{"host name that is not one", func(rs *ir.Ruleset, _ *fortigate.Settings) {
			s, _ := rs.Set("peers")
			s.FQDNs = []string{`x" "y.example.com`}
		}, `fortigate: rule RULE0 (fortimail/smtp/smtp-in, allow[0]): host name "x\" \"y.example.com" cannot go into a FortiOS fqdn object` + "\n" +
			`fortigate: rule RULE1 (allow[0]): host name "x\" \"y.example.com" cannot go into a FortiOS fqdn object` + "\n" +
			`fortigate: rule RULE2 (fortimail/smtp/smtp-in): host name "x\" \"y.example.com" cannot go into a FortiOS fqdn object`},
		{"program", func(rs *ir.Ruleset, _ *fortigate.Settings) { rs.Rules[0].Program = `C:\fme.exe` },
			`fortigate: rule RULE0 (fortimail/smtp/smtp-in, allow[0]): it is limited to the program C:\fme.exe, which FortiGate policies cannot match`},
		{"TCP without ports", func(rs *ir.Ruleset, _ *fortigate.Settings) { rs.Rules[0].Ports = nil },
			`fortigate: rule RULE0 (fortimail/smtp/smtp-in, allow[0]): tcp without ports`},
		{"hostile rule ID", func(rs *ir.Ruleset, _ *fortigate.Settings) { rs.Rules[0].ID = `r1"; end` },
			`fortigate: rule r1"; end (fortimail/smtp/smtp-in, allow[0]): its ID cannot go into a FortiOS comment`},
		{"duplicate rule ID", func(rs *ir.Ruleset, _ *fortigate.Settings) {
			rs.Rules[1].Protocol = proto.TCP
			rs.Rules[1].Ports = rs.Rules[0].Ports
			rs.Rules[1].ID = rs.Rules[0].ID
		},
			`fortigate: rule RULE0 (allow[0]): another rule has the same ID`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := hostileRuleset("peers", "c", "p")
			fg := hostileSettings()
			tt.change(rs, &fg)
			_, err := fortigate.Render(rs, fg)
			want := tt.want
			for i, r := range rs.Rules {
				want = strings.ReplaceAll(want, fmt.Sprintf("RULE%d", i), r.ID)
			}
			if err == nil || sortedLines(err.Error()) != sortedLines(want) {
				t.Errorf("got:\n%v\nwant:\n%s", err, want)
			}
		})
	}
}

// TestChunkedComments: a rule whose provenance does not fit 1023
// characters becomes several policies, each naming its origins and
// carrying their ports only.
func TestChunkedComments(t *testing.T) {
	t.Parallel()
	rs := hostileRuleset("peers", "c", "p")
	r := rs.Rules[0]
	r.Origins = nil
	r.Ports = nil
	for i := range 60 {
		p := ports.NewSet(ports.Single(uint16(2000 + i)))
		r.Origins = append(r.Origins, ir.Origin{Kind: ir.OriginFlow, Product: "product", Feature: fmt.Sprintf("feature-%02d", i),
			Flow: "a-flow-with-a-rather-long-name", Order: [3]int{0, i, 0}, Ports: p})
		r.Ports = r.Ports.Union(p)
	}
	out := render(t, rs, hostileSettings())
	data, ok := out[fortigate.FileName]
	if !ok {
		t.Fatalf("refused: %s", out["error"])
	}
	checkOutput(t, rs, "7.4", data)
	c, err := fortiparse.Parse(data, "7.4")
	if err != nil {
		t.Fatal(err)
	}
	svcs := map[string]*fortiparse.Entry{}
	for _, tb := range c.Tables {
		for _, e := range tb.Entries {
			if tb.Path == "firewall service custom" {
				svcs[e.Key] = e
			}
		}
	}
	var names []string
	covered := ports.Set{}
	for _, tb := range c.Tables {
		for _, e := range tb.Entries {
			if tb.Path != "firewall policy" || !strings.HasPrefix(e.Get("comments")[0], fortigate.CommentPrefix+r.ID) {
				continue
			}
			names = append(names, e.Get("name")[0])
			for _, svc := range e.Get("service") {
				for _, pr := range svcs[svc].Get("tcp-portrange") {
					pp, err := ports.Parse(pr)
					if err != nil {
						t.Fatal(err)
					}
					covered = covered.Union(ports.NewSet(pp))
				}
			}
		}
	}
	// The parts share the rule's name, told apart by their number.
	want := []string{"pw-product-a-flow-with-a-rather"}
	for i := 2; i <= len(names); i++ {
		want = append(want, fmt.Sprintf("pw-product-a-flow-with-a-rather-%d", i))
	}
	if len(names) < 2 || strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("policies %v, want %v", names, want)
	}
	if !covered.Equal(r.Ports) {
		t.Errorf("the parts' services cover %s, the rule %s", covered, r.Ports)
	}
}

// TestNamesStable: adding an unrelated rule and set changes no name the
// snippet already had.
func TestNamesStable(t *testing.T) {
	t.Parallel()
	names := func(rs *ir.Ruleset) map[string]bool {
		out := render(t, rs, hostileSettings())
		c, err := fortiparse.Parse(out[fortigate.FileName], "7.4")
		if err != nil {
			t.Fatalf("%v\n%s", err, out["error"])
		}
		m := map[string]bool{}
		for _, tb := range c.Tables {
			for _, e := range tb.Entries {
				m[e.Key] = true
				if n := e.Get("name"); n != nil {
					m[n[0]] = true
				}
			}
		}
		return m
	}
	rs := hostileRuleset("peers", "c", "p")
	before := names(rs)
	rs.Addrs = append(rs.Addrs, &ir.AddrSet{Name: "zz-new", Kind: ir.SetGroup, IPs: ipset("10.0.0.0/25", "198.51.100.0/24")})
	extra := &ir.Rule{From: ir.NewEndpoint("zz-new"), To: ir.NewEndpoint("h1"), Protocol: proto.UDP, Ports: ports.NewSet(ports.Single(53)),
		Origins: []ir.Origin{{Kind: ir.OriginCustom, Allow: 9}}}
	extra.SetID()
	rs.Rules = append([]*ir.Rule{extra}, rs.Rules...)
	after := names(rs)
	for n := range before {
		if !after[n] {
			t.Errorf("%s is gone after an unrelated change", n)
		}
	}
	if len(after) <= len(before) {
		t.Errorf("the new rule added no names")
	}
}
