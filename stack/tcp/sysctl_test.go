package tcp

import "testing"

// TestSysctlDefaults: the tunables read by their names give Linux 6.1's
// defaults (../shared/LINUX-DEFAULTS.md), as sysctl prints them.
func TestSysctlDefaults(t *testing.T) {
	s := NewSysctl()
	for name, want := range map[string]string{
		"net.ipv4.tcp_timestamps":            "1",
		"net.ipv4.tcp_sack":                  "1",
		"net.ipv4.tcp_dsack":                 "1",
		"net.ipv4.tcp_window_scaling":        "1",
		"net.ipv4.tcp_syncookies":            "1",
		"net.ipv4.tcp_recovery":              "1",
		"net.ipv4.tcp_early_retrans":         "3",
		"net.ipv4.tcp_reordering":            "3",
		"net.ipv4.tcp_min_rtt_wlen":          "300",
		"net.ipv4.tcp_ecn":                   "2",
		"net.ipv4.tcp_syn_retries":           "6",
		"net.ipv4.tcp_synack_retries":        "5",
		"net.ipv4.tcp_retries1":              "3",
		"net.ipv4.tcp_retries2":              "15",
		"net.ipv4.tcp_fin_timeout":           "60",
		"net.ipv4.tcp_keepalive_time":        "7200",
		"net.ipv4.tcp_keepalive_intvl":       "75",
		"net.ipv4.tcp_keepalive_probes":      "9",
		"net.ipv4.tcp_slow_start_after_idle": "1",
		"net.ipv4.tcp_adv_win_scale":         "1",
		"net.ipv4.tcp_invalid_ratelimit":     "500",
		"net.ipv4.tcp_challenge_ack_limit":   "2147483647",
		"net.ipv4.tcp_rmem":                  "4096\t131072\t6291456",
		"net.ipv4.tcp_wmem":                  "4096\t16384\t4194304",
		"net.ipv4.tcp_congestion_control":    "cubic",
		"tcp_sack":                           "1", // the prefix is optional
	} {
		if got, err := s.Get(name); err != nil || got != want {
			t.Errorf("%s = %q (%v), want %q", name, got, err, want)
		}
	}
}

func TestSysctlSet(t *testing.T) {
	s := NewSysctl()
	for _, c := range []struct {
		name, val string
		ok        bool
	}{
		{"net.ipv4.tcp_rmem", "4096 87380 16777216", true},
		{"net.ipv4.tcp_rmem", "4096 87380", false},
		{"net.ipv4.tcp_wmem", "4096 x 1", false},
		{"net.ipv4.tcp_wmem", "0 1 2", false},
		{"net.ipv4.tcp_adv_win_scale", "-2", true},
		{"net.ipv4.tcp_adv_win_scale", "40", false},
		{"net.ipv4.tcp_syn_retries", "2", true},
		{"net.ipv4.tcp_syn_retries", "two", false},
		{"net.ipv4.tcp_nonesuch", "1", false},
	} {
		if err := s.Set(c.name, c.val); (err == nil) != c.ok {
			t.Errorf("Set(%s, %q): %v", c.name, c.val, err)
		}
	}
	if s.Rmem != [3]int{4096, 87380, 16777216} || s.Wmem != NewSysctl().Wmem || s.AdvWinScale != -2 || s.SynRetries != 2 {
		t.Errorf("after the sets: %+v", s)
	}
	if _, err := s.Get("net.ipv4.tcp_nonesuch"); err == nil {
		t.Error("unknown name read")
	}
}
