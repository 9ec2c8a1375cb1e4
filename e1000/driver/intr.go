package driver

import (
	"github.com/nicbed/nicbed/e1000"
	"github.com/nicbed/nicbed/kernelmodel"
)

// intr is e1000_intr, the INTx handler: read ICR (which clears it); zero
// means the interrupt was not ours (the line is shared). A link change
// schedules the watchdog. Then mask every cause (IMC) and schedule NAPI,
// resetting the byte and packet totals e1000_set_itr will look at; the poll
// unmasks when it is done.
func (a *Adapter) intr(irq int) kernelmodel.IRQReturn {
	icr := a.rd(e1000.ICR)
	if icr == 0 {
		return kernelmodel.IRQ_NONE
	}
	a.k.TracePoint("e1000_intr", 0, int64(icr))
	// The read cleared what we may have caused; if we are going down there
	// is nothing more to do.
	if a.flagDown {
		return kernelmodel.IRQ_HANDLED
	}
	if icr&(e1000.ICR_RXSEQ|e1000.ICR_LSC) != 0 {
		a.getLinkStatus = true
		// schedule_delayed_work(&adapter->watchdog_task, 1)
		a.k.ModTimer(&a.watchdogTimer, a.k.Jiffies()+1)
	}
	// Disable interrupts, without the synchronize_irq bit.
	a.wr(e1000.IMC, 0xFFFFFFFF)
	a.writeFlush()
	// napi_schedule_prep and __napi_schedule: the kernel model's
	// NAPISchedule is both, with napi_schedule_prep's semantics (MISSED
	// set when already scheduled).
	if a.napi.NAPISchedule() {
		a.totalTxBytes, a.totalTxPackets = 0, 0
		a.totalRxBytes, a.totalRxPackets = 0, 0
	} else if !a.flagDown {
		// Already scheduled (or disabled): this should not happen, but
		// is no hard error; unmask and go on.
		a.irqEnable()
	}
	return kernelmodel.IRQ_HANDLED
}

// clean is e1000_clean, the NAPI poll: clean the transmit ring, then the
// receive ring up to budget (refilling it as it goes). With work left (a
// full budget, or a transmit ring that took a ring's worth) it returns the
// budget and stays scheduled; otherwise it completes NAPI and, only if
// napi_complete_done says it may, adapts ITR and unmasks interrupts.
func (a *Adapter) clean(n *kernelmodel.NAPI, budget int) int {
	txDone := a.cleanTxIRQ()
	work := a.cleanRxIRQ(budget)
	if !txDone || work == budget {
		return budget
	}
	if n.NAPICompleteDone(work) {
		if a.itrSetting&3 != 0 {
			a.setITR()
		}
		if !a.flagDown {
			a.irqEnable()
		}
	}
	return work
}
