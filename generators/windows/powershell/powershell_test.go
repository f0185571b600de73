package powershell_test

import (
	"testing"

	"github.com/portwall/portwall/generators/windows/powershell"
	"github.com/portwall/portwall/generators/windows/powershell/psparse"
	"github.com/portwall/portwall/generators/windows/winfw"
	"github.com/portwall/portwall/internal/testkit/backendtest"
	"github.com/portwall/portwall/internal/testkit/wintest"
)

// backend is powershell with its reader, psparse. Rule descriptions are
// winfw.Description's, cut to winfw.MaxDescription as netsh's are.
var backend = wintest.Backend{
	Generator:      powershell.Generator{},
	Render:         powershell.Render,
	MaxDescription: winfw.MaxDescription,
	Read: wintest.Read(psparse.Parse,
		func(s *psparse.Script) []*psparse.Rule { return s.Rules },
		func(r *psparse.Rule) wintest.Rule {
			return wintest.Rule{Line: r.Line, Name: r.Name, Description: r.Description, Allow: r.Action == "Allow" && r.Enabled}
		}),
}

// TestGolden compares the output (or the refusal) of each case with
// testdata/<case>/want/.
func TestGolden(t *testing.T) { backendtest.Golden(t, powershell.Generator{}) }

// TestGoldenOutputsParse reads back every golden script and checks it
// against its IR.
func TestGoldenOutputsParse(t *testing.T) { wintest.GoldenReadBack(t, backend) }

// TestExamples reads back every host's script of every example, as is
// and with egress filtering and set_policy.
func TestExamples(t *testing.T) { wintest.Examples(t, backend) }
