package live

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
)

// ErrChanged is returned when the ruleset changed between reading it and
// writing the new table: the kernel refused the transaction, nothing was
// applied.
var ErrChanged = errors.New("the ruleset changed since it was read (another process wrote to it); nothing was applied")

// Generation returns the ruleset's generation ID, which every change to
// any table increments.
func (c *Conn) Generation() (uint32, error) {
	g, err := c.NFT.GetGen()
	if err != nil {
		return 0, fmt.Errorf("reading the ruleset generation: %w", err)
	}
	return g.ID, nil
}

// Apply replaces portwall's table with o in one netlink transaction:
// create the table if it is missing (so that deleting it cannot fail),
// delete it, and create it anew with its sets, chains and rules. Other
// tables are not touched. The kernel refuses the whole transaction when
// the ruleset's generation is no longer gen.
//
// o == nil deletes portwall's table (restoring "no table").
func (c *Conn) Apply(o *Objects, gen uint32) error {
	nft := c.NFT
	nft.AddTable(table)
	nft.DelTable(table)
	if o != nil {
		if err := queue(nft, o); err != nil {
			return err
		}
	}
	if err := nft.FlushWithGenID(gen); err != nil {
		if errors.Is(err, syscall.ERESTART) {
			return ErrChanged
		}
		return fmt.Errorf("applying the table: %w", err)
	}
	return nil
}

// queue adds o's objects to the pending transaction. Sets get fresh IDs
// from the library; lookups are pointed at them. o itself is not changed.
func queue(nft *nftables.Conn, o *Objects) error {
	t := nft.AddTable(&nftables.Table{Name: TableName, Family: nftables.TableFamilyINet, Flags: o.Table.Flags})
	named := map[string]*nftables.Set{}
	for _, s := range o.Sets {
		ns := *s.Set
		ns.Table, ns.ID = t, 0
		if err := nft.AddSet(&ns, s.Elements); err != nil {
			return fmt.Errorf("set %s: %w", s.Set.Name, err)
		}
		named[ns.Name] = &ns
	}
	chains := map[string]*nftables.Chain{}
	for _, ch := range o.Chains {
		nc := *ch
		nc.Table = t
		chains[nc.Name] = nft.AddChain(&nc)
	}
	for _, r := range o.Rules {
		sets := map[string]*nftables.Set{}
		for k, v := range named {
			sets[k] = v
		}
		for _, a := range r.Anon {
			ns := *a.Set
			ns.Table, ns.ID, ns.Anonymous = t, 0, true
			if err := nft.AddSet(&ns, a.Elements); err != nil {
				return fmt.Errorf("anonymous set: %w", err)
			}
			sets[a.Set.Name] = &ns
		}
		exprs := make([]expr.Any, len(r.Exprs))
		for i, e := range r.Exprs {
			if l, ok := e.(*expr.Lookup); ok {
				s := sets[l.SetName]
				if s == nil {
					return fmt.Errorf("rule %q: lookup in unknown set %s", r.Comment, l.SetName)
				}
				nl := *l
				nl.SetName, nl.SetID = s.Name, s.ID
				e = &nl
			}
			exprs[i] = e
		}
		ch := chains[r.Chain]
		if ch == nil {
			return fmt.Errorf("rule %q in unknown chain %s", r.Comment, r.Chain)
		}
		var ud []byte
		if r.Comment != "" {
			ud = userdata.AppendString(nil, userdata.TypeComment, r.Comment)
		}
		nft.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: exprs, UserData: ud})
	}
	return nil
}
