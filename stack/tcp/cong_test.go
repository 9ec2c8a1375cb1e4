package tcp

import (
	"math"
	"math/big"
	"slices"
	"testing"
	"time"
)

// start is a model time far from 0: an epoch_start of jiffy 0 means "no
// epoch" to CUBIC, as in Linux.
const start = 1000 * time.Second

func newTestSock(cwnd, ssthresh uint32) *Sock {
	s := NewSock()
	s.Now = start
	s.SndCwnd, s.SndSsthresh = cwnd, ssthresh
	s.IsCwndLimited = true
	s.MIB = &TcpExtMIB{}
	return &s
}

// ackClock drives ca in virtual time as an always-backlogged sender on a
// path of a fixed RTT: every packet is ACKed on its own, cwnd ACKs spread
// evenly over each RTT; each ACK gives an RTT sample. after runs after
// each ACK with the time since the start of the run.
func ackClock(ca CongestionOps, s *Sock, rtt, dur time.Duration, after func(t time.Duration)) {
	t0 := s.Now
	for s.Now-t0 < dur {
		s.Now += rtt / time.Duration(s.SndCwnd)
		s.SndUna++
		s.SndNxt = s.SndUna + s.SndCwnd
		ca.PktsAcked(s, AckSample{PktsAcked: 1, RTTUS: int32(rtt / time.Microsecond)})
		ca.CongAvoid(s, s.SndUna, 1)
		if after != nil {
			after(s.Now - t0)
		}
	}
}

func TestRenoSlowStartAndAI(t *testing.T) {
	r := &Reno{}
	for _, c := range []struct {
		name              string
		cwnd, ssthresh    uint32
		cnt               uint32
		acked             uint32
		limited           bool
		maxOut            uint32
		wantCwnd, wantCnt uint32
	}{
		{"slow start doubles per window", 10, TCPInfiniteSsthresh, 0, 10, true, 0, 20, 0},
		{"slow start stops at ssthresh, the rest counts for AI", 10, 12, 0, 5, true, 0, 12, 3},
		{"AI: one per cwnd ACKed", 20, 10, 19, 1, true, 0, 21, 0},
		{"AI: credit below cwnd", 20, 10, 5, 3, true, 0, 20, 8},
		{"AI: a big stretch ACK", 20, 10, 0, 45, true, 0, 22, 5},
		{"not cwnd limited: no growth", 20, 10, 19, 1, false, 0, 20, 19},
		{"slow start, not limited but below 2x max_packets_out", 10, TCPInfiniteSsthresh, 0, 4, false, 6, 14, 0},
		{"slow start, not limited at 2x max_packets_out", 12, TCPInfiniteSsthresh, 0, 4, false, 6, 12, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newTestSock(c.cwnd, c.ssthresh)
			s.SndCwndCnt = c.cnt
			s.IsCwndLimited = c.limited
			s.MaxPacketsOut = c.maxOut
			r.CongAvoid(s, 0, c.acked)
			if s.SndCwnd != c.wantCwnd || s.SndCwndCnt != c.wantCnt {
				t.Errorf("cwnd %d cnt %d, want %d %d", s.SndCwnd, s.SndCwndCnt, c.wantCwnd, c.wantCnt)
			}
		})
	}
	s := newTestSock(20, 10)
	if got := r.SSThresh(s); got != 10 {
		t.Errorf("ssthresh at 20: %d", got)
	}
	s.SndCwnd = 3
	if got := r.SSThresh(s); got != 2 {
		t.Errorf("ssthresh at 3: %d, want the floor 2", got)
	}
	s.SndCwnd, s.PriorCwnd = 10, 20
	if got := r.UndoCwnd(s); got != 20 {
		t.Errorf("undo to %d, want prior cwnd 20", got)
	}
	s.SndCwndClamp = 11
	s.SndCwnd, s.SndSsthresh = 10, 100
	r.CongAvoid(s, 0, 5)
	if s.SndCwnd != 11 {
		t.Errorf("cwnd %d past the clamp 11", s.SndCwnd)
	}
}

// TestRenoAIMD: a Reno flow on a fixed-RTT path grows by one packet per
// RTT in congestion avoidance, and halves on loss.
func TestRenoAIMD(t *testing.T) {
	r := &Reno{}
	s := newTestSock(TCPInitCwnd, TCPInfiniteSsthresh)
	// Slow start: each round ACKs the window sent in the last one, and
	// each ACK adds a packet: 10, 20, 40, 80.
	for range 3 {
		for range s.SndCwnd {
			r.CongAvoid(s, 0, 1)
		}
	}
	if s.SndCwnd != 80 {
		t.Fatalf("after 3 rounds of slow start cwnd %d, want 80", s.SndCwnd)
	}
	s.SndSsthresh = r.SSThresh(s)
	s.SndCwnd = s.SndSsthresh
	w := s.SndCwnd
	ackClock(r, s, 100*time.Millisecond, 2*time.Second, nil)
	if got := s.SndCwnd - w; got < 19 || got > 21 {
		t.Errorf("20 RTTs of AI grew cwnd by %d, want ≈20", got)
	}
}

// wCubic is RFC 9438's equation 1 with K from equation 2.
func wCubic(t, wmax, cwndStart float64) float64 {
	const c = 0.4
	k := math.Cbrt((wmax - cwndStart) / c)
	return c*math.Pow(t-k, 3) + wmax
}

// cubicAfterLoss is a CUBIC flow on a path of rtt right after its first
// loss at cwnd 100: cwnd at the new ssthresh, W_max 100.
func cubicAfterLoss(rtt time.Duration) (*Sock, *Cubic) {
	c := &Cubic{}
	s := newTestSock(100, 100)
	c.Init(s)
	c.PktsAcked(s, AckSample{PktsAcked: 1, RTTUS: int32(rtt / time.Microsecond)})
	s.SndSsthresh = c.SSThresh(s)
	s.SndCwnd = s.SndSsthresh
	return s, c
}

// TestCubicCurve: after a loss at W_max = 100 on a 100 ms path, cwnd
// follows W_cubic(t) = C(t-K)^3 + W_max: concave up to W_max at K ≈ 4.2 s,
// then convex. The Reno-friendly estimate stays below the curve on this
// path, so it is the cubic region throughout (RFC 9438 section 4.2).
func TestCubicCurve(t *testing.T) {
	rtt := 100 * time.Millisecond
	s, c := cubicAfterLoss(rtt)
	if s.SndCwnd != 70 || c.lastMaxCwnd != 100 {
		t.Fatalf("after the loss cwnd %d W_max %d, want 70 and 100", s.SndCwnd, c.lastMaxCwnd)
	}
	k := math.Cbrt(30 / 0.4)
	worst := 0.0
	ackClock(c, s, rtt, time.Duration(2*k*float64(time.Second)), func(d time.Duration) {
		want := wCubic(d.Seconds(), 100, 70)
		if err := math.Abs(float64(s.SndCwnd) - want); err > worst {
			worst = err
		}
		if err := math.Abs(float64(s.SndCwnd) - want); err > 2.5 {
			t.Fatalf("at t=%v cwnd %d, W_cubic %.1f", d, s.SndCwnd, want)
		}
	})
	t.Logf("largest |cwnd - W_cubic(t)| over 2K: %.2f packets", worst)
	if s.SndCwnd < 120 {
		t.Errorf("convex region: cwnd %d at 2K, want ≈130", s.SndCwnd)
	}
}

// TestCubicRenoFriendly: on a short path the Reno-friendly estimate W_est
// (α_cubic = 3(1-β)/(1+β) ≈ 0.53 per RTT, RFC 9438 section 4.3) grows
// faster than the cubic curve near its plateau, and cwnd follows W_est.
func TestCubicRenoFriendly(t *testing.T) {
	rtt := 10 * time.Millisecond
	s, c := cubicAfterLoss(rtt)
	ackClock(c, s, rtt, time.Second, nil)
	west := 70 + 100*3*(1-0.7)/(1+0.7)
	cub := wCubic(1, 100, 70)
	if math.Abs(float64(s.SndCwnd)-west) > 3 {
		t.Errorf("after 100 RTTs cwnd %d, want W_est ≈ %.1f (W_cubic would be %.1f)", s.SndCwnd, west, cub)
	}
}

// TestCubicBeforeFirstLoss: without a W_max CUBIC grows at least 5% per
// RTT (cnt at most 20).
func TestCubicBeforeFirstLoss(t *testing.T) {
	c := &Cubic{}
	s := newTestSock(100, 100)
	c.Init(s)
	ackClock(c, s, 100*time.Millisecond, 100*time.Millisecond, nil)
	if s.SndCwnd < 104 || s.SndCwnd > 106 {
		t.Errorf("one RTT grew cwnd from 100 to %d, want ≈105", s.SndCwnd)
	}
}

func TestCubicSSThresh(t *testing.T) {
	c := &Cubic{}
	s := newTestSock(100, 50)
	c.Init(s)
	if got := c.SSThresh(s); got != 70 || c.lastMaxCwnd != 100 {
		t.Fatalf("ssthresh %d W_max %d, want 70 (717/1024) and 100", got, c.lastMaxCwnd)
	}
	// Fast convergence: a loss below the last W_max releases bandwidth:
	// W_max = 90*(1+β)/2 = 76.
	s.SndCwnd = 90
	if got := c.SSThresh(s); got != 63 || c.lastMaxCwnd != 76 {
		t.Fatalf("ssthresh %d W_max %d, want 63 and 76", got, c.lastMaxCwnd)
	}
	s.SndCwnd = 2
	if got := c.SSThresh(s); got != 2 {
		t.Errorf("ssthresh at cwnd 2: %d, want the floor 2", got)
	}
	if c.epochStart != 0 {
		t.Error("the epoch did not end at the loss")
	}
}

func TestCubicRoot(t *testing.T) {
	for _, a := range []uint64{0, 1, 7, 8, 26, 27, 63, 64, 1000, 999, 1001, 1 << 40, 1<<63 - 1, math.MaxUint64} {
		r := cubicRoot(a)
		lo, hi := new(big.Int).SetUint64(uint64(r)), new(big.Int).SetUint64(uint64(r)+1)
		lo.Exp(lo, big.NewInt(3), nil)
		hi.Exp(hi, big.NewInt(3), nil)
		x := new(big.Int).SetUint64(a)
		if lo.Cmp(x) > 0 || hi.Cmp(x) <= 0 {
			t.Errorf("cubicRoot(%d) = %d: not the floor of the cube root", a, r)
		}
	}
}

// TestCubicIdle: CA_EVENT_TX_START after an idle period moves the epoch
// by the idle time, so the curve does not jump.
func TestCubicIdle(t *testing.T) {
	c := &Cubic{}
	s := newTestSock(100, 100)
	c.Init(s)
	c.SSThresh(s)
	s.SndCwnd = 70
	ackClock(c, s, 100*time.Millisecond, time.Second, nil)
	s.Lsndtime = s.jiffies32()
	epoch := c.epochStart
	s.Now += 3 * time.Second
	c.CwndEvent(s, CAEventTxStart)
	if c.epochStart != epoch+3000 {
		t.Errorf("epoch moved from %d to %d, want +3000 jiffies", epoch, c.epochStart)
	}
	c.CwndEvent(s, CAEventCompleteCWR)
	if c.epochStart != epoch+3000 {
		t.Error("another event moved the epoch")
	}
}

func TestCubicLossState(t *testing.T) {
	c := &Cubic{}
	s := newTestSock(100, 100)
	c.Init(s)
	c.SSThresh(s)
	c.found = true
	s.SndNxt = 5000
	s.Now += time.Second
	c.SetState(s, CARecovery)
	if c.lastMaxCwnd != 100 || !c.found {
		t.Fatal("entering recovery reset CUBIC")
	}
	c.SetState(s, CALoss)
	if c.lastMaxCwnd != 0 || c.found || c.endSeq != 5000 || c.roundStart != uint32(s.Now/time.Microsecond) {
		t.Errorf("an RTO did not restart CUBIC and HyStart: %+v", c)
	}
}

// hystartSetup gives a slow-starting CUBIC flow at cwnd, whose first round
// (packets up to 100) was ACKed every 5 ms (no train) at RTT base, and
// whose next ACK starts the second round (ending at 1000).
func hystartSetup(cwnd uint32, base time.Duration) (*Sock, *Cubic) {
	s := newTestSock(cwnd, TCPInfiniteSsthresh)
	s.SndNxt = 100
	c := &Cubic{}
	c.Init(s)
	for s.SndUna < 100 {
		hystartAck(s, c, 5*time.Millisecond, base)
	}
	s.SndNxt = 1000
	return s, c
}

// hystartAck is one ACK of one packet after gap with an RTT sample; cwnd
// is held (the test looks at HyStart's decision alone).
func hystartAck(s *Sock, c *Cubic, gap, rtt time.Duration) {
	s.Now += gap
	s.SndUna++
	c.PktsAcked(s, AckSample{PktsAcked: 1, RTTUS: int32(rtt / time.Microsecond)})
}

// TestHystartAckTrain: HyStart leaves slow start when the ACKs of a round
// (each at most 2 ms after the last) span more than delay_min/2: with ACKs
// every 250 µs and delay_min 40 ms, at the 81st ACK after the round's
// first (20.25 ms > 20 ms).
func TestHystartAckTrain(t *testing.T) {
	for _, c := range []struct {
		name    string
		cwnd    uint32
		gap     time.Duration
		pacing  bool
		rate    uint64
		exitAck int // ACKs after the round's first; 0: no exit
	}{
		{"train", 20, 250 * time.Microsecond, false, 0, 81},
		{"pacing: the whole delay_min", 20, 250 * time.Microsecond, true, 0, 161},
		{"TSO cushion of 1 ms at a low pacing rate", 20, 250 * time.Microsecond, false, 1e8, 83},
		{"cwnd below hystart_low_window", 15, 250 * time.Microsecond, false, 0, 0},
		{"at hystart_low_window", 16, 250 * time.Microsecond, false, 0, 81},
		{"ACKs 3 ms apart are no train", 20, 3 * time.Millisecond, false, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, ca := hystartSetup(c.cwnd, 40*time.Millisecond)
			if s.SndSsthresh != TCPInfiniteSsthresh {
				t.Fatal("left slow start in the first round")
			}
			s.Pacing = c.pacing
			s.PacingRate, s.GSOMaxSize = c.rate, 65536
			hystartAck(s, ca, 5*time.Millisecond, 40*time.Millisecond) // the round's first ACK
			for k := 1; k <= 300; k++ {
				hystartAck(s, ca, c.gap, 40*time.Millisecond)
				exited := s.SndSsthresh != TCPInfiniteSsthresh
				if exited && k != c.exitAck {
					t.Fatalf("left slow start at ACK %d, want %d", k, c.exitAck)
				}
				if exited {
					if s.SndSsthresh != c.cwnd || s.MIB.TCPHystartTrainDetect != 1 || s.MIB.TCPHystartTrainCwnd != uint64(c.cwnd) {
						t.Errorf("ssthresh %d, TCPHystartTrainDetect %d TCPHystartTrainCwnd %d", s.SndSsthresh,
							s.MIB.TCPHystartTrainDetect, s.MIB.TCPHystartTrainCwnd)
					}
					if s.MIB.TCPHystartDelayDetect != 0 {
						t.Error("the delay detection fired on a constant RTT")
					}
					return
				}
			}
			if c.exitAck != 0 {
				t.Errorf("never left slow start, want at ACK %d", c.exitAck)
			}
		})
	}
}

// TestHystartDelay: HyStart leaves slow start when the smallest RTT of a
// round's first 8+ samples exceeds delay_min by delay_min/8, clamped to
// [4 ms, 16 ms] — at the 9th sample of the round.
func TestHystartDelay(t *testing.T) {
	ms := time.Millisecond
	us := time.Microsecond
	for _, c := range []struct {
		name string
		base time.Duration
		rtts []time.Duration // the round's samples, the last repeated
		exit int             // the sample that exits, 1-based; 0: none
	}{
		{"40ms: threshold 5ms", 40 * ms, []time.Duration{46 * ms}, 9},
		{"40ms: at the threshold is not above it", 40 * ms, []time.Duration{45 * ms}, 0},
		{"one low sample holds the round's minimum", 40 * ms, []time.Duration{46 * ms, 41 * ms, 46 * ms}, 0},
		{"a low sample after the 8th is too late", 40 * ms, []time.Duration{46 * ms, 46 * ms, 46 * ms, 46 * ms, 46 * ms, 46 * ms, 46 * ms, 46 * ms, 46 * ms, 41 * ms}, 9},
		{"10ms: clamped up to 4ms", 10 * ms, []time.Duration{14*ms + 100*us}, 9},
		{"10ms: below 4ms", 10 * ms, []time.Duration{13*ms + 900*us}, 0},
		{"200ms: clamped down to 16ms", 200 * ms, []time.Duration{216*ms + 100*us}, 9},
		{"200ms: 25ms over exits, 15ms does not", 200 * ms, []time.Duration{215 * ms}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, ca := hystartSetup(20, c.base)
			for i := 1; i <= 50; i++ {
				hystartAck(s, ca, 5*time.Millisecond, c.rtts[min(i, len(c.rtts))-1])
				exited := s.SndSsthresh != TCPInfiniteSsthresh
				if exited && i != c.exit {
					t.Fatalf("left slow start at sample %d, want %d", i, c.exit)
				}
				if exited {
					if s.MIB.TCPHystartDelayDetect != 1 || s.MIB.TCPHystartDelayCwnd != 20 || s.SndSsthresh != 20 {
						t.Errorf("ssthresh %d, TCPHystartDelayDetect %d TCPHystartDelayCwnd %d", s.SndSsthresh,
							s.MIB.TCPHystartDelayDetect, s.MIB.TCPHystartDelayCwnd)
					}
					return
				}
			}
			if c.exit != 0 {
				t.Errorf("never left slow start, want at sample %d", c.exit)
			}
		})
	}
}

// TestHystartExitInSlowStart: a whole slow start with ACK-clocked rounds
// on a path of RTT 40 ms whose bottleneck spaces packets 500 µs apart
// (a pipe of 80). Rounds of 10, 20 and 40 packets come back as trains of
// under 20 ms (delay_min/2); in the round of 80 the 41st ACK after the
// first is 20.5 ms on, and HyStart ends slow start there, at cwnd
// 80+41 = 121, where Reno would go on to 160 and beyond.
func TestHystartExitInSlowStart(t *testing.T) {
	c := &Cubic{}
	s := newTestSock(TCPInitCwnd, TCPInfiniteSsthresh)
	s.SndNxt = uint32(s.SndCwnd)
	c.Init(s)
	rtt, gap := 40*time.Millisecond, 500*time.Microsecond
	// Each packet leaves when an ACK releases it, no sooner than gap
	// after the last (the bottleneck), and is ACKed RTT later.
	var acks []time.Duration
	last := s.Now - gap
	send := func(at time.Duration) {
		d := max(at, last+gap)
		last = d
		acks = append(acks, d+rtt)
	}
	for range s.SndCwnd {
		send(s.Now)
	}
	for len(acks) > 0 && s.SndSsthresh == TCPInfiniteSsthresh {
		s.Now = acks[0]
		acks = acks[1:]
		s.SndUna++
		c.PktsAcked(s, AckSample{PktsAcked: 1, RTTUS: int32(rtt / time.Microsecond)})
		c.CongAvoid(s, s.SndUna, 1)
		for s.SndNxt-s.SndUna < s.SndCwnd {
			s.SndNxt++
			send(s.Now)
		}
	}
	if s.SndSsthresh == TCPInfiniteSsthresh || s.MIB.TCPHystartTrainDetect != 1 {
		t.Fatalf("HyStart did not end slow start (cwnd %d)", s.SndCwnd)
	}
	if s.SndSsthresh != 121 {
		t.Errorf("HyStart left slow start at cwnd %d, want 121", s.SndSsthresh)
	}
	c.CongAvoid(s, s.SndUna, 1)
	if s.SndCwnd != 121 || s.SndCwndCnt != 2 { // this ACK and the exit ACK counted, no growth
		t.Errorf("after the exit an ACK gave cwnd %d cnt %d, want congestion avoidance", s.SndCwnd, s.SndCwndCnt)
	}
}

func TestCongestionControlRegistry(t *testing.T) {
	if got := AvailableCongestionControl(); !slices.Equal(got, []string{"reno", "cubic"}) {
		t.Errorf("available %v", got)
	}
	if err := RegisterCongestionControl("reno", func() CongestionOps { return &Reno{} }); err == nil {
		t.Error("registered reno twice")
	}
	if FindCongestionControl("bbr") != nil {
		t.Error("found bbr")
	}
	sys := NewSysctl()
	s := NewSock()
	ca, err := NewCongestionControl(sys.CongestionControl, &s)
	if err != nil || ca.Name() != "cubic" {
		t.Fatalf("default %v %v", ca, err)
	}
	if s.SndCwnd != TCPInitCwnd || s.SndSsthresh != TCPInfiniteSsthresh {
		t.Errorf("a new connection has cwnd %d ssthresh %d", s.SndCwnd, s.SndSsthresh)
	}
	if _, err := NewCongestionControl("vegas", &s); err == nil {
		t.Error("vegas")
	}
	if err := sys.Set("net.ipv4.tcp_congestion_control", "reno"); err != nil || sys.CongestionControl != "reno" {
		t.Errorf("set reno: %v", err)
	}
	if err := sys.Set("net.ipv4.tcp_congestion_control", "bbr"); err == nil || sys.CongestionControl != "reno" {
		t.Errorf("set bbr: %v, now %q", err, sys.CongestionControl)
	}
	if v, _ := sys.Get("net.ipv4.tcp_available_congestion_control"); v != "reno cubic" {
		t.Errorf("available %q", v)
	}
	if err := sys.Set("net.ipv4.tcp_sack", "0"); err != nil || sys.SACK != 0 {
		t.Error("tcp_sack")
	}
	if err := sys.Set("net.ipv4.tcp_sack", "-1"); err == nil {
		t.Error("tcp_sack -1")
	}
	if err := sys.Set("net.ipv4.tcp_bogus", "1"); err == nil {
		t.Error("bogus")
	}
}

func BenchmarkCubicCongAvoid(b *testing.B) {
	s, c := cubicAfterLoss(10 * time.Millisecond)
	benchCongAvoid(b, c, s)
}

// benchCongAvoid times ca's cong_avoid for one ACK each 10 µs in
// congestion avoidance.
func benchCongAvoid(b *testing.B, ca CongestionOps, s *Sock) {
	b.ReportAllocs()
	for b.Loop() {
		s.Now += 10 * time.Microsecond
		s.SndUna++
		ca.CongAvoid(s, s.SndUna, 1)
		if s.SndCwnd > 10000 {
			s.SndCwnd = 100
		}
	}
}
