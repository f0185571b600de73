// Package fortigate renders the network view as a FortiOS CLI snippet: the
// address objects and groups, custom services and firewall policies (and,
// when the profile asks for them, local-in policies) that allow exactly
// what the IR allows, for an operator to paste into a FortiGate; and,
// against the FortiGate's running configuration (Sync), the delta that
// brings portwall's objects there to the profile.
//
// Each side of a rule sits behind the interface or zone whose key in
// [fortigate.interfaces] holds its addresses, by longest prefix (route.go);
// a rule gets one policy per pair of interfaces its sides sit behind, and
// none where both sit behind the same one. Everything portwall creates is
// named "pw-..." after what it is (names.go, policyname.go), and nothing
// else is ever edited or deleted. The full snippet appends policies with
// "edit 0" (never an explicit id, which would overwrite whatever policy
// holds it); the delta edits existing policies by their ids in the running
// configuration and gives new ones ids above the highest there. Nothing in
// either is wider than the IR: a side with no address of an IP version
// drops that version from the policy, the built-in "all" stands only for
// an IR side that is every address, and what FortiOS cannot express is
// refused, at the profile line to change (generators.Refusal).
//
// The FortiOS syntax it follows is the project's FortiOS CLI reference
// (fortios-cli.md; "reference section N" below), which no device has
// confirmed; package fortiparse reads the output back with an
// independent, strict reading of the same reference, and models a
// FortiGate's configuration to judge the delta.
package fortigate

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/rules/ir"
)

// FileName is the one file the backend writes.
const FileName = "fortigate.conf"

// Generator is the FortiGate backend.
type Generator struct{}

func (Generator) Name() string { return "fortigate" }

func (Generator) Caps() generators.Caps {
	return generators.Caps{NetworkView: true, FQDN: generators.FQDNNative, Ext: ".conf"}
}

func (Generator) Section() generators.Section { return Section }

// Generate renders the network view into fortigate.conf.
func (g Generator) Generate(req generators.Request) ([]generators.File, error) {
	if len(req.Hosts) > 0 {
		return nil, fmt.Errorf("fortigate: renders the network view, not hosts: leave out --host")
	}
	data, err := Render(req.Ruleset, SettingsOf(req.Settings))
	if err != nil {
		return nil, err
	}
	return []generators.File{{Name: FileName, Contents: data}}, nil
}

// version is a FortiOS release the backend knows, as "major.minor", and
// the version the profile gave (a patch level of it, or the release).
type version struct {
	name         string
	major, minor int
	given        string
}

// versions are the releases [fortigate] version accepts.
var versions = []version{{"6.0", 6, 0, ""}, {"6.2", 6, 2, ""}, {"6.4", 6, 4, ""}, {"7.0", 7, 0, ""}, {"7.2", 7, 2, ""}, {"7.4", 7, 4, ""}, {"7.6", 7, 6, ""}, {"8.0", 8, 0, ""}}

// versionPattern is a release or a patch level: "7.6", "7.6.1".
var versionPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([0-9]{1,2})\.([0-9]{1,2})(\.[0-9]{1,3})?$`) })

// parseVersion reads a release ("7.6") or a patch level of one ("7.6.1"),
// which takes its release's syntax: the CLI changes the backend knows of
// (reference section 9) come with releases, not patches.
// versionKeyPattern is the pattern of the versions parseVersion accepts,
// for the profile's schema: a release, or a patch level of one.
func versionKeyPattern() string {
	names := versionNames()
	for i, n := range names {
		names[i] = regexp.QuoteMeta(n)
	}
	return `^(` + strings.Join(names, "|") + `)(\.[0-9]{1,3})?$`
}

func parseVersion(s string) (version, error) {
	if m := versionPattern().FindStringSubmatch(s); m != nil {
		for _, v := range versions {
			if v.name == m[1]+"."+m[2] {
				v.given = s
				return v, nil
			}
		}
	}
	return version{}, fmt.Errorf("fortigate: unknown FortiOS version %q: want a release (%s) or a patch level of one, such as 7.6.1", s, strings.Join(versionNames(), ", "))
}

// String is the version as the profile gave it, with its release when
// that is a patch level: "7.6.1 (7.6 syntax)".
func (v version) String() string {
	if v.given != "" && v.given != v.name {
		return v.given + " (" + v.name + " syntax)"
	}
	return v.name
}

func (v version) atLeast(major, minor int) bool {
	return v.major > major || v.major == major && v.minor >= minor
}

// merged: from 6.4 one firewall policy carries IPv4 (srcaddr/dstaddr) and
// IPv6 (srcaddr6/dstaddr6); before, IPv6 has its own table, policy6.
func (v version) merged() bool { return v.atLeast(6, 4) }

// maxName is the longest address, group or service name: 63 characters
// on 6.0, 79 from 6.2.
func (v version) maxName() int {
	if v.atLeast(6, 2) {
		return 79
	}
	return 63
}

// localInList: from 8.0 a local-in policy's intf holds a list; before, one
// interface.
func (v version) localInList() bool { return v.atLeast(8, 0) }

// Limits of text fields (reference section 8), in bytes: FortiOS counts
// bytes or characters, and bytes are never more than characters.
const (
	maxPolicyName    = 35
	maxPolicyComment = 1023
	maxObjectComment = 255
	// maxPolicyID is the highest policy id (0 asks for the next free one).
	maxPolicyID = 4294967294
)

// logTraffic values of a firewall policy.
var logTraffic = []string{"all", "utm", "disable"}

func checkLogTraffic(s string) error {
	if !slices.Contains(logTraffic, s) {
		return fmt.Errorf("fortigate: invalid logtraffic %q: want all, utm or disable", s)
	}
	return nil
}

// ruleLabel names a rule in errors and notes: "rule r1a2b3 (fortimail/ha/ha-heartbeat)".
func ruleLabel(r *ir.Rule) string {
	return fmt.Sprintf("rule %s (%s)", r.ID, generators.OriginLabels(r.Origins))
}
