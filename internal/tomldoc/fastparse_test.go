package tomldoc

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/BurntSushi/toml"
	"github.com/google/go-cmp/cmp"
	"github.com/pelletier/go-toml/v2/unstable"
)

// decoderValues is what BurntSushi/toml's decoder reads from data, the
// values fastParse must give (as plain makes them) whenever it takes the
// input.
func decoderValues(data []byte) (map[string]any, error) {
	var m map[string]any
	_, err := toml.Decode(string(data), &m)
	return m, err
}

// sameTime compares times as the profile reads them: the instant and the
// zone's name (the decoder's zones are its own values).
var sameTime = cmp.Comparer(func(a, b time.Time) bool {
	return a.Equal(b) && a.Location().String() == b.Location().String()
})

// checkAgrees fails when fastParse takes data but reads it otherwise than
// the decoder (or takes what the decoder refuses).
func checkAgrees(t *testing.T, name string, data []byte) (taken bool) {
	t.Helper()
	top, _, ok := fastParse(data, string(data))
	if !ok {
		return false
	}
	got, _ := plain(top)
	want, err := decoderValues(data)
	if err != nil {
		t.Errorf("%s: fastParse took what the decoder refuses (%v):\n%s", name, err, data)
		return true
	}
	if d := cmp.Diff(want, got, sameTime); d != "" {
		t.Errorf("%s: fastParse reads otherwise than the decoder (-decoder +fastParse):\n%s", name, d)
	}
	return true
}

// repoTOML lists the TOML files of the repository: catalog files,
// examples, test profiles.
func repoTOML(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != root {
			return fs.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".toml") {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			out[path] = data
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFastParseAgrees: on every TOML file of the repository, and on
// inputs that reach each of TOML's table rules, fastParse either leaves
// the input to the decoder or reads exactly what the decoder reads. The
// repository's valid files must be taken (or the fast path would be
// untested, and slow).
func TestFastParseAgrees(t *testing.T) {
	t.Parallel()
	files := repoTOML(t)
	if len(files) < 50 {
		t.Fatalf("only %d TOML files found", len(files))
	}
	taken, valid := 0, 0
	for name, data := range files {
		if checkAgrees(t, name, data) {
			taken++
		}
		if _, err := decoderValues(data); err == nil {
			valid++
			if _, _, ok := fastParse(data, string(data)); !ok {
				t.Logf("%s: left to the decoder", name)
			}
		}
	}
	// A few files use what fastParse leaves to the decoder on purpose
	// (such as floats, in tests of their refusal).
	if taken < valid*9/10 {
		t.Errorf("fastParse took %d of the %d files the decoder reads", taken, valid)
	}
	for _, in := range tableRuleInputs {
		checkAgrees(t, in, []byte(in))
	}
}

// tableRuleInputs reach TOML's rules on defining tables and keys, valid
// and not, and values of every kind.
var tableRuleInputs = []string{
	"a = 1\na = 2\n",
	"[a]\n[a]\n",
	"[a.b]\n[a]\n",
	"[a]\n[a.b]\n[a]\n",
	"[a]\nb = 1\n[a.b]\n",
	"[a]\nb.c = 1\n[a.b]\n",
	"[a]\nb.c = 1\nb.d = 2\n",
	"a.b = 1\n[a]\n",
	"a.b = 1\n[a.c]\n",
	"[a.b]\nc = 1\n[a]\nb.d = 2\n",
	"[[a]]\nb = 1\n[[a]]\nb = 2\n",
	"[[a]]\n[a]\n",
	"[a]\n[[a]]\n",
	"[[a]]\n[a.b]\nc = 1\n[[a]]\n[a.b]\nc = 2\n",
	"[[a.b]]\n[[a]]\n",
	"a = [1, 2]\n[[a]]\n",
	"a = {b = 1}\n[a.c]\n",
	"a = {b = 1}\na.c = 2\n",
	"a = {b = 1, b = 2}\n",
	"a = {b.c = 1, b.d = 2}\n",
	"a = {}\nb = []\nc = [[], [1], {x = 1}]\n",
	"a = [{b = 1}, {c = [2, 3]}]\n",
	"a = 0x7fffffffffffffff\nb = 0o17\nc = 0b101\nd = -9_223_372_036_854_775_808\ne = +7\n",
	"a = 0x8000000000000000\n",
	"a = 9223372036854775808\n",
	"a = 1.5\n",
	"a = 2027-03-31\nb = 2027-02-29\n",
	"a = 2027-02-30\n",
	"a = 2027-03-31T10:00:00\n",
	"a = 10:00:00\n",
	"a = 2027-03-31T10:00:00Z\n",
	"a = \"tab\\tquote\\\"\\u00e9\\U0001F600\"\nb = 'lit\\eral'\nc = \"\"\"\nmulti\\\n   line\"\"\"\nd = '''\nraw\n'''\n",
	"a = \"\\e\"\n",
	"a = \"\\x41\"\n",
	"\"quoted key\" = 1\n'lit key' = 2\n\"\" = 3\n[\"a.b\".c]\nd = 4\n",
	"a = true\nb = false\n",
	"a = {\n  b = 1,\n}\n",
	"a = [\n  1, # one\n  2,\n]\n",
	"a = 1 # comment\n# comment\n",
	"a = \"\xff\"\n",
	"# \xff\na = 1\n",
	"a = \"x\x00\"\n",
	"a = 1\r\nb = 2\r\n",
	"a = \"bad\\q\"\n",
	"[a]\nb = 1\n[a.b.c]\n",
	"[a.b.c]\n[a.b]\nc = 1\n",
	"x = 1\n[a]\n[b]\n[a.x]\n",
	// Tables of arrays of tables, which keep their keys in fields up to
	// maxSmall of them.
	"[[a]]\nb = 1\nb = 2\n",
	"[[a]]\nb.c = 1\nb.d = 2\n[[a]]\nb = 1\n",
	"[[a]]\n[[a.b]]\nc = 1\n[[a.b]]\nc = 2\n[a.d]\ne = 1\n[[a]]\nb = [1]\n",
	"[[a]]\nb = 1\n[a.c]\nd = 1\n[a.c]\n",
	"[[a]]\nb = {c = 1}\n[a.b]\n",
	"[[a]]\n" + manyKeys(maxSmall+1) + "k3 = 1\n",
	smallAndNot,
	// Tables that repeat the keys and values of the one before (like).
	"[[a]]\nb = \"x\"\nc = 1\n[[a]]\nb = \"x\"\nc = 2\n[[a]]\nc = \"x\"\nb = 'x'\n[[a]]\nb = \"\\u0078\"\nc = [\"x\"]\n",
	"[[a]]\nb = \"x\"\n[[a]]\nb = \"x\"\nb = \"x\"\n",
	"[[a]]\nb = \"x\"\n[[a]]\nd.b = \"x\"\nb = {c = \"x\"}\n",
	"[[a]]\nb = \"x\"\n[a.s]\nb = \"x\"\n[[a]]\nb = \"x\"\n[[z]]\nb = \"x\"\n[[a]]\nb = 1\n",
}

// smallAndNot has an array of tables that keep their keys in fields (a),
// and one of such a table and of one with more keys than fields holds (c).
var smallAndNot = "x = [1]\n[[a]]\n" + manyKeys(maxSmall) + "[[a]]\nb = 1\n[a.s]\nt = 1\n[[a.u]]\nv = 1\n" +
	"[[c]]\nb = 1\n[[c]]\n" + manyKeys(maxSmall+2)

// TestSmallTables: fastParse takes arrays of tables with few keys and
// with many, and unify decodes both into every kind of destination as the
// decoder's maps.
func TestSmallTables(t *testing.T) {
	if !checkAgrees(t, "smallAndNot", []byte(smallAndNot)) {
		t.Fatal("fastParse left smallAndNot to the decoder")
	}
	top, _, _ := fastParse([]byte(smallAndNot), smallAndNot)
	if a, ok := top["a"].([]*table); !ok || a[0].m != nil || a[1].m != nil {
		t.Errorf("a is %#v, want tables with their keys in fields", top["a"])
	}
	if c, ok := top["c"].([]*table); !ok || c[0].m != nil || c[1].m == nil {
		t.Errorf("c is %#v, want a table with its keys in fields and one with a map", top["c"])
	}
	want, err := decoderValues([]byte(smallAndNot))
	if err != nil {
		t.Fatal(err)
	}
	var asAny struct {
		A any              `toml:"a"`
		C []map[string]any `toml:"c"`
		X any              `toml:"x"`
	}
	var asMaps struct {
		A []map[string]any `toml:"a"`
		C any              `toml:"c"`
		X []any            `toml:"x"`
	}
	for _, v := range []any{&asAny, &asMaps} {
		f, errs := Parse("t.toml", []byte(smallAndNot))
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		if errs := f.Decode(v); len(errs) > 0 {
			t.Fatal(errs)
		}
	}
	got := map[string]any{"a": asAny.A, "c": asAny.C, "x": asAny.X}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("decoded into any (-decoder +got):\n%s", d)
	}
	got = map[string]any{"a": asMaps.A, "c": asMaps.C, "x": asMaps.X}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("decoded into maps (-decoder +got):\n%s", d)
	}
}

// manyKeys is n lines k0 = 0, k1 = 1...
func manyKeys(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "k%d = %d\n", i, i)
	}
	return b.String()
}

// FuzzFastParse: whatever fastParse takes, the decoder reads the same.
func FuzzFastParse(f *testing.F) {
	for _, in := range tableRuleInputs {
		f.Add([]byte(in))
	}
	f.Add([]byte(testInput))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkAgrees(t, "fuzz input", data)
	})
}

// TestTableSize: a table of an array of tables (one per [[allow]] rule of
// a profile) stays in the 48-byte size class.
func TestTableSize(t *testing.T) {
	if n := unsafe.Sizeof(table{}); n > 48 {
		t.Errorf("table is %d bytes, more than 48", n)
	}
}

// TestTextOf: keys and strings read as they are in the file share its
// text; those with escapes, and multi-line strings, are copies; every one
// reads as the parser's data.
func TestTextOf(t *testing.T) {
	cases := []struct {
		in     string
		shared bool
	}{
		{`bare-key_1 = 1`, true},
		{`"quoted key" = 1`, true},
		{`'literal key' = 1`, true},
		{`"esc\tkey" = 1`, false},
		{`k = "plain value"`, true},
		{`k = 'literal \n value'`, true},
		{`k = "été ✓"`, true},
		{`k = "tab\tquote\""`, false},
		{`k = "\u00e9"`, false},
		{`k = "é\\"`, false},
		{"k = \"\"\"\nmulti\"\"\"", false},
		{"k = '''\nraw\n'''", false},
		{"k = \"\"\"ab\"\"\"", false},
		{`k = ""`, true},
		{`k = ''`, true},
	}
	for _, c := range cases {
		b := builder{text: c.in}
		var p unstable.Parser
		p.Reset([]byte(c.in))
		if !p.NextExpression() {
			t.Fatalf("%s: %v", c.in, p.Error())
		}
		e := p.Expression()
		n := e.Value()
		if !strings.HasPrefix(c.in, "k = ") {
			it := e.Key()
			it.Next()
			n = it.Node()
		}
		got := b.textOf(n)
		if got != string(n.Data) {
			t.Errorf("%s: textOf is %q, the parser's data %q", c.in, got, n.Data)
		}
		start := unsafe.StringData(c.in)
		shared := len(got) > 0 && uintptr(unsafe.Pointer(unsafe.StringData(got)))-uintptr(unsafe.Pointer(start)) < uintptr(len(c.in))
		if len(got) > 0 && shared != c.shared {
			t.Errorf("%s: textOf shares the text: %v, want %v", c.in, shared, c.shared)
		}
	}
}

// TestSlab: take gives zero elements, never nil, with no room to append
// into the next part, from chunks that double up to maxSlab.
func TestSlab(t *testing.T) {
	var s slab[int]
	var parts [][]int
	for _, n := range []int{0, 1, 3, 2, minSlab, 1} {
		p := s.take(n)
		if p == nil || len(p) != n || cap(p) != n {
			t.Errorf("take(%d): len %d, cap %d, nil %v", n, len(p), cap(p), p == nil)
		}
		for i := range p {
			if p[i] != 0 {
				t.Errorf("take(%d)[%d] = %d, want 0", n, i, p[i])
			}
			p[i] = n
		}
		parts = append(parts, p)
	}
	_ = append(parts[2], 99)
	if parts[3][0] != 2 {
		t.Errorf("an append to one part wrote into the next: %v", parts[3])
	}
	for range 20 {
		s.take(maxSlab)
	}
	if s.next != maxSlab {
		t.Errorf("chunks of %d, want at most %d", s.next, maxSlab)
	}
}
