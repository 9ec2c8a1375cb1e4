package services

import (
	"encoding/json"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// iperfReport is what the tests read of iperf3 --json.
type iperfReport struct {
	Error string `json:"error"`
	End   struct {
		Streams []struct {
			Sender struct {
				Socket int    `json:"socket"`
				Bytes  uint64 `json:"bytes"`
			} `json:"sender"`
		} `json:"streams"`
		SumSent struct {
			Bytes uint64 `json:"bytes"`
		} `json:"sum_sent"`
		SumReceived struct {
			Bytes         uint64  `json:"bytes"`
			BitsPerSecond float64 `json:"bits_per_second"`
		} `json:"sum_received"`
	} `json:"end"`
}

// iperf3 runs Linux's iperf3 client against addr with args and returns
// its JSON report (and whether it exited 0).
func iperf3(t testing.TB, addr string, args ...string) (iperfReport, bool) {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(tool(t, "iperf3"), append([]string{"-c", host, "-p", port, "--json"}, args...)...)
	out, err := cmd.Output()
	var r iperfReport
	if jerr := json.Unmarshal(out, &r); jerr != nil {
		t.Fatalf("iperf3 %v: %v, output not JSON (%v): %s", args, err, jerr, out)
	}
	return r, err == nil
}

// TestIperf3 runs the real iperf3 client against the server: forward, -R,
// -P 2, -n and --bidir complete with bytes both sides agree on; the
// server's counters hold what the client reports; a UDP test is refused
// with an error and a client while a test runs is told the server is busy.
func TestIperf3(t *testing.T) {
	s := &Iperf3{}
	addr := listen(t, s)
	for _, c := range []struct {
		name    string
		args    []string
		streams int
		fwd     bool // the client sends
		rev     bool // the server sends
	}{
		{"forward", []string{"-t", "1"}, 1, true, false},
		{"reverse", []string{"-t", "1", "-R"}, 1, false, true},
		{"parallel", []string{"-t", "1", "-P", "2"}, 2, true, false},
		{"reverse parallel bytes", []string{"-n", "20M", "-R", "-P", "3", "-l", "64K"}, 3, false, true},
		{"bytes", []string{"-n", "20M"}, 1, true, false},
		{"bidir", []string{"-t", "1", "--bidir"}, 2, true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			in0, out0, tests0 := s.BytesIn.Load(), s.BytesOut.Load(), s.Tests.Load()
			r, ok := iperf3(t, addr, c.args...)
			if !ok || r.Error != "" {
				t.Fatalf("iperf3 %v failed: %q", c.args, r.Error)
			}
			sent, rcvd := r.End.SumSent.Bytes, r.End.SumReceived.Bytes
			if rcvd == 0 || sent < rcvd || len(r.End.Streams) != c.streams {
				t.Errorf("sent %d, received %d, %d streams; want bytes > 0, received <= sent, %d streams", sent, rcvd, len(r.End.Streams), c.streams)
			}
			if strings.Contains(c.name, "bytes") && sent < 20<<20 {
				t.Errorf("-n 20M: %d bytes sent", sent)
			}
			eventually(t, "the test counted", func() bool { return s.Tests.Load() == tests0+1 })
			in, out := s.BytesIn.Load()-in0, s.BytesOut.Load()-out0
			// What the server read lies between what it reported received
			// and what the client wrote; what it wrote is at least what it
			// reported sent and what the client read. With --bidir the
			// sums add both directions.
			switch {
			case c.fwd && !c.rev && (in < rcvd || in > sent):
				t.Errorf("server read %d bytes; the client sent %d, the server reported %d received", in, sent, rcvd)
			case c.rev && !c.fwd && (out < sent || out < rcvd):
				t.Errorf("server wrote %d bytes; it reported %d sent, the client received %d", out, sent, rcvd)
			case c.fwd && c.rev && (in == 0 || out == 0 || in+out < rcvd):
				t.Errorf("bidir: server read %d, wrote %d; sums %d sent, %d received", in, out, sent, rcvd)
			case !c.rev && out != 0, !c.fwd && in != 0:
				t.Errorf("server read %d and wrote %d bytes: data the wrong way", in, out)
			}
		})
	}

	t.Run("udp refused", func(t *testing.T) {
		r, ok := iperf3(t, addr, "-u", "-t", "1")
		if !strings.Contains(r.Error, "Protocol not supported") {
			t.Errorf("iperf3 -u: exit ok %v, error %q; want it refused", ok, r.Error)
		}
	})

	t.Run("busy", func(t *testing.T) {
		done := make(chan iperfReport)
		go func() {
			r, _ := iperf3(t, addr, "-t", "2")
			done <- r
		}()
		for !s.runningNow() {
			time.Sleep(time.Millisecond)
		}
		denied := s.Denied.Load()
		r, ok := iperf3(t, addr, "-t", "1")
		if !strings.Contains(r.Error, "busy") || s.Denied.Load() != denied+1 {
			t.Errorf("a second client: exit ok %v, error %q; want busy", ok, r.Error)
		}
		if first := <-done; first.Error != "" || first.End.SumReceived.Bytes == 0 {
			t.Errorf("the first client: %q, %d bytes", first.Error, first.End.SumReceived.Bytes)
		}
	})
}

// TestIperf3Hostile: clients that break the protocol — a bad JSON
// length, a stream with a wrong cookie, a control connection that goes
// away while the test runs — end their test, are counted as errors, and
// the next iperf3 client is served.
func TestIperf3Hostile(t *testing.T) {
	s := &Iperf3{}
	addr := listen(t, s)
	cookie := []byte("abcdefghijklmnopqrstuvwxyz0123456789\x00")
	params := func(c net.Conn) {
		t.Helper()
		if _, err := c.Write(cookie); err != nil {
			t.Fatal(err)
		}
		st := make([]byte, 1)
		if _, err := io.ReadFull(c, st); err != nil || st[0] != iperfParamExchange {
			t.Fatalf("after the cookie: %v %v, want PARAM_EXCHANGE", st, err)
		}
	}
	for _, c := range []struct {
		name string
		run  func(c net.Conn)
	}{
		{"huge JSON length", func(c net.Conn) {
			params(c)
			c.Write([]byte{0x7f, 0xff, 0xff, 0xff})
			if _, err := io.ReadAll(c); err != nil {
				t.Errorf("the server did not close: %v", err)
			}
		}},
		{"bad JSON", func(c net.Conn) {
			params(c)
			c.Write([]byte{0, 0, 0, 5, '{', 'x', 'x', 'x', '}'})
			io.ReadAll(c)
		}},
		{"wrong cookie on a stream", func(c net.Conn) {
			params(c)
			writeJSON(c, map[string]any{"tcp": true, "time": 1, "parallel": 1})
			st := make([]byte, 1)
			if _, err := io.ReadFull(c, st); err != nil || st[0] != iperfCreateStreams {
				t.Fatalf("after the parameters: %v %v, want CREATE_STREAMS", st, err)
			}
			d := dial(t, addr)
			d.Write([]byte("ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ\x00"))
			if _, err := io.ReadFull(d, st); err != nil || int8(st[0]) != iperfAccessDenied {
				t.Errorf("a stream with a wrong cookie: %v %v, want ACCESS_DENIED", st, err)
			}
		}},
		{"gone while running", func(c net.Conn) {
			params(c)
			writeJSON(c, map[string]any{"tcp": true, "time": 1, "parallel": 1})
			st := make([]byte, 1)
			io.ReadFull(c, st)
			d := dial(t, addr)
			d.Write(cookie)
			io.ReadFull(c, st[:1]) // TEST_START
			io.ReadFull(c, st[:1]) // TEST_RUNNING
			if st[0] != iperfTestRunning {
				t.Errorf("state %d, want TEST_RUNNING", st[0])
			}
			d.Write(make([]byte, 1000))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			errs, tests := s.Errors.Load(), s.Tests.Load()
			conn := dial(t, addr)
			c.run(conn)
			conn.Close()
			eventually(t, "the broken test ends", func() bool { return !s.busy() })
			if s.Errors.Load() == errs || s.Tests.Load() != tests {
				t.Errorf("errors %d → %d, tests %d → %d: want an error and no test", errs, s.Errors.Load(), tests, s.Tests.Load())
			}
			if r, _ := iperf3(t, addr, "-n", "1M"); r.Error != "" || r.End.SumReceived.Bytes == 0 {
				t.Errorf("the next client: %q", r.Error)
			}
		})
	}
}
