package firewalld_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/portwall/portwall/generators/firewalld"
	"github.com/portwall/portwall/internal/netns"
	fwd "github.com/portwall/portwall/internal/netns/firewalld"
	"github.com/portwall/portwall/internal/testkit/kerneltest"
	"github.com/portwall/portwall/internal/testkit/rulestest"
)

// daemons bounds how many private firewalld daemons the tests run at
// once: each is a Python process that takes seconds of CPU to start and
// load.
var daemons = make(chan struct{}, 2)

// foreign are another tool's objects, which portwall must leave as they
// are: a zone, a policy and a service, and a file named like portwall's
// objects but in a directory portwall does not write.
var foreign = map[string]string{
	"zones/foreign.xml": `<?xml version="1.0" encoding="utf-8"?>
<zone target="ACCEPT">
  <short>foreign</short>
  <source address="203.0.113.0/24"/>
  <service name="foreign-svc"/>
</zone>
`,
	"policies/foreign-out.xml": `<?xml version="1.0" encoding="utf-8"?>
<policy target="CONTINUE" priority="100">
  <ingress-zone name="HOST"/>
  <egress-zone name="ANY"/>
  <port port="7000" protocol="tcp"/>
</policy>
`,
	"services/foreign-svc.xml": `<?xml version="1.0" encoding="utf-8"?>
<service>
  <short>foreign</short>
  <port port="4444" protocol="tcp"/>
</service>
`,
	"ipsets/portwall-foreign.xml": `<?xml version="1.0" encoding="utf-8"?>
<ipset type="hash:ip">
  <entry>192.0.2.99</entry>
</ipset>
`,
}

// stale is a file an earlier run wrote for a rule that is gone: the load
// must remove it.
const stale = "services/portwall-r000000000000.xml"

// lab is a private firewalld in a throwaway namespace with a seeded
// configuration holding the foreign objects.
type lab struct {
	ns     *kerneltest.Netns
	d      *fwd.Daemon
	config string
	dir    string
}

func newLab(t *testing.T) *lab {
	t.Helper()
	kerneltest.Require(t, fwd.Tools...)
	daemons <- struct{}{}
	t.Cleanup(func() { <-daemons })
	l := &lab{ns: kerneltest.New(t), dir: t.TempDir()}
	l.config = filepath.Join(l.dir, "etc")
	if err := fwd.Seed(l.config); err != nil {
		t.Fatal(err)
	}
	for name, data := range foreign {
		if err := os.WriteFile(filepath.Join(l.config, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d, err := fwd.Start(context.Background(), l.ns.NS, l.config, l.dir)
	if err != nil {
		t.Fatal(err)
	}
	// Registered after the namespace's own cleanup, so run before it:
	// the daemon ends before its namespace is deleted.
	t.Cleanup(func() {
		if err := d.Stop(); err != nil {
			t.Error(err)
		}
	})
	l.d = d
	return l
}

func (l *lab) cmd(t *testing.T, args ...string) string {
	t.Helper()
	out, err := l.d.Cmd(context.Background(), args...)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// load runs the script as its header says, with --dir naming the
// daemon's configuration.
func (l *lab) load(t *testing.T, script []byte) (string, error) {
	t.Helper()
	path := filepath.Join(l.dir, "load.sh")
	if err := os.WriteFile(path, script, 0o644); err != nil {
		t.Fatal(err)
	}
	return l.d.Run(context.Background(), nil, "sh", path, "--dir", l.config)
}

// files reads the configuration's files, by name.
func (l *lab) files(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(l.config, func(path string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		rel, _ := filepath.Rel(l.config, path)
		out[rel] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// foreignState is the foreign objects' files, and what the daemon made
// of them: every line of the ruleset that names them (their chains, and
// the dispatch to them), in order.
func (l *lab) foreignState(t *testing.T) string {
	files := l.files(t)
	var names []string
	for name := range foreign {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, name := range names {
		b.WriteString(name + ":\n" + files[name])
	}
	inChain := false
	for _, line := range strings.Split(l.ruleset(t), "\n") {
		switch {
		case strings.HasPrefix(line, "\tchain ") || strings.HasPrefix(line, "\tset "):
			inChain = strings.Contains(line, "foreign")
		case line == "\t}":
			if inChain {
				b.WriteString(line + "\n")
			}
			inChain = false
			continue
		}
		if inChain || strings.Contains(line, "foreign") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

var portwallFile = regexp.MustCompile(`^(zones|policies|services)/portwall.*\.xml$`)

// owned is portwall's files, joined in name order.
func owned(files map[string]string) string {
	var names []string
	for n := range files {
		if portwallFile.MatchString(n) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n + ":\n" + files[n])
	}
	return b.String()
}

func (l *lab) ruleset(t *testing.T) string {
	t.Helper()
	return l.ns.MustRun("nft", "list", "ruleset")
}

// TestLoadInFirewalld loads every host's output of every case into a
// real firewalld in a throwaway namespace: both configuration checks
// pass, the zone is the default zone, a stale portwall file is removed,
// loading twice and reloading give the same ruleset and files, and the
// foreign zone, policy, service and file are unchanged, on disk and in
// the daemon's ruleset. (The examples' hosts are loaded by the packet
// proof, internal/proof and cmd/portwall's TestVerifyEveryExample, with
// the same configuration checks: the script's behaviour does not depend
// on the rules it carries, and each daemon costs seconds.)
func TestLoadInFirewalld(t *testing.T) {
	t.Parallel()
	kerneltest.Require(t, fwd.Tools...)
	for _, dir := range rulestest.Cases(t) {
		file := filepath.Join(dir, "profile.toml")
		_, files := render(t, file)
		for name, data := range files {
			if name == "error" {
				continue
			}
			t.Run(filepath.Base(strings.TrimSuffix(file, "/profile.toml"))+"/"+name, func(t *testing.T) {
				t.Parallel()
				l := newLab(t)
				before := l.foreignState(t)
				if err := os.WriteFile(filepath.Join(l.config, stale), []byte(strings.Replace(foreign["services/foreign-svc.xml"], "foreign", "portwall-r000000000000", 1)), 0o644); err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				if out, err := l.load(t, data); err != nil {
					t.Fatalf("load: %v\n%s", err, out)
				}
				t.Logf("loaded in %s", time.Since(start).Round(time.Millisecond))
				if got := l.cmd(t, "--check-config"); got != "success" {
					t.Errorf("firewall-cmd --check-config: %s", got)
				}
				if out, err := netns.Run(context.Background(), nil, "firewall-offline-cmd", "--system-config", l.config, "--check-config"); err != nil || out != "" {
					t.Errorf("firewall-offline-cmd --check-config: %v\n%s", err, out)
				}
				if got := l.cmd(t, "--state"); got != "running" {
					t.Errorf("state %s", got)
				}
				if got := l.cmd(t, "--get-default-zone"); got != firewalld.Zone {
					t.Errorf("default zone %s", got)
				}
				files1, rules1 := l.files(t), l.ruleset(t)
				if _, ok := files1[stale]; ok {
					t.Errorf("the stale %s was not removed", stale)
				}
				if !strings.Contains(rules1, "chain filter_IN_portwall_allow") {
					t.Errorf("zone portwall is not loaded:\n%s", rules1)
				}
				if out, err := l.load(t, data); err != nil {
					t.Fatalf("second load: %v\n%s", err, out)
				}
				files2, rules2 := l.files(t), l.ruleset(t)
				if owned(files1) != owned(files2) || files1["firewalld.conf"] != files2["firewalld.conf"] {
					t.Errorf("the second load changed the files")
				}
				if rules1 != rules2 {
					t.Errorf("the second load changed the ruleset:\n%s\n---\n%s", rules1, rules2)
				}
				l.cmd(t, "--reload")
				if rules3 := l.ruleset(t); rules3 != rules1 {
					t.Errorf("a reload changed the ruleset:\n%s\n---\n%s", rules1, rules3)
				}
				if after := l.foreignState(t); after != before {
					t.Errorf("foreign objects changed:\n%s\n---\n%s", before, after)
				}
			})
		}
	}
}

// TestLoadRefusesABrokenConfiguration: with one invalid foreign file
// firewalld would fall back to its stock configuration; the script
// refuses before changing anything.
func TestLoadRefusesABrokenConfiguration(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	_, files := render(t, filepath.Join("testdata", "reject-and-egress", "profile.toml"))
	if out, err := l.load(t, files["x1.firewalld.sh"]); err != nil {
		t.Fatalf("load: %v\n%s", err, out)
	}
	before, rules := l.files(t), l.ruleset(t)
	if err := os.WriteFile(filepath.Join(l.config, "zones", "broken.xml"), []byte("<zone><bogus/></zone>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, files = render(t, filepath.Join("testdata", "any-address", "profile.toml"))
	out, err := l.load(t, files["web1.firewalld.sh"])
	if err == nil || !strings.Contains(out, "nothing was changed") {
		t.Fatalf("a broken configuration was loaded: %v\n%s", err, out)
	}
	after := l.files(t)
	delete(after, "zones/broken.xml")
	if owned(after) != owned(before) || l.ruleset(t) != rules {
		t.Error("the refused load changed the files or the ruleset")
	}
}
