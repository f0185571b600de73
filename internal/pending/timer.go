package pending

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/portwall/portwall/internal/live"
)

// TimerCommand is the hidden command that runs a rollback timer:
// `portwall rollback-timer --state DIR --id ID`, with the namespace as
// file descriptor 3 and a pipe to report readiness on as 4.
const TimerCommand = "rollback-timer"

// Timer file descriptors in the timer process.
const (
	TimerNSFD    = 3
	TimerReadyFD = 4
)

// StartTimer returns the start function of Begin: it runs exe (normally
// /proc/self/exe, the running binary even if its file was replaced) with
// args in a session of its own, the namespace ns as descriptor 3, its
// output appended to the store's timer.log, and waits until the timer
// reports that it runs.
func (s *Store) StartTimer(exe string, args []string, ns *os.File) func() (int, error) {
	return func() (int, error) {
		r, w, err := os.Pipe()
		if err != nil {
			return 0, err
		}
		defer r.Close()
		log, err := os.OpenFile(s.path("timer.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			w.Close()
			return 0, err
		}
		defer log.Close()
		cmd := &exec.Cmd{Path: exe, Args: args, Stdout: log, Stderr: log, ExtraFiles: []*os.File{ns, w},
			// Setsid: no hangup from the caller's terminal or SSH session,
			// no signal sent to the caller's process group, reaches it.
			SysProcAttr: &syscall.SysProcAttr{Setsid: true}}
		err = cmd.Start()
		w.Close()
		if err != nil {
			return 0, err
		}
		// Reap it if it ends while this process still runs.
		go func() { _ = cmd.Wait() }()
		ready := make(chan error, 1)
		go func() {
			line, err := bufio.NewReader(r).ReadString('\n')
			if err == nil && line != "ready\n" {
				err = errors.New(line)
			}
			ready <- err
		}()
		select {
		case err := <-ready:
			if err != nil {
				_ = cmd.Process.Kill()
				return 0, fmt.Errorf("the timer did not start (see %s): %w", s.path("timer.log"), err)
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			return 0, errors.New("the timer did not start within 30s")
		}
		return cmd.Process.Pid, nil
	}
}

// Guard is the rollback timer of transaction id: it reports readiness on
// ready, then waits until the transaction is settled (confirmed, rolled
// back, cancelled: it returns) or its deadline passes, and then rolls it
// back in the namespace conn talks to. Hangups are ignored; SIGTERM and
// SIGINT roll back at once, since a timer stopped before confirmation
// must not leave unconfirmed rules behind.
func (s *Store) Guard(id string, conn *live.Conn, ready io.WriteCloser) error {
	t, err := s.Pending()
	if err == nil && (t == nil || t.ID != id) {
		err = fmt.Errorf("transaction %s: %w", id, ErrNothingPending)
	}
	if err != nil {
		fmt.Fprintf(ready, "%v\n", err)
		return err
	}
	signal.Ignore(syscall.SIGHUP)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	if _, err := io.WriteString(ready, "ready\n"); err != nil {
		return err
	}
	ready.Close()
	for {
		t, err := s.Pending()
		if err != nil {
			return err
		}
		if t == nil || t.ID != id {
			return nil
		}
		left := time.Until(t.Deadline)
		if left <= 0 {
			_, err := s.Rollback(id, conn, fmt.Sprintf("not confirmed within %s", t.Deadline.Sub(t.Started).Round(time.Millisecond)))
			return err
		}
		select {
		case <-time.After(min(left, 250*time.Millisecond)):
		case sig := <-stop:
			_, err := s.Rollback(id, conn, fmt.Sprintf("the rollback timer was stopped (%s) before confirmation", sig))
			return err
		}
	}
}
