package ir

import (
	"slices"
	"testing"

	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

// A host's rules found by scanning (the first view of a ruleset) are
// those the index of every host finds (every later view), for every
// host and direction: hosts named directly, through groups, through two
// sets of one rule, on both sides, and not at all.
func TestScanHostMatchesIndex(t *testing.T) {
	t.Parallel()
	rs := &Ruleset{
		Addrs: []*AddrSet{
			{Name: "any", Kind: SetAny},
			{Name: "h1", Kind: SetHost, Hosts: []string{"h1"}},
			{Name: "h2", Kind: SetHost, Hosts: []string{"h2"}},
			{Name: "h3", Kind: SetHost, Hosts: []string{"h3"}},
			{Name: "idle", Kind: SetHost, Hosts: []string{"idle"}},
			{Name: "web", Kind: SetGroup, Hosts: []string{"h1", "h2"}},
			{Name: "net", Kind: SetGroup},
		},
		Hosts: []*Host{{Name: "h1"}, {Name: "h2"}, {Name: "h3"}, {Name: "idle"}},
	}
	for _, e := range [][2][]string{
		{{"any"}, {"h1"}},
		{{"net"}, {"web"}},
		{{"h3"}, {"h1", "web"}}, // h1 twice: once in its view
		{{"web"}, {"h3"}},
		{{"h1"}, {"h2"}},
		{{"net"}, {"any"}},
		{{"h2", "h3"}, {"net"}},
		{{"missing"}, {"h1"}},
	} {
		rs.Rules = append(rs.Rules, &Rule{From: NewEndpoint(e[0]...), To: NewEndpoint(e[1]...), Protocol: proto.TCP, Ports: ports.NewSet(ports.Single(22))})
	}
	idx := rs.hostIndex()
	for _, h := range rs.Hosts {
		in, out := rs.scanHost(h.Name)
		if !slices.Equal(in, idx.in[h.Name]) || !slices.Equal(out, idx.out[h.Name]) {
			t.Errorf("%s: scanned in %v out %v, indexed in %v out %v", h.Name, in, out, idx.in[h.Name], idx.out[h.Name])
		}
	}
}

// The first view of a ruleset (scanned) and the next ones (indexed)
// agree, and a view of other rules is not taken from the index of old
// ones.
func TestHostViewFirstAndLater(t *testing.T) {
	t.Parallel()
	rs := benchRuleset(50)
	first, err := rs.HostView("h1")
	if err != nil {
		t.Fatal(err)
	}
	if rs.hosts.Load().in != nil {
		t.Fatal("the first view built the index of every host")
	}
	second, err := rs.HostView("h1")
	if err != nil {
		t.Fatal(err)
	}
	if rs.hosts.Load().in == nil {
		t.Fatal("the second view did not build the index")
	}
	same := func(a, b HostRule) bool {
		return a.Rule == b.Rule && a.Dir == b.Dir && slices.Equal(a.Remote.Sets, b.Remote.Sets)
	}
	if !slices.EqualFunc(first.In, second.In, same) || !slices.EqualFunc(first.Out, second.Out, same) || len(first.In) != 50 {
		t.Errorf("first view %d in, %d out; second %d in, %d out; want 50 in", len(first.In), len(first.Out), len(second.In), len(second.Out))
	}
	rs.Rules = rs.Rules[:10:10]
	third, err := rs.HostView("h1")
	if err != nil {
		t.Fatal(err)
	}
	if len(third.In) != 10 {
		t.Errorf("after Rules changed: %d inbound rules, want 10", len(third.In))
	}
}
