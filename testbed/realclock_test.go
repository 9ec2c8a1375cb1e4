package testbed_test

import (
	"testing"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/testbed"
)

// TestRealClock runs the two hosts on the real clock (wall time, as the
// TAP and VFIO paths will): probe, link up, and a flow each way of mixed
// frames, pktgen flat out. make test runs it under the race detector. The
// machine may be loaded, so it asserts delivery and integrity, not rates:
// every frame arrives intact and in order, or (if the loop fell behind the
// wire by more than a ring's worth) is one the receiving NIC counted as
// missed; most arrive; the books and DMA are clean.
func TestRealClock(t *testing.T) {
	forEachNIC(t, func(t *testing.T, nic testbed.Factory) {
		clk := kernelmodel.NewRealClock()
		if clk.Virtual() {
			t.Fatal("NewRealClock is virtual")
		}
		start := time.Now()
		tb, err := testbed.New(testbed.Config{NIC: nic, Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		if tb.Clock != clk || tb.A.Kernel.Clock() != clk {
			t.Fatal("the testbed does not run on the clock it was given")
		}
		if err := tb.Up(5 * time.Second); err != nil {
			t.Fatal(err)
		}
		const frames = 2000
		cfg := testbed.FlowConfig{Count: frames, Seed: 31}
		ab, err := tb.StartFlow(tb.A, tb.B, cfg)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Seed++
		ba, err := tb.StartFlow(tb.B, tb.A, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if !tb.RunFlows(20*time.Second, ab, ba) {
			t.Fatalf("flows incomplete after 20 s of wall time: received %d and %d of %d", ab.Received, ba.Received, frames)
		}
		if err := tb.Settle(5 * time.Millisecond); err != nil {
			t.Errorf("%v\n%s", err, tb.Report())
		}
		for _, f := range []*testbed.Flow{ab, ba} {
			if err := f.Err(); err != nil {
				t.Error(err)
			}
			missed := stats(t, f.To, "rx_missed_errors")[0]
			if f.Received+f.Lost != frames || f.Lost != missed {
				t.Errorf("%s->%s: received %d, lost %d, %d missed by the NIC, of %d", f.From.Name, f.To.Name, f.Received, f.Lost, missed, frames)
			}
			if f.Received < frames*9/10 {
				t.Errorf("%s->%s: only %d of %d frames arrived", f.From.Name, f.To.Name, f.Received, frames)
			}
		}
		t.Logf("real clock: %d+%d frames, lost %d+%d, in %v of wall time (model clock at %v)",
			ab.Received, ba.Received, ab.Lost, ba.Lost, time.Since(start).Round(time.Millisecond), clk.Now().Round(time.Millisecond))
	})
}
