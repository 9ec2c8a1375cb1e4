package ipv4

import (
	"net/netip"
	"syscall"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/stack/socket"
)

// DatagramConnect is __ip4_datagram_connect() (net/ipv4/datagram.c), the
// connect of UDP and raw sockets: route to addr (its errors), EACCES for a
// broadcast without SO_BROADCAST, the source address from the route if
// none is bound, the peer set, the state TCP_ESTABLISHED and the socket's
// IP ID counter started at id (Linux draws it at random).
func (s *Stack) DatagramConnect(sk *socket.Sock, addr netip.AddrPort, id uint16) error {
	dst := addr.Addr().As4()
	rt, err := s.RouteOutput(dst, sk.Saddr)
	if err != nil {
		return err
	}
	if rt.Type == RTN_BROADCAST && !sk.Broadcast {
		return syscall.EACCES
	}
	if sk.Saddr == ([4]byte{}) {
		sk.Saddr = rt.Src
	}
	if sk.RcvSaddr == ([4]byte{}) {
		sk.RcvSaddr = rt.Src
	}
	sk.Daddr, sk.Dport = dst, addr.Port()
	sk.State = socket.TCP_ESTABLISHED
	sk.ID = id
	return nil
}

// IcmpErrConvert is icmp_err_convert[] (net/ipv4/icmp.c): the errno of
// each destination unreachable code and whether it is fatal (hard).
var IcmpErrConvert = [NR_ICMP_UNREACH + 1]struct {
	Errno syscall.Errno
	Fatal bool
}{
	{syscall.ENETUNREACH, false}, {syscall.EHOSTUNREACH, false}, {syscall.ENOPROTOOPT, true},
	{syscall.ECONNREFUSED, true}, {syscall.EMSGSIZE, false}, {syscall.EOPNOTSUPP, false},
	{syscall.ENETUNREACH, true}, {syscall.EHOSTDOWN, true}, {syscall.ENONET, true},
	{syscall.ENETUNREACH, true}, {syscall.EHOSTUNREACH, true}, {syscall.ENETUNREACH, false},
	{syscall.EHOSTUNREACH, false}, {syscall.EHOSTUNREACH, true}, {syscall.EHOSTUNREACH, true},
	{syscall.EHOSTUNREACH, true},
}

// IcmpErrno is the error a datagram socket takes from an ICMP error
// (the switch of udp_err and raw_err): the errno, whether it is hard, and
// false for the messages that set none (source quench, redirect,
// fragmentation needed with IP_PMTUDISC_DONT).
func IcmpErrno(sk *socket.Sock, typ, code uint8) (syscall.Errno, bool, bool) {
	switch typ {
	case 4, header.ICMPv4Redirect: // source quench, redirect
		return 0, false, false
	case header.ICMPv4ParamProb:
		return syscall.EPROTO, true, true
	case header.ICMPv4DestUnreach:
		if code == header.ICMPv4FragNeeded {
			if sk.PMTUDisc == socket.IP_PMTUDISC_DONT {
				return 0, false, false
			}
			return syscall.EMSGSIZE, true, true
		}
		if int(code) < len(IcmpErrConvert) {
			c := IcmpErrConvert[code]
			return c.Errno, c.Fatal, true
		}
		return syscall.EHOSTUNREACH, false, true
	}
	return syscall.EHOSTUNREACH, false, true // time exceeded and the rest
}

// DatagramDest is the destination and route of a datagram socket's send
// (the common head of udp_sendmsg, raw_sendmsg and ping_v4_sendmsg): to,
// or the connected peer (EDESTADDRREQ if none); the route's errors;
// EACCES for a broadcast without SO_BROADCAST.
func (s *Stack) DatagramDest(sk *socket.Sock, to *netip.AddrPort) (daddr [4]byte, dport uint16, rt Rtable, err error) {
	if to != nil {
		daddr, dport = to.Addr().As4(), to.Port()
	} else {
		if sk.State != socket.TCP_ESTABLISHED {
			return daddr, 0, rt, syscall.EDESTADDRREQ
		}
		daddr, dport = sk.Daddr, sk.Dport
	}
	rt, err = s.RouteOutput(daddr, sk.Saddr)
	if err != nil {
		return daddr, dport, rt, err
	}
	if rt.Type == RTN_BROADCAST && !sk.Broadcast {
		return daddr, dport, rt, syscall.EACCES
	}
	return daddr, dport, rt, nil
}

// DatagramParams are the IP header fields of a datagram of l3len bytes
// (IP header included) from sk over rt: its TTL and TOS, and DF as
// __ip_make_skb sets it (IP_PMTUDISC_DO, or IP_PMTUDISC_WANT — Linux's
// default — when the datagram fits the MTU).
func DatagramParams(sk *socket.Sock, rt *Rtable, daddr [4]byte, proto uint8, l3len int) OutParams {
	ttl := 0
	if sk.UcTTL > 0 {
		ttl = sk.UcTTL
	}
	return OutParams{Src: rt.Src, Dst: daddr, Proto: proto, TOS: sk.TOS, TTL: uint8(ttl),
		DF: sk.PMTUDisc >= socket.IP_PMTUDISC_DO || sk.PMTUDisc == socket.IP_PMTUDISC_WANT && l3len <= rt.MTU}
}

// TooBig reports whether a datagram of l3len bytes (IP header included)
// is EMSGSIZE for sk over rt: beyond 65535, or beyond the MTU with
// IP_PMTUDISC_DO (ip_append_data's limits).
func TooBig(sk *socket.Sock, rt *Rtable, l3len int) bool {
	return l3len > 0xFFFF || sk.PMTUDisc >= socket.IP_PMTUDISC_DO && l3len > rt.MTU
}

// BindAddr is the address part of __inet_bind (raw_bind, ping_bind): the
// address must be ours, broadcast or multicast, or the wildcard
// (EADDRNOTAVAIL otherwise, ip_nonlocal_bind being 0), and the socket
// neither connected nor, with checkNum, bound to a port (EINVAL). The
// bound and source addresses are set; the source stays unset for a
// broadcast or multicast address.
func (s *Stack) BindAddr(sk *socket.Sock, addr netip.AddrPort, checkNum bool) error {
	if !addr.Addr().Is4() {
		return syscall.EAFNOSUPPORT
	}
	a := addr.Addr().As4()
	typ := s.InetAddrType(a)
	if a != ([4]byte{}) && typ != RTN_LOCAL && typ != RTN_MULTICAST && typ != RTN_BROADCAST {
		return syscall.EADDRNOTAVAIL
	}
	if sk.State != socket.TCP_CLOSE || checkNum && sk.Num != 0 {
		return syscall.EINVAL
	}
	sk.RcvSaddr, sk.Saddr = a, a
	if typ == RTN_MULTICAST || typ == RTN_BROADCAST {
		sk.Saddr = [4]byte{}
	}
	return nil
}

// RecvDatagram is the receive of raw and ping sockets (raw_recvmsg,
// ping_recvmsg): the first datagram's bytes from Data (raw: the IP
// header; ping: the ICMP header) copied to b — MSG_TRUNC in the message
// flags when cut, the full length returned with MSG_TRUNC in flags —,
// from its IP source (port 0), freed unless MSG_PEEK.
func RecvDatagram(task *kernelmodel.Task, sk *socket.Sock, b []byte, flags int) (int, netip.AddrPort, int, error) {
	skb, err := sk.RecvDatagram(task, flags)
	if err != nil || skb == nil {
		return 0, netip.AddrPort{}, 0, err
	}
	n := copy(b, skb.Data)
	l := skb.Len()
	mf := 0
	if n < l {
		mf = socket.MSG_TRUNC
	}
	from := netip.AddrPortFrom(netip.AddrFrom4(IPHdr(skb).Source()), 0)
	if flags&socket.MSG_PEEK == 0 {
		sk.K.ConsumeSKB(skb)
	}
	if flags&socket.MSG_TRUNC != 0 {
		n = l
	}
	return n, from, mf, nil
}
