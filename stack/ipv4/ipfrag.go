package ipv4

import (
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/header"
)

// Defragmentation defaults (net.ipv4.ipfrag_*).
const (
	IPFragTime       = 30 * kernelmodel.HZ // ipfrag_time, jiffies
	IPFragHighThresh = 4 << 20             // ipfrag_high_thresh
	IPFragLowThresh  = 3 << 20             // ipfrag_low_thresh (not used by 6.1's receive path)
	ipMaxDatagram    = 65535
)

type fragKey struct {
	src, dst [4]byte
	id       uint16
	proto    uint8
}

// fragment is one received fragment: its payload range and the skb that
// holds it (Data at the IP header).
type fragment struct {
	off, end int
	skb      *kernelmodel.SKB
}

// ipq is a struct ipq: the fragments of one datagram being reassembled.
type ipq struct {
	key    fragKey
	frags  []fragment // sorted by off, no overlaps
	length int        // the datagram's payload length, once known
	meat   int        // bytes received
	last   bool       // INET_FRAG_LAST_IN
	first  bool       // INET_FRAG_FIRST_IN
	mem    int        // truesize held
	timer  kernelmodel.TimerList
}

// fragState is the stack's fqdir: the queues and the memory they hold.
type fragState struct {
	queues map[fragKey]*ipq
	order  []*ipq // in creation order, for a fixed order of expiry work
	mem    int
}

// ipDefrag is ip_defrag(): queue the fragment skb (Data at the IP header);
// when the datagram is complete, return it reassembled in a new skb (the
// fragments freed), else nil. Overlapping fragments kill the whole queue
// (RFC 5722, as Linux does), a datagram beyond 65535 bytes or a fragment
// inconsistent with the known length is dropped, and no new queue is made
// while the queues hold more than ipfrag_high_thresh.
func (s *Stack) ipDefrag(skb *kernelmodel.SKB) *kernelmodel.SKB {
	k := s.K
	f := &s.frag
	m := &s.SNMP.Ip
	m.ReasmReqds++
	h := header.IPv4(skb.Data)
	hl := h.HeaderLength()
	off := h.FragmentOffset()
	end := off + len(skb.Data) - hl
	mf := h.Flags()&header.IPv4FlagMF != 0
	key := fragKey{h.Source(), h.Destination(), h.ID(), h.Protocol()}
	if f.queues == nil {
		f.queues = make(map[fragKey]*ipq)
	}
	q := f.queues[key]
	if q == nil {
		if f.mem > IPFragHighThresh {
			m.ReasmFails++
			k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOMEM)
			return nil
		}
		q = &ipq{key: key}
		k.TimerSetup(&q.timer, func(*kernelmodel.TimerList) { s.ipExpire(q) })
		k.ModTimer(&q.timer, k.Jiffies()+IPFragTime)
		f.queues[key] = q
		f.order = append(f.order, q)
	}
	fail := func() *kernelmodel.SKB {
		m.ReasmFails++
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
		return nil
	}
	if end > ipMaxDatagram {
		s.fragKill(q)
		return fail()
	}
	if !mf {
		// The last fragment: the length is known.
		if end < q.length || q.last && end != q.length {
			s.fragKill(q)
			return fail()
		}
		q.last = true
		q.length = end
	} else {
		if end&7 != 0 {
			end &^= 7
		}
		if end > q.length {
			if q.last {
				s.fragKill(q)
				return fail()
			}
			q.length = end
		}
	}
	if end <= off {
		return fail()
	}
	// Find the place; any overlap kills the queue.
	i := 0
	for i < len(q.frags) && q.frags[i].off < off {
		i++
	}
	if i > 0 && q.frags[i-1].end > off || i < len(q.frags) && q.frags[i].off < end {
		s.fragKill(q)
		return fail()
	}
	q.frags = append(q.frags, fragment{})
	copy(q.frags[i+1:], q.frags[i:])
	q.frags[i] = fragment{off: off, end: end, skb: skb}
	q.meat += end - off
	q.mem += skb.Truesize()
	f.mem += skb.Truesize()
	if off == 0 {
		q.first = true
	}
	if !q.first || !q.last || q.meat != q.length {
		return nil
	}
	return s.ipFragReasm(q)
}

// ipFragReasm is ip_frag_reasm(): one skb with the first fragment's header
// and every payload in order; the fragments are freed (consumed).
func (s *Stack) ipFragReasm(q *ipq) *kernelmodel.SKB {
	k := s.K
	first := header.IPv4(q.frags[0].skb.Data)
	hl := first.HeaderLength()
	n := kernelmodel.ETH_HLEN + hl + q.length
	skb := k.AllocSKB(n)
	skb.Dev = q.frags[0].skb.Dev
	skb.PktType = q.frags[0].skb.PktType
	skb.Protocol = kernelmodel.ETH_P_IP
	skb.Reserve(kernelmodel.ETH_HLEN)
	b := skb.Put(hl + q.length)
	copy(b, first[:hl])
	for _, fr := range q.frags {
		fh := header.IPv4(fr.skb.Data)
		copy(b[hl+fr.off:hl+fr.end], fh[fh.HeaderLength():])
	}
	h := header.IPv4(b)
	h.SetTotalLength(uint16(hl + q.length))
	h.SetFlagsFragment(first.Flags()&^header.IPv4FlagMF, 0)
	h.SetChecksum(0)
	h.SetChecksum(h.CalculateChecksum())
	skb.NetHeader = skb.BufOffset()
	skb.TransHeader = skb.NetHeader + hl
	for _, fr := range q.frags {
		k.ConsumeSKB(fr.skb)
	}
	q.frags = q.frags[:0]
	s.fragKill(q)
	s.SNMP.Ip.ReasmOKs++
	k.TracePoint("ip_frag_reasm", skb.ID, int64(q.length))
	return skb
}

// fragKill is inet_frag_kill(): the queue goes, its timer stopped, its
// fragments freed.
func (s *Stack) fragKill(q *ipq) {
	f := &s.frag
	s.K.DelTimer(&q.timer)
	for _, fr := range q.frags {
		s.K.KfreeSKB(fr.skb, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
	}
	q.frags = nil
	f.mem -= q.mem
	q.mem = 0
	if f.queues[q.key] == q {
		delete(f.queues, q.key)
		for i, o := range f.order {
			if o == q {
				f.order = append(f.order[:i], f.order[i+1:]...)
				break
			}
		}
	}
}

// ipExpire is ip_expire(): ipfrag_time ran out. ReasmFails and
// ReasmTimeout; if the first fragment came, an ICMP time exceeded
// (fragment reassembly time) goes to the source, quoting it.
func (s *Stack) ipExpire(q *ipq) {
	if s.frag.queues[q.key] != q {
		return
	}
	s.SNMP.Ip.ReasmFails++
	s.SNMP.Ip.ReasmTimeout++
	s.K.TracePoint("ip_expire", 0, int64(q.meat))
	if q.first && len(q.frags) > 0 && q.frags[0].off == 0 {
		s.IcmpSend(q.frags[0].skb, header.ICMPv4TimeExceeded, 1) // ICMP_EXC_FRAGTIME
	}
	s.fragKill(q)
}

// FragMem is the memory the reassembly queues hold (/proc/net/sockstat's
// FRAG memory) and their number.
func (s *Stack) FragMem() (queues, bytes int) { return len(s.frag.queues), s.frag.mem }
