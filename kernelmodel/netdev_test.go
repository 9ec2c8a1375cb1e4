package kernelmodel

import (
	"testing"
	"time"
)

// dev_queue_xmit always consumes the skb, exactly once, and returns
// NET_XMIT_* or -ENETDOWN on each path.
func TestDevQueueXmitContract(t *testing.T) {
	for _, tc := range []struct {
		name      string
		down      bool
		stopped   bool
		noDev     bool
		driver    NetdevTx
		wantRC    int
		wantCalls int
		wantDrop  uint64 // tx_dropped and SKB_DROP_REASON_DEV_READY
	}{
		{"sent", false, false, false, NETDEV_TX_OK, NET_XMIT_SUCCESS, 1, 0},
		{"driver dropped", false, false, false, NET_XMIT_DROP, NET_XMIT_DROP, 1, 0},
		{"driver congested", false, false, false, NET_XMIT_CN, NET_XMIT_CN, 1, 0},
		{"driver busy", false, false, false, NETDEV_TX_BUSY, -ENETDOWN, 1, 1},
		{"queue stopped", false, true, false, NETDEV_TX_OK, -ENETDOWN, 0, 1},
		{"device down", true, false, false, NETDEV_TX_OK, -ENETDOWN, 0, 1},
		{"no device", false, false, true, NETDEV_TX_OK, -ENETDOWN, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := New(Config{CPUs: 1})
			d := newTestDev(t, k, 0)
			calls := 0
			d.dev.Ops = &xmitOps{k: k, rc: tc.driver, sent: &calls}
			d.dev.up = !tc.down
			if tc.stopped {
				d.dev.NetifStopQueue()
			} else {
				d.dev.NetifStartQueue()
			}
			s := k.AllocSKB(60)
			s.Put(60)
			if !tc.noDev {
				s.Dev = d.dev
			}
			rc := k.DevQueueXmit(s)
			if rc != tc.wantRC {
				t.Errorf("rc %d, want %d", rc, tc.wantRC)
			}
			if calls != tc.wantCalls {
				t.Errorf("ndo_start_xmit called %d times, want %d", calls, tc.wantCalls)
			}
			if s.Live() {
				t.Error("skb not consumed")
			}
			if err := k.SKBAudit(); err != nil {
				t.Error(err)
			}
			if d.dev.Stats.TxDropped != tc.wantDrop || k.Drops.Reason[SKB_DROP_REASON_DEV_READY] != tc.wantDrop+b2u(tc.noDev) {
				t.Errorf("tx_dropped %d, DEV_READY drops %d", d.dev.Stats.TxDropped, k.Drops.Reason[SKB_DROP_REASON_DEV_READY])
			}
		})
	}
	if DevXmitComplete(int(NETDEV_TX_BUSY)) || !DevXmitComplete(int(NETDEV_TX_OK)) || !DevXmitComplete(-ENETDOWN) {
		t.Error("dev_xmit_complete")
	}
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// dev_kfree_skb_irq and dev_consume_skb_irq from a hardirq queue the skb on
// the CPU's completion queue and raise NET_TX; net_tx_action frees them
// (consume_skb / kfree_skb) and then runs the NET_TX hook (the qdisc's
// place). Outside a hardirq, dev_kfree_skb_any frees at once.
func TestNetTxActionCompletionQueue(t *testing.T) {
	k := New(Config{CPUs: 2})
	a, b, c := k.AllocSKB(60), k.AllocSKB(60), k.AllocSKB(60)
	var liveInHandler bool
	var pendingInHandler uint32
	hookRuns, liveAtHook := 0, -1
	k.OpenSoftirq(NET_TX_SOFTIRQ, func(cpu *CPU) {
		hookRuns++
		liveAtHook = k.SKBsInUse()
	})
	irq := k.AllocIRQ()
	k.SetAffinity(irq, 1)
	k.RequestIRQ(irq, func(int) IRQReturn {
		k.DevConsumeSKBIRQ(a)
		k.DevKfreeSKBAny(b)
		liveInHandler = a.Live() && b.Live()
		pendingInHandler = k.CurrentCPU().Pending()
		return IRQ_HANDLED
	}, "tx-clean")
	k.Raise(irq)
	k.Clock().RunFor(time.Millisecond)
	if !liveInHandler || pendingInHandler&(1<<NET_TX_SOFTIRQ) == 0 {
		t.Errorf("in the hardirq: skbs freed %v, NET_TX pending %v", !liveInHandler, pendingInHandler&(1<<NET_TX_SOFTIRQ) != 0)
	}
	if a.Live() || b.Live() {
		t.Error("net_tx_action did not free the completion queue")
	}
	if n := k.CPU(1).SoftirqCount[NET_TX_SOFTIRQ]; n != 1 || hookRuns != 1 || liveAtHook != 1 {
		t.Errorf("NET_TX ran %d times on the irq's CPU, hook %d times with %d skbs live; want 1, 1, 1 (c)", n, hookRuns, liveAtHook)
	}
	if k.Drops.Reason[SKB_DROP_REASON_NOT_SPECIFIED] != 1 {
		t.Errorf("drops %d, want 1 (b)", k.Drops.Reason[SKB_DROP_REASON_NOT_SPECIFIED])
	}
	k.DevKfreeSKBAny(c) // not in a hardirq: freed now
	if c.Live() || k.Drops.Reason[SKB_DROP_REASON_NOT_SPECIFIED] != 2 {
		t.Error("dev_kfree_skb_any outside a hardirq did not free")
	}
	// A NET_TX raised from a task runs through ksoftirqd.
	k.Spawn(0, "raiser", func(task *Task) { task.CPU().RaiseSoftirq(NET_TX_SOFTIRQ) })
	k.Clock().RunFor(time.Millisecond)
	if hookRuns != 2 || k.CPU(0).KsoftirqdRuns == 0 {
		t.Errorf("raise_softirq(NET_TX) from a task: hook ran %d times, ksoftirqd %d", hookRuns, k.CPU(0).KsoftirqdRuns)
	}
	if err := k.SKBAudit(); err != nil {
		t.Error(err)
	}
}
