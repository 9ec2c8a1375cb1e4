package tcp

import (
	"testing"
	"time"
)

const ms = time.Millisecond

// sent is a send-time-ordered queue: segment i of 1000 octets sent at
// i ms.
func sent(n int) []Seg {
	s := make([]Seg, n)
	for i := range s {
		s[i] = Seg{Start: uint32(1000 * i), End: uint32(1000 * (i + 1)), XmitTime: time.Duration(i) * ms}
	}
	return s
}

func TestRACKAdvance(t *testing.T) {
	r := NewRACK()
	r.Advance(false, 3000, 2*ms, 52*ms, 40*ms)
	if r.XmitTime != 2*ms || r.EndSeq != 3000 || r.RTT != 50*ms || !r.Advanced {
		t.Fatalf("%+v", r)
	}
	// An older segment: RTT taken, RACK's segment stays.
	r.Advance(false, 1000, 0, 53*ms, 40*ms)
	if r.XmitTime != 2*ms || r.RTT != 53*ms {
		t.Errorf("older segment moved RACK: %+v", r)
	}
	// Same send time, higher end: ordered by sequence.
	r.Advance(false, 4000, 2*ms, 53*ms, 40*ms)
	if r.EndSeq != 4000 {
		t.Errorf("end_seq %d", r.EndSeq)
	}
	// A retransmission ACKed within min_rtt is ambiguous.
	r.Advance(true, 9000, 60*ms, 70*ms, 40*ms)
	if r.XmitTime != 2*ms || r.RTT != 51*ms {
		t.Errorf("an ambiguous retransmission was taken: %+v", r)
	}
	r.Advance(true, 9000, 60*ms, 101*ms, 40*ms)
	if r.XmitTime != 60*ms || r.RTT != 41*ms {
		t.Errorf("a retransmission ACKed after min_rtt was not taken: %+v", r)
	}
}

// TestRACKDetectLoss: RFC 8985 section 3.3's idea: segments sent 1 ms
// apart, RTT 50 ms; segment 5 is SACKed at 55 ms. Segments sent before it
// are lost once they are older than RTT + reo_wnd.
func TestRACKDetectLoss(t *testing.T) {
	for _, c := range []struct {
		name    string
		now     time.Duration
		reoWnd  time.Duration
		lost    []int
		timeout time.Duration
	}{
		// At 55 ms, segment 0 (sent at 0) is 55 ms old > 50: lost; 1-4
		// (1..4 ms) are 54..51 ms old: lost too with no window.
		{"no reordering window", 55 * ms, 0, []int{0, 1, 2, 3, 4}, 0},
		// With a window of 3 ms: the limit is 53 ms: 0, 1, 2 lost; 3
		// waits 1 ms, 4 waits 2 ms.
		{"window 3ms", 55 * ms, 3 * ms, []int{0, 1, 2}, 2 * ms},
		// Window 10 ms: none yet; segment 4 (51 ms old) is the last
		// to time out, in 9 ms.
		{"window 10ms", 55 * ms, 10 * ms, nil, 9 * ms},
	} {
		t.Run(c.name, func(t *testing.T) {
			segs := sent(10)
			segs[5].Sacked = true
			r := NewRACK()
			r.Advance(false, segs[5].End, segs[5].XmitTime, 55*ms, 40*ms)
			r.RTT = 50 * ms
			n, timeout := r.DetectLoss(segs, c.now, c.reoWnd)
			if n != len(c.lost) || timeout != c.timeout {
				t.Errorf("%d lost, timeout %v; want %d, %v", n, timeout, len(c.lost), c.timeout)
			}
			for _, i := range c.lost {
				if !segs[i].Lost {
					t.Errorf("segment %d not marked lost", i)
				}
			}
			for i := 5; i < 10; i++ {
				if segs[i].Lost {
					t.Errorf("segment %d, sent after RACK's, marked lost", i)
				}
			}
		})
	}
}

// TestRACKRetransmittedLost: a retransmission is lost again only when it
// too is older than RTT + reo_wnd at a later delivery; lost segments not
// yet retransmitted are left alone.
func TestRACKRetransmittedLost(t *testing.T) {
	segs := sent(3)
	segs[0].Lost = true                        // lost, not retransmitted
	segs[1].Lost, segs[1].Retrans = true, true // retransmitted...
	segs[1].XmitTime = 30 * ms                 // ...at 30 ms
	segs = append(segs[:1], segs[2], segs[1])  // send-time order
	segs = append(segs, Seg{Start: 3000, End: 4000, XmitTime: 40 * ms, Sacked: true})
	r := NewRACK()
	r.Advance(false, 4000, 40*ms, 90*ms, 10*ms)
	n, _ := r.DetectLoss(segs, 90*ms, 0)
	// Segment 2 (sent at 2 ms) and the retransmission of 1 (at 30 ms,
	// 60 ms old > RTT 50) are lost; 0 was passed over.
	if n != 2 || !segs[1].Lost || !segs[2].Lost || segs[2].Retrans {
		t.Errorf("%d lost: %+v", n, segs)
	}
}

func TestRACKReoWnd(t *testing.T) {
	r := NewRACK()
	minRTT, srtt := 40*ms, 50*ms
	if w := r.ReoWnd(false, 1, 3, minRTT, srtt); w != 10*ms {
		t.Errorf("window %v, want min_rtt/4", w)
	}
	if w := r.ReoWnd(false, 3, 3, minRTT, srtt); w != 0 {
		t.Errorf("at the dupack threshold without reordering: %v, want 0", w)
	}
	if w := r.ReoWnd(true, 0, 3, minRTT, srtt); w != 0 {
		t.Errorf("in recovery without reordering: %v, want 0", w)
	}
	r.DetectReordering(5000)
	if r.DetectReordering(3000) != true || !r.ReordSeen {
		t.Fatal("a SACK below fack is reordering")
	}
	if w := r.ReoWnd(true, 5, 3, minRTT, srtt); w != 10*ms {
		t.Errorf("in recovery with reordering seen: %v", w)
	}
	// D-SACKs grow the window a step per round, up to SRTT.
	r.UpdateReoWnd(true, 1000, 10000, false)
	r.UpdateReoWnd(true, 5000, 12000, false) // same round: no growth
	if r.ReoWndSteps != 2 {
		t.Fatalf("steps %d, want 2", r.ReoWndSteps)
	}
	r.UpdateReoWnd(true, 10000, 14000, false) // the round ended
	if r.ReoWndSteps != 3 || r.ReoWnd(false, 0, 3, minRTT, srtt) != 30*ms {
		t.Fatalf("steps %d", r.ReoWndSteps)
	}
	for range 4 {
		r.UpdateReoWnd(true, r.DSACKRound, r.DSACKRound+1000, false)
	}
	if w := r.ReoWnd(false, 0, 3, minRTT, srtt); w != srtt {
		t.Errorf("window %v, want capped at SRTT", w)
	}
	// 16 recoveries without D-SACK reset it.
	for i := range RACKRecoveryThresh {
		if r.ReoWndSteps == 1 {
			t.Fatalf("reset after %d recoveries", i)
		}
		r.UpdateReoWnd(false, r.DSACKRound, r.DSACKRound, true)
	}
	if r.ReoWndSteps != 1 {
		t.Errorf("steps %d after 16 recoveries", r.ReoWndSteps)
	}
}

func TestTLPTimeout(t *testing.T) {
	for _, c := range []struct {
		name     string
		srttUS   uint32 // x8
		out      int
		rtoDelta time.Duration
		want     time.Duration
	}{
		{"2*SRTT + 2 jiffies", 8 * 50000, 5, time.Second, 102 * ms},
		{"one segment out: + TCP_RTO_MIN for the delayed ACK", 8 * 50000, 1, time.Second, 300 * ms},
		{"no RTT sample: 1 s", 0, 3, 3 * time.Second, time.Second},
		{"not after the RTO", 8 * 50000, 1, 250 * ms, 250 * ms},
		{"rounded up to a jiffy", 8*10000 + 4, 3, time.Second, 23 * ms},
	} {
		if got := TLPTimeout(c.srttUS, c.out, c.rtoDelta); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
