package live_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/nftables/expr"

	"github.com/portwall/portwall/internal/live"
	"github.com/portwall/portwall/internal/testkit/handmade"
	"github.com/portwall/portwall/internal/testkit/kerneltest"
)

// loadHandmade loads a hand-made table into a new namespace, or skips the
// test when the kernel lacks the construct.
func loadHandmade(t *testing.T, tb handmade.Table) *kerneltest.Netns {
	t.Helper()
	ns := kerneltest.New(t)
	if ok, out := tb.Load(ns); !ok {
		if tb.Device != "" {
			// Not a tool CI can install: the kernel was built without it.
			t.Skipf("this kernel cannot hold a %s (nft: %s)", tb.Name, strings.TrimSpace(out))
		}
		t.Fatalf("loading %s: %s", tb.Name, out)
	}
	return ns
}

// TestSnapshotRestoresEveryConstruct: for each hand-made construct, a
// snapshot passes the up-front check, and after apply has replaced the
// table, restoring the snapshot lists exactly as before (the rollback of
// --confirm-timeout); a batch the kernel refuses halfway leaves it exactly
// as it was (a failed apply).
func TestSnapshotRestoresEveryConstruct(t *testing.T) {
	t.Parallel()
	kerneltest.Require(t, "nft")
	desired, err := live.Compile(xeamsScript(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range append(handmade.Tables, handmade.Everything()) {
		t.Run(tb.Name, func(t *testing.T) {
			t.Parallel()
			ns := loadHandmade(t, tb)
			before := handmade.Listing(ns)
			c := open(t, ns)
			gen, err := c.Generation()
			if err != nil {
				t.Fatal(err)
			}
			snap, err := c.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			if err := c.CheckRestore(snap); err != nil {
				t.Fatalf("check: %v", err)
			}
			if g, _ := c.Generation(); g != gen {
				t.Fatalf("the check moved the generation from %d to %d", gen, g)
			}
			if after := handmade.Listing(ns); after != before {
				t.Fatalf("the check changed the table:\n%s", cmp.Diff(before, after))
			}

			// A failed batch: the last rule jumps to a missing chain.
			bad := *desired
			bad.Rules = append(bad.Rules[:len(bad.Rules):len(bad.Rules)], live.RuleObject{Chain: "input", Exprs: []expr.Any{&expr.Verdict{Kind: expr.VerdictJump, Chain: "missing"}}})
			if err := c.Apply(&bad, gen); err == nil {
				t.Fatal("the kernel accepted a jump to a missing chain")
			}
			if after := handmade.Listing(ns); after != before {
				t.Errorf("a failed apply changed the table:\n%s", cmp.Diff(before, after))
			}

			// The rollback.
			if err := c.Apply(desired, gen); err != nil {
				t.Fatal(err)
			}
			if handmade.Listing(ns) == before {
				t.Fatal("apply changed nothing")
			}
			gen, _ = c.Generation()
			if err := c.Restore(snap, gen); err != nil {
				t.Fatalf("restore: %v", err)
			}
			if after := handmade.Listing(ns); after != before {
				t.Errorf("the restored table differs (-before +after):\n%s", cmp.Diff(before, after))
			}
		})
	}
}

// TestRestoreAgesTimeouts: an element comes back with the time it had
// left less the time since the snapshot, and one that expired meanwhile
// does not come back.
func TestRestoreAgesTimeouts(t *testing.T) {
	t.Parallel()
	kerneltest.Require(t, "nft")
	ns := kerneltest.New(t)
	ns.MustRun("nft", "add table inet portwall; add set inet portwall s { type ipv4_addr; flags timeout; elements = { 10.0.0.1 timeout 1h, 10.0.0.2 timeout 1s } }")
	c := open(t, ns)
	snap, err := c.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	ns.MustRun("nft", "delete", "table", "inet", "portwall")
	time.Sleep(1500 * time.Millisecond)
	if err := c.Restore(snap, 0); err != nil {
		t.Fatal(err)
	}
	got := ns.MustRun("nft", "list", "set", "inet", "portwall", "s")
	if strings.Contains(got, "10.0.0.2") {
		t.Errorf("an element that expired came back:\n%s", got)
	}
	// 1h less at least 1.5 s: 59m58s... at most.
	if !strings.Contains(got, "10.0.0.1 timeout 1h expires 59m58s") {
		t.Errorf("the element's time left was not aged:\n%s", got)
	}
}

// TestRestoreNoTable: a snapshot of no table restores to no table.
func TestRestoreNoTable(t *testing.T) {
	t.Parallel()
	kerneltest.Require(t, "nft")
	ns := kerneltest.New(t)
	c := open(t, ns)
	snap, err := c.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if !snap.Absent {
		t.Fatal("snapshot of no table is not Absent")
	}
	ns.MustRun("nft", "add", "table", "inet", "portwall")
	if err := c.Restore(snap, 0); err != nil {
		t.Fatal(err)
	}
	if tables := ns.MustRun("nft", "list", "tables"); tables != "" {
		t.Errorf("tables left: %q", tables)
	}
}

// TestRestoreRefusedNamesTheObject: a restore the kernel refuses names
// the object, and with a stale generation is ErrChanged.
func TestRestoreRefusedNamesTheObject(t *testing.T) {
	t.Parallel()
	kerneltest.Require(t, "nft")
	ns := loadHandmade(t, handmade.Tables[0])
	c := open(t, ns)
	snap, err := c.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	// Drop the chain the verdict map jumps to.
	var kept []live.SnapshotMessage
	for _, m := range snap.Messages {
		if m.What != "chain side" {
			kept = append(kept, m)
		}
	}
	broken := *snap
	broken.Messages = kept
	err = c.CheckRestore(&broken)
	if !errors.Is(err, live.ErrRestoreRefused) || !strings.Contains(err.Error(), "chain input") && !strings.Contains(err.Error(), "set __") {
		t.Errorf("got %v", err)
	}
	gen, _ := c.Generation()
	ns.MustRun("nft", "add", "table", "ip", "other")
	if err := c.Restore(snap, gen); !errors.Is(err, live.ErrChanged) {
		t.Errorf("stale generation: got %v", err)
	}
}
