package ipv4

import (
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/checksum"
	"github.com/nicbed/nicbed/stack/header"
)

// IPTOS_PREC_INTERNETCONTROL is the precedence of ICMP errors.
const IPTOS_PREC_INTERNETCONTROL = 0xc0

// icmpErrorTypes are the types icmp_pointers marks as errors.
var icmpErrorTypes = [header.ICMPv4NRTypes + 1]bool{3: true, 4: true, 5: true, 11: true, 12: true}

// inetPeer is the rate-limit part of a struct inet_peer.
type inetPeer struct {
	rateTokens uint64
	rateLast   uint64
}

// icmpState is icmp_global and the inet_peer cache.
type icmpState struct {
	credit uint32
	stamp  uint64 // jiffies
	rng    uint64
	peers  map[[4]byte]*inetPeer
}

func (c *icmpState) prandom(n uint32) uint32 {
	c.rng ^= c.rng >> 12
	c.rng ^= c.rng << 25
	c.rng ^= c.rng >> 27
	return uint32(((c.rng*2685821657736338717)>>32)*uint64(n)>>32) % n
}

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
	case header.ICMPv4DestUnreach, 4 /* ICMP_SOURCE_QUENCH */, header.ICMPv4TimeExceeded, header.ICMPv4ParamProb:
		s.icmpUnreach(skb) // icmp_unreach (ip_output.go)
	case header.ICMPv4EchoReply:
		// ping_rcv: no ping socket yet.
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NO_SOCKET)
		return
	}
	// icmp_unreach, icmp_discard, ...: no upper layer to tell yet.
	k.ConsumeSKB(skb)
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
	p := s.icmp.peers[dst]
	if p == nil {
		p = &inetPeer{rateLast: now - 60*kernelmodel.HZ}
		s.icmp.peers[dst] = p
	}
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

// IcmpSend is __icmp_send(): an ICMP error about the received packet in
// (Data anywhere after its IP header), quoting its IP header and as much of
// the datagram as fits in 576 bytes. Nothing is sent about a packet that
// was not unicast to this host, a fragment other than the first, or an ICMP
// error; icmp_msgs_per_sec and icmp_ratelimit limit the types of
// icmp_ratemask. in is not consumed.
func (s *Stack) IcmpSend(in *kernelmodel.SKB, typ, code uint8) {
	k := s.K
	ih := IPHdr(in)
	if ih == nil || in.CB[cbRouteType] != RTN_LOCAL || in.PktType != kernelmodel.PACKET_HOST {
		return
	}
	if ih.FragmentOffset() != 0 {
		return
	}
	hl := ih.HeaderLength()
	orig := in.Buf()[in.NetHeader : in.BufOffset()+in.Len()]
	if ih.Protocol() == IPPROTO_ICMP {
		if len(orig) < hl+1 {
			return
		}
		it := orig[hl]
		if it > header.ICMPv4NRTypes || icmpErrorTypes[it] {
			return
		}
	}
	if !s.maskAllow(typ, code) && !s.globalAllow() {
		s.SNMP.Icmp.RateLimitGlobal++
		return
	}
	dst := ih.Source()
	r := s.FIB.lookup(dst)
	if !s.routable(dst) {
		return // icmp_route_lookup failed
	}
	if !s.maskAllow(typ, code) && !s.xrlimAllow(dst) {
		s.SNMP.Icmp.RateLimitHost++
		return
	}
	room := min(r.Dev.MTU, 576) - header.IPv4MinSize - header.ICMPv4MinSize
	n := min(len(orig), room)
	skb := k.AllocSKB(kernelmodel.ETH_HLEN + header.IPv4MinSize + header.ICMPv4MinSize + n)
	skb.Reserve(kernelmodel.ETH_HLEN + header.IPv4MinSize)
	b := skb.Put(header.ICMPv4MinSize + n)
	if b == nil {
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
		return
	}
	clear(b[:header.ICMPv4MinSize])
	copy(b[header.ICMPv4MinSize:], orig[:n])
	tos := ih.TOS()&0x1e | IPTOS_PREC_INTERNETCONTROL // IPTOS_TOS_MASK
	s.icmpPushReply(skb, typ, code, ih.Destination(), dst, tos)
}

// routable reports whether output to dst has a route (not local: there is
// no loopback device yet).
func (s *Stack) routable(dst [4]byte) bool {
	r := s.FIB.lookup(dst)
	return r != nil && r.Dev != nil && r.Type != RTN_LOCAL
}
