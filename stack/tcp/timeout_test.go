package tcp

import (
	"testing"
	"time"
)

func TestModelTimeout(t *testing.T) {
	for _, c := range []struct {
		boundary int
		base     time.Duration
		want     time.Duration
	}{
		{15, TCPRtoMin, 924600 * time.Millisecond}, // tcp_retries2: the famous 924.6 s
		{6, TCPTimeoutInit, 127 * time.Second},     // tcp_syn_retries: 1+2+...+64
		{5, TCPTimeoutInit, 63 * time.Second},      // tcp_synack_retries
		{3, TCPRtoMin, 3 * time.Second},            // tcp_retries1: 0.2*(2^4-1)
		{9, TCPRtoMin, 204600 * time.Millisecond},  // the last doubling below 120 s
		{10, TCPRtoMin, 324600 * time.Millisecond}, // then 120 s each
	} {
		if got := ModelTimeout(c.boundary, c.base); got != c.want {
			t.Errorf("ModelTimeout(%d, %v) = %v, want %v", c.boundary, c.base, got, c.want)
		}
	}
}

func TestRetransmitsTimedOut(t *testing.T) {
	const start = 1000000
	if RetransmitsTimedOut(0, start, start+2000000, 15, false, 0) {
		t.Error("timed out without retransmitting")
	}
	if RetransmitsTimedOut(5, start, start+924599, 15, false, 0) || !RetransmitsTimedOut(5, start, start+924600, 15, false, 0) {
		t.Error("tcp_retries2's 924.6 s")
	}
	if RetransmitsTimedOut(3, start, start+126999, 6, true, 0) || !RetransmitsTimedOut(3, start, start+127000, 6, true, 0) {
		t.Error("tcp_syn_retries' 127 s")
	}
	if !RetransmitsTimedOut(1, start, start+5000, 15, false, 5*time.Second) {
		t.Error("TCP_USER_TIMEOUT")
	}
	wrapStart := uint32(0xfffff000)
	if !RetransmitsTimedOut(1, wrapStart, wrapStart+924600, 15, false, 0) {
		t.Error("across the wrap of the timestamp clock")
	}
}
