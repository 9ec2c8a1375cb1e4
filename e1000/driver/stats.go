package driver

import (
	"github.com/nicbed/nicbed/e1000"
	"github.com/nicbed/nicbed/kernelmodel/ethtool"
)

// hwStats is struct e1000_hw_stats: the statistics registers accumulated
// (they clear on read), indexed by register, and what e1000_update_stats
// derives from them for ethtool (txerrc, rlerrc).
type hwStats struct {
	v      [(e1000.StatsEnd - e1000.StatsStart) / 4]uint64
	txerrc uint64 // ECOL + LATECOL
	rlerrc uint64 // RUC + ROC
}

func statIndex(off uint32) uint32 { return (off - e1000.StatsStart) / 4 }

func (s *hwStats) get(off uint32) uint64 { return s.v[statIndex(off)] }

// hwStat is the table field of the statistics register at off.
func hwStat(off uint32) func(a *Adapter) *uint64 {
	i := statIndex(off)
	return func(a *Adapter) *uint64 { return &a.stats.v[i] }
}

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
	st.rlerrc = st.get(e1000.RUC) + st.get(e1000.ROC)
	nd.RxLengthErrors = st.rlerrc
	nd.RxCRCErrors = st.get(e1000.CRCERRS)
	a.rxFrameErrors = st.get(e1000.ALGNERRC)
	nd.RxMissedErrors = st.get(e1000.MPC)
	st.txerrc = st.get(e1000.ECOL) + st.get(e1000.LATECOL)
	nd.TxErrors = st.txerrc
	nd.TxAbortedErrors = st.get(e1000.ECOL)
	a.txWindowErr = st.get(e1000.LATECOL)
	// Linux zeroes this in full duplex only on the 82543
	// (bad_tx_carr_stats_fd); the 82540EM counts TNCRS right.
	nd.TxCarrierErrors = st.get(e1000.TNCRS)
}

// Stat is one ethtool -S line.
type Stat = ethtool.Stat

// ethtoolStats is e1000_gstrings_stats: the statistics under the names
// Linux's e1000 prints, in its order, each reading the field Linux's does
// (rx_dropped, which the net_device has and Linux's e1000 table lacks, sits
// next to tx_dropped), then the driver's own counters of device
// misbehaviour.
var ethtoolStats = ethtool.Table[Adapter]{
	{Name: "rx_packets", Source: ethtool.Driver, Field: hwStat(e1000.GPRC)},
	{Name: "tx_packets", Source: ethtool.Driver, Field: hwStat(e1000.GPTC)},
	{Name: "rx_bytes", Source: ethtool.Driver, Field: hwStat(e1000.GORCL)},
	{Name: "tx_bytes", Source: ethtool.Driver, Field: hwStat(e1000.GOTCL)},
	{Name: "rx_broadcast", Source: ethtool.Driver, Field: hwStat(e1000.BPRC)},
	{Name: "tx_broadcast", Source: ethtool.Driver, Field: hwStat(e1000.BPTC)},
	{Name: "rx_multicast", Source: ethtool.Driver, Field: hwStat(e1000.MPRC)},
	{Name: "tx_multicast", Source: ethtool.Driver, Field: hwStat(e1000.MPTC)},
	{Name: "rx_errors", Source: ethtool.Driver, Field: hwStat(e1000.RXERRC)}, // stats.rxerrc: the net_device's rx_errors is the sum
	{Name: "tx_errors", Source: ethtool.Driver, Field: func(a *Adapter) *uint64 { return &a.stats.txerrc }},
	{Name: "rx_dropped", Source: ethtool.Netdev, Field: func(a *Adapter) *uint64 { return &a.netdev.Stats.RxDropped }},
	{Name: "tx_dropped", Source: ethtool.Netdev, Field: func(a *Adapter) *uint64 { return &a.netdev.Stats.TxDropped }},
	{Name: "multicast", Source: ethtool.Driver, Field: hwStat(e1000.MPRC)},
	{Name: "collisions", Source: ethtool.Driver, Field: hwStat(e1000.COLC)},
	{Name: "rx_length_errors", Source: ethtool.Driver, Field: func(a *Adapter) *uint64 { return &a.stats.rlerrc }},
	{Name: "rx_over_errors", Source: ethtool.Netdev, Field: func(a *Adapter) *uint64 { return &a.netdev.Stats.RxOverErrors }},
	{Name: "rx_crc_errors", Source: ethtool.Driver, Field: hwStat(e1000.CRCERRS)},
	{Name: "rx_frame_errors", Source: ethtool.Netdev, Field: func(a *Adapter) *uint64 { return &a.rxFrameErrors }},
	{Name: "rx_no_buffer_count", Source: ethtool.Driver, Field: hwStat(e1000.RNBC)},
	{Name: "rx_missed_errors", Source: ethtool.Driver, Field: hwStat(e1000.MPC)},
	{Name: "tx_aborted_errors", Source: ethtool.Driver, Field: hwStat(e1000.ECOL)},
	{Name: "tx_carrier_errors", Source: ethtool.Driver, Field: hwStat(e1000.TNCRS)},
	{Name: "tx_fifo_errors", Source: ethtool.Netdev, Field: func(a *Adapter) *uint64 { return &a.netdev.Stats.TxFIFOErrors }},
	{Name: "tx_heartbeat_errors", Source: ethtool.Netdev, Field: func(a *Adapter) *uint64 { return &a.txHeartbeat }},
	{Name: "tx_window_errors", Source: ethtool.Driver, Field: hwStat(e1000.LATECOL)},
	{Name: "tx_abort_late_coll", Source: ethtool.Driver, Field: hwStat(e1000.LATECOL)},
	{Name: "tx_deferred_ok", Source: ethtool.Driver, Field: hwStat(e1000.DC)},
	{Name: "tx_single_coll_ok", Source: ethtool.Driver, Field: hwStat(e1000.SCC)},
	{Name: "tx_multi_coll_ok", Source: ethtool.Driver, Field: hwStat(e1000.MCC)},
	{Name: "tx_timeout_count", Source: ethtool.Driver, Field: func(a *Adapter) *uint64 { return &a.txTimeoutCount }},
	{Name: "tx_restart_queue", Source: ethtool.Driver, Field: func(a *Adapter) *uint64 { return &a.restartQueue }},
	{Name: "rx_long_length_errors", Source: ethtool.Driver, Field: hwStat(e1000.ROC)},
	{Name: "rx_short_length_errors", Source: ethtool.Driver, Field: hwStat(e1000.RUC)},
	{Name: "rx_align_errors", Source: ethtool.Driver, Field: hwStat(e1000.ALGNERRC)},
	{Name: "tx_tcp_seg_good", Source: ethtool.Driver, Field: hwStat(e1000.TSCTC)},
	{Name: "tx_tcp_seg_failed", Source: ethtool.Driver, Field: hwStat(e1000.TSCTFC)},
	{Name: "rx_flow_control_xon", Source: ethtool.Driver, Field: hwStat(e1000.XONRXC)},
	{Name: "rx_flow_control_xoff", Source: ethtool.Driver, Field: hwStat(e1000.XOFFRXC)},
	{Name: "tx_flow_control_xon", Source: ethtool.Driver, Field: hwStat(e1000.XONTXC)},
	{Name: "tx_flow_control_xoff", Source: ethtool.Driver, Field: hwStat(e1000.XOFFTXC)},
	{Name: "rx_long_byte_count", Source: ethtool.Driver, Field: hwStat(e1000.GORCL)},
	{Name: "rx_csum_offload_good", Source: ethtool.Driver, Field: func(a *Adapter) *uint64 { return &a.hwCsumGood }},
	{Name: "rx_csum_offload_errors", Source: ethtool.Driver, Field: func(a *Adapter) *uint64 { return &a.hwCsumErr }},
	{Name: "alloc_rx_buff_failed", Source: ethtool.Driver, Field: func(a *Adapter) *uint64 { return &a.allocRxBuffFailed }},
	{Name: "tx_smbus", Source: ethtool.Driver, Field: hwStat(e1000.MGTPTC)},
	{Name: "rx_smbus", Source: ethtool.Driver, Field: hwStat(e1000.MGTPRC)},
	{Name: "dropped_smbus", Source: ethtool.Driver, Field: hwStat(e1000.MGTPDC)},
	// nicbed's own: the device seen misbehaving, and recovery.
	{Name: "rx_unposted_writeback", Source: ethtool.Driver, Field: func(a *Adapter) *uint64 { return &a.ctr.RxUnpostedWriteback }},
	{Name: "rx_bad_length", Source: ethtool.Driver, Field: func(a *Adapter) *uint64 { return &a.ctr.RxBadLength }},
	{Name: "rx_bad_status", Source: ethtool.Driver, Field: func(a *Adapter) *uint64 { return &a.ctr.RxBadStatus }},
	{Name: "rx_no_eop", Source: ethtool.Driver, Field: func(a *Adapter) *uint64 { return &a.ctr.RxNoEOP }},
	{Name: "rx_too_long", Source: ethtool.Driver, Field: func(a *Adapter) *uint64 { return &a.ctr.RxTooLong }},
	{Name: "rx_multi_buffer", Source: ethtool.Driver, Field: func(a *Adapter) *uint64 { return &a.ctr.RxMultiBuffer }},
	{Name: "rx_frame_errors_desc", Source: ethtool.Driver, Field: func(a *Adapter) *uint64 { return &a.ctr.RxFrameErrors }},
	{Name: "rx_runts", Source: ethtool.Driver, Field: func(a *Adapter) *uint64 { return &a.ctr.RxRunts }},
	{Name: "rx_discarded_descs", Source: ethtool.Driver, Field: func(a *Adapter) *uint64 { return &a.ctr.RxDiscardedDescs }},
	{Name: "tx_unposted_writeback", Source: ethtool.Driver, Field: func(a *Adapter) *uint64 { return &a.ctr.TxUnpostedWriteback }},
	{Name: "tx_bad_offload", Source: ethtool.Driver, Field: func(a *Adapter) *uint64 { return &a.ctr.TxBadOffload }},
	{Name: "tx_too_big", Source: ethtool.Driver, Field: func(a *Adapter) *uint64 { return &a.ctr.TxTooBig }},
	{Name: "tx_hang_detected", Source: ethtool.Driver, Field: func(a *Adapter) *uint64 { return &a.ctr.TxHangs }},
	{Name: "reset_count", Source: ethtool.Driver, Field: func(a *Adapter) *uint64 { return &a.ctr.Resets }},
}

// EthtoolStats is e1000_get_ethtool_stats (ethtool -S): e1000_update_stats,
// then every statistic of the table in its order.
func (a *Adapter) EthtoolStats() []Stat {
	a.updateStats()
	return ethtoolStats.Stats(a, nil)
}
