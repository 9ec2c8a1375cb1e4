package tcp_test

import (
	"testing"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
)

// BenchmarkTCPThroughput: bulk data A→B between two in-process stacks on
// a virtual clock, b.N times 64 KiB sent; MB/s is of wall time,
// model-Gb/s of the model's; with GSO and GRO on (TCP builds 64 KiB GSO
// skbs, segmented in software at the device, merged again by GRO) and
// off (ethtool -K gso off gro off on both ends: one skb per segment).
func BenchmarkTCPThroughput(b *testing.B) {
	for _, off := range []bool{false, true} {
		name := "gso+gro"
		if off {
			name = "nogso"
		}
		b.Run(name, func(b *testing.B) { benchThroughput(b, off) })
	}
}

// offloadOff clears NETIF_F_GSO and NETIF_F_GRO on both ends.
func (p *pair) offloadOff() {
	for _, d := range []*kernelmodel.NetDevice{p.pa.D, p.pb.D} {
		d.Features &^= kernelmodel.NETIF_F_GSO | kernelmodel.NETIF_F_GRO
	}
}

func benchThroughput(b *testing.B, off bool) {
	t := &testing.T{}
	p := newPair(t)
	p.pa.Record, p.pb.Record = false, false
	if off {
		p.offloadOff()
	}
	cl, srv := p.connected(t, 5201)
	const chunk = 64 << 10
	buf := make([]byte, chunk)
	rbuf := make([]byte, chunk)
	// A warm-up of 16 MiB first: the skb pools and the link's ring grow
	// to the traffic and the window opens, so what is measured is the
	// steady state (allocs/op: what each 64 KiB costs then).
	const warm = 16 << 20
	total := warm + b.N*chunk
	got := 0
	p.kb.Spawn(0, "reader", func(tk *kernelmodel.Task) {
		for got < total {
			n, _, err := srv.RecvFrom(tk, rbuf, 0)
			if err != nil || n == 0 {
				return
			}
			got += n
		}
	})
	sent := 0
	p.ka.Spawn(0, "writer", func(tk *kernelmodel.Task) {
		for sent < total {
			n, err := cl.Send(tk, buf, 0)
			if err != nil {
				return
			}
			sent += n
		}
	})
	p.n.Clock.RunWhile(func() bool { return got < warm }, p.n.Clock.Now()+time.Hour)
	b.SetBytes(chunk)
	b.ReportAllocs()
	b.ResetTimer()
	start, from := p.n.Clock.Now(), got
	p.n.Clock.RunWhile(func() bool { return got < total }, start+time.Hour)
	b.StopTimer()
	if got < total {
		b.Fatalf("received %d of %d", got, total)
	}
	b.ReportMetric(float64(total-from)*8/1e9/(p.n.Clock.Now()-start).Seconds(), "model-Gb/s")
}
