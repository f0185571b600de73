package rules

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/portwall/portwall/profiles"
	"github.com/portwall/portwall/rules/catalog"
	"github.com/portwall/portwall/rules/ir"
)

// parallelProfile writes a profile of n custom rules between groups of
// every kind (leaf groups, groups of groups and hosts, a group that clashes
// with a host), with services, ICMP, expired rules and a deployment whose
// unbound peer gets a catalog set, plus the extra TOML more.
func parallelProfile(n int, more string) string {
	var b strings.Builder
	b.WriteString("[groups]\n")
	for i := range n {
		switch {
		case i%7 == 3:
			fmt.Fprintf(&b, "g%05d = [\"g%05d\", \"h1\", \"mail.example.com\"]\n", i, i-1)
		case i%11 == 5:
			fmt.Fprintf(&b, "g%05d = [\"10.%d.%d.0/24\", \"fd00::%x/128\", \"10.200.0.%d-10.200.0.%d\"]\n", i, i/256, i%256, i, i%200, i%200+5)
		default:
			fmt.Fprintf(&b, "g%05d = [\"10.%d.%d.0/24\"]\n", i, i/256, i%256)
		}
	}
	b.WriteString("both = [\"g00003\", \"g00005\"]\nadmins = [\"10.255.0.0/24\"]\n")
	b.WriteString("[hosts.h1]\naddresses = [\"192.0.2.1\", \"2001:db8::1\"]\n[hosts.h2]\naddresses = [\"192.0.2.2\"]\n")
	for i := range n {
		b.WriteString("[[allow]]\n")
		if i%5 == 0 {
			fmt.Fprintf(&b, "from = [\"g%05d\", \"both\"]\n", i)
		} else {
			fmt.Fprintf(&b, "from = \"g%05d\"\n", i)
		}
		fmt.Fprintf(&b, "to = \"h%d\"\n", 1+i%13/12)
		switch i % 9 {
		case 1:
			b.WriteString("service = [\"ssh\", \"dns\"]\n")
		case 2:
			b.WriteString("protocol = \"icmp\"\nicmp_types = [\"echo-request\"]\n")
		case 4:
			fmt.Fprintf(&b, "protocol = \"udp\"\nports = [%d]\nexpires = 2020-01-0%d\nowner = \"ops\"\n", 1000+i, 1+i%9)
		default:
			fmt.Fprintf(&b, "protocol = [\"tcp\", \"udp\"]\nports = [%d, %d]\n", 1+i%1000, 2000+i%3)
		}
		fmt.Fprintf(&b, "comment = \"rule %d\"\n", i)
	}
	b.WriteString(more)
	return b.String()
}

// TestParallelAsSerial holds Resolve to one result, whether it splits its
// work over goroutines or not: the rules, the sets, the errors.
func TestParallelAsSerial(t *testing.T) {
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	deployment := `
[[deployment]]
product = "fortimail"
features = ["admin-gui", "admin-ssh", "ping", "fortiguard-antispam"]
[deployment.options]
fortiguard-region = "us"
[deployment.roles]
unit = ["h1"]
[deployment.peers]
administrators = ["admins"]
monitoring = ["admins"]
email-servers = ["both"]
email-users = ["admins"]
dns-servers = ["admins"]
protected-email-servers = ["admins"]
ntp-servers = ["admins"]
`
	cases := []struct {
		name, more string
		n          int
		wantErr    bool
	}{
		{"small", deployment, 10, false},
		{"large", deployment, 2000, false},
		{"no deployment", "", 1500, false},
		{"errors", deployment + "[[allow]]\nfrom = \"admins\"\nto = \"h1\"\nservice = \"shh\"\n[[deployment]]\nproduct = \"fortimal\"\n", 1000, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := profiles.Parse("p.toml", []byte(parallelProfile(c.n, c.more)))
			if err != nil {
				t.Fatal(err)
			}
			resolve := func(min int) (*ir.Ruleset, error) {
				defer func(old int) { parallelMin = old }(parallelMin)
				parallelMin = min
				return Resolve(p, cat, On(profiles.Date{Year: 2025, Month: 6, Day: 1}))
			}
			serial, serr := resolve(math.MaxInt)
			for range 3 {
				par, perr := resolve(1)
				if fmt.Sprint(perr) != fmt.Sprint(serr) || (perr != nil) != c.wantErr {
					t.Fatalf("errors: parallel %v, serial %v", perr, serr)
				}
				if !reflect.DeepEqual(par, serial) {
					t.Fatal("the parallel result differs from the serial one")
				}
			}
			if serr == nil && (len(serial.Rules) < c.n || len(serial.Expired) == 0 || len(serial.Unused) == 0) {
				t.Errorf("the profile misses a case: %d rules, %d expired, %d unused", len(serial.Rules), len(serial.Expired), len(serial.Unused))
			}
			if serr == nil && c.more != "" {
				if _, ok := serial.Set("fortimail.fortiguard"); !ok {
					t.Error("the profile misses a catalog set")
				}
			}
		})
	}
}
