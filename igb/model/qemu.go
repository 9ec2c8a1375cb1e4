package model

import (
	"math/bits"
	"time"

	"github.com/nicbed/nicbed/hw/mii"
	"github.com/nicbed/nicbed/igb"
)

// This file holds the QEMU profile: where ProfileQEMU changes what the
// datasheet model does, the change is here or behind d.qemu, named after the
// igb_core.c function that behaves that way (the package documentation
// lists every difference with its test).

// QEMU profile constants.
const (
	// QEMUAutonegDelay is QEMU's autonegotiation time
	// (e1000x_restart_autoneg arms its timer 500 ms ahead).
	QEMUAutonegDelay = 500 * time.Millisecond
	// QEMUEITRUnit is what QEMU multiplies EITR's bits 14:1 by to get the
	// throttling interval: E1000_INTR_DELAY_NS_RES, e1000e's 256 ns
	// units, applied to the register value (interval << 2) — so an
	// interval of n µs throttles for n × 1.024 µs. QEMU fixed this in
	// April 2025 ("net/igb: Fix interrupt throttling interval
	// calculation").
	QEMUEITRUnit = 256 * time.Nanosecond
	// qemuEITRMask is the part of an EITR write QEMU keeps as the
	// interval (igb_set_eitr: val & 0x7FFE).
	qemuEITRMask = 0x7FFE
	// qemuIMSMask is what igb_set_ims lets into IMS.
	qemuIMSMask = 0x77D4FBFD
	// QEMU's net layer queues at most 10000 packets per receiver
	// (net/queue.c); the model also bounds their bytes.
	qemuHeldFrames = 10000
	qemuHeldBytes  = 64 << 20
)

// --- Interrupts: igb_raise_interrupts, igb_lower_interrupts, igb_send_msix.

// qemuRaise is igb_raise_interrupts: set causes in reg (ICR, IMS, EICR or
// EIMS) and signal what rose. In MSI-X mode a rising ICR & IMS sets the
// other-cause vector's EICR bit (IVAR_MISC), and every rising EICR & EIMS
// bit is sent (throttled, see qemuSendMSIX). Otherwise INT_ASSERTED
// follows ICR (any bit, masked or not) and a rising ICR & IMS sets
// EICR.Other and sends one message (MSI-X vector 0, MSI, or INTA#) —
// unthrottled: EITR is not used outside MSI-X mode.
func (s *intrState) qemuRaise(reg *uint32, causes uint32) {
	oldC := s.icr & s.ims
	oldE := s.eicr & s.eims
	*reg |= causes
	s.d.dirty = true
	if s.msixMode() {
		raised := s.icr & s.ims &^ oldC
		if raised&igb.ICR_DRSTA != 0 {
			s.qemuMiscVector(s.ivarMisc & 0xFF)
		}
		if raised&^igb.ICR_DRSTA != 0 {
			s.qemuMiscVector(s.ivarMisc >> 8 & 0xFF)
		}
		s.qsend |= s.eicr & s.eims &^ oldE
		return
	}
	s.qemuFixAsserted()
	raised := s.icr & s.ims &^ oldC
	if raised == 0 {
		return
	}
	s.eicr |= raised&igb.ICR_DRSTA | igb.EICR_OTHER
	s.qlegacy = true
}

func (s *intrState) qemuMiscVector(alloc uint32) {
	if alloc&igb.IVAR_VALID == 0 {
		s.d.ctr.UnmappedCauses++
		return
	}
	s.eicr |= 1 << (alloc & igb.IVAR_VECTOR_MASK) & igb.EICR_MSIX_MASK
}

// qemuFixAsserted is igb_fix_icr_asserted: INT_ASSERTED is set while any
// ICR bit is.
func (s *intrState) qemuFixAsserted() {
	s.icr &^= igb.ICR_INT_ASSERTED
	if s.icr != 0 {
		s.icr |= igb.ICR_INT_ASSERTED
	}
}

// qemuLower is igb_lower_interrupts: clear causes in reg; outside MSI-X
// mode EICR.Other clears with the last unmasked ICR cause.
func (s *intrState) qemuLower(reg *uint32, causes uint32) {
	*reg &^= causes
	if s.icr&s.ims == 0 && !s.msixMode() {
		s.eicr &^= igb.EICR_OTHER
	}
	s.d.dirty = true
}

// qemuNSICR is igb_nsicr: with GPIE.NSICR, or with IMS set and
// INT_ASSERTED, IAM's bits clear in IMS.
func (s *intrState) qemuNSICR() {
	if s.gpie&igb.GPIE_NSICR != 0 || (s.ims != 0 && s.icr&igb.ICR_INT_ASSERTED != 0) {
		s.qemuLower(&s.ims, s.iam)
	}
}

// qemuReadICR is igb_mac_icr_read: ICR clears when read with GPIE.NSICR,
// with IMS zero, with INT_ASSERTED, or with MSI-X off in configuration
// space; otherwise (MSI-X on, IMS set, nothing asserted) it keeps its bits.
func (s *intrState) qemuReadICR() uint32 {
	v := s.icr
	if s.gpie&igb.GPIE_NSICR != 0 || s.ims == 0 || s.icr&igb.ICR_INT_ASSERTED != 0 || !s.d.msix.Enabled() {
		s.qemuLower(&s.icr, 0xFFFFFFFF)
	}
	s.qemuNSICR()
	return v
}

// qemuQueueEvent is the RX (igb_receive_internal) and TX (igb_start_xmit)
// end of a queue: the EICR bit of the queue's IVAR byte (if valid, in any
// mode), then ICR.RXDW for every frame written, ICR.TXDW when a TX run
// reported to a valid vector.
func (s *intrState) qemuQueueEvent(q int, tx bool) {
	reg, b := igb.IVARByte(q, tx)
	alloc := s.ivar[reg] >> (8 * b) & 0xFF
	var e uint32
	if alloc&igb.IVAR_VALID != 0 {
		e = 1 << (alloc & igb.IVAR_VECTOR_MASK) & (igb.EICR_MSIX_MASK | igb.EICR_LEGACY_MASK)
	} else {
		s.d.ctr.UnmappedCauses++
	}
	s.qemuRaise(&s.eicr, e)
	switch {
	case !tx:
		s.qemuRaise(&s.icr, igb.ICR_RXDW)
	case e != 0:
		s.qemuRaise(&s.icr, igb.ICR_TXDW)
	}
}

// qemuWriteEITR is igb_set_eitr: the value written (without CNT_IGNR)
// reads back as is; bits 14:1 are the interval, in 256 ns units. The
// counter bits load nothing.
func (s *intrState) qemuWriteEITR(n int, v uint32) {
	s.eitrGuest[n] = v &^ igb.EITR_CNT_IGNR
	s.eitr[n] = v & qemuEITRMask
}

// qemuUpdate delivers what qemuRaise decided, at the outermost exit.
func (s *intrState) qemuUpdate() {
	if s.msixMode() {
		s.driveLine(false)
		for b := s.qsend; b != 0; {
			i := bits.TrailingZeros32(b)
			b &^= 1 << i
			s.qemuSendMSIX(i)
		}
		s.qsend = 0
		return
	}
	s.qsend = 0
	if s.qlegacy {
		s.qlegacy = false
		switch {
		case s.d.msix.Enabled():
			s.d.ctr.Interrupts++
			if !s.d.msix.Fire(0) {
				s.d.ctr.MSIXPending++
			}
		case s.d.msi.Enabled():
			s.d.ctr.Interrupts++
			s.d.msi.Fire(0)
		default:
			if !s.lineOut {
				s.d.ctr.Interrupts++
			}
		}
	}
	s.driveLine(!s.d.msix.Enabled() && !s.d.msi.Enabled() && s.icr&s.ims != 0)
}

// qemuSendMSIX is igb_send_msix for vector i: if its throttling timer runs
// the event is dropped (the timer's expiry sends a message anyway);
// otherwise the message goes now and, with a non-zero EITR, the timer
// starts.
func (s *intrState) qemuSendMSIX(i int) {
	if i >= len(s.vec) {
		s.d.ctr.BadVector++
		return
	}
	v := &s.vec[i]
	if v.timer.Pending() {
		s.d.ctr.Throttled++
		return
	}
	if s.eitr[i] != 0 {
		v.timer.Reset(time.Duration(s.eitr[i]) * QEMUEITRUnit)
	}
	s.qemuNotify(i)
}

// qemuNotify is igb_msix_notify: the message (held in the PBA if the
// vector is masked; nothing with MSI-X off), then EIAC's bit clears in
// EICR. There is no auto-mask: QEMU never looks at EIAM or GPIE.EIAME.
func (s *intrState) qemuNotify(i int) {
	if i >= s.d.msix.Vectors() {
		s.d.ctr.BadVector++
		return
	}
	if s.d.msix.Enabled() {
		s.d.ctr.Interrupts++
		if !s.d.msix.Fire(i) {
			s.d.ctr.MSIXPending++
		}
	}
	s.eicr &^= 1 << i & s.eiac
}

// qemuThrottleExpired is igb_intrmgr_on_msix_throttling_timer: the end of
// the interval sends the vector's message whether or not an event waited,
// whatever EICR and EIMS hold, and does not restart the interval.
func (d *Device) qemuThrottleExpired(i int) {
	d.enter()
	defer d.exit()
	d.intr.qemuNotify(i)
	d.dirty = true
}

// qemuFlushEITR is igb_intrmgr_reset: a reset sends the message of every
// vector whose throttling timer runs, at once.
func (s *intrState) qemuFlushEITR() {
	for i := range s.vec {
		if s.vec[i].timer.Stop() {
			s.qemuNotify(i)
		}
	}
}

// --- Link and PHY: igb_core_set_link_status, e1000x_restart_autoneg,
// igb_autoneg_timer, igb_set_mdic.

// qemuPHYInit is igb_phy_reg_init: the PHY after any reset. BMSR says the
// link is up and autonegotiation incomplete, whatever STATUS.LU says; ID2
// has revision 1.
var qemuPHYInit = [32]uint16{
	mii.PHY_BMCR:         0x1140, // 1000 Mb/s, full duplex, autonegotiation enabled
	mii.PHY_BMSR:         0x794D, // extended capability, link, AN able, preamble suppression, ext status, 10/100
	mii.PHY_ID1:          phyID1,
	mii.PHY_ID2:          phyID2 | 1,
	mii.PHY_ANAR:         0x0DE1,
	mii.PHY_ANLPAR:       0x07E0,
	mii.PHY_ANER:         0x0005,
	7:                    0x2001, // ANNP
	mii.PHY_1000T_CTRL:   0x0F00,
	mii.PHY_1000T_STATUS: 0x3C00,
	mii.PHY_EXT_STATUS:   0x3000,
	0x10:                 0x0120, // IGP01E1000_PHY_PORT_CONFIG
	0x11:                 0xC000, // IGP01E1000_PHY_PORT_STATUS: 1000 Mb/s
	0x19:                 0x008D, // IGP02E1000_PHY_POWER_MGMT
}

// qemuPHYCap is igb_phy_regcap: the PHY registers QEMU implements and
// whether each reads and writes; any other access completes with
// MDIC.ERROR.
var qemuPHYCap = [32]uint8{
	mii.PHY_BMCR: phyRW, mii.PHY_BMSR: phyR, mii.PHY_ID1: phyR, mii.PHY_ID2: phyR,
	mii.PHY_ANAR: phyRW, mii.PHY_ANLPAR: phyR, mii.PHY_ANER: phyR, 7: phyRW, 8: phyR,
	mii.PHY_1000T_CTRL: phyRW, mii.PHY_1000T_STATUS: phyR, mii.PHY_EXT_STATUS: phyR,
	0x10: phyRW, 0x11: phyR, 0x12: phyRW, 0x13: phyR, 0x19: phyRW, 0x1F: phyW,
}

const (
	phyR  = 1
	phyW  = 2
	phyRW = phyR | phyW
)

// qemuResetLink is the link part of igb_reset: the autonegotiation timer
// stops, the PHY takes its initial values and STATUS its reset value —
// link down, without LSC. Only an autonegotiation restart (a BMCR write)
// or the cable coming back brings it up.
func (d *Device) qemuResetLink() {
	d.phy.timer.Stop()
	d.phy.regs = qemuPHYInit
	d.phy.anDone = false
	d.linkUp = false
}

// qemuSetCable is igb_core_set_link_status: a cable pulled takes the link
// down; a cable plugged in restarts autonegotiation if BMCR enables it and
// it has not completed (so the link comes up QEMUAutonegDelay after the
// first cable, as QEMU's does after the machine starts), or brings the
// link up at once. LSC follows each change of STATUS.LU.
func (d *Device) qemuSetCable(up bool) {
	was := d.linkUp
	p := &d.phy
	if !up {
		d.qemuLinkDown()
	} else if p.regs[mii.PHY_BMCR]&mii.BMCR_ANENABLE != 0 && p.regs[mii.PHY_BMSR]&mii.BMSR_ANEGCOMPLETE == 0 {
		d.qemuRestartAutoneg()
	} else {
		d.linkUp = true
		p.regs[mii.PHY_BMSR] |= mii.BMSR_LSTATUS
		d.qemuFlush()
	}
	if d.linkUp != was {
		d.intr.raise(igb.ICR_LSC)
	}
}

// qemuLinkDown is e1000x_update_regs_on_link_down.
func (d *Device) qemuLinkDown() {
	d.linkUp = false
	d.phy.regs[mii.PHY_BMSR] &^= mii.BMSR_LSTATUS | mii.BMSR_ANEGCOMPLETE
	d.phy.regs[mii.PHY_ANLPAR] &^= mii.ANLPAR_ACK
}

// qemuRestartAutoneg is e1000x_restart_autoneg: the link goes down (no
// LSC) and autonegotiation completes QEMUAutonegDelay later.
func (d *Device) qemuRestartAutoneg() {
	d.qemuLinkDown()
	d.phy.timer.Reset(d.autonegDelay)
}

// qemuAutonegDone is igb_autoneg_timer: with the cable there the link is
// up, autonegotiation complete, held frames are delivered and LSC is
// raised (even if the link was up already).
func (d *Device) qemuAutonegDone() {
	if !d.cableUp {
		return
	}
	d.linkUp = true
	d.phy.anDone = true
	d.phy.regs[mii.PHY_BMSR] |= mii.BMSR_LSTATUS | mii.BMSR_ANEGCOMPLETE
	d.phy.regs[mii.PHY_ANLPAR] |= mii.ANLPAR_ACK
	d.qemuFlush()
	d.intr.raise(igb.ICR_LSC)
}

// qemuWriteCTRL is igb_set_ctrl: the value is stored without RST; RST is
// igb_reset (everything but EITR, RXPBS and TXPBS, and the link down);
// PHY_RST only sets STATUS.PHYRA; DEV_RST does nothing.
func (d *Device) qemuWriteCTRL(v uint32) {
	d.regs[igb.CTRL/4] = v &^ igb.CTRL_RST
	if v&igb.CTRL_RST != 0 {
		d.ctr.Resets++
		d.reset()
	}
	if v&igb.CTRL_PHY_RST != 0 {
		d.regs[igb.STATUS/4] |= igb.STATUS_PHYRA
	}
}

// qemuMDIC is igb_set_mdic: another PHY address leaves MDIC as it was with
// ERROR; a register outside qemuPHYCap for the direction sets ERROR; a
// BMCR write drops bits 5:0, RESET and restart (a PHY reset does nothing)
// and restarts autonegotiation if asked with it enabled. READY is always
// set.
func (d *Device) qemuMDIC(v uint32) {
	d.ctr.MDICAccesses++
	reg := v & igb.MDIC_REG_MASK >> igb.MDIC_REG_SHIFT
	out := v
	switch {
	case v&igb.MDIC_PHY_MASK>>igb.MDIC_PHY_SHIFT != igb.PHYAddr:
		out = d.regs[igb.MDIC/4] | igb.MDIC_ERROR
		d.ctr.MDICErrors++
	case v&igb.MDIC_OP_MASK == igb.MDIC_OP_READ:
		if qemuPHYCap[reg]&phyR == 0 {
			out |= igb.MDIC_ERROR
			d.ctr.MDICErrors++
		} else {
			out = out&^igb.MDIC_DATA_MASK | uint32(d.phy.regs[reg])
		}
	case v&igb.MDIC_OP_MASK == igb.MDIC_OP_WRITE:
		if qemuPHYCap[reg]&phyW == 0 {
			out |= igb.MDIC_ERROR
			d.ctr.MDICErrors++
		} else if reg == mii.PHY_BMCR {
			d.phy.regs[reg] = uint16(v) &^ (0x3F | mii.BMCR_RESET | mii.BMCR_ANRESTART)
			if uint16(v)&mii.BMCR_ANRESTART != 0 && d.phy.regs[reg]&mii.BMCR_ANENABLE != 0 {
				d.qemuRestartAutoneg()
			}
		} else {
			d.phy.regs[reg] = uint16(v)
		}
	}
	d.regs[igb.MDIC/4] = out | igb.MDIC_READY
	if out&igb.MDIC_INT_EN != 0 {
		d.intr.raise(igb.ICR_MDAC)
	}
}

// --- Statistics.

// qemuReadStat is a read of a read-to-clear statistics register on QEMU:
// only those in igb_macreg_readops' mac_read_clr4/clr8 lists clear (a read
// of an octet counter's high half clears both halves; the low half keeps
// its value); MPC, RNBC, RLEC and the rest keep theirs; the per-queue
// PQGPRC/PQGPTC/PQGORC/PQGOTC/PQMPRC are not implemented and read 0.
func (d *Device) qemuReadStat(name string, off uint32) uint32 {
	v := d.regs[off/4]
	switch name {
	case "TOTH", "GOTCH", "TORH", "GORCH":
		d.regs[off/4], d.regs[off/4-1] = 0, 0
	case "PRC64", "PRC127", "PRC255", "PRC511", "PRC1023", "PRC1522",
		"PTC64", "PTC127", "PTC255", "PTC511", "PTC1023", "PTC1522",
		"GPRC", "GPTC", "TPT", "TPR", "RUC", "ROC", "BPRC", "MPRC", "BPTC", "MPTC",
		"TSCTC", "IAC", "HTCBDPC", "RQDPC":
		d.regs[off/4] = 0
	case "PQGPRC", "PQGPTC", "PQGORC", "PQGOTC", "PQMPRC":
		return 0
	}
	return v
}

// --- Receive: QEMU's net layer queue and igb_can_receive.

// qemuCanReceive is igb_can_receive: link up, RCTL.EN, bus mastering and
// some enabled queue with a ring and a free descriptor. While it is false
// QEMU's net layer holds frames for the device.
func (d *Device) qemuCanReceive() bool {
	if !d.linkUp || d.regs[igb.RCTL/4]&igb.RCTL_EN == 0 || !d.busMaster {
		return false
	}
	for q := range igb.NumQueues {
		if d.regs[igb.RXDCTL(q)/4]&igb.XDCTL_ENABLE == 0 {
			continue
		}
		rdlen := d.regs[igb.RDLEN(q)/4]
		if rdlen == 0 {
			continue
		}
		// igb_ring_free_descr_num, in QEMU's unsigned arithmetic.
		n := rdlen / igb.DescSize
		rdh, rdt := d.regs[igb.RDH(q)/4], d.regs[igb.RDT(q)/4]
		free := rdt - rdh
		if rdh > rdt {
			free = n + rdt - rdh
		}
		if free != 0 {
			return true
		}
	}
	return false
}

// qemuReceive takes a frame from the wire: delivered now, or held behind
// the frames already held, or lost when the net layer's queue is full.
// Nothing is counted by the device for a held frame.
func (d *Device) qemuReceive(frame []byte) {
	if d.held.Empty() && d.qemuCanReceive() {
		d.receive(frame)
		return
	}
	if !d.held.Fits(len(frame), 1, qemuHeldFrames) {
		d.ctr.RxHeldDropped++
		return
	}
	d.held.Push(frame, 1, struct{}{})
	d.ctr.RxHeld++
}

// qemuFlush is igb_start_recv (qemu_flush_queued_packets): deliver held
// frames while the device can receive. It runs on RDT and RCTL.EN writes,
// bus mastering, and the link coming up.
func (d *Device) qemuFlush() {
	for !d.held.Empty() && d.qemuCanReceive() {
		f, _ := d.held.Peek(d.rxOut)
		d.held.Pop()
		d.ctr.RxHeldDelivered++
		d.receive(f)
	}
}

// RxReady reports whether a frame arriving now would reach the receive
// path: false while the QEMU profile's net layer would hold it (link down,
// RCTL.EN clear, no bus mastering, no free descriptor on an enabled
// queue), so that a testbed can wait before starting a flow. The
// datasheet device decides per frame (and keeps what it cannot place in
// its packet buffer).
func (d *Device) RxReady() bool {
	if !d.qemu {
		return true
	}
	return d.qemuCanReceive()
}
