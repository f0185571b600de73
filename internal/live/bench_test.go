package live_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/portwall/portwall/generators/nftables"
	"github.com/portwall/portwall/internal/live"
	"github.com/portwall/portwall/internal/testkit/kerneltest"
	"github.com/portwall/portwall/profiles"
	"github.com/portwall/portwall/rules"
	"github.com/portwall/portwall/rules/catalog"
)

// bigScript renders a host with n rules from groups sets: each group of
// one address; n/groups custom rules per group, with comments long enough
// that every rule keeps its own nft rule.
func bigScript(b *testing.B, n, groups int) []byte {
	var p strings.Builder
	p.WriteString("[hosts.h1]\naddresses = [\"192.0.2.1\"]\n\n[groups]\n")
	for i := 0; i < groups; i++ {
		fmt.Fprintf(&p, "g%d = [\"10.%d.%d.%d\"]\n", i, i/65536%256, i/256%256, i%256)
	}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&p, "[[allow]]\nfrom = \"g%d\"\nto = \"h1\"\nprotocol = \"tcp\"\nports = [%d]\ncomment = \"custom rule %d for the benchmark, a comment long enough to fill half of nft's limit\"\n", i%groups, 1000+i%60000, i)
	}
	prof, err := profiles.Parse("big.toml", []byte(p.String()))
	if err != nil {
		b.Fatal(err)
	}
	cat, _ := catalog.Load()
	rs, err := rules.Resolve(prof, cat)
	if err != nil {
		b.Fatal(err)
	}
	v, _ := rs.HostView("h1")
	script, err := nftables.Render(v, nftables.Settings{Layout: nftables.LayoutAuto})
	if err != nil {
		b.Fatal(err)
	}
	return script
}

// BenchmarkReadDiff10k reads a 10,000-rule table from the kernel and diffs
// it with the desired one: what `portwall diff` spends after resolving.
// Reading costs a netlink round trip per named set, so the table is read
// with 10 sets and with 5,000.
func BenchmarkReadDiff10k(b *testing.B) {
	b.Run("sets=10", func(b *testing.B) { benchReadDiff(b, bigScript(b, 10000, 10)) })
	b.Run("sets=5000", func(b *testing.B) { benchReadDiff(b, bigScript(b, 10000, 5000)) })
}

func benchReadDiff(b *testing.B, script []byte) {
	kerneltest.Require(b, "nft")
	ns := kerneltest.New(b)
	if out, err := ns.RunStdin(script, "nft", "-f", "-"); err != nil {
		b.Fatalf("%v\n%s", err, out)
	}
	o, err := live.Compile(script)
	if err != nil {
		b.Fatal(err)
	}
	desired := o.CanonicalTable()
	c, err := live.Open(ns.Name)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t, err := c.Read()
		if err != nil {
			b.Fatal(err)
		}
		if d := live.Compare(t, desired); d.Drift() {
			b.Fatalf("drift: %s", d.Summary())
		}
	}
	rules := 0
	for _, ch := range desired.Chains {
		rules += len(ch.Rules)
	}
	b.ReportMetric(float64(rules), "rules")
}
