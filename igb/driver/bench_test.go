package driver_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/nicbed/nicbed/testbed"
)

// BenchmarkIGBDriverRX measures the receive path of one host per frame:
// 64-byte frames (60 without FCS) handed to the NIC model as the wire
// would, stored by DMA into the ring, the interrupt (igb_msix_ring), the
// NAPI poll (igb_poll, igb_clean_rx_irq: a copy into a pool skb, the
// buffer straight back), netif_receive_skb and a drop there (no protocol
// handler). The e1000 sub-benchmark runs the same harness on the 82540EM
// and its driver, for a ratio measured side by side. allocs/op must be 0.
func BenchmarkIGBDriverRX(b *testing.B) {
	for _, n := range []struct {
		name string
		nic  testbed.Factory
	}{{"igb", testbed.IGB{Queues: 1}}, {"e1000", testbed.E1000{}}} {
		b.Run(n.name, func(b *testing.B) { benchRX(b, n.nic) })
	}
}

func benchRX(b *testing.B, nic testbed.Factory) {
	tb, err := testbed.NewUp(testbed.Config{NIC: nic})
	if err != nil {
		b.Fatal(err)
	}
	h := tb.B
	frame := make([]byte, 60)
	copy(frame, h.Dev.Addr[:])
	copy(frame[6:], tb.A.Dev.Addr[:])
	binary.BigEndian.PutUint16(frame[12:], 0x88B6)
	processed := func() uint64 {
		var n uint64
		for c := range h.Kernel.NumCPUs() {
			n += h.Kernel.CPU(c).Softnet.Processed
		}
		return n
	}
	target := processed()
	pending := func() bool { return processed() < target }
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
			if got := processed(); got != target {
				b.Fatalf("processed %d, want %d", got, target)
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

// TestNoAllocs: the igb receive and transmit paths allocate nothing per
// frame in steady state (the benchmarks' harnesses, as a test).
func TestNoAllocs(t *testing.T) {
	for name, bench := range map[string]func(*testing.B, testbed.Factory){"receive": benchRX, "transmit": benchTX} {
		r := testing.Benchmark(func(b *testing.B) { bench(b, testbed.IGB{Queues: 1}) })
		if r.N == 0 {
			t.Fatalf("%s benchmark did not run", name)
		}
		if a := r.AllocsPerOp(); a != 0 {
			t.Errorf("%d allocs per frame on the %s path", a, name)
		}
	}
}

// BenchmarkIGBDriverTX measures the transmit path per frame: a 64-byte
// skb from the pool handed to ndo_start_xmit (igb_xmit_frame_ring: the
// copy into the slot's buffer, the descriptor, the tail), the device's DMA
// and the wire, the completion interrupt and igb_clean_tx_irq freeing the
// skb — with the receiving host's path behind it. e1000 alongside, on the
// same harness. allocs/op must be 0.
func BenchmarkIGBDriverTX(b *testing.B) {
	for _, n := range []struct {
		name string
		nic  testbed.Factory
	}{{"igb", testbed.IGB{Queues: 1}}, {"e1000", testbed.E1000{}}} {
		b.Run(n.name, func(b *testing.B) { benchTX(b, n.nic) })
	}
}

func benchTX(b *testing.B, nic testbed.Factory) {
	tb, err := testbed.NewUp(testbed.Config{NIC: nic, InfiniteSpeed: true})
	if err != nil {
		b.Fatal(err)
	}
	h := tb.A
	const batch = 128
	send := func(n int) {
		for n > 0 {
			m := min(n, batch)
			for range m {
				skb := h.Kernel.AllocSKB(60)
				p := skb.Put(60)
				copy(p, tb.B.Dev.Addr[:])
				copy(p[6:], h.Dev.Addr[:])
				binary.BigEndian.PutUint16(p[12:], 0x88B6)
				skb.Dev = h.Dev
				if h.Dev.Ops.StartXmit(skb) != 0 {
					b.Fatal("busy")
				}
			}
			n -= m
			tb.Clock.RunFor(200 * time.Microsecond)
		}
	}
	send(10 * batch)
	b.ReportAllocs()
	b.ResetTimer()
	send(b.N)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
	tb.Clock.RunFor(10 * time.Millisecond)
	if n := h.Kernel.SKBsInUse(); n != 0 {
		b.Fatalf("%d skbs in use", n)
	}
}
