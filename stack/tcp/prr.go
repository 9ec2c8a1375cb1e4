package tcp

// PRR is the Proportional Rate Reduction state of one recovery (RFC 6937;
// Linux's prr_delivered, prr_out and prior_cwnd), in packets.
type PRR struct {
	// PriorCwnd is prior_cwnd, RFC 6937's RecoverFS: cwnd when the
	// reduction began.
	PriorCwnd uint32
	// Ssthresh is the target the congestion control chose.
	Ssthresh uint32
	// Delivered is prr_delivered: packets delivered since the start.
	Delivered uint32
	// Out is prr_out: packets sent since the start.
	Out uint32
}

// InitCwndReduction is tcp_init_cwnd_reduction: a recovery begins at cwnd
// with the new ssthresh.
func (p *PRR) InitCwndReduction(cwnd, ssthresh uint32) {
	*p = PRR{PriorCwnd: cwnd, Ssthresh: ssthresh}
}

// CwndReduction is tcp_cwnd_reduction (RFC 6937 section 3): for an ACK
// that newly delivered newlyAckedSacked packets with inFlight packets
// still out (tcp_packets_in_flight), the number the sender may send now
// (sndcnt) and the cwnd that allows it (inFlight + sndcnt).
//
// Above ssthresh it sends in proportion: ceil(Delivered*ssthresh/
// RecoverFS) - Out. At or below, it is the slow start reduction bound
// (PRR-SSRB): up to the larger of (Delivered - Out) and this ACK's
// delivery, plus one if the ACK advanced snd_una without new losses
// (sndUnaAdvanced, newlyLost), never past ssthresh. The first call of a
// recovery sends at least one (the fast retransmit). sndcnt is negative
// when more went out than the proportion allows (cwnd then drops below
// inFlight, as Linux's). An ACK that delivered nothing changes nothing
// (ok false).
func (p *PRR) CwndReduction(newlyAckedSacked, inFlight uint32, sndUnaAdvanced, newlyLost bool) (sndcnt int, cwnd uint32, ok bool) {
	if newlyAckedSacked == 0 || p.PriorCwnd == 0 {
		return 0, 0, false
	}
	p.Delivered += newlyAckedSacked
	delta := int64(p.Ssthresh) - int64(inFlight)
	var n int64
	if delta < 0 {
		n = int64((uint64(p.Ssthresh)*uint64(p.Delivered)+uint64(p.PriorCwnd)-1)/uint64(p.PriorCwnd)) - int64(p.Out)
	} else {
		n = max(int64(p.Delivered)-int64(p.Out), int64(newlyAckedSacked))
		if sndUnaAdvanced && !newlyLost {
			n++
		}
		n = min(delta, n)
	}
	if p.Out == 0 {
		n = max(n, 1)
	}
	return int(n), uint32(max(int64(inFlight)+n, 0)), true
}

// Sent records packets sent (or retransmitted) during the recovery:
// prr_out.
func (p *PRR) Sent(n uint32) { p.Out += n }
