package fwdlive

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/portwall/portwall/generators/firewalld"
)

// Read reads the live state: portwall's files and DefaultZone from c.Dir,
// and, when firewalld runs, its state, default zone and how its runtime
// differs from its permanent configuration.
func Read(ctx context.Context, c Config) (*Live, error) {
	c = c.Resolved()
	l := &Live{Config: c}
	if err := isDir(c.Dir); err != nil {
		return nil, err
	}
	var err error
	if l.Files, err = readOwned(c.Dir); err != nil {
		return nil, err
	}
	if l.Conf, err = readConf(c.Dir); err != nil {
		return nil, err
	}
	if l.Conf != nil {
		l.DefaultZone, _ = defaultZoneOf(l.Conf.Data)
	}
	d, err := connect(ctx, c.Bus)
	if err != nil || d == nil {
		return l, err
	}
	defer d.close()
	if l.State, err = d.state(); err != nil {
		return nil, err
	}
	if l.RuntimeDefaultZone, err = d.defaultZone(ctx); err != nil {
		return nil, err
	}
	if l.Runtime, err = d.runtimeDiff(ctx, l.DefaultZone); err != nil {
		return nil, err
	}
	if l.State != "RUNNING" {
		l.Runtime = append([]string{fmt.Sprintf("runtime: firewalld's state is %s: it fell back to its stock configuration (see its log)", l.State)}, l.Runtime...)
	}
	return l, nil
}

// Op is what a change does.
type Op string

const (
	Add    Op = "add"
	Remove Op = "remove"
	Change Op = "change"
)

// Item is one change: an element of one of portwall's files (Kind zone,
// policy or service, Name the object's), the object itself (its root
// element), or the default zone (Kind setting, Name DefaultZone).
type Item struct {
	Op      Op     `json:"op"`
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	File    string `json:"file,omitempty"`
	Live    string `json:"live,omitempty"`
	Desired string `json:"desired,omitempty"`
}

// Diff is the difference between the live state and the desired files.
type Diff struct {
	Changes []Item `json:"changes"`
	Add     int    `json:"add"`
	Remove  int    `json:"remove"`
	Change  int    `json:"change"`
	// Runtime lists how firewalld's runtime differs from its permanent
	// configuration: apply reloads.
	Runtime []string `json:"runtime"`
	// Unified is the difference as a unified diff of the two documents
	// (--- live, +++ desired).
	Unified string `json:"unified"`
	// LiveDoc and DesiredDoc are the documents the unified diff compares.
	LiveDoc, DesiredDoc []string `json:"-"`
}

// Drift reports whether anything differs.
func (d *Diff) Drift() bool { return len(d.Changes) > 0 || len(d.Runtime) > 0 }

// Summary is the last line of the text output.
func (d *Diff) Summary() string {
	s := fmt.Sprintf("%d to add, %d to remove, %d to change", d.Add, d.Remove, d.Change)
	if len(d.Runtime) > 0 {
		ways := "1 way"
		if len(d.Runtime) != 1 {
			ways = fmt.Sprintf("%d ways", len(d.Runtime))
		}
		s += ", and a reload (the runtime differs from the permanent configuration in " + ways + ")"
	}
	return s
}

// kindOf is the object kind of a file KIND/NAME.xml, and its name.
func kindOf(file string) (string, string) {
	dir, name, _ := strings.Cut(file, "/")
	name = strings.TrimSuffix(name, ".xml")
	switch dir {
	case "zones":
		return "zone", name
	case "policies":
		return "policy", name
	}
	return "service", name
}

// sortedFiles lists file names in the backend's order: zones, policies,
// services, each by name.
func sortedFiles(names []string) []string {
	rank := func(n string) int {
		dir, _, _ := strings.Cut(n, "/")
		return slices.Index(firewalld.Kinds, dir)
	}
	slices.SortFunc(names, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	return names
}

// document is what the unified diff compares: each file's canonical form
// under a "# KIND/NAME.xml" line, then the default zone, then (live only)
// the runtime's differences.
func document(files map[string][]string, defaultZone string, runtime []string) []string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	var out []string
	for _, n := range sortedFiles(names) {
		out = append(out, "# "+n)
		out = append(out, files[n]...)
	}
	out = append(out, "# firewalld.conf", "DefaultZone="+defaultZone)
	if len(runtime) > 0 {
		out = append(out, "# runtime (the running firewalld, not its files)")
		out = append(out, runtime...)
	}
	return out
}

// Compare diffs the live state with the desired files (KIND/NAME.xml to
// contents, as the backend writes them).
func Compare(l *Live, desired map[string][]byte) *Diff {
	live := map[string][]string{}
	for n, f := range l.Files {
		live[n] = canonical(f.Data)
	}
	want := map[string][]string{}
	for n, data := range desired {
		want[n] = canonical(data)
	}
	d := &Diff{Runtime: slices.Clone(l.Runtime)}
	if d.Runtime == nil {
		d.Runtime = []string{}
	}
	all := map[string]bool{}
	for n := range live {
		all[n] = true
	}
	for n := range want {
		all[n] = true
	}
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	for _, n := range sortedFiles(names) {
		d.file(n, live[n], want[n])
	}
	liveZone := l.DefaultZone
	if liveZone == "" {
		liveZone = "(unset: " + FallbackZone + ")"
	}
	if l.DefaultZone != firewalld.Zone {
		d.item(Item{Op: Change, Kind: "setting", Name: "DefaultZone", File: "firewalld.conf", Live: liveZone, Desired: firewalld.Zone})
	}
	d.LiveDoc = document(live, liveZone, l.Runtime)
	d.DesiredDoc = document(want, firewalld.Zone, nil)
	d.Unified = unified(d.LiveDoc, d.DesiredDoc)
	return d
}

func (d *Diff) item(it Item) {
	d.Changes = append(d.Changes, it)
	switch it.Op {
	case Add:
		d.Add++
	case Remove:
		d.Remove++
	case Change:
		d.Change++
	}
}

// file diffs one file's canonical lines (nil: no such file): the root
// element, then the children as a multiset; <short> and <description>,
// which an object has once, change rather than come and go.
func (d *Diff) file(name string, live, want []string) {
	k, obj := kindOf(name)
	base := Item{Kind: k, Name: obj, File: name}
	switch {
	case live == nil:
		for _, l := range elements(want) {
			it := base
			it.Op, it.Desired = Add, strings.TrimSpace(l)
			d.item(it)
		}
		return
	case want == nil:
		for _, l := range elements(live) {
			it := base
			it.Op, it.Live = Remove, strings.TrimSpace(l)
			d.item(it)
		}
		return
	}
	if live[0] != want[0] {
		it := base
		it.Op, it.Live, it.Desired = Change, live[0], want[0]
		d.item(it)
	}
	lc, wc := children(live), children(want)
	for _, single := range []string{"<short", "<description"} {
		li, wi := indexPrefix(lc, single), indexPrefix(wc, single)
		if li >= 0 && wi >= 0 {
			if lc[li] != wc[wi] {
				it := base
				it.Op, it.Live, it.Desired = Change, lc[li], wc[wi]
				d.item(it)
			}
			lc = slices.Delete(lc, li, li+1)
			wc = slices.Delete(wc, wi, wi+1)
		}
	}
	for _, l := range lc {
		if i := slices.Index(wc, l); i >= 0 {
			wc = slices.Delete(wc, i, i+1)
			continue
		}
		it := base
		it.Op, it.Live = Remove, l
		d.item(it)
	}
	for _, w := range wc {
		it := base
		it.Op, it.Desired = Add, w
		d.item(it)
	}
}

// elements are a canonical file's lines without the end tag.
func elements(lines []string) []string {
	if len(lines) > 1 {
		return lines[:len(lines)-1]
	}
	return lines
}

// children are a canonical file's child lines, unindented.
func children(lines []string) []string {
	if len(lines) < 2 {
		return nil
	}
	var out []string
	for _, l := range lines[1 : len(lines)-1] {
		out = append(out, strings.TrimSpace(l))
	}
	return out
}

func indexPrefix(lines []string, prefix string) int {
	return slices.IndexFunc(lines, func(l string) bool {
		return strings.HasPrefix(l, prefix+">") || strings.HasPrefix(l, prefix+" ") || strings.HasPrefix(l, prefix+"/")
	})
}

// unified writes a unified diff with three lines of context, "" when the
// documents are equal.
func unified(a, b []string) string {
	if slices.Equal(a, b) {
		return ""
	}
	nl := func(ls []string) []string {
		out := make([]string, len(ls))
		for i, l := range ls {
			out[i] = l + "\n"
		}
		return out
	}
	s, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{A: nl(a), B: nl(b), FromFile: "live", ToFile: "desired", Context: 3})
	if err != nil {
		// Writes to memory only.
		panic(err)
	}
	return s
}
