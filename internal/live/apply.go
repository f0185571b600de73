package live

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
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
	w, err := o.encode(gen)
	if err != nil {
		return err
	}
	conn, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: c.nsfd})
	if err != nil {
		return fmt.Errorf("netlink: %w", err)
	}
	defer conn.Close()
	if err := sendRaw(conn, w); err != nil {
		if errors.Is(err, syscall.ERESTART) {
			return ErrChanged
		}
		return fmt.Errorf("applying the table: %w", err)
	}
	return nil
}

// Batch is the transaction Apply sends, from its begin message to its end
// (gen in both), as messages. Their data share one buffer: the batch as
// Apply writes it to the socket.
func (o *Objects) Batch(gen uint32) ([]netlink.Message, error) {
	w, err := o.encode(gen)
	if err != nil {
		return nil, err
	}
	return w.messages(), nil
}

// wireBatch is a batch as it goes on the socket: its messages one after
// another, each with its netlink header, numbered from 1. A large table's
// batch is megabytes: it is written once, into this one buffer, and sent
// from it.
type wireBatch struct {
	buf []byte
	n   int // messages so far
}

// begin starts a message at len(w.buf) and returns where; end(start)
// sets its length and pads it.
func (w *wireBatch) begin(typ netlink.HeaderType, flags netlink.HeaderFlags) int {
	start := len(w.buf)
	w.n++
	w.buf = binary.NativeEndian.AppendUint32(w.buf, 0)
	w.buf = binary.NativeEndian.AppendUint16(w.buf, uint16(typ))
	w.buf = binary.NativeEndian.AppendUint16(w.buf, uint16(flags))
	w.buf = binary.NativeEndian.AppendUint32(w.buf, uint32(w.n))
	w.buf = binary.NativeEndian.AppendUint32(w.buf, 0)
	return start
}

func (w *wireBatch) end(start int) {
	binary.NativeEndian.PutUint32(w.buf[start:], uint32(len(w.buf)-start))
	for len(w.buf)%unix.NLMSG_ALIGNTO != 0 {
		w.buf = append(w.buf, 0)
	}
}

func (w *wireBatch) add(m netlink.Message) {
	at := w.begin(m.Header.Type, m.Header.Flags)
	w.buf = append(w.buf, m.Data...)
	w.end(at)
}

// messages reads the batch back as messages, their data slices of the
// buffer.
func (w *wireBatch) messages() []netlink.Message {
	out := make([]netlink.Message, 0, w.n)
	for b := w.buf; len(b) >= unix.NLMSG_HDRLEN; {
		n := int(binary.NativeEndian.Uint32(b))
		out = append(out, netlink.Message{
			Header: netlink.Header{Length: uint32(n), Type: netlink.HeaderType(binary.NativeEndian.Uint16(b[4:])),
				Flags: netlink.HeaderFlags(binary.NativeEndian.Uint16(b[6:])), Sequence: binary.NativeEndian.Uint32(b[8:])},
			Data: b[unix.NLMSG_HDRLEN:n:n],
		})
		b = b[min(len(b), nlmsgAlign(n)):]
	}
	return out
}

// encode writes the batch. The library encodes the table, sets, chains
// and rules; the named sets' elements, most of a large table, are encoded
// here straight into the batch, exactly as the library encodes them.
// Rules are sent without NLM_F_ECHO: nothing reads the handles back.
func (o *Objects) encode(gen uint32) (*wireBatch, error) {
	var recorded []netlink.Message
	rec, err := nftables.New(nftables.WithTestDial(func(req []netlink.Message) ([]netlink.Message, error) {
		recorded = append(recorded, req...)
		return nil, nil
	}))
	if err != nil {
		return nil, err
	}
	rec.AddTable(table)
	rec.DelTable(table)
	ids := map[string]uint32{}
	if o != nil {
		if ids, err = queue(rec, o); err != nil {
			return nil, err
		}
	}
	if err := rec.FlushWithGenID(gen); err != nil {
		return nil, fmt.Errorf("encoding the table: %w", err)
	}
	sets := map[string]*SetObject{}
	size := 0
	for _, m := range recorded {
		size += nlmsgAlign(unix.NLMSG_HDRLEN + len(m.Data))
	}
	if o != nil {
		for i := range o.Sets {
			if o.Sets[i].elems.Len() > 0 {
				sets[o.Sets[i].Set.Name] = &o.Sets[i]
				size += elementMessagesSize(&o.Sets[i])
			}
		}
	}
	w := &wireBatch{buf: make([]byte, 0, size)}
	for _, m := range recorded {
		switch m.Header.Type {
		case nftType(unix.NFT_MSG_NEWRULE):
			m.Header.Flags &^= netlink.Echo
		case nftType(unix.NFT_MSG_NEWSET):
			w.add(m)
			if len(m.Data) < 4 {
				continue
			}
			if s := sets[attrString(m.Data[4:], nftaSetName)]; s != nil {
				appendElementMessages(w, s, ids[s.Set.Name])
			}
			continue
		}
		w.add(m)
	}
	return w, nil
}

// maxElemBatchSize is the library's limit on the elements of one
// message (google/nftables set.go).
const maxElemBatchSize = 65535 - 1024

// elementMessagesSize is the size of s's element messages as
// appendElementMessages writes them, worked out without writing them, to
// size the batch's buffer once.
func elementMessagesSize(s *SetObject) int {
	head := unix.NLMSG_HDRLEN + 4 + // the headers
		unix.NLA_HDRLEN + nlaAlign(len(s.Set.Name)+1) + // the set's name
		unix.NLA_HDRLEN + 4 + // its ID
		unix.NLA_HDRLEN + nlaAlign(len(TableName)+1) + // the table's name
		unix.NLA_HDRLEN // the list of elements
	l := s.elems
	total, size := 0, -1 // size: of the elements of the message being written; -1 none
	for i := range l.Len() {
		item := unix.NLA_HDRLEN + nlaAlign(len(l.key(i))) + unix.NLA_HDRLEN // key
		if l.end[i] {
			item += unix.NLA_HDRLEN + 4
		}
		if k := l.keyEnd(i); len(k) > 0 {
			item += unix.NLA_HDRLEN + nlaAlign(len(k)) + unix.NLA_HDRLEN
		}
		if c := l.comments[i]; c != "" {
			// Userdata: type, length, the comment and its NUL.
			item += unix.NLA_HDRLEN + nlaAlign(2+len(c)+1)
		}
		itemSize := unix.NLA_HDRLEN + item
		if size >= 0 && size+itemSize > maxElemBatchSize {
			size = -1
		}
		if size < 0 {
			total += head
			size = 0
		}
		total += itemSize
		size += itemSize
	}
	return total
}

func nlaAlign(n int) int { return (n + unix.NLA_ALIGNTO - 1) &^ (unix.NLA_ALIGNTO - 1) }

// appendElementMessages encodes s's elements as the library's
// appendElemList does: NEWSETELEM messages of at most maxElemBatchSize
// bytes of elements, each element a nested attribute numbered by its
// place in the set (truncated to 16 bits, as the library does).
func appendElementMessages(w *wireBatch, s *SetObject, id uint32) {
	name := cstring(s.Set.Name)
	msg, listStart, size := -1, 0, 0
	flush := func() {
		if msg < 0 {
			return
		}
		endNested(w.buf, listStart)
		w.end(msg)
		msg = -1
	}
	var item []byte
	l := s.elems
	for i := range l.Len() {
		item = item[:0]
		if l.end[i] {
			item = appendAttr(item, unix.NFTA_SET_ELEM_FLAGS|unix.NLA_F_NESTED, binary.BigEndian.AppendUint32(nil, unix.NFT_SET_ELEM_INTERVAL_END))
		}
		at := len(item)
		item = beginNested(item, unix.NFTA_SET_ELEM_KEY|unix.NLA_F_NESTED)
		item = appendAttr(item, unix.NFTA_DATA_VALUE, l.key(i))
		item = endNested(item, at)
		if k := l.keyEnd(i); len(k) > 0 {
			at := len(item)
			item = beginNested(item, nftaSetElemKeyEnd|unix.NLA_F_NESTED)
			item = appendAttr(item, unix.NFTA_DATA_VALUE, k)
			item = endNested(item, at)
		}
		if c := l.comments[i]; c != "" {
			item = appendAttr(item, unix.NFTA_SET_ELEM_USERDATA, userdata.AppendString(nil, userdata.NFTNL_UDATA_SET_ELEM_COMMENT, c))
		}
		itemSize := unix.NLA_HDRLEN + len(item)
		if msg >= 0 && size+itemSize > maxElemBatchSize {
			flush()
		}
		if msg < 0 {
			msg = w.begin(nftType(unix.NFT_MSG_NEWSETELEM), netlink.Request|netlink.Create)
			w.buf = append(w.buf, nfgenmsg(uint8(nftables.TableFamilyINet))...)
			w.buf = appendAttr(w.buf, unix.NFTA_SET_ELEM_LIST_SET, name)
			w.buf = appendAttr(w.buf, unix.NFTA_SET_ELEM_LIST_SET_ID, binary.BigEndian.AppendUint32(nil, id))
			w.buf = appendAttr(w.buf, unix.NFTA_SET_ELEM_LIST_TABLE, cstring(TableName))
			listStart = len(w.buf)
			w.buf = beginNested(w.buf, unix.NFTA_SET_ELEM_LIST_ELEMENTS|unix.NLA_F_NESTED)
			size = 0
		}
		w.buf = appendAttr(w.buf, uint16(i+1)|unix.NLA_F_NESTED, item)
		size += itemSize
	}
	flush()
}

// appendAttr appends a netlink attribute, padded as
// netlink.MarshalAttributes pads it.
func appendAttr(b []byte, typ uint16, data []byte) []byte {
	b = binary.NativeEndian.AppendUint16(b, uint16(unix.NLA_HDRLEN+len(data)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, data...)
	for len(b)%unix.NLA_ALIGNTO != 0 {
		b = append(b, 0)
	}
	return b
}

// beginNested starts a nested attribute at len(b); endNested(b, start)
// sets its length when its attributes are in.
func beginNested(b []byte, typ uint16) []byte {
	return binary.NativeEndian.AppendUint16(binary.NativeEndian.AppendUint16(b, 0), typ)
}

func endNested(b []byte, start int) []byte {
	binary.NativeEndian.PutUint16(b[start:], uint16(len(b)-start))
	return b
}

// sendRaw sends a whole batch (begin and end included) in one write and
// returns the first error the kernel reported. The kernel handles a
// batch while it is sent, so every reply is queued when the write
// returns. Only errors are reported (no message asks for an
// acknowledgement), without the request they refer to (NETLINK_CAP_ACK):
// a refused batch of 100,000 elements answers in a few bytes.
func sendRaw(conn *netlink.Conn, w *wireBatch) error {
	if err := conn.SetOption(netlink.CapAcknowledge, true); err != nil {
		return err
	}
	if err := conn.SetWriteBuffer(len(w.buf) + 4096); err != nil {
		return err
	}
	if err := conn.SetReadBuffer(w.n*64 + 65536); err != nil {
		return err
	}
	if err := writeWire(conn, w.buf); err != nil {
		return fmt.Errorf("sending the batch: %w", err)
	}
	var first error
	for {
		ready, err := readable(conn)
		if err != nil {
			return err
		}
		if !ready {
			return first
		}
		_, err = conn.Receive()
		var op *netlink.OpError
		if errors.As(err, &op) && first == nil {
			first = op.Err
		} else if err != nil && first == nil {
			first = err
		}
	}
}

// writeWire writes buf, netlink messages with their headers, to the
// kernel in one write.
func writeWire(conn *netlink.Conn, buf []byte) error {
	rc, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Write(func(fd uintptr) bool {
		serr = unix.Sendto(int(fd), buf, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
		return serr != unix.EAGAIN
	}); err != nil {
		return err
	}
	return serr
}

func nlmsgAlign(n int) int { return (n + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1) }

// queue adds o's objects to the pending transaction, the named sets
// without their elements, and returns the named sets' transaction IDs.
// Sets get fresh IDs from the library; lookups are pointed at them. o
// itself is not changed.
func queue(nft *nftables.Conn, o *Objects) (map[string]uint32, error) {
	t := nft.AddTable(&nftables.Table{Name: TableName, Family: nftables.TableFamilyINet, Flags: o.Table.Flags})
	named := map[string]*nftables.Set{}
	ids := map[string]uint32{}
	for _, s := range o.Sets {
		ns := *s.Set
		ns.Table, ns.ID = t, 0
		if err := nft.AddSet(&ns, nil); err != nil {
			return nil, fmt.Errorf("set %s: %w", s.Set.Name, err)
		}
		named[ns.Name] = &ns
		ids[ns.Name] = ns.ID
	}
	chains := map[string]*nftables.Chain{}
	for _, ch := range o.Chains {
		nc := *ch
		nc.Table = t
		chains[nc.Name] = nft.AddChain(&nc)
	}
	for _, r := range o.Rules {
		anon := map[string]*nftables.Set{}
		for _, a := range r.Anon {
			ns := *a.Set
			ns.Table, ns.ID, ns.Anonymous = t, 0, true
			if err := nft.AddSet(&ns, a.elems.setElements()); err != nil {
				return nil, fmt.Errorf("anonymous set: %w", err)
			}
			anon[a.Set.Name] = &ns
		}
		exprs := make([]expr.Any, len(r.Exprs))
		for i, e := range r.Exprs {
			if l, ok := e.(*expr.Lookup); ok {
				s := anon[l.SetName]
				if s == nil {
					s = named[l.SetName]
				}
				if s == nil {
					return nil, fmt.Errorf("rule %q: lookup in unknown set %s", r.Comment, l.SetName)
				}
				nl := *l
				nl.SetName, nl.SetID = s.Name, s.ID
				e = &nl
			}
			exprs[i] = e
		}
		ch := chains[r.Chain]
		if ch == nil {
			return nil, fmt.Errorf("rule %q in unknown chain %s", r.Comment, r.Chain)
		}
		var ud []byte
		if r.Comment != "" {
			ud = userdata.AppendString(nil, userdata.TypeComment, r.Comment)
		}
		nft.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: exprs, UserData: ud})
	}
	return ids, nil
}
