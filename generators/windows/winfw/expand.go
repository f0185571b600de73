package winfw

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go4.org/netipx"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/ports"
)

// Remote is the remote address list of a host rule: ["any"], or every
// address of every matched set, both families merged (one Windows rule
// takes IPv4 and IPv6, and the protocol already limits ICMP to its
// family). ir.HostView.Matches has left out the host itself and families
// the remote side has no address of.
//
// Host names cannot be matched: with mode omit they are left out and
// returned as omissions (the addresses of the same set stay), otherwise
// the rule is refused. A nil list means nothing is left to match: the
// backend emits no rule.
func Remote(backend string, v *ir.HostView, hr ir.HostRule, mode ir.FQDNMode) ([]string, []generators.Omission, error) {
	var b netipx.IPSetBuilder
	var omitted []generators.Omission
	all := false
	for _, m := range v.Matches(hr) {
		all = all || m.RemoteAll
		for _, r := range m.RemoteRanges {
			b.AddRange(r)
		}
		if len(m.RemoteFQDNs) == 0 {
			continue
		}
		if mode != ir.FQDNOmit {
			return nil, nil, fmt.Errorf("rule %s reaches %s by host name (%s), which %s cannot match: bind it to address groups, or set fqdn = \"omit\" ([defaults] or [windows]) to leave the names out",
				hr.Rule.ID, Quoted(m.Remote.Name), Quoted(strings.Join(m.RemoteFQDNs, ", ")), backend)
		}
		// Matches gives a set once per family; its names are one omission.
		if !slices.ContainsFunc(omitted, func(o generators.Omission) bool { return o.Set == m.Remote.Name }) {
			omitted = append(omitted, generators.Omission{Rule: hr.Rule.ID, Set: m.Remote.Name, Names: m.RemoteFQDNs})
		}
	}
	if all {
		return []string{"any"}, omitted, nil
	}
	set, err := b.IPSet()
	if err != nil {
		return nil, nil, fmt.Errorf("rule %s: %v", hr.Rule.ID, err)
	}
	var out []string
	for _, r := range set.Ranges() {
		e, err := entry(r)
		if err != nil {
			return nil, nil, fmt.Errorf("rule %s: %v", hr.Rule.ID, err)
		}
		out = append(out, e)
	}
	return out, omitted, nil
}

// mapped is where IPv4-mapped IPv6 addresses live; Windows may read them
// as IPv4 or IPv6, so they are refused (the profile checker refuses them
// too).
var mapped = netipx.MustParseIPRange("::ffff:0.0.0.0-::ffff:255.255.255.255")

// entry writes one address range: an address, a CIDR prefix, or
// first-last.
func entry(r netipx.IPRange) (string, error) {
	if r.From().Zone() != "" || r.To().Zone() != "" {
		return "", fmt.Errorf("address range %s has an IPv6 zone, which the firewall cannot match", r)
	}
	if r.From().Is6() && r.Overlaps(mapped) {
		return "", fmt.Errorf("address range %s holds IPv4-mapped IPv6 addresses: write IPv4 addresses in IPv4 form", r)
	}
	if p, ok := r.Prefix(); ok {
		if p.IsSingleIP() {
			return p.Addr().String(), nil
		}
		return p.String(), nil
	}
	return r.From().String() + "-" + r.To().String(), nil
}

// Part is one firewall rule of a host rule, before its address list is
// split and before syntax.
type Part struct {
	// Suffix names the part: "cN" per provenance chunk (when there are
	// several), "tT" per ICMP type.
	Suffix []string
	// Description is the provenance of the origins the part carries,
	// made safe by Description.
	Description string
	Ports       ports.Set // TCP and UDP: the destination ports
	// ICMPType is the one ICMP type of the part, or -1 for every type.
	ICMPType int
}

// Parts splits a rule into firewall rules: its provenance into chunks
// when longer than a description holds (each chunk with the ports or ICMP
// types of the origins it names), each chunk into one rule per ICMP type
// (or one for every type, or one for TCP and UDP). Together they allow
// exactly the rule.
func Parts(r *ir.Rule) ([]Part, error) {
	if r.Protocol.HasPorts() && len(r.Ports) == 0 {
		return nil, fmt.Errorf("rule %s: %s without ports", r.ID, r.Protocol)
	}
	if !r.Protocol.HasPorts() && !r.Protocol.IsICMP() {
		return nil, fmt.Errorf("rule %s: unknown protocol %s", r.ID, r.Protocol)
	}
	chunks := generators.Chunks(r, MaxDescription, Description)
	var out []Part
	for i, c := range chunks {
		var suffix []string
		if len(chunks) > 1 {
			suffix = append(suffix, "c"+strconv.Itoa(i+1))
		}
		if r.Protocol.HasPorts() || len(c.ICMPTypes) == 0 {
			out = append(out, Part{Suffix: suffix, Description: c.Comment, Ports: c.Ports, ICMPType: -1})
			continue
		}
		types := slices.Clone(c.ICMPTypes)
		slices.Sort(types)
		for _, t := range slices.Compact(types) {
			out = append(out, Part{Suffix: append(slices.Clone(suffix), "t"+strconv.Itoa(int(t))), Description: c.Comment, ICMPType: int(t)})
		}
	}
	return out, nil
}

// Split cuts an address list into parts of at most MaxEntries entries
// and, when room > 0, at most room characters joined with commas.
func Split(list []string, room int) ([][]string, error) {
	var parts [][]string
	var cur []string
	n := 0
	for _, e := range list {
		if room > 0 && len(e) > room {
			return nil, fmt.Errorf("no room for the address list in one line (the description or program path is too long)")
		}
		if len(cur) > 0 && (len(cur) == MaxEntries || room > 0 && n+1+len(e) > room) {
			parts = append(parts, cur)
			cur, n = nil, 0
		}
		if len(cur) > 0 {
			n++
		}
		cur = append(cur, e)
		n += len(e)
	}
	return append(parts, cur), nil
}

// Names hands out rule names for one script and refuses duplicates (the
// firewall compares names without case).
type Names map[string]bool

// Take returns the name of a part, or an error when it is unsafe or
// already taken.
func (ns Names) Take(id string, dir ir.Direction, suffixes ...string) (string, error) {
	name, err := Name(id, dir, suffixes...)
	if err != nil {
		return "", err
	}
	if ns[strings.ToLower(name)] {
		return "", fmt.Errorf("rule %s: rule name %s is not unique", id, name)
	}
	ns[strings.ToLower(name)] = true
	return name, nil
}
