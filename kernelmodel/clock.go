package kernelmodel

import (
	"container/heap"
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nicbed/nicbed/hw"
)

// Clock is the time source and the event loop of a run, shared by every
// kernel, device model and cable in it.
//
// Everything that happens is an event: a timer that fires, a hardirq, a thread
// that resumes after charging CPU time. Events run one at a time on the
// goroutine that calls Run*, Step or RunWhile (the loop), in (time, sequence)
// order. No two events run at once, so neither the kernel model nor a device
// model needs locks; everything of the model may be touched only from the
// loop.
//
// # Virtual time
//
// With a virtual clock (NewVirtualClock) time jumps from one event to the
// next; nothing sleeps, and the same inputs give the same event order and the
// same trace, byte for byte. Tests drive it with RunUntil, RunFor and
// RunWhile; time never goes backwards, whatever limit they are given.
//
// # Real time
//
// With a real clock (NewRealClock) event times are wall times since the clock
// was made and the loop sleeps until the next event is due. The CPU cost
// model charges nothing (a CPU's time is wall time). The outside world meets
// the loop at two bounded queues, so that neither side can block the other
// without bound or grow memory without bound:
//
//   - In: a Source (NewSource) per outside producer (a TAP or AF_PACKET
//     reader, a VFIO eventfd waiter, a socket caller) holds at most its
//     capacity of functions for the loop to run. TryPost refuses when it is
//     full (ErrInboxFull, counted in Refused); Post blocks the producer until
//     the loop has made room or its context ends: back-pressure. The loop
//     takes at most a source's capacity from each source per turn, so one
//     busy source cannot starve the others or the timers. Clock.Post is the
//     clock's own source (DefaultInboxSize), blocking.
//   - Out: an Outbox (NewOutbox) carries frames from the loop to an outside
//     endpoint (a TAP later). Send copies the frame into one of the outbox's
//     buffers and returns at once; a goroutine of the outbox hands the copies
//     to the endpoint. When every buffer is in flight the frame is dropped
//     and counted (Dropped), as a full TX queue of a real NIC would: the loop
//     never waits for the outside.
//
// Run(ctx) runs the loop until ctx is done or Stop is called; Stop may be
// called from any goroutine (or from an event) and wakes a sleeping loop. A
// real-clock test therefore looks like:
//
//	clk := kernelmodel.NewRealClock()
//	... build kernels, devices and cables on clk ...
//	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
//	defer cancel()
//	src := clk.NewSource("tap0", 256)
//	go func() { for frame := range frames { f := frame; src.Post(ctx, func() { nic.Receive(f) }) } }()
//	go func() { <-done; clk.Stop() }()
//	err := clk.Run(ctx) // nil after Stop, ctx.Err() on timeout
//
// Model state may be read after Run has returned, or from an event (post a
// function that copies what the test wants onto a channel).
type Clock struct {
	real  bool
	epoch time.Time
	now   time.Duration
	seq   uint64
	q     timerHeap
	stop  atomic.Bool
	limit time.Duration // virtual: how far the Run call in progress may go
	wake  chan struct{} // real clock: a Post, Stop or new source wakes the loop
	// sleepTimer is the loop's timer for sleep (real clock).
	sleepTimer *time.Timer

	mu      sync.Mutex // guards sources
	sources []*Source
	drain   []*Source // the loop's copy of sources
	own     *Source   // Clock.Post's source, made on first use
}

// DefaultInboxSize is the capacity of Clock.Post's source.
const DefaultInboxSize = 4096

// ErrInboxFull is TryPost's answer when a source's inbox is full.
var ErrInboxFull = errors.New("kernelmodel: clock inbox full")

// NewVirtualClock makes a clock whose time moves only through the loop.
func NewVirtualClock() *Clock {
	return &Clock{limit: math.MaxInt64}
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
// keep their own. Only the loop may call it.
func (c *Clock) AfterFunc(d time.Duration, f func()) *Timer {
	t := c.newTimer(f)
	t.Reset(d)
	return t
}

// Post hands f to the loop; it runs as soon as the loop gets to it. In a
// real run it may be called from any goroutine but the loop's (an event uses
// AfterFunc): it goes through the clock's own source and blocks while that
// is full. In a virtual run it must be called from the loop and is
// AfterFunc(0, f).
func (c *Clock) Post(f func()) {
	if !c.real {
		c.AfterFunc(0, f)
		return
	}
	c.mu.Lock()
	if c.own == nil {
		c.own = c.newSourceLocked("clock", DefaultInboxSize)
	}
	s := c.own
	c.mu.Unlock()
	s.Post(context.Background(), f)
}

// Source is one outside producer's inbox on a real clock's loop: at most
// its capacity of functions wait for the loop. Its methods are safe from any
// goroutine.
type Source struct {
	Name string
	c    *Clock
	ch   chan func()

	Posted  atomic.Uint64 // functions accepted
	Refused atomic.Uint64 // TryPost calls that found the inbox full
}

// NewSource makes an inbox of the given capacity (at least 1) for one
// producer. It may be called from any goroutine.
func (c *Clock) NewSource(name string, capacity int) *Source {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.newSourceLocked(name, capacity)
}

func (c *Clock) newSourceLocked(name string, capacity int) *Source {
	s := &Source{Name: name, c: c, ch: make(chan func(), max(capacity, 1))}
	c.sources = append(c.sources, s)
	return s
}

// Cap is the inbox's capacity; Len how many functions wait in it.
func (s *Source) Cap() int { return cap(s.ch) }

// Len is the number of functions waiting for the loop.
func (s *Source) Len() int { return len(s.ch) }

// TryPost queues f for the loop, or returns ErrInboxFull at once.
func (s *Source) TryPost(f func()) error {
	select {
	case s.ch <- f:
		s.Posted.Add(1)
		s.c.wakeLoop()
		return nil
	default:
		s.Refused.Add(1)
		return ErrInboxFull
	}
}

// Post queues f for the loop, waiting while the inbox is full until the loop
// makes room or ctx is done (then it returns ctx.Err() and f is not queued).
// It must not be called from the loop.
func (s *Source) Post(ctx context.Context, f func()) error {
	select {
	case s.ch <- f:
	default:
		select {
		case s.ch <- f:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.Posted.Add(1)
	s.c.wakeLoop()
	return nil
}

func (c *Clock) wakeLoop() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Stop makes the Run, RunUntil or RunWhile call in progress return after the
// current event. It is safe from any goroutine and wakes a sleeping loop.
func (c *Clock) Stop() {
	c.stop.Store(true)
	c.wakeLoop()
}

// Pending is the number of armed timers.
func (c *Clock) Pending() int { return len(c.q) }

// advance moves a virtual clock d ahead in place, for a thread that would
// otherwise sleep d and be resumed as the very next event: only when no
// event is due until then (strictly: an event at exactly now+d would run
// first) and the Run call in progress goes that far. It reports whether it
// did. The event order is the same as with the sleep; the loop just does not
// go round.
func (c *Clock) advance(d time.Duration) bool {
	at := c.now + d
	if c.real || at > c.limit || (len(c.q) > 0 && c.q[0].when <= at) {
		return false
	}
	c.now = at
	return true
}

// due reports whether an event of a virtual run is due now.
func (c *Clock) due() bool { return len(c.q) > 0 && c.q[0].when <= c.now }

// Step runs the next event, advancing virtual time to it. It reports false
// when there is none. In a real run it runs what the sources hold, then the
// next timer if it is due; it does not wait.
func (c *Clock) Step() bool {
	ran := c.drainInbox()
	if len(c.q) == 0 {
		return ran
	}
	t := c.q[0]
	if c.real {
		if t.when > c.Now() {
			return ran
		}
	} else if t.when > c.now {
		c.now = t.when
	}
	heap.Pop(&c.q)
	t.fn()
	return true
}

// Run runs the loop until ctx is done (it returns ctx.Err()) or Stop is
// called (it returns nil). A virtual clock also returns nil when no event is
// left; a real one sleeps until the next timer, a Post or a Stop.
func (c *Clock) Run(ctx context.Context) error {
	c.stop.Store(false)
	c.limit = math.MaxInt64
	done := ctx.Done()
	for n := 0; !c.stop.Load(); n++ {
		if !c.real {
			if n&1023 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			if !c.Step() {
				return nil
			}
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		c.drainInbox()
		if len(c.q) > 0 {
			if d := c.q[0].when - c.Now(); d > 0 {
				c.sleep(d, done)
				continue
			}
			c.Step()
			continue
		}
		c.sleep(time.Hour, done)
	}
	return nil
}

// RunUntil runs events up to and including time t, then leaves the clock at
// t (or where it is, if t has passed: time never goes back). A real clock
// sleeps between events and returns when wall time reaches t.
func (c *Clock) RunUntil(t time.Duration) {
	c.stop.Store(false)
	c.limit = t
	for !c.stop.Load() {
		c.drainInbox()
		if len(c.q) > 0 && c.q[0].when <= t {
			if c.real {
				if d := c.q[0].when - c.Now(); d > 0 {
					c.sleep(d, nil)
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
		c.sleep(d, nil)
	}
}

// RunFor runs the loop for d from now.
func (c *Clock) RunFor(d time.Duration) { c.RunUntil(c.Now() + d) }

// RunWhile runs events while cond holds, at most until limit. It reports
// whether cond became false (true) or the limit, an empty queue (virtual) or
// Stop ended it. A virtual clock stopped by the limit is left at the limit,
// or where it is if the limit has passed.
func (c *Clock) RunWhile(cond func() bool, limit time.Duration) bool {
	c.stop.Store(false)
	c.limit = limit
	for cond() {
		if c.stop.Load() {
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
				c.sleep(d, nil)
				continue
			}
			c.Step()
			continue
		}
		if c.q[0].when > limit {
			if limit > c.now {
				c.now = limit
			}
			return false
		}
		c.Step()
	}
	return true
}

// sleep waits d, or until a source or Stop wakes the loop, or done closes.
// It reuses one timer (only the loop sleeps), so that a real-clock loop
// woken per frame allocates nothing.
func (c *Clock) sleep(d time.Duration, done <-chan struct{}) {
	if c.sleepTimer == nil {
		c.sleepTimer = time.NewTimer(d)
	} else {
		c.sleepTimer.Reset(d)
	}
	select {
	case <-c.sleepTimer.C:
	case <-c.wake:
	case <-done:
	}
	c.sleepTimer.Stop()
}

// drainInbox runs what the sources hold, at most each source's capacity
// from each, and reports whether it ran anything.
func (c *Clock) drainInbox() bool {
	if !c.real {
		return false
	}
	c.mu.Lock()
	c.drain = append(c.drain[:0], c.sources...)
	c.mu.Unlock()
	ran := false
	for _, s := range c.drain {
	each:
		for n := cap(s.ch); n > 0; n-- {
			select {
			case f := <-s.ch:
				f()
				ran = true
			default:
				break each
			}
		}
	}
	return ran
}

// Outbox carries frames from a real clock's loop to an outside endpoint (a
// TAP, an AF_PACKET socket) without ever blocking the loop: Send copies the
// frame into one of a fixed number of buffers and returns; the outbox's own
// goroutine passes each copy to the endpoint's send function, in order. A
// frame that finds every buffer in flight, or is larger than the buffers, is
// dropped and counted.
type Outbox struct {
	send func(frame []byte)
	q    chan []byte
	free chan []byte
	done chan struct{}
	once sync.Once

	Sent    atomic.Uint64 // frames handed to send
	Dropped atomic.Uint64 // frames dropped: every buffer in flight
	TooBig  atomic.Uint64 // frames dropped: larger than the buffers
}

// NewOutbox makes an outbox of n buffers of maxFrame bytes in front of
// send, which runs on the outbox's goroutine (it may block: only the outbox
// waits). Close ends the goroutine.
func NewOutbox(n, maxFrame int, send func(frame []byte)) *Outbox {
	n = max(n, 1)
	o := &Outbox{send: send, q: make(chan []byte, n), free: make(chan []byte, n), done: make(chan struct{})}
	for range n {
		o.free <- make([]byte, maxFrame)
	}
	go o.run()
	return o
}

func (o *Outbox) run() {
	defer close(o.done)
	for b := range o.q {
		o.send(b)
		o.Sent.Add(1)
		o.free <- b[:cap(b)]
	}
}

// Send queues a copy of frame and reports whether it did; it never blocks.
// Call it from the loop (one goroutine at a time), not after Close.
func (o *Outbox) Send(frame []byte) bool {
	var b []byte
	select {
	case b = <-o.free:
	default:
		o.Dropped.Add(1)
		return false
	}
	if len(frame) > cap(b) {
		o.free <- b
		o.TooBig.Add(1)
		return false
	}
	b = b[:len(frame)]
	copy(b, frame)
	o.q <- b // never blocks: there are as many slots as buffers
	return true
}

// InFlight is the number of frames queued or being sent.
func (o *Outbox) InFlight() int { return cap(o.free) - len(o.free) }

// Close sends what is queued, then ends the goroutine and waits for it.
func (o *Outbox) Close() {
	o.once.Do(func() { close(o.q) })
	<-o.done
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
