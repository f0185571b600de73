package catalog

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/portwall/portwall/rules/ports"
	"github.com/portwall/portwall/rules/proto"
)

// The transcriptions in testdata/transcriptions/*.tsv are the vendors' port
// tables as people who never saw the catalog wrote them down: one line per
// product[@version], role ("*": any), direction (in: the role listens; out:
// it connects), protocol, port ("-": ICMP, or for TCP/UDP the randomly
// assigned ports) and the row's text. A product without @version is its
// default version. Two tests hold the catalog to them:
//
//   - TestTranscriptionsCovered: every row is a flow of that version, in
//     that direction (the catalog leaves nothing of the document out);
//   - TestDefaultsExactToDocuments: everything the default features open
//     (ports, protocols, directions) is a row of the version's document,
//     unless the flow says it departs from it (the catalog adds nothing
//     silently). Rows name no peer: a port the document gives towards one
//     peer backs the same port, protocol and direction towards another
//     (FortiMail's TCP 53 to FortiGuard would back TCP 53 to the DNS
//     servers); package rules tests such cases one by one (TestAuditTable).
type transcribed struct {
	at                          string // file:line
	product, version            string
	role, dir, protocol, port   string
	text                        string
	protoValue                  proto.Protocol
	ports                       ports.Set // nil for "-"
	random                      bool      // "-" on TCP or UDP
	productMissing, roleMissing bool
}

func transcriptions(t *testing.T, c *Catalog) []transcribed {
	t.Helper()
	files, err := filepath.Glob("testdata/transcriptions/*.tsv")
	if err != nil || len(files) == 0 {
		t.Fatalf("transcriptions: %v %v", files, err)
	}
	var out []transcribed
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			at := fmt.Sprintf("%s:%d", filepath.Base(file), i+1)
			f := strings.Split(line, "\t")
			if len(f) != 6 {
				t.Fatalf("%s: %d fields, want 6", at, len(f))
			}
			r := transcribed{at: at, role: f[1], dir: f[2], protocol: f[3], port: f[4], text: f[5]}
			r.product, r.version, _ = strings.Cut(f[0], "@")
			p, ok := c.Product(r.product)
			if !ok {
				t.Errorf("%s: unknown product %q", at, r.product)
				continue
			}
			if r.version == "" {
				r.version = p.Version
			}
			if _, ok := p.LookupVersion(r.version); !ok && r.version != "" {
				t.Errorf("%s: unknown version %q of %s", at, r.version, r.product)
			}
			if r.role != "*" && !p.IsRole(r.role) {
				t.Errorf("%s: %s has no role %q (roles: %v)", at, r.product, r.role, p.RoleNames())
			}
			if r.dir != "in" && r.dir != "out" {
				t.Fatalf("%s: direction %q, want in or out", at, r.dir)
			}
			if r.protoValue, err = proto.Parse(r.protocol); err != nil {
				t.Fatalf("%s: %v", at, err)
			}
			if r.port == "-" {
				r.random = r.protoValue.HasPorts()
			} else {
				pr, err := ports.Parse(r.port)
				if err != nil {
					t.Fatalf("%s: %v", at, err)
				}
				r.ports = ports.NewSet(pr)
			}
			out = append(out, r)
		}
	}
	return out
}

// side reports whether the row is about this end of a flow: the flow
// comes into the row's role (in) or goes out of it (out). A flow between
// two roles is backed by the row of the one that listens or of the one
// that connects.
func (r transcribed) side(p *Product, f *Flow) bool {
	end := f.To
	if r.dir == "out" {
		end = f.From
	}
	return p.IsRole(end) && (r.role == "*" || r.role == end)
}

// sameProtocol reports whether a row's protocol is one of the flow's: a
// document's ICMP ping is ping over ICMPv6 too, on IPv6.
func (r transcribed) sameProtocol(pr proto.Protocol) bool {
	return r.protoValue == pr || r.protoValue == proto.ICMP && pr == proto.ICMPv6
}

func TestTranscriptionsCovered(t *testing.T) {
	t.Parallel()
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	rows := transcriptions(t, c)
	for _, r := range rows {
		p, ok := c.Product(r.product)
		if !ok {
			continue
		}
		v := p.InVersion(r.version)
		covered := false
		for i := range v.Flows {
			f := &v.Flows[i]
			if !r.side(v, f) || !slices.ContainsFunc(f.Protocols, r.sameProtocol) {
				continue
			}
			switch {
			case r.random:
				covered = covered || f.Random
			case r.ports == nil:
				covered = covered || len(f.Ports) == 0
			default:
				// A row is covered by the flow that opens that port, not
				// by an all-ports flow that happens to include it.
				covered = covered || f.Ports.Covers(r.ports) && !f.Ports.IsAll()
			}
		}
		if !covered {
			t.Errorf("%s: no flow of %s %s covers %s %s %s/%s (%s)", r.at, r.product, r.version, r.role, r.dir, r.protocol, r.port, r.text)
		}
	}
	if len(rows) < 175 {
		t.Errorf("only %d transcribed rows", len(rows))
	}
	t.Logf("%d transcribed rows covered", len(rows))
}

func TestDefaultsExactToDocuments(t *testing.T) {
	t.Parallel()
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	rows := transcriptions(t, c)
	checked, departures := 0, 0
	for _, p := range c.Products {
		versions := p.VersionNames()
		if len(versions) == 0 {
			versions = []string{""}
		}
		for _, version := range versions {
			var doc []transcribed
			for _, r := range rows {
				if r.product == p.Name && r.version == version {
					doc = append(doc, r)
				}
			}
			if len(doc) == 0 {
				if _, err := os.Stat(filepath.Join("testdata", "product_rows", p.Name+".tsv")); err == nil && version == "" {
					continue // TestProductRowsCovered holds it to its documents, both ways
				}
				t.Errorf("%s %s: no transcription of its document in testdata/transcriptions or testdata/product_rows", p.Name, version)
				continue
			}
			v := p.InVersion(version)
			for i := range v.Flows {
				f := &v.Flows[i]
				ft, _ := v.Feature(f.Feature)
				if !ft.Default || f.Internal || f.Deprecated {
					continue // opens nothing by default
				}
				if f.Departure != "" {
					departures++
					continue
				}
				open, ok := f.Default()
				if !ok {
					continue // the profile must choose
				}
				checked++
				for _, pr := range open.Protocols {
					var backed ports.Set
					random, icmp := false, false
					for _, r := range doc {
						if !r.sameProtocol(pr) || !r.side(v, f) {
							continue
						}
						switch {
						case r.random:
							random = true
						case r.ports == nil:
							icmp = true
						default:
							backed = backed.Union(r.ports)
						}
					}
					var missing string
					switch {
					case pr.IsICMP():
						if !icmp {
							missing = pr.String()
						}
					case f.Random:
						if !random {
							missing = pr.String() + " random ports"
						}
					case !backed.Covers(open.Ports):
						missing = pr.String() + " " + open.Ports.String()
					}
					if missing != "" {
						t.Errorf("%s %s: default feature %s opens %s (%s -> %s), which no row of the document gives: mark the flow as a departure, or move it to an opt-in feature",
							p.Name, version, f.Feature, missing, f.From, f.To)
					}
				}
			}
		}
	}
	if checked < 40 {
		t.Errorf("only %d default flows checked", checked)
	}
	t.Logf("%d default flows backed by their documents, %d departures excepted", checked, departures)
}
