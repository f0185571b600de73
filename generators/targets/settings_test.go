package targets_test

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/fortigate"
	"github.com/portwall/portwall/generators/iptables"
	"github.com/portwall/portwall/generators/targets"
	"github.com/portwall/portwall/generators/windows/winfw"
	"github.com/portwall/portwall/profiles"
)

// TestBackendSettings: each backend decodes and checks its own section of
// the profile, with the profile's positions.
func TestBackendSettings(t *testing.T) {
	t.Parallel()
	p, err := profiles.Parse("p.toml", []byte(`
[groups]
internet = ["any"]
[hosts.h1]
addresses = ["192.0.2.1"]
[[allow]]
from = "internet"
to = "h1"
protocol = "tcp"
ports = 22
[fortigate]
version = "6.2"
[fortigate.interfaces]
internet = "wan1"
h1 = "dmz"
[iptables]
mode = "noflush"
[windows]
profiles = ["domain", "private"]
`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := decode(p)
	if err != nil {
		t.Fatal(err)
	}
	if fg := fortigate.SettingsOf(s); fg.Version != "6.2" || fg.LogTraffic != "all" || fg.Interfaces["internet"] != "wan1" {
		t.Errorf("fortigate: %+v", fg)
	}
	if ipt, w := iptables.SettingsOf(s), winfw.SettingsOf(s); ipt.Mode != iptables.NoFlush || strings.Join(w.Profiles, ",") != "domain,private" {
		t.Errorf("iptables %+v windows %+v", ipt, w)
	}
	p, err = profiles.Parse("p.toml", []byte(`
[hosts.h1]
addresses = ["192.0.2.1"]
[[allow]]
from = "any"
to = "h1"
protocol = "tcp"
ports = 22
[fortigate]
version = "6.5"
logtraffic = "yes"
local_in = true
[fortigate.interfaces]
h2 = "port1"
h1 = "port 1"
[iptables]
mode = "flush"
[windows]
profiles = ["any", "publik"]
`))
	want := strings.Join([]string{
		`p.toml:10:11: unknown FortiOS version "6.5": want a release (6.0, 6.2, 6.4, 7.0, 7.2, 7.4, 7.6, 8.0) or a patch level of one, such as 7.6.1`,
		`p.toml:11:14: invalid logtraffic "yes": want all, utm or disable`,
		`p.toml:12:12: local_in needs self: the host or group that stands for the FortiGate's own addresses`,
		`p.toml:14:1: unknown host or group "h2"; did you mean "h1"? (a key is a host or group, an address, CIDR or range, a host name, or any)`,
		`p.toml:15:6: invalid interface or zone name "port 1": letters, digits, '_', '.' and '-', at most 35 characters`,
		`p.toml:17:8: invalid iptables mode "flush": want "replace" or "noflush"`,
		`p.toml:19:1: "any" already covers every profile`,
		`p.toml:19:20: invalid Windows Firewall profile "publik": want any, domain, private or public; did you mean "public"?`,
	}, "\n")
	if err != nil {
		t.Fatal(err)
	}
	if _, err = decode(p); err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
}

func decode(p *profiles.Profile) (generators.Settings, error) {
	return generators.DecodeSettings(p, generators.Sections(targets.All()), generators.NewEnv(p, nil))
}

// TestSectionKeysDecode: every key a section documents (Keys, which the
// manual and the schema show) is one its Decode reads and the other way
// round, and its documented default, written as TOML, decodes to the same
// settings as no section at all.
func TestSectionKeysDecode(t *testing.T) {
	for _, sec := range generators.Sections(targets.All()) {
		var b strings.Builder
		fmt.Fprintf(&b, "[[allow]]\nfrom = \"any\"\nto = \"h1\"\nprotocol = \"tcp\"\nports = 22\n[hosts.h1]\naddresses = [\"192.0.2.1\"]\n[%s]\n", sec.Name())
		for _, k := range sec.Keys() {
			if k.Default != "" {
				fmt.Fprintf(&b, "%s = %s\n", k.Name, tomlValue(k))
			}
		}
		p, err := profiles.Parse("p.toml", []byte(b.String()))
		if err != nil {
			t.Fatal(err)
		}
		table := p.Table(sec.Name())
		got, err := sec.Decode(table, generators.NewEnv(p, nil))
		if err != nil {
			t.Errorf("[%s] with its documented defaults:\n%s\n%v", sec.Name(), b.String(), err)
			continue
		}
		want, _ := sec.Decode(nil, generators.NewEnv(p, nil))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("[%s]: documented defaults decode to %+v, no section to %+v", sec.Name(), got, want)
		}
		if len(sec.Keys()) == 0 {
			t.Errorf("[%s] documents no key", sec.Name())
		}
		// And every key Decode reads is documented: the schema refuses
		// the keys a section does not document.
		var documented []string
		for _, k := range sec.Keys() {
			documented = append(documented, k.Name)
		}
		slices.Sort(documented)
		if read := table.DecodedKeys(); !slices.Equal(read, documented) {
			t.Errorf("[%s]: Decode reads %q, Keys documents %q", sec.Name(), read, documented)
		}
	}
}

// tomlValue writes a key's documented default as a TOML value.
func tomlValue(k generators.Key) string {
	if k.Type == "string" && !strings.HasPrefix(k.Default, `"`) {
		return strconv.Quote(k.Default)
	}
	return k.Default
}
