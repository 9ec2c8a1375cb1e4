package kernelmodel

import (
	"runtime"
	"testing"
	"time"
)

// A limit in the past stops the loop where it is: virtual time never goes
// backwards.
func TestRunLimitInThePast(t *testing.T) {
	clk := NewVirtualClock()
	clk.RunUntil(10 * time.Millisecond)
	fired := false
	clk.AfterFunc(time.Millisecond, func() { fired = true })
	for _, run := range []struct {
		name string
		f    func()
	}{
		{"RunUntil", func() { clk.RunUntil(5 * time.Millisecond) }},
		{"RunFor negative", func() { clk.RunFor(-time.Millisecond) }},
		{"RunWhile", func() { clk.RunWhile(func() bool { return true }, 5*time.Millisecond) }},
	} {
		run.f()
		if now := clk.Now(); now != 10*time.Millisecond {
			t.Errorf("%s with a past limit moved the clock to %v, want 10ms", run.name, now)
		}
	}
	if fired {
		t.Error("an event after the clock's time ran under a past limit")
	}
}

// A finished task leaves Kernel.threads (and its coroutine ends): a kernel
// that runs 10,000 short tasks keeps only its live threads.
func TestFinishedTasksLeave(t *testing.T) {
	k := New(Config{CPUs: 2})
	base := len(k.threads) // softirq contexts and ksoftirqd
	g0 := runtime.NumGoroutine()
	done, maxThreads := 0, 0
	for i := 0; i < 10000; i++ {
		k.Spawn(i%2, "short", func(task *Task) {
			task.Charge(time.Microsecond)
			task.CondResched()
			done++
		})
		if i%100 == 99 {
			maxThreads = max(maxThreads, len(k.threads))
			k.Clock().RunFor(time.Millisecond)
		}
	}
	k.Clock().RunFor(time.Millisecond)
	if done != 10000 {
		t.Fatalf("%d of 10000 tasks finished", done)
	}
	if n := len(k.threads); n != base {
		t.Errorf("%d threads after every task finished, want %d", n, base)
	}
	if maxThreads > base+100 {
		t.Errorf("up to %d threads with at most 100 tasks alive", maxThreads)
	}
	if g := runtime.NumGoroutine(); g > g0+10 {
		t.Errorf("%d goroutines after the tasks, %d before", g, g0)
	}
	k.Close()
	if len(k.threads) != 0 {
		t.Errorf("Close left %d threads", len(k.threads))
	}
}

// A thread sleeping off CPU time when nothing is due meanwhile advances the
// clock in place (no trip round the loop); an event due exactly at the end
// of the account still runs first, and a RunUntil limit is not overrun.
func TestAdvanceInPlace(t *testing.T) {
	k := New(Config{CPUs: 1})
	var order []string
	k.Clock().AfterFunc(10*time.Microsecond, func() { order = append(order, "timer") })
	k.Spawn(0, "t", func(task *Task) {
		task.Charge(10 * time.Microsecond)
		task.CondResched()
		order = append(order, "thread")
		task.Charge(50 * time.Microsecond)
		task.CondResched()
		order = append(order, "late")
	})
	k.Clock().RunUntil(30 * time.Microsecond)
	if len(order) != 2 || order[0] != "timer" || order[1] != "thread" {
		t.Errorf("order %v, want [timer thread]", order)
	}
	if now := k.Clock().Now(); now != 30*time.Microsecond {
		t.Errorf("RunUntil(30µs) left the clock at %v", now)
	}
	k.Clock().RunFor(time.Millisecond)
	if len(order) != 3 {
		t.Errorf("order %v after the rest", order)
	}
}
