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

// Snapshot is what a rollback puts back: portwall's files as they were,
// and the default zone firewalld used.
type Snapshot struct {
	Config      Config          `json:"config"`
	Files       map[string]File `json:"files"`
	DefaultZone string          `json:"default_zone"`
}

// Snapshot returns what Restore needs to put l back.
func (l *Live) Snapshot() *Snapshot {
	return &Snapshot{Config: l.Config, Files: maps.Clone(l.Files), DefaultZone: l.EffectiveDefaultZone()}
}

// Apply installs desired (KIND/NAME.xml to contents) as portwall's files
// and loads them; before is the state the change was computed from:
//
//  1. the staged configuration must pass firewall-offline-cmd
//     --check-config (Check), and the live state must still be before's
//     (ErrChanged otherwise); nothing has changed yet;
//  2. each file is renamed into place, portwall's other files removed;
//  3. firewalld reloads (when it runs). If the reload fails, portwall's
//     previous files are put back and firewalld reloads again: the error
//     says what happened, and nothing of the change is left;
//  4. zone portwall becomes the default zone: once, on the first load,
//     with a second reload, so that every load ends in the same state.
//     When firewalld is not running, firewall-offline-cmd sets it and the
//     files apply when firewalld starts.
func Apply(ctx context.Context, before *Live, desired map[string][]byte) error {
	c := before.Config
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
	if d == nil {
		if err := install(c.Dir, files); err != nil {
			return fmt.Errorf("writing portwall's files: %w (%s)", err, putBack(c.Dir, before.Files))
		}
		if before.DefaultZone != firewalld.Zone {
			if err := offline(ctx, c.Dir, "--set-default-zone="+firewalld.Zone); err != nil {
				return fmt.Errorf("the files are written, but setting the default zone failed: %w", err)
			}
		}
		return nil
	}
	defer d.close()
	if err := install(c.Dir, files); err != nil {
		return fmt.Errorf("writing portwall's files: %w (%s)", err, putBack(c.Dir, before.Files))
	}
	if err := d.reload(ctx); err != nil {
		msg := putBack(c.Dir, before.Files)
		if rerr := d.reload(ctx); rerr != nil {
			msg += fmt.Sprintf(", but reloading them failed too: %v", rerr)
		} else {
			msg += " and loaded"
		}
		return fmt.Errorf("firewalld did not load the new configuration: %w; %s. Nothing was applied", err, msg)
	}
	z, err := d.defaultZone(ctx)
	if err != nil {
		return err
	}
	if z != firewalld.Zone {
		if err := d.setDefaultZone(ctx, firewalld.Zone); err != nil {
			return fmt.Errorf("the files are loaded, but making zone %s the default zone failed: %w", firewalld.Zone, err)
		}
		if err := d.reload(ctx); err != nil {
			return fmt.Errorf("the files are loaded and zone %s is the default zone, but the last reload failed: %w", firewalld.Zone, err)
		}
	}
	return nil
}

// putBack writes portwall's previous files back after a failed change,
// and says how that went.
func putBack(dir string, files map[string]File) string {
	if err := install(dir, files); err != nil {
		return fmt.Sprintf("putting portwall's previous files back failed too: %v", err)
	}
	return "portwall's previous files are back"
}

// Restore puts the snapshot back: the default zone (when it differs),
// then exactly portwall's previous files (their bytes, modes and owners;
// files added since are removed), then a reload. Other files are not
// touched.
func Restore(ctx context.Context, s *Snapshot) error {
	c := s.Config.Resolved()
	d, err := connect(ctx, c.Bus)
	if err != nil {
		return err
	}
	if d != nil {
		defer d.close()
		z, err := d.defaultZone(ctx)
		if err != nil {
			return err
		}
		if s.DefaultZone != "" && z != s.DefaultZone {
			if err := d.setDefaultZone(ctx, s.DefaultZone); err != nil {
				return fmt.Errorf("setting the default zone back to %s: %w", s.DefaultZone, err)
			}
		}
	} else {
		z, err := confDefaultZone(c.Dir)
		if err != nil {
			return err
		}
		if z == "" {
			z = FallbackZone
		}
		if s.DefaultZone != "" && z != s.DefaultZone {
			if err := offline(ctx, c.Dir, "--set-default-zone="+s.DefaultZone); err != nil {
				return fmt.Errorf("setting the default zone back to %s: %w", s.DefaultZone, err)
			}
		}
	}
	if err := install(c.Dir, s.Files); err != nil {
		return fmt.Errorf("putting portwall's previous files back: %w", err)
	}
	if d == nil {
		return nil
	}
	if err := d.reload(ctx); err != nil {
		return fmt.Errorf("portwall's previous files are back, but firewalld did not reload them: %w", err)
	}
	return nil
}
