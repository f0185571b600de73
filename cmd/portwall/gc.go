package main

// How the collector runs in a portwall process. portwall is a short batch
// run: most of what it allocates lives until the output is written, and
// collections early in a run find little to free. Both tunings here step
// aside when the operator sets GOGC or GOMEMLIMIT.

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
)

// startingHeap is the heap the first collection waits for, where the
// runtime's default is 4 MiB. The Go compiler does the same with 128 MiB
// (cmd/compile's AdjustStartingHeap), for the same reason. A profile of
// 1,000 rules then generates without collecting, and 10,000 simple rules
// collect once. A collection running while a stage fills fresh memory
// is dearer than its own work: with the write barrier on, each pointer
// store first reads its destination, so a fresh page is mapped read-only
// and then faulted again to be written, with a TLB flush on the other
// core (with 16 MiB, 9% of a 10,000-rule run's samples). Against 16 MiB,
// 10,000 simple rules take 64.7 -> 59.4 ms (median of 21 runs), for a
// peak RSS of 38 -> 43 MB; 10,000 group rules 44 -> 54 MB.
const startingHeap = 32 << 20

// tuneGC sets the collector for a portwall process: GOGC=100 as usual,
// except that no collection starts before the heap reaches startingHeap,
// unless GOGC or GOMEMLIMIT is set.
// The percentage is raised so that the next goal is startingHeap, and
// after each collection set again from the live heap, until twice the
// live heap is past startingHeap and plain GOGC=100 takes over.
func tuneGC() {
	// As the compiler does, either knob set by the operator leaves the
	// collector as configured.
	for _, knob := range []string{"GOGC", "GOMEMLIMIT"} {
		if _, set := os.LookupEnv(knob); set {
			return
		}
	}
	// The runtime's first goal is 4 MiB × GOGC/100.
	debug.SetGCPercent(100 * startingHeap / (4 << 20))
	afterEachGC(func() bool {
		percent, more := gcPercentFor(heapAfterGC(), startingHeap)
		debug.SetGCPercent(percent)
		return more
	})
}

// heapAfterGC returns the heap's allocated bytes, read just after a
// collection: what it left alive, and what was allocated since. It reads
// MemStats, not runtime/metrics, whose package init alone costs a run
// about 60 µs; it is called once or twice a run.
func heapAfterGC() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// gcPercentFor returns the GOGC that puts the next collection at start
// after one that left live bytes alive, or 100 once GOGC=100 puts it
// there or later (more is false then: the tuning is done).
func gcPercentFor(live, start uint64) (percent int, more bool) {
	if live == 0 {
		return int(100 * start / (4 << 20)), true
	}
	if 2*live >= start {
		return 100, false
	}
	return int(100 * (start - live) / live), true
}

// liveMemoryLimit is the soft memory limit apply and diff run under: the
// collector runs more often as the heap nears it, so that generating the
// table, reading the live one and comparing them stay under it (10,000
// group rules, 140,660 set elements: 62-67 MiB peak RSS without it,
// 53-55 MiB with it, in the same time). It is a soft limit: see
// memoryLimitFor for a heap that needs more.
const liveMemoryLimit = 48 << 20

// softMemoryLimit sets the soft memory limit liveMemoryLimit for the rest
// of the process, once, unless GOMEMLIMIT already sets one. After each
// collection the limit is checked against the live heap and lifted once
// the heap needs more (memoryLimitFor), so that a larger profile pays for
// a few more collections, never for a collector that runs back to back.
var softMemoryLimit = sync.OnceFunc(func() {
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		return
	}
	debug.SetMemoryLimit(liveMemoryLimit)
	watchMemoryLimit(liveMemoryLimit)
})

// memoryLimitFor returns the soft limit to keep after a collection that
// left live bytes alive: limit while they take at most three quarters of
// it, else none (math.MaxInt64, the runtime's "no limit"). Near the limit
// the collector runs each time the heap grows by the quarter left, four
// times as often as with GOGC=100 at the same heap; beyond it, it would
// run after every few allocations.
func memoryLimitFor(live, limit int64) int64 {
	if live > limit/4*3 {
		return math.MaxInt64
	}
	return limit
}

// watchMemoryLimit checks the limit after every collection until it is
// lifted.
func watchMemoryLimit(limit int64) {
	afterEachGC(func() bool {
		live := int64(min(heapAfterGC(), math.MaxInt64))
		if next := memoryLimitFor(live, limit); next != limit {
			debug.SetMemoryLimit(next)
			return false
		}
		return true
	})
}

// afterEachGC calls f after each collection, on the runtime's cleanup
// goroutine, until f returns false. A sentinel object is allocated and
// dropped; the collection that finds it unreachable runs its cleanup,
// which calls f and arms the next one.
func afterEachGC(f func() bool) {
	var arm func()
	arm = func() {
		// 64 bytes, so that the sentinel is an object of its own and not
		// part of a tiny block that something else keeps alive.
		runtime.AddCleanup(new([64]byte), func(struct{}) {
			if f() {
				arm()
			}
		}, struct{}{})
	}
	arm()
}
