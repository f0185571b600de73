package live

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"go4.org/netipx"
	"golang.org/x/sys/unix"

	"github.com/portwall/portwall/generators/nftables/nftparse"
	"github.com/portwall/portwall/rules/proto"
)

// Objects is a table as netlink objects: what apply sends.
type Objects struct {
	Table  *nftables.Table
	Sets   []SetObject // named sets, in script order
	Chains []*nftables.Chain
	Rules  []RuleObject

	anonCount int
	comments  interner
	byName    map[string]*nftables.Set
}

// SetObject is a set with its elements, as the kernel stores them.
type SetObject struct {
	Set   *nftables.Set
	elems *elemList
}

// RuleObject is a rule with the anonymous sets its lookups use.
type RuleObject struct {
	Chain   string
	Exprs   []expr.Any
	Comment string
	Anon    []SetObject
}

// Compile turns the nftables backend's script into netlink objects,
// encoding each statement as nft 1.0 does (dependencies first, port lists
// as anonymous sets, ranges as two comparisons), so that a table applied
// from them reads back like one loaded with `nft -f` from the script.
//
// It accepts the statements portwall writes and nothing else: the script
// is portwall's own output, and anything unexpected is a bug to report,
// never something to guess at.
func Compile(script []byte) (*Objects, error) {
	o := &Objects{Table: &nftables.Table{Name: TableName, Family: nftables.TableFamilyINet}, comments: interner{}, byName: map[string]*nftables.Set{}}
	err := nftparse.Walk(script, nftparse.Table{
		Set: func(name string, n int, next func() (string, int)) error {
			s, err := o.compileSet(name, next)
			if err != nil {
				return fmt.Errorf("line %d: %w", n, err)
			}
			o.Sets = append(o.Sets, s)
			o.byName[name] = s.Set
			return nil
		},
		Chain: func(name string, n int) error {
			drop := nftables.ChainPolicyDrop
			o.Chains = append(o.Chains, &nftables.Chain{Name: name, Table: o.Table, Type: nftables.ChainTypeFilter,
				Hooknum: hooks()[name], Priority: nftables.ChainPriorityFilter, Policy: &drop})
			return nil
		},
		Rule: func(chain, text string, n int) error {
			r, err := o.compileRule(text)
			if err != nil {
				return fmt.Errorf("line %d: %w", n, err)
			}
			r.Chain = chain
			o.Rules = append(o.Rules, r)
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

func (o *Objects) compileSet(name string, next func() (string, int)) (SetObject, error) {
	s := &nftables.Set{Table: o.Table, Name: name}
	for {
		l, _ := next()
		switch {
		case l == "}":
			if s.KeyType.Name == "" {
				return SetObject{}, fmt.Errorf("set %s: no type", name)
			}
			return SetObject{Set: s, elems: &elemList{}}, nil
		case strings.HasPrefix(l, "type "):
			var types []nftables.SetDatatype
			for _, name := range strings.Split(strings.TrimPrefix(l, "type "), " . ") {
				t, ok := setTypes()[name]
				if !ok {
					return SetObject{}, fmt.Errorf("set %s: type %q", name, l)
				}
				types = append(types, t)
			}
			s.KeyType = types[0]
			if len(types) > 1 {
				s.KeyType = nftables.MustConcatSetType(types...)
				s.Concatenation = true
			}
		case l == "flags interval":
			s.Interval = true
		case strings.HasPrefix(l, "comment "):
			c, err := strconv.Unquote(strings.TrimPrefix(l, "comment "))
			if err != nil {
				return SetObject{}, fmt.Errorf("set %s: comment: %w", name, err)
			}
			s.Comment = c
		case strings.HasPrefix(l, "elements = {"):
			els, err := o.elements(s, strings.TrimPrefix(l, "elements = {"), next)
			if err != nil {
				return SetObject{}, fmt.Errorf("set %s: %w", name, err)
			}
			if l, _ := next(); l != "}" {
				return SetObject{}, fmt.Errorf("set %s: unexpected %q after the elements", name, l)
			}
			return SetObject{Set: s, elems: els}, nil
		default:
			return SetObject{}, fmt.Errorf("set %s: unexpected %q", name, l)
		}
	}
}

// setTypes are the set types portwall's scripts use. Built on first use: package-level map literals are built by every
// run's initialisation, whether it touches the kernel or not.
var setTypes = sync.OnceValue(func() map[string]nftables.SetDatatype {
	return map[string]nftables.SetDatatype{
		"ipv4_addr": nftables.TypeIPAddr, "ipv6_addr": nftables.TypeIP6Addr,
		"inet_proto": nftables.TypeInetProto, "inet_service": nftables.TypeInetService,
		"icmp_type": nftables.TypeICMPType, "icmpv6_type": nftables.TypeICMP6Type,
	}
})

// splitElements splits a line of a set's elements at the commas outside
// quoted comments (which portwall writes without '"').
func splitElements(text string, out []string) []string {
	quoted, start := false, 0
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			out = append(out, text[start:i])
			start = i + 1
		}
	}
	return append(out, text[start:])
}

// elements reads a set's elements, from the rest of the line that opens
// them on, one line at a time (a large set has 100,000 lines), and
// encodes them as nft does: address sets as merged intervals;
// concatenated sets one element each, with its first and last keys;
// other interval sets as starts and end markers. Comments stay with their
// element.
func (o *Objects) elements(s *nftables.Set, line string, nextLine func() (string, int)) (*elemList, error) {
	// The elements' text first (substrings of the script), to size the
	// list once: a set of 140,000 elements grown by appending copies
	// itself over and over.
	var pieces []string
	for {
		last := strings.HasSuffix(line, "}")
		n := len(pieces)
		pieces = splitElements(strings.TrimSuffix(line, "}"), pieces)
		for k := n; k < len(pieces); k++ {
			if pieces[k] = strings.TrimSpace(pieces[k]); pieces[k] != "" {
				continue
			}
			// Empty after a comma at the end of a line, or before a "}"
			// alone on its line.
			if k == len(pieces)-1 && (!last || n > 0 && strings.TrimSpace(line) == "}") {
				pieces = pieces[:k]
				break
			}
			return nil, fmt.Errorf("empty element in %q", line)
		}
		if last {
			break
		}
		if line, _ = nextLine(); line == "" {
			return nil, fmt.Errorf("elements not closed")
		}
	}
	type item struct{ value, comment string }
	items := func(yield func(item, error) bool) {
		for _, e := range pieces {
			v, c, hasComment := strings.Cut(e, ` comment "`)
			if hasComment {
				if !strings.HasSuffix(c, `"`) {
					yield(item{}, fmt.Errorf("element %q", e))
					return
				}
				c = o.comments.str(strings.TrimSuffix(c, `"`))
			}
			if !yield(item{strings.TrimSpace(v), c}, nil) {
				return
			}
		}
	}
	out := &elemList{}
	if s.KeyType.Name == "ipv4_addr" || s.KeyType.Name == "ipv6_addr" {
		var b netipx.IPSetBuilder
		for it, err := range items {
			if err != nil {
				return nil, err
			}
			if it.comment != "" {
				return nil, fmt.Errorf("address set element %q with a comment", it.value)
			}
			r, err := parseRange(it.value)
			if err != nil {
				return nil, err
			}
			b.AddRange(r)
		}
		ips, err := b.IPSet()
		if err != nil {
			return nil, err
		}
		for _, r := range ips.Ranges() {
			intervalElements(out, r.From().AsSlice(), r.To().AsSlice(), "")
		}
		return out, nil
	}
	types := nftables.ConcatSetTypeElements(s.KeyType)
	if s.Concatenation {
		out.grow(len(pieces), 2*int(s.KeyType.Bytes))
	}
	var spans []span
	var from, to []byte
	for it, err := range items {
		if err != nil {
			return nil, err
		}
		from, to = from[:0], to[:0]
		rest := it.value
		if strings.Count(rest, " . ") != len(types)-1 {
			return nil, fmt.Errorf("element %q does not fit type %s", it.value, s.KeyType.Name)
		}
		for i, t := range types {
			field := rest
			if i < len(types)-1 {
				var ok bool
				field, rest, ok = strings.Cut(rest, " . ")
				if !ok {
					return nil, fmt.Errorf("element %q does not fit type %s", it.value, s.KeyType.Name)
				}
			}
			n := len(from)
			var err error
			if from, to, err = appendField(t, field, from, to); err != nil {
				return nil, err
			}
			if s.Concatenation {
				// Every field of a concatenation takes whole registers.
				for (len(from)-n)%4 != 0 {
					from, to = append(from, 0), append(to, 0)
				}
			}
		}
		switch {
		case s.Concatenation:
			out.add(from, to, false, it.comment)
		case !s.Interval:
			if !bytes.Equal(from, to) {
				return nil, fmt.Errorf("range %q in a set without flags interval", it.value)
			}
			out.add(from, nil, false, it.comment)
		default:
			spans = append(spans, span{from: slices.Clone(from), to: slices.Clone(to), comment: it.comment})
		}
	}
	// An interval set's ranges, merged where they touch or overlap as nft
	// merges them, as start and end markers.
	slices.SortFunc(spans, func(a, b span) int { return bytes.Compare(a.from, b.from) })
	var merged []span
	for _, sp := range spans {
		if n := len(merged); n > 0 && merged[n-1].comment == "" && sp.comment == "" {
			last := &merged[n-1]
			if end, ok := next(last.to); !ok || bytes.Compare(sp.from, end) <= 0 {
				if bytes.Compare(sp.to, last.to) > 0 {
					last.to = sp.to
				}
				continue
			}
		}
		merged = append(merged, sp)
	}
	for _, sp := range merged {
		intervalElements(out, sp.from, sp.to, sp.comment)
	}
	return out, nil
}

// appendField reads one field of an element, and appends its first and
// last value to from and to.
func appendField(t nftables.SetDatatype, v string, from, to []byte) ([]byte, []byte, error) {
	switch t.Name {
	case "ipv4_addr", "ipv6_addr":
		r, err := parseRange(v)
		if err != nil || r.From().BitLen() != int(t.Bytes)*8 {
			return nil, nil, fmt.Errorf("%s %q", t.Name, v)
		}
		return appendAddr(from, r.From()), appendAddr(to, r.To()), nil
	case "inet_service":
		// Ports, most of a large set's elements: read without allocating.
		lo, hi, isRange := strings.Cut(v, "-")
		if !isRange {
			hi = lo
		}
		a, err1 := strconv.ParseUint(lo, 10, 16)
		b, err2 := strconv.ParseUint(hi, 10, 16)
		if err1 != nil || err2 != nil || b < a {
			return nil, nil, fmt.Errorf("%s %q", t.Name, v)
		}
		return binary.BigEndian.AppendUint16(from, uint16(a)), binary.BigEndian.AppendUint16(to, uint16(b)), nil
	}
	a, b, err := fieldValue(t, v)
	return append(from, a...), append(to, b...), err
}

func appendAddr(b []byte, a netip.Addr) []byte {
	if a.Is4() {
		x := a.As4()
		return append(b, x[:]...)
	}
	x := a.As16()
	return append(b, x[:]...)
}

// fieldValue reads one field of an element: its first and last value.
func fieldValue(t nftables.SetDatatype, v string) (from, to []byte, err error) {
	switch t.Name {
	case "inet_proto":
		p, err := proto.Parse(v)
		if err != nil {
			return nil, nil, err
		}
		return []byte{p.Number()}, []byte{p.Number()}, nil
	}
	lo, hi, isRange := strings.Cut(v, "-")
	if !isRange || t.Name != "inet_service" && knownType(t.Name, v) {
		// A single value; ICMP type names hold dashes (echo-request).
		lo, hi = v, v
	}
	var n [2]uint64
	for i, x := range []string{lo, hi} {
		switch t.Name {
		case "inet_service":
			n[i], err = strconv.ParseUint(x, 10, 16)
		case "icmp_type", "icmpv6_type":
			p := proto.ICMP
			if t.Name == "icmpv6_type" {
				p = proto.ICMPv6
			}
			var ty uint8
			ty, err = proto.ParseICMPType(p, x)
			n[i] = uint64(ty)
		default:
			err = fmt.Errorf("type %s", t.Name)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s %q: %w", t.Name, v, err)
		}
	}
	if n[1] < n[0] {
		return nil, nil, fmt.Errorf("%s %q: reversed range", t.Name, v)
	}
	if t.Bytes == 2 {
		return binary.BigEndian.AppendUint16(nil, uint16(n[0])), binary.BigEndian.AppendUint16(nil, uint16(n[1])), nil
	}
	return []byte{byte(n[0])}, []byte{byte(n[1])}, nil
}

// knownType reports whether v is one ICMP type of set type name.
func knownType(name, v string) bool {
	p := proto.ICMP
	if name == "icmpv6_type" {
		p = proto.ICMPv6
	}
	_, err := proto.ParseICMPType(p, v)
	return err == nil
}

func parseRange(e string) (netipx.IPRange, error) {
	switch {
	case strings.Contains(e, "/"):
		p, err := netip.ParsePrefix(e)
		if err != nil {
			return netipx.IPRange{}, err
		}
		return netipx.RangeOfPrefix(p), nil
	case strings.Contains(e, "-"):
		return netipx.ParseIPRange(e)
	}
	a, err := netip.ParseAddr(e)
	return netipx.IPRangeFrom(a, a), err
}

// intervalElements adds an inclusive range of an interval set to l as
// the kernel stores it: the start, and an end marker one past the last
// value (none when the range runs to the largest value). nft puts an
// all-zero end marker before a first range that does not start at zero;
// so does this, so that both read back alike.
func intervalElements(l *elemList, from, to []byte, comment string) {
	if l.Len() == 0 && !zero(from) {
		l.add(make([]byte, len(from)), nil, true, "")
	}
	l.add(from, nil, false, comment)
	if end, ok := next(to); ok {
		l.add(end, nil, true, "")
	}
}

// next is key plus one, and false when key is the largest value.
func next(key []byte) ([]byte, bool) {
	out := slices.Clone(key)
	for i := len(out) - 1; i >= 0; i-- {
		out[i]++
		if out[i] != 0 {
			return out, true
		}
	}
	return nil, false
}

// hooks are the base chains' hooks, by chain name. Built on first use.
var hooks = sync.OnceValue(func() map[string]*nftables.ChainHook {
	return map[string]*nftables.ChainHook{"input": nftables.ChainHookInput, "output": nftables.ChainHookOutput}
})

// rule compiles one statement at a time, keeping the family and
// transport protocol matched so far, as nft does to insert dependencies
// once.
type rule struct {
	o     *Objects
	exprs []expr.Any
	anon  []SetObject
	fam   byte
	l4    byte
}

func (o *Objects) compileRule(line string) (RuleObject, error) {
	text, comment, ok := strings.Cut(line, ` comment "`)
	if !ok || !strings.HasSuffix(comment, `"`) {
		return RuleObject{}, fmt.Errorf("rule without a comment: %q", line)
	}
	comment = strings.TrimSuffix(comment, `"`)
	w, err := nftparse.Words(text)
	if err != nil {
		return RuleObject{}, err
	}
	r := &rule{o: o}
	for len(w) > 0 {
		n, err := r.statement(w)
		if err != nil {
			return RuleObject{}, fmt.Errorf("%w in %q", err, text)
		}
		w = w[n:]
	}
	return RuleObject{Exprs: r.exprs, Comment: comment, Anon: r.anon}, nil
}

func (r *rule) emit(es ...expr.Any) { r.exprs = append(r.exprs, es...) }

func (r *rule) nfproto(f byte) {
	if r.fam != f {
		r.emit(&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1}, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{f}})
		r.fam = f
	}
}

func (r *rule) l4proto(p byte) {
	if r.l4 != p {
		r.emit(&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1}, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{p}})
		r.l4 = p
	}
}

func native32(v uint32) []byte {
	b := make([]byte, 4)
	binary.NativeEndian.PutUint32(b, v)
	return b
}

// statement compiles the statement at the start of w and says how many
// words it took.
func (r *rule) statement(w []string) (int, error) {
	word := func(i int) string {
		if i < len(w) {
			return w[i]
		}
		return ""
	}
	switch {
	case word(2) == ".",
		(w[0] == "icmp" || w[0] == "icmpv6") && word(1) == "type" && strings.HasPrefix(word(2), "@"),
		(w[0] == "tcp" || w[0] == "udp") && word(1) == "dport" && strings.HasPrefix(word(2), "@"):
		return r.concat(w)
	case w[0] == "accept" || w[0] == "drop":
		kind := expr.VerdictAccept
		if w[0] == "drop" {
			kind = expr.VerdictDrop
		}
		r.emit(&expr.Verdict{Kind: kind})
		return 1, nil
	case w[0] == "ct" && word(1) == "state":
		var mask uint32
		for _, s := range strings.Split(word(2), ",") {
			i := slices.IndexFunc(ctNames, func(c struct {
				bit  uint32
				name string
			}) bool {
				return c.name == s
			})
			if i < 0 {
				return 0, fmt.Errorf("ct state %q", s)
			}
			mask |= ctNames[i].bit
		}
		r.emit(&expr.Ct{Register: 1, Key: expr.CtKeySTATE},
			&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: native32(mask), Xor: make([]byte, 4)},
			&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: make([]byte, 4)})
		return 3, nil
	case (w[0] == "iif" || w[0] == "oif") && word(1) == `"lo"`:
		key := expr.MetaKeyIIF
		if w[0] == "oif" {
			key = expr.MetaKeyOIF
		}
		// The loopback is interface 1 in every network namespace; nft
		// resolves the name to its index when it loads the rule.
		r.emit(&expr.Meta{Key: key, Register: 1}, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: native32(1)})
		return 2, nil
	case w[0] == "meta" && word(1) == "nfproto":
		f := map[string]byte{"ipv4": unix.NFPROTO_IPV4, "ipv6": unix.NFPROTO_IPV6}[word(2)]
		if f == 0 {
			return 0, fmt.Errorf("meta nfproto %q", word(2))
		}
		r.fam = 0
		r.nfproto(f)
		return 3, nil
	case w[0] == "meta" && word(1) == "l4proto":
		p := map[string]byte{"tcp": unix.IPPROTO_TCP, "udp": unix.IPPROTO_UDP, "icmp": unix.IPPROTO_ICMP, "ipv6-icmp": unix.IPPROTO_ICMPV6}[word(2)]
		if p == 0 {
			return 0, fmt.Errorf("meta l4proto %q", word(2))
		}
		r.l4 = 0
		r.l4proto(p)
		return 3, nil
	case (w[0] == "ip" || w[0] == "ip6") && (word(1) == "saddr" || word(1) == "daddr"):
		return 3, r.address(w[0], word(1), word(2))
	case w[0] == "ip6" && word(1) == "hoplimit":
		n, err := strconv.ParseUint(word(2), 10, 8)
		if err != nil {
			return 0, fmt.Errorf("ip6 hoplimit %q", word(2))
		}
		r.nfproto(unix.NFPROTO_IPV6)
		r.emit(&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 7, Len: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{byte(n)}})
		return 3, nil
	case (w[0] == "tcp" || w[0] == "udp") && word(1) == "dport":
		return 3, r.ports(w[0], word(2))
	case (w[0] == "icmp" || w[0] == "icmpv6") && word(1) == "type":
		return 3, r.icmpTypes(w[0], word(2))
	case w[0] == "limit" && word(1) == "rate" && word(3) == "burst" && word(5) == "packets":
		rate, unit, ok := strings.Cut(word(2), "/")
		n, err1 := strconv.ParseUint(rate, 10, 64)
		burst, err2 := strconv.ParseUint(word(4), 10, 32)
		if !ok || unit != "second" || err1 != nil || err2 != nil {
			return 0, fmt.Errorf("limit %q", strings.Join(w[:6], " "))
		}
		r.emit(&expr.Limit{Type: expr.LimitTypePkts, Rate: n, Unit: expr.LimitTimeSecond, Burst: uint32(burst)})
		return 6, nil
	case w[0] == "log" && word(1) == "prefix" && word(3) == "level" && word(4) == "info":
		prefix, err := strconv.Unquote(word(2))
		if err != nil {
			return 0, fmt.Errorf("log prefix %q", word(2))
		}
		r.emit(&expr.Log{Key: 1<<unix.NFTA_LOG_PREFIX | 1<<unix.NFTA_LOG_LEVEL, Level: expr.LogLevelInfo, Data: []byte(prefix)})
		return 5, nil
	case w[0] == "reject" && word(1) == "with" && word(2) == "tcp" && word(3) == "reset":
		r.emit(&expr.Reject{Type: unix.NFT_REJECT_TCP_RST})
		return 4, nil
	case w[0] == "reject" && word(1) == "with" && word(2) == "icmpx" && word(3) == "admin-prohibited":
		r.emit(&expr.Reject{Type: unix.NFT_REJECT_ICMPX_UNREACH, Code: unix.NFT_REJECT_ICMPX_ADMIN_PROHIBITED})
		return 4, nil
	}
	return 0, fmt.Errorf("unknown statement %q", strings.Join(w[:min(3, len(w))], " "))
}

// concatFields are the fields a concatenated lookup may hold, with the
// family and transport protocol they imply and how they are loaded. Built
// on first use.
var concatFields = sync.OnceValue(func() map[string]concatField {
	return map[string]concatField{
		"ip saddr":    {unix.NFPROTO_IPV4, 0, payload(expr.PayloadBaseNetworkHeader, 12, 4), 4},
		"ip daddr":    {unix.NFPROTO_IPV4, 0, payload(expr.PayloadBaseNetworkHeader, 16, 4), 4},
		"ip6 saddr":   {unix.NFPROTO_IPV6, 0, payload(expr.PayloadBaseNetworkHeader, 8, 16), 16},
		"ip6 daddr":   {unix.NFPROTO_IPV6, 0, payload(expr.PayloadBaseNetworkHeader, 24, 16), 16},
		"tcp dport":   {0, unix.IPPROTO_TCP, payload(expr.PayloadBaseTransportHeader, 2, 2), 2},
		"udp dport":   {0, unix.IPPROTO_UDP, payload(expr.PayloadBaseTransportHeader, 2, 2), 2},
		"icmp type":   {unix.NFPROTO_IPV4, unix.IPPROTO_ICMP, payload(expr.PayloadBaseTransportHeader, 0, 1), 1},
		"icmpv6 type": {unix.NFPROTO_IPV6, unix.IPPROTO_ICMPV6, payload(expr.PayloadBaseTransportHeader, 0, 1), 1},
	}
})

type concatField struct {
	fam, l4 byte
	load    func(reg uint32) []expr.Any
	size    uint32
}

func payload(base expr.PayloadBase, off, n uint32) func(uint32) []expr.Any {
	return func(reg uint32) []expr.Any {
		return []expr.Any{&expr.Payload{DestRegister: reg, Base: base, Offset: off, Len: n}}
	}
}

// concat compiles a lookup of fields in a named set, as nft does: the
// family and transport dependencies first, then the first field into
// register 1 and each next one into the 4-byte registers after it.
func (r *rule) concat(w []string) (int, error) {
	var names []string
	n := 0
	for ; n+1 < len(w); n += 3 {
		names = append(names, w[n]+" "+w[n+1])
		if n+2 >= len(w) || w[n+2] != "." {
			break
		}
	}
	at := n + 2
	if at >= len(w) || !strings.HasPrefix(w[at], "@") {
		return 0, fmt.Errorf("concatenation without a set")
	}
	s := r.o.set(strings.TrimPrefix(w[at], "@"))
	if s == nil {
		return 0, fmt.Errorf("undefined set %s", w[at])
	}
	var fam, l4 byte
	fields := concatFields()
	for _, name := range names {
		f, ok := fields[name]
		if !ok {
			return 0, fmt.Errorf("field %q in a concatenation", name)
		}
		fam, l4 = max(fam, f.fam), max(l4, f.l4)
	}
	if fam != 0 {
		r.nfproto(fam)
	}
	if l4 != 0 {
		r.l4proto(l4)
	}
	reg := uint32(1)
	word := uint32(0)
	for i, name := range names {
		f := fields[name]
		if i > 0 {
			reg = unix.NFT_REG32_00 + word
		}
		r.emit(f.load(reg)...)
		word += (f.size + 3) / 4
	}
	r.emit(&expr.Lookup{SourceRegister: 1, SetName: s.Name, SetID: s.ID})
	return at + 1, nil
}

func (r *rule) address(family, dir, value string) error {
	fam, off := byte(unix.NFPROTO_IPV4), uint32(12)
	size := uint32(4)
	if family == "ip6" {
		fam, off, size = unix.NFPROTO_IPV6, 8, 16
	}
	if dir == "daddr" {
		off += size
	}
	r.nfproto(fam)
	if set, ok := strings.CutPrefix(value, "@"); ok {
		s := r.o.set(set)
		if s == nil {
			return fmt.Errorf("undefined set %s", set)
		}
		r.emit(&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: size},
			&expr.Lookup{SourceRegister: 1, SetName: s.Name, SetID: s.ID})
		return nil
	}
	// A network, or an address alone (the generator writes no /32).
	p, err := netip.ParsePrefix(value)
	if a, aerr := netip.ParseAddr(value); aerr == nil {
		p, err = a.Prefix(a.BitLen())
	}
	if err != nil || p.Masked() != p || (family == "ip6") != p.Addr().Is6() {
		return fmt.Errorf("%s %s %q", family, dir, value)
	}
	// nft loads whole bytes of a byte-aligned prefix, and masks the rest.
	bits := p.Bits()
	if bits%8 == 0 {
		n := uint32(bits / 8)
		r.emit(&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: n},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: p.Addr().AsSlice()[:n]})
		return nil
	}
	mask := make([]byte, size)
	for i := 0; i < bits; i++ {
		mask[i/8] |= 0x80 >> (i % 8)
	}
	r.emit(&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: size},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: size, Mask: mask, Xor: make([]byte, size)},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: p.Addr().AsSlice()})
	return nil
}

func (r *rule) ports(p, value string) error {
	l4 := byte(unix.IPPROTO_TCP)
	if p == "udp" {
		l4 = unix.IPPROTO_UDP
	}
	r.l4proto(l4)
	r.emit(&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2})
	items := nftparse.List(value)
	type pr struct{ first, last uint16 }
	var rs []pr
	for _, it := range items {
		a, b, isRange := strings.Cut(it, "-")
		first, err1 := strconv.ParseUint(a, 10, 16)
		last := first
		var err2 error
		if isRange {
			last, err2 = strconv.ParseUint(b, 10, 16)
		}
		if err1 != nil || err2 != nil || first == 0 || last < first {
			return fmt.Errorf("%s dport %q", p, it)
		}
		rs = append(rs, pr{uint16(first), uint16(last)})
	}
	be := func(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
	switch {
	case len(rs) == 1 && rs[0].first == rs[0].last:
		r.emit(&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: be(rs[0].first)})
	case len(rs) == 1:
		r.emit(&expr.Cmp{Op: expr.CmpOpGte, Register: 1, Data: be(rs[0].first)},
			&expr.Cmp{Op: expr.CmpOpLte, Register: 1, Data: be(rs[0].last)})
	default:
		interval := slices.ContainsFunc(rs, func(x pr) bool { return x.first != x.last })
		s := &nftables.Set{Table: r.o.Table, Anonymous: true, Constant: true, Interval: interval, KeyType: nftables.TypeInetService}
		els := &elemList{}
		for _, x := range rs {
			if interval {
				intervalElements(els, be(x.first), be(x.last), "")
			} else {
				els.add(be(x.first), nil, false, "")
			}
		}
		r.lookupAnon(s, els)
	}
	return nil
}

func (r *rule) icmpTypes(name, value string) error {
	p, fam, l4, typ := proto.ICMP, byte(unix.NFPROTO_IPV4), byte(unix.IPPROTO_ICMP), nftables.TypeICMPType
	if name == "icmpv6" {
		p, fam, l4, typ = proto.ICMPv6, unix.NFPROTO_IPV6, unix.IPPROTO_ICMPV6, nftables.TypeICMP6Type
	}
	r.nfproto(fam)
	r.l4proto(l4)
	r.emit(&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 0, Len: 1})
	var types []byte
	for _, it := range nftparse.List(value) {
		t, err := proto.ParseICMPType(p, it)
		if err != nil {
			return err
		}
		types = append(types, t)
	}
	if len(types) == 1 {
		r.emit(&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: types})
		return nil
	}
	s := &nftables.Set{Table: r.o.Table, Anonymous: true, Constant: true, KeyType: typ}
	els := &elemList{}
	for _, t := range types {
		els.add([]byte{t}, nil, false, "")
	}
	r.lookupAnon(s, els)
	return nil
}

// lookupAnon matches register 1 against an anonymous set, given a name
// unique in the table until apply lets the library name it.
func (r *rule) lookupAnon(s *nftables.Set, els *elemList) {
	r.o.anonCount++
	s.Name = fmt.Sprintf("__set%d", r.o.anonCount-1)
	r.anon = append(r.anon, SetObject{Set: s, elems: els})
	r.emit(&expr.Lookup{SourceRegister: 1, SetName: s.Name})
}

func (o *Objects) set(name string) *nftables.Set { return o.byName[name] }

// CanonicalTable decodes the objects with the decoder live rules go
// through: the desired table in canonical form.
func (o *Objects) CanonicalTable() *Table {
	t := &Table{}
	named := map[string]*nftables.Set{}
	for _, s := range o.Sets {
		t.Sets = append(t.Sets, canonicalSet(s.Set, s.elems))
		named[s.Set.Name] = s.Set
	}
	for _, c := range o.Chains {
		ch := canonicalChain(c)
		for _, r := range o.Rules {
			if r.Chain != c.Name {
				continue
			}
			lookup := func(name string) (*nftables.Set, *elemList, bool) {
				for _, a := range r.Anon {
					if a.Set.Name == name {
						return a.Set, a.elems, true
					}
				}
				s, ok := named[name]
				return s, nil, ok
			}
			text, unknown := Decode(r.Exprs, lookup)
			ch.Rules = append(ch.Rules, Rule{Text: text, Comment: r.Comment, Opaque: len(unknown) > 0, Why: strings.Join(unknown, "; ")})
		}
		t.Chains = append(t.Chains, ch)
	}
	t.sort()
	return t
}
