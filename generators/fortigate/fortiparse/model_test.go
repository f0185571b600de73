package fortiparse

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// pwOwner holds entries and names starting pw- to every check, as the
// backend does when it reads a running configuration.
var pwOwner = &Owner{
	Entry: func(table string, e *Entry) bool {
		if n := e.Get("name"); n != nil {
			return strings.HasPrefix(n[0], "pw-")
		}
		return strings.HasPrefix(e.Key, "pw-")
	},
	Name: func(n string) bool { return strings.HasPrefix(n, "pw-") },
}

func keys(b *Block) []string {
	var out []string
	for _, e := range b.entries() {
		out = append(out, e.Key)
	}
	return out
}

// TestReadRunning reads hand-made configurations shaped like real
// backups (header lines, system sections with nested tables, multi-line
// certificates, VDOMs, foreign policies on "all" and predefined
// services), with LF and CRLF line ends, and prints them back: reading
// what Show prints gives the same configuration.
func TestReadRunning(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/running/*.conf")
	if err != nil || len(files) < 2 {
		t.Fatalf("configurations: %v %v", files, err)
	}
	want := map[string]struct {
		vdoms    []string
		policies map[string][]string // VDOM -> policy ids in table order
	}{
		"single-7.4.conf":     {[]string{"root"}, map[string][]string{"root": {"3", "1", "9"}}},
		"multi-vdom-7.2.conf": {[]string{"root", "dmz"}, map[string][]string{"root": {"1"}, "dmz": {"4", "2"}}},
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			w, ok := want[filepath.Base(f)]
			if !ok {
				t.Fatalf("no expectation for %s", f)
			}
			for _, variant := range [][]byte{data, bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n"))} {
				m, err := ReadConfig(variant, pwOwner)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(m.VDOMs(), w.vdoms) {
					t.Errorf("VDOMs %v, want %v", m.VDOMs(), w.vdoms)
				}
				for name, ids := range w.policies {
					v, err := m.VDOM(name)
					if err != nil {
						t.Fatal(err)
					}
					if got := keys(v.Table("firewall policy")); !slices.Equal(got, ids) {
						t.Errorf("VDOM %s: policies %v, want %v", name, got, ids)
					}
				}
				if len(m.Header) != 4 {
					t.Errorf("header %q", m.Header)
				}
				shown := m.Show(ShowStored)
				again, err := ReadConfig(shown, pwOwner)
				if err != nil {
					t.Fatalf("what Show printed does not read back: %v\n%s", err, shown)
				}
				if got := again.Show(ShowStored); !bytes.Equal(got, shown) {
					t.Errorf("Show is not stable:\n%s\n----\n%s", shown, got)
				}
			}
			m, _ := ReadConfig(data, nil)
			if m.Multi {
				if _, err := m.VDOM(""); err == nil || err.Error() != "the configuration has VDOMs (root, dmz): say which one with vdom under [fortigate]" {
					t.Errorf("no VDOM named: %v", err)
				}
				if _, err := m.VDOM("lab"); err == nil || err.Error() != "the configuration has no VDOM lab (it has root, dmz)" {
					t.Errorf("unknown VDOM: %v", err)
				}
			}
		})
	}
}

// TestReadRejects lists configurations FortiOS would not hold, and what
// the reader says.
func TestReadRejects(t *testing.T) {
	t.Parallel()
	addr := "config firewall address\n    edit \"a\"\n        set subnet 10.0.0.0 255.255.255.0\n    next\nend\n"
	tests := []struct{ name, input, want string }{
		{"unclosed config", "config firewall address\n    edit \"a\"\n    next\n", "line 1: config firewall address is not closed with end"},
		{"unclosed edit", "config firewall address\n    edit \"a\"\n", "line 2: edit a is not closed with next or end"},
		{"edit outside config", "edit \"a\"\nnext\n", "line 1: edit outside config"},
		{"set outside config", "set hostname x\n", "line 1: set outside config"},
		{"end without config", "end\n", "line 1: end without config"},
		{"next without edit", "config system global\nnext\nend\n", "line 2: next without edit"},
		{"unknown command", "config system global\n    frobnicate\nend\n", `line 2: unknown command "frobnicate"`},
		{"purge", "config firewall address\n    purge\nend\n", "line 2: purge is not modelled"},
		{"non-contiguous mask", "config firewall address\n    edit \"a\"\n        set subnet 10.0.0.0 255.0.255.0\n    next\nend\n",
			"line 2: edit a: subnet: mask 255.0.255.0 is not contiguous"},
		{"reversed range", "config firewall address\n    edit \"r\"\n        set type iprange\n        set start-ip 10.0.0.9\n        set end-ip 10.0.0.1\n    next\nend\n",
			"line 2: edit r: start-ip 10.0.0.9 is above end-ip 10.0.0.1"},
		{"port out of range", "config firewall service custom\n    edit \"s\"\n        set tcp-portrange 70000\n    next\nend\n",
			`line 2: edit s: tcp-portrange: "70000" is not a port range`},
		{"TCP service without ports", "config firewall service custom\n    edit \"s\"\n        set protocol TCP/UDP/SCTP\n    next\nend\n",
			"line 2: edit s: a TCP/UDP/SCTP service needs tcp-portrange, udp-portrange or sctp-portrange"},
		{"policy id not a number", "config firewall policy\n    edit \"p\"\n    next\nend\n", `line 2: edit "p": config firewall policy takes a policy id, 0 to 4294967294`},
		{"policy without interfaces", "config firewall policy\n    edit 1\n        set name \"p\"\n    next\nend\n", "line 2: edit 1: srcintf is required"},
		{"duplicate policy name", addr + "config firewall policy\n    edit 1\n        set name \"p\"\n        set srcintf \"a\"\n        set dstintf \"b\"\n    next\n    edit 2\n        set name \"p\"\n        set srcintf \"a\"\n        set dstintf \"b\"\n    next\nend\n",
			"line 12: edit 2: name p is used by policy 1 (config firewall policy): policy names are unique"},
		{"portwall group with a missing member", "config firewall addrgrp\n    edit \"pw-g-x\"\n        set member \"pw-n4-10.0.0.0-24\"\n    next\nend\n",
			"line 3: set member: pw-n4-10.0.0.0-24 is not defined"},
		{"foreign policy naming a missing portwall object", "config firewall policy\n    edit 1\n        set srcintf \"a\"\n        set dstintf \"b\"\n        set srcaddr \"pw-g-gone\"\n    next\nend\n",
			"line 5: set srcaddr: pw-g-gone is not defined"},
		{"address and group of one name", addr + "config firewall addrgrp\n    edit \"a\"\n        set member \"a\"\n    next\nend\n",
			`line 7: edit "a": the name is used by config firewall address`},
		{"group holding itself", addr + "config firewall addrgrp\n    edit \"g\"\n        set member \"a\"\n    next\n    edit \"h\"\n        set member \"g\"\n    next\nend\nconfig firewall addrgrp\n    edit \"g\"\n        set member \"h\"\n    next\nend\n",
			"line 16: set member: the group holds itself through another group"},
		{"config vdom after tables", addr + "config vdom\nedit root\nnext\nend\n", "line 6: config vdom: this FortiGate has no VDOMs"},
		{"table outside a VDOM", "config vdom\nedit root\nnext\nend\n" + addr, "line 5: config firewall address: this FortiGate has VDOMs: enter one first (config vdom, edit NAME)"},
		{"quoted command", "\"config\" system global\nend\n", `line 1: command "config" is quoted`},
		{"unclosed quote", "config system global\n    set alias \"x\nend\n", "line 2: quote opened here is never closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadConfig([]byte(tt.input), pwOwner)
			if err == nil || err.Error() != tt.want {
				t.Errorf("got %v\nwant %s", err, tt.want)
			}
		})
	}
}

// base is a small configuration to paste onto.
const base = `config firewall address
    edit "a"
        set subnet 10.0.0.0 255.255.255.0
    next
    edit "b"
        set subnet 10.1.0.0 255.255.255.0
    next
end
config firewall addrgrp
    edit "g"
        set member "a"
    next
end
config firewall service custom
    edit "web"
        set tcp-portrange 443
    next
end
config firewall policy
    edit 5
        set name "five"
        set srcintf "port1"
        set dstintf "port2"
        set srcaddr "g"
        set dstaddr "all"
        set schedule "always"
        set service "web"
    next
    edit 2
        set name "two"
        set srcintf "port1"
        set dstintf "port2"
        set srcaddr "b"
        set dstaddr "all"
        set schedule "always"
        set service "ALL"
    next
end
`

func pol(id, name string) string {
	return "    edit " + id + "\n        set name \"" + name + "\"\n        set srcintf \"port1\"\n        set dstintf \"port2\"\n" +
		"        set srcaddr \"a\"\n        set dstaddr \"all\"\n        set schedule \"always\"\n        set service \"web\"\n    next\n"
}

// TestApply pastes scripts onto base and checks the result, or the
// refusal, as the reference documents each command.
func TestApply(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, script string
		// want is the policy ids in order, or the error.
		want string
	}{
		{"edit 0 takes the next id after the highest", "config firewall policy\n" + pol("0", "new") + "end\n", "5 2 6"},
		{"explicit ids land at the end", "config firewall policy\n" + pol("3", "three") + pol("100", "hundred") + "end\n", "5 2 3 100"},
		{"edit of an existing id changes it in place", "config firewall policy\n    edit 2\n        set service \"web\"\n    next\nend\n", "5 2"},
		{"move before and after", "config firewall policy\n" + pol("0", "new") + "    move 6 before 5\n    move 5 after 2\nend\n", "6 2 5"},
		{"delete", "config firewall policy\n    delete 5\nend\n", "2"},
		{"delete, then create the same id again", "config firewall policy\n    delete 5\n" + pol("5", "again") + "end\n", "2 5"},
		{"end inside edit saves it", "config firewall policy\n    edit 0\n        set name \"x\"\n        set srcintf \"a\"\n        set dstintf \"b\"\n        set srcaddr \"a\"\n        set dstaddr \"a\"\n        set schedule \"always\"\n        set service \"web\"\nend\n", "5 2 6"},
		{"duplicate name", "config firewall policy\n" + pol("0", "two") + "end\n", "line 2: edit 6: name two is used by policy 2 (config firewall policy): policy names are unique"},
		{"missing address", "config firewall policy\n    edit 0\n        set srcaddr \"nope\"\n    next\nend\n", "line 3: set srcaddr: nope is not defined"},
		{"missing member", "config firewall addrgrp\n    edit \"h\"\n        set member \"nope\"\n    next\nend\n", "line 3: set member: nope is not defined"},
		{"missing service", "config firewall policy\n    edit 2\n        set service \"HTTP\"\n    next\nend\n", "line 3: set service: HTTP is not defined"},
		{"group without members", "config firewall addrgrp\n    edit \"h\"\n    next\nend\n", "line 2: edit h: member is required"},
		{"deleting what a group holds", "config firewall address\n    delete \"a\"\nend\n", "line 2: delete a: in use by firewall addrgrp g"},
		{"deleting what a policy names", "config firewall addrgrp\n    delete \"g\"\nend\n", "line 2: delete g: in use by firewall policy 5"},
		{"deleting a service in use", "config firewall service custom\n    delete \"web\"\nend\n", "line 2: delete web: in use by firewall policy 5"},
		{"deleting what is not there", "config firewall address\n    delete \"zz\"\nend\n", "line 2: delete zz: config firewall address has no such entry"},
		{"moving what is not there", "config firewall policy\n    move 7 before 5\nend\n", "line 2: move 7: no policy 7"},
		{"moving before what is not there", "config firewall policy\n    move 5 before 7\nend\n", "line 2: move 5 before 7: no policy 7"},
		{"changing an address's type", "config firewall address\n    edit \"b\"\n        set type iprange\n        set start-ip 10.1.0.1\n        set end-ip 10.1.0.2\n    next\nend\n",
			"line 2: edit b: changing an address's type from ipmask to iprange reinterprets its addresses: delete and create it instead"},
		{"append and unselect", "config firewall policy\n    edit 2\n        append srcaddr \"a\"\n        unselect srcaddr \"b\"\n        unset name\n    next\nend\n", "5 2"},
		{"unselect what is not there", "config firewall policy\n    edit 2\n        unselect srcaddr \"a\"\n    next\nend\n", "line 3: unselect srcaddr: a is not in the list"},
		{"config vdom without VDOMs", "config vdom\nedit root\nend\n", "line 1: config vdom: this FortiGate has no VDOMs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ReadConfig([]byte(base), nil)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if err := m.Apply([]byte(tt.script)); err != nil {
				got = err.Error()
			} else {
				v, _ := m.VDOM("")
				got = strings.Join(keys(v.Table("firewall policy")), " ")
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestApplyValues: what a paste leaves in an entry.
func TestApplyValues(t *testing.T) {
	t.Parallel()
	m, err := ReadConfig([]byte(base), nil)
	if err != nil {
		t.Fatal(err)
	}
	script := "config firewall policy\n    edit 2\n        append srcaddr \"a\"\n        unselect srcaddr \"b\"\n        unset name\n        set comments \"a \\\\ b\"\n    next\nend\n"
	if err := m.Apply([]byte(script)); err != nil {
		t.Fatal(err)
	}
	v, _ := m.VDOM("")
	e := v.Table("firewall policy").Entry("2")
	want := "edit 2\n    set srcintf \"port1\"\n    set dstintf \"port2\"\n    set srcaddr \"a\"\n    set dstaddr \"all\"\n    set schedule \"always\"\n    set service \"ALL\"\n    set comments \"a \\\\ b\"\nnext\n"
	if got := EntryText("firewall policy", e); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// TestApplyVDOMs: a script enters a VDOM of a multi-VDOM FortiGate with
// config vdom / edit NAME, and only one that exists.
func TestApplyVDOMs(t *testing.T) {
	t.Parallel()
	m := NewMultiModel("root", "dmz")
	script := "config vdom\nedit dmz\nconfig firewall address\n    edit \"x\"\n        set subnet 10.9.0.0 255.255.0.0\n    next\nend\nend\n"
	if err := m.Apply([]byte(script)); err != nil {
		t.Fatal(err)
	}
	dmz, _ := m.VDOM("dmz")
	root, _ := m.VDOM("root")
	if dmz.Table("firewall address").Entry("x") == nil || root.Table("firewall address") != nil {
		t.Errorf("the address did not land in dmz alone:\n%s", m.Show(ShowStored))
	}
	for _, tt := range []struct{ script, want string }{
		{"config vdom\nedit lab\nend\n", "line 2: edit lab: there is no VDOM lab (creating one is not modelled)"},
		{"config firewall address\nend\n", "line 1: config firewall address: this FortiGate has VDOMs: enter one first (config vdom, edit NAME)"},
		{"config global\nend\n", "line 1: config global: global settings are not modelled"},
	} {
		if err := m.Apply([]byte(tt.script)); err == nil || err.Error() != tt.want {
			t.Errorf("%q: got %v, want %s", tt.script, err, tt.want)
		}
	}
}

// TestShowModes: show leaves out what holds its default, show
// full-configuration prints it; both read back to the same meaning.
func TestShowModes(t *testing.T) {
	t.Parallel()
	m := NewModel()
	script := "config firewall address\n    edit \"a\"\n        set type ipmask\n        set subnet 10.0.0.0 255.0.0.0\n    next\nend\n" +
		"config firewall policy\n    edit 0\n        set name \"p\"\n        set srcintf \"x\"\n        set dstintf \"y\"\n        set srcaddr \"a\"\n        set dstaddr \"all\"\n" +
		"        set action accept\n        set schedule \"always\"\n        set service \"ALL\"\n        set status enable\n    next\nend\n"
	if err := m.Apply([]byte(script)); err != nil {
		t.Fatal(err)
	}
	terse, full := string(m.Show(ShowTerse)), string(m.Show(ShowFull))
	for _, tt := range []struct {
		out, line string
		want      bool
	}{
		{terse, "set type ipmask", false}, {terse, "set status enable", false}, {terse, "set action accept", true},
		{full, "set type ipmask", true}, {full, "set status enable", true}, {full, "set logtraffic utm", true},
	} {
		if strings.Contains(tt.out, tt.line) != tt.want {
			t.Errorf("%q in\n%s: want %v", tt.line, tt.out, tt.want)
		}
	}
	for _, out := range []string{terse, full} {
		if _, err := ReadConfig([]byte(out), pwOwner); err != nil {
			t.Errorf("%v\n%s", err, out)
		}
	}
}

// TestReadAnyOrder: the outputs of several show commands, concatenated
// in any order, read as one configuration; a reference nothing defines
// is still an error.
func TestReadAnyOrder(t *testing.T) {
	t.Parallel()
	policy := "config firewall policy\n    edit 4\n        set name \"pw-x\"\n        set srcintf \"a\"\n        set dstintf \"b\"\n        set srcaddr \"pw-g\"\n        set dstaddr \"all\"\n        set action accept\n        set schedule \"always\"\n        set service \"ALL\"\n    next\nend\n"
	group := "config firewall addrgrp\n    edit \"pw-g\"\n        set member \"pw-a\"\n    next\nend\n"
	addr := "config firewall address\n    edit \"pw-a\"\n        set subnet 10.0.0.0 255.0.0.0\n    next\nend\n"
	m, err := ReadConfig([]byte(policy+group+addr), pwOwner)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := m.VDOM("")
	if got := strings.Join(keys(v.Table("firewall policy")), " "); got != "4" {
		t.Errorf("policies %s", got)
	}
	if _, err := ReadConfig([]byte(policy+group), pwOwner); err == nil || err.Error() != "line 15: set member: pw-a is not defined" {
		t.Errorf("got %v", err)
	}
}
