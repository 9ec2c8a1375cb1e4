package kernelmodel

import "time"

// TimerList is a struct timer_list: a jiffies-based timer whose callback runs
// in TIMER_SOFTIRQ on the CPU that armed it (or CPU 0 when armed from outside
// any CPU).
type TimerList struct {
	Function func(t *TimerList)
	Expires  uint64 // jiffies

	k      *Kernel
	cpu    *CPU
	clk    *Timer
	queued bool // expired, waiting for TIMER_SOFTIRQ
}

// TimerSetup is timer_setup().
func (k *Kernel) TimerSetup(t *TimerList, fn func(t *TimerList)) {
	t.Function = fn
	t.k = k
	t.clk = k.clock.newTimer(t.expire)
}

// JiffiesToDuration converts a jiffies count to time.
func JiffiesToDuration(j uint64) time.Duration { return time.Duration(j) * (time.Second / HZ) }

// ModTimer is mod_timer(): (re)arm t to expire at jiffies expires. It
// reports whether t was pending.
func (k *Kernel) ModTimer(t *TimerList, expires uint64) bool {
	was := t.clk.Pending() || t.queued
	t.Expires = expires
	t.queued = false
	t.cpu = k.cur
	if t.cpu == nil {
		t.cpu = k.cpus[0]
	}
	t.clk.ResetAt(JiffiesToDuration(expires))
	return was
}

// AddTimer is add_timer().
func (k *Kernel) AddTimer(t *TimerList) { k.ModTimer(t, t.Expires) }

// DelTimer is del_timer(): disarm t; it reports whether t was pending.
func (k *Kernel) DelTimer(t *TimerList) bool {
	was := t.clk.Stop()
	if t.queued {
		t.queued = false
		was = true
	}
	return was
}

// TimerPending is timer_pending().
func (t *TimerList) TimerPending() bool { return t.clk.Pending() || t.queued }

// expire is the local timer interrupt: queue t for run_timer_softirq.
func (t *TimerList) expire() {
	c := t.cpu
	if c.hardirqWait(t.clk) {
		return
	}
	t.queued = true
	c.timersExpired = append(c.timersExpired, t)
	c.irqEnter("hardirq local_timer")
	c.raiseSoftirqIrqoff(TIMER_SOFTIRQ)
	c.irqExit("hardirq local_timer")
}

// runTimerSoftirq is run_timer_softirq(): call expired timers.
func (c *CPU) runTimerSoftirq() {
	for len(c.timersExpired) > 0 {
		t := c.timersExpired[0]
		copy(c.timersExpired, c.timersExpired[1:])
		c.timersExpired = c.timersExpired[:len(c.timersExpired)-1]
		if !t.queued {
			continue // deleted meanwhile
		}
		t.queued = false
		c.k.tracePoint(c, "timer_expire_entry", 0, int64(t.Expires))
		c.k.Charge(c.k.Cost.TimerCallback)
		t.Function(t)
	}
}
