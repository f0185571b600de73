// Package graphviz draws DOT graphs with Graphviz's dot, for the port
// document's embedded flow diagram. It runs a program, so it serves the
// command layer: backends take the drawing function as an option and stay
// pure.
package graphviz

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// Timeout bounds one drawing: dot lays out a profile's diagram in well
// under a second, and a hung dot must not hang the command.
const Timeout = 60 * time.Second

// Available reports whether dot is on the PATH.
func Available() bool {
	_, err := exec.LookPath("dot")
	return err == nil
}

// SVG draws a DOT graph as SVG (dot -Tsvg). The drawing depends on the
// Graphviz version, but not on the time or the machine: the same input
// and version give the same bytes.
func SVG(dot []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "dot", "-Tsvg")
	cmd.Stdin = bytes.NewReader(dot)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("dot -Tsvg: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}
