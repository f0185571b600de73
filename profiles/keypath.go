package profiles

// keyPath is the key path of a value the checker reads: keys and array
// indices, as tomldoc's positions take them. It is a value, built into a
// []any (slice) only when a message needs one: the checker reads some
// 100,000 values in a profile of 10,000 rules, almost always without a
// problem, and a fresh []any for each (with each index boxed) was a third
// of what Parse allocated.
type keyPath struct {
	n     int
	elems [maxPathDepth]pathElem
}

// maxPathDepth is the deepest path the checker reads:
// deployment[i].roles.NAME[j] and its like. The paths are copied as they
// are passed: no more room than that.
const maxPathDepth = 5

// pathElem is one element of a keyPath: a key, or an array index.
type pathElem struct {
	key   string
	index int // -1 for a key
}

// keyAt is the path of the top-level key k.
func keyAt(k string) keyPath { return keyPath{}.key(k) }

// key is the path of key k below p.
func (p keyPath) key(k string) keyPath {
	if p.n == len(p.elems) {
		panic(errTooDeep)
	}
	p.elems[p.n] = pathElem{key: k, index: -1}
	p.n++
	return p
}

// index is the path of element i of the array at p.
func (p keyPath) index(i int) keyPath {
	if p.n == len(p.elems) {
		panic(errTooDeep)
	}
	p.elems[p.n] = pathElem{index: i}
	p.n++
	return p
}

// errTooDeep is a constant, for key and index to inline.
const errTooDeep = "profiles: a key path deeper than maxPathDepth"

// slice is the path as tomldoc takes it: a string per key, an int per
// index.
func (p keyPath) slice() []any {
	out := make([]any, p.n)
	for i, e := range p.elems[:p.n] {
		if e.index >= 0 {
			out[i] = e.index
		} else {
			out[i] = e.key
		}
	}
	return out
}
