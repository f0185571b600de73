package ir

import (
	"fmt"
	"strconv"

	"github.com/portwall/portwall/rules/proto"
)

// Expectation is a profile's [[expect]] entry, resolved: traffic the
// profile's author says the rules must allow or deny. It is not a rule:
// nothing is generated from it. `portwall verify` checks it against the
// rules and with packets.
type Expectation struct {
	// Index is the entry's position in the profile's [[expect]] list; Pos
	// is where it is written ("file:line:col"), for messages.
	Index    int
	Pos      string
	From, To Endpoint
	Protocol proto.Protocol
	// Port is the destination port of a TCP or UDP expectation. ICMP
	// expectations are about ping: echo request.
	Port    uint16
	Allow   bool
	Comment string
}

// Label names the expectation briefly: "expect[2]".
func (e *Expectation) Label() string { return "expect[" + strconv.Itoa(e.Index) + "]" }

// What is the traffic: "tcp/25", or "icmp echo-request".
func (e *Expectation) What() string {
	if e.Protocol.HasPorts() {
		return e.Protocol.String() + "/" + strconv.Itoa(int(e.Port))
	}
	return fmt.Sprintf("%s %s", e.Protocol, proto.ICMPTypeName(e.Protocol, EchoRequest(e.Protocol)))
}

func (e *Expectation) String() string {
	verdict := "deny"
	if e.Allow {
		verdict = "allow"
	}
	return fmt.Sprintf("%s %s from %s to %s: %s", e.Label(), e.What(), e.From, e.To, verdict)
}

// EchoRequest is the ICMP type of a ping in protocol p (ICMP or ICMPv6).
func EchoRequest(p proto.Protocol) uint8 {
	if p == proto.ICMPv6 {
		return 128
	}
	return 8
}

// Concerns says in which directions the expectation applies to host
// name: inbound when its To names the host, outbound when its From does
// (by name, as for rules: see HostView).
func (rs *Ruleset) Concerns(e *Expectation, name string) (in, out bool) {
	h, ok := rs.Host(name)
	if !ok {
		return false, false
	}
	return rs.names(e.To, h), rs.names(e.From, h)
}

// InternalFlows lists the internal flows that concern host name: those
// whose To names it (inbound) and whose From names it (outbound).
func (rs *Ruleset) InternalFlows(name string) (in, out []*InternalFlow) {
	h, ok := rs.Host(name)
	if !ok {
		return nil, nil
	}
	for _, f := range rs.Internal {
		if rs.names(f.To, h) {
			in = append(in, f)
		}
		if rs.names(f.From, h) {
			out = append(out, f)
		}
	}
	return in, out
}
