package psparse

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go4.org/netipx"

	"github.com/portwall/portwall/generators/windows/winparse"
)

// Rule is one New-NetFirewallRule line. Keyword values are as the cmdlet
// names them (Inbound, TCP, ...); strings are decoded.
type Rule struct {
	Line int
	// Params holds every parameter's items, by lower-case name.
	Params map[string][]string

	Name, Direction, Action string
	Enabled                 bool
	Protocol                string // "" when absent (the cmdlet's default: Any)
	Program, Description    string
}

// how a parameter's value must be written
type form int

const (
	bare     form = iota // keywords or numbers, comma-separated
	quoted1              // one single-quoted string
	addrForm             // one bare keyword, or a list of quoted addresses
)

// ruleParams are the parameters of New-NetFirewallRule this parser
// knows, with their form. Full names only: PowerShell also takes unique
// prefixes, which portwall never writes.
var ruleParams = sync.OnceValue(func() map[string]form {
	return map[string]form{
		"group": quoted1, "name": quoted1, "displayname": quoted1, "description": quoted1, "program": quoted1,
		"direction": bare, "action": bare, "protocol": bare, "localport": bare, "remoteport": bare,
		"icmptype": bare, "profile": bare, "enabled": bare,
		"remoteaddress": addrForm, "localaddress": addrForm,
	}
})

func checkForm(name string, f form, v value) error {
	switch f {
	case bare:
		if v.quoted {
			return fmt.Errorf("-%s takes keywords or numbers, not strings", name)
		}
	case quoted1:
		if !v.quoted || len(v.items) != 1 {
			return fmt.Errorf("-%s takes one single-quoted string", name)
		}
	case addrForm:
		if !v.quoted && len(v.items) != 1 {
			return fmt.Errorf("-%s takes one keyword or quoted addresses", name)
		}
	}
	return nil
}

// oneOf checks a single keyword value, case-insensitively, and returns
// it as the cmdlet spells it.
func oneOf(name string, items []string, allowed ...string) (string, error) {
	if len(items) == 1 {
		for _, a := range allowed {
			if strings.EqualFold(items[0], a) {
				return a, nil
			}
		}
	}
	return "", fmt.Errorf("-%s %s: want one of %s", name, strings.Join(items, ","), strings.Join(allowed, ", "))
}

func parseRule(args map[string]value) (*Rule, error) {
	r := &Rule{Params: map[string][]string{}, Enabled: true}
	for _, name := range slices.Sorted(maps.Keys(args)) { // sorted: the same error every time
		v := args[name]
		f, ok := ruleParams()[name]
		if !ok {
			return nil, fmt.Errorf("unknown parameter -%s of New-NetFirewallRule", name)
		}
		if err := checkForm(name, f, v); err != nil {
			return nil, err
		}
		r.Params[name] = v.items
	}
	for _, k := range []string{"group", "name", "displayname", "direction", "action"} {
		if _, ok := r.Params[k]; !ok {
			return nil, fmt.Errorf("-%s is required", k)
		}
	}
	ps := r.Params
	var err error
	if r.Direction, err = oneOf("Direction", ps["direction"], "Inbound", "Outbound"); err != nil {
		return nil, err
	}
	if r.Action, err = oneOf("Action", ps["action"], "Allow", "Block"); err != nil {
		return nil, err
	}
	if e, ok := ps["enabled"]; ok {
		v, err := oneOf("Enabled", e, "True", "False")
		if err != nil {
			return nil, err
		}
		r.Enabled = v == "True"
	}
	r.Name = ps["name"][0]
	r.Description = strings.Join(ps["description"], "")
	r.Program = strings.Join(ps["program"], "")
	switch {
	case ps["group"][0] != "portwall":
		return nil, fmt.Errorf("-Group %q: the removal line removes group portwall only", ps["group"][0])
	case ps["displayname"][0] != r.Name:
		return nil, fmt.Errorf("-DisplayName %q differs from -Name %q", ps["displayname"][0], r.Name)
	}
	if err := winparse.CheckName(r.Name); err != nil {
		return nil, err
	}
	if err := winparse.CheckDescription(r.Description); err != nil {
		return nil, err
	}
	if _, ok := ps["program"]; ok {
		if err := checkProgram(r.Program); err != nil {
			return nil, err
		}
	}
	if p, ok := ps["profile"]; ok {
		if err := checkProfiles("Profile", p, true); err != nil {
			return nil, err
		}
	}
	for _, k := range []string{"remoteaddress", "localaddress"} {
		if v, ok := ps[k]; ok {
			if _, err := addrList(k, v, args[k].quoted); err != nil {
				return nil, err
			}
		}
	}
	if err := r.checkProtocol(); err != nil {
		return nil, err
	}
	return r, nil
}

func checkProgram(p string) error {
	if i := strings.IndexAny(p, `"*?<>|`); i >= 0 {
		return fmt.Errorf("-Program: %q in path %q", p[i], p)
	}
	if p == "" || strings.HasSuffix(p, `\`) {
		return fmt.Errorf("-Program: %q is not a path to a program", p)
	}
	return nil
}

// checkProfiles checks -Profile: New-NetFirewallRule takes Any (anyOK),
// Set-NetFirewallProfile only profile names.
func checkProfiles(param string, items []string, anyOK bool) error {
	allowed := []string{"Domain", "Private", "Public"}
	if anyOK {
		allowed = append(allowed, "Any")
	}
	if err := winparse.CheckProfiles(items, allowed...); err != nil {
		return fmt.Errorf("-%s: %v", param, err)
	}
	return nil
}

// addressKeywords stand for addresses Windows knows at run time.
var addressKeywords = []string{"LocalSubnet", "DNS", "DHCP", "WINS", "DefaultGateway", "Internet", "Intranet", "IntranetRemoteAccess", "PlayToDevice"}

// addrList reads -RemoteAddress or -LocalAddress: Any, a keyword (bare),
// or quoted addresses, prefixes and ranges.
func addrList(key string, items []string, quoted bool) ([]netipx.IPRange, error) {
	if !quoted {
		if strings.EqualFold(items[0], "Any") {
			return nil, nil
		}
		if key == "remoteaddress" && slices.ContainsFunc(addressKeywords, func(k string) bool { return strings.EqualFold(k, items[0]) }) {
			return nil, nil
		}
		return nil, fmt.Errorf("-%s %s: want Any, a keyword, or quoted addresses", key, items[0])
	}
	if len(items) > winparse.MaxEntries {
		return nil, fmt.Errorf("-%s: %d entries, more than the %d one rule holds", key, len(items), winparse.MaxEntries)
	}
	var out []netipx.IPRange
	seen := map[string]bool{}
	for _, e := range items {
		r, err := winparse.IPRange(e)
		if err != nil {
			return nil, fmt.Errorf("-%s: %v", key, err)
		}
		if seen[e] {
			return nil, fmt.Errorf("-%s: %s twice", key, e)
		}
		seen[e] = true
		out = append(out, r)
	}
	return out, nil
}

var number = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]{1,5}$`) })

// portKeywords are the cmdlet's port keywords (ports Windows picks at run
// time).
var portKeywords = []string{"Any", "RPC", "RPCEPMap", "IPHTTPSIn", "IPHTTPSOut", "Teredo", "PlayToDiscovery"}

func (r *Rule) checkProtocol() error {
	ps := r.Params
	if p, ok := ps["protocol"]; ok {
		if len(p) != 1 {
			return fmt.Errorf("-Protocol takes one protocol")
		}
		v, err := oneOf("Protocol", p, "TCP", "UDP", "ICMPv4", "ICMPv6", "Any")
		if err != nil {
			n, aerr := strconv.Atoi(p[0])
			if aerr != nil || !number().MatchString(p[0]) || n > 255 {
				return fmt.Errorf("-Protocol %s: want TCP, UDP, ICMPv4, ICMPv6, Any or 0-255", p[0])
			}
			v = p[0]
		}
		r.Protocol = v
	}
	for _, k := range []string{"localport", "remoteport"} {
		items, ok := ps[k]
		if !ok {
			continue
		}
		if r.Protocol != "TCP" && r.Protocol != "UDP" {
			return fmt.Errorf("-%s without -Protocol TCP or UDP: the firewall takes ports only for TCP and UDP", k)
		}
		if len(items) == 1 && slices.ContainsFunc(portKeywords, func(kw string) bool { return strings.EqualFold(kw, items[0]) }) {
			continue
		}
		if _, err := winparse.Ports(items); err != nil {
			return fmt.Errorf("-%s: %v", k, err)
		}
	}
	if items, ok := ps["icmptype"]; ok {
		if r.Protocol != "ICMPv4" && r.Protocol != "ICMPv6" {
			return fmt.Errorf("-IcmpType without -Protocol ICMPv4 or ICMPv6")
		}
		if _, err := icmpTypes(items); err != nil {
			return err
		}
	}
	return nil
}

// icmpTypes reads -IcmpType: Any, or types "t" or "t:c" (0-255). nil is
// every type.
func icmpTypes(items []string) ([]uint8, error) {
	if len(items) == 1 && strings.EqualFold(items[0], "Any") {
		return nil, nil
	}
	var out []uint8
	for _, it := range items {
		t, c, hasCode := strings.Cut(it, ":")
		n, err := strconv.Atoi(t)
		if err != nil || !number().MatchString(t) || n > 255 {
			return nil, fmt.Errorf("-IcmpType %s: want types 0-255, as type or type:code", it)
		}
		if hasCode {
			if m, err := strconv.Atoi(c); err != nil || !number().MatchString(c) || m > 255 {
				return nil, fmt.Errorf("-IcmpType %s: code 0-255", it)
			}
		}
		out = append(out, uint8(n))
	}
	return out, nil
}

// parseProfileSetting reads the arguments of Set-NetFirewallProfile.
func parseProfileSetting(args map[string]value) (*ProfileSetting, error) {
	st := &ProfileSetting{}
	for _, name := range slices.Sorted(maps.Keys(args)) {
		v := args[name]
		if v.quoted {
			return nil, fmt.Errorf("-%s takes keywords, not strings", name)
		}
		var err error
		switch name {
		case "profile":
			err = checkProfiles("Profile", v.items, false)
			st.Profiles = v.items
		case "defaultinboundaction":
			// Allow would open every port no rule names; NotConfigured
			// leaves it to whatever else configures the host.
			st.Inbound, err = oneOf("DefaultInboundAction", v.items, "Block")
		case "defaultoutboundaction":
			st.Outbound, err = oneOf("DefaultOutboundAction", v.items, "Allow", "Block")
		case "logblocked":
			st.LogBlocked, err = oneOf("LogBlocked", v.items, "True", "False")
		default:
			err = fmt.Errorf("-%s: portwall sets only -Profile, -DefaultInboundAction, -DefaultOutboundAction and -LogBlocked", name)
		}
		if err != nil {
			return nil, err
		}
	}
	if st.Profiles == nil || st.Inbound == "" || st.Outbound == "" {
		return nil, fmt.Errorf("Set-NetFirewallProfile needs -Profile, -DefaultInboundAction and -DefaultOutboundAction")
	}
	return st, nil
}
