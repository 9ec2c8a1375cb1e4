package driver_test

import (
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/checksum"
	"github.com/nicbed/nicbed/testbed"
)

// tcpFrame is an Ethernet/IPv4/TCP frame from A to B with n payload
// bytes and correct checksums, built by gopacket.
func tcpFrame(t testing.TB, n int, seq uint32) []byte {
	t.Helper()
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: 7, Flags: layers.IPv4DontFragment, Protocol: layers.IPProtocolTCP,
		SrcIP: net.IPv4(10, 0, 0, 1), DstIP: net.IPv4(10, 0, 0, 2)}
	tcp := &layers.TCP{SrcPort: 40000, DstPort: 5001, Seq: seq, ACK: true, PSH: true, Ack: 1, Window: 512}
	tcp.SetNetworkLayerForChecksum(ip)
	payload := make([]byte, n)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	buf := gopacket.NewSerializeBuffer()
	eth := &layers.Ethernet{SrcMAC: testbed.MACA[:], DstMAC: testbed.MACB[:], EthernetType: layers.EthernetTypeIPv4}
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// capture collects a copy of every frame h receives (an ETH_P_ALL tap;
// the skb's data starts at the network header), with its VLAN tag.
type captured struct {
	l3   []byte
	vlan uint16
}

func capture(h *testbed.Host) *[]captured {
	var got []captured
	h.Kernel.DevAddPack(&kernelmodel.PacketType{Type: kernelmodel.ETH_P_ALL, Func: func(skb *kernelmodel.SKB) {
		got = append(got, captured{append([]byte(nil), skb.Data...), skb.VLANTCI})
	}})
	return &got
}

// sendSKB hands A's driver an skb holding frame.
func sendSKB(t testing.TB, h *testbed.Host, frame []byte, edit func(*kernelmodel.SKB)) {
	t.Helper()
	skb := h.Kernel.AllocSKB(len(frame))
	copy(skb.Put(len(frame)), frame)
	skb.Dev = h.Dev
	edit(skb)
	if rc := h.Dev.Ops.StartXmit(skb); rc != kernelmodel.NETDEV_TX_OK {
		t.Fatalf("xmit: %v", rc)
	}
}

// verify decodes an IPv4/TCP packet with gopacket and checks its lengths
// and both checksums by serializing it again from its decoded layers.
func verify(t *testing.T, l3 []byte) (*layers.IPv4, *layers.TCP) {
	t.Helper()
	p := gopacket.NewPacket(l3, layers.LayerTypeIPv4, gopacket.Default)
	ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if ip == nil || tcp == nil || p.ErrorLayer() != nil {
		t.Fatalf("not IPv4/TCP: %v", p)
	}
	if int(ip.Length) != len(l3) {
		t.Errorf("IPv4 total length %d of %d bytes", ip.Length, len(l3))
	}
	ipSum, tcpSum := ip.Checksum, tcp.Checksum
	tcp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true}, ip, tcp, gopacket.Payload(tcp.Payload)); err != nil {
		t.Fatal(err)
	}
	again := gopacket.NewPacket(buf.Bytes(), layers.LayerTypeIPv4, gopacket.Default)
	if c := again.Layer(layers.LayerTypeIPv4).(*layers.IPv4).Checksum; c != ipSum {
		t.Errorf("IPv4 checksum %#04x, want %#04x", ipSum, c)
	}
	if c := again.Layer(layers.LayerTypeTCP).(*layers.TCP).Checksum; c != tcpSum {
		t.Errorf("TCP checksum %#04x, want %#04x", tcpSum, c)
	}
	return ip, tcp
}

// TestTxOffloads: TSO (igb_tso: a 20000-byte super-frame cut into MSS
// segments by the device, headers rewritten, checksums inserted), checksum
// offload (igb_tx_csum: CHECKSUM_PARTIAL with the pseudo-header sum in the
// field) and VLAN insertion (a context descriptor for the tag), each frame
// decoded and its checksums verified by gopacket on the receiving host.
func TestTxOffloads(t *testing.T) {
	tb := bed(t, testbed.IGB{}, 2)
	got := capture(tb.B)
	const mss, payload = 1448, 20000
	sendSKB(t, tb.A, tcpFrame(t, payload, 1000), func(s *kernelmodel.SKB) { s.GSOSize = mss })
	tb.Clock.RunFor(time.Millisecond)
	want := (payload + mss - 1) / mss
	if len(*got) != want {
		t.Fatalf("%d segments, want %d", len(*got), want)
	}
	total := 0
	for i, c := range *got {
		ip, tcp := verify(t, c.l3)
		n := len(tcp.Payload)
		if n > mss || (i < want-1 && n != mss) {
			t.Errorf("segment %d: %d payload bytes", i, n)
		}
		if tcp.Seq != uint32(1000+total) || tcp.PSH != (i == want-1) || ip.Id != uint16(7+i) {
			t.Errorf("segment %d: seq %d PSH %v id %d", i, tcp.Seq, tcp.PSH, ip.Id)
		}
		for j, b := range tcp.Payload {
			if b != byte((total+j)*7) {
				t.Fatalf("segment %d: payload byte %d wrong", i, j)
			}
		}
		total += n
	}
	if total != payload {
		t.Errorf("%d payload bytes arrived, want %d", total, payload)
	}
	if segs := stats(t, tb.A, "tx_tcp_seg_good")[0]; segs != 1 {
		t.Errorf("tx_tcp_seg_good %d", segs)
	}

	// Checksum offload and VLAN insertion.
	*got = nil
	f := tcpFrame(t, 700, 5)
	tcpLen := len(f) - 34
	binary.BigEndian.PutUint16(f[34+16:], checksum.Checksum(f[26:34], uint16(6+tcpLen))) // the pseudo-header sum
	sendSKB(t, tb.A, f, func(s *kernelmodel.SKB) {
		s.IPSummed = kernelmodel.CHECKSUM_PARTIAL
		s.CsumStart, s.CsumOffset = 34, 16
		s.VLANTCI = 0x2005
	})
	tb.Clock.RunFor(time.Millisecond)
	if len(*got) != 1 {
		t.Fatalf("%d frames, want 1", len(*got))
	}
	verify(t, (*got)[0].l3)
	if v := (*got)[0].vlan; v != 0x2005 {
		t.Errorf("VLAN tag %#x, want 0x2005", v)
	}
	settle(t, tb)
}

// TestSelectQueue: flows spread over the transmit queues by their hash
// (skb_tx_hash), and a frame sent on a queue is counted there
// (tx_queue_N_packets) and completes.
func TestSelectQueue(t *testing.T) {
	tb := bed(t, testbed.IGB{Queues: 4}, 2)
	a := nic(t, tb.A).Adapter
	used := map[int]int{}
	for i, tu := range tuples(64) {
		f := tcpFrame(t, 100, uint32(i))
		binary.BigEndian.PutUint16(f[34:], tu.SrcPort)
		var q int
		sendSKB(t, tb.A, f, func(s *kernelmodel.SKB) {
			s.Protocol = kernelmodel.ETH_P_IP
			probe := tb.A.Kernel.AllocSKB(len(f) - 14)
			copy(probe.Put(len(f)-14), f[14:])
			probe.Protocol = kernelmodel.ETH_P_IP
			q = a.SelectQueue(probe)
			tb.A.Kernel.ConsumeSKB(probe)
			s.QueueMapping = uint16(q)
		})
		used[q]++
	}
	tb.Clock.RunFor(time.Millisecond)
	var total uint64
	for q := range 4 {
		n := stats(t, tb.A, "tx_queue_"+string(rune('0'+q))+"_packets")[0]
		if n != uint64(used[q]) {
			t.Errorf("tx_queue_%d_packets %d, want %d", q, n, used[q])
		}
		if used[q] == 0 {
			t.Errorf("no flow hashed to queue %d: %v", q, used)
		}
		total += n
	}
	if total != 64 {
		t.Errorf("%d frames sent of 64", total)
	}
	settle(t, tb)
}
