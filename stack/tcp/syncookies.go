package tcp

import (
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
)

// SYN cookies (net/ipv4/syncookies.c): with the SYN queue full, a listener
// answers a SYN without keeping state; the SYN-ACK's sequence number
// carries what the connection needs, and the final ACK brings it back
// (RFC 4987 section 3.6).
//
// The cookie is
//
//	H0(4-tuple) + seq + (count << 24) + ((H1(4-tuple, count) + mssind) mod 2^24)
//
// with seq the client's ISN, count the minutes of tcp_cookie_time (the
// top 8 bits), H0 and H1 SipHash under the two syncookie secrets and
// mssind the index of the MSS in msstab.
const (
	cookieBits = 24 // COOKIEBITS
	cookieMask = 1<<cookieBits - 1
	// MaxSyncookieAge is MAX_SYNCOOKIE_AGE: a cookie is good in the
	// minute it was made and the next.
	MaxSyncookieAge = 2
	// TCPSyncookiePeriod is TCP_SYNCOOKIE_PERIOD: the counter's tick.
	TCPSyncookiePeriod = 60 * time.Second
	// TCPSyncookieValid is TCP_SYNCOOKIE_VALID: how long after the SYN
	// queue last overflowed cookie ACKs are still looked at.
	TCPSyncookieValid = MaxSyncookieAge * TCPSyncookiePeriod
)

// msstab is msstab: the MSS values a cookie can carry (2 bits), sorted.
var msstab = [...]uint16{536, 1300, 1440, 1460}

// CookieTime is tcp_cookie_time: the minutes of the jiffies clock.
func CookieTime(now time.Duration) uint32 {
	jiffies := uint64(now / (time.Second / kernelmodel.HZ))
	return uint32(jiffies / uint64(TCPSyncookiePeriod/(time.Second/kernelmodel.HZ)))
}

func (k *Secrets) cookieHash(saddr, daddr [4]byte, sport, dport uint16, count uint32, c int) uint32 {
	var buf [16]byte
	tuple(&buf, saddr, daddr, sport, dport, count)
	return uint32(sipHash24(k.cookie[c], buf[:]))
}

// CookieV4InitSequence is __cookie_v4_init_sequence: the cookie for a SYN
// from saddr:sport to daddr:dport with sequence number seq and MSS option
// mss. The MSS is rounded down to an msstab value (below 536 it becomes
// 536, as Linux's), which it returns with the cookie.
func (k *Secrets) CookieV4InitSequence(saddr, daddr [4]byte, sport, dport uint16, seq uint32, mss uint16, now time.Duration) (cookie uint32, cookieMSS uint16) {
	i := len(msstab) - 1
	for ; i > 0; i-- {
		if mss >= msstab[i] {
			break
		}
	}
	count := CookieTime(now)
	cookie = k.cookieHash(saddr, daddr, sport, dport, 0, 0) + seq + count<<cookieBits +
		(k.cookieHash(saddr, daddr, sport, dport, count, 1)+uint32(i))&cookieMask
	return cookie, msstab[i]
}

// CookieV4Check is __cookie_v4_check: whether the ACK (its seq and
// ack_seq) from saddr:sport to daddr:dport completes a handshake this
// stack answered with a cookie in the last MaxSyncookieAge minutes; it
// returns the MSS the cookie carries, or 0 when the cookie is bad or
// stale (SyncookiesFailed).
func (k *Secrets) CookieV4Check(saddr, daddr [4]byte, sport, dport uint16, seq, ackSeq uint32, now time.Duration) uint16 {
	cookie := ackSeq - 1
	sseq := seq - 1
	count := CookieTime(now)
	cookie -= k.cookieHash(saddr, daddr, sport, dport, 0, 0) + sseq
	diff := (count - cookie>>cookieBits) & (^uint32(0) >> cookieBits)
	if diff >= MaxSyncookieAge {
		return 0
	}
	mssind := (cookie - k.cookieHash(saddr, daddr, sport, dport, count-diff, 1)) & cookieMask
	if mssind >= uint32(len(msstab)) {
		return 0
	}
	return msstab[mssind]
}

// The options a cookie's timestamp carries in its low 6 bits
// (TS_OPT_*): the window scale (0xf for none), SACK and ECN.
const (
	tsOptWscaleMask = 0xf    // TS_OPT_WSCALE_MASK
	tsOptSACK       = 1 << 4 // TS_OPT_SACK
	tsOptECN        = 1 << 5 // TS_OPT_ECN
	tsBits          = 6      // TSBITS
)

// CookieInitTimestamp is cookie_init_timestamp: with timestamps on, the
// SYN-ACK's TSval (before the connection's offset) carries the SYN's
// window scale, SACK and ECN in its low 6 bits, and stays at or below the
// timestamp clock tsNow.
func CookieInitTimestamp(tsNow uint32, wscaleOK bool, wscale uint8, sackOK, ecnOK bool) uint32 {
	opts := uint32(tsOptWscaleMask)
	if wscaleOK {
		opts = uint32(wscale) & tsOptWscaleMask
	}
	if sackOK {
		opts |= tsOptSACK
	}
	if ecnOK {
		opts |= tsOptECN
	}
	ts := tsNow>>tsBits<<tsBits | opts
	if ts > tsNow {
		ts -= 1 << tsBits
	}
	return ts
}

// CookieTimestampDecode is cookie_timestamp_decode: it restores the SYN's
// SACK and window scale from the echoed timestamp of the cookie ACK (rx,
// with the connection's offset already taken off RcvTSecr), and reports
// whether the options are acceptable to the tunables. TstampOK is set as
// cookie_v4_check sets ireq->tstamp_ok. An ACK without a timestamp
// restores nothing (and is fine).
func CookieTimestampDecode(sys *Sysctl, rx *RxOptions) bool {
	if !rx.SawTstamp {
		// tcp_clear_options
		rx.TstampOK, rx.SackOK, rx.WscaleOK, rx.SndWscale = false, false, false, 0
		return true
	}
	if sys.Timestamps == 0 {
		return false
	}
	opts := rx.RcvTSecr
	rx.TstampOK = true
	rx.SackOK = opts&tsOptSACK != 0
	if rx.SackOK && sys.SACK == 0 {
		return false
	}
	if opts&tsOptWscaleMask == tsOptWscaleMask {
		return true // no window scaling
	}
	rx.WscaleOK = true
	rx.SndWscale = uint8(opts & tsOptWscaleMask)
	return sys.WindowScaling != 0
}

// CookieECNOK is cookie_ecn_ok: the ECN bit of the echoed timestamp, which
// counts only when the stack allows ECN (net.ipv4.tcp_ecn).
func CookieECNOK(rx *RxOptions, ecnAllowed bool) bool {
	if rx.RcvTSecr&tsOptECN == 0 {
		return false
	}
	return ecnAllowed
}
