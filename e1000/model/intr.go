package model

import (
	"time"

	"github.com/nicbed/nicbed/e1000"
)

// Interrupts (datasheet 13.4.17–13.4.21 and 3.4.2 interrupt moderation).
//
// A cause sets its ICR bit at once. INTA# is asserted while ICR & IMS is not
// zero, except that with ITR non-zero an assertion waits until ITR × 256 ns
// have passed since the previous one; it is deasserted as soon as ICR & IMS
// is zero (ICR read, W1C, IMC).
//
// The receive and transmit delay timers decide when RXT0 and TXDW are set:
//
//   - RDTR (packet timer): restarted by every frame stored; RXT0 when it
//     expires. RDTR = 0 sets RXT0 for every frame at once.
//   - RADV (absolute timer): started by the first frame stored after the
//     last RXT0 and not restarted; RXT0 when it expires. RADV = 0 disables
//     it. It is used only with RDTR non-zero.
//   - TIDV and TADV: the same for transmit descriptors written back with
//     RS (or RPS) and IDE; without IDE, or with TIDV = 0, TXDW is immediate.
//
// Either timer of a pair firing sets the cause and stops both. All four count
// 1.024 µs units and fire at exactly that model time.

// raise sets interrupt causes in ICR.
func (d *Device) raise(cause uint32) {
	cause &= e1000.ICR_VALID
	if cause == 0 {
		return
	}
	d.icr |= cause
	d.ctr.Causes++
	d.irqDirty = true
	if d.depth == 0 {
		d.irqDirty = false
		d.updateIRQ()
	}
}

// updateIRQ drives INTA# from ICR, IMS and ITR.
func (d *Device) updateIRQ() {
	if d.qemu {
		d.qemuUpdateIRQ()
		return
	}
	if d.icr&d.ims == 0 {
		d.level = false
		d.itrTimer.Stop()
		d.drive()
		return
	}
	if d.level {
		d.drive()
		return
	}
	if gap := time.Duration(d.regs[e1000.ITR/4]&e1000.ITR_INTERVAL_MASK) * e1000.ITRUnitNs; gap > 0 && d.asserted {
		if at := d.lastAssert + gap; d.now() < at {
			if !d.itrTimer.Pending() || d.itrTimer.When() != at {
				d.itrTimer.ResetAt(at)
				d.ctr.ITRDeferred++
			}
			return
		}
	}
	d.level = true
	d.asserted = true
	d.lastAssert = d.now()
	d.ctr.IRQAsserts++
	d.drive()
}

// drive sets the INTx line and the configuration Status.Interrupt bit.
func (d *Device) drive() {
	if d.level == d.statusINTx && !d.level && !d.lineOut {
		return // nothing pending, nothing to change
	}
	d.statusINTx = d.level
	d.pcfg.SetINTxStatus(d.level)
	out := d.level && !d.pcfg.INTxDisabled()
	if out != d.lineOut {
		d.lineOut = out
		d.intx.SetLevel(out)
	}
}

// onITR runs when the ITR interval has passed.
func (d *Device) onITR() {
	d.enter()
	d.irqDirty = true
	d.exit()
}

// rxDone schedules RXT0 after a frame was stored.
func (d *Device) rxDone() {
	rdtr := d.regs[e1000.RDTR/4] & e1000.DELAY_MASK
	if rdtr == 0 || d.qemu { // QEMU: RXT0 at once, the mitigation timer delays it
		d.raise(e1000.ICR_RXT0)
		return
	}
	d.rdtrTimer.Reset(delay(rdtr))
	if radv := d.regs[e1000.RADV/4] & e1000.DELAY_MASK; radv != 0 && !d.radvTimer.Pending() {
		d.radvTimer.Reset(delay(radv))
	}
}

// onRxTimer runs when RDTR or RADV expires.
func (d *Device) onRxTimer() {
	d.enter()
	defer d.exit()
	d.onRxTimerLocked()
}

func (d *Device) onRxTimerLocked() {
	d.rdtrTimer.Stop()
	d.radvTimer.Stop()
	d.ctr.RxTimerFired++
	d.raise(e1000.ICR_RXT0)
}

// txWrittenBack schedules TXDW after a descriptor with RS or RPS was written
// back; ide is the descriptor's interrupt delay enable.
func (d *Device) txWrittenBack(ide bool) {
	tidv := d.regs[e1000.TIDV/4] & e1000.DELAY_MASK
	if !ide || tidv == 0 || d.qemu { // QEMU: TXDW at once, the mitigation timer delays it
		d.raise(e1000.ICR_TXDW)
		return
	}
	d.tidvTimer.Reset(delay(tidv))
	if tadv := d.regs[e1000.TADV/4] & e1000.DELAY_MASK; tadv != 0 && !d.tadvTimer.Pending() {
		d.tadvTimer.Reset(delay(tadv))
	}
}

// onTxTimer runs when TIDV or TADV expires.
func (d *Device) onTxTimer() {
	d.enter()
	defer d.exit()
	d.tidvTimer.Stop()
	d.tadvTimer.Stop()
	d.ctr.TxTimerFired++
	d.raise(e1000.ICR_TXDW)
}
