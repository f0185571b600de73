package par

import (
	"runtime"
	"sync/atomic"
	"testing"
)

// TestBoth: both functions have run, completely, when Both returns, with
// one processor and with two.
func TestBoth(t *testing.T) {
	for _, procs := range []int{1, 2} {
		old := runtime.GOMAXPROCS(procs)
		var f, g atomic.Int32
		Both(func() {
			for range 1000 {
				f.Add(1)
			}
		}, func() {
			for range 1000 {
				g.Add(1)
			}
		})
		runtime.GOMAXPROCS(old)
		if f.Load() != 1000 || g.Load() != 1000 {
			t.Errorf("GOMAXPROCS %d: f ran %d of 1000 steps, g %d", procs, f.Load(), g.Load())
		}
	}
}

// TestBothSideBySide: with two processors, g runs while f waits for it,
// so neither can finish alone; on one processor Both would deadlock, so
// that case is left out.
func TestBothSideBySide(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("needs two processors")
	}
	started := make(chan struct{})
	Both(func() { <-started }, func() { close(started) })
}
