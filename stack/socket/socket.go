// Package socket is the protocol-independent socket layer (net/socket.c,
// net/core/sock.c, net/core/datagram.c): struct socket and struct sock with
// Linux's semantics and errors, receive and send buffer accounting
// (sk_rmem_alloc and sk_wmem_alloc charged with skb->truesize, released by
// the skb destructors sock_rfree and sock_wfree), the blocking datagram
// receive (__skb_recv_datagram) that sleeps a kernelmodel Task on the
// socket's wait queue until sk_data_ready (sock_def_readable) wakes it,
// socket options (SOL_SOCKET and the IPPROTO_IP options of inet_sock), poll
// readiness (datagram_poll) and readiness callbacks (the wait queue entries
// epoll hangs on a socket).
//
// A protocol (UDP, raw, later TCP) implements Proto, the struct proto and
// proto_ops of its socket type; the inet package's Socket (inet_create)
// makes a Socket with the Proto that its (type, protocol) names.
//
// Every call runs on the kernel model's loop. A call that may block takes
// the Task it runs in: it sleeps there on the socket's wait queue. A nil
// Task makes the call non-blocking (as MSG_DONTWAIT), for callers that are
// not tasks (events, the net.PacketConn adapter). Errors are the
// syscall.Errno values Linux returns.
package socket

import (
	"net/netip"
	"syscall"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
)

// Address and protocol families, socket types (include/linux/socket.h,
// net.h), Linux's values.
const (
	AF_UNSPEC = 0
	AF_INET   = 2
	AF_INET6  = 10

	SOCK_STREAM    = 1
	SOCK_DGRAM     = 2
	SOCK_RAW       = 3
	SOCK_SEQPACKET = 5
	SOCK_MAX       = 11
)

// IP protocol numbers of sockets.
const (
	IPPROTO_IP   = 0
	IPPROTO_ICMP = 1
	IPPROTO_TCP  = 6
	IPPROTO_UDP  = 17
	IPPROTO_RAW  = 255
	IPPROTO_MAX  = 256
)

// Message flags (MSG_*).
const (
	MSG_PEEK     = 0x2
	MSG_TRUNC    = 0x20
	MSG_DONTWAIT = 0x40
	MSG_OOB      = 0x1
	MSG_ERRQUEUE = 0x2000
)

// File status flags.
const O_NONBLOCK = 0x800

// Poll events (EPOLL*, the poll mask of struct file_operations.poll).
const (
	EPOLLIN     = 0x001
	EPOLLPRI    = 0x002
	EPOLLOUT    = 0x004
	EPOLLERR    = 0x008
	EPOLLHUP    = 0x010
	EPOLLRDNORM = 0x040
	EPOLLWRNORM = 0x100
	EPOLLWRBAND = 0x200
	EPOLLRDHUP  = 0x2000
)

// sk_state values a datagram socket takes (TCP_* of include/net/tcp_states.h).
const (
	TCP_ESTABLISHED = 1
	TCP_SYN_SENT    = 2
	TCP_CLOSE       = 7
)

// sk_shutdown bits.
const (
	RCV_SHUTDOWN  = 1
	SEND_SHUTDOWN = 2
	SHUTDOWN_MASK = 3
)

// sk_userlocks bits.
const (
	SOCK_SNDBUF_LOCK = 1
	SOCK_RCVBUF_LOCK = 2
)

// IP_PMTUDISC_* (IP_MTU_DISCOVER values).
const (
	IP_PMTUDISC_DONT = 0
	IP_PMTUDISC_WANT = 1
	IP_PMTUDISC_DO   = 2
)

// SKBMinTruesize is TCP_SKB_MIN_TRUESIZE: 2048 plus the aligned struct
// sk_buff (256 on x86-64); SOCK_MIN_RCVBUF is one, SOCK_MIN_SNDBUF two.
const (
	SKBMinTruesize  = 2048 + 256
	SOCK_MIN_RCVBUF = SKBMinTruesize
	SOCK_MIN_SNDBUF = 2 * SKBMinTruesize
)

// CoreSysctl is net.core.*'s socket buffer tunables (Linux's defaults:
// 212992 each, 256 * (SKB_TRUESIZE(256) + sizeof(struct sk_buff) ...)).
type CoreSysctl struct {
	RmemDefault int // net.core.rmem_default
	RmemMax     int // net.core.rmem_max
	WmemDefault int // net.core.wmem_default
	WmemMax     int // net.core.wmem_max
	Somaxconn   int // net.core.somaxconn (0: SOMAXCONN, 4096)
}

// DefaultCoreSysctl is Linux's defaults.
func DefaultCoreSysctl() CoreSysctl {
	return CoreSysctl{RmemDefault: 212992, RmemMax: 212992, WmemDefault: 212992, WmemMax: 212992, Somaxconn: SOMAXCONN}
}

// Proto is what a protocol gives its sockets: struct proto and the
// type's struct proto_ops (inet_dgram_ops for UDP and raw). The socket
// layer has checked that the socket is open and handled what is generic
// (AF_UNSPEC connect, the socket-level options) before it calls these.
type Proto interface {
	// Bind is inet_bind() with the protocol's get_port.
	Bind(sk *Sock, addr netip.AddrPort) error
	// Connect is the protocol's connect (ip4_datagram_connect).
	Connect(t *kernelmodel.Task, sk *Sock, addr netip.AddrPort) error
	// Disconnect is udp_disconnect / __udp_disconnect (connect with
	// AF_UNSPEC).
	Disconnect(sk *Sock) error
	// SendMsg is udp_sendmsg / raw_sendmsg; to is nil for a connected send.
	SendMsg(t *kernelmodel.Task, sk *Sock, b []byte, to *netip.AddrPort, flags int) (int, error)
	// RecvMsg is udp_recvmsg / raw_recvmsg: the datagram's length copied
	// (or its full length with MSG_TRUNC), its source, and the message
	// flags (MSG_TRUNC when cut).
	RecvMsg(t *kernelmodel.Task, sk *Sock, b []byte, flags int) (n int, from netip.AddrPort, msgFlags int, err error)
	// SetSockOpt and GetSockOpt are the protocol's own levels (SOL_UDP,
	// SOL_RAW); ENOPROTOOPT for what it does not know.
	SetSockOpt(sk *Sock, level, name, val int) error
	GetSockOpt(sk *Sock, level, name int) (int, error)
	// Close is the protocol's close: unhash, release queued skbs.
	Close(sk *Sock)
}

// Sock is a struct sock with its struct inet_sock: the protocol-side state
// of one socket.
type Sock struct {
	K    *kernelmodel.Kernel
	Core *CoreSysctl // the stack's net.core tunables

	Family, Type, Protocol int

	State    int // sk_state: TCP_CLOSE, TCP_ESTABLISHED (a connected datagram socket)
	Shutdown int // sk_shutdown

	Rcvbuf, Sndbuf int // sk_rcvbuf, sk_sndbuf (doubled, as Linux stores them)
	Userlocks      int
	RmemAlloc      int    // sk_rmem_alloc: truesize of the skbs on the receive queue
	WmemAlloc      int    // sk_wmem_alloc: truesize of the skbs sent and not yet freed
	Drops          uint64 // sk_drops

	ReceiveQueue Queue // sk_receive_queue
	Wq           kernelmodel.WaitQueueHead

	Err     int // sk_err (a positive errno)
	ErrSoft int // sk_err_soft

	Reuse     bool // SO_REUSEADDR
	Broadcast bool // SO_BROADCAST
	Nospace   bool // SOCK_NOSPACE: a sender found the send buffer full
	Dead      bool // SOCK_DEAD: closed

	RcvTimeo, SndTimeo time.Duration // SO_RCVTIMEO, SO_SNDTIMEO (0: forever)

	Keepalive  bool          // SO_KEEPALIVE (SOCK_KEEPOPEN)
	Linger     bool          // SO_LINGER's l_onoff (SOCK_LINGER)
	LingerTime time.Duration // sk_lingertime

	// struct inet_sock.
	RcvSaddr [4]byte // inet_rcv_saddr: the bound local address
	Saddr    [4]byte // inet_saddr: the source address used
	Daddr    [4]byte // inet_daddr: the connected peer
	Num      uint16  // inet_num: the local port (raw: the protocol)
	Sport    uint16  // inet_sport
	Dport    uint16  // inet_dport
	ID       uint16  // inet_id: the IP ID counter of a connected socket
	UcTTL    int     // uc_ttl: IP_TTL, -1 for ip_default_ttl
	TOS      uint8   // IP_TOS
	Hdrincl  bool    // IP_HDRINCL
	RecvErr  bool    // IP_RECVERR
	PMTUDisc int     // IP_MTU_DISCOVER

	// Callbacks (sk_data_ready, sk_write_space, sk_error_report): the
	// defaults wake the wait queue; a protocol or a user may replace them.
	DataReady   func(sk *Sock)
	WriteSpace  func(sk *Sock)
	ErrorReport func(sk *Sock)

	// Proto is the protocol's struct proto; PrivData its per-socket state.
	Proto Proto
	Priv  any

	rfree, wfree   func(skb *kernelmodel.SKB)
	rxWait, txWait kernelmodel.WaitQueueEntry // reused by the first waiter of each side
}

// Socket is a struct socket with its file: what a file descriptor names.
type Socket struct {
	Sk     *Sock
	flags  int // file flags: O_NONBLOCK
	closed bool
}

// NewSock is sk_alloc() + sock_init_data(): a socket of the stack's
// defaults (rmem_default, wmem_default) on k for proto.
func NewSock(k *kernelmodel.Kernel, core *CoreSysctl, family, typ, protocol int, proto Proto) *Socket {
	sk := &Sock{
		K: k, Core: core, Family: family, Type: typ, Protocol: protocol,
		State: TCP_CLOSE, Rcvbuf: core.RmemDefault, Sndbuf: core.WmemDefault,
		UcTTL: -1, PMTUDisc: IP_PMTUDISC_WANT, Proto: proto,
	}
	sk.DataReady = SockDefReadable
	sk.WriteSpace = SockDefWriteSpace
	sk.ErrorReport = SockDefErrorReport
	sk.rfree = sk.sockRfree
	sk.wfree = sk.sockWfree
	return &Socket{Sk: sk}
}

// SockDefReadable is sock_def_readable(): wake the waiters on the socket
// (readers and readiness callbacks) when data arrived.
func SockDefReadable(sk *Sock) {
	if sk.Wq.Active() {
		sk.Wq.WakeUp()
	}
}

// SockDefWriteSpace is sock_def_write_space(): wake writers once at least
// half the send buffer is free (sock_writeable).
func SockDefWriteSpace(sk *Sock) {
	if sk.Writeable() && sk.Wq.Active() {
		sk.Wq.WakeUp()
	}
}

// SockDefErrorReport is sock_def_error_report().
func SockDefErrorReport(sk *Sock) {
	if sk.Wq.Active() {
		sk.Wq.WakeUp()
	}
}

// Writeable is sock_writeable(): sk_wmem_alloc below half of sk_sndbuf.
func (sk *Sock) Writeable() bool { return sk.WmemAlloc < sk.Sndbuf>>1 }

// SockError is sock_error(): the pending error, cleared, as a negative
// errno's Errno (nil if none).
func (sk *Sock) SockError() error {
	if sk.Err == 0 {
		return nil
	}
	e := syscall.Errno(sk.Err)
	sk.Err = 0
	return e
}

// SetError is what an ICMP error handler does: sk_err = err and
// sk_error_report.
func (sk *Sock) SetError(err syscall.Errno) {
	sk.Err = int(err)
	sk.ErrorReport(sk)
}

// SetOwnerR is skb_set_owner_r(): charge skb's truesize to sk's receive
// buffer, sock_rfree releasing it when the skb is freed.
func (sk *Sock) SetOwnerR(skb *kernelmodel.SKB) {
	skb.Sk = sk
	skb.Destructor = sk.rfree
	sk.RmemAlloc += skb.Truesize()
}

// sockRfree is sock_rfree().
func (sk *Sock) sockRfree(skb *kernelmodel.SKB) { sk.RmemAlloc -= skb.Truesize() }

// SetOwnerW is skb_set_owner_w(): charge skb's truesize to sk's send
// buffer, sock_wfree releasing it (and calling sk_write_space) when the
// driver frees the skb.
func (sk *Sock) SetOwnerW(skb *kernelmodel.SKB) {
	skb.Sk = sk
	skb.Destructor = sk.wfree
	sk.WmemAlloc += skb.Truesize()
}

// sockWfree is sock_wfree().
func (sk *Sock) sockWfree(skb *kernelmodel.SKB) {
	sk.WmemAlloc -= skb.Truesize()
	if !sk.Dead {
		sk.WriteSpace(sk)
	}
}

// Flags returns the file's flags (O_NONBLOCK).
func (s *Socket) Flags() int { return s.flags }

// SetNonblock is fcntl(F_SETFL, O_NONBLOCK) on or off.
func (s *Socket) SetNonblock(on bool) {
	if on {
		s.flags |= O_NONBLOCK
	} else {
		s.flags &^= O_NONBLOCK
	}
}

// Nonblock reports whether a call with flags on the socket may not block:
// O_NONBLOCK, MSG_DONTWAIT, or no task to sleep in.
func (s *Socket) Nonblock(t *kernelmodel.Task, flags int) bool {
	return t == nil || s.flags&O_NONBLOCK != 0 || flags&MSG_DONTWAIT != 0
}

// Closed reports whether Close was called.
func (s *Socket) Closed() bool { return s.closed }

// Bind is bind(2).
func (s *Socket) Bind(addr netip.AddrPort) error {
	if s.closed {
		return syscall.EBADF
	}
	return s.Sk.Proto.Bind(s.Sk, addr)
}

// Connect is connect(2) (inet_dgram_connect, inet_stream_connect): an
// invalid addr is AF_UNSPEC, which disconnects. A stream socket's connect
// blocks in t until the handshake ends; without a task (or O_NONBLOCK) it
// is EINPROGRESS, then EALREADY while the handshake runs, then EISCONN.
func (s *Socket) Connect(t *kernelmodel.Task, addr netip.AddrPort) error {
	if s.closed {
		return syscall.EBADF
	}
	if !addr.IsValid() {
		return s.Sk.Proto.Disconnect(s.Sk)
	}
	if !addr.Addr().Is4() {
		return syscall.EAFNOSUPPORT
	}
	if s.stream() != nil {
		err := s.Sk.Proto.Connect(s.task(t, 0), s.Sk, addr)
		syscallExit(t)
		return err
	}
	return s.Sk.Proto.Connect(t, s.Sk, addr)
}

// Disconnect is connect(2) with AF_UNSPEC.
func (s *Socket) Disconnect() error {
	if s.closed {
		return syscall.EBADF
	}
	return s.Sk.Proto.Disconnect(s.Sk)
}

// Send is send(2): to the connected peer.
func (s *Socket) Send(t *kernelmodel.Task, b []byte, flags int) (int, error) {
	if s.closed {
		return 0, syscall.EBADF
	}
	n, err := s.Sk.Proto.SendMsg(s.task(t, flags), s.Sk, b, nil, flags)
	syscallExit(t)
	return n, err
}

// syscallExit is the return to user space (exit_to_user_mode_loop): the
// task sleeps off the CPU time it charged, so that interrupts and softirqs
// run in between, and gives the CPU up if another task wants it.
func syscallExit(t *kernelmodel.Task) {
	if t != nil {
		t.CondResched()
	}
}

// SendTo is sendto(2). A destination that is not IPv4 is EAFNOSUPPORT.
func (s *Socket) SendTo(t *kernelmodel.Task, b []byte, flags int, to netip.AddrPort) (int, error) {
	if s.closed {
		return 0, syscall.EBADF
	}
	if !to.Addr().Is4() {
		return 0, syscall.EAFNOSUPPORT
	}
	n, err := s.Sk.Proto.SendMsg(s.task(t, flags), s.Sk, b, &to, flags)
	syscallExit(t)
	return n, err
}

// RecvFrom is recvfrom(2): n is the bytes copied (the datagram's full
// length with MSG_TRUNC).
func (s *Socket) RecvFrom(t *kernelmodel.Task, b []byte, flags int) (int, netip.AddrPort, error) {
	n, from, _, err := s.RecvMsg(t, b, flags)
	return n, from, err
}

// RecvMsg is recvmsg(2): like RecvFrom, with msg_flags (MSG_TRUNC when
// the datagram was cut).
func (s *Socket) RecvMsg(t *kernelmodel.Task, b []byte, flags int) (int, netip.AddrPort, int, error) {
	if s.closed {
		return 0, netip.AddrPort{}, 0, syscall.EBADF
	}
	if flags&MSG_ERRQUEUE != 0 {
		return 0, netip.AddrPort{}, 0, syscall.EAGAIN // no error queue is kept
	}
	n, from, mf, err := s.Sk.Proto.RecvMsg(s.task(t, flags), s.Sk, b, flags)
	syscallExit(t)
	return n, from, mf, err
}

// task is the task a call may block in: none when it may not.
func (s *Socket) task(t *kernelmodel.Task, flags int) *kernelmodel.Task {
	if s.Nonblock(t, flags) {
		return nil
	}
	return t
}

// GetSockName is getsockname(2).
func (s *Socket) GetSockName() (netip.AddrPort, error) {
	if s.closed {
		return netip.AddrPort{}, syscall.EBADF
	}
	sk := s.Sk
	return netip.AddrPortFrom(netip.AddrFrom4(sk.RcvSaddr), sk.Sport), nil
}

// GetPeerName is getpeername(2): ENOTCONN unless connected.
func (s *Socket) GetPeerName() (netip.AddrPort, error) {
	if s.closed {
		return netip.AddrPort{}, syscall.EBADF
	}
	sk := s.Sk
	if sk.Type == SOCK_STREAM {
		if sk.Dport == 0 || sk.State == TCP_CLOSE || sk.State == TCP_SYN_SENT {
			return netip.AddrPort{}, syscall.ENOTCONN
		}
	} else if sk.State != TCP_ESTABLISHED || sk.Dport == 0 && sk.Type != SOCK_RAW {
		return netip.AddrPort{}, syscall.ENOTCONN
	}
	return netip.AddrPortFrom(netip.AddrFrom4(sk.Daddr), sk.Dport), nil
}

// Shutdown is shutdown(2) on a datagram socket (inet_shutdown): how is
// SHUT_RD (0), SHUT_WR (1) or SHUT_RDWR (2); an unconnected socket is
// ENOTCONN (but still shut down, as Linux does).
func (s *Socket) Shutdown(how int) error {
	if s.closed {
		return syscall.EBADF
	}
	if how < 0 || how > 2 {
		return syscall.EINVAL
	}
	sk := s.Sk
	if sp := s.stream(); sp != nil {
		return sp.Shutdown(sk, how)
	}
	sk.Shutdown |= how + 1
	var err error
	if sk.State != TCP_ESTABLISHED {
		err = syscall.ENOTCONN
	}
	sk.Wq.WakeUpAll() // sk_state_change
	return err
}

// Poll is the socket's poll (datagram_poll): the events ready now.
func (s *Socket) Poll() int {
	if s.closed {
		return 0
	}
	if sp := s.stream(); sp != nil {
		return sp.Poll(s.Sk)
	}
	return s.Sk.Poll()
}

// Poll is datagram_poll().
func (sk *Sock) Poll() int {
	mask := 0
	if sk.Err != 0 {
		mask |= EPOLLERR
	}
	if sk.Shutdown&RCV_SHUTDOWN != 0 {
		mask |= EPOLLRDHUP | EPOLLIN | EPOLLRDNORM
	}
	if sk.Shutdown == SHUTDOWN_MASK {
		mask |= EPOLLHUP
	}
	if sk.ReceiveQueue.Len() > 0 {
		mask |= EPOLLIN | EPOLLRDNORM
	}
	if sk.Writeable() {
		mask |= EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND
	} else {
		sk.Nospace = true
	}
	return mask
}

// AddWaiter hangs e on the socket's wait queue (what epoll_ctl's
// ep_ptable_queue_proc does): e.Func is called at every wake-up (data,
// write space, error, shutdown) and should look at Poll. It stays until
// RemoveWaiter.
func (s *Socket) AddWaiter(e *kernelmodel.WaitQueueEntry) { s.Sk.Wq.AddWaitQueue(e) }

// RemoveWaiter takes e off the wait queue.
func (s *Socket) RemoveWaiter(e *kernelmodel.WaitQueueEntry) { s.Sk.Wq.RemoveWaitQueue(e) }

// Close is close(2) from a task that cannot sleep (as inet_release does
// for an exiting process, PF_EXITING): CloseTask without a task, so no
// SO_LINGER wait.
func (s *Socket) Close() error { return s.CloseTask(nil) }

// CloseTask is close(2) in task t: sock_close → inet_release, which
// passes sk_lingertime as the protocol's close timeout when SO_LINGER is
// on (a stream socket's close then sleeps in t until its FIN is ACKed or
// the time passes), then SOCK_DEAD, the receive queue purged and every
// waiter woken; afterwards each call is EBADF.
func (s *Socket) CloseTask(t *kernelmodel.Task) error {
	if s.closed {
		return syscall.EBADF
	}
	s.closed = true
	sk := s.Sk
	if sp := s.stream(); sp != nil {
		var timeout time.Duration
		if sk.Linger && t != nil {
			timeout = sk.LingerTime
		}
		sp.CloseTimeout(t, sk, timeout)
	} else {
		sk.Proto.Close(sk)
	}
	sk.Dead = true
	sk.Shutdown = SHUTDOWN_MASK
	sk.PurgeReceiveQueue()
	sk.Wq.WakeUpAll()
	return nil
}

// PurgeReceiveQueue is __skb_queue_purge(&sk->sk_receive_queue).
func (sk *Sock) PurgeReceiveQueue() {
	for skb := sk.ReceiveQueue.Dequeue(); skb != nil; skb = sk.ReceiveQueue.Dequeue() {
		sk.K.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED) // skb_queue_purge
	}
}
