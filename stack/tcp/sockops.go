package tcp

import (
	"net/netip"
	"syscall"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/ipv4"
	"github.com/nicbed/nicbed/stack/socket"
)

// This file is tcp_prot and inet_stream_ops: the socket calls.

// Bind is inet_bind with inet_csk_get_port.
func (t *Table) Bind(sk *socket.Sock, addr netip.AddrPort) error {
	c := conn(sk)
	if c.state != StateClose || c.bound {
		return syscall.EINVAL
	}
	if err := t.IP.BindAddr(sk, addr, true); err != nil {
		return err
	}
	if !t.getPort(c, addr.Port()) {
		sk.RcvSaddr, sk.Saddr = [4]byte{}, [4]byte{}
		return syscall.EADDRINUSE
	}
	if addr.Addr().As4() != ([4]byte{}) {
		sk.Userlocks |= sockBindAddrLock
	}
	if addr.Port() != 0 {
		sk.Userlocks |= sockBindPortLock
	}
	return nil
}

// Connect is inet_stream_connect → tcp_v4_connect: route, source address,
// an ephemeral port (inet_hash_connect), the ISN (secure_tcp_seq) and
// timestamp offset, SYN_SENT and tcp_connect; then the wait for the
// handshake (inet_wait_for_connect) in task, or EINPROGRESS without one.
func (t *Table) Connect(task *kernelmodel.Task, sk *socket.Sock, addr netip.AddrPort) error {
	c := conn(sk)
	switch c.ss {
	case ssConnected:
		return syscall.EISCONN
	case ssConnecting:
		if c.state == StateSynSent || c.state == StateSynRecv {
			if task == nil {
				return syscall.EALREADY
			}
			return c.waitConnect(task)
		}
		return c.connectResult()
	}
	if c.state == StateListen {
		return syscall.EINVAL
	}
	if c.state != StateClose {
		return syscall.EISCONN
	}
	daddr := addr.Addr().As4()
	rt, err := t.IP.RouteOutput(daddr, sk.Saddr)
	if err != nil {
		return err
	}
	if rt.Type == ipv4.RTN_BROADCAST {
		return syscall.ENETUNREACH
	}
	if sk.Saddr == ([4]byte{}) {
		sk.Saddr = rt.Src
	}
	if sk.RcvSaddr == ([4]byte{}) {
		sk.RcvSaddr = rt.Src
	}
	sk.Daddr, sk.Dport = daddr, addr.Port()
	c.rt, c.haveRoute = rt, true
	c.setState(StateSynSent)
	if err := t.hashConnect(c); err != nil {
		c.setState(StateClose)
		sk.Daddr, sk.Dport = [4]byte{}, 0
		return err
	}
	c.iss = t.secrets.SecureSeq(sk.Saddr, sk.Daddr, sk.Sport, sk.Dport, t.K.Now())
	c.tsOffset = t.secrets.TSOff(&t.Sysctl, sk.Saddr, sk.Daddr)
	sk.ID = uint16(c.iss ^ uint32(t.K.Jiffies()))
	sk.Err = 0
	c.rx = RxOptions{UserMSS: uint16(c.userMSS)}
	c.connect()
	c.ss = ssConnecting
	if task == nil {
		return syscall.EINPROGRESS
	}
	return c.waitConnect(task)
}

// waitConnect is inet_wait_for_connect and the end of
// __inet_stream_connect.
func (c *Conn) waitConnect(task *kernelmodel.Task) error {
	timeo := c.sk.SndTimeo
	for c.state == StateSynSent || c.state == StateSynRecv {
		if !c.sk.Wait(task, &timeo) && (c.state == StateSynSent || c.state == StateSynRecv) {
			return syscall.EINPROGRESS
		}
	}
	return c.connectResult()
}

// connectResult: connected, or the error that closed the attempt
// (sock_error, else ECONNABORTED).
func (c *Conn) connectResult() error {
	if c.state == StateClose {
		c.ss = ssUnconnected
		if err := c.sk.SockError(); err != nil {
			return err
		}
		return syscall.ECONNABORTED
	}
	c.ss = ssConnected
	return nil
}

// Disconnect is tcp_disconnect (connect with AF_UNSPEC): a RST to an
// open peer, the connection forgotten.
func (t *Table) Disconnect(sk *socket.Sock) error {
	c := conn(sk)
	switch c.state {
	case StateClose:
	case StateListen:
		c.listenStop()
		c.setState(StateClose)
	case StateSynSent:
		c.done()
	default:
		c.sendActiveReset()
		c.done()
	}
	c.ss = ssUnconnected
	sk.Shutdown = 0
	sk.Daddr, sk.Dport = [4]byte{}, 0
	c.done_ = false
	return nil
}

// Listen is inet_listen → inet_csk_listen_start: an ephemeral port if
// none is bound, LISTEN, into the listening hash. A second listen changes
// the backlog.
func (t *Table) Listen(sk *socket.Sock, backlog int) error {
	c := conn(sk)
	if c.ss != ssUnconnected {
		return syscall.EINVAL
	}
	if c.state == StateListen {
		c.maxBacklog = backlog
		return nil
	}
	if c.state != StateClose {
		return syscall.EINVAL
	}
	if !c.bound {
		if !t.getPort(c, 0) {
			return syscall.EADDRINUSE
		}
	} else if t.listenConflict(c) {
		return syscall.EADDRINUSE
	}
	c.maxBacklog = backlog
	c.setState(StateListen)
	c.listening = true
	t.lhash[sk.Num] = append(t.lhash[sk.Num], c)
	return nil
}

// listenConflict is inet_csk_get_port's re-check at listen: SO_REUSEADDR
// does not let two sockets listen on one address and port.
func (t *Table) listenConflict(c *Conn) bool {
	for _, o := range t.lhash[c.sk.Num] {
		a, b := o.sk.RcvSaddr, c.sk.RcvSaddr
		if a == ([4]byte{}) || b == ([4]byte{}) || a == b {
			return true
		}
	}
	return false
}

// Accept is inet_csk_accept: the first child of the accept queue, or a
// sleep (prepare_to_wait_exclusive on the listener's wait queue) until
// one comes; EINVAL when not listening, EAGAIN without a task or when
// SO_RCVTIMEO ends the wait.
func (t *Table) Accept(task *kernelmodel.Task, sk *socket.Sock) (*socket.Socket, error) {
	c := conn(sk)
	timeo := sk.RcvTimeo
	for {
		if c.state != StateListen {
			return nil, syscall.EINVAL
		}
		if len(c.acceptQ) > 0 {
			child := c.acceptQ[0]
			copy(c.acceptQ, c.acceptQ[1:])
			c.acceptQ[len(c.acceptQ)-1] = nil
			c.acceptQ = c.acceptQ[:len(c.acceptQ)-1]
			so := child.so
			child.so, child.parent = nil, nil
			return so, nil
		}
		if task == nil {
			return nil, syscall.EAGAIN
		}
		if !sk.WaitExclusive(task, &timeo) && len(c.acceptQ) == 0 {
			return nil, syscall.EAGAIN
		}
	}
}

// listenStop is inet_csk_listen_stop: the children not accepted and the
// request socks are reset.
func (c *Conn) listenStop() {
	for _, ch := range c.acceptQ {
		ch.parent = nil
		ch.sendActiveReset()
		ch.sk.Dead = true
		ch.done()
		ch.sk.PurgeReceiveQueue() // inet_child_forget → tcp_disconnect
	}
	c.acceptQ = nil
	for _, ch := range c.t.ehash {
		if ch.parent == c {
			ch.parent = nil
			ch.sk.Dead = true
			ch.done()
		}
	}
	for _, r := range c.t.reqhash {
		if r.l == c {
			r.reqskQueueDrop()
		}
	}
	c.synQLen = 0
	c.t.unhash(c)
}

// SendMsg is tcp_sendmsg: wait for the connection (sk_stream_wait_connect),
// copy b into MSS-sized skbs on the write queue (growing the tail one),
// waiting for send buffer room (sk_stream_wait_memory) or returning what
// was copied (EAGAIN when nothing) without a task; then tcp_push. EPIPE
// after shutdown(SHUT_WR) or on an unconnected socket.
func (t *Table) SendMsg(task *kernelmodel.Task, sk *socket.Sock, b []byte, to *netip.AddrPort, flags int) (int, error) {
	c := conn(sk)
	k := t.K
	timeo := sk.SndTimeo
	for c.state == StateSynSent || c.state == StateSynRecv {
		if err := sk.SockError(); err != nil {
			return 0, err
		}
		if task == nil {
			return 0, syscall.EAGAIN
		}
		if !sk.Wait(task, &timeo) && (c.state == StateSynSent || c.state == StateSynRecv) {
			return 0, syscall.EAGAIN
		}
	}
	if err := sk.SockError(); err != nil {
		return 0, err
	}
	if sk.Shutdown&socket.SEND_SHUTDOWN != 0 || c.state != StateEstablished && c.state != StateCloseWait {
		return 0, syscall.EPIPE
	}
	copied := 0
	mss := c.sizeGoal()
	for copied < len(b) {
		skb := c.wq.Tail()
		if skb == nil || c.sendHead == nil || skb.Len() >= mss || getCB(skb).flags&(flagFIN|flagSYN) != 0 || skb.Tailroom() == 0 {
			if c.wmemQueued >= sk.Sndbuf {
				sk.Nospace = true
				c.push(flags)
				if task == nil {
					break
				}
				if !sk.Wait(task, &timeo) && c.wmemQueued >= sk.Sndbuf {
					break
				}
				if err := sk.SockError(); err != nil {
					if copied > 0 {
						return copied, nil
					}
					return 0, err
				}
				if sk.Shutdown&socket.SEND_SHUTDOWN != 0 || c.state != StateEstablished && c.state != StateCloseWait {
					if copied > 0 {
						return copied, nil
					}
					return 0, syscall.EPIPE
				}
				continue
			}
			skb = k.AllocSKB(maxTCPHeader + mss)
			skb.Reserve(maxTCPHeader)
			setCB(skb, skbCB{seq: c.writeSeq, endSeq: c.writeSeq, flags: flagACK})
			c.queueSKB(skb)
		}
		n := min(mss-skb.Len(), skb.Tailroom(), len(b)-copied)
		copy(skb.Put(n), b[copied:copied+n])
		k.ChargeBytes(k.Cost.TxPerKiB, n)
		cb := getCB(skb)
		cb.endSeq += uint32(n)
		setCB(skb, cb)
		c.writeSeq += uint32(n)
		copied += n
		if skb.Len() >= mss {
			c.writeXmit(false)
		}
	}
	if copied == 0 && len(b) > 0 {
		return 0, syscall.EAGAIN
	}
	c.push(flags)
	return copied, nil
}

// push is tcp_push: the pending frames with PSH on the last, unless
// corked.
func (c *Conn) push(flags int) {
	if c.sendHead == nil {
		return
	}
	c.writeXmit(c.nonagle&TCPNagleCork == 0)
}

// RecvMsg is tcp_recvmsg: copy from the receive queue up to len(b) (all
// of it with MSG_WAITALL), sleeping in task until data, FIN, an error or
// SO_RCVTIMEO; 0 at end of stream; MSG_PEEK leaves the data queued.
// Reading may open the window (tcp_cleanup_rbuf's window update).
func (t *Table) RecvMsg(task *kernelmodel.Task, sk *socket.Sock, b []byte, flags int) (int, netip.AddrPort, int, error) {
	c := conn(sk)
	from := netip.AddrPortFrom(netip.AddrFrom4(sk.Daddr), sk.Dport)
	if c.state == StateListen {
		return 0, from, 0, syscall.ENOTCONN
	}
	if flags&socket.MSG_OOB != 0 {
		return 0, from, 0, syscall.EINVAL
	}
	target := 1
	if flags&socket.MSG_WAITALL != 0 && flags&socket.MSG_PEEK == 0 {
		target = len(b)
	}
	timeo := sk.RcvTimeo
	copied := 0
	for copied < len(b) {
		if flags&socket.MSG_PEEK != 0 {
			copied = c.peek(b)
		} else {
			copied += c.copyOut(b[copied:])
		}
		if copied >= target || copied >= len(b) {
			break
		}
		if copied > 0 && (sk.Err != 0 || c.state == StateClose || sk.Shutdown&socket.RCV_SHUTDOWN != 0 || task == nil) {
			break
		}
		if copied == 0 {
			if err := sk.SockError(); err != nil {
				return 0, from, 0, err
			}
			if sk.Shutdown&socket.RCV_SHUTDOWN != 0 {
				break
			}
			if c.state == StateClose {
				if !c.done_ {
					return 0, from, 0, syscall.ENOTCONN
				}
				break
			}
			if task == nil {
				return 0, from, 0, syscall.EAGAIN
			}
		}
		if flags&socket.MSG_PEEK != 0 && copied > 0 {
			break
		}
		if !sk.Wait(task, &timeo) && sk.ReceiveQueue.Len() == 0 {
			if copied == 0 {
				return 0, from, 0, syscall.EAGAIN
			}
			break
		}
	}
	if copied > 0 && flags&socket.MSG_PEEK == 0 {
		c.rcvSpaceAdjust()
		c.cleanupRbuf(copied)
	}
	return copied, from, 0, nil
}

// copyOut is the copy loop of tcp_recvmsg: bytes leave the receive queue.
func (c *Conn) copyOut(b []byte) int {
	k := c.t.K
	n := 0
	for n < len(b) {
		skb := c.sk.ReceiveQueue.Peek()
		if skb == nil {
			break
		}
		m := copy(b[n:], skb.Data)
		n += m
		c.copiedSeq += uint32(m)
		c.rcvQueued -= m
		if m == skb.Len() {
			c.sk.ReceiveQueue.Dequeue()
			k.ConsumeSKB(skb)
		} else {
			skb.Pull(m)
		}
	}
	k.ChargeBytes(k.Cost.RxPerKiB, n)
	return n
}

// peek copies without consuming (MSG_PEEK).
func (c *Conn) peek(b []byte) int {
	n := 0
	for skb := c.sk.ReceiveQueue.Peek(); skb != nil && n < len(b); skb = skb.Next {
		n += copy(b[n:], skb.Data)
	}
	return n
}

// cleanupRbuf is tcp_cleanup_rbuf: an ACK when the window the buffer now
// allows is at least twice the one advertised (a window update), or a
// delayed ACK is pending and the reader emptied the queue.
func (c *Conn) cleanupRbuf(copied int) {
	if c.state == StateClose || c.state == StateListen || c.state == StateTimeWait {
		return
	}
	send := false
	if d := &c.delack; d.Pending&ICSKAckSched != 0 {
		// time_to_ack: more than a segment since the last window sent,
		// or a pushed segment and the queue emptied.
		send = c.rcvNxt-c.rw.RcvWup > d.RcvMSS ||
			d.Pending&(ICSKAckPushed|ICSKAckPushed2) != 0 && !d.Pingpong && c.sk.RmemAlloc == 0
	}
	if !send && c.sk.Shutdown&socket.RCV_SHUTDOWN == 0 {
		now := ReceiveWindow(c.rw.RcvWup, c.rw.RcvWnd, c.rcvNxt)
		if 2*now <= c.rw.WindowClamp {
			sys := &c.t.Sysctl
			free := WinFromSpace(c.sk.Rcvbuf-c.sk.RmemAlloc, sys.AdvWinScale)
			full := WinFromSpace(c.sk.Rcvbuf, sys.AdvWinScale)
			nw, _ := c.rw.selectWindow(free, full)
			send = nw >= 2*now
		}
	}
	if send {
		c.sendAck()
	}
}

// SetSockOpt is do_tcp_setsockopt for SOL_TCP.
func (t *Table) SetSockOpt(sk *socket.Sock, level, name, val int) error {
	if level != socket.SOL_TCP {
		return syscall.ENOPROTOOPT
	}
	c := conn(sk)
	switch name {
	case socket.TCP_NODELAY:
		if val != 0 {
			c.nonagle |= TCPNagleOff | TCPNaglePush
			c.pushPendingFrames()
			c.nonagle &^= TCPNaglePush
		} else {
			c.nonagle &^= TCPNagleOff
		}
	case socket.TCP_CORK:
		if val != 0 {
			c.nonagle |= TCPNagleCork
		} else {
			c.nonagle &^= TCPNagleCork
			if c.nonagle&TCPNagleOff != 0 {
				c.nonagle |= TCPNaglePush
			}
			c.writeXmit(true)
			c.nonagle &^= TCPNaglePush
		}
	case socket.TCP_MAXSEG:
		if val != 0 && (val < 88 || val > 65535-40) {
			return syscall.EINVAL
		}
		c.userMSS = val
	case socket.TCP_KEEPIDLE:
		if val < 1 || val > 32767 {
			return syscall.EINVAL
		}
		c.keepalive.Time = time.Duration(val) * time.Second
		if sk.Keepalive {
			c.setKeepalive(true)
		}
	case socket.TCP_KEEPINTVL:
		if val < 1 || val > 32767 {
			return syscall.EINVAL
		}
		c.keepalive.Intvl = time.Duration(val) * time.Second
	case socket.TCP_KEEPCNT:
		if val < 1 || val > 127 {
			return syscall.EINVAL
		}
		c.keepalive.Probes = val
	default:
		return syscall.ENOPROTOOPT
	}
	return nil
}

// GetSockOpt is do_tcp_getsockopt for SOL_TCP.
func (t *Table) GetSockOpt(sk *socket.Sock, level, name int) (int, error) {
	if level != socket.SOL_TCP {
		return 0, syscall.ENOPROTOOPT
	}
	c := conn(sk)
	sys := &t.Sysctl
	switch name {
	case socket.TCP_NODELAY:
		return int(b2u(c.nonagle&TCPNagleOff != 0)), nil
	case socket.TCP_CORK:
		return int(b2u(c.nonagle&TCPNagleCork != 0)), nil
	case socket.TCP_MAXSEG:
		if c.state == StateClose || c.state == StateListen {
			if c.userMSS != 0 {
				return c.userMSS, nil
			}
			return TCPMSSDefault, nil
		}
		return int(c.mssCache), nil
	case socket.TCP_KEEPIDLE:
		idle, _, _ := c.keepalive.when(sys)
		return int(idle / time.Second), nil
	case socket.TCP_KEEPINTVL:
		_, intvl, _ := c.keepalive.when(sys)
		return int(intvl / time.Second), nil
	case socket.TCP_KEEPCNT:
		_, _, n := c.keepalive.when(sys)
		return n, nil
	}
	return 0, syscall.ENOPROTOOPT
}

// SetSockOptString is TCP_CONGESTION (tcp_set_congestion_control).
func (t *Table) SetSockOptString(sk *socket.Sock, level, name int, val string) error {
	if level != socket.SOL_TCP || name != socket.TCP_CONGESTION {
		return syscall.ENOPROTOOPT
	}
	c := conn(sk)
	newOps := FindCongestionControl(val)
	if newOps == nil {
		return syscall.ENOENT
	}
	c.ca = newOps()
	if c.state == StateEstablished || c.state == StateCloseWait {
		c.ca.Init(&c.cong)
	}
	return nil
}

// GetSockOptString is getsockopt(TCP_CONGESTION).
func (t *Table) GetSockOptString(sk *socket.Sock, level, name int) (string, error) {
	if level != socket.SOL_TCP || name != socket.TCP_CONGESTION {
		return "", syscall.ENOPROTOOPT
	}
	if c := conn(sk); c.ca != nil {
		return c.ca.Name(), nil
	}
	return t.Sysctl.CongestionControl, nil
}

// SetLinger is SO_LINGER.
func (t *Table) SetLinger(sk *socket.Sock, on bool, secs int) {
	sk.Linger = on
	sk.LingerTime = time.Duration(max(secs, 0)) * time.Second
}

// Ioctl is tcp_ioctl: SIOCINQ the bytes readable (EINVAL on a
// listener), SIOCOUTQ the bytes not yet ACKed, SIOCOUTQNSD those not yet
// sent.
func (t *Table) Ioctl(sk *socket.Sock, req int) (int, error) {
	c := conn(sk)
	switch req {
	case socket.SIOCINQ:
		if c.state == StateListen {
			return 0, syscall.EINVAL
		}
		return c.rcvQueued, nil
	case socket.SIOCOUTQ:
		if c.state == StateListen {
			return 0, syscall.EINVAL
		}
		return int(c.writeSeq - c.sndUna), nil
	case socket.SIOCOUTQNSD:
		if c.state == StateListen {
			return 0, syscall.EINVAL
		}
		return int(c.writeSeq - c.sndNxt), nil
	}
	return 0, syscall.ENOTTY
}

// Poll is tcp_poll: the mask for every state.
func (t *Table) Poll(sk *socket.Sock) int {
	c := conn(sk)
	if c.state == StateListen {
		if len(c.acceptQ) > 0 {
			return socket.EPOLLIN | socket.EPOLLRDNORM
		}
		return 0
	}
	mask := 0
	if sk.Shutdown == socket.SHUTDOWN_MASK || c.state == StateClose {
		mask |= socket.EPOLLHUP
	}
	if sk.Shutdown&socket.RCV_SHUTDOWN != 0 {
		mask |= socket.EPOLLIN | socket.EPOLLRDNORM | socket.EPOLLRDHUP
	}
	if c.state != StateSynSent && c.state != StateSynRecv {
		if c.rcvQueued > 0 {
			mask |= socket.EPOLLIN | socket.EPOLLRDNORM
		}
		if sk.Shutdown&socket.SEND_SHUTDOWN == 0 {
			if c.streamWriteable() {
				mask |= socket.EPOLLOUT | socket.EPOLLWRNORM
			} else {
				sk.Nospace = true
			}
		} else {
			mask |= socket.EPOLLOUT | socket.EPOLLWRNORM
		}
	}
	if sk.Err != 0 {
		mask |= socket.EPOLLERR
	}
	return mask
}

// Shutdown is inet_shutdown → tcp_shutdown: SHUT_WR sends the FIN
// (tcp_close_state); a socket not connected is ENOTCONN.
func (t *Table) Shutdown(sk *socket.Sock, how int) error {
	c := conn(sk)
	how++
	switch c.state {
	case StateClose:
		sk.Shutdown |= how
		c.stateChange()
		return syscall.ENOTCONN
	case StateListen:
		if how&socket.RCV_SHUTDOWN == 0 {
			return syscall.ENOTCONN
		}
		sk.Shutdown |= how
		c.listenStop()
		c.setState(StateClose)
		c.stateChange()
		return nil
	case StateSynSent:
		sk.Shutdown |= how
		t.Disconnect(sk)
		c.stateChange()
		return nil
	}
	sk.Shutdown |= how
	if how&socket.SEND_SHUTDOWN != 0 && c.closeState() {
		c.sendFin()
	}
	c.stateChange()
	return nil
}

// closeState is tcp_close_state: the state after our FIN (RFC 9293
// figure 5), and whether a FIN goes out.
func (c *Conn) closeState() bool {
	switch c.state {
	case StateEstablished, StateSynRecv:
		c.setState(StateFinWait1)
	case StateCloseWait:
		c.setState(StateLastAck)
	default:
		return false
	}
	return true
}

// Close is tcp_close(sk, 0): close(2) without a linger wait.
func (t *Table) Close(sk *socket.Sock) { t.CloseTimeout(nil, sk, 0) }

// CloseTimeout is tcp_close(sk, timeout) → __tcp_close: a listener
// stops; unread data or SO_LINGER with 0 aborts with a RST; else the FIN
// (tcp_close_state). With a timeout (inet_release passes sk_lingertime
// when SO_LINGER is on) task sleeps in sk_stream_wait_close until the FIN
// is ACKed — the state leaves FIN_WAIT1, CLOSING and LAST_ACK — or the
// timeout passes; close returns 0 either way, as Linux's does, blocking
// or not. Then sock_orphan (SOCK_DEAD): what is left runs to CLOSED on
// its own, FIN_WAIT2 bounded by tcp_fin_timeout.
func (t *Table) CloseTimeout(task *kernelmodel.Task, sk *socket.Sock, timeout time.Duration) {
	c := conn(sk)
	sk.Shutdown = socket.SHUTDOWN_MASK
	if c.state == StateListen {
		c.listenStop()
		c.setState(StateClose)
		sk.Dead = true
		t.putPort(c)
		return
	}
	unread := c.rcvQueued > 0
	sk.PurgeReceiveQueue()
	c.rcvQueued = 0
	switch {
	case c.state == StateClose:
	case unread:
		t.Ext.TCPAbortOnClose++
		c.sendActiveReset()
		c.done()
	case sk.Linger && sk.LingerTime == 0:
		t.Ext.TCPAbortOnData++
		c.sendActiveReset()
		c.done()
	case c.state == StateSynSent:
		c.done()
	case c.closeState():
		c.sendFin()
	}
	if task != nil && timeout > 0 {
		c.streamWaitClose(task, timeout)
	}
	// adjudge_to_death: the socket is an orphan from here.
	sk.Dead = true
	if c.state == StateFinWait2 {
		k := t.K
		k.ModTimer(&c.swTimer, k.Jiffies()+uint64(t.Sysctl.FinTimeout)*kernelmodel.HZ)
	}
	if c.state == StateClose {
		t.putPort(c)
	}
}

// closing is sk_stream_closing: our FIN is not yet ACKed.
func (c *Conn) closing() bool {
	return c.state == StateFinWait1 || c.state == StateClosing || c.state == StateLastAck
}

// streamWaitClose is sk_stream_wait_close: task sleeps on the socket's
// wait queue while the connection is closing, at most timeout.
func (c *Conn) streamWaitClose(task *kernelmodel.Task, timeout time.Duration) {
	for c.closing() && timeout > 0 {
		if !c.sk.Wait(task, &timeout) {
			return
		}
	}
}

// SetKeepalive is SO_KEEPALIVE's tcp_set_keepalive.
func (t *Table) SetKeepalive(sk *socket.Sock, on bool) { conn(sk).setKeepalive(on) }

// TCPInfo is getsockopt(TCP_INFO) (tcp_get_info).
func (t *Table) TCPInfo(sk *socket.Sock) (Info, error) { return conn(sk).Info(), nil }
