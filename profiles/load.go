package profiles

import (
	"fmt"
	"maps"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/internal/par"
	"github.com/portwall/portwall/internal/tomldoc"
	"github.com/portwall/portwall/rules/addr"
	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

// fileSchema is the TOML layout of a profile. Values that may be written
// either as one item or as a list are decoded as `any` and normalised here.
type fileSchema struct {
	Name        string                `toml:"name"`
	Description string                `toml:"description"`
	Defaults    defaultsSchema        `toml:"defaults"`
	Groups      map[string]any        `toml:"groups"`
	Hosts       map[string]hostSchema `toml:"hosts"`
	Deployments []deploymentSchema    `toml:"deployment"`
	Allow       []allowSchema         `toml:"allow"`
	Expect      []expectSchema        `toml:"expect"`
	Lint        lintSchema            `toml:"lint"`
}

// topLevelKeys are the keys fileSchema defines, for suggestions.
var topLevelKeys = []string{"allow", "defaults", "deployment", "description", "expect", "groups", "hosts", "lint", "name"}

type defaultsSchema struct {
	Input      string `toml:"input"`
	Output     string `toml:"output"`
	LogDropped *bool  `toml:"log_dropped"`
	FQDN       string `toml:"fqdn"`
	Targets    any    `toml:"targets"`
	OS         string `toml:"os"`
	Firewall   string `toml:"firewall"`
}

type hostSchema struct {
	Description string `toml:"description"`
	Addresses   any    `toml:"addresses"`
	Targets     any    `toml:"targets"`
	OS          string `toml:"os"`
	Firewall    string `toml:"firewall"`
}

type deploymentSchema struct {
	Name       string         `toml:"name"`
	Product    string         `toml:"product"`
	Mode       string         `toml:"mode"`
	Features   any            `toml:"features"`
	Deprecated any            `toml:"deprecated"`
	Roles      map[string]any `toml:"roles"`
	Peers      map[string]any `toml:"peers"`
	Ports      map[string]any `toml:"ports"`
	Choose     map[string]any `toml:"choose"`
	Options    map[string]any `toml:"options"`

	Version     string `toml:"version"`
	RandomPorts string `toml:"random_ports"`
}

type allowSchema struct {
	From      any    `toml:"from"`
	To        any    `toml:"to"`
	Service   any    `toml:"service"`
	Protocol  any    `toml:"protocol"`
	Ports     any    `toml:"ports"`
	ICMPTypes any    `toml:"icmp_types"`
	Comment   string `toml:"comment"`
	Owner     string `toml:"owner"`
	Ticket    string `toml:"ticket"`
	Expires   any    `toml:"expires"`
}

// SetField decodes the keys of an [[allow]] rule without reflection
// (tomldoc.Setter): a profile may have 10,000 rules, and reflection was a
// tenth of Parse. TestAllowSetField holds it to the tags.
func (a *allowSchema) SetField(k string, v any) bool {
	switch k {
	case "from":
		a.From = v
	case "to":
		a.To = v
	case "service":
		a.Service = v
	case "protocol":
		a.Protocol = v
	case "ports":
		a.Ports = v
	case "icmp_types":
		a.ICMPTypes = v
	case "expires":
		a.Expires = v
	case "comment":
		return setString(&a.Comment, v)
	case "owner":
		return setString(&a.Owner, v)
	case "ticket":
		return setString(&a.Ticket, v)
	default:
		return false
	}
	return true
}

// setString sets *dst to v if v is a string; anything else is left to
// the reflective decoder, which reports it.
func setString(dst *string, v any) bool {
	s, ok := v.(string)
	if ok {
		*dst = s
	}
	return ok
}

type lintSchema struct {
	Ignore any `toml:"ignore"`
}

type expectSchema struct {
	From     string `toml:"from"`
	To       string `toml:"to"`
	Protocol string `toml:"protocol"`
	Port     *int   `toml:"port"`
	Verdict  string `toml:"verdict"`
	Comment  string `toml:"comment"`
}

// validName reports whether s is what host, group and deployment names
// look like (NamePattern). Names go into every backend's output (nft set
// names, netsh rule names, FortiGate objects), so they are kept to
// characters that need no quoting anywhere. Dots are excluded so that a
// name is never mistaken for a host name. A loop rather than the regexp,
// which every run would compile first; a test holds the two together.
func validName(s string) bool {
	if len(s) == 0 || len(s) > 48 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case (c == '_' || c == '-') && i > 0 && i < len(s)-1:
		default:
			return false
		}
	}
	return true
}

// NamePattern is the regular expression of names.
const NamePattern = `^[a-z0-9]([a-z0-9_-]{0,46}[a-z0-9])?$`

// NameRule says what NamePattern allows, for messages and the reference.
const NameRule = "use lower-case letters, digits, '-' and '_', at most 48 characters, starting and ending with a letter or digit"

// MaxComment is the longest comment a custom rule may carry. Backends with
// shorter limits shorten it further.
const MaxComment = 256

// Load reads and checks the profile in file.
func Load(file string) (*Profile, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return Parse(file, data)
}

// Parse checks the profile data, read from file. It returns every problem
// as a diag.ErrorList.
//
// When the file decodes but has problems, Parse returns the profile too:
// the catalog checks can still run on it (rules.Check), so that one run
// reports everything. Such a profile must not be used for anything else.
func Parse(file string, data []byte) (*Profile, error) { return parse(file, data, splitMin) }

// parse is Parse with the fewest entries the checker splits over two
// goroutines (split), which the tests vary.
func parse(file string, data []byte, minSplit int) (*Profile, error) {
	tf, errs := tomldoc.Parse(file, data)
	if len(errs) > 0 {
		return nil, errs.Err()
	}
	// Placeholders ("<fill in: ...>") are reported wherever they are, even
	// when a type error stops decoding (one in place of a number, say).
	fillIns, unfilled := placeholders(tf.Doc, data)
	// The groups' names in file order, which Decode lets go of.
	groupOrder := tf.Keys("groups")
	var f fileSchema
	if errs := tf.Decode(&f); len(errs) > 0 {
		return nil, FilterPlaceholders(append(fillIns, errs...)).Err()
	}
	c := &checker{doc: tf.Doc, minSplit: minSplit}
	p := c.profile(&f, groupOrder)
	p.File, p.Doc, p.file, p.unfilled = file, tf.Doc, tf, unfilled
	return p, FilterPlaceholders(append(fillIns, c.errs...)).Err()
}

type checker struct {
	doc  *tomldoc.Doc
	errs diag.ErrorList
	// minSplit is the fewest entries split checks on two goroutines.
	minSplit int

	// The profile's short lists, in a few backing arrays (each goroutine
	// of split has its checker, and its own).
	names   arena[string]
	protos  arena[proto.Protocol]
	members arena[addr.Member]
}

// arena hands out copies of short lists from a backing array it
// allocates in chunks: the 10,000 rules of a profile, each with a list
// of one or two names, cost a few allocations instead of one a list
// (and no size class rounds them up). Its user says how many elements
// are to come (expect), so that the chunks are no larger than needed.
type arena[T any] struct {
	free []T
	want int // elements still expected
}

// minChunk and maxChunk bound the elements an arena allocates at a time.
const (
	minChunk = 16
	maxChunk = 1024
)

// expect tells the arena that about n more elements are to come.
func (a *arena[T]) expect(n int) { a.want += n }

// copy is l in the arena, with no room to append in place (an append
// makes a copy): nil for nil, and empty for empty.
func (a *arena[T]) copy(l []T) []T {
	switch {
	case l == nil:
		return nil
	case len(l) == 0:
		return []T{}
	}
	if cap(a.free)-len(a.free) < len(l) {
		a.free = make([]T, 0, max(len(l), min(max(a.want, minChunk), maxChunk)))
	}
	a.want = max(a.want-len(l), 0)
	n := len(a.free)
	a.free = append(a.free, l...)
	return a.free[n:len(a.free):len(a.free)]
}

// splitMin is the fewest entries worth checking on two goroutines: below
// it, starting one costs more than it saves.
const splitMin = 512

// split runs check over the entries [0, n) of a list whose entries are
// checked independently (each reads the profile's names and writes only
// its own results): one half each side by side (par.Both), when there
// are at least minSplit entries. The second half reports to a
// checker of its own, whose errors are added after the first half's: the
// list is the one a single goroutine makes, whatever the scheduling.
func (c *checker) split(n int, check func(c *checker, lo, hi int)) {
	if n < c.minSplit || n < 2 {
		check(c, 0, n)
		return
	}
	mid := n / 2
	second := &checker{doc: c.doc, minSplit: c.minSplit}
	par.Both(func() { check(c, 0, mid) }, func() { check(second, mid, n) })
	c.errs = append(c.errs, second.errs...)
}

func (c *checker) errorf(path keyPath, format string, args ...any) {
	c.doc.Errorf(&c.errs, path.slice(), format, args...)
}

func (c *checker) keyErrorf(path keyPath, format string, args ...any) {
	c.doc.KeyErrorf(&c.errs, path.slice(), format, args...)
}

// list normalises a value written as one string or a list of strings.
func (c *checker) list(path keyPath, v any) []string {
	// The path is built only for StringList to report a value that is
	// neither.
	if l, ok := tomldoc.Strings(v); ok {
		return l
	}
	return c.doc.StringList(&c.errs, path.slice(), v)
}

// listTo is list for strings the caller reads and drops: it appends them
// to dst, which can be a buffer on the caller's stack.
func (c *checker) listTo(dst []string, path keyPath, v any) []string {
	if l, ok := tomldoc.AppendStrings(dst, v); ok {
		return l
	}
	return c.doc.StringList(&c.errs, path.slice(), v)
}

// nameList is list for a list the profile keeps: in the checker's arena.
func (c *checker) nameList(path keyPath, v any) []string {
	if v == nil {
		return nil
	}
	var buf [4]string
	return c.names.copy(c.listTo(buf[:0], path, v))
}

// portList normalises ports written as one value or a list of numbers and
// "first-last" strings.
func (c *checker) portList(path keyPath, v any) ports.Set {
	items, isList := v.([]any)
	if !isList {
		items = []any{v}
	}
	if len(items) == 0 {
		c.errorf(path, "empty port list")
	}
	var rs []ports.Range
	for i, x := range items {
		r, err := ports.ParseValue(x)
		if err != nil {
			if isList {
				c.errorf(path.index(i), "%v", err)
			} else {
				c.errorf(path, "%v", err)
			}
			continue
		}
		rs = append(rs, r)
	}
	return ports.NewSet(rs...)
}

func (c *checker) name(path keyPath, kind, s string) {
	if !validName(s) {
		c.keyErrorf(path, "invalid %s name %q: %s", kind, s, NameRule)
	}
}

// profile checks f; groupOrder is the names of its groups in file order,
// or nil.
func (c *checker) profile(f *fileSchema, groupOrder []string) *Profile {
	p := &Profile{Name: f.Name, Description: f.Description,
		Groups: make(map[string]*Group, len(f.Groups)), Hosts: make(map[string]*Host, len(f.Hosts))}
	if f.Name != "" {
		c.name(keyAt("name"), "profile", f.Name)
	}
	p.Defaults = c.defaults(&f.Defaults)

	for _, name := range sortedKeys(f.Hosts) {
		path := keyAt("hosts").key(name)
		c.name(path, "host", name)
		if name == addr.Any {
			c.keyErrorf(path, "%q is reserved for every address", name)
		}
		h := &Host{Name: name, Description: f.Hosts[name].Description,
			Targets:  c.targets(path, f.Hosts[name].Targets, f.Hosts[name].OS),
			Firewall: c.firewall(path, f.Hosts[name].Firewall)}
		addrs := c.list(path.key("addresses"), f.Hosts[name].Addresses)
		if len(addrs) == 0 {
			c.keyErrorf(path, "host %q has no addresses", name)
		}
		for i, s := range addrs {
			a, err := netip.ParseAddr(s)
			if err != nil || a.Zone() != "" || a.Is4In6() {
				c.errorf(path.key("addresses").index(i), "invalid host address %q: want one IPv4 or IPv6 address (put networks in [groups])", s)
				continue
			}
			h.Addrs = append(h.Addrs, a)
		}
		p.Hosts[name] = h
	}
	c.sharedAddresses(p)

	// Sorted once for the checks and groupCycles, each of which goes
	// through the groups in order: a profile may have 10,000.
	groupNames := sortedNames(f.Groups, groupOrder)
	groups := make([]Group, len(groupNames)) // one allocation for them all
	for i, name := range groupNames {
		path := keyAt("groups").key(name)
		c.name(path, "group", name)
		if name == addr.Any {
			c.keyErrorf(path, "%q is built in: it is every IPv4 and IPv6 address", name)
		}
		if _, clash := f.Hosts[name]; clash {
			c.keyErrorf(path, "%q is both a host and a group: hosts and groups share one namespace", name)
		}
		groups[i].Name = name
		p.Groups[name] = &groups[i]
	}
	// Each group writes only its own Group, and reads the names.
	c.split(len(groupNames), func(c *checker, lo, hi int) {
		c.members.expect(hi - lo)
		for i := lo; i < hi; i++ {
			c.group(p, &groups[i], f.Groups[groupNames[i]])
		}
	})
	c.groupCycles(groupNames, groups)

	names := map[string]int{}
	for i := range f.Deployments {
		d := c.deployment(p, i, &f.Deployments[i])
		if prev, dup := names[d.Name]; dup {
			c.errorf(keyAt("deployment").index(i).key("name"), "duplicate deployment name %q (deployment[%d] has it too); set name to tell them apart", d.Name, prev)
		}
		names[d.Name] = i
		p.Deployments = append(p.Deployments, d)
	}
	c.peerLinks(p)
	if len(f.Allow) > 0 {
		p.Allows = make([]*Allow, len(f.Allow))
	}
	c.split(len(f.Allow), func(c *checker, lo, hi int) {
		allows := make([]Allow, hi-lo) // one allocation for them all
		// A name on each side, a protocol: most rules have no more.
		c.names.expect(2 * (hi - lo))
		c.protos.expect(hi - lo)
		for i := lo; i < hi; i++ {
			a := &allows[i-lo]
			c.allow(p, i, &f.Allow[i], a)
			p.Allows[i] = a
		}
	})
	for i := range f.Expect {
		p.Expects = append(p.Expects, c.expect(p, i, &f.Expect[i]))
	}
	p.LintIgnore = c.list(keyAt("lint").key("ignore"), f.Lint.Ignore)
	c.noDuplicates(keyAt("lint").key("ignore"), "lint code", p.LintIgnore)
	if len(f.Deployments) == 0 && len(f.Allow) == 0 {
		c.errs.Add(diag.Pos{File: c.doc.File, Line: 1, Col: 1}, "", "the profile has no [[deployment]] and no [[allow]] rule: nothing to generate")
	}
	return p
}

func (c *checker) defaults(d *defaultsSchema) Defaults {
	out := Defaults{Input: InputDrop, Output: OutputAccept, LogDropped: true, FQDN: FQDNError}
	switch d.Input {
	case "", "drop":
	case "reject":
		out.Input = InputReject
	default:
		c.errorf(keyAt("defaults").key("input"), "invalid input policy %q: want \"drop\" or \"reject\"", d.Input)
	}
	switch d.Output {
	case "", "accept":
	case "drop":
		out.Output = OutputDrop
	default:
		c.errorf(keyAt("defaults").key("output"), "invalid output policy %q: want \"accept\" or \"drop\" (drop allows only the outbound flows)", d.Output)
	}
	if d.LogDropped != nil {
		out.LogDropped = *d.LogDropped
	}
	out.Targets = c.targets(keyAt("defaults"), d.Targets, d.OS)
	out.Firewall = c.firewall(keyAt("defaults"), d.Firewall)
	switch d.FQDN {
	case "", string(FQDNError):
	case string(FQDNDynamicSet):
		out.FQDN = FQDNDynamicSet
	case string(FQDNOmit):
		out.FQDN = FQDNOmit
	default:
		c.errorf(keyAt("defaults").key("fqdn"), "invalid fqdn mode %q: want \"error\", \"dynamic-set\" or \"omit\"", d.FQDN)
	}
	return out
}

// targets checks a declaration of targets (the names are the command
// layer's to check: it knows the backends) or an os.
func (c *checker) targets(path keyPath, names any, os string) Targets {
	t := Targets{Path: path.slice()}
	if names != nil {
		t.Names, t.Listed = c.list(path.key("targets"), names), true
		c.noDuplicates(path.key("targets"), "target", t.Names)
	}
	if os != "" {
		if !slices.Contains(OSes, OS(os)) {
			names := make([]string, len(OSes))
			for i, o := range OSes {
				names[i] = string(o)
			}
			c.errorf(path.key("os"), "unknown os %q: want %s%s", os, strings.Join(names, " or "), diag.DidYouMean(os, names))
		}
		if names != nil {
			c.keyErrorf(path.key("os"), "os and targets both declare the targets: os stands for its recommended targets; keep one")
		}
		t.OS = OS(os)
	}
	return t
}

// firewall checks a declaration of the host's firewall manager.
func (c *checker) firewall(path keyPath, v string) Firewall {
	if v == "" || slices.Contains(Firewalls, Firewall(v)) {
		return Firewall(v)
	}
	names := make([]string, len(Firewalls))
	for i, f := range Firewalls {
		names[i] = string(f)
	}
	c.errorf(path.key("firewall"), "unknown firewall %q: want one of %s%s", v, strings.Join(names, ", "), diag.DidYouMean(v, names))
	return ""
}

// group checks the members v of group g (of p).
func (c *checker) group(p *Profile, g *Group, v any) {
	name := g.Name
	path := keyAt("groups").key(name)
	var buf [8]string
	members := c.listTo(buf[:0], path, v)
	var mbuf [8]addr.Member
	ms := mbuf[:0]
	if l, isList := v.([]any); isList && len(l) == 0 {
		c.keyErrorf(path, "group %q is empty", name)
	}
	for i, s := range members {
		// Names cannot hold dots or colons, addresses and host names do:
		// anything shaped like a name refers to another group or a host.
		if validName(s) && s != addr.Any {
			switch p.Lookup(s) {
			case KindHost, KindGroup:
				g.Refs = append(g.Refs, s)
			default:
				c.errorf(path.index(i), "unknown host or group %q in group %q%s", s, name, diag.DidYouMean(s, p.EndpointNames()))
			}
			continue
		}
		m, err := addr.Parse(s)
		if err != nil {
			c.errorf(path.index(i), "%v", err)
			continue
		}
		ms = append(ms, m)
	}
	if len(ms) > 0 {
		g.Members = c.members.copy(ms)
	}
}

// groupCycles reports groups that include themselves through references.
// names are the groups' names, sorted, and groups the groups in that
// order.
func (c *checker) groupCycles(names []string, groups []Group) {
	const (
		unseen = iota
		active
		done
	)
	// The state of each group by its index in names, which the
	// references are looked up in: a map of 10,000 names cost more.
	state := make([]uint8, len(names))
	var visit func(g int, stack []string)
	visit = func(g int, stack []string) {
		name := names[g]
		switch state[g] {
		case active:
			i := 0
			for stack[i] != name {
				i++
			}
			cycle := append(stack[i:], name)
			c.keyErrorf(keyAt("groups").key(name), "group %q includes itself: %s", name, strings.Join(cycle, " -> "))
			return
		case done:
			return
		}
		state[g] = active
		for _, r := range groups[g].Refs {
			if ref, isGroup := slices.BinarySearch(names, r); isGroup {
				visit(ref, append(stack, name))
			}
		}
		state[g] = done
	}
	for g := range names {
		visit(g, nil)
	}
}

// sortedNames is the keys of m sorted, from order, the same keys in the
// order the file gives them, when it has them all (it is nil when the file
// does not tell): sorted in place, which costs a pass when they are sorted
// already, as a generated profile's 10,000 groups are. Sorting the keys
// taken from the map cost a twentieth of Parse.
func sortedNames[V any](m map[string]V, order []string) []string {
	if len(order) != len(m) {
		return sortedKeys(m)
	}
	if !slices.IsSorted(order) {
		slices.Sort(order)
	}
	return order
}

// sortedKeys is slices.Sorted(maps.Keys(m)), in one allocation of the
// right size.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (c *checker) deployment(p *Profile, i int, f *deploymentSchema) *Deployment {
	path := keyAt("deployment").index(i)
	d := &Deployment{Index: i, Name: f.Name, Product: f.Product, Mode: f.Mode, Version: f.Version, Options: map[string]string{}}
	if f.Product == "" {
		c.errorf(path, "deployment has no product")
	}
	if d.Name == "" {
		d.Name = f.Product
	} else {
		c.name(path.key("name"), "deployment", d.Name)
	}
	if f.Features != nil {
		d.Features = c.list(path.key("features"), f.Features)
		if d.Features == nil {
			d.Features = []string{}
		}
		c.features(path.key("features"), d.Features)
	}
	switch f.RandomPorts {
	case "", RandomPortsAll:
		d.RandomPorts = f.RandomPorts
	default:
		c.errorf(path.key("random_ports"), "invalid random_ports %q: want \"all\" (open every port to flows on random ports), or set the product's port pool option instead", f.RandomPorts)
	}
	d.Deprecated = c.list(path.key("deprecated"), f.Deprecated)
	d.Roles = c.bindings(p, path.key("roles"), f.Roles)
	d.Peers, d.PeerLinks = c.peerBindings(p, path.key("peers"), f.Peers)
	d.Ports = c.portMap(path.key("ports"), f.Ports)
	d.Choose = c.choices(path.key("choose"), f.Choose)
	for _, k := range slices.Sorted(maps.Keys(f.Options)) {
		switch v := f.Options[k].(type) {
		case string:
			d.Options[k] = v
		case int64:
			d.Options[k] = fmt.Sprint(v)
		default:
			c.errorf(path.key("options").key(k), "option %q: want a string, found %s", k, tomldoc.TypeName(v))
		}
	}
	return d
}

func (c *checker) noDuplicates(path keyPath, kind string, xs []string) {
	seen := map[string]bool{}
	for i, x := range xs {
		if seen[x] {
			c.errorf(path.index(i), "%s %q listed twice", kind, x)
		}
		seen[x] = true
	}
}

// bindings checks a role or peer binding: each name a host, a group or
// "any".
func (c *checker) bindings(p *Profile, path keyPath, m map[string]any) map[string][]string {
	out := map[string][]string{}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		names := c.list(path.key(k), m[k])
		if l, isList := m[k].([]any); isList && len(l) == 0 {
			c.keyErrorf(path.key(k), "%q is bound to nothing", k)
		}
		for i, n := range names {
			c.endpoint(p, path.key(k).index(i), n)
		}
		c.noDuplicates(path.key(k), "name", names)
		out[k] = names
	}
	return out
}

func (c *checker) endpoint(p *Profile, path keyPath, name string) {
	if p.Lookup(name) == KindNone {
		c.errorf(path, "unknown host or group %q%s", name, diag.DidYouMean(name, p.EndpointNames()))
	}
}

func (c *checker) portMap(path keyPath, m map[string]any) map[string]ports.Set {
	out := map[string]ports.Set{}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out[k] = c.portList(path.key(k), m[k])
	}
	return out
}

// allow checks rule i, f, into a (zero).
func (c *checker) allow(p *Profile, i int, f *allowSchema, a *Allow) {
	path := keyAt("allow").index(i)
	*a = Allow{Index: i, Comment: f.Comment, Owner: f.Owner, Ticket: f.Ticket}
	a.Expires = c.date(path.key("expires"), f.Expires)
	c.label(path.key("owner"), "owner", f.Owner)
	c.label(path.key("ticket"), "ticket", f.Ticket)
	a.From = c.nameList(path.key("from"), f.From)
	a.To = c.nameList(path.key("to"), f.To)
	for _, side := range []struct {
		key   string
		names []string
	}{{"from", a.From}, {"to", a.To}} {
		if len(side.names) == 0 {
			c.errorf(path, "allow rule has no %q", side.key)
		}
		for j, n := range side.names {
			c.endpoint(p, path.key(side.key).index(j), n)
		}
	}
	if f.Service != nil {
		c.allowService(path, a, f)
		return
	}
	var buf [4]string
	protos := c.listTo(buf[:0], path.key("protocol"), f.Protocol)
	if len(protos) == 0 {
		c.errorf(path, "allow rule has no protocol (tcp, udp, icmp or icmpv6) and no service")
	}
	withPorts, icmp := false, false
	var prbuf [4]proto.Protocol
	prs := prbuf[:0]
	for j, s := range protos {
		pr, err := proto.Parse(s)
		if err != nil {
			c.errorf(path.key("protocol").index(j), "%v%s", err, diag.DidYouMean(s, proto.Names()))
			continue
		}
		prs = append(prs, pr)
		withPorts = withPorts || pr.HasPorts()
		icmp = icmp || pr.IsICMP()
	}
	if len(prs) > 0 {
		a.Protocols = c.protos.copy(prs)
	}
	if f.Ports != nil {
		a.Ports = c.portList(path.key("ports"), f.Ports)
	}
	a.ICMPTypes = c.list(path.key("icmp_types"), f.ICMPTypes)
	switch {
	case withPorts && icmp:
		c.errorf(path.key("protocol"), "allow rule mixes ICMP with TCP/UDP; write two rules")
	case withPorts && f.Ports == nil:
		c.errorf(path, "allow rule for %s has no ports (write ports = [\"1-65535\"] for all)", strings.Join(protos, "/"))
	case icmp && f.Ports != nil:
		c.errorf(path.key("ports"), "ICMP has no ports; use icmp_types to restrict it")
	}
	if len(a.ICMPTypes) > 0 && !icmp {
		c.errorf(path.key("icmp_types"), "icmp_types on a rule without ICMP")
	}
	for j, t := range a.ICMPTypes {
		for _, pr := range a.Protocols {
			if _, err := proto.ParseICMPType(pr, t); pr.IsICMP() && err != nil {
				c.errorf(path.key("icmp_types").index(j), "%v%s", err, diag.DidYouMean(t, proto.ICMPTypeNames(pr)))
			}
		}
	}
	c.allowComment(path, f.Comment)
}

// allowService checks a custom rule that names services. The service
// brings its protocols and ports: a rule that also gave some would say two
// things at once, so it is refused rather than one of them ignored.
func (c *checker) allowService(path keyPath, a *Allow, f *allowSchema) {
	a.Services = c.list(path.key("service"), f.Service)
	if l, isList := f.Service.([]any); isList && len(l) == 0 {
		c.errorf(path.key("service"), "empty service list")
	}
	c.noDuplicates(path.key("service"), "service", a.Services)
	for _, k := range []struct {
		key string
		v   any
	}{{"protocol", f.Protocol}, {"ports", f.Ports}, {"icmp_types", f.ICMPTypes}} {
		if k.v != nil {
			c.keyErrorf(path.key(k.key), "allow rule has both service and %s: a service brings its own protocols and ports; remove %s, or write a second [[allow]] for the extra ports", k.key, k.key)
		}
	}
	c.allowComment(path, f.Comment)
}

// MaxLabel is the longest owner or ticket.
const MaxLabel = 64

// label checks an owner or ticket: short text of one line, which backends
// put into comments next to the rule.
func (c *checker) label(path keyPath, what, s string) {
	switch {
	case !utf8.ValidString(s):
		c.errorf(path, "%s is not valid UTF-8", what)
	case utf8.RuneCountInString(s) > MaxLabel:
		c.errorf(path, "%s is %d characters long, more than %d", what, utf8.RuneCountInString(s), MaxLabel)
	case strings.ContainsFunc(s, unicode.IsControl):
		c.errorf(path, "%s holds a control character", what)
	}
}

// date reads a TOML local date (expires = 2027-03-31, no quotes).
func (c *checker) date(path keyPath, v any) *Date {
	if v == nil {
		return nil
	}
	// BurntSushi/toml decodes a local date (no time, no offset) into a
	// time.Time in a zone it names "date-local"; a datetime or an offset
	// gets another zone.
	t, ok := v.(time.Time)
	if !ok || t.Location().String() != "date-local" {
		c.errorf(path, "want a date such as 2027-03-31 (a TOML date, without quotes), found %s", tomldoc.TypeName(v))
		return nil
	}
	return &Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
}

func (c *checker) allowComment(path keyPath, comment string) {
	if n := utf8.RuneCountInString(comment); n > MaxComment {
		c.errorf(path.key("comment"), "comment is %d characters long, more than %d", n, MaxComment)
	}
	if !utf8.ValidString(comment) {
		c.errorf(path.key("comment"), "comment is not valid UTF-8")
	}
}

func (c *checker) expect(p *Profile, i int, f *expectSchema) *Expect {
	path := keyAt("expect").index(i)
	e := &Expect{Index: i, From: f.From, To: f.To, Verdict: Verdict(f.Verdict), Comment: f.Comment}
	for _, side := range []struct{ key, name string }{{"from", f.From}, {"to", f.To}} {
		if side.name == "" {
			c.errorf(path, "expectation has no %q", side.key)
			continue
		}
		c.endpoint(p, path.key(side.key), side.name)
	}
	if f.Protocol == "" {
		c.errorf(path, "expectation has no protocol (tcp, udp, icmp or icmpv6)")
	} else if pr, err := proto.Parse(f.Protocol); err != nil {
		c.errorf(path.key("protocol"), "%v%s", err, diag.DidYouMean(f.Protocol, proto.Names()))
	} else {
		e.Protocol = pr
		switch {
		case pr.HasPorts() && f.Port == nil:
			c.errorf(path, "expectation for %s has no port", pr)
		case pr.HasPorts() && (*f.Port < 1 || *f.Port > 65535):
			c.errorf(path.key("port"), "port %d out of range 1-65535", *f.Port)
		case pr.HasPorts():
			e.Port = uint16(*f.Port)
		case f.Port != nil:
			c.errorf(path.key("port"), "ICMP has no ports: an %s expectation is about ping (echo request)", pr)
		}
	}
	switch e.Verdict {
	case VerdictAllow, VerdictDeny:
	case "":
		c.errorf(path, "expectation has no verdict (\"allow\" or \"deny\")")
	default:
		c.errorf(path.key("verdict"), "invalid verdict %q: want \"allow\" or \"deny\"", f.Verdict)
	}
	if n := utf8.RuneCountInString(f.Comment); n > MaxComment {
		c.errorf(path.key("comment"), "comment is %d characters long, more than %d", n, MaxComment)
	}
	return e
}

// sharedAddresses refuses two hosts with one address: each host's rules
// apply to its addresses, and a packet to a shared one would be both
// hosts' (an HA pair's virtual address belongs in a group).
func (c *checker) sharedAddresses(p *Profile) {
	owner := map[netip.Addr]string{}
	for _, name := range slices.Sorted(maps.Keys(p.Hosts)) {
		for i, a := range p.Hosts[name].Addrs {
			if prev, ok := owner[a]; ok && prev != name {
				c.errorf(keyAt("hosts").key(name).key("addresses").index(i), "address %s is also host %q's: two hosts cannot share an address (put a shared or virtual address in [groups])", a, prev)
				continue
			}
			owner[a] = name
		}
	}
}
