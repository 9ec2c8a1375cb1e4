package testbed_test

import (
	"context"
	"errors"
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

// TestRealClockRun runs the loop as the TAP and VFIO paths will: on a
// goroutine of its own (Clock.Run), with the test's goroutine outside it. The
// test starts the flows and reads their progress only through a bounded
// inbox (Clock.NewSource, Source.Post) and ends the loop with Stop from
// its own goroutine; Run returns nil. Under -race (make test) this shows
// the testbed needs nothing but the inbox to be driven from outside.
func TestRealClockRun(t *testing.T) {
	forEachNIC(t, func(t *testing.T, nic testbed.Factory) {
		clk := kernelmodel.NewRealClock()
		tb, err := testbed.New(testbed.Config{NIC: nic, Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		if err := tb.Up(5 * time.Second); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		loop := make(chan error, 1)
		go func() { loop <- clk.Run(ctx) }()
		src := clk.NewSource("test", 2)
		// onLoop runs f on the loop and waits for it.
		onLoop := func(f func()) {
			t.Helper()
			done := make(chan struct{})
			if err := src.Post(ctx, func() { f(); close(done) }); err != nil {
				t.Fatal(err)
			}
			select {
			case <-done:
			case <-ctx.Done():
				t.Fatal(ctx.Err())
			}
		}
		const frames = 2000
		var flows []*testbed.Flow
		var startErr error
		onLoop(func() {
			for i, pair := range [][2]*testbed.Host{{tb.A, tb.B}, {tb.B, tb.A}} {
				f, err := tb.StartFlow(pair[0], pair[1], testbed.FlowConfig{Count: frames, Seed: uint64(40 + i)})
				startErr = errors.Join(startErr, err)
				flows = append(flows, f)
			}
		})
		if startErr != nil {
			t.Fatal(startErr)
		}
		for complete := false; !complete; {
			time.Sleep(2 * time.Millisecond)
			onLoop(func() { complete = flows[0].Complete() && flows[1].Complete() })
		}
		clk.Stop()
		if err := <-loop; err != nil {
			t.Fatalf("Run: %v", err)
		}
		// The loop has returned: the state is the test's again.
		for _, f := range flows {
			if err := f.Err(); err != nil {
				t.Error(err)
			}
			if missed := stats(t, f.To, "rx_missed_errors")[0]; f.Received+f.Lost != frames || f.Lost != missed {
				t.Errorf("%s->%s: received %d, lost %d, %d missed by the NIC, of %d", f.From.Name, f.To.Name, f.Received, f.Lost, missed, frames)
			}
		}
		if err := tb.Settle(5 * time.Millisecond); err != nil {
			t.Errorf("%v\n%s", err, tb.Report())
		}
		if src.Posted.Load() < 2 {
			t.Errorf("%d functions posted", src.Posted.Load())
		}
	})
}
