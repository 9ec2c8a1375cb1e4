package kernelmodel

// offloadBase is offload_base: the GRO engine a NAPI instance gets
// (gro.go) and the packet_offload callbacks of dev_add_offload.
type offloadBase struct {
	newGRO func(n *NAPI) GROHandler
	list   []*PacketOffload
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
	*n = SKB{buf: d.buf, data: d, gen: gen + 1, k: k}
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
