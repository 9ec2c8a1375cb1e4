package tcp

import "testing"

// flight is the test's own packet accounting (Linux's packets_out,
// sacked_out, lost_out, retrans_out).
type flight struct{ out, sacked, lost, retrans uint32 }

func (f *flight) inFlight() uint32 { return f.out - (f.sacked + f.lost) + f.retrans }

// TestPRRSingleLoss is the first scenario of RFC 6937 section 6 in
// packets: cwnd 20, one loss, ssthresh 10, limited transmit (RFC 3042)
// sending a new segment on each of the first two duplicate ACKs. Recovery
// starts at the third; PRR sends the fast retransmit there and then one
// segment every other ACK (half the delivery rate) until the flight is
// down to ssthresh.
func TestPRRSingleLoss(t *testing.T) {
	f := flight{out: 22}
	var p PRR
	p.InitCwndReduction(20, 10)
	var sends []int
	for ack := 3; ack <= 19; ack++ {
		f.sacked = uint32(ack)
		if ack == 3 {
			f.lost = 1
		}
		n, cwnd, ok := p.CwndReduction(1, f.inFlight(), false, false)
		if !ok || cwnd != f.inFlight()+uint32(max(n, 0)) {
			t.Fatalf("ack %d: cwnd %d for in flight %d and sndcnt %d", ack, cwnd, f.inFlight(), n)
		}
		sends = append(sends, n)
		if n > 0 {
			if ack == 3 {
				f.retrans++
			} else {
				f.out++
			}
			p.Sent(uint32(n))
		}
	}
	// Hand-computed: ceil(delivered*10/20) - out while the flight is
	// above 10; at the 19th ACK it is 10 and PRR-SSRB allows nothing.
	want := []int{1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0}
	for i := range want {
		if sends[i] != want[i] {
			t.Fatalf("sndcnt per ACK %v\nwant            %v", sends, want)
		}
	}
	if p.Out != 8 || p.Delivered != 17 {
		t.Errorf("prr_out %d prr_delivered %d, want 8 and 17", p.Out, p.Delivered)
	}
	if got := f.inFlight(); got != 10 {
		t.Errorf("in flight at the end %d, want ssthresh 10", got)
	}
}

// TestPRRBurstLoss is RFC 6937 section 6's second example: 15 of 20
// lost. The flight is below ssthresh at once, so PRR-SSRB applies: at most
// what was delivered, plus one per ACK that advances snd_una, up to
// ssthresh — slow start back to it, not a burst.
func TestPRRBurstLoss(t *testing.T) {
	var p PRR
	p.InitCwndReduction(20, 10)
	f := flight{out: 20, lost: 15}
	var sends []int
	for ack := 3; ack <= 5; ack++ { // the dupacks of segments 15-19
		f.sacked = uint32(ack)
		n, _, _ := p.CwndReduction(1, f.inFlight(), false, false)
		sends = append(sends, n)
		f.retrans += uint32(n)
		p.Sent(uint32(n))
	}
	// Then the retransmissions come back, each advancing snd_una by one.
	for range 8 {
		f.out--
		f.lost--
		f.retrans--
		n, _, _ := p.CwndReduction(1, f.inFlight(), true, false)
		sends = append(sends, n)
		f.retrans += uint32(n)
		p.Sent(uint32(n))
	}
	// Hand-computed: in flight 2 at entry, delta 8: 1 per dupack; then
	// max(delivered-out, 1)+1 = 2 per advancing ACK (the flight grows by
	// one an ACK, as in slow start) until ssthresh - in flight bounds it:
	// the flight before each is 2, 3, 4, ..., 8, then 9 (delta 1).
	want := []int{1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 1}
	for i := range want {
		if sends[i] != want[i] {
			t.Fatalf("sndcnt %v, want %v", sends, want)
		}
	}
	if f.inFlight() != 10 {
		t.Errorf("in flight %d, want ssthresh 10", f.inFlight())
	}
	if n, _, _ := p.CwndReduction(1, 10, true, true); n != 0 {
		t.Errorf("at ssthresh sndcnt %d", n)
	}
	if _, _, ok := p.CwndReduction(0, 10, false, false); ok {
		t.Error("an ACK that delivered nothing changed cwnd")
	}
}
