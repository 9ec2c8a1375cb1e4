package kernelmodel

import (
	"runtime"
	"testing"
	"time"
)

// __do_softirq restarts at most MAX_SOFTIRQ_RESTART times, then hands the
// rest to ksoftirqd; a softirq that keeps itself busy past MAX_SOFTIRQ_TIME
// is handed over sooner.
func TestSoftirqRestartLimitHandsToKsoftirqd(t *testing.T) {
	for _, tc := range []struct {
		name         string
		cost         time.Duration // CPU time per run
		raises       int           // times the handler re-raises itself
		wantInline   int           // runs before the hand-off
		wantHandoffs uint64
	}{
		{"restart limit", time.Microsecond, 30, MaxSoftirqRestart, 1},
		{"time limit", 900 * time.Microsecond, 30, 3, 1},
		{"no hand-off", time.Microsecond, 5, 6, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := New(Config{CPUs: 1})
			c := k.CPU(0)
			runs, inline := 0, 0
			k.OpenSoftirq(BLOCK_SOFTIRQ, func(c *CPU) {
				runs++
				if !c.ksoftirqdRunning() {
					inline++
				}
				k.Charge(tc.cost)
				if runs <= tc.raises {
					c.raiseSoftirqIrqoff(BLOCK_SOFTIRQ)
				}
			})
			irq := k.AllocIRQ()
			k.RequestIRQ(irq, func(int) IRQReturn {
				c.raiseSoftirqIrqoff(BLOCK_SOFTIRQ)
				return IRQ_HANDLED
			}, "t")
			k.Raise(irq)
			k.Clock().RunFor(time.Second)
			if runs != tc.raises+1 {
				t.Fatalf("handler ran %d times, want %d", runs, tc.raises+1)
			}
			if inline != tc.wantInline {
				t.Errorf("ran %d times before ksoftirqd took over, want %d", inline, tc.wantInline)
			}
			if c.SoftirqHandoffs != tc.wantHandoffs {
				t.Errorf("hand-offs %d, want %d", c.SoftirqHandoffs, tc.wantHandoffs)
			}
			if (c.KsoftirqdRuns > 0) != (tc.wantHandoffs > 0) {
				t.Errorf("ksoftirqd ran %d times with %d hand-offs", c.KsoftirqdRuns, c.SoftirqHandoffs)
			}
		})
	}
}

// Softirqs raised in a hardirq run on its exit, in softirq context, right
// after the handler's CPU time.
func TestSoftirqRunsOnHardirqExit(t *testing.T) {
	k := New(Config{CPUs: 2})
	var ranAt time.Duration
	var ranOn = -1
	var inHardirq bool
	k.OpenSoftirq(TASKLET_SOFTIRQ, func(c *CPU) {
		ranAt = k.Now()
		ranOn = c.ID
		inHardirq = c.inHardirq
	})
	irq := k.AllocIRQ()
	k.SetAffinity(irq, 1)
	k.RequestIRQ(irq, func(int) IRQReturn {
		k.Charge(3 * time.Microsecond)
		k.CurrentCPU().raiseSoftirqIrqoff(TASKLET_SOFTIRQ)
		return IRQ_HANDLED
	}, "t")
	k.Clock().RunUntil(10 * time.Microsecond)
	k.Raise(irq)
	k.Clock().RunFor(time.Millisecond)
	want := 10*time.Microsecond + k.Cost.HardirqEntry + 3*time.Microsecond + k.Cost.SoftirqEntry
	if ranAt != want {
		t.Errorf("softirq ran at %v, want %v", ranAt, want)
	}
	if ranOn != 1 || inHardirq {
		t.Errorf("ran on CPU %d (in hardirq %v), want CPU 1 in softirq", ranOn, inHardirq)
	}
	if k.CPU(1).KsoftirqdRuns != 0 {
		t.Errorf("ksoftirqd ran")
	}
}

// A hardirq during a softirq's work delays it by the hardirq's CPU time.
func TestHardirqPreemptsSoftirq(t *testing.T) {
	k := New(Config{CPUs: 1})
	var done time.Duration
	k.OpenSoftirq(TASKLET_SOFTIRQ, func(c *CPU) {
		k.Charge(100 * time.Microsecond)
		c.running.preemptionPoint()
		done = k.Now()
	})
	kick := k.AllocIRQ()
	k.RequestIRQ(kick, func(int) IRQReturn {
		k.CurrentCPU().raiseSoftirqIrqoff(TASKLET_SOFTIRQ)
		return IRQ_HANDLED
	}, "kick")
	other := k.AllocIRQ()
	k.RequestIRQ(other, func(int) IRQReturn {
		k.Charge(5 * time.Microsecond)
		return IRQ_HANDLED
	}, "other")
	k.Raise(kick)
	k.Clock().AfterFunc(50*time.Microsecond, func() { k.Raise(other) })
	k.Clock().RunFor(time.Millisecond)
	h := k.Cost.HardirqEntry
	want := h + k.Cost.SoftirqEntry + 100*time.Microsecond + h + 5*time.Microsecond
	if done != want {
		t.Errorf("softirq work finished at %v, want %v", done, want)
	}
}

// local_bh_enable runs softirqs raised while BH was disabled, in the task.
func TestLocalBHEnableRunsPending(t *testing.T) {
	k := New(Config{CPUs: 1})
	var ranInTask bool
	k.OpenSoftirq(TASKLET_SOFTIRQ, func(c *CPU) { ranInTask = c.curr != nil && c.running == c.curr })
	k.Spawn(0, "bh", func(task *Task) {
		c := task.CPU()
		c.LocalBHDisable()
		c.raiseSoftirqIrqoff(TASKLET_SOFTIRQ)
		if c.SoftirqCount[TASKLET_SOFTIRQ] != 0 {
			t.Error("softirq ran with BH disabled")
		}
		c.LocalBHEnable()
		if c.SoftirqCount[TASKLET_SOFTIRQ] != 1 {
			t.Error("local_bh_enable did not run the pending softirq")
		}
	})
	k.Clock().RunFor(time.Millisecond)
	if !ranInTask {
		t.Error("softirq did not run in the task's context")
	}
}

// Clock timers fire at exactly their times; timer_list callbacks run in
// TIMER_SOFTIRQ after the timer interrupt.
func TestTimersExact(t *testing.T) {
	clk := NewVirtualClock()
	var got []time.Duration
	for _, d := range []time.Duration{7 * time.Nanosecond, time.Millisecond, 1500 * time.Microsecond, 3 * time.Second} {
		clk.AfterFunc(d, func() { got = append(got, clk.Now()) })
	}
	clk.RunFor(5 * time.Second)
	want := []time.Duration{7, time.Millisecond, 1500 * time.Microsecond, 3 * time.Second}
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Fatalf("fired at %v, want %v", got, want)
		}
	}
	if clk.Now() != 5*time.Second {
		t.Errorf("clock at %v after RunFor(5s)", clk.Now())
	}

	k := New(Config{CPUs: 1, Clock: clk})
	var tl TimerList
	var at time.Duration
	var jiffies uint64
	var fires int
	k.TimerSetup(&tl, func(*TimerList) { at, jiffies = k.Now(), k.Jiffies(); fires++ })
	start := k.Jiffies()
	k.ModTimer(&tl, start+5)
	clk.RunFor(time.Second)
	wantAt := JiffiesToDuration(start+5) + k.Cost.HardirqEntry + k.Cost.SoftirqEntry + k.Cost.TimerCallback
	if fires != 1 || at != wantAt || jiffies != start+5 {
		t.Errorf("timer_list fired %d times at %v (jiffies %d), want once at %v (jiffies %d)", fires, at, jiffies, wantAt, start+5)
	}
	// del_timer stops it; mod_timer re-arms.
	k.ModTimer(&tl, k.Jiffies()+10)
	if !k.DelTimer(&tl) {
		t.Error("del_timer of a pending timer returned false")
	}
	clk.RunFor(time.Second)
	if fires != 1 {
		t.Errorf("deleted timer fired")
	}
}

// wake_up wakes every non-exclusive waiter and one exclusive waiter.
func TestWaitQueueExclusiveWake(t *testing.T) {
	k := New(Config{CPUs: 2})
	var wq WaitQueueHead
	woken := map[string]int{}
	waiter := func(name string, exclusive bool) {
		k.Spawn(len(woken)%2, name, func(task *Task) {
			e := WaitQueueEntry{Task: task}
			if exclusive {
				wq.PrepareToWaitExclusive(&e)
			} else {
				wq.PrepareToWait(&e)
			}
			task.Schedule()
			wq.FinishWait(&e)
			woken[name]++
		})
		woken[name] = 0
	}
	waiter("acc1", true)
	waiter("acc2", true)
	waiter("acc3", true)
	waiter("poll", false)
	k.Clock().RunFor(time.Millisecond)
	if n := wq.WakeUp(); n != 2 {
		t.Errorf("wake_up woke %d, want 2", n)
	}
	k.Clock().RunFor(time.Millisecond)
	if woken["poll"] != 1 || woken["acc1"] != 1 || woken["acc2"] != 0 || woken["acc3"] != 0 {
		t.Errorf("woken %v: want poll and acc1 only", woken)
	}
	wq.WakeUp()
	k.Clock().RunFor(time.Millisecond)
	if woken["acc2"] != 1 || woken["acc3"] != 0 {
		t.Errorf("second wake_up: %v", woken)
	}
	if n := wq.WakeUpAll(); n != 1 {
		t.Errorf("wake_up_all woke %d, want 1", n)
	}
}

// Kernel.Close ends every coroutine (so nothing of the kernel stays alive)
// and leaves the shared clock usable by other kernels.
func TestKernelClose(t *testing.T) {
	clk := NewVirtualClock()
	before := runtime.NumGoroutine()
	for i := 0; i < 20; i++ {
		k := New(Config{CPUs: 4, Clock: clk})
		d := newTestDev(t, k, 0)
		d.sink()
		k.Spawn(1, "sleeper", func(task *Task) { task.Sleep(time.Hour) })
		k.Spawn(2, "waiter", func(task *Task) {
			var wq WaitQueueHead
			e := WaitQueueEntry{Task: task}
			wq.PrepareToWaitExclusive(&e)
			task.Schedule()
		})
		d.arrive(100)
		clk.RunFor(time.Millisecond)
		k.Close()
	}
	if n := clk.Pending(); n != 0 {
		t.Errorf("%d timers left on the clock after closing every kernel", n)
	}
	runtime.GC()
	if after := runtime.NumGoroutine(); after > before+2 {
		t.Errorf("goroutines %d -> %d: coroutines outlive their kernels", before, after)
	}
	k := New(Config{CPUs: 1, Clock: clk})
	d := newTestDev(t, k, 0)
	d.sink()
	d.arrive(5)
	clk.RunFor(time.Millisecond)
	if len(d.received) != 5 {
		t.Errorf("a new kernel on the clock received %d of 5", len(d.received))
	}
}
