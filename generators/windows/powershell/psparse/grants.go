package psparse

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
// Block rules and disabled rules give no grant.
func (s *Script) Grants() ([]ir.Grant, error) {
	return winparse.Grants(s.Rules, (*Rule).at, (*Rule).Grants)
}

func (r *Rule) at() (int, string) { return r.Line, r.Name }

// Grants returns what one rule lets through, one grant per IP family (per
// ICMP type list as written).
func (r *Rule) Grants() ([]ir.Grant, error) {
	dir := ir.In
	if r.Direction == "Outbound" {
		dir = ir.Out
	}
	return winparse.RuleParts{
		Allows: r.Action != "Block" && r.Enabled, Dir: dir, Program: r.Program, Protocol: r.Protocol,
		Ports: func(key string) (ports.Set, error) {
			p, err := grantPorts(r.Params[key])
			if err != nil {
				return nil, fmt.Errorf("-%s: %w", key, err)
			}
			return p, nil
		},
		ICMP: func() ([]uint8, error) {
			if items, ok := r.Params["icmptype"]; ok {
				return icmpTypes(items)
			}
			return nil, nil
		},
		Remote: func() (winparse.Remote, error) {
			return winparse.RemoteAddrs("-RemoteAddress", r.Params["remoteaddress"], addressKeywords)
		},
	}.Grants()
}

// grantPorts reads a port list; absent or Any is every port, and the
// other keywords are ports Windows picks at run time.
func grantPorts(items []string) (ports.Set, error) {
	if len(items) == 0 || len(items) == 1 && strings.EqualFold(items[0], "Any") {
		return winparse.AllPorts(), nil
	}
	if len(items) == 1 {
		if _, err := strconv.Atoi(strings.SplitN(items[0], "-", 2)[0]); err != nil {
			return nil, fmt.Errorf("%s stands for ports Windows picks at run time", items[0])
		}
	}
	return winparse.Ports(items)
}
