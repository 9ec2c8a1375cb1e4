package kernelmodel

import (
	"fmt"
	"io"
	"math"
	"strconv"
)

// Qdisc is a struct Qdisc with its Qdisc_ops: a queueing discipline on a
// TX queue. Enqueue takes skb (NET_XMIT_SUCCESS) or drops it onto toFree
// (qdisc_drop: NET_XMIT_DROP, drops counted), which the caller frees with
// SKB_DROP_REASON_QDISC_DROP; Dequeue and Peek take and show the next skb;
// Reset frees everything queued. Implementations embed QdiscCommon, which
// carries the state every qdisc shares (the run and schedule bits, the
// requeue list, the stats) and provides Common.
type Qdisc interface {
	Kind() string // Qdisc_ops.id: "pfifo_fast", "noqueue", "mq", "noop"
	Enqueue(skb *SKB, toFree *SKBHead) int
	Dequeue() *SKB
	Peek() *SKB
	Reset()
	Common() *QdiscCommon
}

// QdiscStats are a qdisc's counters as tc -s qdisc prints them:
// "Sent B bytes P pkt (dropped D, overlimits O requeues R)" and
// "backlog Bb Qp".
type QdiscStats struct {
	Bytes, Packets uint64 // gnet_stats_basic: Sent
	Drops          uint64 // gnet_stats_queue.drops
	Overlimits     uint64
	Requeues       uint64
	Backlog        uint64 // bytes queued (qdisc_pkt_len)
	Qlen           int    // packets queued, requeued ones included
}

// Qdisc flags (TCQ_F_*, include/net/sch_generic.h).
const (
	TCQ_F_BUILTIN    = 0x1
	TCQ_F_CAN_BYPASS = 0x4
	TCQ_F_MQROOT     = 0x8
	TCQ_F_ONETXQUEUE = 0x10
	TCQ_F_NOPARENT   = 0x40
	TCQ_F_NOLOCK     = 0x100
)

// Qdisc state bits (__QDISC_STATE_*).
const (
	qdiscStateSched       = 1 << iota // on a CPU's output_queue
	qdiscStateDeactivated             // replaced by noop (dev_deactivate)
	qdiscStateMissed                  // a run was wanted while one ran: run again
	qdiscStateDraining                // the queue was found stopped with packets left
)

// TC_PRIO_* (include/uapi/linux/pkt_sched.h): skb->priority classes.
const (
	TC_PRIO_BESTEFFORT       = 0
	TC_PRIO_FILLER           = 1
	TC_PRIO_BULK             = 2
	TC_PRIO_INTERACTIVE_BULK = 4
	TC_PRIO_INTERACTIVE      = 6
	TC_PRIO_CONTROL          = 7
	TC_PRIO_MAX              = 15
)

// QdiscCommon is the part of struct Qdisc every discipline shares.
type QdiscCommon struct {
	Handle, Parent uint32 // tc handles (major:minor); 0 for default qdiscs
	Stats          QdiscStats

	flags      uint32
	state      uint32
	running    bool    // qdisc_run_begin: the seqlock / __QDISC_STATE2_RUNNING
	noEnqueue  bool    // noqueue: q->enqueue == NULL
	gsoSkb     SKBHead // dev_requeue_skb'd packets, sent before the queue's own
	nextSched  Qdisc   // output_queue linkage
	devQueue   *TxQueue
	self       Qdisc
	refcnt     int
	parentRoot bool
}

// Common returns the shared part.
func (q *QdiscCommon) Common() *QdiscCommon { return q }

// Flags are the TCQ_F_* flags.
func (q *QdiscCommon) Flags() uint32 { return q.flags }

// init ties the common part to its qdisc and queue.
func (q *QdiscCommon) init(self Qdisc, txq *TxQueue, flags uint32) {
	q.self, q.devQueue, q.flags, q.refcnt = self, txq, flags, 1
}

// empty is nolock_qdisc_is_empty()/!qdisc_qlen(): nothing queued, requeued
// packets included.
func (q *QdiscCommon) empty() bool { return q.Stats.Qlen == 0 }

// enqueued is qdisc_update_stats_at_enqueue().
func (q *QdiscCommon) enqueued(skb *SKB) {
	q.Stats.Backlog += uint64(skb.pktLen)
	q.Stats.Qlen++
}

// dequeued is qdisc_update_stats_at_dequeue(): backlog and qlen down, the
// Sent counters up (a GSO skb counts its segments).
func (q *QdiscCommon) dequeued(skb *SKB) {
	q.Stats.Backlog -= uint64(skb.pktLen)
	q.Stats.Qlen--
	q.bstatsUpdate(skb)
}

// bstatsUpdate is qdisc_bstats_update(): count skb as sent.
func (q *QdiscCommon) bstatsUpdate(skb *SKB) {
	q.Stats.Bytes += uint64(skb.pktLen)
	q.Stats.Packets += uint64(skbGSOSegs(skb))
}

// qdiscDrop is qdisc_drop(): count the drop and put skb on toFree.
func (q *QdiscCommon) qdiscDrop(skb *SKB, toFree *SKBHead) int {
	q.Stats.Drops++
	toFree.QueueTail(skb)
	return NET_XMIT_DROP
}

// purge frees every skb of l (__skb_queue_purge).
func purge(k *Kernel, l *SKBHead) {
	for s := l.Dequeue(); s != nil; s = l.Dequeue() {
		k.KfreeSKB(s, SKB_DROP_REASON_QDISC_DROP)
	}
}

// prio2band is pfifo_fast's priomap: the band of each TC_PRIO_* class
// (band 0 is served first).
var prio2band = [TC_PRIO_MAX + 1]uint8{1, 2, 2, 2, 1, 2, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1}

// pfifoFastBands is PFIFO_FAST_BANDS.
const pfifoFastBands = 3

// PfifoFast is pfifo_fast (net/sched/sch_generic.c), the default qdisc:
// three FIFO bands, skb->priority picking the band through prio2band, band
// 0 emptied first, each band holding at most the device's tx_queue_len
// packets (a full band drops: qdisc_drop). Lockless in Linux
// (TCQ_F_NOLOCK) and bypassed when empty (TCQ_F_CAN_BYPASS).
type PfifoFast struct {
	QdiscCommon
	k     *Kernel
	bands [pfifoFastBands]SKBHead
	limit int // per band: tx_queue_len
}

func newPfifoFast(k *Kernel, txq *TxQueue, limit int) *PfifoFast {
	q := &PfifoFast{k: k, limit: limit}
	q.init(q, txq, TCQ_F_NOLOCK|TCQ_F_CAN_BYPASS)
	return q
}

// Kind is "pfifo_fast".
func (q *PfifoFast) Kind() string { return "pfifo_fast" }

// Enqueue is pfifo_fast_enqueue().
func (q *PfifoFast) Enqueue(skb *SKB, toFree *SKBHead) int {
	b := &q.bands[prio2band[skb.Priority&TC_PRIO_MAX]]
	if b.Len() >= q.limit {
		return q.qdiscDrop(skb, toFree)
	}
	b.QueueTail(skb)
	q.enqueued(skb)
	return NET_XMIT_SUCCESS
}

// Dequeue is pfifo_fast_dequeue(). Finding nothing clears MISSED and
// DRAINING (6.1 does it there, so a run that emptied the qdisc does not
// reschedule itself).
func (q *PfifoFast) Dequeue() *SKB {
	for i := range q.bands {
		if s := q.bands[i].Dequeue(); s != nil {
			q.dequeued(s)
			return s
		}
	}
	q.state &^= qdiscStateMissed | qdiscStateDraining
	return nil
}

// Peek is pfifo_fast_peek().
func (q *PfifoFast) Peek() *SKB {
	for i := range q.bands {
		if s := q.bands[i].head; s != nil {
			return s
		}
	}
	return nil
}

// Reset is pfifo_fast_reset(): free every band.
func (q *PfifoFast) Reset() {
	for i := range q.bands {
		purge(q.k, &q.bands[i])
	}
	q.Stats.Qlen, q.Stats.Backlog = q.gsoSkb.Len(), 0
}

// BandLen is the number of packets in band i.
func (q *PfifoFast) BandLen(i int) int { return q.bands[i].Len() }

func (q *PfifoFast) dumpOptions() string {
	s := "bands 3 priomap"
	for _, b := range prio2band {
		s += " " + strconv.Itoa(int(b))
	}
	return s
}

// Noqueue is noqueue, the qdisc of virtual devices (IFF_NO_QUEUE:
// loopback): it has no enqueue, so dev_queue_xmit hands each skb straight
// to the driver.
type Noqueue struct{ QdiscCommon }

func newNoqueue(txq *TxQueue) *Noqueue {
	q := &Noqueue{}
	q.init(q, txq, 0)
	q.noEnqueue = true
	return q
}

// Kind is "noqueue".
func (q *Noqueue) Kind() string { return "noqueue" }

// Enqueue is never called (noqueue has none); it drops.
func (q *Noqueue) Enqueue(skb *SKB, toFree *SKBHead) int { return q.qdiscDrop(skb, toFree) }

// Dequeue returns nil.
func (q *Noqueue) Dequeue() *SKB { return nil }

// Peek returns nil.
func (q *Noqueue) Peek() *SKB { return nil }

// Reset does nothing.
func (q *Noqueue) Reset() {}

// Noop is noop_qdisc: what a TX queue has while its device is down
// (dev_deactivate). It drops everything and reports NET_XMIT_CN.
type Noop struct{ QdiscCommon }

func newNoop(txq *TxQueue) *Noop {
	q := &Noop{}
	q.init(q, txq, TCQ_F_BUILTIN)
	return q
}

// Kind is "noop".
func (q *Noop) Kind() string { return "noop" }

// Enqueue is noop_enqueue(): __qdisc_drop, NET_XMIT_CN.
func (q *Noop) Enqueue(skb *SKB, toFree *SKBHead) int {
	toFree.QueueTail(skb)
	return NET_XMIT_CN
}

// Dequeue returns nil.
func (q *Noop) Dequeue() *SKB { return nil }

// Peek returns nil.
func (q *Noop) Peek() *SKB { return nil }

// Reset does nothing.
func (q *Noop) Reset() {}

// MQ is mq (net/sched/sch_mq.c), the root of a multi-queue device: one
// child qdisc (pfifo_fast) per TX queue, each on its queue; mq itself
// queues nothing and its stats are the sum of its children's (mq_dump).
type MQ struct {
	QdiscCommon
	Children []Qdisc
}

// Kind is "mq".
func (q *MQ) Kind() string { return "mq" }

// Enqueue is never called (mq has none); it drops.
func (q *MQ) Enqueue(skb *SKB, toFree *SKBHead) int { return q.qdiscDrop(skb, toFree) }

// Dequeue returns nil.
func (q *MQ) Dequeue() *SKB { return nil }

// Peek returns nil.
func (q *MQ) Peek() *SKB { return nil }

// Reset does nothing (dev_deactivate resets the children).
func (q *MQ) Reset() {}

// Common returns the shared part, with the stats summed over the children
// (mq_dump).
func (q *MQ) Common() *QdiscCommon {
	var s QdiscStats
	for _, c := range q.Children {
		cs := &c.Common().Stats
		s.Bytes += cs.Bytes
		s.Packets += cs.Packets
		s.Drops += cs.Drops
		s.Overlimits += cs.Overlimits
		s.Requeues += cs.Requeues
		s.Backlog += cs.Backlog
		s.Qlen += cs.Qlen
	}
	q.Stats = s
	return &q.QdiscCommon
}

// skbGSOSegs is what the Sent counter adds for skb: its GSO segments, or 1.
func skbGSOSegs(skb *SKB) int {
	if skb.GSOSize == 0 {
		return 1
	}
	l := len(skb.Data) - skbGSOHdrLen(skb)
	if l <= 0 {
		return 1
	}
	return (l + int(skb.GSOSize) - 1) / int(skb.GSOSize)
}

// skbGSOHdrLen is the header length each GSO segment repeats (from the
// start of the data to the end of the TCP or UDP header), 0 when the
// transport header is not set.
func skbGSOHdrLen(skb *SKB) int {
	th := skb.TransHeader - skb.head
	if skb.TransHeader < 0 || th < 0 || th >= len(skb.Data) {
		return 0
	}
	if skb.GSOType&SKB_GSO_UDP != 0 {
		return th + 8
	}
	if th+13 > len(skb.Data) {
		return 0
	}
	return th + int(skb.Data[th+12]>>4)*4
}

// qdiscPktLenInit is qdisc_pkt_len_init(): the length the qdisc counts is
// skb->len, plus for a GSO skb the headers its further segments will carry.
func qdiscPktLenInit(skb *SKB) {
	n := len(skb.Data)
	if skb.GSOSize != 0 {
		if h := skbGSOHdrLen(skb); h > 0 {
			n += (skbGSOSegs(skb) - 1) * h
		}
	}
	skb.pktLen = uint32(n)
}

// attachDefaultQdiscs is attach_default_qdiscs(): a device with IFF_NO_QUEUE
// or no tx_queue_len gets noqueue; a single-queue device pfifo_fast as root;
// a multi-queue device mq with a pfifo_fast per queue. Each queue's qdisc
// is its qdisc_sleeping until dev_activate makes it the active one.
func (k *Kernel) attachDefaultQdiscs(d *NetDevice) {
	noqueue := d.PrivFlags&IFF_NO_QUEUE != 0 || d.TxQueueLen == 0
	if noqueue || len(d.tx) == 1 {
		for i := range d.tx {
			txq := &d.tx[i]
			var q Qdisc
			if noqueue {
				q = newNoqueue(txq)
			} else {
				q = newPfifoFast(k, txq, d.TxQueueLen)
				q.Common().flags |= TCQ_F_ONETXQUEUE | TCQ_F_NOPARENT
			}
			q.Common().parentRoot = true
			q.Common().refcnt = 2
			txq.qdiscSleeping = q
		}
		d.qdisc = d.tx[0].qdiscSleeping
		return
	}
	m := &MQ{}
	m.init(m, nil, TCQ_F_MQROOT)
	m.parentRoot = true
	for i := range d.tx {
		txq := &d.tx[i]
		q := newPfifoFast(k, txq, d.TxQueueLen)
		q.flags |= TCQ_F_ONETXQUEUE | TCQ_F_NOPARENT
		q.Parent = uint32(i + 1) // TC_H_MAKE(major of mq, ntx + 1)
		txq.qdiscSleeping = q
		m.Children = append(m.Children, q)
	}
	d.qdisc = m
}

// devActivate is dev_activate(): attach the default qdiscs the first time,
// then make each queue's qdisc_sleeping its active qdisc
// (transition_one_qdisc), and start the transmit watchdog (trans_start
// stamps fresh, dev_watchdog_up). Linux waits for the carrier (linkwatch);
// the model activates at once, and the watchdog, which looks at the
// carrier, starts again at netif_carrier_on.
func (k *Kernel) devActivate(d *NetDevice) {
	if d.qdisc == nil {
		k.attachDefaultQdiscs(d)
	}
	for i := range d.tx {
		txq := &d.tx[i]
		q := txq.qdiscSleeping
		q.Common().state &^= qdiscStateDeactivated
		txq.qdisc = q
	}
	k.devWatchdogActivate(d)
}

// devDeactivate is dev_deactivate(): every queue gets noop_qdisc (which
// drops) and its own qdisc is marked deactivated and reset: what it held is
// freed (qdisc_reset, with the requeued packets); the transmit watchdog
// stops (dev_watchdog_down).
func (k *Kernel) devDeactivate(d *NetDevice) {
	d.devWatchdogDown()
	for i := range d.tx {
		txq := &d.tx[i]
		if txq.qdiscSleeping == nil {
			continue
		}
		if txq.noop == nil {
			txq.noop = newNoop(txq)
		}
		txq.qdisc = txq.noop
		q := txq.qdiscSleeping
		qc := q.Common()
		qc.state |= qdiscStateDeactivated
		q.Reset()
		purge(k, &qc.gsoSkb)
		qc.Stats.Qlen, qc.Stats.Backlog = 0, 0
		qc.state &^= qdiscStateMissed | qdiscStateDraining
	}
}

// Qdisc is dev->qdisc, the device's root qdisc (nil until the device is
// first opened).
func (d *NetDevice) Qdisc() Qdisc { return d.qdisc }

// Qdisc is the queue's active qdisc (txq->qdisc): noop while the device is
// down, nil before it was first opened.
func (q *TxQueue) Qdisc() Qdisc { return q.qdisc }

// devXmitSKB is __dev_xmit_skb(): enqueue skb on q and run q. An empty,
// idle bypass qdisc (pfifo_fast) sends skb straight to the driver
// (sch_direct_xmit) without queueing it; what the qdisc dropped is freed
// (SKB_DROP_REASON_QDISC_DROP).
func (k *Kernel) devXmitSKB(c *CPU, skb *SKB, q Qdisc, d *NetDevice, txq *TxQueue) int {
	qc := q.Common()
	toFree := &c.Softnet.qdiscToFree
	k.Charge(k.Cost.Qdisc)
	var rc int
	if qc.flags&TCQ_F_NOLOCK != 0 {
		if qc.flags&TCQ_F_CAN_BYPASS != 0 && qc.empty() && k.qdiscRunBegin(q) {
			qc.bstatsUpdate(skb)
			if k.schDirectXmit(c, skb, q, d, txq, true) && !qc.empty() {
				k.qdiscRunLoop(c, q)
			}
			k.qdiscRunEnd(c, q)
			return NET_XMIT_SUCCESS
		}
		rc = k.devQdiscEnqueue(c, skb, q, toFree)
		k.qdiscRun(c, q)
	} else {
		switch {
		case qc.state&qdiscStateDeactivated != 0:
			toFree.QueueTail(skb)
			rc = NET_XMIT_DROP
		case qc.flags&TCQ_F_CAN_BYPASS != 0 && qc.empty() && k.qdiscRunBegin(q):
			qc.bstatsUpdate(skb)
			if k.schDirectXmit(c, skb, q, d, txq, true) {
				k.qdiscRunLoop(c, q)
			}
			k.qdiscRunEnd(c, q)
			rc = NET_XMIT_SUCCESS
		default:
			rc = k.devQdiscEnqueue(c, skb, q, toFree)
			k.qdiscRun(c, q)
		}
	}
	for s := toFree.Dequeue(); s != nil; s = toFree.Dequeue() {
		k.KfreeSKB(s, SKB_DROP_REASON_QDISC_DROP)
	}
	return rc
}

// devQdiscEnqueue is dev_qdisc_enqueue() with trace_qdisc_enqueue.
func (k *Kernel) devQdiscEnqueue(c *CPU, skb *SKB, q Qdisc, toFree *SKBHead) int {
	id := skb.ID
	rc := q.Enqueue(skb, toFree)
	k.tracePoint(c, "qdisc_enqueue", id, int64(rc))
	return rc
}

// qdiscRunBegin is qdisc_run_begin(): take the qdisc's run ownership. A
// lockless qdisc already running gets MISSED instead, so that its runner
// goes on (qdisc_run_end reschedules it).
func (k *Kernel) qdiscRunBegin(q Qdisc) bool {
	qc := q.Common()
	if !qc.running {
		qc.running = true
		return true
	}
	if qc.flags&TCQ_F_NOLOCK != 0 {
		qc.state |= qdiscStateMissed
	}
	return false
}

// qdiscRunEnd is qdisc_run_end(): give the run back; a lockless qdisc that
// was MISSED meanwhile is rescheduled (__netif_schedule).
func (k *Kernel) qdiscRunEnd(c *CPU, q Qdisc) {
	qc := q.Common()
	qc.running = false
	if qc.flags&TCQ_F_NOLOCK != 0 && qc.state&qdiscStateMissed != 0 {
		k.netifSchedule(c, q)
	}
}

// qdiscRun is qdisc_run().
func (k *Kernel) qdiscRun(c *CPU, q Qdisc) {
	if k.qdiscRunBegin(q) {
		k.qdiscRunLoop(c, q)
		k.qdiscRunEnd(c, q)
	}
}

// TxWeight is dev_tx_weight: __qdisc_run's dequeue quota, weight_p
// (net.core.dev_weight) times net.core.dev_weight_tx_bias.
func (k *Kernel) TxWeight() int { return k.Sysctl.DevWeight * k.Sysctl.DevWeightTxBias }

// qdiscRunLoop is __qdisc_run(): send until the qdisc is empty, the queue
// stops or the quota (dev_tx_weight packets) is used; then the rest is
// left to NET_TX (MISSED for a lockless qdisc, which qdisc_run_end turns
// into __netif_schedule).
func (k *Kernel) qdiscRunLoop(c *CPU, q Qdisc) {
	quota := k.TxWeight()
	for {
		more, packets := k.qdiscRestart(c, q)
		if !more {
			return
		}
		quota -= packets
		if quota <= 0 {
			if q.Common().flags&TCQ_F_NOLOCK != 0 {
				q.Common().state |= qdiscStateMissed
			} else {
				k.netifSchedule(c, q)
			}
			k.tracePoint(c, "__qdisc_run quota", 0, int64(k.TxWeight()))
			return
		}
	}
}

// qdiscRestart is qdisc_restart(): dequeue (a bulk of) packets and send
// them. It reports whether the qdisc may have more to send, and how many
// packets it dequeued.
func (k *Kernel) qdiscRestart(c *CPU, q Qdisc) (bool, int) {
	skb, validate, packets := k.dequeueSKB(c, q)
	if skb == nil {
		return false, 0
	}
	d := skb.Dev
	txq := &d.tx[int(skb.QueueMapping)%len(d.tx)]
	return k.schDirectXmit(c, skb, q, d, txq, validate), packets
}

// maybeClearMissed is qdisc_maybe_clear_missed(): the queue is stopped, so
// stop asking for runs (DRAINING notes the packets left); netif_tx_wake_queue
// will schedule the qdisc again.
func (q *QdiscCommon) maybeClearMissed(txq *TxQueue) {
	q.state &^= qdiscStateMissed
	if !txq.frozenOrStopped() {
		q.state |= qdiscStateMissed
	} else {
		q.state |= qdiscStateDraining
	}
}

// dequeueSKB is dequeue_skb(): a requeued packet first if its queue runs
// again; otherwise, if the queue is not stopped, the qdisc's next packet
// and, for a one-queue qdisc, as many more as the queue's byte limit has
// room for (try_bulk_dequeue_skb, chained through Next). validate is false
// for requeued packets (already validated).
func (k *Kernel) dequeueSKB(c *CPU, q Qdisc) (skb *SKB, validate bool, packets int) {
	qc := q.Common()
	txq := qc.devQueue
	packets = 1
	if h := qc.gsoSkb.head; h != nil {
		t := &h.Dev.tx[int(h.QueueMapping)%len(h.Dev.tx)]
		if !t.frozenOrStopped() {
			skb = qc.gsoSkb.Dequeue()
			qc.Stats.Backlog -= uint64(skb.pktLen)
			qc.Stats.Qlen--
		} else {
			qc.maybeClearMissed(t)
		}
		if skb != nil {
			k.tracePoint(c, "qdisc_dequeue", skb.ID, 1)
		}
		return skb, false, packets
	}
	if qc.flags&TCQ_F_ONETXQUEUE != 0 && txq != nil && txq.frozenOrStopped() {
		qc.maybeClearMissed(txq)
		return nil, true, packets
	}
	skb = q.Dequeue()
	if skb == nil {
		return nil, true, packets
	}
	if qc.flags&TCQ_F_ONETXQUEUE != 0 && txq != nil {
		// try_bulk_dequeue_skb: qdisc_avail_bulklimit is BQL's
		// dql_avail (0 for a driver without BQL: no bulk).
		limit := txq.DQL.Avail() - len(skb.Data)
		last := skb
		for limit > 0 {
			n := q.Dequeue()
			if n == nil {
				break
			}
			limit -= len(n.Data)
			last.Next = n
			last = n
			packets++
		}
	}
	k.tracePoint(c, "qdisc_dequeue", skb.ID, int64(packets))
	return skb, true, packets
}

// schDirectXmit is sch_direct_xmit(): validate the packets (GSO, checksum)
// and, unless the queue is stopped, hand them to the driver. What the driver
// did not take (NETDEV_TX_BUSY, or a stopped queue) is requeued and false
// returned; true means the qdisc may go on.
func (k *Kernel) schDirectXmit(c *CPU, skb *SKB, q Qdisc, d *NetDevice, txq *TxQueue, validate bool) bool {
	if validate {
		skb = k.validateXmitSKBList(skb, d)
		if skb == nil {
			return true
		}
	}
	rc := int(NETDEV_TX_BUSY)
	if !txq.frozenOrStopped() {
		skb, rc = k.devHardStartXmit(skb, d, txq)
	} else {
		q.Common().maybeClearMissed(txq)
	}
	if !DevXmitComplete(rc) {
		k.devRequeueSKB(c, skb, q)
		return false
	}
	return true
}

// devRequeueSKB is dev_requeue_skb(): put the chain skb back at the head of
// the qdisc (its gso_skb list), still counted in its backlog and qlen, with
// a requeue counted for each. A lockless qdisc is marked MISSED (its run's
// end reschedules it); another is scheduled at once.
func (k *Kernel) devRequeueSKB(c *CPU, skb *SKB, q Qdisc) {
	qc := q.Common()
	for skb != nil {
		next := skb.Next
		k.tracePoint(c, "dev_requeue_skb", skb.ID, 0)
		qc.gsoSkb.QueueTail(skb)
		qc.Stats.Requeues++
		qc.Stats.Backlog += uint64(skb.pktLen)
		qc.Stats.Qlen++
		skb = next
	}
	if qc.flags&TCQ_F_NOLOCK != 0 {
		qc.state |= qdiscStateMissed
	} else {
		k.netifSchedule(c, q)
	}
}

// netifSchedule is __netif_schedule(): put q on this CPU's output_queue
// (once: __QDISC_STATE_SCHED) and raise NET_TX, whose net_tx_action runs it.
func (k *Kernel) netifSchedule(c *CPU, q Qdisc) {
	qc := q.Common()
	if qc.state&qdiscStateSched != 0 {
		return
	}
	qc.state |= qdiscStateSched
	sd := &c.Softnet
	qc.nextSched = nil
	if sd.outputQueueTail == nil {
		sd.outputQueue = q
	} else {
		sd.outputQueueTail.Common().nextSched = q
	}
	sd.outputQueueTail = q
	k.tracePoint(c, "__netif_schedule", 0, 0)
	c.RaiseSoftirq(NET_TX_SOFTIRQ)
}

// runOutputQueue is net_tx_action()'s second half: run every qdisc
// scheduled on this CPU (clearing SCHED first, so a qdisc may schedule
// itself again); a deactivated lockless qdisc is skipped.
func (c *CPU) runOutputQueue() {
	sd := &c.Softnet
	head := sd.outputQueue
	sd.outputQueue, sd.outputQueueTail = nil, nil
	for head != nil {
		q := head
		qc := q.Common()
		head = qc.nextSched
		qc.nextSched = nil
		qc.state &^= qdiscStateSched
		if qc.flags&TCQ_F_NOLOCK != 0 && qc.state&qdiscStateDeactivated != 0 {
			continue
		}
		c.k.qdiscRun(c, q)
	}
}

// WriteQdiscs writes tc -s qdisc show for every device: the root qdisc (and
// an mq's children), with their Sent, dropped, overlimits, requeues and
// backlog.
func (k *Kernel) WriteQdiscs(w io.Writer) error {
	for _, d := range k.devs {
		if d.qdisc == nil {
			if _, err := fmt.Fprintf(w, "qdisc noop 0: dev %s root refcnt 2\n Sent 0 bytes 0 pkt (dropped 0, overlimits 0 requeues 0)\n backlog 0b 0p requeues 0\n", d.Name); err != nil {
				return err
			}
			continue
		}
		if err := writeQdisc(w, d, d.qdisc); err != nil {
			return err
		}
		if m, ok := d.qdisc.(*MQ); ok {
			for _, c := range m.Children {
				if err := writeQdisc(w, d, c); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func writeQdisc(w io.Writer, d *NetDevice, q Qdisc) error {
	qc := q.Common()
	where := "root"
	if !qc.parentRoot {
		where = "parent :" + strconv.FormatUint(uint64(qc.Parent), 16)
	} else if _, mq := q.(*MQ); !mq {
		where += " refcnt " + strconv.Itoa(qc.refcnt)
	}
	line := "qdisc " + q.Kind() + " " + strconv.FormatUint(uint64(qc.Handle>>16), 16) + ": dev " + d.Name + " " + where
	if o, ok := q.(interface{ dumpOptions() string }); ok {
		line += " " + o.dumpOptions()
	}
	s := &qc.Stats
	_, err := fmt.Fprintf(w, "%s\n Sent %d bytes %d pkt (dropped %d, overlimits %d requeues %d)\n backlog %s %dp requeues %d\n",
		line, s.Bytes, s.Packets, s.Drops, s.Overlimits, s.Requeues, tcSize(s.Backlog), s.Qlen, s.Requeues)
	return err
}

// tcSize is tc's sprint_size: bytes as "123b", or in Kb/Mb when they are
// within 16 bytes (1 KiB) of a whole number of them.
func tcSize(b uint64) string {
	f := float64(b)
	switch {
	case f >= 1<<20 && math.Abs(1<<20*math.Round(f/(1<<20))-f) < 1024:
		return strconv.FormatFloat(math.Round(f/(1<<20)), 'g', -1, 64) + "Mb"
	case f >= 1<<10 && math.Abs(1024*math.Round(f/1024)-f) < 16:
		return strconv.FormatFloat(math.Round(f/1024), 'g', -1, 64) + "Kb"
	}
	return strconv.FormatUint(b, 10) + "b"
}
