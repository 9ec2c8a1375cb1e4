package inet

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/socket"
)

// sockConn is what the Go adapters of a socket share (PacketConn, Conn,
// Listener): the way each call reaches the socket, deadlines, and the
// readiness notifications that wake a goroutine waiting for the socket.
//
// It is used in one of two ways:
//
//   - From goroutines off the loop, on a real clock: each call enters the
//     loop through the stack's adapter Source (bounded, with
//     back-pressure), is tried there without blocking, and on EAGAIN
//     waits for the socket's readiness callbacks; deadlines are
//     wall-clock times.
//   - From one kernelmodel Task, on either clock: each call runs in the
//     task and sleeps on the socket's wait queue as a blocking system
//     call does; deadlines are in the clock's time, as Now gives it (on a
//     virtual clock, Now().Add(d) is d of model time from now).
type sockConn struct {
	s    *Stack
	so   *socket.Socket
	task *kernelmodel.Task
	src  *kernelmodel.Source
	net  string // "udp" or "tcp", for errors and addresses

	mu       sync.Mutex
	rdl, wdl time.Time
	closed   chan struct{}
	dlChange chan struct{} // closed and replaced when a deadline changes
	read     notifier
	write    notifier
	wait     kernelmodel.WaitQueueEntry
	waiting  bool // wait is on the socket's wait queue
	laddr    netip.AddrPort
	raddr    netip.AddrPort
	isClosed bool
}

// virtualEpoch is where a virtual clock's zero lies as a time.Time.
var virtualEpoch = time.Unix(0, 0).UTC()

// notifier lets goroutines wait for the loop's readiness callbacks: a
// waiter takes the channel before it tries, so a notification between
// its try and its wait is not lost.
type notifier struct {
	mu      sync.Mutex
	ch      chan struct{}
	waiters int
}

func (n *notifier) get() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch == nil {
		n.ch = make(chan struct{})
	}
	n.waiters++
	return n.ch
}

func (n *notifier) put() {
	n.mu.Lock()
	n.waiters--
	n.mu.Unlock()
}

func (n *notifier) notify() {
	n.mu.Lock()
	if n.waiters > 0 && n.ch != nil {
		close(n.ch)
		n.ch = nil
	}
	n.mu.Unlock()
}

// adapterSource is the stack's one inbox for the adapters' calls from
// goroutines: one for all of them, so that a server that opens and closes
// many connections does not grow the loop's list of sources.
func (s *Stack) adapterSource() *kernelmodel.Source {
	s.srcOnce.Do(func() { s.src = s.K.Clock().NewSource("inet adapters", 1024) })
	return s.src
}

// onLoop runs f on the loop from a goroutine off it and waits for it.
func (s *Stack) onLoop(ctx context.Context, f func()) error {
	done := make(chan struct{})
	if err := s.adapterSource().Post(ctx, func() { f(); close(done) }); err != nil {
		return err
	}
	<-done
	return nil
}

// needRealClock is the error of a goroutine adapter on a virtual clock.
func (s *Stack) needRealClock(what, instead string) error {
	if s.K.Clock().Virtual() {
		return errors.New("inet: " + what + " needs a real clock; on a virtual clock use " + instead)
	}
	return nil
}

func newSockConn(s *Stack, network string, t *kernelmodel.Task) *sockConn {
	c := &sockConn{s: s, task: t, net: network, closed: make(chan struct{}), dlChange: make(chan struct{})}
	if t == nil {
		c.src = s.adapterSource()
	}
	return c
}

// attach makes so the connection's socket (on the loop or in the task):
// goroutine callers hang a readiness callback on its wait queue.
func (c *sockConn) attach(so *socket.Socket) {
	c.so = so
	c.laddr, _ = so.GetSockName()
	if c.task != nil {
		return
	}
	c.wait.Func = func(*kernelmodel.WaitQueueEntry) bool {
		m := so.Poll()
		if m&(socket.EPOLLIN|socket.EPOLLERR|socket.EPOLLHUP|socket.EPOLLRDHUP) != 0 {
			c.read.notify()
		}
		if m&(socket.EPOLLOUT|socket.EPOLLERR|socket.EPOLLHUP) != 0 {
			c.write.notify()
		}
		return false
	}
	so.AddWaiter(&c.wait)
	c.waiting = true
}

// Socket is the connection's socket (for setsockopt and counters; from
// the loop or the task only).
func (c *sockConn) Socket() *socket.Socket { return c.so }

// addr is ap as the net.Addr of the connection's network.
func (c *sockConn) addr(ap netip.AddrPort) net.Addr {
	if c.net == "tcp" {
		return net.TCPAddrFromAddrPort(ap)
	}
	return net.UDPAddrFromAddrPort(ap)
}

// opError is err as the *net.OpError a Go socket returns: a
// syscall.Errno wrapped in an *os.SyscallError, so errors.Is(err,
// syscall.ECONNREFUSED) works.
func opError(network, op string, src, dst netip.AddrPort, err error) error {
	if err == nil {
		return nil
	}
	var e syscall.Errno
	if errors.As(err, &e) {
		err = os.NewSyscallError(op, e)
	}
	oe := &net.OpError{Op: op, Net: network, Err: err}
	mk := func(ap netip.AddrPort) net.Addr {
		if network == "tcp" {
			return net.TCPAddrFromAddrPort(ap)
		}
		return net.UDPAddrFromAddrPort(ap)
	}
	if src.IsValid() {
		oe.Source = mk(src)
	}
	if dst.IsValid() {
		oe.Addr = mk(dst)
	}
	return oe
}

// Now is the time deadlines are measured against: wall time on a real
// clock, the model's time on a virtual one.
func (c *sockConn) Now() time.Time {
	clk := c.s.K.Clock()
	if clk.Virtual() {
		return virtualEpoch.Add(clk.Now())
	}
	return time.Now()
}

// do runs one call with deadline *dl: in the task (blocking there at most
// until the deadline), or from a goroutine (tried on the loop without
// blocking, then waited for through nt until ready, the deadline or
// Close).
func (c *sockConn) do(op string, dl *time.Time, nt *notifier, call func(t *kernelmodel.Task) error) error {
	wrap := func(err error) error {
		if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, net.ErrClosed) {
			oe := &net.OpError{Op: op, Net: c.net, Source: c.addr(c.laddr), Err: err}
			if c.raddr.IsValid() {
				oe.Addr = c.addr(c.raddr)
			}
			return oe
		}
		return opError(c.net, op, c.laddr, c.raddr, err)
	}
	if c.task != nil {
		return wrap(c.doTask(dl, op == "read" || op == "accept", call))
	}
	for {
		c.mu.Lock()
		if c.isClosed {
			c.mu.Unlock()
			return wrap(net.ErrClosed)
		}
		d := *dl
		dlc := c.dlChange
		c.mu.Unlock()
		if !d.IsZero() && !time.Now().Before(d) {
			return wrap(os.ErrDeadlineExceeded)
		}
		ready := nt.get()
		var err error
		if perr := c.s.onLoop(context.Background(), func() { err = call(nil) }); perr != nil {
			nt.put()
			return wrap(perr)
		}
		if !errors.Is(err, syscall.EAGAIN) {
			nt.put()
			return wrap(err)
		}
		var timeout <-chan time.Time
		var tm *time.Timer
		if !d.IsZero() {
			tm = time.NewTimer(time.Until(d))
			timeout = tm.C
		}
		select {
		case <-ready:
		case <-timeout:
		case <-dlc:
		case <-c.closed:
		}
		if tm != nil {
			tm.Stop()
		}
		nt.put()
	}
}

// doTask is a call in the task: the socket's timeout is the time left to
// the deadline.
func (c *sockConn) doTask(dl *time.Time, read bool, call func(t *kernelmodel.Task) error) error {
	if c.isClosed {
		return net.ErrClosed
	}
	sk := c.so.Sk
	timeo := &sk.SndTimeo
	if read {
		timeo = &sk.RcvTimeo
	}
	saved := *timeo
	defer func() { *timeo = saved }()
	if !dl.IsZero() {
		left := dl.Sub(c.Now())
		if left <= 0 {
			return os.ErrDeadlineExceeded
		}
		*timeo = left
	}
	err := call(c.task)
	if errors.Is(err, syscall.EAGAIN) && !dl.IsZero() && !c.Now().Before(*dl) {
		return os.ErrDeadlineExceeded
	}
	return err
}

// markClosed makes every later call net.ErrClosed and wakes the waiting
// ones; false if it was closed already.
func (c *sockConn) markClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.isClosed {
		return false
	}
	c.isClosed = true
	close(c.closed)
	return true
}

// close closes the socket (in the task, or on the loop for goroutines),
// taking the readiness callback off it first.
func (c *sockConn) close() error {
	if !c.markClosed() {
		return &net.OpError{Op: "close", Net: c.net, Err: net.ErrClosed}
	}
	if c.task != nil {
		return c.so.CloseTask(c.task)
	}
	var err error
	var lingering chan struct{}
	c.s.onLoop(context.Background(), func() {
		if c.waiting {
			c.so.RemoveWaiter(&c.wait)
		}
		if sk := c.so.Sk; sk.Linger && sk.LingerTime > 0 {
			// close(2) with SO_LINGER sleeps until the FIN is ACKed:
			// in a task of the kernel, as a process would, while this
			// goroutine waits for it.
			lingering = make(chan struct{})
			c.s.K.Spawn(0, "close", func(t *kernelmodel.Task) {
				err = c.so.CloseTask(t)
				close(lingering)
			})
			return
		}
		err = c.so.Close()
	})
	if lingering != nil {
		<-lingering
	}
	return err
}

// SetDeadline implements net.Conn and net.PacketConn.
func (c *sockConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	c.rdl, c.wdl = t, t
	c.poke()
	c.mu.Unlock()
	return nil
}

// SetReadDeadline implements net.Conn and net.PacketConn.
func (c *sockConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.rdl = t
	c.poke()
	c.mu.Unlock()
	return nil
}

// SetWriteDeadline implements net.Conn and net.PacketConn.
func (c *sockConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.wdl = t
	c.poke()
	c.mu.Unlock()
	return nil
}

// poke wakes every goroutine waiting in do to look at its deadline again
// (c.mu held).
func (c *sockConn) poke() {
	close(c.dlChange)
	c.dlChange = make(chan struct{})
}
