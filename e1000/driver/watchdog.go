package driver

import (
	"github.com/nicbed/nicbed/e1000"
	"github.com/nicbed/nicbed/kernelmodel"
)

// watchdogPeriod is how often the watchdog runs (2 * HZ, in jiffies).
const watchdogPeriod = 2 * kernelmodel.HZ

// watchdogTimeo is netdev->watchdog_timeo (5 * HZ): how long a stopped queue
// may go without a transmit before the core calls ndo_tx_timeout.
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
			if nd.NetifQueueStopped() && a.tx.unused() >= TxWakeThreshold {
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

	if !nd.NetifCarrierOK() && a.tx.count > 0 && a.tx.unused()+1 < a.tx.count {
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

	// dev_watchdog: a queue that has been stopped, with the carrier on,
	// for watchdog_timeo since the last transmit.
	if nd.NetifCarrierOK() && nd.NetifQueueStopped() && k.Jiffies() > a.transStart+watchdogTimeo {
		a.txTimeout()
		return
	}
	// schedule_delayed_work: an interrupt that asked for an early run
	// while this one was running (LSC) has armed the timer already.
	if !a.flagDown && !a.watchdogTimer.TimerPending() {
		k.ModTimer(&a.watchdogTimer, k.Jiffies()+watchdogPeriod)
	}
}

// txTimeout is e1000_tx_timeout (ndo_tx_timeout): count it and reset.
func (a *Adapter) txTimeout() {
	a.txTimeoutCount++
	a.k.TracePoint("e1000_tx_timeout", 0, 0)
	a.scheduleReset()
}

// hwStats is struct e1000_hw_stats: the statistics registers accumulated
// (they clear on read), indexed by register.
type hwStats struct {
	v [(e1000.StatsEnd - e1000.StatsStart) / 4]uint64
}

func (s *hwStats) get(off uint32) uint64 { return s.v[(off-e1000.StatsStart)/4] }

// updateStats is e1000_update_stats: read every statistics register (a
// 64-bit pair low half first) into the accumulated counts, and derive the
// net_device's error counters from them. Nothing is read while the link is
// down (link_speed 0), as in Linux.
func (a *Adapter) updateStats() {
	if a.linkSpeed == 0 {
		return
	}
	for _, s := range e1000.Stats {
		i := (s.Off - e1000.StatsStart) / 4
		switch s.Off {
		case e1000.GORCH, e1000.GOTCH, e1000.TORH, e1000.TOTH:
			continue // read with the low half
		case e1000.GORCL, e1000.GOTCL, e1000.TORL, e1000.TOTL:
			lo := a.rd(s.Off)
			hi := a.rd(s.Off + 4)
			a.stats.v[i] += uint64(hi)<<32 | uint64(lo)
		default:
			a.stats.v[i] += uint64(a.rd(s.Off))
		}
	}
	st := &a.stats
	nd := &a.netdev.Stats
	nd.Multicast = st.get(e1000.MPRC)
	a.collisions = st.get(e1000.COLC)
	// RLEC is not reliable on some parts: build rx_length_errors from RUC
	// and ROC.
	nd.RxErrors = st.get(e1000.RXERRC) + st.get(e1000.CRCERRS) + st.get(e1000.ALGNERRC) +
		st.get(e1000.RUC) + st.get(e1000.ROC) + st.get(e1000.CEXTERR)
	nd.RxLengthErrors = st.get(e1000.RUC) + st.get(e1000.ROC)
	nd.RxCRCErrors = st.get(e1000.CRCERRS)
	a.rxFrameErrors = st.get(e1000.ALGNERRC)
	nd.RxMissedErrors = st.get(e1000.MPC)
	nd.TxErrors = st.get(e1000.ECOL) + st.get(e1000.LATECOL)
	nd.TxAbortedErrors = st.get(e1000.ECOL)
	a.txWindowErr = st.get(e1000.LATECOL)
	// Linux zeroes this in full duplex only on the 82543
	// (bad_tx_carr_stats_fd); the 82540EM counts TNCRS right.
	nd.TxCarrierErrors = st.get(e1000.TNCRS)
}

// Stat is one ethtool -S line.
type Stat struct {
	Name  string
	Value uint64
}

// EthtoolStats is e1000_get_ethtool_stats (ethtool -S): the statistics
// under the names Linux's e1000 prints, in its order (rx_dropped, which the
// net_device has and Linux's e1000 table lacks, sits next to tx_dropped),
// then the driver's own counters of device misbehaviour. It reads the
// statistics registers first, as Linux does.
func (a *Adapter) EthtoolStats() []Stat {
	a.updateStats()
	st := &a.stats
	nd := &a.netdev.Stats
	g := st.get
	return []Stat{
		{"rx_packets", g(e1000.GPRC)},
		{"tx_packets", g(e1000.GPTC)},
		{"rx_bytes", g(e1000.GORCL)},
		{"tx_bytes", g(e1000.GOTCL)},
		{"rx_broadcast", g(e1000.BPRC)},
		{"tx_broadcast", g(e1000.BPTC)},
		{"rx_multicast", g(e1000.MPRC)},
		{"tx_multicast", g(e1000.MPTC)},
		{"rx_errors", g(e1000.RXERRC)},                  // stats.rxerrc; the net_device's rx_errors is the sum
		{"tx_errors", g(e1000.ECOL) + g(e1000.LATECOL)}, // stats.txerrc
		{"rx_dropped", nd.RxDropped},
		{"tx_dropped", nd.TxDropped},
		{"multicast", g(e1000.MPRC)},
		{"collisions", g(e1000.COLC)},
		{"rx_length_errors", g(e1000.RUC) + g(e1000.ROC)}, // stats.rlerrc
		{"rx_over_errors", nd.RxOverErrors},
		{"rx_crc_errors", g(e1000.CRCERRS)},
		{"rx_frame_errors", a.rxFrameErrors},
		{"rx_no_buffer_count", g(e1000.RNBC)},
		{"rx_missed_errors", g(e1000.MPC)},
		{"tx_aborted_errors", g(e1000.ECOL)},
		{"tx_carrier_errors", g(e1000.TNCRS)},
		{"tx_fifo_errors", nd.TxFIFOErrors},
		{"tx_heartbeat_errors", a.txHeartbeat},
		{"tx_window_errors", g(e1000.LATECOL)},
		{"tx_abort_late_coll", g(e1000.LATECOL)},
		{"tx_deferred_ok", g(e1000.DC)},
		{"tx_single_coll_ok", g(e1000.SCC)},
		{"tx_multi_coll_ok", g(e1000.MCC)},
		{"tx_timeout_count", a.txTimeoutCount},
		{"tx_restart_queue", a.restartQueue},
		{"rx_long_length_errors", g(e1000.ROC)},
		{"rx_short_length_errors", g(e1000.RUC)},
		{"rx_align_errors", g(e1000.ALGNERRC)},
		{"tx_tcp_seg_good", g(e1000.TSCTC)},
		{"tx_tcp_seg_failed", g(e1000.TSCTFC)},
		{"rx_flow_control_xon", g(e1000.XONRXC)},
		{"rx_flow_control_xoff", g(e1000.XOFFRXC)},
		{"tx_flow_control_xon", g(e1000.XONTXC)},
		{"tx_flow_control_xoff", g(e1000.XOFFTXC)},
		{"rx_long_byte_count", g(e1000.GORCL)},
		{"rx_csum_offload_good", a.hwCsumGood},
		{"rx_csum_offload_errors", a.hwCsumErr},
		{"alloc_rx_buff_failed", a.allocRxBuffFailed},
		{"tx_smbus", g(e1000.MGTPTC)},
		{"rx_smbus", g(e1000.MGTPRC)},
		{"dropped_smbus", g(e1000.MGTPDC)},
		// nicbed's own: the device seen misbehaving, and recovery.
		{"rx_unposted_writeback", a.ctr.RxUnpostedWriteback},
		{"rx_bad_length", a.ctr.RxBadLength},
		{"rx_bad_status", a.ctr.RxBadStatus},
		{"rx_no_eop", a.ctr.RxNoEOP},
		{"rx_too_long", a.ctr.RxTooLong},
		{"rx_multi_buffer", a.ctr.RxMultiBuffer},
		{"rx_frame_errors_desc", a.ctr.RxFrameErrors},
		{"rx_runts", a.ctr.RxRunts},
		{"rx_discarded_descs", a.ctr.RxDiscardedDescs},
		{"tx_unposted_writeback", a.ctr.TxUnpostedWriteback},
		{"tx_bad_offload", a.ctr.TxBadOffload},
		{"tx_too_big", a.ctr.TxTooBig},
		{"tx_hang_detected", a.ctr.TxHangs},
		{"reset_count", a.ctr.Resets},
	}
}
