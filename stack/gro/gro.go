// Package gro is generic receive offload as Linux 6.1 does it for TCP over
// IPv4 (net/core/gro.c, inet_gro_receive in net/ipv4/af_inet.c,
// tcp4_gro_receive and tcp_gro_receive in net/ipv4/tcp_offload.c): a NAPI
// instance coalesces the in-order segments of one flow into one skb of up to
// gro_max_size (64 KiB) before the stack sees them, and passes the
// aggregate up at a flush point.
//
// Register installs the engine on a kernel (dev_add_offload of
// ip_packet_offload and tcpv4_offload, which inet_init does); every NAPI
// instance then gets its own gro_hash on its first napi_gro_receive. Devices
// have NETIF_F_GRO from register_netdevice on, as in Linux; clearing it
// (ethtool -K gro off) sends every packet straight to gro_normal_one.
//
// # What is merged
//
// dev_gro_receive hashes a packet by skb->hash into one of GRO_HASH_BUCKETS
// (8) lists of at most MAX_GRO_SKBS (8) held packets each
// (gro_list_prepare: same device, VLAN tag and Ethernet header), then
// inet_gro_receive (IPv4 without options, not a fragment, a valid header
// checksum, the total length the frame's; the same protocol and addresses;
// TTL, TOS and DF equal; the IP ID incrementing by one per segment, or
// fixed for a DF flow) and tcp_gro_receive (the same ports; ACK number,
// flags but CWR/FIN/PSH, data offset and window equal; options byte-equal,
// so timestamps must match; no CWR; the sequence number the next in order;
// no segment longer than the first, whose length is the MSS). The TCP
// checksum must be verified: CHECKSUM_UNNECESSARY from the device, or a
// software check, after which the skb is CHECKSUM_UNNECESSARY (a packet
// whose check fails is passed up at once, for tcp_v4_rcv to drop). A
// segment with PSH, URG, RST, SYN or FIN, or shorter than the MSS, ends the
// aggregate it joins (the aggregate keeps its FIN and PSH) or is not held.
// A segment that cannot join its flow's aggregate flushes it and starts the
// next one. napi_complete_done flushes everything (napi_gro_flush), the end
// of a poll that used its whole weight flushes what was held since an
// earlier jiffy, and a full bucket flushes its oldest.
//
// napi_gro_complete passes a single packet up unchanged (gso_size 0) and an
// aggregate with inet_gro_complete's and tcp4_gro_complete's header: IPv4
// total length (and the header checksum updated, RFC 1624), the TCP
// checksum field holding the pseudo-header sum for the whole segment with
// CHECKSUM_PARTIAL (CsumStart and CsumOffset at the TCP checksum), and
// gso_size (the MSS), gso_segs (the count) and gso_type SKB_GSO_TCPV4
// (with SKB_GSO_TCP_FIXEDID for a fixed-ID flow and SKB_GSO_TCP_ECN when
// the first segment had CWR). So the aggregate is what the sender's stack
// would have built before TSO, and a forwarding host can segment it again.
//
// # How payload is merged
//
// The model's sk_buff is linear (no frags, no frag_list), so merging copies:
// on the first merge into a held packet, the packet is copied
// (skb_copy_expand) into a 64 KiB buffer from the pool and the original
// freed, and every later segment's payload is appended to it and the
// segment freed (GRO_MERGED_FREE). The copies are charged as RxPerKiB. The
// pool's buffers are reused, so nothing is allocated per packet in steady
// state (BenchmarkGROReceive). csum_start counts from the MAC header, as the
// model's CsumStart counts from the start of Data at transmit.
//
// Deviations: UDP is never merged (Linux 6.1 merges it only for sockets
// with UDP_GRO, or with NETIF_F_GRO_FRAGLIST/GRO_UDP_FWD, which no device
// here offers) and its checksum is not pre-verified here; CHECKSUM_COMPLETE
// is treated as CHECKSUM_NONE (no device model reports it);
// gro_flush_timeout and napi_defer_hard_irqs are not modelled (their
// defaults, 0, are what runs); gro_max_size is per GRO instance (MaxSize,
// from Engine.MaxSize), not per device.
package gro

import (
	"encoding/binary"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/checksum"
	"github.com/nicbed/nicbed/stack/header"
)

// Linux's constants (include/net/gro.h, include/linux/netdevice.h).
const (
	GRO_HASH_BUCKETS    = 8
	MAX_GRO_SKBS        = 8
	GRO_LEGACY_MAX_SIZE = 65536 // the default dev->gro_max_size
)

// FlushReason says why a held packet was passed up (Stats.Flush) or why a
// packet was not held (Stats.NotHeld).
type FlushReason int

// Flush reasons.
const (
	FlushPush       FlushReason = iota // PSH, URG, RST, SYN or FIN on the segment
	FlushShort                         // the segment was shorter than the MSS (or empty)
	FlushFlags                         // flags other than CWR/FIN/PSH, data offset or window differed, or CWR was set
	FlushAck                           // the ACK number differed
	FlushOptions                       // the TCP options differed (timestamps)
	FlushIP                            // TTL, TOS or DF differed, the IP ID did not follow, or the segment's IP header was unfit
	FlushSeq                           // the sequence number was not the next in order
	FlushMSS                           // the segment was longer than the aggregate's MSS
	FlushMaxSize                       // the aggregate would have reached gro_max_size
	FlushNAPI                          // napi_gro_flush at napi_complete_done
	FlushOld                           // the end-of-poll flush: held since an earlier jiffy
	FlushOldest                        // the bucket was full (MAX_GRO_SKBS)
	FlushIneligible                    // not TCP/IPv4 without options and fragments, a bad IP checksum, a length not the frame's, GRO off
	FlushCsum                          // the TCP checksum did not verify
	NumFlushReasons
)

var flushNames = [NumFlushReasons]string{
	"push", "short", "flags", "ack", "options", "ip", "seq", "mss", "max_size",
	"napi", "old", "oldest", "ineligible", "csum",
}

func (r FlushReason) String() string {
	if r < 0 || r >= NumFlushReasons {
		return "?"
	}
	return flushNames[r]
}

// Stats are a GRO instance's counters.
type Stats struct {
	Receive  uint64 // napi_gro_receive calls
	Held     uint64 // GRO_HELD: packets held to start an aggregate
	Merged   uint64 // GRO_MERGED_FREE: segments appended to an aggregate
	Normal   uint64 // GRO_NORMAL: packets passed up at once
	Complete uint64 // napi_gro_complete: held packets passed up, merged or not
	// GROPackets, GROBytes and GROWirePackets are the qstats
	// rx-hw-gro-packets, rx-hw-gro-bytes and rx-hw-gro-wire-packets (the
	// ethtool rx_gro_* of drivers that merge in hardware), here for
	// software GRO: aggregates of two segments or more passed up, their
	// bytes (from the IP header), and the segments in them.
	GROPackets     uint64
	GROBytes       uint64
	GROWirePackets uint64
	// Flush counts held packets passed up, by reason; NotHeld counts the
	// GRO_NORMAL packets by why they were not held.
	Flush   [NumFlushReasons]uint64
	NotHeld [NumFlushReasons]uint64
}

// add adds o to s.
func (s *Stats) add(o *Stats) {
	s.Receive += o.Receive
	s.Held += o.Held
	s.Merged += o.Merged
	s.Normal += o.Normal
	s.Complete += o.Complete
	s.GROPackets += o.GROPackets
	s.GROBytes += o.GROBytes
	s.GROWirePackets += o.GROWirePackets
	for i := range s.Flush {
		s.Flush[i] += o.Flush[i]
		s.NotHeld[i] += o.NotHeld[i]
	}
}

// Engine is GRO registered on one kernel: the instances of its NAPIs.
type Engine struct {
	// MaxSize is gro_max_size (ip link set dev D gro_max_size N) for
	// instances made from now on; default GRO_LEGACY_MAX_SIZE, at most that.
	MaxSize int

	k   *kernelmodel.Kernel
	all []*GRO
}

// Register installs GRO on k (inet_init's offload registration) and
// returns the engine.
func Register(k *kernelmodel.Kernel) *Engine {
	e := &Engine{MaxSize: GRO_LEGACY_MAX_SIZE, k: k}
	k.SetGRO(e.newGRO)
	return e
}

func (e *Engine) newGRO(n *kernelmodel.NAPI) kernelmodel.GROHandler {
	g := &GRO{k: e.k, MaxSize: min(max(e.MaxSize, 1), GRO_LEGACY_MAX_SIZE)}
	e.all = append(e.all, g)
	return g
}

// Stats are the counters of every instance, added up.
func (e *Engine) Stats() Stats {
	var s Stats
	for _, g := range e.all {
		s.add(&g.Stats)
	}
	return s
}

// Of is n's GRO instance, or nil.
func Of(n *kernelmodel.NAPI) *GRO {
	g, _ := n.GRO.(*GRO)
	return g
}

// GRO is one NAPI instance's GRO state (napi->gro_hash, gro_bitmask).
type GRO struct {
	MaxSize int // gro_max_size
	Stats   Stats

	k       *kernelmodel.Kernel
	hash    [GRO_HASH_BUCKETS]groList
	bitmask uint32
}

// groList is a struct gro_list: held packets, newest first.
type groList struct {
	ents  [MAX_GRO_SKBS]held
	count int
}

// held is a held packet with its NAPI_GRO_CB.
type held struct {
	skb      *kernelmodel.SKB
	count    int    // segments in it
	age      uint64 // jiffies when it was held
	flushID  uint16
	isAtomic bool // DF set and, so far, a fixed IP ID
	big      bool // skb is GRO's own 64 KiB copy
	// Per received packet (gro_list_prepare resets them).
	sameFlow bool
	flush    bool
	reason   FlushReason
}

// cb is the NAPI_GRO_CB of the packet being received.
type cb struct {
	count    int
	isAtomic bool
	sameFlow bool // merged
	flush    bool
	reason   FlushReason
}

func (c *cb) setFlush(r FlushReason) {
	if !c.flush {
		c.flush, c.reason = true, r
	}
}

func (p *held) setFlush(r FlushReason) {
	if !p.flush {
		p.flush, p.reason = true, r
	}
}

// Held is the number of packets held now.
func (g *GRO) Held() int {
	n := 0
	for i := range g.hash {
		n += g.hash[i].count
	}
	return n
}

// Receive is napi_gro_receive's dev_gro_receive and napi_skb_finish: merge
// skb into a held packet of its flow, hold it, or pass it up.
func (g *GRO) Receive(n *kernelmodel.NAPI, skb *kernelmodel.SKB) {
	g.Stats.Receive++
	if skb.Dev != nil && skb.Dev.Features&kernelmodel.NETIF_F_GRO == 0 {
		g.normal(n, skb, FlushIneligible) // netif_elide_gro
		return
	}
	bucket := skb.Hash & (GRO_HASH_BUCKETS - 1)
	l := &g.hash[bucket]
	l.prepare(skb)
	if skb.Protocol != kernelmodel.ETH_P_IP {
		g.normal(n, skb, FlushIneligible) // no packet_offload for the type
		return
	}
	c := cb{count: 1, isAtomic: true}
	if skb.GSOSize != 0 {
		c.count = max(int(skb.GSOSegs), 1)
		if skb.GSOType&kernelmodel.SKB_GSO_TCPV4 == 0 {
			c.setFlush(FlushIneligible) // only TCP is merged
		}
	}
	pp, ppReason := g.inetGROReceive(l, skb, &c)
	if pp >= 0 {
		g.complete(n, l.remove(pp), ppReason)
	}
	switch {
	case c.sameFlow:
		g.Stats.Merged++
		g.k.ConsumeSKB(skb) // GRO_MERGED_FREE: its payload is in the aggregate
	case c.flush:
		g.normal(n, skb, c.reason)
	default:
		if l.count >= MAX_GRO_SKBS {
			g.complete(n, l.remove(l.count-1), FlushOldest) // gro_flush_oldest
		}
		if skb.GSOSize == 0 {
			skb.GSOSize = uint16(payloadLen(skb))
		}
		l.push(held{skb: skb, count: c.count, age: g.k.Jiffies(), isAtomic: c.isAtomic})
		g.Stats.Held++
		g.k.TracePoint("dev_gro_receive held", skb.ID, int64(bucket))
	}
	if l.count != 0 {
		g.bitmask |= 1 << bucket
	} else {
		g.bitmask &^= 1 << bucket
	}
}

// normal is GRO_NORMAL: gro_normal_one.
func (g *GRO) normal(n *kernelmodel.NAPI, skb *kernelmodel.SKB, r FlushReason) {
	g.Stats.Normal++
	g.Stats.NotHeld[r]++
	n.GRONormalOne(skb, 1)
}

// payloadLen is the TCP payload of a packet whose Data starts at an IPv4
// header of 20 bytes followed by a TCP header.
func payloadLen(skb *kernelmodel.SKB) int {
	d := skb.Data
	return len(d) - header.IPv4MinSize - header.TCP(d[header.IPv4MinSize:]).DataOffset()
}

// prepare is gro_list_prepare(): mark the held packets that may be of
// skb's flow (same hash, device, VLAN tag and Ethernet header).
func (l *groList) prepare(skb *kernelmodel.SKB) {
	mac := skb.MAC()
	for i := 0; i < l.count; i++ {
		p := &l.ents[i]
		p.flush = false
		s := p.skb
		if s.Hash != skb.Hash {
			p.sameFlow = false
			continue
		}
		pm := s.MAC()
		p.sameFlow = s.Dev == skb.Dev && s.VLANTCI == skb.VLANTCI &&
			(pm == nil) == (mac == nil) && string(pm) == string(mac)
	}
}

func (l *groList) push(p held) {
	copy(l.ents[1:l.count+1], l.ents[:l.count])
	l.ents[0] = p
	l.count++
}

func (l *groList) remove(i int) held {
	p := l.ents[i]
	copy(l.ents[i:], l.ents[i+1:l.count])
	l.count--
	l.ents[l.count] = held{}
	return p
}

// inetGROReceive is inet_gro_receive(): the IPv4 checks, then
// tcp4_gro_receive. It returns the index of a held packet to pass up (or
// -1) and why.
func (g *GRO) inetGROReceive(l *groList, skb *kernelmodel.SKB, c *cb) (int, FlushReason) {
	d := skb.Data
	if len(d) < header.IPv4MinSize {
		c.setFlush(FlushIneligible)
		return -1, 0
	}
	iph := header.IPv4(d)
	if iph.Protocol() != header.ProtocolTCP || d[0] != 0x45 || iph.IsFragment() ||
		checksum.Checksum(d[:header.IPv4MinSize], 0) != 0xFFFF {
		c.setFlush(FlushIneligible) // no offload, options, a fragment, a bad checksum
		return -1, 0
	}
	ff := binary.BigEndian.Uint16(d[header.IPv4FlagsFrag:])
	df := ff&header.IPv4FlagDF != 0
	unfit := int(iph.TotalLength()) != len(d) || ff&^header.IPv4FlagDF != 0
	id := iph.ID()
	for i := 0; i < l.count; i++ {
		p := &l.ents[i]
		if !p.sameFlow {
			continue
		}
		iph2 := header.IPv4(p.skb.Data)
		if iph.Protocol() != iph2.Protocol() || iph.Source() != iph2.Source() || iph.Destination() != iph2.Destination() {
			p.sameFlow = false
			continue
		}
		// All fields must match except length and checksum.
		ff2 := binary.BigEndian.Uint16(p.skb.Data[header.IPv4FlagsFrag:])
		if iph.TTL() != iph2.TTL() || iph.TOS() != iph2.TOS() || (ff^ff2)&header.IPv4FlagDF != 0 || unfit {
			p.setFlush(FlushIP)
		}
		flushID := id - iph2.ID()
		if !p.isAtomic || !df {
			if flushID^uint16(p.count) != 0 {
				flushID = 0xFFFF
			} else {
				flushID = 0
			}
		}
		p.flushID = flushID
	}
	c.isAtomic = df
	if unfit {
		c.setFlush(FlushIneligible)
	}
	return g.tcp4GROReceive(l, skb, c)
}

// tcp4GROReceive is tcp4_gro_receive(): verify the checksum (unless the
// packet is flushed anyway), then tcp_gro_receive.
func (g *GRO) tcp4GROReceive(l *groList, skb *kernelmodel.SKB, c *cb) (int, FlushReason) {
	if !c.flush && !g.checksumValidate(skb) {
		c.setFlush(FlushCsum)
		return -1, 0
	}
	return g.tcpGROReceive(l, skb, c)
}

// checksumValidate is skb_gro_checksum_validate() with
// inet_gro_compute_pseudo: a checksum the device verified
// (CHECKSUM_UNNECESSARY) or that is still to be computed on a local path
// (CHECKSUM_PARTIAL) is good; otherwise the segment is summed in software
// and, if it checks, marked CHECKSUM_UNNECESSARY
// (__skb_incr_checksum_unnecessary).
func (g *GRO) checksumValidate(skb *kernelmodel.SKB) bool {
	switch skb.IPSummed {
	case kernelmodel.CHECKSUM_UNNECESSARY, kernelmodel.CHECKSUM_PARTIAL:
		return true
	}
	d := skb.Data
	iph := header.IPv4(d)
	seg := d[header.IPv4MinSize:]
	if len(seg) > 0xFFFF {
		return false
	}
	g.k.ChargeBytes(g.k.Cost.CsumPerKiB, len(seg))
	if checksum.Checksum(seg, iph.PseudoHeaderChecksum(uint16(len(seg)))) != 0xFFFF {
		return false
	}
	skb.IPSummed = kernelmodel.CHECKSUM_UNNECESSARY
	return true
}

// TCP flag word bits (tcp_flag_word: data offset, reserved bits, flags and
// window as one big-endian 32-bit word; TCP_FLAG_*).
const (
	flagCWR = uint32(header.TCPFlagCWR) << 16
	flagFIN = uint32(header.TCPFlagFIN) << 16
	flagPSH = uint32(header.TCPFlagPSH) << 16
	flagEnd = uint32(header.TCPFlagURG|header.TCPFlagPSH|header.TCPFlagRST|header.TCPFlagSYN|header.TCPFlagFIN) << 16
)

// tcpGROReceive is tcp_gro_receive(): find the held packet of skb's flow
// and merge skb into it if it follows in order with equal headers; the
// held packet is passed up when skb did not join it or ended it.
func (g *GRO) tcpGROReceive(l *groList, skb *kernelmodel.SKB, c *cb) (int, FlushReason) {
	const off = header.IPv4MinSize
	d := skb.Data
	if len(d) < off+header.TCPMinSize {
		c.setFlush(FlushIneligible)
		return -1, 0
	}
	th := header.TCP(d[off:])
	thlen := th.DataOffset()
	if thlen < header.TCPMinSize || off+thlen > len(d) {
		c.setFlush(FlushIneligible)
		return -1, 0
	}
	plen := len(d) - off - thlen // skb_gro_len after the pull
	flags := binary.BigEndian.Uint32(th[header.TCPDataOffset:])
	pi := -1
	for i := 0; i < l.count; i++ {
		p := &l.ents[i]
		if !p.sameFlow {
			continue
		}
		th2 := p.skb.Data[off:]
		if string(th[:4]) != string(th2[:4]) { // the ports
			p.sameFlow = false
			continue
		}
		pi = i
		break
	}
	mss := 1
	var mismatch FlushReason
	if pi >= 0 {
		p := &l.ents[pi]
		th2 := header.TCP(p.skb.Data[off:])
		var why FlushReason
		flush := p.flush
		if flush {
			why = p.reason
		}
		bad := func(cond bool, r FlushReason) {
			if cond && !flush {
				flush, why = true, r
			}
		}
		flags2 := binary.BigEndian.Uint32(th2[header.TCPDataOffset:])
		bad(flags&flagCWR != 0 || (flags^flags2)&^(flagCWR|flagFIN|flagPSH) != 0, FlushFlags)
		bad(th.AckNumber() != th2.AckNumber(), FlushAck)
		bad(string(th[header.TCPMinSize:thlen]) != string(th2[header.TCPMinSize:thlen]), FlushOptions)
		// The second segment decides between an incrementing and a
		// fixed IP ID.
		if p.flushID != 1 || p.count != 1 || !p.isAtomic {
			bad(p.flushID != 0, FlushIP)
		} else {
			p.isAtomic = false
		}
		mss = int(p.skb.GSOSize)
		if skb.GSOSize != 0 {
			bad(mss != int(skb.GSOSize), FlushMSS)
		} else {
			bad(plen == 0, FlushShort)
			bad(plen > mss, FlushMSS)
		}
		bad(th2.SequenceNumber()+uint32(payloadLen(p.skb)) != th.SequenceNumber(), FlushSeq)
		if !flush && !g.skbGROReceive(p, skb, c, plen) {
			flush, why = true, FlushMaxSize
		}
		if flush {
			mss = 1
			mismatch = why
		} else {
			// The aggregate keeps the last segment's FIN and PSH.
			th2 = header.TCP(p.skb.Data[off:])
			th2.SetFlags(th2.Flags() | uint8((flags&(flagFIN|flagPSH))>>16))
		}
	}
	// out_check_final: a segment shorter than the MSS or with an ending
	// flag ends the aggregate (or is not held).
	var end FlushReason
	flush := false
	if skb.GSOSize != 0 {
		flush = plen != c.count*int(skb.GSOSize)
		end = FlushShort
	} else {
		flush = plen < mss
		end = FlushShort
	}
	if flags&flagEnd != 0 && !flush {
		flush, end = true, FlushPush
	}
	pp, ppReason := -1, FlushReason(0)
	if pi >= 0 && (!c.sameFlow || flush) {
		pp, ppReason = pi, mismatch
		if c.sameFlow {
			ppReason = end
		}
	}
	if flush {
		c.setFlush(end)
	}
	return pp, ppReason
}

// skbGROReceive is skb_gro_receive(): append skb's payload (plen bytes at
// its end) to p, making p GRO's own 64 KiB copy first; p's truesize
// grows by skb's, as Linux's does when skb's pages become p's frags. It fails (E2BIG)
// when the aggregate would reach gro_max_size or skb is to be flushed.
func (g *GRO) skbGROReceive(p *held, skb *kernelmodel.SKB, c *cb, plen int) bool {
	k := g.k
	if p.skb.Len()+plen >= g.MaxSize || c.flush || p.skb.Len()+plen >= GRO_LEGACY_MAX_SIZE {
		return false
	}
	if !p.big {
		big := k.SKBCopyExpand(p.skb, p.skb.Headroom(), GRO_LEGACY_MAX_SIZE-p.skb.Len())
		if big == nil {
			return false
		}
		k.ChargeBytes(k.Cost.RxPerKiB, p.skb.Len())
		big.SetTruesize(p.skb.Truesize())
		k.ConsumeSKB(p.skb)
		p.skb, p.big = big, true
	}
	dst := p.skb.Put(plen)
	if dst == nil {
		return false
	}
	copy(dst, skb.Data[len(skb.Data)-plen:])
	p.skb.SetTruesize(p.skb.Truesize() + skb.Truesize()) // delta_truesize
	k.ChargeBytes(k.Cost.RxPerKiB, plen)
	p.count += c.count
	c.sameFlow = true
	k.TracePoint("skb_gro_receive", skb.ID, int64(p.skb.ID))
	return true
}

// complete is napi_gro_complete(): pass a held packet up, with
// inet_gro_complete's and tcp4_gro_complete's header if it is an
// aggregate.
func (g *GRO) complete(n *kernelmodel.NAPI, p held, r FlushReason) {
	g.Stats.Complete++
	g.Stats.Flush[r]++
	skb := p.skb
	g.k.TracePoint("napi_gro_complete", skb.ID, int64(p.count))
	if p.count == 1 {
		skb.GSOSize = 0
		n.GRONormalOne(skb, 1)
		return
	}
	inetGROComplete(skb, p)
	g.Stats.GROPackets++
	g.Stats.GROBytes += uint64(skb.Len())
	g.Stats.GROWirePackets += uint64(p.count)
	n.GRONormalOne(skb, p.count)
}

// inetGROComplete is inet_gro_complete() and tcp4_gro_complete() /
// tcp_gro_complete(): total length and header checksum (csum_replace2),
// the TCP pseudo-header sum with CHECKSUM_PARTIAL, and the GSO fields.
func inetGROComplete(skb *kernelmodel.SKB, p held) {
	d := skb.Data
	iph := header.IPv4(d)
	oldLen, newLen := iph.TotalLength(), uint16(len(d))
	// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m').
	iph.SetChecksum(^checksum.Combine(checksum.Combine(^iph.Checksum(), ^oldLen), newLen))
	iph.SetTotalLength(newLen)
	th := header.TCP(d[header.IPv4MinSize:])
	th.SetChecksum(iph.PseudoHeaderChecksum(uint16(len(d) - header.IPv4MinSize)))
	skb.GSOType |= kernelmodel.SKB_GSO_TCPV4
	if p.isAtomic {
		skb.GSOType |= kernelmodel.SKB_GSO_TCP_FIXEDID
	}
	skb.NetHeader = skb.BufOffset()
	skb.TransHeader = skb.NetHeader + header.IPv4MinSize
	start := skb.TransHeader
	if skb.MACHeader >= 0 {
		start -= skb.MACHeader
	} else {
		start -= skb.NetHeader
	}
	skb.CsumStart, skb.CsumOffset = uint16(start), header.TCPChecksum
	skb.IPSummed = kernelmodel.CHECKSUM_PARTIAL
	skb.GSOSegs = uint16(p.count)
	if th.Flags()&header.TCPFlagCWR != 0 {
		skb.GSOType |= kernelmodel.SKB_GSO_TCP_ECN
	}
}

// Flush is napi_gro_flush(): pass up every held packet, oldest first in
// each bucket — or, with old, those held since an earlier jiffy.
func (g *GRO) Flush(n *kernelmodel.NAPI, old bool) {
	r := FlushNAPI
	if old {
		r = FlushOld
	}
	now := g.k.Jiffies()
	for b := range g.hash {
		if g.bitmask&(1<<b) == 0 {
			continue
		}
		l := &g.hash[b]
		for l.count > 0 {
			if old && l.ents[l.count-1].age == now {
				break
			}
			g.complete(n, l.remove(l.count-1), r)
		}
		if l.count == 0 {
			g.bitmask &^= 1 << b
		}
	}
}
