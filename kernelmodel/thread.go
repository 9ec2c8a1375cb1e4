package kernelmodel

import (
	"iter"
	"time"
)

type threadState uint8

const (
	tsRunning   threadState = iota // its Go code runs now
	tsCharging                     // on its CPU, sleeping off charged CPU time
	tsPreempted                    // was charging when the softirq context took the CPU
	tsRunnable                     // wants the CPU
	tsBlocked                      // waits for a wake-up or a timeout; holds no CPU
	tsDead
)

// thread is a coroutine bound to one CPU: a CPU's softirq context, a
// ksoftirqd, or a Task. Only the loop resumes a thread; a thread gives the
// CPU back by yielding.
type thread struct {
	k      *Kernel
	cpu    *CPU
	name   string
	state  threadState
	next   func() (struct{}, bool)
	stop   func()
	yield  func(struct{}) bool
	timer  *Timer
	remain time.Duration // charge left when preempted

	// sleepIntent is set by prepare_to_wait (TASK_INTERRUPTIBLE) and
	// cleared by a wake-up; schedule() blocks only while it is set.
	sleepIntent bool
	timedOut    bool
	softirq     bool // the CPU's irq-exit softirq context
	idx         int  // in Kernel.threads; -1 once it is out
}

func (k *Kernel) newThread(c *CPU, name string, body func(t *thread)) *thread {
	t := &thread{k: k, cpu: c, name: name, state: tsRunnable, idx: len(k.threads)}
	t.timer = k.clock.newTimer(t.timerFired)
	t.next, t.stop = iter.Pull(func(yield func(struct{}) bool) {
		defer func() {
			t.state = tsDead
			k.dropThread(t)
			if r := recover(); r != nil && r != errThreadKilled {
				panic(r)
			}
		}()
		t.yield = yield
		body(t)
	})
	k.threads = append(k.threads, t)
	return t
}

// dropThread takes a finished thread out of Kernel.threads, so that a kernel
// that runs many short tasks keeps only the live ones.
func (k *Kernel) dropThread(t *thread) {
	i := t.idx
	if i < 0 || i >= len(k.threads) || k.threads[i] != t {
		return
	}
	last := len(k.threads) - 1
	k.threads[i] = k.threads[last]
	k.threads[i].idx = i
	k.threads[last] = nil
	k.threads = k.threads[:last]
	t.idx = -1
}

// errThreadKilled unwinds a thread whose kernel was closed.
var errThreadKilled = &struct{ string }{"kernelmodel: thread killed by Kernel.Close"}

// give yields to the loop in state s.
func (t *thread) give(s threadState) {
	t.state = s
	if !t.yield(struct{}{}) {
		panic(errThreadKilled) // Kernel.Close: unwind the thread's stack
	}
	t.state = tsRunning
}

// Close tears the kernel down: every thread (softirq contexts, ksoftirqd,
// tasks) is ended and every timer of the kernel's own is stopped, so that
// nothing of it stays reachable from the clock or from parked coroutines. A
// kernel is unusable afterwards; the clock can go on with other kernels.
// Closing a kernel from inside one of its own threads is not allowed.
func (k *Kernel) Close() {
	if k.cur != nil {
		panic("kernelmodel: Kernel.Close from inside the kernel")
	}
	threads := k.threads
	k.threads = nil
	for _, t := range threads {
		t.idx = -1
		t.timer.Stop()
		t.stop()
		t.state = tsDead
	}
	for _, c := range k.cpus {
		c.kick.Stop()
		c.ipiTimer.Stop()
		c.runq = nil
		c.curr = nil
		for _, tl := range c.timersExpired {
			tl.queued = false
		}
		c.timersExpired = nil
	}
	for _, d := range k.irqs {
		d.timer.Stop()
	}
}

// preemptionPoint sleeps off the CPU time charged so far, letting other
// events (hardirqs) run in between. In a real-time run it just lets the loop
// run what is due.
func (t *thread) preemptionPoint() {
	c := t.cpu
	d := c.acc
	c.acc = 0
	if d <= 0 && !t.k.clock.real {
		return
	}
	if t.k.clock.advance(d) {
		return // nothing could have run in between
	}
	t.timer.Reset(d)
	t.give(tsCharging)
}

// hardirqWait is the check every hardirq source (a device interrupt, an IPI,
// the local timer) makes when its event comes due: whether the CPU can take
// it now. If it cannot, it re-arms tm for when it can and reports true.
//
// The CPU is busy while another hardirq runs (irqBusyUntil) and while the
// thread that holds it sleeps off the CPU time of the code it ran last: that
// code has run already, at the start of the interval, and its trace points
// and device accesses carry the times up to the end of it. So an interrupt
// is taken at the end of such a section, as if the section ran with
// interrupts off, never inside it; the thread's timer is moved behind the
// interrupt's so that the interrupt runs before the thread's next section.
// Sections are short: every device access, NAPI poll and softirq vector
// ends one.
func (c *CPU) hardirqWait(tm *Timer) bool {
	now := c.k.clock.Now()
	at := c.irqBusyUntil
	t := c.top()
	if t != nil && t.state == tsCharging && t.timer.When() > at {
		at = t.timer.When()
	}
	if now >= at {
		return false
	}
	tm.ResetAt(at)
	if t != nil && t.state == tsCharging && t.timer.When() == at {
		t.timer.ResetAt(at) // behind tm
	}
	return true
}

// hardirqEntry is the first half of taking a device interrupt: the CPU pays
// irq entry (Cost.HardirqEntry) before the handler runs, so that the
// handler's first register access (e1000_intr's ICR read) reaches the device
// at the CPU's time. It reserves the CPU and re-arms tm for the handler; it
// returns the time the hardirq began.
func (c *CPU) hardirqEntry(tm *Timer) time.Duration {
	now := c.k.clock.Now()
	c.irqBusyUntil = now + c.k.Cost.HardirqEntry
	tm.ResetAt(c.irqBusyUntil)
	return now
}

// traceBeginAt opens a hardirq span that began at ts.
func (k *Kernel) traceBeginAt(c *CPU, name string, ts time.Duration) {
	if k.tr != nil {
		k.tr.event(k, c.ID, 'B', name, ts, 0, 0, hardirqTrack)
	}
}

// mmioEnter starts a device access (a register read or write through a BAR)
// from the running CPU: it charges Cost.MMIO and, in thread context (softirq,
// ksoftirqd, a task), sleeps off the CPU's account first, so that the access
// reaches the device when the CPU makes it (loop time == CPU time). It
// returns the thread, for mmioExit. In hardirq context the handler cannot
// yield: the device sees the loop's time, which is the handler's start (after
// irq entry) and lags the CPU by the cost of the handler's earlier accesses.
func (k *Kernel) mmioEnter() *thread {
	c := k.cur
	if c == nil || k.clock.real {
		return nil
	}
	c.acc += k.Cost.MMIO
	t := c.running
	if t == nil || c.inHardirq {
		return nil
	}
	t.preemptionPoint()
	return t
}

// mmioExit ends a device access from thread t (nil: nothing to do): when the
// access made something due now (the interrupt a write to IMS just unmasked,
// a TX doorbell's DMA), the thread gives way so that it runs first and, if
// it is a hardirq on this CPU, preempts the thread as on real hardware.
func (k *Kernel) mmioExit(t *thread) {
	if t != nil && k.clock.due() {
		t.timer.Reset(0)
		t.give(tsCharging)
	}
}

// block gives the CPU up until wake (or the timer, if armed).
func (t *thread) block() {
	c := t.cpu
	if d := c.acc; d > 0 {
		// The CPU time used before blocking is still owed.
		t.preemptionPoint()
	}
	t.give(tsBlocked)
}

// wake makes a blocked thread runnable. It may be called from anywhere.
func (t *thread) wake() bool {
	t.sleepIntent = false
	if t.state != tsBlocked {
		return false
	}
	t.timer.Stop()
	t.state = tsRunnable
	t.cpu.enqueue(t)
	return true
}

func (t *thread) timerFired() {
	c := t.cpu
	switch t.state {
	case tsCharging:
		if now := t.k.clock.Now(); now < c.irqBusyUntil {
			t.timer.ResetAt(c.irqBusyUntil)
			return
		}
		c.resume(t)
	case tsBlocked:
		t.timedOut = true
		t.sleepIntent = false
		t.state = tsRunnable
		c.enqueue(t)
	}
}

// enqueue puts a runnable task on the CPU's run queue and makes sure the CPU
// will look at it.
func (c *CPU) enqueue(t *thread) {
	if t.softirq {
		c.kickAt(c.k.clock.Now())
		return
	}
	c.runq = append(c.runq, t)
	c.kickAt(c.k.clock.Now())
}

func (c *CPU) kickAt(at time.Duration) {
	if at < c.irqBusyUntil {
		at = c.irqBusyUntil
	}
	if !c.kick.Pending() || c.kick.When() > at {
		c.kick.ResetAt(at)
	}
}

// top is the context that owns the CPU: the softirq context if active, else
// the current task.
func (c *CPU) top() *thread {
	if c.softirqActive {
		return c.softirqThr
	}
	return c.curr
}

// dispatch is the scheduler: it runs on the loop when the CPU may have
// become free and gives it to the highest context that can run.
func (c *CPU) dispatch() {
	if c.running != nil {
		return
	}
	if now := c.k.clock.Now(); now < c.irqBusyUntil {
		c.kickAt(c.irqBusyUntil)
		return
	}
	if c.softirqActive {
		if c.softirqThr.state == tsRunnable {
			c.resume(c.softirqThr)
		}
		return
	}
	if t := c.curr; t != nil {
		switch t.state {
		case tsPreempted:
			t.state = tsCharging
			t.timer.Reset(t.remain)
			return
		case tsRunnable:
			c.resume(t)
			return
		case tsCharging, tsRunning:
			return
		}
		c.curr = nil
	}
	for len(c.runq) > 0 {
		t := c.runq[0]
		copy(c.runq, c.runq[1:])
		c.runq = c.runq[:len(c.runq)-1]
		if t.state != tsRunnable {
			continue
		}
		c.curr = t
		c.resume(t)
		return
	}
}

// resume runs t on c until it yields.
func (c *CPU) resume(t *thread) {
	if c.running != nil || c.k.cur != nil {
		panic("kernelmodel: thread resumed from inside a CPU")
	}
	c.running = t
	c.k.cur = c
	t.state = tsRunning
	t.next()
	c.k.cur = nil
	c.running = nil
	switch t.state {
	case tsCharging:
		return
	case tsRunnable:
		// Yielded the CPU voluntarily (cond_resched): to the back.
		if !t.softirq {
			if c.curr == t {
				c.curr = nil
			}
			c.runq = append(c.runq, t)
		}
	case tsBlocked, tsDead:
		if c.curr == t {
			c.curr = nil
		}
	}
	c.kickAt(c.k.clock.Now())
}

// startSoftirq is invoke_softirq's hand-off to the CPU's softirq context: the
// current task, if it is using the CPU, is preempted. It keeps the CPU time
// it still has to sleep off after the hardirq that started the softirq.
func (c *CPU) startSoftirq() {
	if c.softirqActive {
		return
	}
	c.softirqActive = true
	if t := c.curr; t != nil && t.state == tsCharging {
		t.remain = max(t.timer.When()-max(c.k.clock.Now(), c.irqBusyUntil), 0)
		t.timer.Stop()
		t.state = tsPreempted
	}
	c.softirqThr.state = tsRunnable
	c.kickAt(c.k.clock.Now())
}

func (c *CPU) softirqLoop(t *thread) {
	for {
		c.doSoftirq(t)
		if c.pending != 0 && !c.ksoftirqdRunning() {
			// Raised by a hardirq while the context was giving the CPU
			// back: that hardirq's irq_exit found softirqs running and
			// left the work to us.
			continue
		}
		c.softirqActive = false
		t.give(tsBlocked)
	}
}

// Task is a kernel thread bound to one CPU (kthread_create_on_cpu): pktgen,
// ksoftirqd, or code that blocks like a process (a test's "user", later a
// socket caller). Its methods may be called only from the task itself.
type Task struct {
	t *thread
	k *Kernel
}

// Spawn starts fn as a task on CPU cpu (kthread_run). It runs when the CPU
// gets to it.
func (k *Kernel) Spawn(cpu int, name string, fn func(t *Task)) *Task {
	c := k.cpus[cpu]
	task := &Task{k: k}
	k.nTasks++
	task.t = k.newThread(c, name, func(*thread) { fn(task) })
	c.enqueue(task.t)
	return task
}

// Name is the task's name.
func (t *Task) Name() string { return t.t.name }

// CPU is the CPU the task is bound to.
func (t *Task) CPU() *CPU { return t.t.cpu }

// Done reports whether the task has returned.
func (t *Task) Done() bool { return t.t.state == tsDead }

// Charge consumes d of CPU time (see Kernel.Charge).
func (t *Task) Charge(d time.Duration) { t.k.Charge(d) }

// CondResched is cond_resched(): sleep off charged CPU time, letting
// interrupts and softirqs in, and give the CPU to another runnable task if
// there is one (need_resched).
func (t *Task) CondResched() {
	t.t.preemptionPoint()
	if len(t.t.cpu.runq) > 0 {
		t.t.give(tsRunnable)
	}
}

// Yield is yield(): give the CPU to other runnable tasks.
func (t *Task) Yield() {
	t.t.preemptionPoint()
	t.t.give(tsRunnable)
}

// Sleep is msleep / schedule_timeout_uninterruptible: block for d.
func (t *Task) Sleep(d time.Duration) {
	t.t.sleepIntent = true
	t.ScheduleTimeout(d)
}

// SetInterruptible is set_current_state(TASK_INTERRUPTIBLE): the next
// Schedule blocks unless a wake-up comes first.
func (t *Task) SetInterruptible() { t.t.sleepIntent = true }

// SetRunning is __set_current_state(TASK_RUNNING).
func (t *Task) SetRunning() { t.t.sleepIntent = false }

// Schedule is schedule(): block until woken, if the task's state says so.
func (t *Task) Schedule() {
	if !t.t.sleepIntent {
		t.t.preemptionPoint()
		return
	}
	t.t.block()
}

// ScheduleTimeout is schedule_timeout(): like Schedule, but wakes after d at
// the latest. It reports whether the timeout expired.
func (t *Task) ScheduleTimeout(d time.Duration) bool {
	th := t.t
	th.timedOut = false
	if !th.sleepIntent {
		th.preemptionPoint()
		return false
	}
	if c := th.cpu; c.acc > 0 {
		th.preemptionPoint()
	}
	th.timer.Reset(d)
	th.give(tsBlocked)
	return th.timedOut
}

// WakeUpProcess is wake_up_process(): make a blocked task runnable.
func (t *Task) WakeUpProcess() bool { return t.t.wake() }
