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
// A frame that finds too few free descriptors (RDH to RDT) is dropped and
// counted in RNBC and MPC (and the queue's RQDPC with SRRCTL.DROP_EN); the
// receive packet buffer is not modelled yet. A queue that is disabled
// (RXDCTL.ENABLE clear), a ring that is not a multiple of 128 bytes or
// larger than the datasheet allows, head or tail outside the ring, legacy
// descriptors (not modelled), no bus mastering, or a DMA fault each drop the
// frame and count it; one frame never touches more descriptors than it
// needs, and never more than the ring holds.

// maxRxFrame is the longest frame the model takes from the wire (a 16 KiB
// jumbo frame plus CRC, the 82576's limit).
const maxRxFrame = 16 << 10

// Receive implements wire.Endpoint.
func (d *Device) Receive(frame []byte) {
	d.enter()
	defer d.exit()
	d.receive(frame)
}

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
	d.statInc(igb.TPR)
	d.stat64(igb.TORL, len(frame)+4)
	if !d.rxFilter(frame, rctl) {
		d.ctr.RxFiltered++
		return
	}
	f, err := header.Parse(frame)
	if err != nil {
		f = header.Frame{EtherType: f.EtherType, L3: f.L3, End: len(frame)}
	}
	q, hash, typ := 0, uint32(0), uint8(igb.RSSTypeNone)
	if mrqc := d.regs[igb.MRQC/4]; igb.RSSEnabled(mrqc) {
		if d.rssDirty {
			key := igb.RSSKey((*[igb.NumRSSRK]uint32)(d.regs[igb.RSSRK/4:]))
			d.rss.SetKey(key[:])
			d.rssDirty = false
		}
		hash, typ = igb.RSSHash(&d.rss, mrqc, frame, &f)
		q = igb.RSSQueue((*[igb.NumRETA]uint32)(d.regs[igb.RETA/4:]), hash)
	}
	d.rxStore(q, frame, &f, hash, typ)
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

// rxRing is a queue's ring as the registers describe it, checked.
type rxRing struct {
	base       dma.Addr
	n, rdh, rt uint32
}

// rxStore writes a frame into queue q's ring.
func (d *Device) rxStore(q int, frame []byte, f *header.Frame, hash uint32, typ uint8) {
	drop := func(ctr *uint64) {
		*ctr++
		d.statInc(igb.MPC)
	}
	if d.regs[igb.RXDCTL(q)/4]&igb.XDCTL_ENABLE == 0 {
		d.statInc(igb.RQDPC(q))
		d.ctr.RxQueueDisabled++
		return
	}
	srrctl := d.regs[igb.SRRCTL(q)/4]
	if srrctl&igb.SRRCTL_DESCTYPE_MASK == igb.SRRCTL_DESCTYPE_LEGACY {
		drop(&d.ctr.RxLegacyDesc)
		return
	}
	rdlen := d.regs[igb.RDLEN(q)/4]
	if rdlen == 0 || rdlen%igb.RingAlign != 0 || rdlen > igb.MaxRingLen {
		drop(&d.ctr.RxBadRing)
		return
	}
	n := rdlen / igb.DescSize
	rdh, rdt := d.regs[igb.RDH(q)/4], d.regs[igb.RDT(q)/4]
	if rdh >= n || rdt >= n {
		drop(&d.ctr.RxBadIndex)
		return
	}
	if !d.busMaster {
		drop(&d.ctr.RxNoBusMaster)
		return
	}
	bufSize := igb.SRRCTLPacketBuffer(srrctl)
	if bufSize == 0 {
		bufSize = 2048 >> (d.regs[igb.RCTL/4] & igb.RCTL_BSIZE_MASK >> igb.RCTL_BSIZE_SHIFT)
	}

	// The bytes that go to memory: the tag stripped with CTRL.VME, the CRC
	// appended without RCTL.SECRC.
	out := frame
	var status uint32
	var vlan uint16
	if f.VLAN && d.regs[igb.CTRL/4]&igb.CTRL_VME != 0 {
		vlan = f.TCI
		status |= igb.RXD_STAT_VP
		out = append(append(d.rxBuf[:0], frame[:12]...), frame[16:]...)
	}
	if d.regs[igb.RCTL/4]&igb.RCTL_SECRC == 0 {
		if len(out) == len(frame) {
			out = append(d.rxBuf[:0], frame...)
		}
		out = binary.LittleEndian.AppendUint32(out, crc32.ChecksumIEEE(out))
	}
	need := uint32((len(out) + bufSize - 1) / bufSize)
	if free := (rdt + n - rdh) % n; free < need {
		d.statInc(igb.RNBC)
		if srrctl&igb.SRRCTL_DROP_EN != 0 {
			d.statInc(igb.RQDPC(q))
		}
		drop(&d.ctr.RxNoDesc)
		return
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
		if cs.Proto == header.ProtocolUDP {
			status |= igb.RXD_STAT_UDPCS
		} else {
			status |= igb.RXD_STAT_L4I
		}
		if cs.L4Bad {
			status |= igb.RXD_ERR_L4E
		}
	}
	info := igb.RxInfo(typ, packetType(frame, f), 0, false)
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
			return
		}
		chunk := out[off:min(off+bufSize, len(out))]
		if !d.mem.Write(dma.Addr(igb.RxRead(desc).PktAddr()), chunk) {
			d.rxFault(q, rdh)
			return
		}
		off += len(chunk)
		st := status | igb.RXD_STAT_DD
		if off == len(out) {
			st |= igb.RXD_STAT_EOP
		}
		igb.RxWB(desc).WriteBack(info, dword1, st, uint16(len(chunk)), vlan)
		if !d.mem.Write(at, desc) {
			d.rxFault(q, rdh)
			return
		}
		rdh = (rdh + 1) % n
	}
	d.regs[igb.RDH(q)/4] = rdh

	d.ctr.RxFrames++
	d.statInc(igb.GPRC)
	d.stat64(igb.GORCL, len(frame)+4)
	d.statInc(igb.PQGPRC(q))
	d.statAdd(igb.PQGORC(q), len(out))
	switch {
	case frame[0]&1 == 0:
	case binary.LittleEndian.Uint32(frame) == 0xFFFFFFFF && binary.LittleEndian.Uint16(frame[4:]) == 0xFFFF:
		d.statInc(igb.BPRC)
	default:
		d.statInc(igb.MPRC)
		d.statInc(igb.PQMPRC(q))
	}
	d.statInc(sizeBin(igb.PRC64, len(frame)+4))
	d.intr.queueEvent(q, false)
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
func packetType(frame []byte, f *header.Frame) uint16 {
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
	if f.L3Len > header.IPv4MinSize {
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
