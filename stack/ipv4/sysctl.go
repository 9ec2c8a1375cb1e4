package ipv4

import (
	"fmt"
	"strings"

	"github.com/nicbed/nicbed/kernelmodel"
)

// SetSysctl sets a tunable by its sysctl name, as sysctl -w does:
// net.ipv4.* of Sysctl, and the ARP table's net.ipv4.neigh.default.*
// (base_reachable_time_ms, retrans_time_ms, delay_first_probe_time,
// locktime in seconds and milliseconds as Linux names them, ucast_solicit,
// mcast_solicit, app_solicit, mcast_resolicit, unres_qlen_bytes).
func (s *Stack) SetSysctl(name string, val int) error {
	p, scale := s.sysctl(name)
	if p == nil && scale == 0 {
		return fmt.Errorf("sysctl: unknown tunable %q", name)
	}
	if val < 0 {
		return fmt.Errorf("sysctl: %s: invalid value %d", name, val)
	}
	if p != nil {
		*p = val
		return nil
	}
	j := s.neighJiffies(name)
	*j = uint64(val) * uint64(scale)
	return nil
}

// GetSysctl reads a tunable by its sysctl name.
func (s *Stack) GetSysctl(name string) (int, error) {
	p, scale := s.sysctl(name)
	if p == nil && scale == 0 {
		return 0, fmt.Errorf("sysctl: unknown tunable %q", name)
	}
	if p != nil {
		return *p, nil
	}
	return int(*s.neighJiffies(name) / uint64(scale)), nil
}

// sysctl finds an int tunable (p) or a jiffies one (scale: jiffies per
// unit of the sysctl's value).
func (s *Stack) sysctl(name string) (p *int, scale int) {
	y := &s.Sysctl
	n := &s.Neigh.Parms
	switch strings.TrimPrefix(name, "net.ipv4.") {
	case "ip_default_ttl":
		return &y.IPDefaultTTL, 0
	case "icmp_ratelimit":
		return &y.ICMPRatelimit, 0
	case "icmp_ratemask":
		return &y.ICMPRatemask, 0
	case "icmp_msgs_per_sec":
		return &y.ICMPMsgsPerSec, 0
	case "icmp_msgs_burst":
		return &y.ICMPMsgsBurst, 0
	case "icmp_echo_ignore_all":
		return &y.ICMPEchoIgnoreAll, 0
	case "icmp_echo_ignore_broadcasts":
		return &y.ICMPEchoIgnoreBroadcasts, 0
	case "conf.all.arp_notify":
		return &y.ARPNotify, 0
	case "ip_forward", "conf.all.forwarding":
		return &y.IPForward, 0
	case "conf.all.send_redirects":
		return &y.SendRedirects, 0
	case "ip_no_pmtu_disc":
		return &y.IPNoPMTUDisc, 0
	case "ip_forward_use_pmtu":
		return &y.IPFwdUsePMTU, 0
	case "route.min_pmtu":
		return &y.RouteMinPMTU, 0
	case "route.mtu_expires":
		return &y.RouteMTUExpires, 0
	case "icmp_ignore_bogus_error_responses":
		return &y.ICMPIgnoreBogus, 0
	case "route.error_cost":
		return &y.RouteErrorCost, 0
	case "route.error_burst":
		return &y.RouteErrorBurst, 0
	case "route.redirect_number":
		return &y.RouteRedirectNum, 0
	case "route.redirect_load":
		return &y.RouteRedirectLoad, 0
	case "neigh.default.ucast_solicit":
		return &n.UcastSolicit, 0
	case "neigh.default.mcast_solicit":
		return &n.McastSolicit, 0
	case "neigh.default.app_solicit":
		return &n.AppSolicit, 0
	case "neigh.default.mcast_resolicit":
		return &n.McastResolicit, 0
	case "neigh.default.unres_qlen_bytes":
		return &n.UnresQlenBytes, 0
	case "neigh.default.base_reachable_time_ms", "neigh.default.retrans_time_ms":
		return nil, 1 // ms = jiffies at HZ 1000
	case "neigh.default.base_reachable_time", "neigh.default.delay_first_probe_time", "neigh.default.locktime":
		return nil, kernelmodel.HZ
	}
	return nil, 0
}

func (s *Stack) neighJiffies(name string) *uint64 {
	n := &s.Neigh.Parms
	switch strings.TrimPrefix(name, "net.ipv4.neigh.default.") {
	case "base_reachable_time_ms", "base_reachable_time":
		return &n.BaseReachableTime
	case "retrans_time_ms":
		return &n.RetransTime
	case "delay_first_probe_time":
		return &n.DelayFirstProbeTime
	}
	return &n.Locktime
}
