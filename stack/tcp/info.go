package tcp

import (
	"fmt"
	"io"
	"strings"
	"time"
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

// SetRTT fills the RTT fields from the estimator as tcp_get_info does:
// tcpi_rto in µs of the jiffies RTO, tcpi_rtt = srtt_us>>3, tcpi_rttvar =
// mdev_us>>2, tcpi_backoff.
func (i *Info) SetRTT(e *RTTEstimator) {
	i.RTO = uint32(e.RTO / time.Microsecond)
	i.RTT = e.SrttUS >> 3
	i.RTTVar = e.MdevUS >> 2
	i.Backoff = e.Backoff
}

// SetCong fills the congestion fields from the connection's Sock.
func (i *Info) SetCong(s *Sock, ca CongestionOps) {
	i.SndCwnd, i.SndSsthresh, i.CAState = s.SndCwnd, s.SndSsthresh, s.CAState
	if ca != nil {
		i.CongestionControl = ca.Name()
	}
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
	if i.Options&TCPIOptTimestamps != 0 {
		out(" ts")
	}
	if i.Options&TCPIOptSACK != 0 {
		out(" sack")
	}
	if i.Options&TCPIOptECN != 0 {
		out(" ecn")
	}
	if i.Options&TCPIOptECNSeen != 0 {
		out(" ecnseen")
	}
	if i.Options&TCPIOptSynData != 0 {
		out(" fastopen")
	}
	if i.CongestionControl != "" {
		out(" %s", i.CongestionControl)
	}
	if i.Options&TCPIOptWscale != 0 {
		out(" wscale:%d,%d", i.SndWscale, i.RcvWscale)
	}
	if i.RTO != 0 && i.RTO != 3000000 {
		out(" rto:%s", cg(float64(i.RTO)/1000))
	}
	if i.Backoff != 0 {
		out(" backoff:%d", i.Backoff)
	}
	if i.RTT != 0 {
		out(" rtt:%s/%s", cg(float64(i.RTT)/1000), cg(float64(i.RTTVar)/1000))
	}
	if i.ATO != 0 {
		out(" ato:%s", cg(float64(i.ATO)/1000))
	}
	if i.SndMSS != 0 {
		out(" mss:%d", i.SndMSS)
	}
	if i.PMTU != 0 {
		out(" pmtu:%d", i.PMTU)
	}
	if i.RcvMSS != 0 {
		out(" rcvmss:%d", i.RcvMSS)
	}
	if i.AdvMSS != 0 {
		out(" advmss:%d", i.AdvMSS)
	}
	if i.SndCwnd != 0 {
		out(" cwnd:%d", i.SndCwnd)
	}
	if i.SndSsthresh < 0xffff && i.SndSsthresh != 0 {
		out(" ssthresh:%d", i.SndSsthresh)
	}
	for _, f := range []struct {
		name string
		v    uint64
	}{
		{"bytes_sent", i.BytesSent}, {"bytes_retrans", i.BytesRetrans}, {"bytes_acked", i.BytesAcked},
		{"bytes_received", i.BytesReceived}, {"segs_out", uint64(i.SegsOut)}, {"segs_in", uint64(i.SegsIn)},
		{"data_segs_out", uint64(i.DataSegsOut)}, {"data_segs_in", uint64(i.DataSegsIn)},
	} {
		if f.v != 0 {
			out(" %s:%d", f.name, f.v)
		}
	}
	if i.RTT != 0 && i.SndMSS != 0 && i.SndCwnd != 0 {
		out(" send %sbps", sprintBw(float64(i.SndCwnd)*float64(i.SndMSS)*8000000/float64(i.RTT)))
	}
	if i.LastDataSent != 0 {
		out(" lastsnd:%d", i.LastDataSent)
	}
	if i.LastDataRecv != 0 {
		out(" lastrcv:%d", i.LastDataRecv)
	}
	if i.LastAckRecv != 0 {
		out(" lastack:%d", i.LastAckRecv)
	}
	if i.PacingRate != 0 && i.PacingRate != ^uint64(0) {
		out(" pacing_rate %sbps", sprintBw(float64(i.PacingRate)*8))
		if i.MaxPacingRate != 0 && i.MaxPacingRate != ^uint64(0) {
			out("/%sbps", sprintBw(float64(i.MaxPacingRate)*8))
		}
	}
	if i.DeliveryRate != 0 {
		out(" delivery_rate %sbps", sprintBw(float64(i.DeliveryRate)*8))
	}
	if i.Delivered != 0 {
		out(" delivered:%d", i.Delivered)
	}
	if i.DeliveredCE != 0 {
		out(" delivered_ce:%d", i.DeliveredCE)
	}
	if i.DeliveryRateAppLimited {
		out(" app_limited")
	}
	if i.BusyTime != 0 {
		out(" busy:%dms", i.BusyTime/1000)
		if i.RwndLimited != 0 {
			out(" rwnd_limited:%dms(%.1f%%)", i.RwndLimited/1000, 100*float64(i.RwndLimited)/float64(i.BusyTime))
		}
		if i.SndbufLimited != 0 {
			out(" sndbuf_limited:%dms(%.1f%%)", i.SndbufLimited/1000, 100*float64(i.SndbufLimited)/float64(i.BusyTime))
		}
	}
	if i.Unacked != 0 {
		out(" unacked:%d", i.Unacked)
	}
	if i.Retrans != 0 || i.TotalRetrans != 0 {
		out(" retrans:%d/%d", i.Retrans, i.TotalRetrans)
	}
	if i.Lost != 0 {
		out(" lost:%d", i.Lost)
	}
	if i.Sacked != 0 && i.State != StateListen {
		out(" sacked:%d", i.Sacked)
	}
	if i.DSACKDups != 0 {
		out(" dsack_dups:%d", i.DSACKDups)
	}
	if i.Fackets != 0 {
		out(" fackets:%d", i.Fackets)
	}
	if i.Reordering != 3 {
		out(" reordering:%d", i.Reordering)
	}
	if i.ReordSeen != 0 {
		out(" reord_seen:%d", i.ReordSeen)
	}
	if i.RcvRTT != 0 {
		out(" rcv_rtt:%s", cg(float64(i.RcvRTT)/1000))
	}
	if i.RcvSpace != 0 {
		out(" rcv_space:%d", i.RcvSpace)
	}
	if i.RcvSsthresh != 0 {
		out(" rcv_ssthresh:%d", i.RcvSsthresh)
	}
	if i.NotsentBytes != 0 {
		out(" notsent:%d", i.NotsentBytes)
	}
	if i.MinRTT != 0 {
		out(" minrtt:%s", cg(float64(i.MinRTT)/1000))
	}
	if i.RcvOOOPack != 0 {
		out(" rcv_ooopack:%d", i.RcvOOOPack)
	}
	if i.SndWnd != 0 {
		out(" snd_wnd:%d", i.SndWnd)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
