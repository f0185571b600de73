package live

import "github.com/pmezard/go-difflib/difflib"

// opCodes lists how to turn a into b, as difflib does, but runs difflib
// only on what lies between the common beginning and end of a and b. A
// table with a few changes among 10,000 rules is then diffed in
// milliseconds; difflib on the whole would take seconds and gigabytes.
// Automatic junk detection stays off: a table repeats lines such as "}".
func opCodes(a, b []string) []difflib.OpCode {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var out []difflib.OpCode
	add := func(c difflib.OpCode) { out = addCode(out, c) }
	add(difflib.OpCode{Tag: 'e', I1: 0, I2: pre, J1: 0, J2: pre})
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	switch {
	case len(ma) == 0 && len(mb) == 0:
	case len(ma) == 0:
		add(difflib.OpCode{Tag: 'i', I1: pre, I2: pre, J1: pre, J2: pre + len(mb)})
	case len(mb) == 0:
		add(difflib.OpCode{Tag: 'd', I1: pre, I2: pre + len(ma), J1: pre, J2: pre})
	default:
		for _, c := range difflib.NewMatcherWithJunk(ma, mb, false, nil).GetOpCodes() {
			add(difflib.OpCode{Tag: c.Tag, I1: c.I1 + pre, I2: c.I2 + pre, J1: c.J1 + pre, J2: c.J2 + pre})
		}
	}
	add(difflib.OpCode{Tag: 'e', I1: len(a) - suf, I2: len(a), J1: len(b) - suf, J2: len(b)})
	return out
}

// addCode appends c to codes, merging it into the last code when both
// are equal runs, and leaving out empty ones.
func addCode(codes []difflib.OpCode, c difflib.OpCode) []difflib.OpCode {
	if c.I1 == c.I2 && c.J1 == c.J2 {
		return codes
	}
	if n := len(codes); n > 0 && codes[n-1].Tag == 'e' && c.Tag == 'e' {
		codes[n-1].I2, codes[n-1].J2 = c.I2, c.J2
		return codes
	}
	return append(codes, c)
}

// grouped splits op codes into hunks with n lines of context, as difflib's
// GetGroupedOpCodes does; no hunks when a and b are equal.
func grouped(codes []difflib.OpCode, n int) [][]difflib.OpCode {
	if len(codes) == 0 || len(codes) == 1 && codes[0].Tag == 'e' {
		return nil
	}
	codes = append([]difflib.OpCode(nil), codes...)
	if c := &codes[0]; c.Tag == 'e' {
		c.I1, c.J1 = max(c.I1, c.I2-n), max(c.J1, c.J2-n)
	}
	if c := &codes[len(codes)-1]; c.Tag == 'e' {
		c.I2, c.J2 = min(c.I2, c.I1+n), min(c.J2, c.J1+n)
	}
	var groups [][]difflib.OpCode
	var g []difflib.OpCode
	for _, c := range codes {
		if c.Tag == 'e' && c.I2-c.I1 > 2*n {
			g = append(g, difflib.OpCode{Tag: 'e', I1: c.I1, I2: c.I1 + n, J1: c.J1, J2: c.J1 + n})
			groups = append(groups, g)
			g = nil
			c.I1, c.J1 = c.I2-n, c.J2-n
		}
		g = append(g, c)
	}
	if len(g) > 0 && !(len(g) == 1 && g[0].Tag == 'e') {
		groups = append(groups, g)
	}
	return groups
}
