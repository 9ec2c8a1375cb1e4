package driver

import (
	"fmt"

	"github.com/nicbed/nicbed/igb"
	"github.com/nicbed/nicbed/kernelmodel"
)

// qVector is struct igb_q_vector: one interrupt vector's worth of work — a
// receive ring and a transmit ring (IGB_FLAG_QUEUE_PAIRS), their NAPI
// instance, and the vector's interrupt moderation.
type qVector struct {
	a    *Adapter
	idx  int    // v_idx
	name string // eth0-TxRx-0, as /proc/interrupts shows it
	napi kernelmodel.NAPI
	rx   *rxRing
	tx   *txRing

	// vector is the MSI-X vector (idx+1; 0 without MSI-X), irq its
	// interrupt number, eimsValue its EICR/EIMS bit.
	vector    int
	irq       int
	eimsValue uint32
	handler   kernelmodel.IRQHandler // igb_msix_ring bound to this vector, made once

	rxC, txC     ringContainer
	itrVal       uint32 // in EITR units (4 × µs)
	setITR       bool
	itrRegister  uint32 // EITR(vector)
	txWorkLimit  int
	itrWrites    uint64 // igb_write_itr writes, for the demo and tests
	itrLastValue uint32 // the last value written to EITR

	// Where the vector's work ran: hardirqs and polls, and the CPUs
	// (bit per CPU) each ran on.
	hardirqs, polls       uint64
	hardirqCPUs, pollCPUs uint64
}

// ringContainer is struct igb_ring_container: the work since the last
// interrupt, and its latency class (igb_update_itr).
type ringContainer struct {
	totalBytes, totalPackets uint64
	itr                      latencyRange
}

// initInterruptScheme is igb_init_interrupt_scheme: igb_set_interrupt_capability
// and igb_alloc_q_vectors.
func (a *Adapter) initInterruptScheme() error {
	if err := a.setInterruptCapability(); err != nil {
		return err
	}
	a.allocQVectors()
	a.buildStatsTable()
	return nil
}

// setInterruptCapability is igb_set_interrupt_capability: MSI-X with one
// vector per queue pair and one for the other causes
// (pci_enable_msix_range with exactly that many); failing that, one queue
// pair on MSI; failing that, on the INTx pin.
func (a *Adapter) setInterruptCapability() error {
	p := a.pdev
	a.msix, a.msi = false, false
	if !a.opts.NoMSIX {
		n := a.rssQueues + NonQVectors
		if _, err := p.AllocIRQVectors(n, n, kernelmodel.PCI_IRQ_MSIX); err == nil {
			a.msix = true
			return nil
		}
	}
	// igb_reset_interrupt_capability and fall back to a single queue.
	a.rssQueues = 1
	if !a.opts.NoMSI {
		if _, err := p.AllocIRQVectors(1, 1, kernelmodel.PCI_IRQ_MSI); err == nil {
			a.msi = true
			return nil
		}
	}
	if _, err := p.AllocIRQVectors(1, 1, kernelmodel.PCI_IRQ_LEGACY); err != nil {
		return fmt.Errorf("igb: no interrupt: %w", err)
	}
	return nil
}

// allocQVectors is igb_alloc_q_vectors with igb_alloc_q_vector: one
// q_vector per queue pair, its NAPI added with the default weight, its
// interrupt moderation at IGB_START_ITR (or the fixed rx-usecs setting).
func (a *Adapter) allocQVectors() {
	a.qv = make([]*qVector, a.rssQueues)
	for i := range a.qv {
		q := &qVector{a: a, idx: i, txWorkLimit: a.txWorkLimit}
		q.name = fmt.Sprintf("%s-TxRx-%d", a.netdev.Name, i)
		q.napi.Name = q.name
		q.handler = q.msixRing
		q.itrVal = StartITR
		if a.rxITRSetting == 0 || a.rxITRSetting > 3 {
			q.itrVal = uint32(a.rxITRSetting)
		}
		q.itrRegister = igb.EITR(0)
		a.k.NetifNAPIAdd(a.netdev, &q.napi, q.poll, kernelmodel.NAPIPollWeight)
		a.qv[i] = q
	}
	if a.otherHandler == nil {
		a.otherHandler = a.msixOther
		a.intxHandler = a.intr
	}
	a.mapRings()
}

// resetInterruptCapability is igb_reset_interrupt_capability with
// igb_free_q_vectors: give the vectors back.
func (a *Adapter) resetInterruptCapability() {
	a.qv = nil
	a.msix, a.msi = false, false
	a.pdev.FreeIRQVectors()
}

// requestIRQ is igb_request_irq: igb_request_msix with MSI-X, else the one
// MSI or INTx interrupt for q_vector 0 (igb_assign_vector(q_vector[0], 0)).
func (a *Adapter) requestIRQ() error {
	k := a.k
	if a.msix {
		return a.requestMSIX()
	}
	a.assignVector(a.qv[0], 0)
	irq := a.pdev.PCIIRQVector(0)
	if err := k.RequestIRQ(irq, a.intxHandler, a.netdev.Name); err != nil {
		return fmt.Errorf("igb: %w", err)
	}
	a.qv[0].irq = irq
	a.irqRequested = true
	return nil
}

// requestMSIX is igb_request_msix: vector 0 for the other causes
// (igb_msix_other, named after the interface), vector i+1 for q_vector i
// (igb_msix_ring, eth0-TxRx-i), each q_vector's EITR at its vector, then
// igb_configure_msix.
func (a *Adapter) requestMSIX() error {
	k := a.k
	p := a.pdev
	if err := k.RequestIRQ(p.PCIIRQVector(0), a.otherHandler, a.netdev.Name); err != nil {
		return fmt.Errorf("igb: %w", err)
	}
	for i, q := range a.qv {
		q.vector = i + 1
		q.irq = p.PCIIRQVector(q.vector)
		q.itrRegister = igb.EITR(q.vector)
		if err := k.RequestIRQ(q.irq, q.handler, q.name); err != nil {
			for _, o := range a.qv[:i] {
				k.FreeIRQ(o.irq)
			}
			k.FreeIRQ(p.PCIIRQVector(0))
			return fmt.Errorf("igb: %w", err)
		}
	}
	a.irqRequested = true
	a.configureMSIX()
	return nil
}

// freeIRQ is igb_free_irq.
func (a *Adapter) freeIRQ() {
	if !a.irqRequested {
		return
	}
	a.irqRequested = false
	if a.msix {
		a.k.FreeIRQ(a.pdev.PCIIRQVector(0))
		for _, q := range a.qv {
			a.k.FreeIRQ(q.irq)
		}
		return
	}
	a.k.FreeIRQ(a.qv[0].irq)
}

// configureMSIX is igb_configure_msix for the 82576: GPIE to MSI-X mode
// with PBA support, auto-mask enable and non-selective clear on read, the
// other causes on vector 0 (IVAR_MISC), each q_vector's queues on its
// vector (igb_assign_vector).
func (a *Adapter) configureMSIX() {
	a.eimsEnableMask = 0
	// Turn on MSI-X capability first, or the settings won't stick.
	a.wr(igb.GPIE, igb.GPIE_MSIX_MODE|igb.GPIE_PBA|igb.GPIE_EIAME|igb.GPIE_NSICR)
	vector := 0
	a.eimsOther = 1 << vector
	a.wr(igb.IVARMISC, uint32(vector|igb.IVAR_VALID)<<8)
	vector++
	a.eimsEnableMask |= a.eimsOther
	for _, q := range a.qv {
		a.assignVector(q, vector)
		vector++
	}
	a.writeFlush()
}

// assignVector is igb_assign_vector for the 82576: the IVAR table is two
// columns of eight rows, column-major — queue q's byte is in IVAR(q & 7),
// at bit (q & 8) << 1 for receive and ((q & 8) << 1) + 8 for transmit.
func (a *Adapter) assignVector(q *qVector, vector int) {
	if q.rx != nil {
		a.writeIVAR(vector, q.rx.idx&7, (q.rx.idx&8)<<1)
	}
	if q.tx != nil {
		a.writeIVAR(vector, q.tx.idx&7, (q.tx.idx&8)<<1+8)
	}
	q.eimsValue = 1 << vector
	a.eimsEnableMask |= q.eimsValue
	// Set ITR on the first interrupt.
	q.setITR = true
}

// writeIVAR is igb_write_ivar: vector (with the valid bit) into the byte at
// offset of IVAR index.
func (a *Adapter) writeIVAR(vector, index, offset int) {
	ivar := a.rd(igb.IVAR(index))
	ivar &^= 0xFF << offset
	ivar |= uint32(vector|igb.IVAR_VALID) << offset
	a.wr(igb.IVAR(index), ivar)
}

// imsEnableMask is IMS_ENABLE_MASK: what igb_irq_enable unmasks without
// MSI-X (RXT0, TXDW, RXDMT0, RXSEQ, LSC).
const imsEnableMask = igb.ICR_RXDW | igb.ICR_TXDW | igb.ICR_RXDMT0 | 1<<3 | igb.ICR_LSC

// irqEnable is igb_irq_enable: with MSI-X, every vector auto-cleared (EIAC)
// and auto-masked (EIAM) and unmasked (EIMS), LSC, DOUTSYNC and DRSTA in
// IMS; otherwise IMS and IAM. Without MSI-X the model routes the queue
// causes through EICR too, so their bit (and Other) is unmasked in EIMS.
func (a *Adapter) irqEnable() {
	a.k.TracePoint("igb_irq_enable", 0, int64(a.eimsEnableMask))
	if a.msix {
		ims := uint32(igb.ICR_LSC | igb.ICR_DOUTSYNC | igb.ICR_DRSTA)
		a.wr(igb.EIAC, a.rd(igb.EIAC)|a.eimsEnableMask)
		a.wr(igb.EIAM, a.rd(igb.EIAM)|a.eimsEnableMask)
		a.wr(igb.EIMS, a.eimsEnableMask)
		a.wr(igb.IMS, ims)
	} else {
		a.wr(igb.IMS, imsEnableMask|igb.ICR_DRSTA)
		a.wr(igb.IAM, imsEnableMask|igb.ICR_DRSTA)
		// EIAM without GPIE.EIAME: the handler's EICR read masks the
		// causes until the poll unmasks them.
		a.wr(igb.EIAM, a.eimsEnableMask|igb.EICR_OTHER)
		a.wr(igb.EIMS, a.eimsEnableMask|igb.EICR_OTHER)
	}
	a.writeFlush()
}

// irqDisable is igb_irq_disable: undo auto-mask and auto-clear, mask every
// vector and every cause.
func (a *Adapter) irqDisable() {
	if a.msix {
		a.wr(igb.EIAM, a.rd(igb.EIAM)&^a.eimsEnableMask)
		a.wr(igb.EIMC, a.eimsEnableMask)
		a.wr(igb.EIAC, a.rd(igb.EIAC)&^a.eimsEnableMask)
	} else {
		a.wr(igb.EIMC, 0xFFFFFFFF)
	}
	a.wr(igb.IAM, 0)
	a.wr(igb.IMC, 0xFFFFFFFF)
	a.writeFlush()
}

// msixRing is igb_msix_ring, a q_vector's MSI-X handler: write the ITR the
// last poll computed, then schedule NAPI. The vector stays masked (EIAM)
// until the poll re-enables it.
func (q *qVector) msixRing(irq int) kernelmodel.IRQReturn {
	q.noteHardirq()
	q.writeITR()
	q.a.k.TracePoint("igb_msix_ring", 0, int64(q.vector))
	q.napi.NAPISchedule()
	return kernelmodel.IRQ_HANDLED
}

// noteHardirq counts a hardirq of the vector and its CPU.
func (q *qVector) noteHardirq() {
	q.hardirqs++
	if c := q.a.k.CurrentCPU(); c != nil && c.ID < 64 {
		q.hardirqCPUs |= 1 << c.ID
	}
}

// QVectorStats is one q_vector's activity: its MSI-X vector and
// interrupt, its hardirqs and NAPI polls and the CPUs (a bit per CPU) they
// ran on, and its interrupt moderation.
type QVectorStats struct {
	Name                  string
	Vector, IRQ           int
	Hardirqs, Polls       uint64
	HardirqCPUs, PollCPUs uint64
	ITR                   ITRStatus
}

// QVectors reports every q_vector's activity.
func (a *Adapter) QVectors() []QVectorStats {
	itr := a.ITR()
	out := make([]QVectorStats, len(a.qv))
	for i, q := range a.qv {
		out[i] = QVectorStats{Name: q.name, Vector: q.vector, IRQ: q.irq, Hardirqs: q.hardirqs, Polls: q.polls,
			HardirqCPUs: q.hardirqCPUs, PollCPUs: q.pollCPUs, ITR: itr[i]}
	}
	return out
}

// msixOther is igb_msix_other, the other-causes vector: read ICR (which
// clears it); a device reset asserted schedules the reset task, a link
// change the watchdog; then unmask the vector again.
func (a *Adapter) msixOther(irq int) kernelmodel.IRQReturn {
	icr := a.rd(igb.ICR)
	a.k.TracePoint("igb_msix_other", 0, int64(icr))
	a.otherCauses(icr)
	if !a.flagDown {
		a.wr(igb.EIMS, a.eimsOther)
	}
	return kernelmodel.IRQ_HANDLED
}

// otherCauses acts on the other causes of an ICR value.
func (a *Adapter) otherCauses(icr uint32) {
	if icr&igb.ICR_DRSTA != 0 {
		a.scheduleReset()
	}
	if icr&igb.ICR_LSC != 0 {
		a.getLinkStatus = true
		// Guard against an interrupt while going down.
		if !a.flagDown {
			a.k.ModTimer(&a.watchdogTimer, a.k.Jiffies()+1)
		}
	}
}

// intr is igb_intr and igb_intr_msi, the one handler without MSI-X: read
// ICR (the other causes) and EICR (the queue cause; the model keeps it
// there; the read masks them, EIAM), act on link changes, write the ITR
// and schedule q_vector 0's NAPI. With INTx a read of zero is someone else's interrupt on the shared
// line.
func (a *Adapter) intr(irq int) kernelmodel.IRQReturn {
	icr := a.rd(igb.ICR)
	eicr := a.rd(igb.EICR)
	if !a.msi && icr&igb.ICR_INT_ASSERTED == 0 && eicr == 0 {
		return kernelmodel.IRQ_NONE
	}
	a.k.TracePoint("igb_intr", 0, int64(icr))
	q := a.qv[0]
	q.noteHardirq()
	q.writeITR()
	a.otherCauses(icr)
	q.napi.NAPISchedule()
	return kernelmodel.IRQ_HANDLED
}

// Vector is one interrupt the driver requested: its name as
// /proc/interrupts shows it and the kernel's interrupt number.
type Vector struct {
	Name string
	IRQ  int
}

// Vectors are the interrupts in use: with MSI-X the other-causes vector
// (named after the interface) then one per q_vector (eth0-TxRx-N);
// otherwise the one MSI or INTx interrupt. Before open they are the
// vectors allocated, named as they will be.
func (a *Adapter) Vectors() []Vector {
	p := a.pdev
	if !a.msix {
		return []Vector{{Name: a.netdev.Name, IRQ: p.PCIIRQVector(0)}}
	}
	out := []Vector{{Name: a.netdev.Name, IRQ: p.PCIIRQVector(0)}}
	for i, q := range a.qv {
		out = append(out, Vector{Name: q.name, IRQ: p.PCIIRQVector(i + 1)})
	}
	return out
}

// MSIX reports whether the adapter runs with MSI-X (IGB_FLAG_HAS_MSIX);
// MSI whether it fell back to MSI.
func (a *Adapter) MSIX() bool { return a.msix }

// MSI reports whether the adapter fell back to MSI.
func (a *Adapter) MSI() bool { return a.msi }
