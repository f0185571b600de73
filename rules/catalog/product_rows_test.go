package catalog

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

// productRow is one line of a transcription in testdata/product_rows: one
// protocol and port (or range) in one direction at one of the product's
// hosts, as the vendor's document gives it.
type productRow struct {
	line  int
	role  string // as the transcriber named it; "*" is every role
	dir   string // "in" or "out", seen from the role
	proto proto.Protocol
	// ports is nil when the document gives no number: "-" in the file, for
	// ICMP, and for TCP/UDP ports the product picks at run time or the
	// administrator chooses.
	ports ports.Set
	text  string
}

// productRows is one transcription file. Besides comments and rows it has
// directives, which say how the file relates to the catalog and never
// change a row:
//
//	#! source ID          the file transcribes the product's source ID
//	#! role THEIRS OURS   the transcriber's role THEIRS is the catalog's role OURS
//	#! prose FLOW         the flow transcribes a statement the document makes
//	                      in prose, with no port number, which the comment
//	                      above the directive quotes; no row can give it
type productRows struct {
	file    string
	product string
	sources map[string]bool
	roles   map[string]string
	prose   map[string]bool
	rows    []productRow
}

func readProductRows(t *testing.T, file string) *productRows {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pr := &productRows{file: file, sources: map[string]bool{}, roles: map[string]string{}, prose: map[string]bool{}}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		at := fmt.Sprintf("%s:%d", filepath.Base(file), n)
		if d, ok := strings.CutPrefix(line, "#!"); ok {
			switch w := strings.Fields(d); {
			case len(w) == 2 && w[0] == "source":
				pr.sources[w[1]] = true
			case len(w) == 3 && w[0] == "role":
				pr.roles[w[1]] = w[2]
			case len(w) == 2 && w[0] == "prose":
				pr.prose[w[1]] = true
			default:
				t.Fatalf("%s: unknown directive %q", at, line)
			}
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fs := strings.Split(line, "\t")
		if len(fs) != 6 {
			t.Fatalf("%s: %d fields, want 6", at, len(fs))
		}
		if pr.product == "" {
			pr.product = fs[0]
		} else if fs[0] != pr.product {
			t.Fatalf("%s: product %q in a file of %q", at, fs[0], pr.product)
		}
		if fs[2] != "in" && fs[2] != "out" {
			t.Fatalf("%s: direction %q", at, fs[2])
		}
		p, err := proto.Parse(fs[3])
		if err != nil {
			t.Fatalf("%s: %v", at, err)
		}
		r := productRow{line: n, role: fs[1], dir: fs[2], proto: p, text: fs[5]}
		if fs[4] != "-" {
			rg, err := ports.Parse(fs[4])
			if err != nil {
				t.Fatalf("%s: %v", at, err)
			}
			r.ports = ports.NewSet(rg)
		}
		if p.IsICMP() && r.ports != nil {
			t.Fatalf("%s: an ICMP row has no port: write \"-\"", at)
		}
		pr.rows = append(pr.rows, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return pr
}

// at reports whether the row is about the catalog role.
func (pr *productRows) at(r productRow, role string) bool {
	if r.role == "*" {
		return true
	}
	if ours, ok := pr.roles[r.role]; ok {
		return ours == role
	}
	return r.role == role
}

// TestProductRowsCovered checks every product added after the four seed
// products (TestSeedRowsCovered) against a transcription of its vendor
// documents made from the documents alone, by people who never saw the
// catalog: testdata/product_rows/<product>.tsv (product, role, direction
// in|out from that role's side, protocol, port, row). Both ways:
//
//   - every row is covered: some flow of the product opens that protocol and
//     port in that direction at that role (by default: a port pool's
//     default counts, an all-ports flow covers only an all-ports row);
//   - no flow transcribed from those documents opens a port, protocol or
//     direction that no row gives, and every flow of a default feature is
//     transcribed from one of them. Flows from other documents (a CLI
//     reference, a protocol guide) may only extend features a deployment
//     has to ask for; flows a file marks "#! prose" transcribe a statement
//     with no port number (Exchange's "any port ... and any protocol"
//     between its servers), which no row can give.
//
// A row is a port in a direction at a role, without the peer: a flow
// turned around between two roles that both have the port in both
// directions passes (PostgreSQL's standby and primary); the row text and
// each flow's `row` are there for the reviewer.
func TestProductRowsCovered(t *testing.T) {
	t.Parallel()
	cat, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("testdata/product_rows/*.tsv")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcriptions: %v", err)
	}
	seeds := seedProducts(t)
	done := map[string]bool{}
	for _, file := range files {
		pr := readProductRows(t, file)
		name := strings.TrimSuffix(filepath.Base(file), ".tsv")
		t.Run(name, func(t *testing.T) {
			if pr.product != name {
				t.Fatalf("%s holds rows of %q", file, pr.product)
			}
			p, ok := cat.Product(name)
			if !ok {
				t.Fatalf("no product %q in the catalog", name)
			}
			done[name] = true
			checkProductRows(t, p, pr)
		})
	}
	for _, p := range cat.Products {
		if !done[p.Name] && !seeds[p.Name] {
			t.Errorf("product %s has no transcription in testdata/product_rows", p.Name)
		}
	}
}

func checkProductRows(t *testing.T, p *Product, pr *productRows) {
	if len(pr.rows) == 0 {
		t.Fatalf("%s: no rows", pr.file)
	}
	for src := range pr.sources {
		if _, ok := p.Source(src); !ok {
			t.Errorf("%s: #! source %s: the product has no such source", pr.file, src)
		}
	}
	for theirs, ours := range pr.roles {
		if !p.IsRole(ours) {
			t.Errorf("%s: #! role %s %s: %s is not a role of the product", pr.file, theirs, ours, ours)
		}
	}
	for id := range pr.prose {
		if f, ok := p.Flow(id); !ok || !pr.sources[f.Source] {
			t.Errorf("%s: #! prose %s: no such flow from a transcribed source", pr.file, id)
		}
	}
	for _, r := range pr.rows {
		if r.role != "*" && !p.IsRole(r.role) {
			if _, mapped := pr.roles[r.role]; !mapped {
				t.Fatalf("%s:%d: role %q is neither a role of the product nor mapped by #! role", pr.file, r.line, r.role)
			}
		}
	}

	// Every row is covered, in its direction.
	for _, r := range pr.rows {
		if !rowCovered(p, pr, r) {
			want := "-"
			if r.ports != nil {
				want = r.ports.String()
			}
			t.Errorf("%s:%d: no flow covers %s %s %s/%s (%s)", filepath.Base(pr.file), r.line, r.role, r.dir, r.proto, want, r.text)
		}
	}

	// No flow opens more than the rows give.
	defaults := map[string]bool{}
	for _, f := range p.DefaultFeatures() {
		defaults[f] = true
	}
	for i := range p.Flows {
		f := &p.Flows[i]
		if f.Internal {
			continue // opens nothing
		}
		if !pr.sources[f.Source] {
			if defaults[f.Feature] {
				t.Errorf("flow %s of default feature %s comes from source %s, which %s does not transcribe", f.ID, f.Feature, f.Source, pr.file)
			}
			continue
		}
		if pr.prose[f.ID] {
			continue
		}
		for _, pt := range f.Protocols {
			if msg := flowJustified(p, pr, f, pt); msg != "" {
				t.Errorf("flow %s (%s -> %s %s): %s", f.ID, f.From, f.To, pt, msg)
			}
		}
	}
	t.Logf("%s: %d rows covered, %d flows", p.Name, len(pr.rows), len(p.Flows))
}

func rowCovered(p *Product, pr *productRows, r productRow) bool {
	for i := range p.Flows {
		f := &p.Flows[i]
		end := f.To
		if r.dir == "out" {
			end = f.From
		}
		if !p.IsRole(end) || !pr.at(r, end) || !slices.Contains(f.Protocols, r.proto) {
			continue
		}
		switch {
		case r.proto.IsICMP():
			return true
		case r.ports == nil:
			// The document gives no number: the product picks the port
			// at run time, or the administrator does.
			if f.Random {
				return true
			}
		default:
			eff := p.DefaultPorts(f)
			if eff.Covers(r.ports) && (!eff.IsAll() || r.ports.IsAll()) {
				return true
			}
		}
	}
	return false
}

// flowJustified says what in the flow, for protocol pt, no row gives; ""
// if the rows give all of it. A row at either end of the flow justifies
// it: "in" at the role it goes to, "out" at the role it comes from.
func flowJustified(p *Product, pr *productRows, f *Flow, pt proto.Protocol) string {
	want := pt
	if pt == proto.ICMPv6 {
		// The documents say "ICMP" (ping) without an IP version.
		want = proto.ICMP
	}
	var rows []productRow
	for _, r := range pr.rows {
		if r.proto != want {
			continue
		}
		if (r.dir == "in" && p.IsRole(f.To) && pr.at(r, f.To)) || (r.dir == "out" && p.IsRole(f.From) && pr.at(r, f.From)) {
			rows = append(rows, r)
		}
	}
	if want.IsICMP() {
		if len(rows) == 0 {
			return "no ICMP row in this direction"
		}
		return ""
	}
	eff := p.DefaultPorts(f)
	var have ports.Set
	for _, r := range rows {
		if r.ports == nil {
			if f.Random {
				return "" // a port the document gives no number for
			}
			continue
		}
		have = have.Union(r.ports)
	}
	if !have.Covers(eff) {
		return fmt.Sprintf("opens %s, the rows in this direction give %s", eff, portsOrNone(have))
	}
	return ""
}

func portsOrNone(s ports.Set) string {
	if len(s) == 0 {
		return "none"
	}
	return s.String()
}

// seedProducts are the products testdata/seed_rows.tsv transcribes.
func seedProducts(t *testing.T) map[string]bool {
	t.Helper()
	data, err := os.ReadFile("testdata/transcriptions/seed_rows.tsv")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out[strings.SplitN(line, "\t", 2)[0]] = true
	}
	return out
}
