package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/internal/testkit/golden"
	"github.com/portwall/portwall/profiles"
	"github.com/portwall/portwall/rules/catalog"
)

// TestInitEveryProduct: for every product of the catalog, and for all of
// them in one profile, init's profile with its placeholders unfilled
// gives exactly one positioned "fill this in" error per placeholder and
// nothing else; filled in (addresses from the documentation ranges, the
// catalog's own values for options and choices), it validates, is valid
// under the schema, and generates every target for every host.
func TestInitEveryProduct(t *testing.T) {
	t.Parallel()
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	type job struct {
		name     string
		products []string
		hosts    int
	}
	jobs := []job{{"all-hosts1", cat.Names(), 1}}
	// Two hosts per role doubles every name and address: once, for every
	// product together, and not in the quick tier.
	if !testing.Short() {
		jobs = append(jobs, job{"all-hosts2", cat.Names(), 2})
	}
	for _, name := range cat.Names() {
		jobs = append(jobs, job{name, []string{name}, 1})
	}
	schema := profileSchema(t)
	for _, r := range jobs {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			checkSkeleton(t, cat, schema, nil, r.products, r.hosts)
		})
	}
}

// TestInitPeerLink: peers that stand for another named product's role
// are bound to that deployment ({ deployment = ..., role = ... }), and the
// profile validates and generates (products of testdata/init/catalog).
func TestInitPeerLink(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "init", "catalog")
	cat, err := catalog.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	skel := checkSkeleton(t, cat, profileSchema(t), []string{"--catalog", dir}, []string{"mailer", "console"}, 1)
	for _, want := range []string{
		"\nmanager = { deployment = \"console\", role = \"server\" }",
		"\ndevices = { deployment = \"mailer\", role = \"gateway\" }",
	} {
		if !strings.Contains(skel, want) {
			t.Errorf("no %q in:\n%s", want[1:], skel)
		}
	}
}

// checkSkeleton runs init for products (with the global flags before it):
// with its placeholders unfilled, validate gives exactly one positioned
// "fill this in" error per placeholder and generate fails; filled in, it
// validates, is valid under the schema, and generates every declared
// target for every host. It returns the skeleton.
func checkSkeleton(t *testing.T, cat *catalog.Catalog, schema *jsonschema.Schema, global, products []string, hosts int) string {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "profile.toml")
	skel, _ := run(t, slices.Concat(global, []string{"init"}, products, []string{"--hosts", strconv.Itoa(hosts)})...)
	if err := os.WriteFile(file, []byte(skel), 0o644); err != nil {
		t.Fatal(err)
	}

	// Unfilled: one error per placeholder, where it is.
	want := placeholderErrors(t, file, skel)
	if len(want) < 2 {
		t.Fatalf("only %d placeholders", len(want))
	}
	code, _, stderr := runIn("", slices.Concat(global, []string{"validate", file})...)
	if code != exitError || stderr != strings.Join(want, "") {
		t.Errorf("validate of the skeleton: exit %d, stderr:\n%s\nwant:\n%s", code, stderr, strings.Join(want, ""))
	}
	if code, out, _ := runIn("", slices.Concat(global, []string{"generate", file, "--target", "nftables", "--all-hosts"})...); code != exitError || out != "" {
		t.Errorf("generate of the skeleton: exit %d, stdout %q", code, out)
	}

	filled := fill(t, cat, file, skel)
	if left := placeholderErrors(t, file, filled); len(left) > 0 {
		t.Fatalf("placeholders left: %q", left)
	}
	if err := os.WriteFile(file, []byte(filled), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, stderr := runIn("", slices.Concat(global, []string{"validate", file})...); code != exitOK || !strings.Contains(out, ": valid: ") {
		t.Fatalf("validate of the filled profile: exit %d\n%s%s\n%s", code, out, stderr, filled)
	}
	if err := schemaErr(t, schema, file); err != nil {
		t.Errorf("the filled profile is not valid under the schema: %v", err)
	}
	out := filepath.Join(dir, "out")
	if code, _, stderr := runIn("", slices.Concat(global, []string{"generate", file, "--target", "all", "--all-hosts", "--out-dir", out})...); code != exitOK {
		t.Fatalf("generate --target all: exit %d\n%s", code, stderr)
	}
	// The declared os is linux: every host gets nftables.
	written, _ := filepath.Glob(filepath.Join(out, "nftables", "*.nft"))
	if n := strings.Count(skel, "\n[hosts."); len(written) != n || n == 0 {
		t.Errorf("generate wrote %d host files, want %d", len(written), n)
	}

	// The defaults in comments are the defaults: with every one the
	// default features need uncommented, the rules are the same.
	before, _ := run(t, slices.Concat(global, []string{"generate", file, "--target", "json"})...)
	explicit, n := uncommentDefaults(filled)
	if err := os.WriteFile(file, []byte(explicit), 0o644); err != nil {
		t.Fatal(err)
	}
	code, after, stderr := runIn("", slices.Concat(global, []string{"generate", file, "--target", "json"})...)
	if code != exitOK || after != before {
		t.Errorf("with the %d defaults in comments written out: exit %d\n%s\n%s", n, code, stderr, golden.Diff([]byte(before), []byte(after)))
	}
	return skel
}

// uncommentDefaults uncomments the lines of a skeleton that write a
// default out: a deployment's version and mode, and the entries of its
// options, choices and ports, except those that other features need or
// that are placeholders. It returns the profile and how many it
// uncommented.
func uncommentDefaults(profile string) (string, int) {
	lines := strings.Split(profile, "\n")
	table, n := "", 0
	entry := regexp.MustCompile(`^# [a-z0-9-]+ = `)
	for i, l := range lines {
		if strings.HasPrefix(l, "[") {
			table = l
		}
		switch {
		case !entry.MatchString(l), strings.Contains(l, "needed with"), strings.Contains(l, "<fill in:"):
		case table == "[[deployment]]" && (strings.HasPrefix(l, "# version = ") || strings.HasPrefix(l, "# mode = ")),
			table == "[deployment.options]", table == "[deployment.choose]", table == "[deployment.ports]":
			lines[i] = strings.TrimPrefix(l, "# ")
			n++
		}
	}
	return strings.Join(lines, "\n"), n
}

// placeholderErrors lists the errors validate gives for the placeholders
// of a profile, found independently of the loader: the quoted strings
// that start with "<fill in:" outside comments, with their line and
// column, and what they ask for.
func placeholderErrors(t *testing.T, file, data string) []string {
	t.Helper()
	var root map[string]any
	if _, err := toml.Decode(data, &root); err != nil {
		t.Fatalf("not TOML: %v", err)
	}
	var out []string
	for i, line := range strings.Split(data, "\n") {
		code := line
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for col := 0; ; {
			j := strings.Index(code[col:], `"<fill in: `)
			if j < 0 {
				break
			}
			col += j
			end := strings.Index(code[col+1:], `>"`)
			what := code[col+len(`"<fill in: `) : col+1+end]
			out = append(out, fmt.Sprintf("%s:%d:%d: fill this in: %s\n", file, i+1, col+1, what))
			col += end + 2
		}
	}
	return out
}

// fill replaces every placeholder of the profile with a value: the
// operating system linux; for a host, addresses of the documentation
// ranges (RFC 5737, RFC 3849), unique per host; for a group, an address
// of another documentation range; for an option, a value of its kind; for
// a choice, the flow's first alternative; for random_ports, "all".
func fill(t *testing.T, cat *catalog.Catalog, file, data string) string {
	t.Helper()
	p, err := profiles.Parse(file, []byte(data))
	if p == nil {
		t.Fatalf("the skeleton does not load: %v", err)
	}
	lines := strings.Split(data, "\n")
	errs := diag.AsList(err)
	slices.Reverse(errs) // replace from the end: columns stay right
	hostN, groupN := 0, 0
	deployment := regexp.MustCompile(`^deployment\[([0-9]+)\]\.(options|choose)\.([a-z0-9-]+)$`)
	for _, e := range errs {
		if !strings.HasPrefix(e.Msg, profiles.FillInMessage) {
			t.Fatalf("not a placeholder: %v", e)
		}
		var value string
		switch m := deployment.FindStringSubmatch(e.Path); {
		case e.Path == "defaults.os":
			value = `"linux"`
		case strings.HasPrefix(e.Path, "hosts."):
			hostN++
			value = fmt.Sprintf(`"192.0.2.%d", "2001:db8::%x"`, hostN, hostN)
		case strings.HasPrefix(e.Path, "groups."):
			groupN++
			value = fmt.Sprintf(`"203.0.113.%d"`, groupN)
		case strings.HasSuffix(e.Path, ".random_ports"):
			value = `"all"`
		case m != nil:
			i, _ := strconv.Atoi(m[1])
			prod, ok := cat.Product(p.Deployments[i].Product)
			if !ok {
				t.Fatalf("%s: unknown product", e.Path)
			}
			value = fillValue(t, prod, m[2], m[3])
		default:
			t.Fatalf("no value to fill %s in with", e)
		}
		line := lines[e.Pos.Line-1]
		start := e.Pos.Col - 1
		if !strings.HasPrefix(line[start:], `"<fill in:`) {
			t.Fatalf("%v: no placeholder at the position: %q", e, line)
		}
		end := start + 1 + strings.Index(line[start+1:], `"`) + 1
		lines[e.Pos.Line-1] = line[:start] + value + line[end:]
	}
	return strings.Join(lines, "\n")
}

func fillValue(t *testing.T, prod *catalog.Product, table, name string) string {
	t.Helper()
	switch table {
	case "options":
		o, ok := prod.Option(name)
		if !ok {
			t.Fatalf("product %s has no option %s", prod.Name, name)
		}
		switch o.Kind {
		case catalog.OptionPortRange:
			return `"7100-7150"`
		case catalog.OptionChoice:
			return strconv.Quote(o.Values[0])
		default:
			return `"C:\\portwall-test"`
		}
	default:
		fl, ok := prod.Flow(name)
		if !ok {
			t.Fatalf("product %s has no flow %s", prod.Name, name)
		}
		return strconv.Itoa(int(fl.Ports[0].First))
	}
}

// TestInitGolden: init's output for one product, two that have nothing to
// do with each other, and two whose peers stand for each other's roles.
func TestInitGolden(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		args []string
	}{
		{"xeams", []string{"xeams"}},
		{"fme-server+fortimail", []string{"fme-server", "fortimail"}},
		{"forticlient-ems+ad-ds", []string{"forticlient-ems", "ad-ds"}},
		{"fortimail-hosts2", []string{"fortimail", "--hosts", "2"}},
		{"mailer+console", []string{"--catalog", "testdata/init/catalog", "init", "mailer", "console"}},
	} {
		args := c.args
		if args[0] != "--catalog" {
			args = append([]string{"init"}, args...)
		}
		out, _ := run(t, args...)
		golden.Compare(t, filepath.Join("testdata", "init", c.name+".toml"), []byte(out))
	}
}

// TestInitErrors: unknown and repeated products, a bad --hosts and an
// existing -o FILE fail with a message and write nothing; -o writes the
// profile stdout gets, and --force replaces a file.
func TestInitErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"init", "fortimial", "xeams", "exchnage"}, `portwall: init: unknown product "fortimial"; did you mean "fortimail"?; unknown product "exchnage"; did you mean "exchange"? (portwall catalog list shows the products)` + "\n"},
		{[]string{"init", "xeams", "xeams"}, `portwall: init: product "xeams" named twice: a profile deploys a product twice under two deployment names, which init cannot choose; write the second [[deployment]] by hand (portwall catalog list shows the products)` + "\n"},
		{[]string{"init"}, "portwall: init: want one or more PRODUCT arguments (products: "},
		{[]string{"init", "xeams", "--hosts", "0"}, "portwall: init: --hosts 0: want 1 to 64 hosts per role\n"},
	} {
		code, out, stderr := runIn("", c.args...)
		if code != exitError || out != "" || !strings.HasPrefix(stderr, c.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q, want %q", c.args, code, out, stderr, c.want)
		}
	}

	dir := t.TempDir()
	file := filepath.Join(dir, "mail.toml")
	want, _ := run(t, "init", "xeams")
	run(t, "init", "xeams", "-o", file)
	if got, _ := os.ReadFile(file); string(got) != want {
		t.Errorf("-o wrote other than stdout gets")
	}
	if err := os.WriteFile(file, []byte("# mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runIn("", "init", "fortimail", "-o", file)
	if code != exitError || stderr != "portwall: init: "+file+" exists: init does not replace a profile; choose another FILE, or pass --force\n" {
		t.Errorf("-o over a file: exit %d, %q", code, stderr)
	}
	if got, _ := os.ReadFile(file); string(got) != "# mine\n" {
		t.Errorf("-o replaced the file without --force")
	}
	run(t, "init", "xeams", "-o", file, "--force")
	if got, _ := os.ReadFile(file); string(got) != want {
		t.Errorf("--force did not replace the file")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
}
