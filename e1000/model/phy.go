package model

import "github.com/nicbed/nicbed/e1000"

// phyState is the internal M88E1011-compatible PHY (datasheet 13.5), reached
// through MDIC at PHY address 1.
//
// The link comes up through autonegotiation: a PHY reset (power-on, CTRL
// PHY_RST released, BMCR reset), an autonegotiation restart (BMCR bit 9) or a
// cable plugged in starts it, and AutonegDelay of model time later, if the
// cable is still up, BMSR reports link and autonegotiation complete, the link
// partner's abilities appear in ANLPAR and 1000T_STATUS, and STATUS.LU rises
// with LSC (when CTRL.SLU is set). Pulling the cable drops the link at once.
// BMSR's link bit latches low: after a link loss it reads 0 once even if the
// link is back.
type phyState struct {
	regs        [32]uint16
	inReset     bool // CTRL.PHY_RST held
	anDone      bool // autonegotiation complete and link established
	latchedDown bool // BMSR.LSTATUS latched low since the last read
	// QEMU profile.
	poweredOn  bool // no cable seen since power-on: the link comes up without autonegotiation
	anComplete bool // BMSR autonegotiation complete
}

// Link partner as the cable presents it: a 1000BASE-T full-duplex port with
// symmetric pause.
const (
	partnerANLPAR = e1000.ANLPAR_ACK | e1000.ANAR_PAUSE | e1000.ANAR_100FULL | e1000.ANAR_100HALF |
		e1000.ANAR_10FULL | e1000.ANAR_10HALF | e1000.ANAR_SELECTOR_8023
	partnerGSR = e1000.GSR_LOCAL_RX_OK | e1000.GSR_REMOTE_RX_OK | e1000.GSR_LP_1000T_FD | e1000.GSR_LP_1000T_HD
)

// phyReset is a hardware reset of the PHY (power-on, CTRL.PHY_RST released):
// registers at their reset values and, with a cable present,
// autonegotiation started.
func (d *Device) phyReset() {
	p := &d.phy
	p.regs = [32]uint16{}
	p.regs[e1000.PHY_BMCR] = e1000.BMCR_RESET_VALUE
	p.regs[e1000.PHY_BMSR] = e1000.BMSR_CAPS
	p.regs[e1000.PHY_ID1] = e1000.PHY_ID1_82540EM
	p.regs[e1000.PHY_ID2] = e1000.PHY_ID2_82540EM
	p.regs[e1000.PHY_ANAR] = e1000.ANAR_RESET_VALUE
	p.regs[e1000.PHY_ANER] = e1000.ANER_NPABLE
	p.regs[e1000.PHY_1000T_CTRL] = e1000.GCR_1000T_RESET_V
	p.regs[e1000.PHY_EXT_STATUS] = e1000.ESTATUS_1000T_FD | e1000.ESTATUS_1000T_HD
	p.regs[e1000.M88_PSCR] = e1000.M88_PSCR_RESET_VALUE
	p.regs[e1000.M88_EPSCR] = e1000.M88_EPSCR_RESET_VAL
	p.inReset = false
	if p.anDone {
		p.latchedDown = true
	}
	p.anDone = false
	d.ctr.PHYResets++
	if d.qemu {
		p.poweredOn = true // QEMU's reset does not autonegotiate
		return
	}
	d.startAutoneg()
}

// startAutoneg begins autonegotiation if the PHY can: cable present, not in
// reset, not powered down.
func (d *Device) startAutoneg() {
	p := &d.phy
	if p.anDone {
		p.latchedDown = true
	}
	p.anDone = false
	d.anTimer.Stop()
	if d.cableUp && !p.inReset && p.regs[e1000.PHY_BMCR]&e1000.BMCR_PDOWN == 0 {
		d.anTimer.Reset(d.autonegDelay)
	}
	d.updateLink()
}

// onAutoneg completes autonegotiation.
func (d *Device) onAutoneg() {
	d.enter()
	defer d.exit()
	if d.qemu {
		d.qemuAutonegDone()
		return
	}
	if !d.cableUp || d.phy.inReset {
		return
	}
	d.phy.anDone = true
	d.ctr.AutonegCompleted++
	d.updateLink()
}

// setCable records the cable's state and lets the PHY react.
func (d *Device) setCable(up bool) {
	if up == d.cableUp {
		return
	}
	d.cableUp = up
	if d.qemu {
		d.qemuSetCable(up)
		return
	}
	if up {
		d.startAutoneg()
		return
	}
	if d.phy.anDone {
		d.phy.latchedDown = true
	}
	d.phy.anDone = false
	d.anTimer.Stop()
	d.updateLink()
}

// phyLink reports whether the PHY has link.
func (d *Device) phyLink() bool {
	return d.phy.anDone && d.cableUp && !d.phy.inReset
}

// updateLink recomputes STATUS.LU: PHY link with CTRL.SLU set (the MAC talks
// to its internal PHY only with SLU). A change raises LSC; link up lets
// pending transmit work go.
func (d *Device) updateLink() {
	up := d.phyLink() && (d.qemu || d.regs[e1000.CTRL/4]&e1000.CTRL_SLU != 0)
	if up == d.linkUp {
		return
	}
	d.linkUp = up
	d.ctr.LinkChanges++
	d.raise(e1000.ICR_LSC)
	if up {
		d.txKick()
		if d.qemu {
			d.qemuFlush()
		}
	}
}

// phyRead returns PHY register r.
func (d *Device) phyRead(r uint32) uint16 {
	p := &d.phy
	link := d.phyLink()
	switch r {
	case e1000.PHY_BMSR:
		v := p.regs[r]
		if d.qemu { // no latching; autonegotiation complete as QEMU keeps it
			if d.linkUp {
				v |= e1000.BMSR_LSTATUS
			}
			if p.anComplete {
				v |= e1000.BMSR_ANEGCOMPLETE
			}
			return v
		}
		if link && !p.latchedDown {
			v |= e1000.BMSR_LSTATUS
		}
		if link {
			v |= e1000.BMSR_ANEGCOMPLETE
		}
		p.latchedDown = false
		return v
	case e1000.PHY_ANLPAR:
		if link {
			return partnerANLPAR
		}
		return 0
	case e1000.PHY_ANER:
		if link {
			return p.regs[r] | e1000.ANER_LPANABLE | e1000.ANER_PAGERX
		}
		return p.regs[r]
	case e1000.PHY_1000T_STATUS:
		if link {
			return partnerGSR
		}
		return 0
	case e1000.M88_PSSR:
		if link {
			return e1000.PSSR_SPEED_1000 | e1000.PSSR_DPLX | e1000.PSSR_SPD_DPLX_RES | e1000.PSSR_LINK
		}
		return 0
	case e1000.M88_PISR, e1000.M88_RXERR:
		v := p.regs[r]
		p.regs[r] = 0
		return v
	}
	return p.regs[r]
}

// phyWrite writes PHY register r. Read-only registers ignore writes.
func (d *Device) phyWrite(r uint32, v uint16) {
	p := &d.phy
	switch r {
	case e1000.PHY_BMSR, e1000.PHY_ID1, e1000.PHY_ID2, e1000.PHY_ANLPAR, e1000.PHY_ANER,
		e1000.PHY_LPRNPG, e1000.PHY_1000T_STATUS, e1000.PHY_EXT_STATUS, e1000.M88_PSSR, e1000.M88_PISR, e1000.M88_RXERR:
		return
	case e1000.PHY_BMCR:
		if v&e1000.BMCR_RESET != 0 {
			// A software reset keeps the register contents (it is how
			// new advertisement settings take effect), drops the link
			// and restarts autonegotiation; the bit self-clears.
			p.regs[r] = v &^ (e1000.BMCR_RESET | e1000.BMCR_ANRESTART)
			d.ctr.PHYResets++
			d.startAutoneg()
			return
		}
		old := p.regs[r]
		p.regs[r] = v &^ e1000.BMCR_ANRESTART
		pdownChanged := (old^v)&e1000.BMCR_PDOWN != 0
		if v&e1000.BMCR_ANRESTART != 0 || pdownChanged || (old^v)&e1000.BMCR_ANENABLE != 0 {
			d.startAutoneg()
		}
		return
	}
	p.regs[r] = v
}

// mdicWrite runs an MDI read or write. It completes at once: READY is set,
// with ERROR for a PHY address other than 1 or a bad opcode, and MDAC is
// raised if the I bit asks for it.
func (d *Device) mdicWrite(v uint32) {
	if d.qemu {
		d.qemuMDIC(v)
		return
	}
	phyAddr := (v & e1000.MDIC_PHY_MASK) >> e1000.MDIC_PHY_SHIFT
	reg := (v & e1000.MDIC_REG_MASK) >> e1000.MDIC_REG_SHIFT
	op := v & e1000.MDIC_OP_MASK
	res := v &^ (e1000.MDIC_READY | e1000.MDIC_ERROR)
	switch {
	case phyAddr != e1000.PHYAddr:
		d.ctr.MDIOBadAccess++
		res |= e1000.MDIC_ERROR
	case op == e1000.MDIC_OP_READ:
		res = res&^e1000.MDIC_DATA_MASK | uint32(d.phyRead(reg))
	case op == e1000.MDIC_OP_WRITE:
		d.phyWrite(reg, uint16(v))
	default:
		d.ctr.MDIOBadAccess++
		res |= e1000.MDIC_ERROR
	}
	d.ctr.MDIOAccesses++
	d.regs[e1000.MDIC/4] = res | e1000.MDIC_READY
	if v&e1000.MDIC_INT_EN != 0 {
		d.raise(e1000.ICR_MDAC)
	}
}
