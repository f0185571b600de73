package fortigate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/ports"
)

// part is what one policy (and its service) carries of a rule: all of it,
// unless its provenance does not fit a policy's comments, in which case
// the rule is split by origin (generators.Chunks), each part with the
// ports or ICMP types of the origins its comment names.
type part struct {
	suffix     string // "" for the first part, "-2", "-3", ... after
	provenance string
	comment    string
	ports      ports.Set
	icmpTypes  []uint8 // nil: every type
}

func parts(r *ir.Rule) ([]part, error) {
	types := func(ts []uint8) []uint8 {
		if len(ts) == 0 {
			return nil
		}
		out := slices.Clone(ts)
		slices.Sort(out)
		return slices.Compact(out)
	}
	chunks := generators.Chunks(r, maxPolicyComment, func(s string) string { return s })
	switch len(chunks) {
	case 0:
		return nil, fmt.Errorf("its origins name none of its ports or types")
	case 1:
		return []part{{provenance: chunks[0].Comment, comment: withPurposes(chunks[0].Comment, r.Origins), ports: r.Ports, icmpTypes: types(r.ICMPTypes)}}, nil
	}
	out := make([]part, len(chunks))
	for i, c := range chunks {
		// A part takes its origins' ports and types. Origins that claim
		// more than the rule, or nothing (an IR built elsewhere), must
		// not widen or empty it: refuse rather than trust them.
		pt := part{provenance: c.Comment, comment: c.Comment, ports: c.Ports, icmpTypes: types(c.ICMPTypes)}
		switch {
		case r.Protocol.HasPorts() && (len(pt.ports) == 0 || !r.Ports.Covers(pt.ports)):
			return nil, fmt.Errorf("its origins' ports (%s) do not match its ports (%s)", pt.ports, r.Ports)
		case r.Protocol.IsICMP() && len(r.ICMPTypes) > 0 && (pt.icmpTypes == nil || slices.ContainsFunc(pt.icmpTypes, func(t uint8) bool { return !slices.Contains(r.ICMPTypes, t) })):
			return nil, fmt.Errorf("its origins' ICMP types do not match its types")
		}
		if i > 0 {
			pt.suffix = "-" + strconv.Itoa(i+1)
		}
		out[i] = pt
	}
	return out, nil
}

// withPurposes adds each flow's purpose, once, after the provenance: a
// cut at the comment limit takes purposes before it takes provenance.
func withPurposes(provenance string, origins []ir.Origin) string {
	var purposes []string
	seen := map[string]bool{}
	for _, o := range origins {
		if o.Kind != ir.OriginFlow || o.Purpose == "" {
			continue
		}
		p := o.Flow + ": " + o.Purpose
		if !seen[p] {
			seen[p] = true
			purposes = append(purposes, p)
		}
	}
	if len(purposes) == 0 {
		return provenance
	}
	return provenance + " | " + strings.Join(purposes, "; ")
}
