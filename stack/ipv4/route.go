package ipv4

import (
	"fmt"
	"io"
	"sort"

	"github.com/nicbed/nicbed/kernelmodel"
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
	routes []Route
}

// lookup is fib_lookup(): the longest prefix match in the local table, then
// in main; among equal prefixes the lowest metric, then the first added.
func (f *FIB) lookup(dst [4]byte) *Route {
	for _, tb := range [2]int{RT_TABLE_LOCAL, RT_TABLE_MAIN} {
		var best *Route
		for i := range f.routes {
			r := &f.routes[i]
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
	f.routes = append(f.routes, r)
	return nil
}

// Delete is fib_table_delete() for the route with dst/plen in table.
func (f *FIB) Delete(table int, dst [4]byte, plen int) bool {
	for i, r := range f.routes {
		if r.Table == table && r.Dst == dst && r.PrefixLen == plen {
			f.routes = append(f.routes[:i], f.routes[i+1:]...)
			return true
		}
	}
	return false
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
	f.routes = out
}

func ip4(v uint32) [4]byte { return [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }

func ipString(a [4]byte) string { return fmt.Sprintf("%d.%d.%d.%d", a[0], a[1], a[2], a[3]) }

// WriteRoutes is ip route show table (main or local, as iproute2 prints
// them: sorted by prefix, "default" for 0/0, the type named outside main's
// unicast routes).
func (f *FIB) WriteRoutes(w io.Writer, table int) error {
	var rs []Route
	for _, r := range f.routes {
		if r.Table == table {
			rs = append(rs, r)
		}
	}
	sort.SliceStable(rs, func(i, j int) bool {
		if u32(rs[i].Dst) != u32(rs[j].Dst) {
			return u32(rs[i].Dst) < u32(rs[j].Dst)
		}
		return rs[i].PrefixLen < rs[j].PrefixLen
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
		if _, err := io.WriteString(w, line+"\n"); err != nil {
			return err
		}
	}
	return nil
}
