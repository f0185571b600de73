package live

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// A Snapshot is portwall's table as the kernel itself describes it: the
// netlink messages of a dump of the table, its chains, stateful objects,
// flowtables, sets, set elements and rules, turned back into the
// messages that create them. Restoring sends them again in one
// transaction, so that the table comes back exactly as the kernel held
// it, whatever it holds: verdict maps with jumps, regular and base
// chains, sets and maps with their flags, timeouts and per-element
// counters, counters, quotas and limits with their state, ct helpers,
// flowtables, comments, and expressions that neither portwall's decoder
// nor github.com/google/nftables can read. Nothing is decoded, so nothing
// can be lost in decoding.
//
// Reading the table back as objects (the library) and writing them again
// loses what the library cannot express: a verdict map's elements were
// sent as data and refused with EINVAL, and stateful objects and
// flowtables were not read at all. Keeping `nft list table` text and
// loading it with nft -f would need nft installed, and round trips of
// `nft -j` lose comments, per-element counters and named verdict maps
// (measured with nft 1.0.6: README, "Rollback").
type Snapshot struct {
	// Absent: there was no table; restoring deletes portwall's table.
	Absent bool `json:"absent,omitempty"`
	// Taken is when the dump was read (CLOCK_MONOTONIC, nanoseconds), to
	// age the expiry of elements with a timeout when they are restored.
	Taken int64 `json:"taken"`
	// Messages create the table again, in dependency order: the table,
	// chains, objects, flowtables, sets, elements, rules.
	Messages []SnapshotMessage `json:"messages"`
}

// SnapshotMessage is one message of a restore.
type SnapshotMessage struct {
	Type   uint16 `json:"type"` // NFT_MSG_NEW*
	Family uint8  `json:"family"`
	Attrs  []byte `json:"attrs"`
	// What names the object, for errors: `set m_vmap`, `the rule with
	// handle 12 in chain input`.
	What string `json:"what"`
}

// Attribute numbers of linux/netfilter/nf_tables.h that
// golang.org/x/sys/unix does not define.
const (
	nftaTableHandle = 4
	nftaTablePad    = 5
	nftaTableOwner  = 7

	nftaChainPad   = 9
	nftaChainFlags = 10
	nftaChainID    = 11

	nftaRulePad = 8
	nftaRuleID  = 9

	nftaSetName   = 2
	nftaSetID     = 10
	nftaSetPad    = 14
	nftaSetHandle = 16
	// Dump-only (Linux 6.13): the set's backend and its element count.
	nftaSetType  = 19
	nftaSetCount = 20

	nftaObjTable  = 1
	nftaObjName   = 2
	nftaObjType   = 3
	nftaObjUse    = 5
	nftaObjHandle = 6
	nftaObjPad    = 7

	nftaFlowtableTable  = 1
	nftaFlowtableName   = 2
	nftaFlowtableUse    = 4
	nftaFlowtableHandle = 5
	nftaFlowtablePad    = 6

	// attrTypeMask strips the nested and byte-order flags from an
	// attribute's type.
	attrTypeMask = 0x3fff
)

// dumpKind is one kind of object in a dump: how to ask for it, which
// attribute names its table and itself, and the attributes that are the
// kernel's bookkeeping (handles, use counts, IDs, padding), which a
// create message must not carry. Every other attribute is sent back as
// it came: an attribute this list does not know is either restored
// exactly or refused by the kernel in the up-front check, never dropped.
type dumpKind struct {
	get, create      uint16
	table, name      uint16
	what             string
	drop             []uint16
	extraCreateFlags netlink.HeaderFlags
}

var (
	tableKind = dumpKind{get: unix.NFT_MSG_GETTABLE, create: unix.NFT_MSG_NEWTABLE, table: unix.NFTA_TABLE_NAME, name: unix.NFTA_TABLE_NAME, what: "table",
		drop: []uint16{unix.NFTA_TABLE_USE, nftaTableHandle, nftaTablePad, nftaTableOwner}}
	chainKind = dumpKind{get: unix.NFT_MSG_GETCHAIN, create: unix.NFT_MSG_NEWCHAIN, table: unix.NFTA_CHAIN_TABLE, name: unix.NFTA_CHAIN_NAME, what: "chain",
		drop: []uint16{unix.NFTA_CHAIN_HANDLE, unix.NFTA_CHAIN_USE, nftaChainPad, nftaChainID}}
	objKind = dumpKind{get: unix.NFT_MSG_GETOBJ, create: unix.NFT_MSG_NEWOBJ, table: nftaObjTable, name: nftaObjName, what: "object",
		drop: []uint16{nftaObjUse, nftaObjHandle, nftaObjPad}}
	flowtableKind = dumpKind{get: unix.NFT_MSG_GETFLOWTABLE, create: unix.NFT_MSG_NEWFLOWTABLE, table: nftaFlowtableTable, name: nftaFlowtableName, what: "flowtable",
		drop: []uint16{nftaFlowtableUse, nftaFlowtableHandle, nftaFlowtablePad}}
	setKind = dumpKind{get: unix.NFT_MSG_GETSET, create: unix.NFT_MSG_NEWSET, table: unix.NFTA_SET_TABLE, name: nftaSetName, what: "set",
		drop: []uint16{nftaSetHandle, nftaSetID, nftaSetPad, nftaSetType, nftaSetCount}}
	ruleKind = dumpKind{get: unix.NFT_MSG_GETRULE, create: unix.NFT_MSG_NEWRULE, table: unix.NFTA_RULE_TABLE, name: unix.NFTA_RULE_CHAIN, what: "rule",
		drop: []uint16{unix.NFTA_RULE_HANDLE, unix.NFTA_RULE_POSITION, nftaRulePad, nftaRuleID}, extraCreateFlags: netlink.Append}
)

// Snapshot dumps portwall's table for Restore. Dumps of different kinds
// are separate requests: a change between them makes the snapshot
// inconsistent, which the caller rules out by applying with the
// generation it read before the snapshot (a change makes that apply fail).
func (c *Conn) Snapshot() (*Snapshot, error) {
	conn, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: c.nsfd})
	if err != nil {
		return nil, fmt.Errorf("netlink: %w", err)
	}
	defer conn.Close()
	s := &Snapshot{Taken: monotonic()}
	tables, err := dumpOf(conn, tableKind, nil)
	if err != nil {
		return nil, err
	}
	if len(tables) == 0 {
		s.Absent = true
		return s, nil
	}
	s.add(tableKind, tables)
	chains, err := dumpOf(conn, chainKind, nil)
	if err != nil {
		return nil, err
	}
	s.add(chainKind, chains)
	for _, k := range []dumpKind{objKind, flowtableKind} {
		msgs, err := dumpOf(conn, k, nil)
		if err != nil {
			return nil, err
		}
		s.add(k, msgs)
	}
	sets, err := dumpOf(conn, setKind, nil)
	if err != nil {
		return nil, err
	}
	s.add(setKind, sets)
	// The kernel wants a transaction ID on every new set (NFTA_SET_ID),
	// whatever refers to it by name.
	for i := range s.Messages {
		if m := &s.Messages[i]; m.Type == unix.NFT_MSG_NEWSET {
			id, _ := netlink.MarshalAttributes([]netlink.Attribute{{Type: nftaSetID, Data: binary.BigEndian.AppendUint32(nil, uint32(i+1))}})
			m.Attrs = append(m.Attrs, id...)
		}
	}
	for _, set := range sets {
		name := attrString(set, nftaSetName)
		req, err := netlink.MarshalAttributes([]netlink.Attribute{
			{Type: unix.NFTA_SET_ELEM_LIST_TABLE, Data: cstring(TableName)},
			{Type: unix.NFTA_SET_ELEM_LIST_SET, Data: cstring(name)},
		})
		if err != nil {
			return nil, err
		}
		els, err := dump(conn, unix.NFT_MSG_GETSETELEM, req)
		if err != nil {
			return nil, fmt.Errorf("dumping the elements of set %s: %w", name, err)
		}
		for _, m := range els {
			s.Messages = append(s.Messages, SnapshotMessage{Type: unix.NFT_MSG_NEWSETELEM, Family: unix.NFPROTO_INET,
				Attrs: m, What: "elements of set " + name})
		}
	}
	rules, err := dumpOf(conn, ruleKind, []netlink.Attribute{{Type: unix.NFTA_RULE_TABLE, Data: cstring(TableName)}})
	if err != nil {
		return nil, err
	}
	s.add(ruleKind, bindingFirst(chains, rules))
	return s, nil
}

// nftChainBinding flags an anonymous chain (`jump { ... }`): the rule
// that jumps to it binds it, and a bound chain takes no more rules.
const nftChainBinding = 4

// bindingFirst orders rules so that anonymous chains are filled before
// the rules that bind them: their rules first, the chains created last
// (the innermost, when one holds another) first.
func bindingFirst(chains, rules [][]byte) [][]byte {
	var order []string
	for _, ch := range chains {
		if f := attr(ch, nftaChainFlags); len(f) == 4 && binary.BigEndian.Uint32(f)&nftChainBinding != 0 {
			order = append([]string{attrString(ch, unix.NFTA_CHAIN_NAME)}, order...)
		}
	}
	var out [][]byte
	for _, name := range order {
		for _, r := range rules {
			if attrString(r, unix.NFTA_RULE_CHAIN) == name {
				out = append(out, r)
			}
		}
	}
	for _, r := range rules {
		if !contains(order, attrString(r, unix.NFTA_RULE_CHAIN)) {
			out = append(out, r)
		}
	}
	return out
}

// add appends the create messages of dumped objects, without the
// kernel's bookkeeping attributes.
func (s *Snapshot) add(k dumpKind, msgs [][]byte) {
	for _, m := range msgs {
		attrs, _ := netlink.UnmarshalAttributes(m)
		what := k.what + " " + attrString(m, k.name)
		if k.create == unix.NFT_MSG_NEWRULE {
			what = fmt.Sprintf("the rule with handle %d in chain %s", attrUint64(m, unix.NFTA_RULE_HANDLE), attrString(m, k.name))
		}
		kept := attrs[:0]
		for _, a := range attrs {
			if !contains(k.drop, a.Type&attrTypeMask) {
				a.Length = 0
				kept = append(kept, a)
			}
		}
		b, _ := netlink.MarshalAttributes(kept)
		s.Messages = append(s.Messages, SnapshotMessage{Type: k.create, Family: unix.NFPROTO_INET, Attrs: b, What: what})
	}
}

// dumpOf dumps the objects of one kind in the inet family and keeps those
// of portwall's table.
func dumpOf(conn *netlink.Conn, k dumpKind, filter []netlink.Attribute) ([][]byte, error) {
	var req []byte
	if filter != nil {
		var err error
		if req, err = netlink.MarshalAttributes(filter); err != nil {
			return nil, err
		}
	}
	msgs, err := dump(conn, k.get, req)
	if err != nil {
		return nil, fmt.Errorf("dumping %ss: %w", k.what, err)
	}
	var out [][]byte
	for _, m := range msgs {
		if attrString(m, k.table) == TableName {
			out = append(out, m)
		}
	}
	return out, nil
}

// dump sends a dump request of the inet family and returns each reply's
// attributes (after the nfgenmsg header).
func dump(conn *netlink.Conn, typ uint16, attrs []byte) ([][]byte, error) {
	msgs, err := conn.Execute(netlink.Message{
		Header: netlink.Header{Type: nftType(typ), Flags: netlink.Request | netlink.Dump},
		Data:   append(nfgenmsg(unix.NFPROTO_INET), attrs...),
	})
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, m := range msgs {
		if len(m.Data) < 4 || m.Header.Type != nftType(typ-1) && m.Header.Type != nftType(typ) {
			// Replies to GET* are NEW* messages (one less).
			continue
		}
		out = append(out, m.Data[4:])
	}
	return out, nil
}

func nftType(t uint16) netlink.HeaderType {
	return netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | t)
}

// nfgenmsg is the header of every nf_tables message: family, version,
// resource id.
func nfgenmsg(family uint8) []byte { return []byte{family, unix.NFNETLINK_V0, 0, 0} }

func cstring(s string) []byte { return append([]byte(s), 0) }

// attr returns the payload of the top-level attribute typ, or nil.
func attr(b []byte, typ uint16) []byte {
	attrs, err := netlink.UnmarshalAttributes(b)
	if err != nil {
		return nil
	}
	for _, a := range attrs {
		if a.Type&attrTypeMask == typ {
			return a.Data
		}
	}
	return nil
}

func attrString(b []byte, typ uint16) string {
	v := attr(b, typ)
	for len(v) > 0 && v[len(v)-1] == 0 {
		v = v[:len(v)-1]
	}
	return string(v)
}

func attrUint64(b []byte, typ uint16) uint64 {
	if v := attr(b, typ); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func contains[T comparable](xs []T, x T) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

func monotonic() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

// ErrRestoreRefused wraps the kernel's refusal of a restore batch, naming
// the object it refused.
var ErrRestoreRefused = errors.New("the kernel refused to restore")

// CheckRestore sends the restore batch without its end marker: the
// kernel validates every message, then aborts the whole batch, changing
// nothing (as nft -c does). It tells before apply changes anything
// whether the table can be put back.
func (c *Conn) CheckRestore(s *Snapshot) error {
	return c.restore(s, 0, false)
}

// Restore puts the table back as the snapshot holds it, in one
// transaction that the kernel refuses when the ruleset's generation is no
// longer gen (0: whatever it is). Elements with a timeout come back with
// what was left of it, less the time since the snapshot; those that would
// have expired by now are left out.
func (c *Conn) Restore(s *Snapshot, gen uint32) error {
	return c.restore(s, gen, true)
}

func (c *Conn) restore(s *Snapshot, gen uint32, commit bool) error {
	conn, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: c.nsfd})
	if err != nil {
		return fmt.Errorf("netlink: %w", err)
	}
	defer conn.Close()
	tableAttrs, err := netlink.MarshalAttributes([]netlink.Attribute{{Type: unix.NFTA_TABLE_NAME, Data: cstring(TableName)}})
	if err != nil {
		return err
	}
	// Create the table if it is missing (so that deleting it cannot
	// fail), delete it, and create it again from the snapshot: as Apply.
	msgs := []SnapshotMessage{
		{Type: unix.NFT_MSG_NEWTABLE, Family: unix.NFPROTO_INET, Attrs: tableAttrs, What: "table " + TableName},
		{Type: unix.NFT_MSG_DELTABLE, Family: unix.NFPROTO_INET, Attrs: tableAttrs, What: "table " + TableName},
	}
	if !s.Absent {
		elapsed := max(0, monotonic()-s.Taken) / 1e6
		for _, m := range s.Messages {
			if m.Type == unix.NFT_MSG_NEWSETELEM {
				if m.Attrs = agedElements(m.Attrs, uint64(elapsed)); m.Attrs == nil {
					continue
				}
			}
			msgs = append(msgs, m)
		}
	}
	return sendBatch(conn, msgs, gen, commit)
}

// agedElements lowers each element's remaining time (milliseconds) by
// elapsed and leaves out the elements that have expired since; nil when
// none is left.
func agedElements(b []byte, elapsed uint64) []byte {
	switch n, expiring, err := countElements(b); {
	case err != nil || expiring:
	case n == 0:
		return nil
	default:
		// Nothing to age: the message goes back as the kernel wrote it,
		// which is what rebuiltElements would give, without copying a
		// large set's elements twice.
		return b
	}
	return rebuiltElements(b, elapsed)
}

// rebuiltElements is agedElements taking the message apart and putting
// it together again.
func rebuiltElements(b []byte, elapsed uint64) []byte {
	attrs, err := netlink.UnmarshalAttributes(b)
	if err != nil {
		return b
	}
	left := 0
	for i, a := range attrs {
		if a.Type&attrTypeMask != unix.NFTA_SET_ELEM_LIST_ELEMENTS {
			continue
		}
		elems, err := netlink.UnmarshalAttributes(a.Data)
		if err != nil {
			return b
		}
		kept := elems[:0]
		for _, e := range elems {
			fields, err := netlink.UnmarshalAttributes(e.Data)
			if err != nil {
				return b
			}
			expired := false
			for j, f := range fields {
				fields[j].Length = 0
				switch f.Type & attrTypeMask {
				case unix.NFTA_SET_ELEM_EXPIRATION:
					ms := binary.BigEndian.Uint64(f.Data)
					if ms <= elapsed {
						expired = true
					}
					fields[j].Data = binary.BigEndian.AppendUint64(nil, ms-min(ms, elapsed))
				}
			}
			if expired {
				continue
			}
			e.Data, _ = netlink.MarshalAttributes(fields)
			e.Length = 0
			kept = append(kept, e)
		}
		left += len(kept)
		attrs[i].Data, _ = netlink.MarshalAttributes(kept)
		attrs[i].Length = 0
	}
	if left == 0 {
		return nil
	}
	for i := range attrs {
		attrs[i].Length = 0
	}
	out, _ := netlink.MarshalAttributes(attrs)
	return out
}

// countElements counts the elements of a NEWSETELEM message's
// attributes and reports whether one has an expiration.
func countElements(b []byte) (n int, expiring bool, err error) {
	keep := func(e error) {
		if e != nil && err == nil {
			err = e
		}
	}
	keep(eachAttr(b, func(typ uint16, data []byte) {
		if typ != unix.NFTA_SET_ELEM_LIST_ELEMENTS {
			return
		}
		keep(eachAttr(data, func(_ uint16, elem []byte) {
			n++
			keep(eachAttr(elem, func(typ uint16, _ []byte) {
				if typ == unix.NFTA_SET_ELEM_EXPIRATION {
					expiring = true
				}
			}))
		}))
	}))
	return n, expiring, err
}

// sendBatch sends msgs as one nf_tables transaction (with gen: refused
// if the generation moved) and returns the first error the kernel
// reported, naming the object. Without commit the batch has no end
// marker: the kernel checks it and aborts it.
func sendBatch(conn *netlink.Conn, msgs []SnapshotMessage, gen uint32, commit bool) error {
	begin := nfgenmsg(unix.AF_UNSPEC)
	binary.BigEndian.PutUint16(begin[2:], unix.NFNL_SUBSYS_NFTABLES)
	if gen != 0 {
		a, err := netlink.MarshalAttributes([]netlink.Attribute{{Type: unix.NFNL_BATCH_GENID, Data: binary.BigEndian.AppendUint32(nil, gen)}})
		if err != nil {
			return err
		}
		begin = append(begin, a...)
	}
	// The batch is written once, into the buffer it is sent from: a
	// large table's snapshot is megabytes.
	size := nlmsgAlign(unix.NLMSG_HDRLEN + len(begin))
	if commit {
		size *= 2
	}
	for _, m := range msgs {
		size += nlmsgAlign(unix.NLMSG_HDRLEN + 4 + len(m.Attrs))
	}
	w := &wireBatch{buf: make([]byte, 0, size)}
	at := w.begin(netlink.HeaderType(unix.NFNL_MSG_BATCH_BEGIN), netlink.Request)
	w.buf = append(w.buf, begin...)
	w.end(at)
	for _, m := range msgs {
		flags := netlink.Request | netlink.Acknowledge
		if m.Type != unix.NFT_MSG_DELTABLE {
			flags |= netlink.Create
		}
		if m.Type == unix.NFT_MSG_NEWRULE {
			flags |= netlink.Append
		}
		at := w.begin(nftType(m.Type), flags)
		w.buf = append(append(w.buf, nfgenmsg(m.Family)...), m.Attrs...)
		w.end(at)
	}
	if commit {
		at := w.begin(netlink.HeaderType(unix.NFNL_MSG_BATCH_END), netlink.Request)
		w.buf = append(w.buf, begin...)
		w.end(at)
	}
	// A batch is one message to the kernel: the socket's buffers must hold
	// it, and an acknowledgement per message.
	if err := conn.SetWriteBuffer(len(w.buf) + 4096); err != nil {
		return err
	}
	if err := conn.SetReadBuffer(w.n*1024 + 65536); err != nil {
		return err
	}
	if err := writeWire(conn, w.buf); err != nil {
		return fmt.Errorf("sending the batch: %w", err)
	}
	// The kernel processes the batch while it is sent: every reply is
	// queued by now. Read them until none is left. Messages are numbered
	// from 1: the batch's begin, then msgs.
	what := func(seq uint32) string {
		switch {
		case seq == 1:
			return "the batch"
		case seq >= 2 && int(seq-2) < len(msgs):
			return msgs[seq-2].What
		}
		return ""
	}
	var first error
	for {
		ready, err := readable(conn)
		if err != nil {
			return err
		}
		if !ready {
			break
		}
		_, err = conn.Receive()
		var op *netlink.OpError
		if errors.As(err, &op) && first == nil {
			if errors.Is(op.Err, syscall.ERESTART) {
				return ErrChanged
			}
			first = fmt.Errorf("%w %s: %w", ErrRestoreRefused, what(op.Sequence), op.Err)
		} else if err != nil && first == nil {
			first = err
		}
	}
	return first
}

// readable polls the socket without waiting (poll(2), not select(2):
// file descriptors above 1023 are fine).
func readable(conn *netlink.Conn) (bool, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return false, err
	}
	var n int
	var perr error
	if err := rc.Control(func(fd uintptr) {
		for {
			n, perr = unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, 0)
			if perr != unix.EINTR {
				return
			}
		}
	}); err != nil {
		return false, err
	}
	return n > 0, perr
}
