package tcp

import (
	"fmt"
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
	// CongestionControl is tcp_congestion_control: the algorithm a new
	// socket gets (cubic).
	CongestionControl string
}

// NewSysctl returns the tunables at Linux's defaults.
func NewSysctl() Sysctl {
	return Sysctl{
		Timestamps:        1,
		SACK:              1,
		DSACK:             1,
		WindowScaling:     1,
		Syncookies:        1,
		Recovery:          1,
		EarlyRetrans:      3,
		Reordering:        3,
		MinRTTWlen:        300,
		CongestionControl: "cubic",
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
	}
	return nil
}

// Set sets a tunable by its sysctl name (net.ipv4.tcp_*), as sysctl -w
// does. tcp_congestion_control takes a registered algorithm's name
// (EINVAL-like error otherwise, as Linux's ENOENT for an unknown module).
func (s *Sysctl) Set(name, val string) error {
	if strings.TrimPrefix(name, "net.ipv4.") == "tcp_congestion_control" {
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
	}
	p := s.field(name)
	if p == nil {
		return "", fmt.Errorf("sysctl: unknown tunable %q", name)
	}
	return strconv.Itoa(*p), nil
}
