package ufw_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portwall/portwall/generators/ufw"
	"github.com/portwall/portwall/generators/ufw/ufwparse"
	ufwenv "github.com/portwall/portwall/internal/netns/ufw"
	"github.com/portwall/portwall/internal/testkit/backendtest"
	"github.com/portwall/portwall/internal/testkit/kerneltest"
	"github.com/portwall/portwall/internal/testkit/rulestest"
)

// loads bounds how many ufw loads the tests run at once: every ufw
// command is a Python start.
var loads = make(chan struct{}, 2)

// Another tool's (or the operator's) parts of the configuration, which
// portwall must leave as they are: an application profile, ufw rules (one
// of them using the profile), and a rule of their own in before.rules.
const (
	foreignApps = `[foreign-app]
title=Foreign
description=someone else's
ports=4444/tcp|4445/udp
`
	foreignBefore = "# the operator's own rule\n-A ufw-before-input -p udp --dport 9999 -j ACCEPT\n"
)

var foreignRules = [][]string{
	{"allow", "5555/tcp", "comment", "foreign ssh-ish"},
	{"allow", "from", "203.0.113.0/24", "to", "any", "app", "foreign-app"},
	{"deny", "from", "198.51.100.7"},
}

// stale is what an earlier run of portwall left for a rule that is gone:
// its profile in portwall's file and its ufw rule. The load must remove
// both.
const (
	staleApps = "# an earlier run\n\n[portwall-r000000000000]\ntitle=pw:r000000000000 gone\ndescription=pw:r000000000000 gone\nports=7777/tcp\n"
	staleRule = "allow from 198.51.100.0/24 to any app portwall-r000000000000 comment 'pw:r000000000000 gone'"
)

type lab struct {
	env *ufwenv.Env
}

func newLab(t *testing.T) *lab {
	t.Helper()
	kerneltest.Require(t, ufwenv.Tools...)
	loads <- struct{}{}
	t.Cleanup(func() { <-loads })
	env := &ufwenv.Env{Dir: t.TempDir(), NS: kerneltest.New(t).NS}
	if err := ufwenv.Seed(env.Dir); err != nil {
		t.Fatal(err)
	}
	return &lab{env: env}
}

func (l *lab) ufw(t *testing.T, args ...string) string {
	t.Helper()
	out, err := l.env.Ufw(context.Background(), args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (l *lab) run(t *testing.T, argv ...string) string {
	t.Helper()
	out, err := l.env.Run(context.Background(), nil, argv...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (l *lab) file(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(l.env.Conf(), name))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(data)
}

func (l *lab) write(t *testing.T, name, data string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(l.env.Conf(), name), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// foreign puts the foreign parts and the stale rule in place.
func (l *lab) foreign(t *testing.T) {
	t.Helper()
	l.write(t, "applications.d/foreign", foreignApps)
	l.write(t, "applications.d/portwall", staleApps)
	before := l.file(t, "before.rules")
	l.write(t, "before.rules", strings.Replace(before, "# End required lines\n", "# End required lines\n"+foreignBefore, 1))
	for _, r := range foreignRules {
		l.ufw(t, r...)
	}
	l.run(t, "sh", "-c", "ufw "+staleRule)
}

// state is everything a load may change, by name: ufw's files, its
// status, the rules it lists, and the namespace's iptables and ip6tables
// rules (without counters).
func (l *lab) state(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, f := range []string{"user.rules", "user6.rules", "before.rules", "before6.rules", "ufw.conf", "applications.d/portwall", "applications.d/foreign"} {
		out[f] = l.file(t, f)
	}
	data, err := os.ReadFile(filepath.Join(l.env.Dir, "default"))
	if err != nil {
		t.Fatal(err)
	}
	out["default/ufw"] = string(data)
	out["status"] = l.ufw(t, "status", "verbose")
	out["added"] = l.ufw(t, "show", "added")
	counters := regexp.MustCompile(`(?m)^#.*\n|\[\d+:\d+\]`)
	for _, tool := range []string{"iptables-save", "ip6tables-save"} {
		out[tool] = counters.ReplaceAllString(l.run(t, tool), "")
	}
	return out
}

func diffState(a, b map[string]string) []string {
	var out []string
	for k := range a {
		if a[k] != b[k] {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// outsideBlock is a before.rules without portwall's block.
func outsideBlock(s string) string {
	var keep []string
	in := false
	for _, l := range strings.SplitAfter(s, "\n") {
		switch {
		case strings.HasPrefix(l, "# BEGIN portwall"):
			in = true
		case in && l == ufw.BlockEnd+"\n":
			in = false
		case !in:
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "")
}

// lines keeps the lines of s that contain sub.
func lines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestLoadInUfw loads every host's output of every case into ufw (active,
// with another tool's rules, profile and before.rules line, and a rule
// portwall left earlier) in a throwaway namespace with a private
// configuration: the load succeeds, the stale rule and its profile go,
// ufw lists exactly the script's rules as portwall's, the block is in
// before.rules and before6.rules, the default policies are the profile's;
// loading twice changes nothing (no ufw command, the same files, status
// and iptables rules), a reload changes no iptables rule, and the foreign
// parts are as they were. (The examples' hosts are loaded by the packet
// proof, cmd/portwall's TestVerifyUfw.)
func TestLoadInUfw(t *testing.T) {
	t.Parallel()
	kerneltest.Require(t, ufwenv.Tools...)
	if b, err := ufwenv.Backend(context.Background()); err != nil || b != "nf_tables" {
		t.Logf("iptables backend %q (%v): Debian's and Ubuntu's default is nf_tables", b, err)
	}
	for _, dir := range rulestest.Cases(t) {
		file := filepath.Join(dir, "profile.toml")
		_, files := render(t, file)
		for name, data := range files {
			if name == "error" {
				continue
			}
			t.Run(filepath.Base(dir)+"/"+name, func(t *testing.T) {
				t.Parallel()
				script, err := ufwparse.Parse(data)
				if err != nil {
					t.Fatal(err)
				}
				l := newLab(t)
				l.foreign(t)
				l.ufw(t, "--force", "enable")
				before := l.state(t)
				start := time.Now()
				out, err := l.env.Load(context.Background(), data)
				if err != nil {
					t.Fatalf("load: %v", err)
				}
				t.Logf("loaded in %s: %s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(out))
				if !strings.HasSuffix(out, "; ufw is active\n") {
					t.Errorf("load output: %q", out)
				}
				first := l.state(t)

				// portwall's rules are exactly the script's.
				var want, got []string
				body := string(data[strings.Index(string(data), "portwall_rules <<'PORTWALL_EOF'\n"):])
				body = body[len("portwall_rules <<'PORTWALL_EOF'\n") : strings.Index(body, "\nPORTWALL_EOF")+1]
				for _, r := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
					if r != "" {
						want = append(want, "ufw "+r)
					}
				}
				for _, r := range strings.Split(first["added"], "\n") {
					if strings.Contains(r, " comment 'pw:") {
						got = append(got, r)
					}
				}
				slices.Sort(want)
				slices.Sort(got)
				if !slices.Equal(want, got) {
					t.Errorf("ufw lists as portwall's:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
				if len(script.Rules) != len(want) {
					t.Errorf("%d rules read, %d in the here-document", len(script.Rules), len(want))
				}
				if strings.Contains(first["applications.d/portwall"], "r000000000000") || strings.Contains(first["added"], "r000000000000") {
					t.Errorf("the stale rule or its profile is still there:\n%s\n%s", first["added"], first["applications.d/portwall"])
				}
				policy := map[string]string{"deny": "deny (incoming)", "reject": "reject (incoming)"}[script.Settings.Incoming] +
					", " + map[string]string{"allow": "allow (outgoing)", "deny": "deny (outgoing)"}[script.Settings.Outgoing]
				if !strings.Contains(first["status"], "Default: "+policy) {
					t.Errorf("status, want %q:\n%s", policy, first["status"])
				}
				logging := map[bool]string{true: "Logging: on (low)", false: "Logging: off"}[script.Settings.Logging]
				if !strings.Contains(first["status"], logging) {
					t.Errorf("status, want %q:\n%s", logging, first["status"])
				}
				for i, f := range []string{"before.rules", "before6.rules"} {
					part := ufw.Parts[3+i]
					body := string(data[strings.Index(string(data), part+" <<'PORTWALL_EOF'\n")+len(part+" <<'PORTWALL_EOF'\n"):])
					body = body[:strings.Index(body, "PORTWALL_EOF\n")]
					if at := strings.Index(first[f], body); at < 0 || strings.Contains(first[f][:at], "\n-A ") || !strings.HasPrefix(first[f][at+len(body):], "-A ") {
						t.Errorf("%s does not hold the block at the top of the filter table's rules:\n%s", f, first[f])
					}
					if outsideBlock(first[f]) != before[f] {
						t.Errorf("%s changed outside portwall's block:\n%s\nwas:\n%s", f, outsideBlock(first[f]), before[f])
					}
				}
				// The foreign parts.
				if first["applications.d/foreign"] != foreignApps {
					t.Error("the foreign profile changed")
				}
				for _, k := range []string{"user.rules", "user6.rules", "added"} {
					for _, sub := range []string{"foreign", "5555", "198.51.100.7", "203.0.113.0/24"} {
						if lines(first[k], sub) != lines(before[k], sub) {
							t.Errorf("%s: the lines with %s changed:\n%s\nwere:\n%s", k, sub, lines(first[k], sub), lines(before[k], sub))
						}
					}
				}

				// Again: nothing changes.
				out, err = l.env.Load(context.Background(), data)
				if err != nil {
					t.Fatalf("second load: %v", err)
				}
				if !strings.Contains(out, "(rules: 0 added, 0 updated, 0 removed)") {
					t.Errorf("second load: %q", out)
				}
				if d := diffState(first, l.state(t)); len(d) > 0 {
					t.Errorf("the second load changed %v", d)
				}
				l.ufw(t, "reload")
				if d := diffState(first, l.state(t)); len(d) > 0 {
					t.Errorf("a reload changed %v", d)
				}
			})
		}
	}
}

// TestLoadInactive: into an inactive ufw the script loads the rules and
// leaves ufw inactive, with no ufw rule in the kernel; --enable (or
// [ufw] enable = true) enables it.
func TestLoadInactive(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		dir, host string
		args      []string
		active    bool
	}{
		{"overlapping-groups", "h1.ufw.sh", nil, false},
		{"overlapping-groups", "h1.ufw.sh", []string{"--enable"}, true},
		{"enable", "h1.ufw.sh", nil, true},
	} {
		t.Run(c.dir+strings.Join(c.args, ""), func(t *testing.T) {
			t.Parallel()
			l := newLab(t)
			_, files := render(t, filepath.Join("testdata", c.dir, "profile.toml"))
			out, err := l.env.Load(context.Background(), files[c.host], c.args...)
			if err != nil {
				t.Fatal(err)
			}
			active, err := l.env.Active(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			chains := l.run(t, "iptables-save")
			if active != c.active || strings.Contains(chains, "ufw-user-input") != c.active {
				t.Errorf("active %v, want %v; load said %q\n%s", active, c.active, out, chains)
			}
			if added := l.ufw(t, "show", "added"); !strings.Contains(added, " comment 'pw:") {
				t.Errorf("no rule of portwall's:\n%s", added)
			}
		})
	}
}

// TestLoadChanges: a rule removed from the profile goes on the next load,
// and a rule whose ports changed (same rule ID, so the same ufw rule) gets
// its new ports in the kernel (ufw app update).
func TestLoadChanges(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	l.ufw(t, "--force", "enable")
	base, err := os.ReadFile(filepath.Join("testdata", "overlapping-groups", "profile.toml"))
	if err != nil {
		t.Fatal(err)
	}
	load := func(profile string) string {
		rs, s := backendtest.LoadData(t, "p.toml", []byte(profile), ufw.Generator{})
		files := backendtest.Render(rs, s, ufw.Generator{})
		out, err := l.env.Load(context.Background(), files["h1.ufw.sh"])
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	load(string(base))
	before := l.ufw(t, "show", "added")
	if !strings.Contains(before, "SSH from the office") || !strings.Contains(l.run(t, "iptables-save"), "9000:9010") {
		t.Fatalf("the first load is not there:\n%s", before)
	}
	changed := strings.Replace(string(base), `ports = [22]
comment = "SSH from the office"`, `ports = [2222]
comment = "SSH from the office"`, 1)
	changed = strings.Replace(changed, `ports = [8080, "9000-9010"]`, `ports = [8080, "9000-9020"]`, 1)
	changed = strings.Replace(changed, `[[allow]]
from = ["office", "same-as-office", "dmz-range"]
to = "h1"
protocol = "udp"
ports = [161]
comment = "SNMP"
`, "", 1)
	if changed == string(base) || strings.Contains(changed, "SNMP") {
		t.Fatal("the profile did not change")
	}
	out := load(changed)
	after := l.ufw(t, "show", "added")
	ipt := l.run(t, "iptables-save")
	if strings.Contains(after, "SNMP") || strings.Contains(l.file(t, "applications.d/portwall"), "161/udp") || strings.Contains(ipt, "161") {
		t.Errorf("the removed rule is still there (%s):\n%s", out, after)
	}
	if !strings.Contains(ipt, "9000:9020") || strings.Contains(ipt, "9000:9010") {
		t.Errorf("the changed ports are not in the kernel (%s):\n%s", out, ipt)
	}
	if !strings.Contains(ipt, "--dport 2222") || strings.Contains(ipt, "--dport 22 ") {
		t.Errorf("the changed port is not in the kernel (%s):\n%s", out, ipt)
	}
	t.Logf("second load: %s", strings.TrimSpace(out))
}

// TestLoadRefuses: what the script finds wrong stops it before anything
// changes.
func TestLoadRefuses(t *testing.T) {
	t.Parallel()
	_, files := render(t, filepath.Join("testdata", "overlapping-groups", "profile.toml"))
	script := files["h1.ufw.sh"]
	for _, c := range []struct {
		name  string
		spoil func(*testing.T, *lab)
		want  string
	}{
		{"IPv6 off", func(t *testing.T, l *lab) {
			data, _ := os.ReadFile(filepath.Join(l.env.Dir, "default"))
			if err := os.WriteFile(filepath.Join(l.env.Dir, "default"), []byte(strings.Replace(string(data), "IPV6=yes", "IPV6=no", 1)), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "set IPV6=yes in /etc/default/ufw"},
		{"a broken block", func(t *testing.T, l *lab) {
			l.write(t, "before6.rules", strings.Replace(l.file(t, "before6.rules"), "# End required lines\n", "# End required lines\n# BEGIN portwall\n", 1))
		}, "has a broken portwall block"},
		{"a stale rule without its profile", func(t *testing.T, l *lab) {
			l.write(t, "applications.d/portwall", staleApps)
			l.run(t, "sh", "-c", "ufw "+staleRule)
			if err := os.Remove(filepath.Join(l.env.Conf(), "applications.d/portwall")); err != nil {
				t.Fatal(err)
			}
		}, "its application profile portwall-r000000000000 is not in"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			l := newLab(t)
			l.ufw(t, "--force", "enable")
			c.spoil(t, l)
			before := l.state(t)
			out, err := l.env.Load(context.Background(), script)
			if err == nil || !strings.Contains(out, c.want) || !strings.Contains(out, "nothing was changed") {
				t.Errorf("load: %v\n%s", err, out)
			}
			if d := diffState(before, l.state(t)); len(d) > 0 {
				t.Errorf("the refused load changed %v", d)
			}
		})
	}
}
