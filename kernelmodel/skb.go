package kernelmodel

import (
	"errors"
	"time"
)

// SKB is a struct sk_buff: one packet and what the stack knows about it.
// Data is the bytes from the current header on (skb->data .. skb->tail); the
// headroom before it lets headers be pushed without copying.
//
// SKBs come from the kernel's pool (AllocSKB) and go back to it
// (ConsumeSKB, KfreeSKB): the receive and transmit paths allocate nothing per
// packet in steady state. An SKB not made by AllocSKB is never live: freeing
// it counts as a double free. A freed SKB has Data, Dev and Next cleared.
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
	GSOSegs      uint16 // skb_shinfo(skb)->gso_segs: segments of a GSO skb (set by GRO)
	VLANTCI      uint16
	MACHeader    int // offset of the MAC header in the buffer, -1 if none
	NetHeader    int
	TransHeader  int
	Tstamp       time.Duration
	Mark         uint32
	Seq          uint64 // test payload sequence, set by pktgen and sinks
	// Priority is skb->priority: the TC_PRIO_* class (SO_PRIORITY, or
	// from the IP TOS) by which pfifo_fast picks a band (prio2band).
	Priority uint32
	// XmitMore is netdev_xmit_more() (skb->xmit_more before Linux 5.2):
	// set by dev_hard_start_xmit for ndo_start_xmit when more packets of
	// the same bulk dequeue follow this one, so that the driver may defer
	// its tail doorbell to the last of them (or until the queue stops).
	XmitMore bool

	// CB is skb->cb: 48 bytes of per-layer private state (IPCB, NEIGH_CB,
	// TCP_SKB_CB), zeroed when the skb is allocated.
	CB [48]byte
	// Sk is skb->sk, the owning socket (nil on receive until a socket takes
	// the skb); the socket layer charges Truesize to it.
	Sk any
	// Destructor is skb->destructor (sock_wfree, sock_rfree): called once
	// when the skb is freed, before its state is cleared.
	Destructor func(s *SKB)

	Next *SKB // list linkage (sk_buff_head)

	buf  []byte   // data.buf, nil while free
	data *skbData // the buffer, shared by clones
	head int      // offset of Data in buf
	k    *Kernel  // the pool's kernel, for bound violations
	// irqFree is why an skb on a completion queue was freed
	// (skbIRQConsumed, skbIRQDropped).
	irqFree uint8
	// users is skb->users: the references to this sk_buff (skb_get,
	// deliver_skb). kfree_skb and consume_skb drop one; the last frees.
	users int32
	// pktLen is qdisc_skb_cb(skb)->pkt_len: the bytes the qdisc counts
	// (skb->len plus the headers of the further GSO segments).
	pktLen uint32
	// gen counts the skb's lifetimes: odd while it is live (allocated),
	// even while it is free in the pool. Entry points that take an skb check
	// it, so a freed skb handed to them is caught.
	gen uint32
	// truesize is skb->truesize (Truesize).
	truesize int
}

// Live reports whether the skb is allocated (not freed).
func (s *SKB) Live() bool { return s.gen&1 != 0 }

// Gen is the skb's generation: it changes on every allocation and free, so a
// holder that kept (skb, Gen()) can tell whether the skb it holds is still the
// one it was given (SKBValid).
func (s *SKB) Gen() uint32 { return s.gen }

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

// GSO types (enum SKB_GSO_*).
const (
	SKB_GSO_TCPV4       = 1 << 0
	SKB_GSO_UDP         = 1 << 1
	SKB_GSO_TCP_ECN     = 1 << 3 // CWR on the first segment (TSO_ECN)
	SKB_GSO_TCP_FIXEDID = 1 << 4 // every segment keeps the IP ID (GRO of a DF flow with a fixed ID)
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
// Beyond the tailroom (or n < 0) it is skb_over_panic, reported instead of
// panicking: the skb is left as it was, Drops.SKB.Overflow counted, the
// trace point "skb_over_panic" written, and nil returned.
func (s *SKB) Put(n int) []byte {
	l := len(s.Data)
	if n < 0 || n > s.Tailroom() {
		s.boundFault("skb_over_panic")
		return nil
	}
	s.Data = s.buf[s.head : s.head+l+n]
	return s.Data[l:]
}

// Push is skb_push(): extend the data by n bytes at the head. Beyond the
// headroom (or n < 0) it is skb_under_panic, reported as Put reports an
// overflow, and nil returned.
func (s *SKB) Push(n int) []byte {
	if n < 0 || n > s.head {
		s.boundFault("skb_under_panic")
		return nil
	}
	s.head -= n
	s.Data = s.buf[s.head : s.head+len(s.Data)+n]
	return s.Data[:n]
}

// boundFault records a push or put beyond the buffer.
func (s *SKB) boundFault(op string) {
	if k := s.k; k != nil {
		k.Drops.SKB.Overflow++
		k.tracePoint(k.cur, op, s.ID, 0)
	}
}

// SKBOverhead is what truesize adds to the buffer: SKB_TRUESIZE's
// SKB_DATA_ALIGN(sizeof(struct sk_buff)) + SKB_DATA_ALIGN(sizeof(struct
// skb_shared_info)) on x86-64 (256 + 320).
const SKBOverhead = 576

// Truesize is skb->truesize: the memory the skb holds, what socket
// buffers and the neighbour queue charge. It is set when the skb is
// allocated (its whole buffer and the overhead) and stays what it is when
// the data moves to another buffer (skb_cow_head), so that what a socket
// charged is what it releases; GRO sets it to the sum of the packets it
// merged (SetTruesize).
func (s *SKB) Truesize() int { return s.truesize }

// SetTruesize sets skb->truesize: what skb_gro_receive makes an
// aggregate's, the truesize of every packet merged into it (in Linux their
// pages become the aggregate's frags; the model copies their payload into
// one buffer, whose size is not what Linux would hold). It must not be
// called on an skb charged to a socket.
func (s *SKB) SetTruesize(n int) { s.truesize = n }

// Pull is skb_pull(): drop n bytes from the head.
func (s *SKB) Pull(n int) []byte {
	if n < 0 || n > len(s.Data) {
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

// skbData is an skb's buffer with skb_shared_info's dataref: the number of
// SKBs (an skb and its clones) that share it. It goes back to its class's
// free list when the last of them is freed.
type skbData struct {
	buf     []byte
	class   int8 // -1: larger than every class, not pooled
	dataref int32
}

// skbPool keeps freed sk_buff structs and freed buffers per size class.
// Each free list is a FIFO, so a freed skb is handed out again as late as
// possible: a stale pointer to it stays a pointer to a free skb (and is
// caught as a use after free) for as long as possible. An skb is on the
// free list at most once: a second free of it is counted and ignored, so
// the pool never hands one skb out twice; a buffer is on its list only
// once no clone shares it.
type skbPool struct {
	structs fifo[*SKB]
	data    [len(skbClasses)]fifo[*skbData]
	allocs  uint64 // buffers made (not reused)
	inUse   int
	all     []*SKB // every sk_buff struct ever made, for SKBAudit
}

// fifo is a ring that grows by doubling (its length is a power of two, so
// indices wrap with a mask).
type fifo[T comparable] struct {
	ring       []T
	head, size int
}

func (f *fifo[T]) push(s T) {
	if f.size == len(f.ring) {
		n := make([]T, max(16, 2*len(f.ring)))
		for i := 0; i < f.size; i++ {
			n[i] = f.ring[(f.head+i)&(len(f.ring)-1)]
		}
		f.ring, f.head = n, 0
	}
	f.ring[(f.head+f.size)&(len(f.ring)-1)] = s
	f.size++
}

func (f *fifo[T]) pop() (s T) {
	if f.size == 0 {
		return s
	}
	s = f.ring[f.head]
	var zero T
	f.ring[f.head] = zero
	f.head = (f.head + 1) & (len(f.ring) - 1)
	f.size--
	return s
}

// SKBDebug counts skb lifetime errors (what CONFIG_DEBUG_KMEMLEAK, KASAN and
// the slab's double-free check report in Linux). Each is also a trace point
// ("skb_double_free", "skb_use_after_free"); built with the tag
// nicbed_debug, each panics with an *SKBError instead.
type SKBDebug struct {
	DoubleFree   uint64 // kfree_skb/consume_skb of an skb already free
	UseAfterFree uint64 // a freed skb handed to dev_queue_xmit, netif_receive_skb, ...
	Overflow     uint64 // skb_over_panic/skb_under_panic: a put or push beyond the buffer (reported, the skb unchanged)
	LastID       uint64 // ID of the skb in the last error
	LastOp       string // entry point of the last error
}

// SKBError is the panic value of an skb lifetime error under nicbed_debug.
type SKBError struct {
	Op   string // the entry point ("kfree_skb", "dev_queue_xmit", ...)
	ID   uint64 // the skb's ID (of its last lifetime)
	Kind string // "double free" or "use after free"
}

func (e *SKBError) Error() string {
	return "kernelmodel: skb " + e.Kind + " in " + e.Op + " (skb " + utoa(e.ID) + ")"
}

func utoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}

// skbFault records an skb lifetime error.
func (k *Kernel) skbFault(s *SKB, op string, double bool) {
	kind := "use after free"
	if double {
		kind = "double free"
		k.Drops.SKB.DoubleFree++
		k.tracePoint(k.cur, "skb_double_free", s.ID, 0)
	} else {
		k.Drops.SKB.UseAfterFree++
		k.tracePoint(k.cur, "skb_use_after_free", s.ID, 0)
	}
	k.Drops.SKB.LastID, k.Drops.SKB.LastOp = s.ID, op
	if skbDebugPanic {
		panic(&SKBError{Op: op, ID: s.ID, Kind: kind})
	}
}

// skbCheck is the cheap use-after-free check of the entry points that take
// an skb: it reports whether s is live, and records the fault if not.
func (k *Kernel) skbCheck(s *SKB, op string) bool {
	if s.gen&1 != 0 {
		return true
	}
	k.skbFault(s, op, false)
	return false
}

// SKBValid reports whether s is still the skb of generation gen (a holder's
// check that it was not freed and reused meanwhile).
func SKBValid(s *SKB, gen uint32) bool { return s != nil && s.gen == gen && gen&1 != 0 }

// AllocSKB is netdev_alloc_skb / napi_alloc_skb / alloc_skb: an empty SKB
// with room for size bytes after NET_SKB_PAD+NET_IP_ALIGN of headroom.
func (k *Kernel) AllocSKB(size int) *SKB {
	d := k.allocDataRoom(size)
	s := k.allocStruct()
	gen := s.gen
	*s = SKB{buf: d.buf, data: d, gen: gen + 1, users: 1, k: k, MACHeader: -1, NetHeader: -1, TransHeader: -1, truesize: len(d.buf) + SKBOverhead}
	s.ID = k.nextPktID()
	s.Reserve(NET_SKB_PAD + NET_IP_ALIGN)
	return s
}

// allocDataRoom takes a buffer of the smallest class with room bytes after
// the headroom (one of its own beyond the largest class).
func (k *Kernel) allocDataRoom(room int) *skbData {
	room = max(room, 0)
	for i, n := range skbClasses {
		if room <= n {
			return k.allocData(i, room)
		}
	}
	return k.allocData(-1, room)
}

// allocData takes a buffer of class cl (room bytes after the headroom for
// an unpooled one) with a dataref of 1.
func (k *Kernel) allocData(cl, room int) *skbData {
	var d *skbData
	if cl >= 0 {
		d = k.skbs.data[cl].pop()
		room = skbClasses[cl]
	}
	if d == nil {
		d = &skbData{buf: make([]byte, NET_SKB_PAD+NET_IP_ALIGN+room), class: int8(cl)}
		k.skbs.allocs++
	}
	d.dataref = 1
	return d
}

// allocStruct takes a free sk_buff struct (kmem_cache_alloc of
// skbuff_head_cache) and counts it live.
func (k *Kernel) allocStruct() *SKB {
	s := k.skbs.structs.pop()
	if s == nil {
		s = &SKB{}
		k.skbs.all = append(k.skbs.all, s)
	}
	k.skbs.inUse++
	return s
}

// putData drops one reference to d (skb_release_data): the last one puts
// the buffer back on its class's free list.
func (k *Kernel) putData(d *skbData) {
	d.dataref--
	if d.dataref == 0 && d.class >= 0 {
		k.skbs.data[d.class].push(d)
	}
}

// SKBClone is skb_clone(): a second sk_buff for s's data. The clone shares
// the buffer (dataref counts both) and copies s's header fields and cb; it
// has its own ID and no owner socket or destructor. Neither may write the
// shared bytes without SKBCowHead. A freed s is a use after free: counted,
// nil returned.
func (k *Kernel) SKBClone(s *SKB) *SKB {
	if !k.skbCheck(s, "skb_clone") {
		return nil
	}
	c := k.allocStruct()
	gen := c.gen
	*c = *s
	c.gen = gen + 1
	c.users = 1
	c.ID = k.nextPktID()
	c.Next, c.Sk, c.Destructor = nil, nil, nil
	s.data.dataref++
	k.tracePoint(k.cur, "skb_clone", s.ID, int64(c.ID))
	return c
}

// Cloned is skb_cloned(): whether the data is shared with a clone.
func (s *SKB) Cloned() bool { return s.data != nil && s.data.dataref > 1 }

// SKBCowHead is skb_cow_head(): make s's data its own (copying it out of a
// buffer shared with clones) with at least headroom bytes before Data, so
// that headers may be written or pushed. Header offsets move with the
// data. It reports false, leaving s as it was, for a freed skb.
func (k *Kernel) SKBCowHead(s *SKB, headroom int) bool {
	if !k.skbCheck(s, "skb_cow_head") {
		return false
	}
	if !s.Cloned() && headroom <= s.head {
		return true
	}
	h := max(headroom, s.head)
	tail := s.Tailroom()
	d := k.allocDataRoom(h + len(s.Data) + tail - NET_SKB_PAD - NET_IP_ALIGN)
	copy(d.buf[h:], s.Data)
	shift := h - s.head
	for _, off := range []*int{&s.MACHeader, &s.NetHeader, &s.TransHeader} {
		if *off >= 0 {
			*off += shift
		}
	}
	k.putData(s.data)
	s.data, s.buf, s.head = d, d.buf, h
	s.Data = d.buf[h : h+len(s.Data)]
	k.tracePoint(k.cur, "skb_cow_head", s.ID, int64(headroom))
	return true
}

// SKBGet is skb_get(): take another reference to s (skb->users), which
// its holder drops with KfreeSKB or ConsumeSKB like any other; the skb is
// freed when the last reference goes. A freed s is a use after free:
// counted, nil returned.
func (k *Kernel) SKBGet(s *SKB) *SKB {
	if !k.skbCheck(s, "skb_get") {
		return nil
	}
	s.users++
	return s
}

// Shared is skb_shared(): whether more than one reference holds the skb
// (then none of its holders may change it).
func (s *SKB) Shared() bool { return s.users > 1 }

// Users is refcount_read(&skb->users).
func (s *SKB) Users() int { return int(s.users) }

// SKBShareCheck is skb_share_check(): a handler that will change an skb
// others also hold gets a clone of its own (its reference to s dropped,
// consume_skb); an skb only it holds comes back as it is. A freed s is a
// use after free: counted, nil returned.
func (k *Kernel) SKBShareCheck(s *SKB) *SKB {
	if !k.skbCheck(s, "skb_share_check") {
		return nil
	}
	if !s.Shared() {
		return s
	}
	c := k.SKBClone(s)
	k.ConsumeSKB(s)
	return c
}

// skbUnref is skb_unref(): drop one reference; it reports whether that was
// the last (the skb must now be freed).
func (s *SKB) skbUnref() bool {
	if s.users > 1 {
		s.users--
		return false
	}
	return true
}

// ConsumeSKB is consume_skb(): drop a reference to an SKB that was used as
// intended, freeing it with the last.
func (k *Kernel) ConsumeSKB(s *SKB) {
	if s == nil {
		return
	}
	if s.gen&1 == 0 {
		k.skbFault(s, "consume_skb", true)
		return
	}
	if !s.skbUnref() {
		return
	}
	k.tracePoint(k.cur, "consume_skb", s.ID, 0)
	k.freeSKB(s)
}

// KfreeSKB is kfree_skb_reason(): drop a reference to a dropped SKB; the
// last one frees it and counts the reason.
func (k *Kernel) KfreeSKB(s *SKB, reason DropReason) {
	if s == nil {
		return
	}
	if s.gen&1 == 0 {
		k.skbFault(s, "kfree_skb", true)
		return
	}
	if !s.skbUnref() {
		return
	}
	if reason < 0 || reason >= numDropReasons {
		reason = SKB_DROP_REASON_NOT_SPECIFIED
	}
	k.Drops.Reason[reason]++
	k.tracePoint(k.cur, "kfree_skb", s.ID, int64(reason))
	k.freeSKB(s)
}

// freeSKB is kfree_skbmem(): the skb goes back to the pool, with its
// references cleared (device, list linkage, data view) so that a stale user
// finds nothing. A free of an skb that is not live is a double free: counted,
// and the skb is not put on the free list a second time.
func (k *Kernel) freeSKB(s *SKB) {
	if s.gen&1 == 0 {
		k.skbFault(s, "kfree_skbmem", true)
		return
	}
	if d := s.Destructor; d != nil {
		s.Destructor = nil
		d(s) // skb_release_head_state
	}
	s.gen++
	s.users = 0
	k.skbs.inUse--
	s.Sk = nil
	s.Dev = nil
	s.Next = nil
	s.Data = nil
	d := s.data
	s.data, s.buf, s.head = nil, nil, 0
	k.putData(d)
	k.skbs.structs.push(s)
}

// SKBsInUse is the number of SKBs allocated and not freed: a leak check.
func (k *Kernel) SKBsInUse() int { return k.skbs.inUse }

// SKBAudit is the exact lifetime check for tests: nil when no skb is live,
// none was freed twice or used after it was freed and none was pushed or put
// beyond its buffer; otherwise an error
// naming what is wrong (the IDs of up to eight live skbs).
func (k *Kernel) SKBAudit() error {
	d := &k.Drops.SKB
	if k.skbs.inUse == 0 && d.DoubleFree == 0 && d.UseAfterFree == 0 && d.Overflow == 0 {
		return nil
	}
	msg := "kernelmodel: skb audit:"
	if k.skbs.inUse != 0 {
		msg += " " + itoa(k.skbs.inUse) + " live"
		n := 0
		for _, s := range k.skbs.all {
			if s.gen&1 != 0 && n < 8 {
				if n == 0 {
					msg += " (ids"
				}
				msg += " " + utoa(s.ID)
				n++
			}
		}
		if n > 0 {
			msg += ")"
		}
	}
	if d.DoubleFree != 0 {
		msg += ", " + utoa(d.DoubleFree) + " double free"
	}
	if d.UseAfterFree != 0 {
		msg += ", " + utoa(d.UseAfterFree) + " use after free"
	}
	if d.Overflow != 0 {
		msg += ", " + utoa(d.Overflow) + " push/put beyond the buffer"
	}
	if d.LastOp != "" {
		msg += " (last: skb " + utoa(d.LastID) + " in " + d.LastOp + ")"
	}
	return errors.New(msg)
}

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

// Tail is skb_peek_tail(): the last skb, or nil.
func (q *SKBHead) Tail() *SKB { return q.tail }

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
	SKB_DROP_REASON_OTHERHOST       // packet not for this host (PACKET_OTHERHOST)
	SKB_DROP_REASON_IP_CSUM         // IPv4 header checksum error
	SKB_DROP_REASON_IP_INHDR        // IPv4 header error: version, IHL, length
	SKB_DROP_REASON_IP_NOPROTO      // no handler for the IP protocol
	SKB_DROP_REASON_IP_INADDRERRORS // destination not local and not forwarded
	SKB_DROP_REASON_IP_INNOROUTES   // no route for the destination (receive)
	SKB_DROP_REASON_IP_OUTNOROUTES  // no route for the destination (output)
	SKB_DROP_REASON_NEIGH_CREATEFAIL
	SKB_DROP_REASON_NEIGH_FAILED    // neighbour resolution failed
	SKB_DROP_REASON_NEIGH_QUEUEFULL // unresolved queue (unres_qlen_bytes) full
	SKB_DROP_REASON_NEIGH_DEAD
	SKB_DROP_REASON_ICMP_CSUM      // ICMP checksum error
	SKB_DROP_REASON_INVALID_PROTO  // a packet the protocol refuses (broadcast echo)
	SKB_DROP_REASON_PKT_TOO_BIG    // larger than the MTU, fragmentation not possible
	SKB_DROP_REASON_SOCKET_RCVBUFF // socket receive buffer full
	SKB_DROP_REASON_UDP_CSUM       // UDP checksum error

	// TCP's (Linux 6.1's enum, those the model's TCP hits).
	SKB_DROP_REASON_TCP_CSUM             // TCP checksum error
	SKB_DROP_REASON_PROTO_MEM            // the protocol's memory limit (tcp_try_rmem_schedule)
	SKB_DROP_REASON_TCP_FLAGS            // TCP flags invalid
	SKB_DROP_REASON_TCP_ZEROWINDOW       // data in sequence while the receive window is zero
	SKB_DROP_REASON_TCP_OLD_DATA         // data already received (a retransmission)
	SKB_DROP_REASON_TCP_OVERWINDOW       // data beyond the receive window
	SKB_DROP_REASON_TCP_OFOMERGE         // data already in the out-of-order queue
	SKB_DROP_REASON_TCP_RFC7323_PAWS     // PAWS check failed
	SKB_DROP_REASON_TCP_INVALID_SEQUENCE // sequence number not acceptable
	SKB_DROP_REASON_TCP_RESET            // an invalid RST, or one to a listener
	SKB_DROP_REASON_TCP_INVALID_SYN      // a SYN in a synchronized state (challenge ACK)
	SKB_DROP_REASON_TCP_CLOSE            // a segment for a socket in CLOSE
	SKB_DROP_REASON_TCP_TOO_OLD_ACK      // ACK older than a window before snd_una
	SKB_DROP_REASON_TCP_ACK_UNSENT_DATA  // ACK of data not yet sent
	SKB_DROP_REASON_TCP_OFO_DROP         // out-of-order data already on the receive queue

	SKB_DROP_REASON_NETFILTER_DROP // a netfilter hook's NF_DROP
	numDropReasons
)

var dropReasonNames = [numDropReasons]string{
	"NOT_SPECIFIED", "NO_SOCKET", "PKT_TOO_SMALL", "UNHANDLED_PROTO", "CPU_BACKLOG",
	"DEV_READY", "FULL_RING", "QDISC_DROP", "DEV_HDR", "NOMEM",
	"OTHERHOST", "IP_CSUM", "IP_INHDR", "IP_NOPROTO", "IP_INADDRERRORS", "IP_INNOROUTES",
	"IP_OUTNOROUTES", "NEIGH_CREATEFAIL", "NEIGH_FAILED", "NEIGH_QUEUEFULL", "NEIGH_DEAD",
	"ICMP_CSUM", "INVALID_PROTO", "PKT_TOO_BIG",
	"SOCKET_RCVBUFF", "UDP_CSUM",
	"TCP_CSUM", "PROTO_MEM", "TCP_FLAGS", "TCP_ZEROWINDOW", "TCP_OLD_DATA", "TCP_OVERWINDOW",
	"TCP_OFOMERGE", "TCP_RFC7323_PAWS", "TCP_INVALID_SEQUENCE", "TCP_RESET", "TCP_INVALID_SYN",
	"TCP_CLOSE", "TCP_TOO_OLD_ACK", "TCP_ACK_UNSENT_DATA", "TCP_OFO_DROP",
	"NETFILTER_DROP",
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
	SKB    SKBDebug
}
