package psparse

// go test ./... -update passes -update to every package.
import _ "github.com/portwall/portwall/generators/golden"
