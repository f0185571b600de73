package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/portwall/portwall/cmd/portwall/profileref"
	"github.com/portwall/portwall/generators"
	"github.com/portwall/portwall/generators/targets"
	"github.com/portwall/portwall/internal/diag"
	"github.com/portwall/portwall/profiles"
	"github.com/portwall/portwall/rules/catalog"
	"github.com/portwall/portwall/rules/lint"
)

// The profile's reference as the commands give it: `portwall schema` (the
// JSON Schema for editors) and `portwall man profile` (portwall-profile(5)).

func (e *env) schemaCommand() *cli.Command {
	return &cli.Command{
		Name:  "schema",
		Usage: "print the profile's JSON Schema, for TOML editors (taplo, Even Better TOML)",
		Description: `Prints a JSON Schema (draft-07) of the profile: every key with its type,
allowed values, default and meaning, generated from the definitions that
check a profile and the registered backends' sections. Editors that read it
complete keys and values, show each key's meaning and mark unknown keys,
wrong types and values outside a key's set. Product and service names from
the catalog (and from --catalog DIR) are offered, not required: portwall
validate checks them, and what else a schema cannot (names that refer to
the profile's hosts and groups, the catalog's features and roles).

With taplo or Even Better TOML, write the schema to a file and name it on the
first line of a profile, relative to the profile:

   #:schema ./portwall-profile.schema.json

Output goes to standard output, or to the file given with -o (written to a
temporary file and renamed into place).

Exit status: 0, or 1 when the schema cannot be written.

Examples:
   portwall schema -o portwall-profile.schema.json
   portwall schema --catalog site-catalog/ > portwall-profile.schema.json`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `FILE` instead of standard output"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return fmt.Errorf("schema takes no arguments, found %q", c.Args().First())
			}
			ref, err := profileReferenceOf(c)
			if err != nil {
				return err
			}
			data, err := ref.Schema()
			if err != nil {
				return err
			}
			if out := c.String("output"); out != "" {
				return writeFiles(filepath.Dir(out), []generators.File{{Name: filepath.Base(out), Contents: data}})
			}
			_, err = e.stdout.Write(data)
			return err
		},
	}
}

// manProfile prints portwall-profile(5).
func (e *env) manProfile(c *cli.Context) error {
	ref, err := profileReferenceOf(c)
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(e.stdout, ref.Man())
	return err
}

// profileReferenceOf is the profile's reference with the catalog of the
// command line: the built-in one and --catalog DIR.
func profileReferenceOf(c *cli.Context) (*profileref.Reference, error) {
	cat, err := loadCatalog(c)
	if err != nil {
		return nil, err
	}
	return profileReference(cat)
}

// profileReference is the profile's reference with the registered
// backends' sections, the target names, cat's products and services, and
// the lint codes.
func profileReference(cat *catalog.Catalog) (*profileref.Reference, error) {
	var in profileref.Input
	all := targets.All()
	for _, sec := range generators.Sections(all) {
		s := profileref.Section{Section: sec}
		for _, g := range all {
			if g.Section() != nil && g.Section().Name() == sec.Name() {
				s.Targets = append(s.Targets, g.Name())
			}
		}
		in.Sections = append(in.Sections, s)
	}
	in.Names = map[profiles.Names][]profileref.Named{}
	for _, t := range targets.Names() {
		// What a host may declare: the backends that write hosts' rules
		// (declaredTargets refuses the others).
		if g, _ := targets.Lookup(t); g.Caps().HostView {
			in.Names[profiles.NamesTargets] = append(in.Names[profiles.NamesTargets], profileref.Named{Name: t})
		}
	}
	for _, name := range cat.Names() {
		p, _ := cat.Product(name)
		in.Names[profiles.NamesProducts] = append(in.Names[profiles.NamesProducts], profileref.Named{Name: name, Doc: p.Title})
	}
	for _, name := range cat.ServiceNames() {
		s, _ := cat.Service(name)
		in.Names[profiles.NamesServices] = append(in.Names[profiles.NamesServices], profileref.Named{Name: name, Doc: s.Title})
	}
	for _, ch := range lint.Checks {
		in.Names[profiles.NamesLintCodes] = append(in.Names[profiles.NamesLintCodes], profileref.Named{Name: ch.Code, Doc: ch.Name + ": " + ch.Summary})
	}
	return profileref.New(in)
}

// manPage prints the page its argument names: portwall man profile.
func (e *env) manPage(c *cli.Context) error {
	if c.NArg() != 1 || c.Args().First() != "profile" {
		page := strings.Join(c.Args().Slice(), " ")
		return fmt.Errorf("man: unknown page %q: want no argument (portwall(1)) or profile (portwall-profile(5))%s", page, diag.DidYouMean(page, []string{"profile"}))
	}
	return e.manProfile(c)
}
