package proof

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/portwall/portwall/internal/netns"
	"github.com/portwall/portwall/rules/ir"
	"github.com/portwall/portwall/rules/probe"
	"github.com/portwall/portwall/rules/proto"
)

// Outcome is what happened to one probe.
type Outcome struct {
	Passed bool
	// How says what was seen: "answered", or how the probe was stopped:
	// "no answer" (dropped), "refused" (rejected with a reset or port
	// unreachable), "unreachable" (rejected with another ICMP error), or
	// "not sent" (dropped on the way out of the sender).
	How string
}

// listen starts a TCP listener and a UDP echo server on every port, on
// addrs, inside namespace n: every probe that gets through the firewall is
// answered. They are closed with the lab.
func (l *lab) listen(n *netns.NS, addrs []netip.Addr, ports []uint16) error {
	return n.Do(func() error {
		for _, port := range ports {
			// One dual-stack socket takes TCP for both families. UDP is
			// bound per address, so that replies leave from the address
			// the probe was sent to, as connection tracking expects.
			ln, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
			if err != nil {
				return fmt.Errorf("namespace %s: %w", n.Name, err)
			}
			l.closers = append(l.closers, ln.Close)
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					c.Close()
				}
			}()
			for _, a := range addrs {
				pc, err := net.ListenPacket("udp", netip.AddrPortFrom(a, port).String())
				if err != nil {
					return fmt.Errorf("namespace %s: %w", n.Name, err)
				}
				l.closers = append(l.closers, pc.Close)
				go func() {
					buf := make([]byte, 512)
					for {
						n, from, err := pc.ReadFrom(buf)
						if err != nil {
							return
						}
						_, _ = pc.WriteTo(buf[:n], from)
					}
				}()
			}
		}
		return nil
	})
}

// send sends one probe and waits at most timeout for its answer. An error
// means the probe could not be made at all (a broken lab), never that it
// was stopped.
func (l *lab) send(ctx context.Context, p *probe.Plan, pr *probe.Probe, timeout time.Duration) (Outcome, error) {
	pk := pr.Packet
	hostAddr := p.Dst[pk.Family()]
	n, from, to := l.where[pk.Remote], pk.Remote, hostAddr
	if pk.Dir == ir.Out {
		n, from, to = l.host, hostAddr, pk.Remote
	}
	if n == nil {
		return Outcome{}, fmt.Errorf("%s: no namespace holds %s", pk, pk.Remote)
	}
	var err error
	switch pk.Protocol {
	case proto.TCP:
		err = n.Do(func() error { return tcpProbe(ctx, from, to, pk.Port, timeout) })
	case proto.UDP:
		err = n.Do(func() error { return udpProbe(from, to, pk.Port, timeout) })
	default:
		err = n.Do(func() error { return pingProbe(from, to, timeout) })
	}
	if err == nil {
		return Outcome{Passed: true, How: "answered"}, nil
	}
	if how := stopped(err); how != "" {
		return Outcome{How: how}, nil
	}
	return Outcome{}, fmt.Errorf("%s: %w", pk, err)
}

// stopped says how err shows a firewall stopping a probe, or "" when it
// shows something else going wrong.
func stopped(err error) string {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "no answer"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EACCES):
		return "unreachable"
	case errors.Is(err, syscall.EPERM):
		// Netfilter dropped the packet in the sender's own output path.
		return "not sent"
	}
	return ""
}

func tcpProbe(ctx context.Context, from, to netip.Addr, port uint16, timeout time.Duration) error {
	d := net.Dialer{Timeout: timeout, LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(from, 0))}
	c, err := d.DialContext(ctx, "tcp", netip.AddrPortFrom(to, port).String())
	if err != nil {
		return err
	}
	c.Close()
	return nil
}

func nonce() []byte {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return b
}

func udpProbe(from, to netip.Addr, port uint16, timeout time.Duration) error {
	c, err := net.DialUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(from, 0)), net.UDPAddrFromAddrPort(netip.AddrPortFrom(to, port)))
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	want := nonce()
	if _, err := c.Write(want); err != nil {
		return err
	}
	buf := make([]byte, 512)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return err
		}
		if bytes.Equal(buf[:n], want) {
			return nil
		}
	}
}

// pingProbe sends an echo request from an ICMP datagram ("ping") socket,
// whose replies the kernel delivers to it alone.
func pingProbe(from, to netip.Addr, timeout time.Duration) error {
	network, number := "udp4", 1
	var request, reply icmp.Type = ipv4.ICMPTypeEcho, ipv4.ICMPTypeEchoReply
	if from.Is6() {
		network, number = "udp6", 58
		request, reply = ipv6.ICMPTypeEchoRequest, ipv6.ICMPTypeEchoReply
	}
	c, err := icmp.ListenPacket(network, from.String())
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	data := nonce()
	msg, err := (&icmp.Message{Type: request, Body: &icmp.Echo{Seq: 1, Data: data}}).Marshal(nil)
	if err != nil {
		return err
	}
	if _, err := c.WriteTo(msg, &net.UDPAddr{IP: to.AsSlice()}); err != nil {
		return err
	}
	buf := make([]byte, 512)
	for {
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			return err
		}
		m, err := icmp.ParseMessage(number, buf[:n])
		if err != nil {
			continue
		}
		if echo, ok := m.Body.(*icmp.Echo); ok && m.Type == reply && bytes.Equal(echo.Data, data) {
			return nil
		}
	}
}
