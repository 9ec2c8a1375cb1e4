package neigh

import (
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/header"
)

// arpRcv is arp_rcv() and arp_process(): take an ARP packet (Data at the
// ARP header). A request for one of our addresses creates or refreshes the
// sender's entry (neigh_event_ns: STALE) and is answered; any other ARP
// packet updates an existing entry of the sender (REACHABLE for a reply
// addressed to us, STALE otherwise); arp_accept is 0, so no entry is created
// for a gratuitous ARP or an unsolicited reply.
func (t *Table) arpRcv(skb *kernelmodel.SKB) {
	k := t.K
	k.TracePoint("arp_rcv", skb.ID, int64(skb.Len()))
	dev := skb.Dev
	if dev.Flags&kernelmodel.IFF_NOARP != 0 || skb.PktType == kernelmodel.PACKET_OTHERHOST {
		k.ConsumeSKB(skb)
		return
	}
	if skb.Len() < header.ARPSize {
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
		return
	}
	a := header.ARP(skb.Data)
	if a.HardwareLen() != 6 || a.ProtocolLen() != 4 ||
		a.HardwareType() != header.ARPHRDEther || a.ProtocolType() != header.EtherTypeIPv4 {
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
		return
	}
	op := a.Op()
	if op != header.ARPOpRequest && op != header.ARPOpReply {
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
		return
	}
	sha, sip, tip := a.SenderHW(), a.SenderIP(), a.TargetIP()
	// Check for bad requests for 127.x.x.x and requests for multicast
	// addresses; a multicast or broadcast sender hardware address is bogus.
	if tip[0] == 127 || tip[0]&0xf0 == 0xe0 || sip[0]&0xf0 == 0xe0 || sha[0]&1 != 0 {
		k.KfreeSKB(skb, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
		return
	}
	if sip == [4]byte{} {
		// Duplicate address detection probe: answer if the address is ours.
		if op == header.ARPOpRequest && t.addrType(dev, tip) == RTN_LOCAL {
			t.arpSend(header.ARPOpReply, dev, sip, tip, &sha, dev.Addr, &dev.Addr)
		}
		k.ConsumeSKB(skb)
		return
	}
	if op == header.ARPOpRequest && t.addrType(dev, tip) == RTN_LOCAL {
		if skb.PktType == kernelmodel.PACKET_HOST {
			t.Stats.RcvProbesUcast++
		} else {
			t.Stats.RcvProbesMcast++
		}
		n := t.neighEventNS(dev, sip, sha)
		if n != nil {
			t.arpSend(header.ARPOpReply, dev, sip, tip, &sha, dev.Addr, &sha)
		}
		k.ConsumeSKB(skb)
		return
	}
	if n := t.Lookup(dev, sip); n != nil {
		now := k.Jiffies()
		garp := tip == sip && (a.TargetHW() == [6]byte{} || a.TargetHW() == sha || a.TargetHW() == [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
		override := timeBefore(n.Updated+t.Parms.Locktime, now) || garp
		state := uint8(NUD_STALE)
		if op == header.ARPOpReply && skb.PktType == kernelmodel.PACKET_HOST {
			state = NUD_REACHABLE
		}
		flags := 0
		if override {
			flags = NEIGH_UPDATE_F_OVERRIDE
		}
		n.Update(&sha, state, flags)
	}
	k.ConsumeSKB(skb)
}

// neighEventNS is neigh_event_ns(): the sender of a request for us, entered
// as STALE (created if new).
func (t *Table) neighEventNS(dev *kernelmodel.NetDevice, ip [4]byte, ha [6]byte) *Neighbour {
	n := t.entries[key{dev.Ifindex, ip}]
	if n == nil {
		n = t.create(dev, ip)
	}
	n.Update(&ha, NUD_STALE, NEIGH_UPDATE_F_OVERRIDE)
	return n
}

// arpSolicit is arp_solicit(): an ARP request for n's address. The source
// address is that of the packet waiting (if it is ours), else one of the
// device's (inet_select_addr); the first ucast_solicit probes of a round
// go to the cached address (PROBE), the others are broadcast.
func (t *Table) arpSolicit(n *Neighbour, waiting *kernelmodel.SKB) {
	var saddr [4]byte
	ok := false
	if waiting != nil && waiting.Len() >= header.IPv4MinSize {
		src := header.IPv4(waiting.Data).Source()
		if t.addrType(n.Dev, src) == RTN_LOCAL {
			saddr, ok = src, true
		}
	}
	if !ok && t.SelectAddr != nil {
		saddr, ok = t.SelectAddr(n.Dev, n.Key)
	}
	if !ok {
		return
	}
	var dst *[6]byte
	if n.Probes < t.Parms.UcastSolicit {
		ha := n.HA
		dst = &ha
	} else if n.Probes-t.Parms.UcastSolicit < t.Parms.AppSolicit {
		return // neigh_app_ns: user-space resolver, not modelled
	}
	t.arpSend(header.ARPOpRequest, n.Dev, n.Key, saddr, dst, n.Dev.Addr, nil)
}

// arpSend is arp_send() / arp_create() / arp_xmit(): build an ARP packet
// and transmit it. destHW nil is the broadcast address; targetHW nil is
// zero (a request).
func (t *Table) arpSend(op uint16, dev *kernelmodel.NetDevice, destIP, srcIP [4]byte, destHW *[6]byte, srcHW [6]byte, targetHW *[6]byte) {
	k := t.K
	skb := k.AllocSKB(header.EthernetMinSize + header.ARPSize)
	b := skb.Put(header.ARPSize)
	a := header.ARP(b)
	a.SetIPv4OverEthernet(op)
	var tha [6]byte
	if targetHW != nil {
		tha = *targetHW
	}
	a.SetSender(srcHW, srcIP)
	a.SetTarget(tha, destIP)
	e := header.Ethernet(skb.Push(header.EthernetMinSize))
	dst := [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	if destHW != nil {
		dst = *destHW
	}
	e.SetDestination(dst)
	e.SetSource(srcHW)
	e.SetType(header.EtherTypeARP)
	skb.MACHeader = skb.BufOffset()
	skb.Protocol = kernelmodel.ETH_P_ARP
	skb.Dev = dev
	k.TracePoint("arp_xmit", skb.ID, int64(op))
	k.DevQueueXmit(skb)
}

// SendGratuitous is inetdev_send_gratuitous_arp(): a request for our own
// address ip on dev, broadcast (what arp_notify and netdev_notify_peers
// send).
func (t *Table) SendGratuitous(dev *kernelmodel.NetDevice, ip [4]byte) {
	t.arpSend(header.ARPOpRequest, dev, ip, ip, nil, dev.Addr, nil)
}
