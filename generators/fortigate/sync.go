package fortigate

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/fortigate/fortiparse"
	"github.com/portwall/portwall/rules/ir"
)

// Change is one difference between the running configuration and the
// profile's, as the delta makes it.
type Change struct {
	// Op is create, update, delete or move.
	Op    string `json:"op"`
	Table string `json:"table"`
	// Key is the entry's name, or a policy's id.
	Key string `json:"key"`
	// Name is a policy's name.
	Name string `json:"name,omitempty"`
	// Attrs says what a create sets or an update changes.
	Attrs []AttrChange `json:"attrs,omitempty"`
	// Where is a move's place: "after 7", "before 3".
	Where string `json:"where,omitempty"`
}

// AttrChange is one attribute of a create or an update: From is what
// CONFIG has (nil when unset), To what the profile asks for (nil: unset).
type AttrChange struct {
	Attr string   `json:"attr"`
	From []string `json:"from,omitempty"`
	To   []string `json:"to,omitempty"`
}

// Plan is what a run against a running configuration found.
type Plan struct {
	VDOM    string   `json:"vdom,omitempty"`
	Changes []Change `json:"changes"`
	// Script is the delta: the CLI that brings portwall's objects in
	// CONFIG to the profile's, or only a header when nothing changes.
	Script []byte `json:"-"`
	// Notes are for the person: foreign policies that use portwall's
	// objects, which a change to them changes too.
	Notes []string `json:"notes,omitempty"`
}

// Drift reports whether anything changes.
func (p *Plan) Drift() bool { return len(p.Changes) > 0 }

// Summary counts the changes: "2 to create, 1 to change, 0 to delete, 1
// to move".
func (p *Plan) Summary() string {
	n := map[string]int{}
	for _, c := range p.Changes {
		n[c.Op]++
	}
	return fmt.Sprintf("%d to create, %d to change, %d to delete, %d to move", n["create"], n["update"], n["delete"], n["move"])
}

// Owned reports whether an entry of a table is portwall's: objects and
// policies named pw-..., local-in policies (which have no name) whose
// comments start with pw:. Nothing else is ever edited or deleted.
func Owned(table string, e *fortiparse.Entry) bool {
	switch table {
	case tablePolicy, tablePolicy6:
		n := e.Get("name")
		return len(n) == 1 && strings.HasPrefix(n[0], Prefix)
	case tableLocalIn, tableLocalIn6:
		c := e.Get("comments")
		return len(c) == 1 && strings.HasPrefix(c[0], CommentPrefix)
	}
	return strings.HasPrefix(e.Key, Prefix)
}

// Owner is how a running configuration is read: portwall's entries and
// names are held to every reference check.
var Owner = &fortiparse.Owner{Entry: Owned, Name: func(n string) bool { return strings.HasPrefix(n, Prefix) }}

// The object tables, in the order they are created; deleted in reverse.
var objectTables = []string{"firewall address", "firewall address6", "firewall addrgrp", "firewall addrgrp6", "firewall service custom", "firewall service group"}

// managed are the attributes portwall sets in each table: one the profile
// does not ask for is unset. Attributes not listed (a UTM profile, NAT,
// a colour) are the operator's and stay as they are. Built on first use, as
// widening: a package-level map literal is built by every run's
// initialisation, whatever the run does.
var managed = sync.OnceValue(func() map[string][]string {
	return map[string][]string{
		"firewall address":        {"type", "subnet", "start-ip", "end-ip", "fqdn"},
		"firewall address6":       {"type", "ip6", "start-ip", "end-ip", "fqdn"},
		"firewall addrgrp":        {"member", "comment"},
		"firewall addrgrp6":       {"member", "comment"},
		"firewall service custom": {"protocol", "tcp-portrange", "udp-portrange", "sctp-portrange", "icmptype", "icmpcode", "protocol-number", "comment"},
		"firewall service group":  {"member", "comment"},
		tablePolicy:               {"name", "srcintf", "dstintf", "srcaddr", "dstaddr", "srcaddr6", "dstaddr6", "action", "schedule", "service", "logtraffic", "comments", "status"},
		tablePolicy6:              {"name", "srcintf", "dstintf", "srcaddr", "dstaddr", "action", "schedule", "service", "logtraffic", "comments", "status"},
	}
})

// widening are attributes that change what an entry matches, with the
// value that does not: portwall's entries must hold that value (or none).
var widening = sync.OnceValue(func() map[string]map[string]string {
	return map[string]map[string]string{
		"firewall addrgrp":  {"exclude": "disable"},
		"firewall addrgrp6": {"exclude": "disable"},
		tablePolicy: {"srcaddr-negate": "disable", "dstaddr-negate": "disable", "srcaddr6-negate": "disable", "dstaddr6-negate": "disable",
			"service-negate": "disable", "internet-service": "disable", "internet-service-src": "disable",
			"internet-service6": "disable", "internet-service6-src": "disable"},
		tablePolicy6: {"srcaddr-negate": "disable", "dstaddr-negate": "disable", "service-negate": "disable"},
	}
})

// Sync compares the running configuration (a backup, or the output of
// show or show full-configuration, in which source names CONFIG) with
// what the profile asks for, and writes the delta: the CLI that creates
// what is missing, updates what differs in place (a policy by its id in
// CONFIG), deletes portwall's objects the profile no longer has (policies
// first, then groups, services and addresses), and moves portwall's
// policies together, in the profile's order, to place. New policies take
// explicit ids above the highest in CONFIG, so that they can be moved.
func Sync(rs *ir.Ruleset, fg Settings, running []byte, source string) (*Plan, error) {
	b, err := build(rs, fg)
	if err != nil {
		return nil, err
	}
	m, err := fortiparse.ReadConfig(running, Owner)
	if err != nil {
		return nil, fmt.Errorf("fortigate: %s: %v", source, err)
	}
	vd, err := m.VDOM(fg.VDOM)
	if err != nil {
		return nil, fmt.Errorf("fortigate: %s: %v", source, err)
	}
	s := &syncer{b: b, vd: vd, plan: &Plan{VDOM: fg.VDOM}}
	if err := s.run(); err != nil {
		return nil, err
	}
	s.plan.Script = s.script(source)
	return s.plan, nil
}

type syncer struct {
	b    *builder
	vd   *fortiparse.VDOM
	plan *Plan
	// The delta's sections, in the order they are written.
	delPolicies, objects, policies, delGroups, delObjects []*cmds
	errs                                                  []error
}

// cmds are the commands of one table.
type cmds struct {
	path  string
	lines bytes.Buffer
}

func (s *syncer) add(list *[]*cmds, path string) *bytes.Buffer {
	for _, c := range *list {
		if c.path == path {
			return &c.lines
		}
	}
	c := &cmds{path: path}
	*list = append(*list, c)
	return &c.lines
}

func (s *syncer) change(c Change) { s.plan.Changes = append(s.plan.Changes, c) }

func (s *syncer) run() error {
	desired := map[string][]*entry{}
	for _, t := range s.b.tables() {
		desired[t.path] = t.entries
	}
	s.deletePolicies(desired)
	for _, path := range objectTables {
		s.syncObjects(path, desired[path])
	}
	ids := newIDs(s.vd, tablePolicy, tablePolicy6)
	for _, path := range []string{tablePolicy, tablePolicy6} {
		if err := s.syncPolicies(path, desired[path], ids); err != nil {
			return err
		}
	}
	lids := newIDs(s.vd, tableLocalIn, tableLocalIn6)
	for _, path := range []string{tableLocalIn, tableLocalIn6} {
		s.createLocalIn(path, desired[path], lids)
	}
	s.deleteObjects(desired)
	return errors.Join(s.errs...)
}

// ids hands out policy ids above the highest a set of tables holds.
type ids struct{ next uint64 }

func newIDs(vd *fortiparse.VDOM, paths ...string) *ids {
	var top uint64
	for _, p := range paths {
		for _, e := range entriesOf(vd, p) {
			if n, err := strconv.ParseUint(e.Key, 10, 64); err == nil && n > top {
				top = n
			}
		}
	}
	return &ids{next: top + 1}
}

func (i *ids) take() string {
	id := strconv.FormatUint(i.next, 10)
	i.next++
	return id
}

func entriesOf(vd *fortiparse.VDOM, path string) []*fortiparse.Entry {
	if t := vd.Table(path); t != nil {
		return t.Entries
	}
	return nil
}

func policyName(e *fortiparse.Entry) string {
	if n := e.Get("name"); len(n) == 1 {
		return n[0]
	}
	return ""
}

func desiredName(e *entry) string {
	if a, ok := e.get("name"); ok {
		return a.values[0]
	}
	return ""
}

// deletePolicies deletes portwall's policies the profile no longer has:
// firewall policies by name, local-in policies (which have none) unless
// the profile has one with exactly their contents.
func (s *syncer) deletePolicies(desired map[string][]*entry) {
	for _, path := range []string{tablePolicy, tablePolicy6} {
		want := map[string]bool{}
		for _, e := range desired[path] {
			want[desiredName(e)] = true
		}
		for _, e := range entriesOf(s.vd, path) {
			if Owned(path, e) && !want[policyName(e)] {
				fmt.Fprintf(s.add(&s.delPolicies, path), "    delete %s\n", e.Key)
				s.change(Change{Op: "delete", Table: path, Key: e.Key, Name: policyName(e)})
			}
		}
	}
	for _, path := range []string{tableLocalIn, tableLocalIn6} {
		left := slices.Clone(desired[path])
		for _, e := range entriesOf(s.vd, path) {
			if !Owned(path, e) {
				continue
			}
			if i := slices.IndexFunc(left, func(d *entry) bool { return len(diffAttrs(path, d, e)) == 0 }); i >= 0 {
				left = slices.Delete(left, i, i+1)
				continue
			}
			fmt.Fprintf(s.add(&s.delPolicies, path), "    delete %s\n", e.Key)
			s.change(Change{Op: "delete", Table: path, Key: e.Key})
		}
	}
}

// syncObjects creates and updates the objects of one table.
func (s *syncer) syncObjects(path string, want []*entry) {
	for _, d := range want {
		r := s.vd.Table(path).Entry(d.key)
		if r == nil {
			if other := s.sibling(path, d.key); other != "" {
				s.errs = append(s.errs, fmt.Errorf("fortigate: CONFIG has %s in config %s, where the profile wants it in config %s: delete it on the FortiGate first", d.key, other, path))
				continue
			}
			s.create(&s.objects, path, d.key, d)
			continue
		}
		changes := diffAttrs(path, d, r)
		if len(changes) == 0 {
			continue
		}
		if (path == "firewall address" || path == "firewall address6") && slices.ContainsFunc(changes, func(c AttrChange) bool { return c.Attr == "type" }) {
			// FortiOS reinterprets an address's stored addresses when its
			// type changes (reference section 3): never edit the type.
			s.errs = append(s.errs, fmt.Errorf("fortigate: %s in CONFIG (config %s) is of another type than portwall makes it: it was edited by hand; delete it on the FortiGate and run again", d.key, path))
			continue
		}
		s.update(&s.objects, path, d.key, "", changes)
		s.noteUsers(path, d.key)
	}
}

// sibling is the other table of d's namespace that holds key in CONFIG.
func (s *syncer) sibling(path, key string) string {
	pairs := map[string]string{"firewall address": "firewall addrgrp", "firewall addrgrp": "firewall address",
		"firewall address6": "firewall addrgrp6", "firewall addrgrp6": "firewall address6",
		"firewall service custom": "firewall service group", "firewall service group": "firewall service custom"}
	if o := pairs[path]; s.vd.Table(o).Entry(key) != nil {
		return o
	}
	return ""
}

// noteUsers notes foreign entries that use an object portwall changes.
func (s *syncer) noteUsers(path, key string) {
	for _, u := range s.foreignUsers(path, key) {
		s.plan.Notes = append(s.plan.Notes, fmt.Sprintf("%s (config %s) is also used by %s, which is not portwall's: the change applies there too", key, path, u))
	}
}

// foreignUsers lists the entries that are not portwall's and name key.
func (s *syncer) foreignUsers(path, key string) []string {
	var out []string
	for _, u := range s.vd.UsersOf(path, key) {
		table, id, _ := cutLast(u, " ")
		if e := s.vd.Table(table).Entry(id); e != nil && Owned(table, e) {
			continue
		}
		out = append(out, u)
	}
	return out
}

func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

func (s *syncer) create(list *[]*cmds, path, key string, d *entry) {
	w := s.add(list, path)
	fmt.Fprintf(w, "    edit %s\n", editKey(path, key))
	var attrs []AttrChange
	for _, a := range d.attrs {
		writeAttr(w, "set", a)
		attrs = append(attrs, AttrChange{Attr: a.name, To: a.values})
	}
	w.WriteString("    next\n")
	s.change(Change{Op: "create", Table: path, Key: key, Name: desiredName(d), Attrs: attrs})
}

func (s *syncer) update(list *[]*cmds, path, key, name string, changes []AttrChange) {
	w := s.add(list, path)
	fmt.Fprintf(w, "    edit %s\n", editKey(path, key))
	for _, c := range changes {
		if c.To == nil {
			fmt.Fprintf(w, "        unset %s\n", c.Attr)
			continue
		}
		writeAttr(w, "set", attr{name: c.Attr, values: c.To, quoted: quotedAttr(c.Attr)})
	}
	w.WriteString("    next\n")
	s.change(Change{Op: "update", Table: path, Key: key, Name: name, Attrs: changes})
}

// quotedAttr says whether portwall writes an attribute's values quoted.
func quotedAttr(name string) bool {
	switch name {
	case "type", "subnet", "start-ip", "end-ip", "ip6", "protocol", "tcp-portrange", "udp-portrange", "icmptype", "action", "logtraffic", "status":
		return false
	}
	return true
}

// syncPolicies creates and updates the policies of one table, and moves
// portwall's together in the profile's order.
func (s *syncer) syncPolicies(path string, want []*entry, ids *ids) error {
	running := map[string]*fortiparse.Entry{}
	for _, e := range entriesOf(s.vd, path) {
		if Owned(path, e) {
			running[policyName(e)] = e
		}
	}
	var block []string // ids, in the profile's order
	var created []string
	for _, d := range want {
		name := desiredName(d)
		if r := running[name]; r != nil {
			if changes := diffAttrs(path, d, r); len(changes) > 0 {
				s.update(&s.policies, path, r.Key, name, changes)
			}
			block = append(block, r.Key)
			continue
		}
		id := ids.take()
		s.create(&s.policies, path, id, d)
		block = append(block, id)
		created = append(created, id)
	}
	if len(block) == 0 {
		return nil
	}
	return s.move(path, block, created)
}

// move places the block of portwall's policies, in order, where place
// says, moving only what is not there yet.
func (s *syncer) move(path string, block, created []string) error {
	pl, _ := parsePlace(s.b.fg.Place)
	var order []string // the table as the delta leaves it before moves
	owned := map[string]bool{}
	for _, id := range block {
		owned[id] = true
	}
	for _, e := range entriesOf(s.vd, path) {
		if Owned(path, e) && !owned[e.Key] {
			continue // deleted
		}
		order = append(order, e.Key)
	}
	order = append(order, created...)
	var foreign []string
	for _, id := range order {
		if !owned[id] {
			foreign = append(foreign, id)
		}
	}
	// The target: the foreign policies in their order, the block at place.
	at := len(foreign)
	switch pl.where {
	case "top":
		at = 0
	case "before", "after":
		if path != tablePolicy {
			break // policy6 (up to 6.2): the block goes to the bottom
		}
		i := slices.Index(foreign, strconv.FormatUint(pl.id, 10))
		if i < 0 {
			return &generators.Refusal{Target: "fortigate", Section: Section.Name(), Key: []any{"place"},
				Msg: fmt.Sprintf("place = %q: CONFIG has no policy %d that is not portwall's", pl.String(), pl.id)}
		}
		at = i
		if pl.where == "after" {
			at++
		}
	}
	target := slices.Concat(foreign[:at], block, foreign[at:])
	w := s.add(&s.policies, path)
	for _, id := range block {
		j := slices.Index(target, id)
		pos := slices.Index(order, id)
		var where string
		switch {
		case j == 0 && pos != 0:
			where = "before " + order[0]
		case j > 0 && (pos == 0 || order[pos-1] != target[j-1]):
			where = "after " + target[j-1]
		default:
			continue
		}
		fmt.Fprintf(w, "    move %s %s\n", id, where)
		s.change(Change{Op: "move", Table: path, Key: id, Name: s.nameOf(path, id), Where: where})
		order = slices.Delete(order, pos, pos+1)
		k := 0
		if j > 0 {
			k = slices.Index(order, target[j-1]) + 1
		}
		order = slices.Insert(order, k, id)
	}
	return nil
}

func (s *syncer) nameOf(path, id string) string {
	for _, c := range s.plan.Changes {
		if c.Table == path && c.Key == id && c.Name != "" {
			return c.Name
		}
	}
	if e := s.vd.Table(path).Entry(id); e != nil {
		return policyName(e)
	}
	return ""
}

// createLocalIn creates the local-in policies no entry of CONFIG holds
// exactly (deletePolicies deleted the others).
func (s *syncer) createLocalIn(path string, want []*entry, ids *ids) {
	var running []*fortiparse.Entry
	for _, e := range entriesOf(s.vd, path) {
		if Owned(path, e) {
			running = append(running, e)
		}
	}
	for _, d := range want {
		if i := slices.IndexFunc(running, func(r *fortiparse.Entry) bool { return len(diffAttrs(path, d, r)) == 0 }); i >= 0 {
			running = slices.Delete(running, i, i+1)
			continue
		}
		s.create(&s.policies, path, ids.take(), d)
	}
}

// deleteObjects deletes portwall's objects the profile no longer has,
// groups first (a group before the groups it holds), then services and
// addresses. One a foreign entry still uses is an error: the paste would
// fail there.
func (s *syncer) deleteObjects(desired map[string][]*entry) {
	gone := map[string][]*fortiparse.Entry{}
	for _, path := range objectTables {
		want := map[string]bool{}
		for _, e := range desired[path] {
			want[e.key] = true
		}
		for _, e := range entriesOf(s.vd, path) {
			if !Owned(path, e) || want[e.Key] {
				continue
			}
			if users := s.foreignUsers(path, e.Key); len(users) > 0 {
				s.errs = append(s.errs, fmt.Errorf("fortigate: %s (config %s) is portwall's and the profile no longer has it, but %s, which %s not portwall's, still uses it: change %s on the FortiGate first",
					e.Key, path, strings.Join(users, ", "), plural(len(users), "is", "are"), plural(len(users), "it", "them")))
				continue
			}
			gone[path] = append(gone[path], e)
		}
	}
	order := []string{"firewall service group", "firewall addrgrp", "firewall addrgrp6", "firewall service custom", "firewall address", "firewall address6"}
	for _, path := range order {
		es := gone[path]
		if strings.Contains(path, "grp") || strings.HasSuffix(path, "group") {
			es = groupsFirst(es)
			fmt.Fprint(s.add(&s.delGroups, path), deletes(path, es))
		} else {
			fmt.Fprint(s.add(&s.delObjects, path), deletes(path, es))
		}
		for _, e := range es {
			s.change(Change{Op: "delete", Table: path, Key: e.Key})
		}
	}
}

func deletes(path string, es []*fortiparse.Entry) string {
	var b strings.Builder
	for _, e := range es {
		fmt.Fprintf(&b, "    delete %s\n", editKey(path, e.Key))
	}
	return b.String()
}

// groupsFirst orders groups so that none is deleted while another of
// them still holds it.
func groupsFirst(es []*fortiparse.Entry) []*fortiparse.Entry {
	var out []*fortiparse.Entry
	left := slices.Clone(es)
	for len(left) > 0 {
		progress := false
		for i := 0; i < len(left); i++ {
			held := slices.ContainsFunc(left, func(o *fortiparse.Entry) bool { return o != left[i] && slices.Contains(o.Get("member"), left[i].Key) })
			if !held {
				out = append(out, left[i])
				left = slices.Delete(left, i, i+1)
				progress = true
				i--
			}
		}
		if !progress { // a cycle FortiOS would not have let in
			return append(out, left...)
		}
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// diffAttrs compares what portwall wants of an entry with what CONFIG
// has: the attributes portwall sets (unset when the profile does not ask
// for one CONFIG has), and those that would widen the entry. An
// attribute CONFIG leaves out holds its default.
func diffAttrs(path string, d *entry, r *fortiparse.Entry) []AttrChange {
	var out []AttrChange
	for _, name := range managedAttrs(path) {
		want, wanted := d.get(name)
		have := r.Get(name)
		switch {
		case wanted && !sameValues(path, name, want.values, have):
			out = append(out, AttrChange{Attr: name, From: have, To: want.values})
		case !wanted && have != nil && !isDefault(path, name, have):
			out = append(out, AttrChange{Attr: name, From: have})
		}
	}
	safe := widening()[path]
	for _, name := range sortedKeys(safe) {
		if have := r.Get(name); have != nil && !(len(have) == 1 && have[0] == safe[name]) {
			out = append(out, AttrChange{Attr: name, From: have})
		}
	}
	return out
}

func managedAttrs(path string) []string {
	if m, ok := managed()[path]; ok {
		return m
	}
	// Local-in policies are matched by their whole contents.
	return []string{"intf", "srcaddr", "dstaddr", "action", "service", "schedule", "comments", "status"}
}

func sortedKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func isDefault(path, name string, have []string) bool {
	d, ok := fortiparse.Default(path, name)
	return ok && len(have) == 1 && have[0] == d
}

// sameValues compares values by meaning: an absent value is the default,
// lists are sets, addresses and port ranges are compared as such.
func sameValues(path, name string, want, have []string) bool {
	if have == nil {
		d, ok := fortiparse.Default(path, name)
		return ok && len(want) == 1 && want[0] == d
	}
	switch name {
	case "subnet":
		a, err1 := subnetOf(want)
		b, err2 := subnetOf(have)
		return err1 == nil && err2 == nil && a == b
	case "ip6":
		if len(want) != 1 || len(have) != 1 {
			return false
		}
		a, err1 := netip.ParsePrefix(want[0])
		b, err2 := netip.ParsePrefix(have[0])
		return err1 == nil && err2 == nil && a == b
	case "start-ip", "end-ip":
		if len(want) != 1 || len(have) != 1 {
			return false
		}
		a, err1 := netip.ParseAddr(want[0])
		b, err2 := netip.ParseAddr(have[0])
		return err1 == nil && err2 == nil && a == b
	case "tcp-portrange", "udp-portrange", "sctp-portrange":
		return sameSet(normPorts(want), normPorts(have))
	case "member", "srcintf", "dstintf", "intf", "srcaddr", "dstaddr", "srcaddr6", "dstaddr6", "service":
		return sameSet(want, have)
	}
	return slices.Equal(want, have)
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

func normPorts(rs []string) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		if lo, hi, ok := strings.Cut(r, "-"); ok && lo == hi && !strings.Contains(r, ":") {
			r = lo
		}
		out[i] = r
	}
	return out
}

// subnetOf reads an IPv4 subnet as FortiOS prints it (address and mask)
// or accepts it (address/length).
func subnetOf(vals []string) (netip.Prefix, error) {
	switch len(vals) {
	case 1:
		return netip.ParsePrefix(vals[0])
	case 2:
		a, err := netip.ParseAddr(vals[0])
		m, err2 := netip.ParseAddr(vals[1])
		if err != nil || err2 != nil || !m.Is4() {
			return netip.Prefix{}, fmt.Errorf("bad subnet")
		}
		b := m.As4()
		bits := 0
		for _, x := range b {
			for x&0x80 != 0 {
				bits++
				x <<= 1
			}
		}
		return netip.PrefixFrom(a, bits).Masked(), nil
	}
	return netip.Prefix{}, fmt.Errorf("bad subnet")
}

// script writes the delta.
func (s *syncer) script(source string) []byte {
	var w bytes.Buffer
	b := s.b
	line(&w, "portwall FortiGate changes for profile %s, against %s%s.", headerText(b.rs.Profile), headerText(source), vdomText(b.fg.VDOM))
	line(&w, "Generated by portwall: do not edit; change the profile and generate again.")
	line(&w, "")
	if !s.plan.Drift() {
		line(&w, "No changes: portwall's objects in CONFIG are what the profile asks for.")
		return w.Bytes()
	}
	line(&w, "%s.", s.plan.Summary())
	line(&w, "")
	b.versionLines(&w)
	line(&w, "")
	line(&w, "Paste it into the CLI of the FortiGate CONFIG was read from%s.", pasteWhere(b.fg.VDOM))
	line(&w, "It deletes the policies the profile no longer has, creates and updates")
	line(&w, "objects and policies (an existing policy by its id in CONFIG), moves")
	line(&w, "portwall's policies together in the profile's order (place = %s), then", placeText(b.fg.Place))
	line(&w, "deletes the groups, services and addresses nothing uses any more.")
	line(&w, "New policies take ids above the highest in CONFIG: a policy created on the")
	line(&w, "FortiGate since CONFIG was read would be overwritten; read it again first.")
	line(&w, "")
	ownership(&w, len(b.localIn) > 0)
	b.leftOut(&w)
	if len(s.plan.Notes) > 0 {
		line(&w, "")
		line(&w, "Shared with policies that are not portwall's:")
		for _, n := range s.plan.Notes {
			line(&w, "  %s", headerText(n))
		}
	}
	w.WriteString("\n")
	b.vdomOpen(&w)
	for _, list := range [][]*cmds{s.delPolicies, s.objects, s.policies, s.delGroups, s.delObjects} {
		for _, sec := range list {
			if sec.lines.Len() == 0 {
				continue
			}
			fmt.Fprintf(&w, "config %s\n", sec.path)
			w.Write(sec.lines.Bytes())
			w.WriteString("end\n")
		}
	}
	b.vdomClose(&w)
	return w.Bytes()
}

func vdomText(v string) string {
	if v == "" {
		return ""
	}
	return " (VDOM " + v + ")"
}

func pasteWhere(v string) string {
	if v == "" {
		return " (in the VDOM the rules are for)"
	}
	return ", as a global administrator: it enters VDOM " + v + " itself"
}

func placeText(p string) string {
	if p == "" {
		return "bottom"
	}
	return p
}
