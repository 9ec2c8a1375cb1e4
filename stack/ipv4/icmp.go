package ipv4

import (
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/checksum"
	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/stack/internal/prandom"
)

// IPTOS_PREC_INTERNETCONTROL is the precedence of ICMP errors.
const IPTOS_PREC_INTERNETCONTROL = 0xc0

// icmpErrorTypes are the types icmp_pointers marks as errors.
var icmpErrorTypes = [header.ICMPv4NRTypes + 1]bool{3: true, 4: true, 5: true, 11: true, 12: true}

// inetPeer is the rate-limit part of a struct inet_peer: the tokens
// icmp_ratelimit and ip_error spend, and ip_rt_send_redirect's count.
type inetPeer struct {
	rateTokens uint64
	rateLast   uint64
	nRedirects int
}

// getPeer is inet_getpeer_v4(): the peer of addr, made on first use with
// its rate_last 60 s in the past (so that its first burst is full).
func (s *Stack) getPeer(addr [4]byte) *inetPeer {
	p := s.icmp.peers[addr]
	if p == nil {
		p = &inetPeer{rateLast: s.K.Jiffies() - 60*kernelmodel.HZ}
		s.icmp.peers[addr] = p
	}
	return p
}

// icmpState is icmp_global and the inet_peer cache.
type icmpState struct {
	credit uint32
	stamp  uint64 // jiffies
	rng    prandom.State
	peers  map[[4]byte]*inetPeer
}

func (c *icmpState) prandom(n uint32) uint32 { return c.rng.Below(n) }

// icmpRcv is icmp_rcv(): Data at the ICMP header.
func (s *Stack) icmpRcv(skb *kernelmodel.SKB) {
	k := s.K
	m := &s.SNMP.Icmp
	k.TracePoint("icmp_rcv", skb.ID, int64(skb.Len()))
	m.InMsgs++
	if checksum.Checksum(skb.Data, 0) != 0xFFFF { // skb_checksum_simple_validate
		m.InCsumErrors++
		m.InErrors++
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_ICMP_CSUM)
		return
	}
	if skb.Len() < header.ICMPv4MinSize {
		m.InErrors++
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
		return
	}
	icmp := header.ICMPv4(skb.Data)
	typ := icmp.Type()
	m.InType[typ]++
	if typ > header.ICMPv4NRTypes {
		m.InErrors++
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_UNHANDLED_PROTO)
		return
	}
	if skb.CB[cbRouteType] == RTN_BROADCAST || skb.CB[cbRouteType] == RTN_MULTICAST {
		// Echo and timestamp to a broadcast are ignored
		// (icmp_echo_ignore_broadcasts), and only those and address mask
		// messages are taken from a broadcast at all.
		if (typ == header.ICMPv4Echo || typ == 13) && s.Sysctl.ICMPEchoIgnoreBroadcasts != 0 ||
			typ != header.ICMPv4Echo && typ != 13 && typ != 17 && typ != 18 {
			m.InErrors++
			k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_INVALID_PROTO)
			return
		}
	}
	switch typ {
	case header.ICMPv4Echo:
		s.icmpEcho(skb)
	case header.ICMPv4EchoReply:
		if s.pingRcv(skb) { // ping_rcv (ip_output.go): a ping socket took it
			return
		}
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NO_SOCKET)
		return
	case header.ICMPv4DestUnreach, icmpSourceQuench, header.ICMPv4TimeExceeded, header.ICMPv4ParamProb:
		if reason, ok := s.icmpUnreach(skb); !ok {
			k.KfreeSKB(skb, reason)
			return
		}
	case header.ICMPv4Redirect:
		// icmp_redirect: to the protocol (ipv4_redirect's route update is
		// not modelled: redirects are told, not acted on).
		if skb.Len() < header.ICMPv4MinSize+header.IPv4MinSize {
			m.InErrors++
			k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_PKT_TOO_SMALL)
			return
		}
		icmp := header.ICMPv4(skb.Data)
		gw := uint32(icmp[4])<<24 | uint32(icmp[5])<<16 | uint32(icmp[6])<<8 | uint32(icmp[7])
		s.icmpSocketDeliver(skb, gw)
	}
	k.ConsumeSKB(skb)
}

const icmpSourceQuench = 4 // ICMP_SOURCE_QUENCH

// icmpUnreach is icmp_unreach(): an ICMP error (destination unreachable,
// source quench, time exceeded, parameter problem; Data at the ICMP
// header) for the protocol of the datagram it quotes. A fragmentation
// needed with ip_no_pmtu_disc 0 carries the next-hop MTU as info and
// lowers the path MTU to the quoted destination (UpdatePMTU; Linux has
// each protocol's err_handler call ipv4_sk_update_pmtu, the model does it
// here once for all of them, so a frag-needed no socket matches teaches
// the path MTU too); a parameter problem's pointer is info; a time
// exceeded in reassembly is not passed on. ok false: drop skb for reason.
func (s *Stack) icmpUnreach(skb *kernelmodel.SKB) (reason kernelmodel.DropReason, ok bool) {
	m := &s.SNMP.Icmp
	icmp := header.ICMPv4(skb.Data)
	typ, code := icmp.Type(), icmp.Code()
	rest := uint32(icmp[4])<<24 | uint32(icmp[5])<<16 | uint32(icmp[6])<<8 | uint32(icmp[7])
	if skb.Len() < header.ICMPv4MinSize+header.IPv4MinSize {
		m.InErrors++
		return kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED, false
	}
	iph := header.IPv4(skb.Data[header.ICMPv4MinSize:])
	if iph.HeaderLength() < header.IPv4MinSize {
		m.InErrors++
		return kernelmodel.SKB_DROP_REASON_IP_INHDR, false
	}
	var info uint32
	switch typ {
	case header.ICMPv4DestUnreach:
		if code&15 == header.ICMPv4FragNeeded && s.Sysctl.IPNoPMTUDisc == 0 {
			info = rest & 0xFFFF // un.frag.mtu
		}
		if code > NR_ICMP_UNREACH {
			return 0, true
		}
	case header.ICMPv4ParamProb:
		info = rest >> 24
	case header.ICMPv4TimeExceeded:
		if code == ICMP_EXC_FRAGTIME {
			return 0, true
		}
	}
	if s.Sysctl.ICMPIgnoreBogus == 0 && s.addrType(skb.Dev, iph.Destination()) == RTN_BROADCAST {
		return 0, true
	}
	if skb.Len() < header.ICMPv4MinSize+iph.HeaderLength()+8 {
		return 0, true
	}
	if typ == header.ICMPv4DestUnreach && code == header.ICMPv4FragNeeded && info != 0 {
		s.UpdatePMTU(iph.Destination(), int(info))
	}
	s.icmpSocketDeliver(skb, info)
	return 0, true
}

// icmpSocketDeliver is icmp_socket_deliver(): the error in skb (Data at
// the ICMP header) told to the raw sockets (raw_icmp_error) and to the
// err_handler of the quoted datagram's protocol (AddErrHandler), with the
// ICMP header pulled (TransHeader at it). A message too short to quote
// the IP header and 8 bytes is InErrors.
func (s *Stack) icmpSocketDeliver(skb *kernelmodel.SKB, info uint32) {
	icmp := header.ICMPv4(skb.Data)
	typ, code := icmp.Type(), icmp.Code()
	skb.TransHeader = skb.BufOffset()
	skb.Pull(header.ICMPv4MinSize)
	iph := header.IPv4(skb.Data)
	if skb.Len() < iph.HeaderLength()+8 {
		s.SNMP.Icmp.InErrors++
		return
	}
	s.K.TracePoint("icmp_socket_deliver", skb.ID, int64(iph.Protocol()))
	if s.hooks.rawErr != nil {
		s.hooks.rawErr(iph, typ, code, info)
	}
	if h := s.hooks.err[iph.Protocol()]; h != nil {
		h(iph, typ, code, info)
	}
}

// icmpEcho is icmp_echo() → icmp_reply(): the same identifier, sequence
// and data back, type ECHOREPLY, from the address the request was sent to,
// with the request's TOS. Echo replies are not rate limited (type 0 is not
// in icmp_ratemask).
func (s *Stack) icmpEcho(req *kernelmodel.SKB) {
	if s.Sysctl.ICMPEchoIgnoreAll != 0 {
		return
	}
	k := s.K
	ih := IPHdr(req)
	if !s.routable(ih.Source()) {
		return // icmp_reply: ip_route_output_key failed, nothing sent or counted
	}
	n := req.Len()
	skb := k.AllocSKB(kernelmodel.ETH_HLEN + header.IPv4MinSize + n)
	skb.Reserve(kernelmodel.ETH_HLEN + header.IPv4MinSize)
	b := skb.Put(n)
	if b == nil {
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
		return
	}
	copy(b, req.Data)
	s.icmpPushReply(skb, header.ICMPv4EchoReply, 0, ih.Destination(), ih.Source(), ih.TOS())
}

// icmpPushReply is icmp_push_reply(): checksum, count (icmp_out_count) and
// send the message in skb (Data at the ICMP header).
func (s *Stack) icmpPushReply(skb *kernelmodel.SKB, typ, code uint8, src, dst [4]byte, tos uint8) {
	m := header.ICMPv4(skb.Data)
	m.SetType(typ, code)
	m.SetChecksum(0)
	m.SetChecksum(^checksum.Checksum(skb.Data, 0))
	s.SNMP.Icmp.OutMsgs++
	s.SNMP.Icmp.OutType[typ]++
	s.K.TracePoint("icmp_push_reply", skb.ID, int64(typ))
	s.Output(skb, src, dst, IPPROTO_ICMP, tos, 0)
}

// maskAllow is icmpv4_mask_allow(): messages exempt from rate limits.
func (s *Stack) maskAllow(typ, code uint8) bool {
	if typ > header.ICMPv4NRTypes {
		return true
	}
	if typ == header.ICMPv4DestUnreach && code == header.ICMPv4FragNeeded {
		return true
	}
	return s.Sysctl.ICMPRatemask&(1<<typ) == 0
}

// globalAllow is icmp_global_allow(): a token bucket of icmp_msgs_per_sec
// with icmp_msgs_burst, refilled at most every HZ/50, each message taking
// a random credit of 0 to 2 (as Linux randomizes it).
func (s *Stack) globalAllow() bool {
	c := &s.icmp
	now := s.K.Jiffies()
	if c.credit == 0 && min(now-c.stamp, kernelmodel.HZ) < kernelmodel.HZ/50 {
		return false
	}
	delta := min(now-c.stamp, kernelmodel.HZ)
	var incr uint32
	if delta >= kernelmodel.HZ/50 {
		incr = uint32(uint64(s.Sysctl.ICMPMsgsPerSec) * delta / kernelmodel.HZ)
		if incr != 0 {
			c.stamp = now
		}
	}
	credit := min(c.credit+incr, uint32(s.Sysctl.ICMPMsgsBurst))
	ok := false
	if credit != 0 {
		credit = uint32(max(int(credit)-int(c.prandom(3)), 0))
		ok = true
	}
	c.credit = credit
	return ok
}

// xrlimAllow is inet_peer_xrlim_allow() with icmp_ratelimit: per
// destination, a token per jiffy up to XRLIM_BURST_FACTOR (6) messages,
// one message costing icmp_ratelimit. A new peer starts 60 s in the past
// (inet_getpeer), so its first burst is full.
func (s *Stack) xrlimAllow(dst [4]byte) bool {
	timeout := uint64(s.Sysctl.ICMPRatelimit) // ms = jiffies at HZ 1000
	now := s.K.Jiffies()
	p := s.getPeer(dst)
	tok := p.rateTokens + now - p.rateLast
	p.rateLast = now
	tok = min(tok, 6*timeout)
	ok := false
	if tok >= timeout {
		tok -= timeout
		ok = true
	}
	p.rateTokens = tok
	return ok
}

// IcmpSend is icmp_send(in, type, code, 0): IcmpSendInfo without info.
func (s *Stack) IcmpSend(in *kernelmodel.SKB, typ, code uint8) { s.IcmpSendInfo(in, typ, code, 0) }

// IcmpSendInfo is __icmp_send(): an ICMP error about the packet in (its
// IP header at NetHeader; received, forwarded or being sent), with info in
// the header's last four bytes (the next-hop MTU of a fragmentation
// needed, a redirect's gateway), quoting its IP header and as much of the
// datagram as fits in 576 bytes. Nothing is sent about a packet without a
// route, one not unicast to this host or on a broadcast or multicast route,
// a fragment other than the first, or an ICMP error. The source is the
// packet's destination when that is local, else the route's source
// towards the packet's source. icmp_msgs_per_sec (not for a packet that
// came in on the loopback device) and icmp_ratelimit (not towards it)
// limit the types of icmp_ratemask. in is not consumed.
func (s *Stack) IcmpSendInfo(in *kernelmodel.SKB, typ, code uint8, info uint32) {
	k := s.K
	ih := IPHdr(in)
	rt := in.CB[cbRouteType]
	if ih == nil || rt == 0 || rt == RTN_BROADCAST || rt == RTN_MULTICAST || in.PktType != kernelmodel.PACKET_HOST {
		return
	}
	if ih.FragmentOffset() != 0 {
		return
	}
	hl := ih.HeaderLength()
	end := in.BufOffset() + in.Len()
	if in.NetHeader+hl > end {
		return
	}
	orig := in.Buf()[in.NetHeader:end]
	isErr := typ <= header.ICMPv4NRTypes && icmpErrorTypes[typ]
	if isErr && ih.Protocol() == IPPROTO_ICMP {
		if len(orig) < hl+1 {
			return
		}
		it := orig[hl]
		if it > header.ICMPv4NRTypes || icmpErrorTypes[it] {
			return
		}
	}
	allow := s.maskAllow(typ, code)
	if !allow && !isLoopbackDev(in.Dev) && !s.globalAllow() {
		s.SNMP.Icmp.RateLimitGlobal++
		return
	}
	var saddr [4]byte
	if rt == RTN_LOCAL {
		saddr = ih.Destination()
	}
	dst := ih.Source()
	r, rsrc := s.ipRouteOutput(dst)
	if r == nil {
		return // icmp_route_lookup failed
	}
	if saddr == ([4]byte{}) {
		saddr = rsrc
		if saddr == ([4]byte{}) {
			saddr = [4]byte{192, 0, 0, 8} // INADDR_DUMMY
		}
	}
	if !allow && !isLoopbackDev(r.Dev) && !s.xrlimAllow(dst) {
		s.SNMP.Icmp.RateLimitHost++
		return
	}
	room := min(s.dstMTU(r, dst, false), 576) - header.IPv4MinSize - header.ICMPv4MinSize
	n := min(len(orig), room)
	skb := k.AllocSKB(kernelmodel.ETH_HLEN + header.IPv4MinSize + header.ICMPv4MinSize + n)
	skb.Reserve(kernelmodel.ETH_HLEN + header.IPv4MinSize)
	b := skb.Put(header.ICMPv4MinSize + n)
	if b == nil {
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
		return
	}
	clear(b[:header.ICMPv4MinSize])
	b[4], b[5], b[6], b[7] = byte(info>>24), byte(info>>16), byte(info>>8), byte(info)
	copy(b[header.ICMPv4MinSize:], orig[:n])
	tos := ih.TOS()
	if isErr {
		tos = tos&0x1e | IPTOS_PREC_INTERNETCONTROL // RT_TOS
	}
	s.icmpPushReply(skb, typ, code, saddr, dst, tos)
}

// isLoopbackDev reports dev->flags & IFF_LOOPBACK.
func isLoopbackDev(d *kernelmodel.NetDevice) bool {
	return d != nil && d.Flags&kernelmodel.IFF_LOOPBACK != 0
}

// routable reports whether output to dst has a route.
func (s *Stack) routable(dst [4]byte) bool {
	r, _ := s.ipRouteOutput(dst)
	return r != nil
}
