package services

import (
	"net"
	"os/exec"
	"testing"
	"time"
)

// BenchmarkSequence is the /bytes generator's speed (it must not be what
// limits an HTTP transfer); it allocates nothing.
func BenchmarkSequence(b *testing.B) {
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for i := range b.N {
		SequenceAt(buf, int64(i)*int64(len(buf)))
	}
}

// BenchmarkIperf3Loopback is the iperf3 server's throughput on loopback
// next to Linux's iperf3 -s, each with iperf3 -c -t 2 (forward and -R):
// the server must not be what limits nicbed's figures.
func BenchmarkIperf3Loopback(b *testing.B) {
	iperf := tool(b, "iperf3")
	ours := &Iperf3{}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go ours.Serve(l)
	defer ours.Close()
	srv := exec.Command(iperf, "-s", "-B", "127.0.0.1", "-p", "5299")
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { srv.Process.Kill(); srv.Wait() }()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if c, err := net.Dial("tcp4", "127.0.0.1:5299"); err == nil {
			c.Close()
			time.Sleep(100 * time.Millisecond) // iperf3 -s settles after a probe that sent no cookie
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("iperf3 -s does not listen")
		}
	}
	for _, dir := range []struct{ name, flag string }{{"forward", "-t"}, {"reverse", "-R"}} {
		b.Run(dir.name, func(b *testing.B) {
			var bps [2]float64
			for range b.N {
				for i, addr := range []string{l.Addr().String(), "127.0.0.1:5299"} {
					args := []string{"-t", "2"}
					if dir.flag == "-R" {
						args = append(args, "-R")
					}
					r, _ := iperf3(b, addr, args...)
					if r.Error != "" {
						b.Fatalf("iperf3 %s: %s", addr, r.Error)
					}
					bps[i] += r.End.SumReceived.BitsPerSecond
				}
			}
			n := float64(b.N)
			b.ReportMetric(bps[0]/n, "nicbed-server-bits/s")
			b.ReportMetric(bps[1]/n, "iperf3-s-bits/s")
			b.ReportMetric(bps[0]/bps[1], "ratio")
		})
	}
}
