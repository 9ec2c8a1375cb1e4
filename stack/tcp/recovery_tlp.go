package tcp

import "github.com/nicbed/nicbed/kernelmodel"

// scheduleLossProbe is tcp_schedule_loss_probe (RFC 8985 section 7.2,
// tcp_early_retrans=3): in Open with SACK and data out, the retransmit
// timer becomes the probe timer at TLPTimeout, never later than the RTO
// of the head would fire. It reports whether it armed it.
func (c *Conn) scheduleLossProbe() bool {
	er := c.t.Sysctl.EarlyRetrans
	if er != 3 && er != 4 || c.packetsOut == 0 || !c.sackOn() || c.cong.CAState != CAOpen || c.wq.Peek() == nil {
		return false
	}
	rtoDelta := getCB(c.wq.Peek()).when + c.rtt.RTO - c.now()
	if rtoDelta <= 0 {
		return false
	}
	c.resetTimer(icskTimeLossProbe, TLPTimeout(c.rtt.SrttUS, int(c.packetsOut), rtoDelta))
	return true
}

// lastSent is the skb before tcp_send_head: the last sent (skb_rb_last of
// tcp_rtx_queue).
func (c *Conn) lastSent() (last *kernelmodel.SKB) {
	for skb := c.wq.Peek(); skb != nil && skb != c.sendHead; skb = skb.Next {
		last = skb
	}
	return last
}

// lossProbe is tcp_send_loss_probe (RFC 8985 section 7.3): the probe
// timer ran out; one new segment goes out if the window allows, else the
// last sent segment again (its last MSS); tlp_high_seq marks the probe
// (TCPLossProbes); the RTO is rearmed. One probe at a time.
func (c *Conn) lossProbe() {
	defer c.rearmRTO()
	if c.rec.tlpHighSeq != 0 {
		return
	}
	c.rec.tlpRetrans = false
	if c.sendHead != nil {
		// tcp_write_xmit with push_one: one segment past cwnd.
		prior := c.packetsOut
		c.cong.SndCwnd++
		c.writeXmit(true)
		c.cong.SndCwnd--
		if c.packetsOut > prior {
			c.probeSent()
		}
		return
	}
	skb := c.lastSent()
	if skb == nil {
		return
	}
	if cb := getCB(skb); cb.pcount > 1 {
		c.splitSent(skb, int(uint32(cb.pcount-1)*c.mssCache))
		skb = c.lastSent()
	}
	if getCB(skb).sacked&tcpcbSackedAcked != 0 || !c.retransmitSKB(skb) {
		return
	}
	c.rec.tlpRetrans = true
	c.probeSent()
}

func (c *Conn) probeSent() {
	c.rec.tlpHighSeq = c.sndNxt
	c.t.Ext.TCPLossProbes++
}

// processTLPAck is tcp_process_tlp_ack: an ACK at or past tlp_high_seq
// settles the probe. A probe of new data, or one the D-SACK shows
// spurious, ends; an ACK beyond it after a retransmitted probe means the
// probe repaired a loss: cwnd is reduced to ssthresh
// (tcp_init_cwnd_reduction + tcp_end_cwnd_reduction, TCPLossProbeRecovery);
// a pure duplicate ACK means original and probe both arrived.
func (c *Conn) processTLPAck(ack uint32, dsack, pureDup bool) {
	if Before(ack, c.rec.tlpHighSeq) {
		return
	}
	switch {
	case !c.rec.tlpRetrans, dsack:
		c.rec.tlpHighSeq = 0
	case After(ack, c.rec.tlpHighSeq):
		c.rec.tlpHighSeq = 0
		s := &c.cong
		s.Now = c.now()
		s.PriorCwnd = s.SndCwnd
		s.SndSsthresh = c.ca.SSThresh(s)
		s.SndCwnd = max(s.SndSsthresh, 2)
		c.ca.CwndEvent(s, CAEventCompleteCWR)
		c.t.Ext.TCPLossProbeRecovery++
	case pureDup:
		c.rec.tlpHighSeq = 0
	}
}
