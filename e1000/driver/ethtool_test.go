package driver

import (
	"slices"
	"strings"
	"testing"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/kernelmodel/ethtool"
)

// linuxE1000Stats are the names of e1000_gstrings_stats in Linux 6.1's
// e1000_ethtool.c, in its order.
var linuxE1000Stats = strings.Fields(`rx_packets tx_packets rx_bytes tx_bytes
	rx_broadcast tx_broadcast rx_multicast tx_multicast rx_errors tx_errors
	tx_dropped multicast collisions rx_length_errors rx_over_errors
	rx_crc_errors rx_frame_errors rx_no_buffer_count rx_missed_errors
	tx_aborted_errors tx_carrier_errors tx_fifo_errors tx_heartbeat_errors
	tx_window_errors tx_abort_late_coll tx_deferred_ok tx_single_coll_ok
	tx_multi_coll_ok tx_timeout_count tx_restart_queue rx_long_length_errors
	rx_short_length_errors rx_align_errors tx_tcp_seg_good tx_tcp_seg_failed
	rx_flow_control_xon rx_flow_control_xoff tx_flow_control_xon
	tx_flow_control_xoff rx_long_byte_count rx_csum_offload_good
	rx_csum_offload_errors alloc_rx_buff_failed tx_smbus rx_smbus
	dropped_smbus`)

// TestEthtoolTable: the e1000 table is a valid ethtool table (names unique
// and short enough for ETH_GSTRING_LEN) and begins with Linux's e1000
// statistics in Linux's order, rx_dropped (nicbed's addition) next to
// tx_dropped; the rest are the driver's own counters.
func TestEthtoolTable(t *testing.T) {
	if err := ethtoolStats.Check(); err != nil {
		t.Fatal(err)
	}
	names := ethtoolStats.Strings()
	want := slices.Insert(slices.Clone(linuxE1000Stats), 10, "rx_dropped")
	if len(names) < len(want) || !slices.Equal(names[:len(want)], want) {
		t.Errorf("ethtool -S names:\n%v\nwant them to begin with Linux's:\n%v", names, want)
	}
	// Each statistic reads its own field: bumping one moves one line.
	var a Adapter
	a.netdev = new(kernelmodel.NetDevice)
	for i, e := range ethtoolStats {
		*e.Field(&a) += uint64(i + 1)
	}
	vals := ethtoolStats.Values(&a, nil)
	shared := map[string]bool{"multicast": true, "rx_multicast": true, "tx_window_errors": true, "tx_abort_late_coll": true, "rx_bytes": true, "rx_long_byte_count": true}
	for i, v := range vals {
		if !shared[names[i]] && v != uint64(i+1) {
			t.Errorf("%s = %d, want %d: it shares its field with another statistic", names[i], v, i+1)
		}
	}
	var sb strings.Builder
	if err := ethtool.Write(&sb, ethtoolStats.Stats(&a, nil)); err != nil || !strings.HasPrefix(sb.String(), "NIC statistics:\n     rx_packets: 1\n") {
		t.Errorf("ethtool -S output %q, %v", sb.String()[:min(60, sb.Len())], err)
	}
}
