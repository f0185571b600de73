package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// Shell scripts that ask portwall itself what comes next (complete.go):
// each passes the words of the command line after the program name, the
// one being completed last, to `portwall __complete`, and turns its
// answer (a candidate per line, VALUE<TAB>DESCRIPTION, then a directive:
// :files, :dirs or :none) into the shell's completions. The program is
// the one on the command line, so that ./portwall completes with itself.

// bashCompletion reads the line up to the cursor itself, split at spaces:
// bash's COMP_WORDS also splits at = and :, which would cut --target=nf
// in three. Each answer replaces only what bash takes for the current
// word (the part after the last = or :).
const bashCompletion = `# bash completion for portwall: source it, or install it as
# /etc/bash_completion.d/portwall
_portwall() {
  local line="${COMP_LINE:0:COMP_POINT}" words out directive cur word c
  read -ra words <<< "$line"
  [[ -z $line || $line == *[[:space:]] ]] && words+=("")
  cur="${words[${#words[@]}-1]}"
  word="${COMP_WORDS[COMP_CWORD]}"
  [[ $word == "=" || $word == ":" ]] && word=""
  out=$("${words[0]}" __complete "${words[@]:1}" 2>/dev/null) || return 0
  directive="${out##*$'\n'}"
  [[ $out == *$'\n'* ]] && out="${out%$'\n'*}" || out=""
  COMPREPLY=()
  while IFS= read -r c; do
    c="${c%%$'\t'*}"
    [[ -n $c ]] && COMPREPLY+=("${word}${c#"$cur"}")
  done <<< "$out"
  case $directive in
  :files)
    compopt -o filenames 2>/dev/null
    while IFS= read -r c; do COMPREPLY+=("$c"); done < <(compgen -f -- "$cur")
    ;;
  :dirs)
    compopt -o filenames 2>/dev/null
    while IFS= read -r c; do COMPREPLY+=("$c"); done < <(compgen -d -- "$cur")
    ;;
  esac
  return 0
}
complete -F _portwall portwall
`

const zshCompletion = `#compdef portwall
# zsh completion for portwall: put it in a directory of $fpath as _portwall,
# or source it after compinit.

_portwall() {
  local out directive line value
  local -a lines cands
  out=$("${words[1]}" __complete "${(@)words[2,CURRENT]}" 2>/dev/null) || return 1
  lines=("${(@f)out}")
  directive=${lines[-1]}
  for line in "${(@)lines[1,-2]}"; do
    value=${line%%$'\t'*}
    value=${value//:/\\:}
    if [[ $line == *$'\t'* ]]; then
      cands+=("$value:${line#*$'\t'}")
    else
      cands+=("$value")
    fi
  done
  case $directive in
  :files) _files ;;
  :dirs) _files -/ ;;
  esac
  (( ${#cands} )) && _describe -t values portwall cands
  return 0
}

if [[ $funcstack[1] == _portwall ]]; then
  _portwall "$@"
else
  compdef _portwall portwall
fi
`

const fishCompletion = `# fish completion for portwall: save it as
# ~/.config/fish/completions/portwall.fish
function __portwall_complete
    set -l words (commandline -opc)
    set -l cur (commandline -ct)
    set -l out (command $words[1] __complete $words[2..-1] $cur 2>/dev/null)
    or return
    set -l directive $out[-1]
    set -e out[-1]
    printf '%s\n' $out
    switch $directive
        case :files
            __fish_complete_path $cur
        case :dirs
            __fish_complete_directories $cur
    end
end
complete -c portwall -f -a '(__portwall_complete)'
`

func (e *env) completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script (bash, zsh or fish)",
		ArgsUsage: "SHELL",
		Description: `Prints a completion script for the shell on standard output. Each
script asks portwall (the program on the command line) what may come next:
commands, flags, and values: --target names, the hosts and groups of the
profile on the line (--host, --from, --to), products (init, catalog show),
versions and features (catalog show PRODUCT --version, --feature),
services (--port), lint codes (lint --ignore), formats, and file names
where a file goes.

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
			script, ok := map[string]string{"bash": bashCompletion, "zsh": zshCompletion, "fish": fishCompletion}[c.Args().First()]
			if !ok {
				return fmt.Errorf("completion: unknown shell %q: want %s", c.Args().First(), strings.Join(shells, ", "))
			}
			_, err := io.WriteString(e.stdout, script)
			return err
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
