package profiles

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// splitProfile is a profile of n groups and n [[allow]] rules, with a
// problem in those whose index bad picks.
func splitProfile(n int, bad func(i int) bool) string {
	var b strings.Builder
	b.WriteString("[hosts.h1]\naddresses = [\"192.0.2.1\"]\n[groups]\n")
	for i := range n {
		member := fmt.Sprintf("10.%d.%d.0/24", i/256, i%256)
		if bad(i) {
			member = fmt.Sprintf("nowhere-%d", i) // unknown host or group
		}
		fmt.Fprintf(&b, "g%05d = [%q, \"h1\"]\n", i, member)
	}
	for i := range n {
		from, proto := fmt.Sprintf("g%05d", i), "tcp"
		if bad(i) {
			from, proto = fmt.Sprintf("g%05dx", i), "tpc"
		}
		fmt.Fprintf(&b, "[[allow]]\nfrom = [%q, \"any\"]\nto = \"h1\"\nprotocol = %q\nports = [%d, \"8000-8010\"]\ncomment = \"rule %d\"\n", from, proto, 1+i%1000, i)
	}
	return b.String()
}

// TestSplitAgrees: checking groups and rules on two goroutines gives the
// profile and the errors, in their order, that one goroutine gives, for
// splits of every size (run with -race).
func TestSplitAgrees(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		n    int
		bad  func(i int) bool
	}{
		{"no problems", 40, func(int) bool { return false }},
		{"problems everywhere", 40, func(i int) bool { return i%3 == 0 }},
		{"problems in the second half", 40, func(i int) bool { return i > 30 }},
		{"problems in the first half", 41, func(i int) bool { return i < 5 }},
		{"one entry", 1, func(int) bool { return true }},
		{"at splitMin", splitMin, func(i int) bool { return i%100 == 7 }},
	}
	for _, c := range cases {
		data := []byte(splitProfile(c.n, c.bad))
		want, wantErr := parse("p.toml", data, math.MaxInt)
		for _, minSplit := range []int{1, 2, c.n, splitMin} {
			got, err := parse("p.toml", data, minSplit)
			if fmt.Sprint(err) != fmt.Sprint(wantErr) {
				t.Errorf("%s, minSplit %d: errors\n%v\nwant\n%v", c.name, minSplit, err, wantErr)
			}
			if !reflect.DeepEqual(got.Groups, want.Groups) || !reflect.DeepEqual(got.Allows, want.Allows) {
				t.Errorf("%s, minSplit %d: the profile differs", c.name, minSplit)
			}
		}
	}
}

// TestSortedNames: the names come out sorted whether the file's order is
// sorted, unsorted or unknown.
func TestSortedNames(t *testing.T) {
	t.Parallel()
	m := map[string]int{"b": 1, "a": 2, "c": 3}
	want := []string{"a", "b", "c"}
	for _, order := range [][]string{nil, {"a", "b", "c"}, {"c", "a", "b"}, {"a", "b"}} {
		if got := sortedNames(m, slices.Clone(order)); !slices.Equal(got, want) {
			t.Errorf("order %q: got %q, want %q", order, got, want)
		}
	}
}

// TestArena: copies equal their lists (nil for nil, empty for empty),
// have no room to append into their neighbours, and share chunks no
// larger than the arena was told to expect.
func TestArena(t *testing.T) {
	t.Parallel()
	var a arena[string]
	a.expect(3)
	lists := [][]string{nil, {}, {"a"}, {"b", "c"}, {"d"}, {"e", "f", "g", "h"}}
	var got [][]string
	for _, l := range lists {
		got = append(got, a.copy(l))
	}
	for i, l := range lists {
		if (got[i] == nil) != (l == nil) || !slices.Equal(got[i], l) || cap(got[i]) != len(l) {
			t.Errorf("copy(%q) = %q (cap %d)", l, got[i], cap(got[i]))
		}
	}
	_ = append(got[2], "x")
	if got[3][0] != "b" {
		t.Errorf("an append to one copy wrote into the next: %q", got[3])
	}
	if cap(a.free) > minChunk {
		t.Errorf("the last chunk holds %d, want at most %d", cap(a.free), minChunk)
	}
	var b arena[int]
	b.expect(10 * maxChunk)
	b.copy([]int{1})
	if cap(b.free) != maxChunk {
		t.Errorf("a chunk of %d, want %d", cap(b.free), maxChunk)
	}
}
