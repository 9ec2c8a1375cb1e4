package tcp

import (
	"time"

	"github.com/nicbed/nicbed/stack/tcp/tcpinfo"
)

// Info is struct tcp_info (package tcpinfo, which the socket layer
// imports without importing TCP).
type Info = tcpinfo.Info

// State is a connection state (tcp_states.h).
type State = tcpinfo.State

// CAState is enum tcp_ca_state.
type CAState = tcpinfo.CAState

// The states, CA states and tcpi_options bits.
const (
	StateEstablished = tcpinfo.StateEstablished
	StateSynSent     = tcpinfo.StateSynSent
	StateSynRecv     = tcpinfo.StateSynRecv
	StateFinWait1    = tcpinfo.StateFinWait1
	StateFinWait2    = tcpinfo.StateFinWait2
	StateTimeWait    = tcpinfo.StateTimeWait
	StateClose       = tcpinfo.StateClose
	StateCloseWait   = tcpinfo.StateCloseWait
	StateLastAck     = tcpinfo.StateLastAck
	StateListen      = tcpinfo.StateListen
	StateClosing     = tcpinfo.StateClosing
	StateNewSynRecv  = tcpinfo.StateNewSynRecv

	CAOpen     = tcpinfo.CAOpen
	CADisorder = tcpinfo.CADisorder
	CACWR      = tcpinfo.CACWR
	CARecovery = tcpinfo.CARecovery
	CALoss     = tcpinfo.CALoss

	TCPIOptTimestamps = tcpinfo.TCPIOptTimestamps
	TCPIOptSACK       = tcpinfo.TCPIOptSACK
	TCPIOptWscale     = tcpinfo.TCPIOptWscale
	TCPIOptECN        = tcpinfo.TCPIOptECN
	TCPIOptECNSeen    = tcpinfo.TCPIOptECNSeen
	TCPIOptSynData    = tcpinfo.TCPIOptSynData
)

// SetInfoRTT fills the RTT fields from the estimator as tcp_get_info does:
// tcpi_rto in µs of the jiffies RTO, tcpi_rtt = srtt_us>>3, tcpi_rttvar =
// mdev_us>>2, tcpi_backoff.
func SetInfoRTT(i *Info, e *RTTEstimator) {
	i.RTO = uint32(e.RTO / time.Microsecond)
	i.RTT = e.SrttUS >> 3
	i.RTTVar = e.MdevUS >> 2
	i.Backoff = e.Backoff
}

// SetInfoCong fills the congestion fields from the connection's Sock.
func SetInfoCong(i *Info, s *Sock, ca CongestionOps) {
	i.SndCwnd, i.SndSsthresh, i.CAState = s.SndCwnd, s.SndSsthresh, s.CAState
	if ca != nil {
		i.CongestionControl = ca.Name()
	}
}
