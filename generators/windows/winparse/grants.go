package winparse

import (
	"fmt"
	"slices"
	"strings"

	"go4.org/netipx"

	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/ports"
)

// Grants collects what a script's rules let through, rule by rule, as
// ir.Grant values for ir.HostView.CheckGrant. The first rule that no
// grant can bound stops it, named by the line and name at gives.
//
// The readers' grants over-approximate: conditions a grant cannot carry
// (local addresses, remote ports of inbound rules, local ports of
// outbound ones, ICMP codes, profiles, and each grammar's own) only narrow
// a rule, so leaving them out can only make the check stricter. What
// cannot be over-approximated (protocol any, address and port keywords)
// is an error: such a rule allows more than any IR rule says.
func Grants[R any](rules []R, at func(R) (line int, name string), grants func(R) ([]ir.Grant, error)) ([]ir.Grant, error) {
	var out []ir.Grant
	for _, r := range rules {
		gs, err := grants(r)
		if err != nil {
			line, name := at(r)
			return nil, fmt.Errorf("line %d: rule %s: %w", line, name, err)
		}
		out = append(out, gs...)
	}
	return out, nil
}

// PortParam is the lower-case parameter, in both grammars, of the ports a
// grant carries: the host's side is fixed, so inbound the local ports,
// outbound the remote ones.
func PortParam(dir ir.Direction) string {
	if dir == ir.Out {
		return "remoteport"
	}
	return "localport"
}

// Remote is the remote side of a rule: every address, or some.
type Remote struct {
	Any bool
	IPs *netipx.IPSet
}

// RemoteAddrs reads a remote address list that the reader has checked:
// absent (nil) or the single keyword any is every address. Other
// keywords (case-insensitively, from keywords) are addresses only Windows
// knows, which no grant can bound; param names the list in errors.
func RemoteAddrs(param string, entries, keywords []string) (Remote, error) {
	if len(entries) == 0 || len(entries) == 1 && strings.EqualFold(entries[0], "any") {
		return Remote{Any: true}, nil
	}
	var b netipx.IPSetBuilder
	for _, e := range entries {
		if slices.ContainsFunc(keywords, func(k string) bool { return strings.EqualFold(k, e) }) {
			return Remote{}, fmt.Errorf("%s %s stands for addresses Windows finds at run time", param, e)
		}
		r, err := IPRange(e)
		if err != nil {
			return Remote{}, fmt.Errorf("%s: %v", param, err)
		}
		b.AddRange(r)
	}
	set, err := b.IPSet()
	if err != nil {
		return Remote{}, err
	}
	return Remote{IPs: set}, nil
}

// PerFamily splits g, whose remote side is remote, into one grant per IP
// family that g's protocol is carried by and that remote has addresses
// of: a rule cannot match a family it names no address of.
func PerFamily(g ir.Grant, remote Remote) []ir.Grant {
	var out []ir.Grant
	for _, f := range ir.Families {
		if !f.Carries(g.Protocol) {
			continue
		}
		a := ir.Addrs{Any: remote.Any}
		if !remote.Any {
			if a.IPs = familySet(remote.IPs, f); a.IPs == nil {
				continue
			}
		}
		fg := g
		fg.Family = f
		if g.Dir == ir.In {
			fg.Src = a
		} else {
			fg.Dst = a
		}
		out = append(out, fg)
	}
	return out
}

// familySet is the part of set in family f, or nil if there is none.
func familySet(set *netipx.IPSet, f ir.Family) *netipx.IPSet {
	var b netipx.IPSetBuilder
	n := 0
	for _, r := range set.Ranges() {
		if f.Has(r.From()) {
			b.AddRange(r)
			n++
		}
	}
	if n == 0 {
		return nil
	}
	s, _ := b.IPSet()
	return s
}

// RuleParts is one rule as a reader read it, in the terms its grants
// need; each reader fills it from its own grammar.
type RuleParts struct {
	// Allows: an enabled allow rule. Block rules and disabled rules allow
	// nothing and give no grant.
	Allows   bool
	Dir      ir.Direction
	Program  string
	Protocol string // as written, before Protocol reads it
	// Ports reads the host side's ports of a TCP or UDP rule; ICMP the
	// types of any other (nil is every type); Remote the remote addresses.
	Ports  func(key string) (ports.Set, error)
	ICMP   func() ([]uint8, error)
	Remote func() (Remote, error)
}

// Grants is what the rule lets through, one grant per IP family.
func (p RuleParts) Grants() ([]ir.Grant, error) {
	if !p.Allows {
		return nil, nil
	}
	g := ir.Grant{Dir: p.Dir, Program: p.Program}
	var err error
	if g.Protocol, err = Protocol(p.Protocol); err != nil {
		return nil, err
	}
	if g.Protocol.HasPorts() {
		if g.Ports, err = p.Ports(PortParam(p.Dir)); err != nil {
			return nil, err
		}
	} else if g.ICMPTypes, err = p.ICMP(); err != nil {
		return nil, err
	}
	remote, err := p.Remote()
	if err != nil {
		return nil, err
	}
	return PerFamily(g, remote), nil
}
