package driver_test

import (
	"testing"
	"time"

	"github.com/nicbed/nicbed/e1000"
	"github.com/nicbed/nicbed/e1000/driver"
	"github.com/nicbed/nicbed/hw/dma"
)

// TestDoorbellAfterBarrier: every tail doorbell (TDT after queueing frames,
// RDT after posting receive buffers) comes after a write barrier (dma.Wmb)
// taken since the previous doorbell, so that on weakly ordered memory (a
// VFIO-mapped ring) the device never fetches a descriptor before it is
// written. The driver without the barriers rang both doorbells with none.
func TestDoorbellAfterBarrier(t *testing.T) {
	h := linkedHostileHost(t, driver.Options{})
	d := h.dev
	clk := h.k.Clock()
	last := dma.WmbCount()
	rings := map[uint32]int{}
	d.onWrite = func(off, v uint32) {
		if off != e1000.RDT && off != e1000.TDT {
			return
		}
		rings[off]++
		if n := dma.WmbCount(); n == last {
			t.Errorf("doorbell %#x = %d without a write barrier since the last one", off, v)
		} else {
			last = n
		}
	}
	for i := 0; i < 8; i++ {
		h.xmit(100+i, false)
	}
	// The device writes back 40 received frames; the poll cleans them and
	// gives the buffers back (RDT) every 16 and at the end.
	rx := d.ring(h.mem, e1000.RDBAL, e1000.RDLEN)
	for s := 0; s < 40; s++ {
		desc := e1000.RxDesc(rx[s*16 : s*16+16])
		if buf, ok := h.mem.View(dma.Addr(desc.Addr()), 60); ok {
			copy(buf, h.nd.Addr[:])
		}
		desc.WriteBack(60, 0, e1000.RXD_STAT_DD|e1000.RXD_STAT_EOP, 0, 0)
	}
	d.raise(e1000.ICR_RXT0)
	clk.RunFor(time.Millisecond)
	if h.delivered != 40 {
		t.Fatalf("%d frames delivered, want 40", h.delivered)
	}
	if rings[e1000.TDT] != 8 || rings[e1000.RDT] < 3 {
		t.Errorf("doorbells rung: TDT %d (want 8), RDT %d (want at least 3)", rings[e1000.TDT], rings[e1000.RDT])
	}
}
