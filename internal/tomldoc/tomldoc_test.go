package tomldoc

import (
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
