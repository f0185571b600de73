package generators

import (
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/portwall/portwall/rules/ir"
)

// fake is a backend that counts its renders and writes one file named
// after itself.
type fake struct {
	name    string
	caps    Caps
	renders *atomic.Int32
}

func (f fake) Name() string     { return f.name }
func (f fake) Caps() Caps       { return f.caps }
func (f fake) Section() Section { return nil }
func (f fake) Generate(req Request) ([]File, error) {
	f.renders.Add(1)
	return []File{{Name: f.name, Contents: []byte(strings.Join(req.Hosts, ","))}}, nil
}

func newFake(name string, caps Caps) fake { return fake{name, caps, new(atomic.Int32)} }

// TestGenerateChecksFirst: what Check refuses is never rendered.
func TestGenerateChecksFirst(t *testing.T) {
	t.Parallel()
	rs := &ir.Ruleset{}
	hostsOnly := newFake("hosts-only", Caps{HostView: true})
	if _, err := Generate(hostsOnly, Request{Ruleset: rs}); err == nil || !strings.Contains(err.Error(), "renders hosts") {
		t.Errorf("network view from a host backend: err = %v, want Check's refusal", err)
	}
	if n := hostsOnly.renders.Load(); n != 0 {
		t.Errorf("rendered %d times after Check refused", n)
	}
	network := newFake("network", Caps{NetworkView: true})
	if files, err := Generate(network, Request{Ruleset: rs}); err != nil || len(files) != 1 {
		t.Errorf("network view: %v, %d files", err, len(files))
	}
}

func TestAllHosts(t *testing.T) {
	t.Parallel()
	rs := &ir.Ruleset{Hosts: []*ir.Host{{Name: "a"}, {Name: "b"}}}
	if got := AllHosts(newFake("h", Caps{HostView: true}), rs, nil).Hosts; !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("host backend: hosts %v, want [a b]", got)
	}
	if got := AllHosts(newFake("n", Caps{NetworkView: true}), rs, nil).Hosts; got != nil {
		t.Errorf("network backend: hosts %v, want none (the network view)", got)
	}
}

// TestGenerateAll: files come back in the order of the backends, and
// every backend's refusal is reported, not only the first.
func TestGenerateAll(t *testing.T) {
	t.Parallel()
	rs := &ir.Ruleset{Hosts: []*ir.Host{{Name: "a"}, {Name: "b"}}}
	h, n := newFake("h", Caps{HostView: true}), newFake("n", Caps{NetworkView: true})
	out, err := GenerateAll([]Generator{n, h}, rs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[0][0].Name != "n" || string(out[1][0].Contents) != "a,b" {
		t.Errorf("files %v, want n's then h's for hosts a,b", out)
	}
	bad1, bad2 := newFake("bad1", Caps{}), newFake("bad2", Caps{})
	_, err = GenerateAll([]Generator{bad1, h, bad2}, rs, nil)
	if err == nil || !strings.Contains(err.Error(), "bad1") || !strings.Contains(err.Error(), "bad2") {
		t.Errorf("err = %v, want both refusals", err)
	}
}
