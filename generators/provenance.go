package generators

import (
	"slices"
	"strconv"

	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/ports"
)

// Provenance names a rule ID and its origins, grouped by product and
// feature: "pw:r1a2b3c4d5e6f fortimail/ha: ha-heartbeat ha-join", or
// "pw:r... allow[2]: the profile's comment". Every backend puts it in the
// comment or description of what it emits, so that an operator can always
// answer "why is this port open?".
func Provenance(id string, os []ir.Origin) string {
	return provenance(id, origins{os: os, all: true}, true)
}

// BriefProvenance is Provenance of the origins os[pick[0]], os[pick[1]],
// ..., without custom rules' comments: for outputs that name a rule on
// each of many elements, where its free text would repeat on every one
// (`portwall explain` shows it).
func BriefProvenance(id string, os []ir.Origin, pick []int) string {
	return provenance(id, origins{os: os, pick: pick}, false)
}

// origins are the origins Provenance names: all of os, or those at pick.
type origins struct {
	os   []ir.Origin
	pick []int
	all  bool
}

func (s origins) len() int {
	if s.all {
		return len(s.os)
	}
	return len(s.pick)
}

func (s origins) at(i int) *ir.Origin {
	if s.all {
		return &s.os[i]
	}
	return &s.os[s.pick[i]]
}

// provenance writes what Provenance says into one buffer: every backend
// names every rule (and the nftables sets layout every element) by it.
func provenance(id string, os origins, comments bool) string {
	b := make([]byte, 0, 128)
	b = append(b, "pw:"...)
	b = append(b, id...)
	b = append(b, ' ')
	var buf [4]string
	for i, n := 0, os.len(); i < n; {
		if i > 0 {
			b = append(b, "; "...)
		}
		o := os.at(i)
		if o.Kind == ir.OriginCustom {
			// One custom rule naming several services is one group, its
			// comment said once.
			services := buf[:0]
			j := i
			for ; j < n && os.at(j).Kind == ir.OriginCustom && os.at(j).Allow == o.Allow; j++ {
				if s := os.at(j).Service; s != "" && !slices.Contains(services, s) {
					services = append(services, s)
				}
			}
			b = append(b, "allow["...)
			b = strconv.AppendInt(b, int64(o.Allow), 10)
			b = append(b, ']')
			// About the rule, in parentheses: "(service ssh; owner ops)".
			sep := " ("
			about := func(key string, values ...string) {
				b = append(b, sep...)
				b = append(b, key...)
				for _, v := range values {
					b = append(b, ' ')
					b = append(b, v...)
				}
				sep = "; "
			}
			switch len(services) {
			case 0:
			case 1:
				about("service", services[0])
			default:
				about("services", services...)
			}
			if o.Owner != "" {
				about("owner", o.Owner)
			}
			if o.Ticket != "" {
				about("ticket", o.Ticket)
			}
			if o.Expires != "" {
				about("expires", o.Expires)
			}
			if sep != " (" {
				b = append(b, ')')
			}
			if comments && o.Comment != "" {
				b = append(b, ": "...)
				b = append(b, o.Comment...)
			}
			i = j
			continue
		}
		b = append(b, o.Product...)
		b = append(b, '/')
		b = append(b, o.Feature...)
		b = append(b, ": "...)
		b = append(b, o.Flow...)
		last := o.Flow
		j := i + 1
		for ; j < n && os.at(j).Kind == ir.OriginFlow && os.at(j).Product == o.Product && os.at(j).Feature == o.Feature; j++ {
			if f := os.at(j).Flow; f != last {
				b = append(b, ' ')
				b = append(b, f...)
				last = f
			}
		}
		i = j
	}
	return string(b)
}

// Chunk is the part of a rule that one emitted rule carries.
type Chunk struct {
	Comment   string
	Ports     ports.Set
	ICMPTypes []uint8 // nil: every type
}

// Chunks splits a rule whose provenance does not fit a backend's comment
// limit (max bytes) into parts, each with the ports (or ICMP types) of the
// origins its comment names. Together the parts allow exactly the rule's
// ports, never more: each part is also cut back to the rule's own ports
// and types, whatever its origins claim. clean makes a comment safe for
// the backend and cuts it to max; a single origin too long for max is
// cut, not split.
func Chunks(r *ir.Rule, max int, clean func(string) string) []Chunk {
	if c := Provenance(r.ID, r.Origins); len(c) <= max {
		return []Chunk{{Comment: clean(c), Ports: r.Ports, ICMPTypes: r.ICMPTypes}}
	}
	var out []Chunk
	var cur []ir.Origin
	for _, o := range r.Origins {
		if len(cur) > 0 && len(Provenance(r.ID, append(cur, o))) > max {
			out = append(out, newChunk(r.ID, cur, clean))
			cur = nil
		}
		cur = append(cur, o)
	}
	out = append(out, newChunk(r.ID, cur, clean))
	kept := out[:0]
	for _, c := range out {
		if c, ok := clamp(c, r); ok {
			kept = append(kept, c)
		}
	}
	return kept
}

// clamp keeps a chunk inside its rule. A chunk takes its ports and ICMP
// types from the origins it names; the resolver makes those add up to the
// rule, but a ruleset built elsewhere may not, and a chunk must never
// allow more than its rule. ok is false when nothing of the rule is left.
// An empty type list means every type, for the rule and for the chunk.
func clamp(c Chunk, r *ir.Rule) (Chunk, bool) {
	if r.Protocol.HasPorts() {
		c.Ports = c.Ports.Intersect(r.Ports)
		return c, len(c.Ports) > 0
	}
	switch {
	case len(r.ICMPTypes) == 0:
	case len(c.ICMPTypes) == 0:
		c.ICMPTypes = slices.Clone(r.ICMPTypes)
	default:
		c.ICMPTypes = slices.DeleteFunc(c.ICMPTypes, func(t uint8) bool { return !slices.Contains(r.ICMPTypes, t) })
		if len(c.ICMPTypes) == 0 {
			return c, false
		}
	}
	return c, true
}

func newChunk(id string, os []ir.Origin, clean func(string) string) Chunk {
	c := Chunk{Comment: clean(Provenance(id, os))}
	all := false
	for _, o := range os {
		c.Ports = c.Ports.Union(o.Ports)
		all = all || len(o.ICMPTypes) == 0
		c.ICMPTypes = append(c.ICMPTypes, o.ICMPTypes...)
	}
	if all {
		c.ICMPTypes = nil
	} else {
		slices.Sort(c.ICMPTypes)
		c.ICMPTypes = slices.Compact(c.ICMPTypes)
	}
	return c
}
