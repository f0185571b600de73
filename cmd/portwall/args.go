package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// interspersed moves a command's flags in front of its arguments, so that
// `portwall generate PROFILE --host fml1` works: urfave/cli v2 stops
// parsing flags at the first argument. Global flags given after the
// command (`portwall validate P -q`) move in front of it, unless the
// command has a flag of that name. Tokens after "--" stay arguments.
func interspersed(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	out := []string{args[0]}
	rest := args[1:]
	// Global flags come first; then the command path. A global flag among
	// the command path's own (`validate --today D P`) joins the globals.
	flags := app.Flags
	var cmds []*cli.Command = app.Commands
	var early []string
	for len(rest) > 0 {
		t := rest[0]
		if strings.HasPrefix(t, "-") && t != "-" && t != "--" {
			from, to := flags, &out
			if len(out) > 1 && !defines(flags, t) && defines(app.Flags, t) {
				from, to = app.Flags, &early
			}
			n := 1
			if takesValue(from, t) && len(rest) > 1 {
				n = 2
			}
			*to = append(*to, rest[:n]...)
			rest = rest[n:]
			continue
		}
		var next *cli.Command
		for _, c := range cmds {
			if c.HasName(t) {
				next = c
			}
		}
		if next == nil {
			break
		}
		out = append(out, t)
		rest = rest[1:]
		flags, cmds = next.Flags, next.Subcommands
	}
	global, fl, pos := early, []string(nil), []string(nil)
	for i := 0; i < len(rest); i++ {
		t := rest[i]
		switch {
		case t == "--":
			pos = append(pos, rest[i+1:]...)
			i = len(rest)
		case strings.HasPrefix(t, "-") && t != "-":
			to, from := &fl, flags
			if len(out) > 1 && !defines(flags, t) && defines(app.Flags, t) {
				to, from = &global, app.Flags
			}
			*to = append(*to, t)
			if takesValue(from, t) && i+1 < len(rest) {
				*to = append(*to, rest[i+1])
				i++
			}
		default:
			pos = append(pos, t)
		}
	}
	out = append(append(out[:1:1], global...), out[1:]...)
	out = append(out, fl...)
	for _, p := range pos {
		if strings.HasPrefix(p, "-") && p != "-" {
			out = append(out, "--")
			break
		}
	}
	return append(out, pos...)
}

// defines reports whether flag token t names one of flags.
func defines(flags []cli.Flag, t string) bool {
	name, _, _ := strings.Cut(strings.TrimLeft(t, "-"), "=")
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return true
			}
		}
	}
	return false
}

// takesValue reports whether flag token t ("-o", "--host", not
// "--host=x") names a flag that takes a separate value.
func takesValue(flags []cli.Flag, t string) bool {
	name := strings.TrimLeft(t, "-")
	if strings.Contains(name, "=") {
		return false
	}
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				if v, ok := f.(cli.DocGenerationFlag); ok {
					return v.TakesValue()
				}
				return false
			}
		}
	}
	return false
}
