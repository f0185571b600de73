package ports

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in, want, err string
	}{
		{in: "25", want: "25"},
		{in: "20010-20014", want: "20010-20014"},
		{in: "7072 - 7076", err: `invalid port "7072 - 7076": want a number 1-65535 or a range such as 7100-7150`},
		{in: " 22", err: `invalid port " 22": want a number 1-65535 or a range such as 7100-7150`},
		{in: "22 ", err: `invalid port "22 ": want a number 1-65535 or a range such as 7100-7150`},
		{in: "+22", err: `invalid port "+22": want a number 1-65535 or a range such as 7100-7150`},
		{in: "022", err: `invalid port "022": want a number 1-65535 or a range such as 7100-7150`},
		{in: "100000", err: `invalid port "100000": want a number 1-65535 or a range such as 7100-7150`},
		{in: "1-65535", want: "1-65535"},
		{in: "0", err: "port 0 out of range 1-65535"},
		{in: "65536", err: "port 65536 out of range 1-65535"},
		{in: "7150-7100", err: `reversed port range "7150-7100": 7150 is greater than 7100`},
		{in: "smtp", err: `invalid port "smtp": want a number 1-65535 or a range such as 7100-7150`},
		{in: "1-", err: `invalid port "1-": want a number 1-65535 or a range such as 7100-7150`},
	}
	for _, c := range cases {
		r, err := Parse(c.in)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("Parse(%q) error = %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || r.String() != c.want {
			t.Errorf("Parse(%q) = %v, %v; want %s", c.in, r, err, c.want)
		}
	}
}

func TestParseValue(t *testing.T) {
	t.Parallel()
	if r, err := ParseValue(int64(443)); err != nil || r != Single(443) {
		t.Errorf("got %v %v", r, err)
	}
	if _, err := ParseValue(int64(0)); err == nil || err.Error() != "port 0 out of range 1-65535" {
		t.Errorf("got %v", err)
	}
	if _, err := ParseValue(1.5); err == nil {
		t.Error("float accepted")
	}
}

func TestSet(t *testing.T) {
	t.Parallel()
	s := NewSet(Single(443), Range{20010, 20014}, Single(25), Single(26), Range{20012, 20020}, Single(443))
	if got := s.String(); got != "25-26,443,20010-20020" {
		t.Fatalf("NewSet = %s", got)
	}
	for p, want := range map[uint16]bool{24: false, 25: true, 26: true, 27: false, 443: true, 20015: true, 20021: false} {
		if s.Contains(p) != want {
			t.Errorf("Contains(%d) = %v", p, !want)
		}
	}
	if !s.Covers(NewSet(Single(25), Range{20011, 20019})) || s.Covers(NewSet(Range{440, 444})) || s.Covers(NewSet(Single(1))) {
		t.Error("Covers wrong")
	}
	if s.Len() != 2+1+11 {
		t.Errorf("Len = %d", s.Len())
	}
	if !NewSet(Range{1, 100}, Range{101, 65535}).IsAll() || s.IsAll() {
		t.Error("IsAll wrong")
	}
	if u := NewSet(Single(80)).Union(NewSet(Single(81))); u.String() != "80-81" {
		t.Errorf("Union = %s", u)
	}
	if got := s.Intersect(NewSet(Range{20, 30}, Range{440, 20012})); got.String() != "25-26,443,20010-20012" {
		t.Errorf("Intersect = %s", got)
	}
	if got := s.Intersect(NewSet(Single(1))); got != nil {
		t.Errorf("empty Intersect = %v", got)
	}
	if NewSet() != nil {
		t.Error("empty set not nil")
	}
}

// TestPattern: Pattern matches exactly the strings Parse accepts, but
// reversed ranges, so that the profile's schema and the loader agree.
func TestPattern(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(Pattern)
	check := func(s string) {
		_, err := Parse(s)
		reversed := err != nil && strings.HasPrefix(err.Error(), "reversed")
		if re.MatchString(s) != (err == nil || reversed) {
			t.Errorf("%q: Pattern matches: %v; Parse: %v", s, re.MatchString(s), err)
		}
	}
	for n := range 100001 {
		s := strconv.Itoa(n)
		check(s)
		check("1-" + s)
		if n < 1000 || n%997 == 0 || n > 65500 && n < 65600 {
			for _, v := range []string{"0" + s, "+" + s, " " + s, s + " ", s + "-65535", s + "-" + s, s + " - 1"} {
				check(v)
			}
		}
	}
	for _, s := range []string{"", "-", "1-", "-1", "1-2-3", "1--2", "smtp", "1,2", "１"} {
		check(s)
	}
}
