package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnknownHost: a --host the profile lacks names the closest host and
// lists the hosts, the first and last of them when there are many.
func TestUnknownHost(t *testing.T) {
	t.Parallel()
	profile := func(n int) string {
		var b strings.Builder
		b.WriteString("[[allow]]\nfrom = \"any\"\nto = \"host-001\"\nprotocol = \"tcp\"\nports = 22\n")
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&b, "[hosts.host-%03d]\naddresses = [\"192.0.2.%d\"]\n", i, i)
		}
		file := filepath.Join(t.TempDir(), "p.toml")
		if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return file
	}
	for _, tt := range []struct {
		hosts int
		host  string
		want  string
	}{
		{3, "host-02", `portwall: unknown host "host-02"; did you mean "host-002"? (hosts: host-001, host-002, host-003)` + "\n"},
		{12, "web", `portwall: unknown host "web" (hosts: host-001, host-002, host-003, host-004, host-005, host-006, host-007, host-008, host-009, host-010, host-011, host-012)` + "\n"},
		{200, "h001", `portwall: unknown host "h001" (hosts: 200 of them: host-001, host-002, host-003, host-004, host-005, ..., host-200)` + "\n"},
	} {
		file := profile(tt.hosts)
		for _, args := range [][]string{
			{"generate", file, "--host", tt.host},
			{"docs", file, "--host", tt.host},
			{"explain", file, "--host", tt.host, "--port", "22/tcp"},
		} {
			if code, _, errs := runIn("", args...); code != 1 || errs != tt.want {
				t.Errorf("%v: exit %d, stderr %q, want %q", args[0], code, errs, tt.want)
			}
		}
	}
}
