package kernelmodel

import (
	"testing"
	"time"
)

// wdev is a qdev with ndo_tx_timeout: it records the jiffies and queue of
// each call and does nothing else (no reset: a stopped queue stays
// stopped).
type wdev struct {
	*qdev
	timeouts []uint64
	queues   []int
}

func (w *wdev) TxTimeout(q int) {
	w.timeouts = append(w.timeouts, w.k.Jiffies())
	w.queues = append(w.queues, q)
}

// TestDevWatchdog: dev_watchdog calls ndo_tx_timeout once per
// watchdog_timeo (5 s, on whole seconds: round_jiffies) for a queue that is
// stopped — by the driver or by BQL — and has not transmitted for
// watchdog_timeo; never for a queue that transmits, however often it
// stops, nor while the carrier is off; and it starts again, with fresh
// trans_start stamps, when the carrier comes back.
func TestDevWatchdog(t *testing.T) {
	const sec = time.Second
	tests := []struct {
		name       string
		bql        bool          // BQL stops the queue (limit 0, nothing completed), not the ring
		transmit   bool          // each second one packet completes and one is sent
		carrierOff time.Duration // carrier off at this time, after the sending (0: never)
		carrierOn  time.Duration // and on again at this time (0: never)
		want       []uint64      // jiffies (to the second) of each ndo_tx_timeout
	}{
		// Sent at 1.3 s: at 5 s the queue has waited less than 5 s; from
		// 10 s on, every run of the watchdog finds it timed out.
		{name: "stopped, never woken", want: []uint64{10000, 15000, 20000, 25000, 30000}},
		{name: "stopped by BQL", bql: true, want: []uint64{10000, 15000, 20000, 25000, 30000}},
		{name: "transmitting", transmit: true},
		{name: "carrier off", carrierOff: 1500 * time.Millisecond},
		// Back at 17.5 s: trans_start is 17.5 s, the watchdog runs at
		// round_jiffies(22.5 s) = 23 s and every 5 s after.
		{name: "carrier back", carrierOff: 1500 * time.Millisecond, carrierOn: 17500 * time.Millisecond, want: []uint64{23000, 28000}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := &wdev{}
			q := newQdev(t, func(q *qdev) {
				w.qdev = q
				q.d.Ops = w
				q.bql = tc.bql
				if !tc.bql {
					q.ring = 4
				}
				q.d.NetifCarrierOn()
			})
			clk := q.k.Clock()
			clk.RunUntil(1300 * time.Millisecond)
			n := 4
			if tc.bql {
				n = 1
			}
			q.xmit(n, 0, 0)
			txq := q.d.TxQueue(0)
			if !txq.XmitStopped() {
				t.Fatal("queue not stopped")
			}
			for s := 1500 * time.Millisecond; s <= 31*sec; s += 500 * time.Millisecond {
				clk.RunUntil(s)
				if tc.carrierOff != 0 && s-500*time.Millisecond < tc.carrierOff && tc.carrierOff <= s {
					q.d.NetifCarrierOff()
				}
				if tc.carrierOn != 0 && s-500*time.Millisecond < tc.carrierOn && tc.carrierOn <= s {
					q.d.NetifCarrierOn()
				}
				if tc.transmit && s%sec == 0 {
					q.complete(1)
					q.xmit(1, 0, uint64(s/sec))
					if !txq.XmitStopped() {
						t.Fatalf("%v: queue not stopped again", s)
					}
				}
			}
			if len(w.timeouts) != len(tc.want) {
				t.Fatalf("ndo_tx_timeout at jiffies %v, want %v", w.timeouts, tc.want)
			}
			for i, j := range w.timeouts {
				if j-j%HZ != tc.want[i] || w.queues[i] != 0 {
					t.Errorf("ndo_tx_timeout %d: queue %d at jiffies %d, want queue 0 at %d", i, w.queues[i], j, tc.want[i])
				}
			}
			if txq.TransTimeout != uint64(len(tc.want)) {
				t.Errorf("trans_timeout %d, want %d", txq.TransTimeout, len(tc.want))
			}
			q.complete(len(q.inRing))
			q.audit(t)
			if watchdogPending(q.d) {
				t.Error("watchdog still armed after dev_close")
			}
		})
	}
}

func watchdogPending(d *NetDevice) bool {
	return d.watchdogTimer.Function != nil && d.watchdogTimer.TimerPending()
}

// TestDevWatchdogNeedsTxTimeout: a device without ndo_tx_timeout has no
// watchdog (__netdev_watchdog_up).
func TestDevWatchdogNeedsTxTimeout(t *testing.T) {
	q := newQdev(t, func(q *qdev) { q.ring = 1; q.d.NetifCarrierOn() })
	q.xmit(1, 0, 0)
	q.k.Clock().RunFor(20 * time.Second)
	if watchdogPending(q.d) || q.d.TxQueue(0).TransTimeout != 0 {
		t.Errorf("watchdog armed (%v) or timeouts counted (%d) without ndo_tx_timeout",
			watchdogPending(q.d), q.d.TxQueue(0).TransTimeout)
	}
}

// TestNetdevStartXmitTransStart: netdev_start_xmit notes trans_start for a
// packet the driver took, not for one it refused (NETDEV_TX_BUSY).
func TestNetdevStartXmitTransStart(t *testing.T) {
	q := newQdev(t, nil)
	q.k.Clock().RunUntil(2500 * time.Millisecond)
	txq := q.d.TxQueue(0)
	q.busy = 1
	s := q.k.AllocSKB(100)
	s.Put(100)
	s.Dev = q.d
	if rc := q.d.NetdevStartXmit(s, txq, false); rc != NETDEV_TX_BUSY || txq.TransStart == 2500 {
		t.Fatalf("busy: rc %v, trans_start %d", rc, txq.TransStart)
	}
	if rc := q.d.NetdevStartXmit(s, txq, true); rc != NETDEV_TX_OK || txq.TransStart != 2500 || !q.sent[0].more {
		t.Fatalf("ok: rc %v, trans_start %d, sent %+v", rc, txq.TransStart, q.sent)
	}
	q.complete(1)
	q.audit(t)
}

// TestRoundJiffies: round_jiffies rounds to whole seconds (down within a
// quarter second), skewed by 3 jiffies per CPU, and keeps a time the
// rounding would put in the past.
func TestRoundJiffies(t *testing.T) {
	for _, tc := range []struct {
		j, now uint64
		cpu    int
		want   uint64
	}{
		{5000, 0, 0, 5000},
		{5249, 0, 0, 5000},
		{5250, 0, 0, 6000},
		{5999, 0, 0, 6000},
		{5000, 0, 1, 4997},
		{5240, 5100, 0, 5240}, // 5000 has passed
		{5250, 0, 2, 5994},
	} {
		if got := roundJiffies(tc.j, tc.now, tc.cpu); got != tc.want {
			t.Errorf("round_jiffies(%d) at %d on CPU %d = %d, want %d", tc.j, tc.now, tc.cpu, got, tc.want)
		}
	}
}
