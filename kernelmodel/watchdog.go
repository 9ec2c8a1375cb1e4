package kernelmodel

// NetDeviceTxTimeout is ndo_tx_timeout, which a driver may implement: the
// core's transmit watchdog (dev_watchdog) calls it with the index of a TX
// queue that has been stopped for longer than the device's watchdog_timeo
// since its last transmit. It runs in TIMER_SOFTIRQ; drivers schedule their
// reset from it (e1000_tx_timeout, igb_tx_timeout). A device without it
// has no watchdog.
type NetDeviceTxTimeout interface {
	TxTimeout(txqueue int)
}

// defaultWatchdogTimeo is the watchdog_timeo __netdev_watchdog_up gives a
// device that set none (5 * HZ).
const defaultWatchdogTimeo = 5 * HZ

// timeAfter is time_after(a, b): jiffies a is later than b.
func timeAfter(a, b uint64) bool { return int64(b-a) < 0 }

// roundJiffies is round_jiffies() (round_jiffies_common without force_up)
// as called on CPU cpu: j rounded to a whole second (down if within a
// quarter second past one, else up), skewed by 3 jiffies per CPU so that
// CPUs do not all fire at once; j itself if the rounded time has passed.
func roundJiffies(j, now uint64, cpu int) uint64 {
	orig := j
	j += uint64(cpu) * 3
	rem := j % HZ
	if rem < HZ/4 {
		j -= rem
	} else {
		j += HZ - rem
	}
	j -= uint64(cpu) * 3
	if timeAfter(j, now) {
		return j
	}
	return orig
}

// NetifTransUpdate is netif_trans_update(): queue 0's trans_start is now,
// for a driver that transmits outside ndo_start_xmit.
func (d *NetDevice) NetifTransUpdate() { d.tx[0].TransStart = d.k.Jiffies() }

// txqTransUpdate is txq_trans_update(): netdev_start_xmit's note that q
// took a packet. (Linux skips it for an LLTX driver, which has no queue
// lock owner; the model has no LLTX and always notes it.)
func (q *TxQueue) txqTransUpdate() { q.TransStart = q.dev.k.Jiffies() }

// devWatchdogActivate is the watchdog's part of dev_activate(): every
// queue's trans_start is cleared (transition_one_qdisc), queue 0's set to
// now (netif_trans_update) and the watchdog started (dev_watchdog_up).
func (k *Kernel) devWatchdogActivate(d *NetDevice) {
	for i := range d.tx {
		d.tx[i].TransStart = 0
	}
	d.NetifTransUpdate()
	d.netdevWatchdogUp()
}

// netdevWatchdogUp is __netdev_watchdog_up(): for a device with
// ndo_tx_timeout, (re)arm dev_watchdog to run watchdog_timeo from now,
// rounded to a whole second (round_jiffies).
func (d *NetDevice) netdevWatchdogUp() {
	if _, ok := d.Ops.(NetDeviceTxTimeout); !ok {
		return
	}
	if d.WatchdogTimeo <= 0 {
		d.WatchdogTimeo = defaultWatchdogTimeo
	}
	k := d.k
	if d.watchdogTimer.Function == nil {
		k.TimerSetup(&d.watchdogTimer, d.devWatchdog)
	}
	now := k.Jiffies()
	k.ModTimer(&d.watchdogTimer, roundJiffies(now+uint64(d.WatchdogTimeo), now, k.curOr0().ID))
}

// devWatchdogDown is dev_watchdog_down(): stop the watchdog.
func (d *NetDevice) devWatchdogDown() {
	if d.watchdogTimer.Function != nil {
		d.k.DelTimer(&d.watchdogTimer)
	}
}

// qdiscTxIsNoop is qdisc_tx_is_noop(): every TX queue has noop_qdisc
// (the device is down, or was never opened).
func (d *NetDevice) qdiscTxIsNoop() bool {
	for i := range d.tx {
		if q := d.tx[i].qdisc; q != nil && q != d.tx[i].noop {
			return false
		}
	}
	return true
}

// devWatchdog is dev_watchdog() (net/sched/sch_generic.c), the device's
// watchdog_timer: with the qdiscs active, the device running and the
// carrier on, the first TX queue that is stopped (netif_xmit_stopped: by
// the driver or by BQL) and has not transmitted for watchdog_timeo
// jiffies has timed out: its trans_timeout is counted, the timeout traced
// (trace_net_dev_xmit_timeout, and the kernel's "NETDEV WATCHDOG: dev
// (driver): transmit queue N timed out" warning) and ndo_tx_timeout
// called, after which every queue that may transmit has its qdisc
// scheduled (netif_unfreeze_queues). The timer runs again watchdog_timeo
// later; with the carrier off, or the device down, it stops, and
// netif_carrier_on (or dev_activate) starts it again.
func (d *NetDevice) devWatchdog(*TimerList) {
	if d.qdiscTxIsNoop() || !d.up || !d.carrier {
		return
	}
	k := d.k
	c := k.curOr0()
	now := k.Jiffies()
	timeo := uint64(d.WatchdogTimeo)
	for i := range d.tx {
		txq := &d.tx[i]
		if !txq.XmitStopped() || !timeAfter(now, txq.TransStart+timeo) {
			continue
		}
		txq.TransTimeout++
		k.tracePointQ(c, "net_dev_xmit_timeout", 0, int64(i), TxQueueName(i))
		if !d.watchdogWarned {
			// WARN_ONCE: once per boot in Linux; per device here,
			// the model keeping no global state.
			d.watchdogWarned = true
			k.tracePointQ(c, "NETDEV WATCHDOG: "+d.Name+" ("+d.Driver+"): transmit queue "+itoa(i)+" timed out", 0, int64(i), TxQueueName(i))
		}
		if to, ok := d.Ops.(NetDeviceTxTimeout); ok {
			to.TxTimeout(i)
		}
		d.netifUnfreezeQueues(c)
		break
	}
	d.netdevWatchdogUp()
}

// netifUnfreezeQueues is netif_unfreeze_queues(): the model never freezes
// a queue (nothing transmits while ndo_tx_timeout runs), but the unfreeze
// schedules the qdisc of every queue that may transmit
// (netif_schedule_queue), so that what ndo_tx_timeout let go is sent.
func (d *NetDevice) netifUnfreezeQueues(c *CPU) {
	for i := range d.tx {
		txq := &d.tx[i]
		if !txq.XmitStopped() && txq.qdisc != nil {
			d.k.netifSchedule(c, txq.qdisc)
		}
	}
}
