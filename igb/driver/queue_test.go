package driver_test

import (
	"testing"
	"time"

	"github.com/nicbed/nicbed/igb"
	"github.com/nicbed/nicbed/igb/driver"
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/testbed"
)

// TestPerQueueStopWake: a transmit queue whose ring fills (the device holds
// its frames: TCTL.EN off) is stopped alone — the other queue still takes
// frames — with NETDEV_TX_BUSY for the frame that did not fit; when the
// device sends again igb_clean_tx_irq wakes it (tx_queue_N_restart) and
// every frame queued arrives.
func TestPerQueueStopWake(t *testing.T) {
	tb := bed(t, testbed.IGB{Queues: 2, Driver: driver.Options{TxDescriptors: 64}}, 2)
	h := tb.A
	setReg(h, igb.TCTL, reg(h, igb.TCTL)&^igb.TCTL_EN)
	q1, q0 := h.Dev.TxQueue(1), h.Dev.TxQueue(0)
	sent, busy := 0, 0
	for range 200 {
		skb := frameSKB(t, h, 1000)
		skb.QueueMapping = 1
		if rc := h.Dev.Ops.StartXmit(skb); rc == kernelmodel.NETDEV_TX_OK {
			sent++
		} else {
			busy++
			h.Kernel.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_DEV_READY)
			break
		}
		if q1.Stopped() {
			break
		}
	}
	if !q1.Stopped() || q0.Stopped() {
		t.Fatalf("after %d frames on queue 1: queue 1 stopped %v, queue 0 stopped %v", sent, q1.Stopped(), q0.Stopped())
	}
	if sent == 0 || sent > 64 {
		t.Fatalf("%d frames took a 64-slot ring", sent)
	}
	skb := frameSKB(t, h, 100)
	if rc := h.Dev.Ops.StartXmit(skb); rc != kernelmodel.NETDEV_TX_OK {
		t.Fatalf("queue 0 refused a frame: %v", rc)
	}
	restarts := q1.Restarts
	setReg(h, igb.TCTL, reg(h, igb.TCTL)|igb.TCTL_EN)
	tb.Clock.RunFor(5 * time.Millisecond)
	if q1.Stopped() || q1.Restarts != restarts+1 {
		t.Errorf("queue 1 stopped %v, restarts %d (was %d)", q1.Stopped(), q1.Restarts, restarts)
	}
	if n := stats(t, h, "tx_queue_1_restart")[0]; n == 0 {
		t.Error("tx_queue_1_restart 0")
	}
	if n := stats(t, h, "tx_queue_1_packets", "tx_queue_0_packets"); n[0] != uint64(sent) || n[1] != 1 {
		t.Errorf("tx_queue_1_packets %d (want %d), tx_queue_0_packets %d (want 1)", n[0], sent, n[1])
	}
	settle(t, tb)
}

// frameSKB is an skb of n bytes from h to the other host.
func frameSKB(t testing.TB, h *testbed.Host, n int) *kernelmodel.SKB {
	skb := h.Kernel.AllocSKB(n)
	p := skb.Put(n)
	clear(p)
	dst := testbed.MACB
	if h.Index == 1 {
		dst = testbed.MACA
	}
	copy(p, dst[:])
	copy(p[6:], h.MAC[:])
	p[12], p[13] = 0x88, 0xB6
	skb.Dev = h.Dev
	return skb
}
