package tcpinfo

import (
	"fmt"
	"io"
	"strings"
)

// The tcpi_options bits (TCPI_OPT_*).
const (
	TCPIOptTimestamps = 1  // TCPI_OPT_TIMESTAMPS
	TCPIOptSACK       = 2  // TCPI_OPT_SACK
	TCPIOptWscale     = 4  // TCPI_OPT_WSCALE
	TCPIOptECN        = 8  // TCPI_OPT_ECN
	TCPIOptECNSeen    = 16 // TCPI_OPT_ECN_SEEN
	TCPIOptSynData    = 32 // TCPI_OPT_SYN_DATA
)

// Info is struct tcp_info as Linux 6.1's tcp_get_info fills it for
// getsockopt(TCP_INFO) and ss (times in µs unless the name says ms),
// plus the algorithm's name (TCP_CONGESTION, INET_DIAG_CONG).
type Info struct {
	State       State
	CAState     CAState
	Retransmits uint8
	Probes      uint8
	Backoff     uint8
	Options     uint8
	SndWscale   uint8
	RcvWscale   uint8
	// DeliveryRateAppLimited is tcpi_delivery_rate_app_limited.
	DeliveryRateAppLimited bool

	RTO, ATO       uint32 // µs
	SndMSS, RcvMSS uint32
	Unacked        uint32
	Sacked         uint32
	Lost           uint32
	Retrans        uint32
	Fackets        uint32

	LastDataSent, LastAckSent, LastDataRecv, LastAckRecv uint32 // ms ago

	PMTU         uint32
	RcvSsthresh  uint32
	RTT, RTTVar  uint32 // µs
	SndSsthresh  uint32
	SndCwnd      uint32
	AdvMSS       uint32
	Reordering   uint32
	RcvRTT       uint32 // µs
	RcvSpace     uint32
	TotalRetrans uint32

	PacingRate, MaxPacingRate uint64 // bytes/s
	BytesAcked, BytesReceived uint64
	SegsOut, SegsIn           uint32
	NotsentBytes              uint32
	MinRTT                    uint32 // µs
	DataSegsIn, DataSegsOut   uint32
	DeliveryRate              uint64 // bytes/s
	BusyTime                  uint64 // µs
	RwndLimited               uint64 // µs
	SndbufLimited             uint64 // µs
	Delivered, DeliveredCE    uint32
	BytesSent, BytesRetrans   uint64
	DSACKDups                 uint32
	ReordSeen                 uint32
	RcvOOOPack                uint32
	SndWnd                    uint32

	// CongestionControl is the algorithm's name.
	CongestionControl string
}

// cg is C's %g (6 significant digits, trailing zeros dropped), which ss
// prints times with.
func cg(v float64) string { return fmt.Sprintf("%.6g", v) }

// sprintBw is ss's sprint_bw: a rate in bits/s with a K/M/G/T prefix at
// three significant digits.
func sprintBw(bw float64) string {
	switch {
	case bw >= 1e12:
		return fmt.Sprintf("%.3gT", bw/1e12)
	case bw >= 1e9:
		return fmt.Sprintf("%.3gG", bw/1e9)
	case bw >= 1e6:
		return fmt.Sprintf("%.3gM", bw/1e6)
	case bw >= 1e3:
		return fmt.Sprintf("%.3gK", bw/1e3)
	}
	return cg(bw)
}

// WriteSS prints the connection's line of `ss -ti` (iproute2's
// tcp_show_info and tcp_stats_print: the fields that are set, in its
// order and format), starting with a space as ss does.
func (i *Info) WriteSS(w io.Writer) error {
	var b strings.Builder
	out := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	flag := func(set bool, name string) {
		if set {
			out(" %s", name)
		}
	}
	num := func(name string, v uint64) {
		if v != 0 {
			out(" %s:%d", name, v)
		}
	}
	msec := func(name string, us uint32) { // a time in ms, %g
		if us != 0 {
			out(" %s:%s", name, cg(float64(us)/1000))
		}
	}
	rate := func(name string, bps float64) {
		if bps != 0 {
			out(" %s %sbps", name, sprintBw(bps))
		}
	}
	flag(i.Options&TCPIOptTimestamps != 0, "ts")
	flag(i.Options&TCPIOptSACK != 0, "sack")
	flag(i.Options&TCPIOptECN != 0, "ecn")
	flag(i.Options&TCPIOptECNSeen != 0, "ecnseen")
	flag(i.Options&TCPIOptSynData != 0, "fastopen")
	flag(i.CongestionControl != "", i.CongestionControl)
	if i.Options&TCPIOptWscale != 0 {
		out(" wscale:%d,%d", i.SndWscale, i.RcvWscale)
	}
	if i.RTO != 3000000 {
		msec("rto", i.RTO)
	}
	num("backoff", uint64(i.Backoff))
	if i.RTT != 0 {
		out(" rtt:%s/%s", cg(float64(i.RTT)/1000), cg(float64(i.RTTVar)/1000))
	}
	msec("ato", i.ATO)
	num("mss", uint64(i.SndMSS))
	num("pmtu", uint64(i.PMTU))
	num("rcvmss", uint64(i.RcvMSS))
	num("advmss", uint64(i.AdvMSS))
	num("cwnd", uint64(i.SndCwnd))
	if i.SndSsthresh < 0xffff {
		num("ssthresh", uint64(i.SndSsthresh))
	}
	num("bytes_sent", i.BytesSent)
	num("bytes_retrans", i.BytesRetrans)
	num("bytes_acked", i.BytesAcked)
	num("bytes_received", i.BytesReceived)
	num("segs_out", uint64(i.SegsOut))
	num("segs_in", uint64(i.SegsIn))
	num("data_segs_out", uint64(i.DataSegsOut))
	num("data_segs_in", uint64(i.DataSegsIn))
	if i.RTT != 0 && i.SndMSS != 0 && i.SndCwnd != 0 {
		rate("send", float64(i.SndCwnd)*float64(i.SndMSS)*8000000/float64(i.RTT))
	}
	num("lastsnd", uint64(i.LastDataSent))
	num("lastrcv", uint64(i.LastDataRecv))
	num("lastack", uint64(i.LastAckRecv))
	if i.PacingRate != 0 && i.PacingRate != ^uint64(0) {
		rate("pacing_rate", float64(i.PacingRate)*8)
		if i.MaxPacingRate != 0 && i.MaxPacingRate != ^uint64(0) {
			out("/%sbps", sprintBw(float64(i.MaxPacingRate)*8))
		}
	}
	rate("delivery_rate", float64(i.DeliveryRate)*8)
	num("delivered", uint64(i.Delivered))
	num("delivered_ce", uint64(i.DeliveredCE))
	flag(i.DeliveryRateAppLimited, "app_limited")
	if i.BusyTime != 0 {
		out(" busy:%dms", i.BusyTime/1000)
		for _, l := range []struct {
			name string
			us   uint64
		}{{"rwnd_limited", i.RwndLimited}, {"sndbuf_limited", i.SndbufLimited}} {
			if l.us != 0 {
				out(" %s:%dms(%.1f%%)", l.name, l.us/1000, 100*float64(l.us)/float64(i.BusyTime))
			}
		}
	}
	num("unacked", uint64(i.Unacked))
	if i.Retrans != 0 || i.TotalRetrans != 0 {
		out(" retrans:%d/%d", i.Retrans, i.TotalRetrans)
	}
	num("lost", uint64(i.Lost))
	if i.State != StateListen {
		num("sacked", uint64(i.Sacked))
	}
	num("dsack_dups", uint64(i.DSACKDups))
	num("fackets", uint64(i.Fackets))
	if i.Reordering != 3 {
		out(" reordering:%d", i.Reordering)
	}
	num("reord_seen", uint64(i.ReordSeen))
	msec("rcv_rtt", i.RcvRTT)
	num("rcv_space", uint64(i.RcvSpace))
	num("rcv_ssthresh", uint64(i.RcvSsthresh))
	num("notsent", uint64(i.NotsentBytes))
	msec("minrtt", i.MinRTT)
	num("rcv_ooopack", uint64(i.RcvOOOPack))
	num("snd_wnd", uint64(i.SndWnd))
	_, err := io.WriteString(w, b.String())
	return err
}
