package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portwall/portwall/internal/testkit/kerneltest"
)

// otherTables stands for rules other tools own: a Docker-shaped ip filter
// table and an inet table. portwall must never touch them.
const otherTables = `table ip filter {
	chain FORWARD {
		type filter hook forward priority filter; policy drop;
		jump DOCKER-USER
	}
	chain DOCKER-USER {
		return
	}
}
table inet other {
	set blocked {
		type ipv4_addr
		elements = { 203.0.113.9 }
	}
	chain input {
		type filter hook input priority 10; policy accept;
		ip saddr @blocked drop comment "someone else's rule"
	}
}
`

// TestExamplesLoadInKernel loads every host's nftables output of every
// example into a fresh network namespace: nft -c accepts it, nft -f loads
// it, loading it again leaves `nft list ruleset` identical, and tables
// created beforehand by other tools are left exactly as they were.
func TestExamplesLoadInKernel(t *testing.T) {
	t.Parallel()
	kerneltest.Require(t, "nft")
	for _, f := range examples(t) {
		name := strings.TrimSuffix(filepath.Base(f), ".toml")
		dir := t.TempDir()
		run(t, "generate", f, "--target", "nftables", "--all-hosts", "--out-dir", dir)
		scripts, _ := filepath.Glob(filepath.Join(dir, "*.nft"))
		if len(scripts) == 0 {
			t.Fatalf("%s: no scripts", name)
		}
		for _, script := range scripts {
			t.Run(name+"/"+strings.TrimSuffix(filepath.Base(script), ".nft"), func(t *testing.T) {
				loadTwice(t, script)
			})
		}
	}
}

func loadTwice(t *testing.T, script string) {
	ns := kerneltest.New(t)
	if out, err := ns.RunStdin([]byte(otherTables), "nft", "-f", "-"); err != nil {
		t.Fatalf("loading the other tables: %v\n%s", err, out)
	}
	others := func() string {
		return ns.MustRun("nft", "list", "table", "ip", "filter") + ns.MustRun("nft", "list", "table", "inet", "other")
	}
	before := others()

	ns.MustRun("nft", "-c", "-f", script)
	if tables := ns.MustRun("nft", "list", "tables"); strings.Contains(tables, "portwall") {
		t.Fatalf("nft -c loaded the table:\n%s", tables)
	}
	ns.MustRun("nft", "-f", script)
	first := ns.MustRun("nft", "list", "ruleset")
	if !strings.Contains(first, "table inet portwall {") || !strings.Contains(first, "chain input {") {
		t.Fatalf("table not loaded:\n%s", first)
	}
	ns.MustRun("nft", "-f", script)
	if second := ns.MustRun("nft", "list", "ruleset"); second != first {
		t.Errorf("loading twice changed the ruleset:\nfirst:\n%s\nsecond:\n%s", first, second)
	}
	if after := others(); after != before {
		t.Errorf("other tables changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	// Every rule of the script is in the kernel, with its comment.
	data, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Count(string(data), " comment \"pw:")
	if got := strings.Count(first, " comment \"pw:"); got != want {
		t.Errorf("kernel holds %d commented rules, the script %d", got, want)
	}
}
