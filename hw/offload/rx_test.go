package offload

import (
	"net"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/nicbed/nicbed/stack/header"
)

// wireFrame is an Ethernet/IPv4 frame with correct checksums, built by
// gopacket, carrying TCP or UDP.
func wireFrame(t *testing.T, tcp bool) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2},
		EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, SrcIP: net.IP{10, 0, 0, 1}, DstIP: net.IP{10, 0, 0, 2}}
	var l4 gopacket.SerializableLayer
	if tcp {
		ip.Protocol = layers.IPProtocolTCP
		t := &layers.TCP{SrcPort: 5000, DstPort: 80, Seq: 7, ACK: true, Window: 100}
		t.SetNetworkLayerForChecksum(ip)
		l4 = t
	} else {
		ip.Protocol = layers.IPProtocolUDP
		u := &layers.UDP{SrcPort: 4000, DstPort: 4001}
		u.SetNetworkLayerForChecksum(ip)
		l4 = u
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, eth, ip, l4, gopacket.Payload("hello, checksum")); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestVerifyRx: frames with gopacket's checksums verify; a flipped header
// or payload byte is caught in the checksum it covers; a UDP datagram
// without a checksum is not wrong; a fragment checks only the IPv4 header;
// what RXCSUM does not enable is not checked.
func TestVerifyRx(t *testing.T) {
	check := func(f []byte, ip, l4 bool) RxCsum {
		p, err := header.Parse(f)
		if err != nil {
			t.Fatal(err)
		}
		return VerifyRx(f, &p, ip, l4)
	}
	for _, tcp := range []bool{true, false} {
		f := wireFrame(t, tcp)
		if r := check(f, true, true); !r.IPChecked || r.IPBad || !r.L4Checked || r.L4Bad {
			t.Fatalf("tcp=%v good frame: %+v", tcp, r)
		}
		bad := append([]byte(nil), f...)
		bad[14+8]-- // TTL: the IPv4 header checksum
		if r := check(bad, true, true); !r.IPBad || r.L4Bad {
			t.Fatalf("tcp=%v bad IPv4 header: %+v", tcp, r)
		}
		bad = append([]byte(nil), f...)
		end := 14 + int(header.IPv4(f[14:]).TotalLength()) // past it: Ethernet padding
		bad[end-1] ^= 0x40
		if r := check(bad, true, true); r.IPBad || !r.L4Bad {
			t.Fatalf("tcp=%v bad payload: %+v", tcp, r)
		}
		if r := check(bad, true, false); r.L4Checked || r.L4Bad {
			t.Fatalf("tcp=%v L4 checked with TUOFLD off: %+v", tcp, r)
		}
	}
	u := wireFrame(t, false)
	header.UDP(u[34:]).SetChecksum(0)
	u[14+int(header.IPv4(u[14:]).TotalLength())-1] ^= 0x40
	if r := check(u, true, true); !r.L4Checked || r.L4Bad || r.Proto != header.ProtocolUDP {
		t.Fatalf("UDP without checksum: %+v", r)
	}
	frag := wireFrame(t, true)
	ip := header.IPv4(frag[14:])
	ip.SetFlagsFragment(header.IPv4FlagMF, 0)
	ip.SetChecksum(ip.CalculateChecksum())
	if r := check(frag, true, true); !r.IPChecked || r.IPBad || r.L4Checked {
		t.Fatalf("fragment: %+v", r)
	}
	arp := make([]byte, 60)
	header.Ethernet(arp).SetType(header.EtherTypeARP)
	if r := check(arp, true, true); r != (RxCsum{}) {
		t.Fatalf("ARP: %+v", r)
	}
}
