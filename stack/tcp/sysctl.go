package tcp

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Sysctl is the net.ipv4.tcp_* tunables these building blocks read, with
// Linux 6.1's defaults (NewSysctl). Linux keeps them per network
// namespace; here they are per stack.
type Sysctl struct {
	Timestamps    int // tcp_timestamps: 1 (1 ms tick)
	SACK          int // tcp_sack: 1
	DSACK         int // tcp_dsack: 1
	WindowScaling int // tcp_window_scaling: 1
	Syncookies    int // tcp_syncookies: 1 (when the SYN queue overflows)
	Recovery      int // tcp_recovery: 1 (TCP_RACK_LOSS_DETECTION)
	EarlyRetrans  int // tcp_early_retrans: 3 (tail loss probe)
	Reordering    int // tcp_reordering: 3 (the initial dupthresh)
	MinRTTWlen    int // tcp_min_rtt_wlen: 300 s
	Ecn           int // tcp_ecn: 2 (ECN when the peer asks)

	SynRetries         int // tcp_syn_retries: 6
	SynackRetries      int // tcp_synack_retries: 5
	Retries1           int // tcp_retries1: 3
	Retries2           int // tcp_retries2: 15
	FinTimeout         int // tcp_fin_timeout: 60 s
	KeepaliveTime      int // tcp_keepalive_time: 7200 s
	KeepaliveIntvl     int // tcp_keepalive_intvl: 75 s
	KeepaliveProbes    int // tcp_keepalive_probes: 9
	SlowStartAfterIdle int // tcp_slow_start_after_idle: 1
	// AdvWinScale is tcp_adv_win_scale (Linux 6.1: 1, half the buffer
	// is window).
	AdvWinScale             int
	WorkaroundSignedWindows int // tcp_workaround_signed_windows: 0
	// InvalidRatelimit is tcp_invalid_ratelimit: 500 ms between answers
	// to out-of-window segments per connection.
	InvalidRatelimit int
	// ChallengeACKLimit is tcp_challenge_ack_limit: INT_MAX in Linux
	// 6.1 (no namespace-wide limit; the per-connection one applies).
	ChallengeACKLimit int
	Rmem              [3]int // tcp_rmem: 4096 131072 6291456
	Wmem              [3]int // tcp_wmem: 4096 16384 4194304
	// CongestionControl is tcp_congestion_control: the algorithm a new
	// socket gets (cubic).
	CongestionControl string
}

// NewSysctl returns the tunables at Linux's defaults.
func NewSysctl() Sysctl {
	return Sysctl{
		Timestamps:         1,
		SACK:               1,
		DSACK:              1,
		WindowScaling:      1,
		Syncookies:         1,
		Recovery:           1,
		EarlyRetrans:       3,
		Reordering:         3,
		MinRTTWlen:         300,
		Ecn:                2,
		SynRetries:         6,
		SynackRetries:      5,
		Retries1:           3,
		Retries2:           15,
		FinTimeout:         60,
		KeepaliveTime:      7200,
		KeepaliveIntvl:     75,
		KeepaliveProbes:    9,
		SlowStartAfterIdle: 1,
		AdvWinScale:        1,
		InvalidRatelimit:   500,
		ChallengeACKLimit:  math.MaxInt32,
		Rmem:               [3]int{4096, 131072, 6291456},
		Wmem:               [3]int{4096, 16384, 4194304},
		CongestionControl:  "cubic",
	}
}

func (s *Sysctl) field(name string) *int {
	switch strings.TrimPrefix(name, "net.ipv4.") {
	case "tcp_timestamps":
		return &s.Timestamps
	case "tcp_sack":
		return &s.SACK
	case "tcp_dsack":
		return &s.DSACK
	case "tcp_window_scaling":
		return &s.WindowScaling
	case "tcp_syncookies":
		return &s.Syncookies
	case "tcp_recovery":
		return &s.Recovery
	case "tcp_early_retrans":
		return &s.EarlyRetrans
	case "tcp_reordering":
		return &s.Reordering
	case "tcp_min_rtt_wlen":
		return &s.MinRTTWlen
	case "tcp_ecn":
		return &s.Ecn
	case "tcp_syn_retries":
		return &s.SynRetries
	case "tcp_synack_retries":
		return &s.SynackRetries
	case "tcp_retries1":
		return &s.Retries1
	case "tcp_retries2":
		return &s.Retries2
	case "tcp_fin_timeout":
		return &s.FinTimeout
	case "tcp_keepalive_time":
		return &s.KeepaliveTime
	case "tcp_keepalive_intvl":
		return &s.KeepaliveIntvl
	case "tcp_keepalive_probes":
		return &s.KeepaliveProbes
	case "tcp_slow_start_after_idle":
		return &s.SlowStartAfterIdle
	case "tcp_workaround_signed_windows":
		return &s.WorkaroundSignedWindows
	case "tcp_invalid_ratelimit":
		return &s.InvalidRatelimit
	case "tcp_challenge_ack_limit":
		return &s.ChallengeACKLimit
	}
	return nil
}

func (s *Sysctl) vector(name string) *[3]int {
	switch name {
	case "tcp_rmem":
		return &s.Rmem
	case "tcp_wmem":
		return &s.Wmem
	}
	return nil
}

// Set sets a tunable by its sysctl name (net.ipv4.tcp_*), as sysctl -w
// does. tcp_rmem and tcp_wmem take three numbers; tcp_congestion_control takes a registered algorithm's name
// (EINVAL-like error otherwise, as Linux's ENOENT for an unknown module).
func (s *Sysctl) Set(name, val string) error {
	short := strings.TrimPrefix(name, "net.ipv4.")
	if v := s.vector(short); v != nil {
		f := strings.Fields(val)
		var n [3]int
		for i := range n {
			var err error
			if len(f) != 3 {
				err = strconv.ErrSyntax
			} else {
				n[i], err = strconv.Atoi(f[i])
			}
			if err != nil || n[i] <= 0 {
				return fmt.Errorf("sysctl: %s: want three positive numbers (min default max), got %q", name, val)
			}
		}
		*v = n
		return nil
	}
	if short == "tcp_adv_win_scale" {
		v, err := strconv.Atoi(val)
		if err != nil || v < -31 || v > 31 {
			return fmt.Errorf("sysctl: %s: invalid value %q (-31..31)", name, val)
		}
		s.AdvWinScale = v
		return nil
	}
	if short == "tcp_congestion_control" {
		if FindCongestionControl(val) == nil {
			return fmt.Errorf("sysctl: %s: no congestion control %q", name, val)
		}
		s.CongestionControl = val
		return nil
	}
	p := s.field(name)
	if p == nil {
		return fmt.Errorf("sysctl: unknown tunable %q", name)
	}
	v, err := strconv.Atoi(val)
	if err != nil || v < 0 {
		return fmt.Errorf("sysctl: %s: invalid value %q", name, val)
	}
	*p = v
	return nil
}

// Get reads a tunable by its sysctl name, as sysctl prints it.
func (s *Sysctl) Get(name string) (string, error) {
	switch strings.TrimPrefix(name, "net.ipv4.") {
	case "tcp_congestion_control":
		return s.CongestionControl, nil
	case "tcp_available_congestion_control":
		return strings.Join(AvailableCongestionControl(), " "), nil
	case "tcp_adv_win_scale":
		return strconv.Itoa(s.AdvWinScale), nil
	}
	if v := s.vector(strings.TrimPrefix(name, "net.ipv4.")); v != nil {
		return fmt.Sprintf("%d\t%d\t%d", v[0], v[1], v[2]), nil
	}
	p := s.field(name)
	if p == nil {
		return "", fmt.Errorf("sysctl: unknown tunable %q", name)
	}
	return strconv.Itoa(*p), nil
}
