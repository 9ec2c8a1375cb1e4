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

// PacketConn is a UDP socket of the stack as a net.PacketConn (what
// net.ListenUDP gives on Linux), with deadlines that end a call with an
// error for which errors.Is(err, os.ErrDeadlineExceeded) holds and whose
// net.Error Timeout() is true. Socket errors are *net.OpError wrapping
// the syscall.Errno (errors.Is(err, syscall.ECONNREFUSED) works).
//
// It is used in one of two ways:
//
//   - From goroutines off the loop, on a real clock (ListenUDP): each call
//     enters the loop through the connection's own kernelmodel Source
//     (bounded, with back-pressure) and waits for the socket's readiness
//     callbacks; deadlines are wall-clock times.
//   - From one kernelmodel Task, on either clock (ListenUDPTask): each call
//     runs in the task and sleeps on the socket's wait queue as a blocking
//     system call does; deadlines are in the clock's time, as Now gives it
//     (on a virtual clock, conn.Now().Add(d) is d of model time from now).
type PacketConn struct {
	s    *Stack
	so   *socket.Socket
	task *kernelmodel.Task
	src  *kernelmodel.Source

	mu       sync.Mutex
	rdl, wdl time.Time
	closed   chan struct{}
	dlChange chan struct{} // a deadline changed: wake a waiting call
	read     notifier
	write    notifier
	wait     kernelmodel.WaitQueueEntry
	laddr    netip.AddrPort
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

// ListenUDP is net.ListenUDP for goroutines off the loop: a UDP socket
// bound to laddr (port 0: an ephemeral one). The stack's kernel must run
// on a real clock, and the call must not come from the loop. It enters
// the loop to make the socket.
func (s *Stack) ListenUDP(laddr netip.AddrPort) (*PacketConn, error) {
	clk := s.K.Clock()
	if clk.Virtual() {
		return nil, errors.New("inet: ListenUDP needs a real clock; on a virtual clock use ListenUDPTask")
	}
	c := &PacketConn{s: s, closed: make(chan struct{}), dlChange: make(chan struct{}, 1)}
	c.src = clk.NewSource("udp "+laddr.String(), 64)
	var err error
	if perr := c.src.Post(context.Background(), func() { err = c.open(laddr) }); perr != nil {
		return nil, perr
	}
	done := make(chan struct{})
	c.src.Post(context.Background(), func() { close(done) })
	<-done
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ListenUDPTask is ListenUDP for a caller that runs in task t (on a
// virtual or a real clock): every call of the connection must come from t.
func (s *Stack) ListenUDPTask(t *kernelmodel.Task, laddr netip.AddrPort) (*PacketConn, error) {
	c := &PacketConn{s: s, task: t, closed: make(chan struct{}), dlChange: make(chan struct{}, 1)}
	if err := c.open(laddr); err != nil {
		return nil, err
	}
	return c, nil
}

// open makes and binds the socket (on the loop).
func (c *PacketConn) open(laddr netip.AddrPort) error {
	so, err := c.s.Socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
	if err != nil {
		return opError("socket", laddr, netip.AddrPort{}, err)
	}
	if !laddr.Addr().IsValid() {
		laddr = netip.AddrPortFrom(netip.IPv4Unspecified(), laddr.Port())
	}
	if err := so.Bind(laddr); err != nil {
		so.Close()
		return opError("bind", laddr, netip.AddrPort{}, err)
	}
	c.so = so
	c.laddr, _ = so.GetSockName()
	if c.task == nil {
		c.wait.Func = func(*kernelmodel.WaitQueueEntry) bool {
			m := so.Poll()
			if m&(socket.EPOLLIN|socket.EPOLLERR|socket.EPOLLHUP) != 0 {
				c.read.notify()
			}
			if m&(socket.EPOLLOUT|socket.EPOLLERR|socket.EPOLLHUP) != 0 {
				c.write.notify()
			}
			return false
		}
		so.AddWaiter(&c.wait)
	}
	return nil
}

// Socket is the connection's socket (for setsockopt and counters; from
// the loop or the task only).
func (c *PacketConn) Socket() *socket.Socket { return c.so }

func opError(op string, src, dst netip.AddrPort, err error) error {
	if err == nil {
		return nil
	}
	var e syscall.Errno
	if errors.As(err, &e) {
		err = os.NewSyscallError(op, e)
	}
	oe := &net.OpError{Op: op, Net: "udp", Err: err}
	if src.IsValid() {
		oe.Source = net.UDPAddrFromAddrPort(src)
	}
	if dst.IsValid() {
		oe.Addr = net.UDPAddrFromAddrPort(dst)
	}
	return oe
}

// Now is the time deadlines are measured against: wall time on a real
// clock, the model's time on a virtual one.
func (c *PacketConn) Now() time.Time {
	clk := c.s.K.Clock()
	if clk.Virtual() {
		return virtualEpoch.Add(clk.Now())
	}
	return time.Now()
}

// ReadFrom implements net.PacketConn.
func (c *PacketConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, from, err := c.ReadFromUDPAddrPort(p)
	if err != nil {
		return n, nil, err
	}
	return n, net.UDPAddrFromAddrPort(from), nil
}

// ReadFromUDPAddrPort is net.UDPConn's: ReadFrom with the source as a
// netip.AddrPort.
func (c *PacketConn) ReadFromUDPAddrPort(p []byte) (int, netip.AddrPort, error) {
	var n int
	var from netip.AddrPort
	err := c.do("read", &c.rdl, &c.read, func(t *kernelmodel.Task) error {
		var err error
		n, from, err = c.so.RecvFrom(t, p, 0)
		return err
	})
	return n, from, err
}

// WriteTo implements net.PacketConn.
func (c *PacketConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, opError("write", c.laddr, netip.AddrPort{}, syscall.EINVAL)
	}
	ap := ua.AddrPort()
	return c.WriteToUDPAddrPort(p, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
}

// WriteToUDPAddrPort is net.UDPConn's: WriteTo a netip.AddrPort.
func (c *PacketConn) WriteToUDPAddrPort(p []byte, addr netip.AddrPort) (int, error) {
	var n int
	err := c.do("write", &c.wdl, &c.write, func(t *kernelmodel.Task) error {
		var err error
		n, err = c.so.SendTo(t, p, 0, addr)
		return err
	})
	return n, err
}

// do runs one call with deadline *dl: in the task (blocking there at most
// until the deadline), or from a goroutine (tried on the loop without
// blocking, then waited for through nt until ready, the deadline or
// Close).
func (c *PacketConn) do(op string, dl *time.Time, nt *notifier, call func(t *kernelmodel.Task) error) error {
	wrap := func(err error) error {
		if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, net.ErrClosed) {
			return &net.OpError{Op: op, Net: "udp", Source: net.UDPAddrFromAddrPort(c.laddr), Err: err}
		}
		return opError(op, c.laddr, netip.AddrPort{}, err)
	}
	if c.task != nil {
		return wrap(c.doTask(dl, op == "read", call))
	}
	for {
		c.mu.Lock()
		if c.isClosed {
			c.mu.Unlock()
			return wrap(net.ErrClosed)
		}
		d := *dl
		c.mu.Unlock()
		if !d.IsZero() && !time.Now().Before(d) {
			return wrap(os.ErrDeadlineExceeded)
		}
		ready := nt.get()
		var err error
		done := make(chan struct{})
		if perr := c.src.Post(context.Background(), func() { err = call(nil); close(done) }); perr != nil {
			nt.put()
			return wrap(perr)
		}
		<-done
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
		case <-c.dlChange:
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
func (c *PacketConn) doTask(dl *time.Time, read bool, call func(t *kernelmodel.Task) error) error {
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

// Close implements net.PacketConn: the socket is closed and calls
// waiting on it return net.ErrClosed.
func (c *PacketConn) Close() error {
	c.mu.Lock()
	if c.isClosed {
		c.mu.Unlock()
		return &net.OpError{Op: "close", Net: "udp", Err: net.ErrClosed}
	}
	c.isClosed = true
	close(c.closed)
	c.mu.Unlock()
	if c.task != nil {
		return c.so.Close()
	}
	done := make(chan struct{})
	c.src.Post(context.Background(), func() {
		c.so.RemoveWaiter(&c.wait)
		c.so.Close()
		close(done)
	})
	<-done
	return nil
}

// LocalAddr implements net.PacketConn.
func (c *PacketConn) LocalAddr() net.Addr { return net.UDPAddrFromAddrPort(c.laddr) }

// SetDeadline implements net.PacketConn.
func (c *PacketConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	c.rdl, c.wdl = t, t
	c.mu.Unlock()
	c.poke()
	return nil
}

// SetReadDeadline implements net.PacketConn.
func (c *PacketConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.rdl = t
	c.mu.Unlock()
	c.poke()
	return nil
}

// SetWriteDeadline implements net.PacketConn.
func (c *PacketConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.wdl = t
	c.mu.Unlock()
	c.poke()
	return nil
}

func (c *PacketConn) poke() {
	select {
	case c.dlChange <- struct{}{}:
	default:
	}
}

var _ net.PacketConn = (*PacketConn)(nil)
