// Package ipv4 is IPv4 (net/ipv4): ip_rcv's validation with a drop reason
// per failure, the routing tables (local and main, longest-prefix match) and
// their ip route listing, ip_local_deliver to the protocol handlers
// (inet_protos), ip_local_out/ip_output through the neighbour layer to
// dev_queue_xmit, and ICMP (icmp_rcv, echo replies, destination unreachable
// for an unknown protocol, rate limits as Linux), with /proc/net/snmp's Ip,
// Icmp and IcmpMsg counters.
//
// Linux 6.1's ip_rcv_core order is kept: a frame for another host is
// dropped (OTHERHOST) before it is counted; then InReceives; a header
// shorter than 20 bytes or than its IHL, a version other than 4 or an IHL
// below 5 are InHdrErrors (IP_INHDR); a bad header checksum is InCsumErrors
// and InHdrErrors (IP_CSUM); a total length beyond the frame is
// InTruncatedPkts (PKT_TOO_SMALL) and one below the header InHdrErrors
// (IP_INHDR); the frame is trimmed to the total length (Ethernet padding).
// TTL is not checked on local delivery (Linux accepts TTL 0 for the host;
// forwarding, which checks it, comes later). With forwarding off, a
// destination that is neither local nor broadcast is InAddrErrors
// (IP_INADDRERRORS), as ip_error counts it.
//
// ip_local_deliver reassembles fragments (ip_defrag): overlapping
// fragments kill the datagram's queue, ipfrag_time (30 s) expires it with
// an ICMP time exceeded when the first fragment came, and no new queue is
// made above ipfrag_high_thresh (4 MiB), as 6.1 does.
//
// ip_output fragments a datagram above the MTU (ip_fragment; one with DF is
// FragFails, dropped with PKT_TOO_BIG).
//
// Not yet (later steps, in this order): forwarding (TTL, ICMP time
// exceeded), netfilter hooks, a loopback device (output to a local address
// is dropped), IP options (accepted, not parsed), accept_local and
// rp_filter (a source that is one of our addresses is a martian, as with
// Linux's defaults; the reverse path is not checked).
package ipv4

import (
	"fmt"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/gro"
	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/stack/neigh"
)

// IP protocol numbers.
const (
	IPPROTO_ICMP = 1
	IPPROTO_TCP  = 6
	IPPROTO_UDP  = 17
)

// Sysctl is net.ipv4.* for this stack, with Linux's defaults.
type Sysctl struct {
	IPDefaultTTL             int // ip_default_ttl (64)
	ICMPRatelimit            int // icmp_ratelimit, ms (1000)
	ICMPRatemask             int // icmp_ratemask (0x1818: unreachable, source quench, time exceeded, parameter problem)
	ICMPMsgsPerSec           int // icmp_msgs_per_sec (1000)
	ICMPMsgsBurst            int // icmp_msgs_burst (50)
	ICMPEchoIgnoreAll        int // icmp_echo_ignore_all (0)
	ICMPEchoIgnoreBroadcasts int // icmp_echo_ignore_broadcasts (1)
	ARPNotify                int // conf.all.arp_notify (0): gratuitous ARP when a device comes up
}

// DefaultSysctl is Linux's defaults.
func DefaultSysctl() Sysctl {
	return Sysctl{
		IPDefaultTTL:             64,
		ICMPRatelimit:            1000,
		ICMPRatemask:             0x1818,
		ICMPMsgsPerSec:           1000,
		ICMPMsgsBurst:            50,
		ICMPEchoIgnoreBroadcasts: 1,
	}
}

// Ifaddr is a struct in_ifaddr: an address on a device.
type Ifaddr struct {
	Dev       *kernelmodel.NetDevice
	Local     [4]byte
	PrefixLen int
	Broadcast [4]byte
}

// Handler is a struct net_protocol's handler (tcp_v4_rcv, udp_rcv,
// icmp_rcv): it gets the skb with Data at the transport header (the IP
// header at NetHeader, IPHdr) and owns it.
type Handler func(skb *kernelmodel.SKB)

// Stack is one host's IPv4 (its struct net's ipv4 part).
type Stack struct {
	K      *kernelmodel.Kernel
	Sysctl Sysctl
	FIB    FIB
	Neigh  *neigh.Table
	SNMP   SNMP
	GRO    *gro.Engine // receive offload of TCP on the kernel's NAPI instances

	addrs  []Ifaddr
	protos [256]Handler
	ipID   uint32
	icmp   icmpState
	frag   fragState
	hooks  sockHooks // the socket layer's (ip_output.go)
}

// New makes the IPv4 stack of k: the ARP table, ip_rcv for ETH_P_IP
// (inet_init's dev_add_pack) and icmp_rcv for IPPROTO_ICMP. seed seeds the
// model's prandom (reachable_time, IP IDs, the ICMP credit).
func New(k *kernelmodel.Kernel, seed uint64) *Stack {
	s := &Stack{K: k, Sysctl: DefaultSysctl()}
	s.Neigh = neigh.NewTable(k, seed)
	s.Neigh.AddrType = s.addrType
	s.Neigh.SelectAddr = s.selectAddr
	s.ipID = uint32(seed*0x9E3779B97F4A7C15>>40) | 1
	s.icmp.rng = seed*0x2545F4914F6CDD1D | 1
	s.icmp.peers = make(map[[4]byte]*inetPeer)
	s.icmp.credit = uint32(s.Sysctl.ICMPMsgsBurst)
	k.DevAddPack(&kernelmodel.PacketType{Type: kernelmodel.ETH_P_IP, Func: s.ipRcv, ListFunc: s.ipListRcv})
	s.GRO = gro.Register(k) // inet_init: ip_packet_offload, tcpv4_offload
	s.protos[IPPROTO_ICMP] = s.icmpRcv
	k.RegisterNetdevNotifier(s.netdevEvent)
	return s
}

// AddProtocol is inet_add_protocol(): the handler of an IP protocol.
func (s *Stack) AddProtocol(proto uint8, h Handler) { s.protos[proto] = h }

// AddAddress is ip addr add local/plen brd + dev: the address and the
// routes fib_add_ifaddr makes for it — the local route in table local at
// once, and, while the device is up, the broadcast route in table local and
// the connected prefix in main (a device that comes up gets them then).
func (s *Stack) AddAddress(dev *kernelmodel.NetDevice, local [4]byte, plen int) error {
	if plen < 0 || plen > 32 {
		return fmt.Errorf("ip addr: prefix length %d", plen)
	}
	for _, a := range s.addrs {
		if a.Dev == dev && a.Local == local {
			return fmt.Errorf("ip addr: %s/%d on %s: file exists", ipString(local), plen, dev.Name)
		}
	}
	a := Ifaddr{Dev: dev, Local: local, PrefixLen: plen, Broadcast: ip4(u32(local) | ^mask(plen))}
	s.addrs = append(s.addrs, a)
	return s.fibAddIfaddr(a)
}

// fibAddIfaddr is fib_add_ifaddr(). Routes that exist are left alone.
func (s *Stack) fibAddIfaddr(a Ifaddr) error {
	dev, local, plen := a.Dev, a.Local, a.PrefixLen
	rs := []Route{{Table: RT_TABLE_LOCAL, Type: RTN_LOCAL, Dst: local, PrefixLen: 32, Dev: dev, Scope: RT_SCOPE_HOST, Kernel: true, Src: local}}
	if dev.IsUp() {
		if plen < 31 {
			rs = append(rs, Route{Table: RT_TABLE_LOCAL, Type: RTN_BROADCAST, Dst: a.Broadcast, PrefixLen: 32, Dev: dev, Scope: RT_SCOPE_LINK, Kernel: true, Src: local})
		}
		if plen < 32 {
			rs = append(rs, Route{Table: RT_TABLE_MAIN, Type: RTN_UNICAST, Dst: local, PrefixLen: plen, Dev: dev, Scope: RT_SCOPE_LINK, Kernel: true, Src: local})
		}
	}
	for _, r := range rs {
		if s.FIB.has(r) {
			continue
		}
		if err := s.FIB.Add(r); err != nil {
			return err
		}
	}
	return nil
}

// AddRoute is ip route add dst/plen [via gw] dev dev [metric m].
func (s *Stack) AddRoute(dst [4]byte, plen int, gw [4]byte, dev *kernelmodel.NetDevice, metric int) error {
	scope := RT_SCOPE_UNIVERSE
	if gw == ([4]byte{}) {
		scope = RT_SCOPE_LINK
	}
	return s.FIB.Add(Route{Table: RT_TABLE_MAIN, Type: RTN_UNICAST, Dst: dst, PrefixLen: plen, Gateway: gw, Dev: dev, Scope: scope, Metric: metric})
}

// Addrs are the configured addresses (ip addr).
func (s *Stack) Addrs() []Ifaddr { return s.addrs }

// addrType is inet_addr_type_dev_table().
func (s *Stack) addrType(dev *kernelmodel.NetDevice, ip [4]byte) int {
	if ip == [4]byte{255, 255, 255, 255} {
		return RTN_BROADCAST
	}
	if ip[0]&0xf0 == 0xe0 {
		return RTN_MULTICAST
	}
	if r := s.FIB.lookup(ip); r != nil && r.Table == RT_TABLE_LOCAL {
		return r.Type
	}
	return RTN_UNICAST
}

// selectAddr is inet_select_addr(): the first address of dev on dst's
// subnet, else the first address of dev.
func (s *Stack) selectAddr(dev *kernelmodel.NetDevice, dst [4]byte) ([4]byte, bool) {
	var first *Ifaddr
	for i := range s.addrs {
		a := &s.addrs[i]
		if a.Dev != dev {
			continue
		}
		if (u32(a.Local)^u32(dst))&mask(a.PrefixLen) == 0 {
			return a.Local, true
		}
		if first == nil {
			first = a
		}
	}
	if first != nil {
		return first.Local, true
	}
	return [4]byte{}, false
}

// netdevEvent is inetdev_event()'s gratuitous ARP (arp_notify): when a
// device is up with carrier, announce its addresses. Linux sends it at
// NETDEV_UP, where a device without carrier loses it; the model sends it
// when the device is first up with carrier, from a task (as linkwatch
// runs from a workqueue), so the announcement reaches the wire.
func (s *Stack) netdevEvent(ev int, d *kernelmodel.NetDevice) {
	switch ev {
	case kernelmodel.NETDEV_UP:
		// inetdev_event → fib_netdev_event: the routes of d's addresses.
		for _, a := range s.addrs {
			if a.Dev == d {
				if err := s.fibAddIfaddr(a); err != nil {
					s.K.TracePoint("fib_add_ifaddr: "+err.Error(), 0, 0)
				}
			}
		}
	case kernelmodel.NETDEV_DOWN:
		// fib_disable_ip: the routes through d go (the addresses stay),
		// and neigh_ifdown flushes d's neighbours.
		s.FIB.flushDev(d)
		s.Neigh.IfDown(d)
		return
	}
	if s.Sysctl.ARPNotify == 0 || !d.IsUp() || !d.NetifCarrierOK() {
		return
	}
	if ev != kernelmodel.NETDEV_UP && ev != kernelmodel.NETDEV_CHANGE {
		return
	}
	s.K.Spawn(0, "arp_notify", func(*kernelmodel.Task) { s.NotifyPeers(d) })
}

// NotifyPeers is netdev_notify_peers() → inetdev_send_gratuitous_arp(): a
// gratuitous ARP for each address of d.
func (s *Stack) NotifyPeers(d *kernelmodel.NetDevice) {
	for _, a := range s.addrs {
		if a.Dev == d {
			s.Neigh.SendGratuitous(d, a.Local)
		}
	}
}

// IPCB is the part of skb->cb the IPv4 layer keeps (struct inet_skb_parm
// plus the input route's type, skb_rtable(skb)->rt_type).
const (
	cbRouteType = 0 // RTN_LOCAL or RTN_BROADCAST of the input route
)

// IPHdr is ip_hdr(skb): the IPv4 header at NetHeader.
func IPHdr(skb *kernelmodel.SKB) header.IPv4 {
	b := skb.Buf()
	if skb.NetHeader < 0 || skb.NetHeader+header.IPv4MinSize > len(b) {
		return nil
	}
	return header.IPv4(b[skb.NetHeader:])
}

// ipRcv is ip_rcv(): ip_rcv_core, then ip_rcv_finish.
func (s *Stack) ipRcv(skb *kernelmodel.SKB) {
	s.K.TracePoint("ip_rcv", skb.ID, int64(skb.Len()))
	if h := s.ipRcvCore(skb); h != nil {
		s.ipRcvFinish(skb, h)
	}
}

// ipListRcv is ip_list_rcv(): the list path's ip_rcv, each skb through
// ip_rcv_core and then routed and delivered (ip_sublist_rcv,
// ip_list_rcv_finish) in order.
func (s *Stack) ipListRcv(list *kernelmodel.SKBHead) {
	s.K.TracePoint("ip_list_rcv", 0, int64(list.Len()))
	for skb := list.Dequeue(); skb != nil; skb = list.Dequeue() {
		s.K.TracePoint("ip_rcv_core", skb.ID, int64(skb.Len()))
		if h := s.ipRcvCore(skb); h != nil {
			s.ipRcvFinish(skb, h)
		}
	}
}

// ipRcvCore is ip_rcv_core(): the checks, in 6.1's order, each failure
// freeing the skb under its reason (nil returned); the header, cut to the
// total length, otherwise.
func (s *Stack) ipRcvCore(skb *kernelmodel.SKB) header.IPv4 {
	k := s.K
	if skb.PktType == kernelmodel.PACKET_OTHERHOST {
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_OTHERHOST)
		return nil
	}
	m := &s.SNMP.Ip
	m.InReceives++
	s.SNMP.IpExt.InOctets += uint64(skb.Len())
	if skb.Len() < header.IPv4MinSize {
		s.inHdrError(skb, kernelmodel.SKB_DROP_REASON_IP_INHDR)
		return nil
	}
	h := header.IPv4(skb.Data)
	hl := h.HeaderLength()
	if hl < header.IPv4MinSize || h.Version() != 4 || hl > skb.Len() {
		s.inHdrError(skb, kernelmodel.SKB_DROP_REASON_IP_INHDR)
		return nil
	}
	if !h.ChecksumValid() {
		s.SNMP.IpExt.InCsumErrors++
		s.inHdrError(skb, kernelmodel.SKB_DROP_REASON_IP_CSUM)
		return nil
	}
	tl := int(h.TotalLength())
	if skb.Len() < tl {
		s.SNMP.IpExt.InTruncatedPkts++
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_PKT_TOO_SMALL)
		return nil
	}
	if tl < hl {
		s.inHdrError(skb, kernelmodel.SKB_DROP_REASON_IP_INHDR)
		return nil
	}
	skb.Trim(tl) // pskb_trim_rcsum
	skb.NetHeader = skb.BufOffset()
	skb.TransHeader = skb.NetHeader + hl
	return h[:tl]
}

func (s *Stack) inHdrError(skb *kernelmodel.SKB, reason kernelmodel.DropReason) {
	s.SNMP.Ip.InHdrErrors++
	s.K.KfreeSKB(skb, reason)
}

// ipRcvFinish is ip_rcv_finish() with ip_route_input_noref(): local and
// broadcast destinations are delivered; with forwarding off, anything else
// is ip_error's EHOSTUNREACH (InAddrErrors).
func (s *Stack) ipRcvFinish(skb *kernelmodel.SKB, h header.IPv4) {
	k := s.K
	src, dst := h.Source(), h.Destination()
	rt := s.addrType(skb.Dev, dst)
	// Martian sources (ip_route_input_slow, fib_validate_source): loopback,
	// any source that is not unicast (multicast, broadcast, one of our own
	// addresses), and 0/8 except to a broadcast (a DHCP client).
	if src[0] == 127 || s.addrType(skb.Dev, src) != RTN_UNICAST || src[0] == 0 && rt != RTN_BROADCAST {
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
		return
	}
	switch rt {
	case RTN_LOCAL, RTN_BROADCAST:
	case RTN_MULTICAST:
		// No multicast membership yet: ip_route_input_mc refuses it.
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
		return
	default:
		s.SNMP.Ip.InAddrErrors++
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_IP_INADDRERRORS)
		return
	}
	skb.CB[cbRouteType] = byte(rt)
	s.ipLocalDeliver(skb, h)
}

// ipLocalDeliver is ip_local_deliver() and ip_protocol_deliver_rcu().
func (s *Stack) ipLocalDeliver(skb *kernelmodel.SKB, h header.IPv4) {
	k := s.K
	k.TracePoint("ip_local_deliver", skb.ID, int64(h.Protocol()))
	if h.IsFragment() {
		cb := skb.CB
		if skb = s.ipDefrag(skb); skb == nil {
			return
		}
		skb.CB = cb
		h = header.IPv4(skb.Data)
	}
	skb.Pull(h.HeaderLength())
	proto := h.Protocol()
	raw := s.rawLocalDeliver(skb, proto)
	if fn := s.protos[proto]; fn != nil {
		s.SNMP.Ip.InDelivers++
		fn(skb)
		return
	}
	if raw {
		s.SNMP.Ip.InDelivers++
		k.ConsumeSKB(skb)
		return
	}
	s.SNMP.Ip.InUnknownProtos++
	s.IcmpSend(skb, header.ICMPv4DestUnreach, header.ICMPv4ProtUnreach)
	k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_IP_NOPROTO)
}

// nextID is ip_select_ident(): the IP ID of a datagram without DF. Linux
// draws it from a hashed, randomly keyed per-destination counter
// (ip_idents); the model counts from a seeded start, so runs replay.
func (s *Stack) nextID() uint16 {
	s.ipID++
	return uint16(s.ipID)
}

// Output is ip_build_and_send_pkt() / the raw send: put an IPv4 header
// (src — zero for the route's source —, dst, proto, tos, ttl — 0 for
// ip_default_ttl —, no DF) in front of skb's Data (the transport header and
// payload) and send it (ip_local_out). It returns dev_queue_xmit's code or
// a negative errno (-ENETUNREACH: no route); skb is consumed on every path.
func (s *Stack) Output(skb *kernelmodel.SKB, src, dst [4]byte, proto, tos, ttl uint8) int {
	k := s.K
	r := s.FIB.lookup(dst)
	if r == nil || r.Dev == nil || r.Type == RTN_LOCAL {
		// No route, or a local destination (no loopback device yet).
		s.SNMP.Ip.OutNoRoutes++
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_IP_OUTNOROUTES)
		return -ENETUNREACH
	}
	if src == ([4]byte{}) {
		src = r.Src
		if src == ([4]byte{}) {
			src, _ = s.selectAddr(r.Dev, dst)
		}
	}
	b := skb.Push(header.IPv4MinSize)
	if b == nil {
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
		return kernelmodel.NET_XMIT_DROP
	}
	if ttl == 0 {
		ttl = uint8(s.Sysctl.IPDefaultTTL)
	}
	h := header.IPv4(b)
	h.SetVersionIHL(header.IPv4MinSize)
	h[header.IPv4TOS] = tos
	h.SetTotalLength(uint16(skb.Len()))
	h.SetID(s.nextID())
	h.SetFlagsFragment(0, 0)
	h.SetTTL(ttl)
	h.SetProtocol(proto)
	h.SetSource(src)
	h.SetDestination(dst)
	skb.NetHeader = skb.BufOffset()
	skb.Protocol = kernelmodel.ETH_P_IP
	skb.Dev = r.Dev
	return s.ipLocalOut(skb, r, dst)
}

// ENETUNREACH is the errno of a send without a route.
const ENETUNREACH = 101

// ipLocalOut is ip_local_out() (ip_send_check, __ip_local_out) → ip_output
// → ip_finish_output → ip_finish_output2.
func (s *Stack) ipLocalOut(skb *kernelmodel.SKB, r *Route, dst [4]byte) int {
	k := s.K
	h := header.IPv4(skb.Data)
	h.SetChecksum(0)
	h.SetChecksum(h.CalculateChecksum())
	k.TracePoint("ip_output", skb.ID, int64(skb.Len()))
	s.SNMP.Ip.OutRequests++ // IPSTATS_MIB_OUT in ip_output (6.1)
	s.SNMP.IpExt.OutOctets += uint64(skb.Len())
	nh := dst
	if r.Gateway != ([4]byte{}) {
		nh = r.Gateway // rt_nexthop
	}
	if skb.Len() > r.Dev.MTU {
		return s.ipFragment(skb, r.Dev, nh)
	}
	k.TracePoint("ip_finish_output2", skb.ID, 0)
	return s.Neigh.Output(r.Dev, nh, skb)
}

// ipFragment is ip_fragment() / ip_do_fragment()'s slow path: split skb
// (Data at the IP header, no options) into fragments of at most the MTU,
// payloads a multiple of 8 bytes except the last, each with the header's
// ID, its offset and MF, sent through ip_finish_output2; the original is
// consumed. With DF set it is FragFails, dropped (PKT_TOO_BIG; a socket
// would see EMSGSIZE). It returns the first failing transmit code, or
// NET_XMIT_SUCCESS.
func (s *Stack) ipFragment(skb *kernelmodel.SKB, dev *kernelmodel.NetDevice, nh [4]byte) int {
	k := s.K
	h := header.IPv4(skb.Data)
	hl := h.HeaderLength()
	if h.Flags()&header.IPv4FlagDF != 0 || dev.MTU-hl < 8 {
		s.SNMP.Ip.FragFails++
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_PKT_TOO_BIG)
		return kernelmodel.NET_XMIT_DROP
	}
	k.TracePoint("ip_fragment", skb.ID, int64(skb.Len()))
	payload := skb.Data[hl:]
	base := h.FragmentOffset()
	mf := h.Flags()&header.IPv4FlagMF != 0
	rc := kernelmodel.NET_XMIT_SUCCESS
	for off := 0; off < len(payload); {
		n := min(len(payload)-off, dev.MTU-hl)
		if off+n < len(payload) {
			n &^= 7
		}
		f := k.AllocSKB(kernelmodel.ETH_HLEN + hl + n)
		f.Reserve(kernelmodel.ETH_HLEN)
		b := f.Put(hl + n)
		if b == nil {
			k.KfreeSKB(f, kernelmodel.SKB_DROP_REASON_NOMEM)
			s.SNMP.Ip.FragFails++
			k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOMEM)
			return kernelmodel.NET_XMIT_DROP
		}
		copy(b, h[:hl])
		copy(b[hl:], payload[off:off+n])
		fh := header.IPv4(b)
		var flags uint16
		if mf || off+n < len(payload) {
			flags = header.IPv4FlagMF
		}
		fh.SetFlagsFragment(flags, base+off)
		fh.SetTotalLength(uint16(hl + n))
		fh.SetChecksum(0)
		fh.SetChecksum(fh.CalculateChecksum())
		f.NetHeader = f.BufOffset()
		f.Protocol = kernelmodel.ETH_P_IP
		f.Dev = dev
		s.SNMP.Ip.FragCreates++
		k.TracePoint("ip_finish_output2", f.ID, 0)
		if r := s.Neigh.Output(dev, nh, f); r != kernelmodel.NET_XMIT_SUCCESS && rc == kernelmodel.NET_XMIT_SUCCESS {
			rc = r
		}
		off += n
	}
	s.SNMP.Ip.FragOKs++
	k.ConsumeSKB(skb)
	return rc
}
