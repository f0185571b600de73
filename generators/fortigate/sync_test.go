package fortigate_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/fortigate"
	"github.com/portwall/portwall/generators/fortigate/fortiparse"
	"github.com/portwall/portwall/profiles"
	"github.com/portwall/portwall/rules"
	"github.com/portwall/portwall/rules/catalog"
	"github.com/portwall/portwall/rules/ir"
)

// The FortiGate the tests do not have is fortiparse.Model: it reads a
// configuration and applies pasted CLI as the reference documents it.
// It judges the backend's two outputs:
//
//   - the full snippet pasted into an empty FortiGate is the desired
//     state;
//   - the delta (Sync) pasted onto the running configuration gives the
//     desired state's portwall objects and policies, the policies
//     together at place in the profile's order, while every entry that
//     is not portwall's stays byte for byte as it was;
//   - a second run against the result changes nothing;
//   - what the pastes leave reads back strictly and grants no more than
//     the IR.

var loadCatalog = sync.OnceValues(func() (*catalog.Catalog, error) { return catalog.Load() })

// load resolves a profile held in memory, with its [fortigate] section.
func load(t testing.TB, name string, data []byte) (*ir.Ruleset, fortigate.Settings) {
	t.Helper()
	cat, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	p, err := profiles.Parse(name, data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	s, err := generators.DecodeSettings(p, []generators.Section{fortigate.Section}, generators.NewEnv(p, nil))
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	rs, err := rules.Resolve(p, cat)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	return rs, fortigate.SettingsOf(s)
}

// running reads one of fortiparse's hand-made configurations.
func running(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("fortiparse", "testdata", "running", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// desired is the full snippet pasted into an empty FortiGate (with the
// VDOMs of the running configuration, when it has them).
func desired(t testing.TB, rs *ir.Ruleset, fg fortigate.Settings, vdoms []string) *fortiparse.Model {
	t.Helper()
	full, err := fortigate.Render(rs, fg)
	if err != nil {
		t.Fatal(err)
	}
	m := fortiparse.NewModel()
	if fg.VDOM != "" {
		m = fortiparse.NewMultiModel(vdoms...)
	}
	if err := m.Apply(full); err != nil {
		t.Fatalf("the full snippet does not paste onto an empty FortiGate: %v\n%s", err, numbered(full))
	}
	return m
}

func numbered(data []byte) string {
	var b strings.Builder
	for i, l := range strings.Split(string(data), "\n") {
		fmt.Fprintf(&b, "%4d %s\n", i+1, l)
	}
	return b.String()
}

func vdomOf(t testing.TB, m *fortiparse.Model, name string) *fortiparse.VDOM {
	t.Helper()
	v, err := m.VDOM(name)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// listAttrs are compared as sets.
var listAttrs = []string{"member", "srcintf", "dstintf", "intf", "srcaddr", "dstaddr", "srcaddr6", "dstaddr6", "service", "tcp-portrange", "udp-portrange"}

// canonical is an entry's meaning: attributes sorted, defaults left out,
// lists as sets; policies without their ids.
func canonical(table string, e *fortiparse.Entry) string {
	var lines []string
	for _, a := range e.Attrs {
		if d, ok := fortiparse.Default(table, a.Name); ok && len(a.Values) == 1 && a.Values[0] == d {
			continue
		}
		vals := slices.Clone(a.Values)
		if slices.Contains(listAttrs, a.Name) {
			slices.Sort(vals)
		}
		lines = append(lines, a.Name+" "+strings.Join(vals, "|"))
	}
	slices.Sort(lines)
	return strings.Join(lines, "; ")
}

var portwallTables = []string{"firewall address", "firewall address6", "firewall addrgrp", "firewall addrgrp6",
	"firewall service custom", "firewall service group", "firewall policy", "firewall policy6",
	"firewall local-in-policy", "firewall local-in-policy6"}

// ownedState is what portwall has in a VDOM, by meaning: objects by
// name, policies in table order, local-in policies as a multiset.
func ownedState(v *fortiparse.VDOM) string {
	var b strings.Builder
	for _, path := range portwallTables {
		var lines []string
		if t := v.Table(path); t != nil {
			for _, e := range t.Entries {
				if !fortigate.Owned(path, e) {
					continue
				}
				key := e.Key
				if fortiparse.Numbered(path) {
					key = "#"
				}
				lines = append(lines, key+": "+canonical(path, e))
			}
		}
		if !strings.Contains(path, " policy") || strings.Contains(path, "local-in") {
			slices.Sort(lines)
		}
		for _, l := range lines {
			fmt.Fprintf(&b, "%s %s\n", path, l)
		}
	}
	return b.String()
}

func foreign(v *fortiparse.VDOM) []byte {
	return v.ShowEntries(func(table string, e *fortiparse.Entry) bool { return !fortigate.Owned(table, e) })
}

// checkPlace checks that portwall's policies sit together where place
// says (policy6, up to 6.2, at the bottom for before and after).
func checkPlace(t testing.TB, v *fortiparse.VDOM, place string) {
	t.Helper()
	for _, path := range []string{"firewall policy", "firewall policy6"} {
		tb := v.Table(path)
		if tb == nil {
			continue
		}
		var first, last = -1, -1
		var foreignIDs []string
		for i, e := range tb.Entries {
			if fortigate.Owned(path, e) {
				if first < 0 {
					first = i
				}
				if last >= 0 && last != i-1 {
					t.Errorf("%s: portwall's policies are not together: %v", path, ids(tb))
					return
				}
				last = i
			} else {
				foreignIDs = append(foreignIDs, e.Key)
			}
		}
		if first < 0 {
			continue
		}
		where, id, _ := strings.Cut(place, " ")
		if path == "firewall policy6" && (where == "before" || where == "after") {
			where = "bottom"
		}
		ok := true
		switch where {
		case "top":
			ok = first == 0
		case "", "bottom":
			ok = last == len(tb.Entries)-1
		case "before":
			ok = last+1 < len(tb.Entries) && tb.Entries[last+1].Key == id
		case "after":
			ok = first > 0 && tb.Entries[first-1].Key == id
		}
		if !ok {
			t.Errorf("%s: portwall's policies are not at %q: %v", path, place, ids(tb))
		}
	}
}

func ids(b *fortiparse.Block) []string {
	var out []string
	for _, e := range b.Entries {
		out = append(out, e.Key)
	}
	return out
}

// checkGrants reads what portwall has in a VDOM back strictly, for the
// profile's FortiOS version, and checks every grant against the IR.
func checkGrants(t testing.TB, rs *ir.Ruleset, fg fortigate.Settings, v *fortiparse.VDOM) int {
	t.Helper()
	snippet := v.Snippet(fortigate.Owned)
	c, err := fortiparse.Parse(snippet, fg.Version)
	if err != nil {
		t.Fatalf("what the pastes left does not read back strictly: %v\n%s", err, numbered(snippet))
	}
	grants, err := c.Grants()
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range grants {
		if err := rs.CheckGrant(g); err != nil {
			t.Errorf("wider than the IR: %v", err)
		}
	}
	return len(grants)
}

// hasCommands reports whether a delta holds anything but comments.
func hasCommands(script []byte) bool {
	for _, l := range strings.Split(string(script), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			return true
		}
	}
	return false
}

var modes = []fortiparse.ShowMode{fortiparse.ShowStored, fortiparse.ShowTerse, fortiparse.ShowFull}

// syncStep runs the backend against prev, shown in mode, pastes the
// delta, and checks the result against the desired state. It returns
// the FortiGate after the paste and the number of changes.
func syncStep(t testing.TB, prev *fortiparse.Model, rs *ir.Ruleset, fg fortigate.Settings, mode fortiparse.ShowMode) (*fortiparse.Model, int) {
	t.Helper()
	config := prev.Show(mode)
	plan, err := fortigate.Sync(rs, fg, config, "CONFIG")
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	next, err := fortiparse.ReadConfig(config, fortigate.Owner)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := fortiparse.ReadConfig(config, fortigate.Owner)
	if err := next.Apply(plan.Script); err != nil {
		t.Fatalf("the delta does not paste: %v\n%s", err, numbered(plan.Script))
	}
	want := desired(t, rs, fg, prev.VDOMs())
	got, wantV := vdomOf(t, next, fg.VDOM), vdomOf(t, want, fg.VDOM)
	if g, w := ownedState(got), ownedState(wantV); g != w {
		t.Fatalf("the delta does not give the desired state:\n%s\n---- delta:\n%s", lineDiff(w, g), plan.Script)
	}
	checkPlace(t, got, fg.Place)
	if before, after := foreign(vdomOf(t, before, fg.VDOM)), foreign(got); !bytes.Equal(before, after) {
		t.Fatalf("entries that are not portwall's changed:\n%s", lineDiff(string(before), string(after)))
	}
	// Every VDOM but the profile's is untouched.
	for _, name := range prev.VDOMs() {
		if name != fg.VDOM && prev.Multi {
			if a, b := vdomOf(t, before, name).ShowEntries(nil), vdomOf(t, next, name).ShowEntries(nil); !bytes.Equal(a, b) {
				t.Fatalf("VDOM %s changed", name)
			}
		}
	}
	again, err := fortigate.Sync(rs, fg, next.Show(modes[(int(mode)+1)%len(modes)]), "CONFIG")
	if err != nil {
		t.Fatal(err)
	}
	if again.Drift() || hasCommands(again.Script) {
		t.Fatalf("a second run changes something: %s\n%s", again.Summary(), again.Script)
	}
	checkGrants(t, rs, fg, got)
	return next, len(plan.Changes)
}

// lineDiff shows the lines only one side has.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for _, l := range w {
		if !slices.Contains(g, l) {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}

// TestSyncExamples: every example, for every FortiOS version, against
// an empty FortiGate and against hand-made running configurations with
// objects and policies that are not portwall's, without and with VDOMs;
// then every version switch between them.
func TestSyncExamples(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../../examples/*.toml")
	if err != nil || len(files) < 5 {
		t.Fatalf("examples: %v %v", files, err)
	}
	versions := []string{"6.0", "6.2", "6.4", "7.0", "7.2", "7.4", "7.6.1", "8.0"}
	if testing.Short() {
		versions = []string{"6.2", "7.6.1", "8.0"}
	}
	var steps, changes atomic.Int64
	t.Cleanup(func() {
		t.Logf("%d syncs of %d examples (%d changes) pasted and judged", steps.Load(), len(files), changes.Load())
	})
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			rs, fg := load(t, f, data)
			for i, v := range versions {
				fg.Version = v
				for _, base := range []struct {
					config, vdom, place string
				}{
					{"", "", "bottom"},
					{"single-7.4.conf", "", "top"},
					{"single-7.4.conf", "", "after 1"},
					{"multi-vdom-7.2.conf", "dmz", "before 2"},
				} {
					fg.VDOM, fg.Place = base.vdom, base.place
					var m *fortiparse.Model
					if base.config == "" {
						m = fortiparse.NewModel()
					} else if m, err = fortiparse.ReadConfig(running(t, base.config), fortigate.Owner); err != nil {
						t.Fatal(err)
					}
					mode := modes[(i+len(base.place))%len(modes)]
					next, n := syncStep(t, m, rs, fg, mode)
					steps.Add(1)
					changes.Add(int64(n))
					// From there, to the next version.
					fg.Version = versions[(i+1)%len(versions)]
					_, n = syncStep(t, next, rs, fg, mode)
					steps.Add(1)
					changes.Add(int64(n))
					fg.Version = v
				}
			}
		})
	}
}

// A random profile: networks (groups of a CIDR each), hosts inside them,
// a group mixing both, custom rules between them, the Internet and the
// FortiGate itself, and the interfaces behind which the networks sit,
// keyed by group, CIDR or host. Its mutations are what operators do:
// add, remove and change rules, rename groups, change addresses, switch
// the version, move the block, map a network elsewhere.
type rnet struct {
	name     string
	n        int  // 10.n.0.0/16, 2001:db8:n::/48
	v6       bool // has IPv6
	intf     string
	byCIDR   bool // mapped by its CIDR, not its name
	unmapped bool // behind the default route
}

type rhost struct {
	name string
	net  int // index into nets
	k    int // 10.n.k.id: changes when the host moves
	id   int // the last octet, unique: two hosts never share an address
	intf string
}

type rrule struct {
	from, to []string
	proto    string
	ports    []string
	icmp     []string
	service  string
	comment  string
}

type rprof struct {
	nets     []rnet
	hosts    []rhost
	mix      []string // group "mix" = these names
	rules    []rrule
	version  string
	vdom     string
	place    string
	intra    bool
	log      string
	localIn  bool
	renamed  int
	foreign  []string // foreign policy ids of the base, for place
	fqdnName string
}

var (
	rVersions = []string{"6.0", "6.2", "6.4", "7.0", "7.2", "7.4", "7.4.4", "7.6", "7.6.1", "8.0"}
	rIntfs    = []string{"internal", "dmz", "servers", "lab", "port5.100"}
	rPorts    = []string{"22", "25", "53", "80", "443", "\"8000-8010\"", "3389", "161", "993"}
	rComments = []string{"", "", "admin", "web", "monitoring", "backup jobs"}
)

func (p *rprof) names() []string {
	var out []string
	for _, n := range p.nets {
		out = append(out, n.name)
	}
	for _, h := range p.hosts {
		out = append(out, h.name)
	}
	return append(out, "mix", "internet", "partner")
}

func (p *rprof) randRule(r *rand.Rand) rrule {
	names := p.names()
	pick := func() []string {
		n := 1 + r.IntN(2)
		var out []string
		for range n {
			out = append(out, names[r.IntN(len(names))])
		}
		return out
	}
	ru := rrule{from: pick(), to: pick(), comment: rComments[r.IntN(len(rComments))]}
	if p.localIn && r.IntN(6) == 0 {
		ru.to = []string{"fw"}
	}
	switch r.IntN(7) {
	case 0:
		ru.proto = "icmp"
		if r.IntN(2) == 0 {
			ru.icmp = []string{"echo-request"}
		}
	case 1:
		ru.proto = "icmpv6"
	case 2:
		ru.service = []string{"ssh", "https", "dns"}[r.IntN(3)]
	default:
		ru.proto = []string{"tcp", "udp"}[r.IntN(2)]
		for range 1 + r.IntN(3) {
			ru.ports = append(ru.ports, rPorts[r.IntN(len(rPorts))])
		}
		slices.Sort(ru.ports)
		ru.ports = slices.Compact(ru.ports)
	}
	return ru
}

func newRProf(r *rand.Rand, foreign []string, vdom string) *rprof {
	p := &rprof{version: rVersions[r.IntN(len(rVersions))], vdom: vdom, place: "bottom", log: "all", localIn: r.IntN(2) == 0, foreign: foreign}
	for i := range 2 + r.IntN(4) {
		p.nets = append(p.nets, rnet{name: fmt.Sprintf("net%d", i+1), n: i + 1, v6: r.IntN(3) > 0, intf: rIntfs[r.IntN(len(rIntfs))],
			byCIDR: r.IntN(2) == 0, unmapped: r.IntN(6) == 0})
	}
	for i := range 1 + r.IntN(4) {
		h := rhost{name: fmt.Sprintf("h%d", i+1), net: r.IntN(len(p.nets)), k: 10 + i, id: i + 1}
		if r.IntN(3) == 0 {
			h.intf = rIntfs[r.IntN(len(rIntfs))] // sits behind another interface than its network
		}
		p.hosts = append(p.hosts, h)
	}
	p.mix = []string{p.nets[0].name, p.hosts[0].name}
	for range 3 + r.IntN(6) {
		p.rules = append(p.rules, p.randRule(r))
	}
	return p
}

func (p *rprof) toml() []byte {
	var b strings.Builder
	b.WriteString("name = \"random\"\n\n[groups]\n")
	for _, n := range p.nets {
		if n.v6 {
			fmt.Fprintf(&b, "%s = [\"10.%d.0.0/16\", \"2001:db8:%d::/48\"]\n", n.name, n.n, n.n)
		} else {
			fmt.Fprintf(&b, "%s = [\"10.%d.0.0/16\"]\n", n.name, n.n)
		}
	}
	fmt.Fprintf(&b, "mix = [%s]\n", quoteAll(p.mix))
	b.WriteString("internet = [\"any\"]\npartner = [\"mx.partner.example\", \"198.51.100.0/25\"]\nfw = [\"10.255.0.1\", \"2001:db8:ff::1\"]\n")
	for _, h := range p.hosts {
		n := p.nets[h.net]
		fmt.Fprintf(&b, "\n[hosts.%s]\naddresses = [\"10.%d.%d.%d\"", h.name, n.n, h.k, h.id)
		if n.v6 {
			fmt.Fprintf(&b, ", \"2001:db8:%d::%d:%d\"", n.n, h.k, h.id)
		}
		b.WriteString("]\n")
	}
	for _, ru := range p.rules {
		fmt.Fprintf(&b, "\n[[allow]]\nfrom = [%s]\nto = [%s]\n", quoteAll(ru.from), quoteAll(ru.to))
		switch {
		case ru.service != "":
			fmt.Fprintf(&b, "service = %q\n", ru.service)
		default:
			fmt.Fprintf(&b, "protocol = %q\n", ru.proto)
			if len(ru.ports) > 0 {
				fmt.Fprintf(&b, "ports = [%s]\n", strings.Join(ru.ports, ", "))
			}
			if len(ru.icmp) > 0 {
				fmt.Fprintf(&b, "icmp_types = [%s]\n", quoteAll(ru.icmp))
			}
		}
		if ru.comment != "" {
			fmt.Fprintf(&b, "comment = %q\n", ru.comment)
		}
	}
	fmt.Fprintf(&b, "\n[fortigate]\nversion = %q\nplace = %q\nlogtraffic = %q\nintra_interface = %v\n", p.version, p.place, p.log, p.intra)
	if p.vdom != "" {
		fmt.Fprintf(&b, "vdom = %q\n", p.vdom)
	}
	if p.localIn {
		b.WriteString("self = \"fw\"\nlocal_in = true\n")
	}
	b.WriteString("\n[fortigate.interfaces]\nany = \"wan1\"\n")
	for _, n := range p.nets {
		switch {
		case n.unmapped:
		case n.byCIDR:
			fmt.Fprintf(&b, "\"10.%d.0.0/16\" = %q\n", n.n, n.intf)
			if n.v6 {
				fmt.Fprintf(&b, "\"2001:db8:%d::/48\" = %q\n", n.n, n.intf)
			}
		default:
			fmt.Fprintf(&b, "%s = %q\n", n.name, n.intf)
		}
	}
	for _, h := range p.hosts {
		if h.intf != "" {
			fmt.Fprintf(&b, "%s = %q\n", h.name, h.intf)
		}
	}
	if p.fqdnName != "" {
		fmt.Fprintf(&b, "%q = \"vpn-partner\"\n", p.fqdnName)
	}
	return []byte(b.String())
}

func quoteAll(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = strconv.Quote(x)
	}
	return strings.Join(q, ", ")
}

// mutate makes one change and says what it was.
func (p *rprof) mutate(r *rand.Rand) string {
	switch r.IntN(10) {
	case 0:
		p.rules = append(p.rules, p.randRule(r))
		return "add a rule"
	case 1:
		if len(p.rules) > 1 {
			i := r.IntN(len(p.rules))
			p.rules = slices.Delete(p.rules, i, i+1)
			return "remove a rule"
		}
	case 2:
		i := r.IntN(len(p.rules))
		nr := p.randRule(r)
		switch r.IntN(3) {
		case 0:
			p.rules[i].from = nr.from
		case 1:
			p.rules[i].to = nr.to
		default:
			nr.from, nr.to, nr.comment = p.rules[i].from, p.rules[i].to, p.rules[i].comment
			p.rules[i] = nr
		}
		return "change a rule"
	case 3:
		i := r.IntN(len(p.nets))
		old := p.nets[i].name
		p.renamed++
		nw := fmt.Sprintf("%s-r%d", strings.Split(old, "-")[0], p.renamed)
		p.nets[i].name = nw
		rename := func(xs []string) {
			for j := range xs {
				if xs[j] == old {
					xs[j] = nw
				}
			}
		}
		rename(p.mix)
		for j := range p.rules {
			rename(p.rules[j].from)
			rename(p.rules[j].to)
		}
		return "rename group " + old + " to " + nw
	case 4:
		if r.IntN(2) == 0 {
			i := r.IntN(len(p.hosts))
			p.hosts[i].k += 1 + r.IntN(50)
			p.hosts[i].net = r.IntN(len(p.nets))
			return "change a host's address"
		}
		i := r.IntN(len(p.nets))
		p.nets[i].n += 20
		p.nets[i].v6 = !p.nets[i].v6
		return "change a network's addresses"
	case 5:
		p.version = rVersions[r.IntN(len(rVersions))]
		return "switch to " + p.version
	case 6:
		switch k := r.IntN(4); {
		case k < 2 || len(p.foreign) == 0:
			p.place = []string{"top", "bottom"}[k%2]
		default:
			p.place = []string{"before ", "after "}[k-2] + p.foreign[r.IntN(len(p.foreign))]
		}
		return "place " + p.place
	case 7:
		i := r.IntN(len(p.nets))
		p.nets[i].intf = rIntfs[r.IntN(len(rIntfs))]
		p.nets[i].byCIDR = !p.nets[i].byCIDR
		p.nets[i].unmapped = r.IntN(5) == 0
		return "map a network elsewhere"
	case 8:
		p.intra = !p.intra
		if p.fqdnName == "" {
			p.fqdnName = "mx.partner.example"
		} else {
			p.fqdnName = ""
		}
		return "toggle intra_interface and the partner's host name key"
	case 9:
		p.log = []string{"all", "utm", "disable"}[r.IntN(3)]
		p.localIn = !p.localIn
		if !p.localIn {
			for j := range p.rules {
				if slices.Contains(p.rules[j].to, "fw") {
					p.rules[j].to = []string{"internet"}
				}
			}
		}
		return "change logtraffic, toggle local-in"
	}
	return "nothing"
}

// TestSyncRandom runs random profiles through a series of changes, each
// synchronised against the FortiGate the previous paste left, starting
// from running configurations with foreign objects and policies, with and
// without VDOMs, shown as show, show full-configuration or stored.
func TestSyncRandom(t *testing.T) {
	t.Parallel()
	seeds, steps := 40, 8
	if testing.Short() {
		seeds = 6
	}
	bases := []struct {
		config, vdom string
		foreign      []string
	}{
		{"single-7.4.conf", "", []string{"3", "1", "9"}},
		{"multi-vdom-7.2.conf", "dmz", []string{"4", "2"}},
		{"multi-vdom-7.2.conf", "root", []string{"1"}},
	}
	total, changes := 0, 0
	kinds := map[string]int{}
	for seed := range seeds {
		base := bases[seed%len(bases)]
		r := rand.New(rand.NewPCG(uint64(seed), 17))
		p := newRProf(r, base.foreign, base.vdom)
		m, err := fortiparse.ReadConfig(running(t, base.config), fortigate.Owner)
		if err != nil {
			t.Fatal(err)
		}
		var history []string
		for step := range steps {
			what := "first paste"
			if step > 0 {
				what = p.mutate(r)
				kind := what
				for _, k := range []string{"rename group", "switch to", "place"} {
					if strings.HasPrefix(what, k) {
						kind = k
					}
				}
				kinds[kind]++
			}
			history = append(history, what)
			data := p.toml()
			rs, fg := load(t, fmt.Sprintf("seed%d-step%d.toml", seed, step), data)
			ok := t.Run(fmt.Sprintf("seed%d/step%d", seed, step), func(t *testing.T) {
				var n int
				m, n = syncStep(t, m, rs, fg, modes[(seed+step)%len(modes)])
				changes += n
			})
			if !ok {
				t.Fatalf("seed %d after %s:\n%s", seed, strings.Join(history, ", "), data)
			}
			total++
		}
	}
	t.Logf("%d random profiles, %d synchronisations (%d changes pasted; mutations: %v)", seeds, total, changes, kinds)
}

// TestSyncRefusals: what a delta cannot do is an error, not a paste that
// fails halfway.
func TestSyncRefusals(t *testing.T) {
	t.Parallel()
	profile := []byte(`
[groups]
office = ["10.1.0.0/16"]
[hosts.web1]
addresses = ["10.2.0.80"]
[[allow]]
from = "office"
to = "web1"
protocol = "tcp"
ports = [443]
comment = "web"
[fortigate]
[fortigate.interfaces]
office = "internal"
web1 = "dmz"
`)
	rs, fg := load(t, "p.toml", profile)
	m := desired(t, rs, fg, nil)
	good := string(m.Show(fortiparse.ShowStored))
	tests := []struct {
		name   string
		change func(string) string
		place  string
		want   string
	}{
		{"an address edited by hand to another type", func(s string) string {
			return strings.Replace(s, "    edit \"pw-n4-10.2.0.80-32\"\n        set type ipmask\n        set subnet 10.2.0.80 255.255.255.255\n",
				"    edit \"pw-n4-10.2.0.80-32\"\n        set type iprange\n        set start-ip 10.2.0.80\n        set end-ip 10.2.0.81\n", 1)
		}, "", "fortigate: pw-n4-10.2.0.80-32 in CONFIG (config firewall address) is of another type than portwall makes it: it was edited by hand; delete it on the FortiGate and run again"},
		{"a group where the profile wants an address", func(s string) string {
			s = strings.Replace(s, "    edit \"pw-n4-10.2.0.80-32\"\n        set type ipmask\n        set subnet 10.2.0.80 255.255.255.255\n    next\n", "", 1)
			s = strings.Replace(s, "    edit \"pw-g-web1\"\n", "    edit \"pw-n4-10.2.0.80-32\"\n        set member \"pw-n4-10.1.0.0-16\"\n    next\n    edit \"pw-g-web1\"\n", 1)
			return strings.Replace(s, "set member \"pw-n4-10.2.0.80-32\"", "set member \"pw-n4-10.1.0.0-16\"", 1)
		}, "", "fortigate: CONFIG has pw-n4-10.2.0.80-32 in config firewall addrgrp, where the profile wants it in config firewall address: delete it on the FortiGate first"},
		{"a foreign group holding an object to delete", func(s string) string {
			s = strings.Replace(s, "config firewall address\n", "config firewall address\n    edit \"pw-n4-10.9.0.0-16\"\n        set subnet 10.9.0.0 255.255.0.0\n    next\n", 1)
			return strings.Replace(s, "config firewall addrgrp\n", "config firewall addrgrp\n    edit \"theirs\"\n        set member \"pw-n4-10.9.0.0-16\"\n    next\n", 1)
		}, "", "fortigate: pw-n4-10.9.0.0-16 (config firewall address) is portwall's and the profile no longer has it, but firewall addrgrp theirs, which is not portwall's, still uses it: change it on the FortiGate first"},
		{"place after a portwall policy", func(s string) string { return s }, "after 1",
			`fortigate: place = "after 1": CONFIG has no policy 1 that is not portwall's`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			config := tt.change(good)
			if config == good && tt.place == "" {
				t.Fatal("the change changed nothing")
			}
			f := fg
			f.Place = tt.place
			_, err := fortigate.Sync(rs, f, []byte(config), "CONFIG")
			if err == nil || err.Error() != tt.want {
				t.Errorf("got  %v\nwant %s", err, tt.want)
			}
		})
	}
}
