package driver_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/nicbed/nicbed/testbed"
)

// BenchmarkE1000RX measures the receive path of one host: 64-byte frames
// (60 without FCS) handed to the 82540EM model as the wire would, stored by
// DMA into the ring, the interrupt, e1000_intr, the NAPI poll
// (e1000_clean_rx_irq, a copy into a pool skb, buffer recycled),
// netif_receive_skb in the kernel model, and a drop there (no protocol
// handler: kfree_skb UNHANDLED_PROTO). One op is one frame; pkts/s is wall
// clock frames per second on one core.
func BenchmarkE1000RX(b *testing.B) {
	tb, err := testbed.New(testbed.Config{})
	if err != nil {
		b.Fatal(err)
	}
	if err := tb.Up(time.Second); err != nil {
		b.Fatal(err)
	}
	h := tb.B
	frame := make([]byte, 60)
	copy(frame, h.Dev.Addr[:])
	copy(frame[6:], tb.A.Dev.Addr[:])
	binary.BigEndian.PutUint16(frame[12:], 0x88B6)
	sd := &h.Kernel.CPU(0).Softnet
	target := sd.Processed
	pending := func() bool { return sd.Processed < target }
	const batch = 192 // frames handed over at once, within the 256-slot ring
	run := func(n int) {
		for n > 0 {
			m := min(n, batch)
			for range m {
				h.Model().Port().Receive(frame)
			}
			target += uint64(m)
			n -= m
			tb.Clock.RunWhile(pending, tb.Clock.Now()+time.Second)
			if sd.Processed != target {
				b.Fatalf("processed %d, want %d", sd.Processed, target)
			}
		}
	}
	run(10 * batch) // warm up: pools, timers, rings
	b.ReportAllocs()
	b.ResetTimer()
	run(b.N)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
	if err := h.Check(); err != nil {
		b.Fatal(err)
	}
	if n := h.Kernel.SKBsInUse(); n != 0 {
		b.Fatalf("%d skbs in use", n)
	}
}
