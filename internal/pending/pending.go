// Package pending keeps the changes apply made and that wait for
// confirmation: one at most per network namespace, each with a snapshot
// of the table it replaced and a rollback timer that is its own process.
//
// The timer must outlive whatever started the apply: an SSH session that
// the new rules cut (its processes get SIGHUP), a shell's Ctrl-C, or
// Ansible's async_wrapper, which SIGKILLs the job's whole process group
// when its time is up. So the timer is a separate process in a session
// of its own (setsid): no hangup, no signal to the caller's process
// group, reaches it. It holds the namespace open, and at the deadline it
// puts the snapshot back unless the transaction was confirmed. Confirming
// (portwall confirm, or "yes" typed to apply) and rolling back take the
// same lock, so exactly one of them happens.
//
// State lives under /run/portwall (PORTWALL_STATE_DIR), in a directory
// per namespace named after the namespace's inode: two names of one
// namespace share it, two namespaces never do.
package pending

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/portwall/portwall/internal/live"
)

// StateEnv names the variable that moves the state directory (tests).
const StateEnv = "PORTWALL_STATE_DIR"

// DefaultRoot is where the state of pending applies lives: a tmpfs,
// emptied at boot, as the rules themselves are.
const DefaultRoot = "/run/portwall"

// Root is the state directory.
func Root() string {
	if d := os.Getenv(StateEnv); d != "" {
		return d
	}
	return DefaultRoot
}

// Txn is an apply waiting for confirmation.
type Txn struct {
	ID       string    `json:"id"`
	Host     string    `json:"host"`
	Profile  string    `json:"profile"`
	NetNS    string    `json:"netns,omitempty"` // as the user named it
	Started  time.Time `json:"started"`
	Deadline time.Time `json:"deadline"`
	Summary  string    `json:"summary"`
	// Target is what the apply changed: "" for nftables (table inet
	// portwall), TargetFirewalld for firewalld's configuration. The
	// snapshot is that target's, and so is the rollback.
	Target string `json:"target,omitempty"`
	// Timer is the process id of the rollback timer.
	Timer int `json:"timer_pid,omitempty"`
}

// Outcome is how the last transaction of a namespace ended.
type Outcome struct {
	ID     string    `json:"id"`
	Result Result    `json:"result"`
	At     time.Time `json:"at"`
	Detail string    `json:"detail,omitempty"`
	Txn    Txn       `json:"txn"`
}

// Result is what became of a transaction.
type Result string

const (
	Confirmed      Result = "confirmed"
	RolledBack     Result = "rolled-back"
	RollbackFailed Result = "rollback-failed"
	// Cancelled: the apply itself failed; nothing had changed.
	Cancelled Result = "cancelled"
)

var (
	// ErrNothingPending: no apply waits for confirmation (in this
	// namespace, or with this ID).
	ErrNothingPending = errors.New("nothing pending")
	// ErrBusy: another apply waits for confirmation in the namespace.
	ErrBusy = errors.New("another apply is waiting for confirmation")
)

// Store is the state of one namespace.
type Store struct {
	Dir string
}

// Open returns the store of the namespace open as ns (a file of
// /var/run/netns or /proc/*/ns/net). Its directory is made by the first
// apply that waits for confirmation.
func Open(ns *os.File) (*Store, error) {
	id, err := NamespaceID(ns)
	if err != nil {
		return nil, err
	}
	return &Store{Dir: filepath.Join(Root(), id)}, nil
}

// NamespaceID names the namespace open as ns for as long as it exists:
// its device and inode (what `ip netns identify` compares).
func NamespaceID(ns *os.File) (string, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(ns.Fd()), &st); err != nil {
		return "", fmt.Errorf("network namespace: %w", err)
	}
	return fmt.Sprintf("netns-%d-%d", st.Dev, st.Ino), nil
}

func (s *Store) path(name string) string { return filepath.Join(s.Dir, name) }

// lock takes the namespace's lock (flock, released when the process
// dies) and returns its release.
func (s *Store) lock() (func(), error) {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	f, err := os.OpenFile(s.path("lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", s.Dir, err)
	}
	return func() { f.Close() }, nil
}

// Pending returns the transaction waiting in the namespace, or nil.
func (s *Store) Pending() (*Txn, error) {
	var t Txn
	if err := readJSON(s.path("pending.json"), &t); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	return &t, nil
}

// Last returns how the namespace's last transaction ended, or nil.
func (s *Store) Last() (*Outcome, error) {
	var o Outcome
	if err := readJSON(s.path("outcome.json"), &o); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	return &o, nil
}

// TimerAlive reports whether the transaction's rollback timer still runs.
func (t *Txn) TimerAlive() bool {
	if t.Timer <= 0 {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", t.Timer))
	return err == nil && strings.Contains(string(cmdline), t.ID)
}

// Busy describes a transaction that stops another apply.
func (t *Txn) Busy() error {
	if t.TimerAlive() {
		return fmt.Errorf("%w in this namespace (host %s, transaction %s, until %s): confirm it with portwall confirm, roll it back with portwall rollback, or wait",
			ErrBusy, t.Host, t.ID, t.Deadline.Format(time.TimeOnly))
	}
	return fmt.Errorf("%w in this namespace, and its rollback timer is gone (host %s, transaction %s, due %s): keep its rules with portwall confirm, or put the previous table back with portwall rollback",
		ErrBusy, t.Host, t.ID, t.Deadline.Format(time.TimeOnly))
}

// NewID returns a transaction ID.
func NewID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Begin records t with the snapshot of what it replaces (a
// *live.Snapshot, or for t.Target firewalld a *fwdlive.Snapshot), and
// starts its rollback timer with start (which must run Guard in a process
// of its own and report readiness). It refuses when another transaction
// waits.
//
// It returns holding the namespace's lock, for the change itself: until
// the caller releases it, neither the timer nor confirm or rollback from
// another login can act, so that a rollback never runs in the middle of
// the change and is then undone by it (firewalld's check and reload take
// seconds on a busy machine, longer than a short --confirm-timeout). The
// caller must release the lock before it calls Cancel.
func (s *Store) Begin(t *Txn, snap any, start func() (pid int, err error)) (release func(), err error) {
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			unlock()
		}
	}()
	p, err := s.Pending()
	if err != nil {
		return nil, err
	} else if p != nil {
		return nil, p.Busy()
	}
	if err = writeJSON(s.path("snapshot.json"), snap); err != nil {
		return nil, err
	}
	if err = writeJSON(s.path("pending.json"), t); err != nil {
		return nil, err
	}
	pid, err := start()
	if err != nil {
		os.Remove(s.path("pending.json"))
		os.Remove(s.path("snapshot.json"))
		return nil, fmt.Errorf("starting the rollback timer: %w", err)
	}
	t.Timer = pid
	if err = writeJSON(s.path("pending.json"), t); err != nil {
		return nil, err
	}
	return unlock, nil
}

// end finishes the pending transaction id ("" any) with result, under
// the lock: act runs first (the rollback) and may refuse.
func (s *Store) end(id string, result Result, detail string, act func(*Txn) (string, error)) (*Outcome, error) {
	if t, err := s.Pending(); err != nil {
		return nil, err
	} else if t == nil {
		// Without taking the lock, which would make the directory.
		return nil, ErrNothingPending
	}
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	t, err := s.Pending()
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, ErrNothingPending
	}
	if id != "" && t.ID != id {
		return nil, fmt.Errorf("%w with ID %s (transaction %s is)", ErrNothingPending, id, t.ID)
	}
	o := &Outcome{ID: t.ID, Result: result, Detail: detail, Txn: *t}
	if act != nil {
		if o.Detail, err = act(t); err != nil {
			o.Result, o.Detail = RollbackFailed, err.Error()
		}
	}
	o.At = time.Now()
	if werr := writeJSON(s.path("outcome.json"), o); werr != nil && err == nil {
		err = werr
	}
	if o.Result == RollbackFailed {
		// The unconfirmed rules are still live: keep the transaction and
		// its snapshot for portwall rollback (or confirm) to settle.
		return o, err
	}
	os.Remove(s.path("pending.json"))
	os.Remove(s.path("snapshot.json"))
	return o, err
}

// Confirm keeps the pending transaction's rules.
func (s *Store) Confirm(id string) (*Outcome, error) {
	return s.end(id, Confirmed, "", nil)
}

// Cancel forgets a transaction whose apply failed (nothing changed).
func (s *Store) Cancel(id, why string) {
	_, _ = s.end(id, Cancelled, why, nil)
}

// Rollback puts the table the pending transaction replaced back, in the
// namespace conn talks to, and records why. A firewalld transaction puts
// firewalld's files back instead (conn is not used, and may be nil).
func (s *Store) Rollback(id string, conn *live.Conn, why string) (*Outcome, error) {
	return s.end(id, RolledBack, why, func(t *Txn) (string, error) {
		if t.Target == TargetFirewalld {
			return s.rollbackFirewalld(why)
		}
		var snap live.Snapshot
		if err := readJSON(s.path("snapshot.json"), &snap); err != nil {
			return "", fmt.Errorf("reading the snapshot: %w", err)
		}
		// Another process may write to the ruleset between reading the
		// generation and restoring: try again a few times.
		var err error
		for try := 0; try < 5; try++ {
			var gen uint32
			if gen, err = conn.Generation(); err == nil {
				if err = conn.Restore(&snap, gen); err == nil {
					return why, nil
				}
			}
			if !errors.Is(err, live.ErrChanged) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		return "", fmt.Errorf("%s, and rolling back failed: %w", why, err)
	})
}

// Wait waits until the transaction id has an outcome, or until the
// deadline plus grace has passed (nil).
func (s *Store) Wait(id string, until time.Time, stop <-chan struct{}) *Outcome {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if o, _ := s.Last(); o != nil && o.ID == id {
			return o
		}
		if time.Now().After(until) {
			return nil
		}
		select {
		case <-tick.C:
		case <-stop:
			return nil
		}
	}
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// writeJSON replaces path atomically: a reader never sees half a file.
func writeJSON(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
