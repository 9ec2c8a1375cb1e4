package ipv4_test

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/ip4defrag"
	"github.com/google/gopacket/layers"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/checksum"
	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/stack/ipv4"
	"github.com/nicbed/nicbed/stack/neigh"
	"github.com/nicbed/nicbed/testbed"
)

var (
	addrA = [4]byte{10, 0, 0, 1}
	addrB = [4]byte{10, 0, 0, 2}
)

// tap is a ptype_all handler that keeps a copy of every frame a host
// receives (it gets a reference of its own and drops it).
type tap struct{ frames [][]byte }

func (tp *tap) add(k *kernelmodel.Kernel, d *kernelmodel.NetDevice) {
	k.DevAddPack(&kernelmodel.PacketType{Type: kernelmodel.ETH_P_ALL, Dev: d, IgnoreOutgoing: true, Func: func(skb *kernelmodel.SKB) {
		tp.frames = append(tp.frames, append([]byte(nil), skb.Buf()[skb.MACHeader:skb.BufOffset()+skb.Len()]...))
		k.ConsumeSKB(skb)
	}})
}

// arps are the ARP packets among the frames, as (op, sender IP, target IP).
func (tp *tap) arps() [][3]uint32 {
	var out [][3]uint32
	for _, f := range tp.frames {
		if header.Ethernet(f).Type() == header.EtherTypeARP {
			a := header.ARP(f[14:])
			s, d := a.SenderIP(), a.TargetIP()
			out = append(out, [3]uint32{uint32(a.Op()), uint32(s[3]), uint32(d[3])})
		}
	}
	return out
}

// echoReplies are the ICMP echo replies among the frames.
func (tp *tap) echoReplies() [][]byte {
	var out [][]byte
	for _, f := range tp.frames {
		if header.Ethernet(f).Type() == header.EtherTypeIPv4 && len(f) >= 42 && f[14+9] == 1 && f[34] == header.ICMPv4EchoReply {
			out = append(out, f)
		}
	}
	return out
}

// ping sends an ICMP echo request from A to B (built here, sent by the raw
// send, ipv4.Stack.Output) in a task on A.
func ping(t *testing.T, tb *testbed.Testbed, s *ipv4.Stack, id, seq uint16, data []byte) {
	t.Helper()
	err := tb.RunTask(tb.A, "ping", time.Second, func(*kernelmodel.Task) error {
		k := tb.A.Kernel
		skb := k.AllocSKB(14 + 20 + 8 + len(data))
		skb.Reserve(14 + 20)
		m := skb.Put(8 + len(data))
		m[0], m[1], m[2], m[3] = header.ICMPv4Echo, 0, 0, 0 // pooled data is not zeroed
		m[4], m[5], m[6], m[7] = byte(id>>8), byte(id), byte(seq>>8), byte(seq)
		copy(m[8:], data)
		header.ICMPv4(m).SetChecksum(^checksum.Checksum(m, 0))
		if rc := s.Output(skb, addrA, addrB, ipv4.IPPROTO_ICMP, 0, 0); rc != kernelmodel.NET_XMIT_SUCCESS {
			t.Errorf("ping: Output returned %d", rc)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// rawFromB sends a raw Ethernet frame from B (through B's driver, model and
// the cable) to A.
func rawFromB(t *testing.T, tb *testbed.Testbed, frame []byte) {
	t.Helper()
	err := tb.RunTask(tb.B, "raw", time.Second, func(*kernelmodel.Task) error {
		k := tb.B.Kernel
		skb := k.AllocSKB(len(frame))
		copy(skb.Put(len(frame)), frame)
		skb.Dev = tb.B.Dev
		if rc := k.DevQueueXmit(skb); rc != kernelmodel.NET_XMIT_SUCCESS {
			t.Errorf("raw frame: dev_queue_xmit %d", rc)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestTwoHostPing: two e1000 hosts on the cable. B is up; A announces
// itself with a gratuitous ARP when its link comes up (arp_notify 1; B keeps
// Linux's 0 and sends none). A's first ping resolves B (one broadcast request, one
// reply), every ping is answered, and each reply is checked byte for byte
// against gopacket's encoding of it. Hostile frames from B are each dropped
// by A under their reason with no crash, ping still works, and no skb is
// left or misused on either host.
func TestTwoHostPing(t *testing.T) {
	var trace bytes.Buffer
	tr := kernelmodel.NewTracer(&trace, nil)
	tb, err := testbed.New(testbed.Config{Tracer: tr})
	if err != nil {
		t.Fatal(err)
	}
	sa := ipv4.New(tb.A.Kernel, 1)
	sb := ipv4.New(tb.B.Kernel, 2)
	if err := sa.AddAddress(tb.A.Dev, addrA, 24); err != nil {
		t.Fatal(err)
	}
	if err := sb.AddAddress(tb.B.Dev, addrB, 24); err != nil {
		t.Fatal(err)
	}
	sa.Sysctl.ARPNotify = 1
	var tapA, tapB tap
	tapA.add(tb.A.Kernel, tb.A.Dev)
	tapB.add(tb.B.Kernel, tb.B.Dev)
	// B is up first; then A comes up on the link and announces itself.
	for _, h := range []*testbed.Host{tb.B, tb.A} {
		if err := tb.RunTask(h, "ip-link-up", time.Second, func(tk *kernelmodel.Task) error { return h.Dev.DevOpen(tk) }); err != nil {
			t.Fatal(err)
		}
		tb.Clock.RunFor(3 * time.Second)
	}
	if err := tb.WaitCarrier(true, time.Second); err != nil {
		t.Fatal(err)
	}
	if got := tapB.arps(); len(got) != 1 || got[0] != [3]uint32{header.ARPOpRequest, 1, 1} || len(tapA.arps()) != 0 {
		t.Fatalf("gratuitous ARP: B saw %v, A saw %v; want one from A only", got, tapA.arps())
	}

	data := []byte("0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghij")
	for seq := uint16(1); seq <= 10; seq++ {
		ping(t, tb, sa, 0x4242, seq, data)
		tb.Clock.RunFor(5 * time.Millisecond)
		replies := tapA.echoReplies()
		if len(replies) != int(seq) {
			t.Fatalf("after ping %d: %d replies\n%s", seq, len(replies), tb.Report())
		}
		checkReply(t, replies[seq-1], 0x4242, seq, data)
	}
	if got := tapA.arps(); len(got) != 1 || got[0] != [3]uint32{header.ARPOpReply, 2, 1} {
		t.Fatalf("A saw ARP %v, want B's one reply", got)
	}
	if got := tapB.arps(); len(got) != 2 || got[1] != [3]uint32{header.ARPOpRequest, 1, 2} {
		t.Fatalf("B saw ARP %v, want the gratuitous ARP and one request", got)
	}
	if n := sa.Neigh.Lookup(tb.A.Dev, addrB); n == nil || n.State != neigh.NUD_REACHABLE || n.HA != testbed.MACB {
		t.Fatalf("A's entry for B: %+v", n)
	}
	if sb.SNMP.Icmp.InType[8] != 10 || sb.SNMP.Icmp.OutType[0] != 10 || sa.SNMP.Icmp.InType[0] != 10 || sa.SNMP.Ip.OutRequests != 10 {
		t.Fatalf("counters: B %+v, A %+v %+v", sb.SNMP.Icmp, sa.SNMP.Icmp, sa.SNMP.Ip)
	}

	// Hostile frames from B, each dropped by A under its reason.
	good := func() []byte {
		b := gopacket.NewSerializeBuffer()
		gopacket.SerializeLayers(b, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
			&layers.Ethernet{SrcMAC: testbed.MACB[:], DstMAC: testbed.MACA[:], EthernetType: layers.EthernetTypeIPv4},
			&layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolICMPv4, SrcIP: net.IP(addrB[:]), DstIP: net.IP(addrA[:])},
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: 1, Seq: 1},
			gopacket.Payload(data))
		return b.Bytes()
	}
	fix := func(f []byte) []byte {
		h := header.IPv4(f[14:])
		h.SetChecksum(0)
		h.SetChecksum(h.CalculateChecksum())
		return f
	}
	before := tb.A.Kernel.Drops.Reason
	hostile := []struct {
		name   string
		frame  []byte
		reason kernelmodel.DropReason
	}{
		{"truncated", func() []byte { f := good(); header.IPv4(f[14:]).SetTotalLength(200); return fix(f)[:14+40] }(), kernelmodel.SKB_DROP_REASON_PKT_TOO_SMALL},
		{"bad checksum", func() []byte { f := good(); f[24] ^= 0xff; return f }(), kernelmodel.SKB_DROP_REASON_IP_CSUM},
		{"bad IHL", func() []byte { f := good(); f[14] = 0x43; return fix(f) }(), kernelmodel.SKB_DROP_REASON_IP_INHDR},
		{"total length beyond the frame", func() []byte { f := good(); header.IPv4(f[14:]).SetTotalLength(1400); return fix(f) }(), kernelmodel.SKB_DROP_REASON_PKT_TOO_SMALL},
		{"unknown protocol", func() []byte { f := good(); f[14+9] = 200; return fix(f) }(), kernelmodel.SKB_DROP_REASON_IP_NOPROTO},
	}
	want := map[kernelmodel.DropReason]uint64{}
	for _, h := range hostile {
		rawFromB(t, tb, h.frame)
		want[h.reason]++
	}
	tb.Clock.RunFor(10 * time.Millisecond)
	for r := range tb.A.Kernel.Drops.Reason {
		dr := kernelmodel.DropReason(r)
		if got := tb.A.Kernel.Drops.Reason[r] - before[r]; got != want[dr] {
			t.Errorf("A: drop reason %v: %d, want %d", dr, got, want[dr])
		}
	}
	if m := sa.SNMP; m.Ip.InHdrErrors != 2 || m.IpExt.InCsumErrors != 1 || m.IpExt.InTruncatedPkts != 2 || m.Ip.InUnknownProtos != 1 {
		t.Errorf("A's counters %+v %+v", m.Ip, m.IpExt)
	}
	if sb.SNMP.Icmp.InType[3] != 1 {
		t.Errorf("B got %d destination unreachables, want 1 (protocol)", sb.SNMP.Icmp.InType[3])
	}
	ping(t, tb, sa, 0x4242, 11, data)
	tb.Clock.RunFor(5 * time.Millisecond)
	if r := tapA.echoReplies(); len(r) != 11 {
		t.Fatalf("ping after hostile frames: %d replies", len(r))
	}
	checkReply(t, tapA.echoReplies()[10], 0x4242, 11, data)

	// A 3000-byte ping: fragmented by A (ip_fragment), reassembled by B
	// (ip_defrag), the reply fragmented by B and reassembled by A; A's
	// received fragments are reassembled again by gopacket's ip4defrag, an
	// independent implementation, and the reply checked.
	big := make([]byte, 3000)
	for i := range big {
		big[i] = byte(i * 13)
	}
	nFrames := len(tapA.frames)
	ping(t, tb, sa, 0x4242, 12, big)
	tb.Clock.RunFor(10 * time.Millisecond)
	for _, st := range []*ipv4.Stack{sa, sb} {
		if m := st.SNMP.Ip; m.FragOKs != 1 || m.FragCreates != 3 || m.ReasmOKs != 1 || m.ReasmReqds != 3 {
			t.Fatalf("fragmentation counters %+v", m)
		}
	}
	df := ip4defrag.NewIPv4Defragmenter()
	var whole *layers.IPv4
	for _, f := range tapA.frames[nFrames:] {
		p := gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.Default)
		ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		if ip == nil || ip.Protocol != layers.IPProtocolICMPv4 {
			continue
		}
		if !header.IPv4(f[14:]).ChecksumValid() || len(f)-14 > 1500 {
			t.Fatalf("fragment with a bad header or above the MTU: %d bytes", len(f)-14)
		}
		out, err := df.DefragIPv4(ip)
		if err != nil {
			t.Fatal(err)
		}
		if out != nil {
			whole = out
		}
	}
	if whole == nil {
		t.Fatal("gopacket did not reassemble the reply")
	}
	ic := whole.Payload
	if len(ic) != 8+len(big) || ic[0] != header.ICMPv4EchoReply || checksum.Checksum(ic, 0) != 0xFFFF || !bytes.Equal(ic[8:], big) {
		t.Fatalf("reassembled reply: %d bytes, type %d", len(ic), ic[0])
	}
	if err := tb.Settle(50 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	// The driver's packets come up the list path: gro_normal_list →
	// netif_receive_skb_list → ip_list_rcv.
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	for _, step := range []string{"ip_list_rcv", "ip_rcv_core", "ip_local_deliver", "icmp_rcv", "icmp_push_reply", "ip_output", "neigh_hh_output", "arp_rcv", "neigh_resolve_output"} {
		if !bytes.Contains(trace.Bytes(), []byte(" "+step)) {
			t.Errorf("no %s in the trace", step)
		}
	}
}

// checkReply decodes f with gopacket and compares it byte for byte with
// gopacket's encoding of the echo reply B must send (the IP ID taken from
// f: Linux's is a hash).
func checkReply(t *testing.T, f []byte, id, seq uint16, data []byte) {
	t.Helper()
	p := gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.Default)
	ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	ic, _ := p.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4)
	if ip == nil || ic == nil || p.ErrorLayer() != nil {
		t.Fatalf("reply does not decode: %v", p)
	}
	want := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(want, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		&layers.Ethernet{SrcMAC: testbed.MACB[:], DstMAC: testbed.MACA[:], EthernetType: layers.EthernetTypeIPv4},
		&layers.IPv4{Version: 4, IHL: 5, Id: ip.Id, TTL: 64, Protocol: layers.IPProtocolICMPv4, SrcIP: net.IP(addrB[:]), DstIP: net.IP(addrA[:])},
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoReply, 0), Id: id, Seq: seq},
		gopacket.Payload(data))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f, want.Bytes()) {
		t.Fatalf("reply %d\n got %x\nwant %x", seq, f, want.Bytes())
	}
}
