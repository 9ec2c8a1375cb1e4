package kernelmodel

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// qdev is a driver for the qdisc tests: its ring holds ring packets (0:
// unlimited) and stops the queue when full, as a NIC driver does; the test
// completes packets (complete), which frees them, reports them to BQL when
// bql is set and wakes the queue. busy makes the next ndo_start_xmit calls
// return NETDEV_TX_BUSY without stopping the queue.
type qdev struct {
	k         *Kernel
	d         *NetDevice
	ring      int
	bql       bool
	busy      int
	inRing    []*SKB
	sent      []sent
	doorbells int
}

type sent struct {
	seq      uint64
	prio     uint32
	more     bool
	netTxRun uint64 // NET_TX runs on CPU 0 when it was sent
}

func (q *qdev) Open(t *Task) error { q.d.NetifStartQueue(); return nil }
func (q *qdev) Stop(t *Task) error {
	for _, s := range q.inRing {
		q.k.KfreeSKB(s, SKB_DROP_REASON_NOT_SPECIFIED)
	}
	q.inRing = nil
	return nil
}

func (q *qdev) StartXmit(s *SKB) NetdevTx {
	if q.busy > 0 {
		q.busy--
		return NETDEV_TX_BUSY
	}
	q.sent = append(q.sent, sent{s.Seq, s.Priority, s.XmitMore, q.k.CPU(0).SoftirqCount[NET_TX_SOFTIRQ]})
	q.inRing = append(q.inRing, s)
	if q.bql {
		q.d.NetdevSentQueue(s.Len())
	}
	if q.ring > 0 && len(q.inRing) >= q.ring {
		q.d.NetifStopQueue()
	}
	// e1000_xmit_frame's doorbell rule.
	if !s.XmitMore || q.d.TxQueue(0).XmitStopped() {
		q.doorbells++
	}
	return NETDEV_TX_OK
}

// complete frees the n oldest packets of the ring (the device sent them).
func (q *qdev) complete(n int) {
	n = min(n, len(q.inRing))
	bytes := 0
	for _, s := range q.inRing[:n] {
		bytes += s.Len()
		q.k.ConsumeSKB(s)
	}
	q.inRing = q.inRing[n:]
	if q.bql {
		q.d.NetdevCompletedQueue(n, bytes)
	}
	if q.d.NetifQueueStopped() {
		q.d.NetifWakeQueue()
	}
}

// newQdev makes an opened device (so it has its default qdisc) on a
// one-CPU kernel; setup runs before dev_open.
func newQdev(t testing.TB, setup func(q *qdev)) *qdev {
	k := New(Config{CPUs: 1})
	q := &qdev{k: k}
	q.d = k.AllocEtherdev("q0", 1, 1)
	q.d.Ops = q
	if setup != nil {
		setup(q)
	}
	if err := k.RegisterNetdev(q.d); err != nil {
		t.Fatal(err)
	}
	q.task(t, func(tk *Task) { q.d.DevOpen(tk) })
	return q
}

// task runs fn in a task on CPU 0 and the clock until it is done.
func (q *qdev) task(t testing.TB, fn func(tk *Task)) {
	tk := q.k.Spawn(0, "test", fn)
	q.k.Clock().RunWhile(func() bool { return !tk.Done() }, q.k.Clock().Now()+time.Second)
	if !tk.Done() {
		t.Fatal("task did not finish")
	}
}

// xmit sends n packets of the given priority through dev_queue_xmit and
// returns the codes.
func (q *qdev) xmit(n int, prio uint32, seq0 uint64) []int {
	rcs := make([]int, n)
	for i := range rcs {
		s := q.k.AllocSKB(100)
		s.Put(100)
		s.Dev = q.d
		s.Priority = prio
		s.Seq = seq0 + uint64(i)
		rcs[i] = q.k.DevQueueXmit(s)
	}
	return rcs
}

func (q *qdev) pfifo(t testing.TB) *PfifoFast {
	p, ok := q.d.Qdisc().(*PfifoFast)
	if !ok {
		t.Fatalf("root qdisc %T, want pfifo_fast", q.d.Qdisc())
	}
	return p
}

func (q *qdev) audit(t testing.TB) {
	t.Helper()
	q.task(t, func(tk *Task) { q.d.DevClose(tk) })
	if err := q.k.SKBAudit(); err != nil {
		t.Error(err)
	}
}

// pfifo_fast serves band 0 before band 1 before band 2, each in FIFO
// order, the band picked by prio2band from skb->priority.
func TestPfifoFastBandOrder(t *testing.T) {
	for _, tc := range []struct {
		prio uint32
		band int
	}{
		{TC_PRIO_BESTEFFORT, 1}, {TC_PRIO_FILLER, 2}, {TC_PRIO_BULK, 2}, {3, 2},
		{TC_PRIO_INTERACTIVE_BULK, 1}, {5, 2}, {TC_PRIO_INTERACTIVE, 0}, {TC_PRIO_CONTROL, 0},
		{8, 1}, {TC_PRIO_MAX, 1}, {16 + TC_PRIO_CONTROL, 0}, // only the low four bits count
	} {
		q := newQdev(t, nil)
		q.d.NetifStopQueue()
		q.xmit(2, tc.prio, 0) // the first is requeued (gso_skb), the second queued in its band
		if got := q.pfifo(t).BandLen(tc.band); got != 1 {
			t.Errorf("priority %d: band %d holds %d, want 1", tc.prio, tc.band, got)
		}
		q.complete(0)
		q.k.Clock().RunFor(time.Millisecond)
		q.audit(t)
	}

	q := newQdev(t, nil)
	q.d.NetifStopQueue()
	prios := []uint32{TC_PRIO_BULK, TC_PRIO_BESTEFFORT, TC_PRIO_CONTROL, TC_PRIO_BULK, TC_PRIO_INTERACTIVE, TC_PRIO_BESTEFFORT, 5}
	for i, p := range prios {
		q.xmit(1, p, uint64(i))
	}
	q.complete(0) // wake: NET_TX runs the qdisc
	q.k.Clock().RunFor(time.Millisecond)
	// seq 0 was dequeued (bypass) before the queue was found stopped and
	// requeued: it goes first. Then band 0 (2, 4), band 1 (1, 5), band 2
	// (3, 6).
	want := []uint64{0, 2, 4, 1, 5, 3, 6}
	if len(q.sent) != len(want) {
		t.Fatalf("sent %d, want %d", len(q.sent), len(want))
	}
	for i, s := range q.sent {
		if s.seq != want[i] {
			t.Fatalf("send order %v, want %v", q.sent, want)
		}
	}
	if st := q.pfifo(t).Stats; st.Packets != 7 || st.Bytes != 700 || st.Requeues != 1 || st.Qlen != 0 || st.Backlog != 0 {
		t.Errorf("stats %+v", st)
	}
	q.complete(len(q.inRing))
	q.audit(t)
}

// __qdisc_run sends at most dev_tx_weight (dev_weight × dev_weight_tx_bias)
// packets per run, then leaves the rest to a new NET_TX run (MISSED →
// __netif_schedule), until the qdisc is empty; the last run does not
// reschedule.
func TestQdiscQuota(t *testing.T) {
	for _, tc := range []struct {
		bias    int
		n       int
		perRun  []int
		netTxes uint64
	}{
		{1, 200, []int{64, 64, 64, 8}, 4},
		{2, 200, []int{128, 72}, 2},
		{1, 64, []int{64, 0}, 2}, // the quota runs out with the last packet: one more run finds the qdisc empty
		{1, 10, []int{10}, 1},
	} {
		q := newQdev(t, nil)
		q.k.Sysctl.Set("net.core.dev_weight_tx_bias", tc.bias)
		q.d.NetifStopQueue()
		q.xmit(tc.n, 0, 0)
		if st := q.pfifo(t).Stats; st.Qlen != tc.n {
			t.Fatalf("qlen %d, want %d", st.Qlen, tc.n)
		}
		before := q.k.CPU(0).SoftirqCount[NET_TX_SOFTIRQ]
		q.complete(0)
		q.k.Clock().RunFor(10 * time.Millisecond)
		runs := map[uint64]int{}
		for _, s := range q.sent {
			runs[s.netTxRun-before]++
		}
		for i, want := range tc.perRun {
			if runs[uint64(i+1)] != want {
				t.Errorf("bias %d, %d packets: run %d sent %d, want %d (runs %v)", tc.bias, tc.n, i+1, runs[uint64(i+1)], want, runs)
			}
		}
		if got := q.k.CPU(0).SoftirqCount[NET_TX_SOFTIRQ] - before; got != tc.netTxes || len(q.sent) != tc.n {
			t.Errorf("bias %d: %d NET_TX runs sent %d; want %d runs, %d", tc.bias, got, len(q.sent), tc.netTxes, tc.n)
		}
		q.complete(len(q.inRing))
		q.audit(t)
	}
}

// A driver that returns NETDEV_TX_BUSY gets the packet again: it is
// requeued (requeues counted, still in qlen and backlog) and sent before
// the packets behind it — by the next run of the qdisc, or by the NET_TX
// the requeue raised: from a task that one runs as dev_queue_xmit turns
// bottom halves back on (rcu_read_unlock_bh).
func TestQdiscBusyRequeue(t *testing.T) {
	for _, inTask := range []bool{false, true} {
		q := newQdev(t, nil)
		q.busy = 1
		var st QdiscStats
		var sentInCall int
		first := func() {
			q.xmit(1, 0, 0)
			st = q.pfifo(t).Stats
			sentInCall = len(q.sent)
		}
		if inTask {
			q.task(t, func(tk *Task) { first() })
			if st.Requeues != 1 || st.Qlen != 0 || sentInCall != 1 {
				t.Errorf("in a task: after the call %+v, %d sent; want the requeued packet sent at local_bh_enable", st, sentInCall)
			}
		} else {
			first()
			if st.Requeues != 1 || st.Qlen != 1 || st.Backlog != 100 || sentInCall != 0 {
				t.Errorf("after BUSY: %+v, %d sent", st, sentInCall)
			}
		}
		q.xmit(2, 0, 1)
		q.k.Clock().RunFor(time.Millisecond)
		if len(q.sent) != 3 || q.sent[0].seq != 0 || q.sent[1].seq != 1 || q.sent[2].seq != 2 {
			t.Fatalf("sent %v", q.sent)
		}
		if st := q.pfifo(t).Stats; st.Packets != 3 || st.Requeues != 1 || st.Qlen != 0 {
			t.Errorf("stats %+v", st)
		}
		q.complete(3)
		q.audit(t)
	}
}

// A queue the driver stops keeps the packets in the qdisc; the driver's
// netif_tx_wake_queue schedules the qdisc, and NET_TX sends until the
// queue stops again: nothing lost, nothing reordered.
func TestQdiscStoppedWakeRestart(t *testing.T) {
	q := newQdev(t, func(q *qdev) { q.ring = 4 })
	q.task(t, func(tk *Task) { q.xmit(10, 0, 0) })
	p := q.pfifo(t)
	if len(q.sent) != 4 || p.Stats.Qlen != 6 || p.Stats.Requeues != 1 {
		t.Fatalf("with the ring full: sent %d, qlen %d, requeues %d; want 4, 6, 1", len(q.sent), p.Stats.Qlen, p.Stats.Requeues)
	}
	netTx := q.k.CPU(0).SoftirqCount[NET_TX_SOFTIRQ]
	for round, want := range []int{8, 10} {
		q.complete(4)
		q.k.Clock().RunFor(time.Millisecond)
		if len(q.sent) != want {
			t.Fatalf("after wake %d: sent %d, want %d", round+1, len(q.sent), want)
		}
	}
	for i, s := range q.sent {
		if s.seq != uint64(i) {
			t.Fatalf("order %v", q.sent)
		}
	}
	txq := q.d.TxQueue(0)
	if txq.Stops != 2 || txq.Restarts != 2 || q.k.CPU(0).SoftirqCount[NET_TX_SOFTIRQ]-netTx != 2 {
		t.Errorf("stops %d restarts %d NET_TX runs %d; want 2, 2, 2", txq.Stops, txq.Restarts, q.k.CPU(0).SoftirqCount[NET_TX_SOFTIRQ]-netTx)
	}
	if p.Stats.Packets != 10 || p.Stats.Qlen != 0 {
		t.Errorf("stats %+v", p.Stats)
	}
	q.complete(10)
	q.audit(t)
}

// Each band holds tx_queue_len packets; beyond, pfifo_fast drops (dropped
// counted, SKB_DROP_REASON_QDISC_DROP, NET_XMIT_DROP), per band.
func TestPfifoFastDrops(t *testing.T) {
	for _, tc := range []struct {
		name      string
		txqlen    int
		prios     []uint32 // one packet each, queue stopped
		wantDrops uint64
	}{
		// The first packet waits requeued, outside the bands.
		{"fits", 4, []uint32{0, 0, 0, 0, 0}, 0},
		{"band full", 4, []uint32{0, 0, 0, 0, 0, 0, 0}, 2},
		{"other band free", 2, []uint32{0, 0, 0, 6, 6, 2, 2, 2}, 1},
		{"default 1000", 0, make([]uint32, 1003), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := newQdev(t, func(q *qdev) {
				if tc.txqlen != 0 {
					q.d.TxQueueLen = tc.txqlen
				}
			})
			q.d.NetifStopQueue()
			drops := 0
			for i, p := range tc.prios {
				if rc := q.xmit(1, p, uint64(i))[0]; rc == NET_XMIT_DROP {
					drops++
				} else if rc != NET_XMIT_SUCCESS {
					t.Fatalf("rc %d", rc)
				}
			}
			st := q.pfifo(t).Stats
			queued := len(tc.prios) - int(tc.wantDrops)
			if uint64(drops) != tc.wantDrops || st.Drops != tc.wantDrops || q.k.Drops.Reason[SKB_DROP_REASON_QDISC_DROP] != tc.wantDrops {
				t.Errorf("drops: %d returned, %d counted, %d QDISC_DROP; want %d", drops, st.Drops, q.k.Drops.Reason[SKB_DROP_REASON_QDISC_DROP], tc.wantDrops)
			}
			if st.Qlen != queued || st.Backlog != uint64(100*queued) {
				t.Errorf("qlen %d backlog %d, want %d, %d", st.Qlen, st.Backlog, queued, 100*queued)
			}
			q.complete(0)
			q.k.Clock().RunFor(10 * time.Millisecond)
			if len(q.sent) != queued {
				t.Errorf("sent %d after wake, want %d", len(q.sent), queued)
			}
			q.complete(len(q.inRing))
			q.audit(t)
		})
	}
}

// With BQL the qdisc dequeues in bulk as far as the byte limit has room,
// and marks all but the last packet of a bulk xmit_more: the driver rings
// its doorbell once per bulk (or when the queue stops).
func TestXmitMoreBQL(t *testing.T) {
	q := newQdev(t, func(q *qdev) { q.bql = true })
	txq := q.d.TxQueue(0)
	// The limit starts at 0: the first packet stops the queue for the
	// stack (STACK_XOFF), the next ones wait in the qdisc.
	q.task(t, func(tk *Task) { q.xmit(20, 0, 0) })
	if len(q.sent) != 1 || !txq.XmitStopped() || txq.Stopped() {
		t.Fatalf("sent %d, xmit stopped %v, driver stopped %v; want 1, true, false", len(q.sent), txq.XmitStopped(), txq.Stopped())
	}
	// Each completion raises the limit (the queue was starved) and
	// restarts the queue; NET_TX sends bulks that fill it.
	for i := 0; i < 10 && len(q.inRing) > 0; i++ {
		q.complete(len(q.inRing))
		q.k.Clock().RunFor(time.Millisecond)
	}
	if len(q.sent) != 20 {
		t.Fatalf("sent %d of 20", len(q.sent))
	}
	bulks, more := 0, 0
	for i, s := range q.sent {
		if s.more {
			more++
			if i == len(q.sent)-1 {
				t.Error("the last packet has xmit_more")
			}
		} else {
			bulks++
		}
	}
	if more == 0 || q.doorbells != bulks || bulks >= 20 {
		t.Errorf("%d packets in %d bulks (%d with xmit_more), %d doorbells: want bulks of more than one and a doorbell per bulk", len(q.sent), bulks, more, q.doorbells)
	}
	if txq.DQL.Limit == 0 || txq.BQLErrors != 0 {
		t.Errorf("BQL limit %d, errors %d", txq.DQL.Limit, txq.BQLErrors)
	}
	t.Logf("20 packets: %d bulks, %d doorbells, BQL limit %d", bulks, q.doorbells, txq.DQL.Limit)
	q.complete(len(q.inRing))
	q.audit(t)
}

// A device that is down has noop_qdisc: dev_queue_xmit drops (QDISC_DROP)
// and returns NET_XMIT_CN; dev_close frees what the qdisc held, and
// dev_open brings the same qdisc back with its counters.
func TestQdiscDeactivate(t *testing.T) {
	q := newQdev(t, nil)
	q.d.NetifStopQueue()
	q.xmit(5, 0, 0)
	p := q.pfifo(t)
	q.task(t, func(tk *Task) { q.d.DevClose(tk) })
	if p.Stats.Qlen != 0 || p.Stats.Backlog != 0 || q.k.SKBsInUse() != 0 {
		t.Errorf("after dev_close: qlen %d backlog %d, %d skbs live", p.Stats.Qlen, p.Stats.Backlog, q.k.SKBsInUse())
	}
	if k := q.d.TxQueue(0).Qdisc().Kind(); k != "noop" {
		t.Errorf("queue qdisc %s while down, want noop", k)
	}
	drops := q.k.Drops.Reason[SKB_DROP_REASON_QDISC_DROP]
	if rc := q.xmit(1, 0, 9)[0]; rc != NET_XMIT_CN || q.k.Drops.Reason[SKB_DROP_REASON_QDISC_DROP] != drops+1 {
		t.Errorf("xmit while down: rc %d, QDISC_DROP +%d", rc, q.k.Drops.Reason[SKB_DROP_REASON_QDISC_DROP]-drops)
	}
	q.task(t, func(tk *Task) { q.d.DevOpen(tk) })
	if q.d.Qdisc() != Qdisc(p) || q.d.TxQueue(0).Qdisc() != Qdisc(p) || p.Stats.Requeues != 1 {
		t.Error("dev_open did not bring the qdisc back")
	}
	q.xmit(1, 0, 10)
	if len(q.sent) != 1 || q.sent[0].seq != 10 {
		t.Errorf("sent %v", q.sent)
	}
	q.complete(1)
	q.audit(t)
}

// Default qdiscs as dev_activate attaches them: pfifo_fast on a
// single-queue device, mq with a pfifo_fast per queue on a multi-queue
// one, noqueue with IFF_NO_QUEUE or txqueuelen 0; tc -s qdisc prints them
// with their counters.
func TestDefaultQdiscs(t *testing.T) {
	k := New(Config{CPUs: 1})
	mk := func(name string, txqs int, setup func(d *NetDevice)) *NetDevice {
		d := k.AllocEtherdev(name, txqs, txqs)
		d.Ops = &countDev{k: k}
		if setup != nil {
			setup(d)
		}
		if err := k.RegisterNetdev(d); err != nil {
			t.Fatal(err)
		}
		k.Spawn(0, "up", func(tk *Task) { d.DevOpen(tk); d.NetifTxStartAllQueues() })
		k.Clock().RunFor(time.Millisecond)
		return d
	}
	one := mk("eth0", 1, nil)
	multi := mk("eth1", 4, nil)
	noq := mk("lo0", 1, func(d *NetDevice) { d.PrivFlags |= IFF_NO_QUEUE })
	zero := mk("eth2", 1, func(d *NetDevice) { d.TxQueueLen = 0 })
	for _, tc := range []struct {
		d    *NetDevice
		root string
	}{{one, "pfifo_fast"}, {multi, "mq"}, {noq, "noqueue"}, {zero, "noqueue"}} {
		if got := tc.d.Qdisc().Kind(); got != tc.root {
			t.Errorf("%s: root %s, want %s", tc.d.Name, got, tc.root)
		}
	}
	m := multi.Qdisc().(*MQ)
	for i := 0; i < 4; i++ {
		c := multi.TxQueue(i).Qdisc()
		if c.Kind() != "pfifo_fast" || m.Children[i] != c || c.Common().Flags()&TCQ_F_ONETXQUEUE == 0 {
			t.Errorf("eth1 queue %d: %s", i, c.Kind())
		}
	}
	// Traffic on eth1's queues 1 and 3 shows in its mq's sums.
	for _, qm := range []uint16{1, 3, 3} {
		s := k.AllocSKB(100)
		s.Put(100)
		s.Dev = multi
		s.QueueMapping = qm
		k.DevQueueXmit(s)
	}
	if st := m.Common().Stats; st.Packets != 3 || st.Bytes != 300 {
		t.Errorf("mq stats %+v", st)
	}
	var b bytes.Buffer
	if err := k.WriteQdiscs(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"qdisc pfifo_fast 0: dev eth0 root refcnt 2 bands 3 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1\n Sent 0 bytes 0 pkt (dropped 0, overlimits 0 requeues 0)\n backlog 0b 0p requeues 0\n",
		"qdisc mq 0: dev eth1 root\n Sent 300 bytes 3 pkt (dropped 0, overlimits 0 requeues 0)\n",
		"qdisc pfifo_fast 0: dev eth1 parent :4 bands 3 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1\n Sent 200 bytes 2 pkt",
		"qdisc noqueue 0: dev lo0 root refcnt 2\n",
		"qdisc noqueue 0: dev eth2 root refcnt 2\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("tc -s qdisc lacks %q:\n%s", want, out)
		}
	}
	for _, tc := range []struct {
		b    uint64
		want string
	}{{0, "0b"}, {1514, "1514b"}, {3072, "3Kb"}, {3080, "3Kb"}, {3100, "3100b"}, {2 << 20, "2Mb"}} {
		if got := tcSize(tc.b); got != tc.want {
			t.Errorf("tcSize(%d) = %s, want %s", tc.b, got, tc.want)
		}
	}
	if err := k.SKBAudit(); err != nil {
		t.Error(err)
	}
}

// countDev counts what it is given and frees it at once.
type countDev struct {
	k *Kernel
	n int
}

func (c *countDev) Open(t *Task) error { return nil }
func (c *countDev) Stop(t *Task) error { return nil }
func (c *countDev) StartXmit(s *SKB) NetdevTx {
	c.n++
	c.k.ConsumeSKB(s)
	return NETDEV_TX_OK
}

// BenchmarkDevQueueXmit measures dev_queue_xmit of a 60-byte skb to a
// driver that frees it at once: through pfifo_fast (bypassed while empty,
// as in steady state) and through noqueue, side by side.
func BenchmarkDevQueueXmit(b *testing.B) {
	for _, bc := range []struct {
		name  string
		flags uint32
		kind  string
	}{{"pfifo_fast", 0, "pfifo_fast"}, {"noqueue", IFF_NO_QUEUE, "noqueue"}} {
		b.Run(bc.name, func(b *testing.B) {
			k := New(Config{CPUs: 1})
			c := &countDev{k: k}
			d := k.AllocEtherdev("bench0", 1, 1)
			d.Ops = c
			d.PrivFlags = bc.flags
			k.RegisterNetdev(d)
			k.Spawn(0, "up", func(tk *Task) { d.DevOpen(tk); d.NetifStartQueue() })
			k.Clock().RunFor(time.Millisecond)
			if d.Qdisc().Kind() != bc.kind {
				b.Fatalf("qdisc %s", d.Qdisc().Kind())
			}
			send := func() {
				s := k.AllocSKB(60)
				s.Put(60)
				s.Dev = d
				k.DevQueueXmit(s)
			}
			for i := 0; i < 1000; i++ {
				send()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				send()
			}
			b.StopTimer()
			if c.n != b.N+1000 || k.SKBsInUse() != 0 {
				b.Fatalf("sent %d of %d, %d live", c.n, b.N+1000, k.SKBsInUse())
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
		})
	}
}

// The queued path of pfifo_fast: with the driver queue stopped, 64
// packets are enqueued, then the wake's NET_TX run dequeues and sends
// them: 0 allocs per packet.
func BenchmarkPfifoFastQueued(b *testing.B) {
	k := New(Config{CPUs: 1})
	c := &countDev{k: k}
	d := k.AllocEtherdev("bench0", 1, 1)
	d.Ops = c
	k.RegisterNetdev(d)
	k.Spawn(0, "up", func(tk *Task) { d.DevOpen(tk); d.NetifStartQueue() })
	k.Clock().RunFor(time.Millisecond)
	round := func() {
		d.NetifStopQueue()
		for i := 0; i < 64; i++ {
			s := k.AllocSKB(60)
			s.Put(60)
			s.Dev = d
			k.DevQueueXmit(s)
		}
		d.NetifWakeQueue()
		k.Clock().RunFor(time.Millisecond)
	}
	for i := 0; i < 20; i++ {
		round()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += 64 {
		round()
	}
	b.StopTimer()
	if k.SKBsInUse() != 0 {
		b.Fatalf("%d live", k.SKBsInUse())
	}
}
