// Package neigh is the neighbour layer (net/core/neighbour.c) and ARP over
// Ethernet (net/ipv4/arp.c, RFC 826): a table of neighbours per kernel
// (arp_tbl), each with Linux's NUD state machine and timers, a bounded queue
// of packets awaiting resolution, the cached Ethernet header (hh_cache), ARP
// requests, replies and gratuitous ARP.
//
// The states and timers follow Linux 6.1's neigh_timer_handler,
// __neigh_event_send and neigh_update:
//
//	NONE/FAILED --output--> INCOMPLETE: broadcast requests at 0, retrans_time,
//	                  2·retrans_time (mcast_solicit 3); FAILED after the third
//	                  retrans_time, the queue dropped (NEIGH_FAILED)
//	INCOMPLETE --reply--> REACHABLE (unicast reply) or STALE (broadcast, request)
//	REACHABLE --reachable_time after the last confirmation-->
//	                  DELAY if used within delay_first_probe_time, else STALE
//	STALE --output--> DELAY (the packet goes out on the cached address)
//	DELAY --delay_first_probe_time--> REACHABLE if confirmed meanwhile, else
//	                  PROBE: unicast requests every retrans_time
//	                  (ucast_solicit 3), then FAILED
//
// reachable_time is base_reachable_time randomized as neigh_rand_reach_time
// does (uniform in [base/2, 3·base/2)), drawn again when the periodic work
// (every base_reachable_time/2) finds 300 s passed, from a seeded generator
// so that runs replay. Entries are not garbage collected: Linux's
// neigh_periodic_work does not collect below gc_thresh1 (128) entries, and
// the model keeps fewer.
//
// Deviations kept: no confirmations from upper layers (dst_confirm_neigh;
// TCP's comes with TCP), no proxy ARP, arp_ignore/arp_announce/arp_filter at
// their defaults (0) only, no error_report (the ICMP host unreachable for
// the queued packets of a FAILED entry; they are dropped with NEIGH_FAILED).
package neigh

import (
	"fmt"
	"io"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/stack/internal/prandom"
)

// NUD states (include/uapi/linux/neighbour.h).
const (
	NUD_NONE       = 0x00
	NUD_INCOMPLETE = 0x01
	NUD_REACHABLE  = 0x02
	NUD_STALE      = 0x04
	NUD_DELAY      = 0x08
	NUD_PROBE      = 0x10
	NUD_FAILED     = 0x20
	NUD_NOARP      = 0x40
	NUD_PERMANENT  = 0x80

	NUD_IN_TIMER  = NUD_INCOMPLETE | NUD_REACHABLE | NUD_DELAY | NUD_PROBE
	NUD_VALID     = NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE | NUD_PROBE | NUD_STALE | NUD_DELAY
	NUD_CONNECTED = NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE
)

// StateName is the state as ip neigh prints it.
func StateName(s uint8) string {
	switch s {
	case NUD_NONE:
		return "NONE"
	case NUD_INCOMPLETE:
		return "INCOMPLETE"
	case NUD_REACHABLE:
		return "REACHABLE"
	case NUD_STALE:
		return "STALE"
	case NUD_DELAY:
		return "DELAY"
	case NUD_PROBE:
		return "PROBE"
	case NUD_FAILED:
		return "FAILED"
	case NUD_NOARP:
		return "NOARP"
	case NUD_PERMANENT:
		return "PERMANENT"
	}
	return "?"
}

// Address types, as inet_addr_type names them (RTN_*), for AddrType.
const (
	RTN_UNICAST   = 1
	RTN_LOCAL     = 2
	RTN_BROADCAST = 3
	RTN_MULTICAST = 5
)

// Parms is struct neigh_parms: net.ipv4.neigh.default.*, in jiffies (ms at
// HZ 1000) where Linux keeps jiffies.
type Parms struct {
	BaseReachableTime   uint64 // base_reachable_time_ms (30000)
	RetransTime         uint64 // retrans_time_ms (1000)
	DelayFirstProbeTime uint64 // delay_first_probe_time (5 s)
	Locktime            uint64 // locktime (1 s)
	UcastSolicit        int    // ucast_solicit (3)
	McastSolicit        int    // mcast_solicit (3)
	AppSolicit          int    // app_solicit (0)
	McastResolicit      int    // mcast_resolicit (0)
	UnresQlenBytes      int    // unres_qlen_bytes (212992, SK_WMEM_MAX)
}

// DefaultParms are Linux's defaults for arp_tbl.
func DefaultParms() Parms {
	return Parms{
		BaseReachableTime:   30 * kernelmodel.HZ,
		RetransTime:         1 * kernelmodel.HZ,
		DelayFirstProbeTime: 5 * kernelmodel.HZ,
		Locktime:            1 * kernelmodel.HZ,
		UcastSolicit:        3,
		McastSolicit:        3,
		UnresQlenBytes:      212992,
	}
}

// Stats is /proc/net/stat/arp_cache (struct neigh_statistics).
type Stats struct {
	Allocs             uint64 // neighbours created
	Destroys           uint64
	Lookups            uint64
	Hits               uint64
	ResFailed          uint64 // resolutions that failed (entry to FAILED)
	RcvProbesMcast     uint64 // broadcast ARP requests received for us
	RcvProbesUcast     uint64 // unicast ARP requests received for us
	UnresolvedDiscards uint64 // queued packets dropped: queue over unres_qlen_bytes
}

type key struct {
	ifindex int
	ip      [4]byte
}

// Neighbour is a struct neighbour.
type Neighbour struct {
	Key       [4]byte // primary_key: the IPv4 address
	Dev       *kernelmodel.NetDevice
	HA        [6]byte // ha: the link-layer address
	State     uint8   // nud_state
	Confirmed uint64  // jiffies of the last confirmation
	Used      uint64  // jiffies of the last use for output
	Updated   uint64  // jiffies of the last state or address change
	Probes    int     // solicitations sent in this round

	tbl      *Table
	timer    kernelmodel.TimerList
	arpQueue kernelmodel.SKBHead
	qBytes   int // arp_queue_len_bytes
	hh       [header.EthernetMinSize]byte
	hhLen    int  // hh_len: 0 until neigh_hh_init
	direct   bool // output is neigh_direct_output (no link-layer header)
}

// QueueLen is the number of packets waiting for resolution and their
// truesize in bytes (arp_queue_len_bytes).
func (n *Neighbour) QueueLen() (pkts, bytes int) { return n.arpQueue.Len(), n.qBytes }

// HH is the cached Ethernet header (hh_cache), nil until the first output
// through a resolved entry.
func (n *Neighbour) HH() []byte {
	if n.hhLen == 0 {
		return nil
	}
	return n.hh[:n.hhLen]
}

// Timer is the entry's timer: pending and its expiry in jiffies.
func (n *Neighbour) Timer() (pending bool, expires uint64) {
	return n.timer.TimerPending(), n.timer.Expires
}

// Table is struct neigh_table for ARP (arp_tbl) on one kernel.
type Table struct {
	K     *kernelmodel.Kernel
	Parms Parms
	Stats Stats

	// AddrType is inet_addr_type_dev_table(dev, ip): RTN_LOCAL for an address
	// of the host, RTN_BROADCAST, RTN_MULTICAST, else RTN_UNICAST. The IPv4
	// layer sets it.
	AddrType func(dev *kernelmodel.NetDevice, ip [4]byte) int
	// SelectAddr is inet_select_addr(dev, dst, RT_SCOPE_LINK): the source
	// address of a request for dst (ok false: the device has none).
	SelectAddr func(dev *kernelmodel.NetDevice, dst [4]byte) ([4]byte, bool)

	entries map[key]*Neighbour
	list    []*Neighbour // the entries in the order they were made

	reachableTime uint64 // parms->reachable_time, randomized
	created       uint64 // jiffies when the table was made (periodic work epoch)
	lastRand      uint64
	rng           prandom.State
}

// NewTable is neigh_table_init(&arp_tbl) with arp_init's dev_add_pack: the
// table registers arp_rcv for ETH_P_ARP on k. seed seeds the generator of
// reachable_time.
func NewTable(k *kernelmodel.Kernel, seed uint64) *Table {
	t := &Table{K: k, Parms: DefaultParms(), entries: make(map[key]*Neighbour), rng: prandom.New(seed)}
	t.created = k.Jiffies()
	t.lastRand = t.created
	t.reachableTime = t.randReachTime()
	k.DevAddPack(&kernelmodel.PacketType{Type: kernelmodel.ETH_P_ARP, Func: t.arpRcv})
	return t
}

// timeBefore and timeBeforeEq are time_before/time_before_eq: jiffies
// compared through their signed difference, so that a time computed before
// the clock's start (Linux sets confirmed 2·base_reachable_time in the
// past) wraps as it does in Linux.
func timeBefore(a, b uint64) bool   { return int64(a-b) < 0 }
func timeBeforeEq(a, b uint64) bool { return int64(a-b) <= 0 }

// next is a xorshift64* step: the deterministic prandom of the model.
func (t *Table) next() uint64 { return t.rng.U64() }

// randReachTime is neigh_rand_reach_time(): base/2 + prandom_u32_max(base).
func (t *Table) randReachTime() uint64 {
	base := t.Parms.BaseReachableTime
	if base == 0 {
		return 0
	}
	return (t.next()>>32)*base>>32 + base>>1
}

// ReachableTime is parms->reachable_time in jiffies. neigh_periodic_work
// runs every base_reachable_time/2 from the table's creation and draws it
// again at the first run more than 300 s after the last draw; the model
// computes those runs when the value is read (the draws come in the same
// order, so the values are the same).
func (t *Table) ReachableTime() uint64 {
	now := t.K.Jiffies()
	period := t.Parms.BaseReachableTime / 2
	if period == 0 {
		return t.reachableTime
	}
	for {
		// The first periodic run strictly after lastRand + 300 s.
		after := t.lastRand + 300*kernelmodel.HZ - t.created
		run := t.created + (after/period+1)*period
		if run > now {
			return t.reachableTime
		}
		t.lastRand = run
		t.reachableTime = t.randReachTime()
	}
}

// Lookup is neigh_lookup(): the entry for ip on dev, or nil.
func (t *Table) Lookup(dev *kernelmodel.NetDevice, ip [4]byte) *Neighbour {
	t.Stats.Lookups++
	n := t.entries[key{dev.Ifindex, ip}]
	if n != nil {
		t.Stats.Hits++
	}
	return n
}

// Entries are the table's entries (ip neigh show), oldest first.
func (t *Table) Entries() []*Neighbour { return append([]*Neighbour(nil), t.list...) }

// create is __neigh_create() with arp_constructor: on a device without a
// link-layer header (ARPHRD_NONE, tun) the entry is NUD_NOARP and sends
// straight to the device (neigh_direct_output); multicast addresses, any
// address on an IFF_NOARP or IFF_LOOPBACK device (the device's own address)
// and broadcast addresses or any on an IFF_POINTOPOINT device (the
// broadcast address) are NUD_NOARP with that fixed link-layer address.
func (t *Table) create(dev *kernelmodel.NetDevice, ip [4]byte) *Neighbour {
	n := &Neighbour{Key: ip, Dev: dev, tbl: t}
	now := t.K.Jiffies()
	n.Updated, n.Used = now, now
	t.K.TimerSetup(&n.timer, n.timerHandler)
	typ := t.addrType(dev, ip)
	switch {
	case dev.Type == kernelmodel.ARPHRD_NONE:
		// No header_ops (a tun device): arp_direct_ops, neigh_direct_output.
		n.State = NUD_NOARP
		n.direct = true
	case typ == RTN_MULTICAST:
		n.State = NUD_NOARP
		n.HA = [6]byte{0x01, 0x00, 0x5e, ip[1] & 0x7f, ip[2], ip[3]} // ip_eth_mc_map
	case dev.Flags&(kernelmodel.IFF_NOARP|kernelmodel.IFF_LOOPBACK) != 0:
		n.State = NUD_NOARP
		n.HA = dev.Addr
	case typ == RTN_BROADCAST || dev.Flags&kernelmodel.IFF_POINTOPOINT != 0:
		n.State = NUD_NOARP
		n.HA = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	}
	t.entries[key{dev.Ifindex, ip}] = n
	t.list = append(t.list, n)
	t.Stats.Allocs++
	return n
}

func (t *Table) addrType(dev *kernelmodel.NetDevice, ip [4]byte) int {
	if ip == [4]byte{255, 255, 255, 255} {
		return RTN_BROADCAST
	}
	if ip[0]&0xf0 == 0xe0 {
		return RTN_MULTICAST
	}
	if t.AddrType != nil {
		return t.AddrType(dev, ip)
	}
	return RTN_UNICAST
}

// Flags of Update (NEIGH_UPDATE_F_*).
const (
	NEIGH_UPDATE_F_OVERRIDE = 1 << 0
	NEIGH_UPDATE_F_ADMIN    = 1 << 7
)

// Update is neigh_update(): move n to state new with link-layer address ha
// (nil: keep the cached one).
func (n *Neighbour) Update(ha *[6]byte, new uint8, flags int) {
	t := n.tbl
	k := t.K
	old := n.State
	now := k.Jiffies()
	if flags&NEIGH_UPDATE_F_ADMIN == 0 && old&(NUD_NOARP|NUD_PERMANENT) != 0 {
		return
	}
	if new&NUD_VALID == 0 {
		k.DelTimer(&n.timer)
		n.State = new
		if old&(NUD_INCOMPLETE|NUD_PROBE) != 0 && new&NUD_FAILED != 0 {
			n.invalidate()
		}
		return
	}
	lladdr := n.HA
	changed := false
	if ha != nil {
		lladdr = *ha
		changed = old&NUD_VALID == 0 || lladdr != n.HA
	} else if old&NUD_VALID == 0 {
		return
	}
	if new&NUD_CONNECTED != 0 {
		n.Confirmed = now
	}
	if old&NUD_VALID != 0 {
		if changed && flags&NEIGH_UPDATE_F_OVERRIDE == 0 {
			return
		}
		if !changed && new == NUD_STALE && flags&NEIGH_UPDATE_F_ADMIN == 0 {
			new = old
		}
	}
	if new != old || changed {
		n.Updated = now
	}
	if new != old {
		k.DelTimer(&n.timer)
		if new&NUD_PROBE != 0 {
			n.Probes = 0
		}
		if new&NUD_IN_TIMER != 0 {
			exp := now
			if new&NUD_REACHABLE != 0 {
				exp += t.ReachableTime()
			}
			k.ModTimer(&n.timer, exp)
		}
		n.State = new
		k.TracePoint("neigh_update", 0, int64(new))
	}
	if changed {
		n.HA = lladdr
		if n.hhLen != 0 {
			n.hhInit() // neigh_update_hhs
		}
		if new&NUD_CONNECTED == 0 {
			n.Confirmed = now - 2*t.Parms.BaseReachableTime
		}
	}
	if new == old {
		return
	}
	if old&NUD_VALID == 0 {
		// Send what waited for the address.
		for n.State&NUD_VALID != 0 {
			skb := n.arpQueue.Dequeue()
			if skb == nil {
				break
			}
			n.qBytes -= skb.Truesize()
			n.Output(skb)
		}
		n.purgeQueue(kernelmodel.SKB_DROP_REASON_NEIGH_FAILED)
	}
}

func (n *Neighbour) purgeQueue(reason kernelmodel.DropReason) {
	for skb := n.arpQueue.Dequeue(); skb != nil; skb = n.arpQueue.Dequeue() {
		n.tbl.K.KfreeSKB(skb, reason)
	}
	n.qBytes = 0
}

// invalidate is neigh_invalidate(): resolution failed; the queued packets
// are dropped (arp_error_report's kfree_skb_reason NEIGH_FAILED).
func (n *Neighbour) invalidate() {
	n.tbl.Stats.ResFailed++
	n.tbl.K.TracePoint("neigh_invalidate", 0, int64(n.arpQueue.Len()))
	n.purgeQueue(kernelmodel.SKB_DROP_REASON_NEIGH_FAILED)
}

// maxProbes is neigh_max_probes().
func (n *Neighbour) maxProbes() int {
	p := &n.tbl.Parms
	m := p.UcastSolicit + p.AppSolicit
	if n.State&NUD_PROBE != 0 {
		return m + p.McastResolicit
	}
	return m + p.McastSolicit
}

// timerHandler is neigh_timer_handler().
func (n *Neighbour) timerHandler(_ *kernelmodel.TimerList) {
	t := n.tbl
	k := t.K
	p := &t.Parms
	state := n.State
	now := k.Jiffies()
	next := now + kernelmodel.HZ
	if state&NUD_IN_TIMER == 0 {
		return
	}
	retrans := max(p.RetransTime, kernelmodel.HZ/100)
	switch {
	case state&NUD_REACHABLE != 0:
		rt := t.ReachableTime()
		if timeBeforeEq(now, n.Confirmed+rt) {
			next = n.Confirmed + rt
		} else if timeBeforeEq(now, n.Used+p.DelayFirstProbeTime) {
			n.State, n.Updated = NUD_DELAY, now
			next = now + p.DelayFirstProbeTime
		} else {
			n.State, n.Updated = NUD_STALE, now
		}
	case state&NUD_DELAY != 0:
		if timeBeforeEq(now, n.Confirmed+p.DelayFirstProbeTime) {
			n.State, n.Updated = NUD_REACHABLE, now
			next = n.Confirmed + t.ReachableTime()
		} else {
			n.State, n.Updated = NUD_PROBE, now
			n.Probes = 0
			next = now + retrans
		}
	default: // NUD_PROBE | NUD_INCOMPLETE
		next = now + retrans
	}
	if n.State != state {
		k.TracePoint("neigh_timer_handler", 0, int64(n.State))
	}
	if n.State&(NUD_INCOMPLETE|NUD_PROBE) != 0 && n.Probes >= n.maxProbes() {
		n.State = NUD_FAILED
		k.TracePoint("neigh_timer_handler", 0, int64(n.State))
		n.invalidate()
		return
	}
	if n.State&NUD_IN_TIMER != 0 {
		if timeBefore(next, now+kernelmodel.HZ/100) {
			next = now + kernelmodel.HZ/100
		}
		k.ModTimer(&n.timer, next)
	}
	if n.State&(NUD_INCOMPLETE|NUD_PROBE) != 0 {
		n.probe()
	}
}

// probe is neigh_probe(): solicit (arp_solicit) and count the probe.
func (n *Neighbour) probe() {
	n.tbl.arpSolicit(n, n.arpQueue.Tail())
	n.Probes++
}

// eventSend is neigh_event_send() / __neigh_event_send(): it reports
// whether skb may go out now (false: queued or dropped, the neighbour owns
// it).
func (n *Neighbour) eventSend(skb *kernelmodel.SKB) bool {
	t := n.tbl
	k := t.K
	p := &t.Parms
	now := k.Jiffies()
	n.Used = now
	if n.State&(NUD_CONNECTED|NUD_DELAY|NUD_PROBE) != 0 {
		return true
	}
	immediate := false
	if n.State&(NUD_STALE|NUD_INCOMPLETE) == 0 {
		if p.McastSolicit+p.AppSolicit == 0 {
			n.State, n.Updated = NUD_FAILED, now
			k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NEIGH_FAILED)
			return false
		}
		n.Probes = p.UcastSolicit
		k.DelTimer(&n.timer)
		n.State, n.Updated = NUD_INCOMPLETE, now
		k.TracePoint("neigh_event_send", skb.ID, NUD_INCOMPLETE)
		k.ModTimer(&n.timer, now+max(p.RetransTime, kernelmodel.HZ/100))
		immediate = true
	} else if n.State&NUD_STALE != 0 {
		k.DelTimer(&n.timer)
		n.State, n.Updated = NUD_DELAY, now
		k.ModTimer(&n.timer, now+p.DelayFirstProbeTime)
		return true
	}
	// NUD_INCOMPLETE: queue within unres_qlen_bytes.
	for n.qBytes+skb.Truesize() > p.UnresQlenBytes {
		old := n.arpQueue.Dequeue()
		if old == nil {
			break
		}
		n.qBytes -= old.Truesize()
		t.Stats.UnresolvedDiscards++
		k.KfreeSKB(old, kernelmodel.SKB_DROP_REASON_NEIGH_QUEUEFULL)
	}
	n.arpQueue.QueueTail(skb)
	n.qBytes += skb.Truesize()
	if immediate {
		n.probe()
	}
	return false
}

// hhInit is neigh_hh_init() with eth_header_cache: the Ethernet header to
// this neighbour, cached.
func (n *Neighbour) hhInit() {
	e := header.Ethernet(n.hh[:])
	e.SetDestination(n.HA)
	e.SetSource(n.Dev.Addr)
	e.SetType(header.EtherTypeIPv4)
	n.hhLen = header.EthernetMinSize
}

// Output is neigh_output(): send skb (Data at the network header, Protocol
// set) to this neighbour. A connected entry with a cached header goes
// through neigh_hh_output; otherwise neigh_resolve_output, which queues the
// skb while the address resolves. It returns dev_queue_xmit's code, or
// NET_XMIT_SUCCESS for a queued skb. skb is consumed on every path.
func (n *Neighbour) Output(skb *kernelmodel.SKB) int {
	if n.direct {
		// neigh_direct_output: dev_queue_xmit as it is.
		n.tbl.K.TracePoint("neigh_direct_output", skb.ID, 0)
		skb.Dev = n.Dev
		skb.MACHeader = skb.BufOffset()
		return n.tbl.K.DevQueueXmit(skb)
	}
	if n.State&NUD_CONNECTED != 0 && n.hhLen != 0 {
		return n.hhOutput(skb)
	}
	return n.resolveOutput(skb)
}

// hhOutput is neigh_hh_output(): copy the cached header in front and
// transmit.
func (n *Neighbour) hhOutput(skb *kernelmodel.SKB) int {
	k := n.tbl.K
	k.TracePoint("neigh_hh_output", skb.ID, 0)
	h := skb.Push(n.hhLen)
	if h == nil {
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
		return kernelmodel.NET_XMIT_DROP
	}
	copy(h, n.hh[:n.hhLen])
	skb.MACHeader = skb.BufOffset()
	skb.Dev = n.Dev
	return k.DevQueueXmit(skb)
}

// resolveOutput is neigh_resolve_output().
func (n *Neighbour) resolveOutput(skb *kernelmodel.SKB) int {
	k := n.tbl.K
	k.TracePoint("neigh_resolve_output", skb.ID, int64(n.State))
	if !n.eventSend(skb) {
		return kernelmodel.NET_XMIT_SUCCESS
	}
	if n.hhLen == 0 {
		n.hhInit()
	}
	h := skb.Push(header.EthernetMinSize) // dev_hard_header: eth_header
	if h == nil {
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
		return kernelmodel.NET_XMIT_DROP
	}
	e := header.Ethernet(h)
	e.SetDestination(n.HA)
	e.SetSource(n.Dev.Addr)
	e.SetType(skb.Protocol)
	skb.MACHeader = skb.BufOffset()
	skb.Dev = n.Dev
	return k.DevQueueXmit(skb)
}

// IfDown is neigh_ifdown(): the device went down; its entries go, their
// timers stopped and their queued packets freed (__skb_queue_purge).
func (t *Table) IfDown(dev *kernelmodel.NetDevice) {
	kept := t.list[:0]
	for _, n := range t.list {
		if n.Dev != dev {
			kept = append(kept, n)
			continue
		}
		t.K.DelTimer(&n.timer)
		n.purgeQueue(kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
		if n.State&NUD_VALID != 0 {
			n.State = NUD_NOARP
		} else {
			n.State = NUD_NONE
		}
		delete(t.entries, key{dev.Ifindex, n.Key})
		t.Stats.Destroys++
	}
	clear(t.list[len(kept):])
	t.list = kept
}

// Output is ip_finish_output2's neighbour step: look up (or create) the
// neighbour of nexthop on dev (__ipv4_neigh_lookup_noref, __neigh_create)
// and send skb through it (neigh_output). skb is consumed.
func (t *Table) Output(dev *kernelmodel.NetDevice, nexthop [4]byte, skb *kernelmodel.SKB) int {
	n := t.entries[key{dev.Ifindex, nexthop}]
	if n == nil {
		n = t.create(dev, nexthop)
	}
	return n.Output(skb)
}

// WriteNeigh is ip neigh show: one line per entry, oldest first, as
// iproute2 prints them ("10.0.0.2 dev eth0 lladdr 52:54:00:12:34:57
// REACHABLE"; no lladdr for an entry that never resolved).
func (t *Table) WriteNeigh(w io.Writer) error {
	for _, n := range t.list {
		line := fmt.Sprintf("%d.%d.%d.%d dev %s", n.Key[0], n.Key[1], n.Key[2], n.Key[3], n.Dev.Name)
		if n.State&NUD_VALID != 0 {
			line += fmt.Sprintf(" lladdr %02x:%02x:%02x:%02x:%02x:%02x", n.HA[0], n.HA[1], n.HA[2], n.HA[3], n.HA[4], n.HA[5])
		}
		if _, err := fmt.Fprintf(w, "%s %s\n", line, StateName(n.State)); err != nil {
			return err
		}
	}
	return nil
}
