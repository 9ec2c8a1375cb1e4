package gro_test

import (
	"testing"

	"github.com/nicbed/nicbed/kernelmodel"
)

// BenchmarkGROReceive is napi_gro_receive of MSS-sized in-order segments of
// one flow, as a driver hands them up (an skb from the pool, the frame
// copied in, eth_type_trans), napi_complete_done after every 44 (one
// aggregate just under 64 KiB), and a handler that frees what comes up.
// With GRO the segments are merged (merged/op near 43/44); GRO off (ethtool
// -K gro off) is the side-by-side baseline, each packet passed up alone.
// Both allocate nothing per packet.
func BenchmarkGROReceive(b *testing.B) {
	for _, on := range []bool{true, false} {
		name := "gro=on"
		if !on {
			name = "gro=off"
		}
		b.Run(name, func(b *testing.B) {
			r := newRig(b)
			defer r.k.Close()
			if !on {
				r.dev.D.Features &^= kernelmodel.NETIF_F_GRO
			}
			k := r.k
			r.count = true
			const per = 44
			frames := make([][]byte, per)
			for i := range frames {
				frames[i] = full(0, i).build(i)
			}
			rx := func(n int) {
				for i := 0; i < n; i++ {
					f := frames[i%per]
					skb := k.AllocSKB(len(f))
					copy(skb.Put(len(f)), f)
					skb.IPSummed = kernelmodel.CHECKSUM_UNNECESSARY
					k.EthTypeTrans(skb, r.dev.D)
					r.napi.NAPIGROReceive(skb)
					if i%per == per-1 {
						r.napi.NAPICompleteDone(per)
					}
				}
				r.napi.NAPICompleteDone(0)
			}
			rx(10 * per) // warm the pools
			before, up := r.eng.Stats().Merged, r.n
			b.ReportAllocs()
			b.ResetTimer()
			rx(b.N)
			b.StopTimer()
			b.ReportMetric(float64(r.eng.Stats().Merged-before)/float64(b.N), "merged/op")
			b.ReportMetric(float64(r.n-up)/float64(b.N), "up/op")
			if err := k.SKBAudit(); err != nil {
				b.Fatal(err)
			}
		})
	}
}
