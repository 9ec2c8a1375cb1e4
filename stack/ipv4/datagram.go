package ipv4

import (
	"net/netip"
	"syscall"

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
