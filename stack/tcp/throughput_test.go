package tcp_test

import (
	"testing"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
)

// BenchmarkTCPThroughput: bulk data A→B between two in-process stacks on
// a virtual clock, b.N bytes through 64 KiB sends; bytes/s is of wall
// time, allocations per byte sent.
func BenchmarkTCPThroughput(b *testing.B) {
	t := &testing.T{}
	p := newPair(t)
	p.pa.Record, p.pb.Record = false, false
	cl, srv := p.connected(t, 5201)
	const chunk = 64 << 10
	buf := make([]byte, chunk)
	rbuf := make([]byte, chunk)
	total := b.N * chunk
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
	b.SetBytes(chunk)
	b.ReportAllocs()
	b.ResetTimer()
	start := p.n.Clock.Now()
	p.n.Clock.RunWhile(func() bool { return got < total }, start+time.Hour)
	b.StopTimer()
	if got < total {
		b.Fatalf("received %d of %d", got, total)
	}
	b.ReportMetric(float64(total)*8/1e9/(p.n.Clock.Now()-start).Seconds(), "model-Gb/s")
}
