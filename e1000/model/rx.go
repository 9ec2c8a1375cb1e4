package model

import (
	"encoding/binary"
	"github.com/nicbed/nicbed/hw/rxfilter"
	"hash/crc32"

	"github.com/nicbed/nicbed/e1000"
	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/hw/fifo"
	"github.com/nicbed/nicbed/stack/checksum"
	"github.com/nicbed/nicbed/stack/header"
)

// Receive path (datasheet 3.2 receive descriptors, 4 (filtering) and 13.4.22).
//
// A frame from the wire is checked for size, passed through the destination
// address filter (unicast promiscuous, multicast promiscuous, broadcast
// accept, the 16 exact receive addresses with AV, the multicast table array
// hashed per RCTL.MO) and the VLAN filter, and stored into as many legacy
// receive descriptors' buffers (RCTL.BSIZE/BSEX each) as it needs, followed
// by its FCS unless RCTL.SECRC strips it. Each descriptor is written back with
// its length, the packet checksum (from RXCSUM.PCSS), DD, EOP on the last,
// the IP/TCP/UDP checksum results (IPCS/TCPCS, or IXSM) and their errors, and
// the VLAN tag (VP) if CTRL.VME stripped one.
//
// The receive FIFO (the PBA.RXA share of the 64 KB packet buffer, 48 KB
// after reset) holds accepted frames that find too few free descriptors: a
// frame kept there is counted in RNBC (no buffers available) and is stored,
// in order, as soon as the driver posts descriptors (an RDT write). Only a
// frame that finds the FIFO full is lost: MPC counts it and RXO is raised.
// Each frame occupies its length with FCS in the FIFO. A frame that needs
// more descriptors than the ring has is dropped the same way (MPC, RXO),
// since it could never be stored; clearing RCTL.EN or a reset empties the
// FIFO.

const (
	ethHdrLen   = 14
	minFrame    = 60    // without FCS
	maxStdFrame = 1518  // with FCS, untagged
	maxLongRx   = 16384 // with FCS, RCTL.LPE
	maxRxFrame  = maxLongRx
	fcsLen      = 4
	vlanTagLen  = 4
)

type rxState struct {
	scratch []byte // a frame being reassembled (VLAN tag stripped)
	out     []byte // a frame taken out of fifo or held
	pad     [minFrame]byte
	fifo    fifo.Frames[queued]   // the receive FIFO (datasheet profile)
	held    fifo.Frames[struct{}] // frames QEMU's net layer holds back (QEMU profile)
}

// queued is what the receive filter decided for a frame kept in the FIFO.
type queued struct {
	tagged  bool
	tci     uint16
	pif     bool
	wireLen int
}

// Receive FIFO bounds: 64 KB of packet buffer, frames of at least 64 bytes.
const (
	rxFIFOMax     = e1000.PacketBufferKB << 10
	rxFIFOEntries = rxFIFOMax / (minFrame + fcsLen)
)

// rxFIFOCap is the receive FIFO's size in bytes: PBA.RXA KB.
func (d *Device) rxFIFOCap() int {
	return min(int(d.regs[e1000.PBA/4]&e1000.PBA_RXA_MASK), e1000.PacketBufferKB) << 10
}

// rxResult is what became of a frame offered to the receive ring.
type rxResult uint8

const (
	rxStored  rxResult = iota // written to descriptors
	rxDropped                 // lost (counted by rxStore)
	rxNoDesc                  // too few free descriptors: it may wait
)

// Receive implements wire.Endpoint: one frame arrives from the wire.
func (d *Device) Receive(frame []byte) {
	d.enter()
	defer d.exit()
	d.ctr.RxArrived++
	if d.qemu {
		d.qemuReceive(frame)
		return
	}
	d.receive(frame)
}

// receive is the MAC's receive path for one frame: link, RCTL.EN, size,
// address and VLAN filters, then the ring (or the FIFO).
func (d *Device) receive(frame []byte) {
	if !d.linkUp {
		d.ctr.RxLinkDown++
		return
	}
	rctl := d.regs[e1000.RCTL/4]
	if rctl&e1000.RCTL_EN == 0 {
		d.ctr.RxDisabled++
		return
	}
	if len(frame) < ethHdrLen {
		d.ctr.RxRunt++
		d.st.inc(e1000.RUC)
		return
	}
	if len(frame) < minFrame {
		// The wire carries frames as sent; a real sender's MAC pads to 60.
		n := copy(d.rx.pad[:], frame)
		clear(d.rx.pad[n:])
		frame = d.rx.pad[:]
		d.ctr.RxPadded++
	}
	wireLen := len(frame) + fcsLen
	d.st.inc(e1000.TPR)
	d.st.add64(e1000.TORL, wireLen)

	tagged := binary.BigEndian.Uint16(frame[12:]) == uint16(d.regs[e1000.VET/4])
	maxLen := maxStdFrame
	if rctl&e1000.RCTL_LPE != 0 {
		maxLen = maxLongRx
	} else if tagged {
		maxLen += vlanTagLen
	}
	if wireLen > maxLen {
		d.ctr.RxOversize++
		d.st.inc(e1000.ROC)
		return
	}
	accepted, exact := d.rxFilter(frame, rctl)
	if !accepted {
		d.ctr.RxFiltered++
		return
	}
	var tci uint16
	if tagged {
		tci = binary.BigEndian.Uint16(frame[14:])
		if rctl&e1000.RCTL_VFE != 0 {
			vid := uint32(tci & 0xFFF)
			if d.regs[e1000.VFTA/4+vid/32]&(1<<(vid%32)) == 0 {
				d.ctr.RxVLANFiltered++
				return
			}
		}
	}
	d.rxAccept(frame, rctl, tagged, tci, !exact, wireLen)
}

// rxAccept stores an accepted frame, or keeps it in the FIFO behind the
// frames already waiting there, or loses it if the FIFO is full.
func (d *Device) rxAccept(frame []byte, rctl uint32, tagged bool, tci uint16, pif bool, wireLen int) {
	if d.qemu {
		// QEMU has no FIFO: a frame that finds too few descriptors
		// (e1000_has_rxbufs) is an overrun.
		if d.rxStore(frame, rctl, tagged, tci, pif, wireLen) == rxNoDesc {
			d.ctr.RxNoDescriptors++
			d.st.inc(e1000.RNBC)
			d.rxMissed()
			d.raise(e1000.ICR_RXO)
		}
		return
	}
	if d.rx.fifo.Empty() && d.rxStore(frame, rctl, tagged, tci, pif, wireLen) != rxNoDesc {
		return
	}
	if d.rx.fifo.Fits(len(frame), wireLen, d.rxFIFOCap()) {
		d.rx.fifo.Push(frame, wireLen, queued{tagged: tagged, tci: tci, pif: pif, wireLen: wireLen})
		d.st.inc(e1000.RNBC)
		d.ctr.RxFIFOQueued++
		d.ctr.RxFIFOMax = max(d.ctr.RxFIFOMax, uint64(d.rx.fifo.Cost()))
		return
	}
	d.ctr.RxFIFOOverflow++
	d.rxMissed()
	d.raise(e1000.ICR_RXO)
}

// rxDrain stores the frames waiting in the receive FIFO, oldest first,
// while descriptors last (after an RDT write, RCTL.EN or bus mastering).
func (d *Device) rxDrain() {
	rctl := d.regs[e1000.RCTL/4]
	for !d.rx.fifo.Empty() && rctl&e1000.RCTL_EN != 0 {
		f, e := d.rx.fifo.Peek(d.rx.out)
		if d.rxStore(f, rctl, e.tagged, e.tci, e.pif, e.wireLen) == rxNoDesc {
			return
		}
		d.rx.fifo.Pop()
		d.ctr.RxFIFODrained++
	}
}

// rxFilter is the destination address filter. exact reports a match of a
// receive address register (or broadcast) rather than a hash or promiscuous
// mode (the descriptor's PIF status).
func (d *Device) rxFilter(frame []byte, rctl uint32) (accepted, exact bool) {
	dst := uint64(binary.LittleEndian.Uint32(frame)) | uint64(binary.LittleEndian.Uint16(frame[4:]))<<32
	for i := range d.nra {
		if d.ra[i] == dst {
			return true, true
		}
	}
	if frame[0]&1 == 0 {
		return rctl&e1000.RCTL_UPE != 0, false
	}
	if dst == 0xFFFFFFFFFFFF && rctl&e1000.RCTL_BAM != 0 {
		return true, true
	}
	if rctl&e1000.RCTL_MPE != 0 {
		return true, false
	}
	// Multicast table: 12 bits of the address picked by RCTL.MO.
	h := rxfilter.MTAIndex(frame, (rctl&e1000.RCTL_MO_MASK)>>e1000.RCTL_MO_SHIFT)
	return d.regs[e1000.MTA/4+h>>5]&(1<<(h&31)) != 0, false
}

// rxMissed drops a frame for want of descriptors or DMA.
func (d *Device) rxMissed() {
	d.st.inc(e1000.MPC)
}

// rxStore writes an accepted frame into the receive ring. It reports
// rxNoDesc, changing nothing, when the free descriptors are too few for it.
func (d *Device) rxStore(frame []byte, rctl uint32, tagged bool, tci uint16, pif bool, wireLen int) rxResult {
	if !d.busMaster {
		d.ctr.RxNoBusMaster++
		d.rxMissed()
		return rxDropped
	}
	n := d.regs[e1000.RDLEN/4] / e1000.DescSize
	head, tail := d.regs[e1000.RDH/4], d.regs[e1000.RDT/4]
	if n == 0 || head >= n || tail >= n {
		d.ctr.RxBadRing++
		d.rxMissed()
		return rxDropped
	}
	bufSize := e1000.RXBufferSize(rctl)
	if bufSize == 0 {
		d.ctr.RxBadBufferSize++
		d.rxMissed()
		return rxDropped
	}

	// What goes into the buffers: the frame (its VLAN tag stripped if
	// CTRL.VME) and then, unless SECRC, its FCS.
	csumStatus, csumErrors := d.rxChecksum(frame, tagged)
	data := frame
	status := uint8(e1000.RXD_STAT_DD) | csumStatus
	var special uint16
	if tagged && d.regs[e1000.CTRL/4]&e1000.CTRL_VME != 0 {
		s := d.rx.scratch[:len(frame)-vlanTagLen]
		copy(s, frame[:12])
		copy(s[12:], frame[12+vlanTagLen:])
		data = s
		status |= e1000.RXD_STAT_VP
		special = tci
	}
	if pif {
		status |= e1000.RXD_STAT_PIF
	}
	var fcs [fcsLen]byte
	tailBytes := fcs[:0]
	if rctl&e1000.RCTL_SECRC == 0 {
		binary.LittleEndian.PutUint32(fcs[:], crc32.ChecksumIEEE(frame))
		tailBytes = fcs[:]
	}
	total := len(data) + len(tailBytes)
	need := uint32((total + bufSize - 1) / bufSize)

	free := (tail + n - head) % n // descriptors software gave the hardware
	if need > free {
		if need >= n && !d.qemu {
			// More than the ring can ever offer (one slot stays
			// empty): waiting would block the FIFO for good.
			d.ctr.RxTooManyDescs++
			d.rxMissed()
			d.raise(e1000.ICR_RXO)
			return rxDropped
		}
		return rxNoDesc
	}

	// The descriptors, as at most two views (the ring may wrap).
	base := dma.Addr(uint64(d.regs[e1000.RDBAH/4])<<32 | uint64(d.regs[e1000.RDBAL/4]))
	first := min(need, n-head)
	ring1, ok1 := d.mem.View(base+dma.Addr(head)*e1000.DescSize, int(first)*e1000.DescSize, true)
	var ring2 []byte
	ok2 := true
	if need > first {
		ring2, ok2 = d.mem.View(base, int(need-first)*e1000.DescSize, true)
	}
	if !ok1 || !ok2 {
		d.ctr.RxDescFaults++
		d.rxMissed()
		return rxDropped
	}

	pcss := int(d.regs[e1000.RXCSUM/4] & e1000.RXCSUM_PCSS_MASK)
	var pktSum uint16
	if pcss < len(data) {
		pktSum = checksum.Checksum(data[pcss:], 0)
	}

	off := 0
	for i := range need {
		var desc e1000.RxDesc
		if i < first {
			desc = e1000.RxDesc(ring1[i*e1000.DescSize : (i+1)*e1000.DescSize])
		} else {
			j := i - first
			desc = e1000.RxDesc(ring2[j*e1000.DescSize : (j+1)*e1000.DescSize])
		}
		chunk := min(bufSize, total-off)
		errs := uint8(0)
		if d.qemu {
			// QEMU writes the descriptor back as it read it but for
			// length, status and VLAN tag: the checksum and error
			// fields keep what was there.
			errs = desc.Errors()
		}
		if buf, ok := d.mem.View(dma.Addr(desc.Addr()), chunk, true); ok {
			c := 0
			if off < len(data) {
				c = copy(buf, data[off:])
			}
			if c < chunk {
				copy(buf[c:], tailBytes[off+c-len(data):])
			}
		} else {
			d.ctr.RxBufferFaults++
			errs |= e1000.RXD_ERR_RXE
		}
		off += chunk
		st := status
		switch {
		case d.qemu:
			// QEMU never checks a checksum: IXSM on the last
			// descriptor, no IPCS/TCPCS/PIF anywhere.
			st &= e1000.RXD_STAT_DD | e1000.RXD_STAT_VP
			if i == need-1 {
				st |= e1000.RXD_STAT_EOP | e1000.RXD_STAT_IXSM
			}
			pktSum = desc.Checksum()
		case i == need-1:
			st |= e1000.RXD_STAT_EOP
			errs |= csumErrors
		default:
			st &^= e1000.RXD_STAT_IXSM | e1000.RXD_STAT_IPCS | e1000.RXD_STAT_TCPCS
			st |= e1000.RXD_STAT_IXSM
		}
		desc.WriteBack(uint16(chunk), pktSum, st, errs, special)
	}
	d.ctr.RxDescriptors += uint64(need)
	d.ctr.RxMaxDescs = max(d.ctr.RxMaxDescs, uint64(need))
	d.ctr.RxFrames++
	head = (head + need) % n
	d.regs[e1000.RDH/4] = head

	// Statistics of a good frame.
	d.st.inc(e1000.GPRC)
	d.st.add64(e1000.GORCL, wireLen)
	d.st.inc(rxSizeStat(wireLen))
	d.st.countGroup(frame, e1000.BPRC, e1000.MPRC)

	// RXDMT0 when the free descriptors fall to the RDMTS fraction of the
	// ring (1/2, 1/4, 1/8; the reserved encoding as 1/16).
	thr := n >> (((rctl & e1000.RCTL_RDMTS_MASK) >> e1000.RCTL_RDMTS_SHIFT) + 1)
	if left := free - need; left <= thr && (free > thr || d.qemu) {
		d.raise(e1000.ICR_RXDMT0) // QEMU: for every frame stored below the threshold
	}
	if small := int(d.regs[e1000.RSRPD/4] & e1000.RSRPD_SIZE_MSK); small != 0 && total < small {
		d.raise(e1000.ICR_SRPD)
	}
	d.rxDone()
	return rxStored
}

// rxChecksum verifies the IPv4 header checksum (RXCSUM.IPOFLD) and the TCP or
// UDP checksum (RXCSUM.TUOFLD) of an unfragmented IPv4 packet, and returns the
// descriptor status bits (IPCS, TCPCS, or IXSM when nothing was checked) and
// error bits (IPE, TCPE).
func (d *Device) rxChecksum(frame []byte, tagged bool) (status, errs uint8) {
	rxcsum := d.regs[e1000.RXCSUM/4]
	if rxcsum&(e1000.RXCSUM_IPOFLD|e1000.RXCSUM_TUOFLD) == 0 {
		return e1000.RXD_STAT_IXSM, 0
	}
	l3 := ethHdrLen
	if tagged {
		l3 += vlanTagLen
	}
	if len(frame) < l3+header.IPv4MinSize || binary.BigEndian.Uint16(frame[l3-2:]) != header.EtherTypeIPv4 {
		return e1000.RXD_STAT_IXSM, 0
	}
	ip, err := header.ParseIPv4(frame[l3:])
	if err != nil {
		return e1000.RXD_STAT_IXSM, 0
	}
	ihl := ip.HeaderLength()
	if rxcsum&e1000.RXCSUM_IPOFLD != 0 {
		status |= e1000.RXD_STAT_IPCS
		if !ip.ChecksumValid() {
			errs |= e1000.RXD_ERR_IPE
		}
	}
	proto := ip.Protocol()
	if rxcsum&e1000.RXCSUM_TUOFLD != 0 && !ip.IsFragment() && (proto == header.ProtocolTCP || proto == header.ProtocolUDP) {
		l4 := ip[ihl:]
		minHdr := header.TCPMinSize
		if proto == header.ProtocolUDP {
			minHdr = header.UDPSize
		}
		if len(l4) >= minHdr {
			status |= e1000.RXD_STAT_TCPCS
			if !(proto == header.ProtocolUDP && header.UDP(l4).Checksum() == 0) { // UDP without checksum
				if checksum.Checksum(l4, ip.PseudoHeaderChecksum(uint16(len(l4)))) != 0xFFFF {
					errs |= e1000.RXD_ERR_TCPE
				}
			}
		}
	}
	if status == 0 {
		status = e1000.RXD_STAT_IXSM
	}
	return status, errs
}
