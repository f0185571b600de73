// Command portwall compiles vendors' "ports to open" tables and a
// deployment profile into firewall rules.
package main

import "os"

func main() {
	tuneGC()
	os.Exit(Run(os.Args, os.Stdin, os.Stdout, os.Stderr))
}
