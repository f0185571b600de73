package fortiparse

import (
	"regexp"
	"sync"
)

// version is a FortiOS release, major.minor.
type version struct{ major, minor int }

// versions are the releases the reference covers. An array searched in
// order, not a map: the linker lays it out, where a map literal is built
// by every run's package initialisation, whatever the run does.
var versions = [...]struct {
	name string
	v    version
}{
	{"6.0", version{6, 0}}, {"6.2", version{6, 2}}, {"6.4", version{6, 4}},
	{"7.0", version{7, 0}}, {"7.2", version{7, 2}}, {"7.4", version{7, 4}}, {"7.6", version{7, 6}},
	{"8.0", version{8, 0}},
}

// parseVersion reads a release ("7.6") or a patch level of one
// ("7.6.1"), which has its release's syntax.
func parseVersion(s string) (version, bool) {
	m := versionPattern().FindStringSubmatch(s)
	if m == nil {
		return version{}, false
	}
	for _, r := range versions {
		if r.name == m[1] {
			return r.v, true
		}
	}
	return version{}, false
}

var versionPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([0-9]{1,2}\.[0-9]{1,2})(\.[0-9]{1,3})?$`) })

func (v version) atLeast(o version) bool {
	return v.major > o.major || v.major == o.major && v.minor >= o.minor
}

func (v version) before(o version) bool { return !v.atLeast(o) }

// Versions where the reference records a change (section 9).
var (
	v62 = version{6, 2} // object names 79 characters (63 before)
	v64 = version{6, 4} // IPv4 and IPv6 in one policy; policy6 gone
	v80 = version{8, 0} // local-in intf holds a list
)

// maxName is the longest address, group or service name.
func (v version) maxName() int {
	if v.atLeast(v62) {
		return 79
	}
	return 63
}
