package catalog

import (
	"embed"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/internal/tomldoc"
	"github.com/portwall/portwall/rules/addr"
	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

//go:embed data/*.toml
var embedded embed.FS

// fileSchema is the TOML layout of one catalog file. It is decoded strictly
// and then checked and converted into a Product or, for a file with
// [[service]] tables, into Services. A services file holds [[service]] and
// [[source]] tables and nothing else: keeping the two kinds apart means a
// product file never grows services on the side, where nobody looks for
// them, and a services file (import-firewalld writes one) needs none of a
// product's keys.
type fileSchema struct {
	Name        string          `toml:"name"`
	Title       string          `toml:"title"`
	Vendor      string          `toml:"vendor"`
	Summary     string          `toml:"summary"`
	Modes       []string        `toml:"modes"`
	DefaultMode string          `toml:"default_mode"`
	Versions    []versionSchema `toml:"version"`
	Sources     []sourceSchema  `toml:"source"`
	Options     []optionSchema  `toml:"option"`
	Roles       []roleSchema    `toml:"role"`
	Peers       []peerSchema    `toml:"peer"`
	Features    []featureSchema `toml:"feature"`
	Flows       []flowSchema    `toml:"flow"`
	Services    []serviceSchema `toml:"service"`
	// InstallerRules: see installer.go.
	InstallerRules []installerRuleSchema `toml:"installer_rule"`
}

// serviceSchema is one [[service]] table. Ports are per protocol, each a
// list like a flow's ports.
type serviceSchema struct {
	Name        string   `toml:"name"`
	Title       string   `toml:"title"`
	TCP         []any    `toml:"tcp"`
	UDP         []any    `toml:"udp"`
	Source      string   `toml:"source"`
	Row         string   `toml:"row"`
	Unsupported []string `toml:"unsupported"`
}

type sourceSchema struct {
	ID    string `toml:"id"`
	Title string `toml:"title"`
	URL   string `toml:"url"`
	Seed  string `toml:"seed"`
}

type versionSchema struct {
	Name    string `toml:"name"`
	Title   string `toml:"title"`
	Source  string `toml:"source"`
	Default bool   `toml:"default"`
}

type optionSchema struct {
	Name    string   `toml:"name"`
	Title   string   `toml:"title"`
	Kind    string   `toml:"kind"`
	Values  []string `toml:"values"`
	Default string   `toml:"default"`
}

type roleSchema struct {
	Name  string `toml:"name"`
	Title string `toml:"title"`
}

type peerSchema struct {
	Name          string              `toml:"name"`
	Title         string              `toml:"title"`
	FQDNs         []string            `toml:"fqdns"`
	RegionOption  string              `toml:"region_option"`
	FQDNsByRegion map[string][]string `toml:"fqdns_by_region"`
	Product       string              `toml:"product"`
	Role          string              `toml:"role"`
}

type featureSchema struct {
	Name    string `toml:"name"`
	Title   string `toml:"title"`
	Default bool   `toml:"default"`
}

type flowSchema struct {
	ID           string   `toml:"id"`
	Feature      string   `toml:"feature"`
	From         string   `toml:"from"`
	To           string   `toml:"to"`
	Protocols    []string `toml:"protocols"`
	Ports        []any    `toml:"ports"`
	ICMPTypes    []string `toml:"icmp_types"`
	Purpose      string   `toml:"purpose"`
	Source       string   `toml:"source"`
	Row          string   `toml:"row"`
	Configurable bool     `toml:"configurable"`
	Internal     bool     `toml:"internal"`
	Deprecated   bool     `toml:"deprecated"`
	Alternatives bool     `toml:"alternatives"`
	Random       bool     `toml:"random"`
	PortPool     string   `toml:"port_pool"`
	Modes        []string `toml:"modes"`
	Program      string   `toml:"program"`
	ProgramDir   string   `toml:"program_dir"`
	// Added with versions and exact defaults; all optional, so that files
	// written before them load unchanged.
	Versions             []string `toml:"versions"`
	Departure            string   `toml:"departure"`
	DefaultChoice        []any    `toml:"default_choice"`
	ProtocolAlternatives bool     `toml:"protocol_alternatives"`
	DefaultProtocols     []string `toml:"default_protocols"`
	RequireChoice        bool     `toml:"require_choice"`
}

// versionPattern is what version names look like: "2023.2", "7.4".
var versionPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9a-z]([0-9a-z.-]{0,38}[0-9a-z])?$`) })

// namePattern is what product, role, peer, feature, flow and option names
// look like: lower-case words joined by dashes. Profiles and every backend
// rely on it (names end up in nft comments, netsh rule names, FortiGate
// object names), so the catalog cannot relax it.
var namePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$`) })

// MaxNameLen is the longest name namePattern allows.
const MaxNameLen = 40

// ValidName reports whether s is a valid catalog name (of a product,
// service, role, peer, feature, flow or option), for programs that write
// catalog files.
func ValidName(s string) bool { return namePattern().MatchString(s) }

// EmbeddedDir is where the built-in catalog's files are in portwall's
// source tree; positions in them name it.
const EmbeddedDir = "rules/catalog/data"

// Load returns the embedded catalog, extended by the *.toml files of each
// directory in dirs: a product or service whose name is already known
// replaces it (so that a site can correct a built-in service, or a
// firewalld import can stand in for the built-in table), any other is
// added. Within one directory a name may be defined once. Every problem in
// every file is reported.
//
// The embedded catalog comes compiled (compiled.go, from gencatalog):
// the same products and services as parsing and checking data/*.toml,
// which a test holds it to, without that work on every run. Its products
// and services are shared by every Load: read them, never change them
// (copy a product first, as Product.InVersion does).
func Load(dirs ...string) (*Catalog, error) {
	if compiled != nil && len(dirs) == 0 {
		// Checked and sorted by name when it was compiled.
		ps, ss := compiled()
		return &Catalog{Products: slices.Clone(ps), Services: slices.Clone(ss)}, nil
	}
	l := newLoader()
	if compiled != nil {
		ps, ss := compiled()
		for _, p := range ps {
			l.products[p.Name] = p
		}
		for _, s := range ss {
			l.services[s.Name] = s
		}
	} else {
		l.add(embedded, "data", EmbeddedDir)
	}
	for _, d := range dirs {
		st, err := os.Stat(d)
		if err != nil {
			l.errs.Add(diag.Pos{File: d}, "", "catalog directory: %v", err)
			continue
		}
		if !st.IsDir() {
			l.errs.Add(diag.Pos{File: d}, "", "catalog directory: not a directory")
			continue
		}
		l.add(os.DirFS(d), ".", d)
	}
	return l.catalog()
}

// compiled is the embedded catalog as compiled.go has it, when it does:
// the shared, read-only values, sorted by name.
var compiled func() ([]*Product, []*Service)

// ParseBuiltin parses and checks the embedded TOML files, as Load did
// before the catalog was compiled: what gencatalog compiles, and what the
// tests compare the compiled catalog with.
func ParseBuiltin() ([]*Product, []*Service, error) {
	l := newLoader()
	l.add(embedded, "data", EmbeddedDir)
	c, err := l.catalog()
	if err != nil {
		return nil, nil, err
	}
	return c.Products, c.Services, nil
}

type loader struct {
	products map[string]*Product
	services map[string]*Service
	errs     diag.ErrorList
}

func newLoader() *loader {
	return &loader{products: map[string]*Product{}, services: map[string]*Service{}}
}

// add loads the *.toml files of dir in fsys, named display in messages.
func (l *loader) add(fsys fs.FS, dir, display string) {
	files, err := fs.Glob(fsys, path.Join(dir, "*.toml"))
	if err != nil {
		l.errs.Add(diag.Pos{File: display}, "", "%v", err)
		return
	}
	sort.Strings(files)
	seen := map[string]string{}
	seenService := map[string]*Service{}
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		name := filepath.Join(display, path.Base(f))
		if err != nil {
			l.errs.Add(diag.Pos{File: name}, "", "%v", err)
			continue
		}
		cf, perrs := ParseFile(name, data)
		l.errs.Append(perrs)
		if cf == nil {
			continue
		}
		for _, s := range cf.Services {
			if other, dup := seenService[s.Name]; dup {
				l.errs.Add(s.pos, "", "service %q is also defined in %s", s.Name, other.File)
				continue
			}
			seenService[s.Name] = s
			l.services[s.Name] = s
		}
		p := cf.Product
		if p == nil {
			continue
		}
		if other, dup := seen[p.Name]; dup {
			l.errs.Add(diag.Pos{File: name}, "name", "product %q is also defined in %s", p.Name, other)
			continue
		}
		seen[p.Name] = name
		l.products[p.Name] = p
	}
}

func (l *loader) catalog() (*Catalog, error) {
	checkPeerProducts(l.products, &l.errs)
	if err := l.errs.Err(); err != nil {
		return nil, err
	}
	c := &Catalog{}
	for _, p := range l.products {
		c.Products = append(c.Products, p)
	}
	slices.SortFunc(c.Products, func(a, b *Product) int { return strings.Compare(a.Name, b.Name) })
	for _, s := range l.services {
		c.Services = append(c.Services, s)
	}
	slices.SortFunc(c.Services, func(a, b *Service) int { return strings.Compare(a.Name, b.Name) })
	return c, nil
}

// File is one checked catalog file: a product, or services.
type File struct {
	Product  *Product
	Services []*Service
}

// ParseFile reads one catalog file, a product file or a services file. It
// returns the file only if it has no errors.
func ParseFile(file string, data []byte) (*File, diag.ErrorList) {
	var f fileSchema
	doc, errs := tomldoc.Decode(file, data, &f)
	if len(errs) > 0 {
		return nil, errs
	}
	c := &checker{doc: doc}
	out := &File{}
	if len(f.Services) > 0 {
		out.Services = c.servicesFile(&f)
		for _, s := range out.Services {
			s.File = file
		}
	} else {
		out.Product = c.product(&f)
		out.Product.File = file
	}
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	return out, nil
}

// Parse reads one product file. It returns the product only if the file
// has no errors.
func Parse(file string, data []byte) (*Product, diag.ErrorList) {
	f, errs := ParseFile(file, data)
	if len(errs) > 0 {
		return nil, errs
	}
	if f.Product == nil {
		errs.Add(diag.Pos{File: file}, "", "the file holds services, not a product")
		return nil, errs
	}
	return f.Product, nil
}

type checker struct {
	doc  *tomldoc.Doc
	errs diag.ErrorList
}

func (c *checker) errorf(path []any, format string, args ...any) {
	c.doc.Errorf(&c.errs, path, format, args...)
}

func (c *checker) name(path []any, kind, s string) {
	if s == "" {
		c.errorf(path, "%s name is missing", kind)
	} else if !namePattern().MatchString(s) {
		c.errorf(path, "invalid %s name %q: use lower-case letters, digits and dashes, at most 40 characters", kind, s)
	}
}

// unique reports names that occur twice in one namespace.
func (c *checker) unique(seen map[string]bool, path []any, kind, s string) {
	if seen[s] {
		c.errorf(path, "duplicate %s %q", kind, s)
	}
	seen[s] = true
}

func (c *checker) product(f *fileSchema) *Product {
	p := &Product{Name: f.Name, Title: f.Title, Vendor: f.Vendor, Summary: f.Summary, Modes: f.Modes, Mode: f.DefaultMode}
	c.name([]any{"name"}, "product", f.Name)
	if f.Title == "" {
		c.errorf([]any{"title"}, "product title is missing")
	}
	if len(f.Modes) > 0 && !slices.Contains(f.Modes, f.DefaultMode) {
		c.errorf([]any{"default_mode"}, "default_mode %q is not one of the modes %v", f.DefaultMode, f.Modes)
	}
	if len(f.Modes) == 0 && f.DefaultMode != "" {
		c.errorf([]any{"default_mode"}, "default_mode without modes")
	}

	seen := map[string]bool{}
	for i, s := range f.Sources {
		c.name([]any{"source", i, "id"}, "source", s.ID)
		c.unique(seen, []any{"source", i, "id"}, "source", s.ID)
		if s.Title == "" {
			c.errorf([]any{"source", i}, "source %q has no title", s.ID)
		}
		p.Sources = append(p.Sources, Source(s))
	}

	seen = map[string]bool{}
	for i, v := range f.Versions {
		at := []any{"version", i}
		if !versionPattern().MatchString(v.Name) {
			c.errorf(append(at, "name"), "invalid version name %q: use digits, lower-case letters, dots and dashes, at most 40 characters", v.Name)
		}
		c.unique(seen, append(at, "name"), "version", v.Name)
		if v.Title == "" {
			c.errorf(at, "version %q has no title", v.Name)
		}
		if _, ok := p.Source(v.Source); !ok {
			c.errorf(append(at, "source"), "version %q: unknown source %q%s", v.Name, v.Source, diag.DidYouMean(v.Source, p.sourceIDs()))
		}
		if v.Default {
			if p.Version != "" {
				c.errorf(append(at, "default"), "versions %q and %q are both the default", p.Version, v.Name)
			}
			p.Version = v.Name
		}
		p.Versions = append(p.Versions, Version{Name: v.Name, Title: v.Title, Source: v.Source})
	}
	if len(f.Versions) > 0 && p.Version == "" {
		c.errorf([]any{"version", 0}, "no version is the default: mark the one the product's first document describes with default = true")
	}

	seen = map[string]bool{}
	for i, o := range f.Options {
		at := []any{"option", i}
		c.name(append(at, "name"), "option", o.Name)
		c.unique(seen, append(at, "name"), "option", o.Name)
		opt := Option{Name: o.Name, Title: o.Title, Kind: OptionKind(o.Kind), Values: o.Values, Default: o.Default}
		switch opt.Kind {
		case OptionChoice:
			if len(o.Values) == 0 {
				c.errorf(at, "choice option %q has no values", o.Name)
			}
			if o.Default != "" && !slices.Contains(o.Values, o.Default) {
				c.errorf(append(at, "default"), "default %q is not one of %v", o.Default, o.Values)
			}
		case OptionPortRange:
			if o.Default != "" {
				if _, err := ports.Parse(o.Default); err != nil {
					c.errorf(append(at, "default"), "%v", err)
				}
			}
		case OptionPath:
		default:
			c.errorf(append(at, "kind"), "unknown option kind %q: want choice, port-range or path", o.Kind)
		}
		p.Options = append(p.Options, opt)
	}

	// Roles and peers share one namespace: a flow's from and to name either.
	endpoints := map[string]bool{}
	for i, r := range f.Roles {
		c.name([]any{"role", i, "name"}, "role", r.Name)
		c.unique(endpoints, []any{"role", i, "name"}, "role or peer", r.Name)
		p.Roles = append(p.Roles, Role(r))
	}
	if len(f.Roles) == 0 {
		c.errorf(nil, "product %q has no roles", f.Name)
	}
	for i, r := range f.Peers {
		at := []any{"peer", i}
		c.name(append(at, "name"), "peer", r.Name)
		c.unique(endpoints, append(at, "name"), "role or peer", r.Name)
		peer := Peer{Name: r.Name, Title: r.Title, FQDNs: r.FQDNs, RegionOption: r.RegionOption, FQDNsByRegion: r.FQDNsByRegion,
			Product: r.Product, Role: r.Role}
		if r.Product != "" {
			c.name(append(at, "product"), "product", r.Product)
		}
		if r.Role != "" && r.Product == "" {
			c.errorf(append(at, "role"), "peer %q: role without product: role names a role of the product the peer stands for", r.Name)
		}
		for j, n := range r.FQDNs {
			if err := addr.CheckFQDN(n); err != nil {
				c.errorf(append(at, "fqdns", j), "%v", err)
			}
		}
		if (r.RegionOption == "") != (len(r.FQDNsByRegion) == 0) {
			c.errorf(at, "peer %q: region_option and fqdns_by_region go together", r.Name)
		}
		if r.RegionOption != "" {
			opt, ok := p.Option(r.RegionOption)
			if !ok || opt.Kind != OptionChoice {
				c.errorf(append(at, "region_option"), "region_option %q is not a choice option of the product", r.RegionOption)
			}
			for _, region := range slices.Sorted(maps.Keys(r.FQDNsByRegion)) {
				if ok && !slices.Contains(opt.Values, region) {
					c.errorf(append(at, "fqdns_by_region", region), "region %q is not a value of option %q %v", region, r.RegionOption, opt.Values)
				}
				for j, n := range r.FQDNsByRegion[region] {
					if err := addr.CheckFQDN(n); err != nil {
						c.errorf(append(at, "fqdns_by_region", region, j), "%v", err)
					}
				}
			}
		}
		p.Peers = append(p.Peers, peer)
	}

	seen = map[string]bool{}
	for i, ft := range f.Features {
		c.name([]any{"feature", i, "name"}, "feature", ft.Name)
		c.unique(seen, []any{"feature", i, "name"}, "feature", ft.Name)
		if ft.Title == "" {
			c.errorf([]any{"feature", i}, "feature %q has no title", ft.Name)
		}
		p.Features = append(p.Features, Feature(ft))
	}

	ids := map[string][]flowVersions{}
	for i := range f.Flows {
		if fl, ok := c.flow(p, []any{"flow", i}, &f.Flows[i], ids); ok {
			p.Flows = append(p.Flows, fl)
		}
	}
	p.InstallerRules = c.installerRules(p, f.InstallerRules)
	return p
}

func (p *Product) sourceIDs() []string {
	return names(p.Sources, func(s *Source) string { return s.ID })
}

// flowVersions is where a flow ID was defined and for which versions
// (nil: all), for "defined twice" errors.
type flowVersions struct {
	index    int
	versions []string
}

// overlap reports whether two flows' versions share one.
func (a flowVersions) overlap(b []string) bool {
	if len(a.versions) == 0 || len(b) == 0 {
		return true
	}
	for _, v := range b {
		if slices.Contains(a.versions, v) {
			return true
		}
	}
	return false
}

func (c *checker) flow(p *Product, at []any, f *flowSchema, ids map[string][]flowVersions) (Flow, bool) {
	n := len(c.errs)
	fl := Flow{
		ID: f.ID, Feature: f.Feature, From: f.From, To: f.To, ICMPTypes: f.ICMPTypes,
		Purpose: f.Purpose, Source: f.Source, Row: f.Row,
		Configurable: f.Configurable, Internal: f.Internal, Deprecated: f.Deprecated,
		Alternatives: f.Alternatives, Random: f.Random, PortPool: f.PortPool, Modes: f.Modes,
		Program: f.Program, ProgramDir: f.ProgramDir,
		Versions: f.Versions, Departure: strings.TrimSpace(f.Departure),
		ProtocolAlternatives: f.ProtocolAlternatives, RequireChoice: f.RequireChoice,
	}
	c.name(append(at, "id"), "flow", f.ID)
	// An ID is unique within each version: flows of different versions
	// may share one, each the flow as that version's document gives it.
	for _, prev := range ids[f.ID] {
		if prev.overlap(f.Versions) {
			if len(p.Versions) == 0 {
				c.errorf(append(at, "id"), "duplicate flow %q", f.ID)
			} else {
				c.errorf(append(at, "id"), "duplicate flow %q: flow[%d] has the same ID in a version this one is in too (give each a disjoint versions list)", f.ID, prev.index)
			}
			break
		}
	}
	ids[f.ID] = append(ids[f.ID], flowVersions{index: at[1].(int), versions: f.Versions})
	for i, v := range f.Versions {
		if _, ok := p.LookupVersion(v); !ok {
			if len(p.Versions) == 0 {
				c.errorf(append(at, "versions", i), "flow %q: the product has no versions", f.ID)
			} else {
				c.errorf(append(at, "versions", i), "flow %q: unknown version %q%s (versions: %s)", f.ID, v, diag.DidYouMean(v, p.VersionNames()), strings.Join(p.VersionNames(), ", "))
			}
		}
	}
	if f.Departure != "" && strings.TrimSpace(f.Departure) == "" {
		c.errorf(append(at, "departure"), "flow %q: empty departure: say what the flow adds to the document and where it comes from", f.ID)
	}
	if _, ok := p.Feature(f.Feature); !ok {
		c.errorf(append(at, "feature"), "flow %q: unknown feature %q%s", f.ID, f.Feature, diag.DidYouMean(f.Feature, p.FeatureNames()))
	}
	for _, end := range []struct{ key, name string }{{"from", f.From}, {"to", f.To}} {
		_, isRole := p.Role(end.name)
		_, isPeer := p.Peer(end.name)
		if !isRole && !isPeer {
			c.errorf(append(at, end.key), "flow %q: unknown role or peer %q%s", f.ID, end.name,
				diag.DidYouMean(end.name, append(p.RoleNames(), p.PeerNames()...)))
		}
	}
	if !p.IsRole(f.From) && !p.IsRole(f.To) {
		c.errorf(at, "flow %q: neither %q nor %q is a role of the product: a flow must start or end at one of its hosts", f.ID, f.From, f.To)
	}
	if f.Purpose == "" {
		c.errorf(at, "flow %q has no purpose", f.ID)
	}
	if _, ok := p.Source(f.Source); !ok {
		c.errorf(append(at, "source"), "flow %q: unknown source %q", f.ID, f.Source)
	}
	for i, m := range f.Modes {
		if !slices.Contains(p.Modes, m) {
			c.errorf(append(at, "modes", i), "flow %q: unknown mode %q (the product's modes are %v)", f.ID, m, p.Modes)
		}
	}

	if len(f.Protocols) == 0 {
		c.errorf(at, "flow %q has no protocols", f.ID)
	}
	withPorts, icmp := false, false
	for i, s := range f.Protocols {
		pr, err := proto.Parse(s)
		if err != nil {
			c.errorf(append(at, "protocols", i), "%v", err)
			continue
		}
		if slices.Contains(fl.Protocols, pr) {
			c.errorf(append(at, "protocols", i), "duplicate protocol %s", pr)
		}
		fl.Protocols = append(fl.Protocols, pr)
		withPorts = withPorts || pr.HasPorts()
		icmp = icmp || pr.IsICMP()
	}
	if withPorts && icmp {
		c.errorf(append(at, "protocols"), "flow %q mixes ICMP with TCP/UDP: ports would not apply to every protocol; split the flow", f.ID)
	}
	var rs []ports.Range
	for i, v := range f.Ports {
		r, err := ports.ParseValue(v)
		if err != nil {
			c.errorf(append(at, "ports", i), "%v", err)
			continue
		}
		rs = append(rs, r)
	}
	fl.Ports = ports.NewSet(rs...)
	switch {
	case withPorts && len(f.Ports) == 0:
		c.errorf(at, "flow %q: TCP/UDP flows need ports (use \"1-65535\" with random = true for all ports)", f.ID)
	case icmp && !withPorts && len(f.Ports) > 0:
		c.errorf(append(at, "ports"), "flow %q: ICMP flows have no ports", f.ID)
	}
	if len(f.ICMPTypes) > 0 && !icmp {
		c.errorf(append(at, "icmp_types"), "flow %q: icmp_types on a flow without ICMP", f.ID)
	}
	for i, t := range f.ICMPTypes {
		for _, pr := range fl.Protocols {
			if _, err := proto.ParseICMPType(pr, t); pr.IsICMP() && err != nil {
				c.errorf(append(at, "icmp_types", i), "flow %q: %v", f.ID, err)
			}
		}
	}
	c.choices(at, f, &fl, rs)
	if f.Random {
		if !fl.Ports.IsAll() {
			c.errorf(append(at, "ports"), "flow %q: a random-port flow covers all ports (\"1-65535\")", f.ID)
		}
		if opt, ok := p.Option(f.PortPool); f.PortPool != "" && (!ok || opt.Kind != OptionPortRange) {
			c.errorf(append(at, "port_pool"), "flow %q: port_pool %q is not a port-range option of the product", f.ID, f.PortPool)
		}
	} else if f.PortPool != "" {
		c.errorf(append(at, "port_pool"), "flow %q: port_pool without random = true", f.ID)
	}
	if f.Configurable && (f.Random || icmp) {
		c.errorf(append(at, "configurable"), "flow %q: only fixed TCP/UDP ports can be configurable", f.ID)
	}
	if f.Internal && f.Deprecated {
		c.errorf(at, "flow %q: internal and deprecated exclude each other", f.ID)
	}
	if (f.Program == "") != (f.ProgramDir == "") {
		c.errorf(at, "flow %q: program and program_dir go together", f.ID)
	} else if f.Program != "" {
		if opt, ok := p.Option(f.ProgramDir); !ok || opt.Kind != OptionPath {
			c.errorf(append(at, "program_dir"), "flow %q: program_dir %q is not a path option of the product", f.ID, f.ProgramDir)
		}
	}
	return fl, len(c.errs) == n
}

// choices checks a flow's alternatives and sets what it opens by default:
// the default choice the catalog states, or the first alternative listed
// (the document's first), unless the flow requires a choice.
func (c *checker) choices(at []any, f *flowSchema, fl *Flow, listed []ports.Range) {
	if f.Alternatives && len(listed) < 2 {
		c.errorf(append(at, "alternatives"), "flow %q: alternatives need at least two ports", f.ID)
	}
	if f.ProtocolAlternatives && len(fl.Protocols) < 2 {
		c.errorf(append(at, "protocol_alternatives"), "flow %q: protocol alternatives need at least two protocols", f.ID)
	}
	if f.RequireChoice && !f.Alternatives && !f.ProtocolAlternatives {
		c.errorf(append(at, "require_choice"), "flow %q: require_choice without alternatives or protocol_alternatives", f.ID)
	}
	if f.RequireChoice && (f.DefaultChoice != nil || f.DefaultProtocols != nil) {
		c.errorf(append(at, "require_choice"), "flow %q: require_choice and a default choice exclude each other", f.ID)
	}
	if f.Random && (f.Alternatives || f.ProtocolAlternatives) {
		c.errorf(at, "flow %q: random ports and alternatives exclude each other", f.ID)
	}
	switch {
	case f.DefaultChoice != nil && !f.Alternatives:
		c.errorf(append(at, "default_choice"), "flow %q: default_choice without alternatives", f.ID)
	case f.DefaultChoice != nil:
		var rs []ports.Range
		for i, v := range f.DefaultChoice {
			r, err := ports.ParseValue(v)
			if err != nil {
				c.errorf(append(at, "default_choice", i), "%v", err)
				continue
			}
			rs = append(rs, r)
		}
		fl.DefaultChoice = ports.NewSet(rs...)
		if len(rs) == 0 {
			c.errorf(append(at, "default_choice"), "flow %q: empty default_choice", f.ID)
		} else if !fl.Ports.Covers(fl.DefaultChoice) {
			c.errorf(append(at, "default_choice"), "flow %q: default choice %s is not among its alternatives %s", f.ID, fl.DefaultChoice, fl.Ports)
		}
	case f.Alternatives && !f.RequireChoice && len(listed) > 0:
		fl.DefaultChoice = ports.NewSet(listed[0])
	}
	switch {
	case f.DefaultProtocols != nil && !f.ProtocolAlternatives:
		c.errorf(append(at, "default_protocols"), "flow %q: default_protocols without protocol_alternatives", f.ID)
	case f.DefaultProtocols != nil:
		for i, s := range f.DefaultProtocols {
			pr, err := proto.Parse(s)
			switch {
			case err != nil:
				c.errorf(append(at, "default_protocols", i), "%v", err)
			case !slices.Contains(fl.Protocols, pr):
				c.errorf(append(at, "default_protocols", i), "flow %q: default protocol %s is not among its protocols", f.ID, pr)
			default:
				fl.DefaultProtocols = append(fl.DefaultProtocols, pr)
			}
		}
		if len(f.DefaultProtocols) == 0 {
			c.errorf(append(at, "default_protocols"), "flow %q: empty default_protocols", f.ID)
		}
	case f.ProtocolAlternatives && !f.RequireChoice && len(fl.Protocols) > 0:
		fl.DefaultProtocols = fl.Protocols[:1]
	}
}

// checkPeerProducts checks the peers that stand for another product's
// role, against the products loaded. A peer may name a product the
// catalog does not hold (a site catalog may add it later); one it holds
// must have the role.
func checkPeerProducts(products map[string]*Product, errs *diag.ErrorList) {
	for _, name := range slices.Sorted(maps.Keys(products)) {
		p := products[name]
		for _, peer := range p.Peers {
			other, ok := products[peer.Product]
			if !ok || peer.Role == "" {
				continue
			}
			if _, ok := other.Role(peer.Role); !ok {
				errs.Add(diag.Pos{File: p.File}, "", "product %s, peer %q: product %s has no role %q%s", p.Name, peer.Name, other.Name, peer.Role,
					diag.DidYouMean(peer.Role, other.RoleNames()))
			}
		}
	}
}
