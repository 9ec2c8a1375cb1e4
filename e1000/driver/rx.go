package driver

import (
	"github.com/nicbed/nicbed/e1000"
	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/kernelmodel/rxframe"
)

// Receive status and error bits the datasheet reserves (3.2.3.1, 3.2.3.2):
// a device never sets them.
const (
	rxdStatReserved = 1 << 4
	rxdErrReserved  = 1 << 3
	// rxdErrFrameMask is E1000_RXD_ERR_FRAME_ERR_MASK: errors that make
	// the frame bad (not the checksum errors).
	rxdErrFrameMask = e1000.RXD_ERR_CE | e1000.RXD_ERR_SE | e1000.RXD_ERR_SEQ | e1000.RXD_ERR_CXE | e1000.RXD_ERR_RXE
	// rxdSpcVLANMask is E1000_RXD_SPC_VLAN_MASK: the VLAN ID bits of the
	// special field.
	rxdSpcVLANMask = 0x0FFF
)

// setupRctl is e1000_setup_rctl: broadcast accepted, descriptor minimum
// threshold at half the ring, multicast offset 0, 2048-byte buffers, long
// frames only above the standard MTU, CRC stripped by the MAC. It leaves
// RCTL.EN alone (clear after a reset): as in Linux, the receiver is turned on
// by configureRx, once the ring is programmed.
//
// Linux's e1000 leaves RCTL.SECRC clear and trims the 4 FCS bytes in
// software; this driver has the MAC strip them (the datasheet allows it on
// the 82540EM), which spares the model computing an FCS per frame.
func (a *Adapter) setupRctl() {
	rctl := a.rd(e1000.RCTL)
	rctl &^= e1000.RCTL_MO_MASK | e1000.RCTL_LBM_MASK | e1000.RCTL_RDMTS_MASK | e1000.RCTL_SBP |
		e1000.RCTL_BSIZE_MASK | e1000.RCTL_BSEX | e1000.RCTL_LPE
	rctl |= e1000.RCTL_BAM | e1000.RCTL_RDMTS_HALF | e1000.RCTL_SECRC | e1000.RCTL_BSIZE_2048
	if a.netdev.MTU > ethDataLen {
		rctl |= e1000.RCTL_LPE
	}
	a.wr(e1000.RCTL, rctl)
}

// configureRx is e1000_configure_rx: with the receiver off, program the
// delay timers, ITR, the ring, checksum offload; then turn it on.
func (a *Adapter) configureRx() {
	r := &a.rx
	rctl := a.rd(e1000.RCTL)
	a.wr(e1000.RCTL, rctl&^e1000.RCTL_EN)
	a.wr(e1000.RDTR, a.rxIntDelay)
	a.wr(e1000.RADV, a.rxAbsIntDelay)
	if a.itrSetting != 0 {
		a.wr(e1000.ITR, itrRegister(a.itr))
	} else {
		a.wr(e1000.ITR, 0)
	}
	// In Linux's order: length, base high and low, tail, head.
	a.wr(e1000.RDLEN, uint32(r.DescLen()))
	a.wr(e1000.RDBAH, uint32(uint64(r.DescAddr())>>32))
	a.wr(e1000.RDBAL, uint32(r.DescAddr()))
	a.wr(e1000.RDT, 0)
	a.wr(e1000.RDH, 0)
	r.NTC, r.NTU = 0, 0
	rxcsum := a.rd(e1000.RXCSUM) | e1000.RXCSUM_TUOFLD | e1000.RXCSUM_IPOFLD
	a.wr(e1000.RXCSUM, rxcsum)
	a.wr(e1000.RCTL, rctl|e1000.RCTL_EN)
}

// allocRxBuffers is e1000_alloc_rx_buffers: give up to n driver-owned slots
// back to the device, each with its own buffer, and move the tail. Buffers
// are never allocated here: each slot keeps its buffer.
//
// A slot the driver owns has a cleared write-back; finding DD in one means
// the device wrote a descriptor it did not own. That is counted, and the
// slot is cleared and posted like any other.
func (a *Adapter) allocRxBuffers(n int) {
	r := &a.rx
	if r.Count() == 0 || n <= 0 {
		return
	}
	i := r.NTU
	for ; n > 0; n-- {
		d := e1000.RxDesc(r.Desc(i))
		if d.Status()&e1000.RXD_STAT_DD != 0 {
			a.ctr.RxUnpostedWriteback++
		}
		b := &r.buf[i]
		d.SetAddr(uint64(r.BufAddr(i)))
		d.WriteBack(0, 0, 0, 0, 0)
		b.posted = true
		i = r.Next(i)
	}
	if i != r.NTU {
		r.NTU = i
		// The descriptors reach memory before the device may fetch
		// them (wmb() before the tail write, as Linux has it).
		dma.Wmb()
		a.wr(e1000.RDT, uint32(i))
	}
}

// cleanRxIRQ is e1000_clean_rx_irq: take the frames the device wrote back,
// up to budget descriptors, copy each into an skb from the pool and hand it
// to GRO; every buffer goes straight back to the ring. It returns the number
// of descriptors done.
func (a *Adapter) cleanRxIRQ(budget int) int {
	r := &a.rx
	if r.Count() == 0 {
		return 0
	}
	k := a.k
	nd := a.netdev
	cost := k.Cost.RxDescriptor
	work, cleaned := 0, 0
	var totalBytes, totalPackets uint64
	i := r.NTC
	for work < budget {
		d := e1000.RxDesc(r.Desc(i))
		// The dword of status, errors and special is what the device
		// writes last: read it with acquire ordering (dma_rmb() after
		// the DD test in Linux), and the rest of the write-back only
		// after it.
		sw := dma.LoadAcquire32(d[e1000.RxDescStatus:])
		status := uint8(sw)
		if status&e1000.RXD_STAT_DD == 0 {
			break
		}
		b := &r.buf[i]
		if !b.posted {
			// DD on a slot the driver did not post (only possible
			// with nothing posted: next_to_clean == next_to_use).
			a.ctr.RxUnpostedWriteback++
			d.WriteBack(0, 0, 0, 0, 0)
			break
		}
		work++
		k.Charge(cost)
		errs := uint8(sw >> 8)
		length := int(d.Length())
		csum := d.Checksum()
		eop := status&e1000.RXD_STAT_EOP != 0
		if skb := a.rxDescriptor(r.Buf(i), length, status, errs, eop); skb != nil {
			a.rxChecksum(status, errs, csum, skb)
			if status&e1000.RXD_STAT_VP != 0 {
				// e1000_receive_skb: the tag the MAC stripped
				// (CTRL.VME), its VLAN ID only, as Linux's
				// E1000_RXD_SPC_VLAN_MASK keeps it.
				skb.VLANTCI = uint16(sw>>16) & rxdSpcVLANMask
			}
			totalBytes += uint64(len(skb.Data))
			totalPackets++
			k.TracePoint("e1000_clean_rx_irq", skb.ID, int64(len(skb.Data)))
			k.EthTypeTrans(skb, nd)
			a.napi.NAPIGROReceive(skb)
		}
		// The buffer is the driver's again.
		d.WriteBack(0, 0, 0, 0, 0)
		b.posted = false
		i = r.Next(i)
		r.NTC = i
		cleaned++
		if cleaned >= RxBufferWrite {
			a.allocRxBuffers(cleaned)
			cleaned = 0
		}
	}
	if n := r.Unused(); n > 0 {
		a.allocRxBuffers(n)
	}
	a.totalRxBytes += totalBytes
	a.totalRxPackets += totalPackets
	// The driver counts rx_packets and rx_bytes, as e1000_clean_rx_irq does.
	nd.Stats.RxBytes += totalBytes
	nd.Stats.RxPackets += totalPackets
	return work
}

// rxDescriptor handles one written-back descriptor whose buffer is data:
// an impossible status drops its frame (RxBadStatus); otherwise the shared
// frame assembly (kernelmodel/rxframe) checks the length, copies the bytes
// and returns the finished frame at its EOP, or nil. Frames span buffers
// only with long frames on (RCTL.LPE, MTU above 1500). It never reads past
// data and never keeps it.
func (a *Adapter) rxDescriptor(data []byte, length int, status, errs uint8, eop bool) *kernelmodel.SKB {
	r := &a.rx
	if status&rxdStatReserved != 0 || errs&rxdErrReserved != 0 ||
		(errs&e1000.RXD_ERR_TCPE != 0 && status&e1000.RXD_STAT_TCPCS == 0) ||
		(errs&e1000.RXD_ERR_IPE != 0 && status&e1000.RXD_STAT_IPCS == 0) {
		a.ctr.RxBadStatus++
		r.frame.Drop(a.k, a.netdev, eop)
		return nil
	}
	return r.frame.Add(a.k, a.netdev, &a.ctr.Counters, rxframe.Frame{
		Data: data, Length: length, EOP: eop, FrameErr: errs&rxdErrFrameMask != 0,
		MaxLen: a.maxFrameSize, Multi: a.netdev.MTU > ethDataLen,
	})
}

// rxChecksum is e1000_rx_checksum: trust the device's TCP/UDP checksum when
// it says it checked it and found no error (CHECKSUM_UNNECESSARY); with a
// TCP/UDP checksum error, let the stack check it again. The IPv4 header
// checksum (IPCS/IPE) is not looked at: ip_rcv always verifies it.
func (a *Adapter) rxChecksum(status, errs uint8, csum uint16, skb *kernelmodel.SKB) {
	skb.IPSummed = kernelmodel.CHECKSUM_NONE
	if status&e1000.RXD_STAT_IXSM != 0 {
		return
	}
	if errs&e1000.RXD_ERR_TCPE != 0 {
		a.hwCsumErr++
		return
	}
	if status&e1000.RXD_STAT_TCPCS == 0 {
		return
	}
	skb.IPSummed = kernelmodel.CHECKSUM_UNNECESSARY
	a.hwCsumGood++
}
