package netshparse

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/portwall/portwall/generators/windows/winparse"
	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/ports"
)

// Grants returns what the script's rules let through, as ir.Grant values
// for ir.HostView.CheckGrant, over-approximated as winparse.Grants says.
// Beyond what a grant carries, netsh rules also say localip, interface
// types, services and edge traversal, which only narrow them. Block rules
// and disabled rules allow nothing and give no grant.
func (s *Script) Grants() ([]ir.Grant, error) {
	return winparse.Grants(s.Rules, (*Rule).at, (*Rule).Grants)
}

func (r *Rule) at() (int, string) { return r.Line, r.Name }

// Grants returns what one rule lets through, one grant per IP family.
func (r *Rule) Grants() ([]ir.Grant, error) {
	name, _, _ := strings.Cut(r.Protocol, ":")
	return winparse.RuleParts{
		Allows: r.Action != "block" && r.Enable, Dir: ir.Direction(r.Dir), Program: r.Program, Protocol: name,
		Ports: func(key string) (ports.Set, error) {
			p, err := grantPorts(r.Params[key])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
			return p, nil
		},
		ICMP: func() ([]uint8, error) { return icmpTypes(r.Protocol), nil },
		Remote: func() (winparse.Remote, error) {
			return winparse.RemoteAddrs("remoteip", list(r.Params["remoteip"]), remoteKeywords)
		},
	}.Grants()
}

// list splits a comma-separated value; absent ("") is no entry.
func list(v string) []string {
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

// grantPorts reads a port list; absent or any is every port.
func grantPorts(v string) (ports.Set, error) {
	if _, ok := localPortKeywords()[strings.ToLower(v)]; ok {
		return nil, fmt.Errorf("%s stands for ports Windows picks at run time", v)
	}
	return portList(v)
}

// icmpTypes reads the type of icmpv4:<type>,<code>; nil is every type.
// The code is dropped: a grant of the whole type covers it.
func icmpTypes(p string) []uint8 {
	_, tc, ok := strings.Cut(p, ":")
	if !ok {
		return nil
	}
	t, _, _ := strings.Cut(tc, ",")
	n, err := strconv.Atoi(t)
	if err != nil { // "any"
		return nil
	}
	return []uint8{uint8(n)}
}
