package live

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"golang.org/x/sys/unix"
)

// Coexistence: the other tables of a namespace.
//
// netfilter runs every base chain registered on a hook, in priority order,
// whichever table it belongs to. An accept ends only the chain that says
// it; the packet then goes on to the next base chain on the hook, and a
// drop (or reject) in any of them is final. So a port that portwall's
// table accepts is open only if every other base chain on the same hook
// lets the packet through too: firewalld's `table inet firewalld`, ufw's
// and Docker's iptables-nft tables (`table ip filter`), a hand-made table.
//
// ReadOthers reads those chains (read-only), and Judge (judge.go) follows
// one packet through one of them, expression by expression, to say
// whether it would pass, be dropped, or cannot be told.

// OtherChain is a base chain of another table on the input or output hook,
// in the families that see IP packets (ip, ip6, inet).
type OtherChain struct {
	Family   string `json:"family"` // ip, ip6, inet
	Table    string `json:"table"`
	Chain    string `json:"chain"`
	Type     string `json:"type"` // filter, nat, route
	Hook     string `json:"hook"` // input, output
	Priority int32  `json:"priority"`
	Policy   string `json:"policy"` // accept, drop
}

// Name is how reports name the chain: "table inet firewalld chain
// filter_INPUT".
func (c OtherChain) Name() string {
	return fmt.Sprintf("table %s %s chain %s", c.Family, c.Table, c.Chain)
}

// Sees reports whether the chain sees packets of IP version v (4 or 6).
func (c OtherChain) Sees(v int) bool {
	return c.Family == "inet" || c.Family == "ip" && v == 4 || c.Family == "ip6" && v == 6
}

// Others is what the other tables of a namespace hook into input and
// output: their base chains there, and every table that holds one, read
// whole (its chains, rules and sets), so that jumps and lookups can be
// followed.
type Others struct {
	// Chains are the base chains, sorted by hook (input first), priority,
	// family, table and name.
	Chains []OtherChain
	tables map[tableKey]*otherTable
}

type tableKey struct{ family, name string }

type otherTable struct {
	family nftables.TableFamily
	name   string
	chains map[string][]*otherRule
	sets   map[string]*otherSet
	// ifnames are the interface names the table's rules compare with:
	// where a packet comes in or goes out matters only through them.
	ifnames []string
	// stops caches mayStop by base chain.
	stops map[string]bool
}

type otherRule struct {
	handle uint64
	exprs  []expr.Any
	// text is the rule in nft syntax as far as the decoder reads it, for
	// reports.
	text string
	// missing: the netlink library dropped some of the rule's expressions
	// (it cannot decode them): the rule can be followed only up to the
	// first of them, the readable expressions before it.
	missing  string
	readable int
}

type otherSet struct {
	set   *nftables.Set
	elems []nftables.SetElement
	// packed holds the elements for Decode, and spans an interval set's
	// elements as sorted spans (canonical).
	packed, spans *elemList
	// fields are the byte lengths of a concatenation's fields, each
	// padded to 4 in the key; nil for a plain key.
	fields []int
}

// familyNames are the families' names in nft's syntax. Built on first use: package-level map literals are built by every
// run's initialisation, whether it touches the kernel or not.
var familyNames = sync.OnceValue(func() map[nftables.TableFamily]string {
	return map[nftables.TableFamily]string{
		nftables.TableFamilyIPv4: "ip", nftables.TableFamilyIPv6: "ip6", nftables.TableFamilyINet: "inet",
	}
})

// ReadOthers reads the base chains that tables other than portwall's put
// on the input and output hooks, with everything they use. It only reads.
func (c *Conn) ReadOthers() (*Others, error) {
	chains, err := c.NFT.ListChains()
	if err != nil {
		return nil, fmt.Errorf("listing chains: %w", err)
	}
	o := &Others{tables: map[tableKey]*otherTable{}}
	for _, ch := range chains {
		fam, ok := familyNames()[ch.Table.Family]
		if !ok || ch.Hooknum == nil || fam == "inet" && ch.Table.Name == TableName {
			continue
		}
		hook := hookNames()[*ch.Hooknum]
		if hook != "input" && hook != "output" {
			continue
		}
		cc := canonicalChain(ch)
		o.Chains = append(o.Chains, OtherChain{Family: fam, Table: ch.Table.Name, Chain: ch.Name, Type: cc.Type, Hook: hook, Priority: cc.Priority, Policy: cc.Policy})
		o.tables[tableKey{fam, ch.Table.Name}] = nil
	}
	slices.SortFunc(o.Chains, func(a, b OtherChain) int {
		return cmp.Or(cmp.Compare(hookOrder(a.Hook), hookOrder(b.Hook)), cmp.Compare(a.Priority, b.Priority),
			cmp.Compare(a.Family, b.Family), cmp.Compare(a.Table, b.Table), cmp.Compare(a.Chain, b.Chain))
	})
	for k := range o.tables {
		t, err := c.readOtherTable(k, chains)
		if err != nil {
			return nil, fmt.Errorf("reading table %s %s: %w", k.family, k.name, err)
		}
		o.tables[k] = t
	}
	return o, nil
}

func hookOrder(h string) int {
	if h == "input" {
		return 0
	}
	return 1
}

func (c *Conn) readOtherTable(k tableKey, chains []*nftables.Chain) (*otherTable, error) {
	var fam nftables.TableFamily
	for f, n := range familyNames() {
		if n == k.family {
			fam = f
		}
	}
	tbl := &nftables.Table{Name: k.name, Family: fam}
	t := &otherTable{family: fam, name: k.name, chains: map[string][]*otherRule{}, sets: map[string]*otherSet{}}
	sets, err := c.NFT.GetSets(tbl)
	if err != nil {
		return nil, fmt.Errorf("listing sets: %w", err)
	}
	for _, s := range sets {
		els, err := c.NFT.GetSetElements(s)
		if err != nil {
			return nil, fmt.Errorf("set %s: %w", s.Name, err)
		}
		os := &otherSet{set: s, elems: els, packed: elemListOf(els)}
		if s.Interval && !s.Concatenation {
			os.spans = canonical(os.packed, true, false)
		}
		if s.Concatenation {
			for _, f := range nftables.ConcatSetTypeElements(s.KeyType) {
				os.fields = append(os.fields, int(f.Bytes))
			}
		}
		t.sets[s.Name] = os
	}
	names, err := c.ruleExprNames(byte(fam), k.name)
	if err != nil {
		return nil, err
	}
	lookup := func(name string) (*nftables.Set, *elemList, bool) {
		if s, ok := t.sets[name]; ok {
			return s.set, s.packed, true
		}
		return nil, nil, false
	}
	for _, ch := range chains {
		if ch.Table.Family != fam || ch.Table.Name != k.name {
			continue
		}
		rules, err := c.NFT.GetRules(tbl, ch)
		if err != nil {
			return nil, fmt.Errorf("chain %s: %w", ch.Name, err)
		}
		list := []*otherRule{}
		for _, r := range rules {
			text, _ := Decode(r.Exprs, lookup)
			if comment, ok := userdata.GetString(r.UserData, userdata.TypeComment); ok && comment != "" {
				text = strings.TrimSpace(text + ` comment "` + comment + `"`)
			}
			or := &otherRule{handle: r.Handle, exprs: r.Exprs, text: text}
			if raw, ok := names[ruleKey{ch.Name, r.Handle}]; !ok || len(raw) != len(r.Exprs) {
				or.readable = 0
				known := libraryExprs()
				for or.readable < len(raw) && or.readable < len(r.Exprs) && known[raw[or.readable]] {
					or.readable++
				}
				var dropped []string
				for _, n := range raw {
					if !known[n] {
						dropped = append(dropped, n)
					}
				}
				or.missing = fmt.Sprintf("the netlink library cannot read its %s expression", strings.Join(dropped, ", "))
				if len(dropped) == 0 {
					or.missing = "the netlink library did not read all its expressions"
					or.readable = 0
				}
			}
			list = append(list, or)
		}
		t.chains[ch.Name] = list
	}
	t.ifnames = interfaceNames(t)
	t.stops = map[string]bool{}
	return t, nil
}

// mayStop reports whether base chain c could stop a packet, or leave its
// fate unknown: whether its policy drops, or any rule of it or of a chain
// it reaches (by jump, goto or verdict map) drops, rejects, queues, holds
// an expression the netlink library cannot read, or a verdict or target
// portwall cannot follow. A chain that cannot lets every packet through
// whatever its matches say, and is not followed packet by packet.
func (t *otherTable) mayStop(c OtherChain) bool {
	if v, ok := t.stops[c.Chain]; ok {
		return v
	}
	stop := c.Policy == "drop"
	seen := map[string]bool{}
	var visit func(chain string)
	visit = func(chain string) {
		if stop || seen[chain] {
			return
		}
		seen[chain] = true
		rules, ok := t.chains[chain]
		if !ok {
			stop = true
			return
		}
		for _, r := range rules {
			if r.missing != "" {
				stop = true
				return
			}
			for _, e := range r.exprs {
				switch e := e.(type) {
				case *expr.Verdict:
					switch e.Kind {
					case expr.VerdictJump, expr.VerdictGoto:
						visit(e.Chain)
					case expr.VerdictAccept, expr.VerdictReturn, expr.VerdictContinue, expr.VerdictBreak:
					default:
						stop = true
					}
				case *expr.Lookup:
					if e.IsDestRegSet && e.DestRegister == unix.NFT_REG_VERDICT {
						s, ok := t.sets[e.SetName]
						if !ok {
							stop = true
							break
						}
						for _, el := range s.elems {
							v, ok := elementVerdict(el)
							switch {
							case !ok:
								stop = true
							case v.Kind == expr.VerdictJump || v.Kind == expr.VerdictGoto:
								visit(v.Chain)
							case v.Kind != expr.VerdictAccept && v.Kind != expr.VerdictReturn && v.Kind != expr.VerdictContinue:
								stop = true
							}
						}
					}
				case *expr.Immediate:
					stop = stop || e.Register == unix.NFT_REG_VERDICT
				case *expr.Reject, *expr.Queue:
					stop = true
				case *expr.Target:
					stop = stop || !slices.Contains(passTargets, e.Name)
				}
			}
		}
	}
	visit(c.Chain)
	t.stops[c.Chain] = stop
	return stop
}

// passTargets are the xtables targets that never stop a packet.
var passTargets = []string{"LOG", "NFLOG", "ULOG", "CT", "TCPMSS", "CLASSIFY", "DSCP", "TOS", "NOTRACK", "AUDIT", "MARK", "CONNMARK", "DNAT", "SNAT", "MASQUERADE", "REDIRECT", "NETMAP"}

// libraryExprs are the expressions github.com/google/nftables decodes; it
// silently drops the others (socket, rt, osf, notrack, ...). Built on first
// use, not by an init function that every run paid for.
var libraryExprs = sync.OnceValue(func() map[string]bool {
	out := map[string]bool{}
	for _, n := range strings.Fields(`ct range meta cmp counter objref payload lookup immediate bitwise redir nat
		limit quota dynset log exthdr match target connlimit queue flow_offload reject masq hash cthelper
		synproxy ctexpect secmark cttimeout fib numgen`) {
		out[n] = true
	}
	return out
})

// interfaceNames lists the interface names a table's rules compare
// iifname or oifname with (in comparisons and in sets looked up), as a
// packet's interface would carry them: a prefix match ("eth*") gives a
// name with that prefix. The loopback is left out: the packets judged
// come from or go to other machines.
func interfaceNames(t *otherTable) []string {
	seen := map[string]bool{}
	add := func(b []byte) {
		name := strings.TrimRight(string(b), "\x00")
		if len(b) < ifnameLen && !strings.HasSuffix(string(b), "\x00") {
			name += "0" // a prefix: any name that starts with it
		}
		if name != "" && name != "lo" && len(name) < ifnameLen {
			seen[name] = true
		}
	}
	for _, rules := range t.chains {
		for _, r := range rules {
			names := map[uint32]bool{}
			for _, e := range r.exprs {
				switch e := e.(type) {
				case *expr.Meta:
					if !e.SourceRegister {
						names[reg(e.Register)] = e.Key == expr.MetaKeyIIFNAME || e.Key == expr.MetaKeyOIFNAME
					}
				case *expr.Payload:
					names[reg(e.DestRegister)] = false
				case *expr.Cmp:
					if names[reg(e.Register)] {
						add(e.Data)
					}
				case *expr.Lookup:
					if s, ok := t.sets[e.SetName]; ok && names[reg(e.SourceRegister)] && s.fields == nil {
						for _, el := range s.elems {
							if !el.IntervalEnd {
								add(el.Key)
							}
						}
					}
				}
			}
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// ifnameLen is IFNAMSIZ: interface names are compared as 16 bytes,
// NUL-padded.
const ifnameLen = 16
