// Command portwall compiles vendors' "ports to open" tables and a
// deployment profile into firewall rules.
package main

import "os"

func main() { os.Exit(Run(os.Args, os.Stdin, os.Stdout, os.Stderr)) }
