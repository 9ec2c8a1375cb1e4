package ipv4

import (
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/checksum"
	"github.com/nicbed/nicbed/stack/header"
)

// ICMP codes the forwarding path sends.
const (
	ICMP_EXC_TTL      = 0 // time exceeded: TTL expired in transit
	ICMP_EXC_FRAGTIME = 1 // time exceeded: fragment reassembly time
	ICMP_REDIR_HOST   = 1 // redirect datagrams for the host
)

// ipForward is ip_forward(): a datagram for another host, routed by r
// (routeInput). TTL 1 or less is InHdrErrors (IP_INHDR) with an ICMP time
// exceeded to the source; a datagram with DF above the next hop's MTU
// (the device's: ip_forward_use_pmtu 0) is FragFails (PKT_TOO_BIG) with an
// ICMP fragmentation needed carrying that MTU. Otherwise the header is made
// the skb's own (skb_cow), the TTL decremented with the checksum updated
// incrementally (ip_decrease_ttl), a redirect sent when it leaves by the
// link it came from (ip_rt_send_redirect), and the datagram goes through
// NF_INET_FORWARD to ip_forward_finish. Larger datagrams without DF are
// fragmented on output.
func (s *Stack) ipForward(skb *kernelmodel.SKB, r *Route) {
	k := s.K
	k.TracePoint("ip_forward", skb.ID, int64(skb.Len()))
	if skb.PktType != kernelmodel.PACKET_HOST || skb.Sk != nil {
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
		return
	}
	h := header.IPv4(skb.Data)
	if h.TTL() <= 1 {
		s.SNMP.Ip.InHdrErrors++
		s.IcmpSendInfo(skb, header.ICMPv4TimeExceeded, ICMP_EXC_TTL, 0)
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_IP_INHDR)
		return
	}
	skb.CB[cbFlags] |= IPSKB_FORWARDED
	if mtu := s.dstMTU(r, h.Destination(), true); skb.Len() > mtu && h.Flags()&header.IPv4FlagDF != 0 && !gsoFits(skb, mtu) {
		s.SNMP.Ip.FragFails++
		s.IcmpSendInfo(skb, header.ICMPv4DestUnreach, header.ICMPv4FragNeeded, uint32(mtu))
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_PKT_TOO_BIG)
		return
	}
	// skb_cow: the header is written below; room for the link-layer header.
	if !k.SKBCowHead(skb, kernelmodel.ETH_HLEN) {
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
		return
	}
	h = header.IPv4(skb.Data)
	ipDecreaseTTL(h)
	if skb.CB[cbFlags]&IPSKB_DOREDIRECT != 0 {
		s.ipRtSendRedirect(skb, r)
	}
	if s.nfHook(NF_INET_FORWARD, skb, skb.Dev, r.Dev, r) == 1 {
		s.ipForwardFinish(skb, r)
	}
}

// ipForwardFinish is ip_forward_finish(): ForwDatagrams
// (IPSTATS_MIB_OUTFORWDATAGRAMS), then dst_output.
func (s *Stack) ipForwardFinish(skb *kernelmodel.SKB, r *Route) {
	s.SNMP.Ip.ForwDatagrams++
	s.dstOutput(skb, r)
}

// ipDecreaseTTL is ip_decrease_ttl(): TTL minus one, the header checksum
// updated as RFC 1624 eqn. 3 has it, HC' = ~(~HC + ~m + m'), m the 16-bit
// word of TTL and protocol before and m' after. This gives exactly the
// checksum a full recomputation gives.
func ipDecreaseTTL(h header.IPv4) {
	m := uint16(h[header.IPv4TTL])<<8 | uint16(h[header.IPv4Protocol])
	h[header.IPv4TTL]--
	m2 := m - 0x100
	h.SetChecksum(^checksum.Combine(checksum.Combine(^h.Checksum(), ^m), m2))
}

// ipError is ip_error(): the input route found no way (err EHOSTUNREACH
// or ENETUNREACH). With forwarding off it is only counted — InAddrErrors
// (IP_INADDRERRORS) or InNoRoutes (IP_INNOROUTES); with forwarding on an
// ICMP host or net unreachable goes to the source, limited per source by
// route.error_cost and route.error_burst (the inet_peer's tokens, which
// icmp_ratelimit spends too).
func (s *Stack) ipError(skb *kernelmodel.SKB, err int) {
	k := s.K
	reason := kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED
	if s.Sysctl.IPForward == 0 {
		switch err {
		case EHOSTUNREACH:
			reason = kernelmodel.SKB_DROP_REASON_IP_INADDRERRORS
			s.SNMP.Ip.InAddrErrors++
		case ENETUNREACH:
			reason = kernelmodel.SKB_DROP_REASON_IP_INNOROUTES
			s.SNMP.IpExt.InNoRoutes++
		}
		k.KfreeSKB(skb, reason)
		return
	}
	code := uint8(header.ICMPv4HostUnreach)
	if err == ENETUNREACH {
		code = header.ICMPv4NetUnreach
		reason = kernelmodel.SKB_DROP_REASON_IP_INNOROUTES
		s.SNMP.IpExt.InNoRoutes++
	}
	p := s.getPeer(header.IPv4(skb.Data).Source())
	now := k.Jiffies()
	p.rateTokens = min(p.rateTokens+now-p.rateLast, uint64(s.Sysctl.RouteErrorBurst)*kernelmodel.HZ)
	p.rateLast = now
	if cost := uint64(s.Sysctl.RouteErrorCost) * kernelmodel.HZ; p.rateTokens >= cost {
		p.rateTokens -= cost
		s.IcmpSendInfo(skb, header.ICMPv4DestUnreach, code, 0)
	}
	k.KfreeSKB(skb, reason)
}

// ipRtSendRedirect is ip_rt_send_redirect(): an ICMP redirect (host)
// naming the next hop, to a source on the link the datagram leaves by.
// Per source, as Linux: after route.redirect_number (9) redirects no more
// until the source is quiet for redirect_silence (redirect_load << 10, 20
// s); between them the gap doubles from redirect_load (20 ms).
func (s *Stack) ipRtSendRedirect(skb *kernelmodel.SKB, r *Route) {
	h := header.IPv4(skb.Data)
	p := s.getPeer(h.Source())
	now := s.K.Jiffies()
	load := uint64(s.Sysctl.RouteRedirectLoad)
	num := s.Sysctl.RouteRedirectNum
	if now > p.rateLast+load<<(num+1) {
		p.rateTokens = 0
		p.nRedirects = 0
	}
	if p.nRedirects >= num {
		p.rateLast = now
		return
	}
	if p.nRedirects == 0 || now > p.rateLast+load<<p.nRedirects {
		gw := h.Destination()
		if r.Gateway != ([4]byte{}) {
			gw = r.Gateway
		}
		s.IcmpSendInfo(skb, header.ICMPv4Redirect, ICMP_REDIR_HOST, u32(gw))
		p.rateLast = now
		p.nRedirects++
	}
}
