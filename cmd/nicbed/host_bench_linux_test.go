package main

import (
	"regexp"
	"strconv"
	"syscall"
	"testing"

	"github.com/nicbed/nicbed/internal/netns"
)

// BenchmarkPingRTT is ping's round trip from Linux to nicbed host over a
// TAP, side by side with Linux to Linux over a veth in the same run: from
// one namespace, echoes to nicbed's e1000 host behind nbtap0, and to a
// second namespace at the other end of a veth, alternately, 100 each per
// iteration at ping's 2 ms interval. It reports both average RTTs (from
// ping's own summary), their minimums, and the ratios nicbed/Linux; one
// sub-benchmark per NIC.
func BenchmarkPingRTT(b *testing.B) {
	for _, nic := range hostNICNames() {
		b.Run(nic, func(b *testing.B) { benchPingRTT(b, nic) })
	}
}

func benchPingRTT(b *testing.B, nic string) {
	a := netns.New(b, "nbba")
	peer := netns.New(b, "nbbb")
	a.IP(b, "link", "add", "vla", "type", "veth", "peer", "name", "vlb", "netns", peer.Name)
	a.IP(b, "addr", "add", "10.78.0.1/24", "dev", "vla")
	a.IP(b, "link", "set", "vla", "up")
	peer.IP(b, "addr", "add", "10.78.0.2/24", "dev", "vlb")
	peer.IP(b, "link", "set", "vlb", "up")
	a.WaitReady(b, "vla")
	peer.WaitReady(b, "vlb")

	p := startHost(b, a, "--nic", nic, "--tap", "nbtap0", "--addr", hostAddr+"/24", "--mac", hostMAC)
	a.IP(b, "addr", "add", linuxAddr+"/24", "dev", "nbtap0")
	a.IP(b, "link", "set", "nbtap0", "up")
	a.WaitReady(b, "nbtap0")
	// Resolve both neighbours before measuring.
	rttOf(b, a, hostAddr, 3)
	rttOf(b, a, "10.78.0.2", 3)

	var sum [2]rttStats
	b.ResetTimer()
	for range b.N {
		for i, dst := range []string{hostAddr, "10.78.0.2"} {
			r := rttOf(b, a, dst, 100)
			sum[i].avg += r.avg
			if sum[i].min == 0 || r.min < sum[i].min {
				sum[i].min = r.min
			}
		}
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(sum[0].avg/n, "nicbed-avg-ms")
	b.ReportMetric(sum[1].avg/n, "linux-avg-ms")
	b.ReportMetric(sum[0].avg/sum[1].avg, "avg-ratio")
	b.ReportMetric(sum[0].min, "nicbed-min-ms")
	b.ReportMetric(sum[1].min, "linux-min-ms")
	b.ReportMetric(sum[0].min/sum[1].min, "min-ratio")
	p.stop(b, syscall.SIGINT)
}

type rttStats struct{ min, avg float64 }

var rePingRTTLine = regexp.MustCompile(`rtt min/avg/max/mdev = ([\d.]+)/([\d.]+)/`)

// rttOf pings dst count times from ns at a 2 ms interval; every echo must
// be answered. It returns ping's min and avg RTT in ms.
func rttOf(b *testing.B, ns *netns.NS, dst string, count int) rttStats {
	b.Helper()
	out, err := ns.Command("ping", "-n", "-q", "-i", "0.002", "-c", strconv.Itoa(count), "-w", "20", dst).CombinedOutput()
	st := rePingStats.FindStringSubmatch(string(out))
	m := rePingRTTLine.FindStringSubmatch(string(out))
	if err != nil || st == nil || st[2] != strconv.Itoa(count) || m == nil {
		b.Fatalf("ping %s: %v\n%s", dst, err, out)
	}
	min, _ := strconv.ParseFloat(m[1], 64)
	avg, _ := strconv.ParseFloat(m[2], 64)
	return rttStats{min, avg}
}
