// Package raw is raw IPv4 sockets (net/ipv4/raw.c): SOCK_RAW with a
// protocol receives a copy of every datagram of that protocol for the
// host, IP header included, before the protocol's own handler runs
// (raw_local_deliver → raw_v4_input → raw_rcv); ICMP sockets can filter
// types (ICMP_FILTER); a send builds the IP header (raw_sendmsg) unless
// IP_HDRINCL is set — IPPROTO_RAW sets it — and the user's header is sent
// as given with its length, checksum, zero source and zero ID filled in
// (raw_send_hdrinc); ICMP errors about the protocol reach the raw sockets
// (raw_icmp_error → raw_err).
//
// A raw socket's receive buffer is sock_queue_rcv_skb's: a copy is
// refused once sk_rmem_alloc reaches sk_rcvbuf (sk_drops, kfree_skb
// SOCKET_RCVBUFF; Linux keeps no SNMP counter for it).
package raw

import (
	"net/netip"
	"syscall"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/stack/ipv4"
	"github.com/nicbed/nicbed/stack/socket"
)

// ICMP_FILTER is the SOL_RAW option of ICMP sockets: a bit per ICMP type
// (0 to 31) to drop.
const ICMP_FILTER = 1

// Table is the raw sockets of one stack (raw_v4_hashinfo) and raw_prot.
// It implements socket.Proto.
type Table struct {
	K     *kernelmodel.Kernel
	IP    *ipv4.Stack
	socks []*socket.Sock // hashed, most recent first
	rng   uint32
}

// priv is a raw socket's own state (struct raw_sock).
type priv struct {
	filter uint32 // ICMP_FILTER
}

// New is raw_init for ip's stack: raw_local_deliver and raw_icmp_error
// hooked into IPv4.
func New(ip *ipv4.Stack, seed uint64) *Table {
	t := &Table{K: ip.K, IP: ip, rng: uint32(seed) | 1}
	ip.SetRawHooks(t.deliver, t.icmpError)
	return t
}

// Init is inet_create's raw part and raw_sk_init: the socket is bound to
// its protocol (inet_num) and hashed at once; IPPROTO_RAW sets
// IP_HDRINCL.
func (t *Table) Init(sk *socket.Sock, protocol int) error {
	sk.Num = uint16(protocol)
	sk.Priv = &priv{}
	if protocol == socket.IPPROTO_RAW {
		sk.Hdrincl = true
	}
	t.socks = append([]*socket.Sock{sk}, t.socks...)
	return nil
}

// DefaultTTL is ip_default_ttl, IP_TTL's value on a socket without its own.
func (t *Table) DefaultTTL() int { return t.IP.Sysctl.IPDefaultTTL }

// match is raw_v4_match(): the socket's protocol, and its bound and
// connected addresses if set.
func match(sk *socket.Sock, proto uint8, local, remote [4]byte) bool {
	return sk.Num == uint16(proto) &&
		(sk.RcvSaddr == ([4]byte{}) || sk.RcvSaddr == local) &&
		(sk.Daddr == ([4]byte{}) || sk.Daddr == remote)
}

// deliver is raw_local_deliver() → raw_v4_input(): a clone of skb to each
// matching socket (ICMP_FILTER applied), through raw_rcv. It reports
// whether any socket matched.
func (t *Table) deliver(skb *kernelmodel.SKB, proto uint8) bool {
	if len(t.socks) == 0 {
		return false
	}
	k := t.K
	iph := ipv4.IPHdr(skb)
	if iph == nil {
		return false
	}
	saddr, daddr := iph.Source(), iph.Destination()
	delivered := false
	for _, sk := range t.socks {
		if !match(sk, proto, daddr, saddr) {
			continue
		}
		delivered = true
		if proto == ipv4.IPPROTO_ICMP && icmpFilter(sk, skb) {
			continue
		}
		if c := k.SKBClone(skb); c != nil {
			t.rawRcv(sk, c)
		}
	}
	return delivered
}

// icmpFilter is icmp_filter(): whether sk's ICMP_FILTER drops skb's type.
func icmpFilter(sk *socket.Sock, skb *kernelmodel.SKB) bool {
	if skb.Len() < 1 {
		return true
	}
	typ := skb.Data[0]
	if typ < 32 {
		return sk.Priv.(*priv).filter&(1<<typ) != 0
	}
	return false
}

// rawRcv is raw_rcv() → raw_rcv_skb(): the copy gets its IP header back
// (skb_push to the network header) and goes on the receive queue.
func (t *Table) rawRcv(sk *socket.Sock, skb *kernelmodel.SKB) {
	k := t.K
	k.TracePoint("raw_rcv", skb.ID, int64(skb.Len()))
	if n := skb.BufOffset() - skb.NetHeader; n > 0 && skb.Push(n) == nil {
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
		return
	}
	skb.Dev = nil
	if err := sk.QueueRcvSKB(skb); err != nil {
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_SOCKET_RCVBUFF)
	}
}

// icmpError is raw_icmp_error() → raw_err(): an ICMP error about a
// datagram of ours of the quoted protocol reaches the matching raw
// sockets; it is reported (sk_err) with IP_RECVERR, or when hard.
func (t *Table) icmpError(iph header.IPv4, typ, code uint8, info uint32) {
	for _, sk := range t.socks {
		if !match(sk, iph.Protocol(), iph.Source(), iph.Destination()) {
			continue
		}
		if !sk.RecvErr && sk.State != socket.TCP_ESTABLISHED {
			continue
		}
		e, hard, ok := ipv4.IcmpErrno(sk, typ, code)
		if ok && (sk.RecvErr || hard) {
			sk.SetError(e)
		}
	}
}

// Bind is raw_bind(): an address of ours, a broadcast or multicast one,
// or the wildcard (EADDRNOTAVAIL otherwise); the port is ignored.
func (t *Table) Bind(sk *socket.Sock, addr netip.AddrPort) error {
	return t.IP.BindAddr(sk, addr, false)
}

// Connect is ip4_datagram_connect().
func (t *Table) Connect(_ *kernelmodel.Task, sk *socket.Sock, addr netip.AddrPort) error {
	t.rng = t.rng*1664525 + 1013904223
	return t.IP.DatagramConnect(sk, addr, uint16(t.rng>>16))
}

// Disconnect is __udp_disconnect() as raw uses it (udp_disconnect): the
// peer forgotten, the bound address kept only if bind set it.
func (t *Table) Disconnect(sk *socket.Sock) error {
	sk.State = socket.TCP_CLOSE
	sk.Daddr, sk.Dport = [4]byte{}, 0
	return nil
}

// Close is raw_close → sk_common_release: unhash.
func (t *Table) Close(sk *socket.Sock) {
	for i, o := range t.socks {
		if o == sk {
			t.socks = append(t.socks[:i], t.socks[i+1:]...)
			break
		}
	}
	sk.State = socket.TCP_CLOSE
}

// SetSockOpt is raw_setsockopt: ICMP_FILTER on an ICMP socket.
func (t *Table) SetSockOpt(sk *socket.Sock, level, name, val int) error {
	if level != socket.SOL_RAW || name != ICMP_FILTER {
		return syscall.ENOPROTOOPT
	}
	if sk.Num != ipv4.IPPROTO_ICMP {
		return syscall.EOPNOTSUPP
	}
	sk.Priv.(*priv).filter = uint32(val)
	return nil
}

// GetSockOpt is raw_getsockopt.
func (t *Table) GetSockOpt(sk *socket.Sock, level, name int) (int, error) {
	if level != socket.SOL_RAW || name != ICMP_FILTER {
		return 0, syscall.ENOPROTOOPT
	}
	if sk.Num != ipv4.IPPROTO_ICMP {
		return 0, syscall.EOPNOTSUPP
	}
	return int(sk.Priv.(*priv).filter), nil
}

// RecvMsg is raw_recvmsg(): the datagram with its IP header, cut to b
// (MSG_TRUNC), from its source address (port 0).
func (t *Table) RecvMsg(task *kernelmodel.Task, sk *socket.Sock, b []byte, flags int) (int, netip.AddrPort, int, error) {
	return ipv4.RecvDatagram(task, sk, b, flags)
}

// SendMsg is raw_sendmsg(): b is the payload after an IP header the
// stack builds (protocol inet_num; fragmented above the MTU unless
// IP_PMTUDISC_DO), or with IP_HDRINCL the whole datagram. More than 65535
// bytes is EMSGSIZE; no destination EDESTADDRREQ; a broadcast without
// SO_BROADCAST EACCES; the route's errors.
func (t *Table) SendMsg(task *kernelmodel.Task, sk *socket.Sock, b []byte, to *netip.AddrPort, flags int) (int, error) {
	if len(b) > 0xFFFF {
		return 0, syscall.EMSGSIZE
	}
	daddr, _, rt, err := t.IP.DatagramDest(sk, to)
	if err != nil {
		return 0, err
	}
	head := kernelmodel.ETH_HLEN
	if !sk.Hdrincl {
		head += header.IPv4MinSize
		if ipv4.TooBig(sk, &rt, header.IPv4MinSize+len(b)) {
			return 0, syscall.EMSGSIZE
		}
	} else if len(b) > rt.MTU {
		return 0, syscall.EMSGSIZE
	}
	skb, err := sk.AllocSendSKB(task, head, len(b))
	if err != nil {
		return 0, err
	}
	copy(skb.Put(len(b)), b)
	t.K.TracePoint("raw_sendmsg", skb.ID, int64(len(b)))
	if sk.Hdrincl {
		err = t.IP.SendHdrinc(skb, &rt)
	} else {
		err = t.IP.SendSKB(skb, &rt, ipv4.DatagramParams(sk, &rt, daddr, uint8(sk.Num), header.IPv4MinSize+len(b)))
	}
	if err == syscall.ENOBUFS && !sk.RecvErr {
		err = nil // as udp: a dropped transmit is not the sender's error
	}
	if err != nil {
		return 0, err
	}
	return len(b), nil
}
