package tcp

import (
	"testing"
	"time"
)

func TestProbe0When(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		rto     time.Duration
		backoff uint8
		want    time.Duration
	}{
		{300 * ms, 0, 300 * ms},
		{100 * ms, 0, 200 * ms}, // at least TCP_RTO_MIN
		{300 * ms, 3, 2400 * ms},
		{300 * ms, 9, 120 * time.Second},
		{200 * ms, 9, 102400 * ms},
		{200 * ms, 10, 120 * time.Second},
		{200 * ms, 60, 120 * time.Second}, // the shift stops at 10
	} {
		if got := Probe0When(c.rto, c.backoff, TCPRtoMax); got != c.want {
			t.Errorf("Probe0When(%v, %d) = %v, want %v", c.rto, c.backoff, got, c.want)
		}
	}
}

// TestKeepalive runs the keepalive timer on an idle connection with the
// defaults: probes from 7200 s every 75 s, the reset after 9 unanswered
// ones, at 7875 s.
func TestKeepalive(t *testing.T) {
	sys := NewSysctl()
	var k Keepalive
	elapsed, probes := time.Duration(0), 0
	var sent []time.Duration
	for range 20 {
		a, next := k.Timer(&sys, elapsed, probes)
		if a == KeepaliveReset {
			break
		}
		if a == KeepaliveProbe {
			sent = append(sent, elapsed)
			probes++
		}
		elapsed += next
	}
	if len(sent) != 9 || sent[0] != 7200*time.Second || sent[8] != 7800*time.Second || elapsed != 7875*time.Second {
		t.Errorf("probes at %v, reset at %v; want 9 from 7200 s every 75 s, reset at 7875 s", sent, elapsed)
	}
	// Data arriving resets the idle time: waits the rest.
	if a, next := k.Timer(&sys, 100*time.Second, 0); a != KeepaliveWait || next != 7100*time.Second {
		t.Errorf("%v %v", a, next)
	}
	// Per-socket settings and TCP_USER_TIMEOUT.
	k = Keepalive{Time: 10 * time.Second, Intvl: time.Second, Probes: 3}
	if a, _ := k.Timer(&sys, 13*time.Second, 3); a != KeepaliveReset {
		t.Error("TCP_KEEPCNT 3")
	}
	k.UserTimeout = 20 * time.Second
	if a, _ := k.Timer(&sys, 13*time.Second, 5); a != KeepaliveProbe {
		t.Error("TCP_USER_TIMEOUT replaces the probe count")
	}
	if a, _ := k.Timer(&sys, 20*time.Second, 1); a != KeepaliveReset {
		t.Error("TCP_USER_TIMEOUT with a probe out")
	}
	if a, _ := k.Timer(&sys, 20*time.Second, 0); a != KeepaliveProbe {
		t.Error("TCP_USER_TIMEOUT without a probe out")
	}
}
