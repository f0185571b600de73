package live

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/portwall/portwall/rules/proto"
)

// Packet is the first packet of a new connection that portwall's rules
// allow, as another table's chain sees it: on the input hook (to this
// host) or the output hook (from it).
type Packet struct {
	Out          bool // the output hook; else input
	Protocol     proto.Protocol
	Src, Dst     netip.Addr
	SPort, DPort uint16 // TCP and UDP
	ICMPType     uint8  // ICMP and ICMPv6
}

// Version is the packet's IP version.
func (p Packet) Version() int {
	if p.Src.Is4() {
		return 4
	}
	return 6
}

// Verdict is what one chain does with a packet.
type Verdict string

const (
	// Passes: the chain accepts the packet, or lets it go on to the next
	// chain on the hook.
	Passes Verdict = "passes"
	// Drops: the chain drops or rejects it, or its policy does.
	Drops Verdict = "drops"
	// Unknown: the answer depends on something portwall cannot evaluate
	// (an expression it cannot follow, the socket's owner, ...).
	Unknown Verdict = "unknown"
)

// Judgement is the answer for one packet and one chain.
type Judgement struct {
	Verdict Verdict `json:"verdict"`
	// The rule that drops the packet, or that could not be followed: its
	// chain (the base chain or one it jumps to), handle and text. For a
	// drop by the base chain's policy, Rule is empty.
	Chain  string `json:"chain,omitempty"`
	Handle uint64 `json:"handle,omitempty"`
	Rule   string `json:"rule,omitempty"`
	// How says what happens: "rejected", "dropped", "dropped by the
	// chain's policy", "queued to a userspace program", ...
	How string `json:"how,omitempty"`
	// Why says, for Unknown, what portwall cannot evaluate.
	Why string `json:"why,omitempty"`
	// Interfaces, when the chain treats the packet by the interface it
	// comes in on (or goes out by), lists those where it is dropped (or
	// cannot be told), "*" standing for any interface no rule names;
	// empty means every interface.
	Interfaces []string `json:"interfaces,omitempty"`
}

// OtherInterface stands for an interface no rule of the table names.
const OtherInterface = "*"

// Describe writes the judgement for a report: "rejected by chain
// filter_IN_public handle 94: reject with icmpx admin-prohibited".
func (j Judgement) Describe() string {
	var s string
	switch {
	case j.Verdict == Passes:
		return "passes"
	case j.Rule == "" && j.Verdict == Drops:
		s = j.How
	case j.Verdict == Drops:
		s = fmt.Sprintf("%s by chain %s handle %d: %s", j.How, j.Chain, j.Handle, j.Rule)
	default:
		s = "cannot tell: " + j.Why
	}
	if len(j.Interfaces) > 0 {
		var names []string
		for _, n := range j.Interfaces {
			if n == OtherInterface {
				n = "any interface no rule names"
			} else {
				n = fmt.Sprintf("%q", n)
			}
			names = append(names, n)
		}
		s += " (on " + strings.Join(names, ", ") + ")"
	}
	return s
}

// Judge follows packet p through chain c and every chain it jumps to,
// expression by expression, as the kernel would for the first packet of
// a new connection (conntrack state new, no mark), and says whether it
// passes. What the answer cannot depend on is assumed; what it may depend
// on and portwall cannot know (a socket's owner, a rate, an expression
// it cannot follow) is tried both ways: if the answers differ, the
// verdict is Unknown.
func (o *Others) Judge(c OtherChain, p Packet) Judgement {
	if !c.Sees(p.Version()) || (c.Hook == "output") != p.Out {
		return Judgement{Verdict: Passes}
	}
	t := o.tables[tableKey{c.Family, c.Table}]
	if t == nil {
		return Judgement{Verdict: Unknown, Why: "the table was not read"}
	}
	if !t.mayStop(c) {
		return Judgement{Verdict: Passes}
	}
	nh, th := p.headers()
	ifaces := append(slices.Clone(t.ifnames), OtherInterface)
	var drops, unknowns []string
	var first, firstUnknown *Judgement
	for _, ifname := range ifaces {
		m := &machine{t: t, p: p, base: c, nh: nh, th: th}
		copy(m.ifname[:], otherName(ifname, t.ifnames))
		j := m.judge()
		switch j.Verdict {
		case Drops:
			drops = append(drops, ifname)
			if first == nil {
				first = &j
			}
		case Unknown:
			unknowns = append(unknowns, ifname)
			if firstUnknown == nil {
				firstUnknown = &j
			}
		}
	}
	switch {
	case first != nil:
		if len(drops) < len(ifaces) {
			first.Interfaces = drops
		}
		return *first
	case firstUnknown != nil:
		if len(unknowns) < len(ifaces) {
			firstUnknown.Interfaces = unknowns
		}
		return *firstUnknown
	}
	return Judgement{Verdict: Passes}
}

// otherName is the name of an interface that no rule of the table names,
// not even by prefix.
func otherName(ifname string, named []string) string {
	if ifname != OtherInterface {
		return ifname
	}
	for i := 0; ; i++ {
		n := fmt.Sprintf("pwother%d", i)
		if !slices.ContainsFunc(named, func(m string) bool { return strings.HasPrefix(n, strings.TrimSuffix(m, "0")) }) {
			return n
		}
	}
}

// Bounds on one judgement: the kernel allows 16 nested jumps; a ruleset
// whose forks multiply past maxLeaves paths is not followed further.
const (
	maxDepth  = 16
	maxLeaves = 512
	maxSteps  = 100000
)

// machine runs one packet, arriving on (or leaving by) one interface,
// through one base chain.
type machine struct {
	t      *otherTable
	p      Packet
	ifname [ifnameLen]byte // NUL-padded
	base   OtherChain
	nh, th []byte
	// scratch holds a value on its way into a register.
	scratch [4]byte
	// lastChain and lastRules cache the chain the path is in.
	lastChain string
	lastRules []*otherRule
	leaves    []leaf
	steps     int
}

// leaf is how one path through the chains ends.
type leaf struct {
	j Judgement
	// assumed names the first thing the path assumed it could not know
	// ("" when it assumed nothing).
	assumed string
}

// frame is where a jump returns to.
type frame struct {
	chain string
	rule  int
}

// state is a position in the chains and what the path has set so far.
type state struct {
	chain  string
	rule   int
	expr   int
	stack  []frame
	regs   regs
	mark   uint32 // meta mark
	ctmark uint32
	// markUnknown, ctmarkUnknown say why the marks are not known (set by
	// something portwall does not compute).
	markUnknown, ctmarkUnknown string
	assumed                    string
}

func (m *machine) judge() Judgement {
	m.run(state{chain: m.base.Chain, stack: make([]frame, 0, 4)})
	var passes, drops, unknowns int
	var drop, unknown *leaf
	for i := range m.leaves {
		l := &m.leaves[i]
		switch l.j.Verdict {
		case Passes:
			passes++
		case Drops:
			drops++
			if drop == nil {
				drop = l
			}
		default:
			unknowns++
			if unknown == nil {
				unknown = l
			}
		}
	}
	switch {
	case len(m.leaves) > maxLeaves:
		return Judgement{Verdict: Unknown, Why: fmt.Sprintf("more than %d paths through chain %s; portwall does not follow it further", maxLeaves, m.base.Chain)}
	case unknown != nil:
		return unknown.j
	case drops > 0 && passes == 0:
		return drop.j
	case drops > 0:
		j := drop.j
		return Judgement{Verdict: Unknown, Chain: j.Chain, Handle: j.Handle, Rule: j.Rule, How: j.How,
			Why: fmt.Sprintf("%s by chain %s handle %d (%s) or not, depending on %s", j.How, j.Chain, j.Handle, j.Rule, drop.assumed)}
	}
	return Judgement{Verdict: Passes}
}

// rules returns a chain's rules, remembering the last chain asked for:
// most steps stay in one chain.
func (m *machine) rules(chain string) ([]*otherRule, bool) {
	if chain != m.lastChain || m.lastRules == nil {
		rules, ok := m.t.chains[chain]
		if !ok {
			return nil, false
		}
		m.lastChain, m.lastRules = chain, rules
	}
	return m.lastRules, true
}

func (m *machine) end(s *state, j Judgement) {
	m.leaves = append(m.leaves, leaf{j: j, assumed: s.assumed})
}

// run follows one path to its end, forking where it must.
func (m *machine) run(s state) {
	for {
		if m.steps++; m.steps > maxSteps || len(m.leaves) > maxLeaves {
			m.end(&s, Judgement{Verdict: Unknown, Why: "the chains are too long to follow"})
			return
		}
		rules, ok := m.rules(s.chain)
		if !ok {
			m.end(&s, Judgement{Verdict: Unknown, Why: fmt.Sprintf("chain %s was not read", s.chain)})
			return
		}
		if s.rule >= len(rules) {
			// The end of a chain: a regular chain returns, a base chain
			// applies its policy.
			if len(s.stack) > 0 {
				f := s.stack[len(s.stack)-1]
				s.stack = s.stack[:len(s.stack)-1]
				s.chain, s.rule, s.expr = f.chain, f.rule+1, 0
				continue
			}
			if m.base.Policy == "drop" {
				m.end(&s, Judgement{Verdict: Drops, Chain: m.base.Chain, How: "dropped by the policy of chain " + m.base.Chain})
			} else {
				m.end(&s, Judgement{Verdict: Passes})
			}
			return
		}
		r := rules[s.rule]
		if s.expr == 0 {
			s.regs = regs{}
		}
		v, matched, done := m.exec(&s, r)
		if done {
			return
		}
		if !matched {
			s.rule, s.expr = s.rule+1, 0
			continue
		}
		if !m.verdict(&s, r, v) {
			return
		}
	}
}

// fork copies s for the branch that assumes what (the first assumption
// is the one reported).
func (s *state) fork(what string) state {
	t := *s
	t.stack = slices.Clone(s.stack)
	if t.assumed == "" {
		t.assumed = what
	}
	return t
}

// verdict applies a verdict at the end of rule r; it reports whether the
// path goes on (in s).
func (m *machine) verdict(s *state, r *otherRule, v expr.Verdict) bool {
	switch v.Kind {
	case expr.VerdictAccept:
		m.end(s, Judgement{Verdict: Passes})
		return false
	case expr.VerdictDrop:
		m.end(s, Judgement{Verdict: Drops, Chain: s.chain, Handle: r.handle, Rule: r.text, How: "dropped"})
		return false
	case expr.VerdictStolen:
		m.end(s, Judgement{Verdict: Unknown, Chain: s.chain, Handle: r.handle, Rule: r.text, Why: fmt.Sprintf("chain %s handle %d (%s) takes the packet over", s.chain, r.handle, r.text)})
		return false
	case expr.VerdictQueue:
		m.end(s, Judgement{Verdict: Unknown, Chain: s.chain, Handle: r.handle, Rule: r.text, How: "queued", Why: fmt.Sprintf("chain %s handle %d (%s) hands the packet to a userspace program, which decides", s.chain, r.handle, r.text)})
		return false
	case expr.VerdictContinue, expr.VerdictBreak:
		s.rule, s.expr = s.rule+1, 0
		return true
	case expr.VerdictJump, expr.VerdictGoto:
		if len(s.stack) >= maxDepth {
			m.end(s, Judgement{Verdict: Unknown, Chain: s.chain, Handle: r.handle, Rule: r.text, Why: "jumps nest deeper than the kernel allows"})
			return false
		}
		if v.Kind == expr.VerdictJump {
			s.stack = append(s.stack, frame{s.chain, s.rule})
		}
		s.chain, s.rule, s.expr = v.Chain, 0, 0
		return true
	case expr.VerdictReturn:
		if len(s.stack) == 0 {
			s.rule = len(m.t.chains[s.chain]) // the base chain's policy
		} else {
			f := s.stack[len(s.stack)-1]
			s.stack = s.stack[:len(s.stack)-1]
			s.chain, s.rule = f.chain, f.rule+1
		}
		s.expr = 0
		return true
	}
	m.end(s, Judgement{Verdict: Unknown, Chain: s.chain, Handle: r.handle, Rule: r.text, Why: fmt.Sprintf("verdict %d", v.Kind)})
	return false
}

// terminal ends the path at rule r with a verdict of its own (a
// statement such as reject or dnat).
func (m *machine) terminal(s *state, r *otherRule, v Verdict, how string) {
	j := Judgement{Verdict: v, How: how}
	if v != Passes {
		j.Chain, j.Handle, j.Rule = s.chain, r.handle, r.text
	}
	if v == Unknown {
		j.Why = fmt.Sprintf("chain %s handle %d (%s): %s", s.chain, r.handle, r.text, how)
	}
	m.end(s, j)
}

// exec runs rule r from s.expr. It returns the rule's verdict (matched
// false when the rule does not match, or ends without one), or done when
// the path has ended (a terminal statement, or forks that took it over).
func (m *machine) exec(s *state, r *otherRule) (v expr.Verdict, matched, done bool) {
	for ; s.expr < len(r.exprs); s.expr++ {
		if r.missing != "" && s.expr == r.readable {
			// What follows cannot be read: the rule may not match (go
			// on), or match with a verdict no one can read.
			t := s.fork(fmt.Sprintf("chain %s handle %d (%s): %s", s.chain, r.handle, r.text, r.missing))
			m.end(&t, Judgement{Verdict: Unknown, Chain: s.chain, Handle: r.handle, Rule: r.text, Why: t.assumed})
			s.assumed = t.assumed
			return v, false, false
		}
		e := r.exprs[s.expr]
		res := m.step(s, r, e)
		switch res.kind {
		case stepNext:
		case stepNoMatch:
			return v, false, false
		case stepVerdict:
			return res.verdict, true, false
		case stepEnded:
			return v, false, true
		case stepFork:
			// What cannot be known: follow the path where it holds (the
			// rest of the rule runs), then the one where it does not (the
			// next rule).
			what := fmt.Sprintf("chain %s handle %d (%s): %s", s.chain, r.handle, r.text, res.why)
			t := s.fork(what)
			t.expr++
			m.run(t)
			if s.assumed == "" {
				s.assumed = what
			}
			return v, false, false
		case stepForkVerdicts:
			// A verdict map looked up with a key portwall cannot know:
			// every verdict in it, and no match.
			what := fmt.Sprintf("chain %s handle %d (%s): %s", s.chain, r.handle, r.text, res.why)
			for _, vv := range res.verdicts {
				t := s.fork(what)
				if m.verdict(&t, r, vv) {
					m.run(t)
				}
			}
			if s.assumed == "" {
				s.assumed = what
			}
			return v, false, false
		}
	}
	return v, false, false
}

type stepKind uint8

const (
	stepNext stepKind = iota
	stepNoMatch
	stepVerdict
	stepEnded
	stepFork
	stepForkVerdicts
)

type step struct {
	kind     stepKind
	verdict  expr.Verdict
	verdicts []expr.Verdict
	why      string
}

var (
	goOn    = step{kind: stepNext}
	noMatch = step{kind: stepNoMatch}
	ended   = step{kind: stepEnded}
)

func fork(format string, args ...any) step {
	return step{kind: stepFork, why: fmt.Sprintf(format, args...)}
}

func matchIf(ok bool) step {
	if ok {
		return goOn
	}
	return noMatch
}

// step runs one expression.
func (m *machine) step(s *state, r *otherRule, e expr.Any) step {
	switch e := e.(type) {
	case *expr.Verdict:
		return step{kind: stepVerdict, verdict: *e}
	case *expr.Immediate:
		if e.Register == unix.NFT_REG_VERDICT {
			return fork("an immediate verdict portwall cannot read")
		}
		if !s.regs.set(e.Register, e.Data) {
			return fork("immediate into register %d", e.Register)
		}
	case *expr.Meta:
		return m.meta(s, e)
	case *expr.Ct:
		return m.ct(s, e)
	case *expr.Payload:
		return m.payload(s, e)
	case *expr.Bitwise:
		return s.regs.bitwise(e)
	case *expr.Cmp:
		return s.regs.cmp(e)
	case *expr.Range:
		return s.regs.inRange(e)
	case *expr.Lookup:
		return m.lookup(s, e)
	case *expr.Fib:
		return m.fib(s, e)
	case *expr.Exthdr:
		return m.exthdr(s, e)
	case *expr.Counter, *expr.Log, *expr.Notrack, *expr.Dup, *expr.SecMark:
		// Statements that neither match nor decide.
	case *expr.Limit:
		// A new connection's first packet is within any rate a chain
		// limits to: "limit rate" matches it, "limit rate over" does not.
		return matchIf(!e.Over)
	case *expr.Quota:
		return matchIf(e.Over == (e.Consumed > e.Bytes))
	case *expr.Objref:
		switch e.Type {
		case unix.NFT_OBJECT_COUNTER, unix.NFT_OBJECT_CT_HELPER, unix.NFT_OBJECT_CT_TIMEOUT, unix.NFT_OBJECT_SECMARK, unix.NFT_OBJECT_CT_EXPECT:
			return goOn
		}
		return fork("the named object %s (type %d)", e.Name, e.Type)
	case *expr.Dynset:
		if len(e.Exprs) > 0 {
			return fork("a set update with a stateful expression")
		}
	case *expr.Reject:
		m.terminal(s, r, Drops, "rejected")
		return ended
	case *expr.NAT, *expr.Masq, *expr.Redir:
		// Translation ends the chain as an accept would.
		m.terminal(s, r, Passes, "translated")
		return ended
	case *expr.Queue:
		m.terminal(s, r, Unknown, "hands the packet to a userspace program (queue), which decides")
		return ended
	case *expr.Match:
		return m.xtMatch(s, e)
	case *expr.Target:
		return m.xtTarget(s, r, e)
	default:
		return fork("%s, which portwall cannot evaluate", exprName(e))
	}
	return goOn
}

func exprName(e expr.Any) string {
	return strings.ToLower(strings.TrimPrefix(fmt.Sprintf("%T", e), "*expr."))
}

// regs are the kernel's registers for one rule: 16 data words of 4 bytes
// (NFT_REG32_00..15, which the old 16-byte NFT_REG_1..4 overlap). A word
// portwall cannot know holds no bytes but a reason.
type regs struct {
	data [64]byte
	// unknown[w] says why word w cannot be known; not[w], for the first
	// word of an unknown value, is a value it is known not to be (an
	// interface index that is not the loopback's, a route's interface
	// that is not none).
	unknown [16]string
	not     [16][]byte
}

// word is a register's first word, or -1.
func word(r uint32) int {
	switch {
	case r >= unix.NFT_REG_1 && r <= unix.NFT_REG_4:
		return int(r-unix.NFT_REG_1) * 4
	case r >= unix.NFT_REG32_00 && r <= unix.NFT_REG32_15:
		return int(r - unix.NFT_REG32_00)
	}
	return -1
}

func (g *regs) span(r uint32, n int) (int, bool) {
	w := word(r)
	if w < 0 || n <= 0 || w*4+n > len(g.data) {
		return 0, false
	}
	return w, true
}

// set loads b into register r, zero-padding its last word.
func (g *regs) set(r uint32, b []byte) bool {
	w, ok := g.span(r, len(b))
	if !ok {
		return false
	}
	words := (len(b) + 3) / 4
	for i := w; i < w+words; i++ {
		g.unknown[i], g.not[i] = "", nil
		copy(g.data[i*4:i*4+4], []byte{0, 0, 0, 0})
	}
	copy(g.data[w*4:], b)
	return true
}

// setUnknown marks n bytes from register r as unknown, known not to be
// not (nil: anything).
func (g *regs) setUnknown(r uint32, n int, why string, not []byte) bool {
	w, ok := g.span(r, n)
	if !ok {
		return false
	}
	for i := w; i < w+(n+3)/4; i++ {
		g.unknown[i], g.not[i] = why, nil
	}
	g.not[w] = not
	return true
}

// get returns n bytes from register r (the register itself: callers do
// not change them), or why they cannot be known.
func (g *regs) get(r uint32, n int) ([]byte, string, bool) {
	w, ok := g.span(r, n)
	if !ok {
		return nil, fmt.Sprintf("register %d", r), false
	}
	for i := w; i < w+(n+3)/4; i++ {
		if g.unknown[i] != "" {
			return nil, g.unknown[i], false
		}
	}
	return g.data[w*4 : w*4+n], "", true
}

// isNot reports whether the unknown value in register r is known to
// differ from b.
func (g *regs) isNot(r uint32, b []byte) bool {
	w, ok := g.span(r, len(b))
	return ok && g.not[w] != nil && bytes.Equal(g.not[w], b)
}

func (g *regs) bitwise(e *expr.Bitwise) step {
	n := int(e.Len)
	b, why, ok := g.get(e.SourceRegister, n)
	if !ok {
		if g.setUnknown(e.DestRegister, n, why, nil) {
			return goOn
		}
		return fork("bitwise")
	}
	if len(e.Mask) != n || len(e.Xor) != n {
		return fork("bitwise")
	}
	var buf [64]byte
	out := buf[:n]
	for i := range b {
		out[i] = b[i]&e.Mask[i] ^ e.Xor[i]
	}
	if !g.set(e.DestRegister, out) {
		return fork("bitwise")
	}
	return goOn
}

func (g *regs) cmp(e *expr.Cmp) step {
	b, why, ok := g.get(e.Register, len(e.Data))
	if !ok {
		if g.isNot(e.Register, e.Data) {
			switch e.Op {
			case expr.CmpOpEq:
				return noMatch
			case expr.CmpOpNeq:
				return goOn
			}
		}
		return fork("%s", why)
	}
	d := bytes.Compare(b, e.Data)
	switch e.Op {
	case expr.CmpOpEq:
		return matchIf(d == 0)
	case expr.CmpOpNeq:
		return matchIf(d != 0)
	case expr.CmpOpLt:
		return matchIf(d < 0)
	case expr.CmpOpLte:
		return matchIf(d <= 0)
	case expr.CmpOpGt:
		return matchIf(d > 0)
	case expr.CmpOpGte:
		return matchIf(d >= 0)
	}
	return fork("comparison %d", e.Op)
}

func (g *regs) inRange(e *expr.Range) step {
	b, why, ok := g.get(e.Register, len(e.FromData))
	if !ok {
		return fork("%s", why)
	}
	in := bytes.Compare(b, e.FromData) >= 0 && bytes.Compare(b, e.ToData) <= 0
	switch e.Op {
	case expr.CmpOpEq:
		return matchIf(in)
	case expr.CmpOpNeq:
		return matchIf(!in)
	}
	return fork("range %d", e.Op)
}

// headers builds the packet's network and transport headers, as the
// first packet of a connection carries them: a TCP SYN without options, a
// UDP datagram, an ICMP message with a small payload.
func (p Packet) headers() (nh, th []byte) {
	switch p.Protocol {
	case proto.TCP:
		th = make([]byte, 20)
		binary.BigEndian.PutUint16(th[0:], p.SPort)
		binary.BigEndian.PutUint16(th[2:], p.DPort)
		binary.BigEndian.PutUint32(th[4:], 1)
		th[12] = 5 << 4
		th[13] = tcpSYN
		binary.BigEndian.PutUint16(th[14:], 64240)
	case proto.UDP:
		th = make([]byte, 8+16)
		binary.BigEndian.PutUint16(th[0:], p.SPort)
		binary.BigEndian.PutUint16(th[2:], p.DPort)
		binary.BigEndian.PutUint16(th[4:], uint16(len(th)))
	default:
		th = make([]byte, 8+16)
		th[0] = p.ICMPType
		binary.BigEndian.PutUint16(th[4:], 1)
		binary.BigEndian.PutUint16(th[6:], 1)
	}
	src, dst := p.Src.AsSlice(), p.Dst.AsSlice()
	if p.Version() == 4 {
		nh = make([]byte, 20)
		nh[0] = 0x45
		binary.BigEndian.PutUint16(nh[2:], uint16(len(nh)+len(th)))
		binary.BigEndian.PutUint16(nh[6:], 0x4000) // don't fragment
		nh[8] = hopLimit
		nh[9] = p.Protocol.Number()
		copy(nh[12:], src)
		copy(nh[16:], dst)
		return nh, th
	}
	nh = make([]byte, 40)
	nh[0] = 0x60
	binary.BigEndian.PutUint16(nh[4:], uint16(len(th)))
	nh[6] = p.Protocol.Number()
	nh[7] = hopLimit
	copy(nh[8:], src)
	copy(nh[24:], dst)
	return nh, th
}

const (
	tcpSYN   = 0x02
	hopLimit = 64
	// ARPHRD_ETHER, the type of the interfaces packets from other
	// machines use.
	arphrdEther = 1
)

func (m *machine) nfproto() byte {
	if m.p.Version() == 4 {
		return unix.NFPROTO_IPV4
	}
	return unix.NFPROTO_IPV6
}

func u32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }

// u32 and u16 write a value into the machine's scratch buffer, which
// regs.set copies at once.
func (m *machine) u32(v uint32) []byte {
	binary.NativeEndian.PutUint32(m.scratch[:4], v)
	return m.scratch[:4]
}

func (m *machine) u16(v uint16) []byte {
	binary.NativeEndian.PutUint16(m.scratch[:2], v)
	return m.scratch[:2]
}

// meta loads (or sets) packet metadata. The interface a packet comes in
// on exists on the input hook only, the one it goes out by on the output
// hook only: loading the other one ends the rule, as in the kernel.
func (m *machine) meta(s *state, e *expr.Meta) step {
	if e.SourceRegister {
		switch e.Key {
		case expr.MetaKeyMARK:
			b, why, ok := s.regs.get(e.Register, 4)
			s.mark, s.markUnknown = 0, why
			if ok {
				s.mark = binary.NativeEndian.Uint32(b)
			}
		case expr.MetaKeyNFTRACE, expr.MetaKeyPRIORITY, expr.MetaKeyPKTTYPE, expr.MetaKeySECMARK:
		default:
			return fork("meta %d set", e.Key)
		}
		return goOn
	}
	in := !m.p.Out
	var b []byte
	switch e.Key {
	case expr.MetaKeyLEN:
		b = m.u32(uint32(len(m.nh) + len(m.th)))
	case expr.MetaKeyPROTOCOL:
		b = []byte{0x08, 0x00}
		if m.p.Version() == 6 {
			b = []byte{0x86, 0xdd}
		}
	case expr.MetaKeyNFPROTO:
		b = []byte{m.nfproto()}
	case expr.MetaKeyL4PROTO:
		b = []byte{m.p.Protocol.Number()}
	case expr.MetaKeyMARK:
		if s.markUnknown != "" {
			s.regs.setUnknown(e.Register, 4, s.markUnknown, nil)
			return goOn
		}
		b = m.u32(s.mark)
	case expr.MetaKeyPRIORITY, expr.MetaKeySECMARK:
		b = m.u32(0)
	case expr.MetaKeyPKTTYPE:
		b = []byte{unix.PACKET_HOST}
	case expr.MetaKeyIIFNAME, expr.MetaKeyOIFNAME:
		if in != (e.Key == expr.MetaKeyIIFNAME) {
			return noMatch
		}
		b = m.ifname[:]
	case expr.MetaKeyIIFTYPE, expr.MetaKeyOIFTYPE:
		if in != (e.Key == expr.MetaKeyIIFTYPE) {
			return noMatch
		}
		b = m.u16(arphrdEther)
	case expr.MetaKeyIIF, expr.MetaKeyOIF:
		if in != (e.Key == expr.MetaKeyIIF) {
			return noMatch
		}
		// Not the loopback (index 1, in every namespace); which other
		// index depends on the machine.
		if !s.regs.setUnknown(e.Register, 4, "the index of the interface", u32(1)) {
			return fork("meta")
		}
	case expr.MetaKeySKUID, expr.MetaKeySKGID:
		if in {
			return noMatch // no local socket on input
		}
		if !s.regs.setUnknown(e.Register, 4, "the user or group of the program that connects", nil) {
			return fork("meta")
		}
		return goOn
	default:
		if !s.regs.setUnknown(e.Register, 16, fmt.Sprintf("meta key %d", e.Key), nil) {
			return fork("meta")
		}
		return goOn
	}
	if !s.regs.set(e.Register, b) {
		return fork("meta into register %d", e.Register)
	}
	return goOn
}

// ct loads conntrack data of a new connection.
func (m *machine) ct(s *state, e *expr.Ct) step {
	if e.SourceRegister {
		switch e.Key {
		case expr.CtKeyMARK:
			b, why, ok := s.regs.get(e.Register, 4)
			s.ctmark, s.ctmarkUnknown = 0, why
			if ok {
				s.ctmark = binary.NativeEndian.Uint32(b)
			}
		case expr.CtKeyEVENTMASK, expr.CtKeyLABELS, expr.CtKeySECMARK, expr.CtKeyZONE:
		default:
			return fork("ct %d set", e.Key)
		}
		return goOn
	}
	var b []byte
	switch e.Key {
	case expr.CtKeySTATE:
		b = m.u32(ctStateNew)
	case expr.CtKeyDIRECTION:
		b = []byte{0} // IP_CT_DIR_ORIGINAL
	case expr.CtKeySTATUS:
		b = m.u32(ctStatusNew)
	case expr.CtKeyMARK:
		if s.ctmarkUnknown != "" {
			s.regs.setUnknown(e.Register, 4, s.ctmarkUnknown, nil)
			return goOn
		}
		b = m.u32(s.ctmark)
	case expr.CtKeyLABELS:
		b = make([]byte, 16)
	case expr.CtKeyZONE:
		b = m.u16(0)
	case expr.CtKeyL3PROTOCOL:
		b = []byte{m.nfproto()}
	case expr.CtKeyPROTOCOL:
		b = []byte{m.p.Protocol.Number()}
	default:
		if !s.regs.setUnknown(e.Register, 16, fmt.Sprintf("ct key %d", e.Key), nil) {
			return fork("ct")
		}
		return goOn
	}
	if !s.regs.set(e.Register, b) {
		return fork("ct into register %d", e.Register)
	}
	return goOn
}

// ctStateNew is NF_CT_STATE_BIT(IP_CT_NEW), as ct state matches it;
// a new connection's status has no bit set yet (not expected, not NATed,
// not confirmed).
const (
	ctStateNew  = 8
	ctStatusNew = 0
)

func (m *machine) payload(s *state, e *expr.Payload) step {
	if e.OperationType != expr.PayloadLoad {
		return fork("a payload write")
	}
	var src []byte
	switch e.Base {
	case expr.PayloadBaseNetworkHeader:
		src = m.nh
	case expr.PayloadBaseTransportHeader:
		src = m.th
	default:
		if !s.regs.setUnknown(e.DestRegister, int(e.Len), "the link-layer header", nil) {
			return fork("payload")
		}
		return goOn
	}
	off, n := int(e.Offset), int(e.Len)
	if off+n > len(src) {
		return noMatch // beyond the packet: the kernel ends the rule
	}
	if !s.regs.set(e.DestRegister, src[off:off+n]) {
		return fork("payload into register %d", e.DestRegister)
	}
	return goOn
}

// fib answers route lookups as for a packet between this host and
// another machine: the host's own address is local, the other's unicast,
// and a route back exists.
func (m *machine) fib(s *state, e *expr.Fib) step {
	local, remote := uint32(unix.RTN_LOCAL), uint32(unix.RTN_UNICAST)
	switch {
	case e.ResultADDRTYPE && e.FlagDADDR:
		if m.p.Out {
			local = remote
		}
		s.regs.set(e.Register, m.u32(local))
	case e.ResultADDRTYPE && e.FlagSADDR:
		if !m.p.Out {
			local = remote
		}
		s.regs.set(e.Register, m.u32(local))
	case (e.ResultOIF || e.ResultOIFNAME) && e.FlagPRESENT:
		s.regs.set(e.Register, []byte{1})
	case e.ResultOIF:
		if !s.regs.setUnknown(e.Register, 4, "which interface the route uses", make([]byte, 4)) {
			return fork("fib")
		}
	default:
		if !s.regs.setUnknown(e.Register, 16, "a route lookup", nil) {
			return fork("fib")
		}
	}
	return goOn
}

// exthdr: the packets judged carry no IPv6 extension header; TCP options
// (a SYN usually has some) are not known.
func (m *machine) exthdr(s *state, e *expr.Exthdr) step {
	if e.SourceRegister != 0 {
		return goOn // writing an option changes no verdict
	}
	if e.Op == expr.ExthdrOpIpv6 {
		if e.Flags&unix.NFT_EXTHDR_F_PRESENT != 0 {
			s.regs.set(e.DestRegister, []byte{0})
			return goOn
		}
		return noMatch
	}
	if !s.regs.setUnknown(e.DestRegister, max(int(e.Len), 1), "the TCP options of the connection's first packet", nil) {
		return fork("exthdr")
	}
	return goOn
}

// lookup matches a register against a set, or loads a map's value (a
// verdict map decides).
func (m *machine) lookup(s *state, e *expr.Lookup) step {
	set, ok := m.t.sets[e.SetName]
	if !ok {
		return fork("set %s, which was not read", e.SetName)
	}
	n := set.keyLen()
	if n == 0 {
		return noMatch // an empty set holds nothing
	}
	key, why, ok := s.regs.get(e.SourceRegister, n)
	verdictMap := e.IsDestRegSet && e.DestRegister == unix.NFT_REG_VERDICT
	if !ok {
		if verdictMap {
			var vs []expr.Verdict
			for _, el := range set.elems {
				if v, ok := elementVerdict(el); ok {
					vs = append(vs, v)
				}
			}
			return step{kind: stepForkVerdicts, verdicts: vs, why: why}
		}
		return fork("%s", why)
	}
	el, found := set.find(key)
	switch {
	case !e.IsDestRegSet:
		return matchIf(found != e.Invert)
	case !found:
		return noMatch
	case verdictMap:
		v, ok := elementVerdict(*el)
		if !ok {
			return fork("a verdict in map %s portwall cannot read", e.SetName)
		}
		return step{kind: stepVerdict, verdict: v}
	}
	if !s.regs.set(e.DestRegister, el.Val) {
		return fork("map %s", e.SetName)
	}
	return goOn
}

// keyLen is the length of the set's keys in registers: each field of a
// concatenation padded to 4 bytes.
func (s *otherSet) keyLen() int {
	if s.fields != nil {
		n := 0
		for _, f := range s.fields {
			n += (f + 3) / 4 * 4
		}
		return n
	}
	for _, el := range s.elems {
		if len(el.Key) > 0 {
			return len(el.Key)
		}
	}
	return int(s.set.KeyType.Bytes)
}

// find returns the element holding key.
func (s *otherSet) find(key []byte) (*nftables.SetElement, bool) {
	switch {
	case s.fields != nil:
		for i := range s.elems {
			el := &s.elems[i]
			end := el.KeyEnd
			if len(end) == 0 {
				end = el.Key
			}
			if s.inFields(key, el.Key, end) {
				return el, true
			}
		}
	case s.set.Interval:
		for j := range s.spans.Len() {
			from, to := s.spans.key(j), s.spans.keyEnd(j)
			if len(from) == len(key) && bytes.Compare(key, from) >= 0 && bytes.Compare(key, to) <= 0 {
				// The element that starts the span, for maps.
				for i := range s.elems {
					if !s.elems[i].IntervalEnd && bytes.Equal(s.elems[i].Key, from) {
						return &s.elems[i], true
					}
				}
				return &nftables.SetElement{Key: from}, true
			}
		}
	default:
		for i := range s.elems {
			if bytes.Equal(s.elems[i].Key, key) {
				return &s.elems[i], true
			}
		}
	}
	return nil, false
}

// inFields reports whether each field of key lies between the same field
// of from and to (a concatenation's ranges are per field).
func (s *otherSet) inFields(key, from, to []byte) bool {
	off := 0
	for _, f := range s.fields {
		if off+f > len(key) || off+f > len(from) || off+f > len(to) {
			return false
		}
		k := key[off : off+f]
		if bytes.Compare(k, from[off:off+f]) < 0 || bytes.Compare(k, to[off:off+f]) > 0 {
			return false
		}
		off += (f + 3) / 4 * 4
	}
	return true
}

// elementVerdict reads a verdict map element's verdict: the library
// leaves it as the netlink attributes (NFTA_VERDICT_CODE, _CHAIN).
func elementVerdict(el nftables.SetElement) (expr.Verdict, bool) {
	if el.VerdictData != nil {
		return *el.VerdictData, true
	}
	ad, err := netlink.NewAttributeDecoder(el.Val)
	if err != nil {
		return expr.Verdict{}, false
	}
	ad.ByteOrder = binary.BigEndian
	var v expr.Verdict
	seen := false
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_VERDICT_CODE:
			v.Kind = expr.VerdictKind(int32(ad.Uint32()))
			seen = true
		case unix.NFTA_VERDICT_CHAIN:
			v.Chain = ad.String()
		}
	}
	return v, seen && ad.Err() == nil
}
