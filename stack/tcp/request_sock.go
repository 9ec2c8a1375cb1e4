package tcp

// The passive open's request sock (struct request_sock): here still the
// child Conn in SYN_RECV that tcp_conn_request makes (see doc.go's
// deviations); the helpers below are what net/ipv4/tcp_minisocks.c and
// inet_connection_sock.c do with one.

// rtxSynAck is inet_rtx_syn_ack → tcp_rtx_synack: the SYN-ACK again for a
// retransmitted SYN (tcp_check_req), counted as a retransmission
// (RetransSegs, TCPSynRetrans).
func (c *Conn) rtxSynAck() {
	skb := c.wq.Peek()
	if skb == nil || getCB(skb).flags&flagSYN == 0 {
		return
	}
	if c.retransmitSKB(skb) {
		c.t.Ext.TCPSynRetrans++
	}
}

// checkReq is tcp_check_req's verdict on a segment for a request sock
// (the child in SYN_RECV that a listener made), in Linux's order: the
// SYN again gets the SYN-ACK again; an ACK of anything but our ISN+1 gets
// a RST and leaves the request; a segment out of the window gets an ACK
// (both rate limited, TCPACKSkippedSynRecv); an in-window RST or SYN
// ends the request (embryonic_reset: a RST answers the SYN,
// EmbryonicRsts, AttemptFails) — no challenge ACKs before the handshake;
// without ACK the segment is dropped, and with the accept queue full too
// (ListenOverflows, ListenDrops: the SYN-ACK timer goes on and a later
// ACK may find room). True: the ACK goes on to complete the handshake.
func (c *Conn) checkReq(s *segment) bool {
	t := c.t
	j := uint32(t.K.Jiffies())
	rl := uint32(t.Sysctl.InvalidRatelimit)
	if s.flags&(flagSYN|flagACK|flagRST|flagFIN) == flagSYN && s.seq == c.irs {
		if !OOWRateLimited(&c.lastOOW, j, rl, &t.Ext.TCPACKSkippedSynRecv) {
			c.rtxSynAck()
		}
		return false
	}
	if s.flags&flagACK != 0 && s.ack != c.iss+1 {
		t.v4SendReset(s.iph, s.th, s.dataLen)
		return false
	}
	if Sequence(s.seq, s.endSeq, c.rw.RcvWup, c.rw.RcvWnd, c.rcvNxt) != SeqOK {
		if s.flags&flagRST == 0 && !OOWRateLimited(&c.lastOOW, j, rl, &t.Ext.TCPACKSkippedSynRecv) {
			c.sendAck()
		}
		return false
	}
	if s.flags&(flagRST|flagSYN) != 0 {
		if s.flags&flagRST == 0 {
			t.v4SendReset(s.iph, s.th, s.dataLen)
		}
		c.reset()
		return false
	}
	if s.flags&flagACK == 0 {
		return false
	}
	if c.parent.acceptqIsFull() {
		// tcp_v4_syn_recv_sock's listen_overflow (tcp_abort_on_overflow
		// 0): the ACK is dropped, the request and its SYN-ACK timer kept
		// (inet_rsk(req)->acked).
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
	so := l.sk.NewChild()
	sk := so.Sk
	c := newConn(t, sk)
	c.so, c.parent = so, l
	c.ca = nil
	if l.ca != nil {
		c.ca = FindCongestionControl(l.ca.Name())()
	}
	c.nonagle, c.userMSS = l.nonagle, l.userMSS
	sk.RcvSaddr, sk.Saddr = s.iph.Destination(), s.iph.Destination()
	sk.Daddr, sk.Dport = s.iph.Source(), s.th.SourcePort()
	sk.Num, sk.Sport = l.sk.Num, l.sk.Num
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

// acceptqIsFull is sk_acceptq_is_full: more children queued than the
// backlog (so a backlog of n holds n+1, as Linux's does).
func (l *Conn) acceptqIsFull() bool { return len(l.acceptQ) > l.maxBacklog }
