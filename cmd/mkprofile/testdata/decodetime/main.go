// Command decodetime times, inside one process, what decoding a profile
// costs: go-toml's parser alone over the bytes (lexing and parsing, the
// floor of any decoder), tomldoc's decode into the profile's schema, and
// profiles.Parse (decode and checks). before-after.sh builds it against
// each revision it compares (it lives in testdata so that go build ./...
// leaves it out: it copies the profile's schema, which is unexported).
//
//	decodetime FILE [ITERATIONS]
//
// prints three medians in milliseconds: lex decode parse.
package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/pelletier/go-toml/v2/unstable"
	"github.com/portwall/portwall/internal/tomldoc"
	"github.com/portwall/portwall/profiles"
)

// schema mirrors profiles' fileSchema: the same keys and field types.
type schema struct {
	Name        string `toml:"name"`
	Description string `toml:"description"`
	Defaults    struct {
		Input      string `toml:"input"`
		Output     string `toml:"output"`
		LogDropped *bool  `toml:"log_dropped"`
		FQDN       string `toml:"fqdn"`
		Targets    any    `toml:"targets"`
		OS         string `toml:"os"`
	} `toml:"defaults"`
	Groups map[string]any `toml:"groups"`
	Hosts  map[string]struct {
		Description string `toml:"description"`
		Addresses   any    `toml:"addresses"`
		Targets     any    `toml:"targets"`
		OS          string `toml:"os"`
	} `toml:"hosts"`
	Deployments []struct {
		Name        string         `toml:"name"`
		Product     string         `toml:"product"`
		Mode        string         `toml:"mode"`
		Features    any            `toml:"features"`
		Deprecated  any            `toml:"deprecated"`
		Roles       map[string]any `toml:"roles"`
		Peers       map[string]any `toml:"peers"`
		Ports       map[string]any `toml:"ports"`
		Choose      map[string]any `toml:"choose"`
		Options     map[string]any `toml:"options"`
		Version     string         `toml:"version"`
		RandomPorts string         `toml:"random_ports"`
	} `toml:"deployment"`
	Allow []struct {
		From      any    `toml:"from"`
		To        any    `toml:"to"`
		Service   any    `toml:"service"`
		Protocol  any    `toml:"protocol"`
		Ports     any    `toml:"ports"`
		ICMPTypes any    `toml:"icmp_types"`
		Comment   string `toml:"comment"`
		Owner     string `toml:"owner"`
		Ticket    string `toml:"ticket"`
		Expires   any    `toml:"expires"`
	} `toml:"allow"`
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: decodetime FILE [ITERATIONS]")
		os.Exit(2)
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	n := 15
	if len(os.Args) > 2 {
		n, _ = strconv.Atoi(os.Args[2])
	}
	lex := median(n, func() {
		var p unstable.Parser
		p.Reset(data)
		for p.NextExpression() {
		}
		if p.Error() != nil {
			panic(p.Error())
		}
	})
	decode := median(n, func() {
		f, errs := tomldoc.Parse("p.toml", data)
		if errs != nil {
			panic(errs)
		}
		var s schema
		if errs := f.Decode(&s); errs != nil {
			panic(errs)
		}
	})
	parse := median(n, func() {
		if _, err := profiles.Parse("p.toml", data); err != nil {
			panic(err)
		}
	})
	fmt.Printf("%.2f %.2f %.2f\n", lex, decode, parse)
}

// median runs f n times and returns the median in milliseconds.
func median(n int, f func()) float64 {
	var ds []float64
	for range n {
		start := time.Now()
		f()
		ds = append(ds, float64(time.Since(start).Microseconds())/1000)
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}
