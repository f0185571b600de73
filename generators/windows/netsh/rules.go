package netsh

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/portwall/portwall/generators/windows/winfw"
	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/proto"
)

// rule renders one host rule as add rule lines, each followed by its
// check: one per part (winfw.Parts: provenance chunk and ICMP type), each
// split again when its address list is too long for one rule or line.
// Together they allow exactly the host rule.
func (s *script) rule(v *ir.HostView, hr ir.HostRule, profile string) ([]string, error) {
	r := hr.Rule
	remote, omitted, err := winfw.Remote("netsh", v, hr, s.fqdn)
	if err != nil {
		return nil, err
	}
	s.omitted = append(s.omitted, omitted...)
	if remote == nil {
		return nil, nil
	}
	program := ""
	if r.Program != "" {
		if err := winfw.CheckProgram("netsh", v.Host.Name, r); err != nil {
			return nil, err
		}
		program = ` program="` + batch(r.Program) + `"`
	}
	parts, err := winfw.Parts(r)
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, p := range parts {
		ls, err := s.part(hr, p, remote, program+" profile="+profile+` enable=yes description="`+batch(p.Description)+`"`)
		if err != nil {
			return nil, err
		}
		lines = append(lines, ls...)
	}
	return lines, nil
}

// part writes one part, its address list split so that each rule holds
// at most MaxEntries entries and each line at most MaxLine characters.
// tail is what follows the address list.
func (s *script) part(hr ir.HostRule, p winfw.Part, remote []string, tail string) ([]string, error) {
	r := hr.Rule
	match := ""
	switch {
	case r.Protocol.HasPorts():
		// The IR's ports are the destination's: local inbound, remote
		// outbound.
		key := "localport"
		if hr.Dir == ir.Out {
			key = "remoteport"
		}
		match = r.Protocol.String() + " " + key + "=" + p.Ports.String()
	case r.Protocol == proto.ICMP:
		match = "icmpv4"
	default:
		match = "icmpv6"
	}
	if p.ICMPType >= 0 {
		match += ":" + strconv.Itoa(p.ICMPType) + ",any"
	}
	head := func(name string) string {
		return fmt.Sprintf(`netsh advfirewall firewall add rule name="%s" dir=%s action=allow protocol=%s remoteip=`, name, hr.Dir, match)
	}
	// Measure with the longest name a part can get.
	longest, err := winfw.Name(r.ID, hr.Dir, append(slices.Clone(p.Suffix), "p"+strconv.Itoa(len(remote)))...)
	if err != nil {
		return nil, err
	}
	lists, err := winfw.Split(remote, MaxLine-len(head(longest))-len(tail))
	if err != nil {
		return nil, fmt.Errorf("rule %s: %v", r.ID, err)
	}
	var lines []string
	for i, list := range lists {
		suffix := slices.Clone(p.Suffix)
		if len(lists) > 1 {
			suffix = append(suffix, "p"+strconv.Itoa(i+1))
		}
		name, err := s.names.Take(r.ID, hr.Dir, suffix...)
		if err != nil {
			return nil, err
		}
		lines = append(lines, head(name)+strings.Join(list, ",")+tail, CheckLine(name))
	}
	return lines, nil
}
