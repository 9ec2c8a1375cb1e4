package driver

import (
	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/hw/mii"
	"github.com/nicbed/nicbed/igb"
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/kernelmodel/rxframe"
)

// Receive status and error bits of the advanced write-back that the
// datasheet reserves (7.1.5.2): a device never sets them. Bit 2 is IXSM
// (ignore checksum indication), which the driver honours.
const (
	rxdStatIXSM     = 1 << 2
	rxdStatReserved = 1<<8 | 0xF<<12 | 0x7<<17
	rxdErrReserved  = 0x7<<20 | 1<<27
	// rxdStatCsum are the checks whose errors mean something only when
	// done.
	rxdStatL4 = igb.RXD_STAT_L4I | igb.RXD_STAT_UDPCS
)

// setupRctl is igb_setup_rctl: receiver on, broadcast accepted, descriptor
// minimum threshold at half, multicast offset 0, CRC stripped by the MAC,
// long frames always (RLPML bounds them), store-bad-packets off; queue 0
// disabled until it is configured.
func (a *Adapter) setupRctl() {
	rctl := a.rd(igb.RCTL)
	rctl &^= igb.RCTL_MO_MASK | igb.RCTL_LBM_MASK
	rctl |= igb.RCTL_EN | igb.RCTL_BAM | igb.RCTL_SECRC | igb.RCTL_LPE
	rctl &^= igb.RCTL_SBP | igb.RCTL_BSIZE_MASK
	a.wr(igb.RXDCTL(0), 0)
	a.wr(igb.RCTL, rctl)
}

// configureRx is igb_configure_rx: our address in RA[0] (igb_rar_set), then
// every queue's ring (igb_configure_rx_ring).
func (a *Adapter) configureRx() {
	a.initRxAddrs()
	for _, r := range a.rx {
		a.configureRxRing(r)
	}
}

// Receive descriptor thresholds (IGB_RX_PTHRESH, IGB_RX_HTHRESH,
// IGB_RX_WTHRESH).
const (
	rxPThresh = 8
	rxHThresh = 8
	rxWThresh = 4
)

// configureRxRing is igb_configure_rx_ring: with the queue disabled, the
// ring's base and length, head and tail 0, SRRCTL (2 KiB packet buffers,
// 256-byte header buffers, advanced one-buffer descriptors, drop when out
// of descriptors with several queues and no receive pause), then the
// queue enabled with its thresholds.
func (a *Adapter) configureRxRing(r *rxRing) {
	q := r.idx
	a.wr(igb.RXDCTL(q), 0)
	a.wr(igb.RDBAL(q), uint32(r.DescAddr()))
	a.wr(igb.RDBAH(q), uint32(uint64(r.DescAddr())>>32))
	a.wr(igb.RDLEN(q), uint32(r.DescLen()))
	a.wr(igb.RDH(q), 0)
	a.wr(igb.RDT(q), 0)
	r.NTC, r.NTU = 0, 0
	srrctl := uint32(RxHdrLen/igb.SRRCTL_BSIZEHDR_UNIT)<<igb.SRRCTL_BSIZEHDR_SHIFT |
		RxBufferSize/igb.SRRCTL_BSIZEPKT_UNIT | igb.SRRCTL_DESCTYPE_ADV1
	if a.fc != mii.FCRxPause && a.fc != mii.FCFull && len(a.rx) > 1 {
		srrctl |= igb.SRRCTL_DROP_EN
	}
	a.wr(igb.SRRCTL(q), srrctl)
	clear(r.posted)
	rxdctl := uint32(rxPThresh | rxHThresh<<8 | rxWThresh<<igb.XDCTL_WTHRESH_SHIFT)
	a.wr(igb.RXDCTL(q), rxdctl|igb.XDCTL_ENABLE)
}

// allocRxBuffers is igb_alloc_rx_buffers: give up to n driver-owned slots
// back to the device and move the tail (RDT = next_to_use, the datasheet's
// meaning: the device owns RDH .. RDT-1). Each slot keeps its buffer for
// good, so nothing is allocated here: the buffer is always reusable
// (igb_can_reuse_rx_page is always true, since its bytes are copied into
// the skb) and goes straight back (igb_reuse_rx_page in place).
//
// A slot the driver owns has a cleared write-back; finding DD in one means
// the device wrote a descriptor it did not own. That is counted, and the
// slot is posted like any other.
func (a *Adapter) allocRxBuffers(r *rxRing, n int) {
	if r.Count() == 0 || n <= 0 {
		return
	}
	i := r.NTU
	for ; n > 0; n-- {
		d := r.Desc(i)
		if igb.RxWB(d).StatusError()&igb.RXD_STAT_DD != 0 {
			a.ctr.RxUnpostedWriteback++
		}
		rd := igb.RxRead(d)
		rd.SetPktAddr(uint64(r.BufAddr(i)))
		rd.SetHdrAddr(0) // clears the write-back's status and length
		r.posted[i] = true
		i = r.Next(i)
	}
	if i != r.NTU {
		r.NTU = i
		// The descriptors reach memory before the device may fetch them
		// (wmb() before the tail write).
		dma.Wmb()
		a.wr(igb.RDT(r.idx), uint32(i))
	}
}

// cleanRxIRQ is igb_clean_rx_irq: take the frames the device wrote back,
// up to budget frames, copy each into an skb from the pool, fill in the
// hash, checksum, VLAN and queue (igb_process_skb_fields) and hand it to
// GRO; every buffer goes straight back to the ring. It returns the frames
// done, and budget if it stopped because it had looked at a ring's worth of
// descriptors (a hostile device that never ends a frame does not hold the
// CPU).
func (a *Adapter) cleanRxIRQ(q *qVector, budget int) int {
	r := q.rx
	if r == nil || r.Count() == 0 {
		return 0
	}
	k := a.k
	nd := a.netdev
	cost := k.Cost.RxDescriptor
	packets, descs, cleaned := 0, 0, 0
	var bytes uint64
	i := r.NTC
	for packets < budget {
		if descs >= r.Count() {
			packets = budget
			break
		}
		d := r.Desc(i)
		// The status dword is what the device writes last: read it
		// with acquire ordering (dma_rmb() in Linux), the rest of the
		// write-back only after it.
		se := dma.LoadAcquire32(d[igb.RxWBStatusError:])
		if se&igb.RXD_STAT_DD == 0 {
			break
		}
		if !r.posted[i] {
			// DD on a slot the driver did not post (only possible
			// with nothing posted: next_to_clean == next_to_use).
			a.ctr.RxUnpostedWriteback++
			igb.RxRead(d).SetHdrAddr(0)
			break
		}
		descs++
		k.Charge(cost)
		wb := igb.RxWB(d)
		eop := se&igb.RXD_STAT_EOP != 0
		if skb := a.rxDescriptor(r, r.Buf(i), int(wb.Length()), se, eop); skb != nil {
			a.processSKBFields(r, wb, se, skb)
			bytes += uint64(len(skb.Data))
			packets++
			k.TracePoint("igb_clean_rx_irq", skb.ID, int64(len(skb.Data)))
			k.EthTypeTrans(skb, nd)
			q.napi.NAPIGROReceive(skb)
		}
		// The buffer is the driver's again.
		igb.RxRead(d).SetHdrAddr(0)
		r.posted[i] = false
		i = r.Next(i)
		r.NTC = i
		cleaned++
		if cleaned >= RxBufferWrite {
			a.allocRxBuffers(r, cleaned)
			cleaned = 0
		}
	}
	if n := r.Unused(); n > 0 {
		a.allocRxBuffers(r, n)
	}
	done := min(packets, budget)
	r.st.packets += uint64(done)
	r.st.bytes += bytes
	q.rxC.totalPackets += uint64(done)
	q.rxC.totalBytes += bytes
	nd.Stats.RxBytes += bytes
	nd.Stats.RxPackets += uint64(done)
	return packets
}

// rxDescriptor handles one written-back descriptor whose buffer is data:
// an impossible status drops its frame (RxBadStatus); otherwise the shared
// frame assembly (kernelmodel/rxframe) checks the length, copies the bytes
// and returns the finished frame at its EOP (igb_cleanup_headers' frame
// errors dropped), or nil. It never reads past data and never keeps it.
func (a *Adapter) rxDescriptor(r *rxRing, data []byte, length int, se uint32, eop bool) *kernelmodel.SKB {
	if se&rxdStatReserved != 0 || se&rxdErrReserved != 0 ||
		(se&igb.RXD_ERR_L4E != 0 && se&rxdStatL4 == 0) ||
		(se&igb.RXD_ERR_IPE != 0 && se&igb.RXD_STAT_IPCS == 0) {
		a.ctr.RxBadStatus++
		r.frame.Drop(a.k, a.netdev, eop)
		return nil
	}
	return r.frame.Add(a.k, a.netdev, &a.ctr.Counters, rxframe.Frame{
		Data: data, Length: length, EOP: eop, FrameErr: se&igb.RXD_ERR_FRAME != 0,
		MaxLen: a.maxFrameSize - ethFCSLen, Multi: true, // the MAC strips the FCS
	})
}

// processSKBFields is igb_process_skb_fields: the RSS hash (igb_rx_hash),
// the checksum (igb_rx_checksum), the stripped VLAN tag and the receive
// queue (skb_record_rx_queue).
func (a *Adapter) processSKBFields(r *rxRing, wb igb.RxWB, se uint32, skb *kernelmodel.SKB) {
	nd := a.netdev
	if nd.Features&kernelmodel.NETIF_F_RXHASH != 0 {
		a.rxHash(wb, skb)
	}
	a.rxChecksum(r, se, skb)
	if nd.Features&kernelmodel.NETIF_F_HW_VLAN != 0 && se&igb.RXD_STAT_VP != 0 {
		skb.VLANTCI = wb.VLAN()
	}
	skb.QueueMapping = uint16(r.idx)
}

// rxHash is igb_rx_hash: the write-back's RSS hash (RXCSUM.PCSD is set).
// Linux records it as an L3 hash (PKT_HASH_TYPE_L3); the driver marks it L4
// when the RSS type says the ports went in (as ixgbe does).
func (a *Adapter) rxHash(wb igb.RxWB, skb *kernelmodel.SKB) {
	typ := wb.RSSType()
	if typ == igb.RSSTypeNone {
		return
	}
	skb.Hash = wb.RSSHash()
	skb.SWHash = false
	switch typ {
	case igb.RSSTypeIPv4TCP, igb.RSSTypeIPv6TCP, igb.RSSTypeIPv6TCPEx, igb.RSSTypeIPv4UDP, igb.RSSTypeIPv6UDP, igb.RSSTypeIPv6UDPEx:
		skb.L4Hash = true
	}
}

// rxChecksum is igb_rx_checksum: nothing with IXSM or RXCSUM off (ethtool
// -K rx off); with an IPv4 or TCP/UDP checksum error the stack checks again
// (rx_queue_N_csum_err); a TCP or UDP checksum the device verified is
// CHECKSUM_UNNECESSARY.
func (a *Adapter) rxChecksum(r *rxRing, se uint32, skb *kernelmodel.SKB) {
	skb.IPSummed = kernelmodel.CHECKSUM_NONE
	if se&rxdStatIXSM != 0 || a.netdev.Features&kernelmodel.NETIF_F_RXCSUM == 0 {
		return
	}
	if se&(igb.RXD_ERR_L4E|igb.RXD_ERR_IPE) != 0 {
		r.st.csumErr++
		return
	}
	if se&rxdStatL4 != 0 {
		skb.IPSummed = kernelmodel.CHECKSUM_UNNECESSARY
	}
}
