package inet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"syscall"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/socket"
	"github.com/nicbed/nicbed/stack/tcp/tcpinfo"
)

// Conn is a TCP socket of the stack as a net.Conn (what net.DialTCP and
// a net.TCPListener's Accept give on Linux): Read returns io.EOF once the
// peer's FIN is read, Write writes all of p or returns why not, CloseWrite
// is shutdown(SHUT_WR). Deadlines and errors are as PacketConn's; the two
// ways of use too (DialTCP and ListenTCP for goroutines on a real clock,
// DialTCPTask and ListenTCPTask for one kernelmodel Task on any clock).
type Conn struct {
	*sockConn
}

// Listener is a listening TCP socket as a net.Listener (net.TCPListener):
// Accept waits for a connection on the accept queue.
type Listener struct {
	*sockConn
}

// listenBacklog is the backlog of ListenTCP, as Go's net package uses:
// the most the stack allows (net.core.somaxconn caps it).
const listenBacklog = 4096

// ListenTCP is net.ListenTCP for goroutines off the loop, on a real clock:
// a TCP socket bound to laddr (port 0: an ephemeral one) and listening.
func (s *Stack) ListenTCP(laddr netip.AddrPort) (*Listener, error) {
	if err := s.needRealClock("ListenTCP", "ListenTCPTask"); err != nil {
		return nil, err
	}
	l := &Listener{newSockConn(s, "tcp", nil)}
	var err error
	if perr := s.onLoop(context.Background(), func() { err = l.open(laddr) }); perr != nil {
		return nil, perr
	}
	if err != nil {
		return nil, err
	}
	return l, nil
}

// ListenTCPTask is ListenTCP for a caller that runs in task t (on a
// virtual or a real clock): every call of the listener and of the
// connections it accepts must come from t.
func (s *Stack) ListenTCPTask(t *kernelmodel.Task, laddr netip.AddrPort) (*Listener, error) {
	l := &Listener{newSockConn(s, "tcp", t)}
	if err := l.open(laddr); err != nil {
		return nil, err
	}
	return l, nil
}

// open is socket, SO_REUSEADDR (as Go sets on listeners), bind and listen.
func (l *Listener) open(laddr netip.AddrPort) error {
	so, err := l.s.Socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
	if err != nil {
		return opError("tcp", "socket", laddr, netip.AddrPort{}, err)
	}
	if !laddr.Addr().IsValid() {
		laddr = netip.AddrPortFrom(netip.IPv4Unspecified(), laddr.Port())
	}
	if err := so.SetSockOpt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); err != nil {
		so.Close()
		return opError("tcp", "setsockopt", laddr, netip.AddrPort{}, err)
	}
	if err := so.Bind(laddr); err != nil {
		so.Close()
		return opError("tcp", "bind", laddr, netip.AddrPort{}, err)
	}
	if err := so.Listen(listenBacklog); err != nil {
		so.Close()
		return opError("tcp", "listen", laddr, netip.AddrPort{}, err)
	}
	l.attach(so)
	return nil
}

// Accept implements net.Listener.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.AcceptTCP()
	if err != nil {
		return nil, err
	}
	return c, nil
}

// AcceptTCP is net.TCPListener's: the next connection of the accept
// queue, waiting for one until the deadline or Close.
func (l *Listener) AcceptTCP() (*Conn, error) {
	var c *Conn
	err := l.do("accept", &l.rdl, &l.read, func(t *kernelmodel.Task) error {
		so, peer, err := l.so.Accept(t, 0)
		if err != nil {
			return err
		}
		c = &Conn{newSockConn(l.s, "tcp", l.task)}
		c.attach(so)
		c.raddr = peer
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Close implements net.Listener: the listener stops and connections not
// yet accepted are reset, as close(2) of a listening socket does.
func (l *Listener) Close() error { return l.close() }

// Addr implements net.Listener.
func (l *Listener) Addr() net.Addr { return net.TCPAddrFromAddrPort(l.laddr) }

// AddrPort is the listener's local address and port.
func (l *Listener) AddrPort() netip.AddrPort { return l.laddr }

// DialTCP is net.DialTCP for goroutines off the loop, on a real clock: a
// non-blocking connect to raddr, then a wait for the socket to become
// writable (or fail: SO_ERROR) until ctx is done.
func (s *Stack) DialTCP(ctx context.Context, raddr netip.AddrPort) (*Conn, error) {
	if err := s.needRealClock("DialTCP", "DialTCPTask"); err != nil {
		return nil, err
	}
	if !raddr.Addr().Is4() {
		return nil, opError("tcp", "dial", netip.AddrPort{}, raddr, syscall.EAFNOSUPPORT)
	}
	c := &Conn{newSockConn(s, "tcp", nil)}
	c.raddr = raddr
	var err error
	if perr := s.onLoop(ctx, func() { err = c.connect(nil) }); perr != nil {
		return nil, opError("tcp", "dial", netip.AddrPort{}, raddr, perr)
	}
	if errors.Is(err, syscall.EINPROGRESS) {
		err = c.waitConnected(ctx)
	}
	if err != nil {
		if c.so != nil {
			c.close()
		}
		return nil, opError("tcp", "dial", c.laddr, raddr, err)
	}
	return c, nil
}

// DialContext is DialTCP in the shape of net.Dialer.DialContext, for
// http.Transport: network "tcp" or "tcp4", address "a.b.c.d:port".
func (s *Stack) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	if network != "tcp" && network != "tcp4" {
		return nil, &net.OpError{Op: "dial", Net: network, Err: net.UnknownNetworkError(network)}
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: fmt.Errorf("address %q: %w", address, err)}
	}
	c, err := s.DialTCP(ctx, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
	if err != nil {
		return nil, err
	}
	return c, nil
}

// DialTCPTask is DialTCP for a caller that runs in task t (any clock): a
// blocking connect in t.
func (s *Stack) DialTCPTask(t *kernelmodel.Task, raddr netip.AddrPort) (*Conn, error) {
	c := &Conn{newSockConn(s, "tcp", t)}
	c.raddr = raddr
	if err := c.connect(t); err != nil {
		if c.so != nil {
			c.close()
		}
		return nil, opError("tcp", "dial", c.laddr, raddr, err)
	}
	return c, nil
}

// connect makes the socket and connects it (blocking in t, or
// EINPROGRESS without one).
func (c *Conn) connect(t *kernelmodel.Task) error {
	so, err := c.s.Socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
	if err != nil {
		return err
	}
	c.attach(so)
	err = so.Connect(t, c.raddr)
	c.laddr, _ = so.GetSockName()
	return err
}

// waitConnected waits for a non-blocking connect to finish: writable
// means connected, an error or hang-up is SO_ERROR's errno.
func (c *Conn) waitConnected(ctx context.Context) error {
	for {
		ready := c.write.get()
		var mask, soerr int
		var err error
		if perr := c.s.onLoop(ctx, func() {
			mask = c.so.Poll()
			if mask&(socket.EPOLLOUT|socket.EPOLLERR|socket.EPOLLHUP) != 0 {
				soerr, err = c.so.GetSockOpt(socket.SOL_SOCKET, socket.SO_ERROR)
				c.laddr, _ = c.so.GetSockName()
			}
		}); perr != nil {
			c.write.put()
			return perr
		}
		if mask&(socket.EPOLLOUT|socket.EPOLLERR|socket.EPOLLHUP) != 0 {
			c.write.put()
			if err != nil {
				return err
			}
			if soerr != 0 {
				return syscall.Errno(soerr)
			}
			if mask&socket.EPOLLOUT == 0 {
				return syscall.ECONNRESET
			}
			return nil
		}
		select {
		case <-ready:
		case <-ctx.Done():
			c.write.put()
			return ctx.Err()
		}
		c.write.put()
	}
}

// Read implements net.Conn: io.EOF after the peer's FIN.
func (c *Conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	err := c.do("read", &c.rdl, &c.read, func(t *kernelmodel.Task) error {
		var err error
		n, _, err = c.so.RecvFrom(t, p, 0)
		return err
	})
	if err == nil && n == 0 {
		return 0, io.EOF
	}
	return n, err
}

// Write implements net.Conn: all of p is queued on the socket, waiting
// for send buffer space as it frees, unless an error or the deadline
// comes first (then n is what was queued).
func (c *Conn) Write(p []byte) (int, error) {
	total := 0
	for total < len(p) {
		var n int
		err := c.do("write", &c.wdl, &c.write, func(t *kernelmodel.Task) error {
			var err error
			n, err = c.so.Send(t, p[total:], 0)
			return err
		})
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// Close implements net.Conn: close(2), a FIN after what is queued (or a
// RST, as Linux does, when unread data is left or SO_LINGER is 0). With
// SetLinger(sec > 0) it returns when the peer has ACKed the FIN, or after
// sec seconds, the connection going on closing without the socket.
func (c *Conn) Close() error { return c.close() }

// CloseWrite is net.TCPConn's: shutdown(SHUT_WR), a FIN.
func (c *Conn) CloseWrite() error { return c.shutdown("close write", 1) }

// CloseRead is net.TCPConn's: shutdown(SHUT_RD).
func (c *Conn) CloseRead() error { return c.shutdown("close read", 0) }

func (c *Conn) shutdown(op string, how int) error {
	return c.sockCall(op, func() error { return c.so.Shutdown(how) })
}

// sockCall runs a call that does not block on the socket: in the task, or
// on the loop.
func (c *Conn) sockCall(op string, f func() error) error {
	c.mu.Lock()
	closed := c.isClosed
	c.mu.Unlock()
	if closed {
		return &net.OpError{Op: op, Net: "tcp", Source: c.addr(c.laddr), Addr: c.addr(c.raddr), Err: net.ErrClosed}
	}
	var err error
	if c.task != nil {
		err = f()
	} else if perr := c.s.onLoop(context.Background(), func() { err = f() }); perr != nil {
		err = perr
	}
	return opError("tcp", op, c.laddr, c.raddr, err)
}

// SetNoDelay is net.TCPConn's: TCP_NODELAY.
func (c *Conn) SetNoDelay(noDelay bool) error {
	v := 0
	if noDelay {
		v = 1
	}
	return c.sockCall("set", func() error { return c.so.SetSockOpt(socket.SOL_TCP, socket.TCP_NODELAY, v) })
}

// SetKeepAlive is net.TCPConn's: SO_KEEPALIVE.
func (c *Conn) SetKeepAlive(on bool) error {
	v := 0
	if on {
		v = 1
	}
	return c.sockCall("set", func() error { return c.so.SetSockOpt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, v) })
}

// SetKeepAlivePeriod is net.TCPConn's: TCP_KEEPIDLE and TCP_KEEPINTVL
// in whole seconds.
func (c *Conn) SetKeepAlivePeriod(d time.Duration) error {
	secs := max(int(d/time.Second), 1)
	return c.sockCall("set", func() error {
		if err := c.so.SetSockOpt(socket.SOL_TCP, socket.TCP_KEEPIDLE, secs); err != nil {
			return err
		}
		return c.so.SetSockOpt(socket.SOL_TCP, socket.TCP_KEEPINTVL, secs)
	})
}

// SetLinger is net.TCPConn's: SO_LINGER off for sec < 0, else on with
// sec seconds (0: Close resets the connection; more: Close waits up to
// sec for the FIN to be ACKed).
func (c *Conn) SetLinger(sec int) error {
	return c.sockCall("set", func() error { return c.so.SetLinger(sec >= 0, max(sec, 0)) })
}

// LocalAddr implements net.Conn.
func (c *Conn) LocalAddr() net.Addr { return net.TCPAddrFromAddrPort(c.laddr) }

// RemoteAddr implements net.Conn.
func (c *Conn) RemoteAddr() net.Addr { return net.TCPAddrFromAddrPort(c.raddr) }

var (
	_ net.Conn     = (*Conn)(nil)
	_ net.Listener = (*Listener)(nil)
)

// TCPInfo is getsockopt(TCP_INFO): the connection's struct tcp_info.
func (c *Conn) TCPInfo() (tcpinfo.Info, error) {
	var info tcpinfo.Info
	err := c.sockCall("getsockopt", func() error {
		var err error
		info, err = c.so.TCPInfo()
		return err
	})
	return info, err
}
