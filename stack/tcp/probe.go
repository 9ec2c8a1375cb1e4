package tcp

import (
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
)

// This file is the timers that probe an idle or blocked peer:
// zero-window probes (the persist timer, RFC 9293 3.8.6.1) and keepalive
// (RFC 1122 4.2.3.6).

// checkProbeTimer is tcp_check_probe_timer: data waits, nothing is in
// flight and no timer runs: the probe timer starts at tcp_probe0_base.
func (c *Conn) checkProbeTimer() {
	if c.packetsOut == 0 && c.sendHead != nil && !c.rtxTimer.TimerPending() && !c.probeTimer.TimerPending() {
		k := c.t.K
		k.ModTimer(&c.probeTimer, k.Jiffies()+uint64(Probe0Base(c.rtt.RTO)/jiffy))
	}
}

// probeTimerHandler is tcp_probe_timer: with data in flight or nothing
// to send, nothing to do; after tcp_retries2 unanswered probes, ETIMEDOUT;
// else tcp_send_probe0 and the timer backed off (tcp_probe0_when).
func (c *Conn) probeTimerHandler() {
	if c.state == StateClose || c.state == StateListen || c.packetsOut != 0 || c.sendHead == nil {
		c.probesOut = 0
		return
	}
	if c.probesOut >= c.t.Sysctl.Retries2 {
		c.writeErr()
		return
	}
	c.writeWakeup()
	c.probesOut++
	c.probeBackoff = min(c.probeBackoff+1, 255)
	k := c.t.K
	k.ModTimer(&c.probeTimer, k.Jiffies()+uint64(Probe0When(c.rtt.RTO, c.probeBackoff, TCPRtoMax)/jiffy))
}

// writeWakeup is tcp_write_wakeup: if the window has room, what of the
// send head fits goes (split to the window, tcp_fragment); else the
// probe of tcp_xmit_probe_skb — an ACK at snd_una-1, which the peer must
// answer with its window.
func (c *Conn) writeWakeup() {
	if skb := c.sendHead; skb != nil {
		cb := getCB(skb)
		wnd := c.sndUna + c.sndWnd
		if Before(cb.seq, wnd) {
			if After(cb.endSeq, wnd) && skb.Len() > int(wnd-cb.seq) {
				c.fragment(skb, int(wnd-cb.seq))
			}
			c.t.Ext.TCPWinProbe++
			c.transmitNewData(skb)
			return
		}
	}
	_ = c.transmitSKB(c.allocCtlSKB(c.sndUna-1, flagACK), false)
	c.t.Ext.TCPWinProbe++
}

// fragment is tcp_fragment: skb keeps its first n bytes; the rest (with
// FIN and PSH) goes to a new skb after it on the write queue.
func (c *Conn) fragment(skb *kernelmodel.SKB, n int) {
	k := c.t.K
	rest := skb.Len() - n
	nskb := k.AllocSKB(maxTCPHeader + rest)
	nskb.Reserve(maxTCPHeader)
	copy(nskb.Put(rest), skb.Data[n:])
	skb.Trim(n)
	cb := getCB(skb)
	ncb := skbCB{seq: cb.seq + uint32(n), endSeq: cb.endSeq, flags: cb.flags}
	cb.endSeq = cb.seq + uint32(n)
	cb.flags &^= flagFIN | flagPSH
	setCB(skb, cb)
	setCB(nskb, ncb)
	c.wq.InsertAfter(skb, nskb)
	c.wmemQueued += nskb.Truesize()
}

// setKeepalive is tcp_set_keepalive: the timer on (at the idle time)
// or off.
func (c *Conn) setKeepalive(on bool) {
	k := c.t.K
	if c.state == StateClose || c.state == StateListen || c.state == StateTimeWait {
		return
	}
	if !on {
		k.DelTimer(&c.swTimer)
		return
	}
	idle, _, _ := c.keepalive.when(&c.t.Sysctl)
	k.ModTimer(&c.swTimer, k.Jiffies()+uint64(idle/jiffy))
}

// keepaliveElapsed is keepalive_time_elapsed: since the last segment in.
func (c *Conn) keepaliveElapsed() time.Duration {
	return c.now() - max(c.delack.Lrcvtime, c.rcvTstamp)
}

// keepaliveTimer is tcp_keepalive_timer, which also runs the TIME_WAIT
// and FIN_WAIT2 timeouts of an orphan (the model keeps no separate
// inet_timewait_sock): idle for TCP_KEEPIDLE, a probe every
// TCP_KEEPINTVL; after TCP_KEEPCNT unanswered, a RST and ETIMEDOUT.
func (c *Conn) keepaliveTimer() {
	switch c.state {
	case StateTimeWait, StateFinWait2:
		c.done()
		return
	case StateEstablished, StateCloseWait:
	default:
		return
	}
	if !c.sk.Keepalive {
		return
	}
	k := c.t.K
	sys := &c.t.Sysctl
	_, intvl, _ := c.keepalive.when(sys)
	next := intvl
	if c.packetsOut == 0 && c.sendHead == nil {
		a, n := c.keepalive.Timer(sys, c.keepaliveElapsed(), c.probesOut)
		switch a {
		case KeepaliveReset:
			c.sendActiveReset()
			c.writeErr()
			return
		case KeepaliveProbe:
			c.writeWakeup()
			c.probesOut++
			c.t.Ext.TCPKeepAlive++
		}
		next = n
	}
	k.ModTimer(&c.swTimer, k.Jiffies()+uint64(max(next, jiffy)/jiffy))
}
