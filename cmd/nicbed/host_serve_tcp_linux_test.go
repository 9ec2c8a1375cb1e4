package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"

	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nicbed/nicbed/internal/linuxbench"
	"github.com/nicbed/nicbed/internal/netns"
	"github.com/nicbed/nicbed/internal/services"
)

// TestHostServeTCP: nicbed host over a TAP with the TCP services, Linux's
// curl, iperf3 and sockets as the clients (issue 9's tests with Linux as
// the peer):
//   - curl GETs 20 MB from /bytes/N: its SHA-256 is the sequence's;
//     curl PUTs a 20 MB file to /sink: the answer is its length and
//     SHA-256;
//   - TCP echo with 200 concurrent connections, each intact;
//   - chargen's stream is RFC 864's pattern;
//   - iperf3 -c and -R complete with bytes moved and no error;
//   - a connect to a port nobody serves is refused (nicbed's RST);
//   - the exit report counts what each service did.
//
// It runs for each NIC nicbed host offers.
func TestHostServeTCP(t *testing.T) {
	for _, nic := range hostNICNames() {
		t.Run(nic, func(t *testing.T) { testHostServeTCP(t, nic) })
	}
}

func testHostServeTCP(t *testing.T, nic string) {
	curl, iperf3 := lookTool(t, "curl"), lookTool(t, "iperf3")
	ns := netns.New(t, "nbst")
	ns.DumpOnFailure(t)
	w := hostWires[0]
	p := startHost(t, ns, append(w.before(t, ns), "--nic", nic, "--addr", hostAddr+"/24", "--mac", hostMAC,
		"--serve", "http=80,echo=7,discard=9,chargen=19", "--serve", "iperf3=5201")...)
	w.after(t, ns)
	dir := t.TempDir()
	const n = 20 << 20
	url := "http://" + hostAddr

	curlGetPut(t, ns, curl, dir, url, n)

	const conns, size = 200, 10000
	var echoErr error
	ns.Do(t, func() error { echoErr = echoMany(conns, size); return nil })
	if echoErr != nil {
		t.Errorf("TCP echo, %d connections: %v", conns, echoErr)
	}
	ns.Do(t, func() error {
		c, err := net.DialTimeout("tcp4", hostAddr+":19", 5*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		got := make([]byte, 3*services.ChargenPeriod)
		if _, err := io.ReadFull(c, got); err != nil {
			return fmt.Errorf("chargen: %w", err)
		}
		want := make([]byte, len(got))
		services.ChargenAt(want, 0)
		if !bytes.Equal(got, want) {
			return fmt.Errorf("chargen: the stream is not RFC 864's pattern: %q", got[:services.ChargenLineLen])
		}
		_, err = net.DialTimeout("tcp4", hostAddr+":81", 5*time.Second)
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("connect to port 81: %v, want ECONNREFUSED", err)
		}
		return nil
	})

	for _, args := range [][]string{{"-t", "1"}, {"-t", "1", "-R"}} {
		out, _ := ns.Command(iperf3, append([]string{"-c", hostAddr, "-p", "5201", "--json"}, args...)...).Output()
		var r struct {
			Error string `json:"error"`
			End   struct {
				SumReceived struct {
					Bytes uint64 `json:"bytes"`
				} `json:"sum_received"`
			} `json:"end"`
		}
		if err := json.Unmarshal(out, &r); err != nil || r.Error != "" || r.End.SumReceived.Bytes == 0 {
			t.Errorf("iperf3 %v: %v %q, %d bytes", args, err, r.Error, r.End.SumReceived.Bytes)
		}
	}

	out := p.stop(t, syscall.SIGINT)
	defer func() {
		if t.Failed() {
			t.Logf("report:\n%s", out)
		}
	}()
	for _, want := range []string{
		"serve echo=7: 0 datagrams",
		fmt.Sprintf("tcp: %d connections, %d bytes in, %d bytes out, 0 errors", conns, conns*size, conns*size),
		"serve http=80: tcp: 2 connections",
		"2 requests",
		"2 tests, 0 denied",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

// echoMany opens conns connections to nicbed's echo port, all open at
// once, sends size bytes on each and reads them back intact. The
// connections are made on the calling thread (a socket belongs to the
// namespace of the thread that makes it: ns.Do's), then served by a
// goroutine each.
func echoMany(conns, size int) error {
	cs := make([]net.Conn, conns)
	for i := range cs {
		c, err := net.DialTimeout("tcp4", hostAddr+":7", 10*time.Second)
		if err != nil {
			return fmt.Errorf("echo connection %d: %w", i, err)
		}
		defer c.Close()
		cs[i] = c
	}
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetDeadline(time.Now().Add(30 * time.Second))
			want := make([]byte, size)
			services.SequenceAt(want, int64(i*size))
			go func() {
				c.Write(want)
				c.(*net.TCPConn).CloseWrite()
			}()
			got, err := io.ReadAll(c)
			if err != nil || !bytes.Equal(got, want) {
				errs <- fmt.Errorf("echo connection %d: %d bytes back, %v", i, len(got), err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// lookTool is the path of a command the test needs; the test fails (make
// deps installs it) when it is missing.
func lookTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is needed (make deps installs it): %v", name, err)
	}
	return p
}

// BenchmarkHostIperf3 is iperf3 -c -t 2 from Linux over a TAP to nicbed
// host's iperf3 server, next to iperf3 between two Linux namespaces over
// a veth in the same run (issue 9's benchmark: TAP ≥ 0.25× veth), forward
// and -R; it reports both figures and the ratio, one sub-benchmark per
// NIC.
func BenchmarkHostIperf3(b *testing.B) {
	for _, nic := range hostNICNames() {
		for _, rev := range []bool{false, true} {
			name := nic + "/forward"
			if rev {
				name = nic + "/reverse"
			}
			b.Run(name, func(b *testing.B) { benchHostIperf3(b, nic, rev) })
		}
	}
}

func benchHostIperf3(b *testing.B, nic string, reverse bool) {
	v := linuxbench.NewVeth(b)
	linuxbench.StartIperf3Server(b, v.Server, 5201)
	ns := v.Client
	w := hostWires[0]
	p := startHost(b, ns, append(w.before(b, ns), "--nic", nic, "--addr", hostAddr+"/24", "--mac", hostMAC, "--serve", "iperf3=5201")...)
	w.after(b, ns)
	args := []string{"-t", "2"}
	if reverse {
		args = append(args, "-R")
	}
	var bps [2]float64
	for range b.N {
		bps[0] += linuxbench.Iperf3(b, ns, hostAddr, 5201, args...).BitsPerSecond
		bps[1] += linuxbench.Iperf3(b, ns, linuxbench.ServerAddr, 5201, args...).BitsPerSecond
	}
	n := float64(b.N)
	b.ReportMetric(bps[0]/n, "nicbed-tap-bits/s")
	b.ReportMetric(bps[1]/n, "linux-veth-bits/s")
	b.ReportMetric(bps[0]/bps[1], "ratio")
	p.stop(b, syscall.SIGINT)
}
