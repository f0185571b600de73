package main

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// liveMemoryLimit is the soft memory limit apply and diff run under: the
// collector runs more often as the heap nears it, so that generating the
// table, reading the live one and comparing them stay under it (10,000
// group rules, 140,660 set elements: 62-67 MiB peak RSS without it,
// 51-53 MiB with it, in the same time). It is a soft limit: see
// memoryLimitFor for a heap that needs more.
const liveMemoryLimit = 48 << 20

// softMemoryLimit sets the soft memory limit liveMemoryLimit for the rest
// of the process, once, unless GOMEMLIMIT already sets one: the
// operator's choice wins. After each collection the limit is checked
// against the live heap and lifted once the heap needs more
// (memoryLimitFor), so that a larger profile pays for a few more
// collections, never for a collector that runs back to back.
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

// watchMemoryLimit checks the limit after every collection, from a
// cleanup that each collection runs and that arms the next one, until the
// limit is lifted.
func watchMemoryLimit(limit int64) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var arm func()
	arm = func() {
		// 64 bytes, so that the sentinel is an object of its own and not
		// part of a tiny block that something else keeps alive.
		runtime.AddCleanup(new([64]byte), func(struct{}) {
			metrics.Read(sample)
			if sample[0].Value.Kind() != metrics.KindUint64 {
				return
			}
			live := int64(min(sample[0].Value.Uint64(), math.MaxInt64))
			if next := memoryLimitFor(live, limit); next != limit {
				debug.SetMemoryLimit(next)
				return
			}
			arm()
		}, struct{}{})
	}
	arm()
}
