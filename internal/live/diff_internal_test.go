package live

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	nftgen "github.com/portwall/portwall/generators/nftables"
	"github.com/portwall/portwall/internal/testkit/rulestest"
)

// unifiedLines is the unified diff written the plain way, from every line
// of both tables: what unified, which skips the sets and chains that are
// the same, must write.
func unifiedLines(a, b []string) string {
	groups := grouped(opCodes(a, b), 3)
	if len(groups) == 0 {
		return ""
	}
	var w strings.Builder
	w.WriteString("--- live\n+++ desired\n")
	for _, g := range groups {
		first, last := g[0], g[len(g)-1]
		fmt.Fprintf(&w, "@@ -%s +%s @@\n", hunkRange(first.I1, last.I2), hunkRange(first.J1, last.J2))
		for _, c := range g {
			if c.Tag == 'e' {
				for _, l := range a[c.I1:c.I2] {
					w.WriteString(" " + l + "\n")
				}
				continue
			}
			for _, l := range a[c.I1:c.I2] {
				w.WriteString("-" + l + "\n")
			}
			for _, l := range b[c.J1:c.J2] {
				w.WriteString("+" + l + "\n")
			}
		}
	}
	return w.String()
}

// mutate returns a copy of t with one change: an element left out, a set
// or rule removed, a rule added, a chain's policy changed.
func mutate(t *Table, r *rand.Rand) (*Table, string) {
	out := &Table{Sets: append([]Set(nil), t.Sets...), Chains: append([]Chain(nil), t.Chains...)}
	switch k := r.IntN(5); {
	case k == 0 && len(out.Sets) > 0:
		i := r.IntN(len(out.Sets))
		s := out.Sets[i]
		if s.Len() == 0 {
			break
		}
		drop := r.IntN(s.Len())
		l := &elemList{}
		for j := range s.Len() {
			if j != drop {
				l.add(s.elems.key(j), s.elems.keyEnd(j), false, s.elems.comments[j])
			}
		}
		s.elems = l
		out.Sets[i] = s
		return out, "element of " + s.Name + " left out"
	case k == 1 && len(out.Sets) > 0:
		i := r.IntN(len(out.Sets))
		out.Sets = append(out.Sets[:i:i], out.Sets[i+1:]...)
		return out, "set removed"
	case k == 2:
		i := r.IntN(len(out.Chains))
		c := out.Chains[i]
		c.Rules = append(c.Rules[:len(c.Rules):len(c.Rules)], Rule{Text: "tcp dport 9999 accept"})
		out.Chains[i] = c
		return out, "rule added"
	case k == 3:
		i := r.IntN(len(out.Chains))
		c := out.Chains[i]
		if len(c.Rules) > 0 {
			j := r.IntN(len(c.Rules))
			c.Rules = append(c.Rules[:j:j], c.Rules[j+1:]...)
		}
		out.Chains[i] = c
		return out, "rule removed"
	}
	i := r.IntN(len(out.Chains))
	out.Chains[i].Policy = "accept"
	return out, "policy changed"
}

// TestUnifiedSkipsOnlyWhatIsSame: for tables of every example host in both
// layouts, with one to three random changes on either side, the diff is
// the one of the whole lines.
func TestUnifiedSkipsOnlyWhatIsSame(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	cases := 0
	for _, f := range rulestest.Examples(t) {
		rs := rulestest.Ruleset(t, f)
		for _, layout := range []nftgen.Layout{nftgen.LayoutReadable, nftgen.LayoutSets} {
			for _, h := range rs.HostNames() {
				v, _ := rs.HostView(h)
				script, err := nftgen.Render(v, nftgen.Settings{Layout: layout})
				if err != nil {
					t.Fatal(err)
				}
				o, err := Compile(script)
				if err != nil {
					t.Fatal(err)
				}
				want := o.CanonicalTable()
				for range 4 {
					live, what := want, ""
					for range 1 + r.IntN(3) {
						var w string
						live, w = mutate(live, r)
						what += w + "; "
					}
					a, b := live, want
					if r.IntN(2) == 0 {
						a, b = b, a
					}
					cases++
					if got, plain := unified(a.blocks(), b.blocks()), unifiedLines(a.Lines(), b.Lines()); got != plain {
						t.Fatalf("%s %s %s (%s): the diff differs from the plain one:\n%s\nplain:\n%s", f, layout, h, what, got, plain)
					}
				}
				if got := unified(nil, want.blocks()); got != unifiedLines(nil, want.Lines()) {
					t.Fatalf("%s %s %s: the diff with no live table differs from the plain one", f, layout, h)
				}
			}
		}
	}
	t.Logf("%d changed tables", cases)
}
