package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portwall/portwall/internal/testkit/kerneltest"
)

// steps reads the `run:` scripts of a GitHub Actions workflow by step
// name: enough YAML for the README's recipe, which the test keeps simple.
func steps(t *testing.T, yaml string) map[string]string {
	t.Helper()
	out := map[string]string{}
	lines := strings.Split(yaml, "\n")
	name := ""
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		switch {
		case strings.HasPrefix(l, "- name: "):
			name = strings.TrimPrefix(l, "- name: ")
		case l == "run: |":
			indent := -1
			var script []string
			for i+1 < len(lines) {
				next := lines[i+1]
				n := len(next) - len(strings.TrimLeft(next, " "))
				if strings.TrimSpace(next) != "" && (indent >= 0 && n < indent || indent < 0 && n <= strings.Index(lines[i], "run:")) {
					break
				}
				if indent < 0 {
					indent = n
				}
				script = append(script, strings.TrimPrefix(next, strings.Repeat(" ", indent)))
				i++
			}
			out[name] = strings.Join(script, "\n")
		case strings.HasPrefix(l, "run: "):
			out[name] = strings.TrimPrefix(l, "run: ")
		}
	}
	return out
}

// TestReadmeCIRecipe runs the README's workflow steps (all but installing
// and the packet proof, which needs root) in a fresh git repository
// holding an example as firewall/site.toml: they pass, and the stale-output
// step fails once the profile changes without its outputs.
func TestReadmeCIRecipe(t *testing.T) {
	t.Parallel()
	kerneltest.RequireTools(t, "bash", "git", "go")
	wf := steps(t, readmeBlock(t, "## Using portwall in CI", "yaml"))
	for _, name := range []string{"Validate and lint", "Generate the declared targets", "Fail when the committed outputs are stale"} {
		if wf[name] == "" {
			t.Fatalf("the README's workflow has no step %q (steps: %v)", name, wf)
		}
	}
	// Built as the install step builds it, the release build: static
	// (no cgo) and without urfave/cli's documentation writer. It must
	// build, and pass the steps.
	const install = "CGO_ENABLED=0 go install -tags urfave_cli_no_docs "
	if !strings.HasPrefix(wf["Install portwall"], install) {
		t.Fatalf("the README's install step %q is not the release build %q", wf["Install portwall"], install)
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-tags", "urfave_cli_no_docs", "-o", filepath.Join(bin, "portwall"), ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	repo := t.TempDir()
	profile, err := os.ReadFile("../../examples/site.toml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(repo, "firewall"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(data []byte) {
		if err := os.WriteFile(filepath.Join(repo, "firewall", "site.toml"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(profile)
	sh := func(script string) (string, error) {
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org", "NO_COLOR=1")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	must := func(script string) {
		t.Helper()
		if out, err := sh(script); err != nil {
			t.Fatalf("%s: %v\n%s", script, err, out)
		}
	}
	must("git init -q . && git add -A && git commit -qm profile")
	must(wf["Validate and lint"])
	must(wf["Generate the declared targets"])
	must("git add -A && git commit -qm generated")
	must(wf["Fail when the committed outputs are stale"])

	// The profile changes, the outputs are not committed: the step fails.
	write([]byte(strings.Replace(string(profile), "[[allow]]", "[[allow]]\nfrom = \"admins\"\nto = \"mail1\"\nprotocol = \"tcp\"\nports = [8443]\ncomment = \"new\"\n\n[[allow]]", 1)))
	must(wf["Generate the declared targets"])
	if out, err := sh(wf["Fail when the committed outputs are stale"]); err == nil {
		t.Errorf("the stale-output step passed with stale outputs:\n%s", out)
	}
}
