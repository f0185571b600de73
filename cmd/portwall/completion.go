package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// Shell scripts that ask portwall itself what comes next: urfave/cli's
// own autocomplete scripts (github.com/urfave/cli/v2/autocomplete), with
// the program name filled in. portwall answers with the commands, their
// flags and subcommands when run with --generate-bash-completion last.
const bashCompletion = `# bash completion for portwall: source it, or install it as
# /etc/bash_completion.d/portwall
_portwall_complete() {
  local cur words cword
  COMPREPLY=()
  cur="${COMP_WORDS[COMP_CWORD]}"
  words=("${COMP_WORDS[@]:0:$COMP_CWORD}")
  local request
  if [[ "$cur" == "-"* ]]; then
    request="${words[*]} ${cur} --generate-bash-completion"
  else
    request="${words[*]} --generate-bash-completion"
  fi
  local opts
  opts=$(eval "${request}" 2>/dev/null)
  COMPREPLY=($(compgen -W "${opts}" -- "${cur}"))
  return 0
}
complete -o bashdefault -o default -F _portwall_complete portwall
`

const zshCompletion = `#compdef portwall
# zsh completion for portwall: put it in a directory of $fpath as _portwall

_portwall() {
  local -a opts
  local cur
  cur=${words[-1]}
  if [[ "$cur" == "-"* ]]; then
    opts=("${(@f)$(${words[@]:0:#words[@]-1} ${cur} --generate-bash-completion)}")
  else
    opts=("${(@f)$(${words[@]:0:#words[@]-1} --generate-bash-completion)}")
  fi
  if [[ "${opts[1]}" != "" ]]; then
    _describe 'values' opts
  else
    _files
  fi
}

compdef _portwall portwall
`

func (e *env) completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script (bash, zsh or fish)",
		ArgsUsage: "SHELL",
		Description: `Prints a completion script for the shell on standard output. bash and zsh
scripts ask portwall for the words that may come next; the fish script is
generated from portwall's commands and flags.

Exit status: 0, or 1 for an unknown shell.

Examples:
   source <(portwall completion bash)
   portwall completion zsh > "${fpath[1]}/_portwall"
   portwall completion fish > ~/.config/fish/completions/portwall.fish`,
		Action: func(c *cli.Context) error {
			shells := []string{"bash", "zsh", "fish"}
			if c.NArg() != 1 {
				return fmt.Errorf("completion: want one SHELL argument: %s", strings.Join(shells, ", "))
			}
			switch c.Args().First() {
			case "bash":
				fmt.Fprint(e.stdout, bashCompletion)
			case "zsh":
				fmt.Fprint(e.stdout, zshCompletion)
			case "fish":
				script, err := definition(e).ToFishCompletion()
				if err != nil {
					return err
				}
				fmt.Fprint(e.stdout, script)
			default:
				return fmt.Errorf("completion: unknown shell %q: want %s", c.Args().First(), strings.Join(shells, ", "))
			}
			return nil
		},
	}
}

func (e *env) manCommand() *cli.Command {
	return &cli.Command{
		Name:      "man",
		Usage:     "print portwall's manual page (roff), generated from its commands and flags",
		ArgsUsage: "[profile]",
		Description: `Prints portwall(1): every command, its options with their defaults, the
exit statuses, environment, files and examples. With the argument profile,
prints portwall-profile(5) instead: every key of the profile, generated from
the definitions that check it.

Exit status: 0, or 1 when the page cannot be written or the argument is not
profile.

Examples:
   portwall man > portwall.1 && man -l portwall.1
   portwall man profile > portwall-profile.5 && man -l portwall-profile.5`,
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return e.manPage(c)
			}
			manPage(e.stdout, definition(e))
			return nil
		},
	}
}

// definition is the command line as documented: every command and flag,
// with help left to urfave/cli's generators (which add -h/--help where they
// document it) rather than the help command and flags each running app
// carries.
func definition(e *env) *cli.App {
	app := e.newApp()
	app.HideHelp = false
	app.Flags = withoutHelp(app.Flags)
	app.Commands = withoutHelpCommand(app.Commands)
	return app
}

func withoutHelp(flags []cli.Flag) []cli.Flag {
	return slices.DeleteFunc(slices.Clone(flags), func(f cli.Flag) bool { return slices.Contains(f.Names(), "help") })
}

func withoutHelpCommand(cmds []*cli.Command) []*cli.Command {
	var out []*cli.Command
	for _, c := range cmds {
		if c.Name == "help" {
			continue
		}
		c.HideHelp = false
		c.Flags = withoutHelp(c.Flags)
		c.Subcommands = withoutHelpCommand(c.Subcommands)
		out = append(out, c)
	}
	return out
}
