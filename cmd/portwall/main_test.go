package main

import (
	"fmt"
	"os"
	"testing"

	"github.com/portwall/portwall/internal/pending"
	"github.com/portwall/portwall/internal/testkit/rulestest"
)

// asMain makes the test binary run as portwall (tests that need portwall
// as a process of its own).
const asMain = "PORTWALL_TEST_AS_MAIN"

// TestMain lets the test binary stand in for portwall where portwall runs
// itself: apply --confirm-timeout starts its rollback timer by running
// /proc/self/exe, which in a test is this binary.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == pending.TimerCommand || os.Getenv(asMain) == "1" {
		os.Exit(Run(os.Args, os.Stdin, os.Stdout, os.Stderr))
	}
	code := m.Run()
	// Every command ran in these tests: none may have changed the
	// built-in catalog, which Load shares between callers.
	if err := rulestest.CatalogUnchanged(); err != nil && code == 0 {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}
