package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/portwall/portwall/cmd/portwall/skeleton"
	"github.com/portwall/portwall/generators"
)

func (e *env) initCommand() *cli.Command {
	return &cli.Command{
		Name:      "init",
		Usage:     "print a profile to start from: the products' roles, peers, features and options, with placeholders to fill in",
		ArgsUsage: "PRODUCT...",
		Description: `Prints a commented profile with a deployment of each PRODUCT (portwall
catalog list names them): hosts for every role the products' default
features need (one each, or N with --hosts), an address group for every
peer they need, bound in the deployments, and in comments every feature
with its title and whether it is on by default, the versions, modes and
options with their values and defaults, the choices among alternative
ports, the ports that may be moved, and the roles and peers that other
features need. A peer that stands for another named product's role is
bound to that deployment.

What only you know is a placeholder, "<fill in: WHAT>": the addresses, the
hosts' operating system, a port pool without a default. validate reports
each one left as "fill this in: WHAT" at its line, and nothing generates
until none is left. Filled in, the profile validates and generates.

With -o, the profile is written to FILE, which must not exist (--force
replaces it).

Exit status: 0, or 1 for an unknown product, a product named twice, or a
FILE that exists.

Examples:
   portwall init xeams > office-mail.toml
   portwall init fortimail --hosts 2 -o mail.toml
   portwall init forticlient-ems ad-ds`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "hosts", Value: 1, Usage: fmt.Sprintf("write `N` hosts for each role (an HA pair: 2; at most %d)", skeleton.MaxHosts)},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `FILE` instead of standard output"},
			&cli.BoolFlag{Name: "force", Usage: "with -o: replace FILE if it exists"},
		},
		Action: e.initProfile,
	}
}

func (e *env) initProfile(c *cli.Context) error {
	cat, err := loadCatalog(c)
	if err != nil {
		return err
	}
	command := strings.Join(append([]string{"portwall init"}, c.Args().Slice()...), " ")
	if n := c.Int("hosts"); n != 1 {
		command += fmt.Sprintf(" --hosts %d", n)
	}
	data, err := skeleton.Profile(skeleton.Request{Catalog: cat, Products: c.Args().Slice(), Hosts: c.Int("hosts"), Command: command})
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	out := c.String("output")
	if out == "" || out == "-" {
		_, err := e.stdout.Write(data)
		return err
	}
	// A profile is edited by hand after init: never overwrite one unasked.
	if _, err := os.Lstat(out); err == nil && !c.Bool("force") {
		return fmt.Errorf("init: %s exists: init does not replace a profile; choose another FILE, or pass --force", out)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("init: %w", err)
	}
	return writeFiles(filepath.Dir(out), []generators.File{{Name: filepath.Base(out), Contents: data}})
}
