package model

import (
	"testing"

	"github.com/nicbed/nicbed/e1000"
)

// TestStatsSaturate: statistics stick at their maximum instead of wrapping,
// 32-bit counters at 0xFFFFFFFF and the 64-bit octet counters at
// 2^64-1, in both profiles (QEMU's e1000x_inc_reg_if_not_full and
// e1000x_grow_8reg_if_not_full saturate too).
func TestStatsSaturate(t *testing.T) {
	for _, p := range []Profile{ProfileDatasheet, ProfileQEMU} {
		t.Run(p.String(), func(t *testing.T) {
			r := newRig(t, rigOpt{profile: p})
			r.setupRx(16, 2048, e1000.RCTL_SECRC|e1000.RCTL_BAM)
			st := &r.dev.st
			st.r[statIndex(e1000.GPRC)] = 0xFFFFFFFE
			st.r[statIndex(e1000.TPR)] = 0xFFFFFFFF
			st.r[statIndex(e1000.GORCL)], st.r[statIndex(e1000.GORCH)] = 0xFFFFFFFF-100, 0xFFFFFFFF
			frame := ethFrame(testMAC, peerMAC, 0x88B5, pattern(46, 1)) // 60 bytes, 64 with FCS
			r.dev.Receive(frame)
			if got := r.dev.Stat(e1000.GPRC); got != 0xFFFFFFFF {
				t.Fatalf("GPRC %#x after one frame from 0xFFFFFFFE", got)
			}
			if got := r.dev.Stat(e1000.GORCL); got != 1<<64-1-100+64 {
				t.Fatalf("GORC %#x, want 2^64-37", got)
			}
			r.dev.Receive(frame)
			r.dev.Receive(frame)
			if got := r.dev.Stat(e1000.GPRC); got != 0xFFFFFFFF {
				t.Fatalf("GPRC wrapped to %#x", got)
			}
			if got := r.dev.Stat(e1000.TPR); got != 0xFFFFFFFF {
				t.Fatalf("TPR wrapped to %#x", got)
			}
			if got := r.dev.Stat(e1000.GORCL); got != 1<<64-1 {
				t.Fatalf("GORC %#x, want 2^64-1", got)
			}
			// Reading still clears (both profiles clear GPRC and GORC).
			if r.rd(e1000.GPRC) != 0xFFFFFFFF || r.rd(e1000.GPRC) != 0 {
				t.Fatalf("GPRC read does not return the saturated value and clear")
			}
			if r.rd(e1000.GORCL) != 0xFFFFFFFF || r.rd(e1000.GORCH) != 0xFFFFFFFF || r.dev.Stat(e1000.GORCL) != 0 {
				t.Fatalf("GORC read low/high")
			}
		})
	}
}
