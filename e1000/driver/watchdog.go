package driver

import (
	"github.com/nicbed/nicbed/e1000"
	"github.com/nicbed/nicbed/kernelmodel"
)

// watchdogPeriod is how often the watchdog runs (2 * HZ, in jiffies).
const watchdogPeriod = 2 * kernelmodel.HZ

// watchdogTimeo is netdev->watchdog_timeo (5 * HZ): how long a stopped queue
// may go without a transmit before the kernel's dev_watchdog calls
// ndo_tx_timeout (TxTimeout).
const watchdogTimeo = 5 * kernelmodel.HZ

// watchdog is e1000_watchdog: follow the link (STATUS.LU) into the carrier,
// read the statistics, reset a transmitter that holds frames it cannot send
// with the link down, update the simplified ITR, kick a receive interrupt so
// the rings are looked at, arm transmit-hang detection, and run again in two
// seconds. The kernel model has no dev_watchdog (net/sched/sch_generic.c), so
// its check is here too: a queue stopped for longer than watchdog_timeo is a
// transmit timeout (e1000_tx_timeout).
func (a *Adapter) watchdog(*kernelmodel.TimerList) {
	if a.flagDown {
		return
	}
	k := a.k
	nd := a.netdev
	k.TracePoint("e1000_watchdog", 0, 0)
	link := a.checkForLink()
	if link {
		if !nd.NetifCarrierOK() {
			a.linkSpeed, a.linkFullDuplex = a.getSpeedAndDuplex()
			a.txTimeoutFactor = 1
			if a.linkSpeed == 10 {
				a.txTimeoutFactor = 16
			}
			// Enable transmits in the hardware.
			a.wr(e1000.TCTL, a.rd(e1000.TCTL)|e1000.TCTL_EN)
			nd.NetifCarrierOn()
			k.TracePoint("e1000_watchdog: NIC Link is Up", 0, int64(a.linkSpeed))
			// e1000_clean_tx_irq wakes a stopped queue only with
			// the carrier on: if the ring drained while it was off,
			// nothing else would (Linux's qdisc restarts the queue
			// through dev_activate; the kernel model has no qdisc).
			if nd.NetifQueueStopped() && a.tx.Unused() >= TxWakeThreshold {
				nd.NetifWakeQueue()
			}
		}
	} else if nd.NetifCarrierOK() {
		a.linkSpeed, a.linkFullDuplex = 0, false
		nd.NetifCarrierOff()
		k.TracePoint("e1000_watchdog: NIC Link is Down", 0, 0)
	}

	a.updateStats()
	a.gorcDelta = a.stats.get(e1000.GORCL) - a.gorcOld
	a.gorcOld = a.stats.get(e1000.GORCL)
	a.gotcDelta = a.stats.get(e1000.GOTCL) - a.gotcOld
	a.gotcOld = a.stats.get(e1000.GOTCL)

	if !nd.NetifCarrierOK() && a.tx.Count() > 0 && a.tx.Unused()+1 < a.tx.Count() {
		// The link is gone and frames wait that will never be sent:
		// reset the controller to flush them (outside interrupt
		// context).
		a.txTimeoutCount++
		a.scheduleReset()
		return
	}
	if a.itrSetting == ITRSimplified {
		a.itr = simplifiedITR(a.gotcDelta, a.gorcDelta)
		a.wr(e1000.ITR, itrRegister(a.itr))
	}
	// Cause a software interrupt to make sure the receive ring is cleaned.
	a.wr(e1000.ICS, e1000.ICR_RXDMT0)
	// Force detection of a hung controller.
	a.detectTxHung = true

	// schedule_delayed_work: an interrupt that asked for an early run
	// while this one was running (LSC) has armed the timer already.
	if !a.flagDown && !a.watchdogTimer.TimerPending() {
		k.ModTimer(&a.watchdogTimer, k.Jiffies()+watchdogPeriod)
	}
}

// TxTimeout is e1000_tx_timeout (ndo_tx_timeout), which dev_watchdog calls
// for a queue stopped longer than watchdog_timeo: count it and reset the
// adapter outside interrupt context (the reset task).
func (a *Adapter) TxTimeout(txqueue int) {
	a.txTimeoutCount++
	a.k.TracePoint("e1000_tx_timeout", 0, int64(txqueue))
	a.scheduleReset()
}
