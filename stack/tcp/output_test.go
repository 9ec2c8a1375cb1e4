package tcp

import (
	"testing"
	"time"
)

func TestNagle(t *testing.T) {
	// A small segment [1000, 1100) is out, unacknowledged.
	busy := SendState{SndUna: 0, SndNxt: 2000, SndSml: 1100, PacketsOut: 2}
	idle := SendState{SndUna: 2000, SndNxt: 2000, SndSml: 1100}
	for _, c := range []struct {
		name    string
		s       SendState
		len     int
		fin     bool
		nonagle int
		send    bool
	}{
		{"full segment", busy, 1448, false, 0, true},
		{"small behind a small one: held", busy, 100, false, 0, false},
		{"small, nothing out", idle, 100, false, 0, true},
		{"small, TCP_NODELAY", busy, 100, false, TCPNagleOff, true},
		{"small, TCP_CORK even when idle", idle, 100, false, TCPNagleCork, false},
		{"full segment under TCP_CORK", idle, 1448, false, TCPNagleCork, true},
		{"push", busy, 100, false, TCPNaglePush | TCPNagleCork, true},
		{"FIN", busy, 100, true, 0, true},
	} {
		if got := c.s.NagleTest(c.len, 1448, c.fin, c.nonagle); got != c.send {
			t.Errorf("%s: %v", c.name, got)
		}
	}
	// The small segment ACKed: Minshall lets the next one go.
	busy.SndUna = 1100
	if !busy.NagleTest(100, 1448, false, 0) {
		t.Error("small segment held after the last small one was ACKed")
	}
	busy.MinshallUpdate(100, 1, 1448, 2100)
	if busy.SndSml != 2100 {
		t.Error("snd_sml")
	}
	busy.MinshallUpdate(2896, 2, 1448, 5000)
	if busy.SndSml != 2100 {
		t.Error("a full TSO segment moved snd_sml")
	}
}

func TestCwndAndWindowTests(t *testing.T) {
	for _, c := range []struct {
		inFlight, cwnd, want uint32
	}{
		{0, 10, 5}, // at most half the window at once
		{8, 10, 2},
		{10, 10, 0},
		{12, 10, 0},
		{0, 1, 1},
	} {
		s := SendState{InFlight: c.inFlight, SndCwnd: c.cwnd}
		if got := s.CwndTest(false); got != c.want {
			t.Errorf("in flight %d cwnd %d: %d, want %d", c.inFlight, c.cwnd, got, c.want)
		}
	}
	if (&SendState{InFlight: 10, SndCwnd: 10}).CwndTest(true) != 1 {
		t.Error("a lone FIN is held by cwnd")
	}
	s := SendState{SndUna: 1000, SndWnd: 5000}
	if !s.SndWndTest(4552, 1448, 1448) || s.SndWndTest(4553, 1448, 1448) || !s.SndWndTest(4552, 2896, 1448) {
		t.Error("tcp_snd_wnd_test at the window's right edge 6000")
	}
}

func TestCwndRestart(t *testing.T) {
	r := &Reno{}
	for _, c := range []struct {
		name     string
		cwnd     uint32
		idle     time.Duration
		want     uint32
		ssthresh uint32
	}{
		// 3 RTOs of idle (rto 200 ms, 650 ms): halved 3 times, 80 -> 10.
		{"halved per RTO", 80, 650 * time.Millisecond, 10, 60},
		{"not below the initial window", 80, 10 * time.Second, 10, 60},
		{"one RTO", 80, 300 * time.Millisecond, 40, 60},
		{"already small", 6, 10 * time.Second, 6, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newTestSock(c.cwnd, 2)
			s.Lsndtime = s.jiffies32()
			s.Now += c.idle
			sys := NewSysctl()
			if !s.SlowStartAfterIdle(r, &sys, 0, 200*time.Millisecond, false) {
				t.Fatal("no restart")
			}
			if s.SndCwnd != c.want || s.SndSsthresh != c.ssthresh {
				t.Errorf("cwnd %d ssthresh %d, want %d %d", s.SndCwnd, s.SndSsthresh, c.want, c.ssthresh)
			}
		})
	}
	s := newTestSock(80, 2)
	s.Lsndtime = s.jiffies32()
	s.Now += time.Second
	sys := NewSysctl()
	if s.SlowStartAfterIdle(r, &sys, 3, 200*time.Millisecond, false) {
		t.Error("restarted with packets in flight")
	}
	sys.SlowStartAfterIdle = 0
	if s.SlowStartAfterIdle(r, &sys, 0, 200*time.Millisecond, false) || s.SndCwnd != 80 {
		t.Error("restarted with tcp_slow_start_after_idle 0")
	}
	s.Now = s.Now - time.Second + 150*time.Millisecond
	sys.SlowStartAfterIdle = 1
	if s.SlowStartAfterIdle(r, &sys, 0, 200*time.Millisecond, false) {
		t.Error("restarted after less than an RTO")
	}
}
