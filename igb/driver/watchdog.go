package driver

import (
	"github.com/nicbed/nicbed/igb"
	"github.com/nicbed/nicbed/kernelmodel"
)

// watchdogPeriod is how often the watchdog runs (2 * HZ, in jiffies).
const watchdogPeriod = 2 * kernelmodel.HZ

// watchdogTimeo is netdev->watchdog_timeo (5 * HZ): how long a stopped
// queue may go without a transmit before the kernel's dev_watchdog calls
// ndo_tx_timeout (TxTimeout).
const watchdogTimeo = 5 * kernelmodel.HZ

// watchdog is igb_watchdog and igb_watchdog_task (the timer and its work
// item in one): follow the link (STATUS.LU) into the carrier, read the
// statistics, reset a transmitter that holds frames it cannot send with
// the link down, arm transmit-hang detection, fire every q_vector (EICS,
// or ICS.RXDMT0 without MSI-X) so the rings are looked at, and run again in
// two seconds. A queue stopped too long is the kernel's to see
// (dev_watchdog, which calls TxTimeout).
func (a *Adapter) watchdog(*kernelmodel.TimerList) {
	if a.flagDown {
		return
	}
	k := a.k
	nd := a.netdev
	k.TracePoint("igb_watchdog", 0, 0)
	if a.checkForLink() {
		if !nd.NetifCarrierOK() {
			a.linkSpeed, a.linkFullDuplex = a.getSpeedAndDuplex()
			nd.NetifCarrierOn()
			k.TracePoint("igb_watchdog: NIC Link is Up", 0, int64(a.linkSpeed))
			// netif_tx_wake_all_queues: a ring that drained while
			// the carrier was off wakes its queue here.
			for _, r := range a.tx {
				if q := nd.TxQueue(r.idx); q.Stopped() && r.Unused() >= TxWakeThreshold {
					q.Wake()
				}
			}
		}
	} else if nd.NetifCarrierOK() {
		a.linkSpeed, a.linkFullDuplex = 0, false
		nd.NetifCarrierOff()
		k.TracePoint("igb_watchdog: NIC Link is Down", 0, 0)
	}
	a.updateStats()
	for _, r := range a.tx {
		if !nd.NetifCarrierOK() && r.Unused()+1 < r.Count() {
			// The link is gone and frames wait that will never be
			// sent: reset the controller to flush them.
			a.txTimeoutCount++
			a.scheduleReset()
			return
		}
		// Force detection of hung controllers every watchdog period.
		r.detectHang = true
	}
	// Cause a software interrupt to make sure the rings are cleaned.
	if a.msix {
		var eics uint32
		for _, q := range a.qv {
			eics |= q.eimsValue
		}
		a.wr(igb.EICS, eics)
	} else {
		a.wr(igb.ICS, igb.ICR_RXDMT0)
	}
	if !a.flagDown && !a.watchdogTimer.TimerPending() {
		k.ModTimer(&a.watchdogTimer, k.Jiffies()+watchdogPeriod)
	}
}

// TxTimeout is igb_tx_timeout (ndo_tx_timeout), which dev_watchdog calls
// for a queue stopped longer than watchdog_timeo: count it, reset the
// adapter outside interrupt context (the reset task), and fire every
// q_vector (EICS: the enabled causes but the other one) so that the rings
// are cleaned meanwhile.
func (a *Adapter) TxTimeout(txqueue int) {
	a.txTimeoutCount++
	a.k.TracePoint("igb_tx_timeout", 0, int64(txqueue))
	a.scheduleReset()
	a.wr(igb.EICS, a.eimsEnableMask&^a.eimsOther)
}
