package tcp

import (
	"syscall"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/checksum"
	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/stack/ipv4"
	"github.com/nicbed/nicbed/stack/socket"
)

const dropOther = kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED

// Outcomes of the receive path's steps besides a drop reason.
const (
	// skbNotDroppedYet is SKB_NOT_DROPPED_YET: the segment goes on.
	skbNotDroppedYet kernelmodel.DropReason = -1
	// skbQueued: the step kept the skb (a queue owns it now).
	skbQueued kernelmodel.DropReason = -2
	// skbConsumed: done with, freed as consumed (__kfree_skb,
	// consume_skb), not a drop.
	skbConsumed kernelmodel.DropReason = -3
)

// freeSKB ends the receive path of skb by outcome r: kept, consumed, or
// kfree_skb_reason(skb, r).
func (t *Table) freeSKB(skb *kernelmodel.SKB, r kernelmodel.DropReason) {
	switch r {
	case skbQueued:
	case skbConsumed:
		t.K.ConsumeSKB(skb)
	case skbNotDroppedYet:
		t.K.KfreeSKB(skb, dropOther)
	default:
		t.K.KfreeSKB(skb, r)
	}
}

// csumValid is tcp_checksum_complete() == 0 after tcp_v4_checksum_init:
// the NIC's or GRO's word (CHECKSUM_UNNECESSARY, or CHECKSUM_PARTIAL of
// an skb GRO built), else the software sum over the pseudo header.
func (t *Table) csumValid(skb *kernelmodel.SKB, iph header.IPv4) bool {
	if kernelmodel.SKBCsumUnnecessary(skb) {
		return true
	}
	src, dst := iph.Source(), iph.Destination()
	t.K.ChargeBytes(t.K.Cost.CsumPerKiB, skb.Len())
	ph := checksum.PseudoHeaderIPv4(src[:], dst[:], ipv4.IPPROTO_TCP, uint16(skb.Len()))
	if checksum.Checksum(skb.Data, ph) != 0xFFFF {
		return false
	}
	skb.IPSummed = kernelmodel.CHECKSUM_UNNECESSARY
	return true
}

// segment is what tcp_v4_rcv learns of a segment before it is queued:
// the header, the sequence range (TCP_SKB_CB seq, end_seq, ack_seq) and
// the payload length.
type segment struct {
	th          header.TCP
	iph         header.IPv4
	seq, endSeq uint32
	ack         uint32
	flags       uint8
	dataLen     int
	wnd         uint32
}

// v4Rcv is tcp_v4_rcv(): Data at the TCP header. A short or malformed
// header or a bad checksum is InErrs (InCsumErrors); no socket answers
// with tcp_v4_send_reset; else tcp_v4_do_rcv (TIME_WAIT:
// tcp_timewait_state_process).
func (t *Table) v4Rcv(skb *kernelmodel.SKB) {
	k := t.K
	t.MIB.InSegs++
	if skb.Len() < header.TCPMinSize {
		k.KfreeSKB(skb, dropOther) // pskb_may_pull fails: discard_it
		return
	}
	th := header.TCP(skb.Data)
	doff := th.DataOffset()
	if doff < header.TCPMinSize {
		t.MIB.InErrs++ // bad_packet
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_PKT_TOO_SMALL)
		return
	}
	if doff > skb.Len() {
		k.KfreeSKB(skb, dropOther) // pskb_may_pull(doff * 4) fails: discard_it
		return
	}
	iph := ipv4.IPHdr(skb)
	if !t.csumValid(skb, iph) {
		t.MIB.InCsumErrors++
		t.MIB.InErrs++
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_TCP_CSUM)
		return
	}
	if ipv4.RouteType(skb) != ipv4.RTN_LOCAL && ipv4.RouteType(skb) != ipv4.RTN_UNICAST {
		k.KfreeSKB(skb, dropOther)
		return
	}
	s := segment{th: th, iph: iph, seq: th.SequenceNumber(), ack: th.AckNumber(), flags: th.Flags(), dataLen: skb.Len() - doff}
	s.endSeq = s.seq + uint32(s.dataLen)
	if s.flags&flagSYN != 0 {
		s.endSeq++
	}
	if s.flags&flagFIN != 0 {
		s.endSeq++
	}
	s.wnd = uint32(th.WindowSize())
	k.TracePoint("tcp_v4_rcv", skb.ID, int64(s.seq))
	if r := t.reqLookup(iph.Source(), th.SourcePort(), iph.Destination(), th.DestinationPort()); r != nil {
		r.tcpCheckReq(skb, &s)
		return
	}
	c := t.lookup(iph.Source(), th.SourcePort(), iph.Destination(), th.DestinationPort())
	if c == nil {
		t.v4SendReset(iph, th, s.dataLen)
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NO_SOCKET)
		return
	}
	c.segsIn++
	if c.state == StateTimeWait {
		if c.timewaitStateProcess(skb, &s) {
			// A new SYN for a recycled TIME_WAIT tuple: to the listener.
			if l := t.lookup(iph.Source(), th.SourcePort(), iph.Destination(), th.DestinationPort()); l != nil && l.state == StateListen {
				l.rcvStateProcess(skb, &s)
				return
			}
			t.v4SendReset(iph, th, s.dataLen)
		}
		k.KfreeSKB(skb, dropOther)
		return
	}
	c.doRcv(skb, &s)
}

// doRcv is tcp_v4_do_rcv: ESTABLISHED to tcp_rcv_established, the rest
// to tcp_rcv_state_process. The function that queues skb owns it; the
// others free it.
func (c *Conn) doRcv(skb *kernelmodel.SKB, s *segment) {
	if c.state == StateEstablished {
		c.rcvEstablished(skb, s)
		return
	}
	c.rcvStateProcess(skb, s)
}

// parseOptions reads the segment's options into c.rx (the per-segment
// part), with the connection's timestamp offset taken off TSecr.
func (c *Conn) parseOptions(s *segment, syn bool) {
	opts := s.th[header.TCPMinSize:s.th.DataOffset()]
	ParseOptions(opts, syn, c.state != StateListen && c.state != StateSynSent, &c.t.Sysctl, &c.rx)
	if c.rx.SawTstamp && c.rx.RcvTSecr != 0 {
		c.rx.RcvTSecr -= c.tsOffset
	}
}

// rcvEstablished is tcp_rcv_established: the slow path of Linux (the
// header-prediction fast path is not modelled; its result is the same).
func (c *Conn) rcvEstablished(skb *kernelmodel.SKB, s *segment) {
	c.rcvSynchronized(skb, s)
}

// validateIncoming is tcp_validate_incoming: PAWS, the sequence window
// (an out-of-window segment gets a rate-limited duplicate ACK), RST per
// RFC 5961, and a SYN in window (challenge ACK). It gives
// skbNotDroppedYet when the segment goes on, skbConsumed when it reset
// the connection, else the drop reason (TCP_RFC7323_PAWS,
// TCP_INVALID_SEQUENCE, TCP_RESET, TCP_INVALID_SYN).
func (c *Conn) validateIncoming(s *segment) kernelmodel.DropReason {
	k := c.t.K
	if c.state == StateSynRecv && c.parent != nil && c.so != nil {
		if c.checkReq(s) {
			return skbNotDroppedYet
		}
		return dropOther
	}
	if c.rx.SawTstamp && c.rx.TstampOK {
		if s.flags&flagRST == 0 && c.paws.PAWSDiscard(c.rx.RcvTSval, false, k.Now()) {
			c.t.Ext.PAWSEstab++
			c.sendDupAck(s)
			return kernelmodel.SKB_DROP_REASON_TCP_RFC7323_PAWS
		}
	}
	v := Sequence(s.seq, s.endSeq, c.rw.RcvWup, c.rw.RcvWnd, c.rcvNxt)
	if v != SeqOK {
		if s.flags&flagRST != 0 {
			if ValidateRST(s.seq, c.rcvNxt, c.state, false, nil) == RSTReset {
				c.reset()
				return skbConsumed
			}
			return kernelmodel.SKB_DROP_REASON_TCP_INVALID_SEQUENCE
		}
		if s.flags&flagSYN != 0 {
			c.synChallenge()
			return kernelmodel.SKB_DROP_REASON_TCP_INVALID_SYN
		}
		c.sendDupAck(s)
		return kernelmodel.SKB_DROP_REASON_TCP_INVALID_SEQUENCE
	}
	if s.flags&flagRST != 0 {
		switch ValidateRST(s.seq, c.rcvNxt, c.state, true, c.rsack.Selective[:c.rsack.NumSACKs]) {
		case RSTReset:
			c.reset()
			return skbConsumed
		case RSTChallenge:
			c.sendChallengeAck()
		}
		return kernelmodel.SKB_DROP_REASON_TCP_RESET
	}
	if s.flags&flagSYN != 0 {
		if c.state == StateSynRecv && s.flags&flagACK != 0 && s.seq+1 == s.endSeq && s.seq+1 == c.rcvNxt && s.ack == c.sndNxt {
			return skbNotDroppedYet // simultaneous open: the peer's SYN-ACK
		}
		c.synChallenge()
		return kernelmodel.SKB_DROP_REASON_TCP_INVALID_SYN
	}
	return skbNotDroppedYet
}

// synChallenge is tcp_validate_incoming's syn_challenge (RFC 5961 4.2): a
// SYN in a synchronized state, in the window or not, gets a challenge
// ACK (TCPSYNChallenge); from tcp_rcv_established (syn_inerr) it is also
// InErrs.
func (c *Conn) synChallenge() {
	if c.state == StateEstablished {
		c.t.MIB.InErrs++
	}
	c.t.Ext.TCPSYNChallenge++
	c.sendChallengeAck()
}

// sendDupAck is tcp_send_dupack, rate limited (tcp_oow_rate_limited):
// a segment that starts below rcv_nxt is reported as a D-SACK of what of
// it we have (tcp_dsack_set).
func (c *Conn) sendDupAck(s *segment) {
	if s.dataLen > 0 || s.flags&(flagSYN|flagFIN) != 0 {
		c.t.Ext.DelayedACKLost++
	}
	if s.seq != s.endSeq && Before(s.seq, c.rcvNxt) {
		c.delack.IncrQuickack(c.rw.RcvWnd, TCPMaxQuickacks)
		end := s.endSeq
		if After(end, c.rcvNxt) {
			end = c.rcvNxt
		}
		c.rsack.DSACKSet(&c.t.Sysctl, c.rx.SackOK, s.seq, end, c.rcvNxt, &c.t.Ext)
	}
	if s.flags&flagRST == 0 && !OOWRateLimited(&c.lastOOW, uint32(c.t.K.Jiffies()), uint32(c.t.Sysctl.InvalidRatelimit), &c.t.Ext.TCPACKSkippedSeq) {
		c.sendAck()
	}
}

// sendChallengeAck is tcp_send_challenge_ack (RFC 5961 4).
// ChallengeACKs.Allow applies both limits: the connection's
// (tcp_oow_rate_limited) and the namespace's.
func (c *Conn) sendChallengeAck() {
	if c.t.chal.Allow(&c.t.Sysctl, &c.lastOOW, c.t.K.Now(), &c.t.Ext) {
		c.sendAck()
	}
}

// reset is tcp_reset: the error the state gives (ECONNREFUSED in
// SYN_SENT, EPIPE in CLOSE_WAIT, ECONNRESET otherwise), and tcp_done.
func (c *Conn) reset() {
	e := syscall.ECONNRESET
	switch c.state {
	case StateSynSent:
		e = syscall.ECONNREFUSED
	case StateCloseWait:
		e = syscall.EPIPE
	case StateClose:
		return
	}
	if c.state == StateEstablished || c.state == StateCloseWait {
		c.t.MIB.EstabResets++
	}
	c.sk.Err = int(e)
	if c.state == StateSynRecv && c.so != nil && c.parent != nil {
		c.t.Ext.EmbryonicRsts++
	}
	c.done()
	c.sk.ErrorReport(c.sk)
}

// storeTS is tcp_replace_ts_recent: TSval kept for the echo when the
// segment starts at or before rcv_wup.
func (c *Conn) storeTS(s *segment) {
	if c.rx.SawTstamp && c.rx.TstampOK {
		c.paws.Replace(true, c.rx.RcvTSval, s.seq, c.rw.RcvWup, c.t.K.Now())
	}
}

// rcvSynchronized is the part of tcp_rcv_state_process (and the slow path
// of tcp_rcv_established) for the synchronized states: validation, the
// ACK (with the state moves it causes), then the data and FIN, then what
// to send.
func (c *Conn) rcvSynchronized(skb *kernelmodel.SKB, s *segment) {
	k := c.t.K
	if s.flags&(flagACK|flagRST|flagSYN) == 0 {
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_TCP_FLAGS)
		return
	}
	c.parseOptions(s, false)
	if r := c.validateIncoming(s); r != skbNotDroppedYet {
		c.t.freeSKB(skb, r)
		return
	}
	if s.flags&flagACK == 0 {
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_TCP_FLAGS)
		return
	}
	ackReason := skbNotDroppedYet
	if After(s.ack, c.sndMax) {
		ackReason = kernelmodel.SKB_DROP_REASON_TCP_ACK_UNSENT_DATA
	} else if Before(s.ack, c.sndUna-c.maxWindow) {
		ackReason = kernelmodel.SKB_DROP_REASON_TCP_TOO_OLD_ACK
	}
	acceptable := c.ack(s) >= 0
	switch c.state {
	case StateSynRecv:
		if !acceptable {
			c.t.v4SendReset(s.iph, s.th, s.dataLen)
			k.KfreeSKB(skb, dropOther)
			return
		}
		if !c.synRecvEstablished(s) {
			k.KfreeSKB(skb, dropOther)
			return
		}
	case StateFinWait1:
		if c.sndUna == c.writeSeq {
			c.setState(StateFinWait2)
			c.sk.Shutdown |= socket.SEND_SHUTDOWN
			if c.sk.Dead {
				k.ModTimer(&c.swTimer, k.Jiffies()+uint64(c.t.Sysctl.FinTimeout)*kernelmodel.HZ)
			} else {
				c.stateChange()
			}
		}
	case StateClosing:
		if c.sndUna == c.writeSeq {
			c.timeWait()
			k.ConsumeSKB(skb)
			return
		}
	case StateLastAck:
		if c.sndUna == c.writeSeq {
			c.done()
			k.ConsumeSKB(skb)
			return
		}
	}
	if !acceptable && (c.state == StateClose || ackReason != skbNotDroppedYet) {
		c.t.freeSKB(skb, ackReason)
		return
	}
	c.storeTS(s)
	r := dropOther // tcp_rcv_state_process's reason where nothing is queued
	switch c.state {
	case StateCloseWait, StateClosing, StateLastAck:
		// The peer's FIN came: nothing more after it is taken.
	case StateFinWait1, StateFinWait2:
		if c.sk.Shutdown&socket.RCV_SHUTDOWN != 0 && s.dataLen > 0 && After(s.endSeq-b2u(s.flags&flagFIN != 0), c.rcvNxt) {
			c.t.Ext.TCPAbortOnData++
			c.sendActiveReset()
			c.reset()
			k.KfreeSKB(skb, dropOther)
			return
		}
		fallthrough
	case StateEstablished:
		r = c.dataQueue(skb, s)
	}
	c.t.freeSKB(skb, r)
	if c.state != StateClose && c.state != StateTimeWait {
		c.dataSndCheck()
		c.ackSndCheck()
	}
}

// synRecvEstablished is the SYN_RECV case of tcp_rcv_state_process: the
// handshake's ACK; a child goes to its listener's accept queue
// (inet_csk_complete_hashdance), or the ACK is dropped when that is full.
func (c *Conn) synRecvEstablished(s *segment) bool {
	if p := c.parent; p != nil && c.so != nil {
		if p.acceptqIsFull() {
			c.t.Ext.ListenOverflows++
			c.t.Ext.ListenDrops++
			return false
		}
		c.t.MIB.PassiveOpens++
	}
	c.sndWnd = s.wnd << c.rx.SndWscale
	c.sndWl1 = s.seq
	c.maxWindow = max(c.maxWindow, c.sndWnd)
	c.setState(StateEstablished)
	c.ss = ssConnected
	c.initTransfer()
	if p := c.parent; p != nil && c.so != nil {
		p.synQLen--
		p.acceptQ = append(p.acceptQ, c)
		p.sk.DataReady(p.sk)
	} else {
		c.stateChange()
	}
	return true
}

// ack is tcp_ack: -1 for an ACK of something not sent (answered with an
// ACK) or too old, 0 for a duplicate, 1 when it acknowledged data. It
// updates the window (tcp_ack_update_window), cleans the retransmit
// queue (tcp_clean_rtx_queue) with its RTT sample, grows cwnd, and runs
// fast retransmit with NewReno recovery (RFC 5681 3.2, RFC 6582).
func (c *Conn) ack(s *segment) int {
	ack := s.ack
	priorUna := c.sndUna
	if After(ack, c.sndMax) {
		return -1 // SKB_DROP_REASON_TCP_ACK_UNSENT_DATA: dropped, no answer
	}
	if Before(ack, priorUna) {
		if Before(ack, priorUna-c.maxWindow) {
			c.sendChallengeAck()
			return -1
		}
		return 0
	}
	c.probesOut = 0
	c.rcvTstamp = c.now()
	// tcp_ack_update_window.
	nwin := s.wnd
	if s.flags&flagSYN == 0 {
		nwin <<= c.rx.SndWscale
	}
	windowChanged := false
	if MayUpdateWindow(ack, s.seq, priorUna, c.sndWl1, c.sndWnd, nwin) {
		c.sndWl1 = s.seq
		if c.sndWnd != nwin {
			windowChanged = true
			c.sndWnd = nwin
			c.maxWindow = max(c.maxWindow, nwin)
		}
	}
	if windowChanged && c.sndWnd > 0 {
		c.probeBackoff = 0
		c.t.K.DelTimer(&c.probeTimer)
	}
	sack := c.sackOn()
	if ack == priorUna {
		if sack {
			if c.packetsOut > 0 {
				newly, dsack := c.sacktag(ack)
				if c.rec.tlpHighSeq != 0 {
					c.processTLPAck(ack, dsack, newly == 0 && s.dataLen == 0 && !windowChanged)
				}
				c.fastretransAlert(ack, 0, newly, dsack, -1)
			}
			return 0
		}
		// A duplicate ACK: no data, no window change, data in flight.
		if c.packetsOut > 0 && s.dataLen == 0 && !windowChanged && s.flags&(flagSYN|flagFIN) == 0 && c.ca != nil {
			c.dupAck()
		}
		return 0
	}
	c.sndUna = ack
	if After(ack, c.sndNxt) {
		c.sndNxt = ack // ACK of what a go-back retransmission had not yet resent
	}
	c.bytesAcked += uint64(ack - priorUna)
	var newly uint32
	dsack := false
	if sack {
		newly, dsack = c.sacktag(ack)
	}
	acked, sample := c.cleanRtxQueue(s)
	c.retransmits = 0
	c.rtt.Backoff = 0
	if c.ca != nil && !sack {
		c.congControl(ack, acked, sample)
	}
	if c.packetsOut == 0 {
		c.t.K.DelTimer(&c.rtxTimer)
		c.retransStamp = 0
		c.checkProbeTimer()
	} else if c.rec.pending != icskTimeReoTimeout || !c.rtxTimer.TimerPending() {
		c.resetXmitTimer() // RACK's reordering timer stays; it rearms the RTO
	}
	if sack {
		if c.rec.tlpHighSeq != 0 {
			c.processTLPAck(ack, dsack, false)
		}
		c.fastretransAlert(ack, acked, newly, dsack, sample)
		if c.rec.pending == icskTimeRetrans && c.rtxTimer.TimerPending() {
			c.scheduleLossProbe() // tcp_set_xmit_timer
		}
	}
	c.writeSpace()
	return 1
}

// dupAck counts a duplicate ACK; the third starts fast retransmit, each
// further one inflates cwnd (RFC 6582's NewReno).
func (c *Conn) dupAck() {
	c.dupAcks++
	switch c.cong.CAState {
	case CARecovery:
		c.cong.SndCwnd++
		c.writeXmit(false)
		return
	case CALoss:
		return
	}
	if c.dupAcks < c.t.Sysctl.Reordering {
		c.setCAState(CADisorder)
		return
	}
	c.t.Ext.TCPRenoRecovery++
	c.cong.Now = c.now()
	c.cong.PriorCwnd = c.cong.SndCwnd
	c.cong.SndSsthresh = c.ca.SSThresh(&c.cong)
	c.cong.SndCwnd = c.cong.SndSsthresh + uint32(c.dupAcks)
	c.highSeq = c.sndNxt
	c.setCAState(CARecovery)
	c.t.Ext.TCPFastRetrans++
	c.retransmitSKB(c.wq.Peek())
}

// congControl is tcp_cong_control with the recovery exits of
// tcp_fastretrans_alert: a partial ACK in recovery resends the next hole,
// a full one ends recovery at ssthresh; otherwise cwnd grows by the
// algorithm (tcp_cong_avoid).
func (c *Conn) congControl(ack, acked uint32, rttUS int64) {
	s := &c.cong
	s.Now = c.now()
	s.SndUna, s.SndNxt = c.sndUna, c.sndNxt
	s.SrttUS = c.rtt.SrttUS
	c.ca.PktsAcked(s, AckSample{PktsAcked: acked, RTTUS: int32(max(rttUS, -1)), InFlight: c.packetsOut})
	switch s.CAState {
	case CARecovery, CALoss:
		if Before(ack, c.highSeq) {
			if s.CAState == CARecovery {
				s.SndCwnd = max(s.SndCwnd-min(acked, s.SndCwnd)+1, 1)
				c.retransmitSKB(c.wq.Peek())
			} else {
				c.lossRetransmit()
			}
			return
		}
		if s.CAState == CARecovery {
			s.SndCwnd = max(s.SndSsthresh, 2)
		}
		c.setCAState(CAOpen)
		c.ca.CwndEvent(s, CAEventCompleteCWR)
		c.dupAcks = 0
		return
	case CADisorder:
		c.setCAState(CAOpen)
	}
	c.dupAcks = 0
	if s.CwndLimited() {
		c.ca.CongAvoid(s, ack, acked)
	}
	s.IsCwndLimited = false
}

// lossRetransmit is tcp_xmit_retransmit_queue in Loss: the segments sent
// before the RTO and not yet ACKed are sent again as cwnd allows.
func (c *Conn) lossRetransmit() {
	n := c.cong.SndCwnd
	for skb := c.wq.Peek(); skb != nil && skb != c.sendHead && n > 0; skb = skb.Next {
		cb := getCB(skb)
		if !Before(cb.seq, c.highSeq) {
			break
		}
		if cb.sacked&tcpcbRetrans != 0 && cb.when >= c.lossStart() {
			continue
		}
		if c.retransmitSKB(skb) {
			n--
		}
	}
}

// lossStart is when the current Loss began (the last RTO's transmit of
// the head).
func (c *Conn) lossStart() time.Duration {
	if c.wq.Peek() == nil {
		return 0
	}
	return getCB(c.wq.Peek()).when
}

// cleanRtxQueue is tcp_clean_rtx_queue: the skbs snd_una passed are
// freed (a partly ACKed one trimmed), the RTT sampled (Karn's rule and
// the timestamp echo, tcp_ack_update_rtt); it returns the packets ACKed
// and the sample for congestion control.
func (c *Conn) cleanRtxQueue(s *segment) (uint32, int64) {
	k := c.t.K
	now := c.now()
	var acked uint32
	var firstAckt, lastAckt time.Duration
	haveFirst, retransAcked := false, false
	for skb := c.wq.Peek(); skb != nil; skb = c.wq.Peek() {
		cb := getCB(skb)
		if After(cb.endSeq, c.sndUna) {
			if Before(cb.seq, c.sndUna) && skb.Len() > 0 && !skb.Cloned() && cb.flags&flagSYN == 0 {
				// tcp_trim_head and tcp_tso_acked: the ACKed segments of
				// a TSO skb leave it.
				skb.Pull(int(c.sndUna - cb.seq))
				cb.seq = c.sndUna
				if cb.sacked&tcpcbInflight != 0 {
					left := uint8(c.pcount(skb))
					if d := cb.pcount - min(left, cb.pcount); d > 0 {
						c.packetsOut -= uint32(d)
						acked += uint32(d)
						c.unaccount(cb, uint32(d))
					}
					cb.pcount = min(left, cb.pcount)
				}
				setCB(skb, cb)
			}
			break
		}
		if cb.sacked&(tcpcbRetrans|tcpcbEverRetr) != 0 {
			retransAcked = true
		} else if cb.sacked&tcpcbInflight != 0 && cb.sacked&tcpcbSackedAcked == 0 {
			if !haveFirst {
				firstAckt, haveFirst = cb.when, true
			}
			lastAckt = cb.when
		}
		if cb.sacked&tcpcbInflight != 0 {
			c.packetsOut -= uint32(cb.pcount)
			acked += uint32(cb.pcount)
			c.unaccount(cb, uint32(cb.pcount))
			if c.rx.SackOK && cb.sacked&tcpcbSackedAcked == 0 {
				c.rackAdvanceSKB(cb)
			}
		}
		if skb == c.sendHead {
			c.sendHead = skb.Next
		}
		c.wq.Dequeue()
		c.wmemQueued -= skb.Truesize()
		k.ConsumeSKB(skb)
	}
	if retransAcked {
		haveFirst = false
	}
	sample := RTTSample{
		SeqRTTUS: KarnSeqRTT(now, firstAckt, haveFirst, retransAcked), SACKRTTUS: -1, CARTTUS: -1,
		RetransAcked: retransAcked, Acked: true,
		SawTstamp: c.rx.SawTstamp && c.rx.TstampOK, TSecr: c.rx.RcvTSecr, NowTS: c.tsNow(),
	}
	if haveFirst {
		sample.CARTTUS = int64((now - lastAckt) / time.Microsecond)
	}
	ca, _ := c.rtt.AckUpdateRTT(sample, c.sndUna, c.sndNxt)
	return acked, ca
}

// writeSpace is tcp_check_space → tcp_new_space: the send buffer grows
// with cwnd (tcp_sndbuf_expand) and writers are woken once the queue is
// down to two thirds (sk_stream_write_space).
func (c *Conn) writeSpace() {
	if c.packetsOut < c.cong.SndCwnd {
		c.sndbufExpand() // tcp_should_expand_sndbuf: not cwnd-limited
	}
	if c.sk.Nospace && c.streamWriteable() {
		c.sk.Nospace = false
		c.sk.WriteSpace(c.sk)
	}
}

// streamWriteable is sk_stream_is_writeable: free space at least half
// of what is queued, and room under sk_sndbuf.
func (c *Conn) streamWriteable() bool {
	return c.sk.Sndbuf-c.wmemQueued >= c.wmemQueued>>1 && c.wmemQueued < c.sk.Sndbuf
}

// dataSndCheck is tcp_data_snd_check.
func (c *Conn) dataSndCheck() { c.pushPendingFrames() }

// ackSndCheck is __tcp_ack_snd_check: an ACK now, a delayed one, or none.
func (c *Conn) ackSndCheck() {
	d := &c.delack
	if d.Pending&ICSKAckSched == 0 {
		return
	}
	sys := &c.t.Sysctl
	free := WinFromSpace(c.sk.Rcvbuf-c.sk.RmemAlloc, sys.AdvWinScale)
	full := WinFromSpace(c.sk.Rcvbuf, sys.AdvWinScale)
	nw, _ := c.rw.selectWindow(free, full)
	if d.AckNeededNow(c.rcvNxt, c.rw.RcvWup, nw >= c.rw.RcvWnd) || c.ofo.Len() > 0 {
		c.sendAck()
		return
	}
	c.sendDelayedAck()
}

// dataQueue is tcp_data_queue: in-order data to the receive queue (and
// what of the out-of-order queue it makes in order), a FIN to tcp_fin,
// out-of-order data to the ofo queue with an immediate ACK, duplicates
// ACKed. It gives skbQueued when it kept skb, skbConsumed for a segment
// without data (a pure ACK, a bare FIN), else the drop reason
// (TCP_OLD_DATA, TCP_OVERWINDOW, TCP_ZEROWINDOW, PROTO_MEM, TCP_OFOMERGE).
func (c *Conn) dataQueue(skb *kernelmodel.SKB, s *segment) kernelmodel.DropReason {
	k := c.t.K
	fin := s.flags&flagFIN != 0
	if s.seq == s.endSeq {
		return skbConsumed
	}
	skb.Pull(s.th.DataOffset())
	setCB(skb, skbCB{seq: s.seq, endSeq: s.endSeq, flags: s.flags})
	if Before(s.seq, c.rcvNxt) {
		c.rsack.InOrderDuplicate(&c.t.Sysctl, c.rx.SackOK, s.seq, s.endSeq, c.rcvNxt, &c.t.Ext)
	}
	if !After(s.endSeq, c.rcvNxt) {
		// A retransmission of what we have: ACK at once (tcp_enter_quickack_mode).
		c.t.Ext.DelayedACKLost++
		c.delack.IncrQuickack(c.rw.RcvWnd, TCPMaxQuickacks)
		c.delack.Pending |= ICSKAckSched | ICSKAckNow
		return kernelmodel.SKB_DROP_REASON_TCP_OLD_DATA
	}
	rwnd := ReceiveWindow(c.rw.RcvWup, c.rw.RcvWnd, c.rcvNxt)
	if After(s.seq, c.rcvNxt) {
		if !Before(s.seq, c.rcvNxt+rwnd) {
			c.delack.Pending |= ICSKAckSched | ICSKAckNow
			return kernelmodel.SKB_DROP_REASON_TCP_OVERWINDOW
		}
		return c.ofoQueue(skb)
	}
	if rwnd == 0 && s.dataLen > 0 {
		// Data at rcv_nxt into a closed window.
		c.t.Ext.TCPZeroWindowDrop++
		c.delack.IncrQuickack(c.rw.RcvWnd, TCPMaxQuickacks)
		c.delack.Pending |= ICSKAckSched | ICSKAckNow
		return kernelmodel.SKB_DROP_REASON_TCP_ZEROWINDOW
	}
	// In order (perhaps overlapping what we have: the old part goes).
	if Before(s.seq, c.rcvNxt) {
		skb.Pull(int(c.rcvNxt - s.seq))
		cb := getCB(skb)
		cb.seq = c.rcvNxt
		setCB(skb, cb)
	}
	if !c.rmemSchedule(skb) {
		c.t.Ext.TCPRcvQDrop++
		return kernelmodel.SKB_DROP_REASON_PROTO_MEM
	}
	c.delack.EventDataRecv(k.Now(), c.rtt.RTO, c.rw.RcvWnd)
	c.rcvRTTMeasureTS()
	if skb.Len() >= int(c.delack.RcvMSS) {
		c.rcvTruesize = skb.Truesize()
	}
	c.rw.GrowWindow(skb.Len(), skb.Truesize(), c.advMSS, WinFromSpace(c.sk.Rcvbuf-c.sk.RmemAlloc, c.t.Sysctl.AdvWinScale), &c.t.Sysctl)
	queued := c.queueRcv(skb)
	if fin {
		c.fin()
	}
	if c.ofo.Len() > 0 {
		c.ofoDrain()
		c.delack.Pending |= ICSKAckNow
		c.rsack.Remove(c.rcvNxt, c.ofo.Len() == 0)
	}
	if s.flags&flagPSH != 0 {
		c.delack.Pending |= ICSKAckPushed
	}
	if !c.sk.Dead {
		c.sk.DataReady(c.sk)
	}
	if !queued {
		return skbConsumed // a FIN without data
	}
	return skbQueued
}

// queueRcv is tcp_queue_rcv: rcv_nxt advances; an skb with data goes on
// the receive queue charged to the buffer; it reports whether it did.
func (c *Conn) queueRcv(skb *kernelmodel.SKB) bool {
	cb := getCB(skb)
	c.rcvNxt = cb.endSeq
	n := skb.Len()
	c.bytesReceived += uint64(n)
	if n == 0 {
		return false
	}
	c.sk.SetOwnerR(skb)
	c.sk.ReceiveQueue.QueueTail(skb)
	c.rcvQueued += n
	return true
}

// rmemSchedule is tcp_try_rmem_schedule: the skb fits the receive buffer
// (one always fits an empty one).
func (c *Conn) rmemSchedule(skb *kernelmodel.SKB) bool {
	return c.sk.RmemAlloc == 0 || c.sk.RmemAlloc+skb.Truesize() <= c.sk.Rcvbuf
}

// ofoQueue is tcp_data_queue_ofo: the skb in sequence order on the
// out-of-order queue (one wholly covered by a queued skb is dropped), an
// immediate ACK due. It gives skbQueued, or the drop reason.
func (c *Conn) ofoQueue(skb *kernelmodel.SKB) kernelmodel.DropReason {
	c.t.Ext.TCPOFOQueue++
	c.delack.Pending |= ICSKAckSched | ICSKAckNow
	if !c.rmemSchedule(skb) {
		c.t.Ext.TCPOFODrop++
		return kernelmodel.SKB_DROP_REASON_PROTO_MEM
	}
	cb := getCB(skb)
	var prev *kernelmodel.SKB
	for o := c.ofo.Peek(); o != nil; prev, o = o, o.Next {
		ocb := getCB(o)
		if !Before(cb.seq, ocb.seq) && !After(cb.endSeq, ocb.endSeq) {
			c.t.Ext.TCPOFOMerge++
			c.rsack.DSACKSet(&c.t.Sysctl, c.rx.SackOK, cb.seq, cb.endSeq, c.rcvNxt, &c.t.Ext)
			return kernelmodel.SKB_DROP_REASON_TCP_OFOMERGE
		}
		if Before(cb.seq, ocb.seq) {
			break
		}
	}
	c.sk.SetOwnerR(skb)
	c.ofo.InsertAfter(prev, skb)
	if c.rx.SackOK {
		c.rsack.NewOfo(cb.seq, cb.endSeq)
	}
	return skbQueued
}

// ofoDrain is tcp_ofo_queue: what rcv_nxt reached moves to the receive
// queue; what it passed is dropped.
func (c *Conn) ofoDrain() {
	k := c.t.K
	for skb := c.ofo.Peek(); skb != nil; skb = c.ofo.Peek() {
		cb := getCB(skb)
		if After(cb.seq, c.rcvNxt) {
			break
		}
		c.ofo.Dequeue()
		skb.Destructor(skb) // uncharged; queueRcv charges it again
		skb.Destructor, skb.Sk = nil, nil
		if !After(cb.endSeq, c.rcvNxt) {
			k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_TCP_OFO_DROP)
			continue
		}
		if Before(cb.seq, c.rcvNxt) {
			skb.Pull(int(c.rcvNxt - cb.seq))
			cb.seq = c.rcvNxt
			setCB(skb, cb)
		}
		if !c.queueRcv(skb) {
			k.ConsumeSKB(skb) // a FIN without data
		}
		if cb.flags&flagFIN != 0 {
			c.fin()
			break
		}
	}
}

// fin is tcp_fin: the peer's FIN (RFC 9293 3.10.7.4 eighth step).
func (c *Conn) fin() {
	c.sk.Shutdown |= socket.RCV_SHUTDOWN
	c.done_ = true
	c.delack.Pending |= ICSKAckSched | ICSKAckNow
	switch c.state {
	case StateSynRecv, StateEstablished:
		c.setState(StateCloseWait)
		c.delack.Pingpong = true
	case StateFinWait1:
		c.sendAck()
		c.setState(StateClosing)
	case StateFinWait2:
		c.sendAck()
		c.timeWait()
	}
	k := c.t.K
	for skb := c.ofo.Dequeue(); skb != nil; skb = c.ofo.Dequeue() {
		k.KfreeSKB(skb, dropOther)
	}
	c.rsack.NumSACKs = 0
	c.stateChange()
}

// timewaitStateProcess is tcp_timewait_state_process (RFC 1337 aside:
// tcp_rfc1337 is 0): a RST or a bare ACK exactly at rcv_nxt ends TIME_WAIT
// or restarts it; a new SYN beyond rcv_nxt may reuse the tuple (true: the
// caller hands it to the listener); anything else — a retransmitted FIN,
// a RST or segment out of window — restarts TIME_WAIT if it has an ACK and
// gets an ACK, rate limited (TCPACKSkippedTimeWait); an out-of-window RST
// is ignored (no blind TIME_WAIT assassination).
func (c *Conn) timewaitStateProcess(skb *kernelmodel.SKB, s *segment) bool {
	k := c.t.K
	rst := s.flags&flagRST != 0
	if s.seq == c.rcvNxt && (s.seq == s.endSeq || rst) {
		if rst {
			c.done()
			return false
		}
		k.ModTimer(&c.swTimer, k.Jiffies()+uint64(TCPTimewaitLen/jiffy))
		return false
	}
	if s.flags&(flagSYN|flagRST|flagACK) == flagSYN && After(s.seq, c.rcvNxt) {
		c.t.Ext.TWRecycled++
		c.done()
		return true
	}
	if rst {
		return false
	}
	if s.flags&flagACK != 0 {
		k.ModTimer(&c.swTimer, k.Jiffies()+uint64(TCPTimewaitLen/jiffy))
	}
	if !OOWRateLimited(&c.lastOOW, uint32(k.Jiffies()), uint32(c.t.Sysctl.InvalidRatelimit), &c.t.Ext.TCPACKSkippedTimeWait) {
		_ = c.transmitSKB(c.allocCtlSKB(c.sndNxt, flagACK), false)
	}
	return false
}

// rcvStateProcess is tcp_rcv_state_process: LISTEN (tcp_v4_conn_request),
// SYN_SENT (tcp_rcv_synsent_state_process), and the synchronized states.
// It owns skb.
func (c *Conn) rcvStateProcess(skb *kernelmodel.SKB, s *segment) {
	k := c.t.K
	switch c.state {
	case StateClose:
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_TCP_CLOSE)
		return
	case StateListen:
		if c.cookieV4Check(skb, s) {
			return
		}
		r := kernelmodel.SKB_DROP_REASON_TCP_FLAGS
		switch {
		case s.flags&flagACK != 0:
			c.t.v4SendReset(s.iph, s.th, s.dataLen)
			r = dropOther
		case s.flags&flagRST != 0:
			r = kernelmodel.SKB_DROP_REASON_TCP_RESET
		case s.flags&flagSYN != 0 && s.flags&flagFIN == 0:
			c.connRequest(s)
			r = skbConsumed
		}
		c.t.freeSKB(skb, r)
		return
	case StateSynSent:
		c.rcvSynSent(s)
		if c.state == StateEstablished {
			k.ConsumeSKB(skb)
		} else {
			k.KfreeSKB(skb, dropOther)
		}
		return
	}
	c.rcvSynchronized(skb, s)
}

// rcvSynSent is tcp_rcv_synsent_state_process (RFC 9293 3.10.7.3): a
// SYN-ACK for our SYN establishes; a RST with an acceptable ACK refuses
// (ECONNREFUSED); a bad ACK is answered with a RST; a SYN alone is a
// simultaneous open (SYN_RECV, SYN-ACK).
func (c *Conn) rcvSynSent(s *segment) {
	c.parseOptions(s, true)
	if s.flags&flagACK != 0 {
		if !After(s.ack, c.iss) || After(s.ack, c.sndMax) {
			if s.flags&flagRST == 0 {
				c.t.v4SendReset(s.iph, s.th, s.dataLen)
			}
			return
		}
		if s.flags&flagRST != 0 {
			c.reset()
			return
		}
		if s.flags&flagSYN == 0 {
			return
		}
		c.synOptions(s)
		c.irs, c.rcvNxt = s.seq, s.seq+1
		c.copiedSeq = c.rcvNxt
		c.rw.RcvWup = c.rcvNxt
		c.sndWl1 = s.seq
		c.ack(s)
		c.sndWnd = s.wnd // never scaled on a SYN
		c.maxWindow = c.sndWnd
		if c.rx.SawTstamp && c.rx.TstampOK {
			c.paws.Store(c.rx.RcvTSval, c.t.K.Now())
		}
		c.setState(StateEstablished)
		c.initTransfer()
		c.stateChange()
		c.sendAck()
		return
	}
	if s.flags&flagRST != 0 {
		return
	}
	if s.flags&flagSYN != 0 {
		// Simultaneous open.
		c.synOptions(s)
		c.irs, c.rcvNxt = s.seq, s.seq+1
		c.copiedSeq = c.rcvNxt
		c.rw.RcvWup = c.rcvNxt
		c.sndWnd = s.wnd
		c.sndWl1 = s.seq
		c.maxWindow = c.sndWnd
		if c.rx.SawTstamp && c.rx.TstampOK {
			c.paws.Store(c.rx.RcvTSval, c.t.K.Now())
		}
		c.setState(StateSynRecv)
		// tcp_send_synack: the SYN on the write queue goes again as SYN-ACK.
		if skb := c.wq.Peek(); skb != nil {
			cb := getCB(skb)
			cb.flags |= flagACK
			setCB(skb, cb)
			c.retransmitSKB(skb)
			c.t.MIB.RetransSegs-- // a SYN-ACK, not a retransmission
			c.t.MIB.OutSegs++
			c.totalRetrans--
		}
	}
}

// synOptions takes the handshake's options (tcp_rcv_synsent_state_process,
// tcp_openreq_init): window scale, timestamps, SACK and the peer's MSS,
// each only when both ends offered it.
func (c *Conn) synOptions(s *segment) {
	sys := &c.t.Sysctl
	if !c.rx.WscaleOK || sys.WindowScaling == 0 {
		c.rx.WscaleOK = false
		c.rx.SndWscale = 0
		c.rw.RcvWscale = 0
		c.rw.WindowClamp = min(c.rw.WindowClamp, 0xffff)
	}
	c.rx.TstampOK = c.rx.SawTstamp && sys.Timestamps != 0
	c.rx.SackOK = c.rx.SackOK && sys.SACK != 0
	if c.rx.MSSClamp == 0 {
		c.rx.MSSClamp = TCPMSSDefault
	}
	c.syncMSS()
}

// connRequest is tcp_v4_conn_request → tcp_conn_request: a SYN to a
// listener. A full SYN queue (inet_csk_reqsk_queue_is_full) or
// tcp_syncookies=2 answers with a SYN cookie and keeps nothing
// (tcp_syn_flood_action; with tcp_syncookies=0 the SYN is dropped:
// TCPReqQFullDrop); a full accept queue drops it (ListenOverflows,
// ListenDrops); else a request sock (requestSock, in the ehash) answers
// with a SYN-ACK and waits for the ACK.
func (l *Conn) connRequest(s *segment) {
	t := l.t
	if t.Sysctl.Syncookies == 2 || l.synQLen >= l.maxBacklog {
		if !l.synFloodAction() {
			t.Ext.ListenDrops++
			return
		}
		if l.acceptqIsFull() {
			t.Ext.ListenOverflows++
			t.Ext.ListenDrops++
			return
		}
		l.sendCookieSynAck(s)
		return
	}
	if l.acceptqIsFull() {
		t.Ext.ListenOverflows++
		t.Ext.ListenDrops++
		return
	}
	l.inetCskReqskQueueHashAdd(l.inetReqskAlloc(s))
}
