package driver

import (
	"fmt"

	"github.com/nicbed/nicbed/igb"
	"github.com/nicbed/nicbed/kernelmodel/ethtool"
)

// hwStats is struct e1000_hw_stats: the statistics registers accumulated
// (they clear on read), indexed by register, and the driver's derived
// counts.
type hwStats struct {
	v       [(igb.LENERRS + 4 - igb.CRCERRS) / 4]uint64
	txerrc  uint64 // ECOL + LATECOL
	rlerrc  uint64 // RUC + ROC
	doosync uint64 // ICR.DOUTSYNC seen
}

func statIndex(off uint32) uint32 { return (off - igb.CRCERRS) / 4 }

func (s *hwStats) get(off uint32) uint64 { return s.v[statIndex(off)] }

// hwStat is the table field of the statistics register at off.
func hwStat(off uint32) func(a *Adapter) *uint64 {
	i := statIndex(off)
	return func(a *Adapter) *uint64 { return &a.stats.v[i] }
}

// stat64 are the low halves of the 64-bit counters (the high half follows).
var stat64 = map[uint32]bool{igb.GORCL: true, igb.GOTCL: true, igb.TORL: true, igb.TOTL: true, igb.HGORCL: true, igb.HGOTCL: true}

// updateStats is igb_update_stats: read every statistics register (a
// 64-bit pair low half first) into the accumulated counts, each queue's
// dropped-packet count (RQDPC, rx_queue_N_drops and rx_fifo_errors), and
// derive the net_device's error counters. Nothing is read while the link is
// down (link_speed 0), as in Linux.
func (a *Adapter) updateStats() {
	if a.linkSpeed == 0 {
		return
	}
	for off := uint32(igb.CRCERRS); off <= igb.LENERRS; off += 4 {
		if _, _, ok := igb.Lookup(off); !ok {
			continue
		}
		i := statIndex(off)
		switch {
		case stat64[off]:
			lo := a.rd(off)
			hi := a.rd(off + 4)
			a.stats.v[i] += uint64(hi)<<32 | uint64(lo)
		case stat64[off-4]:
			// read with the low half
		default:
			a.stats.v[i] += uint64(a.rd(off))
		}
	}
	nd := &a.netdev.Stats
	for _, r := range a.rx {
		if d := a.rd(igb.RQDPC(r.idx)); d != 0 {
			r.st.drops += uint64(d)
			nd.RxFIFOErrors += uint64(d)
		}
	}
	st := &a.stats
	nd.Multicast = st.get(igb.MPRC)
	nd.RxErrors = st.get(igb.RXERRC) + st.get(igb.CRCERRS) + st.get(igb.ALGNERRC) + st.get(igb.RUC) + st.get(igb.ROC)
	st.rlerrc = st.get(igb.RUC) + st.get(igb.ROC)
	nd.RxLengthErrors = st.rlerrc
	nd.RxCRCErrors = st.get(igb.CRCERRS)
	nd.RxMissedErrors = st.get(igb.MPC)
	st.txerrc = st.get(igb.ECOL) + st.get(igb.LATECOL)
	nd.TxErrors = st.txerrc
	nd.TxAbortedErrors = st.get(igb.ECOL)
	nd.TxCarrierErrors = st.get(igb.TNCRS)
}

// clearHWCounters is igb_clear_hw_cntrs_82575: read every statistics
// register to clear it.
func (a *Adapter) clearHWCounters() {
	for off := uint32(igb.CRCERRS); off <= igb.LENERRS; off += 4 {
		if _, _, ok := igb.Lookup(off); ok {
			a.rd(off)
		}
	}
	for q := range igb.NumQueues {
		a.rd(igb.RQDPC(q))
	}
}

// Stat is one ethtool -S line.
type Stat = ethtool.Stat

func netdevStat(f func(a *Adapter) *uint64) ethtool.Entry[Adapter] {
	return ethtool.Entry[Adapter]{Source: ethtool.Netdev, Field: f}
}

// globalStats is igb_gstrings_stats and igb_gstrings_net_stats: the
// statistics under the names Linux's igb prints, in its order (the OS2BMC
// and hardware time stamp counters, which the 82576 model lacks, left out),
// then the driver's own counters of device misbehaviour.
var globalStats = ethtool.Table[Adapter]{
	{Name: "rx_packets", Field: hwStat(igb.GPRC)},
	{Name: "tx_packets", Field: hwStat(igb.GPTC)},
	{Name: "rx_bytes", Field: hwStat(igb.GORCL)},
	{Name: "tx_bytes", Field: hwStat(igb.GOTCL)},
	{Name: "rx_broadcast", Field: hwStat(igb.BPRC)},
	{Name: "tx_broadcast", Field: hwStat(igb.BPTC)},
	{Name: "rx_multicast", Field: hwStat(igb.MPRC)},
	{Name: "tx_multicast", Field: hwStat(igb.MPTC)},
	{Name: "multicast", Field: hwStat(igb.MPRC)},
	{Name: "collisions", Field: hwStat(igb.COLC)},
	{Name: "rx_crc_errors", Field: hwStat(igb.CRCERRS)},
	{Name: "rx_no_buffer_count", Field: hwStat(igb.RNBC)},
	{Name: "rx_missed_errors", Field: hwStat(igb.MPC)},
	{Name: "tx_aborted_errors", Field: hwStat(igb.ECOL)},
	{Name: "tx_carrier_errors", Field: hwStat(igb.TNCRS)},
	{Name: "tx_window_errors", Field: hwStat(igb.LATECOL)},
	{Name: "tx_abort_late_coll", Field: hwStat(igb.LATECOL)},
	{Name: "tx_deferred_ok", Field: hwStat(igb.DC)},
	{Name: "tx_single_coll_ok", Field: hwStat(igb.SCC)},
	{Name: "tx_multi_coll_ok", Field: hwStat(igb.MCC)},
	{Name: "tx_timeout_count", Field: func(a *Adapter) *uint64 { return &a.txTimeoutCount }},
	{Name: "rx_long_length_errors", Field: hwStat(igb.ROC)},
	{Name: "rx_short_length_errors", Field: hwStat(igb.RUC)},
	{Name: "rx_align_errors", Field: hwStat(igb.ALGNERRC)},
	{Name: "tx_tcp_seg_good", Field: hwStat(igb.TSCTC)},
	{Name: "tx_tcp_seg_failed", Field: hwStat(igb.TSCTFC)},
	{Name: "rx_flow_control_xon", Field: hwStat(igb.XONRXC)},
	{Name: "rx_flow_control_xoff", Field: hwStat(igb.XOFFRXC)},
	{Name: "tx_flow_control_xon", Field: hwStat(igb.XONTXC)},
	{Name: "tx_flow_control_xoff", Field: hwStat(igb.XOFFTXC)},
	{Name: "rx_long_byte_count", Field: hwStat(igb.GORCL)},
	{Name: "tx_dma_out_of_sync", Field: func(a *Adapter) *uint64 { return &a.stats.doosync }},
	{Name: "tx_smbus", Field: hwStat(igb.MGTPTC)},
	{Name: "rx_smbus", Field: hwStat(igb.MGTPRC)},
	{Name: "dropped_smbus", Field: hwStat(igb.MGTPDC)},
	netdevNamed("rx_errors", func(a *Adapter) *uint64 { return &a.netdev.Stats.RxErrors }),
	netdevNamed("tx_errors", func(a *Adapter) *uint64 { return &a.netdev.Stats.TxErrors }),
	netdevNamed("tx_dropped", func(a *Adapter) *uint64 { return &a.netdev.Stats.TxDropped }),
	netdevNamed("rx_length_errors", func(a *Adapter) *uint64 { return &a.netdev.Stats.RxLengthErrors }),
	netdevNamed("rx_over_errors", func(a *Adapter) *uint64 { return &a.netdev.Stats.RxOverErrors }),
	netdevNamed("rx_frame_errors", func(a *Adapter) *uint64 { return &a.stats.v[statIndex(igb.ALGNERRC)] }),
	netdevNamed("rx_fifo_errors", func(a *Adapter) *uint64 { return &a.netdev.Stats.RxFIFOErrors }),
	netdevNamed("tx_fifo_errors", func(a *Adapter) *uint64 { return &a.netdev.Stats.TxFIFOErrors }),
	netdevNamed("tx_heartbeat_errors", func(a *Adapter) *uint64 { return &a.netdev.Stats.TxFIFOErrors }),
	// nicbed's own: rx_dropped (drops of frames the device delivered),
	// the device seen misbehaving, and recovery.
	netdevNamed("rx_dropped", func(a *Adapter) *uint64 { return &a.netdev.Stats.RxDropped }),
	{Name: "rx_unposted_writeback", Field: func(a *Adapter) *uint64 { return &a.ctr.RxUnpostedWriteback }},
	{Name: "rx_bad_length", Field: func(a *Adapter) *uint64 { return &a.ctr.RxBadLength }},
	{Name: "rx_bad_status", Field: func(a *Adapter) *uint64 { return &a.ctr.RxBadStatus }},
	{Name: "rx_no_eop", Field: func(a *Adapter) *uint64 { return &a.ctr.RxNoEOP }},
	{Name: "rx_too_long", Field: func(a *Adapter) *uint64 { return &a.ctr.RxTooLong }},
	{Name: "rx_frame_errors_desc", Field: func(a *Adapter) *uint64 { return &a.ctr.RxFrameErrors }},
	{Name: "rx_runts", Field: func(a *Adapter) *uint64 { return &a.ctr.RxRunts }},
	{Name: "rx_discarded_descs", Field: func(a *Adapter) *uint64 { return &a.ctr.RxDiscardedDescs }},
	{Name: "tx_unposted_writeback", Field: func(a *Adapter) *uint64 { return &a.ctr.TxUnpostedWriteback }},
	{Name: "tx_bad_head", Field: func(a *Adapter) *uint64 { return &a.ctr.TxBadHead }},
	{Name: "tx_bad_offload", Field: func(a *Adapter) *uint64 { return &a.ctr.TxBadOffload }},
	{Name: "tx_too_big", Field: func(a *Adapter) *uint64 { return &a.ctr.TxTooBig }},
	{Name: "tx_hang_detected", Field: func(a *Adapter) *uint64 { return &a.ctr.TxHangs }},
	{Name: "reset_count", Field: func(a *Adapter) *uint64 { return &a.ctr.Resets }},
}

func netdevNamed(name string, f func(a *Adapter) *uint64) ethtool.Entry[Adapter] {
	e := netdevStat(f)
	e.Name = name
	return e
}

// statsTable is the adapter's whole ethtool -S table: globalStats, then
// for each transmit queue tx_queue_N_packets, _bytes, _restart, then for
// each receive queue rx_queue_N_packets, _bytes, _drops, _csum_err,
// _alloc_failed (igb_get_strings' order). It is built when the queue count
// changes.
type statsTable struct {
	table  ethtool.Table[Adapter]
	queues int
}

func (a *Adapter) buildStatsTable() {
	n := a.rssQueues
	if a.statsTable.queues == n && a.statsTable.table != nil {
		return
	}
	t := append(ethtool.Table[Adapter](nil), globalStats...)
	for i := range n {
		t = append(t,
			ethtool.Entry[Adapter]{Name: fmt.Sprintf("tx_queue_%d_packets", i), Field: func(a *Adapter) *uint64 { return &a.txStats[i].packets }},
			ethtool.Entry[Adapter]{Name: fmt.Sprintf("tx_queue_%d_bytes", i), Field: func(a *Adapter) *uint64 { return &a.txStats[i].bytes }},
			ethtool.Entry[Adapter]{Name: fmt.Sprintf("tx_queue_%d_restart", i), Field: func(a *Adapter) *uint64 { return &a.txStats[i].restartQueue }},
		)
	}
	for i := range n {
		t = append(t,
			ethtool.Entry[Adapter]{Name: fmt.Sprintf("rx_queue_%d_packets", i), Field: func(a *Adapter) *uint64 { return &a.rxStats[i].packets }},
			ethtool.Entry[Adapter]{Name: fmt.Sprintf("rx_queue_%d_bytes", i), Field: func(a *Adapter) *uint64 { return &a.rxStats[i].bytes }},
			ethtool.Entry[Adapter]{Name: fmt.Sprintf("rx_queue_%d_drops", i), Field: func(a *Adapter) *uint64 { return &a.rxStats[i].drops }},
			ethtool.Entry[Adapter]{Name: fmt.Sprintf("rx_queue_%d_csum_err", i), Field: func(a *Adapter) *uint64 { return &a.rxStats[i].csumErr }},
			ethtool.Entry[Adapter]{Name: fmt.Sprintf("rx_queue_%d_alloc_failed", i), Field: func(a *Adapter) *uint64 { return &a.rxStats[i].allocFailed }},
		)
	}
	a.statsTable = statsTable{table: t, queues: n}
}

// EthtoolStats is igb_get_ethtool_stats (ethtool -S): igb_update_stats,
// then every statistic of the table in its order.
func (a *Adapter) EthtoolStats() []Stat {
	a.updateStats()
	return a.statsTable.table.Stats(a, nil)
}

// StatsTable is the ethtool -S table in use (names and fields), for
// checks.
func (a *Adapter) StatsTable() ethtool.Table[Adapter] { return a.statsTable.table }
