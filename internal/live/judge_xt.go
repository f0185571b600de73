package live

import (
	"encoding/binary"
	"net/netip"

	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
	"golang.org/x/sys/unix"

	"github.com/portwall/portwall/rules/proto"
)

// iptables-nft keeps some matches and targets as xtables extensions
// inside nftables rules (`xt match "icmp6"`: ufw's ICMPv6 rules, its
// conntrack and addrtype matches, LOG and REJECT). The ones hosts' firewall
// tools use are evaluated here from their kernel structures; any other
// is tried both ways.

// xtMatch evaluates an xtables match.
func (m *machine) xtMatch(s *state, e *expr.Match) step {
	p := m.p
	switch info := e.Info.(type) {
	case *xt.Comment:
		return goOn
	case *xt.ConntrackMtinfo3:
		return conntrack(&info.ConntrackMtinfoBase, info.StateMask, info.StatusMask, p)
	case *xt.ConntrackMtinfo2:
		return conntrack(&info.ConntrackMtinfoBase, info.StateMask, info.StatusMask, p)
	case *xt.ConntrackMtinfo1:
		return conntrack(&info.ConntrackMtinfoBase, uint16(info.StateMask), uint16(info.StatusMask), p)
	case *xt.AddrTypeV1:
		src, dst := m.addrTypes()
		return matchIf(addrType(info.Source, src, uint32(info.Flags)&xtAddrtypeInvertSource != 0) &&
			addrType(info.Dest, dst, uint32(info.Flags)&xtAddrtypeInvertDest != 0))
	case *xt.AddrType:
		src, dst := m.addrTypes()
		return matchIf(addrType(info.Source, src, info.InvertSource) && addrType(info.Dest, dst, info.InvertDest))
	case *xt.Tcp:
		if p.Protocol != proto.TCP {
			return noMatch
		}
		if info.Option != 0 {
			return fork("xt match tcp --tcp-option")
		}
		return matchIf(portIn(p.SPort, info.SrcPorts, info.InvFlags&xt.TcpInvSrcPorts != 0) &&
			portIn(p.DPort, info.DstPorts, info.InvFlags&xt.TcpInvDestPorts != 0) &&
			(tcpSYN&info.FlagsMask == info.FlagsCmp) != (info.InvFlags&xt.TcpInvFlags != 0))
	case *xt.Udp:
		if p.Protocol != proto.UDP {
			return noMatch
		}
		return matchIf(portIn(p.SPort, info.SrcPorts, info.InvFlags&xt.UdpInvSrcPorts != 0) &&
			portIn(p.DPort, info.DstPorts, info.InvFlags&xt.UdpInvDestPorts != 0))
	case *xt.Unknown:
		return m.xtRaw(s, e.Name, e.Rev, []byte(*info))
	}
	return fork("xt match %s", e.Name)
}

const (
	xtAddrtypeInvertSource = 1
	xtAddrtypeInvertDest   = 2
)

// addrTypes are the route types of the packet's source and destination:
// this host's address is local, the other machine's unicast.
func (m *machine) addrTypes() (src, dst uint16) {
	local, unicast := uint16(1)<<unix.RTN_LOCAL, uint16(1)<<unix.RTN_UNICAST
	if m.p.Out {
		return local, unicast
	}
	return unicast, local
}

func addrType(mask, have uint16, invert bool) bool {
	return mask == 0 || (mask&have != 0) != invert
}

func portIn(port uint16, r [2]uint16, invert bool) bool {
	return (port >= r[0] && port <= r[1]) != invert
}

// conntrack is xt_conntrack for a new connection's first packet.
func conntrack(b *xt.ConntrackMtinfoBase, stateMask, statusMask uint16, p Packet) step {
	known := xt.ConntrackState | xt.ConntrackStateAlias | xt.ConntrackStatus | xt.ConntrackProto | xt.ConntrackDirection
	flags, inv := xt.ConntrackFlags(b.MatchFlags), xt.ConntrackFlags(b.InvertFlags)
	if flags&^known != 0 {
		return fork("xt match conntrack with options portwall does not evaluate (flags %#x)", b.MatchFlags)
	}
	if flags&(xt.ConntrackState|xt.ConntrackStateAlias) != 0 && (stateMask&ctStateNew != 0) == (inv&xt.ConntrackState != 0) {
		return noMatch
	}
	if flags&xt.ConntrackStatus != 0 && (statusMask&ctStatusNew != 0) == (inv&xt.ConntrackStatus != 0) {
		return noMatch
	}
	if flags&xt.ConntrackProto != 0 && (b.L4Proto == uint16(p.Protocol.Number())) == (inv&xt.ConntrackProto != 0) {
		return noMatch
	}
	// --ctdir ORIGINAL leaves the invert flag clear, REPLY sets it: the
	// first packet goes in the original direction.
	if flags&xt.ConntrackDirection != 0 && inv&xt.ConntrackDirection != 0 {
		return noMatch
	}
	return goOn
}

// xtRaw evaluates the matches the library leaves as bytes, from their
// kernel structures.
func (m *machine) xtRaw(s *state, name string, rev uint32, b []byte) step {
	p := m.p
	switch {
	case (name == "icmp" || name == "icmp6") && rev == 0 && len(b) >= 4:
		// struct ipt_icmp / ip6t_icmp: type, code range, invert flags.
		want := proto.ICMP
		if name == "icmp6" {
			want = proto.ICMPv6
		}
		if p.Protocol != want {
			return noMatch
		}
		hit := b[0] == 0xff || b[0] == p.ICMPType && b[1] == 0 // the code is 0
		return matchIf(hit != (b[3]&1 != 0))
	case (name == "hl" || name == "ttl") && rev == 0 && len(b) >= 2:
		// struct ip6t_hl_info / ipt_ttl_info: mode (eq, ne, lt, gt), value.
		var ok bool
		switch b[0] {
		case 0:
			ok = hopLimit == b[1]
		case 1:
			ok = hopLimit != b[1]
		case 2:
			ok = hopLimit < b[1]
		case 3:
			ok = hopLimit > b[1]
		default:
			return fork("xt match %s mode %d", name, b[0])
		}
		return matchIf(ok)
	case name == "rt" && rev == 0:
		// A routing header match never matches a packet without one.
		return noMatch
	case name == "state" && rev == 0 && len(b) >= 4:
		return matchIf(binary.NativeEndian.Uint32(b)&ctStateNew != 0)
	case name == "limit":
		return goOn // the first packet is within the rate
	case name == "multiport" && rev == 1 && len(b) >= 48:
		return multiport(b, p)
	case name == "mark" && rev == 1 && len(b) >= 9:
		// struct xt_mark_mtinfo1: mark, mask, invert.
		if s.markUnknown != "" {
			return fork("%s", s.markUnknown)
		}
		mark, mask := binary.NativeEndian.Uint32(b), binary.NativeEndian.Uint32(b[4:])
		return matchIf((s.mark&mask == mark) != (b[8] != 0))
	case name == "pkttype" && rev == 0 && len(b) >= 8:
		// struct xt_pkttype_info: int pkttype, int invert.
		return matchIf((binary.NativeEndian.Uint32(b) == unix.PACKET_HOST) != (binary.NativeEndian.Uint32(b[4:]) != 0))
	case name == "iprange" && rev == 1 && len(b) >= 65:
		return iprange(b, p)
	}
	return fork("xt match %s, which portwall cannot evaluate", name)
}

// multiport is struct xt_multiport_v1: flags (source, destination,
// either), count, ports[15] (host order), pflags[15] (a port starting a
// range), invert.
func multiport(b []byte, p Packet) step {
	if p.Protocol != proto.TCP && p.Protocol != proto.UDP {
		return noMatch
	}
	flags, count := b[0], int(b[1])
	if count > 15 {
		return fork("xt match multiport with %d ports", count)
	}
	port := func(i int) uint16 { return binary.NativeEndian.Uint16(b[2+2*i:]) }
	has := func(v uint16) bool {
		for i := 0; i < count; i++ {
			lo := port(i)
			if b[32+i] != 0 && i+1 < count {
				if v >= lo && v <= port(i+1) {
					return true
				}
				i++
				continue
			}
			if v == lo {
				return true
			}
		}
		return false
	}
	var hit bool
	switch flags {
	case 0:
		hit = has(p.SPort)
	case 1:
		hit = has(p.DPort)
	case 2:
		hit = has(p.SPort) || has(p.DPort)
	default:
		return fork("xt match multiport flags %d", flags)
	}
	return matchIf(hit != (b[47] != 0))
}

// iprange is struct xt_iprange_mtinfo: source and destination ranges
// (union nf_inet_addr, 16 bytes each), flags.
func iprange(b []byte, p Packet) step {
	const src, dst, srcInv, dstInv = 0x01, 0x02, 0x10, 0x20
	flags := b[64]
	in := func(a netip.Addr, lo, hi []byte) bool {
		n := 4
		if a.Is6() {
			n = 16
		}
		from, ok1 := netip.AddrFromSlice(lo[:n])
		to, ok2 := netip.AddrFromSlice(hi[:n])
		return ok1 && ok2 && a.Compare(from) >= 0 && a.Compare(to) <= 0
	}
	if flags&src != 0 && in(p.Src, b[0:16], b[16:32]) == (flags&srcInv != 0) {
		return noMatch
	}
	if flags&dst != 0 && in(p.Dst, b[32:48], b[48:64]) == (flags&dstInv != 0) {
		return noMatch
	}
	return goOn
}

// xtTarget runs an xtables target.
func (m *machine) xtTarget(s *state, r *otherRule, e *expr.Target) step {
	switch e.Name {
	case "LOG", "NFLOG", "ULOG", "CT", "TCPMSS", "CLASSIFY", "DSCP", "TOS", "NOTRACK", "AUDIT":
		// Log or change the packet: no verdict.
		return goOn
	case "MARK", "CONNMARK":
		// No verdict, but a later rule may test the mark, which portwall
		// does not compute.
		s.markUnknown = "the mark set by xt target " + e.Name
		s.ctmarkUnknown = s.markUnknown
		return goOn
	case "REJECT":
		m.terminal(s, r, Drops, "rejected")
		return ended
	case "DNAT", "SNAT", "MASQUERADE", "REDIRECT", "NETMAP":
		m.terminal(s, r, Passes, "translated")
		return ended
	case "NFQUEUE", "QUEUE":
		m.terminal(s, r, Unknown, "hands the packet to a userspace program (NFQUEUE), which decides")
		return ended
	}
	m.terminal(s, r, Unknown, "xt target "+e.Name+", which portwall cannot evaluate")
	return ended
}
