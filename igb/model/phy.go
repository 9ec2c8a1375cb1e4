package model

import (
	"github.com/nicbed/nicbed/hw"
	"github.com/nicbed/nicbed/hw/mii"
	"github.com/nicbed/nicbed/igb"
)

// The 82576's internal PHY, reached through MDIC at PHY address 1: the
// clause 22 registers with the link coming up AutonegDelay after a PHY
// reset, an autonegotiation restart or a cable plugged in, STATUS.LU and
// ICR.LSC following it. Vendor registers 16–31 are plain storage.
// (e1000's M88 PHY has the same life cycle; sharing the state machine
// through hw/mii is the next step.)
type phyState struct {
	regs    [32]uint16
	timer   hw.Timer
	inReset bool // CTRL.PHY_RST held
	anDone  bool
}

// PHY identifier of the 82576's internal PHY: Linux's IGP03E1000_E_PHY_ID
// 0x02A80390 (also QEMU igb's), ID1 0x02A8 and ID2 0x0390, revision 0.
const (
	phyID1 = 0x02A8
	phyID2 = 0x0390
)

const partnerANLPAR = mii.ANLPAR_ACK | mii.ANAR_PAUSE | mii.ANAR_100FULL | mii.ANAR_100HALF |
	mii.ANAR_10FULL | mii.ANAR_10HALF | mii.ANAR_SELECTOR_8023

func (d *Device) phyReset() {
	if d.qemu {
		d.qemuResetLink()
		d.ctr.PHYResets++
		return
	}
	p := &d.phy
	p.regs = [32]uint16{}
	p.regs[mii.PHY_BMCR] = mii.BMCR_RESET_VALUE
	p.regs[mii.PHY_BMSR] = mii.BMSR_CAPS
	p.regs[mii.PHY_ID1] = phyID1
	p.regs[mii.PHY_ID2] = phyID2
	p.regs[mii.PHY_ANAR] = mii.ANAR_RESET_VALUE
	p.regs[mii.PHY_1000T_CTRL] = mii.GCR_1000T_RESET_V
	p.regs[mii.PHY_EXT_STATUS] = mii.ESTATUS_1000T_FD | mii.ESTATUS_1000T_HD
	p.anDone = false
	d.ctr.PHYResets++
	d.startAutoneg()
}

func (d *Device) phyResetLine(held bool) {
	if held && !d.phy.inReset {
		d.phy.inReset = true
		d.phy.anDone = false
		d.phy.timer.Stop()
	} else if !held && d.phy.inReset {
		d.phy.inReset = false
		d.phyReset()
	}
}

func (d *Device) startAutoneg() {
	d.phy.anDone = false
	d.phy.timer.Stop()
	if d.cableUp && !d.phy.inReset {
		d.phy.timer.Reset(d.autonegDelay)
	}
	d.updateLink()
}

func (d *Device) onAutoneg() {
	d.enter()
	defer d.exit()
	if d.qemu {
		d.qemuAutonegDone()
		return
	}
	if d.cableUp && !d.phy.inReset {
		d.phy.anDone = true
	}
	d.updateLink()
}

func (d *Device) setCable(up bool) {
	if up == d.cableUp {
		return
	}
	d.cableUp = up
	if d.qemu {
		d.qemuSetCable(up)
		return
	}
	d.startAutoneg()
}

// updateLink sets STATUS.LU from the PHY and raises LSC on a change.
func (d *Device) updateLink() {
	up := d.phy.anDone && d.cableUp && !d.phy.inReset
	p := &d.phy
	if up {
		p.regs[mii.PHY_BMSR] |= mii.BMSR_LSTATUS | mii.BMSR_ANEGCOMPLETE
		p.regs[mii.PHY_ANLPAR] = partnerANLPAR
		p.regs[mii.PHY_1000T_STATUS] = mii.GSR_LOCAL_RX_OK | mii.GSR_REMOTE_RX_OK | mii.GSR_LP_1000T_FD | mii.GSR_LP_1000T_HD
	} else {
		p.regs[mii.PHY_BMSR] &^= mii.BMSR_LSTATUS | mii.BMSR_ANEGCOMPLETE
		p.regs[mii.PHY_ANLPAR] = 0
		p.regs[mii.PHY_1000T_STATUS] = 0
	}
	if up != d.linkUp {
		d.linkUp = up
		d.intr.raise(igb.ICR_LSC)
		if up {
			d.txKick()
		}
	}
}

// mdicWrite is MDIC: a read or write of PHY register REG at address PHY
// completes at once with READY (and ICR.MDAC if INT_EN); another PHY
// address or opcode completes with ERROR.
func (d *Device) mdicWrite(v uint32) {
	d.ctr.MDICAccesses++
	reg := v & igb.MDIC_REG_MASK >> igb.MDIC_REG_SHIFT
	addr := v & igb.MDIC_PHY_MASK >> igb.MDIC_PHY_SHIFT
	op := v & igb.MDIC_OP_MASK
	out := v&^(igb.MDIC_READY|igb.MDIC_ERROR) | igb.MDIC_READY
	switch {
	case addr != igb.PHYAddr || (op != igb.MDIC_OP_READ && op != igb.MDIC_OP_WRITE):
		out |= igb.MDIC_ERROR
		d.ctr.MDICErrors++
	case op == igb.MDIC_OP_READ:
		out = out&^igb.MDIC_DATA_MASK | uint32(d.phy.regs[reg])
	default:
		d.phyWrite(reg, uint16(v))
	}
	d.regs[igb.MDIC/4] = out
	if v&igb.MDIC_INT_EN != 0 {
		d.intr.raise(igb.ICR_MDAC)
	}
}

func (d *Device) phyWrite(reg uint32, v uint16) {
	switch reg {
	case mii.PHY_BMCR:
		if v&mii.BMCR_RESET != 0 {
			d.phyReset()
			return
		}
		d.phy.regs[reg] = v &^ mii.BMCR_ANRESTART
		if v&mii.BMCR_ANRESTART != 0 && v&mii.BMCR_ANENABLE != 0 {
			d.startAutoneg()
		}
	case mii.PHY_BMSR, mii.PHY_ID1, mii.PHY_ID2, mii.PHY_ANLPAR, mii.PHY_ANER, mii.PHY_LPRNPG,
		mii.PHY_1000T_STATUS, mii.PHY_EXT_STATUS:
		d.ctr.MDICErrors++ // read-only: ignored
	default:
		d.phy.regs[reg] = v
	}
}
