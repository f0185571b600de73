// Package layers states which way imports point in this module, so that a
// test (layers_test.go) can hold every package to it. It has no code: the
// rules are data, read by the test.
//
// The pipeline runs profiles/ -> rules/ -> generators/ -> cmd/: the input
// format, then the catalog, resolver, IR and analyses of resolved rules,
// then the backends, then the commands and what operates on hosts
// (internal/live, internal/fwdlive, internal/proof). A package may import its own layer and
// the layers before it, never one after it. internal/diag and
// internal/tomldoc serve every layer; internal/testkit serves tests only.
package layers

// Rule forbids the packages under From (and their tests, with everything
// those import, directly or not) to depend on any package under one of
// Forbidden.
type Rule struct {
	From      string
	Forbidden []string
	// Why is printed with a violation.
	Why string
}

// Rules are the module's import rules, by path relative to the module.
var Rules = []Rule{
	{From: "internal/diag", Forbidden: []string{""}, Why: "diagnostics are a leaf: every layer uses them"},
	{From: "internal/tomldoc", Forbidden: []string{"profiles", "rules", "generators", "cmd", "internal/live", "internal/proof", "internal/testkit"}, Why: "TOML decoding serves every layer"},
	{From: "profiles", Forbidden: []string{"rules/catalog", "rules/ir", "rules/lint", "rules/explain", "rules/probe", "generators", "cmd", "internal/live", "internal/proof"}, Why: "the input format knows nothing after it; backends decode their own sections"},
	{From: "rules", Forbidden: []string{"generators", "cmd", "internal/live", "internal/proof"}, Why: "the catalog, resolver, IR and analyses come before any backend: what an analysis needs of a backend, the command layer passes in"},
	{From: "generators", Forbidden: []string{"cmd", "internal/live", "internal/fwdlive", "internal/proof"}, Why: "backends are pure functions from the IR to files"},
	{From: "internal/live", Forbidden: []string{"cmd", "internal/proof"}, Why: "live diff and apply serve the commands"},
	{From: "internal/fwdlive", Forbidden: []string{"cmd", "internal/live", "internal/proof"}, Why: "live firewalld diff and apply serve the commands"},
	{From: "internal/proof", Forbidden: []string{"cmd", "internal/live"}, Why: "the packet proof serves the commands"},
	{From: "internal/netns", Forbidden: []string{""}, Why: "namespace plumbing is a leaf"},
}

// TestKits may be imported by tests only.
const TestKits = "internal/testkit"
