package kernelmodel

import (
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
