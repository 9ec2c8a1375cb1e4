// Package gso is generic segmentation offload for TCP over IPv4 as Linux
// 6.1 does it (inet_gso_segment in net/ipv4/af_inet.c, tcp4_gso_segment and
// tcp_gso_segment in net/ipv4/tcp_offload.c, skb_segment in
// net/core/skbuff.c): the software fallback of TSO.
//
// The kernel model's validate_xmit_skb (kernelmodel.ValidateXmitSKB, from
// dev_queue_xmit) hands a GSO skb to the gso_segment callback Register
// installs when the device cannot take it: no NETIF_F_TSO (or TSO without
// SG or checksum offload), a GSO type it does not offer (SKB_GSO_TCP_ECN
// without NETIF_F_TSO_ECN, SKB_GSO_TCP_FIXEDID without
// NETIF_F_TSO_MANGLEID), or a checksum neither CHECKSUM_PARTIAL nor
// CHECKSUM_UNNECESSARY. A device with TSO gets the skb unchanged; its
// driver programs the NIC (e1000_tso).
//
// Each segment is a new skb from the pool: the headers copied, gso_size
// bytes of payload (the last one the rest), the skb's metadata
// (__copy_skb_header). The headers are rewritten as the NIC's TSO engine
// rewrites them — the arithmetic is hw/offload's Segmenter, shared: IPv4
// total length, ID incrementing per segment (kept for
// SKB_GSO_TCP_FIXEDID), the header checksum (ip_send_check), the sequence
// number advancing by the payload, FIN and PSH only on the last segment —
// and CWR only on the first (tcp_gso_segment; a NIC's engine keeps it,
// which is why a device without NETIF_F_TSO_ECN gets ECN skbs segmented
// here). The TCP checksum is left for the device as CHECKSUM_PARTIAL (the
// field holding each segment's pseudo-header sum, CsumStart/CsumOffset at
// it) when the device has NETIF_F_IP_CSUM, and computed here otherwise
// (CHECKSUM_NONE). A GSO skb that is not CHECKSUM_PARTIAL has its
// pseudo-header sum set first (tcp4_gso_segment's __tcp_v4_send_check).
//
// Refused, as Linux refuses them (the skb dropped by validate_xmit_skb): an
// IPv4 header shorter than 20 bytes, a protocol other than TCP, a TCP header
// shorter than 20 bytes or beyond the data, SKB_GSO_TCP_FIXEDID without DF,
// no SKB_GSO_TCPV4, and a payload not longer than gso_size.
//
// Segment also runs at the IP layer (ip_finish_output_gso, Data at the IP
// header, NetHeader there): csum_start then counts the Ethernet header
// neigh_output will push, as the model's CsumStart counts from the MAC
// header.
//
// Deviation: the segments get no owner socket or destructor (Linux moves
// tcp_wfree's accounting to them for TCP Small Queues); the original skb's
// destructor runs when validate_xmit_skb consumes it.
package gso

import (
	"errors"

	"github.com/nicbed/nicbed/hw/offload"
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/checksum"
	"github.com/nicbed/nicbed/stack/header"
)

// Errors of inet_gso_segment and tcp_gso_segment (EINVAL,
// EPROTONOSUPPORT).
var (
	ErrInvalid          = errors.New("gso: invalid GSO skb (EINVAL)")
	ErrProtoNoSupport   = errors.New("gso: no segmentation for the protocol (EPROTONOSUPPORT)")
	errNotLongerThanMSS = errors.New("gso: payload not longer than gso_size (EINVAL)")
)

// Register installs TCP/IPv4 segmentation on k (ipv4_offload_init's
// dev_add_offload of ip_packet_offload with inet_gso_segment).
func Register(k *kernelmodel.Kernel) {
	k.DevAddOffload(&kernelmodel.PacketOffload{
		Type: kernelmodel.ETH_P_IP,
		GSOSegment: func(skb *kernelmodel.SKB, features uint64) (*kernelmodel.SKB, error) {
			return Segment(k, skb, features)
		},
	})
}

// Segment is inet_gso_segment() with tcp4_gso_segment() and
// tcp_gso_segment(): cut skb (Data at the MAC header) into segments for a
// device with features, linked through Next. skb is not freed.
func Segment(k *kernelmodel.Kernel, skb *kernelmodel.SKB, features uint64) (*kernelmodel.SKB, error) {
	d := skb.Data
	macLen := kernelmodel.ETH_HLEN
	if off := skb.NetHeader - skb.BufOffset(); skb.NetHeader >= 0 && off >= 0 && off <= len(d) {
		macLen = off
	}
	if len(d) < macLen+header.IPv4MinSize {
		return nil, ErrInvalid
	}
	iph := header.IPv4(d[macLen:])
	ihl := iph.HeaderLength()
	if iph.Version() != 4 || ihl < header.IPv4MinSize || macLen+ihl > len(d) {
		return nil, ErrInvalid
	}
	fixedID := skb.GSOType&kernelmodel.SKB_GSO_TCP_FIXEDID != 0
	if fixedID && iph.Flags()&header.IPv4FlagDF == 0 {
		return nil, ErrInvalid // a fixed ID is invalid without DF
	}
	if iph.Protocol() != header.ProtocolTCP {
		return nil, ErrProtoNoSupport
	}
	// tcp4_gso_segment
	if skb.GSOType&kernelmodel.SKB_GSO_TCPV4 == 0 {
		return nil, ErrInvalid
	}
	l4 := macLen + ihl
	if len(d) < l4+header.TCPMinSize {
		return nil, ErrInvalid
	}
	thlen := header.TCP(d[l4:]).DataOffset()
	if thlen < header.TCPMinSize || l4+thlen > len(d) {
		return nil, ErrInvalid
	}
	mss := int(skb.GSOSize)
	hlen := l4 + thlen
	if len(d)-hlen <= mss {
		return nil, errNotLongerThanMSS
	}
	csum := features&kernelmodel.NETIF_F_IP_CSUM != 0 // can_checksum_protocol
	p := offload.TSO{MACLen: macLen, IPLen: ihl, L4Len: thlen, MSS: mss, IPv4: true, TCP: true, IPCsum: true, L4Csum: !csum}
	if p.Validate(hlen+mss) != nil {
		return nil, ErrInvalid
	}
	// The header every segment starts from. The Segmenter computes a full
	// checksum from the pseudo-header sum without the length; for
	// CHECKSUM_PARTIAL segments the field is set after it.
	var hdr [offload.MaxHeader]byte
	copy(hdr[:], d[:hlen])
	src, dst := [4]byte(d[macLen+header.IPv4Src:]), [4]byte(d[macLen+header.IPv4Dst:])
	header.TCP(hdr[l4:hlen]).SetChecksum(checksum.PseudoHeaderIPv4(src[:], dst[:], header.ProtocolTCP, 0))
	id := iph.ID()
	var s offload.Segmenter
	s.Start(p, hdr[:hlen])
	var head, tail *kernelmodel.SKB
	for pay := d[hlen:]; len(pay) > 0; {
		n := min(mss, len(pay))
		nskb := k.AllocSKB(hlen + n)
		k.CopySKBHeader(nskb, skb)
		frame := nskb.Put(hlen + n)
		s.Restore(frame)
		copy(frame[hlen:], pay[:n])
		pay = pay[n:]
		if head != nil {
			frame[l4+header.TCPFlags] &^= header.TCPFlagCWR // CWR only on the first
		}
		s.Segment(frame, len(pay) == 0)
		seg := header.IPv4(frame[macLen:l4])
		if fixedID {
			seg.SetID(id)
			seg.SetChecksum(0)
			seg.SetChecksum(seg.CalculateChecksum())
		}
		nskb.GSOSize, nskb.GSOSegs, nskb.GSOType = 0, 0, 0
		nskb.MACHeader = -1
		if macLen > 0 {
			nskb.MACHeader = nskb.BufOffset()
		}
		nskb.NetHeader = nskb.BufOffset() + macLen
		nskb.TransHeader = nskb.NetHeader + ihl
		if csum {
			header.TCP(frame[l4:]).SetChecksum(seg.PseudoHeaderChecksum(uint16(len(frame) - l4)))
			nskb.IPSummed = kernelmodel.CHECKSUM_PARTIAL
			// csum_start counts from the MAC header, as from Data at
			// transmit: one still to come is an Ethernet header.
			start := l4
			if macLen == 0 {
				start += kernelmodel.ETH_HLEN
			}
			nskb.CsumStart, nskb.CsumOffset = uint16(start), header.TCPChecksum
		} else {
			nskb.IPSummed = kernelmodel.CHECKSUM_NONE
			k.ChargeBytes(k.Cost.CsumPerKiB, len(frame)-l4)
		}
		if head == nil {
			head = nskb
		} else {
			tail.Next = nskb
		}
		tail = nskb
	}
	return head, nil
}
