package main

import (
	"fmt"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/rules/catalog"
	"github.com/portwall/portwall/rules/catalog/firewalld"
)

func (e *env) importFirewalldCommand() *cli.Command {
	return &cli.Command{
		Name:      "import-firewalld",
		Usage:     "convert firewalld service files into a services catalog file for --catalog",
		ArgsUsage: "DIR",
		Description: `Reads the firewalld service definitions DIR/*.xml (firewalld ships them in
/usr/lib/firewalld/services; see firewalld.service(5)) and writes one
services catalog file to standard output, or to the file given with --out
(written to a temporary file and renamed into place). Put it in a directory
of its own and pass that with --catalog: a profile's [[allow]] may then name
the services, and they replace built-in services of the same name.

TCP and UDP ports become the service's ports; includes are flattened.
Everything else (other protocols, source ports, destination addresses,
conntrack helpers and modules, unresolvable includes) is listed under
unsupported, never dropped: a profile that names such a service is refused.
Service names are the file names, lower-cased, other characters than
letters and digits turned into dashes; a file that cannot be read or named
that way is an error.

Exit status: 0, or 1 when a file cannot be read or converted.

Examples:
   portwall catalog import-firewalld /usr/lib/firewalld/services --out site/firewalld.toml
   portwall --catalog site validate profile.toml`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "write to `FILE` instead of standard output"},
		},
		Action: e.importFirewalld,
	}
}

func (e *env) importFirewalld(c *cli.Context) error {
	if c.NArg() != 1 {
		return fmt.Errorf("catalog import-firewalld: want one DIR argument, got %d", c.NArg())
	}
	dir := c.Args().First()
	files, err := firewalld.ReadDir(dir)
	if err != nil {
		return err
	}
	services, err := firewalld.Convert(dir, files)
	if err != nil {
		return err
	}
	data, err := firewalld.Encode(dir, services)
	if err != nil {
		return err
	}
	// What is written must load: check it the way --catalog will.
	if _, errs := catalog.ParseFile("import-firewalld output", data); errs != nil {
		return fmt.Errorf("internal error: the converted catalog does not load: %w", errs.Err())
	}
	out := c.String("out")
	if out == "" {
		_, err := e.stdout.Write(data)
		return err
	}
	if err := writeFiles(filepath.Dir(out), []generators.File{{Name: filepath.Base(out), Contents: data}}); err != nil {
		return err
	}
	full := 0
	for i := range services {
		if services[i].Full() {
			full++
		}
	}
	e.info("Wrote %s: %d services, %d in full, %d with parts portwall cannot express.\n", out, len(services), full, len(services)-full)
	return nil
}
