package netshparse

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/portwall/portwall/generators/windows/winparse"
	"github.com/portwall/portwall/rules/ports"
)

// Rule is one `add rule` line. Keyword values (dir, action, protocol, ...)
// are lower case; others are as netsh receives them.
type Rule struct {
	Line int
	// Params holds every parameter, by lower-case key.
	Params map[string]string

	Name, Dir, Action string
	Enable            bool
	Protocol          string // "" when absent (netsh's default: any)
	Program           string
	Description       string
}

// params are the parameters of `add rule` (reference section 1).
var params = []string{
	"name", "dir", "action", "program", "service", "description", "enable", "profile",
	"localip", "remoteip", "localport", "remoteport", "protocol", "interfacetype",
	"rmtcomputergrp", "rmtusrgrp", "edge", "security",
}

// keywordValues are parameters whose value is one keyword.
var keywordValues = sync.OnceValue(func() map[string][]string {
	return map[string][]string{
		"dir":           {"in", "out"},
		"action":        {"allow", "block", "bypass"},
		"enable":        {"yes", "no"},
		"interfacetype": {"wireless", "lan", "ras", "any"},
		"edge":          {"yes", "deferapp", "deferuser", "no"},
	}
})

var securityValues = []string{"authenticate", "authenc", "authdynenc", "authnoencap", "notrequired"}

var serviceName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_.$-]+$`) })

// parseRule reads the parameters of an add rule line.
func parseRule(args []arg) (*Rule, error) {
	r := &Rule{Params: map[string]string{}}
	for _, a := range args {
		k, v, ok := strings.Cut(a.raw, "=")
		if !ok {
			return nil, fmt.Errorf("%q is not key=value", winparse.Short(a.raw))
		}
		k = strings.ToLower(k)
		if !slices.Contains(params, k) {
			return nil, fmt.Errorf("unknown parameter %q of add rule", k)
		}
		if _, dup := r.Params[k]; dup {
			return nil, fmt.Errorf("parameter %s given twice", k)
		}
		if strings.HasPrefix(v, `"`) {
			if len(v) < 2 || !strings.HasSuffix(v, `"`) || strings.Count(v, `"`) != 2 {
				return nil, fmt.Errorf("%s: a value must be wholly in double quotes or not at all; netsh has no escape for '\"'", k)
			}
			v = v[1 : len(v)-1]
		} else if strings.Contains(v, `"`) {
			return nil, fmt.Errorf("%s: '\"' inside a value; netsh has no escape for it", k)
		}
		if v == "" {
			return nil, fmt.Errorf("%s: empty value", k)
		}
		if k != "name" && k != "description" && k != "program" && strings.Contains(v, " ") {
			return nil, fmt.Errorf("%s: space in %q", k, v)
		}
		r.Params[k] = v
	}
	if err := r.check(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Rule) check() error {
	ps := r.Params
	for _, k := range []string{"name", "dir", "action"} {
		if _, ok := ps[k]; !ok {
			return fmt.Errorf("%s is required", k)
		}
	}
	// In order of the parameter names: with two bad values, the same one
	// is reported every time.
	values := keywordValues()
	for _, k := range slices.Sorted(maps.Keys(values)) {
		allowed := values[k]
		if v, ok := ps[k]; ok && !slices.Contains(allowed, strings.ToLower(v)) {
			return fmt.Errorf("%s=%s: want %s", k, v, strings.Join(allowed, ", "))
		}
	}
	r.Name, r.Dir, r.Action = ps["name"], strings.ToLower(ps["dir"]), strings.ToLower(ps["action"])
	r.Enable = strings.ToLower(ps["enable"]) != "no"
	r.Program, r.Description = ps["program"], ps["description"]

	switch {
	case strings.EqualFold(r.Name, "all"):
		return fmt.Errorf(`name "all" stands for every rule`)
	case strings.Contains(r.Name, "|"):
		return fmt.Errorf("'|' in name %q", r.Name)
	}
	if err := winparse.CheckName(r.Name); err != nil {
		return err
	}
	if err := winparse.CheckDescription(r.Description); err != nil {
		return err
	}
	if _, ok := ps["program"]; ok {
		if err := checkProgram(r.Program); err != nil {
			return err
		}
	}
	if s, ok := ps["service"]; ok && !serviceName().MatchString(s) {
		return fmt.Errorf("service=%s: want a service short name or any", s)
	}
	if v, ok := ps["profile"]; ok {
		if err := checkProfile(v); err != nil {
			return err
		}
	}
	for _, k := range []string{"localip", "remoteip"} {
		if v, ok := ps[k]; ok {
			if _, err := addrList(k, v); err != nil {
				return err
			}
		}
	}
	if err := r.checkProtocol(); err != nil {
		return err
	}
	return r.checkSecurity()
}

// checkProgram: a full path without the characters no Windows path holds.
func checkProgram(p string) error {
	if i := strings.IndexAny(p, `*?<>|`); i >= 0 {
		return fmt.Errorf("program: %q in path %q", p[i], p)
	}
	if strings.HasSuffix(p, `\`) {
		return fmt.Errorf(`program: path %q ends in '\', which may escape the closing quote`, p)
	}
	return nil
}

func checkProfile(v string) error {
	if err := winparse.CheckProfiles(strings.Split(v, ","), "public", "private", "domain", "any"); err != nil {
		return fmt.Errorf("profile=%s: %v", v, err)
	}
	return nil
}

// remoteKeywords stand for addresses Windows knows at run time; only
// remoteip takes them.
var remoteKeywords = []string{"localsubnet", "dns", "dhcp", "wins", "defaultgateway"}

// addrList reads a localip or remoteip list: ["any"], keywords, or
// addresses as IP ranges.
func addrList(key, v string) ([]string, error) {
	entries := strings.Split(v, ",")
	if len(entries) > winparse.MaxEntries {
		return nil, fmt.Errorf("%s: %d entries, more than the %d one rule holds", key, len(entries), winparse.MaxEntries)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		le := strings.ToLower(e)
		switch {
		case le == "any":
			if len(entries) > 1 {
				return nil, fmt.Errorf("%s: any in a list", key)
			}
		case slices.Contains(remoteKeywords, le):
			if key != "remoteip" {
				return nil, fmt.Errorf("%s: %s is a keyword for remoteip only", key, e)
			}
		default:
			if _, err := winparse.IPRange(e); err != nil {
				return nil, fmt.Errorf("%s: %v", key, err)
			}
		}
		if seen[le] {
			return nil, fmt.Errorf("%s: %s twice", key, e)
		}
		seen[le] = true
	}
	return entries, nil
}

var (
	icmpProto = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^icmpv[46](:([0-9]+|any),([0-9]+|any))?$`) })
	number    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]+$`) })
)

// localPortKeywords and the protocol each needs (RPC takes TCP; the MMC
// help limits RPC-EPMap and IPHTTPS to TCP inbound, Teredo is UDP).
var localPortKeywords = sync.OnceValue(func() map[string]string {
	return map[string]string{"rpc": "tcp", "rpc-epmap": "tcp", "iphttps": "tcp", "teredo": "udp"}
})

func (r *Rule) checkProtocol() error {
	ps := r.Params
	pr := strings.ToLower(ps["protocol"])
	r.Protocol = pr
	switch {
	case pr == "", pr == "tcp", pr == "udp", pr == "any", pr == "icmpv4", pr == "icmpv6":
	case number().MatchString(pr):
		if n, err := strconv.Atoi(pr); err != nil || n > 255 {
			return fmt.Errorf("protocol=%s: want a number 0-255", pr)
		}
	case icmpProto().MatchString(pr):
		_, tc, _ := strings.Cut(pr, ":")
		for _, x := range strings.Split(tc, ",") {
			if x != "any" {
				if n, err := strconv.Atoi(x); err != nil || n > 255 {
					return fmt.Errorf("protocol=%s: ICMP type and code are 0-255 or any", pr)
				}
			}
		}
	default:
		return fmt.Errorf("protocol=%s: want tcp, udp, any, 0-255, icmpv4, icmpv6 or icmpv4:type,code", ps["protocol"])
	}
	for _, k := range []string{"localport", "remoteport"} {
		v, ok := ps[k]
		if !ok {
			continue
		}
		if pr != "tcp" && pr != "udp" {
			return fmt.Errorf("%s without protocol=tcp or udp: netsh says \"Ports can only be specified if the protocol is TCP or UDP\"", k)
		}
		if want, isKeyword := localPortKeywords()[strings.ToLower(v)]; isKeyword {
			if k != "localport" {
				return fmt.Errorf("%s=%s: a keyword for localport only", k, v)
			}
			if pr != want || (want == "tcp" && strings.ToLower(v) != "rpc" && r.Dir != "in") {
				return fmt.Errorf("localport=%s needs protocol=%s and, for RPC-EPMap and IPHTTPS, dir=in", v, want)
			}
			continue
		}
		if _, err := portList(v); err != nil {
			return fmt.Errorf("%s: %v", k, err)
		}
	}
	return nil
}

// portList reads "any" or a comma list of ports 0-65535 and ranges;
// absent is every port.
func portList(v string) (ports.Set, error) {
	if v == "" || strings.EqualFold(v, "any") {
		return winparse.AllPorts(), nil
	}
	return winparse.Ports(strings.Split(v, ","))
}

// checkSecurity applies the MS remarks on security, edge and groups.
func (r *Rule) checkSecurity() error {
	ps := r.Params
	sec := strings.ToLower(ps["security"])
	if _, ok := ps["security"]; ok {
		vals := strings.Split(sec, ",")
		if slices.Contains(vals, "authenc") && slices.Contains(vals, "authnoencap") {
			return fmt.Errorf("security: authenc and authnoencap cannot be combined")
		}
		if len(vals) > 1 || !slices.Contains(securityValues, sec) {
			return fmt.Errorf("security=%s: want one of %s", ps["security"], strings.Join(securityValues, ", "))
		}
	}
	for _, k := range []string{"rmtcomputergrp", "rmtusrgrp"} {
		if _, ok := ps[k]; ok && (sec == "" || sec == "notrequired") {
			return fmt.Errorf("%s needs security=authenticate, authenc, authdynenc or authnoencap", k)
		}
	}
	if _, ok := ps["rmtcomputergrp"]; r.Action == "bypass" && r.Dir == "in" && !ok {
		return fmt.Errorf("action=bypass with dir=in needs rmtcomputergrp")
	}
	if sec == "authdynenc" && r.Dir != "in" {
		return fmt.Errorf("security=authdynenc only with dir=in")
	}
	if _, ok := ps["edge"]; ok && r.Dir != "in" {
		return fmt.Errorf("edge only with dir=in")
	}
	return nil
}

// parseSetting reads the words after `netsh advfirewall set`.
func parseSetting(args []arg) (*Setting, error) {
	words := make([]string, len(args))
	for i, a := range args {
		if a.quoted {
			return nil, fmt.Errorf("quoted word %s in a set command", a.raw)
		}
		words[i] = strings.ToLower(a.raw)
	}
	if len(words) < 2 {
		return nil, fmt.Errorf("incomplete set command")
	}
	st := &Setting{Profile: words[0], Key: words[1], Value: strings.Join(words[2:], " ")}
	if !slices.Contains([]string{"allprofiles", "domainprofile", "privateprofile", "publicprofile", "currentprofile"}, st.Profile) {
		return nil, fmt.Errorf("set %s: want allprofiles, domainprofile, privateprofile, publicprofile or currentprofile", st.Profile)
	}
	switch st.Key {
	case "firewallpolicy":
		in, out, _ := strings.Cut(st.Value, ",")
		if len(words) != 3 {
			return nil, fmt.Errorf("firewallpolicy takes one value <in>,<out>")
		}
		switch in {
		case "blockinbound":
		case "allowinbound", "notconfigured":
			return nil, fmt.Errorf("firewallpolicy %s would allow inbound connections no rule allows", in)
		case "blockinboundalways":
			return nil, fmt.Errorf("firewallpolicy blockinboundalways would block what the rules allow")
		default:
			return nil, fmt.Errorf("firewallpolicy: inbound policy %q: want blockinbound", in)
		}
		if out != "allowoutbound" && out != "blockoutbound" {
			return nil, fmt.Errorf("firewallpolicy: outbound policy %q: want allowoutbound or blockoutbound", out)
		}
	case "logging":
		if st.Value != "droppedconnections enable" && st.Value != "droppedconnections disable" {
			return nil, fmt.Errorf("logging %s: want droppedconnections enable or disable", st.Value)
		}
	default:
		return nil, fmt.Errorf("set %s %s: portwall sets only firewallpolicy and logging", st.Profile, st.Key)
	}
	return st, nil
}
