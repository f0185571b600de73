package main

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	fwd "github.com/portwall/portwall/internal/netns/firewalld"
	"github.com/portwall/portwall/internal/testkit/golden"
	"github.com/portwall/portwall/internal/testkit/kerneltest"
)

// The coexistence check, in namespaces that hold another firewall
// manager's tables: a private firewalld (its stock public zone), and ufw's
// and Docker's table shapes loaded from testdata/coexist (each file says
// where it comes from). Not parallel: see runIn.

// coexistDoc is the part of diff's JSON the tests read.
type coexistDoc struct {
	Drift       bool `json:"drift"`
	OtherChains []struct {
		Family, Table, Chain, Hook, Policy, Verdict string
		Priority                                    int32
		Findings                                    []struct {
			ID, Direction, Packet, Verdict string
			Affected, Samples              int
			Chain                          string
			Handle                         uint64
			Rule, How                      string
		}
	} `json:"other_chains"`
}

func diffJSON(t *testing.T, ns string) coexistDoc {
	t.Helper()
	code, out, errs := runIn("", "diff", xeams, "--host", "xeams1", "--netns", ns, "--format", "json")
	if code != 0 && code != 2 {
		t.Fatalf("diff --format json: exit %d\n%s", code, errs)
	}
	var d coexistDoc
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return d
}

// portwallTable reports whether the namespace holds table inet portwall.
func portwallTable(t *testing.T, ns *kerneltest.Netns) bool {
	return strings.Contains(ns.MustRun("nft", "list", "tables"), "table inet portwall")
}

// TestCoexistFirewalld is issue 16's "done when": in a namespace where
// firewalld runs, diff names firewalld's table and what its zone rejects,
// and apply refuses without --force. Once firewalld opens the ports
// itself, the check passes and apply goes ahead.
func TestCoexistFirewalld(t *testing.T) {
	kerneltest.Require(t, append([]string{"nft"}, fwd.Tools...)...)
	ns := kerneltest.New(t)
	dir := t.TempDir()
	config := filepath.Join(dir, "etc")
	if err := fwd.Seed(config); err != nil {
		t.Fatal(err)
	}
	d, err := fwd.Start(context.Background(), ns.NS, config, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Stop(); err != nil {
			t.Error(err)
		}
	})

	code, out, errs := runIn("", "diff", xeams, "--host", "xeams1", "--netns", ns.Name)
	if code != 2 || !strings.HasSuffix(out, "14 to add, 0 to remove, 0 to change\n") {
		t.Fatalf("diff: exit %d, want 2 (no table yet)\n%s%s", code, out, errs)
	}
	t.Logf("diff's coexistence check in a namespace where firewalld runs:\n%s", errs)
	for _, want := range []string{
		"other tables hook the input and output of network namespace " + ns.Name,
		"an accept ends only its own chain, a drop in any chain is final",
		"table inet portwall chain input (filter, policy drop): portwall's",
		"table inet firewalld chain filter_INPUT (filter, policy accept): DROPS what portwall allows",
		"in tcp/25 from internet, pw:rd1471c0ade35 (xeams/smtp/smtp-in): tcp/25 203.0.113.77 -> 192.168.10.25: rejected by chain filter_IN_public handle",
		"table inet firewalld chain filter_OUTPUT (filter, policy accept): passes what portwall allows",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("diff's standard error lacks %q", want)
		}
	}

	// What the stock public zone allows (ssh) passes; the rest of the
	// flows are rejected by the zone's last rule.
	doc := diffJSON(t, ns.Name)
	input := -1
	for i, c := range doc.OtherChains {
		if c.Family == "inet" && c.Table == "firewalld" && c.Chain == "filter_INPUT" {
			input = i
		}
	}
	if input < 0 {
		t.Fatalf("other_chains lacks firewalld's filter_INPUT: %+v", doc.OtherChains)
	}
	c := doc.OtherChains[input]
	if c.Hook != "input" || c.Priority != 10 || c.Policy != "accept" || c.Verdict != "drops" {
		t.Errorf("filter_INPUT: %+v", c)
	}
	var ids []string
	for _, f := range c.Findings {
		ids = append(ids, f.ID)
		if f.Verdict != "drops" || f.How != "rejected" || f.Chain != "filter_IN_public" || f.Rule != "reject with icmpx admin-prohibited" {
			t.Errorf("finding %+v", f)
		}
		if strings.Contains(f.Packet, "tcp/22 ") {
			t.Errorf("ssh is open in firewalld's public zone, but %s is reported", f.Packet)
		}
		if f.ID == "rc4e3cf3d8e20" && f.Affected >= f.Samples {
			t.Errorf("the ssh packets of rule rc4e3cf3d8e20 pass: want fewer than %d of its samples affected, got %d", f.Samples, f.Affected)
		}
	}
	if !slices.Equal(ids, []string{"rd1471c0ade35", "rc4e3cf3d8e20"}) {
		t.Errorf("findings for rules %v, want rd1471c0ade35 (smtp) and rc4e3cf3d8e20 (pop3s, imaps, ssh)", ids)
	}

	code, out, errs = runIn("", "apply", xeams, "--host", "xeams1", "--netns", ns.Name)
	if code != 1 || !strings.Contains(errs, "portwall: refusing to apply: table inet firewalld chain filter_INPUT would drop what portwall allows (listed above); nothing was applied. firewalld runs here") {
		t.Errorf("apply without --force: exit %d, want 1 and a refusal naming firewalld's chain\n%s%s", code, out, errs)
	}
	t.Logf("apply's refusal:\n%s", errs[strings.Index(errs, "portwall: refusing"):])
	if portwallTable(t, ns) {
		t.Error("apply refused, but table inet portwall is there")
	}

	// firewalld opens them itself: nothing drops them any more.
	if out, err := d.Cmd(context.Background(), "--add-port=25/tcp", "--add-port=993/tcp", "--add-port=1995/tcp"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	doc = diffJSON(t, ns.Name)
	for _, c := range doc.OtherChains {
		if c.Verdict != "passes" {
			t.Errorf("with the ports open in firewalld, %s %s chain %s: %s %+v", c.Family, c.Table, c.Chain, c.Verdict, c.Findings)
		}
	}
	if code, out, errs := runIn("", "apply", xeams, "--host", "xeams1", "--netns", ns.Name); code != 0 || !portwallTable(t, ns) {
		t.Errorf("apply once firewalld allows the flows: exit %d\n%s%s", code, out, errs)
	}
}

// TestCoexistApplyForce: --force applies what the check refuses, and
// still says what drops the flows.
func TestCoexistApplyForce(t *testing.T) {
	kerneltest.Require(t, "nft", "iptables-nft-restore", "ip6tables-nft-restore")
	ns := loadShape(t, "ufw.iptables", "ufw.ip6tables")
	code, out, errs := runIn("", "apply", xeams, "--host", "xeams1", "--netns", ns.Name, "--force")
	if code != 0 || !portwallTable(t, ns) {
		t.Fatalf("apply --force: exit %d\n%s%s", code, out, errs)
	}
	if !strings.Contains(errs, "table ip filter chain INPUT (filter, policy drop): DROPS what portwall allows") {
		t.Errorf("apply --force said nothing of ufw's chain:\n%s", errs)
	}
	// And diff, with nothing left to apply, still lists them.
	if code, out, errs := runIn("", "diff", xeams, "--host", "xeams1", "--netns", ns.Name); code != 0 || out != "0 to add, 0 to remove, 0 to change\n" || !strings.Contains(errs, "DROPS what portwall allows") {
		t.Errorf("diff after apply --force: exit %d\n%s%s", code, out, errs)
	}
}

// loadShape loads testdata/coexist files into a new namespace, each with
// the tool its header names.
func loadShape(t *testing.T, files ...string) *kerneltest.Netns {
	t.Helper()
	ns := kerneltest.New(t)
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join("testdata", "coexist", f))
		if err != nil {
			t.Fatal(err)
		}
		tool := map[string][]string{".nft": {"nft", "-f", "-"}, ".iptables": {"iptables-nft-restore"}, ".ip6tables": {"ip6tables-nft-restore"}}[filepath.Ext(f)]
		if out, err := ns.RunStdin(data, tool[0], tool[1:]...); err != nil {
			t.Fatalf("loading %s: %v\n%s", f, err, out)
		}
	}
	return ns
}

// handles masks rule handles: the kernel numbers them, the listing is
// about what the rules do.
var handles = regexp.MustCompile(`handle \d+`)

// TestCoexistShapes: for ufw's and Docker's tables, diff's listing is
// golden (testdata/coexist/<shape>.txt), apply refuses exactly where a
// chain drops what portwall allows, and the packet proof agrees with the
// check: verify --alongside the same files stops exactly the probes of
// the flows the check says are dropped.
func TestCoexistShapes(t *testing.T) {
	kerneltest.Require(t, "nft", "iptables-nft-restore", "ip6tables-nft-restore")
	for _, c := range []struct {
		name  string
		files []string
		// refused: a chain of the shape drops some of xeams1's flows.
		refused bool
	}{
		{"ufw", []string{"ufw.iptables", "ufw.ip6tables"}, true},
		{"docker-iptables", []string{"docker.iptables"}, false},
		{"docker-nftables", []string{"docker.nft"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ns := loadShape(t, c.files...)
			code, out, errs := runIn("", "diff", xeams, "--host", "xeams1", "--netns", ns.Name)
			if code != 2 {
				t.Fatalf("diff: exit %d\n%s%s", code, out, errs)
			}
			listing := strings.ReplaceAll(errs, ns.Name, "NS")
			golden.Compare(t, filepath.Join("testdata", "coexist", c.name+".txt"), []byte(handles.ReplaceAllString(listing, "handle N")))

			code, out, errs = runIn("", "apply", xeams, "--host", "xeams1", "--netns", ns.Name)
			switch {
			case c.refused && (code != 1 || !strings.Contains(errs, "refusing to apply") || portwallTable(t, ns)):
				t.Errorf("apply: exit %d, want a refusal and no table\n%s%s", code, out, errs)
			case !c.refused && (code != 0 || !portwallTable(t, ns)):
				t.Errorf("apply: exit %d, want the table applied\n%s%s", code, out, errs)
			}

			// The packets: verify, alongside the same files.
			args := []string{"verify", xeams, "--host", "xeams1", "--target", "nftables"}
			for _, f := range c.files {
				args = append(args, "--alongside", filepath.Join("testdata", "coexist", f))
			}
			code, vout, verrs := runIn("", args...)
			if (code == 0) == c.refused {
				t.Errorf("verify --alongside: exit %d\n%s%s", code, vout, verrs)
			}
			// Every flow the check reports dropped is a mismatch, and no
			// other probe is.
			stopped := map[string]bool{}
			for _, m := range regexp.MustCompile(`MISMATCH in (\S+) from \S+ \(\w+\): the rules allow it \(rule (r[0-9a-f]+)\)`).FindAllStringSubmatch(vout, -1) {
				stopped[m[2]+" "+m[1]] = true
			}
			reported := map[string]bool{}
			for _, oc := range diffJSON(t, ns.Name).OtherChains {
				for _, f := range oc.Findings {
					if f.Verdict != "drops" {
						t.Errorf("%s: %+v: the shapes hold nothing portwall cannot evaluate", oc.Chain, f)
					}
					reported[f.ID] = true
				}
			}
			for k := range stopped {
				if !reported[strings.Fields(k)[0]] {
					t.Errorf("verify stopped %s, which the check does not report", k)
				}
			}
			for id := range reported {
				if !slices.ContainsFunc(slices.Collect(maps.Keys(stopped)), func(k string) bool { return strings.HasPrefix(k, id+" ") }) {
					t.Errorf("the check reports rule %s dropped, but verify stopped none of its probes", id)
				}
			}
			if t.Failed() {
				t.Logf("verify's output:\n%s", vout)
			}
		})
	}
}

// TestCoexistCannotTell: a chain whose verdict depends on what portwall
// cannot evaluate (here a socket match, which the netlink library cannot
// even read) is reported as such, and apply refuses for it too.
func TestCoexistCannotTell(t *testing.T) {
	kerneltest.Require(t, "nft")
	ns := kerneltest.New(t)
	ns.MustRun("nft", "add table inet handmade")
	ns.MustRun("nft", "add chain inet handmade in { type filter hook input priority -5; policy accept; }")
	ns.MustRun("nft", "add rule inet handmade in tcp dport 25 socket transparent 1 drop")
	code, out, errs := runIn("", "apply", xeams, "--host", "xeams1", "--netns", ns.Name)
	for _, want := range []string{
		"table inet handmade chain in (filter, policy accept): cannot tell whether it drops what portwall allows",
		"in tcp/25 from internet, pw:rd1471c0ade35 (xeams/smtp/smtp-in): tcp/25 203.0.113.77 -> 192.168.10.25: cannot tell: chain in handle",
		"the netlink library cannot read its socket expression (2 of 2 sample packets)",
		"portwall: refusing to apply: portwall cannot tell whether table inet handmade chain in would drop what portwall allows (listed above); nothing was applied.",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("apply's standard error lacks %q", want)
		}
	}
	if code != 1 || portwallTable(t, ns) {
		t.Errorf("apply: exit %d, want 1 and no table\n%s%s", code, out, errs)
	}
}
