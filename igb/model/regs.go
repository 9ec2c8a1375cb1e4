package model

import "github.com/nicbed/nicbed/igb"

// readReg is a 32-bit read of BAR0 at off (aligned and in range: the PCI
// gate filters the rest). Registers not in igb.Registers read 0; write-only
// ones read 0; read-to-clear statistics clear.
func (d *Device) readReg(off uint32) uint32 {
	r, inst, ok := igb.Lookup(off)
	if !ok {
		d.ctr.BadRegReads++
		return 0
	}
	off = r.At(inst)
	s := &d.intr
	switch {
	case off == igb.STATUS:
		return d.status()
	case off == igb.ICR:
		return s.readICR()
	case off == igb.IMS:
		return s.ims
	case off == igb.IAM:
		return s.iam
	case off == igb.GPIE:
		return s.gpie
	case off == igb.EIMS:
		return s.eims
	case off == igb.EIAC:
		return s.eiac
	case off == igb.EIAM:
		return s.eiam
	case off == igb.EICR:
		return s.readEICR()
	case r.Name == "EITR":
		return s.readEITR(inst)
	case r.Name == "IVAR":
		return s.ivar[inst]
	case off == igb.IVARMISC:
		return s.ivarMisc
	case off == igb.MDIC:
		return d.regs[off/4]
	}
	switch r.Access {
	case igb.WO, igb.WO1C:
		return 0
	case igb.RC:
		if d.qemu {
			return d.qemuReadStat(r.Name, off)
		}
		v := d.regs[off/4]
		d.regs[off/4] = 0
		return v
	}
	return d.regs[off/4]
}

// writeReg is a 32-bit write of BAR0 at off.
func (d *Device) writeReg(off, v uint32) {
	r, inst, ok := igb.Lookup(off)
	if !ok {
		d.ctr.BadRegWrites++
		return
	}
	off = r.At(inst)
	s := &d.intr
	switch {
	case off == igb.CTRL:
		if d.qemu {
			d.qemuWriteCTRL(v)
			return
		}
		d.writeCTRL(v)
		return
	case off == igb.CTRL_EXT:
		if v&igb.CTRL_EXT_PBA_CLR != 0 && !d.qemu { // QEMU clears the PBA through PBACLR only
			for i := range d.msix.Vectors() {
				d.msix.ClearPending(i)
			}
		}
		// EE_RST and PBA_CLR self-clear: the EEPROM image is always loaded.
		d.regs[off/4] = v &^ (igb.CTRL_EXT_EE_RST | igb.CTRL_EXT_PBA_CLR)
		return
	case off == igb.PBACLR:
		// igb_set_pbaclr: the bits written clear those vectors' pending
		// bits (QEMU: only with MSI-X on); the register keeps the value.
		d.regs[off/4] = v & (1<<igb.MSIXVectors - 1)
		if !d.qemu || d.msix.Enabled() {
			for i := range d.msix.Vectors() {
				if v&(1<<i) != 0 {
					d.msix.ClearPending(i)
				}
			}
		}
		return
	case off == igb.EERD:
		d.eerdWrite(v)
		return
	case off == igb.MDIC:
		if d.qemu {
			d.qemuMDIC(v)
			return
		}
		d.mdicWrite(v)
		return
	case off == igb.ICR && d.qemu: // igb_set_icr
		s.qemuNSICR()
		s.qemuLower(&s.icr, v)
		return
	case off == igb.ICR:
		s.icr &^= v
		s.otherUpdate()
		return
	case off == igb.ICS:
		s.raise(v)
		return
	case off == igb.IMS && d.qemu: // igb_set_ims
		s.qemuRaise(&s.ims, v&qemuIMSMask)
		return
	case off == igb.IMS:
		s.ims |= v & igb.ICR_VALID
		s.otherUpdate()
		return
	case off == igb.IMC && d.qemu: // igb_set_imc
		s.qemuLower(&s.ims, v)
		return
	case off == igb.IMC:
		s.ims &^= v
		s.otherUpdate()
		return
	case off == igb.IAM:
		s.iam = v & igb.ICR_VALID
		return
	case off == igb.GPIE:
		s.gpie = v & (igb.GPIE_NSICR | igb.GPIE_MSIX_MODE | igb.GPIE_EIAME | igb.GPIE_PBA)
		d.dirty = true
		return
	case off == igb.EICS:
		s.writeEICS(v)
		return
	case off == igb.EIMS:
		s.writeEIMS(v)
		return
	case off == igb.EIMC:
		s.writeEIMC(v)
		return
	case off == igb.EIAC && d.qemu:
		// igb_set_eiac: only in MSI-X mode, and bits are only ever set.
		if s.msixMode() {
			s.eiac |= v & igb.EICR_MSIX_MASK
		}
		return
	case off == igb.EIAC:
		s.eiac = v & igb.EICR_MSIX_MASK
		return
	case off == igb.EIAM && d.qemu:
		// igb_set_eiam ORs in the complement of what is written; QEMU
		// uses EIAM for nothing else.
		s.eiam |= ^(v & s.mask())
		return
	case off == igb.EIAM:
		s.eiam = v & (igb.EICR_MSIX_MASK | igb.EICR_LEGACY_MASK)
		return
	case off == igb.EICR:
		s.clearEICR(v)
		return
	case r.Name == "EITR":
		s.writeEITR(inst, v)
		return
	case r.Name == "IVAR":
		s.ivar[inst] = v & ivarBits
		return
	case off == igb.IVARMISC:
		s.ivarMisc = v & (ivarByte | ivarByte<<8)
		return
	case r.Name == "RSSRK":
		d.rssDirty = true
	}
	switch r.Access {
	case igb.RO, igb.RC:
		d.ctr.BadRegWrites++
		return
	}
	d.regs[off/4] = v
	switch r.Name {
	case "TDT":
		d.txStart(inst)
	case "TXDCTL":
		if !d.qemu { // QEMU starts a queue only on a TDT write
			d.txStart(inst)
		}
	case "TCTL":
		if !d.qemu {
			d.txKick()
		}
	case "RDT":
		d.rxPosted()
	case "RXDCTL", "SRRCTL":
		if !d.qemu {
			d.rxDrain()
		}
	case "RCTL":
		d.rctlWritten(v)
	}
}

const (
	ivarByte = igb.IVAR_VALID | igb.IVAR_VECTOR_MASK
	ivarBits = ivarByte | ivarByte<<8 | ivarByte<<16 | ivarByte<<24
)

// writeCTRL: RST and DEV_RST reset the device and self-clear; PHY_RST
// holds the PHY in reset while set.
func (d *Device) writeCTRL(v uint32) {
	if v&(igb.CTRL_RST|igb.CTRL_DEV_RST) != 0 {
		d.ctr.Resets++
		d.reset()
		return
	}
	d.regs[igb.CTRL/4] = v
	d.phyResetLine(v&igb.CTRL_PHY_RST != 0)
	d.updateLink()
}

// status is STATUS: link, duplex and speed from the PHY, PHYRA as stored.
func (d *Device) status() uint32 {
	v := d.regs[igb.STATUS/4] & igb.STATUS_PHYRA
	if d.linkUp {
		v |= igb.STATUS_LU | igb.STATUS_FD | igb.STATUS_SPEED_1000
	}
	if d.busMaster {
		v |= igb.STATUS_GIO_MES
	}
	return v
}
