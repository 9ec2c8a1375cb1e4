package socket

import (
	"net/netip"
	"syscall"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/tcp/tcpinfo"
)

// More message flags, the shutdown hows, SOL_TCP and its options, and the
// socket ioctls of a stream socket (Linux's values).
const (
	MSG_WAITALL  = 0x100
	MSG_NOSIGNAL = 0x4000

	SHUT_RD   = 0
	SHUT_WR   = 1
	SHUT_RDWR = 2

	SOL_TCP = 6

	TCP_NODELAY    = 1
	TCP_MAXSEG     = 2
	TCP_CORK       = 3
	TCP_KEEPIDLE   = 4
	TCP_KEEPINTVL  = 5
	TCP_KEEPCNT    = 6
	TCP_INFO       = 11
	TCP_CONGESTION = 13

	SO_KEEPALIVE = 9
	SO_LINGER    = 13

	FIONREAD    = 0x541B
	SIOCINQ     = FIONREAD
	SIOCOUTQ    = 0x5411
	SIOCOUTQNSD = 0x894B

	// SOMAXCONN is net.core.somaxconn's default (4096 since Linux 5.4).
	SOMAXCONN = 4096
)

// StreamProto is what a stream protocol (TCP) adds to Proto: the calls of
// inet_stream_ops that a datagram socket does not have, or has otherwise.
type StreamProto interface {
	Proto
	// Listen is inet_listen with backlog already capped by somaxconn.
	Listen(sk *Sock, backlog int) error
	// Accept is inet_accept → inet_csk_accept: the next established
	// child, sleeping in t (nil: EAGAIN when none is queued).
	Accept(t *kernelmodel.Task, sk *Sock) (*Socket, error)
	// Shutdown is inet_shutdown's protocol part (tcp_shutdown); how is
	// SHUT_RD, SHUT_WR or SHUT_RDWR.
	Shutdown(sk *Sock, how int) error
	// Poll is the protocol's poll (tcp_poll).
	Poll(sk *Sock) int
	// Ioctl is tcp_ioctl: SIOCINQ, SIOCOUTQ, SIOCOUTQNSD.
	Ioctl(sk *Sock, req int) (int, error)
	// SetLinger is SO_LINGER.
	SetLinger(sk *Sock, on bool, secs int)
	// CloseTimeout is the protocol's close with inet_release's timeout
	// (tcp_close(sk, timeout)): t may sleep up to timeout for the
	// connection to close (the SO_LINGER wait).
	CloseTimeout(t *kernelmodel.Task, sk *Sock, timeout time.Duration)
	// SetSockOptString and GetSockOptString are the options with a
	// string value (TCP_CONGESTION).
	SetSockOptString(sk *Sock, level, name int, val string) error
	GetSockOptString(sk *Sock, level, name int) (string, error)
}

// stream returns the socket's stream protocol, nil for a datagram socket.
func (s *Socket) stream() StreamProto {
	if s.Sk.Type != SOCK_STREAM {
		return nil
	}
	sp, _ := s.Sk.Proto.(StreamProto)
	return sp
}

// Somaxconn is net.core.somaxconn.
func (sk *Sock) Somaxconn() int {
	if sk.Core.Somaxconn > 0 {
		return sk.Core.Somaxconn
	}
	return SOMAXCONN
}

// Listen is listen(2) (__sys_listen: the backlog capped by somaxconn;
// inet_listen). A datagram socket is EOPNOTSUPP.
func (s *Socket) Listen(backlog int) error {
	if s.closed {
		return syscall.EBADF
	}
	sp := s.stream()
	if sp == nil {
		return syscall.EOPNOTSUPP
	}
	if uint(backlog) > uint(s.Sk.Somaxconn()) {
		backlog = s.Sk.Somaxconn()
	}
	return sp.Listen(s.Sk, backlog)
}

// Accept is accept4(2): the new connection and its peer's address. A nil
// t, O_NONBLOCK or flags with O_NONBLOCK make it EAGAIN when no connection
// waits; flags' O_NONBLOCK is also the new socket's file flag.
func (s *Socket) Accept(t *kernelmodel.Task, flags int) (*Socket, netip.AddrPort, error) {
	if s.closed {
		return nil, netip.AddrPort{}, syscall.EBADF
	}
	sp := s.stream()
	if sp == nil {
		return nil, netip.AddrPort{}, syscall.EOPNOTSUPP
	}
	if flags&O_NONBLOCK != 0 || s.flags&O_NONBLOCK != 0 {
		t = nil
	}
	ns, err := sp.Accept(t, s.Sk)
	syscallExit(t)
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	ns.flags = flags & O_NONBLOCK
	sk := ns.Sk
	return ns, netip.AddrPortFrom(netip.AddrFrom4(sk.Daddr), sk.Dport), nil
}

// Ioctl is ioctl(2) with an int result: FIONREAD/SIOCINQ, SIOCOUTQ,
// SIOCOUTQNSD on a stream socket (FIONREAD on a datagram socket is the
// next datagram's length, SIOCOUTQ the send buffer in use).
func (s *Socket) Ioctl(req int) (int, error) {
	if s.closed {
		return 0, syscall.EBADF
	}
	if sp := s.stream(); sp != nil {
		return sp.Ioctl(s.Sk, req)
	}
	switch req {
	case SIOCINQ:
		if skb := s.Sk.ReceiveQueue.Peek(); skb != nil {
			return skb.Len(), nil
		}
		return 0, nil
	case SIOCOUTQ:
		return s.Sk.WmemAlloc, nil
	}
	return 0, syscall.ENOTTY
}

// SetLinger is setsockopt(SO_LINGER) with struct linger {on, secs}.
func (s *Socket) SetLinger(on bool, secs int) error {
	if s.closed {
		return syscall.EBADF
	}
	sp := s.stream()
	if sp == nil {
		s.Sk.Linger, s.Sk.LingerTime = on, time.Duration(secs)*time.Second
		return nil
	}
	sp.SetLinger(s.Sk, on, secs)
	return nil
}

// SetSockOptString is setsockopt(2) with a string value (TCP_CONGESTION).
func (s *Socket) SetSockOptString(level, name int, val string) error {
	if s.closed {
		return syscall.EBADF
	}
	if sp := s.stream(); sp != nil {
		return sp.SetSockOptString(s.Sk, level, name, val)
	}
	return syscall.ENOPROTOOPT
}

// GetSockOptString is getsockopt(2) with a string value (TCP_CONGESTION).
func (s *Socket) GetSockOptString(level, name int) (string, error) {
	if s.closed {
		return "", syscall.EBADF
	}
	if sp := s.stream(); sp != nil {
		return sp.GetSockOptString(s.Sk, level, name)
	}
	return "", syscall.ENOPROTOOPT
}

// Wait is one sleep of sk_wait_event: t waits on the socket's wait queue
// until a wake-up or the timeout (0: none; else the time left, updated).
// It reports false when the timeout ran out.
func (sk *Sock) Wait(t *kernelmodel.Task, timeo *time.Duration) bool {
	e := entry(&sk.rxWait, t)
	ok := sk.sleep(t, e, timeo)
	release(&sk.rxWait, e)
	return ok
}

// WaitExclusive is Wait as an exclusive waiter at the tail (what
// inet_csk_wait_for_connect's prepare_to_wait_exclusive does): one
// wake-up wakes one such waiter.
func (sk *Sock) WaitExclusive(t *kernelmodel.Task, timeo *time.Duration) bool {
	return sk.Wait(t, timeo) // sleep queues exclusively
}

// NewChild is sk_clone_lock() + sock_graft for a connection a listener
// accepted: a socket of the listener's family, type, protocol and
// buffers.
func (sk *Sock) NewChild() *Socket {
	so := NewSock(sk.K, sk.Core, sk.Family, sk.Type, sk.Protocol, sk.Proto)
	c := so.Sk
	c.Rcvbuf, c.Sndbuf, c.Userlocks = sk.Rcvbuf, sk.Sndbuf, sk.Userlocks
	c.UcTTL, c.TOS, c.PMTUDisc = sk.UcTTL, sk.TOS, sk.PMTUDisc
	c.RcvTimeo, c.SndTimeo = sk.RcvTimeo, sk.SndTimeo
	c.Linger, c.LingerTime, c.Keepalive = sk.Linger, sk.LingerTime, sk.Keepalive
	return so
}

// infoer is a stream protocol that reports struct tcp_info.
type infoer interface {
	TCPInfo(sk *Sock) (tcpinfo.Info, error)
}

// TCPInfo is getsockopt(TCP_INFO): the connection's struct tcp_info.
func (s *Socket) TCPInfo() (tcpinfo.Info, error) {
	if s.closed {
		return tcpinfo.Info{}, syscall.EBADF
	}
	if in, ok := s.Sk.Proto.(infoer); ok && s.Sk.Type == SOCK_STREAM {
		return in.TCPInfo(s.Sk)
	}
	return tcpinfo.Info{}, syscall.EOPNOTSUPP
}
