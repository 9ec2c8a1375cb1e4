package model

import (
	"encoding/binary"
	"hash/crc32"

	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/hw/offload"
	"github.com/nicbed/nicbed/hw/rxfilter"
	"github.com/nicbed/nicbed/igb"
	"github.com/nicbed/nicbed/stack/header"
)

// Receive (datasheet 7.1): a frame from the wire passes the destination
// filter, picks a queue (RSS when MRQC enables it: RETA[hash & 127], else
// queue 0), and is written into that queue's ring of advanced one-buffer
// descriptors (SRRCTL.DESCTYPE 001; the header-split types are taken as
// one-buffer, header length 0), spanning as many buffers of
// SRRCTL.BSIZEPACKET (RCTL.BSIZE when 0) as it needs. The last descriptor
// has EOP; each is written back with the RSS type and hash (dword 1 is the
// hash with RXCSUM.PCSD, the IP identification otherwise), the packet type,
// DD, VP with the stripped tag (CTRL.VME), the checksum status (IPCS, L4I
// for TCP, UDPCS for UDP) and errors (IPE, L4E), and the length. Then RDH
// moves on and the queue's receive cause goes to the vector its IVAR byte
// names.
//
// The receive packet buffer (7.1.1: RXPBS, 64 KB after reset) holds
// accepted frames that find too few free descriptors in their queue: such
// a frame counts in RNBC and waits; frames behind it wait too, whatever
// their queue (the buffer is one FIFO), and are stored in order as soon as
// descriptors are posted (an RDT write; RXDCTL, SRRCTL, RCTL.EN and bus
// mastering also retry). A queue with SRRCTL.DROP_EN drops such a frame
// instead (RNBC and the queue's RQDPC) — which is why Linux sets DROP_EN
// with more than one queue: one full ring must not stall the others. A
// frame that finds the buffer full is lost: MPC counts it and RXO is
// raised. Each frame takes its length with FCS in the buffer; clearing
// RCTL.EN or a reset empties it.
//
// A queue that is disabled (RXDCTL.ENABLE clear, RQDPC), a ring that is not
// a multiple of 128 bytes or larger than the datasheet allows, head or tail
// outside the ring, a frame needing more descriptors than the ring has,
// legacy descriptors (not modelled), no bus mastering, or a DMA fault each
// drop the frame and count it (MPC); one frame never touches more
// descriptors than it needs, and never more than the ring holds.

// maxRxFrame is the longest frame the model takes from the wire (a 16 KiB
// jumbo frame plus CRC, the 82576's limit).
const maxRxFrame = 16 << 10

// minRxFrame is the shortest frame on a wire, without FCS.
const minRxFrame = 60

// rxBufferMax is the receive packet buffer's largest size (RXPBS bits 6:0
// in KB).
const rxBufferMax = 127 << 10

// rxMeta is what the device decided for a frame waiting in the packet
// buffer: its queue and RSS result.
type rxMeta struct {
	q    int
	hash uint32
	typ  uint8
}

// rxResult is what became of a frame offered to a queue.
type rxResult uint8

const (
	rxStored  rxResult = iota // written to descriptors
	rxDropped                 // lost (counted by rxStore)
	rxNoDesc                  // too few free descriptors: it may wait
)

// Receive implements wire.Endpoint.
func (d *Device) Receive(frame []byte) {
	d.enter()
	defer d.exit()
	if d.qemu {
		d.qemuReceive(frame)
		return
	}
	d.receive(frame)
}

// receive is the MAC's receive path for one frame (QEMU's
// igb_receive_internal in the QEMU profile).
func (d *Device) receive(frame []byte) {
	rctl := d.regs[igb.RCTL/4]
	if rctl&igb.RCTL_EN == 0 || !d.linkUp {
		d.ctr.RxDropped++
		return
	}
	if len(frame) < header.EthernetMinSize || len(frame) > maxRxFrame-4 {
		d.statInc(igb.RLEC)
		d.ctr.RxDropped++
		return
	}
	if d.qemu && len(frame) < minRxFrame {
		// QEMU pads a short frame and counts it undersized.
		n := copy(d.rxPad[:], frame)
		clear(d.rxPad[n:])
		frame = d.rxPad[:]
		d.statInc(igb.RUC)
		d.ctr.RxPadded++
	}
	if !d.qemu { // QEMU counts TPR/TOR only for frames it stores
		d.statInc(igb.TPR)
		d.stat64(igb.TORL, len(frame)+4)
	}
	if !d.rxFilter(frame, rctl) {
		d.ctr.RxFiltered++
		return
	}
	f := parseFrame(frame)
	q, hash, typ := 0, uint32(0), uint8(igb.RSSTypeNone)
	mrqc := d.regs[igb.MRQC/4]
	on := igb.RSSEnabled(mrqc)
	if d.qemu {
		// igb_rss_enabled: RSS mode and RXCSUM.PCSD (the write-back has
		// room for the hash only then); without PCSD every frame goes
		// to queue 0.
		on = mrqc&3 == igb.MRQC_ENABLE_RSS && d.regs[igb.RXCSUM/4]&igb.RXCSUM_PCSD != 0
	}
	if on {
		if d.rssDirty {
			key := igb.RSSKey((*[igb.NumRSSRK]uint32)(d.regs[igb.RSSRK/4:]))
			d.rss.SetKey(key[:])
			d.rssDirty = false
		}
		hash, typ = igb.RSSHash(&d.rss, mrqc, frame, &f)
		q = igb.RSSQueue((*[igb.NumRETA]uint32)(d.regs[igb.RETA/4:]), hash)
	}
	if d.qemu {
		d.rxStore(q, frame, &f, hash, typ)
		return
	}
	d.rxAccept(q, frame, &f, hash, typ)
}

// parseFrame parses what the receive path needs; a frame it cannot parse
// keeps its EtherType and length.
func parseFrame(frame []byte) header.Frame {
	f, err := header.Parse(frame)
	if err != nil {
		f = header.Frame{EtherType: f.EtherType, L3: f.L3, End: len(frame)}
	}
	return f
}

// rxAccept stores a frame for queue q, or keeps it in the packet buffer
// behind the frames already waiting there.
func (d *Device) rxAccept(q int, frame []byte, f *header.Frame, hash uint32, typ uint8) {
	if d.rxFIFO.Empty() {
		if d.rxStore(q, frame, f, hash, typ) != rxNoDesc {
			return
		}
		d.statInc(igb.RNBC)
		if d.regs[igb.SRRCTL(q)/4]&igb.SRRCTL_DROP_EN != 0 {
			d.statInc(igb.RQDPC(q))
			d.ctr.RxNoDesc++
			return
		}
	}
	if wire := len(frame) + 4; d.rxFIFO.Fits(len(frame), wire, d.rxBufferCap()) {
		d.rxFIFO.Push(frame, wire, rxMeta{q: q, hash: hash, typ: typ})
		d.ctr.RxFIFOQueued++
		d.ctr.RxFIFOMax = max(d.ctr.RxFIFOMax, uint64(d.rxFIFO.Cost()))
		return
	}
	d.ctr.RxFIFOOverflow++
	d.statInc(igb.MPC)
	d.intr.raise(igb.ICR_RXO)
}

// rxBufferCap is the receive packet buffer's size in bytes: RXPBS KB.
func (d *Device) rxBufferCap() int {
	return int(d.regs[igb.RXPBS/4]&0x7F) << 10
}

// rxDrain stores the frames waiting in the packet buffer, oldest first,
// while their queues have descriptors; a queue that has none stops the
// buffer, unless its SRRCTL.DROP_EN (set since) drops the frame.
func (d *Device) rxDrain() {
	for !d.rxFIFO.Empty() && d.regs[igb.RCTL/4]&igb.RCTL_EN != 0 {
		frame, m := d.rxFIFO.Peek(d.rxOut)
		f := parseFrame(frame)
		if d.rxStore(m.q, frame, &f, m.hash, m.typ) == rxNoDesc {
			if d.regs[igb.SRRCTL(m.q)/4]&igb.SRRCTL_DROP_EN == 0 {
				return
			}
			d.statInc(igb.RQDPC(m.q))
			d.ctr.RxNoDesc++
		} else {
			d.ctr.RxFIFODrained++
		}
		d.rxFIFO.Pop()
	}
}

// rxPosted runs after an RDT write: the packet buffer drains (datasheet),
// or QEMU's held frames are delivered (igb_set_rdt → igb_start_recv).
func (d *Device) rxPosted() {
	if d.qemu {
		d.qemuFlush()
		return
	}
	d.rxDrain()
}

// rctlWritten: clearing RCTL.EN empties the packet buffer, setting it
// drains it; QEMU's igb_set_rx_control delivers held frames when EN is
// set.
func (d *Device) rctlWritten(v uint32) {
	switch {
	case d.qemu:
		if v&igb.RCTL_EN != 0 {
			d.qemuFlush()
		}
	case v&igb.RCTL_EN == 0:
		d.ctr.RxFIFOFlushed += uint64(d.rxFIFO.Clear())
	default:
		d.rxDrain()
	}
}

// rxFilter is the destination address filter: an exact match of a valid
// receive address (RAL/RAH 0–23), broadcast with BAM, unicast with UPE,
// multicast with MPE or a hit in the multicast table array (MTA, 12 bits of
// the address picked by RCTL.MO).
func (d *Device) rxFilter(frame []byte, rctl uint32) bool {
	lo, hi := binary.LittleEndian.Uint32(frame), uint32(binary.LittleEndian.Uint16(frame[4:]))
	for i := range igb.NumRA {
		rah := d.regs[igb.RAH(i)/4]
		if rah&igb.RAH_AV != 0 && rah&igb.RAH_AS_MASK == 0 && d.regs[igb.RAL(i)/4] == lo && rah&igb.RAH_ADDR_MASK == hi {
			return true
		}
	}
	if frame[0]&1 == 0 {
		return rctl&igb.RCTL_UPE != 0
	}
	if lo == 0xFFFFFFFF && hi == 0xFFFF && rctl&igb.RCTL_BAM != 0 {
		return true
	}
	if rctl&igb.RCTL_MPE != 0 {
		return true
	}
	h := rxfilter.MTAIndex(frame, rctl&igb.RCTL_MO_MASK>>igb.RCTL_MO_SHIFT)
	return d.regs[igb.MTA/4+h>>5]&(1<<(h&31)) != 0
}

// rxStore writes a frame into queue q's ring. It reports rxNoDesc,
// changing nothing, when the ring has too few free descriptors for it now
// but could hold it; QEMU (igb_has_rxbufs failing) loses such a frame with
// RXO and counts nothing.
func (d *Device) rxStore(q int, frame []byte, f *header.Frame, hash uint32, typ uint8) rxResult {
	drop := func(ctr *uint64) rxResult {
		*ctr++
		d.statInc(igb.MPC)
		return rxDropped
	}
	if d.regs[igb.RXDCTL(q)/4]&igb.XDCTL_ENABLE == 0 {
		if !d.qemu { // QEMU skips the queue silently
			d.statInc(igb.RQDPC(q))
		}
		d.ctr.RxQueueDisabled++
		return rxDropped
	}
	srrctl := d.regs[igb.SRRCTL(q)/4]
	if !d.qemu && srrctl&igb.SRRCTL_DESCTYPE_MASK == igb.SRRCTL_DESCTYPE_LEGACY {
		return drop(&d.ctr.RxLegacyDesc)
	}
	rdlen := d.regs[igb.RDLEN(q)/4]
	if rdlen == 0 || rdlen%igb.RingAlign != 0 || rdlen > igb.MaxRingLen {
		return drop(&d.ctr.RxBadRing)
	}
	n := rdlen / igb.DescSize
	rdh, rdt := d.regs[igb.RDH(q)/4], d.regs[igb.RDT(q)/4]
	if rdh >= n || rdt >= n {
		return drop(&d.ctr.RxBadIndex)
	}
	if !d.busMaster {
		return drop(&d.ctr.RxNoBusMaster)
	}
	bufSize := igb.SRRCTLPacketBuffer(srrctl)
	if bufSize == 0 {
		bufSize = 2048 >> (d.regs[igb.RCTL/4] & igb.RCTL_BSIZE_MASK >> igb.RCTL_BSIZE_SHIFT)
	}

	// The bytes that go to memory: the tag stripped with CTRL.VME, the CRC
	// appended without RCTL.SECRC (QEMU appends four zero bytes).
	out := frame
	var status uint32
	var vlan uint16
	if f.VLAN && d.regs[igb.CTRL/4]&igb.CTRL_VME != 0 {
		vlan = f.TCI
		status |= igb.RXD_STAT_VP
		out = append(append(d.rxBuf[:0], frame[:12]...), frame[16:]...)
	}
	secrc := d.regs[igb.RCTL/4]&igb.RCTL_SECRC != 0
	if !secrc {
		if len(out) == len(frame) {
			out = append(d.rxBuf[:0], frame...)
		}
		fcs := crc32.ChecksumIEEE(out)
		if d.qemu {
			fcs = 0
		}
		out = binary.LittleEndian.AppendUint32(out, fcs)
	}
	need := uint32((len(out) + bufSize - 1) / bufSize)
	free := (rdt + n - rdh) % n
	if free < need {
		switch {
		case d.qemu:
			d.ctr.RxOverrun++
			d.intr.raise(igb.ICR_RXO)
			return rxDropped
		case need >= n:
			// More than the ring can ever offer (one slot stays
			// empty): waiting would block the packet buffer for good.
			d.ctr.RxTooManyDescs++
			return drop(&d.ctr.RxNoDesc)
		}
		return rxNoDesc
	}

	// Status and write-back fields common to every descriptor of the frame.
	rxcsum := d.regs[igb.RXCSUM/4]
	cs := offload.VerifyRx(frame, f, rxcsum&igb.RXCSUM_IPOFLD != 0, rxcsum&igb.RXCSUM_TUOFLD != 0)
	if cs.IPChecked {
		status |= igb.RXD_STAT_IPCS
		if cs.IPBad {
			status |= igb.RXD_ERR_IPE
		}
	}
	if cs.L4Checked {
		switch {
		case cs.Proto != header.ProtocolUDP:
			status |= igb.RXD_STAT_L4I
		case d.qemu:
			status |= igb.RXD_STAT_L4I | igb.RXD_STAT_UDPCS // TCPCS and UDPCS
		default:
			status |= igb.RXD_STAT_UDPCS
		}
		if cs.L4Bad {
			status |= igb.RXD_ERR_L4E
		}
	}
	info := igb.RxInfo(typ, packetType(frame, f, d.qemu), 0, false)
	dword1 := hash
	if rxcsum&igb.RXCSUM_PCSD == 0 {
		dword1 = 0
		if f.L3Len != 0 {
			dword1 = uint32(header.IPv4(frame[f.L3:]).ID())
		}
	}

	base := dma.Addr(uint64(d.regs[igb.RDBAH(q)/4])<<32 | uint64(d.regs[igb.RDBAL(q)/4]&^0x7F))
	desc := d.rxDesc[:] // not a local: it would escape through dma.Memory
	for off := 0; off < len(out); {
		at := base + dma.Addr(igb.DescSize*rdh)
		if !d.mem.Read(at, desc) {
			d.rxFault(q, rdh)
			return rxDropped
		}
		chunk := out[off:min(off+bufSize, len(out))]
		if !d.mem.Write(dma.Addr(igb.RxRead(desc).PktAddr()), chunk) {
			d.rxFault(q, rdh)
			return rxDropped
		}
		off += len(chunk)
		st := status | igb.RXD_STAT_DD
		switch {
		case off == len(out):
			st |= igb.RXD_STAT_EOP
			igb.RxWB(desc).WriteBack(info, dword1, st, uint16(len(chunk)), vlan)
		case d.qemu:
			// igb_build_rx_metadata: a descriptor before the last
			// gets DD and nothing else.
			igb.RxWB(desc).WriteBack(0, 0, igb.RXD_STAT_DD, uint16(len(chunk)), 0)
		default:
			igb.RxWB(desc).WriteBack(info, dword1, st, uint16(len(chunk)), vlan)
		}
		if !d.mem.Write(at, desc) {
			d.rxFault(q, rdh)
			return rxDropped
		}
		rdh = (rdh + 1) % n
	}
	d.regs[igb.RDH(q)/4] = rdh

	d.ctr.RxFrames++
	octets, bin := len(frame)+4, len(frame)+4
	if d.qemu {
		// e1000x_update_rx_total_stats: TPR and TOR only here, the
		// octets of the frame as stored (tag stripped) plus 4, the size
		// bins by the bytes stored (the FCS only without SECRC).
		octets, bin = len(out)+4, len(out)
		if !secrc {
			octets -= 4
		}
		d.statInc(igb.TPR)
		d.stat64(igb.TORL, octets)
	}
	d.statInc(igb.GPRC)
	d.stat64(igb.GORCL, octets)
	if !d.qemu {
		d.statInc(igb.PQGPRC(q))
		d.statAdd(igb.PQGORC(q), len(out))
	}
	switch {
	case frame[0]&1 == 0:
	case binary.LittleEndian.Uint32(frame) == 0xFFFFFFFF && binary.LittleEndian.Uint16(frame[4:]) == 0xFFFF:
		d.statInc(igb.BPRC)
	default:
		d.statInc(igb.MPRC)
		if !d.qemu {
			d.statInc(igb.PQMPRC(q))
		}
	}
	d.statInc(sizeBin(igb.PRC64, bin))
	if d.qemu {
		// igb_rx_descr_threshold_hit: RXDMT0 when the free descriptors
		// left equal SRRCTL.RDMTS × 16 exactly.
		if free-need == (srrctl&igb.SRRCTL_RDMTS_MASK>>igb.SRRCTL_RDMTS_SHIFT)*16 {
			d.intr.raise(igb.ICR_RXDMT0)
		}
	}
	d.intr.queueEvent(q, false)
	return rxStored
}

// rxFault ends a frame the DMA could not move: the descriptors used so far
// stay used (RDH at rdh), nothing is reported for the frame.
func (d *Device) rxFault(q int, rdh uint32) {
	d.ctr.DMAFaults++
	d.regs[igb.RDH(q)/4] = rdh
	d.statInc(igb.MPC)
}

// packetType is the write-back's packet type for a parsed frame (IPv6:
// the fixed header's next header only).
func packetType(frame []byte, f *header.Frame, qemu bool) uint16 {
	if f.EtherType == header.EtherTypeIPv6 {
		ip, err := header.ParseIPv6(frame[f.L3:])
		if err != nil {
			return 0
		}
		switch ip.NextHeader() {
		case header.ProtocolTCP:
			return igb.PKTTYPE_IPV6 | igb.PKTTYPE_TCP
		case header.ProtocolUDP:
			return igb.PKTTYPE_IPV6 | igb.PKTTYPE_UDP
		}
		return igb.PKTTYPE_IPV6
	}
	if f.EtherType != header.EtherTypeIPv4 || f.L3Len == 0 {
		return 0
	}
	t := uint16(igb.PKTTYPE_IPV4)
	if f.L3Len > header.IPv4MinSize && !qemu { // QEMU never reports IPV4E
		t = igb.PKTTYPE_IPV4E
	}
	switch {
	case f.L4 == 0:
	case f.Protocol == header.ProtocolTCP:
		t |= igb.PKTTYPE_TCP
	case f.Protocol == header.ProtocolUDP:
		t |= igb.PKTTYPE_UDP
	}
	return t
}

// sizeBin is the packet-size statistics register (PRC64 … PRC1522, or the
// PTC ones from PTC64) for a frame of n bytes with CRC.
func sizeBin(first uint32, n int) uint32 {
	bins := [...]int{64, 127, 255, 511, 1023}
	for i, b := range bins {
		if n <= b {
			return first + 4*uint32(i)
		}
	}
	return first + 4*uint32(len(bins))
}

// statAdd adds n to a 32-bit statistics register, saturating.
func (d *Device) statAdd(off uint32, n int) {
	v := uint64(d.regs[off/4]) + uint64(n)
	d.regs[off/4] = uint32(min(v, 0xFFFFFFFF))
}

// stat64 adds n to a 64-bit statistics counter held in a low and a high
// register, saturating.
func (d *Device) stat64(lo uint32, n int) {
	v := uint64(d.regs[lo/4]) | uint64(d.regs[lo/4+1])<<32
	if s := v + uint64(n); s >= v {
		v = s
	} else {
		v = ^uint64(0)
	}
	d.regs[lo/4], d.regs[lo/4+1] = uint32(v), uint32(v>>32)
}
