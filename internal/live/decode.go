package live

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/portwall/portwall/rules/proto"
)

// kind says how a field's bytes read.
type kind uint8

const (
	kindRaw kind = iota
	kindAddr
	kindPort
	kindNFProto
	kindL4Proto
	kindCTState
	kindIfIndex
	kindIfName
	kindICMP
	kindICMPv6
	kindNumber
)

// field is what a register holds: a value loaded from the packet or its
// metadata, perhaps masked.
type field struct {
	name string // "ip saddr", "tcp dport", "meta l4proto", "@nh,96,8"
	kind kind
	// full is the length of the whole field in bytes (4 for an IPv4
	// address); a load of fewer bytes is a prefix match.
	full int
	load int    // bytes loaded
	mask []byte // from a bitwise expression, or nil
}

// pred is one match of a rule.
type pred struct {
	text string
	// dep marks the dependencies nft inserts (meta nfproto, meta
	// l4proto): they are elided when a later match implies them, so that
	// a rule reads as nft prints it.
	dep   string   // "nfproto ipv4", "l4proto 6", or ""
	needs []string // the dependencies this match implies
}

// SetLookup returns a set and, for an anonymous one, its elements (as the
// kernel stores them), for rules that use it.
type SetLookup func(name string) (*nftables.Set, *elemList, bool)

// decoder turns one rule's expressions into nft syntax.
type decoder struct {
	regs   map[uint32]field
	preds  []pred
	stmts  []string
	fam    byte   // nfproto the rule has matched, 0 if none
	l4     int    // l4proto the rule has matched, -1 if none
	bounds []pred // a >= comparison waiting for its <=
	sets   SetLookup
	opaque []string
}

// Decode writes a rule's expressions as nft syntax (without comment).
// unknown lists what it could not read (expressions, or uses of
// registers, the decoder does not know); a rule with any is opaque, and
// its text holds only what could be read.
func Decode(exprs []expr.Any, sets SetLookup) (text string, unknown []string) {
	d := &decoder{regs: map[uint32]field{}, l4: -1, sets: sets}
	for _, e := range exprs {
		d.expr(e)
	}
	if len(d.bounds) > 0 {
		d.fail("unpaired comparison")
	}
	var words []string
	for i, p := range d.preds {
		if p.dep != "" && implied(p.dep, d.preds[i+1:]) {
			continue
		}
		words = append(words, p.text)
	}
	words = append(words, d.stmts...)
	return strings.Join(words, " "), d.opaque
}

func implied(dep string, later []pred) bool {
	for _, p := range later {
		if slices.Contains(p.needs, dep) {
			return true
		}
	}
	return false
}

func (d *decoder) fail(what string) { d.opaque = append(d.opaque, what) }

// reg maps the old 16-byte register names to their 4-byte ones, as the
// kernel does.
func reg(r uint32) uint32 {
	if r >= 1 && r <= 4 {
		return 8 + (r-1)*4
	}
	return r
}

func (d *decoder) expr(e expr.Any) {
	switch e := e.(type) {
	case *expr.Meta:
		if e.SourceRegister {
			d.fail("meta set")
			return
		}
		f, ok := metaField(e.Key)
		if !ok {
			d.fail(fmt.Sprintf("meta key %d", e.Key))
			return
		}
		d.regs[reg(e.Register)] = f
	case *expr.Ct:
		if e.SourceRegister || e.Key != expr.CtKeySTATE || e.OptDirection {
			d.fail("ct expression")
			return
		}
		d.regs[reg(e.Register)] = field{name: "ct state", kind: kindCTState, full: 4, load: 4}
	case *expr.Payload:
		if e.OperationType != expr.PayloadLoad {
			d.fail("payload write")
			return
		}
		d.regs[reg(e.DestRegister)] = d.payloadField(e)
	case *expr.Bitwise:
		f, ok := d.regs[reg(e.SourceRegister)]
		if !ok || len(e.Mask) != int(e.Len) || len(e.Xor) != int(e.Len) || !zero(e.Xor) || f.mask != nil {
			d.fail("bitwise")
			return
		}
		f.mask = slices.Clone(e.Mask)
		d.regs[reg(e.DestRegister)] = f
	case *expr.Cmp:
		d.cmp(e)
	case *expr.Range:
		f, ok := d.regs[reg(e.Register)]
		if !ok || f.mask != nil || (e.Op != expr.CmpOpEq && e.Op != expr.CmpOpNeq) {
			d.fail("range")
			return
		}
		op := ""
		if e.Op == expr.CmpOpNeq {
			op = "!= "
		}
		d.add(f, op+f.value(e.FromData)+"-"+f.value(e.ToData))
	case *expr.Lookup:
		d.lookup(e)
	case *expr.Verdict:
		d.verdict(e)
	case *expr.Counter:
		d.stmts = append(d.stmts, "counter")
	case *expr.Limit:
		d.limit(e)
	case *expr.Log:
		d.log(e)
	case *expr.Reject:
		d.reject(e)
	default:
		d.fail(fmt.Sprintf("%T", e))
	}
}

func metaField(k expr.MetaKey) (field, bool) {
	switch k {
	case expr.MetaKeyNFPROTO:
		return field{name: "meta nfproto", kind: kindNFProto, full: 1, load: 1}, true
	case expr.MetaKeyL4PROTO:
		return field{name: "meta l4proto", kind: kindL4Proto, full: 1, load: 1}, true
	case expr.MetaKeyIIF:
		return field{name: "iif", kind: kindIfIndex, full: 4, load: 4}, true
	case expr.MetaKeyOIF:
		return field{name: "oif", kind: kindIfIndex, full: 4, load: 4}, true
	case expr.MetaKeyIIFNAME:
		return field{name: "iifname", kind: kindIfName, full: 16, load: 16}, true
	case expr.MetaKeyOIFNAME:
		return field{name: "oifname", kind: kindIfName, full: 16, load: 16}, true
	}
	return field{}, false
}

// payloadField names a payload load the way nft does, from the family
// and transport protocol the rule has matched before it. A load nft
// would not name (an address without a family guard, say) stays raw.
func (d *decoder) payloadField(e *expr.Payload) field {
	off, n := int(e.Offset), int(e.Len)
	raw := func(base string) field {
		return field{name: fmt.Sprintf("@%s,%d,%d", base, off*8, n*8), kind: kindRaw, full: n, load: n}
	}
	switch e.Base {
	case expr.PayloadBaseNetworkHeader:
		type nf struct{ off, full int }
		var names map[nf]string
		switch d.fam {
		case unix.NFPROTO_IPV4:
			names = map[nf]string{{12, 4}: "ip saddr", {16, 4}: "ip daddr", {9, 1}: "ip protocol"}
		case unix.NFPROTO_IPV6:
			names = map[nf]string{{8, 16}: "ip6 saddr", {24, 16}: "ip6 daddr", {7, 1}: "ip6 hoplimit", {6, 1}: "ip6 nexthdr"}
		}
		for k, name := range names {
			if k.off == off && n >= 1 && n <= k.full {
				f := field{name: name, kind: kindAddr, full: k.full, load: n}
				if k.full == 1 {
					f.kind = kindNumber
					if strings.HasSuffix(name, "protocol") || strings.HasSuffix(name, "nexthdr") {
						f.kind = kindL4Proto
					}
					if n != 1 {
						return raw("nh")
					}
				}
				return f
			}
		}
		return raw("nh")
	case expr.PayloadBaseTransportHeader:
		switch {
		case off == 2 && n == 2:
			return field{name: l4name(d.l4) + " dport", kind: kindPort, full: 2, load: 2}
		case off == 0 && n == 2:
			return field{name: l4name(d.l4) + " sport", kind: kindPort, full: 2, load: 2}
		case off == 0 && n == 1 && d.l4 == unix.IPPROTO_ICMP:
			return field{name: "icmp type", kind: kindICMP, full: 1, load: 1}
		case off == 0 && n == 1 && d.l4 == unix.IPPROTO_ICMPV6:
			return field{name: "icmpv6 type", kind: kindICMPv6, full: 1, load: 1}
		}
		return raw("th")
	}
	return raw("ll")
}

func l4name(p int) string {
	switch p {
	case unix.IPPROTO_TCP:
		return "tcp"
	case unix.IPPROTO_UDP:
		return "udp"
	}
	return "th"
}

// needs lists the dependencies a match of f implies, which nft elides:
// an IPv4 field implies meta nfproto ipv4, tcp dport implies meta l4proto
// tcp, icmp type both.
func (d *decoder) needs(f field) []string {
	var out []string
	switch {
	case strings.HasPrefix(f.name, "ip ") || f.kind == kindICMP:
		out = append(out, "nfproto ipv4")
	case strings.HasPrefix(f.name, "ip6 ") || f.kind == kindICMPv6:
		out = append(out, "nfproto ipv6")
	}
	if strings.HasPrefix(f.name, "tcp ") || strings.HasPrefix(f.name, "udp ") || f.kind == kindICMP || f.kind == kindICMPv6 {
		out = append(out, "l4proto "+strconv.Itoa(d.l4))
	}
	return out
}

func (d *decoder) add(f field, value string) {
	d.preds = append(d.preds, pred{text: f.name + " " + value, needs: d.needs(f)})
}

func zero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

func (d *decoder) cmp(e *expr.Cmp) {
	f, ok := d.regs[reg(e.Register)]
	if !ok || len(e.Data) != f.load {
		d.fail("cmp")
		return
	}
	// Dependencies nft inserts: they set the context for later payloads.
	if f.mask == nil && e.Op == expr.CmpOpEq && f.kind == kindNFProto {
		d.fam = e.Data[0]
		d.preds = append(d.preds, pred{text: f.name + " " + f.value(e.Data), dep: "nfproto " + f.value(e.Data)})
		return
	}
	if f.mask == nil && e.Op == expr.CmpOpEq && f.kind == kindL4Proto && f.name == "meta l4proto" {
		d.l4 = int(e.Data[0])
		d.preds = append(d.preds, pred{text: f.name + " " + f.value(e.Data), dep: "l4proto " + strconv.Itoa(d.l4)})
		return
	}
	if f.kind == kindCTState && f.mask != nil {
		// ct state a,b: the state bits masked, compared not equal to 0.
		if e.Op != expr.CmpOpNeq || !zero(e.Data) {
			d.fail("ct state comparison")
			return
		}
		d.add(field{name: "ct state"}, ctStates(binary.NativeEndian.Uint32(f.mask)))
		return
	}
	switch e.Op {
	case expr.CmpOpEq, expr.CmpOpNeq:
		v, ok := f.masked(e.Data)
		if !ok {
			d.fail("mask")
			return
		}
		if e.Op == expr.CmpOpNeq {
			v = "!= " + v
		}
		d.add(f, v)
	case expr.CmpOpGte:
		d.bounds = append(d.bounds, pred{text: f.value(e.Data), dep: f.name})
	case expr.CmpOpLte:
		if len(d.bounds) == 0 || d.bounds[0].dep != f.name || f.mask != nil {
			d.fail("comparison")
			return
		}
		d.add(f, d.bounds[0].text+"-"+f.value(e.Data))
		d.bounds = nil
	default:
		d.fail("comparison")
	}
}

// masked writes a compared value: a full value, or an address prefix
// whether nft loaded fewer bytes or masked them.
func (f field) masked(data []byte) (string, bool) {
	if f.kind != kindAddr {
		if f.mask != nil {
			return "", false
		}
		return f.value(data), true
	}
	full := make([]byte, f.full)
	copy(full, data)
	ones := f.load * 8
	if f.mask != nil {
		n, ok := prefixLen(f.mask)
		if !ok {
			return "", false
		}
		ones = n
	}
	a, _ := netip.AddrFromSlice(full)
	p := netip.PrefixFrom(a, ones)
	if p.Masked() != p {
		return "", false
	}
	if ones == a.BitLen() {
		return a.String(), true
	}
	return p.String(), true
}

func prefixLen(mask []byte) (int, bool) {
	n := 0
	for i, b := range mask {
		ones := bits.LeadingZeros8(^b)
		n += ones
		if ones < 8 {
			if b<<ones != 0 || !zero(mask[i+1:]) {
				return 0, false
			}
			break
		}
	}
	return n, true
}

// value writes a field's bytes.
func (f field) value(b []byte) string {
	switch f.kind {
	case kindAddr:
		if a, ok := netip.AddrFromSlice(b); ok && len(b) == f.full {
			return a.String()
		}
	case kindPort:
		if len(b) == 2 {
			return strconv.Itoa(int(binary.BigEndian.Uint16(b)))
		}
	case kindNFProto:
		switch b[0] {
		case unix.NFPROTO_IPV4:
			return "ipv4"
		case unix.NFPROTO_IPV6:
			return "ipv6"
		}
	case kindL4Proto:
		switch b[0] {
		case unix.IPPROTO_TCP:
			return "tcp"
		case unix.IPPROTO_UDP:
			return "udp"
		case unix.IPPROTO_ICMP:
			return "icmp"
		case unix.IPPROTO_ICMPV6:
			return "ipv6-icmp"
		}
		return strconv.Itoa(int(b[0]))
	case kindIfIndex:
		if len(b) == 4 {
			if i := binary.NativeEndian.Uint32(b); i != 1 {
				return strconv.Itoa(int(i))
			}
			// The loopback is interface 1 in every network namespace.
			return `"lo"`
		}
	case kindIfName:
		name := string(bytes.TrimRight(b, "\x00"))
		if len(b) < 16 && !bytes.HasSuffix(b, []byte{0}) {
			name += "*"
		}
		return strconv.Quote(name)
	case kindCTState:
		if len(b) == 4 {
			return ctStates(binary.NativeEndian.Uint32(b))
		}
	case kindICMP:
		return proto.ICMPTypeName(proto.ICMP, b[0])
	case kindICMPv6:
		return proto.ICMPTypeName(proto.ICMPv6, b[0])
	case kindNumber:
		if len(b) == 1 {
			return strconv.Itoa(int(b[0]))
		}
	}
	return fmt.Sprintf("0x%x", b)
}

var ctNames = []struct {
	bit  uint32
	name string
}{{1, "invalid"}, {2, "established"}, {4, "related"}, {8, "new"}, {64, "untracked"}}

func ctStates(v uint32) string {
	var out []string
	for _, c := range ctNames {
		if v&c.bit != 0 {
			out = append(out, c.name)
			v &^= c.bit
		}
	}
	if v != 0 {
		out = append(out, fmt.Sprintf("0x%x", v))
	}
	return strings.Join(out, ",")
}

func (d *decoder) lookup(e *expr.Lookup) {
	if set, _, ok := d.sets(e.SetName); ok && strings.Contains(set.KeyType.Name, " . ") {
		d.concatLookup(e, set)
		return
	}
	f, ok := d.regs[reg(e.SourceRegister)]
	if !ok || e.IsDestRegSet || f.mask != nil {
		d.fail("lookup")
		return
	}
	op := ""
	if e.Invert {
		op = "!= "
	}
	if !strings.HasPrefix(e.SetName, "__") {
		d.add(f, op+"@"+e.SetName)
		return
	}
	set, elems, ok := d.sets(e.SetName)
	if !ok || set.IsMap {
		d.fail("anonymous set " + e.SetName)
		return
	}
	var values []string
	if f.kind == kindCTState {
		// ct state { a, b }: one set of host-order state bits.
		var v uint32
		for i := range elems.Len() {
			if len(elems.key(i)) != 4 {
				d.fail("ct state set")
				return
			}
			v |= binary.NativeEndian.Uint32(elems.key(i))
		}
		d.add(f, op+ctStates(v))
		return
	}
	spans := canonical(elems, set.Interval, false)
	for i := range spans.Len() {
		from, to := spans.key(i), spans.keyEnd(i)
		v := f.value(from)
		if !bytes.Equal(from, to) {
			v += "-" + f.value(to)
		}
		values = append(values, v)
	}
	if len(values) == 1 {
		d.add(f, op+values[0])
		return
	}
	d.add(f, op+"{ "+strings.Join(values, ", ")+" }")
}

// concatLookup reads a lookup in a concatenated set: the fields of its
// type, one after the other in 4-byte registers from the source register
// on ("ip saddr . meta l4proto . th dport @set").
func (d *decoder) concatLookup(e *expr.Lookup, set *nftables.Set) {
	if e.IsDestRegSet || e.Invert || strings.HasPrefix(e.SetName, "__") {
		d.fail("lookup")
		return
	}
	at := reg(e.SourceRegister)
	var names, needs []string
	for _, t := range nftables.ConcatSetTypeElements(set.KeyType) {
		f, ok := d.regs[at]
		if !ok || f.mask != nil || t.Bytes == 0 || f.load != int(t.Bytes) {
			d.fail("concatenated lookup")
			return
		}
		names = append(names, f.name)
		needs = append(needs, d.needs(f)...)
		at += (t.Bytes + 3) / 4
	}
	d.preds = append(d.preds, pred{text: strings.Join(names, " . ") + " @" + e.SetName, needs: needs})
}

// span is one element of a set: a value or an inclusive range, and the
// element's comment.
type span struct {
	from, to []byte
	comment  string
}

func (d *decoder) verdict(e *expr.Verdict) {
	switch e.Kind {
	case expr.VerdictAccept:
		d.stmts = append(d.stmts, "accept")
	case expr.VerdictDrop:
		d.stmts = append(d.stmts, "drop")
	case expr.VerdictReturn:
		d.stmts = append(d.stmts, "return")
	case expr.VerdictJump:
		d.stmts = append(d.stmts, "jump "+e.Chain)
	case expr.VerdictGoto:
		d.stmts = append(d.stmts, "goto "+e.Chain)
	default:
		d.fail(fmt.Sprintf("verdict %d", e.Kind))
	}
}

func (d *decoder) limit(e *expr.Limit) {
	unit := map[expr.LimitTime]string{expr.LimitTimeSecond: "second", expr.LimitTimeMinute: "minute", expr.LimitTimeHour: "hour", expr.LimitTimeDay: "day", expr.LimitTimeWeek: "week"}[e.Unit]
	if unit == "" || e.Type != expr.LimitTypePkts {
		d.fail("limit")
		return
	}
	over := ""
	if e.Over {
		over = "over "
	}
	d.stmts = append(d.stmts, fmt.Sprintf("limit rate %s%d/%s burst %d packets", over, e.Rate, unit, e.Burst))
}

var logLevels = []string{"emerg", "alert", "crit", "err", "warn", "notice", "info", "debug", "audit"}

func (d *decoder) log(e *expr.Log) {
	if e.Key&^(1<<unix.NFTA_LOG_PREFIX|1<<unix.NFTA_LOG_LEVEL) != 0 || e.Flags != 0 {
		d.fail("log options")
		return
	}
	s := "log"
	if e.Key&(1<<unix.NFTA_LOG_PREFIX) != 0 {
		s += " prefix " + strconv.Quote(string(bytes.TrimRight(e.Data, "\x00")))
	}
	if e.Key&(1<<unix.NFTA_LOG_LEVEL) != 0 {
		if int(e.Level) >= len(logLevels) {
			d.fail("log level")
			return
		}
		s += " level " + logLevels[e.Level]
	}
	d.stmts = append(d.stmts, s)
}

func (d *decoder) reject(e *expr.Reject) {
	switch {
	case e.Type == unix.NFT_REJECT_TCP_RST:
		d.stmts = append(d.stmts, "reject with tcp reset")
	case e.Type == unix.NFT_REJECT_ICMPX_UNREACH && e.Code == unix.NFT_REJECT_ICMPX_ADMIN_PROHIBITED:
		d.stmts = append(d.stmts, "reject with icmpx admin-prohibited")
	case e.Type == unix.NFT_REJECT_ICMPX_UNREACH && e.Code == unix.NFT_REJECT_ICMPX_PORT_UNREACH:
		d.stmts = append(d.stmts, "reject")
	default:
		d.stmts = append(d.stmts, fmt.Sprintf("reject type %d code %d", e.Type, e.Code))
	}
}
