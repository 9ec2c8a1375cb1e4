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

// route is __sk_dst_check / ip_route_connect for the connection: the
// cached output route, looked up again after a retransmission timeout.
func (c *Conn) route() (*ipv4.Rtable, error) {
	if !c.haveRoute {
		rt, err := c.t.IP.RouteOutput(c.sk.Daddr, c.sk.Saddr)
		if err != nil {
			return nil, err
		}
		c.rt, c.haveRoute = rt, true
	}
	return &c.rt, nil
}

// tsval is the timestamp clock with the connection's offset.
func (c *Conn) tsval() uint32 { return c.tsNow() + c.tsOffset }

// selectWindow is tcp_select_window for the next segment's header.
func (c *Conn) selectWindow() uint16 {
	sys := &c.t.Sysctl
	free := WinFromSpace(c.sk.Rcvbuf-c.sk.RmemAlloc, sys.AdvWinScale)
	full := WinFromSpace(c.sk.Rcvbuf, sys.AdvWinScale)
	w, resetQuick := c.rw.SelectWindow(free, full, c.rcvNxt, sys, &c.t.Ext)
	if resetQuick {
		c.delack.Quick = 0
	}
	return w
}

// transmitSKB is __tcp_transmit_skb: the TCP header with its options in
// front of skb's data (a clone of it when clone is set, the original
// staying on the write queue), the checksum, and ip_queue_xmit.
func (c *Conn) transmitSKB(skb *kernelmodel.SKB, clone bool) error {
	k := c.t.K
	rt, err := c.route()
	if err != nil {
		if !clone {
			k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
		}
		return err
	}
	cb := getCB(skb)
	if clone {
		if skb = k.SKBClone(skb); skb == nil {
			return syscall.ENOBUFS
		}
	}
	flags := cb.flags
	if c.state != StateSynSent || flags&flagSYN == 0 {
		if flags&flagRST == 0 || c.state != StateSynSent {
			flags |= flagACK
		}
	}
	var o OutOptions
	var optLen int
	syn := flags&flagSYN != 0
	switch {
	case syn && flags&flagACK == 0:
		optLen = SynOptions(&o, &c.t.Sysctl, uint16(c.advMSS), c.rw.RcvWscale, c.tsval())
	case syn:
		optLen = SynackOptions(&o, uint16(c.advMSS), c.rx.WscaleOK, c.rw.RcvWscale, c.rx.TstampOK,
			c.tsval(), c.paws.TSRecent, c.rx.SackOK)
	case c.rx.SackOK && c.rsack.NumSACKs+int(b2u(c.rsack.DSACK)) > 0:
		// The blocks go only where they fit the MSS (tcp_current_mss
		// makes Linux's segments smaller instead): on ACKs and short
		// segments.
		dsack, sacks := c.rsack.Blocks()
		optLen = EstablishedOptions(&o, c.rx.TstampOK, c.tsval(), c.paws.TSRecent, dsack, sacks)
		tsLen := int(b2u(c.rx.TstampOK)) * lenTstampAligned
		if min(skb.Len(), int(c.mssCache))+optLen-tsLen > int(c.mssCache) {
			optLen = EstablishedOptions(&o, c.rx.TstampOK, c.tsval(), c.paws.TSRecent, nil, nil)
		} else {
			c.rsack.Sent()
		}
	default:
		optLen = EstablishedOptions(&o, c.rx.TstampOK, c.tsval(), c.paws.TSRecent, nil, nil)
	}
	thLen := header.TCPMinSize + optLen
	b := skb.Push(thLen)
	if b == nil {
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
		return syscall.ENOBUFS
	}
	th := header.TCP(b)
	th.SetSourcePort(c.sk.Sport)
	th.SetDestinationPort(c.sk.Dport)
	th.SetSequenceNumber(cb.seq)
	th.SetAckNumber(c.rcvNxt)
	th.SetDataOffset(thLen)
	th.SetFlags(flags)
	if syn {
		th.SetWindowSize(uint16(min(c.rw.RcvWnd, 0xffff))) // a SYN's window is never scaled
	} else {
		th.SetWindowSize(c.selectWindow())
	}
	th.SetChecksum(0)
	th[header.TCPUrgent], th[header.TCPUrgent+1] = 0, 0
	WriteOptions(b[header.TCPMinSize:], &o)
	if flags&flagACK != 0 {
		c.eventAckSent()
	}
	src, dst := rt.Src, c.sk.Daddr
	ph := checksum.PseudoHeaderIPv4(src[:], dst[:], ipv4.IPPROTO_TCP, uint16(skb.Len()))
	segs := uint16(1)
	if c.canGSO(rt) {
		// tcp_v4_send_check: the device or validate_xmit_skb finishes
		// the sum from csum_start (counted from the MAC header).
		th.SetChecksum(ph)
		skb.IPSummed = kernelmodel.CHECKSUM_PARTIAL
		skb.CsumStart = kernelmodel.ETH_HLEN + header.IPv4MinSize
		skb.CsumOffset = header.TCPChecksum
		if pl := skb.Len() - thLen; pl > int(c.mssCache) {
			// tcp_set_skb_tso_segs: a GSO skb of mss-sized segments.
			skb.GSOSize = uint16(c.mssCache)
			skb.GSOType = kernelmodel.SKB_GSO_TCPV4
			segs = uint16((pl + int(c.mssCache) - 1) / int(c.mssCache))
			skb.GSOSegs = segs
		}
	} else {
		k.ChargeBytes(k.Cost.CsumPerKiB, skb.Len())
		th.SetChecksum(^checksum.Checksum(skb.Data, ph))
	}
	c.t.MIB.OutSegs += uint64(segs)
	c.segsOut += uint32(segs)
	if flags&flagRST != 0 {
		c.t.MIB.OutRsts++
	}
	ttl := 0
	if c.sk.UcTTL > 0 {
		ttl = c.sk.UcTTL
	}
	k.TracePoint("tcp_transmit_skb", skb.ID, int64(cb.seq))
	err = c.t.IP.SendSKB(skb, rt, ipv4.OutParams{Src: src, Dst: dst, Proto: ipv4.IPPROTO_TCP,
		TOS: c.sk.TOS, TTL: uint8(ttl), DF: c.sk.PMTUDisc != socket.IP_PMTUDISC_DONT, SockID: &c.sk.ID})
	c.sk.ID += segs - 1 // ip_select_ident_segs: one ID per segment
	return err
}

// canGSO is sk_can_gso: the route's device takes GSO skbs (NETIF_F_GSO,
// which ethtool -K gso off clears); it then gets CHECKSUM_PARTIAL too
// (sk_setup_caps adds NETIF_F_HW_CSUM).
func (c *Conn) canGSO(rt *ipv4.Rtable) bool {
	return rt.Dev != nil && rt.Dev.Features&kernelmodel.NETIF_F_GSO != 0
}

// sizeGoal is tcp_xmit_size_goal: the payload of one write-queue skb —
// one MSS without GSO, else as many MSS as tcp_tso_autosize gives
// (about a millisecond of data at the pacing rate, 2*cwnd*mss/srtt, at
// least 2 segments) within gso_max_size (64 KiB) and half the peer's
// largest window (tcp_bound_to_half_wnd).
func (c *Conn) sizeGoal() int {
	mss := int(c.mssCache)
	rt, err := c.route()
	if err != nil || !c.canGSO(rt) {
		return mss
	}
	segs := gsoMaxSize / mss
	if srtt := c.rtt.SrttUS >> 3; srtt > 0 {
		segs = min(segs, max(2, int(2*uint64(c.cong.SndCwnd)*1000/uint64(srtt))))
	}
	if half := int(c.maxWindow / 2); half > mss {
		segs = min(segs, max(half/mss, 1))
	}
	return max(segs, 1) * mss
}

// gsoMaxSize is GSO_LEGACY_MAX_SIZE less the headers: an IPv4 datagram's
// 65535 bytes hold the TCP header with options and this payload.
const gsoMaxSize = 0xFFFF - header.IPv4MinSize - header.TCPMaxSize

// eventAckSent is tcp_event_ack_sent: the pending ACK is sent; the
// delayed ACK timer stops.
func (c *Conn) eventAckSent() {
	c.delack.AckSent(1)
	c.t.K.DelTimer(&c.delackTimer)
}

// allocCtlSKB is an skb for a segment without data (tcp_send_ack's).
func (c *Conn) allocCtlSKB(seq uint32, flags uint8) *kernelmodel.SKB {
	skb := c.t.K.AllocSKB(maxTCPHeader)
	skb.Reserve(maxTCPHeader)
	setCB(skb, skbCB{seq: seq, endSeq: seq, flags: flags})
	return skb
}

// sendAck is tcp_send_ack: a bare ACK at snd_nxt.
func (c *Conn) sendAck() {
	if c.state == StateClose {
		return
	}
	_ = c.transmitSKB(c.allocCtlSKB(c.sndNxt, flagACK), false)
}

// sendActiveReset is tcp_send_active_reset: RST|ACK at snd_nxt.
func (c *Conn) sendActiveReset() {
	_ = c.transmitSKB(c.allocCtlSKB(c.sndNxt, flagRST|flagACK), false)
}

// v4SendReset is tcp_v4_send_reset: the RST answering a segment that no
// connection wants (RFC 9293 3.10.7.1): seq = the segment's ACK if it had
// one, else seq 0 with ACK of everything it occupied.
func (t *Table) v4SendReset(iph header.IPv4, th header.TCP, dataLen int) {
	if th.Flags()&flagRST != 0 {
		return
	}
	if t.IP.InetAddrType(iph.Destination()) != ipv4.RTN_LOCAL {
		return
	}
	src, dst := iph.Destination(), iph.Source()
	rt, err := t.IP.RouteOutput(dst, src)
	if err != nil {
		return
	}
	k := t.K
	skb := k.AllocSKB(maxTCPHeader)
	skb.Reserve(maxTCPHeader)
	b := skb.Put(header.TCPMinSize)
	rth := header.TCP(b)
	rth.SetSourcePort(th.DestinationPort())
	rth.SetDestinationPort(th.SourcePort())
	rth.SetDataOffset(header.TCPMinSize)
	if th.Flags()&flagACK != 0 {
		rth.SetSequenceNumber(th.AckNumber())
		rth.SetAckNumber(0)
		rth.SetFlags(flagRST)
	} else {
		f := th.Flags()
		end := th.SequenceNumber() + uint32(dataLen)
		if f&flagSYN != 0 {
			end++
		}
		if f&flagFIN != 0 {
			end++
		}
		rth.SetSequenceNumber(0)
		rth.SetAckNumber(end)
		rth.SetFlags(flagRST | flagACK)
	}
	rth.SetWindowSize(0)
	rth.SetChecksum(0)
	ph := checksum.PseudoHeaderIPv4(src[:], dst[:], ipv4.IPPROTO_TCP, header.TCPMinSize)
	rth.SetChecksum(^checksum.Checksum(b, ph))
	t.MIB.OutSegs++
	t.MIB.OutRsts++
	_ = t.IP.SendSKB(skb, &rt, ipv4.OutParams{Src: src, Dst: dst, Proto: ipv4.IPPROTO_TCP, DF: true})
}

// syncMSS is tcp_sync_mss: mss_cache from the path MTU less the IP and
// TCP headers, the peer's MSS clamp, TCP_MAXSEG, less the timestamp
// option's 12 bytes when timestamps are on (tcp_current_mss).
func (c *Conn) syncMSS() {
	mtu := 1500
	if rt, err := c.route(); err == nil && rt.MTU > 0 {
		mtu = rt.MTU
	}
	mss := uint32(mtu - header.IPv4MinSize - header.TCPMinSize)
	if c.rx.MSSClamp != 0 && uint32(c.rx.MSSClamp) < mss {
		mss = uint32(c.rx.MSSClamp)
	}
	if c.userMSS != 0 && uint32(c.userMSS) < mss {
		mss = uint32(c.userMSS)
	}
	if c.rx.TstampOK {
		mss -= lenTstampAligned
	}
	c.mssCache = max(mss, 48)
}

// initAdvMSS is tcp_advertise_mss / dst_metric_advmss: the MSS the SYN
// offers (the route's MTU less 40, or TCP_MAXSEG).
func (c *Conn) initAdvMSS() {
	mtu := 1500
	if rt, err := c.route(); err == nil && rt.MTU > 0 {
		mtu = rt.MTU
	}
	c.advMSS = uint32(mtu - header.IPv4MinSize - header.TCPMinSize)
	if c.userMSS != 0 && uint32(c.userMSS) < c.advMSS {
		c.advMSS = uint32(c.userMSS)
	}
}

// initRcvWnd is tcp_select_initial_window for the SYN or SYN-ACK, with
// rcv_ssthresh starting at the window.
func (c *Conn) initRcvWnd(wscaleOK bool) {
	sys := &c.t.Sysctl
	full := WinFromSpace(c.sk.Rcvbuf, sys.AdvWinScale)
	w := SelectInitialWindow(full, c.advMSS, 0, wscaleOK, c.sk.Core.RmemMax, sys.Rmem[2],
		sys.WorkaroundSignedWindows != 0, 0)
	c.rw = RcvWindow{RcvWnd: w.RcvWnd, RcvSsthresh: w.RcvWnd, WindowClamp: w.WindowClamp, RcvWscale: w.RcvWscale, RcvMSS: c.advMSS}
	c.rw.RcvWup = c.rcvNxt
}

// queueCtl puts a SYN or FIN segment without data on the write queue
// (tcp_connect_queue_skb, tcp_send_fin's new skb).
func (c *Conn) queueCtl(flags uint8) *kernelmodel.SKB {
	skb := c.allocCtlSKB(c.writeSeq, flags)
	cb := getCB(skb)
	cb.endSeq = c.writeSeq + 1
	setCB(skb, cb)
	c.writeSeq++
	c.queueSKB(skb)
	return skb
}

// queueSKB is tcp_add_write_queue_tail: charged to sk_wmem_queued.
func (c *Conn) queueSKB(skb *kernelmodel.SKB) {
	c.wq.QueueTail(skb)
	c.wmemQueued += skb.Truesize()
	if c.sendHead == nil {
		c.sendHead = skb
	}
}

// connect is tcp_connect: the SYN queued, sent, and the retransmit timer
// armed.
func (c *Conn) connect() {
	c.initAdvMSS()
	c.syncMSS()
	c.rcvNxt = 0
	c.initRcvWnd(c.t.Sysctl.WindowScaling != 0)
	c.sndUna, c.sndNxt, c.sndMax, c.writeSeq = c.iss, c.iss, c.iss, c.iss
	c.queueCtl(flagSYN)
	c.retransStamp = c.tsNow()
	c.writeXmit(true)
	c.t.MIB.ActiveOpens++
}

// writeXmit is tcp_write_xmit: send what the window allows from
// tcp_send_head on — cwnd (tcp_cwnd_test), the peer's window
// (tcp_snd_wnd_test) and Nagle (tcp_nagle_test) — and arm the
// retransmit timer for the first segment in flight.
func (c *Conn) writeXmit(push bool) bool {
	sent := false
	for skb := c.sendHead; skb != nil; skb = c.sendHead {
		cb := getCB(skb)
		ctlOnly := cb.endSeq-cb.seq == 1 && cb.flags&(flagSYN|flagFIN) != 0 && skb.Len() == 0
		if !ctlOnly || c.packetsOut > 0 {
			if c.inFlight() >= c.cong.SndCwnd {
				c.cong.IsCwndLimited = true
				break
			}
		}
		mss := int(c.mssCache)
		if skb.Len() > mss {
			// tcp_mss_split_point + tso_fragment: what cwnd and the
			// window allow of a TSO skb, in whole segments.
			limit := int(c.cong.SndCwnd-min(c.inFlight(), c.cong.SndCwnd)) * mss
			if wnd := int(c.sndUna + c.sndWnd - cb.seq); int32(c.sndUna+c.sndWnd-cb.seq) >= 0 && wnd < limit {
				limit = wnd - wnd%mss
			}
			if limit < skb.Len() && limit >= mss {
				c.fragment(skb, limit)
				cb = getCB(skb)
			}
		}
		if cb.flags&flagSYN == 0 && After(cb.endSeq-b2u(cb.flags&flagFIN != 0), c.sndUna+c.sndWnd) && skb.Len() > 0 {
			break
		}
		nonagle := c.nonagle
		if cb.flags&(flagSYN|flagFIN) != 0 {
			nonagle |= TCPNaglePush
		}
		c.sml.SndUna, c.sml.SndNxt, c.sml.PacketsOut = c.sndUna, c.sndNxt, c.packetsOut
		if skb.Len() > 0 && !c.sml.NagleTest(skb.Len(), int(c.mssCache), cb.flags&flagFIN != 0, nonagle) {
			break
		}
		if skb.Len() > 0 && skb.Next == nil && push {
			cb.flags |= flagPSH
		}
		setCB(skb, cb)
		n := skb.Len()
		if !c.transmitNewData(skb) {
			break
		}
		c.sml.MinshallUpdate(n, 1, int(c.mssCache), cb.endSeq)
		sent = true
	}
	c.cong.MaxPacketsOut = max(c.cong.MaxPacketsOut, c.packetsOut)
	if sent && c.rec.pending != icskTimeReoTimeout {
		c.scheduleLossProbe()
	}
	return sent
}

// transmitNewData is tcp_transmit_skb of the send head and
// tcp_event_new_data_sent: the head advances, snd_nxt with it, and the
// retransmit timer starts if it does not run. The accounting comes
// first: the transmit may let the softirq run (the model has no socket
// lock), whose ACK processing must find skb in flight, not as the send
// head to send again; a failed transmit takes it back.
func (c *Conn) transmitNewData(skb *kernelmodel.SKB) bool {
	cb := getCB(skb)
	cb.when = c.now()
	cb.sacked |= tcpcbInflight
	cb.pcount = uint8(c.pcount(skb))
	setCB(skb, cb)
	priorNxt := c.sndNxt
	c.sendHead = skb.Next
	c.packetsOut += uint32(cb.pcount)
	c.sndNxt = SeqMax(c.sndNxt, cb.endSeq)
	c.sndMax = SeqMax(c.sndMax, c.sndNxt)
	if c.transmitSKB(skb, true) != nil {
		if c.sendHead == skb.Next && getCB(skb).sacked&tcpcbInflight != 0 {
			c.sendHead = skb
			c.packetsOut -= uint32(cb.pcount)
			c.sndNxt = priorNxt
			cb.sacked &^= tcpcbInflight
			setCB(skb, cb)
		}
		return false
	}
	if c.cong.CAState == CARecovery && c.rx.SackOK {
		c.rec.prr.Sent(uint32(cb.pcount))
	}
	if !c.rtxTimer.TimerPending() {
		c.resetXmitTimer()
	}
	return true
}

// pcount is tcp_skb_pcount as tcp_set_skb_tso_segs sets it: the
// segments of skb's payload at the current MSS (1 for none).
func (c *Conn) pcount(skb *kernelmodel.SKB) int {
	return max(1, (skb.Len()+int(c.mssCache)-1)/int(c.mssCache))
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// resetXmitTimer is inet_csk_reset_xmit_timer(ICSK_TIME_RETRANS, rto).
func (c *Conn) resetXmitTimer() {
	k := c.t.K
	c.rec.pending = icskTimeRetrans
	k.ModTimer(&c.rtxTimer, k.Jiffies()+uint64(c.rtt.RTO/jiffy))
}

// pushPendingFrames is __tcp_push_pending_frames.
func (c *Conn) pushPendingFrames() {
	if c.sendHead != nil {
		c.writeXmit(true)
		c.checkProbeTimer()
	}
}

// retransmitSKB is tcp_retransmit_skb: the write queue's skb sent again
// (RetransSegs), unless its last copy is still in the host's queues.
func (c *Conn) retransmitSKB(skb *kernelmodel.SKB) bool {
	if skb.Cloned() {
		c.t.Ext.TCPSpuriousRtxHostQueues++
		return false
	}
	cb := getCB(skb)
	if Before(cb.seq, c.sndUna) && skb.Len() > 0 {
		// tcp_trim_head: the part ACKed meanwhile goes.
		skb.Pull(int(c.sndUna - cb.seq))
		cb.seq = c.sndUna
	}
	if cb.sacked&tcpcbRetrans == 0 {
		c.retransOut += uint32(cb.pcount)
	}
	cb.sacked |= tcpcbRetrans | tcpcbEverRetr
	cb.when = c.now()
	setCB(skb, cb)
	if c.retransStamp == 0 {
		c.retransStamp = c.tsNow()
	}
	if c.transmitSKB(skb, true) != nil {
		return false
	}
	n := c.pcount(skb)
	c.rec.undoRetrans = max(c.rec.undoRetrans, 0) + n
	c.t.MIB.RetransSegs += uint64(n)
	c.t.MIB.OutSegs -= uint64(n) // counted by transmitSKB; Linux's OutSegs excludes retransmissions
	c.totalRetrans += uint32(n)
	return true
}

// writeTimer is tcp_write_timer → tcp_retransmit_timer (RFC 6298 5.4-5.6):
// give up after tcp_syn_retries / tcp_synack_retries / tcp_retries2
// (ETIMEDOUT), else enter Loss — ssthresh from the algorithm, cwnd 1 —,
// resend the first unacknowledged segment and back the timer off.
func (c *Conn) writeTimer() {
	if c.state == StateClose || c.state == StateListen || c.packetsOut == 0 {
		return
	}
	switch c.rec.pending {
	case icskTimeReoTimeout:
		c.rec.pending = icskTimeRetrans
		c.rackReoTimeout()
		return
	case icskTimeLossProbe:
		c.rec.pending = icskTimeRetrans
		c.lossProbe()
		return
	}
	sys := &c.t.Sysctl
	if c.sndWnd == 0 && c.state != StateSynSent && c.state != StateSynRecv && c.sendHead == nil && false {
		return
	}
	syn := c.state == StateSynSent || c.state == StateSynRecv
	boundary := sys.Retries2
	switch {
	case c.state == StateSynSent:
		boundary = sys.SynRetries
	case c.state == StateSynRecv && c.parent != nil:
		boundary = sys.SynackRetries
	}
	if syn && c.retransmits >= boundary ||
		!syn && RetransmitsTimedOut(c.retransmits, c.retransStamp, c.tsNow(), boundary, false, 0) {
		c.writeErr()
		return
	}
	c.t.Ext.TCPTimeouts++
	if c.cong.CAState != CALoss && c.ca != nil {
		c.rec.priorSsthresh = c.currentSsthresh()
		c.initUndo()
		c.cong.PriorCwnd = c.cong.SndCwnd
		c.cong.Now = c.now()
		c.cong.SndSsthresh = c.ca.SSThresh(&c.cong)
		c.ca.CwndEvent(&c.cong, CAEventLoss)
	}
	if c.ca != nil {
		c.setCAState(CALoss)
		c.cong.SndCwnd = 1
		c.cong.SndCwndCnt = 0
	}
	c.highSeq = c.sndNxt
	c.rec.tlpHighSeq = 0
	c.dupAcks = 0
	c.haveRoute = false // dst_negative_advice
	if c.sackOn() {
		// tcp_enter_loss with SACK: SACKed stays SACKed.
		c.timeoutMarkLost()
		c.cong.SndCwnd = c.inFlight() + 1
	}
	c.retransmitSKB(c.wq.Peek())
	c.retransmits++
	c.rtt.BackoffRTO()
	c.resetXmitTimer()
}

// setCAState is tcp_set_ca_state.
func (c *Conn) setCAState(st CAState) {
	if c.ca != nil {
		c.ca.SetState(&c.cong, st)
	}
	c.cong.CAState = st
}

// writeErr is tcp_write_err: ETIMEDOUT (or the soft error), tcp_done.
func (c *Conn) writeErr() {
	e := syscall.ETIMEDOUT
	if c.sk.ErrSoft != 0 {
		e = syscall.Errno(c.sk.ErrSoft)
	}
	c.sk.Err = int(e)
	c.sk.ErrorReport(c.sk)
	c.done()
}

// sendDelayedAck is tcp_send_delayed_ack.
func (c *Conn) sendDelayedAck() {
	now, tmo := c.delack.SendDelayedAck(c.now(), c.rtt.SrttUS)
	if now {
		c.sendAck()
		return
	}
	c.t.K.ModTimer(&c.delackTimer, uint64(tmo/jiffy))
}

// delackTimerHandler is tcp_delack_timer_handler.
func (c *Conn) delackTimerHandler() {
	if c.state == StateClose || c.state == StateListen {
		return
	}
	if c.delack.DelackTimer(c.rtt.RTO, &c.t.Ext) {
		c.sendAck()
	}
}

// timeWait is tcp_time_wait: TIME_WAIT for 60 s (TCP_TIMEWAIT_LEN), then
// CLOSED. The connection itself stays in the ehash as its TIME_WAIT sock.
func (c *Conn) timeWait() {
	c.setState(StateTimeWait)
	k := c.t.K
	k.DelTimer(&c.rtxTimer)
	k.DelTimer(&c.delackTimer)
	k.DelTimer(&c.probeTimer)
	k.ModTimer(&c.swTimer, k.Jiffies()+uint64(TCPTimewaitLen/jiffy))
	c.t.Ext.TW++
	c.stateChange()
}

// sendFin is tcp_send_fin: FIN on the last unsent skb, or a new one.
func (c *Conn) sendFin() {
	if tail := c.wq.Tail(); tail != nil && c.sendHead != nil {
		cb := getCB(tail)
		if cb.flags&flagFIN == 0 {
			cb.flags |= flagFIN
			cb.endSeq++
			setCB(tail, cb)
			c.writeSeq++
			c.pushPendingFrames()
			return
		}
	}
	c.queueCtl(flagFIN)
	c.writeXmit(true)
}

// sndbufExpand is tcp_sndbuf_expand: the send buffer sized for two
// windows of cwnd (at least 10) full segments, at most tcp_wmem[2].
func (c *Conn) sndbufExpand() {
	if c.sk.Userlocks&socket.SOCK_SNDBUF_LOCK != 0 {
		return
	}
	perMSS := int(max(c.mssCache, c.advMSS)) + maxTCPHeader + 320
	p := 1
	for p < perMSS {
		p <<= 1
	}
	perMSS = p + kernelmodel.SKBOverhead
	nr := max(TCPInitCwnd, int(c.cong.SndCwnd), c.t.Sysctl.Reordering+1)
	sndmem := 2 * nr * perMSS
	if c.sk.Sndbuf < sndmem {
		c.sk.Sndbuf = min(sndmem, c.t.Sysctl.Wmem[2])
	}
}

// initTransfer is tcp_init_transfer: congestion control starts, cwnd 10,
// the send buffer grows.
func (c *Conn) initTransfer() {
	c.syncMSS()
	c.cong.SndCwnd = TCPInitCwnd
	c.cong.Now = c.now()
	name := c.t.Sysctl.CongestionControl
	if c.ca != nil {
		name = c.ca.Name()
	}
	ca, err := NewCongestionControl(name, &c.cong)
	if err != nil {
		ca, _ = NewCongestionControl("cubic", &c.cong)
	}
	c.ca = ca
	c.sndbufExpand()
	c.delack = NewDelAck(c.advMSS)
	c.delack.RcvMSS = min(c.mssCache, c.advMSS)
	c.rw.RcvMSS = c.delack.RcvMSS
	c.initBufferSpace()
	c.retransmits = 0
	c.retransStamp = 0
	c.rtt.Backoff = 0
	if c.rtt.SrttUS == 0 {
		c.rtt.RTO = TCPTimeoutInit
	}
	if c.sk.Keepalive {
		c.setKeepalive(true)
	}
}

var _ = time.Second
