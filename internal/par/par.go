// Package par runs the two halves of one stage side by side: checking a
// profile's rules, resolving them, rendering a large chain or set. Each
// half writes only its own results, so the output is the same bytes
// whichever half finishes first.
package par

import (
	"runtime"
	"sync"
)

// Both runs f and g and returns when both are done: at the same time, g
// on a goroutine of its own, when the process has two processors or
// more; else f, then g, on the caller's goroutine (a goroutine on one
// processor only costs its start).
func Both(f, g func()) {
	if runtime.GOMAXPROCS(0) < 2 {
		f()
		g()
		return
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		g()
	}()
	f()
	wg.Wait()
}
