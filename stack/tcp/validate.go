package tcp

import (
	"math"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
)

// PAWS limits (include/net/tcp.h; RFC 7323 section 5).
const (
	// TCPPAWS24Days is TCP_PAWS_24DAYS: a ts_recent older than this is
	// no longer trusted (the peer's clock may have wrapped).
	TCPPAWS24Days = 24 * 24 * time.Hour
	// TCPPAWSMSL is TCP_PAWS_MSL: a RST is exempt from PAWS once
	// ts_recent is this old.
	TCPPAWSMSL = 60 * time.Second
	// TCPPAWSWindow is TCP_PAWS_WINDOW: the replay window, in ticks.
	TCPPAWSWindow = 1
)

// PAWS is the receiver's timestamp state for PAWS (RFC 7323 section 5):
// tcp_options_received's ts_recent and ts_recent_stamp (seconds of the
// clock when it was stored).
type PAWS struct {
	TSRecent      uint32 // ts_recent: the last TSval accepted in window
	TSRecentStamp int64  // ts_recent_stamp: ktime_get_seconds() then
}

func seconds(now time.Duration) int64 { return int64(now / time.Second) }

// Check is tcp_paws_check: the segment's TSval is not older than
// ts_recent by more than pawsWin ticks — or ts_recent is too old to
// judge by (24 days), or 0 (some stacks send a 0 TSval on the SYN).
func (p *PAWS) Check(rcvTSval uint32, pawsWin int32, now time.Duration) bool {
	if int32(p.TSRecent-rcvTSval) <= pawsWin {
		return true
	}
	if seconds(now) >= p.TSRecentStamp+int64(TCPPAWS24Days/time.Second) {
		return true
	}
	return p.TSRecent == 0
}

// Reject is tcp_paws_reject: the segment fails PAWS, except a RST once
// ts_recent is older than TCP_PAWS_MSL (a rebooted peer must still be
// able to reset a half-open connection).
func (p *PAWS) Reject(rcvTSval uint32, rst bool, now time.Duration) bool {
	if p.Check(rcvTSval, 0, now) {
		return false
	}
	if rst && seconds(now) >= p.TSRecentStamp+int64(TCPPAWSMSL/time.Second) {
		return false
	}
	return true
}

// Store is tcp_store_ts_recent.
func (p *PAWS) Store(rcvTSval uint32, now time.Duration) {
	p.TSRecent, p.TSRecentStamp = rcvTSval, seconds(now)
}

// Replace is tcp_replace_ts_recent (RFC 7323 section 4.3): a segment with
// a timestamp that starts at or before rcv_wup (the left edge of the last
// window advertised) updates ts_recent, if it passes PAWS.
func (p *PAWS) Replace(sawTstamp bool, rcvTSval, seq, rcvWup uint32, now time.Duration) {
	if sawTstamp && !After(seq, rcvWup) && p.Check(rcvTSval, 0, now) {
		p.Store(rcvTSval, now)
	}
}

// MayUpdateWindow is tcp_may_update_window (RFC 9293 section 3.10.7.4,
// SND.WL1/SND.WL2): the ACK is newer than the last window update, or of
// the same segment with a larger (or zero) window.
func MayUpdateWindow(ack, ackSeq, sndUna, sndWl1, sndWnd, nwin uint32) bool {
	return After(ack, sndUna) || After(ackSeq, sndWl1) || ackSeq == sndWl1 && (nwin > sndWnd || nwin == 0)
}

// DisorderedAck is tcp_disordered_ack: a segment failing PAWS is still
// taken when it is a pure duplicate ACK at rcv_nxt that does not update
// the window, with a TSval within the replay window the RTO allows
// (icsk_rto*1024/HZ ticks) — an ACK merely reordered behind a newer one.
func DisorderedAck(ack bool, seq, endSeq, ackSeq, rcvNxt, sndUna uint32, mayUpdateWnd bool, tsRecent, rcvTSval uint32, rto time.Duration) bool {
	rtoJiffies := int64(rto / (time.Second / kernelmodel.HZ))
	return ack && seq == endSeq && seq == rcvNxt &&
		ackSeq == sndUna &&
		!mayUpdateWnd &&
		int64(int32(tsRecent-rcvTSval)) <= rtoJiffies*1024/kernelmodel.HZ
}

// PAWSDiscard is tcp_paws_discard: the segment fails PAWS with the
// replay window of one tick and is not a disordered ACK.
func (p *PAWS) PAWSDiscard(rcvTSval uint32, disorderedAck bool, now time.Duration) bool {
	return !p.Check(rcvTSval, TCPPAWSWindow, now) && !disorderedAck
}

// ReceiveWindow is tcp_receive_window: what is left of the window last
// advertised (rcv_wup + rcv_wnd - rcv_nxt), at least 0.
func ReceiveWindow(rcvWup, rcvWnd, rcvNxt uint32) uint32 {
	return uint32(max(int32(rcvWup+rcvWnd-rcvNxt), 0))
}

// SeqVerdict is what tcp_sequence finds, as a drop reason.
type SeqVerdict uint8

// The verdicts (enum skb_drop_reason).
const (
	SeqOK              SeqVerdict = iota // SKB_NOT_DROPPED_YET
	SeqOld                               // SKB_DROP_REASON_TCP_OLD_SEQUENCE: ends before rcv_wup
	SeqInvalidSequence                   // SKB_DROP_REASON_TCP_INVALID_SEQUENCE: starts beyond the window
)

// String is the drop reason's name as the kfree_skb tracepoint prints it.
func (v SeqVerdict) String() string {
	switch v {
	case SeqOld:
		return "TCP_OLD_SEQUENCE"
	case SeqInvalidSequence:
		return "TCP_INVALID_SEQUENCE"
	}
	return "NOT_DROPPED_YET"
}

// Sequence is tcp_sequence, Linux's form of RFC 9293's acceptability
// test (section 3.10.7.4): a segment [seq, endSeq) is acceptable unless it
// ends before rcv_wup or starts after the right edge of the window
// advertised (rcv_nxt + ReceiveWindow).
func Sequence(seq, endSeq, rcvWup, rcvWnd, rcvNxt uint32) SeqVerdict {
	if Before(endSeq, rcvWup) {
		return SeqOld
	}
	if After(seq, rcvNxt+ReceiveWindow(rcvWup, rcvWnd, rcvNxt)) {
		return SeqInvalidSequence
	}
	return SeqOK
}

// RSTVerdict is what tcp_validate_incoming does with a RST.
type RSTVerdict uint8

// The verdicts.
const (
	RSTDiscard   RSTVerdict = iota // drop it silently
	RSTReset                       // reset the connection
	RSTChallenge                   // send a challenge ACK (RFC 5961 section 3.2)
)

// resetCheck is tcp_reset_check: after the peer's FIN, a RST at
// rcv_nxt-1 (the FIN's sequence) resets too.
func resetCheck(seq, rcvNxt uint32, st State) bool {
	return seq == rcvNxt-1 && st.In(StateCloseWait, StateLastAck, StateClosing)
}

// ValidateRST is the RST step of tcp_validate_incoming (RFC 5961 section
// 3.2, as Linux extends it): a RST outside the window (inWindow false:
// Sequence refused it) is dropped, unless it sits at the FIN; one in the
// window resets the connection only if its sequence is exactly rcv_nxt,
// the FIN's (resetCheck), or the right edge of the highest SACK block
// this end sends (sacks); any other gets a challenge ACK.
func ValidateRST(seq, rcvNxt uint32, st State, inWindow bool, sacks []SACKBlock) RSTVerdict {
	if !inWindow {
		if resetCheck(seq, rcvNxt, st) {
			return RSTReset
		}
		return RSTDiscard
	}
	if seq == rcvNxt || resetCheck(seq, rcvNxt, st) {
		return RSTReset
	}
	if len(sacks) > 0 {
		maxSACK := sacks[0].End
		for _, b := range sacks[1:] {
			maxSACK = SeqMax(maxSACK, b.End)
		}
		if seq == maxSACK {
			return RSTReset
		}
	}
	return RSTChallenge
}

// OOWRateLimited is __tcp_oow_rate_limited: at most one answer to
// out-of-window segments (dupacks, challenge ACKs) per ratelimit jiffies
// (net.ipv4.tcp_invalid_ratelimit) per connection, last holding the jiffy
// of the last one; a refusal counts in skipped (the TCPACKSkipped*
// counter of the caller's case).
func OOWRateLimited(last *uint32, nowJiffies, ratelimit uint32, skipped *uint64) bool {
	if *last != 0 {
		elapsed := int32(nowJiffies - *last)
		if elapsed >= 0 && uint32(elapsed) < ratelimit {
			*skipped++
			return true
		}
	}
	*last = nowJiffies
	return false
}

// ChallengeACKs is the per-namespace limit of tcp_send_challenge_ack
// (net->ipv4.tcp_challenge_timestamp and tcp_challenge_count): with
// net.ipv4.tcp_challenge_ack_limit below INT_MAX, about that many
// challenge ACKs a second in all, the count drawn at random each second
// from [limit/2, 3*limit/2) so that it cannot be used as a side channel
// (CVE-2016-5696). Rand is its random source, seeded per stack.
type ChallengeACKs struct {
	timestamp uint32
	count     uint32
	Rand      uint64
}

// next is a xorshift64* step (the stack's seeded stand-in for
// prandom_u32_max).
func (c *ChallengeACKs) next(n uint32) uint32 {
	if c.Rand == 0 {
		c.Rand = 0x9e3779b97f4a7c15
	}
	c.Rand ^= c.Rand >> 12
	c.Rand ^= c.Rand << 25
	c.Rand ^= c.Rand >> 27
	return uint32((c.Rand * 0x2545f4914f6cdd1d >> 32) % uint64(n))
}

// Allow is tcp_send_challenge_ack's decision: whether to send a challenge
// ACK now, for a connection whose last out-of-window answer was at
// *lastOOW; TCPChallengeACK counts what is sent, TCPACKSkippedChallenge
// what the per-connection limit held back.
func (c *ChallengeACKs) Allow(sys *Sysctl, lastOOW *uint32, now time.Duration, mib *TcpExtMIB) bool {
	j := uint32(now / (time.Second / kernelmodel.HZ))
	rl := uint32(sys.InvalidRatelimit) * kernelmodel.HZ / 1000
	if OOWRateLimited(lastOOW, j, rl, &mib.TCPACKSkippedChallenge) {
		return false
	}
	limit := sys.ChallengeACKLimit
	if limit >= math.MaxInt32 {
		mib.TCPChallengeACK++
		return true
	}
	if sec := uint32(now / time.Second); sec != c.timestamp {
		half := uint32(limit+1) >> 1
		c.timestamp = sec
		c.count = half + c.next(uint32(max(limit, 1)))
	}
	if c.count > 0 {
		c.count--
		mib.TCPChallengeACK++
		return true
	}
	return false
}
