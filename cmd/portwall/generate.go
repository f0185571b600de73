package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/targets"
	"github.com/portwall/portwall/internal/diag"
)

func (e *env) generateCommand() *cli.Command {
	return &cli.Command{
		Name:      "generate",
		Usage:     "write firewall rules for one host, or for all hosts into a directory",
		ArgsUsage: "PROFILE",
		Description: fmt.Sprintf(`Resolves the profile and renders it with the --target backend (%s).

With --host NAME the ruleset of that host goes to standard output, or to the
file given with -o. With --all-hosts every host's ruleset is written to
--out-dir as <host>.<ext> (%s). Targets for gateways render
the network view (every rule between every endpoint) without --host, and
write one file with --all-hosts; the json target without --host prints the
network view too.

With --all-hosts, --target takes a comma-separated list of targets, or
all: each writes into DIR/<target>/, the targets rendered side by side and
the hosts of each on all cores.

Files are written only when everything succeeded: each goes to a temporary
file first and is renamed into place.

With --target fortigate and --running CONFIG (the FortiGate's configuration:
a backup, or the output of show; - reads standard input), it prints only the
CLI that brings portwall's objects on the FortiGate to the profile: what is
missing is created, what differs is updated in place, portwall's objects the
profile no longer has are deleted, and portwall's policies are moved together
to [fortigate] place. Nothing not named pw-... is touched.

Exit status: 0 written, 1 an error or a refusal (nothing is written).

Examples:
   portwall generate examples/fortimail-ha.toml --target nftables --host fml1
   portwall generate examples/site.toml --target nftables --all-hosts --out-dir out/
   portwall generate examples/site.toml --target all --all-hosts --out-dir out/
   portwall generate examples/site.toml --target fortigate --running fgt.conf`,
			strings.Join(targets.Names(), ", "), hostExts()),
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "target", Aliases: []string{"t"}, Value: "nftables", Usage: "backend: " + strings.Join(targets.Names(), ", ") + "; with --all-hosts also a comma-separated list, or all (into DIR/<target>/)"},
			&cli.StringFlag{Name: "host", Usage: "render host `NAME`"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `FILE` instead of standard output"},
			&cli.BoolFlag{Name: "all-hosts", Usage: "render every host of the profile"},
			&cli.StringFlag{Name: "out-dir", Usage: "with --all-hosts: write each host's file into the directory `DIR`"},
			&cli.BoolFlag{Name: "prune", Usage: "with --out-dir: remove the files an earlier run wrote there for hosts or targets the profile no longer has"},
			layoutFlag(),
			runningFlag(),
		},
		Action: e.generate,
	}
}

// hostExts describes the file each host target writes.
func hostExts() string {
	var out []string
	for _, g := range targets.All() {
		if c := g.Caps(); c.HostView {
			out = append(out, g.Name()+": "+c.Ext)
		}
	}
	return strings.Join(out, ", ")
}

func (e *env) generate(c *cli.Context) error {
	gs, err := targetList(c.String("target"))
	if err != nil {
		return err
	}
	if c.Bool("prune") && c.String("out-dir") == "" {
		return errors.New("--prune goes with --out-dir")
	}
	if c.String("running") != "" {
		return e.generateRunning(c, gs)
	}
	host, all := c.String("host"), c.Bool("all-hosts")
	if len(gs) > 1 {
		if !all {
			return errors.New("several targets write into one directory each: use --all-hosts --out-dir DIR")
		}
		return e.generateMany(c, gs)
	}
	g := gs[0]
	switch {
	case host != "" && all:
		return errors.New("--host and --all-hosts exclude each other")
	case all && c.String("output") != "":
		return errors.New("--all-hosts writes one file per host: use --out-dir, not -o")
	case all && c.String("out-dir") == "":
		return errors.New("--all-hosts needs --out-dir DIR")
	case !all && c.String("out-dir") != "":
		return errors.New("--out-dir goes with --all-hosts")
	}
	r, err := e.resolve(c)
	if err != nil {
		return err
	}
	e.warnExpired(r)
	rs := r.rs
	req := generators.Request{Ruleset: rs, Settings: r.settings}
	switch {
	case all:
		// A network backend renders everything into one file.
		req = generators.AllHosts(g, rs, r.settings)
		if g.Caps().HostView && len(req.Hosts) == 0 {
			return errors.New("the profile has no hosts")
		}
	case host != "":
		if _, ok := rs.Host(host); !ok {
			return unknownHost(rs, host)
		}
		req.Hosts = []string{host}
	}
	files, err := generators.Generate(g, req)
	if err != nil {
		return locate(r, err)
	}
	if all {
		if err := writeFiles(c.String("out-dir"), files); err != nil {
			return err
		}
		return e.stale(c, files, func(name string) bool { return filepath.Dir(name) == "." && strings.HasSuffix(name, g.Caps().Ext) })
	}
	if len(files) != 1 {
		return fmt.Errorf("internal error: target %s returned %d files for one output", g.Name(), len(files))
	}
	if out := c.String("output"); out != "" {
		return writeFiles(filepath.Dir(out), []generators.File{{Name: filepath.Base(out), Contents: files[0].Contents}})
	}
	_, err = e.stdout.Write(files[0].Contents)
	return err
}

// generateMany renders every host with several targets, into
// DIR/<target>/, the targets side by side on all cores. Nothing is
// written unless every target succeeded.
func (e *env) generateMany(c *cli.Context, gs []generators.Generator) error {
	r, err := e.resolve(c)
	if err != nil {
		return err
	}
	e.warnExpired(r)
	if len(r.rs.Hosts) == 0 {
		return errors.New("the profile has no hosts")
	}
	// --target all writes each host only its declared targets, when the
	// profile declares any; a list of targets writes them for every host.
	reqs := make([]generators.Request, len(gs))
	for i, g := range gs {
		reqs[i] = generators.AllHosts(g, r.rs, r.settings)
	}
	if all := slices.Contains(strings.Split(c.String("target"), ","), "all"); all && (r.declared.any || len(r.declared.network) > 0) {
		var dgs []generators.Generator
		var dreqs []generators.Request
		for i, g := range gs {
			req := reqs[i]
			if g.Caps().HostView {
				req.Hosts = nil
				for _, h := range r.rs.HostNames() {
					if slices.Contains(r.declared.hosts[h], g) {
						req.Hosts = append(req.Hosts, h)
					}
				}
				if len(req.Hosts) == 0 {
					continue
				}
			} else if !slices.Contains(r.declared.network, g) {
				continue
			}
			dgs, dreqs = append(dgs, g), append(dreqs, req)
		}
		gs, reqs = dgs, dreqs
	}
	out, err := generators.GenerateEach(gs, reqs)
	if err != nil {
		return locate(r, err)
	}
	var files []generators.File
	for i, g := range gs {
		for _, f := range out[i] {
			files = append(files, generators.File{Name: g.Name() + "/" + f.Name, Contents: f.Contents})
		}
	}
	if err := writeFiles(c.String("out-dir"), files); err != nil {
		return err
	}
	// Every target's directory is in scope: a target the profile no
	// longer declares leaves its files behind too.
	return e.stale(c, files, func(name string) bool {
		t, ok := targets.Lookup(filepath.Dir(name))
		return ok && strings.HasSuffix(name, t.Caps().Ext)
	})
}

// target is where writeFiles puts one file: a regular file (new, or the
// one a symlink points to) is replaced atomically from a temporary file
// beside it; anything else that exists (/dev/null, a FIFO, a terminal) is
// special: written to as it is, never replaced, since renaming over
// /dev/null as root would put a plain file in its place.
type target struct {
	path, tmp string
	special   bool
	// same: the file already holds exactly these bytes (and portwall's
	// mode), and is left alone.
	same bool
}

// writeFiles writes every file into dir without ever leaving a partial
// file: each is written to a temporary file in dir, and only when all are
// written are they renamed into place. A file that already holds the same
// bytes is left as it is: regenerating a fleet's directory then writes
// only what changed, and no file is replaced by an identical one (on ext4,
// replacing a file by rename starts writing it back and frees the old
// one's blocks: thousands of them made a run several times slower than on
// tmpfs).
func writeFiles(dir string, files []generators.File) (err error) {
	if err := checkNames(files); err != nil {
		return err
	}
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		return writeNewDir(dir, files)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	targets := make([]target, len(files))
	defer func() {
		if err != nil {
			for _, t := range targets {
				if t.tmp != "" {
					os.Remove(t.tmp)
				}
			}
		}
	}()
	if err := makeSubdirs(dir, files); err != nil {
		return err
	}
	// Sequentially: written on all cores, a fleet's 12,000 files took
	// longer (the directory's lock), not less.
	for i, f := range files {
		if err := prepare(&targets[i], filepath.Join(dir, f.Name), f.Contents); err != nil {
			return err
		}
	}
	for i, t := range targets {
		if t.same {
			continue
		}
		if t.special {
			if err := writeSpecial(t.path, files[i].Contents); err != nil {
				return err
			}
			continue
		}
		if err := os.Rename(t.tmp, t.path); err != nil {
			return err
		}
		targets[i].tmp = ""
	}
	return nil
}

// checkNames refuses an output file name that is not a plain name, or one
// directory and a plain name (target/host).
func checkNames(files []generators.File) error {
	for _, f := range files {
		sub, base := filepath.Split(filepath.ToSlash(f.Name))
		sub = strings.TrimSuffix(sub, "/")
		if base == "" || base == "." || base == ".." || strings.Contains(sub, "/") || sub == "." || sub == ".." {
			return fmt.Errorf("internal error: output file name %q is not a plain name", f.Name)
		}
	}
	return nil
}

// makeSubdirs makes the directories the files' names hold, in dir.
func makeSubdirs(dir string, files []generators.File) error {
	dirs := map[string]bool{}
	for _, f := range files {
		if sub := filepath.Dir(filepath.FromSlash(f.Name)); sub != "." && !dirs[sub] {
			dirs[sub] = true
			if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeNewDir writes the files into dir, which does not exist yet: into
// a directory beside it, renamed to dir once every file is written (and
// removed if one is not). A file then costs one create, not a temporary
// file and a rename: on ext4 the rename of thousands of files made a
// fleet's first run several times slower than on tmpfs. Should dir appear
// meanwhile, the rename fails and nothing is replaced.
func writeNewDir(dir string, files []generators.File) (err error) {
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := mkdirBeside(parent, filepath.Base(dir))
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := makeSubdirs(tmp, files); err != nil {
		return err
	}
	for _, f := range files {
		if err := writeNew(filepath.Join(tmp, filepath.FromSlash(f.Name)), f.Contents); err != nil {
			return err
		}
	}
	return os.Rename(tmp, dir)
}

// writeNew creates path, which must not exist, with data and portwall's
// mode.
func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	// The mode of every file portwall writes, whatever the umask, as
	// prepare gives a replaced one.
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// mkdirBeside makes a new directory in parent, named after base, with the
// mode MkdirAll gives (0755 less the umask; os.MkdirTemp's is 0700).
func mkdirBeside(parent, base string) (string, error) {
	for try := 0; ; try++ {
		dir := filepath.Join(parent, fmt.Sprintf(".%s.tmp%08x", base, rand.Uint32()))
		err := os.Mkdir(dir, 0o755)
		if err == nil || !errors.Is(err, fs.ErrExist) || try == 100 {
			return dir, err
		}
	}
}

// prepare decides how path is written (see writeFiles) and, for a
// regular file, writes data to a temporary file beside it.
func prepare(t *target, path string, data []byte) error {
	t.path = path
	// Lstat first: resolving the path costs a system call per directory,
	// which a fleet's thousands of files only need for a link.
	fi, err := os.Lstat(t.path)
	if err == nil && fi.Mode()&os.ModeSymlink != 0 {
		if fi, err = os.Stat(t.path); err == nil {
			t.path, err = filepath.EvalSymlinks(t.path)
		}
	}
	switch {
	case err == nil && fi.IsDir():
		return fmt.Errorf("%s is a directory", t.path)
	case err == nil && !fi.Mode().IsRegular():
		t.special = true
		return nil
	case err == nil && fi.Size() == int64(len(data)) && fi.Mode().Perm() == 0o644 && sameContents(t.path, data):
		t.same = true
		return nil
	case err == nil:
		// A regular file, or the one a link points to: replaced.
	case !errors.Is(err, os.ErrNotExist):
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(t.path), "."+filepath.Base(t.path)+".tmp*")
	if err != nil {
		return err
	}
	t.tmp = tmp.Name()
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	return tmp.Close()
}

// sameContents reports whether the file at path holds exactly data (false
// when it cannot be read: it is replaced then). The caller has compared
// the sizes.
func sameContents(path string, data []byte) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var buf [64 << 10]byte
	for len(data) > 0 {
		n, err := f.Read(buf[:min(len(buf), len(data))])
		if n == 0 || !bytes.Equal(buf[:n], data[:n]) {
			return false
		}
		data = data[n:]
		if err != nil && len(data) > 0 {
			return false
		}
	}
	return true
}

// writeSpecial writes to a file that is not a regular one (a device, a
// FIFO) without creating or replacing anything.
func writeSpecial(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	return errors.Join(err, f.Close())
}

// targetList reads a --target value: a comma-separated list of target
// names, or all; each target once, in the order given.
func targetList(spec string) ([]generators.Generator, error) {
	var gs []generators.Generator
	seen := map[string]bool{}
	add := func(g generators.Generator) {
		if !seen[g.Name()] { // "all,nftables" names nftables twice
			seen[g.Name()] = true
			gs = append(gs, g)
		}
	}
	for _, name := range strings.Split(spec, ",") {
		if name == "all" {
			for _, g := range targets.All() {
				add(g)
			}
			continue
		}
		g, ok := targets.Lookup(name)
		if !ok {
			return nil, fmt.Errorf("unknown target %q%s (targets: %s, or all)", name,
				diag.DidYouMean(name, targets.Names()), strings.Join(targets.Names(), ", "))
		}
		add(g)
	}
	return gs, nil
}

// stale finds the files in --out-dir that an earlier run wrote
// (generators.Written: portwall's header) for hosts or targets the
// profile no longer has, among the files inScope (paths relative to the
// directory), and that this run did not write. It warns about each, or
// with --prune removes it. Nothing else in the directory is touched.
func (e *env) stale(c *cli.Context, written []generators.File, inScope func(name string) bool) error {
	dir := c.String("out-dir")
	wrote := map[string]bool{}
	for _, f := range written {
		wrote[filepath.Clean(f.Name)] = true
	}
	var old []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() {
			if path != dir && strings.Contains(rel, string(filepath.Separator)) {
				return fs.SkipDir // portwall writes one level of directories
			}
			return nil
		}
		if !d.Type().IsRegular() || wrote[rel] || !inScope(rel) {
			return nil
		}
		if ours, err := writtenByPortwall(path); err != nil {
			return err
		} else if ours {
			old = append(old, rel)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, rel := range old {
		path := filepath.Join(dir, rel)
		if !c.Bool("prune") {
			fmt.Fprintln(e.stderr, e.escape(fmt.Sprintf("portwall: warning: %s is from an earlier run, for a host or target the profile no longer has: remove it, or generate with --prune", path)))
			continue
		}
		if err := os.Remove(path); err != nil {
			return err
		}
		e.info("removed %s (from an earlier run; no longer in the profile)\n", path)
	}
	return nil
}

// writtenByPortwall reads the start of a file for portwall's marker.
func writtenByPortwall(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	head := make([]byte, generators.MarkerWithin)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return false, err
	}
	return generators.Written(head[:n]), nil
}
