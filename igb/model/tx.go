package model

import (
	"encoding/binary"
	"time"

	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/hw/offload"
	"github.com/nicbed/nicbed/igb"
	"github.com/nicbed/nicbed/stack/header"
)

// Transmit (datasheet 7.2): a TDT write (or TXDCTL.ENABLE, TCTL.EN, the
// link coming up, bus mastering) makes the queue fetch its descriptors from
// TDH to TDT. Advanced context descriptors load one of the queue's two
// context slots (IDX): MACLEN, IPLEN, TUCMD (IPv4, L4 type), L4LEN, MSS,
// VLAN. Advanced data descriptors gather DTALEN bytes each into a packet,
// the first descriptor's DCMD (TSE, VLE) and POPTS (IXSM, TXSM) and context
// index deciding what is done at EOP: TSO through hw/offload's Segment, or
// IPv4 and TCP/UDP checksum insertion through offload.Insert, then the VLAN
// tag inserted with VLE. A descriptor with RS is reported done: STA.DD
// written back, or, with TDWBAL's Head_WB_En, TDH written to the head
// write-back address once the run ends; then the queue's transmit cause
// goes to the vector its IVAR byte names.
//
// Hostile values are bounded: one run consumes at most the ring's
// descriptors, a packet longer than maxTxPacket is dropped at its EOP, a TSO
// context hw/offload refuses drops its packet, legacy descriptors (not
// modelled) and unknown types are skipped; each is counted.

// maxTxPacket is the largest packet (a TSO super-frame: 64 KiB of payload
// and its headers) the model gathers.
const maxTxPacket = 64<<10 + offload.MaxHeader

// minTxFrame is what TCTL.PSP pads short frames to (64 with the FCS).
const minTxFrame = 60

// maxTxFrame is the largest frame sent without TSO, and a TSO segment's
// limit.
const maxTxFrame = 16 << 10

// byteTime is one byte's time on a 1000 Mb/s wire.
const byteTime = 8 * time.Nanosecond

// txQueue is a transmit queue's state between descriptors.
type txQueue struct {
	ctxMem [igb.NumTxContexts][igb.DescSize]byte // context slots as loaded
	buf    []byte                                // the packet being gathered (made on first use)
	inPkt  bool
	bad    bool   // the packet overflowed or faulted: dropped at EOP
	cmd    uint32 // the first data descriptor's cmd_type_len
	olinfo uint32 // and olinfo_status
}

// txKick runs every enabled queue.
func (d *Device) txKick() { d.txStart(-1) }

// txStart runs queue q (every queue for -1) unless transmit is already
// running: a doorbell rung from inside a run (a link that delivers
// synchronously to a peer that answers at once) is picked up before the
// run returns.
func (d *Device) txStart(q int) {
	if d.txRunning {
		if q < 0 {
			d.txAgain |= 1<<igb.NumQueues - 1
		} else {
			d.txAgain |= 1 << q
		}
		return
	}
	d.txRunning = true
	if q < 0 {
		d.txAgain = 1<<igb.NumQueues - 1
	} else {
		d.txAgain = 1 << q
	}
	for d.txAgain != 0 {
		run := d.txAgain
		d.txAgain = 0
		for i := range igb.NumQueues {
			if run&(1<<i) != 0 {
				d.txRun(i)
			}
		}
	}
	d.txRunning = false
}

// onTxResume runs when the wire has drained enough for the transmit DMA
// to go on.
func (d *Device) onTxResume() {
	d.enter()
	defer d.exit()
	d.txKick()
}

// txRun processes queue q's descriptors from TDH to TDT. The device stops
// while the wire is more than a TX packet buffer's worth of line time
// behind (one packet may overshoot it); the pacing timer resumes every
// queue. QEMU's igb_start_xmit runs to TDT whatever the link does (the
// QEMU profile keeps the wire's pacing: see the package documentation).
func (d *Device) txRun(q int) {
	if d.regs[igb.TCTL/4]&igb.TCTL_EN == 0 || d.regs[igb.TXDCTL(q)/4]&igb.XDCTL_ENABLE == 0 || !d.busMaster {
		return
	}
	if !d.linkUp && !d.qemu || d.txTimer.Pending() {
		return
	}
	tdlen := d.regs[igb.TDLEN(q)/4]
	if tdlen == 0 || tdlen%igb.RingAlign != 0 || tdlen > igb.MaxRingLen {
		d.ctr.TxBadRing++
		return
	}
	n := tdlen / igb.DescSize
	tdh, tdt := d.regs[igb.TDH(q)/4], d.regs[igb.TDT(q)/4]
	if tdh >= n || tdt >= n {
		d.ctr.TxBadIndex++
		return
	}
	tq := &d.tx[q]
	base := dma.Addr(uint64(d.regs[igb.TDBAH(q)/4])<<32 | uint64(d.regs[igb.TDBAL(q)/4]&^0x7F))
	headWB := d.regs[igb.TDWBAL(q)/4]&igb.TDWBAL_HEAD_WB_EN != 0
	reported := false
	desc := d.txDesc[:]
	ahead := time.Duration(d.txFIFO()) * byteTime
	for steps := uint32(0); tdh != tdt && steps < n; steps++ {
		if d.txBusyUntil-d.now() > ahead {
			d.txTimer.ResetAt(d.txBusyUntil - ahead)
			d.ctr.TxPaced++
			break
		}
		at := base + dma.Addr(igb.DescSize*tdh)
		if !d.mem.Read(at, desc) {
			d.ctr.DMAFaults++
			break
		}
		ctl := binary.LittleEndian.Uint32(desc[8:])
		dext, dtyp := igb.TxType(desc)
		switch {
		case !dext:
			d.ctr.TxLegacyDesc++
		case dtyp == igb.TXD_DTYP_CTXT:
			c := igb.TxContext(desc)
			copy(tq.ctxMem[c.IDX()%igb.NumTxContexts][:], desc)
		case dtyp == igb.TXD_DTYP_DATA:
			d.txData(q, tq, igb.TxData(desc))
		default:
			d.ctr.TxBadDesc++
		}
		tdh = (tdh + 1) % n
		if ctl&igb.TXD_DCMD_RS != 0 {
			reported = true
			switch {
			case d.qemu && headWB:
				// igb_txdesc_writeback: the head after every RS descriptor.
				d.writeHead(q, tdh)
			case !headWB && dext && (dtyp == igb.TXD_DTYP_DATA || d.qemu):
				// QEMU writes DD back into context descriptors too.
				igb.TxData(desc).SetDD()
				if !d.mem.Write(at+igb.TxDataOlinfo, desc[igb.TxDataOlinfo:]) {
					d.ctr.DMAFaults++
				}
			}
		}
		d.regs[igb.TDH(q)/4] = tdh
	}
	d.regs[igb.TDH(q)/4] = tdh
	if !reported {
		return
	}
	if headWB && !d.qemu {
		d.writeHead(q, tdh)
	}
	d.intr.queueEvent(q, true)
}

// writeHead is the head write-back (TDWBAL.Head_WB_En): TDH written to the
// address TDWBAH:TDWBAL names.
func (d *Device) writeHead(q int, tdh uint32) {
	wb := dma.Addr(uint64(d.regs[igb.TDWBAH(q)/4])<<32 | uint64(d.regs[igb.TDWBAL(q)/4]&igb.TDWBAL_ADDR_MASK))
	binary.LittleEndian.PutUint32(d.txHead[:], tdh)
	if !d.mem.Write(wb, d.txHead[:]) {
		d.ctr.DMAFaults++
	}
}

// txData gathers one data descriptor's buffer into the queue's packet and
// sends the packet at EOP.
func (d *Device) txData(q int, tq *txQueue, dd igb.TxData) {
	if !tq.inPkt {
		tq.inPkt, tq.bad = true, false
		tq.buf = tq.buf[:0]
		tq.cmd, tq.olinfo = dd.CmdTypeLen(), dd.Olinfo()
	}
	if tq.buf == nil {
		tq.buf = make([]byte, 0, maxTxPacket)
	}
	l := int(dd.DTALEN())
	switch {
	case tq.bad:
	case len(tq.buf)+l > maxTxPacket:
		tq.bad = true
		d.ctr.TxTooLong++
	default:
		at := len(tq.buf)
		tq.buf = tq.buf[:at+l]
		if !d.mem.Read(dma.Addr(dd.Addr()), tq.buf[at:]) {
			tq.bad = true
			d.ctr.DMAFaults++
		}
	}
	if dd.DCMD()&igb.TXD_DCMD_EOP == 0 {
		return
	}
	tq.inPkt = false
	if tq.bad {
		d.ctr.TxDropped++
		return
	}
	d.txPacket(q, tq)
}

// txPacket applies the offloads the first descriptor asked for and sends.
func (d *Device) txPacket(q int, tq *txQueue) {
	pkt := tq.buf
	ctx := igb.TxContext(tq.ctxMem[(tq.olinfo&igb.TXD_IDX_MASK>>igb.TXD_IDX_SHIFT)%igb.NumTxContexts][:])
	d.txQ, d.txVLE, d.txVLAN = q, tq.cmd&igb.TXD_DCMD_VLE != 0, ctx.VLAN()
	tucmd := ctx.TUCMD()
	ipv4 := tucmd&igb.TXCTX_TUCMD_IPV4 != 0
	tcp := tucmd&igb.TXCTX_TUCMD_L4T_MASK == igb.TXCTX_TUCMD_L4T_TCP
	if tq.cmd&igb.TXD_DCMD_TSE != 0 {
		p := offload.TSO{
			MACLen: ctx.MACLEN(), IPLen: ctx.IPLEN(), L4Len: ctx.L4LEN(), MSS: ctx.MSS(),
			IPv4: ipv4, TCP: tcp, IPCsum: ipv4, L4Csum: true,
		}
		if _, err := offload.Segment(pkt, p, d.segBuf, d.sendFn); err != nil {
			d.ctr.TxBadTSO++
			d.statInc(igb.TSCTFC)
			return
		}
		d.statInc(igb.TSCTC)
		return
	}
	if len(pkt) > maxTxFrame || len(pkt) < header.EthernetMinSize {
		d.ctr.TxTooLong++
		return
	}
	maclen, iplen := ctx.MACLEN(), ctx.IPLEN()
	if tq.olinfo&igb.TXD_POPTS_IXSM != 0 && ipv4 && maclen+iplen <= len(pkt) && iplen >= header.IPv4MinSize {
		binary.BigEndian.PutUint16(pkt[maclen+header.IPv4Checksum:], 0)
		offload.Insert(pkt, maclen, maclen+iplen-1, maclen+header.IPv4Checksum, false)
	}
	if tq.olinfo&igb.TXD_POPTS_TXSM != 0 {
		css := maclen + iplen
		cso := css + header.UDPChecksum
		if tcp {
			cso = css + header.TCPChecksum
		}
		if !offload.Insert(pkt, css, 0, cso, !tcp) {
			d.ctr.TxBadCsum++
		}
	}
	d.send(pkt)
}

// send puts one frame on the wire, with the VLAN tag inserted for VLE and
// padded to 60 bytes with TCTL.PSP, and counts it.
func (d *Device) send(frame []byte) {
	if d.txVLE && len(frame) >= 12 {
		out := append(d.txOut[:0], frame[:12]...)
		out = binary.BigEndian.AppendUint16(out, header.EtherTypeVLAN)
		out = binary.BigEndian.AppendUint16(out, d.txVLAN)
		frame = append(out, frame[12:]...)
	}
	if n := len(frame); n < minTxFrame && d.regs[igb.TCTL/4]&igb.TCTL_PSP != 0 {
		if &frame[0] != &d.txOut[:1][0] {
			frame = append(d.txOut[:0], frame...)
		}
		frame = frame[:minTxFrame]
		clear(frame[n:])
	}
	ok := false
	if d.link != nil && d.linkUp {
		var done time.Duration
		if done, ok = d.link.Transmit(frame); ok {
			d.txBusyUntil = max(d.txBusyUntil, done)
		}
	}
	if !ok {
		d.ctr.TxNoLink++
		if !d.qemu {
			return
		}
		// QEMU's net layer drops what a down link sends, and the
		// device counts it as sent.
	} else {
		d.ctr.TxFrames++
	}
	q := d.txQ
	d.statInc(igb.GPTC)
	d.statInc(igb.TPT)
	d.stat64(igb.GOTCL, len(frame)+4)
	d.stat64(igb.TOTL, len(frame)+4)
	if !d.qemu { // QEMU has no per-queue statistics
		d.statInc(igb.PQGPTC(q))
		d.statAdd(igb.PQGOTC(q), len(frame)+4)
	}
	switch {
	case frame[0]&1 == 0:
	case binary.LittleEndian.Uint32(frame) == 0xFFFFFFFF && binary.LittleEndian.Uint16(frame[4:]) == 0xFFFF:
		d.statInc(igb.BPTC)
	default:
		d.statInc(igb.MPTC)
	}
	d.statInc(sizeBin(igb.PTC64, len(frame)+4))
}
