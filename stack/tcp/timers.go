package tcp

import (
	"math/bits"
	"time"
)

// Probe0Base is tcp_probe0_base: the zero-window probe timer starts at
// the RTO, at least TCP_RTO_MIN.
func Probe0Base(rto time.Duration) time.Duration { return max(rto, TCPRtoMin) }

// Probe0When is tcp_probe0_when: the zero-window probe interval after
// backoff probes (RFC 9293 section 3.8.6.1): the base doubled per probe,
// the doubling stopping after ilog2(TCP_RTO_MAX/TCP_RTO_MIN)+1 steps, at
// most maxWhen (TCP_RTO_MAX).
func Probe0When(rto time.Duration, backoff uint8, maxWhen time.Duration) time.Duration {
	limit := uint8(bits.Len64(uint64(TCPRtoMax/TCPRtoMin)) - 1 + 1)
	return min(Probe0Base(rto)<<min(backoff, limit), maxWhen)
}

// KeepaliveAction is what tcp_keepalive_timer decides.
type KeepaliveAction uint8

// The actions.
const (
	KeepaliveWait  KeepaliveAction = iota // not idle long enough: rearm
	KeepaliveProbe                        // send a probe (TCPKeepAlive), rearm at the interval
	KeepaliveReset                        // give up: send a RST, ETIMEDOUT
)

// Keepalive is the keepalive settings of a connection: TCP_KEEPIDLE,
// TCP_KEEPINTVL, TCP_KEEPCNT (0: the net.ipv4.tcp_keepalive_* defaults)
// and TCP_USER_TIMEOUT.
type Keepalive struct {
	Time, Intvl time.Duration
	Probes      int
	UserTimeout time.Duration
}

func (k *Keepalive) when(sys *Sysctl) (idle, intvl time.Duration, probes int) {
	idle, intvl, probes = k.Time, k.Intvl, k.Probes
	if idle == 0 {
		idle = time.Duration(sys.KeepaliveTime) * time.Second
	}
	if intvl == 0 {
		intvl = time.Duration(sys.KeepaliveIntvl) * time.Second
	}
	if probes == 0 {
		probes = sys.KeepaliveProbes
	}
	return idle, intvl, probes
}

// Timer is tcp_keepalive_timer's decision (RFC 9293 section 3.8.4;
// RFC 1122 4.2.3.6): elapsed is the time since anything was last
// received (keepalive_time_elapsed), probesOut the unanswered probes so
// far. Idle for the keepalive time, it probes every interval; after that
// many unanswered probes (or, with TCP_USER_TIMEOUT, once elapsed passes
// it with a probe out) it resets. next is when to look again.
func (k *Keepalive) Timer(sys *Sysctl, elapsed time.Duration, probesOut int) (a KeepaliveAction, next time.Duration) {
	idle, intvl, probes := k.when(sys)
	if elapsed < idle {
		return KeepaliveWait, idle - elapsed
	}
	if k.UserTimeout != 0 && elapsed >= k.UserTimeout && probesOut > 0 ||
		k.UserTimeout == 0 && probesOut >= probes {
		return KeepaliveReset, 0
	}
	return KeepaliveProbe, intvl
}
