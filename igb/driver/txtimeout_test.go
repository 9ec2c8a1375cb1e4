package driver_test

import (
	"testing"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/testbed"
)

// TestTxTimeout: a transmitter that sends nothing (TCTL.EN off under the
// driver). igb_clean_tx_irq's hang check, armed by the 2 s watchdog runs,
// finds the oldest frame waiting over a second ("Detected Tx Unit Hang")
// and stops the queue; the kernel's dev_watchdog, every 5 s, finds it
// stopped past watchdog_timeo since the last transmit and calls
// igb_tx_timeout, whose reset frees every frame held and starts the queue
// again. Each timeout is counted once on each side (trans_timeout,
// tx_timeout_count).
func TestTxTimeout(t *testing.T) {
	tb := bed(t, testbed.IGB{Queues: 1}, 1)
	h := tb.A
	holdTx(h)
	txq := h.Dev.TxQueue(0)
	for range 10 {
		skb := frameSKB(t, h, 100)
		if rc := h.Dev.NetdevStartXmit(skb, txq, false); rc != kernelmodel.NETDEV_TX_OK {
			t.Fatalf("xmit: %v", rc)
		}
	}
	sent := tb.Clock.Now()
	tb.Clock.RunFor(4 * time.Second)
	c := nic(t, h).Adapter.Counters()
	if c.TxHangs == 0 || !txq.Stopped() || txq.TransTimeout != 0 {
		t.Fatalf("4 s on: hangs %d, queue stopped %v, trans_timeout %d: want a hang, the queue stopped, no timeout yet", c.TxHangs, txq.Stopped(), txq.TransTimeout)
	}
	tb.Clock.RunUntil(sent + 12*time.Second)
	c = nic(t, h).Adapter.Counters()
	n := stats(t, h, "tx_timeout_count")[0]
	t.Logf("hangs %d, resets %d, tx_timeout_count %d, trans_timeout %d", c.TxHangs, c.Resets, n, txq.TransTimeout)
	if n != 1 || txq.TransTimeout != 1 || c.Resets != 1 {
		t.Errorf("tx_timeout_count %d, trans_timeout %d, resets %d: want 1 each", n, txq.TransTimeout, c.Resets)
	}
	if txq.XmitStopped() {
		t.Error("queue still stopped after the reset")
	}
	if k := h.Kernel.SKBsInUse(); k != 0 {
		t.Errorf("%d skbs still held after the reset", k)
	}
	// Not settle: the hangs it would flag are this test's point.
	if err := nic(t, h).Adapter.CheckInvariants(); err != nil {
		t.Error(err)
	}
}
