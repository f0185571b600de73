package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portwall/portwall/generators/portdoc"
	"github.com/portwall/portwall/generators/targets"
	"github.com/portwall/portwall/internal/testkit/kerneltest"
	"github.com/portwall/portwall/rules/catalog"
	"github.com/portwall/portwall/rules/lint"
)

// completionProfile is the profile on the command lines of the completion
// tests; its second deployment names a product the catalog lacks, and
// completion still gives its hosts and groups.
const completionProfile = `[groups]
office = ["192.0.2.0/24"]
internet = ["any"]

[hosts.mx1]
description = "first mail relay"
addresses = ["192.0.2.25"]

[hosts.mx2]
addresses = ["192.0.2.26", "2001:db8::26"]

[[allow]]
from = "office"
to = ["mx1", "mx2"]
service = "ssh"

[[deployment]]
product = "no-such-product"
`

// TestComplete: what `portwall __complete` answers, candidates with their
// descriptions and the directive, for each kind of word.
func TestComplete(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	profile := filepath.Join(dir, "p.toml")
	if err := os.WriteFile(profile, []byte(completionProfile), 0o644); err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	fortimail, _ := cat.Product("fortimail")
	var haFeatures []string
	for _, f := range fortimail.Features {
		if strings.HasPrefix(f.Name, "backup-") {
			haFeatures = append(haFeatures, f.Name+"\t"+featureDesc(f))
		}
	}
	var pw80 []string
	for _, ch := range lint.Checks {
		if strings.HasPrefix(ch.Code, "PW80") {
			pw80 = append(pw80, ch.Code+"\t"+ch.Name+": "+ch.Summary)
		}
	}
	for _, c := range []struct {
		words []string
		want  []string
	}{
		{[]string{"gen"}, []string{"generate\twrite firewall rules for one host, or for all hosts into a directory", ":none"}},
		{[]string{"catalog", "ex"}, []string{"export\tprint the whole catalog in a machine-readable format", ":none"}},
		{[]string{"help", "catalog", "sh"}, []string{"show\tshow a product's roles, peers, features, options and flows, or a service", ":none"}},
		{[]string{"-q", "va"}, []string{"validate\tcheck a profile against the catalog and its declared targets, and report every problem", ":none"}},
		{[]string{"__complete"}, []string{":none"}}, // hidden
		{[]string{"generate", profile, "--ho"}, []string{"--host\trender host NAME", ":none"}},
		{[]string{"generate", profile, "--host", "mx1", "--ho"}, []string{":none"}}, // given once
		{[]string{"generate", profile, "--q"}, []string{"--quiet\tprint only results, warnings and errors: no progress or success messages", ":none"}},
		{[]string{"validate", ""}, []string{":files"}},
		{[]string{"validate", profile, ""}, []string{":none"}},
		{[]string{"generate", profile, "--host", ""}, []string{"mx1\tfirst mail relay", "mx2\t192.0.2.26 2001:db8::26", ":none"}},
		{[]string{"generate", "--host", "m", profile}, []string{":files"}}, // the profile is still to come
		{[]string{"explain", profile, "--from", ""}, []string{"mx1\tfirst mail relay", "mx2\t192.0.2.26 2001:db8::26", "internet\tgroup", "office\tgroup", "any\tevery address", ":none"}},
		{[]string{"query", profile, "--to=o"}, []string{"--to=office\tgroup", ":none"}},
		{[]string{"generate", "missing.toml", "--host", ""}, []string{":none"}},
		{[]string{"generate", profile, "--target", "nftables,ip"}, []string{"nftables,ip6tables", "nftables,iptables", ":none"}},
		{[]string{"generate", profile, "-t", "al"}, []string{"all\tevery target (declared ones, with --all-hosts)", ":none"}},
		{[]string{"verify", profile, "--target", "f"}, []string{"firewalld", ":none"}},
		{[]string{"docs", profile, "--format", ""}, append(portdoc.Formats(), ":none")},
		{[]string{"generate", profile, "--out-dir", "o"}, []string{":dirs"}},
		{[]string{"generate", profile, "-o", ""}, []string{":files"}},
		{[]string{"--catalog", ""}, []string{":dirs"}},
		{[]string{"--color", ""}, []string{"auto", "always", "never", ":none"}},
		{[]string{"init", "xeams", "fme"}, []string{"fme-server\tFME Server", ":none"}},
		{[]string{"init", "xeams", "xe"}, []string{":none"}},
		{[]string{"catalog", "show", "postg"}, []string{"postgresql\tPostgreSQL", "postgresql\tPostgreSQL", ":none"}},
		{[]string{"catalog", "show", "fme-server", "--version", ""}, []string{"2023.1\tFME Server up to 2023.1 (FME Server's port list)", "2023.2\tFME Flow 2023.2 (FME Flow Ports; later releases not checked)", ":none"}},
		{[]string{"catalog", "show", "fortimail", "--feature", "backup-"}, append(haFeatures, ":none")},
		{[]string{"lint", profile, "--ignore", "PW80"}, append(pw80, ":none")},
		{[]string{"explain", profile, "--port", "ssh"}, []string{"ssh\tSecure Shell (SSH)", ":none"}},
		{[]string{"completion", ""}, []string{"bash", "zsh", "fish", ":none"}},
		{[]string{"man", ""}, []string{"profile\tportwall-profile(5): every key of the profile", ":none"}},
		{[]string{"generate", profile, "--", "-"}, []string{":none"}},
	} {
		code, out, errs := runIn("", append([]string{completeCommand}, c.words...)...)
		want := strings.Join(c.want, "\n") + "\n"
		if code != 0 || out != want || errs != "" {
			t.Errorf("complete %q: exit %d, stderr %q, got:\n%s\nwant:\n%s", c.words, code, errs, out, want)
		}
	}
	if len(haFeatures) < 3 || len(pw80) < 3 {
		t.Errorf("too few candidates to test: %q %q", haFeatures, pw80)
	}
}

// TestShellCompletion sources each shell's script in that shell and
// completes command lines the way the shell does, against a portwall
// binary built from this package: bash through its completion function
// with COMP_LINE, COMP_POINT, COMP_WORDS and COMP_CWORD set as bash sets
// them; zsh in an interactive shell on a pseudo-terminal, typing the line
// and TAB (testdata/completion/zpty.zsh); fish with complete -C.
func TestShellCompletion(t *testing.T) {
	t.Parallel()
	kerneltest.RequireTools(t, "go")
	bin := t.TempDir()
	if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, "portwall"), ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	zpty, err := filepath.Abs(filepath.Join("testdata", "completion", "zpty.zsh"))
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	if err := os.WriteFile(filepath.Join(work, "p.toml"), []byte(completionProfile), 0o644); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir() // fish and zsh write nothing into the real one
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	var fortim []string
	for _, n := range cat.Names() {
		if strings.HasPrefix(n, "fortim") {
			fortim = append(fortim, n)
		}
	}
	type testCase struct {
		line string
		want []string
		// bash: what bash gets where it differs: its completions replace
		// only the part of the word after "=".
		bash []string
	}
	cases := []testCase{
		{line: "portwall gen", want: []string{"generate"}},
		{line: "portwall catalog ex", want: []string{"export"}},
		{line: "portwall verify --ho", want: []string{"--host"}},
		{line: "portwall generate p.toml --all", want: []string{"--all-hosts"}},
		{line: "portwall generate p.toml --target ", want: append(targets.Names(), "all")},
		{line: "portwall generate p.toml --target nftables,ip", want: []string{"nftables,ip6tables", "nftables,iptables"}},
		{line: "portwall generate p.toml --target=nf", want: []string{"--target=nftables"}, bash: []string{"nftables"}},
		{line: "portwall diff p.toml --host ", want: []string{"mx1", "mx2"}},
		{line: "portwall query p.toml --from ", want: []string{"any", "internet", "mx1", "mx2", "office"}},
		{line: "portwall init fortim", want: fortim},
		{line: "portwall catalog show fme-server --version 2023.", want: []string{"2023.1", "2023.2"}},
		{line: "portwall lint p.toml --ignore PW70", want: []string{"PW701", "PW702", "PW703", "PW704", "PW705", "PW706", "PW707"}},
		{line: "portwall validate p", want: []string{"p.toml"}},
		{line: "portwall --color a", want: []string{"always", "auto"}},
	}
	env := append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, "config"), "XDG_DATA_HOME="+filepath.Join(home, "data"), "XDG_CACHE_HOME="+filepath.Join(home, "cache"))
	// Each shell runs once per line, except zsh, which starting takes
	// long: one session completes every line, and prints "--" after each.
	shells := []struct {
		name string
		args func(script, line string) []string
	}{
		{"bash", func(script, line string) []string {
			return []string{"bash", "--norc", "--noprofile", "-c", `source "$1"
COMP_LINE="$2"; COMP_POINT=${#2}
# COMP_WORDS as bash splits them: at blanks, and = a word of its own
read -ra COMP_WORDS <<< "${2//=/ = }"
[[ $2 == *[[:space:]] ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
_portwall
printf '%s\n' "${COMPREPLY[@]}"`, "bash", script, line}
		}},
		{"zsh", nil},
		{"fish", func(script, line string) []string {
			return []string{"fish", "--no-config", "-c", "source $argv[1]; complete -C $argv[2]", script, line}
		}},
	}
	for _, sh := range shells {
		t.Run(sh.name, func(t *testing.T) {
			t.Parallel()
			kerneltest.RequireTools(t, sh.name)
			_, script, _ := runIn("", "completion", sh.name)
			file := filepath.Join(bin, "portwall."+sh.name)
			if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
				t.Fatal(err)
			}
			run := func(args ...string) string {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				cmd := exec.CommandContext(ctx, args[0], args[1:]...)
				cmd.Dir, cmd.Env = work, env
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("%q: %v\n%s", args, err, out)
				}
				return string(out)
			}
			var outs []string
			if sh.args == nil {
				args := []string{"zsh", "-f", zpty, file}
				for _, c := range cases {
					args = append(args, c.line)
				}
				outs = strings.SplitAfter(run(args...), "--\n")
				if len(outs) != len(cases)+1 || outs[len(cases)] != "" {
					t.Fatalf("zsh completed %d lines of %d:\n%s", len(outs)-1, len(cases), strings.Join(outs, ""))
				}
			} else {
				for _, c := range cases {
					outs = append(outs, run(sh.args(file, c.line)...))
				}
			}
			for i, c := range cases {
				var got []string
				for _, l := range strings.Split(strings.TrimSuffix(outs[i], "--\n"), "\n") {
					if v, _, _ := strings.Cut(l, "\t"); v != "" && !slices.Contains(got, v) {
						got = append(got, v)
					}
				}
				want := c.want
				if sh.name == "bash" && c.bash != nil {
					want = c.bash
				}
				slices.Sort(got)
				want = slices.Sorted(slices.Values(want))
				if !slices.Equal(got, want) {
					t.Errorf("%q: got %q, want %q", c.line, got, want)
				}
			}
		})
	}
}
