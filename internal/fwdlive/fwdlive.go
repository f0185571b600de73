// Package fwdlive compares and changes a host's live firewalld
// configuration: what portwall diff and apply do with --target firewalld.
//
// What portwall owns there is what the firewalld backend writes (see
// generators/firewalld): the files named portwall*.xml in the zones,
// policies and services directories of firewalld's configuration
// directory, and the DefaultZone key of firewalld.conf. Nothing else is
// read for the comparison, written or removed.
//
// The live state has two parts:
//
//   - the permanent configuration: portwall's files on disk and
//     firewalld.conf's DefaultZone, compared by meaning with the desired
//     files (each file read into a canonical form, canon.go: comments,
//     layout, attribute order and the order of a zone's, policy's or
//     service's elements do not matter, since firewalld gives them none;
//     a file that firewall-cmd --permanent rewrote compares equal when it
//     means the same);
//   - the runtime: what the running daemon filters with, read over D-Bus
//     (dbus.go). A runtime-only change (firewall-cmd without --permanent)
//     or files changed without a reload make the runtime differ from the
//     permanent configuration; diff reports every difference of
//     portwall's objects and of the default zone, and apply reloads.
//
// Apply checks the whole staged configuration with firewall-offline-cmd
// before changing anything, renames each file into place, removes
// portwall's files that are no longer needed, reloads, and puts the
// previous files back if the reload fails: the steps of the backend's load
// script, done here so that each step's result is known and a rollback
// can put back exactly what was there (Snapshot, Restore).
package fwdlive

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/portwall/portwall/generators/firewalld"
)

// DefaultDir is firewalld's configuration directory.
const DefaultDir = "/etc/firewalld"

// FallbackZone is the default zone when firewalld.conf names none.
const FallbackZone = "public"

// Config says where firewalld is: its configuration directory and the
// D-Bus system bus it listens on.
type Config struct {
	// Dir is the configuration directory (firewalld --system-config);
	// "" is DefaultDir.
	Dir string
	// Bus is the D-Bus address of the system bus; "" is
	// DBUS_SYSTEM_BUS_ADDRESS, or the system bus's standard socket.
	Bus string
}

// Resolved returns c with its defaults filled in, so that a rollback
// timer started later reaches the same firewalld whatever its
// environment.
func (c Config) Resolved() Config {
	if c.Dir == "" {
		c.Dir = DefaultDir
	}
	if abs, err := filepath.Abs(c.Dir); err == nil {
		c.Dir = abs
	}
	if c.Bus == "" {
		c.Bus = os.Getenv("DBUS_SYSTEM_BUS_ADDRESS")
	}
	if c.Bus == "" {
		c.Bus = "unix:path=/run/dbus/system_bus_socket"
	}
	return c
}

// File is one of portwall's files as found on disk.
type File struct {
	Data []byte      `json:"data"`
	Mode fs.FileMode `json:"mode"`
	UID  int         `json:"uid"`
	GID  int         `json:"gid"`
}

// Owned reports whether name (KIND/FILE) is one of portwall's files: a
// file named portwall*.xml in one of the directories it writes. The
// pattern is the load script's.
func Owned(name string) bool {
	dir, file := path.Split(name)
	ok, _ := path.Match("portwall*.xml", file)
	return ok && slices.Contains(firewalld.Kinds, strings.TrimSuffix(dir, "/"))
}

// readOwned reads portwall's files in dir.
func readOwned(dir string) (map[string]File, error) {
	out := map[string]File{}
	for _, kind := range firewalld.Kinds {
		entries, err := os.ReadDir(filepath.Join(dir, kind))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			name := kind + "/" + e.Name()
			if !Owned(name) {
				continue
			}
			p := filepath.Join(dir, kind, e.Name())
			st, err := os.Lstat(p)
			if err != nil {
				return nil, err
			}
			if !st.Mode().IsRegular() {
				return nil, fmt.Errorf("%s is not a regular file: portwall's files are", p)
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return nil, err
			}
			f := File{Data: data, Mode: st.Mode().Perm()}
			if sys, ok := st.Sys().(*syscall.Stat_t); ok {
				f.UID, f.GID = int(sys.Uid), int(sys.Gid)
			}
			out[name] = f
		}
	}
	return out, nil
}

// confFile is firewalld.conf's name in the configuration directory.
const confFile = "firewalld.conf"

// readConf reads dir's firewalld.conf; nil when there is none.
func readConf(dir string) (*File, error) {
	p := filepath.Join(dir, confFile)
	st, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	f := &File{Data: data, Mode: st.Mode().Perm(), UID: -1}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		f.UID, f.GID = int(sys.Uid), int(sys.Gid)
	}
	return f, nil
}

// defaultZoneOf returns the DefaultZone of firewalld.conf's contents (""
// when unset), and the index of its line (-1), as firewalld reads it: the
// last KEY=VALUE line with that key wins.
func defaultZoneOf(data []byte) (string, int) {
	zone, at := "", -1
	for i, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if k, v, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(l, "#") && strings.TrimSpace(k) == "DefaultZone" {
			zone, at = strings.TrimSpace(v), i
		}
	}
	return zone, at
}

// withDefaultZone returns firewalld.conf's contents with DefaultZone set
// to zone: its line replaced, or one added; every other line, comment
// and byte stays. This is all portwall writes into firewalld.conf.
func withDefaultZone(data []byte, zone string) []byte {
	_, at := defaultZoneOf(data)
	lines := strings.Split(string(data), "\n")
	if at >= 0 {
		lines[at] = "DefaultZone=" + zone
		return []byte(strings.Join(lines, "\n"))
	}
	s := string(data)
	if s != "" && !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return []byte(s + "DefaultZone=" + zone + "\n")
}

// Live is the live state of portwall's part of firewalld.
type Live struct {
	Config Config
	// Files are portwall's files on disk.
	Files map[string]File
	// Conf is firewalld.conf (nil when missing), and DefaultZone its
	// DefaultZone ("" when unset).
	Conf        *File
	DefaultZone string
	// State is the daemon's: RUNNING, FAILED (it fell back to its stock
	// configuration), or "" when firewalld is not running.
	State string
	// RuntimeDefaultZone is the running daemon's default zone.
	RuntimeDefaultZone string
	// Runtime lists how the running configuration of portwall's objects
	// differs from the permanent one, one line each; empty when they
	// agree or firewalld is not running.
	Runtime []string
}

// Running reports whether firewalld runs.
func (l *Live) Running() bool { return l.State != "" }

// EffectiveDefaultZone is the default zone firewalld uses (or will use
// when it starts).
func (l *Live) EffectiveDefaultZone() string {
	switch {
	case l.RuntimeDefaultZone != "":
		return l.RuntimeDefaultZone
	case l.DefaultZone != "":
		return l.DefaultZone
	}
	return FallbackZone
}

// Fingerprint identifies the live state: any change to portwall's files
// (bytes, modes, owners), to the default zone or to the runtime's
// differences changes it. A saved plan carries it.
func (l *Live) Fingerprint() string {
	h := sha256.New()
	names := make([]string, 0, len(l.Files))
	for n := range l.Files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		f := l.Files[n]
		fmt.Fprintf(h, "file %q %o %d %d %d\n", n, f.Mode, f.UID, f.GID, len(f.Data))
		h.Write(f.Data)
	}
	if l.Conf != nil {
		fmt.Fprintf(h, "conf %o %d %d %d\n", l.Conf.Mode, l.Conf.UID, l.Conf.GID, len(l.Conf.Data))
		h.Write(l.Conf.Data)
	}
	fmt.Fprintf(h, "default %q runtime-default %q state %q\n", l.DefaultZone, l.RuntimeDefaultZone, l.State)
	for _, r := range l.Runtime {
		fmt.Fprintf(h, "runtime %q\n", r)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}
