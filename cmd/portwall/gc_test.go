package main

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestMemoryLimitFor(t *testing.T) {
	const limit = 48 << 20
	for _, tc := range []struct {
		live, want int64
	}{
		{0, limit},
		{20 << 20, limit},
		{36 << 20, limit}, // three quarters: still kept
		{36<<20 + 1, math.MaxInt64},
		{48 << 20, math.MaxInt64},
		{500 << 20, math.MaxInt64},
	} {
		if got := memoryLimitFor(tc.live, limit); got != tc.want {
			t.Errorf("memoryLimitFor(%d, %d) = %d, want %d", tc.live, limit, got, tc.want)
		}
	}
}

// TestWatchMemoryLimitLifts holds the watcher to its promise: once the
// live heap needs more than three quarters of the limit, a collection
// lifts it; while it does not, the limit stays.
func TestWatchMemoryLimitLifts(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(old)

	// A limit far above this test's heap stays through collections.
	const high = 1 << 40
	debug.SetMemoryLimit(high)
	watchMemoryLimit(high)
	for range 3 {
		runtime.GC()
	}
	time.Sleep(10 * time.Millisecond) // cleanups run on their own goroutine
	if got := debug.SetMemoryLimit(-1); got != high {
		t.Fatalf("limit far above the live heap: %d after collections, want it kept (%d)", got, int64(high))
	}

	// A limit the live heap already needs more than three quarters of is
	// lifted after the next collection.
	keep := make([]byte, 8<<20)
	const low = 8 << 20
	debug.SetMemoryLimit(low)
	watchMemoryLimit(low)
	for i := 0; i < 100 && debug.SetMemoryLimit(-1) != math.MaxInt64; i++ {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	runtime.KeepAlive(keep)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("live heap above three quarters of the limit: limit still %d, want it lifted", got)
	}
}

func TestGCPercentFor(t *testing.T) {
	const start = 16 << 20
	for _, tc := range []struct {
		live    uint64
		percent int
		more    bool
	}{
		{0, 400, true},               // nothing live yet: the first goal again
		{4 << 20, 300, true},         // 4 MiB live: 12 MiB more, 300%
		{7 << 20, 128, true},         // 9/7 of 7 MiB more
		{8<<20 - 1, 100, true},       // just under half: 100% is still short of start
		{8 << 20, 100, false},        // half: GOGC=100 reaches start by itself
		{100 << 20, 100, false},      // far past it
		{1, 100 * (start - 1), true}, // a tiny live heap: a large percentage, no overflow
	} {
		percent, more := gcPercentFor(tc.live, start)
		if percent != tc.percent || more != tc.more {
			t.Errorf("gcPercentFor(%d, %d) = %d, %v; want %d, %v", tc.live, start, percent, more, tc.percent, tc.more)
		}
	}
}
