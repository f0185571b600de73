package profiles

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/portwall/portwall/internal/tomldoc"
)

// reflectedAllow is allowSchema without SetField: tomldoc decodes it by
// reflection.
type reflectedAllow allowSchema

// TestAllowSetField: allowSchema.SetField decodes every [[allow]] the
// way reflection decodes the same struct, values and errors, and takes
// every key its tags define.
func TestAllowSetField(t *testing.T) {
	t.Parallel()
	bodies := []string{
		`from = "a"
to = ["b", "c"]
service = "ssh"
protocol = ["tcp"]
ports = [22, "80-90"]
icmp_types = "echo-request"
comment = "c"
owner = "o"
ticket = "t"
expires = 2027-03-31`,
		`from = {x = 1}
to = 1
protocol = true
ports = []`,
		`comment = 5
owner = true
ticket = ["x"]`,
		`comnent = "misspelt"
Comment = "other case"
FROM = "a"`,
		`from = "a"
[[allow.to]]
x = 1`,
		`[allow.ports]
a = 1`,
		// A float: BurntSushi/toml's decoder reads the file (tables as
		// maps), not fastParse.
		`from = "a"
ports = 1.5
comment = "c"`,
	}
	for _, body := range bodies {
		data := []byte("[[allow]]\n" + body + "\n[[allow]]\nfrom = \"z\"\n")
		var fast struct {
			Allow []allowSchema `toml:"allow"`
		}
		var slow struct {
			Allow []reflectedAllow `toml:"allow"`
		}
		errs := [2]string{}
		for i, v := range []any{&fast, &slow} {
			f, perrs := tomldoc.Parse("p.toml", data)
			if len(perrs) > 0 {
				t.Fatalf("%s: %v", body, perrs)
			}
			errs[i] = fmt.Sprint(f.Decode(v))
		}
		if errs[0] != errs[1] {
			t.Errorf("%s:\nSetField's errors:\n%s\nreflection's:\n%s", body, errs[0], errs[1])
		}
		if len(fast.Allow) != len(slow.Allow) {
			t.Fatalf("%s: %d rules, reflection %d", body, len(fast.Allow), len(slow.Allow))
		}
		for i := range fast.Allow {
			if !reflect.DeepEqual(fast.Allow[i], allowSchema(slow.Allow[i])) {
				t.Errorf("%s: rule %d is\n%#v\nreflection gives\n%#v", body, i, fast.Allow[i], slow.Allow[i])
			}
		}
	}
	st := reflect.TypeFor[allowSchema]()
	for i := range st.NumField() {
		sf := st.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("toml"), ",")
		var v any = []any{"x"}
		if sf.Type.Kind() == reflect.String {
			v = "x"
		}
		var a allowSchema
		if !a.SetField(name, v) {
			t.Errorf("SetField does not take %s", name)
		}
		if reflect.ValueOf(a).Field(i).IsZero() {
			t.Errorf("SetField(%q) sets another field than %s", name, sf.Name)
		}
	}
	var a allowSchema
	if a.SetField("nope", "x") || a.SetField("Comment", "x") || a != (allowSchema{}) {
		t.Errorf("SetField takes keys the tags do not define")
	}
}
