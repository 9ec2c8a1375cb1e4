// Package udp is UDP over IPv4 (net/ipv4/udp.c): udp_rcv with the
// checksum rules of Linux (a zero checksum is accepted; a checksum the NIC
// did not vouch for is verified in software — at once when no socket
// wants the datagram, on recvmsg otherwise, as udp_recvmsg's
// skb_copy_and_csum_datagram_msg does), the socket lookup of
// __udp4_lib_lookup (the best compute_score: connected 4-tuple over bound
// address over wildcard, the most recently bound first on a tie),
// broadcast delivery to every matching socket (__udp4_lib_mcast_deliver),
// port unreachable when no socket wants a unicast datagram, the receive
// buffer limit of __udp_enqueue_schedule_skb with RcvbufErrors, udp_err
// for ICMP errors (ECONNREFUSED on a connected socket), udp_sendmsg
// through ipv4's output (fragmented above the MTU), ports (bind with
// SO_REUSEADDR's rules, ephemeral ports from ip_local_port_range) and
// the Udp line of /proc/net/snmp.
//
// Deviations: udp_mem (the global UDP memory pressure limits) and
// SO_REUSEPORT are not modelled; ephemeral ports are searched linearly from
// a seeded random start (Linux strides through its hash slots); the
// fragments of a datagram above the MTU are charged to the send buffer as
// the one skb they are cut from, which is freed when they are made.
package udp

import (
	"fmt"
	"io"
	"net/netip"
	"strings"
	"syscall"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/checksum"
	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/stack/internal/prandom"
	"github.com/nicbed/nicbed/stack/ipv4"
	"github.com/nicbed/nicbed/stack/socket"
)

// MIB is the Udp line of /proc/net/snmp (Linux 6.1's columns).
type MIB struct {
	InDatagrams  uint64
	NoPorts      uint64
	InErrors     uint64
	OutDatagrams uint64
	RcvbufErrors uint64
	SndbufErrors uint64
	InCsumErrors uint64
	IgnoredMulti uint64
	MemErrors    uint64
}

// Sysctl is UDP's part of net.ipv4.*.
type Sysctl struct {
	// LocalPortRange is ip_local_port_range (32768 60999).
	LocalPortRange [2]int
}

// Table is UDP of one stack: udp_table (the sockets by local port),
// udp_prot and the net's UDP MIB. It implements socket.Proto.
type Table struct {
	K      *kernelmodel.Kernel
	IP     *ipv4.Stack
	MIB    MIB
	Sysctl Sysctl

	ports map[uint16][]*socket.Sock // by inet_num, most recently bound first
	rng   prandom.State
	mcast []*socket.Sock // scratch of the broadcast delivery
}

// New is udp_init for ip's stack: udp_rcv and udp_err registered for
// IPPROTO_UDP. seed seeds the ephemeral port choice and the connected
// sockets' IP IDs.
func New(ip *ipv4.Stack, seed uint64) *Table {
	t := &Table{K: ip.K, IP: ip, ports: make(map[uint16][]*socket.Sock), rng: prandom.New(seed * 0x9E3779B97F4A7C15)}
	t.Sysctl.LocalPortRange = [2]int{32768, 60999}
	ip.AddProtocol(ipv4.IPPROTO_UDP, t.rcv)
	ip.AddErrHandler(ipv4.IPPROTO_UDP, t.err)
	return t
}

func (t *Table) random() uint32 { return t.rng.U32() }

// SetSysctl sets net.ipv4.ip_local_port_range (lo, hi).
func (t *Table) SetLocalPortRange(lo, hi int) error {
	if lo < 1 || hi > 65535 || lo > hi {
		return fmt.Errorf("sysctl: net.ipv4.ip_local_port_range: invalid range %d %d", lo, hi)
	}
	t.Sysctl.LocalPortRange = [2]int{lo, hi}
	return nil
}

// DefaultTTL is ip_default_ttl, IP_TTL's value on a socket without its own.
func (t *Table) DefaultTTL() int { return t.IP.Sysctl.IPDefaultTTL }

// Init is udp_init_sock.
func (t *Table) Init(sk *socket.Sock, protocol int) error { return nil }

func ip4(a [4]byte) netip.Addr { return netip.AddrFrom4(a) }

// lportInuse is udp_lib_lport_inuse(): another socket on port num whose
// bound address is equal to sk's, or either is the wildcard, unless both
// set SO_REUSEADDR.
func (t *Table) lportInuse(sk *socket.Sock, num uint16) bool {
	for _, o := range t.ports[num] {
		if o == sk {
			continue
		}
		if o.Reuse && sk.Reuse {
			continue
		}
		if o.RcvSaddr == ([4]byte{}) || sk.RcvSaddr == ([4]byte{}) || o.RcvSaddr == sk.RcvSaddr {
			return true
		}
	}
	return false
}

// getPort is udp_lib_get_port() (udp_v4_get_port): bind sk to snum, or
// with 0 to a free port of ip_local_port_range. It reports false when the
// port is in use or no port is free.
func (t *Table) getPort(sk *socket.Sock, snum uint16) bool {
	if snum == 0 {
		lo, hi := t.Sysctl.LocalPortRange[0], t.Sysctl.LocalPortRange[1]
		n := hi - lo + 1
		first := lo + int(t.random()%uint32(n))
		found := false
		for i := 0; i < n; i++ {
			p := uint16(lo + (first-lo+i)%n)
			if len(t.ports[p]) == 0 {
				snum, found = p, true
				break
			}
		}
		if !found {
			return false
		}
	} else if t.lportInuse(sk, snum) {
		return false
	}
	sk.Num = snum
	sk.Sport = snum
	t.ports[snum] = append([]*socket.Sock{sk}, t.ports[snum]...)
	return true
}

// unhash is udp_lib_unhash().
func (t *Table) unhash(sk *socket.Sock) {
	l := t.ports[sk.Num]
	for i, o := range l {
		if o == sk {
			l = append(l[:i], l[i+1:]...)
			break
		}
	}
	if len(l) == 0 {
		delete(t.ports, sk.Num)
	} else {
		t.ports[sk.Num] = l
	}
	sk.Num, sk.Sport = 0, 0
}

// SOCK_BINDADDR_LOCK and SOCK_BINDPORT_LOCK are the sk_userlocks bits of
// an explicit bind.
const (
	SOCK_BINDADDR_LOCK = 4
	SOCK_BINDPORT_LOCK = 8
)

// Bind is inet_bind() (__inet_bind) with udp_v4_get_port.
func (t *Table) Bind(sk *socket.Sock, addr netip.AddrPort) error {
	if err := t.IP.BindAddr(sk, addr, true); err != nil {
		return err
	}
	a := addr.Addr().As4()
	if !t.getPort(sk, addr.Port()) {
		sk.RcvSaddr, sk.Saddr = [4]byte{}, [4]byte{}
		return syscall.EADDRINUSE
	}
	if a != ([4]byte{}) {
		sk.Userlocks |= SOCK_BINDADDR_LOCK
	}
	if addr.Port() != 0 {
		sk.Userlocks |= SOCK_BINDPORT_LOCK
	}
	sk.Daddr, sk.Dport = [4]byte{}, 0
	return nil
}

// autobind is inet_autobind(): an ephemeral port, EAGAIN if none is free.
func (t *Table) autobind(sk *socket.Sock) error {
	if sk.Num != 0 {
		return nil
	}
	if !t.getPort(sk, 0) {
		return syscall.EAGAIN
	}
	return nil
}

// Connect is inet_dgram_connect() (autobind) → ip4_datagram_connect().
func (t *Table) Connect(_ *kernelmodel.Task, sk *socket.Sock, addr netip.AddrPort) error {
	if err := t.autobind(sk); err != nil {
		return err
	}
	return t.IP.DatagramConnect(sk, addr, uint16(t.random()))
}

// Disconnect is __udp_disconnect(): the peer forgotten, the bound address
// and port released unless bind set them.
func (t *Table) Disconnect(sk *socket.Sock) error {
	sk.State = socket.TCP_CLOSE
	sk.Daddr, sk.Dport = [4]byte{}, 0
	if sk.Userlocks&SOCK_BINDADDR_LOCK == 0 {
		sk.RcvSaddr, sk.Saddr = [4]byte{}, [4]byte{}
	}
	if sk.Userlocks&SOCK_BINDPORT_LOCK == 0 && sk.Num != 0 {
		t.unhash(sk)
	}
	return nil
}

// Close is udp_lib_close → sk_common_release: unhash.
func (t *Table) Close(sk *socket.Sock) {
	if sk.Num != 0 {
		t.unhash(sk)
	}
	sk.State = socket.TCP_CLOSE
}

// SetSockOpt is udp_setsockopt: no SOL_UDP option is modelled.
func (t *Table) SetSockOpt(sk *socket.Sock, level, name, val int) error {
	return syscall.ENOPROTOOPT
}

// GetSockOpt is udp_getsockopt.
func (t *Table) GetSockOpt(sk *socket.Sock, level, name int) (int, error) {
	return 0, syscall.ENOPROTOOPT
}

// computeScore is compute_score(): -1 if sk does not match, else higher
// for each of bound address, connected peer address and port.
func computeScore(sk *socket.Sock, saddr [4]byte, sport uint16, daddr [4]byte) int {
	score := 2 // PF_INET
	if sk.RcvSaddr != ([4]byte{}) {
		if sk.RcvSaddr != daddr {
			return -1
		}
		score += 4
	}
	if sk.Daddr != ([4]byte{}) {
		if sk.Daddr != saddr {
			return -1
		}
		score += 4
	}
	if sk.Dport != 0 {
		if sk.Dport != sport {
			return -1
		}
		score += 4
	}
	return score
}

// lookup is __udp4_lib_lookup(): the best-scoring socket on dport.
func (t *Table) lookup(saddr [4]byte, sport uint16, daddr [4]byte, dport uint16) *socket.Sock {
	var best *socket.Sock
	badness := -1
	for _, sk := range t.ports[dport] {
		if s := computeScore(sk, saddr, sport, daddr); s > badness {
			best, badness = sk, s
		}
	}
	return best
}

// Lookup is udp4_lib_lookup() for tests and tools: the socket a datagram
// from src to dst would reach.
func (t *Table) Lookup(src, dst netip.AddrPort) *socket.Sock {
	return t.lookup(src.Addr().As4(), src.Port(), dst.Addr().As4(), dst.Port())
}

// csumValid is udp_lib_checksum_complete() == 0 (after udp4_csum_init):
// a zero checksum (none sent), a NIC's CHECKSUM_UNNECESSARY, or the
// software sum over the pseudo header and the datagram.
func (t *Table) csumValid(skb *kernelmodel.SKB) bool {
	if skb.IPSummed == kernelmodel.CHECKSUM_UNNECESSARY {
		return true
	}
	uh := header.UDP(skb.Data)
	if uh.Checksum() == 0 {
		return true
	}
	iph := ipv4.IPHdr(skb)
	src, dst := iph.Source(), iph.Destination()
	t.K.ChargeBytes(t.K.Cost.CsumPerKiB, skb.Len())
	ph := checksum.PseudoHeaderIPv4(src[:], dst[:], ipv4.IPPROTO_UDP, uint16(skb.Len()))
	if checksum.Checksum(skb.Data, ph) != 0xFFFF {
		return false
	}
	skb.IPSummed = kernelmodel.CHECKSUM_UNNECESSARY // csum_unnecessary from now on
	return true
}

// rcv is udp_rcv() → __udp4_lib_rcv(): Data at the UDP header.
func (t *Table) rcv(skb *kernelmodel.SKB) {
	k := t.K
	k.TracePoint("udp_rcv", skb.ID, int64(skb.Len()))
	if skb.Len() < header.UDPSize {
		t.MIB.InErrors++
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_PKT_TOO_SMALL)
		return
	}
	uh := header.UDP(skb.Data)
	ulen := int(uh.Length())
	if ulen > skb.Len() || ulen < header.UDPSize {
		t.MIB.InErrors++ // short_packet
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_PKT_TOO_SMALL)
		return
	}
	skb.Trim(ulen) // pskb_trim_rcsum
	iph := ipv4.IPHdr(skb)
	saddr, daddr := iph.Source(), iph.Destination()
	sport, dport := uh.SourcePort(), uh.DestinationPort()
	if ipv4.RouteType(skb) == ipv4.RTN_BROADCAST {
		t.mcastDeliver(skb, saddr, sport, daddr, dport)
		return
	}
	if sk := t.lookup(saddr, sport, daddr, dport); sk != nil {
		t.queueRcvSKB(sk, skb)
		return
	}
	if !t.csumValid(skb) {
		t.MIB.InCsumErrors++
		t.MIB.InErrors++
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_UDP_CSUM)
		return
	}
	t.MIB.NoPorts++
	t.IP.IcmpSend(skb, header.ICMPv4DestUnreach, header.ICMPv4PortUnreach)
	k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NO_SOCKET)
}

// mcastDeliver is __udp4_lib_mcast_deliver() for a broadcast: a copy to
// every socket that matches (__udp_is_mcast_sock), the last one getting
// skb itself; with none, IgnoredMulti.
func (t *Table) mcastDeliver(skb *kernelmodel.SKB, saddr [4]byte, sport uint16, daddr [4]byte, dport uint16) {
	k := t.K
	t.mcast = t.mcast[:0]
	for _, sk := range t.ports[dport] {
		if sk.RcvSaddr != ([4]byte{}) && sk.RcvSaddr != daddr ||
			sk.Daddr != ([4]byte{}) && sk.Daddr != saddr ||
			sk.Dport != 0 && sk.Dport != sport {
			continue
		}
		t.mcast = append(t.mcast, sk)
	}
	if len(t.mcast) == 0 {
		t.MIB.IgnoredMulti++
		k.ConsumeSKB(skb)
		return
	}
	for i, sk := range t.mcast {
		c := skb
		if i < len(t.mcast)-1 {
			if c = k.SKBClone(skb); c == nil {
				t.MIB.RcvbufErrors++
				t.MIB.InErrors++
				continue
			}
		}
		t.queueRcvSKB(sk, c)
	}
	t.mcast = t.mcast[:0]
}

// queueRcvSKB is udp_queue_rcv_skb() → __udp_queue_rcv_skb() →
// __udp_enqueue_schedule_skb(): the datagram is refused when the receive
// buffer is already above sk_rcvbuf, or would be above it by more than
// this skb (one skb always fits an empty buffer): RcvbufErrors and
// InErrors, both (the ENOMEM that Linux charges twice), sk_drops, and
// the skb freed (SOCKET_RCVBUFF). Else it is charged, queued, and
// sk_data_ready wakes the reader.
func (t *Table) queueRcvSKB(sk *socket.Sock, skb *kernelmodel.SKB) {
	k := t.K
	k.TracePoint("udp_queue_rcv_skb", skb.ID, int64(sk.RmemAlloc))
	size := skb.Truesize()
	if sk.RmemAlloc > sk.Rcvbuf || sk.RmemAlloc+size > size+sk.Rcvbuf {
		sk.Drops++
		t.MIB.RcvbufErrors++
		t.MIB.InErrors++
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_SOCKET_RCVBUFF)
		return
	}
	skb.Dev = nil
	sk.SetOwnerR(skb)
	sk.ReceiveQueue.QueueTail(skb)
	k.Charge(k.Cost.Deliver)
	if !sk.Dead {
		sk.DataReady(sk)
	}
}

// RecvMsg is udp_recvmsg(): the first datagram (left queued with
// MSG_PEEK) copied into b — cut to len(b), MSG_TRUNC in the message flags,
// the datagram's length returned with MSG_TRUNC in flags —, its source,
// and InDatagrams when not peeking. A datagram whose checksum fails is
// dropped here (InCsumErrors, InErrors) and the next one tried.
func (t *Table) RecvMsg(task *kernelmodel.Task, sk *socket.Sock, b []byte, flags int) (int, netip.AddrPort, int, error) {
	k := t.K
	for {
		skb, err := sk.RecvDatagram(task, flags)
		if err != nil {
			return 0, netip.AddrPort{}, 0, err
		}
		if skb == nil {
			return 0, netip.AddrPort{}, 0, nil // shut down: end of file
		}
		if !t.csumValid(skb) {
			if flags&socket.MSG_PEEK != 0 {
				sk.ReceiveQueue.Dequeue()
			}
			t.MIB.InCsumErrors++
			t.MIB.InErrors++
			k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_UDP_CSUM)
			continue
		}
		payload := skb.Data[header.UDPSize:]
		ulen := len(payload)
		n := copy(b, payload)
		k.ChargeBytes(k.Cost.RxPerKiB, n)
		msgFlags := 0
		if n < ulen {
			msgFlags |= socket.MSG_TRUNC
		}
		iph := ipv4.IPHdr(skb)
		from := netip.AddrPortFrom(ip4(iph.Source()), header.UDP(skb.Data).SourcePort())
		if flags&socket.MSG_PEEK == 0 {
			t.MIB.InDatagrams++
			k.TracePoint("udp_recvmsg", skb.ID, int64(n))
			k.ConsumeSKB(skb) // skb_consume_udp: sock_rfree uncharges it
		}
		if flags&socket.MSG_TRUNC != 0 {
			n = ulen
		}
		return n, from, msgFlags, nil
	}
}

// err is __udp4_lib_err(): the ICMP error reaches the socket that sent
// the quoted datagram; none is Icmp InErrors. Port unreachable is
// ECONNREFUSED, and like every hard error it is reported (sk_err) only on
// a connected socket unless IP_RECVERR is set; soft errors only with
// IP_RECVERR (no error queue is modelled: the error is sk_err).
func (t *Table) err(iph header.IPv4, typ, code uint8, info uint32) {
	hl := iph.HeaderLength()
	uh := header.UDP(iph[hl:])
	sk := t.lookup(iph.Destination(), uh.DestinationPort(), iph.Source(), uh.SourcePort())
	if sk == nil {
		t.IP.SNMP.Icmp.InErrors++
		return
	}
	e, hard, ok := ipv4.IcmpErrno(sk, typ, code)
	if !ok {
		return
	}
	if !sk.RecvErr && (!hard || sk.State != socket.TCP_ESTABLISHED) {
		return
	}
	t.K.TracePoint("udp_err", 0, int64(e))
	sk.SetError(e)
}

// WriteSNMP prints the Udp lines of /proc/net/snmp.
func (t *Table) WriteSNMP(w io.Writer) error {
	m := &t.MIB
	var names, vals strings.Builder
	for _, c := range []struct {
		n string
		v uint64
	}{
		{"InDatagrams", m.InDatagrams}, {"NoPorts", m.NoPorts}, {"InErrors", m.InErrors},
		{"OutDatagrams", m.OutDatagrams}, {"RcvbufErrors", m.RcvbufErrors}, {"SndbufErrors", m.SndbufErrors},
		{"InCsumErrors", m.InCsumErrors}, {"IgnoredMulti", m.IgnoredMulti}, {"MemErrors", m.MemErrors},
	} {
		names.WriteString(" " + c.n)
		fmt.Fprintf(&vals, " %d", c.v)
	}
	_, err := fmt.Fprintf(w, "Udp:%s\nUdp:%s\n", names.String(), vals.String())
	return err
}
