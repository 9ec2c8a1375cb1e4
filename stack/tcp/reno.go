package tcp

// Reno is tcp_reno (net/ipv4/tcp_cong.c), the fallback algorithm: slow
// start, then one packet per window of ACKs, halving on loss (RFC 5681).
type Reno struct{}

// Name is "reno".
func (*Reno) Name() string { return "reno" }

// Init does nothing: Reno keeps no state of its own.
func (*Reno) Init(*Sock) {}

// SSThresh is tcp_reno_ssthresh: half of cwnd, at least 2 (RFC 5681
// equation 4, in packets).
func (*Reno) SSThresh(s *Sock) uint32 { return max(s.SndCwnd>>1, 2) }

// CongAvoid is tcp_reno_cong_avoid: slow start below ssthresh, then
// additive increase of one packet per cwnd packets ACKed, only while the
// window limits the sender.
func (*Reno) CongAvoid(s *Sock, _, acked uint32) {
	if !s.CwndLimited() {
		return
	}
	if s.InSlowStart() {
		if acked = s.SlowStart(acked); acked == 0 {
			return
		}
	}
	s.CongAvoidAI(s.SndCwnd, acked)
}

// SetState does nothing for Reno.
func (*Reno) SetState(*Sock, CAState) {}

// CwndEvent does nothing for Reno.
func (*Reno) CwndEvent(*Sock, CAEvent) {}

// PktsAcked does nothing for Reno.
func (*Reno) PktsAcked(*Sock, AckSample) {}

// UndoCwnd is tcp_reno_undo_cwnd: the larger of cwnd and the cwnd before
// the reduction.
func (*Reno) UndoCwnd(s *Sock) uint32 { return renoUndoCwnd(s) }

func renoUndoCwnd(s *Sock) uint32 { return max(s.SndCwnd, s.PriorCwnd) }
