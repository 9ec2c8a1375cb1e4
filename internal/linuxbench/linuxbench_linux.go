// Package linuxbench measures Linux's own figures that nicbed's are
// compared to: iperf3 between two network namespaces joined by a veth
// pair, the reference for nicbed's TCP throughput (issue 9: in process ≥
// this figure, over a TAP ≥ a quarter of it). The benchmarks run as root
// (make bench does) and fail, never skip, when they cannot.
package linuxbench

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/nicbed/nicbed/internal/netns"
)

// Veth is two fresh namespaces joined by a veth pair: the server side at
// ServerAddr, the client side at ClientAddr (10.76.0.0/24, inside the
// namespaces only).
type Veth struct {
	Server, Client *netns.NS
}

const (
	ServerAddr = "10.76.0.1"
	ClientAddr = "10.76.0.2"
)

// NewVeth makes the namespaces and the veth (each end eth0 in its
// namespace), addressed and up; they go when the test or benchmark ends.
func NewVeth(tb testing.TB) *Veth {
	tb.Helper()
	v := &Veth{Server: netns.New(tb, "nbls"), Client: netns.New(tb, "nblc")}
	v.Server.IP(tb, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", v.Client.Name)
	v.Server.IP(tb, "addr", "add", ServerAddr+"/24", "dev", "eth0")
	v.Client.IP(tb, "addr", "add", ClientAddr+"/24", "dev", "eth0")
	v.Server.IP(tb, "link", "set", "eth0", "up")
	v.Client.IP(tb, "link", "set", "eth0", "up")
	v.Server.WaitReady(tb, "eth0")
	v.Client.WaitReady(tb, "eth0")
	return v
}

// Iperf3Result is what an iperf3 --json run reports, summed over its
// streams.
type Iperf3Result struct {
	SentBytes, ReceivedBytes uint64
	BitsPerSecond            float64 // the receiver's
	Retransmits              uint64
}

// StartIperf3Server runs iperf3 -s on port in ns until the test ends, and
// waits until it listens.
func StartIperf3Server(tb testing.TB, ns *netns.NS, port int) {
	tb.Helper()
	srv := ns.Command("iperf3", "-s", "-p", fmt.Sprint(port))
	var out strings.Builder
	srv.Stdout, srv.Stderr = &out, &out
	if err := srv.Start(); err != nil {
		tb.Fatalf("iperf3 -s: %v (make deps installs iperf3)", err)
	}
	tb.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	for deadline := time.Now().Add(5 * time.Second); ; {
		ss, _ := ns.Command("ss", "-Hltn", fmt.Sprintf("sport = :%d", port)).Output()
		if len(ss) > 0 {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("iperf3 -s not listening on %d after 5 s: %s", port, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Iperf3 runs iperf3 -c addr -p port --json with args in ns; the test
// fails if the client does or reports an error.
func Iperf3(tb testing.TB, ns *netns.NS, addr string, port int, args ...string) Iperf3Result {
	tb.Helper()
	if _, err := exec.LookPath("iperf3"); err != nil {
		tb.Fatalf("iperf3 is needed (make deps installs it): %v", err)
	}
	out, err := ns.Command("iperf3", append([]string{"-c", addr, "-p", fmt.Sprint(port), "--json"}, args...)...).Output()
	var r struct {
		Error string `json:"error"`
		End   struct {
			SumSent struct {
				Bytes       uint64 `json:"bytes"`
				Retransmits uint64 `json:"retransmits"`
			} `json:"sum_sent"`
			SumReceived struct {
				Bytes         uint64  `json:"bytes"`
				BitsPerSecond float64 `json:"bits_per_second"`
			} `json:"sum_received"`
		} `json:"end"`
	}
	if jerr := json.Unmarshal(out, &r); err != nil || jerr != nil || r.Error != "" || r.End.SumReceived.Bytes == 0 {
		tb.Fatalf("iperf3 -c %s %v: %v %v %q: %s", addr, args, err, jerr, r.Error, out)
	}
	return Iperf3Result{
		SentBytes: r.End.SumSent.Bytes, ReceivedBytes: r.End.SumReceived.Bytes,
		BitsPerSecond: r.End.SumReceived.BitsPerSecond, Retransmits: r.End.SumSent.Retransmits,
	}
}

// Iperf3Veth is the Linux baseline: iperf3 -c -t seconds from one
// namespace to iperf3 -s in the other over a fresh veth pair, n times;
// it returns the mean of the receiver's bits/s.
func Iperf3Veth(tb testing.TB, seconds, n int) float64 {
	tb.Helper()
	v := NewVeth(tb)
	const port = 5201
	StartIperf3Server(tb, v.Server, port)
	var sum float64
	for range n {
		sum += Iperf3(tb, v.Client, ServerAddr, port, "-t", fmt.Sprint(seconds)).BitsPerSecond
	}
	return sum / float64(n)
}
