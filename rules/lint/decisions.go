package lint

import (
	"strings"

	"github.com/portwall/portwall/rules/ir"
)

// decisions names what the resolver decided because the profile left it to
// the catalog (PW801-PW803): a default that narrows (features dropped by a
// replacing list, one alternative of several) or widens (every port for
// random ports) is said, never silent. Each warning says how to state the
// choice in the profile, which silences it.
func (l *linter) decisions() {
	for _, dc := range l.rs.Decisions {
		flow := dc.Product + "/" + dc.Flow + " (" + dc.From + " -> " + dc.To + ")"
		switch dc.Kind {
		case ir.DecidedFeaturesDropped:
			l.warn(l.p.Doc.Pos("deployment", dc.Deployment, "features"), "PW801",
				"deployment %s: features replaces the defaults of %s and leaves out %s; to say so, change the defaults instead: features = %s",
				dc.Name, dc.Product, strings.Join(dc.Features, ", "), dc.Opened)
		case ir.DecidedChoice:
			l.warn(l.p.Doc.Pos("deployment", dc.Deployment, "product"), "PW802",
				"deployment %s: %s opens %s, the catalog's default for what the profile does not choose among %s; say which under [deployment.choose] (%s = [...])",
				dc.Name, flow, dc.Opened, dc.Among, dc.Flow)
		case ir.DecidedRandomAll:
			l.warn(l.p.Doc.Pos("deployment", dc.Deployment, "random_ports"), "PW803",
				"deployment %s: %s opens %s, every port, for its randomly assigned ports; narrow it with the product's port pool option",
				dc.Name, flow, dc.Opened)
		}
	}
}
