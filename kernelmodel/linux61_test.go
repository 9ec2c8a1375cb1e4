package kernelmodel

import (
	"testing"
	"time"
)

// Linux 6.1's __do_softirq restarts while jiffies is before the end it took
// at the start (msecs_to_jiffies(2) = 2 jiffies): with 600 µs per pass, a
// start late in a jiffy gets 2 passes (the second ends in jiffy 2), a start
// early in one gets 4.
func TestDoSoftirqTimeLimitJiffies(t *testing.T) {
	for _, tc := range []struct {
		start      time.Duration
		wantInline int
	}{
		{100 * time.Microsecond, 4},
		{900 * time.Microsecond, 2},
	} {
		cost := CostModel{}
		k := New(Config{CPUs: 1, Cost: &cost})
		c := k.CPU(0)
		runs, inline := 0, 0
		k.OpenSoftirq(BLOCK_SOFTIRQ, func(c *CPU) {
			runs++
			if c.running.softirq {
				inline++
			}
			k.Charge(600 * time.Microsecond)
			if runs < 8 {
				c.raiseSoftirqIrqoff(BLOCK_SOFTIRQ)
			}
		})
		irq := k.AllocIRQ()
		k.RequestIRQ(irq, func(int) IRQReturn { c.raiseSoftirqIrqoff(BLOCK_SOFTIRQ); return IRQ_HANDLED }, "t")
		k.Clock().RunUntil(tc.start)
		k.Raise(irq)
		k.Clock().RunFor(time.Second)
		if runs != 8 || inline != tc.wantInline || c.SoftirqHandoffs != 1 {
			t.Errorf("start %v: %d runs, %d in irq-exit context (want %d), %d hand-offs", tc.start, runs, inline, tc.wantInline, c.SoftirqHandoffs)
		}
	}
}

// __do_softirq does not restart when a task waits for the CPU
// (need_resched): it wakes ksoftirqd after the first pass.
func TestDoSoftirqNeedResched(t *testing.T) {
	k := New(Config{CPUs: 1})
	c := k.CPU(0)
	runs, inline := 0, 0
	k.OpenSoftirq(BLOCK_SOFTIRQ, func(c *CPU) {
		runs++
		if c.running.softirq {
			inline++
		}
		if runs < 5 {
			c.raiseSoftirqIrqoff(BLOCK_SOFTIRQ)
		}
	})
	taskRan := false
	irq := k.AllocIRQ()
	k.RequestIRQ(irq, func(int) IRQReturn {
		k.Spawn(0, "woken", func(*Task) { taskRan = true }) // a task becomes runnable
		c.raiseSoftirqIrqoff(BLOCK_SOFTIRQ)
		return IRQ_HANDLED
	}, "t")
	k.Raise(irq)
	k.Clock().RunFor(time.Millisecond)
	if runs != 5 || inline != 1 || c.SoftirqHandoffs != 1 || !taskRan {
		t.Errorf("%d runs, %d in irq-exit context (want 1), %d hand-offs, task ran %v", runs, inline, c.SoftirqHandoffs, taskRan)
	}
}

// Linux 6.1's ksoftirqd_running(): once ksoftirqd is woken, irq_exit leaves
// pending softirqs to it, except those in SOFTIRQ_NOW_MASK (HI, TASKLET),
// which run at irq exit at once.
func TestKsoftirqdRunningNowMask(t *testing.T) {
	for _, tc := range []struct {
		nr         int
		wantInline bool
	}{
		{BLOCK_SOFTIRQ, false},
		{HI_SOFTIRQ, true},
		{TASKLET_SOFTIRQ, true},
	} {
		k := New(Config{CPUs: 1})
		c := k.CPU(0)
		var ranInline, ran bool
		k.OpenSoftirq(tc.nr, func(c *CPU) { ran, ranInline = true, c.running.softirq })
		irq := k.AllocIRQ()
		k.RequestIRQ(irq, func(int) IRQReturn { c.raiseSoftirqIrqoff(tc.nr); return IRQ_HANDLED }, "t")
		k.Spawn(0, "busy", func(task *Task) {
			c.RaiseSoftirq(IRQ_POLL_SOFTIRQ) // outside interrupt context: wakes ksoftirqd
			task.Charge(100 * time.Microsecond)
			k.Raise(irq) // taken at the end of this section, ksoftirqd runnable
			task.CondResched()
		})
		k.Clock().RunFor(time.Millisecond)
		if !ran || ranInline != tc.wantInline {
			t.Errorf("%s: ran %v, at irq exit %v, want %v", SoftirqName(tc.nr), ran, ranInline, tc.wantInline)
		}
	}
}

// __napi_poll of Linux 6.1 does not clamp what a driver returns above its
// weight (it warns): the whole count comes off net_rx_action's budget, so
// two instances that each return 100 of 64 exhaust a budget of 150.
func TestNAPIPollOverWeightCountsInBudget(t *testing.T) {
	k := New(Config{CPUs: 1})
	k.Sysctl.NetdevBudget = 150
	a, b := newTestDev(t, k, 0), newTestDev(t, k, 0)
	for _, d := range []*testDev{a, b} {
		calls := 0
		d.napi.Poll = func(n *NAPI, budget int) int {
			if calls++; calls > 3 {
				n.NAPICompleteDone(0)
				return 0
			}
			return 100
		}
		d.arrive(1)
	}
	k.Clock().RunFor(time.Millisecond)
	if a.napi.OverBudget != 3 || b.napi.OverBudget != 3 {
		t.Errorf("over-budget polls %d %d, want 3 3", a.napi.OverBudget, b.napi.OverBudget)
	}
	if got := k.CPU(0).Softnet.TimeSqueeze; got != 3 {
		t.Errorf("time_squeeze %d, want 3 (100+100 > 150 in each of three passes)", got)
	}
}

// A driver that completes and reschedules its instance, then returns its
// whole weight, leaves it on the poll list once (not also on the repoll
// list): it is polled again in the next net_rx_action, as in Linux 6.1, and
// another busy instance on the same CPU is not lost.
func TestNAPIRescheduledBeforeBudget(t *testing.T) {
	k := New(Config{CPUs: 1})
	d, other := newTestDev(t, k, 0), newTestDev(t, k, 0)
	other.sink()
	calls := 0
	d.napi.Poll = func(n *NAPI, budget int) int {
		calls++
		n.NAPICompleteDone(budget)
		if calls < 4 {
			n.NAPISchedule()
			return budget
		}
		return 0
	}
	d.arrive(1)
	other.arrive(130)
	k.Clock().RunFor(time.Millisecond)
	if calls != 4 || len(other.received) != 130 || !k.CPU(0).Softnet.pollList.empty() || d.napi.State()&NAPI_STATE_SCHED != 0 {
		t.Errorf("polled %d times (want 4), other received %d of 130, poll list empty %v, state %#x",
			calls, len(other.received), k.CPU(0).Softnet.pollList.empty(), d.napi.State())
	}
}

// napi_disable of a scheduled instance waits until the poll in progress is
// done (6.1: usleep_range(20, 200) while SCHED or NPSVC is set), then owns
// it: SCHED and NPSVC set, DISABLE cleared, no poll runs until napi_enable.
func TestNAPIDisableScheduled(t *testing.T) {
	cost := DefaultCost()
	cost.RxDescriptor = 10 * time.Microsecond
	k := New(Config{CPUs: 2, Cost: &cost})
	d := newTestDev(t, k, 0)
	d.sink()
	d.arrive(40) // a 400 µs poll on CPU 0
	var pollEnd, disabledAt time.Duration
	d.pollHook = func(*testDev) {
		// A register access before completing (as e1000_clean's ring
		// writes): the poll's CPU time is paid before NAPI completes.
		k.cur.running.preemptionPoint()
		pollEnd = k.Now()
	}
	k.Clock().RunFor(50 * time.Microsecond)
	if d.napi.State()&NAPI_STATE_SCHED == 0 {
		t.Fatal("not scheduled")
	}
	k.Spawn(1, "ifdown", func(task *Task) {
		d.napi.NAPIDisable(task)
		disabledAt = k.Now()
	})
	k.Clock().RunFor(5 * time.Millisecond)
	if disabledAt == 0 || disabledAt < pollEnd || disabledAt > pollEnd+300*time.Microsecond {
		t.Errorf("napi_disable returned at %v, the poll ended at %v", disabledAt, pollEnd)
	}
	if s := d.napi.State(); s&(NAPI_STATE_SCHED|NAPI_STATE_NPSVC) != NAPI_STATE_SCHED|NAPI_STATE_NPSVC || s&NAPI_STATE_DISABLE != 0 {
		t.Errorf("state after napi_disable %#x", s)
	}
	polls := d.napi.Polls
	d.arrive(5)
	k.Clock().RunFor(time.Millisecond)
	if d.napi.Polls != polls || len(d.received) != 40 {
		t.Errorf("disabled instance polled: %d polls, %d received", d.napi.Polls-polls, len(d.received))
	}
}
