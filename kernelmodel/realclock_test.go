package kernelmodel

import (
	"context"
	"sync"
	"testing"
	"time"
)

// In real-time mode, goroutines outside the loop (TAP readers, VFIO eventfd
// waiters) hand work to it with Post; everything else runs on the loop. Run
// under the race detector (make test does) this shows the mode is race-free.
func TestRealClockPostIsRaceFree(t *testing.T) {
	clk := NewRealClock()
	k := New(Config{CPUs: 2, Clock: clk})
	a := newTestDev(t, k, 0)
	b := newTestDev(t, k, 1)
	a.sink()
	b.sink()
	b.hash = 0xF0000000
	if err := b.dev.SetRPSCPUs(0, 0b01); err != nil {
		t.Fatal(err)
	}
	var tl TimerList
	ticks := 0
	k.TimerSetup(&tl, func(tl *TimerList) { ticks++; k.ModTimer(tl, k.Jiffies()+2) })
	k.ModTimer(&tl, k.Jiffies()+2)

	const producers, bursts, per = 4, 50, 10
	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			d := a
			if p%2 == 1 {
				d = b
			}
			for i := 0; i < bursts; i++ {
				clk.Post(func() { d.arrive(per) })
				time.Sleep(100 * time.Microsecond)
			}
		}(p)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	want := producers * bursts * per
	ok := clk.RunWhile(func() bool {
		select {
		case <-done:
			return len(a.received)+len(b.received) < want
		default:
			return true
		}
	}, clk.Now()+10*time.Second)
	if !ok {
		for _, d := range []*testDev{a, b} {
			c := k.CPU(0)
			if d == b {
				c = k.CPU(1)
			}
			t.Logf("recv %d ring %d irqOn %v napi %#x pending %x softirqActive %v thr %v ksoftirqd %v kick %v curr %v runq %d busy %v now %v", len(d.received), len(d.ring), d.irqOn, d.napi.state, c.pending, c.softirqActive, c.softirqThr.state, c.ksoftirqd.t.state, c.kick.Pending(), c.curr != nil, len(c.runq), c.irqBusyUntil, clk.Now())
		}
		t.Fatalf("received %d of %d before the deadline", len(a.received)+len(b.received), want)
	}
	clk.RunFor(20 * time.Millisecond)
	if ticks < 3 {
		t.Errorf("timer_list ticked %d times in real time", ticks)
	}
	for _, c := range b.cpus {
		if c != 0 {
			t.Fatalf("RPS to CPU 0 delivered on %d", c)
		}
	}
	if err := k.SKBAudit(); err != nil {
		t.Error(err)
	}
}

// Many goroutines post through small per-source inboxes (so they are held
// back while the loop is busy), the loop runs with Run(ctx), and another
// goroutine stops it once everything has run.
func TestRealClockSourcesAndStop(t *testing.T) {
	clk := NewRealClock()
	const producers, per = 8, 500
	ran := 0 // loop only
	all := make(chan struct{})
	var srcs []*Source
	for p := 0; p < producers; p++ {
		srcs = append(srcs, clk.NewSource("p"+itoa(p), 16))
	}
	var wg sync.WaitGroup
	for _, s := range srcs {
		wg.Add(1)
		go func(s *Source) {
			defer wg.Done()
			for i := 0; i < per; i++ {
				if err := s.Post(context.Background(), func() {
					if ran++; ran == producers*per {
						close(all)
					}
				}); err != nil {
					t.Error(err)
					return
				}
			}
		}(s)
	}
	go func() { <-all; clk.Stop() }()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := clk.Run(ctx); err != nil {
		t.Fatalf("Run: %v after %d of %d", err, ran, producers*per)
	}
	if ran != producers*per {
		t.Errorf("ran %d of %d", ran, producers*per)
	}
	// A producer counts Posted after its last function is queued, so the
	// loop may have run that function first: wait for the producers.
	wg.Wait()
	for _, s := range srcs {
		if s.Posted.Load() != per || s.Len() != 0 {
			t.Errorf("source %s: posted %d, %d left", s.Name, s.Posted.Load(), s.Len())
		}
	}
}

// A source holds at most its capacity: TryPost then refuses, Post waits
// (here until its context is cancelled) and nothing more is queued; once
// the loop has run, there is room again.
func TestRealClockBackPressure(t *testing.T) {
	clk := NewRealClock()
	s := clk.NewSource("fast", 8)
	ran := 0
	for i := 0; i < 8; i++ {
		if err := s.TryPost(func() { ran++ }); err != nil {
			t.Fatalf("post %d: %v", i, err)
		}
	}
	if err := s.TryPost(func() { ran++ }); err != ErrInboxFull {
		t.Fatalf("9th TryPost: %v, want ErrInboxFull", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	res := make(chan error)
	go func() { res <- s.Post(ctx, func() { ran++ }) }()
	cancel()
	if err := <-res; err != context.Canceled {
		t.Fatalf("Post into a full inbox returned %v, want it to wait until cancelled", err)
	}
	if s.Len() != 8 || s.Refused.Load() != 1 || s.Posted.Load() != 8 {
		t.Errorf("len %d refused %d posted %d, want 8 1 8", s.Len(), s.Refused.Load(), s.Posted.Load())
	}
	clk.Step()
	if ran != 8 || s.Len() != 0 {
		t.Fatalf("one step ran %d, left %d", ran, s.Len())
	}
	if err := s.TryPost(func() { ran++ }); err != nil {
		t.Errorf("after the loop drained: %v", err)
	}
}

// Run(ctx) returns ctx.Err() when ctx is cancelled while the loop sleeps
// towards a far timer, and Stop from another goroutine ends a Run too.
func TestRealClockRunCancelAndStop(t *testing.T) {
	clk := NewRealClock()
	fired := false
	clk.AfterFunc(time.Hour, func() { fired = true })
	ctx, cancel := context.WithCancel(context.Background())
	res := make(chan error)
	go func() { res <- clk.Run(ctx) }()
	cancel()
	select {
	case err := <-res:
		if err != context.Canceled {
			t.Errorf("Run after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context was cancelled")
	}
	started := make(chan struct{})
	clk.NewSource("starter", 1).TryPost(func() { close(started) })
	go func() { res <- clk.Run(context.Background()) }()
	<-started // the loop runs
	clk.Stop()
	select {
	case err := <-res:
		if err != nil {
			t.Errorf("Run after Stop: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after Stop")
	}
	if fired {
		t.Error("the far timer fired")
	}
}

// An outbox never blocks the loop: with the endpoint stuck, Send fills the
// buffers and then drops (counted); what was queued reaches the endpoint in
// order, as copies, once it moves again.
func TestOutboxNeverBlocks(t *testing.T) {
	gate := make(chan struct{})
	var got [][]byte
	o := NewOutbox(4, 64, func(b []byte) {
		<-gate
		got = append(got, append([]byte(nil), b...))
	})
	frame := make([]byte, 60)
	sent := 0
	for i := 0; i < 10; i++ {
		frame[0] = byte(i)
		if o.Send(frame) {
			sent++
		}
	}
	if sent != 4 || o.Dropped.Load() != 6 || o.InFlight() != 4 {
		t.Errorf("sent %d dropped %d in flight %d, want 4 6 4", sent, o.Dropped.Load(), o.InFlight())
	}
	close(gate)
	o.Close()
	if o.Sent.Load() != 4 || len(got) != 4 {
		t.Fatalf("endpoint got %d frames, Sent %d", len(got), o.Sent.Load())
	}
	for i, b := range got {
		if len(b) != 60 || b[0] != byte(i) {
			t.Errorf("frame %d: %d bytes, first %d", i, len(b), b[0])
		}
	}
	o2 := NewOutbox(2, 64, func([]byte) {})
	defer o2.Close()
	if o2.Send(make([]byte, 65)) || o2.TooBig.Load() != 1 {
		t.Error("a frame larger than the buffers was queued")
	}
	if a := testing.AllocsPerRun(100, func() { o2.Send(frame) }); a != 0 {
		t.Errorf("Send allocates %v per frame", a)
	}
}

// TestRealClockSleepNoAlloc: the real-clock loop's sleep, which a loop
// woken for every frame of a TAP runs once a frame, allocates nothing
// (it used to make a time.Timer per sleep: BenchmarkPortRX showed up to
// 1 alloc/op on a loaded machine).
func TestRealClockSleepNoAlloc(t *testing.T) {
	c := NewRealClock()
	if n := testing.AllocsPerRun(100, func() { c.sleep(time.Microsecond, nil) }); n != 0 {
		t.Errorf("sleep: %v allocs", n)
	}
	c.Stop() // a pending wake-up
	if n := testing.AllocsPerRun(100, func() { c.wakeLoop(); c.sleep(time.Hour, nil) }); n != 0 {
		t.Errorf("sleep woken: %v allocs", n)
	}
}
