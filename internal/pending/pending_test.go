package pending

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portwall/portwall/internal/live"
)

func store(t *testing.T, name string) *Store {
	t.Helper()
	t.Setenv(StateEnv, t.TempDir())
	f, err := os.Create(filepath.Join(t.TempDir(), name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := Open(f)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func txn() *Txn {
	now := time.Now()
	return &Txn{ID: NewID(), Host: "h1", Started: now, Deadline: now.Add(time.Minute), Summary: "1 to add"}
}

// TestOneTransactionAtATime: a second Begin is refused while one waits;
// confirming needs its ID (when given) and happens once; the outcome
// stays for the next caller to read.
func TestOneTransactionAtATime(t *testing.T) {
	s := store(t, "ns")
	a := txn()
	release, err := s.Begin(a, &live.Snapshot{Absent: true}, func() (int, error) { return 1, nil })
	if err != nil {
		t.Fatal(err)
	}
	release()
	if p, _ := s.Pending(); p == nil || p.ID != a.ID || p.Timer != 1 {
		t.Fatalf("pending: %+v", p)
	}
	_, err = s.Begin(txn(), &live.Snapshot{Absent: true}, func() (int, error) { t.Fatal("started a second timer"); return 0, nil })
	if !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), "its rollback timer is gone") {
		t.Errorf("second Begin: %v", err)
	}
	if _, err := s.Confirm("0000000000000000"); !errors.Is(err, ErrNothingPending) {
		t.Errorf("confirm with another ID: %v", err)
	}
	o, err := s.Confirm(a.ID)
	if err != nil || o.Result != Confirmed || o.Txn.ID != a.ID {
		t.Fatalf("confirm: %+v, %v", o, err)
	}
	if _, err := s.Confirm(""); !errors.Is(err, ErrNothingPending) {
		t.Errorf("confirmed twice: %v", err)
	}
	if last, _ := s.Last(); last == nil || last.ID != a.ID || last.Result != Confirmed {
		t.Errorf("last outcome: %+v", last)
	}
	for _, f := range []string{"pending.json", "snapshot.json"} {
		if _, err := os.Stat(filepath.Join(s.Dir, f)); !os.IsNotExist(err) {
			t.Errorf("%s left behind", f)
		}
	}
}

// TestTimerThatDoesNotStart: nothing stays pending.
func TestTimerThatDoesNotStart(t *testing.T) {
	s := store(t, "ns")
	if _, err := s.Begin(txn(), &live.Snapshot{Absent: true}, func() (int, error) { return 0, errors.New("no") }); err == nil {
		t.Fatal("Begin succeeded without a timer")
	}
	if p, _ := s.Pending(); p != nil {
		t.Errorf("pending without a timer: %+v", p)
	}
}

// TestNothingPendingMakesNothing: confirm in a namespace that never had an
// apply leaves no state directory behind.
func TestNothingPendingMakesNothing(t *testing.T) {
	s := store(t, "ns")
	if _, err := s.Confirm(""); !errors.Is(err, ErrNothingPending) {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Dir); !os.IsNotExist(err) {
		t.Errorf("confirm made %s", s.Dir)
	}
}

// TestNamespacesApart: two namespaces (here two files) never share a
// state directory; two names of one share it.
func TestNamespacesApart(t *testing.T) {
	dir := t.TempDir()
	a, _ := os.Create(filepath.Join(dir, "a"))
	b, _ := os.Create(filepath.Join(dir, "b"))
	defer a.Close()
	defer b.Close()
	if err := os.Link(filepath.Join(dir, "a"), filepath.Join(dir, "a2")); err != nil {
		t.Fatal(err)
	}
	a2, _ := os.Open(filepath.Join(dir, "a2"))
	defer a2.Close()
	ida, _ := NamespaceID(a)
	idb, _ := NamespaceID(b)
	ida2, _ := NamespaceID(a2)
	if ida == idb || ida != ida2 {
		t.Errorf("a %s, b %s, a's other name %s", ida, idb, ida2)
	}
}

// TestHeldUntilTheChangeIsMade: while Begin's lock is held (the change
// is being made), confirm, rollback and the timer wait; they settle the
// transaction once it is released, and not before.
func TestHeldUntilTheChangeIsMade(t *testing.T) {
	s := store(t, "ns")
	a := txn()
	a.Deadline = a.Started // already due: the timer would act at once
	release, err := s.Begin(a, &live.Snapshot{Absent: true}, func() (int, error) { return 1, nil })
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan *Outcome)
	go func() {
		o, err := s.Confirm(a.ID)
		if err != nil {
			t.Error(err)
		}
		done <- o
	}()
	select {
	case o := <-done:
		t.Fatalf("confirmed while the change was being made: %+v", o)
	case <-time.After(300 * time.Millisecond):
	}
	if p, _ := s.Pending(); p == nil || p.ID != a.ID {
		t.Fatalf("pending while held: %+v", p)
	}
	release()
	if o := <-done; o == nil || o.Result != Confirmed {
		t.Errorf("after release: %+v", o)
	}
	// A Begin refused because one waits leaves the lock free.
	b := txn()
	release, err = s.Begin(b, &live.Snapshot{Absent: true}, func() (int, error) { return 1, nil })
	if err != nil {
		t.Fatal(err)
	}
	release()
	if _, err := s.Begin(txn(), &live.Snapshot{Absent: true}, func() (int, error) { return 1, nil }); !errors.Is(err, ErrBusy) {
		t.Fatalf("second Begin: %v", err)
	}
	if o, err := s.Confirm(b.ID); err != nil || o.Result != Confirmed {
		t.Errorf("confirm after a refused Begin: %+v, %v", o, err)
	}
}
