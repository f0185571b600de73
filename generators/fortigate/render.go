package fortigate

import (
	"bytes"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/proto"
)

// attr is one "set" command as FortiOS stores it: the values unescaped,
// and whether they are written in double quotes (names and text) or bare
// (keywords, numbers, addresses).
type attr struct {
	name   string
	values []string
	quoted bool
}

// entry is one "edit" block: its key (a name, or a policy id; "0" asks
// FortiOS for the next free id) and attributes, in the order written.
type entry struct {
	key   string
	attrs []attr
	// policy is the policy an entry of a policy table renders.
	policy *policy
}

func (e *entry) get(name string) (attr, bool) {
	for _, a := range e.attrs {
		if a.name == name {
			return a, true
		}
	}
	return attr{}, false
}

// table is one "config ... end" block.
type table struct {
	path    string
	entries []*entry
}

// numbered tables create entries by id; the others by name.
func numbered(path string) bool {
	switch path {
	case tablePolicy, tablePolicy6, tableLocalIn, tableLocalIn6:
		return true
	}
	return false
}

// tables lists what the profile asks for, in the order FortiOS needs
// before the next can name their entries (addresses, groups, services,
// service groups, policies): objects sorted by name, policies in rule
// order, new policies as "edit 0". Empty tables are left out.
func (b *builder) tables() []*table {
	var out []*table
	add := func(path string, es []*entry) {
		if len(es) > 0 {
			out = append(out, &table{path: path, entries: es})
		}
	}
	for _, f := range ir.Families {
		var es []*entry
		for _, a := range sortedValues(b.addresses) {
			if a.family == f {
				es = append(es, a.entry())
			}
		}
		add("firewall "+addrTable(f), es)
	}
	for _, f := range ir.Families {
		var es []*entry
		for _, g := range sortedValues(b.groups) {
			if g.family == f {
				es = append(es, g.entry())
			}
		}
		add("firewall addrgrp"+famSuffix(f), es)
	}
	var svcs, groups []*entry
	for _, s := range sortedValues(b.svcs) {
		svcs = append(svcs, s.entry())
	}
	for _, g := range sortedValues(b.svcGroups) {
		groups = append(groups, g.entry())
	}
	add("firewall service custom", svcs)
	add("firewall service group", groups)
	for _, path := range []string{tablePolicy, tablePolicy6, tableLocalIn, tableLocalIn6} {
		var es []*entry
		for _, p := range append(slices.Clone(b.policies), b.localIn...) {
			if p.table == path {
				es = append(es, p.entry(b.fg.LogTraffic))
			}
		}
		add(path, es)
	}
	return out
}

func addrTable(f ir.Family) string { return "address" + famSuffix(f) }

func famSuffix(f ir.Family) string {
	if f == ir.IPv6 {
		return "6"
	}
	return ""
}

func sortedValues[T any](m map[string]T) []T {
	var out []T
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[k])
	}
	return out
}

func bare(name string, values ...string) attr { return attr{name: name, values: values} }

func names(name string, values ...string) attr { return attr{name: name, values: values, quoted: true} }

// text is a free-text attribute, as FortiOS stores it: flattened and cut
// to limit bytes (see fortiRune).
func text(name, s string, limit int) attr {
	return attr{name: name, values: []string{generators.Flatten(s, limit, fortiRune)}, quoted: true}
}

func (a *address) entry() *entry {
	e := &entry{key: a.name}
	switch {
	case a.kind == kindFQDN:
		e.attrs = []attr{bare("type", "fqdn"), names("fqdn", a.fqdn)}
	case a.kind == kindRange:
		e.attrs = []attr{bare("type", "iprange"), bare("start-ip", a.rng.From().String()), bare("end-ip", a.rng.To().String())}
	case a.family == ir.IPv4:
		e.attrs = []attr{bare("type", "ipmask"), bare("subnet", a.prefix.Addr().String(), net.IP(net.CIDRMask(a.prefix.Bits(), 32)).String())}
	default:
		e.attrs = []attr{bare("type", "ipprefix"), bare("ip6", a.prefix.String())}
	}
	return e
}

func (g *addrGroup) entry() *entry {
	return &entry{key: g.name, attrs: []attr{names("member", g.members...), text("comment", g.comment, maxObjectComment)}}
}

func (s *service) entry() *entry {
	e := &entry{key: s.name}
	switch s.protocol {
	case proto.TCP, proto.UDP:
		e.attrs = []attr{bare("protocol", "TCP/UDP/SCTP"), bare(s.protocol.String()+"-portrange", s.ports.Strings()...)}
	case proto.ICMP, proto.ICMPv6:
		p := "ICMP"
		if s.protocol == proto.ICMPv6 {
			p = "ICMP6"
		}
		e.attrs = []attr{bare("protocol", p)}
		if s.icmpType >= 0 {
			e.attrs = append(e.attrs, bare("icmptype", strconv.Itoa(s.icmpType)))
		}
	}
	e.attrs = append(e.attrs, text("comment", s.comment, maxObjectComment))
	return e
}

func (g *serviceGroup) entry() *entry {
	return &entry{key: g.name, attrs: []attr{names("member", g.members...), text("comment", g.comment, maxObjectComment)}}
}

// entry writes a firewall policy (or policy6) entry, or a local-in one.
// Address lists of a family are written only when both sides have them.
// Local-in policies have no name: the references do not list one
// (reference section 7).
func (p *policy) entry(logtraffic string) *entry {
	e := &entry{key: "0", policy: p}
	if p.table == tableLocalIn || p.table == tableLocalIn6 {
		e.attrs = []attr{names("intf", p.intf...), names("srcaddr", p.srcaddr...), names("dstaddr", p.dstaddr...),
			bare("action", "accept"), names("service", p.service...), names("schedule", "always"),
			text("comments", p.comments, maxPolicyComment)}
		return e
	}
	e.attrs = []attr{names("name", p.name), names("srcintf", p.srcintf...), names("dstintf", p.dstintf...)}
	if len(p.srcaddr) > 0 {
		e.attrs = append(e.attrs, names("srcaddr", p.srcaddr...), names("dstaddr", p.dstaddr...))
	}
	if len(p.srcaddr6) > 0 {
		e.attrs = append(e.attrs, names("srcaddr6", p.srcaddr6...), names("dstaddr6", p.dstaddr6...))
	}
	e.attrs = append(e.attrs, bare("action", "accept"), names("schedule", "always"), names("service", p.service...),
		bare("logtraffic", logtraffic), text("comments", p.comments, maxPolicyComment), bare("status", "enable"))
	return e
}

// writeTables prints tables as CLI.
func writeTables(w *bytes.Buffer, ts []*table) {
	for _, t := range ts {
		fmt.Fprintf(w, "config %s\n", t.path)
		for _, e := range t.entries {
			writeEntry(w, t.path, e)
		}
		w.WriteString("end\n")
	}
}

func writeEntry(w *bytes.Buffer, path string, e *entry) {
	fmt.Fprintf(w, "    edit %s\n", editKey(path, e.key))
	for _, a := range e.attrs {
		writeAttr(w, "set", a)
	}
	w.WriteString("    next\n")
}

// editKey writes the key of an edit or delete: a policy id bare, a name
// in double quotes (checked to need no escaping).
func editKey(path, key string) string {
	if numbered(path) {
		return key
	}
	return quoteName(key)
}

func writeAttr(w *bytes.Buffer, cmd string, a attr) {
	vals := make([]string, len(a.values))
	for i, v := range a.values {
		if a.quoted {
			vals[i] = quoteText(v)
		} else {
			vals[i] = v
		}
	}
	fmt.Fprintf(w, "        %s %s %s\n", cmd, a.name, strings.Join(vals, " "))
}

// write prints the full snippet: the header, then the tables.
func (b *builder) write() []byte {
	var w bytes.Buffer
	b.header(&w)
	ts := b.tables()
	b.vdomOpen(&w)
	writeTables(&w, ts)
	b.vdomClose(&w)
	return w.Bytes()
}

// vdomOpen and vdomClose wrap the commands in the profile's VDOM.
func (b *builder) vdomOpen(w *bytes.Buffer) {
	if b.fg.VDOM != "" {
		fmt.Fprintf(w, "config vdom\nedit %s\n", b.fg.VDOM)
	}
}

func (b *builder) vdomClose(w *bytes.Buffer) {
	if b.fg.VDOM != "" {
		w.WriteString("end\n")
	}
}

// line writes one header line.
func line(w *bytes.Buffer, format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	if s == "" {
		w.WriteString("#\n")
		return
	}
	w.WriteString("# " + s + "\n")
}

// versionLines say which version the snippet is for and what that
// changes.
func (b *builder) versionLines(w *bytes.Buffer) {
	v := b.v
	line(w, "FortiOS %s, chosen with version under [fortigate] in the profile (6.0 to 8.0).", v)
	if v.merged() {
		line(w, "From 6.4 one firewall policy holds IPv4 (srcaddr, dstaddr) and IPv6")
		line(w, "(srcaddr6, dstaddr6); for 6.2 and earlier, generate with that version.")
	} else {
		line(w, "Up to 6.2 IPv6 has its own table, config firewall policy6, whose srcaddr")
		line(w, "and dstaddr name address6 objects; for 6.4 and later, generate with that version.")
	}
	if v.maxName() < 79 {
		line(w, "Names are at most %d characters on %s; longer ones end in a hash.", v.maxName(), v.name)
	}
	if len(b.localIn) > 0 {
		if v.localInList() {
			line(w, "Local-in policies list their interfaces in intf (%s).", v.name)
		} else {
			line(w, "Local-in policies take one interface each: one entry per source interface.")
		}
	}
}

// interfaceLines say how sides were put behind interfaces.
func (b *builder) interfaceLines(w *bytes.Buffer) {
	line(w, "Each side of a rule sits behind the interface or zone whose key in")
	line(w, "[fortigate.interfaces] holds its addresses (longest prefix; any is the")
	line(w, "default route). A side behind several interfaces gets a policy per pair of")
	line(w, "interfaces, holding the addresses behind each (groups pw-g-SET.INTF); a side")
	line(w, "of every address gets \"all\" on each interface but the other side's.")
	if b.fg.IntraInterface {
		line(w, "Rules within one interface get policies too (intra_interface = true).")
	} else {
		line(w, "Rules within one interface do not cross the FortiGate: they get no policy.")
	}
}

func (b *builder) header(w *bytes.Buffer) {
	line(w, "portwall FortiGate configuration for profile %s.", headerText(b.rs.Profile))
	line(w, "Generated by portwall: do not edit; change the profile and generate again.")
	line(w, "")
	b.versionLines(w)
	line(w, "")
	b.interfaceLines(w)
	line(w, "")
	line(w, "This is the whole configuration, for a FortiGate that has none of it yet.")
	if b.fg.VDOM != "" {
		line(w, "Paste it into the CLI as a global administrator: it enters VDOM %s itself.", b.fg.VDOM)
	} else {
		line(w, "Paste it into the CLI (in the VDOM the rules are for).")
	}
	line(w, "Objects are created by name; policies are appended with \"edit 0\" at the")
	line(w, "end of their table, below any policy that already matches the same traffic.")
	line(w, "To change what is on the FortiGate later, and to move portwall's policies")
	line(w, "into place (place under [fortigate]), generate against its configuration:")
	line(w, "  portwall generate PROFILE --target fortigate --running CONFIG")
	line(w, "which prints only what changes (CONFIG: a backup, or the output of show).")
	line(w, "")
	ownership(w, len(b.localIn) > 0)
	b.leftOut(w)
	w.WriteString("\n")
}

// ownership says what portwall owns on the FortiGate.
func ownership(w *bytes.Buffer, localIn bool) {
	line(w, "Everything portwall creates is named %s...; list it with, for example,", Prefix)
	line(w, "  show firewall policy | grep -f %s", Prefix)
	if localIn {
		line(w, "Local-in policies have no name: their comments start with %s", CommentPrefix)
	}
	line(w, "Addresses and services are named after their contents, policies after")
	line(w, "their deployment and flow (or comment), groups after the profile's sets.")
	line(w, "One profile per VDOM: a run against the running configuration deletes the")
	line(w, "%s... objects the profile does not have.", Prefix)
}

// leftOut lists the rules (or parts) no policy allows, and why.
func (b *builder) leftOut(w *bytes.Buffer) {
	if len(b.notes) == 0 {
		return
	}
	line(w, "")
	line(w, "Left out (no policy allows it):")
	for _, n := range b.notes {
		line(w, "  %s", headerText(n))
	}
}
