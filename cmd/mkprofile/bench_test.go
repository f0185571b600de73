package main

import (
	"fmt"
	"maps"
	"testing"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/nftables"
	"github.com/portwall/portwall/generators/targets"
	"github.com/portwall/portwall/profiles"
	"github.com/portwall/portwall/rules"
	"github.com/portwall/portwall/rules/catalog"
	"github.com/portwall/portwall/rules/ir"
)

// Benchmarks of portwall's stages on mkprofile's policies, the same
// functions the CLI calls, without the process around them (start-up,
// reading and writing files: bench.sh times whole runs):
//
//	go test -run '^$' -bench . -benchmem ./cmd/mkprofile
//	go test -run '^$' -bench 'Generate/nftables' -cpuprofile cpu.out ./cmd/mkprofile && go tool pprof -top cpu.out
//
// Rule counts are [[allow]] entries for one host, in both shapes: groups
// (-hosts 1 -groups 50, so that no two rules merge) and simple (-shape
// simple -hosts 1: one /24 and one TCP port each); the fleet is 2,000
// hosts running the four products (-hosts 2000 -products -rules 0
// -groups 50).

var ruleCounts = []int{10, 1000, 10000}

var shapes = []string{"groups", "simple"}

const benchHost = "host-01"

func ruleProfile(b *testing.B, n int) []byte { return shapeProfile(b, "groups", n) }

func shapeProfile(b *testing.B, shape string, n int) []byte {
	if shape == "simple" {
		return mk(b, "-shape", "simple", "-rules", fmt.Sprint(n), "-hosts", "1")
	}
	return mk(b, "-rules", fmt.Sprint(n), "-hosts", "1", "-groups", "50")
}

func fleetProfile(b *testing.B) []byte {
	return mk(b, "-hosts", "2000", "-products", "-rules", "0", "-groups", "50")
}

// BenchmarkLoad: the embedded catalog, and a profile decoded and
// validated (profiles.Parse).
func BenchmarkLoad(b *testing.B) {
	b.Run("catalog", func(b *testing.B) {
		for b.Loop() {
			if _, err := catalog.Load(); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, shape := range shapes {
		for _, n := range ruleCounts {
			b.Run(fmt.Sprintf("%s/rules=%d", shape, n), func(b *testing.B) {
				data := shapeProfile(b, shape, n)
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					if _, err := profiles.Parse("synthetic.toml", data); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkResolve: a parsed profile resolved against the catalog into
// the IR.
func BenchmarkResolve(b *testing.B) {
	cat, err := catalog.Load()
	if err != nil {
		b.Fatal(err)
	}
	for _, shape := range shapes {
		for _, n := range ruleCounts {
			b.Run(fmt.Sprintf("%s/rules=%d", shape, n), func(b *testing.B) {
				p, err := profiles.Parse("synthetic.toml", shapeProfile(b, shape, n))
				if err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					if _, err := rules.Resolve(p, cat); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// request is what generate --host asks of g: the host for a host-view
// backend, the network view for the others.
func request(g generators.Generator, rs *ir.Ruleset, s generators.Settings, hosts ...string) generators.Request {
	req := generators.Request{Ruleset: rs, Settings: s}
	if g.Caps().HostView {
		req.Hosts = hosts
	}
	return req
}

// render renders req as the CLI does, and returns the output size.
func render(g generators.Generator, req generators.Request) (int, error) {
	files, err := generators.Generate(g, req)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", g.Name(), err)
	}
	size := 0
	for _, f := range files {
		size += len(f.Contents)
	}
	return size, nil
}

// BenchmarkGenerate: every backend rendering one host (generate
// --host), capabilities check included. The nftables layout is the
// CLI's default, auto (readable at 10 rules, sets above 200 flow rules);
// nftables-readable forces the readable layout. The B/s column is output
// bytes.
//
// The simple shape renders with nftables and iptables, the targets
// compare-ferm.sh compares; it has no [fortigate] section.
func BenchmarkGenerate(b *testing.B) {
	for _, shape := range shapes {
		for _, n := range ruleCounts {
			rs, settings := resolveWith(b, "synthetic.toml", shapeProfile(b, shape, n))
			readable := maps.Clone(settings)
			readable[nftables.Section.Name()] = nftables.Settings{Layout: nftables.LayoutReadable}
			for _, g := range targets.All() {
				if shape == "simple" && g.Name() != "nftables" && g.Name() != "iptables" {
					continue
				}
				b.Run(fmt.Sprintf("%s/%s/rules=%d", shape, g.Name(), n), func(b *testing.B) {
					benchRender(b, g, request(g, rs, settings, benchHost))
				})
				if g.Name() == "nftables" {
					b.Run(fmt.Sprintf("%s/nftables-readable/rules=%d", shape, n), func(b *testing.B) {
						benchRender(b, g, request(g, rs, readable, benchHost))
					})
				}
			}
		}
	}
}

func benchRender(b *testing.B, g generators.Generator, req generators.Request) {
	size, err := render(g, req)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(size))
	for b.Loop() {
		if _, err := render(g, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFleet: 2,000 hosts running the four products. resolve is
// profiles.Parse and rules.Resolve; each target renders every host
// (generate --all-hosts); all renders every target side by side, as
// generate --target all --all-hosts does.
func BenchmarkFleet(b *testing.B) {
	data := fleetProfile(b)
	cat, err := catalog.Load()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("resolve", func(b *testing.B) {
		for b.Loop() {
			p, err := profiles.Parse("fleet.toml", data)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := rules.Resolve(p, cat); err != nil {
				b.Fatal(err)
			}
		}
	})
	rs, settings := resolveWith(b, "fleet.toml", data)
	for _, g := range targets.All() {
		b.Run(g.Name(), func(b *testing.B) {
			benchRender(b, g, generators.AllHosts(g, rs, settings))
		})
	}
	b.Run("all", func(b *testing.B) {
		for b.Loop() {
			if _, err := generators.GenerateAll(targets.All(), rs, settings); err != nil {
				b.Fatal(err)
			}
		}
	})
}
