package gso_test

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/stack/internal/stacktest"
	"github.com/nicbed/nicbed/stack/ipv4"
)

// TestForwardGROAggregate: a router that receives a GRO aggregate (a GSO
// skb of 20 segments, CHECKSUM_PARTIAL, as napi_gro_complete leaves it)
// forwards it whole — ip_exceeds_mtu and ip_finish_output_gso look at the
// segments, not the 29 KB datagram — and its outgoing device, which has no
// TSO, gets it segmented by validate_xmit_skb: B receives 20 MSS segments
// with TTL 63 and valid checksums (gopacket) carrying the payload in
// order. With an MTU below the segments and DF, R refuses it with an ICMP
// fragmentation needed; without DF, R segments and fragments each segment
// (the slow path of ip_finish_output_gso) and B reassembles every one.
func TestForwardGROAggregate(t *testing.T) {
	var (
		ipA, ipRA, ipRB, ipB   = [4]byte{10, 0, 1, 1}, [4]byte{10, 0, 1, 254}, [4]byte{10, 0, 2, 254}, [4]byte{10, 0, 2, 1}
		macA, macRA, macRB, mB = [6]byte{2, 0, 0, 0, 1, 1}, [6]byte{2, 0, 0, 0, 1, 0xfe}, [6]byte{2, 0, 0, 0, 2, 0xfe}, [6]byte{2, 0, 0, 0, 2, 1}
	)
	const segs = 20
	for _, tc := range []struct {
		name string
		mtu  int
		df   bool
	}{{"segments fit", 1500, true}, {"DF above the MTU", 1000, true}, {"fragmented", 1000, false}} {
		t.Run(tc.name, func(t *testing.T) {
			n := stacktest.NewNet()
			defer n.Close()
			ka, kr, kb := n.Host("A"), n.Host("R"), n.Host("B")
			sa, sr, sb := ipv4.New(ka, 1), ipv4.New(kr, 2), ipv4.New(kb, 3)
			a0, ra, err := n.Link(ka, "eth0", macA, kr, "eth0", macRA)
			if err != nil {
				t.Fatal(err)
			}
			rb, b0, err := n.Link(kr, "eth1", macRB, kb, "eth0", mB)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range []error{sa.AddAddress(a0.D, ipA, 24), sr.AddAddress(ra.D, ipRA, 24), sr.AddAddress(rb.D, ipRB, 24),
				sb.AddAddress(b0.D, ipB, 24), sa.AddRoute([4]byte{}, 0, ipRA, nil, 0), sb.AddRoute([4]byte{}, 0, ipRB, nil, 0),
				sr.SetSysctl("net.ipv4.ip_forward", 1)} {
				if e != nil {
					t.Fatal(e)
				}
			}
			rb.D.MTU = tc.mtu
			delivered := 0
			sb.AddProtocol(ipv4.IPPROTO_TCP, func(skb *kernelmodel.SKB) { delivered++; kb.ConsumeSKB(skb) })
			f := superFrame(segs*mss, header.TCPFlagACK|header.TCPFlagPSH)
			copy(f[0:], macRA[:])
			copy(f[6:], macA[:])
			ip := header.IPv4(f[14:34])
			ip.SetSource(ipA)
			ip.SetDestination(ipB)
			if !tc.df {
				ip.SetFlagsFragment(0, 0)
			}
			ip.SetChecksum(0)
			ip.SetChecksum(ip.CalculateChecksum())
			// The aggregate as GRO passes it up.
			skb := kr.AllocSKB(len(f))
			copy(skb.Put(len(f)), f)
			kr.EthTypeTrans(skb, ra.D)
			binary.BigEndian.PutUint16(skb.Data[20+16:], ip.PseudoHeaderChecksum(uint16(len(f)-34)))
			skb.IPSummed, skb.CsumStart, skb.CsumOffset = kernelmodel.CHECKSUM_PARTIAL, 34, 16
			skb.GSOSize, skb.GSOSegs, skb.GSOType = mss, segs, kernelmodel.SKB_GSO_TCPV4
			skb.TransHeader = skb.NetHeader + 20
			kr.NetifReceiveSKB(skb)
			n.Clock.RunFor(100 * time.Millisecond)
			var got []byte
			var frames int
			for _, r := range b0.Received {
				p := gopacket.NewPacket(r.Frame, layers.LayerTypeEthernet, gopacket.Default)
				l, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
				if l == nil || l.Protocol != layers.IPProtocolTCP {
					continue
				}
				frames++
				if len(r.Frame)-14 > tc.mtu || l.TTL != 63 {
					t.Fatalf("frame at B: %d bytes, TTL %d", len(r.Frame)-14, l.TTL)
				}
				if tc.name == "segments fit" {
					_, tcp := checkSegment(t, frames-1, r.Frame)
					got = append(got, tcp.Payload...)
				}
			}
			m, mb := sr.SNMP.Ip, sb.SNMP.Ip
			switch tc.name {
			case "segments fit":
				if frames != segs || !bytes.Equal(got, f[66:]) || m.ForwDatagrams != 1 || kr.GSOStats().Segmented != 1 || delivered != segs {
					t.Fatalf("%d frames at B, payload equal %v, R forwarded %d, %+v", frames, bytes.Equal(got, f[66:]), m.ForwDatagrams, kr.GSOStats())
				}
			case "DF above the MTU":
				if frames != 0 || m.FragFails != 1 || sa.SNMP.Icmp.InType[3] != 1 {
					t.Fatalf("%d frames at B, FragFails %d, A got %d unreachables", frames, m.FragFails, sa.SNMP.Icmp.InType[3])
				}
			case "fragmented":
				if mb.ReasmOKs != segs || m.FragOKs != segs || frames != 2*segs || delivered != segs {
					t.Fatalf("%d fragments at B, B reassembled %d, R FragOKs %d", frames, mb.ReasmOKs, m.FragOKs)
				}
			}
			n.Clock.RunFor(40 * time.Second)
			for _, k := range []*kernelmodel.Kernel{ka, kr, kb} {
				if err := k.SKBAudit(); err != nil {
					t.Fatalf("%s: %v", k.Name, err)
				}
			}
		})
	}
}
