package kernelmodel

import (
	"encoding/binary"

	"github.com/nicbed/nicbed/stack/header"
)

// getRPSCPU is get_rps_cpu(): the CPU the RX queue's rps_cpus map picks for
// skb's flow hash, or -1 when RPS is off for the queue.
func (k *Kernel) getRPSCPU(skb *SKB) int {
	d := skb.Dev
	if d == nil || len(d.rx) == 0 {
		return -1
	}
	m := d.rx[int(skb.QueueMapping)%len(d.rx)].rpsMap
	if len(m) == 0 {
		return -1
	}
	hash := SKBGetHash(skb)
	if hash == 0 {
		return -1
	}
	return m[reciprocalScale(hash, uint32(len(m)))]
}

// reciprocalScale is reciprocal_scale(): map val onto [0, ep_ro).
func reciprocalScale(val, epRo uint32) uint32 { return uint32(uint64(val) * uint64(epRo) >> 32) }

// SKBGetHash is skb_get_hash(): the NIC's hash if it gave one, else a flow
// hash over the IPv4 addresses and ports (the flow dissector). The software
// hash is a fixed function of the 4-tuple, so runs replay.
func SKBGetHash(skb *SKB) uint32 { return skbFlowHash(skb, skb.Data) }

// skbTxFlowHash is skb_get_hash() on transmit, where Data starts at the
// MAC header: the IPv4 header is at the network header.
func skbTxFlowHash(skb *SKB) uint32 {
	if skb.Hash != 0 || skb.NetHeader < skb.head || skb.NetHeader > skb.head+len(skb.Data) {
		return skb.Hash
	}
	return skbFlowHash(skb, skb.buf[skb.NetHeader:skb.head+len(skb.Data)])
}

func skbFlowHash(skb *SKB, l3 []byte) uint32 {
	if skb.Hash != 0 {
		return skb.Hash
	}
	if skb.Protocol != ETH_P_IP {
		return 0
	}
	// The flow dissector checks the IHL, not the total length.
	ip, err := header.ParseIPv4Header(l3)
	if err != nil {
		return 0
	}
	ihl, proto := ip.HeaderLength(), ip.Protocol()
	src := binary.BigEndian.Uint32(ip[header.IPv4Src:])
	dst := binary.BigEndian.Uint32(ip[header.IPv4Dst:])
	var ports uint32
	if !ip.IsFragment() && (proto == header.ProtocolTCP || proto == header.ProtocolUDP) && len(ip) >= ihl+4 {
		ports = binary.BigEndian.Uint32(ip[ihl : ihl+4])
	}
	h := flowHash(src, dst, ports^uint32(proto))
	if h == 0 {
		h = 1
	}
	skb.Hash, skb.SWHash, skb.L4Hash = h, true, ports != 0
	return h
}

// flowHash mixes three words (a jhash_3words-like avalanche).
func flowHash(a, b, c uint32) uint32 {
	const golden = 0x9e3779b9
	a += golden
	b += golden
	c += golden
	c ^= b
	c -= b<<14 | b>>18
	a ^= c
	a -= c<<11 | c>>21
	b ^= a
	b -= a<<25 | a>>7
	c ^= b
	c -= b<<16 | b>>16
	a ^= c
	a -= c<<4 | c>>28
	b ^= a
	b -= a<<14 | a>>18
	c ^= b
	c -= b<<24 | b>>8
	return c
}

// enqueueToBacklog is enqueue_to_backlog(): queue skb on target's backlog,
// scheduling its backlog NAPI (by IPI at the end of this CPU's
// net_rx_action when target is another CPU). Past netdev_max_backlog the
// packet is dropped and counted in target's softnet_stat. It reports
// whether skb was queued.
func (k *Kernel) enqueueToBacklog(skb *SKB, target *CPU) bool {
	me := k.cur
	if me == nil {
		me = k.cpus[0]
	}
	sd := &target.Softnet
	k.Charge(k.Cost.Backlog)
	qlen := sd.inputPktQueue.Len()
	if (skb.Dev == nil || skb.Dev.up) && qlen <= k.Sysctl.NetdevMaxBacklog {
		if qlen == 0 && sd.backlog.state&NAPI_STATE_SCHED == 0 {
			sd.backlog.state |= NAPI_STATE_SCHED
			k.napiScheduleRPS(me, target)
		}
		sd.inputPktQueue.QueueTail(skb)
		k.tracePoint(me, "enqueue_to_backlog", skb.ID, int64(target.ID))
		return true
	}
	sd.Dropped++
	if skb.Dev != nil {
		skb.Dev.Stats.RxDropped++
	}
	k.KfreeSKB(skb, SKB_DROP_REASON_CPU_BACKLOG)
	return false
}

// napiScheduleRPS is napi_schedule_rps(): schedule target's backlog, through
// an IPI when target is another CPU.
func (k *Kernel) napiScheduleRPS(me, target *CPU) {
	if target != me {
		sd := &target.Softnet
		if !sd.rpsIPIQueued {
			sd.rpsIPIQueued = true
			sd.rpsIPINext = me.Softnet.rpsIPIWaiting
			me.Softnet.rpsIPIWaiting = target
		}
		me.raiseSoftirqIrqoff(NET_RX_SOFTIRQ)
		if !me.InInterrupt() {
			me.wakeupSoftirqd()
		}
		return
	}
	target.Softnet.backlog.napiSchedule(target)
}

// netRPSAction is net_rps_action_and_irq_enable(): send the IPIs queued by
// this CPU's RPS steering.
func (c *CPU) netRPSAction() {
	sd := &c.Softnet
	for t := sd.rpsIPIWaiting; t != nil; {
		next := t.Softnet.rpsIPINext
		t.Softnet.rpsIPINext = nil
		t.Softnet.rpsIPIQueued = false
		c.k.tracePoint(c, "smp_call_function_single_async", 0, int64(t.ID))
		c.k.sendIPI(t, rpsTriggerSoftirq)
		t = next
	}
	sd.rpsIPIWaiting = nil
}

// rpsTriggerSoftirq is rps_trigger_softirq(), the IPI handler.
func rpsTriggerSoftirq(c *CPU) {
	sd := &c.Softnet
	sd.ReceivedRPS++
	sd.backlog.napiSchedule(c)
}

// processBacklog is process_backlog(): the backlog's NAPI poll.
func (c *CPU) processBacklog(n *NAPI, quota int) int {
	k := c.k
	sd := &c.Softnet
	n.Weight = k.Sysctl.DevWeight
	work := 0
	for {
		for skb := sd.processQueue.Dequeue(); skb != nil; skb = sd.processQueue.Dequeue() {
			k.netifReceiveSKBCore(c, skb)
			work++
			if work >= quota {
				return work
			}
		}
		if sd.inputPktQueue.Len() == 0 {
			// Only this CPU schedules its backlog: a plain write completes it.
			n.state = 0
			return work
		}
		sd.processQueue.SpliceTailInit(&sd.inputPktQueue)
	}
}
