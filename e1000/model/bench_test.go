package model

import (
	"testing"

	"github.com/nicbed/nicbed/e1000"
)

// BenchmarkModelRX: one 64-byte frame (60 + FCS; IPv4/UDP) from the wire
// into a posted descriptor: filter, checksum offload, FCS, DMA, write-back,
// RXT0. The "driver" returns descriptors 32 at a time, as a NAPI refill does.
// Steady state allocates nothing.
func BenchmarkModelRX(b *testing.B) {
	r := newRig(b, rigOpt{})
	const n = 256
	r.setupRx(n, 2048, e1000.RCTL_BAM) // FCS kept, as Linux's e1000 runs it
	r.wr(e1000.RXCSUM, e1000.RXCSUM_IPOFLD|e1000.RXCSUM_TUOFLD)
	frame := ipv4Packet(testMAC, 17, pattern(18, 0))
	if len(frame) != 60 {
		b.Fatalf("frame is %d bytes", len(frame))
	}
	tail := uint32(n - 1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.dev.Receive(frame)
		if i%32 == 31 {
			tail = (tail + 32) % n
			r.bar.Write32(e1000.RDT, tail)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
	if c := r.dev.Counters(); c.RxFrames != uint64(b.N) {
		b.Fatalf("%d of %d frames stored (%+v)", c.RxFrames, b.N, c)
	}
}

// BenchmarkModelTX: one legacy descriptor (60-byte frame, EOP|RS) per
// doorbell, through DMA to the link and DD write-back. Steady state
// allocates nothing.
func BenchmarkModelTX(b *testing.B) {
	r := newRig(b, rigOpt{discard: true, arena: 8 << 20})
	const n = 256
	r.setupTx(n, e1000.TCTL_PSP)
	frame := ipv4Packet(peerMAC, 17, pattern(18, 0))
	for range n {
		r.txLegacy(frame, e1000.TXD_CMD_EOP|e1000.TXD_CMD_IFCS|e1000.TXD_CMD_RS)
	}
	tail := uint32(0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tail = (tail + 1) % n
		r.bar.Write32(e1000.TDT, tail)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
	if r.link.count != b.N {
		b.Fatalf("%d of %d frames sent", r.link.count, b.N)
	}
}
