package live

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

type ruleKey struct {
	chain  string
	handle uint64
}

// exprCounts counts the expressions of every rule of portwall's table in
// the raw netlink dump. google/nftables silently drops expressions it
// cannot decode (socket, osf, rt, ...): comparing this count with the
// decoded list is how such rules are caught (google/nftables#70, #333).
func (c *Conn) exprCounts() (map[ruleKey]int, error) {
	names, err := c.ruleExprNames(unix.NFPROTO_INET, TableName)
	if err != nil {
		return nil, err
	}
	out := make(map[ruleKey]int, len(names))
	for k, n := range names {
		out[k] = len(n)
	}
	return out, nil
}

// ruleExprNames lists the expressions of every rule of one table (of a
// netfilter family), by name, from the raw netlink dump: the library
// silently drops the expressions it cannot decode, and a rule missing one
// must not be taken for a rule that holds only the others (exprCounts for
// portwall's table; the coexistence check for other tables).
func (c *Conn) ruleExprNames(family byte, table string) (map[ruleKey][]string, error) {
	conn, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: c.nsfd})
	if err != nil {
		return nil, fmt.Errorf("netlink: %w", err)
	}
	defer conn.Close()
	attrs, err := netlink.MarshalAttributes([]netlink.Attribute{{Type: unix.NFTA_RULE_TABLE, Data: []byte(table + "\x00")}})
	if err != nil {
		return nil, err
	}
	// The dump is read as it arrives (a readable table has thousands of
	// rules); rule and expression names are a few, kept once each.
	out := map[ruleKey][]string{}
	in := interner{}
	name := func(b []byte) string { return in.get(bytes.TrimRight(b, "\x00")) }
	err = streamDump(conn, family, unix.NFT_MSG_GETRULE, attrs, make([]byte, dumpBufferSize), func(b []byte) error {
		var k ruleKey
		names := []string{}
		var bad error
		keep := func(err error) {
			if err != nil && bad == nil {
				bad = err
			}
		}
		keep(eachAttr(b, func(typ uint16, data []byte) {
			switch typ {
			case unix.NFTA_RULE_CHAIN:
				k.chain = name(data)
			case unix.NFTA_RULE_HANDLE:
				k.handle = binary.BigEndian.Uint64(data)
			case unix.NFTA_RULE_EXPRESSIONS:
				keep(eachAttr(data, func(typ uint16, elem []byte) {
					if typ != unix.NFTA_LIST_ELEM {
						return
					}
					n := "?"
					keep(eachAttr(elem, func(typ uint16, data []byte) {
						if typ == unix.NFTA_EXPR_NAME {
							n = name(data)
						}
					}))
					names = append(names, n)
				}))
			}
		}))
		if bad != nil {
			return bad
		}
		out[k] = names
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dumping rules: %w", err)
	}
	return out, nil
}
