package fwdlive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/portwall/portwall/generators/firewalld"
)

// ErrChanged is returned when portwall's files, the default zone or the
// runtime changed between reading them and writing: nothing was applied.
var ErrChanged = errors.New("firewalld's configuration changed since it was read (another process wrote to it); nothing was applied")

// ToolTimeout bounds firewall-offline-cmd.
const ToolTimeout = CallTimeout

func isDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("firewalld's configuration directory: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("firewalld's configuration directory %s is not a directory", dir)
	}
	return nil
}

// offline runs firewall-offline-cmd on the configuration in dir; any
// output is an error, since firewalld leaves out what it warns about.
func offline(ctx context.Context, dir string, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, ToolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "firewall-offline-cmd", append([]string{"--system-config", dir}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		msg := strings.TrimSpace(string(out))
		if err != nil && msg == "" {
			msg = err.Error()
		}
		return fmt.Errorf("firewall-offline-cmd %s: %s", strings.Join(args, " "), msg)
	}
	return nil
}

// Check stages the configuration apply would make (a copy of c.Dir with
// portwall's files replaced by desired) and checks all of it with
// firewall-offline-cmd --check-config. It changes nothing.
func Check(ctx context.Context, c Config, desired map[string][]byte) error {
	c = c.Resolved()
	stage, err := os.MkdirTemp("", "portwall-firewalld-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)
	if err := copyTree(c.Dir, stage); err != nil {
		return fmt.Errorf("staging the configuration: %w", err)
	}
	files := map[string]File{}
	for n, data := range desired {
		files[n] = File{Data: data, Mode: 0o644, UID: -1, GID: -1}
	}
	if err := install(stage, files); err != nil {
		return fmt.Errorf("staging the configuration: %w", err)
	}
	conf, err := readConf(stage)
	if err != nil {
		return err
	}
	if conf, err = newConf(conf); err != nil {
		return err
	} else if conf != nil {
		conf.UID = -1
		if err := writeFile(filepath.Join(stage, confFile), *conf); err != nil {
			return fmt.Errorf("staging the configuration: %w", err)
		}
	}
	if err := offline(ctx, stage, "--check-config"); err != nil {
		return fmt.Errorf("the configuration with portwall's new files does not pass firewall-offline-cmd --check-config, so nothing was changed: %w", err)
	}
	return nil
}

// copyTree copies the directories, regular files and symbolic links of
// src into dst.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil || rel == "." {
			return err
		}
		to := filepath.Join(dst, rel)
		switch {
		case e.IsDir():
			return os.Mkdir(to, 0o755)
		case e.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, to)
		case e.Type().IsRegular():
			in, err := os.Open(p)
			if err != nil {
				return err
			}
			defer in.Close()
			out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
			if err != nil {
				return err
			}
			if _, err := io.Copy(out, in); err != nil {
				out.Close()
				return err
			}
			return out.Close()
		}
		return nil
	})
}

// install makes portwall's files in dir exactly files: each written to a
// temporary file in its directory (which gives it the directory's SELinux
// context) and renamed into place, then portwall's files that files does
// not have removed. A UID of -1 keeps the writer's owner.
func install(dir string, files map[string]File) error {
	for _, n := range sortedFiles(slices.Collect(maps.Keys(files))) {
		if !Owned(n) {
			return fmt.Errorf("internal error: %s is not a file of portwall's", n)
		}
		if err := writeFile(filepath.Join(dir, filepath.FromSlash(n)), files[n]); err != nil {
			return err
		}
	}
	present, err := readOwned(dir)
	if err != nil {
		return err
	}
	for n := range present {
		if _, ok := files[n]; !ok {
			if err := os.Remove(filepath.Join(dir, filepath.FromSlash(n))); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeFile replaces path with f atomically. The temporary file's name
// does not end in .xml, so firewalld never reads it.
func writeFile(path string, f File) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".portwall-new-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(f.Data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(f.Mode); err != nil {
		tmp.Close()
		return err
	}
	if f.UID >= 0 {
		if err := tmp.Chown(f.UID, f.GID); err != nil {
			tmp.Close()
			return err
		}
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Snapshot is what a rollback puts back: portwall's files and
// firewalld.conf as they were.
type Snapshot struct {
	Config Config          `json:"config"`
	Files  map[string]File `json:"files"`
	// Conf is firewalld.conf (nil: there was none).
	Conf *File `json:"conf"`
}

// Snapshot returns what Restore needs to put l back.
func (l *Live) Snapshot() *Snapshot {
	return &Snapshot{Config: l.Config, Files: maps.Clone(l.Files), Conf: l.Conf}
}

// newConf is firewalld.conf with zone portwall as the default zone, or
// nil when it is already.
func newConf(conf *File) (*File, error) {
	if conf == nil {
		return &File{Data: withDefaultZone(nil, firewalld.Zone), Mode: 0o644, UID: -1}, nil
	}
	if z, _ := defaultZoneOf(conf.Data); z == firewalld.Zone {
		return nil, nil
	}
	c := *conf
	c.Data = withDefaultZone(conf.Data, firewalld.Zone)
	return &c, nil
}

// Apply installs desired (KIND/NAME.xml to contents) as portwall's files
// and loads them; before is the state the change was computed from:
//
//  1. the staged configuration (portwall's new files, zone portwall as
//     the default zone) must pass firewall-offline-cmd --check-config
//     (Check), and the live state must still be before's (ErrChanged
//     otherwise); nothing has changed yet;
//  2. each file is renamed into place, portwall's other files removed,
//     and firewalld.conf's DefaultZone line set to portwall (the one
//     line of it portwall writes; done by portwall rather than by
//     firewalld's setDefaultZone, which rewrites the file's mode and
//     leaves firewalld.conf.old behind);
//  3. firewalld reloads (when it runs), which starts afresh with zone
//     portwall as the default zone, as every later load does. If the
//     reload fails, the previous files and firewalld.conf are put back
//     and firewalld reloads again: the error says what happened, and
//     nothing of the change is left. When firewalld is not running, the
//     files apply when it starts.
func Apply(ctx context.Context, before *Live, desired map[string][]byte) error {
	c := before.Config
	conf, err := newConf(before.Conf)
	if err != nil {
		return err
	}
	if err := Check(ctx, c, desired); err != nil {
		return err
	}
	now, err := Read(ctx, c)
	if err != nil {
		return err
	}
	if now.Fingerprint() != before.Fingerprint() {
		return ErrChanged
	}
	files := map[string]File{}
	for n, data := range desired {
		files[n] = File{Data: data, Mode: 0o644, UID: -1}
	}
	d, err := connect(ctx, c.Bus)
	if err != nil {
		return err
	}
	if d != nil {
		defer d.close()
	}
	undo := func() string { return putBack(c.Dir, before.Files, before.Conf) }
	if err := install(c.Dir, files); err != nil {
		return fmt.Errorf("writing portwall's files: %w (%s)", err, undo())
	}
	if conf != nil {
		if err := writeFile(filepath.Join(c.Dir, confFile), *conf); err != nil {
			return fmt.Errorf("setting DefaultZone in %s: %w (%s)", confFile, err, undo())
		}
	}
	if d == nil {
		return nil
	}
	if err := d.reload(ctx); err != nil {
		msg := undo()
		if rerr := d.reload(ctx); rerr != nil {
			msg += fmt.Sprintf(", but reloading them failed too: %v", rerr)
		} else {
			msg += " and loaded"
		}
		return fmt.Errorf("firewalld did not load the new configuration: %w; %s. Nothing was applied", err, msg)
	}
	return nil
}

// putBack writes portwall's previous files and firewalld.conf back after
// a failed change, and says how that went.
func putBack(dir string, files map[string]File, conf *File) string {
	err := install(dir, files)
	if err == nil {
		err = restoreConf(dir, conf)
	}
	if err != nil {
		return fmt.Sprintf("putting portwall's previous files back failed too: %v", err)
	}
	return "portwall's previous files are back"
}

// restoreConf puts firewalld.conf's DefaultZone back as it was in conf:
// the whole file, byte for byte, when only its DefaultZone line differs
// from conf's (so that nothing another tool changed since is lost), else
// that line alone.
func restoreConf(dir string, conf *File) error {
	cur, err := readConf(dir)
	if err != nil || cur == nil {
		return err
	}
	var was []byte
	if conf != nil {
		was = conf.Data
	}
	wasZone, _ := defaultZoneOf(was)
	if z, _ := defaultZoneOf(cur.Data); z == wasZone {
		return nil
	}
	p := filepath.Join(dir, confFile)
	switch {
	case conf == nil && bytes.Equal(cur.Data, withDefaultZone(nil, firewalld.Zone)):
		// portwall made the file: there was none.
		return os.Remove(p)
	case conf != nil && bytes.Equal(withDefaultZone(conf.Data, firewalld.Zone), cur.Data):
		return writeFile(p, *conf)
	}
	if wasZone == "" {
		wasZone = FallbackZone
	}
	f := *cur
	f.Data = withDefaultZone(cur.Data, wasZone)
	return writeFile(p, f)
}

// Restore puts the snapshot back: exactly portwall's previous files
// (their bytes, modes and owners; files added since are removed) and
// firewalld.conf's DefaultZone (restoreConf), then reloads firewalld.
// Other files are not touched.
func Restore(ctx context.Context, s *Snapshot) error {
	c := s.Config.Resolved()
	if err := install(c.Dir, s.Files); err != nil {
		return fmt.Errorf("putting portwall's previous files back: %w", err)
	}
	if err := restoreConf(c.Dir, s.Conf); err != nil {
		return fmt.Errorf("putting DefaultZone back in %s: %w", confFile, err)
	}
	d, err := connect(ctx, c.Bus)
	if err != nil || d == nil {
		return err
	}
	defer d.close()
	if err := d.reload(ctx); err != nil {
		return fmt.Errorf("portwall's previous files are back, but firewalld did not reload them: %w", err)
	}
	return nil
}
