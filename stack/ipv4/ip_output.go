package ipv4

import (
	"syscall"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/header"
)

// This file is the sockets' entry to IPv4: the output route
// (ip_route_output_key), the datagram send (ip_make_skb's header and
// ip_send_skb), the raw IP_HDRINCL send, and the hooks the socket
// protocols hang on the receive side (raw_local_deliver before the
// protocol handler, and net_protocol.err_handler for ICMP errors).

// Rtable is what a sender needs of a struct rtable: the device, the
// source address the route selects (fl4->saddr), the route type and the
// path MTU.
type Rtable struct {
	Dev  *kernelmodel.NetDevice
	Src  [4]byte
	Dst  [4]byte
	Type int // RTN_UNICAST, RTN_BROADCAST
	MTU  int
	r    *Route
}

// InetAddrType is inet_addr_type(): RTN_LOCAL, RTN_BROADCAST,
// RTN_MULTICAST or RTN_UNICAST for ip.
func (s *Stack) InetAddrType(ip [4]byte) int { return s.addrType(nil, ip) }

// RouteOutput is ip_route_output_key() for a socket's datagram to dst
// from src (zero: the route's source). No route is ENETUNREACH
// (OutNoRoutes counted, as udp_sendmsg does); a src that is not one of
// our addresses is EINVAL (ip_route_output_slow's __ip_dev_find). A
// local destination goes through the loopback device (ENETUNREACH
// without one); MTU is the path MTU (ip_skb_dst_mtu).
func (s *Stack) RouteOutput(dst, src [4]byte) (Rtable, error) {
	if src != ([4]byte{}) && s.addrType(nil, src) != RTN_LOCAL {
		return Rtable{}, syscall.EINVAL
	}
	r, rsrc := s.ipRouteOutput(dst)
	if r == nil {
		s.SNMP.Ip.OutNoRoutes++
		return Rtable{}, syscall.ENETUNREACH
	}
	rt := Rtable{Dev: r.Dev, Src: src, Dst: dst, Type: RTN_UNICAST, MTU: s.dstMTU(r, dst, false), r: r}
	if r.Type == RTN_BROADCAST || dst == [4]byte{255, 255, 255, 255} {
		rt.Type = RTN_BROADCAST
	}
	if rt.Src == ([4]byte{}) {
		rt.Src = rsrc
	}
	return rt, nil
}

// OutParams are the IP header fields of a socket's datagram (the cork of
// ip_make_skb).
type OutParams struct {
	Src, Dst [4]byte
	Proto    uint8
	TOS      uint8
	TTL      uint8 // 0: ip_default_ttl
	DF       bool
	// SockID, if set, is the connected socket's inet_id, the IP ID source
	// of ip_select_ident_segs for its datagrams.
	SockID *uint16
}

// SendSKB is __ip_make_skb's header and ip_send_skb(): put an IPv4
// header for p in front of skb's Data (the transport header and payload),
// choose its ID (ip_select_ident_segs: the connected socket's counter,
// else 0 with DF, else the stack's), and send it through ip_local_out
// (fragmented above the MTU). skb is consumed. A transmit that drops is
// ENOBUFS (net_xmit_errno; OutDiscards counted); NET_XMIT_CN is success.
func (s *Stack) SendSKB(skb *kernelmodel.SKB, rt *Rtable, p OutParams) error {
	k := s.K
	b := skb.Push(header.IPv4MinSize)
	if b == nil {
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
		return syscall.ENOBUFS
	}
	ttl := p.TTL
	if ttl == 0 {
		ttl = uint8(s.Sysctl.IPDefaultTTL)
	}
	h := header.IPv4(b)
	h.SetVersionIHL(header.IPv4MinSize)
	h[header.IPv4TOS] = p.TOS
	h.SetTotalLength(uint16(skb.Len()))
	var flags uint16
	if p.DF {
		flags = header.IPv4FlagDF
	}
	h.SetFlagsFragment(flags, 0)
	switch {
	case p.SockID != nil:
		h.SetID(*p.SockID)
		*p.SockID++
	case p.DF:
		h.SetID(0)
	default:
		h.SetID(s.nextID())
	}
	h.SetTTL(ttl)
	h.SetProtocol(p.Proto)
	h.SetSource(p.Src)
	h.SetDestination(p.Dst)
	if p.Proto == IPPROTO_ICMP && skb.Len() > header.IPv4MinSize {
		s.icmpOutCount(skb.Data[header.IPv4MinSize]) // __ip_make_skb: a raw socket's ICMP
	}
	return s.sendSKB(skb, rt)
}

// icmpOutCount is icmp_out_count(): an ICMP message of type typ sent
// (OutMsgs and its OutType), as __ip_make_skb and raw_send_hdrinc count
// what raw sockets send.
func (s *Stack) icmpOutCount(typ uint8) {
	s.SNMP.Icmp.OutMsgs++
	s.SNMP.Icmp.OutType[typ]++
}

// sendSKB is ip_send_skb() for an skb with its IP header at Data.
func (s *Stack) sendSKB(skb *kernelmodel.SKB, rt *Rtable) error {
	skb.NetHeader = skb.BufOffset()
	skb.Protocol = kernelmodel.ETH_P_IP
	skb.Dev = rt.Dev
	rc := s.ipLocalOut(skb, rt.r, rt.Dst)
	if rc == kernelmodel.NET_XMIT_SUCCESS || rc == kernelmodel.NET_XMIT_CN {
		return nil
	}
	s.SNMP.Ip.OutDiscards++
	if rc < 0 {
		return syscall.Errno(-rc)
	}
	return syscall.ENOBUFS
}

// SendHdrinc is raw_send_hdrinc()'s header fix-up and send: skb's Data is
// a whole IP datagram the user built (IP_HDRINCL). It must fit the MTU
// (EMSGSIZE: a header-included datagram is not fragmented) and hold its
// header (EINVAL); the total length and checksum are always set, a zero
// source becomes the route's, a zero ID is chosen. skb is consumed.
func (s *Stack) SendHdrinc(skb *kernelmodel.SKB, rt *Rtable) error {
	k := s.K
	if skb.Len() > rt.MTU {
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_PKT_TOO_BIG)
		return syscall.EMSGSIZE
	}
	if skb.Len() < header.IPv4MinSize {
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
		return syscall.EINVAL
	}
	h := header.IPv4(skb.Data)
	if hl := int(h[0]&0xf) * 4; hl < header.IPv4MinSize || hl > skb.Len() {
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
		return syscall.EINVAL
	}
	if h.Source() == ([4]byte{}) {
		h.SetSource(rt.Src)
	}
	h.SetTotalLength(uint16(skb.Len()))
	if h.ID() == 0 {
		h.SetID(s.nextID())
	}
	if hl := int(h[0]&0xf) * 4; h.Protocol() == IPPROTO_ICMP && skb.Len() > hl {
		s.icmpOutCount(skb.Data[hl])
	}
	return s.sendSKB(skb, rt)
}

// RouteType is the type of the route an skb was received by
// (skb_rtable(skb)->rt_type): RTN_LOCAL or RTN_BROADCAST.
func RouteType(skb *kernelmodel.SKB) int { return int(skb.CB[cbRouteType]) }

// ErrHandler is a struct net_protocol's err_handler (udp_err, raw_err):
// an ICMP error of type and code (info: the next-hop MTU of a
// fragmentation needed) quoting iph, an IP header of ours with at least
// 8 bytes of its payload after the header.
type ErrHandler func(iph header.IPv4, typ, code uint8, info uint32)

// RawDeliver is raw_local_deliver(): give the raw sockets of the skb's
// protocol their copies (Data at the transport header, the IP header at
// NetHeader; skb is not consumed) and report whether any took one.
type RawDeliver func(skb *kernelmodel.SKB, proto uint8) bool

// sockHooks are the socket layer's hooks on the receive side.
type sockHooks struct {
	err [256]ErrHandler
	raw RawDeliver
	// rawErr is raw_icmp_error(): the raw sockets' share of ICMP errors.
	rawErr ErrHandler
	// ping is ping_rcv(): an echo reply for a ping socket.
	ping func(skb *kernelmodel.SKB) bool
}

// SetPingRcv sets ping_rcv: given each echo reply (Data at the ICMP
// header), it reports whether a ping socket took it (and the skb with it).
func (s *Stack) SetPingRcv(fn func(skb *kernelmodel.SKB) bool) { s.hooks.ping = fn }

func (s *Stack) pingRcv(skb *kernelmodel.SKB) bool {
	return s.hooks.ping != nil && s.hooks.ping(skb)
}

// AddErrHandler sets the err_handler of protocol proto.
func (s *Stack) AddErrHandler(proto uint8, h ErrHandler) { s.hooks.err[proto] = h }

// SetRawHooks sets raw_local_deliver and raw_icmp_error.
func (s *Stack) SetRawHooks(deliver RawDeliver, icmpErr ErrHandler) {
	s.hooks.raw, s.hooks.rawErr = deliver, icmpErr
}

// rawLocalDeliver is raw_local_deliver().
func (s *Stack) rawLocalDeliver(skb *kernelmodel.SKB, proto uint8) bool {
	if s.hooks.raw == nil {
		return false
	}
	return s.hooks.raw(skb, proto)
}

// NR_ICMP_UNREACH is the last destination unreachable code.
const NR_ICMP_UNREACH = 15
