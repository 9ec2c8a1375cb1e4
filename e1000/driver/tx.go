package driver

import (
	"github.com/nicbed/nicbed/e1000"
	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/hw/offload"
	"github.com/nicbed/nicbed/kernelmodel"
)

// Transmit flags (E1000_TX_FLAGS_*).
const (
	txFlagsCsum = 1 << 0
	txFlagsTSO  = 1 << 2
	txFlagsIPv4 = 1 << 3
	txFlagsVLAN = 1 << 1
	// txFlagsVLANShift is E1000_TX_FLAGS_VLAN_SHIFT: the tag in the top
	// 16 bits of the flags.
	txFlagsVLANShift = 16
)

const (
	ipProtoTCP = 6
	ipProtoUDP = 17
)

// configureTx is e1000_configure_tx: the ring, TIPG, the transmit delay
// timers, the command bits of a frame's last descriptor, and TCTL (pad short
// packets, retransmit on late collision, collision threshold and distance).
// As in Linux, TCTL.EN is not set here: the watchdog enables the transmitter
// when the link comes up.
func (a *Adapter) configureTx() {
	r := &a.tx
	// In Linux's order: length, base high and low, tail, head.
	a.wr(e1000.TDLEN, uint32(r.DescLen()))
	a.wr(e1000.TDBAH, uint32(uint64(r.DescAddr())>>32))
	a.wr(e1000.TDBAL, uint32(r.DescAddr()))
	a.wr(e1000.TDT, 0)
	a.wr(e1000.TDH, 0)
	r.NTC, r.NTU = 0, 0
	a.wr(e1000.TIPG, tipgIPGTCopper|tipgIPGR1<<e1000.TIPG_IPGR1_SHIFT|tipgIPGR2<<e1000.TIPG_IPGR2_SHIFT)
	a.wr(e1000.TIDV, a.txIntDelay)
	a.wr(e1000.TADV, a.txAbsIntDelay)
	a.txdCmd = e1000.TXD_CMD_EOP | e1000.TXD_CMD_IFCS | e1000.TXD_CMD_RS
	if a.txIntDelay != 0 {
		a.txdCmd |= e1000.TXD_CMD_IDE
	}
	tctl := a.rd(e1000.TCTL)
	tctl &^= e1000.TCTL_CT_MASK | e1000.TCTL_COLD_MASK
	tctl |= e1000.TCTL_PSP | e1000.TCTL_RTLC |
		collisionThreshold<<e1000.TCTL_CT_SHIFT | collisionDistance<<e1000.TCTL_COLD_SHIFT
	a.wr(e1000.TCTL, tctl)
}

// StartXmit is e1000_xmit_frame (ndo_start_xmit): pad the frame to the
// Ethernet minimum, make sure the ring has room for it (else stop the queue
// and return NETDEV_TX_BUSY, the caller keeps skb), write a TSO or checksum
// context descriptor if the skb asks for offload, copy the bytes into the
// slots' buffers, write the data descriptors, stop the queue if a
// worst-case frame would no longer fit, and move the tail. On NETDEV_TX_OK
// the driver owns skb and frees it when the device has sent it. The bytes
// are reported to BQL (netdev_sent_queue), and the tail is not written while
// more frames of the same bulk follow (netdev_xmit_more: skb.XmitMore) and
// the queue runs: the last frame of the bulk, or the one that stops the
// queue, rings the doorbell for all of them.
func (a *Adapter) StartXmit(skb *kernelmodel.SKB) kernelmodel.NetdevTx {
	k := a.k
	more := skb.XmitMore
	k.Charge(k.Cost.Xmit)
	nd := a.netdev
	r := &a.tx
	if a.flagDown || r.Count() == 0 || len(skb.Data) == 0 {
		nd.Stats.TxDropped++
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_DEV_READY)
		return kernelmodel.NETDEV_TX_OK
	}
	n := max(len(skb.Data), ethZLen) // eth_skb_pad
	mss := int(skb.GSOSize)
	maxPerTxd := TxBufferSize
	if mss > 0 {
		// The controller checks FIFO room as if each buffer were at
		// most four segments: keep buffers that small
		// (e1000_xmit_frame: max_per_txd = min(mss << 2, 4096)).
		maxPerTxd = min(mss<<2, TxBufferSize)
	}
	count := (n + maxPerTxd - 1) / maxPerTxd
	if mss > 0 || skb.IPSummed == kernelmodel.CHECKSUM_PARTIAL {
		count++ // context descriptor
	}
	if count+2 > r.Count()-1 || n > MaxTSOSize+MaxSKBFrags*TxBufferSize {
		// It would never fit.
		a.ctr.TxTooBig++
		nd.Stats.TxDropped++
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
		return kernelmodel.NETDEV_TX_OK
	}
	if a.maybeStopTx(count + 2) {
		return kernelmodel.NETDEV_TX_BUSY
	}
	first := r.NTU
	var flags int
	h, parsed := parseHeaders(skb.Data)
	tso, ok := a.tso(skb, h, parsed)
	if !ok {
		a.ctr.TxBadOffload++
		nd.Stats.TxDropped++
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
		return kernelmodel.NETDEV_TX_OK
	}
	if tso {
		flags |= txFlagsTSO
	} else if csum, ok := a.txCsum(skb, h, parsed); !ok {
		a.ctr.TxBadOffload++
		nd.Stats.TxDropped++
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
		return kernelmodel.NETDEV_TX_OK
	} else if csum {
		flags |= txFlagsCsum
	}
	if parsed && h.IPv4 {
		flags |= txFlagsIPv4
	}
	if skb.VLANTCI != 0 {
		// skb_vlan_tag_present: the MAC inserts the tag (VLE with
		// CTRL.VME). The kernel model's skb has no vlan_present bit: a
		// TCI of 0 means no tag.
		flags |= txFlagsVLAN | int(skb.VLANTCI)<<txFlagsVLANShift
	}
	last := a.txMap(skb, first, n, maxPerTxd)
	nd.NetdevSentQueue(len(skb.Data))
	// The copy into the DMA buffers costs by the byte (TxPerKiB), the
	// whole super-frame for TSO.
	k.ChargeBytes(k.Cost.TxPerKiB, n)
	a.txQueue(flags, last)
	k.TracePoint("e1000_xmit_frame", skb.ID, int64(len(skb.Data)))
	// Make sure there is room in the ring for the next frame.
	a.maybeStopTx(DescNeeded)
	if !more || nd.TxQueue(0).XmitStopped() {
		a.wr(e1000.TDT, uint32(r.NTU))
	}
	return kernelmodel.NETDEV_TX_OK
}

// maybeStopTx is e1000_maybe_stop_tx: stop the queue unless size
// descriptors are free. It reports whether the queue stays stopped.
func (a *Adapter) maybeStopTx(size int) bool {
	if a.tx.Unused() >= size {
		return false
	}
	a.netdev.NetifStopQueue()
	// Another CPU may have made room meanwhile (not in this model, where
	// nothing runs concurrently, but the check is cheap).
	if a.tx.Unused() < size {
		return true
	}
	a.netdev.NetifStartQueue()
	a.restartQueue++
	return false
}

// hdrs is where a frame's headers are (hw/offload's TxHeaders, shared with
// igb).
type hdrs = offload.TxHeaders

// parseHeaders is offload.ParseTxHeaders: what e1000_tso and e1000_tx_csum
// take from skb_network_offset and skb_transport_offset.
func parseHeaders(p []byte) (hdrs, bool) { return offload.ParseTxHeaders(p) }

// tso is e1000_tso: for a GSO skb, prepare the headers the way the device
// wants them (IPv4 total length and header checksum zero, the TCP checksum
// seeded with the pseudo-header without length) and write a TCP
// segmentation context descriptor. It reports whether the frame is TSO, and
// false in ok for a GSO skb whose headers are not TCP over IP.
func (a *Adapter) tso(skb *kernelmodel.SKB, h hdrs, parsed bool) (tso, ok bool) {
	mss := int(skb.GSOSize)
	if mss == 0 {
		return false, true
	}
	if !parsed || h.Proto != ipProtoTCP {
		return false, false
	}
	p := skb.Data
	hdrLen := h.HeaderLen()
	if hdrLen >= len(p) || hdrLen > 0xFF || h.L4+16 > 0xFF || !offload.PrepareTSO(p, h) {
		return false, false
	}
	ipcse := 0
	if h.IPv4 {
		ipcse = h.L4 - 1
	}

	r := &a.tx
	i := r.NTU
	d := e1000.TxContextDesc(r.Desc(i))
	clear(d)
	d.SetIPCSS(uint8(h.L3))
	d.SetIPCSO(uint8(h.L3 + 10))
	d.SetIPCSE(uint16(ipcse))
	d.SetTUCSS(uint8(h.L4))
	d.SetTUCSO(uint8(h.L4 + 16))
	d.SetTUCSE(0)
	tucmd := uint8(e1000.TXD_TUCMD_TCP | e1000.TXD_TUCMD_TSE)
	if h.IPv4 {
		tucmd |= e1000.TXD_TUCMD_IP
	}
	paylen := len(p) - hdrLen
	d.SetTypeLen(uint32(paylen), tucmd)
	d.SetHDRLEN(uint8(hdrLen))
	d.SetMSS(uint16(mss))
	a.txCtxSlot(i)
	segs := (paylen + mss - 1) / mss
	a.txSegs, a.txBytecount = uint32(segs), uint32(len(p)+(segs-1)*hdrLen)
	return true, true
}

// txCsum is e1000_tx_csum: for a CHECKSUM_PARTIAL skb, write a context
// descriptor that has the device checksum from csum_start to the end and
// store the result at csum_start + csum_offset. Offsets the descriptor cannot
// express (beyond 255) are done in software (skb_checksum_help). ok is false
// for offsets outside the frame.
func (a *Adapter) txCsum(skb *kernelmodel.SKB, h hdrs, parsed bool) (csum, ok bool) {
	p := skb.Data
	a.txSegs, a.txBytecount = 1, uint32(max(len(p), ethZLen))
	if skb.IPSummed != kernelmodel.CHECKSUM_PARTIAL {
		return false, true
	}
	css := int(skb.CsumStart)
	cso := css + int(skb.CsumOffset)
	if css >= len(p) || cso+2 > len(p) {
		return false, false
	}
	if cso > 0xFF {
		// skb_checksum_help: the pseudo-header sum is in the field.
		offload.ChecksumHelp(p, css, cso)
		a.k.ChargeBytes(a.k.Cost.CsumPerKiB, len(p)-css)
		return false, true
	}
	r := &a.tx
	i := r.NTU
	d := e1000.TxContextDesc(r.Desc(i))
	clear(d)
	d.SetTUCSS(uint8(css))
	d.SetTUCSO(uint8(cso))
	d.SetTUCSE(0)
	var tucmd uint8
	if parsed && h.Proto == ipProtoTCP {
		tucmd |= e1000.TXD_TUCMD_TCP
	}
	if parsed && h.IPv4 {
		tucmd |= e1000.TXD_TUCMD_IP
	}
	d.SetTypeLen(0, tucmd)
	a.txCtxSlot(i)
	return true, true
}

// txCtxSlot books slot i, which now holds a context descriptor, as the
// first slot of the frame being queued.
func (a *Adapter) txCtxSlot(i int) {
	r := &a.tx
	b := &r.buf[i]
	b.TimeStamp = a.k.Jiffies()
	b.NextToWatch = int32(i)
	b.Length = 0
	b.Used = true
	i = r.Next(i)
	r.NTU = i
}

// txMap is e1000_tx_map: copy the frame (n bytes, padded with zeros past
// the skb's data) into the buffers of the slots from next_to_use, at most
// maxPerTxd bytes per slot, and book them; the last slot gets the skb and
// the first (which may be the context descriptor's) the index of the last.
// It returns the last slot.
func (a *Adapter) txMap(skb *kernelmodel.SKB, first, n, maxPerTxd int) int {
	r := &a.tx
	data := skb.Data
	now := a.k.Jiffies()
	i := r.NTU
	last := i
	for off := 0; off < n; {
		size := min(n-off, maxPerTxd)
		b := &r.buf[i]
		buf := r.Buf(i)
		if off < len(data) {
			c := copy(buf[:size], data[off:])
			clear(buf[c:size])
		} else {
			clear(buf[:size])
		}
		b.Length = uint32(size)
		b.TimeStamp = now
		b.NextToWatch = -1
		b.Used = true
		off += size
		last = i
		i = r.Next(i)
	}
	lb := &r.buf[last]
	lb.Pkt = skb
	lb.Segs, lb.Bytecount = a.txSegs, a.txBytecount
	r.buf[first].NextToWatch = int32(last)
	return last
}

// txQueue is e1000_tx_queue: write the data descriptors for the slots txMap
// filled (legacy descriptors without offload, TCP/IP data descriptors with
// it) and give them to the device by moving next_to_use; the caller writes
// TDT.
func (a *Adapter) txQueue(flags, last int) {
	r := &a.tx
	var dcmd, popts uint8
	ext := flags&(txFlagsTSO|txFlagsCsum) != 0
	dcmd = e1000.TXD_CMD_IFCS
	if flags&txFlagsTSO != 0 {
		dcmd |= e1000.TXD_CMD_TSE
		popts |= e1000.TXD_POPTS_TXSM
		if flags&txFlagsIPv4 != 0 {
			popts |= e1000.TXD_POPTS_IXSM
		}
	}
	if flags&txFlagsCsum != 0 {
		popts |= e1000.TXD_POPTS_TXSM
	}
	var special uint16
	if flags&txFlagsVLAN != 0 {
		dcmd |= e1000.TXD_CMD_VLE
		special = uint16(flags >> txFlagsVLANShift)
	}
	i := r.NTU
	for {
		b := &r.buf[i]
		d := r.Desc(i)
		if d[e1000.TxDescStatus]&e1000.TXD_STAT_DD != 0 {
			// Cleaned slots have their status cleared: the device
			// wrote back one it did not own.
			a.ctr.TxUnpostedWriteback++
		}
		cmd := dcmd
		if i == last {
			cmd |= a.txdCmd
		}
		clear(d)
		if ext {
			dd := e1000.TxDataDesc(d)
			dd.SetAddr(uint64(r.BufAddr(i)))
			dd.SetTypeLen(b.Length, cmd)
			dd.SetPOPTS(popts)
			dd.SetSpecial(special)
		} else {
			ld := e1000.TxDesc(d)
			ld.SetAddr(uint64(r.BufAddr(i)))
			ld.SetLength(uint16(b.Length))
			ld.SetCmd(cmd)
			ld.SetSpecial(special)
		}
		done := i == last
		i = r.Next(i)
		if done {
			break
		}
	}
	// The descriptors reach memory before the device may fetch them: the
	// caller's TDT write comes after this barrier (dma_wmb()).
	dma.Wmb()
	r.NTU = i
}

// cleanTxIRQ is e1000_clean_tx_irq: free the frames the device has sent
// (DD on a frame's last descriptor), at most one ring's worth, wake the
// queue when TxWakeThreshold descriptors are free, and, when the watchdog
// asks, look for a hung transmitter. It reports whether it cleaned less
// than a ring's worth (tx_clean_complete).
func (a *Adapter) cleanTxIRQ() bool {
	r := &a.tx
	if r.Count() == 0 {
		return true
	}
	k := a.k
	cost := k.Cost.TxDescriptor
	i := r.NTC
	eop := r.buf[i].NextToWatch
	count := 0
	var totalBytes, totalPackets uint64
	var pktsCompl, bytesCompl int // for BQL: the skbs freed
	for eop >= 0 && count < r.Count() {
		ed := r.Desc(int(eop))
		// DD with acquire ordering (dma_rmb() after it in Linux): the
		// books of the frame are read after the device said it is done.
		if dma.LoadAcquire32(ed[e1000.TxDescStatus:])&e1000.TXD_STAT_DD == 0 {
			break
		}
		for cleaned := false; !cleaned; count++ {
			b := &r.buf[i]
			cleaned = i == int(eop)
			if cleaned {
				totalPackets += uint64(b.Segs)
				totalBytes += uint64(b.Bytecount)
			}
			if b.Pkt != nil {
				k.TracePoint("e1000_clean_tx_irq", b.Pkt.ID, 0)
				pktsCompl++
				bytesCompl += b.Pkt.Len()
				k.ConsumeSKB(b.Pkt)
				b.Pkt = nil
			}
			b.NextToWatch, b.TimeStamp, b.Used = -1, 0, false
			r.Desc(i)[e1000.TxDescStatus] = 0
			k.Charge(cost)
			i = r.Next(i)
		}
		eop = r.buf[i].NextToWatch
	}
	r.NTC = i
	if i == r.NTU {
		// Nothing is posted: a DD here was never asked for.
		if d := r.Desc(i); d[e1000.TxDescStatus]&e1000.TXD_STAT_DD != 0 {
			a.ctr.TxUnpostedWriteback++
			d[e1000.TxDescStatus] = 0
		}
	}
	nd := a.netdev
	nd.NetdevCompletedQueue(pktsCompl, bytesCompl)
	if count > 0 && nd.NetifCarrierOK() && r.Unused() >= TxWakeThreshold {
		if nd.NetifQueueStopped() && !a.flagDown {
			nd.NetifWakeQueue()
			a.restartQueue++
		}
	}
	if a.detectTxHung {
		// Detect a transmit hang in hardware: the oldest frame has
		// waited longer than the timeout and flow control is not
		// pausing us.
		a.detectTxHung = false
		if e := r.buf[r.NTC].NextToWatch; e >= 0 {
			ts := r.buf[e].TimeStamp
			if ts != 0 && k.Jiffies() > ts+uint64(a.txTimeoutFactor)*kernelmodel.HZ &&
				a.rd(e1000.STATUS)&e1000.STATUS_TXOFF == 0 {
				a.ctr.TxHangs++
				k.TracePoint("e1000_clean_tx_irq: Detected Tx Unit Hang", 0, int64(r.NTC))
				nd.NetifStopQueue()
			}
		}
	}
	a.totalTxBytes += totalBytes
	a.totalTxPackets += totalPackets
	nd.Stats.TxBytes += totalBytes
	nd.Stats.TxPackets += totalPackets
	return count < r.Count()
}
