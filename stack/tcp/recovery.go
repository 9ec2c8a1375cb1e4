package tcp

import (
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
)

// The scoreboard bits of skbCB.sacked (Linux's TCPCB_SACKED_ACKED and
// TCPCB_LOST; tcpcbRetrans is TCPCB_SACKED_RETRANS, tcpcbInflight holds
// the model's own bit in Linux's 0x01).
const (
	tcpcbSackedAcked = 0x02 // TCPCB_SACKED_ACKED: a SACK block covers it
	tcpcbLost        = 0x04 // TCPCB_LOST: deemed lost, not in flight
)

// What the retransmit timer is armed for (icsk_pending).
const (
	icskTimeRetrans    = 0 // ICSK_TIME_RETRANS
	icskTimeReoTimeout = 1 // ICSK_TIME_REO_TIMEOUT: RACK's reordering timer
	icskTimeLossProbe  = 2 // ICSK_TIME_LOSS_PROBE: the tail loss probe
)

// recovery is the sender's SACK loss recovery state of tcp_sock:
// sacked_out and lost_out (retrans_out is Conn.retransOut), tp->rack,
// the PRR counters, min_rtt (tcp_min_rtt) and icsk_pending.
type recovery struct {
	sackedOut, lostOut uint32
	rack               RACK
	prr                PRR
	minRTT             MinMax
	minRTTValid        bool
	pending            uint8
	tlpHighSeq         uint32 // tlp_high_seq: snd_nxt of an outstanding probe, 0 for none
	tlpRetrans         bool   // tlp_retrans: the probe was a retransmission

	// Undo (tcp_init_undo): undo_marker (undoMarked: not 0), the
	// retransmissions since it not yet D-SACKed (undo_retrans, -1 for
	// none), and the ssthresh before the reduction (prior_ssthresh).
	undoMarker    uint32
	undoMarked    bool
	undoRetrans   int
	priorSsthresh uint32
}

// initUndo is tcp_init_undo: snd_una marks where undo can start;
// undo_retrans counts the retransmissions in flight (-1 for none).
func (c *Conn) initUndo() {
	r := &c.rec
	r.undoMarker, r.undoMarked = c.sndUna, true
	r.undoRetrans = int(c.retransOut)
	if r.undoRetrans == 0 {
		r.undoRetrans = -1
	}
}

// dsackUndoCount is the undo_retrans accounting of tcp_check_dsack and
// tcp_sacktag_one: a D-SACK of data past undo_marker says that many
// retransmissions were not needed.
func (c *Conn) dsackUndoCount(blk SACKBlock) {
	r := &c.rec
	if !r.undoMarked || r.undoRetrans <= 0 || !After(blk.End, r.undoMarker) {
		return
	}
	mss := max(c.mssCache, 1)
	dup := int((blk.End - blk.Start + mss - 1) / mss)
	r.undoRetrans = max(0, r.undoRetrans-dup)
}

// tryUndoDSACK is tcp_try_undo_dsack: every retransmission since
// undo_marker was D-SACKed, so the reduction was spurious: cwnd and
// ssthresh come back (tcp_undo_cwnd_reduction), RACK keeps its wider
// reordering window for longer (TCPDSACKUndo).
func (c *Conn) tryUndoDSACK() bool {
	r := &c.rec
	if !r.undoMarked || r.undoRetrans != 0 {
		return false
	}
	r.rack.ReoWndPersist = min(RACKRecoveryThresh, r.rack.ReoWndPersist+1)
	c.undoCwndReduction()
	c.t.Ext.TCPDSACKUndo++
	return true
}

// undoCwndReduction is tcp_undo_cwnd_reduction without unmarking
// losses.
func (c *Conn) undoCwndReduction() {
	r, s := &c.rec, &c.cong
	if r.priorSsthresh != 0 {
		s.SndCwnd = max(s.SndCwnd, c.ca.UndoCwnd(s))
		if r.priorSsthresh > s.SndSsthresh {
			s.SndSsthresh = r.priorSsthresh
		}
	}
	r.undoMarked = false
}

// tryKeepOpen is tcp_try_keep_open: Open, or Disorder while skbs are
// SACKed, lost or retransmitted.
func (c *Conn) tryKeepOpen() {
	st := CAOpen
	if c.rec.sackedOut+c.rec.lostOut > 0 || c.retransOut > 0 {
		st = CADisorder
	}
	if c.cong.CAState != st {
		c.setCAState(st)
		c.highSeq = c.sndNxt
	}
}

// sackOn is tcp_is_sack: the peer sent SACK-permitted and a congestion
// control runs the connection.
func (c *Conn) sackOn() bool { return c.rx.SackOK && c.ca != nil }

// inFlight is tcp_packets_in_flight: packets_out - (sacked_out +
// lost_out) + retrans_out. Without SACK the model's NewReno counts
// packets_out.
func (c *Conn) inFlight() uint32 {
	if !c.rx.SackOK {
		return c.packetsOut
	}
	left := c.packetsOut - min(c.packetsOut, c.rec.sackedOut+c.rec.lostOut)
	return left + c.retransOut
}

// minRTTUpdate is tcp_update_rtt_min: the windowed minimum of the RTT
// samples (tcp_min_rtt_wlen).
func (c *Conn) minRTTUpdate(rtt time.Duration) {
	us := uint32(max(rtt/time.Microsecond, 1))
	now := c.tsNow()
	if !c.rec.minRTTValid {
		c.rec.minRTT.Reset(now, us)
		c.rec.minRTTValid = true
		return
	}
	c.rec.minRTT.RunningMin(uint32(c.t.Sysctl.MinRTTWlen)*1000, now, us)
}

// minRTTDur is tcp_min_rtt (0 before a sample).
func (c *Conn) minRTTDur() time.Duration {
	if !c.rec.minRTTValid {
		return 0
	}
	return time.Duration(c.rec.minRTT.Get()) * time.Microsecond
}

// checkDSACK is tcp_check_dsack (RFC 2883): the first block is a D-SACK
// when it lies below the ACK or inside the second block.
func checkDSACK(blocks []SACKBlock, ack uint32) bool {
	if len(blocks) == 0 {
		return false
	}
	b0 := blocks[0]
	if Before(b0.Start, ack) {
		return true
	}
	if len(blocks) > 1 {
		b1 := blocks[1]
		return !After(b0.End, b1.End) && !Before(b0.Start, b1.Start)
	}
	return false
}

// isSackblockValid is tcp_is_sackblock_valid: within what was sent, not
// reversed, above snd_una (a D-SACK may lie below it).
func isSackblockValid(dsack bool, start, end, sndUna, sndNxt uint32) bool {
	if After(end, sndNxt) || !Before(start, end) || !Before(start, sndNxt) {
		return false
	}
	if After(start, sndUna) {
		return true
	}
	return dsack
}

// sacktag is tcp_sacktag_write_queue: the SACK blocks of the ACK (ack)
// are validated and mark the sent skbs they cover TCPCB_SACKED_ACKED
// (an skb covered in part is split at a segment boundary,
// tcp_match_skb_to_sack). It returns the packets newly SACKed and
// whether the first block was a D-SACK (TCPDSACKRecv).
func (c *Conn) sacktag(ack uint32) (newly uint32, dsack bool) {
	blocks := c.rx.SACK[:c.rx.NumSACK]
	dsack = checkDSACK(blocks, ack)
	if dsack {
		c.t.Ext.TCPDSACKRecv++
	}
	for i, blk := range blocks {
		isD := dsack && i == 0
		if !isSackblockValid(isD, blk.Start, blk.End, c.sndUna, c.sndNxt) {
			if !isD && After(blk.End, c.sndUna) {
				c.t.Ext.TCPSACKDiscard++
			}
			continue
		}
		if isD {
			c.dsackUndoCount(blk)
			continue
		}
		newly += c.sacktagRange(blk.Start, blk.End)
	}
	return newly, dsack
}

// sacktagRange marks the sent skbs within [start, end).
func (c *Conn) sacktagRange(start, end uint32) uint32 {
	var newly uint32
	mss := c.mssCache
	for skb := c.wq.Peek(); skb != nil && skb != c.sendHead; skb = skb.Next {
		cb := getCB(skb)
		if !Before(cb.seq, end) {
			break
		}
		if !After(cb.endSeq, start) || cb.sacked&(tcpcbSackedAcked|tcpcbInflight) != tcpcbInflight {
			continue
		}
		if Before(cb.seq, start) {
			// The block starts inside: the part below it stays.
			n := (start - cb.seq + mss - 1) / mss * mss
			if n < uint32(skb.Len()) && c.splitSent(skb, int(n)) {
				continue // the next skb begins at the boundary
			}
			continue
		}
		if After(cb.endSeq, end) {
			n := (end - cb.seq) / mss * mss
			if n == 0 || !c.splitSent(skb, int(n)) {
				continue
			}
			cb = getCB(skb)
		}
		newly += c.sackSKB(skb, cb)
	}
	return newly
}

// splitSent is tcp_fragment of a sent skb at n bytes: both parts keep
// its scoreboard bits and send time. It refuses when the skb's segments
// were counted at another MSS or its data is still in a host queue.
func (c *Conn) splitSent(skb *kernelmodel.SKB, n int) bool {
	cb := getCB(skb)
	if skb.Cloned() || n <= 0 || n >= skb.Len() || cb.flags&(flagSYN|flagFIN) != 0 || int(cb.pcount) != c.pcount(skb) {
		return false
	}
	c.fragment(skb, n)
	a, b := getCB(skb), getCB(skb.Next)
	a.pcount = uint8(c.pcount(skb))
	b.sacked, b.when, b.pcount = cb.sacked, cb.when, cb.pcount-a.pcount
	setCB(skb, a)
	setCB(skb.Next, b)
	return true
}

// sackSKB is tcp_sacktag_one for a whole skb: it leaves retrans_out and
// lost_out for sacked_out, and advances RACK with its send time.
func (c *Conn) sackSKB(skb *kernelmodel.SKB, cb skbCB) uint32 {
	n := uint32(cb.pcount)
	if cb.sacked&tcpcbRetrans != 0 {
		c.retransOut -= min(n, c.retransOut)
	}
	if cb.sacked&tcpcbLost != 0 {
		c.rec.lostOut -= min(n, c.rec.lostOut)
	}
	cb.sacked = cb.sacked&^(tcpcbRetrans|tcpcbLost) | tcpcbSackedAcked
	setCB(skb, cb)
	c.rec.sackedOut += n
	c.rackAdvanceSKB(cb)
	return n
}

// rackAdvanceSKB is tcp_rack_advance for an skb newly (S)ACKed, with
// tcp_check_sack_reordering (TCPSACKReorder).
func (c *Conn) rackAdvanceSKB(cb skbCB) {
	now := c.now()
	retrans := cb.sacked&tcpcbEverRetr != 0
	if !retrans {
		c.minRTTUpdate(now - cb.when)
	}
	c.rec.rack.Advance(retrans, cb.endSeq, cb.when, now, c.minRTTDur())
	if !retrans && c.rec.rack.DetectReordering(cb.endSeq) {
		c.t.Ext.TCPSACKReorder++
	}
}

// markSKBLost is tcp_mark_skb_lost: a retransmission deemed lost leaves
// retrans_out (TCPLostRetransmit), the skb counts in lost_out.
func (c *Conn) markSKBLost(skb *kernelmodel.SKB, cb skbCB) {
	n := uint32(cb.pcount)
	if cb.sacked&tcpcbRetrans != 0 {
		c.retransOut -= min(n, c.retransOut)
		cb.sacked &^= tcpcbRetrans
		c.t.Ext.TCPLostRetransmit++
	}
	if cb.sacked&tcpcbLost == 0 {
		cb.sacked |= tcpcbLost
		c.rec.lostOut += n
	}
	setCB(skb, cb)
}

// rackReoWnd is tcp_rack_reo_wnd for the connection.
func (c *Conn) rackReoWnd() time.Duration {
	srtt := time.Duration(c.rtt.SrttUS>>3) * time.Microsecond
	return c.rec.rack.ReoWnd(c.cong.CAState >= CARecovery, int(c.rec.sackedOut), c.t.Sysctl.Reordering, c.minRTTDur(), srtt)
}

// rackDetectLoss is tcp_rack_detect_loss over the sent skbs (Linux walks
// them in send order; the model walks the queue and passes over those
// sent after RACK's): it returns the skbs newly marked and the time
// until the next would time out.
func (c *Conn) rackDetectLoss() (newly int, timeout time.Duration) {
	r := &c.rec.rack
	now := c.now()
	reo := c.rackReoWnd()
	for skb := c.wq.Peek(); skb != nil && skb != c.sendHead; skb = skb.Next {
		cb := getCB(skb)
		if cb.sacked&tcpcbInflight == 0 || cb.sacked&tcpcbSackedAcked != 0 ||
			cb.sacked&tcpcbLost != 0 && cb.sacked&tcpcbRetrans == 0 {
			continue
		}
		if !sentAfter(r.XmitTime, cb.when, r.EndSeq, cb.endSeq) {
			continue
		}
		if remaining := r.RTT + reo - (now - cb.when); remaining <= 0 {
			c.markSKBLost(skb, cb)
			newly++
		} else {
			timeout = max(timeout, remaining)
		}
	}
	return newly, timeout
}

// rackMarkLost is tcp_rack_mark_lost: after RACK advanced, the losses it
// sees; the reordering timer for those not yet timed out.
func (c *Conn) rackMarkLost() int {
	if !c.rec.rack.Advanced {
		return 0
	}
	c.rec.rack.Advanced = false
	newly, timeout := c.rackDetectLoss()
	if timeout > 0 {
		c.resetTimer(icskTimeReoTimeout, time.Duration(usecsToJiffies(uint32(timeout/time.Microsecond)))*jiffy+TCPTimeoutMin)
	}
	return newly
}

// resetTimer is inet_csk_reset_xmit_timer for what (icsk_pending), never
// later than the RTO.
func (c *Conn) resetTimer(what uint8, when time.Duration) {
	k := c.t.K
	c.rec.pending = what
	when = min(when, c.rtt.RTO)
	k.ModTimer(&c.rtxTimer, k.Jiffies()+uint64(max(when/jiffy, 1)))
}

// rackReoTimeout is tcp_rack_reo_timeout: the reordering timer ran out;
// what is lost now starts recovery and is retransmitted.
func (c *Conn) rackReoTimeout() {
	prior := c.inFlight()
	c.rackDetectLoss()
	if prior != c.inFlight() {
		if c.cong.CAState < CARecovery {
			c.enterRecovery()
		}
		c.xmitRetransmitQueue()
	}
	if c.rec.pending != icskTimeRetrans || !c.rtxTimer.TimerPending() {
		c.rearmRTO()
	}
}

// rearmRTO is tcp_rearm_rto.
func (c *Conn) rearmRTO() {
	if c.packetsOut == 0 {
		c.t.K.DelTimer(&c.rtxTimer)
		return
	}
	c.resetXmitTimer()
}

// enterRecovery is tcp_enter_recovery with tcp_init_cwnd_reduction
// (TCPSackRecovery): ssthresh from the congestion control, PRR started.
func (c *Conn) enterRecovery() {
	c.t.Ext.TCPSackRecovery++
	s := &c.cong
	s.Now = c.now()
	c.initUndo()
	c.rec.priorSsthresh = 0
	if s.CAState < CACWR {
		c.rec.priorSsthresh = c.currentSsthresh()
	}
	s.PriorCwnd = s.SndCwnd
	s.SndSsthresh = c.ca.SSThresh(s)
	c.highSeq = c.sndNxt
	c.rec.tlpHighSeq = 0
	c.rec.prr.InitCwndReduction(s.SndCwnd, s.SndSsthresh)
	c.setCAState(CARecovery)
}

// xmitRetransmitQueue is tcp_xmit_retransmit_queue: the lost skbs not
// yet retransmitted are sent again while tcp_packets_in_flight is below
// cwnd (a TSO skb cut to what cwnd allows); in Recovery they count for
// PRR (TCPFastRetrans), in Loss TCPSlowStartRetrans.
func (c *Conn) xmitRetransmitQueue() {
	for skb := c.wq.Peek(); skb != nil && skb != c.sendHead; skb = skb.Next {
		inFlight := c.inFlight()
		if inFlight >= c.cong.SndCwnd {
			break
		}
		cb := getCB(skb)
		if cb.sacked&tcpcbLost == 0 || cb.sacked&(tcpcbRetrans|tcpcbSackedAcked) != 0 {
			continue
		}
		if allow := c.cong.SndCwnd - inFlight; uint32(cb.pcount) > allow {
			c.splitSent(skb, int(allow*c.mssCache))
			cb = getCB(skb)
		}
		head := skb == c.wq.Peek()
		if !c.retransmitSKB(skb) {
			break
		}
		if c.cong.CAState == CARecovery {
			c.t.Ext.TCPFastRetrans++
			c.rec.prr.Sent(uint32(cb.pcount))
		} else {
			c.t.Ext.TCPSlowStartRetrans++
		}
		if head {
			c.resetXmitTimer()
		}
	}
}

// timeoutMarkLost is tcp_timeout_mark_lost for tcp_enter_loss with SACK:
// SACKed skbs stay SACKed; the head and whatever RACK's RTT has passed
// since it was sent are lost (their retransmissions with them).
func (c *Conn) timeoutMarkLost() {
	now := c.now()
	for skb := c.wq.Peek(); skb != nil && skb != c.sendHead; skb = skb.Next {
		cb := getCB(skb)
		if cb.sacked&tcpcbSackedAcked != 0 || cb.sacked&tcpcbInflight == 0 {
			continue
		}
		if skb != c.wq.Peek() && c.rec.rack.RTT-(now-cb.when) > 0 {
			continue // sent recently: not yet lost
		}
		if cb.sacked&tcpcbRetrans != 0 {
			c.retransOut -= min(uint32(cb.pcount), c.retransOut)
			cb.sacked &^= tcpcbRetrans
		}
		if cb.sacked&tcpcbLost == 0 {
			cb.sacked |= tcpcbLost
			c.rec.lostOut += uint32(cb.pcount)
		}
		setCB(skb, cb)
	}
}

// fastretransAlert is tcp_fastretrans_alert with SACK and RACK
// (tcp_recovery=1: RACK replaces the dupthresh rule) followed by
// tcp_cong_control and tcp_xmit_recovery: Recovery and Loss end when
// snd_una passes high_seq; RACK marks the lost skbs; a loss in Open or
// Disorder starts Recovery; in Recovery PRR sets cwnd, otherwise the
// congestion control grows it; the lost skbs are retransmitted.
func (c *Conn) fastretransAlert(ack, acked, newlySacked uint32, dsack bool, rttUS int64) {
	s := &c.cong
	s.Now = c.now()
	s.SndUna, s.SndNxt = c.sndUna, c.sndNxt
	s.SrttUS = c.rtt.SrttUS
	unaAdvanced := acked > 0
	if unaAdvanced {
		c.ca.PktsAcked(s, AckSample{PktsAcked: acked, RTTUS: int32(max(rttUS, -1)), InFlight: c.packetsOut})
	}
	exiting := s.CAState >= CARecovery && !Before(c.sndUna, c.highSeq)
	c.rec.rack.UpdateReoWnd(dsack, c.sndUna, c.sndNxt, exiting)
	if exiting {
		if s.CAState == CARecovery && s.SndSsthresh < TCPInfiniteSsthresh {
			s.SndCwnd = max(s.SndSsthresh, 2) // tcp_end_cwnd_reduction
			c.ca.CwndEvent(s, CAEventCompleteCWR)
		}
		c.setCAState(CAOpen)
	}
	if s.CAState <= CARecovery && c.tryUndoDSACK() && s.CAState == CARecovery {
		c.tryKeepOpen()
	}
	newlyLost := c.rackMarkLost()
	switch s.CAState {
	case CAOpen, CADisorder:
		switch {
		case c.rec.lostOut > 0:
			c.enterRecovery()
		case c.rec.sackedOut > 0 || c.retransOut > 0:
			c.setCAState(CADisorder)
		default:
			c.setCAState(CAOpen)
		}
	}
	if s.CAState == CARecovery {
		if _, cwnd, ok := c.rec.prr.CwndReduction(acked+newlySacked, c.inFlight(), unaAdvanced, newlyLost > 0); ok {
			s.SndCwnd = max(cwnd, 1)
		}
	} else if unaAdvanced && s.CwndLimited() {
		c.ca.CongAvoid(s, c.sndUna, acked)
		s.IsCwndLimited = false
	}
	if s.CAState >= CARecovery {
		c.xmitRetransmitQueue()
	}
}

// unaccount takes n of an skb's packets, cumulatively ACKed, off
// retrans_out, sacked_out and lost_out as its bits say
// (tcp_clean_rtx_queue).
func (c *Conn) unaccount(cb skbCB, n uint32) {
	if cb.sacked&tcpcbRetrans != 0 {
		c.retransOut -= min(n, c.retransOut)
	}
	if cb.sacked&tcpcbSackedAcked != 0 {
		c.rec.sackedOut -= min(n, c.rec.sackedOut)
	}
	if cb.sacked&tcpcbLost != 0 {
		c.rec.lostOut -= min(n, c.rec.lostOut)
	}
}

// currentSsthresh is tcp_current_ssthresh: ssthresh during a reduction,
// else at least three quarters of cwnd.
func (c *Conn) currentSsthresh() uint32 {
	s := &c.cong
	if s.CAState == CACWR || s.CAState == CARecovery {
		return s.SndSsthresh
	}
	return max(s.SndSsthresh, s.SndCwnd>>1+s.SndCwnd>>2)
}
