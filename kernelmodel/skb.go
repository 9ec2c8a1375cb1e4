package kernelmodel

import "time"

// SKB is a struct sk_buff: one packet and what the stack knows about it.
// Data is the bytes from the current header on (skb->data .. skb->tail); the
// headroom before it lets headers be pushed without copying.
//
// SKBs come from the kernel's pool (AllocSKB) and go back to it
// (ConsumeSKB, KfreeSKB): the receive and transmit paths allocate nothing per
// packet in steady state.
type SKB struct {
	ID   uint64 // packet identity in traces
	Data []byte
	Dev  *NetDevice

	Protocol     uint16 // skb->protocol (host order EtherType)
	PktType      uint8  // PACKET_HOST, PACKET_BROADCAST, ...
	Hash         uint32 // skb->hash
	L4Hash       bool   // skb->l4_hash: Hash covers the 4-tuple
	SWHash       bool   // hash computed in software
	QueueMapping uint16 // RX or TX queue
	IPSummed     uint8  // CHECKSUM_NONE, CHECKSUM_UNNECESSARY, CHECKSUM_PARTIAL
	CsumStart    uint16 // from the start of Data at transmit
	CsumOffset   uint16
	GSOSize      uint16 // MSS for TSO
	GSOType      uint32
	VLANTCI      uint16
	MACHeader    int // offset of the MAC header in the buffer, -1 if none
	NetHeader    int
	TransHeader  int
	Tstamp       time.Duration
	Mark         uint32
	Seq          uint64 // test payload sequence, set by pktgen and sinks

	Next *SKB // list linkage (sk_buff_head)

	buf   []byte
	head  int // offset of Data in buf
	class int8
}

// Checksum states (skb->ip_summed).
const (
	CHECKSUM_NONE = iota
	CHECKSUM_UNNECESSARY
	CHECKSUM_COMPLETE
	CHECKSUM_PARTIAL
)

// Packet types (skb->pkt_type).
const (
	PACKET_HOST = iota
	PACKET_BROADCAST
	PACKET_MULTICAST
	PACKET_OTHERHOST
	PACKET_OUTGOING
)

// GSO types.
const (
	SKB_GSO_TCPV4 = 1 << 0
	SKB_GSO_UDP   = 1 << 1
)

// Headroom reserved in every SKB: NET_SKB_PAD plus NET_IP_ALIGN.
const (
	NET_SKB_PAD  = 64
	NET_IP_ALIGN = 2
)

// Len is skb->len.
func (s *SKB) Len() int { return len(s.Data) }

// Headroom is skb_headroom().
func (s *SKB) Headroom() int { return s.head }

// Tailroom is skb_tailroom().
func (s *SKB) Tailroom() int { return len(s.buf) - s.head - len(s.Data) }

// Reserve is skb_reserve(): move an empty skb's data n bytes further.
func (s *SKB) Reserve(n int) {
	s.head += n
	s.Data = s.buf[s.head:s.head]
}

// Put is skb_put(): extend the data by n bytes at the tail and return them.
func (s *SKB) Put(n int) []byte {
	l := len(s.Data)
	s.Data = s.buf[s.head : s.head+l+n]
	return s.Data[l:]
}

// Push is skb_push(): extend the data by n bytes at the head.
func (s *SKB) Push(n int) []byte {
	s.head -= n
	s.Data = s.buf[s.head : s.head+len(s.Data)+n]
	return s.Data[:n]
}

// Pull is skb_pull(): drop n bytes from the head.
func (s *SKB) Pull(n int) []byte {
	if n > len(s.Data) {
		return nil
	}
	s.head += n
	s.Data = s.Data[n:]
	return s.Data
}

// Trim is skb_trim(): cut the data to n bytes.
func (s *SKB) Trim(n int) {
	if n < len(s.Data) {
		s.Data = s.Data[:n]
	}
}

// BufOffset is the offset of the start of Data in the buffer (for header
// offsets).
func (s *SKB) BufOffset() int { return s.head }

// Buf returns the whole buffer, for code that keeps header offsets.
func (s *SKB) Buf() []byte { return s.buf }

// MAC returns the MAC header, if set.
func (s *SKB) MAC() []byte {
	if s.MACHeader < 0 || s.MACHeader+14 > len(s.buf) {
		return nil
	}
	return s.buf[s.MACHeader : s.MACHeader+14]
}

// SKB size classes of the pool: data room after headroom.
var skbClasses = [...]int{2048, 9216 + 64, 65536 + 256}

type skbPool struct {
	free   [len(skbClasses)][]*SKB
	allocs uint64 // SKBs made (not reused)
	inUse  int
}

// AllocSKB is netdev_alloc_skb / napi_alloc_skb / alloc_skb: an empty SKB
// with room for size bytes after NET_SKB_PAD+NET_IP_ALIGN of headroom.
func (k *Kernel) AllocSKB(size int) *SKB {
	cl := -1
	for i, n := range skbClasses {
		if size <= n {
			cl = i
			break
		}
	}
	var s *SKB
	if cl >= 0 && len(k.skbs.free[cl]) > 0 {
		f := k.skbs.free[cl]
		s = f[len(f)-1]
		k.skbs.free[cl] = f[:len(f)-1]
	} else {
		room := size
		if cl >= 0 {
			room = skbClasses[cl]
		}
		s = &SKB{buf: make([]byte, NET_SKB_PAD+NET_IP_ALIGN+room), class: int8(cl)}
		k.skbs.allocs++
	}
	k.skbs.inUse++
	buf, class := s.buf, s.class
	*s = SKB{buf: buf, class: class, MACHeader: -1, NetHeader: -1, TransHeader: -1}
	s.ID = k.nextPktID()
	s.Reserve(NET_SKB_PAD + NET_IP_ALIGN)
	return s
}

// ConsumeSKB is consume_skb(): free an SKB that was used as intended.
func (k *Kernel) ConsumeSKB(s *SKB) {
	if s == nil {
		return
	}
	k.tracePoint(k.cur, "consume_skb", s.ID, 0)
	k.freeSKB(s)
}

// KfreeSKB is kfree_skb_reason(): free a dropped SKB, counting the reason.
func (k *Kernel) KfreeSKB(s *SKB, reason DropReason) {
	if s == nil {
		return
	}
	if reason < 0 || reason >= numDropReasons {
		reason = SKB_DROP_REASON_NOT_SPECIFIED
	}
	k.Drops.Reason[reason]++
	k.tracePoint(k.cur, "kfree_skb", s.ID, int64(reason))
	k.freeSKB(s)
}

func (k *Kernel) freeSKB(s *SKB) {
	k.skbs.inUse--
	s.Dev = nil
	s.Next = nil
	if s.class >= 0 {
		k.skbs.free[s.class] = append(k.skbs.free[s.class], s)
	}
}

// SKBsInUse is the number of SKBs allocated and not freed: a leak check.
func (k *Kernel) SKBsInUse() int { return k.skbs.inUse }

// SKBHead is a struct sk_buff_head: a FIFO of SKBs linked through Next.
type SKBHead struct {
	head, tail *SKB
	qlen       int
}

// Len is skb_queue_len().
func (q *SKBHead) Len() int { return q.qlen }

// QueueTail is __skb_queue_tail().
func (q *SKBHead) QueueTail(s *SKB) {
	s.Next = nil
	if q.tail == nil {
		q.head = s
	} else {
		q.tail.Next = s
	}
	q.tail = s
	q.qlen++
}

// Dequeue is __skb_dequeue().
func (q *SKBHead) Dequeue() *SKB {
	s := q.head
	if s == nil {
		return nil
	}
	q.head = s.Next
	if q.head == nil {
		q.tail = nil
	}
	s.Next = nil
	q.qlen--
	return s
}

// SpliceTailInit is skb_queue_splice_tail_init(): move all of from to q's tail.
func (q *SKBHead) SpliceTailInit(from *SKBHead) {
	if from.head == nil {
		return
	}
	if q.tail == nil {
		q.head = from.head
	} else {
		q.tail.Next = from.head
	}
	q.tail = from.tail
	q.qlen += from.qlen
	*from = SKBHead{}
}

// DropReason is enum skb_drop_reason.
type DropReason int

// Drop reasons (include/net/dropreason-core.h), the ones the model uses.
const (
	SKB_DROP_REASON_NOT_SPECIFIED DropReason = iota
	SKB_DROP_REASON_NO_SOCKET
	SKB_DROP_REASON_PKT_TOO_SMALL
	SKB_DROP_REASON_UNHANDLED_PROTO
	SKB_DROP_REASON_CPU_BACKLOG
	SKB_DROP_REASON_DEV_READY
	SKB_DROP_REASON_FULL_RING
	SKB_DROP_REASON_QDISC_DROP
	SKB_DROP_REASON_DEV_HDR
	SKB_DROP_REASON_NOMEM
	numDropReasons
)

var dropReasonNames = [numDropReasons]string{
	"NOT_SPECIFIED", "NO_SOCKET", "PKT_TOO_SMALL", "UNHANDLED_PROTO", "CPU_BACKLOG",
	"DEV_READY", "FULL_RING", "QDISC_DROP", "DEV_HDR", "NOMEM",
}

func (r DropReason) String() string {
	if r < 0 || r >= numDropReasons {
		return "?"
	}
	return dropReasonNames[r]
}

// DropCounters counts kfree_skb by reason, and other kernel-level drops.
type DropCounters struct {
	Reason [numDropReasons]uint64
	BadMSI uint64 // MSI writes that named no vector
}
