package nftables

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/ports"
)

// chunk is the part of a rule one nft rule carries: a rule whose
// provenance does not fit one 128-byte comment is emitted as several nft
// rules, each with the ports of the origins its comment names. Together
// they allow exactly the rule's ports, never more.
type chunk struct {
	comment string
	ports   ports.Set
	types   []uint8
}

func commentChunks(r *ir.Rule) []chunk {
	if c := ruleComment(r.ID, r.Origins); len(c) <= MaxComment {
		return []chunk{{comment: commentText(c), ports: r.Ports, types: r.ICMPTypes}}
	}
	var out []chunk
	var cur []ir.Origin
	for _, o := range r.Origins {
		if len(cur) > 0 && len(ruleComment(r.ID, append(cur, o))) > MaxComment {
			out = append(out, newChunk(r.ID, cur))
			cur = nil
		}
		cur = append(cur, o)
	}
	return append(out, newChunk(r.ID, cur))
}

func newChunk(id string, os []ir.Origin) chunk {
	c := chunk{comment: commentText(ruleComment(id, os))}
	all := false
	for _, o := range os {
		c.ports = c.ports.Union(o.Ports)
		all = all || len(o.ICMPTypes) == 0
		c.types = append(c.types, o.ICMPTypes...)
	}
	if all {
		c.types = nil
	} else {
		c.types = sortedUnique(c.types)
	}
	return c
}

func sortedUnique(ts []uint8) []uint8 {
	slices.Sort(ts)
	return slices.Compact(ts)
}

// ruleComment names the rule ID and its origins, grouped by product and
// feature: "pw:r1a2b3c4d5e6f fortimail/ha: ha-heartbeat ha-join".
func ruleComment(id string, os []ir.Origin) string {
	var groups []string
	for i := 0; i < len(os); {
		o := os[i]
		if o.Kind == ir.OriginCustom {
			g := o.Label()
			if o.Comment != "" {
				g += ": " + o.Comment
			}
			groups = append(groups, g)
			i++
			continue
		}
		flows := []string{o.Flow}
		j := i + 1
		for ; j < len(os) && os[j].Kind == ir.OriginFlow && os[j].Product == o.Product && os[j].Feature == o.Feature; j++ {
			if os[j].Flow != flows[len(flows)-1] {
				flows = append(flows, os[j].Flow)
			}
		}
		groups = append(groups, o.Product+"/"+o.Feature+": "+strings.Join(flows, " "))
		i = j
	}
	return "pw:" + id + " " + strings.Join(groups, "; ")
}

// commentText makes s safe inside an nft quoted string and a # comment:
// nft has no escape for '"', and a line break would end the comment, so
// quotes become apostrophes and control characters spaces. The result is
// cut to MaxComment bytes on a character boundary.
func commentText(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '"':
			return '\''
		case unicode.IsControl(r) || r == utf8.RuneError || r == '\u2028' || r == '\u2029':
			return ' '
		}
		return r
	}, s)
	if len(s) <= MaxComment {
		return s
	}
	cut := MaxComment - len("...")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func quote(s string) string { return `"` + commentText(s) + `"` }
