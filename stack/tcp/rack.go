package tcp

import "time"

// RACK is the RACK-TLP state of a connection (RFC 8985; Linux's
// tcp_sock.rack and net/ipv4/tcp_recovery.c): the most recently sent
// segment that was delivered, and the reordering window.
type RACK struct {
	// XmitTime and EndSeq are RACK.xmit_ts and RACK.end_seq (Linux's
	// rack.mstamp and rack.end_seq): the send time and end of the most
	// recently sent segment known delivered.
	XmitTime time.Duration
	EndSeq   uint32
	// RTT is RACK.rtt (rack.rtt_us): the RTT of that segment.
	RTT time.Duration
	// Advanced is rack.advanced: XmitTime moved on this ACK.
	Advanced bool
	// ReoWndSteps is RACK.reo_wnd_mult (rack.reo_wnd_steps): the window
	// in units of min_rtt/4, grown by D-SACKs; starts at 1.
	ReoWndSteps uint32
	// ReoWndPersist is RACK.reo_wnd_persist: recoveries left before the
	// window shrinks back to one step.
	ReoWndPersist int
	// DSACKRound and DSACKRoundValid are RACK.dsack_round.
	DSACKRound      uint32
	DSACKRoundValid bool
	// ReordSeen is tp->reord_seen (RACK.reordering_seen).
	ReordSeen bool
	// FACK is RACK.fack: the highest end sequence (S)ACKed so far.
	FACK uint32
}

// RACKRecoveryThresh is TCP_RACK_RECOVERY_THRESH: a grown reordering
// window persists over 16 recoveries without D-SACK.
const RACKRecoveryThresh = 16

// NewRACK returns RACK's initial state.
func NewRACK() RACK { return RACK{ReoWndSteps: 1} }

// sentAfter is tcp_skb_sent_after (RFC 8985's RACK_sent_after): t1/seq1
// was sent after t2/seq2; equal times are ordered by sequence.
func sentAfter(t1, t2 time.Duration, seq1, seq2 uint32) bool {
	return t1 > t2 || t1 == t2 && After(seq1, seq2)
}

// Advance is tcp_rack_advance (RFC 8985 section 6.2 step 2,
// RACK_update): a segment sent at xmit and ending at endSeq was newly
// (S)ACKed at now. A retransmitted segment ACKed sooner than minRTT after
// its retransmission is ambiguous (the original may be what arrived) and
// is not taken.
func (r *RACK) Advance(retrans bool, endSeq uint32, xmit, now, minRTT time.Duration) {
	rtt := now - xmit
	if retrans && rtt < minRTT {
		return
	}
	r.Advanced = true
	r.RTT = rtt
	if sentAfter(xmit, r.XmitTime, endSeq, r.EndSeq) {
		r.XmitTime, r.EndSeq = xmit, endSeq
	}
}

// DetectReordering is RFC 8985 section 6.2 step 3 (Linux's
// tcp_check_sack_reordering): a newly (S)ACKed segment that ends below
// RACK.fack arrived out of order. It returns whether that was seen now.
func (r *RACK) DetectReordering(endSeq uint32) bool {
	if After(endSeq, r.FACK) {
		r.FACK = endSeq
		return false
	}
	if Before(endSeq, r.FACK) {
		r.ReordSeen = true
		return true
	}
	return false
}

// UpdateReoWnd is RFC 8985 section 6.2 step 4 (Linux's
// tcp_rack_update_reo_wnd): a D-SACK on this ACK grows the window by a
// step, once per round trip (until snd_una passes the snd_nxt of the
// last growth); after RACKRecoveryThresh recoveries without one it
// shrinks back to a step. exitingRecovery is whether this ACK ends a fast
// or RTO recovery.
func (r *RACK) UpdateReoWnd(dsack bool, sndUna, sndNxt uint32, exitingRecovery bool) {
	if r.DSACKRoundValid && !Before(sndUna, r.DSACKRound) {
		r.DSACKRoundValid = false
	}
	switch {
	case !r.DSACKRoundValid && dsack:
		r.DSACKRound, r.DSACKRoundValid = sndNxt, true
		r.ReoWndSteps = min(r.ReoWndSteps+1, 0xff)
		r.ReoWndPersist = RACKRecoveryThresh
	case exitingRecovery:
		r.ReoWndPersist--
		if r.ReoWndPersist <= 0 {
			r.ReoWndSteps = 1
		}
	}
}

// ReoWnd is tcp_rack_reo_wnd (RFC 8985 section 6.2 step 4,
// RACK_update_reo_wnd's window): 0 while no reordering was seen and the
// connection is in recovery or has sackedOut >= reordering SACKed
// segments (act like the dupack threshold); otherwise min_rtt/4 per step,
// at most SRTT.
func (r *RACK) ReoWnd(inRecovery bool, sackedOut, reordering int, minRTT, srtt time.Duration) time.Duration {
	if !r.ReordSeen && (inRecovery || sackedOut >= reordering) {
		return 0
	}
	return min(minRTT/4*time.Duration(r.ReoWndSteps), srtt)
}

// DetectLoss is tcp_rack_detect_loss (RFC 8985 section 6.2 step 5,
// RACK_detect_loss): segs is the sent queue in send-time order (Linux's
// tsorted_sent_queue). Every segment sent before RACK's segment that is
// older than RACK.rtt + reoWnd at now is marked lost; lost ones not yet
// retransmitted and SACKed ones are passed over. It returns the segments
// newly marked and how long until the youngest of the rest would time
// out (0: none is pending; the caller arms the reordering timer,
// RACK_TIMEOUT, with it).
func (r *RACK) DetectLoss(segs []Seg, now, reoWnd time.Duration) (newlyLost int, timeout time.Duration) {
	for i := range segs {
		s := &segs[i]
		if s.Sacked || s.Lost && !s.Retrans {
			continue
		}
		if !sentAfter(r.XmitTime, s.XmitTime, r.EndSeq, s.End) {
			break
		}
		remaining := r.RTT + reoWnd - (now - s.XmitTime)
		if remaining <= 0 {
			s.Lost, s.Retrans = true, false
			newlyLost++
		} else {
			timeout = max(timeout, remaining)
		}
	}
	return newlyLost, timeout
}

// TCPTimeoutMin is TCP_TIMEOUT_MIN: 2 jiffies.
const TCPTimeoutMin = 2 * jiffy

// TLPTimeout is tcp_schedule_loss_probe's probe timeout (RFC 8985
// section 7.2, TLP_calc_PTO): 2*SRTT, plus TCP_RTO_MIN for a delayed ACK
// when a single segment is out (plus TCP_TIMEOUT_MIN otherwise); 1 s
// without an RTT sample; never later than the RTO would fire (rtoDelta
// from now; 0 or less: not armed).
func TLPTimeout(srttUS uint32, packetsOut int, rtoDelta time.Duration) time.Duration {
	var pto time.Duration
	if srttUS != 0 {
		pto = time.Duration(usecsToJiffies(srttUS>>2)) * jiffy
		if packetsOut == 1 {
			pto += TCPRtoMin
		} else {
			pto += TCPTimeoutMin
		}
	} else {
		pto = TCPTimeoutInit
	}
	if rtoDelta > 0 {
		pto = min(pto, time.Duration(usecsToJiffies(uint32(rtoDelta/time.Microsecond)))*jiffy)
	}
	return pto
}
