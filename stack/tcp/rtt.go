package tcp

import (
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
)

// Retransmission timer bounds (include/net/tcp.h; RFC 6298 section 2).
const (
	// TCPRtoMin is TCP_RTO_MIN (HZ/5): the RTO is at least SRTT plus
	// this (Linux keeps RTTVAR at or above it).
	TCPRtoMin = 200 * time.Millisecond
	// TCPRtoMax is TCP_RTO_MAX: the backed-off RTO stops here.
	TCPRtoMax = 120 * time.Second
	// TCPTimeoutInit is TCP_TIMEOUT_INIT: the RTO before the first RTT
	// sample (RFC 6298 section 2.1).
	TCPTimeoutInit = time.Second
	// TCPTSHZ is TCP_TS_HZ: the timestamp option ticks in milliseconds.
	TCPTSHZ = 1000
)

// RTTEstimator is the RTT and RTO state of a connection: tcp_sock's
// srtt_us, mdev_us, mdev_max_us, rttvar_us, rtt_seq and
// inet_connection_sock's icsk_rto and icsk_backoff, in Linux's fixed
// point (microseconds; SRTT scaled by 8, mdev by 4).
type RTTEstimator struct {
	SrttUS    uint32 // srtt_us: SRTT << 3, 0 before the first sample
	MdevUS    uint32 // mdev_us: the mean deviation << 2
	MdevMaxUS uint32 // mdev_max_us: the largest mdev of this window of data
	RttvarUS  uint32 // rttvar_us: RTTVAR, as the RTO uses it
	RttSeq    uint32 // rtt_seq: snd_nxt when RTTVAR was last settled
	// RTO is icsk_rto, in whole jiffies as Linux keeps it.
	RTO time.Duration
	// Backoff is icsk_backoff: RTOs since the last valid RTT sample.
	Backoff uint8
	// RTOMin is tcp_rto_min (RTAX_RTO_MIN of the route, TCP_RTO_MIN by
	// default).
	RTOMin time.Duration
}

// NewRTTEstimator returns the state of a new connection: no sample, the
// RTO at TCP_TIMEOUT_INIT (1 s).
func NewRTTEstimator() RTTEstimator {
	return RTTEstimator{RTO: TCPTimeoutInit, RTOMin: TCPRtoMin}
}

func (e *RTTEstimator) rtoMinUS() int64 { return int64(e.RTOMin / time.Microsecond) }

// Estimate is tcp_rtt_estimator: it folds the RTT sample mrttUS (µs) into
// SRTT and RTTVAR (RFC 6298 section 2.3, with Jacobson's gains 1/8 and
// 1/4). Linux's refinements: the first sample sets SRTT to it and RTTVAR
// to max(2*sample, rto_min) (so RTO = 3*RTT at least); a sample below
// SRTT moves mdev with a gain of 1/32 only; RTTVAR follows the largest
// mdev of each window of data (rising at once, falling by a quarter of
// the difference once snd_una passes rtt_seq) and never below rto_min.
// sndUna and sndNxt are the connection's at this ACK.
func (e *RTTEstimator) Estimate(mrttUS int64, sndUna, sndNxt uint32) {
	m := mrttUS
	srtt := int64(e.SrttUS)
	if srtt != 0 {
		m -= srtt >> 3 // the error of the estimate
		srtt += m      // srtt = 7/8 srtt + 1/8 sample
		if m < 0 {
			m = -m - int64(e.MdevUS>>2)
			if m > 0 {
				m >>= 3 // a falling RTT moves mdev slowly
			}
		} else {
			m -= int64(e.MdevUS >> 2)
		}
		e.MdevUS = uint32(int64(e.MdevUS) + m) // mdev = 3/4 mdev + 1/4 |error|
		if e.MdevUS > e.MdevMaxUS {
			e.MdevMaxUS = e.MdevUS
			if e.MdevMaxUS > e.RttvarUS {
				e.RttvarUS = e.MdevMaxUS
			}
		}
		if After(sndUna, e.RttSeq) {
			if e.MdevMaxUS < e.RttvarUS {
				e.RttvarUS -= (e.RttvarUS - e.MdevMaxUS) >> 2
			}
			e.RttSeq = sndNxt
			e.MdevMaxUS = uint32(e.rtoMinUS())
		}
	} else {
		srtt = m << 3
		e.MdevUS = uint32(m << 1)
		e.RttvarUS = uint32(max(int64(e.MdevUS), e.rtoMinUS()))
		e.MdevMaxUS = e.RttvarUS
		e.RttSeq = sndNxt
	}
	e.SrttUS = uint32(max(srtt, 1))
}

// jiffy is one tick of the kernel model's clock.
const jiffy = time.Second / kernelmodel.HZ

// SetRTO is tcp_set_rto: RTO = SRTT + RTTVAR (RFC 6298 section 2.3, where
// Linux's RTTVAR already holds 4*rttvar and at least rto_min), rounded up
// to a jiffy, at most TCP_RTO_MAX.
func (e *RTTEstimator) SetRTO() {
	us := uint32(e.SrttUS>>3 + e.RttvarUS)
	e.RTO = min(time.Duration(usecsToJiffies(us))*jiffy, TCPRtoMax)
}

// BackoffRTO is what tcp_retransmit_timer does to the timer after an RTO:
// icsk_backoff grows and the RTO doubles, up to TCP_RTO_MAX (RFC 6298
// section 5.5).
func (e *RTTEstimator) BackoffRTO() {
	e.Backoff++
	e.RTO = min(e.RTO<<1, TCPRtoMax)
}

// RTTSample is what one ACK offers tcp_ack_update_rtt, as
// tcp_clean_rtx_queue and tcp_sacktag_write_queue gather it.
type RTTSample struct {
	// SeqRTTUS is the time since the first segment this ACK newly
	// covers was sent, -1 for none. Karn's rule (RFC 6298 section 3):
	// take none when RetransAcked.
	SeqRTTUS int64
	// SACKRTTUS is the same from the first newly SACKed segment that
	// was never retransmitted, -1 for none.
	SACKRTTUS int64
	// CARTTUS is the time since the last newly (S)ACKed segment was
	// sent (ca_rtt_us, what congestion control is given), -1 for none.
	CARTTUS int64
	// RetransAcked is FLAG_RETRANS_DATA_ACKED: the ACK covers
	// retransmitted data.
	RetransAcked bool
	// Acked is FLAG_ACKED: the ACK advanced snd_una over data.
	Acked bool
	// SawTstamp, TSecr and NowTS are the segment's timestamp echo and
	// the connection's timestamp clock (tcp_time_stamp), for the RTTM
	// sample of RFC 7323 section 4.
	SawTstamp bool
	TSecr     uint32
	NowTS     uint32
}

// KarnSeqRTT applies Karn's rule to the cumulative ACK's sample: the time
// since firstAckt (when the first newly ACKed segment was sent), unless
// the ACK covers retransmitted data or nothing was newly ACKed (-1).
func KarnSeqRTT(now, firstAckt time.Duration, haveFirst, retransAcked bool) int64 {
	if !haveFirst || retransAcked {
		return -1
	}
	return int64((now - firstAckt) / time.Microsecond)
}

// TSOptRTTUS is tcp_rtt_tsopt_us: the RTT from an echoed timestamp, in µs
// (at least one tick), or -1 if the echo is from the future or too old.
func TSOptRTTUS(nowTS, tsecr uint32) int64 {
	const usPerTick = 1000000 / TCPTSHZ
	delta := nowTS - tsecr
	if delta >= (1<<31-1)/usPerTick {
		return -1
	}
	return int64(max(delta, 1)) * usPerTick
}

// AckUpdateRTT is tcp_ack_update_rtt: it picks the ACK's RTT sample — the
// cumulative ACK's, else the SACK's, else (only when the ACK advanced
// snd_una over data: RTTM rule) the timestamp echo's — and, if there is
// one, updates SRTT and the RTO and clears the backoff (RFC 6298 section
// 5.7: only a valid sample resets it). It returns the sample congestion
// control sees (ca_rtt_us, -1 for none) and whether an update happened.
func (e *RTTEstimator) AckUpdateRTT(a RTTSample, sndUna, sndNxt uint32) (caRTTUS int64, ok bool) {
	seq, ca := a.SeqRTTUS, a.CARTTUS
	if seq < 0 {
		seq = a.SACKRTTUS
	}
	if seq < 0 && a.SawTstamp && a.TSecr != 0 && a.Acked {
		seq = TSOptRTTUS(a.NowTS, a.TSecr)
		ca = seq
	}
	if seq < 0 {
		return ca, false
	}
	e.Estimate(seq, sndUna, sndNxt)
	e.SetRTO()
	e.Backoff = 0
	return ca, true
}
