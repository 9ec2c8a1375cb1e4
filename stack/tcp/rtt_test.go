package tcp

import (
	"testing"
	"time"
)

func TestRTTEstimator(t *testing.T) {
	type sample struct {
		us     int64
		newWin bool // snd_una passes rtt_seq: a new window of data
	}
	ms := time.Millisecond
	for _, c := range []struct {
		name    string
		samples []sample
		srtt    uint32 // srtt_us (x8)
		mdev    uint32
		rttvar  uint32
		rto     time.Duration
	}{
		// First sample R: SRTT = R, RTTVAR = max(2R, rto_min): RTO is
		// R + max(2R, 200 ms).
		{"first 100ms", []sample{{100000, false}}, 800000, 200000, 200000, 300 * ms},
		{"first 10ms: RTO is SRTT + 200ms", []sample{{10000, false}}, 80000, 20000, 200000, 210 * ms},
		{"first 2s", []sample{{2000000, false}}, 16000000, 4000000, 4000000, 6 * time.Second},
		{"first 1us", []sample{{1, false}}, 8, 2, 200000, 201 * ms},
		// Steady 100ms: mdev decays (-1/4 of mdev/4), RTTVAR stays at
		// the window's max, rto_min.
		{"steady", []sample{{100000, false}, {100000, true}}, 800000, 150000, 200000, 300 * ms},
		// A falling RTT moves mdev by 1/8 of the gain: m = (80000 -
		// 50000) >> 3 = 3750; mdev 203750 > rttvar: RTTVAR 203750;
		// SRTT 90000: RTO 293750us, 294 jiffies.
		{"falling", []sample{{100000, false}, {20000, true}}, 720000, 203750, 203750, 294 * ms},
		// A rising one: m = 200000 - 50000: mdev 350000 = RTTVAR; SRTT
		// 125000: RTO 475 ms.
		{"rising", []sample{{100000, false}, {300000, false}}, 1000000, 350000, 350000, 475 * ms},
		// Then SRTT again, in the same window: mdev 262500, RTTVAR
		// holds the window's max.
		{"rising then same window", []sample{{100000, false}, {300000, false}, {125000, false}}, 1000000, 262500, 350000, 475 * ms},
		// The window's max mdev resets to rto_min when a window ends;
		// in the next one RTTVAR falls by a quarter of its excess over
		// that window's max mdev: 350000 - (350000-262500)/4 = 328125;
		// RTO 453125us, 454 jiffies.
		{"rising then new window", []sample{{100000, false}, {300000, true}, {125000, true}}, 1000000, 262500, 328125, 454 * ms},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := NewRTTEstimator()
			if e.RTO != time.Second {
				t.Fatalf("initial RTO %v", e.RTO)
			}
			una, nxt := uint32(1000), uint32(2000)
			for _, s := range c.samples {
				if s.newWin {
					una = e.RttSeq + 1
					nxt = una + 1000
				}
				e.Estimate(s.us, una, nxt)
				e.SetRTO()
			}
			if e.SrttUS != c.srtt || e.MdevUS != c.mdev || e.RttvarUS != c.rttvar || e.RTO != c.rto {
				t.Errorf("srtt %d mdev %d rttvar %d rto %v\nwant srtt %d mdev %d rttvar %d rto %v",
					e.SrttUS, e.MdevUS, e.RttvarUS, e.RTO, c.srtt, c.mdev, c.rttvar, c.rto)
			}
		})
	}
}

func TestRTOBounds(t *testing.T) {
	e := NewRTTEstimator()
	e.Estimate(50*1000000, 1, 2) // 50 s: 50 + 100 s > TCP_RTO_MAX
	e.SetRTO()
	if e.RTO != TCPRtoMax {
		t.Errorf("RTO %v, want the 120 s cap", e.RTO)
	}
	// Backoff doubles from 1 s up to 120 s.
	e = NewRTTEstimator()
	want := []time.Duration{2, 4, 8, 16, 32, 64, 120, 120}
	for i, w := range want {
		e.BackoffRTO()
		if e.RTO != w*time.Second || int(e.Backoff) != i+1 {
			t.Fatalf("backoff %d: RTO %v (backoff %d), want %v", i+1, e.RTO, e.Backoff, w*time.Second)
		}
	}
}

func TestAckUpdateRTT(t *testing.T) {
	none := RTTSample{SeqRTTUS: -1, SACKRTTUS: -1, CARTTUS: -1}
	for _, c := range []struct {
		name string
		a    RTTSample
		ok   bool
		srtt uint32 // x8
		ca   int64
	}{
		{"cumulative sample", RTTSample{SeqRTTUS: 40000, SACKRTTUS: 90000, CARTTUS: 30000}, true, 320000, 30000},
		{"sack sample when no cumulative", RTTSample{SeqRTTUS: -1, SACKRTTUS: 90000, CARTTUS: 80000}, true, 720000, 80000},
		{"nothing", none, false, 0, -1},
		// The RTTM rule: the echo counts only for an ACK of new data.
		{"timestamp echo", RTTSample{SeqRTTUS: -1, SACKRTTUS: -1, CARTTUS: -1, Acked: true, SawTstamp: true, TSecr: 1000, NowTS: 1025}, true, 200000, 25000},
		{"timestamp echo on a dupack", RTTSample{SeqRTTUS: -1, SACKRTTUS: -1, CARTTUS: -1, SawTstamp: true, TSecr: 1000, NowTS: 1025}, false, 0, -1},
		{"echo of 0 is no echo", RTTSample{SeqRTTUS: -1, SACKRTTUS: -1, CARTTUS: -1, Acked: true, SawTstamp: true, TSecr: 0, NowTS: 1025}, false, 0, -1},
		{"echo from the future", RTTSample{SeqRTTUS: -1, SACKRTTUS: -1, CARTTUS: -1, Acked: true, SawTstamp: true, TSecr: 2000, NowTS: 1025}, false, 0, -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := NewRTTEstimator()
			e.BackoffRTO()
			e.BackoffRTO()
			ca, ok := e.AckUpdateRTT(c.a, 10, 20)
			if ok != c.ok || ca != c.ca || e.SrttUS != c.srtt {
				t.Fatalf("ok %v ca %d srtt %d, want %v %d %d", ok, ca, e.SrttUS, c.ok, c.ca, c.srtt)
			}
			if ok && (e.Backoff != 0 || e.RTO >= time.Second) {
				t.Errorf("a valid sample left backoff %d RTO %v", e.Backoff, e.RTO)
			}
			if !ok && (e.Backoff != 2 || e.RTO != 4*time.Second) {
				t.Errorf("no sample, yet backoff %d RTO %v", e.Backoff, e.RTO)
			}
		})
	}
}

func TestKarnSeqRTT(t *testing.T) {
	now := 5 * time.Second
	if got := KarnSeqRTT(now, now-30*time.Millisecond, true, false); got != 30000 {
		t.Errorf("fresh data: %d", got)
	}
	if got := KarnSeqRTT(now, now-30*time.Millisecond, true, true); got != -1 {
		t.Errorf("retransmitted data acked gave sample %d (Karn's rule)", got)
	}
	if got := KarnSeqRTT(now, 0, false, false); got != -1 {
		t.Errorf("nothing acked gave %d", got)
	}
}

func TestTSOptRTT(t *testing.T) {
	for _, c := range []struct {
		now, ecr uint32
		want     int64
	}{
		{100, 100, 1000}, // same tick: one tick
		{105, 100, 5000},
		{3, 0xFFFFFFFE, 5000}, // the TS clock wrapped
		{100, 105, -1},
	} {
		if got := TSOptRTTUS(c.now, c.ecr); got != c.want {
			t.Errorf("TSOptRTTUS(%d, %d) = %d, want %d", c.now, c.ecr, got, c.want)
		}
	}
}

func BenchmarkRTTEstimator(b *testing.B) {
	e := NewRTTEstimator()
	a := RTTSample{SeqRTTUS: 40000, SACKRTTUS: -1, CARTTUS: 40000}
	var una uint32
	b.ReportAllocs()
	for b.Loop() {
		una += 1448
		a.SeqRTTUS = 40000 + int64(una&0xfff)
		e.AckUpdateRTT(a, una, una+100000)
	}
}
