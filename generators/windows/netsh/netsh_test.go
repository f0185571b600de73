package netsh_test

import (
	"testing"

	"github.com/portwall/portwall/generators/windows/netsh"
	"github.com/portwall/portwall/generators/windows/netsh/netshparse"
	"github.com/portwall/portwall/internal/testkit/backendtest"
	"github.com/portwall/portwall/internal/testkit/wintest"
)

// backend is netsh with its reader, netshparse.
var backend = wintest.Backend{
	Generator:      netsh.Generator{},
	Render:         netsh.Render,
	MaxLine:        netsh.MaxLine,
	MaxDescription: netsh.MaxDescription,
	Read: wintest.Read(netshparse.Parse,
		func(s *netshparse.Script) []*netshparse.Rule { return s.Rules },
		func(r *netshparse.Rule) wintest.Rule {
			return wintest.Rule{Line: r.Line, Name: r.Name, Description: r.Description, Allow: r.Action == "allow" && r.Enable}
		}),
}

// TestGolden compares the output (or the refusal) of each case with
// testdata/<case>/want/.
func TestGolden(t *testing.T) { backendtest.Golden(t, netsh.Generator{}) }

// TestGoldenOutputsParse reads back every golden script and checks it
// against its IR.
func TestGoldenOutputsParse(t *testing.T) { wintest.GoldenReadBack(t, backend) }

// TestExamples reads back every host's script of every example, as is
// and with egress filtering and set_policy.
func TestExamples(t *testing.T) { wintest.Examples(t, backend) }
