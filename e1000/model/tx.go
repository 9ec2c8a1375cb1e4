package model

import (
	"encoding/binary"
	"time"

	"github.com/nicbed/nicbed/e1000"
	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/hw/offload"
)

// Transmit path (datasheet 3.3 transmit descriptors, 3.5 TCP segmentation).
//
// A doorbell (TDT write), TCTL.EN, link up, bus mastering or the pacing
// timer starts the transmit DMA, which walks the ring from TDH to TDT. Legacy
// descriptors (DEXT = 0) and TCP/IP data descriptors (DEXT = 1, DTYP = 1)
// carry packet data, a packet ending at the descriptor with EOP; context
// descriptors (DTYP = 0) set the offload parameters for the data descriptors
// after them. At EOP the packet gets its checksums (legacy IC with CSS/CSO;
// data descriptors' POPTS IXSM/TXSM with the context's IPCSS/IPCSO/IPCSE and
// TUCSS/TUCSO/TUCSE), its VLAN tag (VLE with CTRL.VME), padding to 60 bytes
// (TCTL.PSP), and goes to the link. A TSO packet (DCMD.TSE with a TSE
// context) is cut into segments of HDRLEN header bytes and up to MSS payload
// bytes as its data streams in: each segment gets the IP total length (or
// IPv6 payload length), an IP ID one more than the previous, the TCP
// sequence number advanced by the payload before it, FIN and PSH only on the
// last segment (or the UDP length), and fresh checksums.
//
// Descriptors with RS (or RPS) get DD written back and schedule TXDW (see
// intr.go); when the ring drains TXQE is raised.
//
// The DMA is paced by the wire: Link.Transmit says when a frame will have
// left, and while that is more than a TX FIFO's worth of line time ahead the
// DMA stops, mid-descriptor if need be (a TSO descriptor can carry 64 KiB),
// and a timer resumes it when the FIFO has room. One activation never
// processes more than one ring's worth of descriptors.

const (
	maxTxFrame = 16384 // largest frame the MAC sends, without FCS
	txBufSize  = maxTxFrame + vlanTagLen + minFrame
	// bitTime is the time one byte takes at 1000 Mb/s, the speed the MAC
	// runs at with link up.
	byteTime = 8 * time.Nanosecond
	// maxRunBytes bounds what one activation sends even on an infinitely
	// fast link; the rest waits for the next turn of the loop.
	maxRunBytes = 1 << 20
)

// txCtx is what a context descriptor sets.
type txCtx struct {
	ipcss, ipcso uint8
	ipcse        uint16
	tucss, tucso uint8
	tucse        uint16
	paylen       uint32
	tucmd        uint8
	hdrlen       uint8
	mss          uint16
}

type txState struct {
	running, again bool // txKick reentrancy
	runBytes       int  // bytes sent in this activation

	buf []byte // the packet (or TSO header and current segment)
	ctx txCtx  // the last context descriptor

	inPkt    bool
	bad      bool // drop at EOP (fault, oversize, invalid TSO)
	dataDesc bool // packet made of data descriptors (not legacy)
	n        int  // bytes in buf
	popts    uint8
	vle      bool
	special  uint16
	descOff  int // bytes of the current descriptor consumed (a paused TSO)

	tso    bool
	tctx   txCtx       // context latched at the start of the TSO packet
	tsoCtx offload.TSO // the same as offload parameters
	seg    offload.Segmenter
	hdrLen int
	mss    int
	segPay int // payload bytes in the segment being filled
}

func (t *txState) reset() {
	buf := t.buf
	*t = txState{buf: buf}
}

func (t *txState) begin(data bool) {
	t.inPkt, t.bad, t.dataDesc, t.n = true, false, data, 0
	t.popts, t.vle, t.special, t.tso = 0, false, 0, false
	t.segPay = 0
}

// txKick starts the transmit DMA unless it is already running (a doorbell
// rung from inside a run is picked up before the run returns).
func (d *Device) txKick() {
	t := &d.tx
	if t.running {
		t.again = true
		return
	}
	t.running = true
	for {
		t.again = false
		d.txRun()
		if !t.again {
			break
		}
	}
	t.running = false
}

// onTxResume runs when the wire has drained enough for transmit DMA to go on.
func (d *Device) onTxResume() {
	d.enter()
	defer d.exit()
	d.txKick()
}

// txPause stops the DMA until the wire has drained to a FIFO's worth.
func (d *Device) txPause(fifo time.Duration) {
	d.ctr.TxPaced++
	if d.txBusyUntil-d.now() > fifo {
		d.txTimer.ResetAt(d.txBusyUntil - fifo)
	} else {
		d.txTimer.Reset(0) // the per-activation byte budget ran out
	}
}

func (d *Device) txMustPause(fifo time.Duration) bool {
	return d.txBusyUntil-d.now() > fifo || d.tx.runBytes >= maxRunBytes
}

// txRun processes descriptors from TDH towards TDT.
func (d *Device) txRun() {
	if d.regs[e1000.TCTL/4]&e1000.TCTL_EN == 0 || !d.busMaster || d.txTimer.Pending() {
		return
	}
	// QEMU's start_xmit runs whatever the link does (the frames are lost
	// on a down link but the descriptors complete).
	if !d.qemu && (!d.linkUp || d.link == nil) {
		return
	}
	n := d.regs[e1000.TDLEN/4] / e1000.DescSize
	head := d.regs[e1000.TDH/4]
	if head == d.regs[e1000.TDT/4] {
		if d.qemu {
			d.raise(e1000.ICR_TXQE) // start_xmit's cause even with nothing to do
		}
		return
	}
	if n == 0 || head >= n || d.regs[e1000.TDT/4] >= n {
		d.ctr.TxBadRing++
		return
	}
	d.ctr.TxRuns++
	d.tx.runBytes = 0
	fifo := time.Duration(d.txFIFO()) * byteTime
	base := dma.Addr(uint64(d.regs[e1000.TDBAH/4])<<32 | uint64(d.regs[e1000.TDBAL/4]))
	processed := uint32(0)
	for head != d.regs[e1000.TDT/4] {
		if processed == n {
			d.ctr.TxRingBound++
			break
		}
		if d.txMustPause(fifo) {
			d.txPause(fifo)
			break
		}
		desc, ok := d.mem.View(base+dma.Addr(head)*e1000.DescSize, e1000.DescSize, true)
		if !ok {
			d.ctr.TxDescFaults++
			break
		}
		if !d.txDescriptor(desc, fifo) {
			break // paused inside the descriptor
		}
		processed++
		head = (head + 1) % n
		d.regs[e1000.TDH/4] = head
		if d.regs[e1000.TDT/4] >= n { // changed under us; refuse to chase it
			break
		}
	}
	d.ctr.TxDescriptors += uint64(processed)
	d.ctr.TxMaxRun = max(d.ctr.TxMaxRun, uint64(processed))
	if (processed > 0 || d.qemu) && head == d.regs[e1000.TDT/4] {
		d.raise(e1000.ICR_TXQE) // QEMU: at the end of every start_xmit
	}
}

// txDescriptor handles the descriptor desc at TDH. It reports false if the
// DMA paused inside it (the descriptor is taken up again where it stopped).
func (d *Device) txDescriptor(desc []byte, fifo time.Duration) bool {
	t := &d.tx
	dext, dtyp := e1000.TxType(desc)
	var rs, ide bool
	switch {
	case !dext:
		td := e1000.TxDesc(desc)
		cmd := td.Cmd()
		d.txBegin(false)
		if l := int(td.Length()); l == 0 {
			d.ctr.TxZeroLength++
		} else {
			d.txAppend(td.Addr(), l)
		}
		if cmd&e1000.TXD_CMD_EOP != 0 {
			t.vle, t.special = cmd&e1000.TXD_CMD_VLE != 0, td.Special()
			d.txEnd(cmd&e1000.TXD_CMD_IC != 0, int(td.CSS()), int(td.CSO()))
		}
		rs, ide = cmd&(e1000.TXD_CMD_RS|e1000.TXD_CMD_RPS) != 0, cmd&e1000.TXD_CMD_IDE != 0

	case dtyp == e1000.TXD_DTYP_CONTEXT:
		c := e1000.TxContextDesc(desc)
		if t.inPkt {
			d.ctr.TxContextInPacket++
		}
		t.ctx = txCtx{
			ipcss: c.IPCSS(), ipcso: c.IPCSO(), ipcse: c.IPCSE(),
			tucss: c.TUCSS(), tucso: c.TUCSO(), tucse: c.TUCSE(),
			paylen: c.PAYLEN(), tucmd: c.TUCMD(), hdrlen: c.HDRLEN(), mss: c.MSS(),
		}
		rs, ide = t.ctx.tucmd&e1000.TXD_TUCMD_RS != 0, t.ctx.tucmd&e1000.TXD_TUCMD_IDE != 0

	case dtyp == e1000.TXD_DTYP_DATA:
		dd := e1000.TxDataDesc(desc)
		dcmd := dd.DCMD()
		if !t.inPkt {
			d.txBegin(true)
			t.popts = dd.POPTS()
			if dcmd&e1000.TXD_CMD_TSE != 0 && t.ctx.tucmd&e1000.TXD_TUCMD_TSE != 0 {
				t.vle, t.special = dcmd&e1000.TXD_CMD_VLE != 0, dd.Special()
				d.txTSOBegin()
			}
		} else {
			d.txBegin(true)
		}
		length := int(dd.DTALEN())
		if length == 0 {
			d.ctr.TxZeroLength++
		}
		if t.tso {
			if d.txTSOData(dd.Addr(), length, fifo) {
				return false
			}
		} else if length > 0 {
			d.txAppend(dd.Addr(), length)
		}
		if dcmd&e1000.TXD_CMD_EOP != 0 {
			if !t.tso {
				t.vle, t.special = dcmd&e1000.TXD_CMD_VLE != 0, dd.Special()
			}
			d.txEnd(false, 0, 0)
		}
		rs, ide = dcmd&(e1000.TXD_CMD_RS|e1000.TXD_CMD_RPS) != 0, dcmd&e1000.TXD_CMD_IDE != 0

	default:
		d.ctr.TxBadDescType++
		cmd := desc[e1000.TxDescCmd]
		rs, ide = cmd&e1000.TXD_CMD_RS != 0, cmd&e1000.TXD_CMD_IDE != 0
	}
	t.descOff = 0
	if ide && d.qemu {
		d.mitIDE = true // QEMU's mit_ide: TADV joins the next mitigation delay
	}
	if rs {
		desc[e1000.TxDescStatus] |= e1000.TXD_STAT_DD
		d.txWrittenBack(ide)
	}
	return true
}

// txBegin starts a packet at its first descriptor, or checks that a
// descriptor continuing one is of the same kind (legacy or data).
func (d *Device) txBegin(data bool) {
	t := &d.tx
	if !t.inPkt {
		t.begin(data)
		return
	}
	if t.dataDesc != data && !t.bad {
		d.ctr.TxBadDescType++
		t.bad = true
	}
}

// txRead copies len(dst) bytes at addr into dst.
func (d *Device) txRead(dst []byte, addr uint64) bool {
	v, ok := d.mem.View(dma.Addr(addr), len(dst), false)
	if !ok {
		d.ctr.TxBufferFaults++
		return false
	}
	copy(dst, v)
	return true
}

// txAppend adds a buffer to a (non-TSO) packet.
func (d *Device) txAppend(addr uint64, length int) {
	t := &d.tx
	if t.bad {
		return
	}
	if t.n+length > maxTxFrame {
		d.ctr.TxOversize++
		t.bad = true
		return
	}
	if !d.txRead(t.buf[t.n:t.n+length], addr) {
		t.bad = true
		return
	}
	t.n += length
}

// txEnd finishes a packet at EOP.
func (d *Device) txEnd(legacyIC bool, css, cso int) {
	t := &d.tx
	d.txFinish(legacyIC, css, cso)
	t.inPkt, t.tso = false, false
}

func (d *Device) txFinish(legacyIC bool, css, cso int) {
	t := &d.tx
	if t.tso {
		d.txTSOEnd()
		return
	}
	if t.bad {
		return
	}
	if t.n == 0 {
		d.ctr.TxEmptyPackets++
		return
	}
	pkt := t.buf[:t.n]
	if legacyIC {
		d.insertChecksum(pkt, css, 0, cso, false)
	}
	if t.dataDesc {
		c := &t.ctx
		if t.popts&e1000.TXD_POPTS_IXSM != 0 {
			d.insertChecksum(pkt, int(c.ipcss), int(c.ipcse), int(c.ipcso), false)
		}
		if t.popts&e1000.TXD_POPTS_TXSM != 0 {
			d.insertChecksum(pkt, int(c.tucss), int(c.tucse), int(c.tucso), c.tucmd&e1000.TXD_TUCMD_TCP == 0)
		}
	}
	d.txFrame(pkt)
}

// insertChecksum is offload.Insert with the refusal counted.
func (d *Device) insertChecksum(pkt []byte, start, end, at int, udp bool) {
	if !offload.Insert(pkt, start, end, at, udp) {
		d.ctr.TxBadChecksumOffsets++
	}
}

// txTSOBegin latches the context for a TSO packet and checks (with
// offload.TSO.Validate) that its lengths and offsets describe a header the
// segments can be built from: MSS > 0, the IP header (at least 20 or 40
// bytes) before the TCP/UDP header (at least 20 or 8 bytes) inside HDRLEN,
// the checksum fields inside their headers, and header plus MSS within the
// maximum frame. A context that fails (QEMU's CVE-2021-20257 used MSS and
// header lengths that made its segment length underflow) drops the packet.
func (d *Device) txTSOBegin() {
	t := &d.tx
	c := t.ctx
	t.tso, t.tctx = true, c
	t.hdrLen, t.mss = int(c.hdrlen), int(c.mss)
	t.tsoCtx = offload.TSO{
		MACLen: int(c.ipcss),
		IPLen:  int(c.tucss) - int(c.ipcss),
		L4Len:  t.hdrLen - int(c.tucss),
		MSS:    t.mss,
		IPv4:   c.tucmd&e1000.TXD_TUCMD_IP != 0,
		TCP:    c.tucmd&e1000.TXD_TUCMD_TCP != 0,
		IPCsum: t.popts&e1000.TXD_POPTS_IXSM != 0,
		IPCSO:  int(c.ipcso),
		L4Csum: t.popts&e1000.TXD_POPTS_TXSM != 0,
		L4CSO:  int(c.tucso),
	}
	if t.tsoCtx.Validate(maxTxFrame) != nil {
		d.ctr.TxTSOInvalid++
		t.bad = true
	}
}

// txTSOData streams a TSO data descriptor's buffer: first the header, then
// payload into segments, sending a full segment as soon as more payload
// follows it (so the last one is known). It reports true if it paused for
// the wire; descOff says where to go on.
func (d *Device) txTSOData(addr uint64, length int, fifo time.Duration) bool {
	t := &d.tx
	for t.descOff < length {
		if t.bad {
			break
		}
		if t.n < t.hdrLen {
			take := min(t.hdrLen-t.n, length-t.descOff)
			if !d.txRead(t.buf[t.n:t.n+take], addr+uint64(t.descOff)) {
				t.bad = true
				break
			}
			t.n += take
			t.descOff += take
			if t.n == t.hdrLen {
				t.seg.Start(t.tsoCtx, t.buf[:t.hdrLen])
			}
			continue
		}
		if t.segPay == t.mss {
			d.txTSOSegment(false)
			if d.txMustPause(fifo) {
				d.txPause(fifo)
				return true
			}
			continue
		}
		take := min(t.mss-t.segPay, length-t.descOff)
		at := t.hdrLen + t.segPay
		if !d.txRead(t.buf[at:at+take], addr+uint64(t.descOff)) {
			t.bad = true
			break
		}
		t.segPay += take
		t.descOff += take
	}
	t.descOff = length
	return false
}

// txTSOSegment sends the segment in buf and restores the header for the next.
func (d *Device) txTSOSegment(last bool) {
	t := &d.tx
	frame := t.buf[:t.hdrLen+t.segPay]
	t.seg.Segment(frame, last)
	d.txFrame(frame)
	d.ctr.TxTSOSegments++
	t.segPay = 0
	t.seg.Restore(t.buf)
}

// txTSOEnd finishes a TSO packet at EOP: the last segment goes out.
func (d *Device) txTSOEnd() {
	t := &d.tx
	if !t.bad && (t.n < t.hdrLen || t.segPay == 0) {
		d.ctr.TxTSOInvalid++ // header incomplete, or no payload at all
		t.bad = true
	}
	if t.bad {
		d.st.inc(e1000.TSCTFC)
		return
	}
	d.txTSOSegment(true)
	if uint32(t.seg.Payload()) != t.tctx.paylen {
		d.ctr.TxTSOPaylenMismatch++
	}
	d.ctr.TxTSOPackets++
	d.st.inc(e1000.TSCTC)
}

// txFrame puts a frame (a prefix of tx.buf) on the wire: VLAN tag inserted,
// short frames padded, statistics counted.
func (d *Device) txFrame(frame []byte) {
	t := &d.tx
	if t.vle && d.regs[e1000.CTRL/4]&e1000.CTRL_VME != 0 && len(frame) >= 12 {
		n := len(frame)
		frame = t.buf[:n+vlanTagLen]
		copy(frame[12+vlanTagLen:], frame[12:n])
		binary.BigEndian.PutUint16(frame[12:], uint16(d.regs[e1000.VET/4]))
		binary.BigEndian.PutUint16(frame[14:], t.special)
	}
	if len(frame) < minFrame && d.regs[e1000.TCTL/4]&e1000.TCTL_PSP != 0 {
		n := len(frame)
		frame = t.buf[:minFrame]
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
		// QEMU counts a frame its link dropped as transmitted.
	} else {
		d.tx.runBytes += len(frame)
		d.ctr.TxFrames++
		d.ctr.TxBytes += uint64(len(frame))
	}
	wireLen := max(len(frame), minFrame) + fcsLen
	d.st.inc(e1000.TPT)
	d.st.add64(e1000.TOTL, wireLen)
	d.st.inc(e1000.GPTC)
	d.st.add64(e1000.GOTCL, wireLen)
	d.st.inc(txSizeStat(wireLen))
	d.st.countGroup(frame, e1000.BPTC, e1000.MPTC)
}
