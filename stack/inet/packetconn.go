package inet

import (
	"context"
	"net"
	"net/netip"
	"syscall"

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
//     enters the loop through the stack's adapter Source (bounded,
//     with back-pressure) and waits for the socket's readiness
//     callbacks; deadlines are wall-clock times.
//   - From one kernelmodel Task, on either clock (ListenUDPTask): each call
//     runs in the task and sleeps on the socket's wait queue as a blocking
//     system call does; deadlines are in the clock's time, as Now gives it
//     (on a virtual clock, conn.Now().Add(d) is d of model time from now).
type PacketConn struct {
	*sockConn
}

// ListenUDP is net.ListenUDP for goroutines off the loop: a UDP socket
// bound to laddr (port 0: an ephemeral one). The stack's kernel must run
// on a real clock, and the call must not come from the loop. It enters
// the loop to make the socket.
func (s *Stack) ListenUDP(laddr netip.AddrPort) (*PacketConn, error) {
	if err := s.needRealClock("ListenUDP", "ListenUDPTask"); err != nil {
		return nil, err
	}
	c := &PacketConn{newSockConn(s, "udp", nil)}
	var err error
	if perr := s.onLoop(context.Background(), func() { err = c.open(laddr) }); perr != nil {
		return nil, perr
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ListenUDPTask is ListenUDP for a caller that runs in task t (on a
// virtual or a real clock): every call of the connection must come from t.
func (s *Stack) ListenUDPTask(t *kernelmodel.Task, laddr netip.AddrPort) (*PacketConn, error) {
	c := &PacketConn{newSockConn(s, "udp", t)}
	if err := c.open(laddr); err != nil {
		return nil, err
	}
	return c, nil
}

// open makes and binds the socket (on the loop).
func (c *PacketConn) open(laddr netip.AddrPort) error {
	so, err := c.s.Socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
	if err != nil {
		return opError("udp", "socket", laddr, netip.AddrPort{}, err)
	}
	if !laddr.Addr().IsValid() {
		laddr = netip.AddrPortFrom(netip.IPv4Unspecified(), laddr.Port())
	}
	if err := so.Bind(laddr); err != nil {
		so.Close()
		return opError("udp", "bind", laddr, netip.AddrPort{}, err)
	}
	c.attach(so)
	return nil
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
		return 0, opError("udp", "write", c.laddr, netip.AddrPort{}, syscall.EINVAL)
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

// Close implements net.PacketConn: the socket is closed and calls
// waiting on it return net.ErrClosed.
func (c *PacketConn) Close() error { return c.close() }

// LocalAddr implements net.PacketConn.
func (c *PacketConn) LocalAddr() net.Addr { return net.UDPAddrFromAddrPort(c.laddr) }

var _ net.PacketConn = (*PacketConn)(nil)
