package model

import (
	"math/bits"
	"time"

	"github.com/nicbed/nicbed/hw"
	"github.com/nicbed/nicbed/igb"
)

// Interrupts (datasheet 7.3 and the 8.8 registers).
//
// Causes. A queue's receive or transmit event sets the EICR bit that its
// IVAR byte names (if the byte's valid bit is set): in MSI-X mode
// (GPIE.MSIX_MODE) the bit is the MSI-X vector, otherwise one of the 16
// RxTxQ bits. The "other" causes set ICR bits; while ICR & IMS is not zero
// the other-cause EICR bit is set: the vector IVAR_MISC's second byte names
// in MSI-X mode, bit 31 (Other) otherwise. EICS sets EICR bits directly.
//
// Delivery. A vector is signalled when its EICR bit is set, its EIMS bit is
// set and a new event (a cause, EICS, or EIMS setting the bit while the
// cause is pending) has not been signalled yet — messages are edges, a cause
// left pending does not repeat. In MSI-X mode the message goes through the
// MSI-X table: a vector masked there (or with the function masked or MSI-X
// off) sets its PBA bit instead, and pci.MSIX sends it once when unmasked.
// Without MSI-X mode, EICR & EIMS drives the one interrupt: an MSI message
// per new event if MSI is enabled, INTA# as a level otherwise, throttled by
// EITR0.
//
// Throttling. EITR n's interval (bits 14:2, µs) is the least time between
// two messages of vector n: after a message the vector waits until the
// interval has passed, then an event waiting is signalled at once. A write
// to EITR without CNT_IGNR loads the counter (bits 30:21, µs) too, so
// writing a zero counter lets a waiting event through at once; with
// CNT_IGNR the running interval is kept. Reading EITR returns the interval
// and the counter (the µs left, at most 1023).
//
// Auto-clear and auto-mask. When a message is emitted (even one the MSI-X
// table holds pending) its EICR bit is cleared if the EIAC bit is set. With
// GPIE.EIAME the EIMS bit is cleared too if the EIAM bit is set, so the
// vector stays masked until software sets EIMS again; without EIAME, EIAM
// instead clears EIMS bits on an EICR read or write-1-to-clear and sets
// them on an EICS write.
//
// The model keeps the interrupt registers in intrState, not in the register
// array; readReg and writeReg hand them over.
type intrState struct {
	d                      *Device
	icr, ims, iam          uint32
	eicr, eims, eiac, eiam uint32
	gpie                   uint32
	ivar                   [igb.NumIVAR]uint32
	ivarMisc               uint32
	eitr                   [igb.NumEITR]uint32 // as written, without the counter
	vec                    [igb.NumEITR]vecState
	other                  bool // ICR & IMS was not zero
	lineOut                bool // INTA# as driven

	// QEMU profile (qemu.go).
	qemu      bool
	eitrGuest [igb.NumEITR]uint32 // EITR as written, what a read returns
	qsend     uint32              // vectors whose EICR & EIMS rose: send at exit
	qlegacy   bool                // ICR & IMS rose outside MSI-X mode: send at exit
}

// vecState is one vector's (one EICR bit's) delivery state.
type vecState struct {
	timer hw.Timer
	next  time.Duration // earliest time of the next message (EITR)
	want  bool          // an event waits to be signalled
}

func (s *intrState) init(d *Device) {
	s.d = d
	s.qemu = d.qemu
	for i := range s.vec {
		s.vec[i].timer = d.clk.NewTimer(func() { d.onEITR(i) })
	}
}

// saveEITR and reset: the interval registers survive a device reset
// (datasheet: EITR is not reset by CTRL.DEV_RST); everything else clears.
func (s *intrState) saveEITR() [igb.NumEITR]uint32 { return s.eitr }

func (s *intrState) reset(eitr [igb.NumEITR]uint32) {
	d := s.d
	for i := range s.vec {
		s.vec[i].timer.Stop()
		s.vec[i].want = false
		s.vec[i].next = 0
	}
	*s = intrState{d: d, vec: s.vec, eitr: eitr, eitrGuest: s.eitrGuest, qemu: s.qemu, lineOut: s.lineOut}
}

// msixMode reports GPIE.MSIX_MODE: EICR bits are MSI-X vectors.
func (s *intrState) msixMode() bool { return s.gpie&igb.GPIE_MSIX_MODE != 0 }

// mask is the EICR bits that exist in the current mode.
func (s *intrState) mask() uint32 {
	if s.msixMode() {
		return igb.EICR_MSIX_MASK
	}
	return igb.EICR_LEGACY_MASK
}

// setEICR sets EICR bits and marks each as an event to signal.
func (s *intrState) setEICR(b uint32) {
	b &= s.mask()
	s.eicr |= b
	s.d.dirty = true
	if !s.msixMode() {
		// One interrupt for every bit, throttled by EITR0.
		s.vec[0].want = s.vec[0].want || b != 0
		return
	}
	for b != 0 {
		i := bits.TrailingZeros32(b)
		b &^= 1 << i
		s.vec[i].want = true
	}
}

// queueEvent is a receive (tx false) or transmit event of queue q: the
// EICR bit its IVAR byte allocates, if valid.
func (s *intrState) queueEvent(q int, tx bool) {
	if s.qemu {
		s.qemuQueueEvent(q, tx)
		return
	}
	reg, b := igb.IVARByte(q, tx)
	alloc := s.ivar[reg] >> (8 * b) & 0xFF
	if alloc&igb.IVAR_VALID == 0 {
		s.d.ctr.UnmappedCauses++
		return
	}
	v := alloc & igb.IVAR_VECTOR_MASK
	if !s.msixMode() {
		v &= 0xF // RxTxQ bits 15:0
	}
	s.setEICR(1 << v)
}

// raise sets "other" interrupt causes in ICR.
func (s *intrState) raise(cause uint32) {
	cause &= igb.ICR_VALID
	if cause == 0 {
		return
	}
	s.d.ctr.Causes++
	if s.qemu {
		s.qemuRaise(&s.icr, cause)
		return
	}
	s.icr |= cause
	s.otherUpdate()
}

// otherUpdate sets the other-cause EICR bit on a rising ICR & IMS.
func (s *intrState) otherUpdate() {
	on := s.icr&s.ims != 0
	if on && !s.other {
		if s.msixMode() {
			alloc := s.ivarMisc >> (8 * igb.IVARMISC_OTHER) & 0xFF
			if alloc&igb.IVAR_VALID != 0 {
				s.setEICR(1 << (alloc & igb.IVAR_VECTOR_MASK))
			} else {
				s.d.ctr.UnmappedCauses++
			}
		} else {
			s.setEICR(igb.EICR_OTHER)
		}
	}
	s.other = on
	s.d.dirty = true
}

// readICR is ICR: the causes, with INT_ASSERTED while an unmasked one is
// pending; the read clears them when one was asserted or GPIE.NSICR is set.
func (s *intrState) readICR() uint32 {
	if s.qemu {
		return s.qemuReadICR()
	}
	v := s.icr
	if s.icr&s.ims != 0 {
		v |= igb.ICR_INT_ASSERTED
	}
	if v&igb.ICR_INT_ASSERTED != 0 || s.gpie&igb.GPIE_NSICR != 0 {
		s.icr = 0
		s.otherUpdate()
	}
	return v
}

// readEICR is EICR: read to clear, with EIAM clearing EIMS bits unless
// GPIE.EIAME moved auto-mask to emission.
func (s *intrState) readEICR() uint32 {
	v := s.eicr
	if s.qemu { // igb_mac_read_clr4
		s.eicr = 0
		return v
	}
	s.clearEICR(v)
	return v
}

func (s *intrState) clearEICR(b uint32) {
	if s.qemu { // igb_set_eicr
		s.qemuLower(&s.eicr, b&s.mask())
		return
	}
	s.eicr &^= b
	if s.gpie&igb.GPIE_EIAME == 0 {
		s.eims &^= b & s.eiam
	}
	s.d.dirty = true
}

func (s *intrState) writeEICS(v uint32) {
	v &= s.mask()
	if s.qemu { // igb_set_eics
		s.qemuRaise(&s.eicr, v)
		return
	}
	if s.gpie&igb.GPIE_EIAME == 0 {
		s.eims |= v & s.eiam
	}
	s.setEICR(v)
}

func (s *intrState) writeEIMS(v uint32) {
	v &= s.mask()
	if s.qemu { // igb_set_eims
		s.qemuRaise(&s.eims, v)
		return
	}
	s.eims |= v
	// A cause pending under the mask becomes an event to signal.
	s.setEICR(s.eicr & v)
}

func (s *intrState) writeEIMC(v uint32) {
	if s.qemu { // igb_set_eimc
		s.qemuLower(&s.eims, v&s.mask())
		return
	}
	s.eims &^= v
	s.d.dirty = true
}

// writeEITR stores vector n's interval and, without CNT_IGNR, loads its
// counter from bits 30:21.
func (s *intrState) writeEITR(n int, v uint32) {
	if s.qemu {
		s.qemuWriteEITR(n, v)
		return
	}
	s.eitr[n] = v &^ (igb.EITR_COUNTER_MASK | igb.EITR_CNT_IGNR)
	if v&igb.EITR_CNT_IGNR == 0 {
		cnt := time.Duration(v&igb.EITR_COUNTER_MASK>>igb.EITR_COUNTER_SHIFT) * time.Microsecond
		s.vec[n].next = s.d.now() + cnt
		s.vec[n].timer.Stop()
	}
	s.d.dirty = true
}

// readEITR returns the interval and the counter: the µs until the vector
// may fire again.
func (s *intrState) readEITR(n int) uint32 {
	if s.qemu { // igb_mac_eitr_read
		return s.eitrGuest[n]
	}
	left := s.vec[n].next - s.d.now()
	cnt := uint32(0)
	if left > 0 {
		cnt = uint32(min((left+time.Microsecond-1)/time.Microsecond, 0x3FF))
	}
	return s.eitr[n] | cnt<<igb.EITR_COUNTER_SHIFT
}

// interval is vector n's EITR interval.
func (s *intrState) interval(n int) time.Duration {
	return time.Duration(igb.EITRInterval(s.eitr[n])) * time.Microsecond
}

// onEITR runs when vector i's interval has passed.
func (d *Device) onEITR(i int) {
	if d.qemu {
		d.qemuThrottleExpired(i)
		return
	}
	d.enter()
	d.dirty = true
	d.exit()
}

// update delivers what is due: called at the outermost exit of every entry
// point.
func (s *intrState) update() {
	if s.qemu {
		s.qemuUpdate()
		return
	}
	if s.msixMode() && s.d.msix.Enabled() {
		s.driveLine(false)
		pend := s.eicr & s.eims
		for pend != 0 {
			i := bits.TrailingZeros32(pend)
			pend &^= 1 << i
			if i < len(s.vec) && s.vec[i].want {
				s.deliver(i)
			}
		}
		return
	}
	pend := s.eicr & s.eims & igb.EICR_LEGACY_MASK
	if s.d.msi.Enabled() {
		s.driveLine(false)
		if pend != 0 && s.vec[0].want {
			s.deliver(0)
		}
		return
	}
	if pend == 0 {
		s.vec[0].want = false
		s.driveLine(false)
		return
	}
	if !s.lineOut && s.due(0) {
		s.vec[0].want = false
		s.vec[0].next = s.d.now() + s.interval(0)
		s.d.ctr.Interrupts++
		s.driveLine(true)
	}
}

// due reports whether vector i may fire now, arming its timer if not.
func (s *intrState) due(i int) bool {
	v := &s.vec[i]
	if now := s.d.now(); now < v.next {
		if !v.timer.Pending() || v.timer.When() != v.next {
			v.timer.ResetAt(v.next)
			s.d.ctr.Throttled++
		}
		return false
	}
	return true
}

// deliver emits vector i's message if EITR allows, else arms its timer.
func (s *intrState) deliver(i int) {
	if !s.due(i) {
		return
	}
	v := &s.vec[i]
	v.want = false
	v.next = s.d.now() + s.interval(i)
	bit := uint32(1) << i
	s.d.ctr.Interrupts++
	if s.msixMode() && s.d.msix.Enabled() {
		if i >= s.d.msix.Vectors() {
			s.d.ctr.BadVector++
		} else if !s.d.msix.Fire(i) {
			s.d.ctr.MSIXPending++
		}
	} else {
		s.d.msi.Fire(0)
	}
	s.eicr &^= bit & s.eiac
	if s.gpie&igb.GPIE_EIAME != 0 {
		s.eims &^= bit & s.eiam
	}
}

// driveLine sets INTA# (and configuration Status.Interrupt), honouring
// Command.Interrupt Disable.
func (s *intrState) driveLine(level bool) {
	s.d.pcfg.SetINTxStatus(level)
	out := level && !s.d.pcfg.INTxDisabled()
	if out != s.lineOut {
		s.lineOut = out
		s.d.intx.SetLevel(out)
	}
}
