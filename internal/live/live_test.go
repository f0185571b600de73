package live_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/nftables/expr"

	"github.com/google/go-cmp/cmp"

	"github.com/portwall/portwall/generators/nftables"
	"github.com/portwall/portwall/internal/live"
	"github.com/portwall/portwall/internal/testkit/kerneltest"
	"github.com/portwall/portwall/internal/testkit/rulestest"
)

// hosts renders every example host's script, in both layouts.
func hosts(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, f := range rulestest.Examples(t) {
		rs := rulestest.Ruleset(t, f)
		for _, layout := range []nftables.Layout{nftables.LayoutReadable, nftables.LayoutSets} {
			for _, h := range rs.HostNames() {
				v, _ := rs.HostView(h)
				data, err := nftables.Render(v, nftables.Settings{Layout: layout})
				if err != nil {
					t.Fatal(err)
				}
				out[string(layout)+"/"+strings.TrimSuffix(f[strings.LastIndex(f, "/")+1:], ".toml")+"/"+h] = data
			}
		}
	}
	return out
}

func desired(t *testing.T, script []byte) *live.Table {
	t.Helper()
	o, err := live.Compile(script)
	if err != nil {
		t.Fatal(err)
	}
	return o.CanonicalTable()
}

// TestNftLoadedReadsAsDesired: a table loaded with nft -f from portwall's
// script reads back, rule by rule, as the desired table.
func TestNftLoadedReadsAsDesired(t *testing.T) {
	t.Parallel()
	kerneltest.Require(t, "nft")
	for name, script := range hosts(t) {
		t.Run(name, func(t *testing.T) {
			ns := kerneltest.New(t)
			if out, err := ns.RunStdin(script, "nft", "-f", "-"); err != nil {
				t.Fatalf("nft -f: %v\n%s", err, out)
			}
			c, err := live.Open(ns.Name)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			got, err := c.Read()
			if err != nil {
				t.Fatal(err)
			}
			want := desired(t, script)
			if d := cmp.Diff(strings.Join(want.Lines(), "\n"), strings.Join(got.Lines(), "\n")); d != "" {
				t.Errorf("live differs from desired (-desired +live):\n%s", d)
			}
		})
	}
}

// TestAppliedReadsAsDesired: a table applied over netlink reads back as
// the desired table, and as the same table loaded with nft -f lists.
func TestAppliedReadsAsDesired(t *testing.T) {
	t.Parallel()
	kerneltest.Require(t, "nft")
	for name, script := range hosts(t) {
		t.Run(name, func(t *testing.T) {
			ns := kerneltest.New(t)
			c, err := live.Open(ns.Name)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			o, err := live.Compile(script)
			if err != nil {
				t.Fatal(err)
			}
			gen, err := c.Generation()
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Apply(o, gen); err != nil {
				t.Fatal(err)
			}
			got, err := c.Read()
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(strings.Join(o.CanonicalTable().Lines(), "\n"), strings.Join(got.Lines(), "\n")); d != "" {
				t.Errorf("applied table differs from desired (-desired +live):\n%s", d)
			}
			// nft lists the applied table as it lists the script loaded by
			// nft itself.
			applied := ns.MustRun("nft", "list", "table", "inet", "portwall")
			other := kerneltest.New(t)
			if out, err := other.RunStdin(script, "nft", "-f", "-"); err != nil {
				t.Fatalf("nft -f: %v\n%s", err, out)
			}
			loaded := other.MustRun("nft", "list", "table", "inet", "portwall")
			if d := cmp.Diff(loaded, applied); d != "" {
				t.Errorf("nft lists the applied table differently (-nft +applied):\n%s", d)
			}
		})
	}
}

func open(t testing.TB, ns *kerneltest.Netns) *live.Conn {
	t.Helper()
	c, err := live.Open(ns.Name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func xeamsScript(t *testing.T) []byte {
	t.Helper()
	for name, script := range hosts(t) {
		if name == "readable/xeams/xeams1" {
			return script
		}
	}
	t.Fatal("no xeams example")
	return nil
}

// TestFailedApplyLeavesPrevious: when the kernel refuses one part of the
// transaction, nothing of it is applied.
func TestFailedApplyLeavesPrevious(t *testing.T) {
	t.Parallel()
	kerneltest.Require(t, "nft")
	ns := kerneltest.New(t)
	script := xeamsScript(t)
	if out, err := ns.RunStdin(script, "nft", "-f", "-"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	ns.MustRun("nft", "add", "table", "ip", "other")
	before := ns.MustRun("nft", "list", "ruleset")
	c := open(t, ns)
	o, err := live.Compile(script)
	if err != nil {
		t.Fatal(err)
	}
	// The last rule jumps to a chain that does not exist: the kernel
	// rejects it after accepting everything before it in the batch.
	o.Rules = append(o.Rules, live.RuleObject{Chain: "input", Exprs: []expr.Any{&expr.Verdict{Kind: expr.VerdictJump, Chain: "missing"}}})
	gen, err := c.Generation()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Apply(o, gen); err == nil {
		t.Fatal("the kernel accepted a jump to a missing chain")
	}
	if after := ns.MustRun("nft", "list", "ruleset"); after != before {
		t.Errorf("a failed apply changed the ruleset:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// TestConcurrentChangeRefused: a change between reading the generation
// and applying makes apply refuse, and apply nothing.
func TestConcurrentChangeRefused(t *testing.T) {
	t.Parallel()
	kerneltest.Require(t, "nft")
	ns := kerneltest.New(t)
	c := open(t, ns)
	o, err := live.Compile(xeamsScript(t))
	if err != nil {
		t.Fatal(err)
	}
	gen, err := c.Generation()
	if err != nil {
		t.Fatal(err)
	}
	ns.MustRun("nft", "add", "table", "ip", "someone-else")
	before := ns.MustRun("nft", "list", "ruleset")
	if err := c.Apply(o, gen); !errors.Is(err, live.ErrChanged) {
		t.Fatalf("got %v, want ErrChanged", err)
	}
	if after := ns.MustRun("nft", "list", "ruleset"); after != before {
		t.Errorf("a refused apply changed the ruleset")
	}
	gen, _ = c.Generation()
	if err := c.Apply(o, gen); err != nil {
		t.Fatalf("with the current generation: %v", err)
	}
}
