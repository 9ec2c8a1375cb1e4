package kernelmodel

import (
	"math/bits"
	"time"
)

// Softirq vectors, in Linux's order (include/linux/interrupt.h). Lower
// numbers run first in __do_softirq.
const (
	HI_SOFTIRQ = iota
	TIMER_SOFTIRQ
	NET_TX_SOFTIRQ
	NET_RX_SOFTIRQ
	BLOCK_SOFTIRQ
	IRQ_POLL_SOFTIRQ
	TASKLET_SOFTIRQ
	SCHED_SOFTIRQ
	HRTIMER_SOFTIRQ
	RCU_SOFTIRQ
	NR_SOFTIRQS
)

var softirqNames = [NR_SOFTIRQS]string{"HI", "TIMER", "NET_TX", "NET_RX", "BLOCK", "IRQ_POLL", "TASKLET", "SCHED", "HRTIMER", "RCU"}

// SoftirqName is the name /proc/softirqs uses for vector nr.
func SoftirqName(nr int) string {
	if nr < 0 || nr >= NR_SOFTIRQS {
		return "?"
	}
	return softirqNames[nr]
}

// CPU is one CPU of a modelled kernel.
type CPU struct {
	ID      int
	k       *Kernel
	Softnet SoftnetData

	pending   uint32 // softirq pending bits (local_softirq_pending)
	inHardirq bool
	bhCount   int // softirq_count(): > 0 while softirqs run or BH is disabled

	softirqThr    *thread // the softirq context irq_exit starts
	softirqActive bool
	ksoftirqd     *Task
	curr          *thread   // the task that holds the CPU
	runq          []*thread // runnable tasks
	running       *thread   // the thread whose code runs now
	acc           time.Duration
	irqBusyUntil  time.Duration
	kick          *Timer

	timersExpired []*TimerList
	ipiTimer      *Timer
	ipiFns        []func(c *CPU)
	ipiSpare      []func(c *CPU)

	// Counters.
	SoftirqCount    [NR_SOFTIRQS]uint64 // /proc/softirqs
	HardirqCount    uint64
	KsoftirqdRuns   uint64 // times ksoftirqd ran __do_softirq
	SoftirqHandoffs uint64 // times __do_softirq woke a sleeping ksoftirqd
}

func newCPU(k *Kernel, id int) *CPU {
	c := &CPU{ID: id, k: k}
	c.kick = k.clock.newTimer(c.dispatch)
	c.ipiTimer = k.clock.newTimer(c.ipiFire)
	c.softirqThr = k.newThread(c, "softirq", c.softirqLoop)
	c.softirqThr.softirq = true
	c.softirqThr.state = tsBlocked
	c.Softnet.init(k, c)
	return c
}

// Kernel is the CPU's kernel.
func (c *CPU) Kernel() *Kernel { return c.k }

// Pending is local_softirq_pending().
func (c *CPU) Pending() uint32 { return c.pending }

// InInterrupt is in_interrupt(): in a hardirq, in a softirq, or with BH
// disabled.
func (c *CPU) InInterrupt() bool { return c.inHardirq || c.bhCount > 0 }

// RaiseSoftirq is raise_softirq(): mark nr pending on this CPU and, when
// called outside interrupt context, make sure it will run (wake ksoftirqd).
func (c *CPU) RaiseSoftirq(nr int) {
	c.raiseSoftirqIrqoff(nr)
	if !c.InInterrupt() {
		c.wakeupSoftirqd()
	}
}

// raiseSoftirqIrqoff is __raise_softirq_irqoff: only mark it pending.
func (c *CPU) raiseSoftirqIrqoff(nr int) {
	if c.pending&(1<<nr) == 0 {
		c.k.tracePoint(c, "raise_softirq", 0, int64(nr))
	}
	c.pending |= 1 << nr
}

// softirqNowMask is SOFTIRQ_NOW_MASK: vectors irq_exit runs at once even when
// ksoftirqd is running.
const softirqNowMask = 1<<HI_SOFTIRQ | 1<<TASKLET_SOFTIRQ

// ksoftirqdRunning is ksoftirqd_running() of Linux 6.1: once ksoftirqd has
// been woken (it is runnable or running) it does the work, and irq_exit
// leaves pending softirqs to it, unless one of them is in SOFTIRQ_NOW_MASK.
// (Linux 6.5 removed this rule; 6.1 has it.)
func (c *CPU) ksoftirqdRunning() bool {
	if c.pending&softirqNowMask != 0 {
		return false
	}
	s := c.ksoftirqd.t.state
	return s != tsBlocked && s != tsDead
}

// invokeSoftirq is irq_exit's invoke_softirq(): run pending softirqs in the
// CPU's softirq context unless we are still in interrupt context or
// ksoftirqd_running() says ksoftirqd will do it.
func (c *CPU) invokeSoftirq() {
	if c.pending == 0 || c.InInterrupt() || c.softirqActive || c.ksoftirqdRunning() {
		return
	}
	c.startSoftirq()
}

// needResched is need_resched() as far as the model has a scheduler: another
// task waits for this CPU.
func (c *CPU) needResched() bool {
	for _, t := range c.runq {
		if t.state == tsRunnable {
			return true
		}
	}
	return false
}

// wakeupSoftirqd is wakeup_softirqd(); it reports whether ksoftirqd was
// asleep.
func (c *CPU) wakeupSoftirqd() bool {
	if c.ksoftirqd.t.state != tsBlocked {
		return false
	}
	c.k.tracePoint(c, "wakeup_softirqd", 0, 0)
	return c.ksoftirqd.t.wake()
}

// doSoftirq is __do_softirq() of Linux 6.1: run the pending softirqs, and
// while new ones were raised meanwhile run them again (restart), at most
// MAX_SOFTIRQ_RESTART passes in all, while jiffies is before the end
// (MAX_SOFTIRQ_TIME, msecs_to_jiffies(2) from the starting jiffy) and no task
// waits for the CPU (need_resched); what is left goes to ksoftirqd
// (wakeup_softirqd).
func (c *CPU) doSoftirq(t *thread) {
	k := c.k
	end := k.Jiffies() + uint64(MaxSoftirqTime/(time.Second/HZ))
	restart := MaxSoftirqRestart
	c.bhCount++
	k.traceBegin(c, "__do_softirq")
	k.Charge(k.Cost.SoftirqEntry)
	for {
		pending := c.pending
		c.pending = 0
		for pending != 0 {
			nr := bits.TrailingZeros32(pending)
			pending &^= 1 << nr
			c.SoftirqCount[nr]++
			k.traceBegin(c, softirqSpan[nr])
			c.runSoftirq(nr, t)
			k.traceEnd(c, softirqSpan[nr])
			t.preemptionPoint()
		}
		if c.pending == 0 {
			break
		}
		restart--
		if k.Jiffies() < end && !c.needResched() && restart > 0 {
			continue
		}
		if c.wakeupSoftirqd() {
			c.SoftirqHandoffs++
		}
		break
	}
	k.traceEnd(c, "__do_softirq")
	c.bhCount--
	t.preemptionPoint()
}

var softirqSpan = [NR_SOFTIRQS]string{"softirq HI", "softirq TIMER (run_timer_softirq)", "softirq NET_TX (net_tx_action)", "softirq NET_RX (net_rx_action)", "softirq BLOCK", "softirq IRQ_POLL", "softirq TASKLET", "softirq SCHED", "softirq HRTIMER", "softirq RCU"}

func (c *CPU) runSoftirq(nr int, t *thread) {
	switch nr {
	case TIMER_SOFTIRQ:
		c.runTimerSoftirq()
	case NET_TX_SOFTIRQ:
		c.netTxAction()
	case NET_RX_SOFTIRQ:
		c.netRxAction(t)
	default:
		if h := c.k.softirqHooks[nr]; h != nil {
			h(c)
		}
	}
}

// OpenSoftirq is open_softirq() for vectors the model does not implement
// itself (everything but TIMER, NET_TX and NET_RX); tests use it.
func (k *Kernel) OpenSoftirq(nr int, action func(c *CPU)) {
	k.softirqHooks[nr] = action
}

// startKsoftirqd starts ksoftirqd/N: it runs __do_softirq whenever woken
// with work pending, then sleeps.
func (c *CPU) startKsoftirqd() {
	c.ksoftirqd = c.k.Spawn(c.ID, "ksoftirqd/"+itoa(c.ID), func(task *Task) {
		for {
			task.SetInterruptible()
			if c.pending == 0 {
				task.Schedule()
				continue
			}
			task.SetRunning()
			c.KsoftirqdRuns++
			c.k.tracePoint(c, "run_ksoftirqd", 0, 0)
			c.doSoftirq(task.t)
			task.CondResched()
		}
	})
}

// LocalBHDisable is local_bh_disable().
func (c *CPU) LocalBHDisable() { c.bhCount++ }

// LocalBHEnable is local_bh_enable(): pending softirqs run now, in the
// caller's context, when this was the outermost disable.
func (c *CPU) LocalBHEnable() {
	c.bhCount--
	if c.bhCount == 0 && !c.inHardirq && c.pending != 0 && c.running != nil && !c.softirqActive {
		c.doSoftirq(c.running)
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
