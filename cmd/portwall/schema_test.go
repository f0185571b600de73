package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/targets"
	"github.com/portwall/portwall/internal/testkit/golden"
	"github.com/portwall/portwall/internal/testkit/kerneltest"
	"github.com/portwall/portwall/rules/catalog"
)

// profileSchema compiles the output of `portwall schema` with a JSON
// Schema validator that checks formats (date, ipv4, ipv6) as taplo does.
// Compiling checks the schema against the draft-07 meta-schema.
func profileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	out, _ := run(t, "schema")
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("portwall-profile.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("portwall-profile.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if s.DraftVersion != 7 {
		t.Errorf("draft %d, want 7", s.DraftVersion)
	}
	return s
}

// asJSON turns a TOML profile into the JSON a schema validates, as TOML
// editors do: a date becomes a string.
func asJSON(data []byte) (any, error) {
	var v map[string]any
	if _, err := toml.Decode(string(data), &v); err != nil {
		return nil, err
	}
	var dates func(any) any
	dates = func(x any) any {
		switch x := x.(type) {
		case map[string]any:
			for k, y := range x {
				x[k] = dates(y)
			}
		case []map[string]any:
			for _, y := range x {
				dates(y)
			}
		case []any:
			for i, y := range x {
				x[i] = dates(y)
			}
		case time.Time:
			switch x.Location().String() {
			case "date-local":
				return x.Format(time.DateOnly)
			case "time-local":
				return x.Format(time.TimeOnly)
			}
			return x.Format(time.RFC3339Nano)
		}
		return x
	}
	b, err := json.Marshal(dates(v))
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(b))
}

// TestSchemaAcceptsValidProfiles: every profile of the repository that
// `portwall validate` accepts (the examples, the cases of testdata/cases
// with their --catalog directories, the backends' and the verify tests'
// profiles) is valid under the schema, and so is
// profiles/testdata/every-key.toml, which gives every key of the format.
func TestSchemaAcceptsValidProfiles(t *testing.T) {
	t.Parallel()
	s := profileSchema(t)
	var files []string
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || path == filepath.Join("../..", "rules", "catalog")) {
			return filepath.SkipDir
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		if d.Name() == "profile.toml" || strings.HasSuffix(path, ".toml") && (dir == "../../examples" || strings.HasSuffix(dir, "testdata/verify")) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// validate takes tens of milliseconds a profile: with -short only the
	// profiles the schema refuses are given to it (none should be
	// accepted), otherwise every profile, to count them.
	accepted, valid := 0, 0
	for _, f := range files {
		err := schemaErr(t, s, f)
		if err == nil {
			valid++
		}
		if err == nil && testing.Short() {
			continue
		}
		args := []string{"validate", f}
		if argsLine, err := os.ReadFile(filepath.Join(filepath.Dir(f), "args")); err == nil {
			fields := strings.Fields(string(argsLine))
			for i, w := range fields {
				if w == "--catalog" && i+1 < len(fields) {
					args = append(args, "--catalog", filepath.Join(filepath.Dir(f), fields[i+1]))
				}
			}
		}
		if code, _, _ := runIn("", args...); code != exitOK {
			continue
		}
		accepted++
		if err != nil {
			t.Errorf("%s: portwall validate accepts it, the schema does not:\n%v", f, err)
		}
	}
	if err := schemaErr(t, s, "../../profiles/testdata/every-key.toml"); err != nil {
		t.Errorf("every-key.toml: %v", err)
	}
	if testing.Short() {
		t.Logf("%d of %d profiles valid under the schema; validate accepts none of the others", valid, len(files))
	} else {
		t.Logf("%d profiles that validate accepts, and every-key.toml, are valid under the schema (%d profiles in all)", accepted, len(files))
	}
	if examples := len(examples(t)); valid < examples+10 {
		t.Errorf("only %d profiles valid under the schema", valid)
	}
}

// schemaErr is what the schema says of file.
func schemaErr(t *testing.T, s *jsonschema.Schema, file string) error {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	v, err := asJSON(data)
	if err != nil {
		return err
	}
	return s.Validate(v)
}

// schemaBase is a valid profile the invalid ones below change.
const schemaBase = `
[hosts.h1]
addresses = ["192.0.2.1"]

[[allow]]
from = "any"
to = "h1"
protocol = "tcp"
ports = 22
`

// TestSchemaRefusesInvalidProfiles: profiles that portwall refuses for
// what a schema can see are invalid under the schema.
func TestSchemaRefusesInvalidProfiles(t *testing.T) {
	t.Parallel()
	s := profileSchema(t)
	long := strings.Repeat("x", 257)
	cases := []struct{ name, profile string }{
		{"unknown top-level key", `colour = "red"` + schemaBase},
		{"unknown section", schemaBase + "[pf]\nskip = true\n"},
		{"unknown key in defaults", "[defaults]\ninptu = \"drop\"\n" + schemaBase},
		{"unknown key in a host", schemaBase + "[hosts.h2]\naddresses = \"192.0.2.2\"\nadress = \"x\"\n"},
		{"unknown key in an allow rule", schemaBase + "porst = 23\n"},
		{"unknown key in a section", schemaBase + "[iptables]\nmodus = \"replace\"\n"},
		{"boolean as a string", "[defaults]\nlog_dropped = \"yes\"\n" + schemaBase},
		{"string as a number", "name = 7\n" + schemaBase},
		{"input policy accept", "[defaults]\ninput = \"accept\"\n" + schemaBase},
		{"fqdn mode resolve", "[defaults]\nfqdn = \"resolve\"\n" + schemaBase},
		{"unknown os", "[defaults]\nos = \"bsd\"\n" + schemaBase},
		{"unknown target", "[defaults]\ntargets = [\"nft\"]\n" + schemaBase},
		{"network-view target declared for hosts", "[defaults]\ntargets = \"fortigate\"\n" + schemaBase},
		{"target twice", "[defaults]\ntargets = [\"nftables\", \"nftables\"]\n" + schemaBase},
		{"os and targets", "[defaults]\nos = \"linux\"\ntargets = [\"nftables\"]\n" + schemaBase},
		{"port with a leading space", strings.Replace(schemaBase, "ports = 22", `ports = " 22"`, 1)},
		{"port with a leading zero", strings.Replace(schemaBase, "ports = 22", `ports = "022"`, 1)},
		{"port 65536", strings.Replace(schemaBase, "ports = 22", `ports = 65536`, 1)},
		{"port 0", strings.Replace(schemaBase, "ports = 22", `ports = [0]`, 1)},
		{"range beyond 65535", strings.Replace(schemaBase, "ports = 22", `ports = ["1-65536"]`, 1)},
		{"range with spaces", strings.Replace(schemaBase, "ports = 22", `ports = ["7100 - 7150"]`, 1)},
		{"port by name", strings.Replace(schemaBase, "ports = 22", `ports = "ssh"`, 1)},
		{"empty port list", strings.Replace(schemaBase, "ports = 22", `ports = []`, 1)},
		{"unknown protocol", strings.Replace(schemaBase, `protocol = "tcp"`, `protocol = "tpc"`, 1)},
		{"service and protocol", strings.Replace(schemaBase, `to = "h1"`, "to = \"h1\"\nservice = \"ssh\"", 1)},
		{"service twice", "[[allow]]\nfrom = \"any\"\nto = \"h1\"\nservice = [\"ssh\", \"ssh\"]\n" + schemaBase},
		{"allow rule without from", strings.Replace(schemaBase, `from = "any"`, "", 1)},
		{"owner too long", schemaBase + "owner = \"" + strings.Repeat("o", 65) + "\"\n"},
		{"control character in a ticket", schemaBase + "ticket = \"OPS\\u0007\"\n"},
		{"comment too long", schemaBase + "comment = \"" + long + "\"\n"},
		{"expires not a date", schemaBase + "expires = \"soon\"\n"},
		{"expires an impossible date", schemaBase + "expires = \"2030-02-30\"\n"},
		{"host name with capitals", "[hosts.Web1]\naddresses = \"192.0.2.9\"\n" + schemaBase},
		{"host name with a dot", "[hosts.\"web.example\"]\naddresses = \"192.0.2.9\"\n" + schemaBase},
		{"group named any", "[groups]\nany = [\"10.0.0.0/8\"]\n" + schemaBase},
		{"empty group", "[groups]\nnobody = []\n" + schemaBase},
		{"network as a host address", "[hosts.h2]\naddresses = \"10.0.0.0/24\"\n" + schemaBase},
		{"host name as a host address", "[hosts.h2]\naddresses = \"h2.example\"\n" + schemaBase},
		{"host without addresses", "[hosts.h2]\ndescription = \"none\"\n" + schemaBase},
		{"host with an empty address list", "[hosts.h2]\naddresses = []\n" + schemaBase},
		{"deployment without product", schemaBase + "[[deployment]]\nname = \"mail\"\n"},
		{"deployment name with capitals", schemaBase + "[[deployment]]\nname = \"Mail\"\nproduct = \"xeams\"\n"},
		{"random_ports some", schemaBase + "[[deployment]]\nproduct = \"xeams\"\nrandom_ports = \"some\"\n"},
		{"role bound to nothing", schemaBase + "[[deployment]]\nproduct = \"xeams\"\n[deployment.roles]\nserver = []\n"},
		{"role bound as a number", schemaBase + "[[deployment]]\nproduct = \"xeams\"\n[deployment.roles]\nserver = 1\n"},
		{"peer binding with an unknown key", schemaBase + "[[deployment]]\nproduct = \"xeams\"\n[deployment.peers]\nx = { deployment = \"d\", rol = \"r\" }\n"},
		{"peer binding without deployment", schemaBase + "[[deployment]]\nproduct = \"xeams\"\n[deployment.peers]\nx = { role = \"r\" }\n"},
		{"moved port out of range", schemaBase + "[[deployment]]\nproduct = \"xeams\"\n[deployment.ports]\nimap = [70000]\n"},
		{"choice of sctp", schemaBase + "[[deployment]]\nproduct = \"xeams\"\n[deployment.choose]\nflow = [\"sctp\"]\n"},
		{"empty choice", schemaBase + "[[deployment]]\nproduct = \"xeams\"\n[deployment.choose]\nflow = []\n"},
		{"option as a boolean", schemaBase + "[[deployment]]\nproduct = \"xeams\"\n[deployment.options]\nregion = true\n"},
		{"expectation port 70000", schemaBase + "[[expect]]\nfrom = \"any\"\nto = \"h1\"\nprotocol = \"tcp\"\nport = 70000\nverdict = \"deny\"\n"},
		{"expectation verdict maybe", schemaBase + "[[expect]]\nfrom = \"any\"\nto = \"h1\"\nprotocol = \"tcp\"\nport = 22\nverdict = \"maybe\"\n"},
		{"expectation without verdict", schemaBase + "[[expect]]\nfrom = \"any\"\nto = \"h1\"\nprotocol = \"tcp\"\nport = 22\n"},
		{"unknown lint code", schemaBase + "[lint]\nignore = [\"PW999\"]\n"},
		{"nftables layout fast", schemaBase + "[nftables]\nlayout = \"fast\"\n"},
		{"iptables mode flush", schemaBase + "[iptables]\nmode = \"flush\"\n"},
		{"iptables fqdn dynamic-set", schemaBase + "[iptables]\nfqdn = \"dynamic-set\"\n"},
		{"Windows profile misspelt", schemaBase + "[windows]\nprofiles = [\"publik\"]\n"},
		{"FortiOS 6.5", schemaBase + "[fortigate]\nversion = \"6.5\"\n"},
		{"FortiGate local_in as a string", schemaBase + "[fortigate]\nlocal_in = \"yes\"\n"},
		{"FortiGate interface as a list", schemaBase + "[fortigate.interfaces]\nh1 = [\"port1\"]\n"},
	}
	base, err := asJSON([]byte(schemaBase))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(base); err != nil {
		t.Fatalf("the base profile is invalid under the schema: %v", err)
	}
	if code, _, errs := runIn(schemaBase, "validate", "-"); code != exitOK {
		t.Fatalf("the base profile is invalid: %s", errs)
	}
	for _, c := range cases {
		v, err := asJSON([]byte(c.profile))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if err := s.Validate(v); err == nil {
			t.Errorf("%s: valid under the schema:\n%s", c.name, c.profile)
		}
		// What the schema refuses, portwall refuses: the list holds
		// profiles that are wrong, not ones the schema is stricter about
		// (not with -short: validate takes tens of milliseconds each).
		if testing.Short() {
			continue
		}
		file := filepath.Join(t.TempDir(), "profile.toml")
		if err := os.WriteFile(file, []byte(c.profile), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, _ := runIn("", "validate", file)
		if c.name == "unknown lint code" {
			code, _, _ = runIn("", "lint", file)
		}
		if code == exitOK {
			t.Errorf("%s: portwall validate accepts it:\n%s", c.name, c.profile)
		}
	}
	t.Logf("%d invalid profiles refused by the schema (and, without -short, by portwall)", len(cases))
}

// TestSchemaHasEverySection: the schema has every registered backend's
// section with the keys the backend documents, taken from the registry.
func TestSchemaHasEverySection(t *testing.T) {
	t.Parallel()
	out, _ := run(t, "schema")
	var s struct {
		Properties map[string]struct {
			Properties map[string]any
		}
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	secs := generators.Sections(targets.All())
	if len(secs) == 0 {
		t.Fatal("no sections")
	}
	for _, sec := range secs {
		var want, got []string
		for _, k := range sec.Keys() {
			want = append(want, k.Name)
		}
		for k := range s.Properties[sec.Name()].Properties {
			got = append(got, k)
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("[%s]: the schema has %q, the backend documents %q", sec.Name(), got, want)
		}
	}
}

// TestManProfilePage: portwall-profile(5) is the golden page, and groff
// reads it without a warning.
func TestManProfilePage(t *testing.T) {
	t.Parallel()
	code, out, errs := runIn("", "man", "profile")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d: %s", code, errs)
	}
	golden.Compare(t, filepath.Join("testdata", "portwall-profile.5"), []byte(out))
	if code, _, errs := runIn("", "man", "profiles"); code == exitOK || !strings.Contains(errs, `unknown page "profiles"`) {
		t.Errorf("man profiles: exit %d, %s", code, errs)
	}
	kerneltest.RequireTools(t, "groff")
	cmd := exec.Command("groff", "-man", "-Tutf8", "-ww", "-z")
	cmd.Stdin = strings.NewReader(out)
	if msg, err := cmd.CombinedOutput(); err != nil || len(msg) > 0 {
		t.Errorf("groff: %v\n%s", err, msg)
	}
}

// TestSchemaGolden: the schema is the golden file.
func TestSchemaGolden(t *testing.T) {
	t.Parallel()
	out, _ := run(t, "schema")
	golden.Compare(t, filepath.Join("testdata", "portwall-profile.schema.json"), []byte(out))
}

// TestReadmeProfileReference: README's profile reference is the generated
// text, between its two markers (PORTWALL_UPDATE=1 rewrites it).
func TestReadmeProfileReference(t *testing.T) {
	t.Parallel()
	const (
		begin = "<!-- profile reference: generated from the profile's definitions; PORTWALL_UPDATE=1 go test ./cmd/portwall rewrites it -->\n"
		end   = "<!-- end of the profile reference -->\n"
	)
	ref, err := readmeReference()
	if err != nil {
		t.Fatal(err)
	}
	readmeSection(t, begin, end, "\n"+ref+"\n", "profile reference")
}

// readmeReference is the reference as README shows it: the built-in
// catalog, tables under ### headings.
func readmeReference() (string, error) {
	cat, err := catalog.Load()
	if err != nil {
		return "", err
	}
	ref, err := profileReference(cat)
	if err != nil {
		return "", err
	}
	return ref.Markdown(3), nil
}

// TestSchemaSuggestsCatalogProducts: products are offered from the catalog
// the command runs with, --catalog DIR included, and not required: a
// profile naming a product of that directory is valid under the schema of
// the built-in catalog (TestSchemaAcceptsValidProfiles holds the
// catalog-dir case to that).
func TestSchemaSuggestsCatalogProducts(t *testing.T) {
	t.Parallel()
	product := func(args ...string) map[string]any {
		out, _ := run(t, append(args, "schema")...)
		var s struct {
			Properties struct {
				Deployment struct {
					Items struct {
						Properties map[string]map[string]any
					}
				}
			}
		}
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatal(err)
		}
		return s.Properties.Deployment.Items.Properties["product"]
	}
	suggested := func(p map[string]any) []any {
		return p["anyOf"].([]any)[0].(map[string]any)["enum"].([]any)
	}
	builtIn := product()
	if _, hard := builtIn["enum"]; hard || !slices.Contains(suggested(builtIn), any("xeams")) || slices.Contains(suggested(builtIn), any("acme-app")) {
		t.Errorf("built-in catalog: product %v", builtIn)
	}
	if !slices.Contains(suggested(product("--catalog", "testdata/cases/catalog-dir/site-catalog")), any("acme-app")) {
		t.Errorf("--catalog: acme-app not suggested")
	}
}
