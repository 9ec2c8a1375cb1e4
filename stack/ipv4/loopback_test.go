package ipv4

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/checksum"
	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/stack/internal/stacktest"
)

// newLoEnv is newEnv with a loopback device up.
func newLoEnv(t testing.TB) (*env, *stacktest.Loopback) {
	t.Helper()
	e := newEnv(t)
	lo, err := stacktest.NewLoopback(e.k)
	if err != nil {
		t.Fatal(err)
	}
	return e, lo
}

// pingSelf sends an echo request to dst through Output and runs the clock.
func pingSelf(t *testing.T, e *env, dst [4]byte, seq uint16) int {
	t.Helper()
	skb := e.k.AllocSKB(14 + 20 + 8 + 4)
	skb.Reserve(14 + 20)
	m := skb.Put(8 + 4)
	copy(m, []byte{header.ICMPv4Echo, 0, 0, 0, 0, 1, byte(seq >> 8), byte(seq), 'p', 'i', 'n', 'g'})
	header.ICMPv4(m).SetChecksum(^checksum.Checksum(m, 0))
	rc := e.s.Output(skb, [4]byte{}, dst, IPPROTO_ICMP, 0, 0)
	e.k.Clock().RunFor(time.Millisecond)
	return rc
}

// TestLoopback: when lo comes up it gets 127.0.0.1/8 with the routes Linux
// makes (local 127.0.0.0/8 and 127.0.0.1, broadcast 127.255.255.255, all
// in table local); pings to the host's own address and to any of 127/8 go
// out and come back through lo (request and reply, each through ip_rcv
// with its output route kept: no martian check), nothing goes out of eth0,
// the reply comes from the address pinged; a frame from eth0 with a
// loopback source or destination is a martian.
func TestLoopback(t *testing.T) {
	e, lo := newLoEnv(t)
	if e.s.Loopback != lo.D {
		t.Fatal("lo is not the loopback device")
	}
	var local strings.Builder
	e.s.FIB.WriteRoutes(&local, RT_TABLE_LOCAL)
	want := "local 10.0.0.1 dev eth0 proto kernel scope host src 10.0.0.1\n" +
		"broadcast 10.0.0.255 dev eth0 proto kernel scope link src 10.0.0.1\n" +
		"local 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1\n" +
		"local 127.0.0.1 dev lo proto kernel scope host src 127.0.0.1\n" +
		"broadcast 127.255.255.255 dev lo proto kernel scope link src 127.0.0.1\n"
	if local.String() != want {
		t.Fatalf("ip route show table local:\n%s\nwant\n%s", local.String(), want)
	}
	var replies [][4]byte
	e.s.AddProtocol(IPPROTO_ICMP, func(skb *kernelmodel.SKB) {
		if header.ICMPv4(skb.Data).Type() == header.ICMPv4EchoReply {
			replies = append(replies, IPHdr(skb).Source())
		}
		e.s.icmpRcv(skb)
	})
	for i, dst := range [][4]byte{stacktest.IPA, {127, 0, 0, 1}, {127, 1, 2, 3}} {
		if rc := pingSelf(t, e, dst, uint16(i)); rc != 0 {
			t.Fatalf("ping %v: %d", dst, rc)
		}
		if len(replies) != i+1 || replies[i] != dst {
			t.Fatalf("ping %v: replies from %v", dst, replies)
		}
	}
	m := e.s.SNMP
	if m.Icmp.InType[8] != 3 || m.Icmp.OutType[0] != 3 || m.Icmp.InType[0] != 3 || m.Ip.InReceives != 6 || m.Ip.InDelivers != 6 ||
		lo.D.Stats.TxPackets != 6 || len(e.dev.Sent) != 0 {
		t.Fatalf("counters %+v %d, lo %+v, %d frames on eth0", m.Ip, m.Icmp.InType[:9], lo.D.Stats, len(e.dev.Sent))
	}
	if n := e.s.Neigh.Lookup(lo.D, [4]byte{127, 0, 0, 1}); n == nil || n.State&0x40 == 0 {
		t.Fatalf("lo's neighbour: %+v, want NOARP", n)
	}
	// Martians from eth0.
	for _, ip := range []*layers.IPv4{
		{Protocol: layers.IPProtocolICMPv4, DstIP: net.IP{127, 0, 0, 1}},
		{Protocol: layers.IPProtocolICMPv4, SrcIP: net.IP{127, 0, 0, 1}},
	} {
		e.dev.Receive(frame(t, ip, echo(1, 1, nil)...))
	}
	if len(e.dev.Sent) != 0 || e.k.Drops.Reason[kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED] != 2 || e.s.SNMP.Icmp.InType[8] != 3 {
		t.Fatalf("martians: %d frames sent, drops %v", len(e.dev.Sent), e.k.Drops.Reason)
	}
	e.settle(t)
}

// TestLocalFragNeeded: a local datagram with DF above eth0's MTU (1000)
// is not sent: Output's caller gets -EMSGSIZE, FragFails and PKT_TOO_BIG
// count it, and the ICMP fragmentation needed (MTU 1000) the host sends
// itself comes back through lo to the err_handler of the protocol.
func TestLocalFragNeeded(t *testing.T) {
	e, _ := newLoEnv(t)
	e.dev.D.MTU = 1000
	var got [][4]uint32
	e.s.AddErrHandler(IPPROTO_UDP, func(ih header.IPv4, typ, code uint8, info uint32) {
		got = append(got, [4]uint32{uint32(typ), uint32(code), info, uint32(ih.Destination()[3])})
	})
	buf := gopacket.NewSerializeBuffer()
	ip := &layers.IPv4{Version: 4, TTL: 64, Flags: layers.IPv4DontFragment, Protocol: layers.IPProtocolUDP, SrcIP: net.IP(stacktest.IPA[:]), DstIP: net.IP(stacktest.IPB[:])}
	udp := &layers.UDP{SrcPort: 1, DstPort: 2}
	udp.SetNetworkLayerForChecksum(ip)
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, udp, gopacket.Payload(make([]byte, 1400))); err != nil {
		t.Fatal(err)
	}
	skb := e.k.AllocSKB(14 + len(buf.Bytes()))
	skb.Reserve(14)
	copy(skb.Put(len(buf.Bytes())), buf.Bytes())
	if rc := e.s.LocalOut(skb); rc != -EMSGSIZE {
		t.Fatalf("LocalOut: %d, want -EMSGSIZE", rc)
	}
	e.k.Clock().RunFor(time.Millisecond)
	if len(got) != 1 || got[0] != [4]uint32{3, 4, 1000, 2} {
		t.Fatalf("err_handler calls %v", got)
	}
	if m := e.s.SNMP; m.Ip.FragFails != 1 || m.Icmp.OutType[3] != 1 || m.Icmp.InType[3] != 1 || len(e.dev.Sent) != 0 ||
		e.k.Drops.Reason[kernelmodel.SKB_DROP_REASON_PKT_TOO_BIG] != 1 {
		t.Fatalf("counters %+v, %d frames on eth0", m.Ip, len(e.dev.Sent))
	}
	e.settle(t)
}

// TestLoopbackNoRateLimit: ICMP errors about packets that came in on lo
// and go back out of it are not rate limited (neither icmp_msgs_per_sec
// nor icmp_ratelimit): 20 datagrams of an unknown protocol to 127.0.0.1
// get 20 protocol unreachables, where 20 from B on eth0 get 6.
func TestLoopbackNoRateLimit(t *testing.T) {
	e, _ := newLoEnv(t)
	for i := 0; i < 20; i++ {
		skb := e.k.AllocSKB(14 + 20 + 8)
		skb.Reserve(14 + 20)
		skb.Put(8)
		e.s.Output(skb, [4]byte{}, [4]byte{127, 0, 0, 1}, 253, 0, 0)
	}
	e.k.Clock().RunFor(time.Millisecond)
	if m := e.s.SNMP.Icmp; m.OutType[3] != 20 || m.InType[3] != 20 || m.RateLimitHost != 0 || m.RateLimitGlobal != 0 || e.s.SNMP.Ip.InUnknownProtos != 20 {
		t.Fatalf("lo: %d sent, %d received, limited %d/%d", m.OutType[3], m.InType[3], m.RateLimitHost, m.RateLimitGlobal)
	}
	e.settle(t)
}

// TestLoopbackBeforeStack: a loopback device up before the stack is made
// (as the kernel's lo is at boot) is adopted with 127.0.0.1/8.
func TestLoopbackBeforeStack(t *testing.T) {
	f, err := stacktest.New(stacktest.MACA)
	if err != nil {
		t.Fatal(err)
	}
	lo, err := stacktest.NewLoopback(f.K)
	if err != nil {
		t.Fatal(err)
	}
	s := New(f.K, 1)
	if s.Loopback != lo.D || !s.hasAddr(lo.D, loopbackAddr) {
		t.Fatalf("lo not adopted: %v", s.Loopback)
	}
	if r := s.FIB.lookup([4]byte{127, 9, 9, 9}); r == nil || r.Type != RTN_LOCAL || r.Dev != lo.D {
		t.Fatalf("127.9.9.9: %+v", r)
	}
}
