package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/portwall/portwall/internal/live"
	"github.com/portwall/portwall/internal/netns"
	"github.com/portwall/portwall/internal/proof"
	"github.com/portwall/portwall/rules/ir"
)

// verify --alongside: another firewall's ruleset, loaded next to the
// rules in the host's namespace of the packet proof.

// alongsideFile is one --alongside file.
type alongsideFile struct {
	name string
	kind string // nft, iptables, ip6tables
	data []byte
}

var alongsideKinds = []string{"nft", "iptables", "ip6tables"}

// readAlongside reads the files, each named FILE or KIND:FILE. Without a
// kind, a file whose first statement starts a table (`*filter`) is an
// iptables-save file, of IPv6 when the file says ip6tables (its name, or
// the header ip6tables-save writes) or holds ICMPv6 rules; anything else
// is nft syntax.
func readAlongside(args []string) ([]alongsideFile, error) {
	var out []alongsideFile
	for _, a := range args {
		f := alongsideFile{name: a}
		if k, rest, ok := strings.Cut(a, ":"); ok && (k == "nft" || k == "iptables" || k == "ip6tables") {
			f.kind, f.name = k, rest
		}
		data, err := os.ReadFile(f.name)
		if err != nil {
			return nil, fmt.Errorf("--alongside: %w", err)
		}
		f.data = data
		if f.kind == "" {
			f.kind = guessKind(filepath.Base(f.name), data)
		}
		out = append(out, f)
	}
	return out, nil
}

func guessKind(name string, data []byte) string {
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if !strings.HasPrefix(l, "*") {
			return "nft"
		}
		break
	}
	if strings.Contains(name, "ip6tables") || bytes.Contains(data, []byte("ip6tables-save")) ||
		bytes.Contains(data, []byte("icmp6")) || bytes.Contains(data, []byte("ipv6-icmp")) {
		return "ip6tables"
	}
	return "iptables"
}

// command loads the file in the host's namespace. iptables files go
// through iptables-nft: the coexistence check reads nftables, and the
// proof must load what the check read.
func (f alongsideFile) command() proof.Command {
	switch f.kind {
	case "iptables":
		return proof.Command{Argv: []string{"iptables-nft-restore"}, Stdin: f.data}
	case "ip6tables":
		return proof.Command{Argv: []string{"ip6tables-nft-restore"}, Stdin: f.data}
	}
	return proof.Command{Argv: []string{"nft", "-f", "-"}, Stdin: f.data}
}

// dropOwnTable removes a table inet portwall that an alongside file (a
// host's whole `nft list ruleset`) brought: the profile's rules stand for
// it.
var dropOwnTable = proof.Command{Argv: []string{"sh", "-c", "! nft list table inet portwall >/dev/null 2>&1 || nft delete table inet portwall"}}

var scratchSeq atomic.Int64

// alongsideCheck runs the coexistence check of host's flows against the
// files, loaded into a namespace of their own, and returns its report
// for verify's output.
func alongsideCheck(ctx context.Context, rs *ir.Ruleset, host string, files []alongsideFile) (string, error) {
	v, err := rs.HostView(host)
	if err != nil {
		return "", err
	}
	ns, err := netns.Create(ctx, fmt.Sprintf("pwcoex-%d-%d", os.Getpid(), scratchSeq.Add(1)))
	if err != nil {
		return "", err
	}
	defer ns.Remove()
	var names []string
	for _, f := range files {
		c := f.command()
		if _, err := ns.Exec(ctx, c.Stdin, c.Argv...); err != nil {
			return "", fmt.Errorf("--alongside %s: loading it: %w", f.name, err)
		}
		names = append(names, f.name)
	}
	if _, err := ns.Exec(ctx, nil, dropOwnTable.Argv...); err != nil {
		return "", err
	}
	conn, err := live.Open(ns.Name)
	if err != nil {
		return "", err
	}
	others, err := conn.ReadOthers()
	conn.Close()
	if err != nil {
		return "", fmt.Errorf("--alongside: reading %s: %w", strings.Join(names, ", "), err)
	}
	var b bytes.Buffer
	c := checkCoexistence(others, v, nil)
	if len(c.Chains) == 0 {
		fmt.Fprintf(&b, "portwall: %s hook neither input nor output: they cannot drop what host %s allows.\n", strings.Join(names, ", "), host)
		return b.String(), nil
	}
	c.write(&b, fmt.Sprintf("the tables of %s hook host %s's input and output", strings.Join(names, ", "), host))
	return b.String(), nil
}
