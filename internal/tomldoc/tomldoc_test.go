package tomldoc

import (
	"slices"
	"strings"
	"testing"
)

type testDoc struct {
	Name   string           `toml:"name"`
	Groups map[string][]any `toml:"groups"`
	Deploy []testDeployment `toml:"deployment"`
	Allow  []testAllow      `toml:"allow"`
	Hosts  map[string]struct {
		Addresses []string `toml:"addresses"`
	} `toml:"hosts"`
}

type testDeployment struct {
	Product  string              `toml:"product"`
	Features []string            `toml:"features"`
	Roles    map[string][]string `toml:"roles"`
}

type testAllow struct {
	From string `toml:"from"`
	Port int    `toml:"port"`
}

const testInput = `name = "site"

[groups]
mgmt = ["10.0.0.0/8", "2001:db8::/32"]

[[deployment]]
product = "fortimail"
features = ["admin-gui", "webmail"]

[[deployment]]
product = "xeams"
featurs = ["smtp"]
[deployment.roles]
server = ["x1"]

[hosts.x1]
addresses = ["192.0.2.1"]
adresses = []

allow = 1
`

func TestDecodeUnknownKeysWithPositions(t *testing.T) {
	t.Parallel()
	var v testDoc
	_, errs := Decode("p.toml", []byte(testInput+"\n[[allow]]\nfrom = \"a\"\nprot = 22\n"), &v)
	got := errs.Err().Error()
	// "allow = 1" inside [hosts.x1] is an unknown key of the host, not the
	// top-level allow list.
	want := strings.Join([]string{
		`p.toml:12:1: unknown key "featurs"; did you mean "features"?`,
		`p.toml:18:1: unknown key "adresses"; did you mean "addresses"?`,
		`p.toml:20:1: unknown key "allow"`,
		`p.toml:24:1: unknown key "prot"; did you mean "port"?`,
	}, "\n")
	if got != want {
		t.Errorf("errors:\n%s\nwant:\n%s", got, want)
	}
}

func TestDocPositions(t *testing.T) {
	t.Parallel()
	var v testDoc
	doc, errs := Decode("p.toml", []byte(`name = "site"
[[deployment]]
product = "a"
[[deployment]]
product = "b"
features = [
  "x",
  "y", # comment
]
[deployment.roles]
server = ["h1", "h2"]
`), &v)
	if err := errs.Err(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path []any
		want string
	}{
		{[]any{"name"}, "p.toml:1:8"},
		{[]any{"deployment", 0, "product"}, "p.toml:3:11"},
		{[]any{"deployment", 1, "product"}, "p.toml:5:11"},
		{[]any{"deployment", 1, "features", 1}, "p.toml:8:3"},
		{[]any{"deployment", 1, "roles", "server", 1}, "p.toml:11:17"},
		// Missing elements fall back to the nearest known ancestor.
		{[]any{"deployment", 1, "roles", "server", 7}, "p.toml:11:1"},
		{[]any{"deployment", 1, "mode"}, "p.toml:4:3"},
		{[]any{"nothing"}, "p.toml"},
	}
	for _, c := range cases {
		if got := doc.Pos(c.path...).String(); got != c.want {
			t.Errorf("Pos(%v) = %s, want %s", c.path, got, c.want)
		}
	}
	if got := doc.KeyPos("deployment", 1, "roles", "server").String(); got != "p.toml:11:1" {
		t.Errorf("KeyPos = %s", got)
	}
}

func TestDecodeSyntaxError(t *testing.T) {
	t.Parallel()
	var v testDoc
	_, errs := Decode("bad.toml", []byte("name = \"site\"\n[groups\nmgmt = []\n"), &v)
	if len(errs) != 1 {
		t.Fatalf("got %d errors: %v", len(errs), errs)
	}
	want := `bad.toml:2:8: expected '.' or ']' to end table name, but got '\n' instead`
	if got := errs[0].Error(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestDecodeTypeMismatch(t *testing.T) {
	t.Parallel()
	var v testDoc
	_, errs := Decode("t.toml", []byte("[[deployment]]\nproduct = \"a\"\n[[deployment]]\nproduct = 5\n"), &v)
	want := "t.toml:4:11: deployment[1].product: incompatible types: TOML value has type int64; destination has type string"
	if len(errs) != 1 || errs[0].Error() != want {
		t.Fatalf("got %v\nwant %s", errs, want)
	}
}

func TestPathString(t *testing.T) {
	t.Parallel()
	if got := PathString("deployment", 0, "roles", "web host", 2); got != `deployment[0].roles."web host"[2]` {
		t.Errorf("got %s", got)
	}
}

// TestTypeErrorsAtTheirKeys: every value of the wrong type is reported at
// its own key, in whichever element of an array of tables it is (the
// decoder placed its one error by line and key shape: the last
// [[deployment]]'s).
func TestTypeErrorsAtTheirKeys(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"[[deployment]]\nproduct = 7\n[[deployment]]\nproduct = \"b\"\n",
			[]string{"t.toml:2:11: deployment[0].product: incompatible types: TOML value has type int64; destination has type string"}},
		{"[[deployment]]\nproduct = 7\nfeatures = [\"a\", 2]\n[[deployment]]\nproduct = true\n",
			[]string{
				"t.toml:2:11: deployment[0].product: incompatible types: TOML value has type int64; destination has type string",
				"t.toml:3:18: deployment[0].features[1]: incompatible types: TOML value has type int64; destination has type string",
				"t.toml:5:11: deployment[1].product: incompatible types: TOML value has type bool; destination has type string",
			}},
		// A type error hides the unknown keys: the file is wrong first.
		{"name = 1\nnmae = \"x\"\n",
			[]string{"t.toml:1:8: name: incompatible types: TOML value has type int64; destination has type string"}},
		{"deployment = 3\n",
			[]string{"t.toml:1:14: deployment: incompatible types: TOML value has type int64; destination has type slice"}},
		{"deployment = [\"x\"]\n",
			[]string{"t.toml:1:15: deployment[0]: type mismatch for tomldoc.testDeployment: expected table but found string"}},
	} {
		var v testDoc
		_, errs := Decode("t.toml", []byte(tc.in), &v)
		if got := errs.Err(); got == nil || got.Error() != strings.Join(tc.want, "\n") {
			t.Errorf("%q:\ngot  %v\nwant %s", tc.in, got, strings.Join(tc.want, "\n"))
		}
	}
}

// TestNotATableForAMap: a value that is not a table where the schema has
// a map is an error at its key (the decoder took it for an empty table).
func TestNotATableForAMap(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"groups = true\n", "t.toml:1:10: groups: incompatible types: TOML value has type bool; destination has type map"},
		{"hosts = \"x\"\n", "t.toml:1:9: hosts: incompatible types: TOML value has type string; destination has type map"},
		{"[[deployment]]\nproduct = \"a\"\n[[deployment]]\nproduct = \"b\"\nroles = [1]\n",
			"t.toml:5:1: deployment[1].roles: incompatible types: TOML value has type []any; destination has type map"},
		{"[[groups]]\n", "t.toml:1:3: groups: incompatible types: TOML value has type []map[string]any; destination has type map"},
	} {
		var v testDoc
		_, errs := Decode("t.toml", []byte(tc.in), &v)
		if got := errs.Err(); got == nil || got.Error() != tc.want {
			t.Errorf("%q:\ngot  %v\nwant %s", tc.in, got, tc.want)
		}
	}
}

// TestSectionNotATable: a top-level key left to its owner that is not a
// table is refused with the owner's schema.
func TestSectionNotATable(t *testing.T) {
	t.Parallel()
	f, errs := Parse("t.toml", []byte("name = \"x\"\nnftables = 5\n"))
	if errs != nil {
		t.Fatal(errs)
	}
	var v testDoc
	if errs := f.Decode(&v); errs != nil {
		t.Fatal(errs)
	}
	var sec struct {
		Layout string `toml:"layout"`
	}
	got := f.Table("nftables").Decode(&sec).Err()
	want := "t.toml:2:12: nftables: type mismatch for struct { Layout string \"toml:\\\"layout\\\"\" }: expected table but found int64"
	if got == nil || got.Error() != want {
		t.Errorf("got  %v\nwant %s", got, want)
	}
}

// TestDecodeLetsGo: the file keeps the tables Decode leaves for their
// owners, not the values Decode has decoded.
func TestDecodeLetsGo(t *testing.T) {
	f, errs := Parse("t.toml", []byte("a = 1\n[[r]]\nx = 1\n[b]\nc = 1\n"))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var v struct {
		A int64 `toml:"a"`
		R []struct {
			X int64 `toml:"x"`
		} `toml:"r"`
	}
	if errs := f.Decode(&v); len(errs) > 0 {
		t.Fatal(errs)
	}
	if v.A != 1 || len(v.R) != 1 || v.R[0].X != 1 {
		t.Errorf("decoded %+v", v)
	}
	for k, x := range f.top {
		if k != "b" && x != nil {
			t.Errorf("the file still holds %s = %v", k, x)
		}
	}
	if f.Table("a") != nil || f.Table("r") != nil || f.Table("b") == nil {
		t.Errorf("Table gives a %v, r %v, b %v: want only b", f.Table("a"), f.Table("r"), f.Table("b"))
	}
	if got := f.Rest(); !slices.Equal(got, []string{"b"}) {
		t.Errorf("Rest is %q, want [b]", got)
	}
}

// TestKeys: the keys of a top-level table in the order the file defines
// them, keys of subtables and arrays of tables included; nil where the
// file does not tell, and once Decode has taken the table.
func TestKeys(t *testing.T) {
	cases := []struct {
		name, in, table string
		want            []string
	}{
		{"header", "[g]\nz = 1\na = 2\nm = 3\n", "g", []string{"z", "a", "m"}},
		{"subtables and arrays", "[g]\nz = 1\n[g.s]\nx = 1\n[[g.r]]\n[g.t]\n", "g", []string{"z", "s", "t", "r"}},
		{"dotted keys", "g.b = 1\ng.a = 2\n", "g", []string{"b", "a"}},
		{"empty table", "[g]\n", "g", nil},
		{"inline table", "g = {b = 1, a = 2}\n", "g", nil},
		{"not a table", "g = 1\n", "g", nil},
		{"no such table", "[h]\na = 1\n", "g", nil},
		{"left to the decoder", "[g]\nb = 1\na = 1.5\n", "g", nil},
	}
	for _, c := range cases {
		f, errs := Parse("t.toml", []byte(c.in))
		if len(errs) > 0 {
			t.Fatalf("%s: %v", c.name, errs)
		}
		if got := f.Keys(c.table); !slices.Equal(got, c.want) {
			t.Errorf("%s: Keys(%q) = %q, want %q", c.name, c.table, got, c.want)
		}
	}
	f, _ := Parse("t.toml", []byte("[g]\nb = 1\n[h]\nc = 1\n"))
	var v struct {
		G map[string]any `toml:"g"`
	}
	if errs := f.Decode(&v); len(errs) > 0 {
		t.Fatal(errs)
	}
	if f.Keys("g") != nil || !slices.Equal(f.Keys("h"), []string{"c"}) {
		t.Errorf("after Decode: Keys(g) = %q, Keys(h) = %q; want nil and [c]", f.Keys("g"), f.Keys("h"))
	}
}
