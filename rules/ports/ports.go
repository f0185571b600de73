// Package ports holds TCP and UDP port ranges and normalised sets of them.
package ports

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Range is an inclusive range of ports, First <= Last, both in 1-65535. A
// single port has First == Last.
type Range struct {
	First, Last uint16
}

// All is every port.
var All = Range{1, 65535}

// Single returns the range holding only port p.
func Single(p uint16) Range { return Range{p, p} }

// String formats the range as "25" or "20010-20014".
func (r Range) String() string {
	if r.First == r.Last {
		return strconv.Itoa(int(r.First))
	}
	return fmt.Sprintf("%d-%d", r.First, r.Last)
}

// Len is the number of ports in the range.
func (r Range) Len() int { return int(r.Last) - int(r.First) + 1 }

// Parse reads "25" or "7100-7150": digits only, no spaces, signs or
// leading zeros (Pattern).
func Parse(s string) (Range, error) {
	a, b, isRange := strings.Cut(s, "-")
	first, err := parsePort(a, s)
	if err != nil {
		return Range{}, err
	}
	if !isRange {
		return Range{first, first}, nil
	}
	last, err := parsePort(b, s)
	if err != nil {
		return Range{}, err
	}
	if last < first {
		return Range{}, fmt.Errorf("reversed port range %q: %d is greater than %d", s, first, last)
	}
	return Range{first, last}, nil
}

// parsePort reads one port of s: decimal digits only, without sign,
// spaces or leading zeros, so that a port is written one way.
func parsePort(s, whole string) (uint16, error) {
	if s == "" || len(s) > 5 || len(s) > 1 && s[0] == '0' || strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Errorf("invalid port %q: want a number 1-65535 or a range such as 7100-7150", whole)
	}
	n, _ := strconv.Atoi(s)
	return Check(int64(n))
}

// portPattern is one port, 1-65535, as parsePort accepts it.
const portPattern = `(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})`

// Pattern is the regular expression of the strings Parse accepts, a port
// or a range "first-last", for the profile's JSON Schema: in the syntax
// that Go's regexp and ECMA-262 (editors' validators) read alike. A
// reversed range matches it; Parse refuses it.
const Pattern = `^` + portPattern + `(-` + portPattern + `)?$`

// Check returns n as a port, or an error if it is outside 1-65535.
func Check(n int64) (uint16, error) {
	if n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %d out of range 1-65535", n)
	}
	return uint16(n), nil
}

// ParseValue reads a port from a decoded TOML value: an integer or a
// string as Parse accepts.
func ParseValue(v any) (Range, error) {
	switch v := v.(type) {
	case int64:
		p, err := Check(v)
		return Range{p, p}, err
	case string:
		return Parse(v)
	}
	return Range{}, fmt.Errorf("invalid port %v: want a number or a string such as \"7100-7150\"", v)
}

// Set is a sorted list of disjoint, non-adjacent ranges. The zero value is
// the empty set.
type Set []Range

// NewSet normalises rs into a Set: sorted, overlapping and adjacent ranges
// merged.
func NewSet(rs ...Range) Set {
	if len(rs) == 0 {
		return nil
	}
	return normalize(slices.Clone(rs))
}

// normalize sorts and merges s in place, and returns it as a Set.
func normalize(s []Range) Set {
	if len(s) == 0 {
		return nil
	}
	slices.SortFunc(s, func(a, b Range) int { return cmp.Or(cmp.Compare(a.First, b.First), cmp.Compare(a.Last, b.Last)) })
	out := s[:1]
	for _, r := range s[1:] {
		last := &out[len(out)-1]
		if int(r.First) <= int(last.Last)+1 {
			last.Last = max(last.Last, r.Last)
			continue
		}
		out = append(out, r)
	}
	return out
}

// Union returns the ports in s or o.
func (s Set) Union(o Set) Set { return normalize(slices.Concat(s, o)) }

// Intersect returns the ports in both s and o.
func (s Set) Intersect(o Set) Set {
	var out []Range
	for i, j := 0, 0; i < len(s) && j < len(o); {
		first, last := max(s[i].First, o[j].First), min(s[i].Last, o[j].Last)
		if first <= last {
			out = append(out, Range{first, last})
		}
		if s[i].Last < o[j].Last {
			i++
		} else {
			j++
		}
	}
	return NewSet(out...)
}

// Contains reports whether port p is in s.
func (s Set) Contains(p uint16) bool {
	_, found := slices.BinarySearchFunc(s, p, func(r Range, p uint16) int {
		switch {
		case r.Last < p:
			return -1
		case r.First > p:
			return 1
		}
		return 0
	})
	return found
}

// Covers reports whether every port of o is in s.
func (s Set) Covers(o Set) bool {
	for _, r := range o {
		i, _ := slices.BinarySearchFunc(s, r.First, func(x Range, p uint16) int { return cmp.Compare(x.Last, p) })
		if i == len(s) || s[i].First > r.First || s[i].Last < r.Last {
			return false
		}
	}
	return true
}

// IsAll reports whether s is every port.
func (s Set) IsAll() bool { return len(s) == 1 && s[0] == All }

// Len is the number of ports in s.
func (s Set) Len() int {
	n := 0
	for _, r := range s {
		n += r.Len()
	}
	return n
}

// Strings formats each range.
func (s Set) Strings() []string {
	out := make([]string, len(s))
	for i, r := range s {
		out[i] = r.String()
	}
	return out
}

// String formats the set as "25,465,20010-20014".
func (s Set) String() string { return strings.Join(s.Strings(), ",") }

// Equal reports whether s and o hold the same ports.
func (s Set) Equal(o Set) bool { return slices.Equal(s, o) }
