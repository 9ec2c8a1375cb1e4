package udp

import (
	"net/netip"
	"syscall"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/checksum"
	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/stack/ipv4"
	"github.com/nicbed/nicbed/stack/socket"
)

// MaxPayload is the largest UDP payload over IPv4: 65535 less the IP and
// UDP headers (ip_append_data's limit for a datagram that may fragment).
const MaxPayload = 0xFFFF - header.IPv4MinSize - header.UDPSize

// Headroom is what a datagram's skb reserves before the UDP header: the
// IP header and the link layer's (hh_len).
const Headroom = kernelmodel.ETH_HLEN + header.IPv4MinSize

// SendMsg is inet_sendmsg (inet_autobind) → udp_sendmsg(): the payload b
// to *to, or to the connected peer (EDESTADDRREQ if none); a port 0
// destination is EINVAL; more than 65535 bytes, or more than MaxPayload
// (or the MTU's room with IP_PMTUDISC_DO), is EMSGSIZE; the route's errors
// (ENETUNREACH), EACCES for a broadcast without SO_BROADCAST; the send
// buffer's (EAGAIN when full and not blocking, counted SndbufErrors). The
// datagram is checksummed in software, sent with DF when it fits the MTU
// (IP_PMTUDISC_WANT, Linux's default) and fragmented by IPv4 otherwise;
// OutDatagrams counts it. A transmit that drops it (ENOBUFS) is
// SndbufErrors and, without IP_RECVERR, success (as Linux reports it).
func (t *Table) SendMsg(task *kernelmodel.Task, sk *socket.Sock, b []byte, to *netip.AddrPort, flags int) (int, error) {
	k := t.K
	if err := t.autobind(sk); err != nil {
		return 0, err
	}
	if len(b) > 0xFFFF {
		return 0, syscall.EMSGSIZE
	}
	if to != nil && to.Port() == 0 {
		return 0, syscall.EINVAL
	}
	daddr, dport, rt, err := t.IP.DatagramDest(sk, to)
	if err != nil {
		return 0, err
	}
	saddr := rt.Src
	ulen := header.UDPSize + len(b)
	if ipv4.TooBig(sk, &rt, header.IPv4MinSize+ulen) {
		return 0, syscall.EMSGSIZE
	}
	skb, err := sk.AllocSendSKB(task, Headroom, ulen)
	if err != nil {
		if err == syscall.EAGAIN && sk.Nospace || err == syscall.ENOBUFS {
			t.MIB.SndbufErrors++
		}
		return 0, err
	}
	p := skb.Put(ulen)
	uh := header.UDP(p)
	uh.SetSourcePort(sk.Sport)
	uh.SetDestinationPort(dport)
	uh.SetLength(uint16(ulen))
	uh.SetChecksum(0)
	copy(p[header.UDPSize:], b)
	k.ChargeBytes(k.Cost.TxPerKiB, len(b))
	// udp_send_skb: the checksum over the pseudo header and the datagram
	// (CHECKSUM_NONE path; 0 is sent as 0xFFFF).
	k.ChargeBytes(k.Cost.CsumPerKiB, ulen)
	ph := checksum.PseudoHeaderIPv4(saddr[:], daddr[:], ipv4.IPPROTO_UDP, uint16(ulen))
	c := ^checksum.Checksum(p, ph)
	if c == 0 {
		c = 0xFFFF
	}
	uh.SetChecksum(c)
	op := ipv4.DatagramParams(sk, &rt, daddr, ipv4.IPPROTO_UDP, header.IPv4MinSize+ulen)
	if to == nil {
		op.SockID = &sk.ID
	}
	k.TracePoint("udp_send_skb", skb.ID, int64(ulen))
	if err := t.IP.SendSKB(skb, &rt, op); err != nil {
		if err == syscall.ENOBUFS && !sk.RecvErr {
			t.MIB.SndbufErrors++
			return len(b), nil
		}
		return 0, err
	}
	t.MIB.OutDatagrams++
	return len(b), nil
}
