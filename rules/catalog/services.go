package catalog

import (
	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/rules/ports"
)

// servicesFile checks a file with [[service]] tables.
func (c *checker) servicesFile(f *fileSchema) []*Service {
	// The top-level keys of a product file, which a services file may not
	// have.
	productKeys := []struct {
		key string
		set bool
	}{
		{"name", f.Name != ""}, {"title", f.Title != ""}, {"vendor", f.Vendor != ""}, {"summary", f.Summary != ""},
		{"modes", f.Modes != nil}, {"default_mode", f.DefaultMode != ""}, {"option", f.Options != nil},
		{"role", f.Roles != nil}, {"peer", f.Peers != nil}, {"feature", f.Features != nil}, {"flow", f.Flows != nil},
	}
	for _, k := range productKeys {
		if k.set {
			c.doc.KeyErrorf(&c.errs, []any{k.key}, "%q is a product key, but this file has [[service]] tables: a services file holds only [[service]] and [[source]]; put products in files of their own", k.key)
		}
	}
	sources := map[string]Source{}
	var ids []string
	for i, s := range f.Sources {
		c.name([]any{"source", i, "id"}, "source", s.ID)
		if _, dup := sources[s.ID]; dup {
			c.errorf([]any{"source", i, "id"}, "duplicate source %q", s.ID)
		}
		if s.Title == "" {
			c.errorf([]any{"source", i}, "source %q has no title", s.ID)
		}
		sources[s.ID] = Source(s)
		ids = append(ids, s.ID)
	}
	var out []*Service
	seen := map[string]bool{}
	for i := range f.Services {
		if s, ok := c.service([]any{"service", i}, &f.Services[i], sources, ids, seen); ok {
			out = append(out, s)
		}
	}
	return out
}

func (c *checker) service(at []any, f *serviceSchema, sources map[string]Source, ids []string, seen map[string]bool) (*Service, bool) {
	n := len(c.errs)
	key := func(k ...any) []any { return append(append([]any(nil), at...), k...) }
	s := &Service{Name: f.Name, Title: f.Title, Row: f.Row, Unsupported: f.Unsupported, pos: c.doc.Pos(key("name")...)}
	c.name(key("name"), "service", f.Name)
	c.unique(seen, key("name"), "service", f.Name)
	if f.Title == "" {
		c.errorf(at, "service %q has no title", f.Name)
	}
	src, ok := sources[f.Source]
	switch {
	case f.Source == "":
		c.errorf(at, "service %q has no source: name the [[source]] its ports come from", f.Name)
	case !ok:
		c.errorf(key("source"), "service %q: unknown source %q%s", f.Name, f.Source, diag.DidYouMean(f.Source, ids))
	}
	s.Source = src
	s.TCP = c.servicePorts(key("tcp"), f.TCP)
	s.UDP = c.servicePorts(key("udp"), f.UDP)
	for i, u := range f.Unsupported {
		if u == "" {
			c.errorf(key("unsupported", i), "service %q: empty unsupported reason: say what portwall cannot express", f.Name)
		}
	}
	// Ports that failed to parse are reported already.
	if f.TCP == nil && f.UDP == nil && len(f.Unsupported) == 0 {
		c.errorf(at, "service %q has no tcp or udp ports", f.Name)
	}
	return s, len(c.errs) == n
}

func (c *checker) servicePorts(at []any, vs []any) ports.Set {
	if vs != nil && len(vs) == 0 {
		c.errorf(at, "empty port list: leave the key out instead")
	}
	var rs []ports.Range
	for i, v := range vs {
		r, err := ports.ParseValue(v)
		if err != nil {
			c.errorf(append(append([]any(nil), at...), i), "%v", err)
			continue
		}
		rs = append(rs, r)
	}
	return ports.NewSet(rs...)
}
