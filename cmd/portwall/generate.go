package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/targets"
	"github.com/portwall/portwall/profiles/source"
)

func (e *env) generateCommand() *cli.Command {
	return &cli.Command{
		Name:      "generate",
		Usage:     "write firewall rules for one host, or for all hosts into a directory",
		ArgsUsage: "PROFILE",
		Description: fmt.Sprintf(`Resolves the profile and renders it with the --target backend (%s).

With --host NAME the ruleset of that host goes to standard output, or to the
file given with -o. With --all-hosts every host's ruleset is written to
--out-dir as <host>.<ext> (%s). Targets for gateways render
the network view (every rule between every endpoint) without --host, and
write one file with --all-hosts; the json target without --host prints the
network view too.

Files are written only when everything succeeded: each goes to a temporary
file first and is renamed into place.

Examples:
   portwall generate examples/fortimail-ha.toml --target nftables --host fml1
   portwall generate examples/site.toml --target nftables --all-hosts --out-dir out/`,
			strings.Join(targets.Names(), ", "), hostExts()),
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "target", Aliases: []string{"t"}, Value: "nftables", Usage: "backend: " + strings.Join(targets.Names(), ", ")},
			&cli.StringFlag{Name: "host", Usage: "render host `NAME`"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `FILE` instead of standard output"},
			&cli.BoolFlag{Name: "all-hosts", Usage: "render every host of the profile"},
			&cli.StringFlag{Name: "out-dir", Usage: "with --all-hosts: the `DIR`ectory to write <host> files to"},
			layoutFlag,
		},
		Action: e.generate,
	}
}

// hostExts describes the file each host target writes.
func hostExts() string {
	var out []string
	for _, g := range targets.All() {
		if c := g.Caps(); c.HostView {
			out = append(out, g.Name()+": "+c.Ext)
		}
	}
	return strings.Join(out, ", ")
}

func (e *env) generate(c *cli.Context) error {
	g, ok := targets.Lookup(c.String("target"))
	if !ok {
		return fmt.Errorf("unknown target %q%s (targets: %s)", c.String("target"),
			source.DidYouMean(c.String("target"), targets.Names()), strings.Join(targets.Names(), ", "))
	}
	host, all := c.String("host"), c.Bool("all-hosts")
	switch {
	case host != "" && all:
		return errors.New("--host and --all-hosts exclude each other")
	case all && c.String("output") != "":
		return errors.New("--all-hosts writes one file per host: use --out-dir, not -o")
	case all && c.String("out-dir") == "":
		return errors.New("--all-hosts needs --out-dir DIR")
	case !all && c.String("out-dir") != "":
		return errors.New("--out-dir goes with --all-hosts")
	}
	_, rs, err := e.resolve(c)
	if err != nil {
		return err
	}
	req := generators.Request{Ruleset: rs}
	switch {
	case all && !g.Caps().HostView:
		// A network backend renders everything into one file.
	case all:
		req.Hosts = rs.HostNames()
		if len(req.Hosts) == 0 {
			return errors.New("the profile has no hosts")
		}
	case host != "":
		if _, ok := rs.Host(host); !ok {
			return fmt.Errorf("unknown host %q%s (hosts: %s)", host, source.DidYouMean(host, rs.HostNames()), strings.Join(rs.HostNames(), ", "))
		}
		req.Hosts = []string{host}
	}
	if err := generators.Check(g, req); err != nil {
		return err
	}
	files, err := g.Generate(req)
	if err != nil {
		return err
	}
	if all {
		return writeFiles(c.String("out-dir"), files)
	}
	if len(files) != 1 {
		return fmt.Errorf("internal error: target %s returned %d files for one output", g.Name(), len(files))
	}
	if out := c.String("output"); out != "" {
		return writeFiles(filepath.Dir(out), []generators.File{{Name: filepath.Base(out), Contents: files[0].Contents}})
	}
	_, err = e.stdout.Write(files[0].Contents)
	return err
}

// writeFiles writes every file into dir without ever leaving a partial
// file: each is written to a temporary file in dir, and only when all are
// written are they renamed into place.
func writeFiles(dir string, files []generators.File) (err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	temps := make([]string, 0, len(files))
	defer func() {
		if err != nil {
			for _, t := range temps {
				os.Remove(t)
			}
		}
	}()
	for _, f := range files {
		if f.Name != filepath.Base(f.Name) || f.Name == "." || f.Name == ".." {
			return fmt.Errorf("internal error: output file name %q is not a plain name", f.Name)
		}
		tmp, err := os.CreateTemp(dir, "."+f.Name+".tmp*")
		if err != nil {
			return err
		}
		temps = append(temps, tmp.Name())
		if _, err := tmp.Write(f.Contents); err != nil {
			tmp.Close()
			return err
		}
		if err := tmp.Chmod(0o644); err != nil {
			tmp.Close()
			return err
		}
		if err := tmp.Close(); err != nil {
			return err
		}
	}
	for i, f := range files {
		if err := os.Rename(temps[i], filepath.Join(dir, f.Name)); err != nil {
			return err
		}
	}
	temps = nil
	return nil
}
