package driver_test

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/nicbed/nicbed/e1000/driver"
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/checksum"
	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/testbed"
)

// received is a frame a test sink kept: the bytes from the MAC header on and
// what the driver said about the checksum.
type received struct {
	frame    []byte
	ipSummed uint8
}

// collect installs a sink for EtherType et on h that keeps every frame.
func collect(h *testbed.Host, et uint16) *[]received {
	var got []received
	h.Kernel.DevAddPack(&kernelmodel.PacketType{Type: et, Dev: h.Dev, Func: func(skb *kernelmodel.SKB) {
		f := append(append([]byte(nil), skb.MAC()...), skb.Data...)
		got = append(got, received{f, skb.IPSummed})
		h.Kernel.ConsumeSKB(skb)
	}})
	return &got
}

// xmit hands skb to A's driver through dev_queue_xmit from a task.
func xmit(t *testing.T, tb *testbed.Testbed, skb *kernelmodel.SKB) {
	t.Helper()
	err := tb.RunTask(tb.A, "sendmsg", time.Second, func(task *kernelmodel.Task) error {
		skb.Dev = tb.A.Dev
		if rc := tb.A.Kernel.DevQueueXmit(skb); rc != kernelmodel.NET_XMIT_SUCCESS {
			t.Errorf("dev_queue_xmit: %v", rc)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tb.Clock.RunFor(2 * time.Millisecond)
}

// ipv4Frame builds Ethernet + IPv4 (with its header checksum) + l4hdr +
// payload from A to B in skb.
func ipv4Frame(skb *kernelmodel.SKB, tb *testbed.Testbed, proto byte, l4hdr, payload []byte) []byte {
	n := 14 + 20 + len(l4hdr) + len(payload)
	p := skb.Put(n)
	clear(p) // pool skbs come back as they were left
	copy(p, tb.B.Dev.Addr[:])
	copy(p[6:], tb.A.Dev.Addr[:])
	binary.BigEndian.PutUint16(p[12:], kernelmodel.ETH_P_IP)
	ip := p[14:34]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(n-14))
	binary.BigEndian.PutUint16(ip[4:], 0x1234)
	binary.BigEndian.PutUint16(ip[6:], 0x4000) // DF
	ip[8] = 64
	ip[9] = proto
	copy(ip[12:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
	binary.BigEndian.PutUint16(ip[10:], ^checksum.Checksum(ip, 0))
	copy(p[34:], l4hdr)
	copy(p[34+len(l4hdr):], payload)
	return p
}

// pseudo is the IPv4 pseudo-header sum for proto and length, as the stack
// leaves it in the checksum field of a CHECKSUM_PARTIAL packet.
func pseudo(proto byte, length int) uint16 {
	return checksum.PseudoHeaderIPv4([]byte{10, 0, 0, 1}, []byte{10, 0, 0, 2}, proto, uint16(length))
}

// udpPartial is the UDP header (ports 40001 -> 40002) of a CHECKSUM_PARTIAL
// datagram with payload: its checksum field holds the pseudo-header sum, as
// the stack leaves it for the device.
func udpPartial(payload []byte) []byte {
	udp := header.UDP(make([]byte, header.UDPSize))
	udp.SetSourcePort(40001)
	udp.SetDestinationPort(40002)
	udp.SetLength(uint16(header.UDPSize + len(payload)))
	udp.SetChecksum(pseudo(header.ProtocolUDP, header.UDPSize+len(payload)))
	return udp
}

// checkChecksums decodes frame with gopacket and recomputes the IPv4 and
// TCP/UDP checksums with it: they must equal what is in the frame.
func checkChecksums(t *testing.T, frame []byte) gopacket.Packet {
	t.Helper()
	pkt := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.Default)
	if el := pkt.ErrorLayer(); el != nil {
		t.Fatalf("gopacket: %v", el.Error())
	}
	ip, _ := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	if ip == nil {
		t.Fatal("no IPv4 layer")
	}
	opts := gopacket.SerializeOptions{ComputeChecksums: true}
	buf := gopacket.NewSerializeBuffer()
	ipCopy := *ip
	var l4 gopacket.SerializableLayer
	var gotL4, wantL4 func() uint16
	switch {
	case pkt.Layer(layers.LayerTypeTCP) != nil:
		tcp := *pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
		sent := tcp.Checksum
		tcp.SetNetworkLayerForChecksum(&ipCopy)
		l4, gotL4, wantL4 = &tcp, func() uint16 { return sent }, func() uint16 { return tcp.Checksum }
	case pkt.Layer(layers.LayerTypeUDP) != nil:
		udp := *pkt.Layer(layers.LayerTypeUDP).(*layers.UDP)
		sent := udp.Checksum
		udp.SetNetworkLayerForChecksum(&ipCopy)
		l4, gotL4, wantL4 = &udp, func() uint16 { return sent }, func() uint16 { return udp.Checksum }
	default:
		t.Fatal("no TCP or UDP layer")
	}
	sentIP := ip.Checksum
	if err := gopacket.SerializeLayers(buf, opts, &ipCopy, l4, gopacket.Payload(pkt.ApplicationLayer().Payload())); err != nil {
		t.Fatal(err)
	}
	if ipCopy.Checksum != sentIP {
		t.Errorf("IPv4 checksum %#04x, gopacket computes %#04x", sentIP, ipCopy.Checksum)
	}
	if gotL4() != wantL4() {
		t.Errorf("L4 checksum %#04x, gopacket computes %#04x", gotL4(), wantL4())
	}
	return pkt
}

// TestTSO sends a 64 KiB TCP packet with GSO and checks the MSS-sized
// frames B receives: headers and checksums gopacket accepts, IP ids and TCP
// sequence numbers consecutive, PSH and FIN only on the last, the payload
// whole; the receiving driver reports the checksums verified.
func TestTSO(t *testing.T) {
	tb := upE1000(t, driver.Options{})
	got := collect(tb.B, kernelmodel.ETH_P_IP)
	const mss = 1448
	tcp := make([]byte, 32)
	binary.BigEndian.PutUint16(tcp[0:], 40000)
	binary.BigEndian.PutUint16(tcp[2:], 5001)
	binary.BigEndian.PutUint32(tcp[4:], 1_000_000)
	binary.BigEndian.PutUint32(tcp[8:], 555)
	tcp[12] = 8 << 4
	tcp[13] = 0x10 | 0x08 | 0x01 // ACK PSH FIN
	binary.BigEndian.PutUint16(tcp[14:], 512)
	copy(tcp[20:], []byte{1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9}) // nop nop TS
	payload := make([]byte, 65536-14-20-32)
	for i := range payload {
		payload[i] = byte(i*7 + i>>8)
	}
	skb := tb.A.Kernel.AllocSKB(65536)
	p := ipv4Frame(skb, tb, 6, tcp, payload)
	binary.BigEndian.PutUint16(p[34+16:], pseudo(6, len(tcp)+len(payload)))
	skb.IPSummed = kernelmodel.CHECKSUM_PARTIAL
	skb.CsumStart, skb.CsumOffset = 34, 16
	skb.GSOSize, skb.GSOType = mss, kernelmodel.SKB_GSO_TCPV4
	xmit(t, tb, skb)

	segs := (len(payload) + mss - 1) / mss
	if len(*got) != segs {
		t.Fatalf("received %d frames, want %d", len(*got), segs)
	}
	var all []byte
	for i, r := range *got {
		pkt := checkChecksums(t, r.frame)
		ip := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		tc := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
		last := i == segs-1
		want := mss
		if last {
			want = len(payload) - i*mss
		}
		if int(ip.Length) != 20+32+want || len(tc.Payload) != want {
			t.Errorf("segment %d: IP length %d, payload %d, want %d", i, ip.Length, len(tc.Payload), want)
		}
		if ip.Id != uint16(0x1234+i) || ip.Flags != layers.IPv4DontFragment || ip.TTL != 64 {
			t.Errorf("segment %d: id %#x flags %v ttl %d", i, ip.Id, ip.Flags, ip.TTL)
		}
		if tc.Seq != uint32(1_000_000+i*mss) || tc.Ack != 555 || !tc.ACK || tc.PSH != last || tc.FIN != last || tc.DataOffset != 8 {
			t.Errorf("segment %d: seq %d ack %d ACK %v PSH %v FIN %v doff %d", i, tc.Seq, tc.Ack, tc.ACK, tc.PSH, tc.FIN, tc.DataOffset)
		}
		if r.ipSummed != kernelmodel.CHECKSUM_UNNECESSARY {
			t.Errorf("segment %d: ip_summed %d, want CHECKSUM_UNNECESSARY", i, r.ipSummed)
		}
		all = append(all, tc.Payload...)
	}
	if !bytes.Equal(all, payload) {
		t.Error("payload differs")
	}
	settle(t, tb)
	if got := stat(t, tb.A, "tx_tcp_seg_good"); got != 1 {
		t.Errorf("tx_tcp_seg_good %d, want 1", got)
	}
	if got := stat(t, tb.A, "tx_packets"); got != uint64(segs) {
		t.Errorf("tx_packets %d, want %d", got, segs)
	}
	if got, want := tb.A.Dev.Stats.TxBytes, uint64(65536+(segs-1)*66); got != want {
		t.Errorf("tx_bytes (ip -s link) %d, want %d", got, want)
	}
	if got := stat(t, tb.B, "rx_csum_offload_good"); got != uint64(segs) {
		t.Errorf("rx_csum_offload_good %d, want %d", got, segs)
	}
}

// TestChecksumOffload sends CHECKSUM_PARTIAL UDP and TCP packets (checksum by
// the device, from a context descriptor), and one whose checksum offset is
// beyond what a context descriptor can say (done in software).
func TestChecksumOffload(t *testing.T) {
	tb := upE1000(t, driver.Options{})
	got := collect(tb.B, kernelmodel.ETH_P_IP)
	raw := collect(tb.B, testbed.EtherType+1)
	payload := bytes.Repeat([]byte("nicbed"), 150)

	udp := udpPartial(payload)
	skb := tb.A.Kernel.AllocSKB(2048)
	ipv4Frame(skb, tb, 17, udp, payload)
	skb.IPSummed, skb.CsumStart, skb.CsumOffset = kernelmodel.CHECKSUM_PARTIAL, 34, 6
	xmit(t, tb, skb)

	tcp := make([]byte, 20)
	tcp[12] = 5 << 4
	tcp[13] = 0x18
	binary.BigEndian.PutUint16(tcp[16:], pseudo(6, 20+len(payload)))
	skb = tb.A.Kernel.AllocSKB(2048)
	ipv4Frame(skb, tb, 6, tcp, payload)
	skb.IPSummed, skb.CsumStart, skb.CsumOffset = kernelmodel.CHECKSUM_PARTIAL, 34, 16
	xmit(t, tb, skb)

	// A raw frame with a 16-bit checksum of bytes 300.. at 310.
	skb = tb.A.Kernel.AllocSKB(2048)
	p := skb.Put(600)
	copy(p, tb.B.Dev.Addr[:])
	copy(p[6:], tb.A.Dev.Addr[:])
	binary.BigEndian.PutUint16(p[12:], testbed.EtherType+1)
	for i := 14; i < len(p); i++ {
		p[i] = byte(i * 13)
	}
	p[310], p[311] = 0, 0
	skb.IPSummed, skb.CsumStart, skb.CsumOffset = kernelmodel.CHECKSUM_PARTIAL, 300, 10
	xmit(t, tb, skb)

	if len(*got) != 2 || len(*raw) != 1 {
		t.Fatalf("received %d IP frames and %d raw ones", len(*got), len(*raw))
	}
	for _, r := range *got {
		checkChecksums(t, r.frame)
		if r.ipSummed != kernelmodel.CHECKSUM_UNNECESSARY {
			t.Errorf("ip_summed %d, want CHECKSUM_UNNECESSARY", r.ipSummed)
		}
	}
	if s := checksum.Checksum((*raw)[0].frame[300:], 0); s != 0xFFFF {
		t.Errorf("software checksum: the sum over bytes 300.. is %#04x, want 0xffff", s)
	}
	settle(t, tb)
}
