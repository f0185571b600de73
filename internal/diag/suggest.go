package diag

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Suggest returns the candidate closest to name, or "" when none is close
// enough to be a plausible misspelling. Closeness is the optimal string
// alignment distance (insertions, deletions, substitutions and swaps of
// neighbouring letters each cost one), case-insensitive; ties go to the
// candidate that sorts first, so the suggestion is deterministic.
func Suggest(name string, candidates []string) string {
	sorted := append([]string(nil), candidates...)
	sort.Strings(sorted)
	best, bestDist := "", -1
	lname := []rune(strings.ToLower(name))
	for _, c := range sorted {
		if c == name {
			continue
		}
		d := osaDistance(lname, []rune(strings.ToLower(c)))
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	// About one edit per three characters, at least one: "webmial" finds
	// "webmail", "imap" does not find "smtp".
	limit := max(1, (len(lname)+1)/3)
	if bestDist >= 0 && bestDist <= limit {
		return best
	}
	// A word of a dashed name: "imap" finds "imap-server".
	for _, c := range sorted {
		if slices.Contains(strings.Split(strings.ToLower(c), "-"), string(lname)) {
			return c
		}
	}
	return ""
}

// osaDistance is the optimal string alignment distance between a and b
// (Damerau-Levenshtein without repeated edits of one substring). The
// libraries at hand (xrash/smetrics) count a swap as two edits, which
// hides the commonest typo.
func osaDistance(a, b []rune) int {
	rows := make([][]int, len(a)+1)
	for i := range rows {
		rows[i] = make([]int, len(b)+1)
		rows[i][0] = i
	}
	for j := range rows[0] {
		rows[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d := min(rows[i-1][j]+1, rows[i][j-1]+1, rows[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d = min(d, rows[i-2][j-2]+1)
			}
			rows[i][j] = d
		}
	}
	return rows[len(a)][len(b)]
}

// DidYouMean formats the suggestion for an error message: `; did you mean
// "x"?`, or "" when there is none.
func DidYouMean(name string, candidates []string) string {
	if s := Suggest(name, candidates); s != "" {
		return fmt.Sprintf("; did you mean %q?", s)
	}
	return ""
}

// Plural counts n of word for a message: "1 rule", "3 rules".
func Plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
