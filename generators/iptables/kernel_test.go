package iptables_test

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/portwall/portwall/generators/iptables"
	"github.com/portwall/portwall/internal/testkit/kerneltest"
	"github.com/portwall/portwall/rules/ir"
)

// savedRules is iptables-save without its comment lines (which carry a
// timestamp) and counters.
var counters = regexp.MustCompile(`\[\d+:\d+\]`)

func save(ns *kerneltest.Netns, tool string) string {
	out := ns.MustRun(tool + "-save")
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if !strings.HasPrefix(l, "#") {
			keep = append(keep, counters.ReplaceAllString(l, "[0:0]"))
		}
	}
	return strings.Join(keep, "\n")
}

// otherTool stands for rules another tool keeps in the filter table.
func otherTool(t *testing.T, ns *kerneltest.Netns, tool string) {
	t.Helper()
	ns.MustRun(tool, "-N", "DOCKER-USER")
	ns.MustRun(tool, "-A", "DOCKER-USER", "-j", "RETURN")
	ns.MustRun(tool, "-A", "INPUT", "-p", "tcp", "--dport", "9", "-m", "comment", "--comment", "another tool", "-j", "ACCEPT")
}

// TestLoadInKernel loads every output of every example and case, in both
// modes, into fresh network namespaces.
//
// Replace mode: iptables-restore --test accepts it, a real load works, and
// a second load gives an identical iptables-save. Noflush mode: the same,
// plus another tool's rules in the filter table survive both loads, and the
// documented hook command, run after each load, leaves exactly one jump.
func TestLoadInKernel(t *testing.T) {
	t.Parallel()
	kerneltest.Require(t, "iptables-restore", "ip6tables-restore")
	files, _ := filepath.Glob("../../examples/*.toml")
	for _, dir := range cases(t) {
		files = append(files, filepath.Join(dir, "profile.toml"))
	}
	for _, file := range files {
		for _, mode := range []iptables.Mode{iptables.Replace, iptables.NoFlush} {
			rs, s := ruleset(t, file)
			s.Mode = mode
			for name, data := range render(t, rs, s) {
				if name == "error" {
					continue
				}
				tool := "iptables"
				if family(name) == ir.IPv6 {
					tool = "ip6tables"
				}
				t.Run(filepath.Base(filepath.Dir(file))+"/"+string(mode)+"/"+name, func(t *testing.T) {
					ns := kerneltest.New(t)
					if out, err := ns.RunStdin(data, tool+"-restore", "--test"); err != nil {
						t.Fatalf("%s-restore --test: %v\n%s", tool, err, out)
					}
					args := []string{}
					if mode == iptables.NoFlush {
						otherTool(t, ns, tool)
						args = append(args, "--noflush")
					}
					hook := func() {
						for _, h := range [][2]string{{"INPUT", "PORTWALL-INPUT"}, {"OUTPUT", "PORTWALL-OUTPUT"}} {
							if _, err := ns.Run(tool, "-C", h[0], "-j", h[1]); err != nil {
								ns.MustRun(tool, "-I", h[0], "1", "-j", h[1])
							}
						}
					}
					var saved []string
					for i := 0; i < 2; i++ {
						if out, err := ns.RunStdin(data, tool+"-restore", args...); err != nil {
							t.Fatalf("load %d: %v\n%s", i+1, err, out)
						}
						if mode == iptables.NoFlush {
							hook()
						}
						saved = append(saved, save(ns, tool))
					}
					if saved[0] != saved[1] {
						t.Errorf("second load changed the table:\nfirst:\n%s\nsecond:\n%s", saved[0], saved[1])
					}
					if c := strings.Count(saved[1], "-A INPUT -j PORTWALL-INPUT"); c != 1 {
						t.Errorf("%d jumps from INPUT:\n%s", c, saved[1])
					}
					if mode == iptables.NoFlush && (!strings.Contains(saved[1], `--comment "another tool"`) || !strings.Contains(saved[1], "-A DOCKER-USER -j RETURN")) {
						t.Errorf("another tool's rules did not survive:\n%s", saved[1])
					}
				})
			}
		}
	}
}
