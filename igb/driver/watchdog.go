package driver

import (
	"github.com/nicbed/nicbed/igb"
	"github.com/nicbed/nicbed/kernelmodel"
)

// watchdogPeriod is how often the watchdog runs (2 * HZ, in jiffies).
const watchdogPeriod = 2 * kernelmodel.HZ

// watchdogTimeo is netdev->watchdog_timeo (5 * HZ): how long a stopped
// queue may go without a transmit before the core calls ndo_tx_timeout.
const watchdogTimeo = 5 * kernelmodel.HZ

// watchdog is igb_watchdog and igb_watchdog_task (the timer and its work
// item in one): follow the link (STATUS.LU) into the carrier, read the
// statistics, reset a transmitter that holds frames it cannot send with
// the link down, arm transmit-hang detection, fire every q_vector (EICS,
// or ICS.RXDMT0 without MSI-X) so the rings are looked at, and run again in
// two seconds. The kernel model has no dev_watchdog, so its check is here
// too: a queue stopped longer than watchdog_timeo is a transmit timeout
// (igb_tx_timeout).
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
	// dev_watchdog: a queue stopped, with the carrier on, for
	// watchdog_timeo since the last transmit.
	if nd.NetifCarrierOK() && k.Jiffies() > a.transStart+watchdogTimeo {
		for _, r := range a.tx {
			if nd.TxQueue(r.idx).Stopped() {
				a.txTimeout()
				return
			}
		}
	}
	if !a.flagDown && !a.watchdogTimer.TimerPending() {
		k.ModTimer(&a.watchdogTimer, k.Jiffies()+watchdogPeriod)
	}
}

// txTimeout is igb_tx_timeout (ndo_tx_timeout): count it and reset.
func (a *Adapter) txTimeout() {
	a.txTimeoutCount++
	a.k.TracePoint("igb_tx_timeout", 0, 0)
	a.scheduleReset()
}
