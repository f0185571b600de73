package powershell

import (
	"strconv"
	"strings"

	"github.com/portwall/portwall/generators/windows/winfw"
	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/proto"
)

// rule renders one host rule as New-NetFirewallRule lines: one per part
// (winfw.Parts: provenance chunk and ICMP type), each split again when its
// address list holds more than winfw.MaxEntries entries. Together they
// allow exactly the host rule.
func (s *script) rule(v *ir.HostView, hr ir.HostRule, profiles []string) ([]string, error) {
	r := hr.Rule
	remote, omitted, err := winfw.Remote("powershell", v, hr, s.fqdn)
	if err != nil {
		return nil, err
	}
	s.omitted = append(s.omitted, omitted...)
	if remote == nil {
		return nil, nil
	}
	if r.Program != "" {
		if err := winfw.CheckProgram("powershell", v.Host.Name, r); err != nil {
			return nil, err
		}
	}
	parts, err := winfw.Parts(r)
	if err != nil {
		return nil, err
	}
	lists, err := winfw.Split(remote, 0)
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, p := range parts {
		for i, list := range lists {
			suffix := p.Suffix
			if len(lists) > 1 {
				suffix = append(append([]string(nil), suffix...), "p"+strconv.Itoa(i+1))
			}
			name, err := s.names.Take(r.ID, hr.Dir, suffix...)
			if err != nil {
				return nil, err
			}
			lines = append(lines, newRule(hr, p, name, list, profiles))
		}
	}
	return lines, nil
}

// newRule writes one New-NetFirewallRule line.
func newRule(hr ir.HostRule, p winfw.Part, name string, remote []string, profiles []string) string {
	r := hr.Rule
	dir, portKey := "Inbound", "LocalPort"
	if hr.Dir == ir.Out {
		// The IR's ports are the destination's.
		dir, portKey = "Outbound", "RemotePort"
	}
	args := []string{"New-NetFirewallRule", "-Group", quote(Group), "-Name", quote(name), "-DisplayName", quote(name),
		"-Direction", dir, "-Action", "Allow", "-Protocol", protocol(r.Protocol)}
	if r.Protocol.HasPorts() {
		args = append(args, "-"+portKey, p.Ports.String())
	}
	if p.ICMPType >= 0 {
		args = append(args, "-IcmpType", strconv.Itoa(p.ICMPType))
	}
	addrs := "Any"
	if !(len(remote) == 1 && remote[0] == "any") {
		quoted := make([]string, len(remote))
		for i, a := range remote {
			quoted[i] = quote(a)
		}
		addrs = strings.Join(quoted, ",")
	}
	args = append(args, "-RemoteAddress", addrs)
	if r.Program != "" {
		args = append(args, "-Program", quote(r.Program))
	}
	args = append(args, "-Profile", profileList(profiles), "-Description", quote(p.Description), "|", "Out-Null")
	return strings.Join(args, " ")
}

func protocol(p proto.Protocol) string {
	switch p {
	case proto.TCP:
		return "TCP"
	case proto.UDP:
		return "UDP"
	case proto.ICMP:
		return "ICMPv4"
	}
	return "ICMPv6"
}
