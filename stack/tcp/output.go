package tcp

import "time"

// The nonagle bits (TCP_NAGLE_*).
const (
	TCPNagleOff  = 1 // TCP_NAGLE_OFF: TCP_NODELAY
	TCPNagleCork = 2 // TCP_NAGLE_CORK: TCP_CORK
	TCPNaglePush = 4 // TCP_NAGLE_PUSH: push this one regardless
)

// SendState is the part of tcp_sock the transmit tests read.
type SendState struct {
	SndUna, SndNxt uint32 // snd_una, snd_nxt
	SndSml         uint32 // snd_sml: end of the last small segment sent (Minshall)
	SndWnd         uint32 // snd_wnd: the peer's window, scaled
	PacketsOut     uint32 // packets_out
	InFlight       uint32 // tcp_packets_in_flight
	SndCwnd        uint32 // snd_cwnd
	Urgent         bool   // tcp_urg_mode
}

// MinshallCheck is tcp_minshall_check: a small segment is still
// unacknowledged (Minshall's refinement of Nagle: at most one).
func (s *SendState) MinshallCheck() bool {
	return After(s.SndSml, s.SndUna) && !After(s.SndSml, s.SndNxt)
}

// MinshallUpdate is tcp_minshall_update: a segment of len bytes (pcount
// segments of mss) ending at endSeq was sent.
func (s *SendState) MinshallUpdate(len, pcount, mss int, endSeq uint32) {
	if len < pcount*mss {
		s.SndSml = endSeq
	}
}

// NagleTest is tcp_nagle_test (RFC 9293 section 3.7.4, RFC 896 with
// Minshall's variant): whether a segment of len bytes may go now under
// the nonagle bits: a full segment, a FIN, urgent data or a push always;
// a small one not under TCP_CORK, nor — unless TCP_NODELAY — while a
// small segment is unacknowledged.
func (s *SendState) NagleTest(len, mss int, fin bool, nonagle int) bool {
	if nonagle&TCPNaglePush != 0 || s.Urgent || fin {
		return true
	}
	partial := len < mss
	held := partial && (nonagle&TCPNagleCork != 0 || nonagle == 0 && s.PacketsOut != 0 && s.MinshallCheck())
	return !held
}

// CwndTest is tcp_cwnd_test: how many segments cwnd allows now: none when
// the flight fills it, else what is left, but at most half of cwnd (so
// that TSO leaves room for a second burst); a lone FIN always goes.
func (s *SendState) CwndTest(finOnly bool) uint32 {
	if finOnly {
		return 1
	}
	if s.InFlight >= s.SndCwnd {
		return 0
	}
	return min(max(s.SndCwnd>>1, 1), s.SndCwnd-s.InFlight)
}

// SndWndTest is tcp_snd_wnd_test: the first mss of a segment [seq,
// seq+len) fits the peer's window (snd_una + snd_wnd, tcp_wnd_end).
func (s *SendState) SndWndTest(seq uint32, len, mss int) bool {
	end := seq + uint32(len)
	if len > mss {
		end = seq + uint32(mss)
	}
	return !After(end, s.SndUna+s.SndWnd)
}

// CurrentSsthresh is tcp_current_ssthresh: ssthresh, or 3/4 of cwnd if
// larger, outside a cwnd reduction (inReduction: CWR or Recovery).
func (s *Sock) CurrentSsthresh(inReduction bool) uint32 {
	if inReduction {
		return s.SndSsthresh
	}
	return max(s.SndSsthresh, s.SndCwnd>>1+s.SndCwnd>>2)
}

// CwndRestart is tcp_cwnd_restart (RFC 5681 section 4.1, restarting
// after idle; net.ipv4.tcp_slow_start_after_idle): after idle for delta,
// cwnd halves for every RTO that passed, down to the initial window
// (initCwnd, or cwnd if smaller); ssthresh keeps 3/4 of the old cwnd.
// The algorithm is told CA_EVENT_CWND_RESTART.
func (s *Sock) CwndRestart(ca CongestionOps, delta, rto time.Duration, initCwnd uint32, inReduction bool) {
	ca.CwndEvent(s, CAEventCwndRestart)
	s.SndSsthresh = s.CurrentSsthresh(inReduction)
	restart := min(initCwnd, s.SndCwnd)
	cwnd := s.SndCwnd
	for delta -= rto; delta > 0 && cwnd > restart; delta -= rto {
		cwnd >>= 1
	}
	s.SndCwnd = max(cwnd, restart)
}

// SlowStartAfterIdle is tcp_slow_start_after_idle_check: before sending
// on a connection with nothing in flight (packetsOut 0) that has been
// idle longer than the RTO since it last sent (lsndtime), restart cwnd,
// if net.ipv4.tcp_slow_start_after_idle is on. It reports whether it did.
func (s *Sock) SlowStartAfterIdle(ca CongestionOps, sys *Sysctl, packetsOut uint32, rto time.Duration, inReduction bool) bool {
	if sys.SlowStartAfterIdle == 0 || packetsOut != 0 {
		return false
	}
	delta := time.Duration(int32(s.jiffies32()-s.Lsndtime)) * jiffy
	if delta <= rto {
		return false
	}
	s.CwndRestart(ca, delta, rto, TCPInitCwnd, inReduction)
	return true
}
