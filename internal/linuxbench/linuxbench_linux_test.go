package linuxbench

import "testing"

// BenchmarkIperf3Veth is Linux's TCP throughput between two namespaces
// over a veth: iperf3 -c -t 2 per iteration, the receiver's bits/s.
func BenchmarkIperf3Veth(b *testing.B) {
	b.ReportMetric(Iperf3Veth(b, 2, b.N), "bits/s")
}

// TestIperf3Veth checks the baseline's machinery: a short iperf3 over the
// veth moves data, and what the receiver got is at most what was sent.
func TestIperf3Veth(t *testing.T) {
	v := NewVeth(t)
	StartIperf3Server(t, v.Server, 5201)
	r := Iperf3(t, v.Client, ServerAddr, 5201, "-n", "10M")
	if r.ReceivedBytes == 0 || r.ReceivedBytes > r.SentBytes || r.SentBytes < 10<<20 || r.BitsPerSecond <= 0 {
		t.Errorf("iperf3 -n 10M over the veth: %+v", r)
	}
}
