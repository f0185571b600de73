package live

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Reading and writing large tables straight over the netlink socket: the
// library's objects cost hundreds of bytes and several allocations per
// set element, and its requests keep every message of a dump or a batch
// in memory twice. Here a dump is parsed as it arrives, one socket read
// at a time, and a batch is written into one buffer.

// eachAttr calls fn for each netlink attribute in b, its type without the
// nested and byte-order flags.
func eachAttr(b []byte, fn func(typ uint16, data []byte)) error {
	for len(b) >= unix.NLA_HDRLEN {
		n := int(binary.NativeEndian.Uint16(b))
		if n < unix.NLA_HDRLEN || n > len(b) {
			return errors.New("malformed netlink attribute")
		}
		fn(binary.NativeEndian.Uint16(b[2:])&attrTypeMask, b[unix.NLA_HDRLEN:n])
		b = b[min(len(b), (n+unix.NLA_ALIGNTO-1)&^(unix.NLA_ALIGNTO-1)):]
	}
	return nil
}

// dumpBufferSize holds any socket read of a dump: a dump's replies come
// in socket buffers of at most 32 KiB.
const dumpBufferSize = 64 << 10

// streamDump sends a dump request of a netfilter family on conn and
// calls fn with the attributes of each reply as it is read into buf (of
// dumpBufferSize bytes: one for every dump of a read, which makes one per
// set).
func streamDump(conn *netlink.Conn, family uint8, typ uint16, attrs, buf []byte, fn func(attrs []byte) error) error {
	rc, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	req := make([]byte, unix.NLMSG_HDRLEN, unix.NLMSG_HDRLEN+4+len(attrs))
	req = append(append(req, nfgenmsg(family)...), attrs...)
	binary.NativeEndian.PutUint32(req[0:], uint32(len(req)))
	binary.NativeEndian.PutUint16(req[4:], uint16(nftType(typ)))
	binary.NativeEndian.PutUint16(req[6:], uint16(netlink.Request|netlink.Dump))
	binary.NativeEndian.PutUint32(req[8:], 1)
	if err := writeWire(conn, req); err != nil {
		return err
	}
	for {
		var n, flags int
		var rerr error
		if err := rc.Read(func(fd uintptr) bool {
			n, _, flags, _, rerr = unix.Recvmsg(int(fd), buf, nil, 0)
			return rerr != unix.EAGAIN
		}); err != nil {
			return err
		}
		if rerr != nil {
			return rerr
		}
		if flags&unix.MSG_TRUNC != 0 {
			return errors.New("netlink dump: a reply larger than the buffer")
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return err
		}
		for _, m := range msgs {
			switch {
			case m.Header.Type == unix.NLMSG_DONE:
				return nil
			case m.Header.Type == unix.NLMSG_ERROR:
				if len(m.Data) >= 4 {
					if e := int32(binary.NativeEndian.Uint32(m.Data)); e != 0 {
						return syscall.Errno(-e)
					}
				}
				return nil
			case len(m.Data) >= 4 && (m.Header.Type == uint16(nftType(typ-1)) || m.Header.Type == uint16(nftType(typ))):
				// Replies to GET* are NEW* messages (one less).
				if err := fn(m.Data[4:]); err != nil {
					return err
				}
			}
		}
	}
}

// dumpElements reads the elements of portwall's set name as the kernel
// stores them, through buf (as streamDump). Comments go through in, so
// that each is kept once.
func dumpElements(conn *netlink.Conn, name string, buf []byte, in interner) (*elemList, error) {
	req, err := netlink.MarshalAttributes([]netlink.Attribute{
		{Type: unix.NFTA_SET_ELEM_LIST_TABLE, Data: cstring(TableName)},
		{Type: unix.NFTA_SET_ELEM_LIST_SET, Data: cstring(name)},
	})
	if err != nil {
		return nil, err
	}
	l := &elemList{}
	var key, keyEnd []byte
	var bad error
	err = streamDump(conn, unix.NFPROTO_INET, unix.NFT_MSG_GETSETELEM, req, buf, func(attrs []byte) error {
		return eachAttr(attrs, func(typ uint16, data []byte) {
			if typ != unix.NFTA_SET_ELEM_LIST_ELEMENTS {
				return
			}
			err := eachAttr(data, func(_ uint16, elem []byte) {
				key, keyEnd = key[:0], keyEnd[:0]
				end, comment := false, ""
				err := eachAttr(elem, func(typ uint16, data []byte) {
					switch typ {
					case unix.NFTA_SET_ELEM_KEY:
						key = appendValue(key, data)
					case nftaSetElemKeyEnd:
						keyEnd = appendValue(keyEnd, data)
					case unix.NFTA_SET_ELEM_FLAGS:
						end = len(data) == 4 && binary.BigEndian.Uint32(data)&unix.NFT_SET_ELEM_INTERVAL_END != 0
					case unix.NFTA_SET_ELEM_USERDATA:
						if c, ok := udataString(data, udataSetElemComment); ok {
							comment = in.get(c)
						}
					}
				})
				if err != nil && bad == nil {
					bad = err
				}
				if n := l.Len(); n == cap(l.end) {
					// Double the room: grown by append, a list of
					// 100,000 elements would be copied dozens of times.
					l.grow(max(n, 8), len(key)+len(keyEnd))
				}
				l.add(key, keyEnd, end, comment)
			})
			if err != nil && bad == nil {
				bad = err
			}
		})
	})
	if err == nil {
		err = bad
	}
	if err != nil {
		return nil, fmt.Errorf("dumping the elements of set %s: %w", name, err)
	}
	return l, nil
}

const (
	nftaSetElemKeyEnd   = 10
	udataSetElemComment = 0 // NFTNL_UDATA_SET_ELEM_COMMENT
)

// appendValue appends the value of a nested NFTA_DATA_VALUE.
func appendValue(dst, nested []byte) []byte {
	_ = eachAttr(nested, func(typ uint16, data []byte) {
		if typ == unix.NFTA_DATA_VALUE {
			dst = append(dst[:0], data...)
		}
	})
	return dst
}

// udataString is the string of TLV typ in nftables user data (type and
// length one byte each), without its NUL.
func udataString(b []byte, typ byte) ([]byte, bool) {
	for len(b) >= 2 {
		n := int(b[1])
		if 2+n > len(b) {
			return nil, false
		}
		if b[0] == typ {
			v, _ := bytes.CutSuffix(b[2:2+n], []byte{0})
			return v, true
		}
		b = b[2+n:]
	}
	return nil, false
}
