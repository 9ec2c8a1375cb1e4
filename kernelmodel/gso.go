package kernelmodel

import (
	"errors"

	"github.com/nicbed/nicbed/stack/checksum"
)

// offloadBase is offload_base: the GRO engine a NAPI instance gets
// (gro.go) and the packet_offload callbacks of dev_add_offload.
type offloadBase struct {
	newGRO func(n *NAPI) GROHandler
	list   []*PacketOffload
	stats  GSOStats
}

// PacketOffload is a struct packet_offload: a protocol's segmentation
// callback (gso_segment) for one EtherType, registered with DevAddOffload.
type PacketOffload struct {
	Type uint16
	// GSOSegment is callbacks.gso_segment (inet_gso_segment): cut skb,
	// whose Data starts at the MAC header and whose NetHeader is set, into
	// a list of new skbs (linked through Next) for a device with features.
	// It does not free skb. A nil list with a nil error means the device
	// can take skb as it is.
	GSOSegment func(skb *SKB, features uint64) (*SKB, error)
}

// DevAddOffload is dev_add_offload().
func (k *Kernel) DevAddOffload(po *PacketOffload) {
	k.offload.list = append(k.offload.list, po)
}

// CopySKBHeader is __copy_skb_header() with skb_copy_header()'s GSO
// fields: dst (a fresh skb) takes src's metadata — device, protocol,
// packet type, hash, queue, checksum state, GSO fields, VLAN tag, time
// stamp, mark, cb — and keeps its own identity, buffer, header offsets, list
// linkage, owner and destructor.
func (k *Kernel) CopySKBHeader(dst, src *SKB) {
	keep := *dst
	*dst = *src
	dst.ID, dst.Data, dst.Next = keep.ID, keep.Data, keep.Next
	dst.MACHeader, dst.NetHeader, dst.TransHeader = keep.MACHeader, keep.NetHeader, keep.TransHeader
	dst.Sk, dst.Destructor = keep.Sk, keep.Destructor
	dst.buf, dst.data, dst.head, dst.k, dst.irqFree, dst.gen = keep.buf, keep.data, keep.head, keep.k, keep.irqFree, keep.gen
	dst.users = keep.users       // skb->users is the new skb's own
	dst.truesize = keep.truesize // and so is its buffer
}

// SKBCopyExpand is skb_copy_expand(): a new skb from the pool with s's
// data and metadata (CopySKBHeader), newHeadroom bytes before Data (the
// bytes of s's headroom that fit are copied too, so a MAC header before
// Data comes along) and at least newTailroom after it; the header offsets
// move with the data. s is left as it was. A freed s is a use after free:
// counted, nil returned.
func (k *Kernel) SKBCopyExpand(s *SKB, newHeadroom, newTailroom int) *SKB {
	if !k.skbCheck(s, "skb_copy_expand") {
		return nil
	}
	newHeadroom, newTailroom = max(newHeadroom, 0), max(newTailroom, 0)
	d := k.allocDataRoom(newHeadroom + len(s.Data) + newTailroom - NET_SKB_PAD - NET_IP_ALIGN)
	n := k.allocStruct()
	gen := n.gen
	*n = SKB{buf: d.buf, data: d, gen: gen + 1, users: 1, k: k, truesize: len(d.buf) + SKBOverhead}
	n.ID = k.nextPktID()
	headCopy := min(s.head, newHeadroom)
	copy(d.buf[newHeadroom-headCopy:], s.buf[s.head-headCopy:s.head+len(s.Data)])
	k.CopySKBHeader(n, s)
	n.head = newHeadroom
	n.Data = d.buf[newHeadroom : newHeadroom+len(s.Data)]
	shift := newHeadroom - s.head
	n.MACHeader, n.NetHeader, n.TransHeader = s.MACHeader, s.NetHeader, s.TransHeader
	for _, off := range []*int{&n.MACHeader, &n.NetHeader, &n.TransHeader} {
		switch {
		case *off < 0:
		case *off < s.head-headCopy:
			*off = -1 // in the part of the headroom not copied
		default:
			*off += shift
		}
	}
	k.tracePoint(k.cur, "skb_copy_expand", s.ID, int64(n.ID))
	return n
}

// Feature bits of the GSO types beyond plain TSO (NETIF_F_TSO_ECN,
// NETIF_F_TSO_MANGLEID): a device without them gets SKB_GSO_TCP_ECN and
// SKB_GSO_TCP_FIXEDID skbs segmented in software.
const (
	NETIF_F_TSO_ECN      = 1 << 17
	NETIF_F_TSO_MANGLEID = 1 << 18
)

// ENOMEM is the errno dev_queue_xmit returns when validate_xmit_skb drops
// the skb.
const ENOMEM = 12

// SKBIsGSO is skb_is_gso(): the skb is to be segmented (gso_size set).
func (s *SKB) SKBIsGSO() bool { return s.GSOSize != 0 }

// netifSKBFeatures is netif_skb_features(): the device's features as they
// apply to skb — netdev_fix_features' rules (TSO needs SG and checksum
// offload), gso_features_check (a GSO skb without a gso_type gets no GSO)
// and harmonize_features (no checksum offload, and so no TSO, for a
// protocol NETIF_F_IP_CSUM does not cover: only IPv4 is).
func netifSKBFeatures(skb *SKB, d *NetDevice) uint64 {
	f := d.Features
	if f&NETIF_F_SG == 0 || f&NETIF_F_IP_CSUM == 0 {
		f &^= NETIF_F_TSO | NETIF_F_TSO_ECN | NETIF_F_TSO_MANGLEID
	}
	if skb.SKBIsGSO() && skb.GSOType == 0 {
		f &^= NETIF_F_TSO | NETIF_F_TSO_ECN | NETIF_F_TSO_MANGLEID
	}
	if skb.IPSummed != CHECKSUM_NONE && xmitProtocol(skb) != ETH_P_IP && f&NETIF_F_HW_CSUM == 0 {
		f &^= NETIF_F_IP_CSUM | NETIF_F_TSO | NETIF_F_TSO_ECN | NETIF_F_TSO_MANGLEID
	}
	return f
}

// xmitProtocol is skb->protocol, or for an skb sent without one (a raw
// frame) the EtherType of its Ethernet header, as packet_snd takes it
// (dev_parse_header_protocol).
func xmitProtocol(skb *SKB) uint16 {
	if skb.Protocol != 0 || len(skb.Data) < ETH_HLEN {
		return skb.Protocol
	}
	return uint16(skb.Data[12])<<8 | uint16(skb.Data[13])
}

// gsoOK is skb_gso_ok()/net_gso_ok(): the device segments every GSO type
// the skb has.
func gsoOK(skb *SKB, f uint64) bool {
	t := skb.GSOType
	need := uint64(0)
	if t&SKB_GSO_TCPV4 != 0 {
		need |= NETIF_F_TSO
	}
	if t&SKB_GSO_TCP_ECN != 0 {
		need |= NETIF_F_TSO_ECN
	}
	if t&SKB_GSO_TCP_FIXEDID != 0 {
		need |= NETIF_F_TSO_MANGLEID
	}
	if t&^(SKB_GSO_TCPV4|SKB_GSO_TCP_ECN|SKB_GSO_TCP_FIXEDID) != 0 {
		return false // UDP fragmentation offload is gone from Linux
	}
	return f&need == need
}

// NetifNeedsGSO is netif_needs_gso(): a GSO skb the device cannot take as
// it is (a GSO type it does not offer, or a checksum that is neither
// CHECKSUM_PARTIAL nor CHECKSUM_UNNECESSARY).
func NetifNeedsGSO(skb *SKB, features uint64) bool {
	return skb.SKBIsGSO() && (!gsoOK(skb, features) ||
		skb.IPSummed != CHECKSUM_PARTIAL && skb.IPSummed != CHECKSUM_UNNECESSARY)
}

// GSO counters of a kernel (no /proc file in Linux has them; the
// segments count as packets at the driver).
type GSOStats struct {
	Segmented uint64 // skbs segmented in software (skb_gso_segment)
	Segments  uint64 // segments made
	Failed    uint64 // GSO skbs dropped because segmentation failed
	CsumHelp  uint64 // CHECKSUM_PARTIAL skbs checksummed in software (skb_checksum_help)
}

// GSOStats are the kernel's GSO counters.
func (k *Kernel) GSOStats() GSOStats { return k.offload.stats }

// SKBGSOSegment is skb_gso_segment() (__skb_gso_segment and
// skb_mac_gso_segment): segment skb in software with the gso_segment
// callback of its protocol. skb, whose Data starts at the MAC header, is
// left to the caller; the segments come back linked through Next.
func (k *Kernel) SKBGSOSegment(skb *SKB, features uint64) (*SKB, error) {
	for _, po := range k.offload.list {
		if po.Type == xmitProtocol(skb) && po.GSOSegment != nil {
			return po.GSOSegment(skb, features)
		}
	}
	return nil, errProtoNoSupport
}

var errProtoNoSupport = errors.New("gso: no gso_segment for the protocol (EPROTONOSUPPORT)")

// ValidateXmitSKB is validate_xmit_skb(): make skb fit the device. A GSO skb
// the device cannot segment (NetifNeedsGSO) is segmented in software and
// consumed, and the segments returned (linked through Next); a
// CHECKSUM_PARTIAL skb whose checksum the device cannot insert gets it in
// software (skb_csum_hwoffload_help). On failure the skb is freed,
// tx_dropped counted and nil returned. Otherwise skb comes back as it was.
func (k *Kernel) ValidateXmitSKB(skb *SKB, d *NetDevice) *SKB {
	f := netifSKBFeatures(skb, d)
	if NetifNeedsGSO(skb, f) {
		segs, err := k.SKBGSOSegment(skb, f)
		switch {
		case err != nil:
			k.offload.stats.Failed++
			k.tracePoint(k.cur, "skb_gso_segment failed", skb.ID, 0)
			k.KfreeSKB(skb, SKB_DROP_REASON_NOT_SPECIFIED)
			d.Stats.TxDropped++
			return nil
		case segs != nil:
			n := 0
			for s := segs; s != nil; s = s.Next {
				n++
			}
			k.offload.stats.Segmented++
			k.offload.stats.Segments += uint64(n)
			k.tracePoint(k.cur, "skb_gso_segment", skb.ID, int64(n))
			k.ConsumeSKB(skb)
			return segs
		}
		return skb
	}
	if skb.IPSummed == CHECKSUM_PARTIAL && f&(NETIF_F_IP_CSUM|NETIF_F_HW_CSUM) == 0 {
		if !k.SKBChecksumHelp(skb) {
			k.KfreeSKB(skb, SKB_DROP_REASON_NOT_SPECIFIED)
			d.Stats.TxDropped++
			return nil
		}
	}
	return skb
}

// SKBChecksumHelp is skb_checksum_help(): insert the checksum a
// CHECKSUM_PARTIAL skb asks for (from CsumStart, counted from Data, to the
// end, at CsumStart+CsumOffset, the field holding the pseudo-header sum;
// a result of 0 goes out as 0xFFFF, CSUM_MANGLED_0) and make it
// CHECKSUM_NONE. It reports false for a GSO skb or offsets outside the data.
func (k *Kernel) SKBChecksumHelp(skb *SKB) bool {
	if skb.SKBIsGSO() {
		return false
	}
	start := int(skb.CsumStart)
	off := start + int(skb.CsumOffset)
	if start >= len(skb.Data) || off+2 > len(skb.Data) {
		return false
	}
	if skb.Cloned() && !k.SKBCowHead(skb, 0) {
		return false
	}
	p := skb.Data
	c := ^checksum.Checksum(p[start:], 0)
	if c == 0 {
		c = 0xFFFF
	}
	p[off], p[off+1] = byte(c>>8), byte(c)
	k.ChargeBytes(k.Cost.CsumPerKiB, len(p)-start)
	skb.IPSummed = CHECKSUM_NONE
	k.offload.stats.CsumHelp++
	return true
}

// KfreeSKBList is kfree_skb_list_reason(): free every skb of a list linked
// through Next.
func (k *Kernel) KfreeSKBList(skb *SKB, reason DropReason) {
	for skb != nil {
		next := skb.Next
		skb.Next = nil
		k.KfreeSKB(skb, reason)
		skb = next
	}
}

// SKBGSOValidateNetworkLen is skb_gso_validate_network_len(): each segment
// of a GSO skb — its IP and TCP headers (from NetHeader) and gso_size
// bytes of payload — fits mtu.
func SKBGSOValidateNetworkLen(skb *SKB, mtu int) bool {
	b, nh := skb.buf, skb.NetHeader
	if nh < 0 || nh+20 > len(b) {
		return false
	}
	th := nh + int(b[nh]&0xF)*4
	if th+20 > len(b) {
		return false
	}
	return th-nh+int(b[th+12]>>4)*4+int(skb.GSOSize) <= mtu
}

// SKBCsumUnnecessary is skb_csum_unnecessary(): the L4 checksum needs no
// check on receive — the device verified it (CHECKSUM_UNNECESSARY) or it is
// still to be computed (CHECKSUM_PARTIAL: a GRO aggregate, whose segments
// were verified, or a looped-back packet). tcp_v4_rcv's checksum init must
// accept both.
func SKBCsumUnnecessary(skb *SKB) bool {
	return skb.IPSummed == CHECKSUM_UNNECESSARY || skb.IPSummed == CHECKSUM_PARTIAL
}
