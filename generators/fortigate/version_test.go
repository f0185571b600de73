package fortigate

import (
	"fmt"
	"regexp"
	"testing"
)

// TestVersionKeyPattern: the pattern the profile's schema gives for
// [fortigate] version accepts exactly what parseVersion does.
func TestVersionKeyPattern(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(versionKeyPattern())
	candidates := []string{"", "6", "6.5", "7", "07.4", "7.4.", "7.4.1.1", "7.4.1000", "v7.4", "7.4 ", "7.10"}
	for _, n := range versionNames() {
		candidates = append(candidates, n, n+".0", n+".12", n+".999", n+"x", "1"+n)
	}
	for major := range 10 {
		for minor := range 10 {
			candidates = append(candidates, fmt.Sprintf("%d.%d", major, minor), fmt.Sprintf("%d.%d.3", major, minor))
		}
	}
	accepted := 0
	for _, c := range candidates {
		_, err := parseVersion(c)
		if re.MatchString(c) != (err == nil) {
			t.Errorf("%q: pattern matches %v, parseVersion error %v", c, re.MatchString(c), err)
		}
		if err == nil {
			accepted++
		}
	}
	if accepted < len(versionNames()) {
		t.Errorf("only %d versions accepted", accepted)
	}
}
