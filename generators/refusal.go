package generators

import (
	"errors"
	"fmt"
	"strings"

	"github.com/portwall/portwall/rules/ir"
)

// Refusal is a backend's refusal to render part of a request, naming the
// element of the IR (or the key of the backend's section) that causes it,
// so that the command layer can point at the line of the profile to
// change (rules.Locator). Backends return their refusals as Refusals.
type Refusal struct {
	Target string
	// Host is the host being rendered; "" for the network view.
	Host string
	// Rule is the rule refused, if the refusal is about one.
	Rule *ir.Rule
	// Set is the address set that causes it, if any: a refusal about a
	// set points at the set's definition.
	Set string
	// Key is the key path, below the backend's section (Section), that
	// causes it, if any.
	Section string
	Key     []any
	// Program: the refusal is about the rule's program path, which the
	// option of a flow origin (ir.Origin.ProgramOption) sets.
	Program bool
	// Msg says what cannot be rendered; Fix, when there is one, how to
	// change the profile.
	Msg, Fix string
}

func (r *Refusal) Error() string {
	var b strings.Builder
	b.WriteString(r.Target)
	if r.Host != "" {
		fmt.Fprintf(&b, ": host %s", r.Host)
	}
	if r.Rule != nil {
		fmt.Fprintf(&b, ": rule %s (%s)", r.Rule.ID, OriginLabels(r.Rule.Origins))
	}
	b.WriteString(": ")
	b.WriteString(r.Msg)
	if r.Fix != "" {
		b.WriteString(": ")
		b.WriteString(r.Fix)
	}
	return b.String()
}

// Refusals are every refusal of one request.
type Refusals []*Refusal

func (rs Refusals) Error() string {
	lines := make([]string, len(rs))
	for i, r := range rs {
		lines[i] = r.Error()
	}
	return strings.Join(lines, "\n")
}

// Err is nil for no refusals, else the refusals without repeats (a
// refusal about a set or a section comes once per rule that meets it).
func (rs Refusals) Err() error {
	if len(rs) == 0 {
		return nil
	}
	seen := map[string]bool{}
	var out Refusals
	for _, r := range rs {
		if k := r.Error(); !seen[k] {
			seen[k] = true
			out = append(out, r)
		}
	}
	return out
}

// AsRefusals collects the refusals in err (a Refusal, Refusals, or errors
// joining them); ok is false when err holds anything else.
func AsRefusals(err error) (out Refusals, ok bool) {
	if err == nil {
		return nil, true
	}
	var list Refusals
	if errors.As(err, &list) && list.Error() == err.Error() {
		return list, true
	}
	var one *Refusal
	if errors.As(err, &one) && one.Error() == err.Error() {
		return Refusals{one}, true
	}
	if j, isJoin := err.(interface{ Unwrap() []error }); isJoin {
		for _, e := range j.Unwrap() {
			rs, ok := AsRefusals(e)
			if !ok {
				return nil, false
			}
			out = append(out, rs...)
		}
		return out, true
	}
	return nil, false
}
