package driver_test

import (
	"encoding/binary"
	"testing"

	"github.com/nicbed/nicbed/e1000"
	"github.com/nicbed/nicbed/e1000/driver"
	"github.com/nicbed/nicbed/internal/xmittest"
	"github.com/nicbed/nicbed/kernelmodel"
)

// tdtWrites counts the TDT writes in log.
func tdtWrites(log []regWrite) int {
	n := 0
	for _, w := range log {
		if w.off == e1000.TDT {
			n++
		}
	}
	return n
}

// bqlRoom gives h's queue a byte queue limit of 1 MiB, as if BQL had
// grown it (the hostile device completes nothing, so it would stay 0 and
// stop the queue for the stack after the first frame).
func bqlRoom(h *hostileHost) {
	d := &h.nd.TxQueue(0).DQL
	d.MinLimit, d.Limit = 1<<20, 1<<20
	d.AdjLimit = d.NumCompleted + d.Limit
}

// xmitBatch hands the driver a bulk of n 60-byte frames as
// dev_hard_start_xmit does: xmit_more on all but the last.
func xmitBatch(t *testing.T, h *hostileHost, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		skb := h.k.AllocSKB(64)
		binary.BigEndian.PutUint16(skb.Put(60)[12:], 0x88B5)
		skb.Dev = h.nd
		skb.XmitMore = i < n-1
		if rc := h.a.StartXmit(skb); rc != kernelmodel.NETDEV_TX_OK {
			t.Fatalf("xmit: %v", rc)
		}
	}
}

// TestXmitMoreDoorbell: e1000_xmit_frame writes TDT once per bulk — for
// the frame without netdev_xmit_more — and the tail then covers every
// frame of it.
func TestXmitMoreDoorbell(t *testing.T) {
	for _, tc := range []struct {
		name    string
		batches []int
	}{
		{"single frames", []int{1, 1, 1, 1}},
		{"bulks of 4", []int{4, 4, 4}},
		{"one bulk of 16", []int{16}},
		{"mixed", []int{1, 7, 2, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := linkedHostileHost(t, driver.Options{})
			bqlRoom(h)
			log := logWrites(h)
			frames := 0
			for i, n := range tc.batches {
				xmitBatch(t, h, n)
				frames += n
				if got := tdtWrites(*log); got != i+1 {
					t.Fatalf("after bulk %d: %d TDT writes, want %d", i+1, got, i+1)
				}
				if tdt := int(h.dev.regs[e1000.TDT]); tdt != frames {
					t.Fatalf("after bulk %d: TDT %d, want %d (every frame posted)", i+1, tdt, frames)
				}
			}
		})
	}
}

// TestXmitMoreQueueStop: a bulk that fills the ring rings the doorbell at
// the frame that stops the queue (netif_xmit_stopped), though xmit_more
// says more follow: the frames posted so far are not left waiting.
func TestXmitMoreQueueStop(t *testing.T) {
	h := linkedHostileHost(t, driver.Options{TxDescriptors: driver.MinDescriptors})
	bqlRoom(h)
	log := logWrites(h)
	frames := 0
	for !h.nd.NetifQueueStopped() {
		skb := h.k.AllocSKB(64)
		binary.BigEndian.PutUint16(skb.Put(60)[12:], 0x88B5)
		skb.Dev = h.nd
		skb.XmitMore = true
		if rc := h.a.StartXmit(skb); rc != kernelmodel.NETDEV_TX_OK {
			t.Fatalf("xmit %d: %v", frames, rc)
		}
		frames++
		if frames > driver.MinDescriptors {
			t.Fatal("the queue never stopped")
		}
	}
	if got := tdtWrites(*log); got != 1 {
		t.Errorf("%d TDT writes, want 1 (at the stop)", got)
	}
	if tdt := int(h.dev.regs[e1000.TDT]); tdt != frames {
		t.Errorf("TDT %d, want %d", tdt, frames)
	}
}

// TestXmitMoreTwoHosts: frames sent through dev_queue_xmit queue in
// pfifo_fast while BQL holds the ring at its limit; each completion lets a
// bulk go, with one doorbell for the bulk. Every frame arrives, in order,
// with fewer doorbells than frames.
func TestXmitMoreTwoHosts(t *testing.T) {
	tb := upE1000(t, driver.Options{})
	const n = 400
	doorbells := nicModel(tb.A).Counters().TxDoorbells
	xmittest.SendSequenced(t, tb, n)
	rang := nicModel(tb.A).Counters().TxDoorbells - doorbells
	q := tb.A.Dev.Qdisc().Common().Stats
	txq := tb.A.Dev.TxQueue(0)
	t.Logf("%d frames, %d doorbells; qdisc sent %d, requeues %d; BQL limit %d", n, rang, q.Packets, q.Requeues, txq.DQL.Limit)
	if rang >= n || rang == 0 {
		t.Errorf("%d doorbells for %d frames: want fewer (bulks)", rang, n)
	}
	if q.Packets != n || q.Drops != 0 || txq.BQLErrors != 0 || txq.DQL.Limit == 0 {
		t.Errorf("qdisc %+v, BQL errors %d, limit %d", q, txq.BQLErrors, txq.DQL.Limit)
	}
	settle(t, tb)
}
