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
	conn, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: c.nsfd})
	if err != nil {
		return nil, fmt.Errorf("netlink: %w", err)
	}
	defer conn.Close()
	attrs, err := netlink.MarshalAttributes([]netlink.Attribute{{Type: unix.NFTA_RULE_TABLE, Data: []byte(TableName + "\x00")}})
	if err != nil {
		return nil, err
	}
	req := netlink.Message{
		Header: netlink.Header{
			Type:  netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_GETRULE),
			Flags: netlink.Request | netlink.Dump,
		},
		// nfgenmsg: family, version, resource id.
		Data: append([]byte{unix.NFPROTO_INET, unix.NFNETLINK_V0, 0, 0}, attrs...),
	}
	msgs, err := conn.Execute(req)
	if err != nil {
		return nil, fmt.Errorf("dumping rules: %w", err)
	}
	out := map[ruleKey]int{}
	for _, m := range msgs {
		if len(m.Data) < 4 {
			continue
		}
		ad, err := netlink.NewAttributeDecoder(m.Data[4:])
		if err != nil {
			return nil, err
		}
		var k ruleKey
		n := 0
		for ad.Next() {
			switch ad.Type() {
			case unix.NFTA_RULE_CHAIN:
				k.chain = ad.String()
			case unix.NFTA_RULE_HANDLE:
				k.handle = binary.BigEndian.Uint64(ad.Bytes())
			case unix.NFTA_RULE_EXPRESSIONS:
				ad.Nested(func(nad *netlink.AttributeDecoder) error {
					for nad.Next() {
						if nad.Type() == unix.NFTA_LIST_ELEM {
							n++
						}
					}
					return nil
				})
			}
		}
		if err := ad.Err(); err != nil {
			return nil, err
		}
		out[k] = n
	}
	return out, nil
}
