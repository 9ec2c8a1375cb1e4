package tcp

import (
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
)

// The passive open's helpers that net/ipv4/tcp_minisocks.c and
// inet_connection_sock.c use on a child in SYN_RECV (a SYN cookie's, or
// a request's child while it takes the handshake's ACK).

// checkReq is tcp_check_req for a child still in SYN_RECV (made from a
// request record or a SYN cookie for the ACK it now takes): the ACK
// completes the handshake unless the accept queue filled meanwhile.
func (c *Conn) checkReq(s *segment) bool {
	t := c.t
	if s.flags&(flagRST|flagSYN) != 0 || s.flags&flagACK == 0 || s.ack != c.iss+1 {
		return false
	}
	if c.parent.acceptqIsFull() {
		t.Ext.ListenOverflows++
		t.Ext.ListenDrops++
		return false
	}
	return true
}

// newReqChild is inet_reqsk_alloc + tcp_openreq_init +
// tcp_create_openreq_child for a segment to listener l: the child
// connection with the SYN's options (cookie false) or, for the ACK of a
// SYN cookie (cookie true), those the ACK brings back, its addresses,
// receive window and ISN; not yet hashed. For a cookie ACK it returns nil
// when the echoed timestamp's options are not acceptable.
func (l *Conn) newReqChild(s *segment, cookie bool) *Conn {
	t := l.t
	c := l.cloneChild(s.iph.Destination(), s.iph.Source(), s.th.SourcePort())
	sk := c.sk
	c.tsOffset = t.secrets.TSOff(&t.Sysctl, sk.Saddr, sk.Daddr)
	c.state = StateListen // as the listener parses the options
	irs := s.seq
	if cookie {
		irs = s.seq - 1
		c.parseOptions(s, false)
		if !CookieTimestampDecode(&t.Sysctl, &c.rx) {
			return nil
		}
		c.rx.MSSClamp = t.secrets.CookieV4Check(sk.Daddr, sk.Saddr, sk.Dport, sk.Sport, s.seq, s.ack, t.K.Now())
		if !c.rx.WscaleOK {
			c.rw.WindowClamp = min(c.rw.WindowClamp, 0xffff)
		}
	} else {
		c.parseOptions(s, true)
		c.synOptions(s)
	}
	c.initAdvMSS()
	c.syncMSS()
	c.irs, c.rcvNxt = irs, irs+1
	c.copiedSeq = c.rcvNxt
	c.initRcvWnd(c.rx.WscaleOK)
	if c.rx.TstampOK {
		c.paws.Store(c.rx.RcvTSval, t.K.Now())
	} else {
		c.tsOffset = 0
	}
	c.sndWnd = s.wnd
	c.sndWl1 = irs
	c.iss = t.secrets.SecureSeq(sk.Saddr, sk.Daddr, sk.Sport, sk.Dport, t.K.Now())
	if cookie {
		c.iss = s.ack - 1
	}
	c.sndUna, c.sndNxt, c.sndMax, c.writeSeq = c.iss, c.iss, c.iss, c.iss
	return c
}

// requestSock is struct request_sock with its tcp_request_sock: what a
// listener keeps of a SYN it answered, in the established hash
// (t.reqhash, looked up with the ehash) until the handshake's ACK makes
// the child (tcp_v4_syn_recv_sock) or the SYN-ACK timer gives up. It
// holds the 4-tuple, both ISNs, the negotiated options (rx: mss_clamp,
// snd_wscale, wscale_ok, sack_ok, tstamp_ok), the receive window and
// window clamp (rw: rcv_wnd, window_clamp, rcv_wscale), ts_recent, the
// timestamp offset, the SYN's window, num_retrans and num_timeout, when
// the SYN-ACK last went, and its timer (rsk_timer).
type requestSock struct {
	l          *Conn // rsk_listener
	key        fourTuple
	sntISN     uint32 // snt_isn: our ISN
	rcvISN     uint32 // rcv_isn: the peer's
	sndWnd     uint32 // the SYN's window
	tsOff      uint32 // ts_off
	lastOOW    uint32
	numRetrans uint8 // num_retrans: SYN-ACKs sent again
	numTimeout uint8 // num_timeout: timer expiries
	rx         RxOptions
	rw         RcvWindow
	paws       PAWS          // ts_recent and its stamp
	sntSynack  time.Duration // snt_synack: when the SYN-ACK last went
	timer      kernelmodel.TimerList
}

// reqLookup is the request sock part of __inet_lookup_established: the
// request for the 4-tuple when no full sock has it.
func (t *Table) reqLookup(saddr [4]byte, sport uint16, daddr [4]byte, dport uint16) *requestSock {
	k := fourTuple{laddr: daddr, raddr: saddr, lport: dport, rport: sport}
	if t.ehash[k] != nil {
		return nil
	}
	return t.reqhash[k]
}

// inetReqskAlloc is inet_reqsk_alloc + tcp_openreq_init for a SYN to
// listener l: the options negotiated, the window chosen and the ISN
// picked as the child would (newReqChild on a scratch child, which then
// sends the SYN-ACK: tcp_v4_send_synack), then kept as a record.
func (l *Conn) inetReqskAlloc(s *segment) *requestSock {
	c := l.newReqChild(s, false)
	c.state = StateSynRecv
	c.sk.State = int(StateSynRecv)
	c.queueCtl(flagSYN | flagACK)
	c.writeXmit(true)
	r := &requestSock{l: l, sntISN: c.iss, rcvISN: c.irs, sndWnd: c.sndWnd, tsOff: c.tsOffset,
		rx: c.rx, rw: c.rw, paws: c.paws, sntSynack: l.t.K.Now()}
	sk := c.sk
	r.key = fourTuple{laddr: sk.RcvSaddr, raddr: sk.Daddr, lport: sk.Sport, rport: sk.Dport}
	c.clearTimers()
	c.purgeQueues()
	return r
}

// inetCskReqskQueueHashAdd is inet_csk_reqsk_queue_hash_add: the request
// in the ehash, counted in the SYN queue, its timer at TCP_TIMEOUT_INIT.
func (l *Conn) inetCskReqskQueueHashAdd(r *requestSock) {
	t := l.t
	t.reqhash[r.key] = r
	l.synQLen++
	k := t.K
	k.TimerSetup(&r.timer, func(*kernelmodel.TimerList) { r.reqskTimerHandler() })
	k.ModTimer(&r.timer, k.Jiffies()+uint64(TCPTimeoutInit/jiffy))
}

// reqskQueueDrop is inet_csk_reqsk_queue_drop: out of the ehash and the
// SYN queue, its timer stopped; the attempt failed (AttemptFails).
func (r *requestSock) reqskQueueDrop() {
	t := r.l.t
	if t.reqhash[r.key] != r {
		return
	}
	r.unlink()
	t.MIB.AttemptFails++
}

func (r *requestSock) unlink() {
	t := r.l.t
	delete(t.reqhash, r.key)
	t.K.DelTimer(&r.timer)
	r.l.synQLen--
}

// reqskTimerHandler is reqsk_timer_handler: with the listener gone the
// request goes; after tcp_synack_retries expiries too; else the SYN-ACK
// again (tcp_syn_ack_timeout: TCPTimeouts) and the timer at
// TCP_TIMEOUT_INIT << num_timeout, at most TCP_RTO_MAX.
func (r *requestSock) reqskTimerHandler() {
	l := r.l
	t := l.t
	if l.state != StateListen || int(r.numTimeout) >= t.Sysctl.SynackRetries {
		r.reqskQueueDrop()
		return
	}
	t.Ext.TCPTimeouts++
	r.rtxSynAck()
	r.numTimeout++
	k := t.K
	k.ModTimer(&r.timer, k.Jiffies()+uint64(min(TCPTimeoutInit<<r.numTimeout, TCPRtoMax)/jiffy))
}

// child is the Conn the record stands for: tcp_create_openreq_child's
// part that the record decides (addresses, ISNs, options, window,
// ts_recent), in SYN_RECV, not hashed, snd_nxt at our ISN. The SYN-ACK,
// the ACK of a request and ss's view are made from one such.
func (r *requestSock) child() *Conn {
	c := r.l.cloneChild(r.key.laddr, r.key.raddr, r.key.rport)
	c.tsOffset = r.tsOff
	c.rx = r.rx
	c.initAdvMSS()
	c.syncMSS()
	c.rw = r.rw
	c.irs, c.rcvNxt = r.rcvISN, r.rcvISN+1
	c.copiedSeq = c.rcvNxt
	c.paws = r.paws
	c.lastOOW = r.lastOOW
	c.sndWnd, c.sndWl1 = r.sndWnd, r.rcvISN
	c.iss = r.sntISN
	c.sndUna, c.sndNxt, c.sndMax, c.writeSeq = c.iss, c.iss, c.iss, c.iss
	c.state = StateSynRecv
	c.sk.State = int(StateSynRecv)
	return c
}

// cloneChild is sk_clone_lock's part of tcp_create_openreq_child: a
// child socket of listener l for the connection from raddr:rport to
// laddr, with the listener's congestion control, TCP_NODELAY and
// TCP_MAXSEG.
func (l *Conn) cloneChild(laddr, raddr [4]byte, rport uint16) *Conn {
	so := l.sk.NewChild()
	sk := so.Sk
	c := newConn(l.t, sk)
	c.so, c.parent = so, l
	c.ca = nil
	if l.ca != nil {
		c.ca = FindCongestionControl(l.ca.Name())()
	}
	c.nonagle, c.userMSS = l.nonagle, l.userMSS
	sk.RcvSaddr, sk.Saddr = laddr, laddr
	sk.Daddr, sk.Dport = raddr, rport
	sk.Num, sk.Sport = l.sk.Num, l.sk.Num
	return c
}

// rtxSynAck is inet_rtx_syn_ack → tcp_rtx_synack: the SYN-ACK again,
// built from the record (RetransSegs, TCPSynRetrans, num_retrans).
func (r *requestSock) rtxSynAck() {
	t := r.l.t
	c := r.child()
	c.queueCtl(flagSYN | flagACK)
	sent := c.writeXmit(true)
	c.clearTimers()
	c.purgeQueues()
	if !sent {
		return
	}
	t.MIB.OutSegs--
	t.MIB.RetransSegs++
	t.Ext.TCPSynRetrans++
	r.numRetrans++
	r.sntSynack = t.K.Now()
}

// reqskSendAck is tcp_v4_reqsk_send_ack: an ACK of the request (for a
// segment out of its window).
func (r *requestSock) reqskSendAck() {
	c := r.child()
	c.sndUna, c.sndNxt, c.sndMax, c.writeSeq = c.iss+1, c.iss+1, c.iss+1, c.iss+1
	c.sendAck()
	c.clearTimers()
	c.purgeQueues()
}

// tcpCheckReq is tcp_check_req for a segment that found request r, in
// Linux's order: the SYN again gets the SYN-ACK again; an ACK of
// anything but our ISN+1 gets a RST and leaves the request; a segment
// out of the window gets an ACK (both rate limited,
// TCPACKSkippedSynRecv); an in-window RST or SYN ends the request
// (embryonic_reset: a RST answers the SYN, EmbryonicRsts, AttemptFails)
// — no challenge ACKs before the handshake; without ACK the segment is
// dropped, and with the accept queue full too (ListenOverflows,
// ListenDrops: the SYN-ACK timer goes on and a later ACK may find
// room). The valid ACK makes the child (tcpV4SynRecvSock), which takes
// the ACK and so goes to the accept queue (inet_csk_complete_hashdance).
func (r *requestSock) tcpCheckReq(skb *kernelmodel.SKB, s *segment) {
	l := r.l
	t := l.t
	if s.flags&(flagACK|flagRST|flagSYN) == 0 {
		t.K.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_TCP_FLAGS)
		return
	}
	j := uint32(t.K.Jiffies())
	rl := uint32(t.Sysctl.InvalidRatelimit)
	rcvNxt := r.rcvISN + 1
	switch {
	case s.flags&(flagSYN|flagACK|flagRST|flagFIN) == flagSYN && s.seq == r.rcvISN:
		if !OOWRateLimited(&r.lastOOW, j, rl, &t.Ext.TCPACKSkippedSynRecv) {
			r.rtxSynAck()
		}
	case s.flags&flagACK != 0 && s.ack != r.sntISN+1:
		t.v4SendReset(s.iph, s.th, s.dataLen)
	case Sequence(s.seq, s.endSeq, r.rw.RcvWup, r.rw.RcvWnd, rcvNxt) != SeqOK:
		if s.flags&flagRST == 0 && !OOWRateLimited(&r.lastOOW, j, rl, &t.Ext.TCPACKSkippedSynRecv) {
			r.reqskSendAck()
		}
	case s.flags&(flagRST|flagSYN) != 0:
		if s.flags&flagRST == 0 {
			t.v4SendReset(s.iph, s.th, s.dataLen)
		}
		t.Ext.EmbryonicRsts++
		r.reqskQueueDrop()
	case s.flags&flagACK == 0:
	case l.acceptqIsFull():
		// tcp_v4_syn_recv_sock's listen_overflow (tcp_abort_on_overflow
		// 0): the ACK is dropped, the request and its SYN-ACK timer kept
		// (inet_rsk(req)->acked).
		t.Ext.ListenOverflows++
		t.Ext.ListenDrops++
	default:
		c := r.tcpV4SynRecvSock()
		c.segsIn++
		c.rcvStateProcess(skb, s)
		return
	}
	t.freeSKB(skb, dropOther)
}

// tcpV4SynRecvSock is tcp_v4_syn_recv_sock → tcp_create_openreq_child:
// the full child of the request, its SYN-ACK on the write queue as sent
// (so that the ACK takes its RTT sample as tcp_synack_rtt_meas would),
// in the ehash in the request's place (inet_ehash_nolisten); it stays in
// the SYN queue's count until it reaches the accept queue.
func (r *requestSock) tcpV4SynRecvSock() *Conn {
	c := r.child()
	skb := c.queueCtl(flagSYN | flagACK)
	cb := getCB(skb)
	cb.when = r.sntSynack
	cb.pcount = 1
	cb.sacked |= tcpcbInflight
	if r.numRetrans > 0 {
		cb.sacked |= tcpcbRetrans | tcpcbEverRetr
		c.retransOut = 1
	}
	setCB(skb, cb)
	c.sendHead = nil
	c.packetsOut = 1
	c.sndNxt, c.sndMax = c.iss+1, c.iss+1
	c.totalRetrans = uint32(r.numRetrans)
	r.unlink()
	r.l.synQLen++
	r.l.t.ehashInsert(c)
	return c
}

// acceptqIsFull is sk_acceptq_is_full: more children queued than the
// backlog (so a backlog of n holds n+1, as Linux's does).
func (l *Conn) acceptqIsFull() bool { return len(l.acceptQ) > l.maxBacklog }
