package ipv4

import (
	"fmt"
	"io"
	"sort"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/stack/neigh"
)

// Route types (RTN_*), as ip route prints them.
const (
	RTN_UNICAST   = neigh.RTN_UNICAST
	RTN_LOCAL     = neigh.RTN_LOCAL
	RTN_BROADCAST = neigh.RTN_BROADCAST
	RTN_MULTICAST = neigh.RTN_MULTICAST
)

// Routing tables (RT_TABLE_*): the local table is looked up first (fib
// rule 0), then main (rule 32766).
const (
	RT_TABLE_MAIN  = 254
	RT_TABLE_LOCAL = 255
)

// Scopes (RT_SCOPE_*).
const (
	RT_SCOPE_UNIVERSE = 0
	RT_SCOPE_LINK     = 253
	RT_SCOPE_HOST     = 254
)

// Route is one fib_info/fib_alias: a prefix and where it leads.
type Route struct {
	Table     int
	Type      int
	Dst       [4]byte
	PrefixLen int
	Gateway   [4]byte // zero: directly connected
	Dev       *kernelmodel.NetDevice
	Scope     int
	Kernel    bool    // proto kernel (added for an address), else proto boot
	Src       [4]byte // prefsrc, zero if none
	Metric    int
	MTU       int // the mtu metric (RTAX_MTU), 0 for the device's
}

func mask(plen int) uint32 {
	if plen <= 0 {
		return 0
	}
	return ^uint32(0) << (32 - plen)
}

func u32(a [4]byte) uint32 {
	return uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
}

func (r *Route) matches(dst [4]byte) bool { return (u32(dst)^u32(r.Dst))&mask(r.PrefixLen) == 0 }

// FIB is the routing tables (fib_table local and main) of one stack.
type FIB struct {
	routes []*Route
}

// lookup is fib_lookup(): the longest prefix match in the local table, then
// in main; among equal prefixes the lowest metric, then the first added.
func (f *FIB) lookup(dst [4]byte) *Route {
	for _, tb := range [2]int{RT_TABLE_LOCAL, RT_TABLE_MAIN} {
		var best *Route
		for _, r := range f.routes {
			if r.Table != tb || !r.matches(dst) {
				continue
			}
			if best == nil || r.PrefixLen > best.PrefixLen || (r.PrefixLen == best.PrefixLen && r.Metric < best.Metric) {
				best = r
			}
		}
		if best != nil {
			return best
		}
	}
	return nil
}

// Add is fib_table_insert(): it refuses a route that exists (EEXIST, as
// ip route add does).
func (f *FIB) Add(r Route) error {
	if r.PrefixLen < 0 || r.PrefixLen > 32 {
		return fmt.Errorf("ip route: prefix length %d", r.PrefixLen)
	}
	if r.Table == 0 {
		r.Table = RT_TABLE_MAIN
	}
	if r.Type == 0 {
		r.Type = RTN_UNICAST
	}
	m := mask(r.PrefixLen)
	r.Dst = ip4(u32(r.Dst) & m)
	for _, o := range f.routes {
		if o.Table == r.Table && o.Dst == r.Dst && o.PrefixLen == r.PrefixLen && o.Metric == r.Metric && o.Type == r.Type {
			return fmt.Errorf("ip route: %s/%d: file exists", ipString(r.Dst), r.PrefixLen)
		}
	}
	f.routes = append(f.routes, &r)
	return nil
}

// Delete is fib_table_delete() for the route with dst/plen in table.
func (f *FIB) Delete(table int, dst [4]byte, plen int) bool {
	for i, r := range f.routes {
		if r.Table == table && r.Dst == dst && r.PrefixLen == plen {
			copy(f.routes[i:], f.routes[i+1:])
			f.routes[len(f.routes)-1] = nil
			f.routes = f.routes[:len(f.routes)-1]
			return true
		}
	}
	return false
}

// Routes are the routes of table (both tables for 0), in the order they
// were added.
func (f *FIB) Routes(table int) []Route {
	var out []Route
	for _, r := range f.routes {
		if table == 0 || r.Table == table {
			out = append(out, *r)
		}
	}
	return out
}

// Lookup is fib_lookup() for dst: a copy of the route taken (ok false:
// none).
func (f *FIB) Lookup(dst [4]byte) (Route, bool) {
	if r := f.lookup(dst); r != nil {
		return *r, true
	}
	return Route{}, false
}

// has reports whether r's prefix is in its table already.
func (f *FIB) has(r Route) bool {
	dst := ip4(u32(r.Dst) & mask(r.PrefixLen))
	for _, o := range f.routes {
		if o.Table == r.Table && o.Dst == dst && o.PrefixLen == r.PrefixLen && o.Type == r.Type && o.Metric == r.Metric {
			return true
		}
	}
	return false
}

// flushDev is fib_sync_down_dev() with the flush: every route through d
// goes.
func (f *FIB) flushDev(d *kernelmodel.NetDevice) {
	out := f.routes[:0]
	for _, r := range f.routes {
		if r.Dev != d {
			out = append(out, r)
		}
	}
	clear(f.routes[len(out):])
	f.routes = out
}

func ip4(v uint32) [4]byte { return [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }

func ipString(a [4]byte) string { return fmt.Sprintf("%d.%d.%d.%d", a[0], a[1], a[2], a[3]) }

// WriteRoutes is ip route show table (main or local, as iproute2 prints
// them: sorted by prefix, "default" for 0/0, the type named outside main's
// unicast routes).
func (f *FIB) WriteRoutes(w io.Writer, table int) error {
	var rs []*Route
	for _, r := range f.routes {
		if r.Table == table {
			rs = append(rs, r)
		}
	}
	// The trie's order: by prefix, a longer prefix of the same address
	// first (fib_trie's leaf keeps its aliases by suffix length), then by
	// metric.
	sort.SliceStable(rs, func(i, j int) bool {
		if u32(rs[i].Dst) != u32(rs[j].Dst) {
			return u32(rs[i].Dst) < u32(rs[j].Dst)
		}
		if rs[i].PrefixLen != rs[j].PrefixLen {
			return rs[i].PrefixLen > rs[j].PrefixLen
		}
		return rs[i].Metric < rs[j].Metric
	})
	for _, r := range rs {
		line := ""
		switch r.Type {
		case RTN_LOCAL:
			line = "local "
		case RTN_BROADCAST:
			line = "broadcast "
		case RTN_MULTICAST:
			line = "multicast "
		}
		switch {
		case r.PrefixLen == 0:
			line += "default"
		case r.PrefixLen == 32:
			line += ipString(r.Dst)
		default:
			line += fmt.Sprintf("%s/%d", ipString(r.Dst), r.PrefixLen)
		}
		if r.Gateway != ([4]byte{}) {
			line += " via " + ipString(r.Gateway)
		}
		if r.Dev != nil {
			line += " dev " + r.Dev.Name
		}
		if r.Kernel {
			line += " proto kernel"
		}
		switch r.Scope {
		case RT_SCOPE_LINK:
			line += " scope link"
		case RT_SCOPE_HOST:
			line += " scope host"
		}
		if r.Src != ([4]byte{}) {
			line += " src " + ipString(r.Src)
		}
		if r.Metric != 0 {
			line += fmt.Sprintf(" metric %d", r.Metric)
		}
		if r.MTU != 0 {
			line += fmt.Sprintf(" mtu %d", r.MTU)
		}
		if _, err := io.WriteString(w, line+"\n"); err != nil {
			return err
		}
	}
	return nil
}

func isMulticast(a [4]byte) bool { return a[0]&0xf0 == 0xe0 }
func isLbcast(a [4]byte) bool    { return a == [4]byte{255, 255, 255, 255} }
func isZeronet(a [4]byte) bool   { return a[0] == 0 }
func isLoopback(a [4]byte) bool  { return a[0] == 127 }

// isLocalAddr is inet_lookup_ifaddr_rcu(): a an address of this host.
func (s *Stack) isLocalAddr(a [4]byte) bool {
	for _, ia := range s.addrs {
		if ia.Local == a {
			return true
		}
	}
	return false
}

// routeInput is ip_route_input_slow() (rp_filter 0, accept_local 0,
// route_localnet 0, no multicast membership): the type of the input route
// of skb — RTN_LOCAL or RTN_BROADCAST (deliver), RTN_UNICAST with the
// route (forward), RTN_UNREACHABLE with the errno ip_error reports
// (EHOSTUNREACH with forwarding off, ENETUNREACH without a route), or 0 for
// a martian or a multicast destination, dropped. A forwarded skb whose
// source is on the link it leaves by gets IPSKB_DOREDIRECT (__mkroute_input
// with send_redirects and shared_media 1).
func (s *Stack) routeInput(skb *kernelmodel.SKB, h header.IPv4) (typ int, r *Route, err int) {
	src, dst := h.Source(), h.Destination()
	if isMulticast(dst) {
		return 0, nil, 0 // ip_route_input_mc: not a member of any group
	}
	switch {
	case isMulticast(src) || isLbcast(src):
		return 0, nil, 0 // martian source
	case isLbcast(dst) || src == [4]byte{} && dst == [4]byte{}:
		if src != ([4]byte{}) && s.isLocalAddr(src) {
			return 0, nil, 0 // brd_input's fib_validate_source
		}
		return RTN_BROADCAST, nil, 0
	case isZeronet(src), isLoopback(src):
		return 0, nil, 0
	case isZeronet(dst), isLoopback(dst):
		return 0, nil, 0 // martian destination
	}
	// fib_validate_source's fast path (rp_filter 0): one of our own
	// addresses as the source is a martian.
	if s.isLocalAddr(src) {
		return 0, nil, 0
	}
	fwd := s.Sysctl.IPForward != 0
	r = s.FIB.lookup(dst)
	if r == nil {
		if !fwd {
			return RTN_UNREACHABLE, nil, EHOSTUNREACH
		}
		return RTN_UNREACHABLE, nil, ENETUNREACH
	}
	switch r.Type {
	case RTN_BROADCAST, RTN_LOCAL:
		return r.Type, r, 0
	}
	if !fwd {
		return RTN_UNREACHABLE, nil, EHOSTUNREACH
	}
	if r.Type != RTN_UNICAST || r.Dev == nil {
		return 0, nil, 0
	}
	if r.Dev == skb.Dev && s.Sysctl.SendRedirects != 0 {
		// fib_validate_source's full check returns 1 when the source is
		// reached directly on the input device (a nexthop of host scope).
		if rs := s.FIB.lookup(src); rs != nil && rs.Type == RTN_UNICAST && rs.Dev == skb.Dev && rs.Gateway == ([4]byte{}) {
			skb.CB[cbFlags] |= IPSKB_DOREDIRECT
		}
	}
	return RTN_UNICAST, r, 0
}

const ipMaxMTU = 0xFFF0 // IP_MAX_MTU

// fibNhException is a struct fib_nh_exception's path MTU: what an ICMP
// fragmentation needed taught about one destination, until it expires.
type fibNhException struct {
	pmtu    int
	lock    bool   // below min_pmtu: the route's MTU locked at min_pmtu
	expires uint64 // jiffies
}

// UpdatePMTU is ipv4_update_pmtu() → __ip_rt_update_pmtu(): the path MTU
// towards dst is mtu for route.mtu_expires (600 s). An mtu below
// route.min_pmtu (552) becomes min_pmtu, locked (Linux's sockets then
// stop setting DF on the path, ip_dont_fragment; forwarding honours a
// locked MTU); one above the current path MTU changes nothing.
func (s *Stack) UpdatePMTU(dst [4]byte, mtu int) {
	r, _ := s.ipRouteOutput(dst)
	if r == nil || r.Type == RTN_LOCAL {
		return
	}
	old := s.dstMTU(r, dst, false)
	if old < mtu {
		return
	}
	lock := false
	if mtu < s.Sysctl.RouteMinPMTU {
		lock = true
		mtu = min(old, s.Sysctl.RouteMinPMTU)
	}
	now := s.K.Jiffies()
	exp := now + uint64(s.Sysctl.RouteMTUExpires)*kernelmodel.HZ
	if e := s.fnhe[dst]; e != nil && e.pmtu == mtu && !lock && now < e.expires-uint64(s.Sysctl.RouteMTUExpires)*kernelmodel.HZ/2 {
		return
	}
	s.fnhe[dst] = &fibNhException{pmtu: mtu, lock: lock, expires: exp}
	s.K.TracePoint("ip_rt_update_pmtu", 0, int64(mtu))
}

// PMTU is the path MTU output to dst uses now (ip_skb_dst_mtu): a learned
// one not expired, else the route's mtu metric or its device's MTU; 0
// without a route.
func (s *Stack) PMTU(dst [4]byte) int {
	r, _ := s.ipRouteOutput(dst)
	if r == nil {
		return 0
	}
	return s.dstMTU(r, dst, false)
}

// dstMTU is ip_dst_mtu_maybe_forward(): a learned path MTU unless
// forwarding (ip_forward_use_pmtu 0, unless locked), then the route's mtu
// metric, then the device's MTU.
func (s *Stack) dstMTU(r *Route, dst [4]byte, forwarding bool) int {
	if e := s.fnhe[dst]; e != nil && r.Type != RTN_LOCAL {
		if s.K.Jiffies() >= e.expires {
			delete(s.fnhe, dst)
		} else if !forwarding || e.lock || s.Sysctl.IPFwdUsePMTU != 0 {
			return e.pmtu
		}
	}
	if r.MTU != 0 {
		return r.MTU
	}
	return min(r.Dev.MTU, ipMaxMTU)
}
