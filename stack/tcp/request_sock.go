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
// without ACK the segment is dropped. True: the ACK goes on to complete
// the handshake.
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
	return s.flags&flagACK != 0
}
