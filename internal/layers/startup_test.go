package layers

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// costlyAtInit are calls that must not run when a package is initialised:
// every run of every command links every backend and pays for their
// package variables before main starts. Compiled at init, 45 regexps and
// one HTML template took 2.5 ms of each run's 9 (issue 18: start-up); they
// are compiled on first use (sync.OnceValue) instead. Map literals are
// held to the same rule (the runtime builds them at initialisation: about
// 0.2 ms of every run before they went).
var costlyAtInit = []string{"regexp.MustCompile", "regexp.Compile", "template.Must", "template.New"}

// TestNothingCostlyAtInit: no package-level variable of the module's
// non-test code is initialised with a call in costlyAtInit or a map
// literal (inside a function literal, as sync.OnceValue takes, it runs
// later and is fine).
func TestNothingCostlyAtInit(t *testing.T) {
	t.Parallel()
	root := "../.."
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			// Test kits and the benchmark profile writer are not linked
			// into portwall.
			switch rel, _ := filepath.Rel(root, path); {
			case strings.HasPrefix(d.Name(), ".") && path != root, d.Name() == "testdata",
				rel == filepath.Join("internal", "testkit"), rel == filepath.Join("cmd", "mkprofile"):
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		n++
		for _, c := range costlyInits(t, path, nil) {
			t.Errorf("%s: package variable %s is initialised with %s at start-up; build it on first use (sync.OnceValue), or make a table keyed by small integers an array", c.pos, c.name, c.call)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 100 {
		t.Fatalf("read only %d files", n)
	}
}

// TestCostlyInitsCaught: the check finds what it looks for, and leaves
// a function literal alone.
func TestCostlyInitsCaught(t *testing.T) {
	t.Parallel()
	src := `package p

import (
	"regexp"
	"sync"
)

var a = regexp.MustCompile("x")

var (
	b, c = 1, regexp.MustCompile("y")
	d    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile("z") })
	e    = map[string]int{"x": 1}
	f    = sync.OnceValue(func() map[string]int { return map[string]int{"x": 1} })
	g    = [...]string{1: "x"}
)
`
	var got []string
	for _, c := range costlyInits(t, "p.go", []byte(src)) {
		got = append(got, c.name+" "+c.call)
	}
	if strings.Join(got, ", ") != "a regexp.MustCompile, c regexp.MustCompile, e a map literal" {
		t.Errorf("found %q", got)
	}
}

type costly struct {
	pos        token.Position
	name, call string
}

// costlyInits parses a file (src, or the file at path when nil) and
// returns its package variables initialised with a costly call.
func costlyInits(t *testing.T, path string, src []byte) []costly {
	t.Helper()
	fset := token.NewFileSet()
	var f *ast.File
	var err error
	if src != nil {
		f, err = parser.ParseFile(fset, path, src, 0)
	} else {
		f, err = parser.ParseFile(fset, path, nil, 0)
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []costly
	for _, decl := range f.Decls {
		g, ok := decl.(*ast.GenDecl)
		if !ok || g.Tok != token.VAR {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, v := range vs.Values {
				ast.Inspect(v, func(n ast.Node) bool {
					switch n := n.(type) {
					case *ast.FuncLit:
						return false
					case *ast.CompositeLit:
						// The runtime builds a map literal's map at
						// initialisation: hashing and allocating every
						// entry, on every run.
						if _, isMap := n.Type.(*ast.MapType); isMap && i < len(vs.Names) {
							out = append(out, costly{fset.Position(n.Pos()), vs.Names[i].Name, "a map literal"})
						}
					case *ast.CallExpr:
						if sel, ok := n.Fun.(*ast.SelectorExpr); ok {
							if x, ok := sel.X.(*ast.Ident); ok {
								call := x.Name + "." + sel.Sel.Name
								for _, c := range costlyAtInit {
									if call == c && i < len(vs.Names) {
										out = append(out, costly{fset.Position(n.Pos()), vs.Names[i].Name, call})
									}
								}
							}
						}
					}
					return true
				})
			}
		}
	}
	return out
}
