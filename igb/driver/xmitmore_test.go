package driver_test

import (
	"testing"
	"time"

	"github.com/nicbed/nicbed/igb"
	"github.com/nicbed/nicbed/igb/driver"
	"github.com/nicbed/nicbed/internal/xmittest"
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/testbed"
)

// bqlRoom gives h's queue 0 a byte queue limit of 1 MiB, as if BQL had
// grown it (nothing completes while the test sends, so it would stay 0
// and stop the queue for the stack after the first frame).
func bqlRoom(h *testbed.Host) {
	d := &h.Dev.TxQueue(0).DQL
	d.MinLimit, d.Limit = 1<<20, 1<<20
	d.AdjLimit = d.NumCompleted + d.Limit
}

// xmitMore hands A's driver one 60-byte frame with xmit_more set to more,
// as dev_hard_start_xmit does within a bulk.
func xmitMore(t *testing.T, h *testbed.Host, more bool) {
	t.Helper()
	skb := frameSKB(t, h, 60)
	skb.XmitMore = more
	if rc := h.Dev.Ops.StartXmit(skb); rc != kernelmodel.NETDEV_TX_OK {
		t.Fatalf("xmit: %v", rc)
	}
}

// holdTx turns h's transmitter off (TCTL.EN), as the device sees it: the
// frames posted wait in the ring, nothing completes.
func holdTx(h *testbed.Host) { setReg(h, igb.TCTL, reg(h, igb.TCTL)&^igb.TCTL_EN) }

// TestXmitMoreDoorbell: igb_tx_map writes TDT once per bulk — for the
// frame without netdev_xmit_more — and the tail then covers every frame of
// it.
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
			tb := bed(t, testbed.IGB{Queues: 1}, 1)
			h := tb.A
			holdTx(h)
			bqlRoom(h)
			tdt := nic(t, h).Adapter.CountWrites(igb.TDT(0))
			frames := 0
			for i, n := range tc.batches {
				for j := range n {
					xmitMore(t, h, j < n-1)
				}
				frames += n
				if *tdt != i+1 {
					t.Fatalf("after bulk %d: %d TDT writes, want %d", i+1, *tdt, i+1)
				}
				if v, ntu := int(reg(h, igb.TDT(0))), nic(t, h).Adapter.TxRing(0).NTU; v != ntu || ntu != frames {
					t.Fatalf("after bulk %d: TDT %d, next_to_use %d, want %d (every frame posted)", i+1, v, ntu, frames)
				}
			}
		})
	}
}

// TestXmitMoreQueueStop: a bulk rings the doorbell at the frame that stops
// the queue (netif_xmit_stopped) though xmit_more says more follow — the
// ring's room (igb_maybe_stop_tx) or BQL's limit (netdev_tx_sent_queue) —
// so the frames posted so far are not left waiting.
func TestXmitMoreQueueStop(t *testing.T) {
	for _, tc := range []struct {
		name string
		bql  bool // BQL stops the queue (its limit is 0), not the ring
	}{{"ring full", false}, {"BQL limit", true}} {
		t.Run(tc.name, func(t *testing.T) {
			tb := bed(t, testbed.IGB{Queues: 1, Driver: driver.Options{TxDescriptors: driver.MinDescriptors}}, 1)
			h := tb.A
			holdTx(h)
			if !tc.bql {
				bqlRoom(h)
			}
			txq := h.Dev.TxQueue(0)
			tdt := nic(t, h).Adapter.CountWrites(igb.TDT(0))
			frames := 0
			for !txq.XmitStopped() {
				xmitMore(t, h, true)
				if frames++; frames > driver.MinDescriptors {
					t.Fatal("the queue never stopped")
				}
			}
			if *tdt != 1 {
				t.Errorf("%d TDT writes, want 1 (at the stop)", *tdt)
			}
			if v := int(reg(h, igb.TDT(0))); v != frames {
				t.Errorf("TDT %d, want %d", v, frames)
			}
			if wantBQL := tc.bql; txq.Stopped() == wantBQL || (frames == 1) != wantBQL {
				t.Errorf("after %d frames: driver-stopped %v, want stopped by %s", frames, txq.Stopped(), tc.name)
			}
		})
	}
}

// TestBQL: the frames igb_clean_tx_irq frees are reported to BQL
// (netdev_tx_completed_queue): from limit 0 the first completion grows it
// and restarts the queue the first frame had stopped; igb_clean_tx_ring
// (a reset: ip link set mtu) starts BQL over (netdev_tx_reset_queue) with
// frames still in flight.
func TestBQL(t *testing.T) {
	tb := bed(t, testbed.IGB{Queues: 1}, 1)
	h := tb.A
	txq := h.Dev.TxQueue(0)
	if txq.DQL.Limit != 0 {
		t.Fatalf("BQL limit %d before any traffic", txq.DQL.Limit)
	}
	xmitMore(t, h, false)
	if !txq.XmitStopped() || txq.Stopped() {
		t.Fatalf("one frame at limit 0: stopped by BQL %v, by the driver %v", txq.XmitStopped(), txq.Stopped())
	}
	tb.Clock.RunFor(time.Millisecond)
	if txq.XmitStopped() || txq.DQL.Limit == 0 || txq.DQL.NumCompleted != txq.DQL.NumQueued || txq.BQLErrors != 0 {
		t.Fatalf("after the completion: stopped %v, %+v, BQL errors %d", txq.XmitStopped(), txq.DQL, txq.BQLErrors)
	}

	holdTx(h)
	for range 3 {
		xmitMore(t, h, false)
	}
	if inflight := txq.DQL.NumQueued - txq.DQL.NumCompleted; inflight == 0 {
		t.Fatal("no bytes in flight with the transmitter off")
	}
	task(t, tb, h, func(tk *kernelmodel.Task) error { return nic(t, h).Adapter.ChangeMTU(tk, 9000) })
	if d := txq.DQL; d.NumQueued != 0 || d.NumCompleted != 0 || d.Limit != d.MinLimit || txq.XmitStopped() {
		t.Errorf("after the reset: %+v, stopped %v", d, txq.XmitStopped())
	}
	settle(t, tb)
}

// TestXmitMoreTwoHosts: frames sent through dev_queue_xmit queue in
// pfifo_fast while BQL holds the ring at its limit; each completion lets a
// bulk go (try_bulk_dequeue_skb), with one doorbell for the bulk. Every
// frame arrives, in order, with fewer doorbells than frames, and BQL's
// limit has moved from 0.
func TestXmitMoreTwoHosts(t *testing.T) {
	tb, err := testbed.NewUp(testbed.Config{NIC: testbed.IGB{Queues: 1}})
	if err != nil {
		t.Fatal(err)
	}
	const n = 400
	tdt := nic(t, tb.A).Adapter.CountWrites(igb.TDT(0))
	xmittest.SendSequenced(t, tb, n)
	q := tb.A.Dev.TxQueue(0).Qdisc().Common().Stats
	txq := tb.A.Dev.TxQueue(0)
	t.Logf("%d frames, %d doorbells; qdisc sent %d, requeues %d; BQL limit %d", n, *tdt, q.Packets, q.Requeues, txq.DQL.Limit)
	if *tdt >= n || *tdt == 0 {
		t.Errorf("%d doorbells for %d frames: want fewer (bulks)", *tdt, n)
	}
	if q.Packets != n || q.Drops != 0 || txq.BQLErrors != 0 || txq.DQL.Limit == 0 {
		t.Errorf("qdisc %+v, BQL errors %d, limit %d", q, txq.BQLErrors, txq.DQL.Limit)
	}
	settle(t, tb)
}
