package tcp

import "github.com/nicbed/nicbed/kernelmodel"

// synFloodAction is tcp_syn_flood_action: with the SYN queue full, whether
// to answer with a cookie (tcp_syncookies != 0: TCPReqQFullDoCookies) or
// drop (TCPReqQFullDrop). The first time for a listener it says so, as
// Linux's "TCP: request_sock_TCP: Possible SYN flooding on port %d.
// Sending cookies." (here the tcp_syn_flood_action tracepoint with the
// port).
func (l *Conn) synFloodAction() bool {
	t := l.t
	want := t.Sysctl.Syncookies != 0
	if want {
		t.Ext.TCPReqQFullDoCookies++
	} else {
		t.Ext.TCPReqQFullDrop++
	}
	if !l.synFloodWarned && t.Sysctl.Syncookies != 2 {
		l.synFloodWarned = true
		t.K.TracePoint("tcp_syn_flood_action", 0, int64(l.sk.Num))
	}
	return want
}

// SynFloodWarned says whether the listener has logged "Possible SYN
// flooding on port %d" (once per listener, as Linux's
// queue->synflood_warned).
func (c *Conn) SynFloodWarned() bool { return c.synFloodWarned }

// sendCookieSynAck is tcp_conn_request's want_cookie path: the SYN-ACK
// whose sequence number is the cookie (cookie_v4_init_sequence, with the
// client's MSS rounded to msstab) and, with timestamps, whose TSval
// carries the SYN's window scale and SACK (cookie_init_timestamp);
// without timestamps it offers neither (tcp_clear_options). Nothing is
// kept: the request is freed once the SYN-ACK is out (SyncookiesSent,
// tcp_synq_overflow).
func (l *Conn) sendCookieSynAck(s *segment) {
	t := l.t
	c := l.newReqChild(s, false)
	if !c.rx.TstampOK {
		c.rx.WscaleOK, c.rx.SackOK, c.rx.SndWscale = false, false, 0
		c.rw.RcvWscale = 0
		c.initRcvWnd(false)
	}
	now := t.K.Now()
	sk := c.sk
	cookie, mss := t.secrets.CookieV4InitSequence(sk.Daddr, sk.Saddr, sk.Dport, sk.Sport, s.seq, uint16(c.rx.MSSClamp), now)
	c.rx.MSSClamp = mss
	if c.rx.TstampOK {
		// tsval() is the clock plus the offset: shift the offset so
		// that it sends the cookie's timestamp.
		ts := CookieInitTimestamp(c.tsNow(), c.rx.WscaleOK, c.rx.SndWscale, c.rx.SackOK, false)
		c.tsOffset += ts - c.tsNow()
	}
	c.iss = cookie
	c.sndUna, c.sndNxt, c.sndMax, c.writeSeq = cookie, cookie, cookie, cookie
	c.parent = nil
	c.state = StateSynRecv
	c.queueCtl(flagSYN | flagACK)
	c.writeXmit(true)
	c.clearTimers()
	c.purgeQueues()
	t.Ext.SyncookiesSent++
	l.synqOverflowAt = now
}

// cookieV4Check is tcp_v4_cookie_check → cookie_v4_check for an ACK that
// reached listener l (no request sock took it): within
// TCP_SYNCOOKIE_VALID of the last cookie sent, a valid cookie in the
// ACK number makes the child (SyncookiesRecv) with the cookie's MSS and
// the options the echoed timestamp restores, in SYN_RECV and hashed, which
// then takes the ACK as a request sock's would (tcp_child_process) and so
// goes to the accept queue. A bad cookie counts SyncookiesFailed. It
// reports whether it took skb; false leaves the ACK to the listener (a
// RST).
func (l *Conn) cookieV4Check(skb *kernelmodel.SKB, s *segment) bool {
	t := l.t
	if t.Sysctl.Syncookies == 0 || s.flags&(flagSYN|flagRST|flagACK) != flagACK {
		return false
	}
	now := t.K.Now()
	if l.synqOverflowAt == 0 || now-l.synqOverflowAt > TCPSyncookieValid {
		return false
	}
	src, dst := s.iph.Source(), s.iph.Destination()
	if t.secrets.CookieV4Check(src, dst, s.th.SourcePort(), s.th.DestinationPort(), s.seq, s.ack, now) == 0 {
		t.Ext.SyncookiesFailed++
		return false
	}
	t.Ext.SyncookiesRecv++
	if l.acceptqIsFull() {
		t.Ext.ListenOverflows++
		t.Ext.ListenDrops++
		t.K.KfreeSKB(skb, dropOther)
		return true
	}
	c := l.newReqChild(s, true)
	if c == nil {
		return false
	}
	c.sndNxt, c.sndMax, c.writeSeq = c.iss+1, c.iss+1, c.iss+1
	c.setState(StateSynRecv)
	t.ehashInsert(c)
	l.synQLen++
	c.rcvStateProcess(skb, s)
	return true
}
