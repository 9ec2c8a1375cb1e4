package model

import (
	"time"

	"github.com/nicbed/nicbed/e1000"
)

// Register access kinds.
const (
	kindNone    uint8 = iota // not implemented: reads 0, writes ignored
	kindPlain                // storage: reads what was written (through the mask)
	kindSpecial              // handled by readReg/writeReg's switch
	kindStat                 // statistics: read-to-clear, writes ignored
)

// regKind and regMask describe every 32-bit register of BAR0: how it is
// accessed and, for plain and special registers, which bits software may
// write (the rest read as their reset value or as what the device put there).
var (
	regKind [regWords]uint8
	regMask [regWords]uint32
)

func init() {
	plain := func(off, mask uint32) { regKind[off/4], regMask[off/4] = kindPlain, mask }
	special := func(off, mask uint32) { regKind[off/4], regMask[off/4] = kindSpecial, mask }

	const all = 0xFFFFFFFF
	special(e1000.CTRL, e1000.CTRL_FD|e1000.CTRL_LRST|e1000.CTRL_ASDE|e1000.CTRL_SLU|e1000.CTRL_ILOS|
		e1000.CTRL_SPEED_MASK|e1000.CTRL_FRCSPD|e1000.CTRL_FRCDPLX|e1000.CTRL_SDP0_DATA|e1000.CTRL_SDP1_DATA|
		e1000.CTRL_ADVD3WUC|e1000.CTRL_EN_PHY_PWR|e1000.CTRL_SDP0_IODIR|e1000.CTRL_SDP1_IODIR|
		e1000.CTRL_RFCE|e1000.CTRL_TFCE|e1000.CTRL_VME|e1000.CTRL_PHY_RST)
	special(e1000.STATUS, 0)
	special(e1000.EECD, e1000.EECD_SK|e1000.EECD_CS|e1000.EECD_DI|e1000.EECD_FWE_MASK|e1000.EECD_REQ)
	special(e1000.EERD, e1000.EERD_START|e1000.EERD_ADDR_MASK)
	special(e1000.CTRL_EXT, 0x00FFFFFF) // GPI enables, SDP pins, ASDCHK, EE_RST, link mode
	plain(e1000.FLA, all)
	special(e1000.MDIC, e1000.MDIC_DATA_MASK|e1000.MDIC_REG_MASK|e1000.MDIC_PHY_MASK|e1000.MDIC_OP_MASK|e1000.MDIC_INT_EN)
	plain(e1000.FCAL, all)
	plain(e1000.FCAH, 0xFFFF)
	plain(e1000.FCT, 0xFFFF)
	plain(e1000.VET, 0xFFFF)
	plain(e1000.FCTTV, 0xFFFF)
	plain(e1000.TXCW, 0xC000FFFF)
	plain(e1000.RXCW, 0)
	plain(e1000.LEDCTL, all)
	plain(e1000.PBA, e1000.PBA_RXA_MASK)

	special(e1000.ICR, e1000.ICR_VALID)
	special(e1000.ITR, e1000.ITR_INTERVAL_MASK)
	special(e1000.ICS, e1000.ICR_VALID)
	special(e1000.IMS, e1000.ICR_VALID)
	special(e1000.IMC, e1000.ICR_VALID)

	special(e1000.RCTL, e1000.RCTL_EN|e1000.RCTL_SBP|e1000.RCTL_UPE|e1000.RCTL_MPE|e1000.RCTL_LPE|
		e1000.RCTL_LBM_MASK|e1000.RCTL_RDMTS_MASK|e1000.RCTL_MO_MASK|e1000.RCTL_BAM|e1000.RCTL_BSIZE_MASK|
		e1000.RCTL_VFE|e1000.RCTL_CFIEN|e1000.RCTL_CFI|e1000.RCTL_DPF|e1000.RCTL_PMCF|e1000.RCTL_BSEX|e1000.RCTL_SECRC)
	plain(e1000.FCRTL, 0x8000FFF8)
	plain(e1000.FCRTH, 0x0000FFF8)
	plain(e1000.RDBAL, 0xFFFFFFF0)
	plain(e1000.RDBAH, all)
	special(e1000.RDLEN, e1000.MaxRingLen)
	special(e1000.RDH, 0xFFFF)
	special(e1000.RDT, 0xFFFF)
	special(e1000.RDTR, e1000.DELAY_MASK)
	plain(e1000.RXDCTL, e1000.XDCTL_PTHRESH_MASK|e1000.XDCTL_HTHRESH_MASK|e1000.XDCTL_WTHRESH_MASK|e1000.XDCTL_GRAN)
	plain(e1000.RADV, e1000.DELAY_MASK)
	plain(e1000.RSRPD, e1000.RSRPD_SIZE_MSK)
	plain(e1000.RXCSUM, e1000.RXCSUM_PCSS_MASK|e1000.RXCSUM_IPOFLD|e1000.RXCSUM_TUOFLD)
	for i := range uint32(e1000.NumMTA) {
		plain(e1000.MTA+4*i, all)
	}
	for i := range e1000.NumRA {
		special(e1000.RAL(i), all)
		special(e1000.RAH(i), e1000.RAH_ADDR_MASK|e1000.RAH_AS_MASK|e1000.RAH_AV)
	}
	for i := range uint32(e1000.NumVFTA) {
		plain(e1000.VFTA+4*i, all)
	}

	special(e1000.TCTL, e1000.TCTL_EN|e1000.TCTL_PSP|e1000.TCTL_CT_MASK|e1000.TCTL_COLD_MASK|e1000.TCTL_SWXOFF|e1000.TCTL_RTLC)
	plain(e1000.TIPG, 0x3FFFFFFF)
	plain(e1000.AIFS, 0xFFFF)
	plain(e1000.TDFH, 0x1FFF)
	plain(e1000.TDFT, 0x1FFF)
	plain(e1000.TDBAL, 0xFFFFFFF0)
	plain(e1000.TDBAH, all)
	special(e1000.TDLEN, e1000.MaxRingLen)
	special(e1000.TDH, 0xFFFF)
	special(e1000.TDT, 0xFFFF)
	plain(e1000.TIDV, e1000.DELAY_MASK)
	plain(e1000.TXDCTL, e1000.XDCTL_PTHRESH_MASK|e1000.XDCTL_HTHRESH_MASK|e1000.XDCTL_WTHRESH_MASK|e1000.XDCTL_GRAN|0x7F<<e1000.TXDCTL_LWTHRESH_SFT)
	plain(e1000.TADV, e1000.DELAY_MASK)
	plain(e1000.TSPMT, all)

	plain(e1000.WUC, 0x1F)
	plain(e1000.WUFC, 0xFF)
	plain(e1000.WUS, 0xFF)
	plain(e1000.MANC, all)
	plain(e1000.IPAV, all)

	for _, s := range e1000.Stats {
		regKind[s.Off/4] = kindStat
	}
}

// readReg is a 32-bit read of BAR0 at off (aligned and in range: the PCI
// gate guarantees it).
func (d *Device) readReg(off uint32) uint32 {
	i := off / 4
	if i >= regWords {
		return 0xFFFFFFFF
	}
	switch regKind[i] {
	case kindPlain:
		return d.regs[i]
	case kindStat:
		if d.qemu && !qemuStatClearsOnRead(off) {
			return d.st.r[statIndex(off)]
		}
		return d.st.read(off)
	case kindNone:
		d.ctr.RegUnknown++
		return 0
	}
	d.enter()
	defer d.exit()
	switch off {
	case e1000.STATUS:
		return d.status()
	case e1000.EECD:
		return d.eecdRead()
	case e1000.ICR:
		// Read-to-clear: every cause goes, whatever IMS says.
		v := d.icr
		d.icr = 0
		d.irqDirty = true
		return v
	case e1000.ICS, e1000.IMC:
		return 0 // write-only
	case e1000.IMS:
		return d.ims
	case e1000.MDIC:
		return d.regs[i]
	}
	return d.regs[i]
}

// writeReg is a 32-bit write of BAR0 at off.
func (d *Device) writeReg(off, v uint32) {
	i := off / 4
	if i >= regWords {
		return
	}
	switch regKind[i] {
	case kindPlain:
		d.regs[i] = v & regMask[i]
		return
	case kindStat:
		return
	case kindNone:
		d.ctr.RegUnknown++
		return
	}
	d.enter()
	defer d.exit()
	m := regMask[i]
	switch off {
	case e1000.CTRL:
		d.writeCTRL(v)
	case e1000.STATUS:
	case e1000.EECD:
		d.eecdWrite(v & m)
	case e1000.EERD:
		d.eerdWrite(v & m)
	case e1000.CTRL_EXT:
		// EE_RST reloads the EEPROM (nothing to do: the image is the
		// EEPROM) and self-clears.
		d.regs[i] = v & m &^ e1000.CTRL_EXT_EE_RST
	case e1000.MDIC:
		d.mdicWrite(v & m)
	case e1000.ICR:
		d.icr &^= v // write 1 to clear
		d.irqDirty = true
	case e1000.ICS:
		d.raise(v & m)
	case e1000.IMS:
		d.ims |= v & m
		d.irqDirty = true
	case e1000.IMC:
		d.ims &^= v & m
		d.irqDirty = true
	case e1000.ITR:
		d.regs[i] = v & m
		d.irqDirty = true
	case e1000.RCTL:
		old := d.regs[i]
		d.regs[i] = v & m
		if d.qemu {
			d.qemuRCTLWritten()
		} else if v&e1000.RCTL_EN == 0 {
			d.ctr.RxFIFOFlushed += uint64(d.rx.fifo.Clear())
		} else if old&e1000.RCTL_EN == 0 {
			d.rxDrain()
		}
	case e1000.RDLEN, e1000.TDLEN:
		if v&^m != 0 || v&m == 0 {
			d.ctr.BadRingLength++
		}
		d.regs[i] = v & m
	case e1000.RDH, e1000.RDT:
		d.regs[i] = v & m
		if badRingIndex(v&m, d.regs[e1000.RDLEN/4]) {
			d.ctr.BadRingIndex++
		}
		if off == e1000.RDT {
			d.rxPosted()
		}
	case e1000.TDH:
		d.regs[i] = v & m
		if badRingIndex(v&m, d.regs[e1000.TDLEN/4]) {
			d.ctr.BadRingIndex++
		}
		// Moving the head abandons whatever descriptor was half done.
		d.tx.descOff = 0
	case e1000.TDT:
		d.regs[i] = v & m
		if badRingIndex(v&m, d.regs[e1000.TDLEN/4]) {
			d.ctr.BadRingIndex++
		}
		d.ctr.TxDoorbells++
		d.txKick()
	case e1000.RDTR:
		d.regs[i] = v & m
		if v&e1000.RDTR_FPD != 0 {
			// Flush Partial Descriptor block: report what is pending now.
			if d.rdtrTimer.Pending() || d.radvTimer.Pending() {
				d.onRxTimerLocked()
			}
		}
	case e1000.TCTL:
		old := d.regs[i]
		d.regs[i] = v & m
		if v&e1000.TCTL_EN != 0 && (old&e1000.TCTL_EN == 0 || d.qemu) { // QEMU's set_tctl always runs start_xmit
			d.txKick()
		}
	default:
		if off >= e1000.RA && off < e1000.RA+8*e1000.NumRA {
			d.regs[i] = v & m
			d.rebuildRA()
			return
		}
		d.regs[i] = v & m
	}
}

// writeCTRL handles Device Control: RST resets the device and self-clears;
// PHY_RST holds the PHY in reset while set; SLU gates the link.
func (d *Device) writeCTRL(v uint32) {
	if d.qemu {
		d.qemuWriteCTRL(v)
		return
	}
	if v&e1000.CTRL_RST != 0 {
		d.ctr.Resets++
		d.reset()
		return
	}
	old := d.regs[e1000.CTRL/4]
	d.regs[e1000.CTRL/4] = v & regMask[e1000.CTRL/4]
	switch {
	case v&e1000.CTRL_PHY_RST != 0 && old&e1000.CTRL_PHY_RST == 0:
		d.phy.inReset = true
		d.anTimer.Stop()
		d.phy.anDone = false
	case v&e1000.CTRL_PHY_RST == 0 && old&e1000.CTRL_PHY_RST != 0:
		d.phyReset()
	}
	d.updateLink()
}

// status computes STATUS: full duplex at 1000 Mb/s (the only speed the cable
// offers), LU while the link is up.
func (d *Device) status() uint32 {
	s := uint32(e1000.STATUS_FD | e1000.STATUS_SPEED_1000)
	if d.linkUp {
		s |= e1000.STATUS_LU
	}
	if d.regs[e1000.CTRL_EXT/4]&e1000.CTRL_EXT_ASDCHK != 0 {
		s |= e1000.STATUS_ASDV_1000
	}
	return s
}

// delay converts a 16-bit RDTR/RADV/TIDV/TADV value to model time.
func delay(v uint32) time.Duration {
	return time.Duration(v&e1000.DELAY_MASK) * e1000.DelayUnitNs
}

// badRingIndex reports a head or tail outside a ring of rdlen bytes. Zero on a
// ring not yet set up (length 0) is what drivers write after a reset, and is
// not counted.
func badRingIndex(idx, rdlen uint32) bool {
	n := rdlen / e1000.DescSize
	return idx >= n && !(n == 0 && idx == 0)
}
