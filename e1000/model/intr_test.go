package model

import (
	"testing"
	"time"

	"github.com/nicbed/nicbed/e1000"
)

const us = time.Microsecond

// TestRxDelayTimers: RDTR (restarted per frame), RADV (absolute) and FPD
// raise RXT0 at exactly their model times.
func TestRxDelayTimers(t *testing.T) {
	for _, c := range []struct {
		name       string
		rdtr, radv uint32
		frames     []time.Duration // arrival times after t0
		fpdAt      time.Duration   // write RDTR.FPD then (0: never)
		want       time.Duration   // RXT0 interrupt after t0
	}{
		{"RDTR 0: immediate", 0, 0, []time.Duration{0}, 0, 0},
		{"RDTR 10", 10, 0, []time.Duration{0}, 0, 10240 * time.Nanosecond},
		{"RDTR restarted by each frame", 10, 0, []time.Duration{0, 5 * us, 9 * us}, 0, 9*us + 10240*time.Nanosecond},
		{"RADV caps a steady stream", 10, 20, []time.Duration{0, 5 * us, 10 * us, 15 * us, 20 * us, 25 * us}, 0, 20480 * time.Nanosecond},
		{"RADV later than RDTR", 10, 100, []time.Duration{0}, 0, 10240 * time.Nanosecond},
		{"FPD flushes", 1000, 0, []time.Duration{0}, 3 * us, 3 * us},
		{"RDTR 65535", 0xFFFF, 0, []time.Duration{0}, 0, 65535 * 1024 * time.Nanosecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, rigOpt{})
			r.setupRx(64, 2048, e1000.RCTL_SECRC)
			r.wr(e1000.RDTR, c.rdtr)
			r.wr(e1000.RADV, c.radv)
			r.wr(e1000.IMS, e1000.ICR_RXT0)
			r.rd(e1000.ICR)
			t0 := r.clk.Now() + 100*us
			f := ethFrame(testMAC, peerMAC, 0x88B5, pattern(100, 0))
			for _, at := range c.frames {
				r.clk.AfterFunc(t0+at-r.clk.Now(), func() { r.dev.Receive(f) })
			}
			if c.fpdAt != 0 {
				r.clk.AfterFunc(t0+c.fpdAt-r.clk.Now(), func() { r.wr(e1000.RDTR, c.rdtr|e1000.RDTR_FPD) })
			}
			r.clk.RunUntil(t0 + c.want - time.Nanosecond)
			if len(r.line.rises) != 0 {
				t.Fatalf("interrupt early, at %v after t0", r.line.rises[0]-t0)
			}
			r.clk.RunUntil(t0 + c.want)
			if len(r.line.rises) != 1 || r.line.rises[0] != t0+c.want {
				t.Fatalf("interrupts at %v, want one at t0+%v", r.line.rises, c.want)
			}
			if r.rd(e1000.ICR) != e1000.ICR_RXT0 {
				t.Fatalf("cause is not RXT0")
			}
		})
	}
}

// TestTxDelayTimers: TIDV (restarted per written-back descriptor with IDE)
// and TADV (absolute) raise TXDW at exactly their model times; without IDE
// TXDW is immediate.
func TestTxDelayTimers(t *testing.T) {
	for _, c := range []struct {
		name       string
		tidv, tadv uint32
		ide        bool
		sends      []time.Duration
		want       time.Duration
	}{
		{"no IDE: immediate", 10, 20, false, []time.Duration{0}, 0},
		{"IDE, TIDV 0: immediate", 0, 0, true, []time.Duration{0}, 0},
		{"TIDV 10", 10, 0, true, []time.Duration{0}, 10240 * time.Nanosecond},
		{"TIDV restarted", 10, 0, true, []time.Duration{0, 4 * us, 8 * us}, 8*us + 10240*time.Nanosecond},
		{"TADV caps a steady stream", 10, 20, true, []time.Duration{0, 5 * us, 10 * us, 15 * us, 20 * us, 25 * us}, 20480 * time.Nanosecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, rigOpt{})
			r.setupTx(64, e1000.TCTL_PSP)
			r.wr(e1000.TIDV, c.tidv)
			r.wr(e1000.TADV, c.tadv)
			r.wr(e1000.IMS, e1000.ICR_TXDW)
			r.rd(e1000.ICR)
			t0 := r.clk.Now() + 100*us
			f := ethFrame(peerMAC, testMAC, 0x88B5, pattern(100, 0))
			cmd := uint8(e1000.TXD_CMD_EOP | e1000.TXD_CMD_RS)
			if c.ide {
				cmd |= e1000.TXD_CMD_IDE
			}
			for _, at := range c.sends {
				r.clk.AfterFunc(t0+at-r.clk.Now(), func() {
					r.txLegacy(f, cmd)
					r.doorbell()
				})
			}
			r.clk.RunUntil(t0 + c.want - time.Nanosecond)
			if len(r.line.rises) != 0 {
				t.Fatalf("interrupt early, at t0+%v", r.line.rises[0]-t0)
			}
			r.clk.RunUntil(t0 + c.want)
			if len(r.line.rises) != 1 || r.line.rises[0] != t0+c.want {
				t.Fatalf("interrupts at %v, want one at t0+%v", r.line.rises, c.want)
			}
			if r.rd(e1000.ICR)&e1000.ICR_TXDW == 0 {
				t.Fatalf("cause is not TXDW")
			}
		})
	}
}

// floodWithISR receives a 64-byte frame every period for dur while an
// interrupt handler reads ICR and returns the descriptors at each assertion.
// It returns the assertion times.
func floodWithISR(t *testing.T, itr uint32, period, dur time.Duration) []time.Duration {
	r := newRig(t, rigOpt{})
	r.setupRx(1024, 2048, e1000.RCTL_SECRC)
	r.wr(e1000.ITR, itr)
	r.wr(e1000.IMS, e1000.ICR_RXT0|e1000.ICR_RXO|e1000.ICR_RXDMT0)
	r.rd(e1000.ICR)
	r.line.rises = nil
	r.line.onRise = func() {
		r.clk.AfterFunc(0, func() {
			r.rd(e1000.ICR)
			for {
				if f, _ := r.rxPop(); f == nil {
					break
				}
			}
		})
	}
	f := ethFrame(testMAC, peerMAC, 0x88B5, pattern(46, 0))
	start := r.clk.Now()
	var tick func()
	tick = func() {
		if r.clk.Now()-start >= dur {
			return
		}
		r.dev.Receive(f)
		r.clk.AfterFunc(period, tick)
	}
	r.clk.AfterFunc(0, tick)
	r.clk.RunFor(dur)
	if got := r.rd(e1000.MPC); got != 0 {
		t.Fatalf("%d frames missed", got)
	}
	rises := r.line.rises
	for i := range rises {
		rises[i] -= start
	}
	return rises
}

// TestITRBoundsRate: with ITR set and a steady flood, interrupts over a span
// of model time are at most span/interval + 1 and at least 90% of that, and
// no two are closer than the interval.
func TestITRBoundsRate(t *testing.T) {
	for _, rate := range []int{100000, 20000, 8000, 4000} {
		itr := uint32(1e9 / rate / 256) // interval in 256 ns units
		interval := time.Duration(itr) * 256
		rises := floodWithISR(t, itr, 2*us, 20*time.Millisecond)
		limit := int(20*time.Millisecond/interval) + 1
		if len(rises) > limit || len(rises) < limit*9/10 {
			t.Fatalf("rate %d: %d interrupts in 20 ms, want ≤ %d and ≥ 90%%", rate, len(rises), limit)
		}
		for i := 1; i < len(rises); i++ {
			if gap := rises[i] - rises[i-1]; gap < interval {
				t.Fatalf("rate %d: interrupts %v apart, interval %v", rate, gap, interval)
			}
		}
	}
	// ITR 0: no throttling, one interrupt per frame.
	rises := floodWithISR(t, 0, 10*us, time.Millisecond)
	if len(rises) != 100 {
		t.Fatalf("ITR 0: %d interrupts for 100 frames", len(rises))
	}
}

// TestITRDefersLSC: ITR applies to every cause.
func TestITRDefersLSC(t *testing.T) {
	r := newRig(t, rigOpt{})
	r.wr(e1000.ITR, 1000) // 256 µs
	r.wr(e1000.IMS, e1000.ICR_LSC|e1000.ICR_TXDW)
	r.wr(e1000.ICS, e1000.ICR_TXDW)
	first := r.clk.Now()
	r.rd(e1000.ICR)
	r.clk.RunFor(10 * us)
	r.wr(e1000.ICS, e1000.ICR_LSC)
	if r.line.level {
		t.Fatalf("asserted 10 µs after the previous interrupt with ITR 256 µs")
	}
	r.clk.RunUntil(first + 256*us)
	if !r.line.level || r.line.rises[len(r.line.rises)-1] != first+256*us {
		t.Fatalf("deferred interrupt not at +256 µs: %v", r.line.rises)
	}
}
