// Command mkprofile writes a synthetic, valid portwall profile to standard
// output, for benchmarks: the same flags always print the same bytes.
//
//	go run ./cmd/mkprofile [-shape groups|simple] -rules N -hosts H -groups G [-products] [-seed S] [-ferm FILE [-ferm-host NAME]]
//
// Two shapes of policy. -shape simple (the policy Capirca's and Aerleon's
// benchmarks time) gives every rule one IPv4 /24 and one TCP port: N
// groups net-NNNNN of one /24 each (no two adjacent), and rule i from
// group i to a host, TCP, on one port, with a comment. -groups and
// -products do not go with it; nothing merges, and a ferm file (-ferm)
// writes each rule as one ferm rule with its /24 inline, IPv4 only. -shape groups, the
// default, is the policy described next: rules over multi-address groups,
// which is where portwall's address sets pay off and ferm expands every
// source network into its own rule.
//
// The groups profile holds:
//
//   - G address groups net-NN, each with one to three IPv4 /24 networks,
//     usually one or two IPv6 /64 networks (a fifth of the groups are
//     IPv4 only), and sometimes a single address or a range. No two
//     networks overlap or touch (every /24 and /64 is followed by an unused
//     one): backends merge a set's adjacent networks into one range, and
//     each network should stay one match, as in a hand-written
//     configuration.
//   - H hosts host-NN with one IPv4 and one IPv6 address each, 32 to a
//     server subnet (10.224.0.0/11, fd10::/32). Every fourth group also
//     holds one of those subnets, so hosts sit inside some groups.
//   - Racks rack-NN, groups that list up to four hosts by name: a rule to a
//     rack applies to each of its hosts.
//   - N [[allow]] rules, each from "any" (5%), one group (55%), two (28%)
//     or three (12%), to one host (80%) or one rack (20%), TCP (70%) or
//     UDP, on one to four ports or one range, with a comment. portwall
//     merges rules with the same from, to and protocol; rules are drawn so
//     that this key differs from every earlier rule's while the key space
//     allows (with enough groups, always: -groups 50 gives about 80,000
//     keys per host), so that merging does not shrink the ruleset. Every
//     rule differs from every other in its key or its ports.
//   - With -products, cells of five hosts each run all four catalog
//     products: a FortiMail HA pair (gateway mode, protecting the cell's
//     Xeams), FME Server with every role on one host, FortiClient EMS and
//     Xeams. Peers are bound to the groups; FortiGuard peers (known by host
//     name in the catalog) are bound to "any", so that every backend can
//     render every host without resolving names. A last, partial cell runs
//     what fits.
//
// Randomness comes from a SplitMix64 generator written here, not from
// math/rand: its sequence is fixed by this file, so the output cannot
// change with the Go release.
//
// # The ferm comparison
//
// portwall renders one ruleset per host; ferm describes one machine. With
// -ferm FILE, mkprofile also writes the inbound policy of ONE host (the
// -ferm-host, by default the first host) as a ferm configuration: exactly
// the [[allow]] rules that apply to that host (to the host, or to a rack
// listing it), in profile order, each as one ferm rule over the same
// source networks, protocol and ports, with ranges as iprange rules, on
// top of the same base (policy DROP, conntrack ESTABLISHED,RELATED,
// loopback). With -hosts 1 every rule applies to the one host, so the ferm
// file holds all N rules. As long as no two rules merge (enough groups:
// the benchmarks use -groups 50), ferm's iptables and ip6tables rules are
// the same rules as portwall's iptables and ip6tables targets for that
// host, one line per source network or range and port group (a test and
// compare-ferm.sh check it); the nftables target carries the same policy
// with address sets instead. Only the fixed base rules differ (portwall
// also accepts ICMP errors and neighbour discovery, logs and drops
// invalid packets), and portwall's comments start with a rule ID. -ferm
// refuses -products: catalog flows have no ferm equivalent here, and a
// comparison must cover the same rules.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// config holds the flags.
type config struct {
	shape                string
	rules, hosts, groups int
	products             bool
	seed                 uint64
	ferm, fermHost       string
	// groupsSet: -groups was given (the simple shape refuses it).
	groupsSet bool
}

// Limits of the address plan (see allocation below).
const (
	maxGroups = 4000   // at most 5 IPv4 items each in 24,576 /24s
	maxHosts  = 100000 // 32 per subnet, 4,096 subnets
	maxRules  = 1000000
	// The simple shape's /24s are every other one of 10.0.0.0/9 and
	// 10.128.0.0/10, like the groups' networks.
	maxSimpleRules = 24576
)

// The shapes of -shape.
const (
	shapeGroups = "groups"
	shapeSimple = "simple"
)

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mkprofile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.StringVar(&c.shape, "shape", shapeGroups, "the policy's shape: `groups` (rules over multi-address groups) or simple (one /24 and one TCP port per rule)")
	fs.IntVar(&c.rules, "rules", 100, "number of [[allow]] rules")
	fs.IntVar(&c.hosts, "hosts", 4, "number of hosts")
	fs.IntVar(&c.groups, "groups", 8, "number of address groups")
	fs.BoolVar(&c.products, "products", false, "also deploy all four catalog products on the hosts, in cells of five hosts")
	fs.Uint64Var(&c.seed, "seed", 1, "random seed: the same flags and seed print the same bytes")
	fs.StringVar(&c.ferm, "ferm", "", "also write one host's inbound policy as a ferm configuration to `FILE`")
	fs.StringVar(&c.fermHost, "ferm-host", "", "with -ferm: the host whose rules the ferm file holds (default the first host)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: mkprofile [-shape groups|simple] [-rules N] [-hosts H] [-groups G] [-products] [-seed S] [-ferm FILE [-ferm-host NAME]] > profile.toml\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mkprofile: unexpected arguments %q\n", fs.Args())
		return 2
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "groups" {
			c.groupsSet = true
		}
	})
	m, err := build(c)
	if err != nil {
		fmt.Fprintf(stderr, "mkprofile: %v\n", err)
		return 2
	}
	if c.ferm != "" {
		if err := writeFile(c.ferm, func(w io.Writer) error { return m.writeFerm(w, c.fermHost) }); err != nil {
			fmt.Fprintf(stderr, "mkprofile: %v\n", err)
			return 1
		}
	}
	bw := bufio.NewWriter(stdout)
	m.writeProfile(bw)
	if err := bw.Flush(); err != nil {
		fmt.Fprintf(stderr, "mkprofile: %v\n", err)
		return 1
	}
	return 0
}

func writeFile(name string, write func(io.Writer) error) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	if err := write(bw); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// rng is SplitMix64 (Steele, Lea, Flood 2014): tiny, and its sequence is
// defined here, so the profiles do not change with the Go release.
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a number in [0, n). The modulo bias (below 2^-40 for the
// sizes used here) does not matter for benchmark data.
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// group is an address group of the profile.
type group struct {
	name string
	// addrs are its networks and single addresses, IPv4 first, as written
	// in the profile; ranges4 and ranges6 its ranges ("first-last").
	addrs            []string
	ranges4, ranges6 []string
}

type host struct {
	name   string
	v4, v6 netip.Addr
}

// rack is a group that lists hosts by name.
type rack struct {
	name  string
	hosts []int
}

// allow is one [[allow]] rule.
type allow struct {
	from    []int // group indexes, sorted; nil means "any"
	toHost  int   // host index, or -1
	toRack  int   // rack index, or -1
	proto   string
	ports   []int // single ports, sorted; or
	first   int   // a range first-last when ports is nil
	last    int
	comment string
}

// deployment is one product installed on some hosts.
type deployment struct {
	name, product, mode string
	features            []string
	roles, peers        [][2]string // key, value list (TOML inline array text)
	choose, options     [][2]string
}

type model struct {
	c           config
	groups      []group
	hosts       []host
	racks       []rack
	allows      []allow
	deployments []deployment
}

// Names are zero-padded so that name order is number order.
func names(prefix string, n int) []string {
	w := max(2, len(strconv.Itoa(n)))
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%0*d", prefix, w, i+1)
	}
	return out
}

// Address plan. IPv4 items of the groups take every other /24 of
// 10.0.0.0-10.191.255.255 and IPv6 items every other /64 of fd00:0::/32,
// so that no two items of any groups are adjacent. Hosts live in every
// other /24 of 10.224.0.0/11 and /64 of fd10::/32, 32 to a subnet.
func v4Item(k int) netip.Addr {
	n := 2 * k
	return netip.AddrFrom4([4]byte{10, byte(n >> 8), byte(n), 0})
}

func v6Item(k int) netip.Addr {
	n := 2 * k
	return netip.AddrFrom16([16]byte{0xfd, 0, 0, 0, byte(n >> 8), byte(n)})
}

func subnet4(s int) netip.Addr {
	n := 2 * s
	return netip.AddrFrom4([4]byte{10, byte(224 + n>>8), byte(n), 0})
}

func subnet6(s int) netip.Addr {
	n := 2 * s
	return netip.AddrFrom16([16]byte{0xfd, 0x10, 0, 0, byte(n >> 8), byte(n)})
}

const hostsPerSubnet = 32

// withLow returns a with its last byte set to b.
func withLow(a netip.Addr, b byte) netip.Addr {
	if a.Is4() {
		x := a.As4()
		x[3] = b
		return netip.AddrFrom4(x)
	}
	x := a.As16()
	x[15] = b
	return netip.AddrFrom16(x)
}

func build(c config) (*model, error) {
	switch {
	case c.shape != shapeGroups && c.shape != shapeSimple:
		return nil, fmt.Errorf("-shape %q: want %s or %s", c.shape, shapeGroups, shapeSimple)
	case c.shape == shapeSimple && c.groupsSet:
		return nil, errors.New("-groups with -shape simple: every rule has a group of its own (one /24)")
	case c.shape == shapeSimple && c.products:
		return nil, errors.New("-products with -shape simple: the simple policy is [[allow]] rules only")
	case c.shape == shapeSimple && c.rules > maxSimpleRules:
		return nil, fmt.Errorf("-rules %d with -shape simple: want 0 to %d (one /24 each)", c.rules, maxSimpleRules)
	case c.rules < 0 || c.rules > maxRules:
		return nil, fmt.Errorf("-rules %d: want 0 to %d", c.rules, maxRules)
	case c.hosts < 1 || c.hosts > maxHosts:
		return nil, fmt.Errorf("-hosts %d: want 1 to %d", c.hosts, maxHosts)
	case c.groups < 1 || c.groups > maxGroups:
		return nil, fmt.Errorf("-groups %d: want 1 to %d", c.groups, maxGroups)
	case c.ferm == "" && c.fermHost != "":
		return nil, errors.New("-ferm-host goes with -ferm")
	case c.ferm != "" && c.products:
		return nil, errors.New("-ferm with -products: the ferm file holds the [[allow]] rules only, so it would not be the same policy as portwall's; leave out -products")
	}
	m := &model{c: c}
	r := &rng{s: c.seed}

	for i, name := range names("host", c.hosts) {
		s, n := i/hostsPerSubnet, byte(10+i%hostsPerSubnet)
		m.hosts = append(m.hosts, host{name: name, v4: withLow(subnet4(s), n), v6: withLow(subnet6(s), n)})
	}
	if c.fermHost != "" && !slices.ContainsFunc(m.hosts, func(h host) bool { return h.name == c.fermHost }) {
		return nil, fmt.Errorf("-ferm-host %q: no such host (hosts are %s to %s)", c.fermHost, m.hosts[0].name, m.hosts[len(m.hosts)-1].name)
	}
	if c.shape == shapeSimple {
		m.buildSimple(r)
		return m, nil
	}
	subnets := (c.hosts + hostsPerSubnet - 1) / hostsPerSubnet
	for i, name := range names("rack", (c.hosts+3)/4) {
		rk := rack{name: name}
		for h := 4 * i; h < min(4*i+4, c.hosts); h++ {
			rk.hosts = append(rk.hosts, h)
		}
		m.racks = append(m.racks, rk)
	}

	k4, k6 := 0, 0
	for i, name := range names("net", c.groups) {
		g := group{name: name}
		var v4, v6 []string
		for range 1 + r.intn(3) {
			v4 = append(v4, netip.PrefixFrom(v4Item(k4), 24).String())
			k4++
		}
		if r.intn(3) == 0 {
			v4 = append(v4, withLow(v4Item(k4), 1).String())
			k4++
		}
		if r.intn(5) == 0 {
			a := v4Item(k4)
			g.ranges4 = append(g.ranges4, withLow(a, 10).String()+"-"+withLow(a, 40).String())
			k4++
		}
		if r.intn(5) != 0 { // a fifth of the groups are IPv4 only
			for range 1 + r.intn(2) {
				v6 = append(v6, netip.PrefixFrom(v6Item(k6), 64).String())
				k6++
			}
			if r.intn(4) == 0 {
				v6 = append(v6, withLow(v6Item(k6), 1).String())
				k6++
			}
			if r.intn(8) == 0 {
				a := v6Item(k6)
				g.ranges6 = append(g.ranges6, withLow(a, 0x10).String()+"-"+withLow(a, 0x40).String())
				k6++
			}
		}
		// Every fourth group also holds a server subnet: its hosts are
		// inside the group's networks.
		if i%4 == 0 && i/4 < subnets {
			v4 = append(v4, netip.PrefixFrom(subnet4(i/4), 24).String())
			v6 = append(v6, netip.PrefixFrom(subnet6(i/4), 64).String())
		}
		g.addrs = append(v4, v6...)
		m.groups = append(m.groups, g)
	}

	if err := m.buildAllows(r); err != nil {
		return nil, err
	}
	if c.products {
		m.buildDeployments()
	}
	return m, nil
}

// buildSimple draws the simple shape: rule i from group i, which holds
// the i-th /24, to one of the hosts, TCP, on one port. No two rules share
// a source, so none merge.
func (m *model) buildSimple(r *rng) {
	for i, name := range names("net", m.c.rules) {
		m.groups = append(m.groups, group{name: name, addrs: []string{netip.PrefixFrom(v4Item(i), 24).String()}})
		a := allow{from: []int{i}, toHost: r.intn(len(m.hosts)), toRack: -1, proto: "tcp"}
		p := commonPorts[r.intn(len(commonPorts))]
		if r.intn(2) == 0 {
			p = 1024 + r.intn(48128)
		}
		a.ports = []int{p}
		a.comment = fmt.Sprintf("rule %d: %s tcp from %s", i+1, apps[r.intn(len(apps))], name)
		m.allows = append(m.allows, a)
	}
}

// Ports rules pick from: common services, or anything registered.
var commonPorts = []int{22, 53, 80, 123, 161, 389, 443, 445, 514, 636, 1433, 3306, 3389,
	5432, 5666, 6379, 8080, 8443, 9090, 9100, 9200}

var apps = []string{"billing", "backup", "metrics", "intranet", "ldap", "reports", "erp",
	"monitoring", "sync", "api", "storage", "voip", "build", "search", "cache", "queue"}

// buildAllows draws the rules. A key (from, to, protocol) is drawn again
// while it repeats an earlier rule's, up to keyTries times: after that the
// key space is nearly exhausted (few groups and hosts, many rules) and the
// rule may share its key, to be merged with the earlier one. Its ports are
// drawn again until the whole rule is new.
func (m *model) buildAllows(r *rng) error {
	const keyTries, portTries = 64, 1000
	keys, rulesSeen := map[string]bool{}, map[string]bool{}
	for i := range m.c.rules {
		var a allow
		var key string
		for try := 0; ; try++ {
			a = m.drawKey(r)
			key = a.key()
			if !keys[key] || try == keyTries {
				break
			}
		}
		keys[key] = true
		for try := 0; ; try++ {
			if try == portTries {
				return fmt.Errorf("rule %d: no new ports for key %s after %d tries", i, key, portTries)
			}
			drawPorts(r, &a)
			if full := key + "|" + a.portList(","); !rulesSeen[full] {
				rulesSeen[full] = true
				break
			}
		}
		a.comment = fmt.Sprintf("rule %d: %s %s from %s", i+1, apps[r.intn(len(apps))], a.proto, m.fromText(a, "+"))
		m.allows = append(m.allows, a)
	}
	return nil
}

func (m *model) drawKey(r *rng) allow {
	a := allow{toHost: -1, toRack: -1}
	n := 0
	switch x := r.intn(100); {
	case x < 5:
		n = 0
	case x < 60:
		n = 1
	case x < 88:
		n = 2
	default:
		n = 3
	}
	n = min(n, len(m.groups))
	for len(a.from) < n {
		if g := r.intn(len(m.groups)); !slices.Contains(a.from, g) {
			a.from = append(a.from, g)
		}
	}
	slices.Sort(a.from)
	if r.intn(5) == 0 {
		a.toRack = r.intn(len(m.racks))
	} else {
		a.toHost = r.intn(len(m.hosts))
	}
	a.proto = "tcp"
	if r.intn(10) < 3 {
		a.proto = "udp"
	}
	return a
}

func drawPorts(r *rng, a *allow) {
	a.ports, a.first, a.last = nil, 0, 0
	if r.intn(100) < 15 {
		a.first = 1024 + r.intn(60000)
		a.last = a.first + 1 + r.intn(64)
		return
	}
	for n := 1 + r.intn(4); len(a.ports) < n; {
		p := commonPorts[r.intn(len(commonPorts))]
		if r.intn(2) == 0 {
			p = 1024 + r.intn(48128)
		}
		if !slices.Contains(a.ports, p) {
			a.ports = append(a.ports, p)
		}
	}
	slices.Sort(a.ports)
}

// key is what portwall merges on.
func (a allow) key() string {
	return fmt.Sprint(a.from, a.toHost, a.toRack, a.proto)
}

// portList writes the ports with sep, a range as first-last.
func (a allow) portList(sep string) string {
	if a.ports == nil {
		return fmt.Sprintf("%d-%d", a.first, a.last)
	}
	s := make([]string, len(a.ports))
	for i, p := range a.ports {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, sep)
}

func (m *model) fromText(a allow, sep string) string {
	if a.from == nil {
		return "any"
	}
	s := make([]string, len(a.from))
	for i, g := range a.from {
		s[i] = m.groups[g].name
	}
	return strings.Join(s, sep)
}

func (m *model) toName(a allow) string {
	if a.toRack >= 0 {
		return m.racks[a.toRack].name
	}
	return m.hosts[a.toHost].name
}

// appliesTo reports whether the rule opens something on host h.
func (m *model) appliesTo(a allow, h int) bool {
	if a.toRack >= 0 {
		return slices.Contains(m.racks[a.toRack].hosts, h)
	}
	return a.toHost == h
}

// buildDeployments puts all four products on every cell of five hosts:
// FortiMail HA pair (hosts 0 and 1), FME Server (2), FortiClient EMS (3),
// Xeams (4). A partial last cell gets the products that fit, a lone
// FortiMail unit without HA.
func (m *model) buildDeployments() {
	const cell = 5
	list := func(xs ...string) string {
		q := make([]string, len(xs))
		for i, x := range xs {
			q[i] = strconv.Quote(x)
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	// Each cell binds its peers to groups of its own, spread over the
	// groups so that cells differ.
	net := func(c, j int) string { return m.groups[(c*7+j)%len(m.groups)].name }
	for c := 0; c*cell < len(m.hosts); c++ {
		base := c * cell
		have := min(cell, len(m.hosts)-base)
		h := func(j int) string { return m.hosts[base+j].name }
		id := fmt.Sprintf("%0*d", max(2, len(strconv.Itoa((len(m.hosts)+cell-1)/cell))), c+1)
		admins, users, infra, monitoring := net(c, 0), net(c, 1), net(c, 2), net(c, 3)

		fml := deployment{name: "mail-" + id, product: "fortimail", mode: "gateway",
			features: []string{"admin-gui", "admin-ssh", "ping", "smtp", "fortiguard-updates", "fortiguard-antispam", "dns", "ntp"}}
		units := []string{h(0)}
		if have >= 2 {
			units = append(units, h(1))
			fml.features = append(fml.features, "ha")
		}
		protected := "any" // with no Xeams in the cell, the protected servers are elsewhere
		if have >= 5 {
			protected = h(4)
		}
		fml.roles = [][2]string{{"unit", list(units...)}}
		fml.peers = [][2]string{
			{"administrators", list(admins)},
			{"monitoring", list(monitoring)},
			{"email-servers", list("any")},
			{"protected-email-servers", list(protected)},
			{"fortiguard", list("any")},
			{"dns-servers", list(infra)},
			{"ntp-servers", list(infra)},
		}
		fml.choose = [][2]string{{"fortiguard-update", "[443]"}}
		m.deployments = append(m.deployments, fml)
		if have < 3 {
			break
		}
		m.deployments = append(m.deployments, deployment{name: "fme-" + id, product: "fme-server",
			roles: [][2]string{{"web", list(h(2))}, {"core", list(h(2))}, {"engine", list(h(2))}, {"database", list(h(2))}},
			peers: [][2]string{{"users", list(users)}},
			// FME's random ports need a pool (or every port, accepted).
			options: [][2]string{{"port-pool", strconv.Quote("7100-7150")}},
		})
		if have < 4 {
			break
		}
		m.deployments = append(m.deployments, deployment{name: "ems-" + id, product: "forticlient-ems",
			roles: [][2]string{{"ems-server", list(h(3))}},
			peers: [][2]string{
				{"endpoints", list(users)},
				{"administrators", list(admins)},
				{"fortiguard-anycast", list("any")},
			},
		})
		if have < 5 {
			break
		}
		m.deployments = append(m.deployments, deployment{name: "xeams-" + id, product: "xeams",
			roles: [][2]string{{"server", list(h(4))}},
			peers: [][2]string{
				{"email-servers", list(h(0), h(1))}, // mail comes through the cell's FortiMail pair
				{"email-users", list(users)},
				{"whois-servers", list("any")},
				{"dns-servers", list(infra)},
				{"xeams-update", list("any")},
				{"administrators", list(admins)},
			},
		})
	}
}

func (m *model) profileName() string {
	if m.c.shape == shapeSimple {
		return fmt.Sprintf("synthetic-simple-r%d-h%d-s%d", m.c.rules, m.c.hosts, m.c.seed)
	}
	s := fmt.Sprintf("synthetic-r%d-h%d-g%d", m.c.rules, m.c.hosts, m.c.groups)
	if m.c.products {
		s += "-products"
	}
	return fmt.Sprintf("%s-s%d", s, m.c.seed)
}

func (m *model) flags() string {
	if m.c.shape == shapeSimple {
		return fmt.Sprintf("-shape simple -rules %d -hosts %d -seed %d", m.c.rules, m.c.hosts, m.c.seed)
	}
	s := fmt.Sprintf("-rules %d -hosts %d -groups %d", m.c.rules, m.c.hosts, m.c.groups)
	if m.c.products {
		s += " -products"
	}
	return fmt.Sprintf("%s -seed %d", s, m.c.seed)
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = strconv.Quote(x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// writeProfile writes the profile. Every string is ASCII without quotes
// or backslashes, so Go's quoting is TOML's.
func (m *model) writeProfile(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("# Synthetic profile for benchmarks, written by mkprofile:\n")
	p("#   go run ./cmd/mkprofile %s\n", m.flags())
	p("# The same flags always give the same bytes. Do not edit: generate again.\n\n")
	p("name = %q\n", m.profileName())
	p("description = %q\n\n", fmt.Sprintf("%d rules, %d hosts, %d groups", len(m.allows), len(m.hosts), len(m.groups)))
	p("[groups]\n")
	for _, g := range m.groups {
		p("%s = %s\n", g.name, quoteList(slices.Concat(g.addrs, g.ranges4, g.ranges6)))
	}
	for _, rk := range m.racks {
		hs := make([]string, len(rk.hosts))
		for i, h := range rk.hosts {
			hs[i] = m.hosts[h].name
		}
		p("%s = %s\n", rk.name, quoteList(hs))
	}
	for _, h := range m.hosts {
		p("\n[hosts.%s]\naddresses = [%q, %q]\n", h.name, h.v4.String(), h.v6.String())
	}
	for _, d := range m.deployments {
		p("\n[[deployment]]\nname = %q\nproduct = %q\n", d.name, d.product)
		if d.mode != "" {
			p("mode = %q\n", d.mode)
		}
		if d.features != nil {
			p("features = %s\n", quoteList(d.features))
		}
		for _, sec := range []struct {
			name string
			kv   [][2]string
		}{{"roles", d.roles}, {"peers", d.peers}, {"choose", d.choose}, {"options", d.options}} {
			if len(sec.kv) == 0 {
				continue
			}
			p("\n[deployment.%s]\n", sec.name)
			for _, kv := range sec.kv {
				p("%s = %s\n", kv[0], kv[1])
			}
		}
	}
	// The FortiGate between the networks: hosts and racks behind "dmz",
	// the groups behind "internal", everything else (the Internet, and
	// FortiGuard bound to "any") behind "wan1". The simple shape is the
	// rules alone, as the other tools' benchmarks time them.
	if m.c.shape != shapeSimple {
		m.writeFortigate(p)
	}
	for _, a := range m.allows {
		p("\n[[allow]]\n")
		switch {
		case a.from == nil:
			p("from = \"any\"\n")
		case len(a.from) == 1:
			p("from = %q\n", m.groups[a.from[0]].name)
		default:
			s := make([]string, len(a.from))
			for i, g := range a.from {
				s[i] = m.groups[g].name
			}
			p("from = %s\n", quoteList(s))
		}
		p("to = %q\nprotocol = %q\n", m.toName(a), a.proto)
		if a.ports == nil {
			p("ports = [\"%d-%d\"]\n", a.first, a.last)
		} else {
			p("ports = [%s]\n", a.portList(", "))
		}
		p("comment = %q\n", a.comment)
	}
}

func (m *model) writeFortigate(p func(format string, args ...any)) {
	p("\n[fortigate]\n\n[fortigate.interfaces]\nany = \"wan1\"\n")
	for _, g := range m.groups {
		p("%s = \"internal\"\n", g.name)
	}
	for _, rk := range m.racks {
		p("%s = \"dmz\"\n", rk.name)
	}
	for _, h := range m.hosts {
		p("%s = \"dmz\"\n", h.name)
	}
}

// writeSimpleFerm writes the simple shape's rules as a ferm user would:
// each rule's /24 inline, IPv4 only (the rules have no IPv6 source, so
// portwall's ip6tables rules are its fixed base alone). This is ferm's
// fastest form of the policy: variables and @ipfilter take it longer.
func (m *model) writeSimpleFerm(p func(format string, args ...any), h int, rules []int) {
	p("# ferm configuration written by mkprofile: the inbound policy of host %s\n", m.hosts[h].name)
	p("# (%s) in profile %s,\n", m.hosts[h].v4, m.profileName())
	p("# the same %d [[allow]] rules portwall renders for that host. For benchmarks:\n", len(rules))
	p("#   go run ./cmd/mkprofile %s -ferm FILE -ferm-host %s\n", m.flags(), m.hosts[h].name)
	p("#   ferm --remote FILE    # prints the iptables-restore input\n\n")
	p("domain ip table filter chain INPUT {\n")
	p("\tpolicy DROP;\n")
	p("\tmod conntrack ctstate (ESTABLISHED RELATED) ACCEPT;\n")
	p("\tinterface lo ACCEPT;\n")
	for _, i := range rules {
		a := m.allows[i]
		p("\tsaddr %s proto tcp dport %d mod comment comment \"allow[%d]: %s\" ACCEPT;\n", m.groups[a.from[0]].addrs[0], a.ports[0], i, a.comment)
	}
	p("}\n")
}

// fermVar is the ferm variable name of a group ("-" is not allowed).
func fermVar(g string) string { return "$" + strings.ReplaceAll(g, "-", "_") }

// writeFerm writes the inbound policy of one host (the first by default)
// as a ferm configuration: see the package comment.
func (m *model) writeFerm(w io.Writer, hostName string) error {
	h := 0
	if hostName != "" {
		h = slices.IndexFunc(m.hosts, func(x host) bool { return x.name == hostName })
		if h < 0 {
			return fmt.Errorf("no host %q", hostName) // build checked it
		}
	}
	var rules []int
	used := map[int]bool{}
	for i, a := range m.allows {
		if m.appliesTo(a, h) {
			rules = append(rules, i)
			for _, g := range a.from {
				used[g] = true
			}
		}
	}
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	if m.c.shape == shapeSimple {
		m.writeSimpleFerm(p, h, rules)
		return nil
	}
	p("# ferm configuration written by mkprofile: the inbound policy of host %s\n", m.hosts[h].name)
	p("# (%s, %s) in profile %s,\n", m.hosts[h].v4, m.hosts[h].v6, m.profileName())
	p("# the same %d [[allow]] rules portwall renders for that host. For benchmarks:\n", len(rules))
	p("#   go run ./cmd/mkprofile %s -ferm FILE -ferm-host %s\n", m.flags(), m.hosts[h].name)
	p("#   ferm --remote FILE    # prints the iptables-restore and ip6tables-restore input\n\n")
	for g, grp := range m.groups {
		if !used[g] {
			continue
		}
		p("@def %s = (%s);\n", fermVar(grp.name), strings.Join(grp.addrs, " "))
		if grp.ranges4 != nil {
			p("@def %s_range4 = (%s);\n", fermVar(grp.name), strings.Join(grp.ranges4, " "))
		}
		if grp.ranges6 != nil {
			p("@def %s_range6 = (%s);\n", fermVar(grp.name), strings.Join(grp.ranges6, " "))
		}
	}
	p("\ndomain (ip ip6) table filter chain INPUT {\n")
	p("\tpolicy DROP;\n")
	p("\tmod conntrack ctstate (ESTABLISHED RELATED) ACCEPT;\n")
	p("\tinterface lo ACCEPT;\n")
	for _, i := range rules {
		a := m.allows[i]
		// Like portwall's iptables backend: one port as dport, several
		// (at most four here, below multiport's 15) as one multiport match.
		match := fmt.Sprintf("proto %s dport %d:%d", a.proto, a.first, a.last)
		if a.ports != nil {
			match = fmt.Sprintf("proto %s dports (%s)", a.proto, a.portList(" "))
			if len(a.ports) == 1 {
				match = fmt.Sprintf("proto %s dport %d", a.proto, a.ports[0])
			}
		}
		tail := fmt.Sprintf("%s mod comment comment \"allow[%d]: %s\" ACCEPT;", match, i, a.comment)
		if a.from == nil {
			p("\t%s\n", tail)
			continue
		}
		// @ipfilter keeps the addresses of the domain being built: a rule
		// whose groups have no IPv6 address yields no ip6tables rule, as
		// in portwall.
		var vars, r4, r6 []string
		for _, g := range a.from {
			grp := m.groups[g]
			vars = append(vars, fermVar(grp.name))
			if grp.ranges4 != nil {
				r4 = append(r4, fermVar(grp.name)+"_range4")
			}
			if grp.ranges6 != nil {
				r6 = append(r6, fermVar(grp.name)+"_range6")
			}
		}
		p("\tsaddr @ipfilter((%s)) %s\n", strings.Join(vars, " "), tail)
		// iprange takes no @ipfilter: ranges go per domain.
		if r4 != nil {
			p("\t@if @eq($DOMAIN, ip) mod iprange src-range (%s) %s\n", strings.Join(r4, " "), tail)
		}
		if r6 != nil {
			p("\t@if @eq($DOMAIN, ip6) mod iprange src-range (%s) %s\n", strings.Join(r6, " "), tail)
		}
	}
	p("}\n")
	return nil
}
