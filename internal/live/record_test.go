package live_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/portwall/portwall/internal/live"
	"github.com/portwall/portwall/internal/testkit/golden"
)

// TestApplyMessages records the netlink messages apply sends for the
// Xeams example, without a kernel, and compares them byte for byte with
// testdata/apply-xeams1.hex: the encoding cannot change unnoticed.
func TestApplyMessages(t *testing.T) {
	t.Parallel()
	o, err := live.Compile(xeamsScript(t))
	if err != nil {
		t.Fatal(err)
	}
	sent, err := o.Batch(7)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i, m := range sent {
		fmt.Fprintf(&b, "%d type=0x%04x flags=0x%04x\n", i, uint16(m.Header.Type), uint16(m.Header.Flags))
		for off := 0; off < len(m.Data); off += 32 {
			fmt.Fprintf(&b, "  %x\n", m.Data[off:min(off+32, len(m.Data))])
		}
	}
	if len(sent) < 10 {
		t.Fatalf("only %d messages sent", len(sent))
	}
	golden.Compare(t, "testdata/apply-xeams1.hex", []byte(b.String()))
}
