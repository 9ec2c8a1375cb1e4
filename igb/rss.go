package igb

import (
	"github.com/nicbed/nicbed/hw/rss"
	"github.com/nicbed/nicbed/stack/header"
)

// Receive-side scaling of the 82576 (datasheet 7.1.2.8): with MRQC's
// queue mode RSS, each received frame's header fields, chosen by MRQC's
// field-select bits, are hashed with the Toeplitz function under the key in
// RSSRK; the low 7 bits of the hash index the 128-entry redirection table
// (RETA), whose entry names the receive queue. The hash and its type are
// written back into the descriptor (RXCSUM.PCSD set).

// RSSKey is the 40-byte key RSSRK0–9 hold: register n's byte k (bits
// 8k+7:8k) is key byte 4n+k, the order Linux's igb_setup_mrqc writes.
func RSSKey(regs *[NumRSSRK]uint32) [RSSKeySize]byte {
	var k [RSSKeySize]byte
	for n, v := range regs {
		for b := range 4 {
			k[4*n+b] = byte(v >> (8 * b))
		}
	}
	return k
}

// RETAEntry is redirection table entry i (0..127) of RETA0–31: register
// i/4, byte i%4.
func RETAEntry(reta *[NumRETA]uint32, i int) uint8 {
	i &= RETAWidth - 1
	return uint8(reta[i/4] >> (8 * (i % 4)))
}

// RETAQueueMask is the part of a RETA entry that names a queue (16 queues).
const RETAQueueMask = 0x0F

// RSSQueue is the receive queue RSS picks for hash: RETA[hash & 127].
func RSSQueue(reta *[NumRETA]uint32, hash uint32) int {
	return int(RETAEntry(reta, int(hash)) & RETAQueueMask)
}

// RSSEnabled reports whether MRQC selects RSS (alone or with VMDq).
func RSSEnabled(mrqc uint32) bool {
	m := mrqc & MRQC_ENABLE_MASK
	return m == MRQC_ENABLE_RSS || m == MRQC_ENABLE_VMDQ_RSS
}

// RSSHash hashes a parsed frame as MRQC's field selection says (7.1.2.8.1):
// an IPv4 TCP segment by its 4-tuple if IPV4_TCP is selected, an IPv4 UDP
// datagram by its 4-tuple if IPV4_UDP is, any other IPv4 packet (and those
// two when their 4-tuple is not selected, and fragments) by its address pair
// if IPV4 is; IPv6 likewise with IPV6_TCP, IPV6_UDP and IPV6 (a packet
// whose fixed header is followed by an extension header hashes its address
// pair: the IPv6Ex hash types are not modelled). Otherwise no hash
// (RSSTypeNone, hash 0, queue 0). frame is what f was parsed from.
func RSSHash(h *rss.Hasher, mrqc uint32, frame []byte, f *header.Frame) (hash uint32, typ uint8) {
	if f.EtherType == header.EtherTypeIPv6 {
		return rssIPv6(h, mrqc, frame[f.L3:])
	}
	if f.EtherType != header.EtherTypeIPv4 || f.L3Len == 0 {
		return 0, RSSTypeNone
	}
	ip := header.IPv4(frame[f.L3:])
	src, dst := ip.Source(), ip.Destination()
	switch {
	case f.L4 == 0:
	case f.Protocol == header.ProtocolTCP && mrqc&MRQC_RSS_FIELD_IPV4_TCP != 0:
		t := header.TCP(frame[f.L4:])
		return h.IPv4Ports(src, dst, t.SourcePort(), t.DestinationPort()), RSSTypeIPv4TCP
	case f.Protocol == header.ProtocolUDP && mrqc&MRQC_RSS_FIELD_IPV4_UDP != 0:
		u := header.UDP(frame[f.L4:])
		return h.IPv4Ports(src, dst, u.SourcePort(), u.DestinationPort()), RSSTypeIPv4UDP
	}
	if mrqc&MRQC_RSS_FIELD_IPV4 != 0 {
		return h.IPv4(src, dst), RSSTypeIPv4
	}
	return 0, RSSTypeNone
}

// rssIPv6 is RSSHash for an IPv6 packet starting at b.
func rssIPv6(h *rss.Hasher, mrqc uint32, b []byte) (uint32, uint8) {
	ip, err := header.ParseIPv6(b)
	if err != nil {
		return 0, RSSTypeNone
	}
	src, dst := (*[16]byte)(ip.Src()), (*[16]byte)(ip.Dst())
	l4 := b[header.IPv6MinSize:]
	switch nh := ip.NextHeader(); {
	case nh == header.ProtocolTCP && mrqc&MRQC_RSS_FIELD_IPV6_TCP != 0:
		if t, err := header.ParseTCP(l4); err == nil {
			return h.IPv6Ports(src, dst, t.SourcePort(), t.DestinationPort()), RSSTypeIPv6TCP
		}
	case nh == header.ProtocolUDP && mrqc&MRQC_RSS_FIELD_IPV6_UDP != 0:
		if u, err := header.ParseUDP(l4); err == nil {
			return h.IPv6Ports(src, dst, u.SourcePort(), u.DestinationPort()), RSSTypeIPv6UDP
		}
	}
	if mrqc&MRQC_RSS_FIELD_IPV6 != 0 {
		return h.IPv6(src, dst), RSSTypeIPv6
	}
	return 0, RSSTypeNone
}
