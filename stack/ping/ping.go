// Package ping is the ICMP echo socket of IPv4 (net/ipv4/ping.c):
// socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP), what unprivileged ping uses.
// The user sends an ICMP echo request header and data; the socket's port
// is the echo identifier (the stack writes it and the checksum); echo
// replies with that identifier are queued for it (ping_rcv) without their
// IP header; ICMP errors quoting its requests reach it (ping_err).
//
// Creating one is allowed only to a group in net.ipv4.ping_group_range,
// which defaults to "1 0" (nobody: EACCES). The model's caller is of
// group 0; SetGroupRange(0, 2147483647) opens it as distributions do.
package ping

import (
	"net/netip"
	"syscall"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/checksum"
	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/stack/ipv4"
	"github.com/nicbed/nicbed/stack/socket"
)

// Table is ping_table and ping_prot of one stack. It implements
// socket.Proto.
type Table struct {
	K  *kernelmodel.Kernel
	IP *ipv4.Stack
	// GroupRange is net.ipv4.ping_group_range (1 0).
	GroupRange [2]uint32

	socks []*socket.Sock
	rover uint16 // ping_port_rover
	rng   uint32
}

// New is ping_init for ip's stack: ping_rcv for echo replies and ping_err
// for ICMP errors quoting an echo request.
func New(ip *ipv4.Stack, seed uint64) *Table {
	t := &Table{K: ip.K, IP: ip, GroupRange: [2]uint32{1, 0}, rng: uint32(seed) | 1}
	ip.SetPingRcv(t.rcv)
	ip.AddErrHandler(ipv4.IPPROTO_ICMP, t.err)
	return t
}

// SetGroupRange sets net.ipv4.ping_group_range.
func (t *Table) SetGroupRange(lo, hi uint32) { t.GroupRange = [2]uint32{lo, hi} }

// Init is ping_init_sock(): the caller's group (0) must be in
// ping_group_range, else EACCES.
func (t *Table) Init(sk *socket.Sock, protocol int) error {
	if gid := uint32(0); gid < t.GroupRange[0] || gid > t.GroupRange[1] {
		return syscall.EACCES
	}
	return nil
}

// DefaultTTL is ip_default_ttl, IP_TTL's value on a socket without its own.
func (t *Table) DefaultTTL() int { return t.IP.Sysctl.IPDefaultTTL }

// getPort is ping_get_port(): ident, or with 0 the next free one after
// ping_port_rover; another socket with the ident conflicts unless both
// set SO_REUSEADDR.
func (t *Table) getPort(sk *socket.Sock, ident uint16) bool {
	inUse := func(id uint16) bool {
		for _, o := range t.socks {
			if o != sk && o.Num == id && (!o.Reuse || !sk.Reuse) {
				return true
			}
		}
		return false
	}
	if ident == 0 {
		found := false
		for i, r := 0, t.rover+1; i < 1<<16; i, r = i+1, r+1 {
			if r == 0 {
				r++
			}
			if !inUse(r) {
				ident, found = r, true
				break
			}
		}
		if !found {
			return false
		}
		t.rover = ident
	} else if inUse(ident) {
		return false
	}
	sk.Num, sk.Sport = ident, ident
	t.socks = append([]*socket.Sock{sk}, t.socks...)
	return true
}

func (t *Table) unhash(sk *socket.Sock) {
	for i, o := range t.socks {
		if o == sk {
			t.socks = append(t.socks[:i], t.socks[i+1:]...)
			break
		}
	}
	sk.Num, sk.Sport = 0, 0
}

// Bind is ping_bind(): an address of ours (or a broadcast or multicast
// one, or the wildcard; EADDRNOTAVAIL otherwise) and the identifier as
// the port (EADDRINUSE if taken).
func (t *Table) Bind(sk *socket.Sock, addr netip.AddrPort) error {
	if err := t.IP.BindAddr(sk, addr, true); err != nil {
		return err
	}
	if !t.getPort(sk, addr.Port()) {
		sk.RcvSaddr, sk.Saddr = [4]byte{}, [4]byte{}
		return syscall.EADDRINUSE
	}
	return nil
}

func (t *Table) autobind(sk *socket.Sock) error {
	if sk.Num == 0 && !t.getPort(sk, 0) {
		return syscall.EAGAIN
	}
	return nil
}

// Connect is ip4_datagram_connect() after inet_autobind.
func (t *Table) Connect(_ *kernelmodel.Task, sk *socket.Sock, addr netip.AddrPort) error {
	if err := t.autobind(sk); err != nil {
		return err
	}
	t.rng = t.rng*1664525 + 1013904223
	return t.IP.DatagramConnect(sk, addr, uint16(t.rng>>16))
}

// Disconnect is udp_disconnect as ping uses it.
func (t *Table) Disconnect(sk *socket.Sock) error {
	sk.State = socket.TCP_CLOSE
	sk.Daddr, sk.Dport = [4]byte{}, 0
	return nil
}

// Close is ping_close → ping_unhash.
func (t *Table) Close(sk *socket.Sock) {
	if sk.Num != 0 {
		t.unhash(sk)
	}
	sk.State = socket.TCP_CLOSE
}

// SetSockOpt: ping has no options of its own.
func (t *Table) SetSockOpt(sk *socket.Sock, level, name, val int) error {
	return syscall.ENOPROTOOPT
}

// GetSockOpt: ping has no options of its own.
func (t *Table) GetSockOpt(sk *socket.Sock, level, name int) (int, error) {
	return 0, syscall.ENOPROTOOPT
}

// lookup is ping_lookup(): the socket of ident bound to daddr or the
// wildcard.
func (t *Table) lookup(ident uint16, daddr [4]byte) *socket.Sock {
	for _, sk := range t.socks {
		if sk.Num == ident && (sk.RcvSaddr == ([4]byte{}) || sk.RcvSaddr == daddr) {
			return sk
		}
	}
	return nil
}

// rcv is ping_rcv(): an echo reply (Data at the ICMP header) for the
// socket of its identifier is queued there (ping_queue_rcv_skb:
// sock_queue_rcv_skb's limit); it reports whether a socket took it.
func (t *Table) rcv(skb *kernelmodel.SKB) bool {
	if skb.Len() < header.ICMPv4MinSize {
		return false
	}
	ident := uint16(skb.Data[4])<<8 | uint16(skb.Data[5])
	sk := t.lookup(ident, ipv4.IPHdr(skb).Destination())
	if sk == nil {
		return false
	}
	t.K.TracePoint("ping_rcv", skb.ID, int64(ident))
	skb.Dev = nil
	if err := sk.QueueRcvSKB(skb); err != nil {
		t.K.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_SOCKET_RCVBUFF)
	}
	return true
}

// err is ping_err(): an ICMP error quoting one of our echo requests
// reaches the socket of its identifier, under udp_err's rules.
func (t *Table) err(iph header.IPv4, typ, code uint8, info uint32) {
	hl := iph.HeaderLength()
	q := iph[hl:]
	if q[0] != header.ICMPv4Echo || q[1] != 0 {
		return
	}
	sk := t.lookup(uint16(q[4])<<8|uint16(q[5]), iph.Source())
	if sk == nil {
		return
	}
	e, hard, ok := ipv4.IcmpErrno(sk, typ, code)
	if !ok || !sk.RecvErr && (!hard || sk.State != socket.TCP_ESTABLISHED) {
		return
	}
	sk.SetError(e)
}

// RecvMsg is ping_recvmsg(): the ICMP message (header and data, no IP
// header) from its source address (port 0).
func (t *Table) RecvMsg(task *kernelmodel.Task, sk *socket.Sock, b []byte, flags int) (int, netip.AddrPort, int, error) {
	return ipv4.RecvDatagram(task, sk, b, flags)
}

// SendMsg is ping_v4_sendmsg(): b is an ICMP echo request (type 8, code
// 0; else, or shorter than its 8-byte header, EINVAL) whose identifier
// the stack sets to the socket's and whose checksum it computes; more
// than 65535 bytes is EMSGSIZE; the destination as udp_sendmsg's.
func (t *Table) SendMsg(task *kernelmodel.Task, sk *socket.Sock, b []byte, to *netip.AddrPort, flags int) (int, error) {
	if err := t.autobind(sk); err != nil {
		return 0, err
	}
	if len(b) > 0xFFFF {
		return 0, syscall.EMSGSIZE
	}
	if len(b) < header.ICMPv4MinSize || b[0] != header.ICMPv4Echo || b[1] != 0 {
		return 0, syscall.EINVAL
	}
	daddr, _, rt, err := t.IP.DatagramDest(sk, to)
	if err != nil {
		return 0, err
	}
	if ipv4.TooBig(sk, &rt, header.IPv4MinSize+len(b)) {
		return 0, syscall.EMSGSIZE
	}
	skb, err := sk.AllocSendSKB(task, kernelmodel.ETH_HLEN+header.IPv4MinSize, len(b))
	if err != nil {
		return 0, err
	}
	m := skb.Put(len(b))
	copy(m, b)
	m[4], m[5] = byte(sk.Sport>>8), byte(sk.Sport)
	m[2], m[3] = 0, 0
	header.ICMPv4(m).SetChecksum(^checksum.Checksum(m, 0))
	t.K.TracePoint("ping_v4_sendmsg", skb.ID, int64(len(b)))
	err = t.IP.SendSKB(skb, &rt, ipv4.DatagramParams(sk, &rt, daddr, ipv4.IPPROTO_ICMP, header.IPv4MinSize+len(b)))
	if err == syscall.ENOBUFS && !sk.RecvErr {
		err = nil
	}
	if err != nil {
		return 0, err
	}
	return len(b), nil
}
