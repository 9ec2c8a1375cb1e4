package driver

import (
	"encoding/binary"
	"time"

	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/hw/offload"
	"github.com/nicbed/nicbed/igb"
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/header"
)

// Transmit flags (IGB_TX_FLAGS_*).
const (
	txFlagsVLAN = 1 << 1
	txFlagsTSO  = 1 << 2
	txFlagsIPv4 = 1 << 4
	txFlagsCsum = 1 << 5
	// txFlagsVLANShift is IGB_TX_FLAGS_VLAN_SHIFT: the tag in the top 16
	// bits.
	txFlagsVLANShift = 16
)

// txdDCMD is IGB_TXD_DCMD: what the last descriptor of a frame carries
// (EOP and RS: report status).
const txdDCMD = igb.TXD_DCMD_EOP | igb.TXD_DCMD_RS

// minTxLen is what igb_xmit_frame pads a frame to (skb_put_padto(skb, 17));
// the MAC pads short frames to 64 bytes (TCTL.PSP).
const minTxLen = 17

// Transmit descriptor thresholds (IGB_TX_PTHRESH, IGB_TX_HTHRESH,
// IGB_TX_WTHRESH: 1 on the 82576 with MSI-X, else 16).
const (
	txPThresh = 8
	txHThresh = 1
)

// setupTctl is igb_setup_tctl: queue 0 (enabled at reset) disabled, pad
// short packets, retransmit on late collision, collision threshold and
// distance, transmits on.
func (a *Adapter) setupTctl() {
	a.wr(igb.TXDCTL(0), 0)
	tctl := a.rd(igb.TCTL)
	tctl &^= igb.TCTL_CT_MASK | igb.TCTL_COLD_MASK
	tctl |= igb.TCTL_PSP | igb.TCTL_RTLC | collisionThreshold<<igb.TCTL_CT_SHIFT | collisionDistance<<igb.TCTL_COLD_SHIFT
	tctl |= igb.TCTL_EN
	a.wr(igb.TCTL, tctl)
}

// configureTx is igb_configure_tx: every queue's ring
// (igb_configure_tx_ring).
func (a *Adapter) configureTx(t *kernelmodel.Task) {
	for _, r := range a.tx {
		a.configureTxRing(t, r)
	}
}

// configureTxRing is igb_configure_tx_ring: with the queue disabled (and
// mdelay(10) for it to drain), the ring's length and base, head and tail 0,
// the head write-back address if used, then the queue enabled with its
// thresholds.
func (a *Adapter) configureTxRing(t *kernelmodel.Task, r *txRing) {
	q := r.idx
	a.wr(igb.TXDCTL(q), 0)
	a.writeFlush()
	a.udelay(t, 10*time.Millisecond) // mdelay(10)
	a.wr(igb.TDLEN(q), uint32(r.DescLen()))
	a.wr(igb.TDBAL(q), uint32(r.DescAddr()))
	a.wr(igb.TDBAH(q), uint32(uint64(r.DescAddr())>>32))
	a.wr(igb.TDH(q), 0)
	a.wr(igb.TDT(q), 0)
	r.NTC, r.NTU = 0, 0
	if r.head.Bytes != nil {
		clear(r.head.Bytes)
		a.wr(igb.TDWBAH(q), uint32(uint64(r.head.Addr)>>32))
		a.wr(igb.TDWBAL(q), uint32(r.head.Addr)&igb.TDWBAL_ADDR_MASK|igb.TDWBAL_HEAD_WB_EN)
	} else {
		a.wr(igb.TDWBAL(q), 0)
		a.wr(igb.TDWBAH(q), 0)
	}
	wthresh := uint32(16)
	if a.msix {
		wthresh = 1
	}
	a.wr(igb.TXDCTL(q), txPThresh|txHThresh<<8|wthresh<<igb.XDCTL_WTHRESH_SHIFT|igb.XDCTL_ENABLE)
}

// StartXmit is igb_xmit_frame (ndo_start_xmit): the queue is
// skb->queue_mapping (modulo the queues in use, as igb_tx_queue_mapping
// does); see xmitFrameRing.
func (a *Adapter) StartXmit(skb *kernelmodel.SKB) kernelmodel.NetdevTx {
	k := a.k
	k.Charge(k.Cost.Xmit)
	if a.flagDown || len(a.tx) == 0 || len(skb.Data) == 0 {
		a.netdev.Stats.TxDropped++
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_DEV_READY)
		return kernelmodel.NETDEV_TX_OK
	}
	r := a.tx[int(skb.QueueMapping)%len(a.tx)]
	return a.xmitFrameRing(skb, r)
}

// SelectQueue is netdev_pick_tx's skb_tx_hash for the adapter's queues:
// the transmit queue of a flow, reciprocal_scale of its hash. Senders that
// spread flows set skb.QueueMapping from it; igb has no ndo_select_queue.
func (a *Adapter) SelectQueue(skb *kernelmodel.SKB) int {
	n := max(len(a.tx), 1)
	return int(uint64(kernelmodel.SKBGetHash(skb)) * uint64(n) >> 32)
}

// xmitFrameRing is igb_xmit_frame_ring: make sure the ring has room for the
// frame (else stop the queue and return NETDEV_TX_BUSY, the caller keeps
// skb), write a TSO or checksum context descriptor if the skb asks for
// offload or a VLAN tag, copy the bytes into the slots' buffers and write
// the data descriptors (igb_tx_map), stop the queue if a worst-case frame
// would no longer fit, and move the tail. On NETDEV_TX_OK the driver owns
// skb and frees it when the device has sent it. The bytes are reported to
// BQL (netdev_tx_sent_queue), and the tail is not written while more frames
// of the same bulk follow (netdev_xmit_more: skb.XmitMore) and the queue
// runs: the last frame of the bulk, or the one that stops the queue (the
// ring's room or BQL's limit: netif_xmit_stopped), rings the doorbell for
// all of them.
func (a *Adapter) xmitFrameRing(skb *kernelmodel.SKB, r *txRing) kernelmodel.NetdevTx {
	k := a.k
	nd := a.netdev
	more := skb.XmitMore
	if n := len(skb.Data); n < minTxLen {
		if skb.Tailroom() < minTxLen-n {
			// skb_put_padto could not grow it: the skb is freed.
			nd.Stats.TxDropped++
			k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
			return kernelmodel.NETDEV_TX_OK
		}
		clear(skb.Put(minTxLen - n))
	}
	n := len(skb.Data)
	count := (n + TxBufferSize - 1) / TxBufferSize
	if count+3 > r.Count()-1 || n > MaxTSOSize+MaxSKBFrags*TxBufferSize {
		// It would never fit.
		a.ctr.TxTooBig++
		nd.Stats.TxDropped++
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
		return kernelmodel.NETDEV_TX_OK
	}
	if a.maybeStopTx(r, count+3) {
		return kernelmodel.NETDEV_TX_BUSY
	}
	first := r.NTU
	flags := 0
	if skb.VLANTCI != 0 {
		// skb_vlan_tag_present: the MAC inserts the tag (VLE). The
		// kernel model's skb has no vlan_present bit: a TCI of 0 means
		// no tag.
		flags |= txFlagsVLAN | int(skb.VLANTCI)<<txFlagsVLANShift
	}
	h, parsed := offload.ParseTxHeaders(skb.Data)
	segs, bytecount := uint32(1), uint32(n)
	hdrLen, ok := a.tso(r, skb, h, parsed, &flags)
	if ok && hdrLen > 0 {
		mss := int(skb.GSOSize)
		segs = uint32((n - hdrLen + mss - 1) / mss)
		bytecount += (segs - 1) * uint32(hdrLen)
	} else if ok {
		ok = a.txCsum(r, skb, h, parsed, &flags)
	}
	if !ok {
		a.ctr.TxBadOffload++
		nd.Stats.TxDropped++
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
		return kernelmodel.NETDEV_TX_OK
	}
	a.txMap(r, skb, first, flags, hdrLen, segs, bytecount)
	k.ChargeBytes(k.Cost.TxPerKiB, n)
	k.TracePoint("igb_xmit_frame_ring", skb.ID, int64(r.idx))
	// Make sure there is room in the ring for the next frame.
	a.maybeStopTx(r, DescNeeded)
	if !more || nd.TxQueue(r.idx).XmitStopped() {
		a.wr(igb.TDT(r.idx), uint32(r.NTU))
	}
	return kernelmodel.NETDEV_TX_OK
}

// maybeStopTx is igb_maybe_stop_tx (__igb_maybe_stop_tx): stop the ring's
// queue unless size descriptors are free. It reports whether the queue
// stays stopped.
func (a *Adapter) maybeStopTx(r *txRing, size int) bool {
	if r.Unused() >= size {
		return false
	}
	q := a.netdev.TxQueue(r.idx)
	q.Stop()
	// Another CPU may have made room meanwhile (not in this model, where
	// nothing runs concurrently, but the check is cheap).
	if r.Unused() < size {
		return true
	}
	q.Wake()
	r.st.restartQueue++
	return false
}

// tso is igb_tso: for a GSO skb, prepare the headers the way the device
// wants them (hw/offload's PrepareTSO) and write a TCP segmentation
// context descriptor: MACLEN, IPLEN, the VLAN tag, TUCMD IPv4 and L4 TCP,
// L4LEN and MSS. It returns the header length every segment repeats (0: not
// TSO), and false for a GSO skb whose headers are not TCP over IP or do not
// fit the descriptor.
func (a *Adapter) tso(r *txRing, skb *kernelmodel.SKB, h offload.TxHeaders, parsed bool, flags *int) (int, bool) {
	mss := int(skb.GSOSize)
	if mss == 0 {
		return 0, true
	}
	if !parsed || h.Proto != header.ProtocolTCP || h.L3 > 127 || h.L4-h.L3 > 511 || h.L4Len > 255 {
		return 0, false
	}
	if !offload.PrepareTSO(skb.Data, h) {
		return 0, false
	}
	tucmd := uint32(igb.TXCTX_TUCMD_L4T_TCP)
	*flags |= txFlagsTSO | txFlagsCsum
	if h.IPv4 {
		tucmd |= igb.TXCTX_TUCMD_IPV4
		*flags |= txFlagsIPv4
	}
	a.txCtxDesc(r, uint16(*flags>>txFlagsVLANShift), h.L3, h.L4-h.L3, tucmd, mss, h.L4Len)
	return h.HeaderLen(), true
}

// txCsum is igb_tx_csum: for a CHECKSUM_PARTIAL skb whose checksum field is
// TCP's or UDP's right after the IP header, a context descriptor that has
// the device checksum from there to the end (and insert the VLAN tag); a
// checksum the descriptor cannot express is done in software
// (skb_checksum_help). A VLAN tag without offload still needs a context
// descriptor. It reports false for offsets outside the frame.
func (a *Adapter) txCsum(r *txRing, skb *kernelmodel.SKB, h offload.TxHeaders, parsed bool, flags *int) bool {
	vlan := uint16(*flags >> txFlagsVLANShift)
	maclen := 0
	if parsed {
		maclen = h.L3
	} else if len(skb.Data) >= ethHLen {
		maclen = ethHLen
	}
	if skb.IPSummed != kernelmodel.CHECKSUM_PARTIAL {
		if *flags&txFlagsVLAN != 0 {
			a.txCtxDesc(r, vlan, maclen, 0, 0, 0, 0)
		}
		return true
	}
	p := skb.Data
	css := int(skb.CsumStart)
	cso := css + int(skb.CsumOffset)
	if css >= len(p) || cso+2 > len(p) {
		return false
	}
	var tucmd uint32
	switch {
	case parsed && css == h.L4 && h.Proto == header.ProtocolTCP && skb.CsumOffset == header.TCPChecksum:
		tucmd = igb.TXCTX_TUCMD_L4T_TCP
	case parsed && css == h.L4 && h.Proto == header.ProtocolUDP && skb.CsumOffset == header.UDPChecksum:
		tucmd = igb.TXCTX_TUCMD_L4T_UDP
	default:
		// skb_checksum_help: the pseudo-header sum is in the field.
		offload.ChecksumHelp(p, css, cso)
		a.k.ChargeBytes(a.k.Cost.CsumPerKiB, len(p)-css)
		if *flags&txFlagsVLAN != 0 {
			a.txCtxDesc(r, vlan, maclen, 0, 0, 0, 0)
		}
		return true
	}
	if h.L3 > 127 || h.L4-h.L3 > 511 {
		offload.ChecksumHelp(p, css, cso)
		return true
	}
	if h.IPv4 {
		tucmd |= igb.TXCTX_TUCMD_IPV4
	}
	*flags |= txFlagsCsum
	a.txCtxDesc(r, vlan, h.L3, h.L4-h.L3, tucmd, 0, 0)
	return true
}

// txCtxDesc is igb_tx_ctxtdesc: a context descriptor at next_to_use
// (context slot 0: the 82576 needs no index per ring), booked as the first
// slot of the frame being queued.
func (a *Adapter) txCtxDesc(r *txRing, vlan uint16, maclen, iplen int, tucmd uint32, mss, l4len int) {
	i := r.NTU
	d := r.Desc(i)
	if igb.TxData(d).DD() {
		a.ctr.TxUnpostedWriteback++
	}
	igb.TxContext(d).Set(vlan, maclen, iplen, tucmd, mss, l4len, 0)
	b := &r.buf[i]
	b.TimeStamp = a.k.Jiffies()
	b.NextToWatch = int32(i)
	b.Length = 0
	b.Used = true
	r.NTU = r.Next(i)
}

// txMap is igb_tx_map with igb_tx_cmd_type and igb_tx_olinfo_status: copy
// the frame into the buffers of the slots from next_to_use, at most
// TxBufferSize bytes per slot, and write a data descriptor for each — the
// command (DTYP data, DEXT, IFCS, TSE, VLE; EOP and RS on the last), the
// payload length (the TCP payload with TSO, else the frame) and the
// offload options (TXSM, and IXSM with TSO over IPv4). The last slot gets
// the skb, the first (which may be the context descriptor's) the index of
// the last; the frame's bytes on the wire (bytecount) go to BQL
// (netdev_tx_sent_queue).
func (a *Adapter) txMap(r *txRing, skb *kernelmodel.SKB, first, flags, hdrLen int, segs, bytecount uint32) {
	data := skb.Data
	n := len(data)
	now := a.k.Jiffies()
	cmd := uint32(igb.TXD_DCMD_IFCS)
	if flags&txFlagsTSO != 0 {
		cmd |= igb.TXD_DCMD_TSE
	}
	if flags&txFlagsVLAN != 0 {
		cmd |= igb.TXD_DCMD_VLE
	}
	var popts uint32
	if flags&txFlagsCsum != 0 {
		popts |= igb.TXD_POPTS_TXSM
	}
	if flags&txFlagsIPv4 != 0 {
		popts |= igb.TXD_POPTS_IXSM
	}
	paylen := uint32(n - hdrLen)
	i := r.NTU
	last := i
	for off := 0; off < n; {
		size := min(n-off, TxBufferSize)
		d := r.Desc(i)
		if igb.TxData(d).DD() {
			// Cleaned slots have their write-back cleared: the device
			// wrote back one it did not own.
			a.ctr.TxUnpostedWriteback++
		}
		copy(r.Buf(i)[:size], data[off:off+size])
		b := &r.buf[i]
		b.Length = uint32(size)
		b.TimeStamp = now
		b.NextToWatch = -1
		b.Used = true
		off += size
		c := cmd
		if off == n {
			c |= txdDCMD
		}
		igb.TxData(d).Set(uint64(r.BufAddr(i)), uint16(size), c, paylen, popts, 0)
		// Only the first data descriptor carries olinfo.
		paylen, popts = 0, 0
		last = i
		i = r.Next(i)
	}
	lb := &r.buf[last]
	lb.Pkt = skb
	lb.Segs, lb.Bytecount = segs, bytecount
	r.buf[first].NextToWatch = int32(last)
	a.netdev.TxQueue(r.idx).NetdevTxSentQueue(int(bytecount))
	// The descriptors reach memory before the device may fetch them: the
	// caller's TDT write comes after this barrier (dma_wmb()).
	dma.Wmb()
	r.NTU = i
}

// txDone reports whether the frame whose last descriptor is slot eop has
// been sent: its DD (acquire ordering: the books are read after the device
// said so) or, with head write-back, a head past it. A head outside the
// queued descriptors is counted and taken as nothing done.
func (a *Adapter) txDone(r *txRing, eop int) bool {
	if r.head.Bytes == nil {
		return dma.LoadAcquire32(r.Desc(eop)[igb.TxDataOlinfo:])&igb.TXD_STA_DD != 0
	}
	head := int(dma.LoadAcquire32(r.head.Bytes))
	if head >= r.Count() || (head != r.NTU && !r.InFlight(head)) {
		a.ctr.TxBadHead++
		return false
	}
	return ringBefore(eop, head, r)
}

// ringBefore reports whether slot i comes before head, counting from
// next_to_clean.
func ringBefore(i, head int, r *txRing) bool {
	n := r.Count()
	return (i-r.NTC+n)%n < (head-r.NTC+n)%n
}

// cleanTxIRQ is igb_clean_tx_irq: free the frames the device has sent, at
// most the q_vector's work limit (IGB_DEFAULT_TX_WORK, 128 frames), report
// them to BQL (netdev_tx_completed_queue), wake the queue when
// TX_WAKE_THRESHOLD descriptors are free, and, when the watchdog
// asks, look for a hung transmitter. It reports whether it finished within
// the limit.
func (a *Adapter) cleanTxIRQ(q *qVector) bool {
	r := q.tx
	if r == nil || r.Count() == 0 {
		return true
	}
	k := a.k
	cost := k.Cost.TxDescriptor
	budget := q.txWorkLimit
	i := r.NTC
	var totalBytes, totalPackets uint64
	cleaned := 0
	for ; budget > 0; budget-- {
		eop := r.buf[i].NextToWatch
		if eop < 0 || !a.txDone(r, int(eop)) {
			break
		}
		for done := false; !done; {
			b := &r.buf[i]
			done = i == int(eop)
			if done {
				totalPackets += uint64(b.Segs)
				totalBytes += uint64(b.Bytecount)
			}
			if b.Pkt != nil {
				k.TracePoint("igb_clean_tx_irq", b.Pkt.ID, int64(r.idx))
				k.ConsumeSKB(b.Pkt)
			}
			b.Free()
			d := r.Desc(i)
			binary.LittleEndian.PutUint32(d[igb.TxDataOlinfo:], 0)
			k.Charge(cost)
			cleaned++
			i = r.Next(i)
		}
	}
	r.NTC = i
	a.netdev.TxQueue(r.idx).NetdevTxCompletedQueue(int(totalPackets), int(totalBytes))
	if i == r.NTU && r.head.Bytes == nil {
		// Nothing is posted: a DD here was never asked for.
		if d := igb.TxData(r.Desc(i)); d.DD() {
			a.ctr.TxUnpostedWriteback++
			binary.LittleEndian.PutUint32(r.Desc(i)[igb.TxDataOlinfo:], 0)
		}
	}
	nd := a.netdev
	r.st.packets += totalPackets
	r.st.bytes += totalBytes
	q.txC.totalPackets += totalPackets
	q.txC.totalBytes += totalBytes
	nd.Stats.TxBytes += totalBytes
	nd.Stats.TxPackets += totalPackets
	if r.detectHang {
		// Detect a transmit hang in hardware: the oldest frame has
		// waited longer than the timeout and flow control is not
		// pausing us.
		r.detectHang = false
		if e := r.buf[r.NTC].NextToWatch; e >= 0 {
			ts := r.buf[e].TimeStamp
			if ts != 0 && k.Jiffies() > ts+kernelmodel.HZ && a.rd(igb.STATUS)&igb.STATUS_TXOFF == 0 {
				a.ctr.TxHangs++
				k.TracePoint("igb_clean_tx_irq: Detected Tx Unit Hang", 0, int64(r.NTC))
				nd.TxQueue(r.idx).Stop()
				return true
			}
		}
	}
	if cleaned > 0 && nd.NetifCarrierOK() && r.Unused() >= TxWakeThreshold {
		if txq := nd.TxQueue(r.idx); txq.Stopped() && !a.flagDown {
			txq.Wake()
			r.st.restartQueue++
			a.restartQueue++
		}
	}
	return budget > 0
}
