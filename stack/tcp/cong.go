package tcp

import (
	"fmt"
	"sync"
	"time"

	"github.com/nicbed/nicbed/kernelmodel"
)

// Congestion window defaults (include/net/tcp.h).
const (
	// TCPInitCwnd is TCP_INIT_CWND: the initial window, 10 segments
	// (RFC 6928).
	TCPInitCwnd = 10
	// TCPInfiniteSsthresh is TCP_INFINITE_SSTHRESH: ssthresh before the
	// first loss.
	TCPInfiniteSsthresh = 0x7fffffff
)

// CAEvent is enum tcp_ca_event, what cwnd_event is told.
type CAEvent uint8

// The CA events.
const (
	CAEventTxStart     CAEvent = iota // CA_EVENT_TX_START: first transmit after idle
	CAEventCwndRestart                // CA_EVENT_CWND_RESTART: cwnd restarted after idle
	CAEventCompleteCWR                // CA_EVENT_COMPLETE_CWR: the end of a CWR/recovery
	CAEventLoss                       // CA_EVENT_LOSS: an RTO
	CAEventECNNoCE                    // CA_EVENT_ECN_NO_CE
	CAEventECNIsCE                    // CA_EVENT_ECN_IS_CE
)

// AckSample is struct ack_sample, what pkts_acked is told per ACK.
type AckSample struct {
	PktsAcked uint32 // pkts_acked
	RTTUS     int32  // rtt_us: the RTT sample, -1 if the ACK gave none
	InFlight  uint32 // in_flight
}

// Sock is the part of struct tcp_sock (and inet_connection_sock) the
// congestion control algorithms read and write, in packets. The
// connection keeps it; an algorithm's own state (icsk_ca_priv) is in the
// CongestionOps value.
type Sock struct {
	SndCwnd       uint32  // snd_cwnd
	SndSsthresh   uint32  // snd_ssthresh
	SndCwndCnt    uint32  // snd_cwnd_cnt: ACKed packets toward the next increase
	SndCwndClamp  uint32  // snd_cwnd_clamp
	PriorCwnd     uint32  // prior_cwnd: cwnd when the last reduction began
	SndNxt        uint32  // snd_nxt
	SndUna        uint32  // snd_una
	MaxPacketsOut uint32  // max_packets_out
	IsCwndLimited bool    // is_cwnd_limited
	SrttUS        uint32  // srtt_us: smoothed RTT << 3, in microseconds
	CAState       CAState // icsk_ca_state
	// Now is the connection's clock (tcp_mstamp, and tcp_jiffies32 at
	// HZ), set by the caller before each call.
	Now time.Duration
	// Lsndtime is lsndtime: the jiffy of the last data sent.
	Lsndtime uint32
	// PacingRate is sk_pacing_rate in bytes/s (0: not pacing), and
	// GSOMaxSize sk_gso_max_size, for HyStart's ACK-delay cushion.
	PacingRate uint64
	GSOMaxSize uint32
	// Pacing is sk_pacing_status != SK_PACING_NONE.
	Pacing bool
	// MIB receives the algorithms' TcpExt counts (TCPHystart*); nil
	// counts nothing.
	MIB *TcpExtMIB
}

// NewSock returns the congestion state of a new connection as
// tcp_init_sock sets it: cwnd TCP_INIT_CWND, ssthresh infinite, no clamp.
func NewSock() Sock {
	return Sock{SndCwnd: TCPInitCwnd, SndSsthresh: TCPInfiniteSsthresh, SndCwndClamp: ^uint32(0)}
}

// clockUS is tcp_clock_us as the algorithms read it: 32 bits of
// microseconds (tcp_mstamp).
func (s *Sock) clockUS() uint32 { return uint32(s.Now / time.Microsecond) }

// jiffies32 is tcp_jiffies32.
func (s *Sock) jiffies32() uint32 { return uint32(s.Now / (time.Second / kernelmodel.HZ)) }

// InSlowStart is tcp_in_slow_start: cwnd below ssthresh.
func (s *Sock) InSlowStart() bool { return s.SndCwnd < s.SndSsthresh }

// CwndLimited is tcp_is_cwnd_limited: the sender used its window (or, in
// slow start, cwnd is below twice the most packets that were in flight),
// so growing it means something.
func (s *Sock) CwndLimited() bool {
	if s.IsCwndLimited {
		return true
	}
	if s.InSlowStart() {
		return s.SndCwnd < 2*s.MaxPacketsOut
	}
	return false
}

// SlowStart is tcp_slow_start (RFC 5681 section 3.1): cwnd grows by the
// packets ACKed up to ssthresh; it returns the ACKed packets left over
// for congestion avoidance.
func (s *Sock) SlowStart(acked uint32) uint32 {
	cwnd := min(s.SndCwnd+acked, s.SndSsthresh)
	acked -= cwnd - s.SndCwnd
	s.SndCwnd = min(cwnd, s.SndCwndClamp)
	return acked
}

// CongAvoidAI is tcp_cong_avoid_ai: additive increase, one packet per w
// packets ACKed; credit collected at a larger w is spent first.
func (s *Sock) CongAvoidAI(w, acked uint32) {
	if s.SndCwndCnt >= w {
		s.SndCwndCnt = 0
		s.SndCwnd++
	}
	s.SndCwndCnt += acked
	if s.SndCwndCnt >= w {
		delta := s.SndCwndCnt / w
		s.SndCwndCnt -= delta * w
		s.SndCwnd += delta
	}
	s.SndCwnd = min(s.SndCwnd, s.SndCwndClamp)
}

// CongestionOps is struct tcp_congestion_ops: a pluggable congestion
// control algorithm (RFC 5681 and its successors). One value serves one
// connection and keeps that connection's private state (icsk_ca_priv).
type CongestionOps interface {
	// Name is the algorithm's name for TCP_CONGESTION and the sysctl.
	Name() string
	// Init is init: the connection starts using the algorithm.
	Init(s *Sock)
	// SSThresh is ssthresh: the slow start threshold after a loss.
	SSThresh(s *Sock) uint32
	// CongAvoid is cong_avoid: grow cwnd for acked packets newly ACKed
	// by ack.
	CongAvoid(s *Sock, ack, acked uint32)
	// SetState is set_state: the CA state is about to change.
	SetState(s *Sock, newState CAState)
	// CwndEvent is cwnd_event.
	CwndEvent(s *Sock, ev CAEvent)
	// PktsAcked is pkts_acked: an ACK's RTT sample and packet count.
	PktsAcked(s *Sock, sample AckSample)
	// UndoCwnd is undo_cwnd: the cwnd to restore when a reduction
	// proves spurious.
	UndoCwnd(s *Sock) uint32
}

// The registered algorithms: Linux's tcp_cong_list (global, as in Linux),
// in registration order.
var congList struct {
	sync.RWMutex
	names []string
	news  map[string]func() CongestionOps
}

// RegisterCongestionControl is tcp_register_congestion_control: it makes
// an algorithm available by name. A name registered twice is an error
// (EEXIST).
func RegisterCongestionControl(name string, newOps func() CongestionOps) error {
	congList.Lock()
	defer congList.Unlock()
	if congList.news == nil {
		congList.news = map[string]func() CongestionOps{}
	}
	if _, ok := congList.news[name]; ok {
		return fmt.Errorf("tcp: congestion control %q already registered", name)
	}
	congList.news[name] = newOps
	congList.names = append(congList.names, name)
	return nil
}

// FindCongestionControl is tcp_ca_find: the constructor of the algorithm
// called name, nil if there is none.
func FindCongestionControl(name string) func() CongestionOps {
	congList.RLock()
	defer congList.RUnlock()
	return congList.news[name]
}

// AvailableCongestionControl is tcp_get_available_congestion_control: the
// registered names in order (net.ipv4.tcp_available_congestion_control,
// "reno cubic").
func AvailableCongestionControl() []string {
	congList.RLock()
	defer congList.RUnlock()
	return append([]string(nil), congList.names...)
}

// NewCongestionControl gives a connection the algorithm called name, as
// setsockopt(TCP_CONGESTION) does (tcp_set_congestion_control), and runs
// its Init. An unknown name is an error (Linux's ENOENT).
func NewCongestionControl(name string, s *Sock) (CongestionOps, error) {
	newOps := FindCongestionControl(name)
	if newOps == nil {
		return nil, fmt.Errorf("tcp: no congestion control %q", name)
	}
	ca := newOps()
	ca.Init(s)
	return ca, nil
}

func init() {
	for _, a := range []struct {
		name string
		new  func() CongestionOps
	}{
		{"reno", func() CongestionOps { return &Reno{} }},
		{"cubic", func() CongestionOps { return &Cubic{} }},
	} {
		if err := RegisterCongestionControl(a.name, a.new); err != nil {
			panic(err)
		}
	}
}
