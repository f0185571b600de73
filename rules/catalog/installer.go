package catalog

import (
	"slices"

	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

// InstallerRule is a Windows Firewall rule a product's installer is
// documented to add by itself: FME Server's inbound "Allow All" for
// fme.exe, the ports FortiClient EMS's installer opens. In Windows
// Firewall any enabled allow rule lets a packet in, so such a rule widens
// whatever portwall allows on the same ports or program; the Windows
// backends name them, and the PowerShell backend can find and disable
// them ([windows] foreign_rules).
//
// It is inbound and allows every remote address, as the documents
// describe them. Either Program is set (every port and protocol of that
// program, unless Protocols and Ports narrow it) or Protocols and Ports
// are.
type InstallerRule struct {
	ID    string
	Title string
	// Roles are the product's roles whose hosts run the installer.
	Roles     []string
	Protocols []proto.Protocol
	Ports     ports.Set
	// Program is relative to the path option ProgramDir, as a flow's.
	Program, ProgramDir string
	// Source and Row are the document and the row that say so.
	Source, Row string
}

// InstallerSourceLine formats where an installer rule is documented, as
// SourceLine a flow's.
func (p *Product) InstallerSourceLine(r *InstallerRule) string {
	src, _ := p.Source(r.Source)
	if r.Row == "" {
		return src.Title
	}
	return src.Title + ": " + r.Row
}

// installerRuleSchema is one [[installer_rule]] table of a product file.
type installerRuleSchema struct {
	ID         string   `toml:"id"`
	Title      string   `toml:"title"`
	Roles      []string `toml:"roles"`
	Protocols  []string `toml:"protocols"`
	Ports      []any    `toml:"ports"`
	Program    string   `toml:"program"`
	ProgramDir string   `toml:"program_dir"`
	Source     string   `toml:"source"`
	Row        string   `toml:"row"`
}

// installerRules checks a product's [[installer_rule]] tables.
func (c *checker) installerRules(p *Product, rules []installerRuleSchema) []InstallerRule {
	var out []InstallerRule
	seen := map[string]bool{}
	for i, s := range rules {
		at := []any{"installer_rule", i}
		n := len(c.errs)
		r := InstallerRule{ID: s.ID, Title: s.Title, Roles: s.Roles, Program: s.Program, ProgramDir: s.ProgramDir, Source: s.Source, Row: s.Row}
		c.name(append(at, "id"), "installer rule", s.ID)
		c.unique(seen, append(at, "id"), "installer rule", s.ID)
		if s.Title == "" {
			c.errorf(at, "installer rule %q has no title", s.ID)
		}
		if len(s.Roles) == 0 {
			c.errorf(at, "installer rule %q: roles is missing: the roles whose hosts run the installer", s.ID)
		}
		for j, role := range s.Roles {
			if !p.IsRole(role) {
				c.errorf(append(at, "roles", j), "installer rule %q: unknown role %q%s", s.ID, role, diag.DidYouMean(role, p.RoleNames()))
			}
		}
		if _, ok := p.Source(s.Source); !ok {
			c.errorf(append(at, "source"), "installer rule %q: unknown source %q", s.ID, s.Source)
		}
		if s.Row == "" {
			c.errorf(at, "installer rule %q has no row: quote the document", s.ID)
		}
		for j, name := range s.Protocols {
			pr, err := proto.Parse(name)
			switch {
			case err != nil:
				c.errorf(append(at, "protocols", j), "%v", err)
			case !pr.HasPorts():
				c.errorf(append(at, "protocols", j), "installer rule %q: protocol %s: only tcp and udp", s.ID, pr)
			case slices.Contains(r.Protocols, pr):
				c.errorf(append(at, "protocols", j), "duplicate protocol %s", pr)
			default:
				r.Protocols = append(r.Protocols, pr)
			}
		}
		var rs []ports.Range
		for j, v := range s.Ports {
			pr, err := ports.ParseValue(v)
			if err != nil {
				c.errorf(append(at, "ports", j), "%v", err)
				continue
			}
			rs = append(rs, pr)
		}
		r.Ports = ports.NewSet(rs...)
		if (len(s.Protocols) == 0) != (len(s.Ports) == 0) {
			c.errorf(at, "installer rule %q: protocols and ports go together", s.ID)
		}
		if (s.Program == "") != (s.ProgramDir == "") {
			c.errorf(at, "installer rule %q: program and program_dir go together", s.ID)
		} else if s.Program != "" {
			if opt, ok := p.Option(s.ProgramDir); !ok || opt.Kind != OptionPath {
				c.errorf(append(at, "program_dir"), "installer rule %q: program_dir %q is not a path option of the product", s.ID, s.ProgramDir)
			}
		}
		if s.Program == "" && len(s.Ports) == 0 {
			c.errorf(at, "installer rule %q: give the program, or the protocols and ports, the installer allows", s.ID)
		}
		if len(c.errs) == n {
			out = append(out, r)
		}
	}
	return out
}
