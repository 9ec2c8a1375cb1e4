package model

import (
	"time"

	"github.com/nicbed/nicbed/e1000"
)

// This file holds the QEMU profile: where ProfileQEMU changes what the
// datasheet model does, the change is here, named after the QEMU function
// that behaves that way (see the package documentation for the list).

// qemuCanReceive is e1000_can_receive: STATUS.LU, RCTL.EN, bus mastering,
// no RX hold pending and at least one free descriptor. While it is false,
// QEMU's net layer queues frames for the device instead of delivering them.
func (d *Device) qemuCanReceive() bool {
	return d.linkUp && d.regs[e1000.RCTL/4]&e1000.RCTL_EN != 0 && d.busMaster &&
		!d.rxHoldTimer.Pending() && d.regs[e1000.RDH/4] != d.regs[e1000.RDT/4]
}

// qemuReceive takes a frame from the wire: delivered now, or held behind the
// frames already held (the net layer keeps order), or dropped when the held
// queue is full. Nothing is counted in the device's statistics for a held
// frame: QEMU's device never sees it until it is delivered.
func (d *Device) qemuReceive(frame []byte) {
	if d.rx.held.Empty() && d.qemuCanReceive() {
		d.receive(frame)
		return
	}
	if !d.rx.held.Fits(len(frame), 1, qemuHeldFrames) {
		d.ctr.RxHeldDropped++
		return
	}
	d.rx.held.Push(frame, 1, struct{}{})
	d.ctr.RxHeld++
}

// qemuFlush is qemu_flush_queued_packets: deliver held frames while the
// device can receive.
func (d *Device) qemuFlush() {
	for !d.rx.held.Empty() && d.qemuCanReceive() {
		f, _ := d.rx.held.Peek(d.rx.out)
		d.rx.held.Pop()
		d.ctr.RxHeldDelivered++
		d.receive(f)
	}
}

// qemuRCTLWritten is set_rx_control: every RCTL write holds receive for
// QEMURxHold (flush_queue_timer), after which held frames are delivered.
func (d *Device) qemuRCTLWritten() {
	d.rxHoldTimer.Reset(QEMURxHold)
}

// onRxHold is e1000_flush_queue_timer.
func (d *Device) onRxHold() {
	d.enter()
	defer d.exit()
	d.qemuFlush()
}

// rxPosted runs after an RDT write: the FIFO drains (datasheet), or held
// frames are delivered if the ring is not empty (QEMU's set_rdt).
func (d *Device) rxPosted() {
	if d.qemu {
		d.qemuFlush()
		return
	}
	d.rxDrain()
}

// qemuUpdateIRQ is set_interrupt_cause with QEMU's one mitigation timer: a
// rising edge of ICR & IMS asserts INTA# at once and starts the timer; while
// it runs, further rising edges wait for it. Its length is the smallest
// non-zero of TADV (if a descriptor with IDE was processed and TXDW/TXQE is
// pending), RADV (if RDTR is non-zero and RXT0 is pending) and ITR, in ITR's
// 256 ns units (RADV and TADV times 4), but never less than 500 units
// (128 µs). RDTR's and TIDV's own delays do not exist.
func (d *Device) qemuUpdateIRQ() {
	pending := d.icr & d.ims
	if !d.level && pending != 0 {
		if d.mitTimer.Pending() {
			d.ctr.ITRDeferred++
			return
		}
		var delay uint32
		upd := func(v uint32) {
			if v != 0 && (delay == 0 || v < delay) {
				delay = v
			}
		}
		if d.mitIDE && pending&(e1000.ICR_TXQE|e1000.ICR_TXDW) != 0 {
			upd((d.regs[e1000.TADV/4] & e1000.DELAY_MASK) * 4)
		}
		if d.regs[e1000.RDTR/4]&e1000.DELAY_MASK != 0 && pending&e1000.ICR_RXT0 != 0 {
			upd((d.regs[e1000.RADV/4] & e1000.DELAY_MASK) * 4)
		}
		upd(d.regs[e1000.ITR/4] & e1000.ITR_INTERVAL_MASK)
		delay = max(delay, qemuMitFloor)
		d.mitTimer.Reset(time.Duration(delay) * e1000.ITRUnitNs)
		d.mitIDE = false
		d.asserted = true
		d.lastAssert = d.now()
		d.ctr.IRQAsserts++
	}
	d.level = pending != 0
	d.drive()
}

// onMitTimer is e1000_mit_timer: the window closes and a pending cause
// asserts INTA# (starting the next window).
func (d *Device) onMitTimer() {
	d.enter()
	d.irqDirty = true
	d.exit()
}

// qemuWriteCTRL is set_ctrl: the value is stored with RST cleared, and
// nothing else happens. RST resets nothing, PHY_RST does not touch the PHY
// and SLU does not gate the link.
func (d *Device) qemuWriteCTRL(v uint32) {
	if v&e1000.CTRL_RST != 0 {
		d.ctr.Resets++
	}
	d.regs[e1000.CTRL/4] = v & regMask[e1000.CTRL/4]
}

// qemuSetCable is e1000_set_link_status. At power-on QEMU's link is already
// up without autonegotiation (STATUS.LU set, BMSR autonegotiation not
// complete), so the first cable the model sees brings the link up at once.
// Later, a link coming up autonegotiates (QEMUAutonegDelay) if the BMCR
// enables it and it has not completed; a link going down clears
// autonegotiation complete. Each change of STATUS raises LSC.
func (d *Device) qemuSetCable(up bool) {
	p := &d.phy
	if !up {
		d.anTimer.Stop()
		p.anDone, p.anComplete = false, false
		d.updateLink()
		return
	}
	if !p.poweredOn && p.regs[e1000.PHY_BMCR]&e1000.BMCR_ANENABLE != 0 && !p.anComplete {
		d.qemuRestartAutoneg()
		return
	}
	p.poweredOn = false
	p.anDone = true
	d.updateLink()
}

// qemuRestartAutoneg is e1000x_restart_autoneg: the link drops (STATUS.LU,
// BMSR link and autonegotiation complete clear) without an LSC, and
// QEMUAutonegDelay later, if the link partner is there, it is back with
// autonegotiation complete and LSC.
func (d *Device) qemuRestartAutoneg() {
	p := &d.phy
	p.poweredOn = false
	p.anDone, p.anComplete = false, false
	d.linkUp = false // no LSC: QEMU raises it only when autonegotiation is done
	d.anTimer.Reset(d.autonegDelay)
}

// qemuAutonegDone is e1000_autoneg_timer.
func (d *Device) qemuAutonegDone() {
	if !d.cableUp {
		return
	}
	d.phy.anDone, d.phy.anComplete = true, true
	d.ctr.AutonegCompleted++
	if d.linkUp {
		return
	}
	d.linkUp = true
	d.ctr.LinkChanges++
	d.raise(e1000.ICR_LSC)
	d.qemuFlush()
}

// qemuPHYCap is QEMU's phy_regcap: the PHY registers it implements, and
// whether each reads and writes. Any other register (and a write to a
// read-only one) completes with MDIC.ERROR.
var qemuPHYCap = [32]uint8{
	e1000.PHY_BMCR: phyRW, e1000.PHY_BMSR: phyR, e1000.PHY_ID1: phyR, e1000.PHY_ID2: phyR,
	e1000.PHY_ANAR: phyRW, e1000.PHY_ANLPAR: phyR, e1000.PHY_ANER: phyR,
	e1000.PHY_1000T_CTRL: phyRW, e1000.PHY_1000T_STATUS: phyR,
	e1000.M88_PSCR: phyRW, e1000.M88_PSSR: phyR, e1000.M88_EPSCR: phyRW, e1000.M88_RXERR: phyR,
}

const (
	phyR  = 1
	phyW  = 2
	phyRW = phyR | phyW
)

// qemuMDIC is set_mdic: another PHY address leaves MDIC as it was with
// ERROR set; a read or write of a register QEMU does not implement (for
// that direction) sets ERROR and does nothing; READY is always set.
func (d *Device) qemuMDIC(v uint32) {
	phyAddr := (v & e1000.MDIC_PHY_MASK) >> e1000.MDIC_PHY_SHIFT
	reg := (v & e1000.MDIC_REG_MASK) >> e1000.MDIC_REG_SHIFT
	res := v
	switch {
	case phyAddr != e1000.PHYAddr:
		d.ctr.MDIOBadAccess++
		res = d.regs[e1000.MDIC/4] | e1000.MDIC_ERROR
	case v&e1000.MDIC_OP_READ != 0:
		if qemuPHYCap[reg]&phyR == 0 {
			d.ctr.MDIOBadAccess++
			res |= e1000.MDIC_ERROR
		} else {
			res = res&^e1000.MDIC_DATA_MASK | uint32(d.phyRead(reg))
		}
	case v&e1000.MDIC_OP_WRITE != 0:
		if qemuPHYCap[reg]&phyW == 0 {
			d.ctr.MDIOBadAccess++
			res |= e1000.MDIC_ERROR
		} else {
			d.qemuPHYWrite(reg, uint16(v))
		}
	}
	d.ctr.MDIOAccesses++
	d.regs[e1000.MDIC/4] = res | e1000.MDIC_READY
	if res&e1000.MDIC_INT_EN != 0 {
		d.raise(e1000.ICR_MDAC)
	}
}

// qemuPHYWrite stores a PHY register; BMCR is set_phy_ctrl: the reserved
// bits 5:0, RESET and restart are dropped (a BMCR reset does nothing), and a
// restart with autonegotiation enabled restarts it.
func (d *Device) qemuPHYWrite(r uint32, v uint16) {
	if r != e1000.PHY_BMCR {
		d.phy.regs[r] = v
		return
	}
	d.phy.regs[r] = v &^ (0x3F | e1000.BMCR_RESET | e1000.BMCR_ANRESTART)
	if v&e1000.BMCR_ANENABLE != 0 && v&e1000.BMCR_ANRESTART != 0 {
		d.qemuRestartAutoneg()
	}
}

// qemuStatClearsOnRead lists the statistics QEMU's e1000 clears when read
// (mac_read_clr4, and mac_read_clr8 for the high halves of the octet
// counters). Every other statistics register, MPC and RNBC among them,
// keeps its value when read.
func qemuStatClearsOnRead(off uint32) bool {
	switch off {
	case e1000.PRC64, e1000.PRC127, e1000.PRC255, e1000.PRC511, e1000.PRC1023, e1000.PRC1522,
		e1000.PTC64, e1000.PTC127, e1000.PTC255, e1000.PTC511, e1000.PTC1023, e1000.PTC1522,
		e1000.GPRC, e1000.GPTC, e1000.TPT, e1000.TPR, e1000.RUC, e1000.ROC,
		e1000.BPRC, e1000.MPRC, e1000.TSCTC, e1000.BPTC, e1000.MPTC,
		e1000.GORCH, e1000.GOTCH, e1000.TORH, e1000.TOTH:
		return true
	}
	return false
}

// RxReady reports whether a frame arriving now would reach the receive
// path: false while the QEMU profile holds receive (the RCTL hold, RCTL.EN
// clear, link down, no bus mastering), so that a testbed can wait for it
// before starting a flow. The datasheet device is always ready (it decides
// per frame: RCTL.EN, the ring and its FIFO).
func (d *Device) RxReady() bool {
	if !d.qemu {
		return true
	}
	return d.linkUp && d.regs[e1000.RCTL/4]&e1000.RCTL_EN != 0 && d.busMaster && !d.rxHoldTimer.Pending()
}
