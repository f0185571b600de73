package fwdlive

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// portwallZone is a zone as the backend writes it.
const portwallZone = `<?xml version="1.0" encoding="utf-8"?>
<zone target="DROP">
  <short>portwall</short>
  <description>portwall inbound rules</description>
  <!-- pw:base icmp errors -->
  <rule family="ipv4">
    <icmp-type name="destination-unreachable"/>
    <accept/>
  </rule>
  <!-- pw:r1 smtp -->
  <service name="portwall-r1"/>
  <rule priority="32766">
    <log prefix="portwall input drop: " level="info">
      <limit value="5/s"/>
    </log>
  </rule>
</zone>
`

// rewritten is the same zone as firewall-cmd --permanent writes it back:
// comments gone, elements reordered, other whitespace.
const rewritten = `<?xml version="1.0" encoding="utf-8"?>
<zone target="DROP">
  <short>portwall</short>
  <description>portwall inbound rules</description>
  <service name="portwall-r1"></service>
  <rule priority="32766">
    <log level="info" prefix="portwall input drop: "><limit value="5/s"/></log>
  </rule>
  <rule family="ipv4">
    <icmp-type name="destination-unreachable"/>
    <accept/>
  </rule>
</zone>
`

func TestCanonicalIgnoresLayout(t *testing.T) {
	if diff := cmp.Diff(canonical([]byte(portwallZone)), canonical([]byte(rewritten))); diff != "" {
		t.Errorf("the same zone, written twice, differs:\n%s", diff)
	}
	want := []string{
		`<zone target="DROP">`,
		`  <short>portwall</short>`,
		`  <description>portwall inbound rules</description>`,
		`  <rule family="ipv4"><icmp-type name="destination-unreachable"/><accept/></rule>`,
		`  <rule priority="32766"><log level="info" prefix="portwall input drop: "><limit value="5/s"/></log></rule>`,
		`  <service name="portwall-r1"/>`,
		`</zone>`,
	}
	if diff := cmp.Diff(want, canonical([]byte(portwallZone))); diff != "" {
		t.Errorf("canonical form (-want +got):\n%s", diff)
	}
	// What does change the meaning does change the form.
	for _, change := range []struct{ from, to string }{
		{`target="DROP"`, `target="ACCEPT"`},
		{`portwall-r1`, `portwall-r2`},
		{`<accept/>`, `<drop/>`},
		{`<rule family="ipv4">`, `<rule family="ipv6">`},
		{`<service name="portwall-r1"/>`, `<service name="portwall-r1"/><port port="9999" protocol="tcp"/>`},
	} {
		if cmp.Equal(canonical([]byte(portwallZone)), canonical([]byte(strings.Replace(portwallZone, change.from, change.to, 1)))) {
			t.Errorf("%s -> %s: no difference", change.from, change.to)
		}
	}
	if got := canonical([]byte("<zone><short>x</zone>")); len(got) != 1 || !strings.HasPrefix(got[0], "(not XML that firewalld can read") {
		t.Errorf("broken XML: %q", got)
	}
}

func TestCompare(t *testing.T) {
	desired := map[string][]byte{
		"zones/portwall.xml":       []byte(portwallZone),
		"services/portwall-r1.xml": []byte("<service><short>portwall-r1</short><description>r1</description><port port=\"25\" protocol=\"tcp\"/></service>"),
	}
	for _, c := range []struct {
		name               string
		live               *Live
		add, remove, chg   int
		drift              bool
		unifiedHas, itemIs string
	}{
		{name: "nothing yet", live: &Live{}, add: 10, chg: 1, drift: true, unifiedHas: "+# zones/portwall.xml\n"},
		{name: "in sync", live: &Live{DefaultZone: "portwall", Files: map[string]File{
			"zones/portwall.xml": {Data: []byte(rewritten)}, "services/portwall-r1.xml": {Data: desired["services/portwall-r1.xml"]}}}},
		{name: "drift", live: &Live{DefaultZone: "portwall", Files: map[string]File{
			"zones/portwall.xml":       {Data: []byte(strings.Replace(rewritten, "</zone>", `<port port="9999" protocol="tcp"/></zone>`, 1))},
			"services/portwall-r1.xml": {Data: desired["services/portwall-r1.xml"]},
			"services/portwall-r0.xml": {Data: []byte("<service><short>portwall-r0</short><port port=\"1\" protocol=\"tcp\"/></service>")},
		}}, remove: 4, drift: true, unifiedHas: "-  <port port=\"9999\" protocol=\"tcp\"/>\n", itemIs: `remove zone portwall <port port="9999" protocol="tcp"/>`},
		{name: "runtime only", live: &Live{DefaultZone: "portwall", Runtime: []string{"runtime: zone portwall has port 8888/tcp"}, Files: map[string]File{
			"zones/portwall.xml": {Data: []byte(portwallZone)}, "services/portwall-r1.xml": {Data: desired["services/portwall-r1.xml"]}}},
			drift: true, unifiedHas: "-runtime: zone portwall has port 8888/tcp\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := Compare(c.live, desired)
			if d.Add != c.add || d.Remove != c.remove || d.Change != c.chg || d.Drift() != c.drift {
				t.Errorf("%s, drift %v; want %d/%d/%d, %v\n%s", d.Summary(), d.Drift(), c.add, c.remove, c.chg, c.drift, d.Unified)
			}
			if !strings.Contains(d.Unified, c.unifiedHas) {
				t.Errorf("unified diff without %q:\n%s", c.unifiedHas, d.Unified)
			}
			if c.itemIs != "" {
				it := d.Changes[0]
				if got := string(it.Op) + " " + it.Kind + " " + it.Name + " " + it.Live + it.Desired; got != c.itemIs {
					t.Errorf("first change %q, want %q", got, c.itemIs)
				}
			}
			if !c.drift && d.Unified != "" {
				t.Errorf("no drift, but a diff:\n%s", d.Unified)
			}
		})
	}
}

func TestWithDefaultZone(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"# comment\nDefaultZone=public\nLogDenied=off\n", "# comment\nDefaultZone=portwall\nLogDenied=off\n"},
		{"# DefaultZone=trusted\nLogDenied=off", "# DefaultZone=trusted\nLogDenied=off\nDefaultZone=portwall\n"},
		{"", "DefaultZone=portwall\n"},
		{"DefaultZone=a\nDefaultZone = b\n", "DefaultZone=a\nDefaultZone=portwall\n"},
	} {
		if got := string(withDefaultZone([]byte(c.in), "portwall")); got != c.want {
			t.Errorf("%q: got %q, want %q", c.in, got, c.want)
		}
	}
}

func TestOwned(t *testing.T) {
	for name, want := range map[string]bool{
		"zones/portwall.xml": true, "policies/portwall-out.xml": true, "services/portwall-r1.xml": true,
		"ipsets/portwall.xml": false, "zones/portwall.xml.old": false, "zones/public.xml": false,
		"zones/.portwall-new-1.tmp": false, "portwall.xml": false,
	} {
		if Owned(name) != want {
			t.Errorf("Owned(%q) = %v", name, !want)
		}
	}
}
