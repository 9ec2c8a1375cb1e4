package kernelmodel

import (
	"container/heap"
	"sync"
	"time"

	"github.com/nicbed/nicbed/hw"
)

// Clock is the time source and the event loop of a run, shared by every
// kernel, device model and cable in it.
//
// Everything that happens is an event: a timer that fires, a hardirq, a thread
// that resumes after charging CPU time. Events run one at a time on the
// goroutine that calls Run*, in (time, sequence) order.
//
// With a virtual clock (NewVirtualClock) time jumps from one event to the
// next; nothing sleeps, and the same inputs give the same event order and the
// same trace, byte for byte. With a real clock (NewRealClock) event times are
// wall times since the clock was made; the loop sleeps until the next event is
// due, and other goroutines (TAP readers, VFIO eventfds) hand work to it with
// Post. Either way no two events run at once, so neither the kernel model nor
// a device model needs locks.
type Clock struct {
	real  bool
	epoch time.Time
	now   time.Duration
	seq   uint64
	q     timerHeap
	stop  bool

	mu    sync.Mutex // guards inbox
	inbox []func()
	wake  chan struct{}
}

// NewVirtualClock makes a clock whose time moves only through the loop.
func NewVirtualClock() *Clock {
	return &Clock{}
}

// NewRealClock makes a clock that follows wall time.
func NewRealClock() *Clock {
	return &Clock{real: true, epoch: time.Now(), wake: make(chan struct{}, 1)}
}

// Virtual reports whether the clock is virtual.
func (c *Clock) Virtual() bool { return !c.real }

// Now is the time since the clock's epoch: the time of the event being run
// (virtual), or wall time (real).
func (c *Clock) Now() time.Duration {
	if c.real {
		return time.Since(c.epoch)
	}
	return c.now
}

// NewTimer implements hw.Clock.
func (c *Clock) NewTimer(f func()) hw.Timer { return c.newTimer(f) }

func (c *Clock) newTimer(f func()) *Timer {
	return &Timer{c: c, fn: f, idx: -1}
}

// AfterFunc runs f on the loop d from now. It allocates a timer; hot paths
// keep their own.
func (c *Clock) AfterFunc(d time.Duration, f func()) *Timer {
	t := c.newTimer(f)
	t.Reset(d)
	return t
}

// Post hands f to the loop from any goroutine; it runs as soon as the loop
// gets to it. This is how real-time sources (TAP, AF_PACKET, VFIO eventfds)
// enter the model. In a virtual run Post must be called from the loop.
func (c *Clock) Post(f func()) {
	if !c.real {
		c.AfterFunc(0, f)
		return
	}
	c.mu.Lock()
	c.inbox = append(c.inbox, f)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Stop makes the Run call in progress return after the current event.
func (c *Clock) Stop() { c.stop = true }

// due reports whether an event of a virtual run is due now.
func (c *Clock) due() bool { return len(c.q) > 0 && c.q[0].when <= c.now }

// Pending is the number of armed timers.
func (c *Clock) Pending() int { return len(c.q) }

// Step runs the next event, advancing virtual time to it. It reports false
// when there is none. In a real run it does not wait.
func (c *Clock) Step() bool {
	c.drainInbox()
	if len(c.q) == 0 {
		return false
	}
	t := c.q[0]
	if c.real {
		if t.when > c.Now() {
			return false
		}
	} else if t.when > c.now {
		c.now = t.when
	}
	heap.Pop(&c.q)
	t.fn()
	return true
}

// RunUntil runs events up to and including time t, then leaves the clock at
// t. A real clock sleeps between events and returns when wall time reaches t.
func (c *Clock) RunUntil(t time.Duration) {
	c.stop = false
	for !c.stop {
		c.drainInbox()
		if len(c.q) > 0 && c.q[0].when <= t {
			if c.real {
				if d := c.q[0].when - c.Now(); d > 0 {
					c.sleep(d)
					continue
				}
			}
			c.Step()
			continue
		}
		if !c.real {
			if t > c.now {
				c.now = t
			}
			return
		}
		d := t - c.Now()
		if d <= 0 {
			return
		}
		if len(c.q) > 0 && c.q[0].when-c.Now() < d {
			d = c.q[0].when - c.Now()
		}
		c.sleep(d)
	}
}

// RunFor runs the loop for d from now.
func (c *Clock) RunFor(d time.Duration) { c.RunUntil(c.Now() + d) }

// RunWhile runs events while cond holds, at most until limit. It reports
// whether cond became false (true) or the limit or an empty queue stopped it.
func (c *Clock) RunWhile(cond func() bool, limit time.Duration) bool {
	c.stop = false
	for cond() {
		if c.stop {
			return false
		}
		c.drainInbox()
		if len(c.q) == 0 && !c.real {
			return false
		}
		if c.real {
			if c.Now() > limit {
				return false
			}
			d := time.Millisecond
			if len(c.q) > 0 {
				d = min(d, c.q[0].when-c.Now())
			}
			if d > 0 {
				c.sleep(d)
				continue
			}
			c.Step()
			continue
		}
		if c.q[0].when > limit {
			c.now = limit
			return false
		}
		c.Step()
	}
	return true
}

func (c *Clock) sleep(d time.Duration) {
	t := time.NewTimer(d)
	select {
	case <-t.C:
	case <-c.wake:
		t.Stop()
	}
}

func (c *Clock) drainInbox() {
	if !c.real {
		return
	}
	c.mu.Lock()
	in := c.inbox
	c.inbox = nil
	c.mu.Unlock()
	for _, f := range in {
		f()
	}
}

// Timer is a one-shot timer on a Clock's loop. It implements hw.Timer.
type Timer struct {
	c    *Clock
	when time.Duration
	seq  uint64
	idx  int
	fn   func()
}

// Reset implements hw.Timer.
func (t *Timer) Reset(d time.Duration) { t.ResetAt(t.c.Now() + d) }

// ResetAt implements hw.Timer.
func (t *Timer) ResetAt(at time.Duration) {
	c := t.c
	if now := c.Now(); at < now {
		at = now
	}
	c.seq++
	t.when, t.seq = at, c.seq
	if t.idx >= 0 {
		heap.Fix(&c.q, t.idx)
		return
	}
	heap.Push(&c.q, t)
}

// Stop implements hw.Timer.
func (t *Timer) Stop() bool {
	if t.idx < 0 {
		return false
	}
	heap.Remove(&t.c.q, t.idx)
	return true
}

// Pending implements hw.Timer.
func (t *Timer) Pending() bool { return t.idx >= 0 }

// When implements hw.Timer.
func (t *Timer) When() time.Duration { return t.when }

type timerHeap []*Timer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].when != h[j].when {
		return h[i].when < h[j].when
	}
	return h[i].seq < h[j].seq
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx = i
	h[j].idx = j
}
func (h *timerHeap) Push(x any) {
	t := x.(*Timer)
	t.idx = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	n := len(old)
	t := old[n-1]
	old[n-1] = nil
	t.idx = -1
	*h = old[:n-1]
	return t
}
