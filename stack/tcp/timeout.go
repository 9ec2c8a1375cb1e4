package tcp

import (
	"math/bits"
	"time"
)

// ModelTimeout is tcp_model_timeout: how long boundary retransmissions
// take when the RTO starts at rtoBase and doubles up to TCP_RTO_MAX —
// the time after which retransmits_timed_out gives up. With
// tcp_retries2 15 and TCP_RTO_MIN that is 924.6 s; with tcp_syn_retries 6
// and the 1 s initial RTO, 127 s.
func ModelTimeout(boundary int, rtoBase time.Duration) time.Duration {
	thresh := bits.Len64(uint64(TCPRtoMax/rtoBase)) - 1 // ilog2
	if boundary <= thresh {
		return time.Duration((2<<boundary)-1) * rtoBase
	}
	return time.Duration((2<<thresh)-1)*rtoBase + time.Duration(boundary-thresh)*TCPRtoMax
}

// RetransmitsTimedOut is retransmits_timed_out: whether a connection
// that has retransmitted (retransmits > 0) since retransStamp (the
// timestamp clock, ms) has been at it longer than the model of boundary
// retransmissions allows — or than userTimeout (TCP_USER_TIMEOUT) when
// that is set. synState says the connection is in SYN_SENT or SYN_RECV,
// whose RTO starts at TCP_TIMEOUT_INIT instead of TCP_RTO_MIN.
func RetransmitsTimedOut(retransmits int, retransStamp, nowTS uint32, boundary int, synState bool, userTimeout time.Duration) bool {
	if retransmits == 0 {
		return false
	}
	timeout := userTimeout
	if timeout == 0 {
		base := TCPRtoMin
		if synState {
			base = TCPTimeoutInit
		}
		timeout = ModelTimeout(boundary, base)
	}
	return int32(nowTS-retransStamp-uint32(timeout/time.Millisecond)) >= 0
}
