package kernelmodel

import "time"

// PacketWriter is what a pcap tap writes to: hw/wire's PcapWriter.
type PacketWriter interface {
	WritePacket(ts time.Duration, frame []byte) error
}

// PcapTap is tcpdump -i DEV -w FILE through AF_PACKET: a ptype_all tap
// (dev_add_pack ETH_P_ALL) that writes every frame received on its device
// and, through dev_queue_xmit_nit, every frame sent, from the Ethernet
// header on, at the kernel's time; then it drops its reference. As libpcap
// does, it skips the outgoing copy on a loopback device (the frame comes
// back in and would be seen twice).
type PcapTap struct {
	PacketType
	Packets uint64 // frames written
	Errors  uint64 // writes that failed
	w       PacketWriter
}

// AddPcapTap registers a pcap tap on d (nil: every device) writing to w.
// DevRemovePack(&tap.PacketType) removes it.
func (k *Kernel) AddPcapTap(d *NetDevice, w PacketWriter) *PcapTap {
	p := &PcapTap{w: w}
	p.Type, p.Dev = ETH_P_ALL, d
	p.Func = func(skb *SKB) {
		if skb.PktType != PACKET_OUTGOING || skb.Dev == nil || skb.Dev.Flags&IFF_LOOPBACK == 0 {
			frame := skb.Data
			if m := skb.MACHeader; m >= 0 && m <= skb.head {
				frame = skb.buf[m : skb.head+len(skb.Data)]
			}
			if err := p.w.WritePacket(k.Now(), frame); err != nil {
				p.Errors++
			} else {
				p.Packets++
			}
		}
		k.ConsumeSKB(skb)
	}
	k.DevAddPack(&p.PacketType)
	return p
}
