// Package ipv4 is IPv4 (net/ipv4): ip_rcv's validation with a drop reason
// per failure, the routing tables (local and main, longest-prefix match)
// and their ip route listing, ip_local_deliver to the protocol handlers
// (inet_protos), forwarding (ip_forward), the netfilter hook points,
// ip_local_out/ip_output through the neighbour layer to dev_queue_xmit,
// and ICMP (icmp_rcv, echo replies, errors sent and received, rate limits
// as Linux), with /proc/net/snmp's Ip, Icmp and IcmpMsg counters.
//
// Linux 6.1's ip_rcv_core order is kept: a frame for another host is
// dropped (OTHERHOST) before it is counted; then InReceives; a header
// shorter than 20 bytes or than its IHL, a version other than 4 or an IHL
// below 5 are InHdrErrors (IP_INHDR); a bad header checksum is InCsumErrors
// and InHdrErrors (IP_CSUM); a total length beyond the frame is
// InTruncatedPkts (PKT_TOO_SMALL) and one below the header InHdrErrors
// (IP_INHDR); the frame is trimmed to the total length (Ethernet padding).
// TTL is not checked on local delivery (Linux accepts TTL 0 for the host).
//
// The input route is ip_route_input_slow's with rp_filter, accept_local and
// route_localnet 0: martian sources (multicast, limited broadcast, 0/8
// except to a broadcast, 127/8, one of our addresses) and destinations
// (0/8, 127/8) are dropped (NOT_SPECIFIED, as 6.1's ip_rcv_finish); local
// and broadcast destinations are delivered; the rest is forwarded when
// net.ipv4.ip_forward (= conf.all.forwarding, default 0) is 1, else
// ip_error's InAddrErrors (IP_INADDRERRORS). With forwarding on, a
// destination without a route is InNoRoutes (IP_INNOROUTES) with an ICMP
// net unreachable, limited by route.error_cost/error_burst.
//
// ip_forward: TTL 1 or less is InHdrErrors with an ICMP time exceeded
// (code 0) from the address of the link towards the source; DF above the
// next hop's MTU is FragFails with an ICMP fragmentation needed carrying
// that MTU; the TTL is decremented with the checksum updated incrementally
// (RFC 1624); larger datagrams without DF are fragmented; ForwDatagrams.
// Redirects are sent as Linux does (conf.all.send_redirects, default 1):
// when a datagram leaves by the link it came in on towards a source on
// that link, an ICMP redirect (host) naming the next hop, limited per
// source by ip_rt_send_redirect's backoff (redirect_load 20 ms doubling,
// redirect_number 9, then silence). Received redirects are passed to the
// protocol's err_handler but change no route.
//
// Netfilter: NFRegisterNetHook puts a Go callback at NF_INET_PRE_ROUTING
// (ip_rcv), LOCAL_IN (ip_local_deliver, after reassembly), FORWARD
// (ip_forward, after the TTL decrement), LOCAL_OUT (__ip_local_out) or
// POST_ROUTING (ip_output) with a priority; hooks run in ascending
// priority and return NF_ACCEPT, NF_DROP (freed, SKB_DROP_REASON_
// NETFILTER_DROP; a local sender gets -EPERM), NF_STOLEN (the hook owns the
// skb), NF_QUEUE (to the queue handler, NFReinject later) or NF_REPEAT. A
// hook point without hooks costs a length check.
//
// ip_output fragments a datagram above the path MTU (ip_fragment). One
// with DF is FragFails, dropped with PKT_TOO_BIG, an ICMP fragmentation
// needed goes to its source (for a local sender through the loopback
// device, to itself) and the sender gets -EMSGSIZE. Received
// fragmentation-needed errors lower the path MTU to the quoted destination
// (UpdatePMTU; route.min_pmtu 552, route.mtu_expires 600 s); forwarding
// keeps using the device MTU (ip_forward_use_pmtu 0).
//
// ip_local_deliver reassembles fragments (ip_defrag): overlapping
// fragments kill the datagram's queue, ipfrag_time (30 s) expires it with
// an ICMP time exceeded when the first fragment came, and no new queue is
// made above ipfrag_high_thresh (4 MiB), as 6.1 does.
//
// Deviations kept: OutRequests counts forwarded datagrams (6.1 counts
// IPSTATS_MIB_OUT in ip_output; 6.3 moved OutRequests to __ip_local_out),
// OutOctets counts them once (6.1 twice); per-device conf (conf.<dev>.*)
// is not modelled, only conf.all; IP options are accepted, not parsed; the
// path MTU is lowered in icmp_unreach for every protocol (Linux leaves it
// to each err_handler, which needs a matching socket).
package ipv4

import (
	"fmt"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/gro"
	"github.com/nicbed/nicbed/stack/gso"
	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/stack/internal/prandom"
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

	IPForward         int // ip_forward = conf.all.forwarding (0)
	SendRedirects     int // conf.all.send_redirects (1)
	IPNoPMTUDisc      int // ip_no_pmtu_disc (0): frag-needed lowers the path MTU
	IPFwdUsePMTU      int // ip_forward_use_pmtu (0): forwarding uses the device MTU
	RouteMinPMTU      int // route.min_pmtu (552)
	RouteMTUExpires   int // route.mtu_expires, s (600)
	ICMPIgnoreBogus   int // icmp_ignore_bogus_error_responses (1)
	RouteErrorCost    int // route.error_cost, s (1): ip_error's ICMP rate
	RouteErrorBurst   int // route.error_burst, s (5)
	RouteRedirectNum  int // route.redirect_number (9)
	RouteRedirectLoad int // route.redirect_load, jiffies (HZ/50)
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
		SendRedirects:            1,
		RouteMinPMTU:             512 + 20 + 20,
		RouteMTUExpires:          600,
		ICMPIgnoreBogus:          1,
		RouteErrorCost:           1,
		RouteErrorBurst:          5,
		RouteRedirectNum:         9,
		RouteRedirectLoad:        kernelmodel.HZ / 50,
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

	// Loopback is net->loopback_dev: output to a local address goes
	// through it (nil: such output fails with ENETUNREACH). The first
	// IFF_LOOPBACK device that comes up becomes it, with 127.0.0.1/8.
	Loopback *kernelmodel.NetDevice

	addrs   []Ifaddr
	protos  [256]Handler
	ipID    uint32
	icmp    icmpState
	frag    fragState
	hooks   sockHooks // the socket layer's (ip_output.go)
	nf      nfState
	fnhe    map[[4]byte]*fibNhException
	loRoute Route // the output route through Loopback
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
	s.icmp.rng = prandom.New(seed * 0x2545F4914F6CDD1D)
	s.icmp.peers = make(map[[4]byte]*inetPeer)
	s.icmp.credit = uint32(s.Sysctl.ICMPMsgsBurst)
	k.DevAddPack(&kernelmodel.PacketType{Type: kernelmodel.ETH_P_IP, Func: s.ipRcv, ListFunc: s.ipListRcv})
	s.GRO = gro.Register(k) // inet_init: ip_packet_offload, tcpv4_offload
	gso.Register(k)
	s.protos[IPPROTO_ICMP] = s.icmpRcv
	s.fnhe = make(map[[4]byte]*fibNhException)
	k.RegisterNetdevNotifier(s.netdevEvent)
	if lo := k.DevGetByName("lo"); lo != nil && isLoopbackDev(lo) && lo.IsUp() {
		s.netdevEvent(kernelmodel.NETDEV_UP, lo) // lo came up at boot, before the stack
	}
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
	if s.hasAddr(dev, local) {
		return fmt.Errorf("ip addr: %s/%d on %s: file exists", ipString(local), plen, dev.Name)
	}
	a := Ifaddr{Dev: dev, Local: local, PrefixLen: plen, Broadcast: ip4(u32(local) | ^mask(plen))}
	s.addrs = append(s.addrs, a)
	return s.fibAddIfaddr(a)
}

var loopbackAddr = [4]byte{127, 0, 0, 1} // INADDR_LOOPBACK

// hasAddr reports whether local is an address of dev.
func (s *Stack) hasAddr(dev *kernelmodel.NetDevice, local [4]byte) bool {
	for _, a := range s.addrs {
		if a.Dev == dev && a.Local == local {
			return true
		}
	}
	return false
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
			// On the loopback device the prefix is local too (local
			// 127.0.0.0/8 dev lo scope host, in table local).
			pr := Route{Table: RT_TABLE_MAIN, Type: RTN_UNICAST, Dst: local, PrefixLen: plen, Dev: dev, Scope: RT_SCOPE_LINK, Kernel: true, Src: local}
			if isLoopbackDev(dev) {
				pr.Table, pr.Type, pr.Scope = RT_TABLE_LOCAL, RTN_LOCAL, RT_SCOPE_HOST
			}
			rs = append(rs, pr)
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

// AddRoute is ip route add dst/plen [via gw] [dev dev] [metric m]. A
// gateway must be reachable directly (fib_check_nh: a connected route
// covers it, on dev if dev is given; else "Nexthop has invalid gateway",
// ENETUNREACH); without dev the gateway's device is taken. A route needs
// a device or a gateway.
func (s *Stack) AddRoute(dst [4]byte, plen int, gw [4]byte, dev *kernelmodel.NetDevice, metric int) error {
	scope := RT_SCOPE_UNIVERSE
	if gw == ([4]byte{}) {
		if dev == nil {
			return fmt.Errorf("ip route: %s/%d: no device and no gateway", ipString(dst), plen)
		}
		scope = RT_SCOPE_LINK
	} else {
		c := s.FIB.lookup(gw)
		if c == nil || c.Type != RTN_UNICAST || c.Gateway != ([4]byte{}) || c.Dev == nil || dev != nil && c.Dev != dev {
			return fmt.Errorf("ip route: %s/%d via %s: Nexthop has invalid gateway", ipString(dst), plen, ipString(gw))
		}
		dev = c.Dev
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
		if isLoopbackDev(d) {
			// inetdev_event: the loopback device gets 127.0.0.1/8 and is
			// the namespace's loopback_dev.
			if s.Loopback == nil {
				s.Loopback = d
			}
			if !s.hasAddr(d, loopbackAddr) {
				s.addrs = append(s.addrs, Ifaddr{Dev: d, Local: loopbackAddr, PrefixLen: 8, Broadcast: [4]byte{127, 255, 255, 255}})
			}
		}
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

// IPCB is the part of skb->cb the IPv4 layer keeps: struct inet_skb_parm's
// flags, and the skb's route (skb_dst) reduced to what later steps read —
// its type (rt_type: RTN_LOCAL, RTN_BROADCAST, RTN_UNICAST of a forwarded
// or sent skb, RTN_UNREACHABLE of ip_error's, 0 for no route) and whether
// it is an output route to a local address, which loopback_xmit keeps on
// the skb (skb_dst_force) so that ip_rcv_finish delivers it without an
// input route.
const (
	cbRouteType = 0 // rt_type of skb_dst
	cbFlags     = 1 // IPCB(skb)->flags (IPSKB_*)
	cbDst       = 2 // dstLocal: skb_dst is an output route to this host
)

// IPCB flags (IPSKB_*).
const (
	IPSKB_FORWARDED  = 1 << 0
	IPSKB_DOREDIRECT = 1 << 5
)

const dstLocal = 1

// RTN_UNREACHABLE is the type of ip_route_input_slow's no_route result.
const RTN_UNREACHABLE = 7

// IPHdr is ip_hdr(skb): the IPv4 header at NetHeader.
func IPHdr(skb *kernelmodel.SKB) header.IPv4 {
	b := skb.Buf()
	if skb.NetHeader < 0 || skb.NetHeader+header.IPv4MinSize > len(b) {
		return nil
	}
	return header.IPv4(b[skb.NetHeader:])
}

// ipRcv is ip_rcv(): ip_rcv_core, NF_INET_PRE_ROUTING, ip_rcv_finish.
func (s *Stack) ipRcv(skb *kernelmodel.SKB) {
	s.K.TracePoint("ip_rcv", skb.ID, int64(skb.Len()))
	if s.ipRcvCore(skb) && s.nfHook(NF_INET_PRE_ROUTING, skb, skb.Dev, nil, nil) == 1 {
		s.ipRcvFinish(skb)
	}
}

// ipListRcv is ip_list_rcv(): the list path's ip_rcv, each skb through
// ip_rcv_core and PRE_ROUTING and then routed and delivered
// (ip_sublist_rcv, ip_list_rcv_finish) in order.
func (s *Stack) ipListRcv(list *kernelmodel.SKBHead) {
	s.K.TracePoint("ip_list_rcv", 0, int64(list.Len()))
	for skb := list.Dequeue(); skb != nil; skb = list.Dequeue() {
		s.K.TracePoint("ip_rcv_core", skb.ID, int64(skb.Len()))
		if s.ipRcvCore(skb) && s.nfHook(NF_INET_PRE_ROUTING, skb, skb.Dev, nil, nil) == 1 {
			s.ipRcvFinish(skb)
		}
	}
}

// ipRcvCore is ip_rcv_core(): the checks, in 6.1's order, each failure
// freeing the skb under its reason (false returned); the skb cut to the
// total length, its IPCB flags cleared, otherwise.
func (s *Stack) ipRcvCore(skb *kernelmodel.SKB) bool {
	k := s.K
	if skb.PktType == kernelmodel.PACKET_OTHERHOST {
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_OTHERHOST)
		return false
	}
	m := &s.SNMP.Ip
	m.InReceives++
	s.SNMP.IpExt.InOctets += uint64(skb.Len())
	if skb.Len() < header.IPv4MinSize {
		s.inHdrError(skb, kernelmodel.SKB_DROP_REASON_IP_INHDR)
		return false
	}
	h := header.IPv4(skb.Data)
	hl := h.HeaderLength()
	if hl < header.IPv4MinSize || h.Version() != 4 || hl > skb.Len() {
		s.inHdrError(skb, kernelmodel.SKB_DROP_REASON_IP_INHDR)
		return false
	}
	if !h.ChecksumValid() {
		s.SNMP.IpExt.InCsumErrors++
		s.inHdrError(skb, kernelmodel.SKB_DROP_REASON_IP_CSUM)
		return false
	}
	tl := int(h.TotalLength())
	if skb.Len() < tl {
		s.SNMP.IpExt.InTruncatedPkts++
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_PKT_TOO_SMALL)
		return false
	}
	if tl < hl {
		s.inHdrError(skb, kernelmodel.SKB_DROP_REASON_IP_INHDR)
		return false
	}
	skb.Trim(tl) // pskb_trim_rcsum
	skb.NetHeader = skb.BufOffset()
	skb.TransHeader = skb.NetHeader + hl
	skb.CB[cbRouteType], skb.CB[cbFlags] = 0, 0 // memset(IPCB(skb), 0, ...)
	return true
}

func (s *Stack) inHdrError(skb *kernelmodel.SKB, reason kernelmodel.DropReason) {
	s.SNMP.Ip.InHdrErrors++
	s.K.KfreeSKB(skb, reason)
}

// ipRcvFinish is ip_rcv_finish() with ip_route_input_noref() → dst_input:
// an skb looped back with its output route is delivered; otherwise the
// input route (routeInput) sends it to ip_local_deliver, ip_forward or
// ip_error, or drops it (a martian).
func (s *Stack) ipRcvFinish(skb *kernelmodel.SKB) {
	if skb.CB[cbDst] == dstLocal { // skb_valid_dst
		skb.CB[cbDst] = 0
		skb.CB[cbRouteType] = RTN_LOCAL
		s.ipLocalDeliver(skb)
		return
	}
	h := header.IPv4(skb.Data)
	typ, r, err := s.routeInput(skb, h)
	skb.CB[cbRouteType] = byte(typ)
	switch typ {
	case RTN_LOCAL, RTN_BROADCAST:
		s.ipLocalDeliver(skb)
	case RTN_UNICAST:
		s.ipForward(skb, r)
	case RTN_UNREACHABLE:
		s.ipError(skb, err)
	default:
		// Martians and refused multicast (ip_rcv_finish's drop_error,
		// NOT_SPECIFIED in 6.1).
		s.K.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
	}
}

// ipLocalDeliver is ip_local_deliver(): reassembly (ip_defrag), then
// NF_INET_LOCAL_IN and ip_local_deliver_finish.
func (s *Stack) ipLocalDeliver(skb *kernelmodel.SKB) {
	k := s.K
	h := header.IPv4(skb.Data)
	k.TracePoint("ip_local_deliver", skb.ID, int64(h.Protocol()))
	if h.IsFragment() {
		cb := skb.CB
		if skb = s.ipDefrag(skb); skb == nil {
			return
		}
		skb.CB = cb
	}
	if s.nfHook(NF_INET_LOCAL_IN, skb, skb.Dev, nil, nil) == 1 {
		s.ipLocalDeliverFinish(skb)
	}
}

// ipLocalDeliverFinish is ip_local_deliver_finish() and
// ip_protocol_deliver_rcu(): the IP header pulled, the protocol's handler
// gets the skb; an unknown protocol is InUnknownProtos and an ICMP
// protocol unreachable.
func (s *Stack) ipLocalDeliverFinish(skb *kernelmodel.SKB) {
	k := s.K
	h := header.IPv4(skb.Data)
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

// ipRouteOutput is ip_route_output_key() for dst: the route (for a local
// destination the route through the loopback device, as
// ip_route_output_key_hash_rcu makes it) and the source address the route
// gives (its prefsrc, the destination itself for a local one, else
// inet_select_addr on the output device). Without a route, or to a local
// destination without a loopback device, it returns nil.
func (s *Stack) ipRouteOutput(dst [4]byte) (*Route, [4]byte) {
	r := s.FIB.lookup(dst)
	if r == nil || r.Dev == nil {
		return nil, [4]byte{}
	}
	src := r.Src
	if r.Type == RTN_LOCAL {
		if s.Loopback == nil {
			return nil, [4]byte{}
		}
		if src == ([4]byte{}) {
			src = dst
		}
		s.loRoute = Route{Table: RT_TABLE_LOCAL, Type: RTN_LOCAL, Dev: s.Loopback, Scope: RT_SCOPE_HOST}
		return &s.loRoute, src
	}
	if src == ([4]byte{}) {
		src, _ = s.selectAddr(r.Dev, dst)
	}
	return r, src
}

// Output is ip_build_and_send_pkt() / the raw send: put an IPv4 header
// (src — zero for the route's source —, dst, proto, tos, ttl — 0 for
// ip_default_ttl —, no DF) in front of skb's Data (the transport header and
// payload) and send it (ip_local_out). It returns dev_queue_xmit's code or
// a negative errno (-ENETUNREACH: no route, -EPERM: a netfilter hook
// dropped it); skb is consumed on every path.
func (s *Stack) Output(skb *kernelmodel.SKB, src, dst [4]byte, proto, tos, ttl uint8) int {
	k := s.K
	r, rsrc := s.ipRouteOutput(dst)
	if r == nil {
		s.SNMP.Ip.OutNoRoutes++
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_IP_OUTNOROUTES)
		return -ENETUNREACH
	}
	if src == ([4]byte{}) {
		src = rsrc
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

// LocalOut is raw_send_hdrinc()'s path for an skb whose Data is a whole
// IPv4 datagram built by the caller (IP_HDRINCL, a socket's ip_make_skb):
// it is routed by its destination, a zero source becomes the route's and a
// zero ID is chosen (ip_select_ident); then ip_local_out. It returns as
// Output does; skb is consumed on every path.
func (s *Stack) LocalOut(skb *kernelmodel.SKB) int {
	k := s.K
	if skb.Len() < header.IPv4MinSize {
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_PKT_TOO_SMALL)
		return -kernelmodel.EINVAL
	}
	h := header.IPv4(skb.Data)
	dst := h.Destination()
	r, src := s.ipRouteOutput(dst)
	if r == nil {
		s.SNMP.Ip.OutNoRoutes++
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_IP_OUTNOROUTES)
		return -ENETUNREACH
	}
	if h.Source() == ([4]byte{}) {
		h.SetSource(src)
	}
	if h.ID() == 0 {
		h.SetID(s.nextID())
	}
	skb.NetHeader = skb.BufOffset()
	skb.Protocol = kernelmodel.ETH_P_IP
	skb.Dev = r.Dev
	return s.ipLocalOut(skb, r, dst)
}

// Errno values the output path returns negated.
const (
	ENETUNREACH  = 101 // no route
	EHOSTUNREACH = 113
	EMSGSIZE     = 90 // DF set and larger than the path MTU
)

// ipLocalOut is ip_local_out(): __ip_local_out (the total length and
// header checksum, NF_INET_LOCAL_OUT), then dst_output. r is the output
// route (ipRouteOutput), dst the destination it was looked up for.
func (s *Stack) ipLocalOut(skb *kernelmodel.SKB, r *Route, dst [4]byte) int {
	h := header.IPv4(skb.Data)
	h.SetTotalLength(uint16(skb.Len()))
	h.SetChecksum(0)
	h.SetChecksum(h.CalculateChecksum())
	skb.Protocol = kernelmodel.ETH_P_IP
	skb.CB[cbRouteType] = byte(r.Type)
	skb.CB[cbFlags] = 0
	if r.Type == RTN_LOCAL {
		skb.CB[cbDst] = dstLocal
	}
	if rc := s.nfHook(NF_INET_LOCAL_OUT, skb, nil, r.Dev, r); rc != 1 {
		return rc
	}
	return s.dstOutput(skb, r)
}

// dstOutput is dst_output() → ip_output(): OutRequests (IPSTATS_MIB_OUT,
// counted here in 6.1, so forwarded datagrams count too), the output
// device set, NF_INET_POST_ROUTING, ip_finish_output.
func (s *Stack) dstOutput(skb *kernelmodel.SKB, r *Route) int {
	k := s.K
	k.TracePoint("ip_output", skb.ID, int64(skb.Len()))
	s.SNMP.Ip.OutRequests++
	s.SNMP.IpExt.OutOctets += uint64(skb.Len())
	var in *kernelmodel.NetDevice
	if skb.CB[cbFlags]&IPSKB_FORWARDED != 0 {
		in = skb.Dev
	}
	skb.Dev = r.Dev
	skb.Protocol = kernelmodel.ETH_P_IP
	if rc := s.nfHook(NF_INET_POST_ROUTING, skb, in, r.Dev, r); rc != 1 {
		return rc
	}
	return s.ipFinishOutput(skb, r)
}

// ipFinishOutput is ip_finish_output() / __ip_finish_output(): a datagram
// above the path MTU (ip_skb_dst_mtu) is fragmented (ip_fragment), others
// go to ip_finish_output2.
func (s *Stack) ipFinishOutput(skb *kernelmodel.SKB, r *Route) int {
	h := header.IPv4(skb.Data)
	mtu := s.dstMTU(r, h.Destination(), skb.CB[cbFlags]&IPSKB_FORWARDED != 0)
	if skb.SKBIsGSO() {
		return s.ipFinishOutputGSO(skb, r, mtu) // gso.go
	}
	if skb.Len() > mtu {
		return s.ipFragment(skb, r, mtu)
	}
	return s.ipFinishOutput2(skb, r)
}

// ipFinishOutput2 is ip_finish_output2(): the neighbour of the next hop
// (rt_nexthop: the gateway, or the destination itself) sends skb.
func (s *Stack) ipFinishOutput2(skb *kernelmodel.SKB, r *Route) int {
	nh := header.IPv4(skb.Data).Destination()
	if r.Gateway != ([4]byte{}) {
		nh = r.Gateway
	}
	s.K.TracePoint("ip_finish_output2", skb.ID, 0)
	return s.Neigh.Output(r.Dev, nh, skb)
}

// ipFragment is ip_fragment() / ip_do_fragment()'s slow path: split skb
// (Data at the IP header, no options) into fragments of at most mtu,
// payloads a multiple of 8 bytes except the last, each with the header's
// ID, its offset and MF, sent through ip_finish_output2; the original is
// consumed. With DF set it is FragFails, an ICMP fragmentation needed
// with mtu goes to the source (a local sender hears it through the
// loopback device) and -EMSGSIZE is returned. Otherwise it returns the
// first failing transmit code, or NET_XMIT_SUCCESS.
func (s *Stack) ipFragment(skb *kernelmodel.SKB, r *Route, mtu int) int {
	k := s.K
	h := header.IPv4(skb.Data)
	hl := h.HeaderLength()
	if h.Flags()&header.IPv4FlagDF != 0 {
		s.SNMP.Ip.FragFails++
		s.IcmpSendInfo(skb, header.ICMPv4DestUnreach, header.ICMPv4FragNeeded, uint32(mtu))
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_PKT_TOO_BIG)
		return -EMSGSIZE
	}
	if mtu-hl < 8 {
		s.SNMP.Ip.FragFails++
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_PKT_TOO_BIG)
		return -EMSGSIZE
	}
	k.TracePoint("ip_fragment", skb.ID, int64(skb.Len()))
	payload := skb.Data[hl:]
	base := h.FragmentOffset()
	mf := h.Flags()&header.IPv4FlagMF != 0
	rc := kernelmodel.NET_XMIT_SUCCESS
	for off := 0; off < len(payload); {
		n := min(len(payload)-off, mtu-hl)
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
		f.Dev = r.Dev
		f.CB = skb.CB // ip_copy_metadata
		s.SNMP.Ip.FragCreates++
		if c := s.ipFinishOutput2(f, r); c != kernelmodel.NET_XMIT_SUCCESS && rc == kernelmodel.NET_XMIT_SUCCESS {
			rc = c
		}
		off += n
	}
	s.SNMP.Ip.FragOKs++
	k.ConsumeSKB(skb)
	return rc
}
