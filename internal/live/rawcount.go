package live

import (
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
	msgs, err := conn.Execute(netlink.Message{
		Header: netlink.Header{
			Type:  netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_GETRULE),
			Flags: netlink.Request | netlink.Dump,
		},
		Data: append([]byte{family, unix.NFNETLINK_V0, 0, 0}, attrs...),
	})
	if err != nil {
		return nil, fmt.Errorf("dumping rules: %w", err)
	}
	out := map[ruleKey][]string{}
	for _, m := range msgs {
		if len(m.Data) < 4 {
			continue
		}
		ad, err := netlink.NewAttributeDecoder(m.Data[4:])
		if err != nil {
			return nil, err
		}
		var k ruleKey
		names := []string{}
		for ad.Next() {
			switch ad.Type() {
			case unix.NFTA_RULE_CHAIN:
				k.chain = ad.String()
			case unix.NFTA_RULE_HANDLE:
				k.handle = binary.BigEndian.Uint64(ad.Bytes())
			case unix.NFTA_RULE_EXPRESSIONS:
				ad.Nested(func(nad *netlink.AttributeDecoder) error {
					for nad.Next() {
						if nad.Type() != unix.NFTA_LIST_ELEM {
							continue
						}
						name := "?"
						nad.Nested(func(ead *netlink.AttributeDecoder) error {
							for ead.Next() {
								if ead.Type() == unix.NFTA_EXPR_NAME {
									name = ead.String()
								}
							}
							return nil
						})
						names = append(names, name)
					}
					return nil
				})
			}
		}
		if err := ad.Err(); err != nil {
			return nil, err
		}
		out[k] = names
	}
	return out, nil
}
