package ipv4

import (
	"bytes"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/stack/internal/stacktest"
)

type env struct {
	dev *stacktest.Dev
	k   *kernelmodel.Kernel
	s   *Stack
}

// newEnv is host A (10.0.0.1/24 on eth0) that knows B's address (B's ARP
// request was answered: B's entry is STALE), with the frames sent so far
// cleared.
func newEnv(t testing.TB) *env {
	t.Helper()
	f, err := stacktest.New(stacktest.MACA)
	if err != nil {
		t.Fatal(err)
	}
	s := New(f.K, 1)
	if err := s.AddAddress(f.D, stacktest.IPA, 24); err != nil {
		t.Fatal(err)
	}
	f.Receive(arpRequest())
	if len(f.Sent) != 1 {
		t.Fatalf("ARP request from B not answered: %d frames", len(f.Sent))
	}
	f.Sent = nil
	return &env{dev: f, k: f.K, s: s}
}

func arpRequest() []byte {
	b := make([]byte, 42)
	e := header.Ethernet(b)
	e.SetDestination(stacktest.Bcast)
	e.SetSource(stacktest.MACB)
	e.SetType(header.EtherTypeARP)
	a := header.ARP(b[14:])
	a.SetIPv4OverEthernet(header.ARPOpRequest)
	a.SetSender(stacktest.MACB, stacktest.IPB)
	a.SetTarget([6]byte{}, stacktest.IPA)
	return b
}

// frame is an Ethernet frame from B to A carrying an IPv4 packet (built by
// gopacket, an independent encoder) with payload.
func frame(t testing.TB, ip *layers.IPv4, payload ...gopacket.SerializableLayer) []byte {
	t.Helper()
	if ip.Version == 0 {
		ip.Version = 4
	}
	if ip.TTL == 0 {
		ip.TTL = 64
	}
	if ip.SrcIP == nil {
		ip.SrcIP = net.IP(stacktest.IPB[:])
	}
	if ip.DstIP == nil {
		ip.DstIP = net.IP(stacktest.IPA[:])
	}
	eth := &layers.Ethernet{SrcMAC: stacktest.MACB[:], DstMAC: stacktest.MACA[:], EthernetType: layers.EthernetTypeIPv4}
	buf := gopacket.NewSerializeBuffer()
	ls := append([]gopacket.SerializableLayer{eth, ip}, payload...)
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func echo(id, seq uint16, data []byte) []gopacket.SerializableLayer {
	return []gopacket.SerializableLayer{
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: id, Seq: seq},
		gopacket.Payload(data),
	}
}

func (e *env) settle(t testing.TB) {
	t.Helper()
	e.k.Clock().RunFor(4 * time.Second)
	if err := e.k.SKBAudit(); err != nil {
		t.Fatal(err)
	}
}

// TestICMPEchoReply: an echo request is answered with the same identifier,
// sequence and data, from the address it was sent to; the reply is checked
// byte for byte against gopacket's encoding of the reply Linux sends (TTL
// ip_default_ttl, no DF, the request's TOS).
func TestICMPEchoReply(t *testing.T) {
	e := newEnv(t)
	data := []byte("0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghij") // 56 bytes, as ping
	e.dev.Receive(frame(t, &layers.IPv4{Protocol: layers.IPProtocolICMPv4, TOS: 0x10, Id: 77}, echo(0x1234, 1, data)...))
	if len(e.dev.Sent) != 1 {
		t.Fatalf("%d frames sent, want the reply", len(e.dev.Sent))
	}
	got := e.dev.Sent[0].Frame
	pkt := gopacket.NewPacket(got, layers.LayerTypeEthernet, gopacket.Default)
	ip, _ := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	if ip == nil {
		t.Fatalf("reply not IPv4: %v", pkt)
	}
	want := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(want, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		&layers.Ethernet{SrcMAC: stacktest.MACA[:], DstMAC: stacktest.MACB[:], EthernetType: layers.EthernetTypeIPv4},
		&layers.IPv4{Version: 4, IHL: 5, TOS: 0x10, Id: ip.Id, TTL: 64, Protocol: layers.IPProtocolICMPv4, SrcIP: net.IP(stacktest.IPA[:]), DstIP: net.IP(stacktest.IPB[:])},
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoReply, 0), Id: 0x1234, Seq: 1},
		gopacket.Payload(data))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("reply\n got %x\nwant %x", got, want.Bytes())
	}
	m := &e.s.SNMP
	if m.Ip.InReceives != 1 || m.Ip.InDelivers != 1 || m.Ip.OutRequests != 1 || m.Icmp.InMsgs != 1 ||
		m.Icmp.InType[8] != 1 || m.Icmp.OutMsgs != 1 || m.Icmp.OutType[0] != 1 {
		t.Fatalf("counters %+v %+v", m.Ip, m.Icmp)
	}
	var sb strings.Builder
	if err := e.s.WriteSNMP(&sb); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"Ip: 2 64 1 0 0 0 0 0 1 1 0 0 0 0 0 0 0 0 0\n",
		"Icmp: 1 0 0 0 0 0 0 0 1 0 0 0 0 0 1 0 0 0 0 0 0 0 1 0 0 0 0\n",
		"IcmpMsg: InType8 OutType0\nIcmpMsg: 1 1\n",
	} {
		if !strings.Contains(sb.String(), line) {
			t.Fatalf("snmp lacks %q:\n%s", line, sb.String())
		}
	}
	e.settle(t)
}

// TestIPRcvDrops: each malformed or unwanted packet is dropped under its
// kfree_skb reason and counted under its /proc/net/snmp name, and nothing
// else is counted.
func TestIPRcvDrops(t *testing.T) {
	good := func(t testing.TB) []byte {
		return frame(t, &layers.IPv4{Protocol: layers.IPProtocolICMPv4}, echo(1, 1, make([]byte, 32))...)
	}
	fixsum := func(f []byte) {
		h := header.IPv4(f[14:])
		h.SetChecksum(0)
		h.SetChecksum(h.CalculateChecksum())
	}
	for _, tc := range []struct {
		name   string
		frame  func(t testing.TB) []byte
		reason kernelmodel.DropReason
		count  func(s *SNMP) uint64
		reply  int // frames A sends back
	}{
		{"truncated header", func(t testing.TB) []byte { return good(t)[:14+12] },
			kernelmodel.SKB_DROP_REASON_IP_INHDR, func(s *SNMP) uint64 { return s.Ip.InHdrErrors }, 0},
		{"version 6", func(t testing.TB) []byte { f := good(t); f[14] = 0x65; fixsum(f); return f },
			kernelmodel.SKB_DROP_REASON_IP_INHDR, func(s *SNMP) uint64 { return s.Ip.InHdrErrors }, 0},
		{"IHL 4", func(t testing.TB) []byte { f := good(t); f[14] = 0x44; return f },
			kernelmodel.SKB_DROP_REASON_IP_INHDR, func(s *SNMP) uint64 { return s.Ip.InHdrErrors }, 0},
		{"IHL beyond the packet", func(t testing.TB) []byte { f := good(t)[:14+40]; f[14] = 0x4f; return f },
			kernelmodel.SKB_DROP_REASON_IP_INHDR, func(s *SNMP) uint64 { return s.Ip.InHdrErrors }, 0},
		{"bad header checksum", func(t testing.TB) []byte { f := good(t); f[14+10] ^= 0x55; return f },
			kernelmodel.SKB_DROP_REASON_IP_CSUM, func(s *SNMP) uint64 { return s.IpExt.InCsumErrors + s.Ip.InHdrErrors - 1 }, 0},
		{"total length beyond the frame", func(t testing.TB) []byte {
			f := good(t)
			header.IPv4(f[14:]).SetTotalLength(1500)
			fixsum(f)
			return f
		}, kernelmodel.SKB_DROP_REASON_PKT_TOO_SMALL, func(s *SNMP) uint64 { return s.IpExt.InTruncatedPkts }, 0},
		{"total length below the header", func(t testing.TB) []byte {
			f := good(t)
			header.IPv4(f[14:]).SetTotalLength(12)
			fixsum(f)
			return f
		}, kernelmodel.SKB_DROP_REASON_IP_INHDR, func(s *SNMP) uint64 { return s.Ip.InHdrErrors }, 0},
		{"other host", func(t testing.TB) []byte { f := good(t); f[5] ^= 1; return f },
			kernelmodel.SKB_DROP_REASON_OTHERHOST, func(s *SNMP) uint64 { return 1 - s.Ip.InReceives }, 0},
		{"not our address", func(t testing.TB) []byte {
			return frame(t, &layers.IPv4{Protocol: layers.IPProtocolICMPv4, DstIP: net.IP{10, 0, 0, 9}}, echo(1, 1, nil)...)
		}, kernelmodel.SKB_DROP_REASON_IP_INADDRERRORS, func(s *SNMP) uint64 { return s.Ip.InAddrErrors }, 0},
		{"unknown protocol", func(t testing.TB) []byte {
			return frame(t, &layers.IPv4{Protocol: 253}, gopacket.Payload(make([]byte, 20)))
		}, kernelmodel.SKB_DROP_REASON_IP_NOPROTO, func(s *SNMP) uint64 { return s.Ip.InUnknownProtos * s.Icmp.OutType[3] }, 1},
		{"martian: our own source", func(t testing.TB) []byte {
			return frame(t, &layers.IPv4{Protocol: 253, SrcIP: net.IP(stacktest.IPA[:])}, gopacket.Payload(make([]byte, 8)))
		}, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED, func(s *SNMP) uint64 { return s.Ip.InReceives - s.Ip.InDelivers - s.Ip.InUnknownProtos }, 0},
		{"fragment beyond 65535 bytes", func(t testing.TB) []byte {
			return frame(t, &layers.IPv4{Protocol: layers.IPProtocolICMPv4, FragOffset: 8190}, gopacket.Payload(make([]byte, 32)))
		}, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED, func(s *SNMP) uint64 { return s.Ip.ReasmFails }, 0},
		{"ICMP checksum", func(t testing.TB) []byte { f := good(t); f[14+20+2] ^= 1; return f },
			kernelmodel.SKB_DROP_REASON_ICMP_CSUM, func(s *SNMP) uint64 { return s.Icmp.InCsumErrors * s.Icmp.InErrors }, 0},
		{"broadcast echo", func(t testing.TB) []byte {
			return frame(t, &layers.IPv4{Protocol: layers.IPProtocolICMPv4, DstIP: net.IP{10, 0, 0, 255}}, echo(1, 1, nil)...)
		}, kernelmodel.SKB_DROP_REASON_INVALID_PROTO, func(s *SNMP) uint64 { return s.Icmp.InErrors }, 0},
		{"short ICMP", func(t testing.TB) []byte {
			return frame(t, &layers.IPv4{Protocol: layers.IPProtocolICMPv4}, gopacket.Payload([]byte{0xff, 0xff}))
		}, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED, func(s *SNMP) uint64 { return s.Icmp.InErrors }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.dev.Receive(tc.frame(t))
			for r, n := range e.k.Drops.Reason {
				want := uint64(0)
				if kernelmodel.DropReason(r) == tc.reason {
					want = 1
				}
				if n != want {
					t.Errorf("drop reason %v: %d, want %d", kernelmodel.DropReason(r), n, want)
				}
			}
			if c := tc.count(&e.s.SNMP); c != 1 {
				t.Errorf("counter %d, want 1: %+v %+v %+v", c, e.s.SNMP.Ip, e.s.SNMP.IpExt, e.s.SNMP.Icmp)
			}
			if len(e.dev.Sent) != tc.reply {
				t.Errorf("%d frames sent, want %d", len(e.dev.Sent), tc.reply)
			}
			e.settle(t)
		})
	}
}

// TestIPRcvAccepts: TTL 0 is delivered to the host (Linux checks TTL only
// when forwarding), Ethernet padding is trimmed to the total length, a
// packet with options is delivered.
func TestIPRcvAccepts(t *testing.T) {
	e := newEnv(t)
	e.dev.Receive(frame(t, &layers.IPv4{Protocol: layers.IPProtocolICMPv4, TTL: 0}, echo(9, 9, nil)...))
	f := frame(t, &layers.IPv4{Protocol: layers.IPProtocolICMPv4, TTL: 1}, echo(9, 10, nil)...)
	e.dev.Receive(append(f, make([]byte, 60-len(f))...)) // padded to 60
	opt := frame(t, &layers.IPv4{Protocol: layers.IPProtocolICMPv4, Options: []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 0}}}, echo(9, 11, nil)...)
	e.dev.Receive(opt)
	if len(e.dev.Sent) != 3 {
		t.Fatalf("%d replies, want 3", len(e.dev.Sent))
	}
	for i, s := range e.dev.Sent {
		if l := len(s.Frame); l != 14+20+8 {
			t.Fatalf("reply %d is %d bytes, want 42 (padding not trimmed?)", i, l)
		}
	}
	e.settle(t)
}

// TestICMPProtUnreach: an unknown protocol gets a destination unreachable
// (protocol) quoting the IP header and data, with precedence
// internetcontrol.
func TestICMPProtUnreach(t *testing.T) {
	e := newEnv(t)
	in := frame(t, &layers.IPv4{Protocol: 253, TOS: 0x08}, gopacket.Payload(bytes.Repeat([]byte{0xab}, 30)))
	e.dev.Receive(in)
	if len(e.dev.Sent) != 1 {
		t.Fatalf("%d frames", len(e.dev.Sent))
	}
	out := e.dev.Sent[0].Frame
	pkt := gopacket.NewPacket(out, layers.LayerTypeEthernet, gopacket.Default)
	ip := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	ic := pkt.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4)
	if ip.TOS != 0xc8 || !ip.DstIP.Equal(net.IP(stacktest.IPB[:])) || ic.TypeCode != layers.CreateICMPv4TypeCode(3, 2) {
		t.Fatalf("ICMP error: tos %#x dst %v type %v", ip.TOS, ip.DstIP, ic.TypeCode)
	}
	if !bytes.Equal(ic.Payload, in[14:]) {
		t.Fatalf("quoted %x, want %x", ic.Payload, in[14:])
	}
	if header.ICMPv4(out[34:]).Checksum() == 0 || !header.IPv4(out[14:]).ChecksumValid() {
		t.Fatal("checksums")
	}
	e.settle(t)
}

// TestICMPRateLimit: destination unreachables to one peer are limited by
// icmp_ratelimit (1000 ms) with a burst of 6 (XRLIM_BURST_FACTOR), then one
// per second; the global icmp_msgs_per_sec bucket (burst 50) limits many
// peers together.
func TestICMPRateLimit(t *testing.T) {
	e := newEnv(t)
	unknown := frame(t, &layers.IPv4{Protocol: 253}, gopacket.Payload(make([]byte, 8)))
	for i := 0; i < 20; i++ {
		e.dev.Receive(unknown)
	}
	if n := len(e.dev.Sent); n != 6 || e.s.SNMP.Icmp.RateLimitHost != 14 {
		t.Fatalf("burst: %d sent, %d limited; want 6 and 14", n, e.s.SNMP.Icmp.RateLimitHost)
	}
	e.k.Clock().RunFor(999 * time.Millisecond)
	e.dev.Receive(unknown)
	e.k.Clock().RunFor(2 * time.Millisecond)
	e.dev.Receive(unknown)
	e.dev.Receive(unknown)
	if n := len(e.dev.Sent); n != 7 {
		t.Fatalf("after 1 s: %d sent, want 7", n)
	}
	e.settle(t)
	// Global: 200 peers at once.
	g := newEnv(t)
	for i := 0; i < 200; i++ {
		src := net.IP{10, 0, 0, byte(3 + i%200)}
		g.dev.Receive(frame(t, &layers.IPv4{Protocol: 253, SrcIP: src}, gopacket.Payload(make([]byte, 8))))
	}
	sent := g.s.SNMP.Icmp.OutType[3]
	if sent < 25 || sent > 100 || sent+g.s.SNMP.Icmp.RateLimitGlobal != 200 {
		t.Fatalf("global: %d sent, %d limited", sent, g.s.SNMP.Icmp.RateLimitGlobal)
	}
	g.settle(t)
}

// TestRoutes: longest prefix match over local, connected, gateway and
// default routes, and the ip route listing of both tables.
func TestRoutes(t *testing.T) {
	e := newEnv(t)
	d := e.dev.D
	if err := e.s.AddRoute([4]byte{}, 0, [4]byte{10, 0, 0, 254}, d, 0); err != nil {
		t.Fatal(err)
	}
	if err := e.s.AddRoute([4]byte{192, 168, 0, 0}, 16, [4]byte{10, 0, 0, 253}, d, 0); err != nil {
		t.Fatal(err)
	}
	if err := e.s.AddRoute([4]byte{192, 168, 7, 0}, 24, [4]byte{10, 0, 0, 252}, d, 0); err != nil {
		t.Fatal(err)
	}
	if err := e.s.AddRoute([4]byte{192, 168, 7, 0}, 24, [4]byte{10, 0, 0, 252}, d, 0); err == nil {
		t.Fatal("a duplicate route was added")
	}
	for _, tc := range []struct {
		dst  [4]byte
		typ  int
		plen int
		gw   [4]byte
	}{
		{stacktest.IPA, RTN_LOCAL, 32, [4]byte{}},
		{[4]byte{10, 0, 0, 255}, RTN_BROADCAST, 32, [4]byte{}},
		{stacktest.IPB, RTN_UNICAST, 24, [4]byte{}},
		{[4]byte{192, 168, 7, 9}, RTN_UNICAST, 24, [4]byte{10, 0, 0, 252}},
		{[4]byte{192, 168, 8, 9}, RTN_UNICAST, 16, [4]byte{10, 0, 0, 253}},
		{[4]byte{8, 8, 8, 8}, RTN_UNICAST, 0, [4]byte{10, 0, 0, 254}},
	} {
		r := e.s.FIB.lookup(tc.dst)
		if r == nil || r.Type != tc.typ || r.PrefixLen != tc.plen || r.Gateway != tc.gw {
			t.Errorf("lookup %v: %+v", tc.dst, r)
		}
	}
	var main, local strings.Builder
	e.s.FIB.WriteRoutes(&main, RT_TABLE_MAIN)
	e.s.FIB.WriteRoutes(&local, RT_TABLE_LOCAL)
	wantMain := "default via 10.0.0.254 dev eth0\n" +
		"10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1\n" +
		"192.168.0.0/16 via 10.0.0.253 dev eth0\n" +
		"192.168.7.0/24 via 10.0.0.252 dev eth0\n"
	wantLocal := "local 10.0.0.1 dev eth0 proto kernel scope host src 10.0.0.1\n" +
		"broadcast 10.0.0.255 dev eth0 proto kernel scope link src 10.0.0.1\n"
	if main.String() != wantMain || local.String() != wantLocal {
		t.Fatalf("ip route:\n%s\nip route show table local:\n%s", main.String(), local.String())
	}
	// Output through the gateway resolves the gateway, not the destination.
	skb := e.k.AllocSKB(64)
	skb.Reserve(34)
	skb.Put(8)
	e.s.Output(skb, [4]byte{}, [4]byte{8, 8, 8, 8}, 253, 0, 0)
	if e.s.Neigh.Lookup(d, [4]byte{10, 0, 0, 254}) == nil || e.s.Neigh.Lookup(d, [4]byte{8, 8, 8, 8}) != nil {
		t.Fatal("gateway not used as the next hop")
	}
	// No route: OutNoRoutes.
	e.s.FIB.Delete(RT_TABLE_MAIN, [4]byte{}, 0)
	skb = e.k.AllocSKB(64)
	skb.Reserve(34)
	skb.Put(8)
	if rc := e.s.Output(skb, [4]byte{}, [4]byte{8, 8, 8, 8}, 253, 0, 0); rc != -ENETUNREACH || e.s.SNMP.Ip.OutNoRoutes != 1 {
		t.Fatalf("no route: rc %d, OutNoRoutes %d", rc, e.s.SNMP.Ip.OutNoRoutes)
	}
	e.settle(t)
}

// BenchmarkIPRcvEcho is the receive path of an echo request through
// netif_receive_skb, ip_rcv, icmp_rcv and the reply through the cached
// neighbour header to the device: no allocation per packet.
func BenchmarkIPRcvEcho(b *testing.B) {
	e := newEnv(b)
	benchEcho(b, e)
}

// benchEcho runs echo requests through e (B reachable, 100 to warm the
// pool, then b.N timed) and checks that each was answered.
func benchEcho(b *testing.B, e *env) {
	e.dev.Record = false
	req := frame(b, &layers.IPv4{Protocol: layers.IPProtocolICMPv4}, echo(1, 1, make([]byte, 56))...)
	e.dev.Receive(arpReply()) // B REACHABLE: replies use neigh_hh_output
	for i := 0; i < 100; i++ {
		e.dev.Receive(req)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.dev.Receive(req)
	}
	b.StopTimer()
	if e.s.SNMP.Icmp.OutType[0] != uint64(b.N+100) {
		b.Fatalf("%d replies for %d requests", e.s.SNMP.Icmp.OutType[0], b.N+100)
	}
}

func arpReply() []byte {
	f := arpRequest()
	header.Ethernet(f).SetDestination(stacktest.MACA)
	a := header.ARP(f[14:])
	a.SetIPv4OverEthernet(header.ARPOpReply)
	a.SetTarget(stacktest.MACA, stacktest.IPA)
	return f
}

// TestLinkDownUp: ip link set down removes the routes through the device
// (fib_disable_ip) and its neighbours with their queued packets
// (neigh_ifdown); up brings the routes of its addresses back; an address
// added while down gets only its local route until then.
func TestLinkDownUp(t *testing.T) {
	e := newEnv(t)
	d := e.dev.D
	listing := func() string {
		var sb strings.Builder
		e.s.FIB.WriteRoutes(&sb, RT_TABLE_LOCAL)
		e.s.FIB.WriteRoutes(&sb, RT_TABLE_MAIN)
		return sb.String()
	}
	before := listing()
	skb := e.k.AllocSKB(64)
	skb.Reserve(34)
	skb.Put(8)
	e.s.Output(skb, [4]byte{}, [4]byte{10, 0, 0, 3}, 253, 0, 0) // waits for ARP
	run := func(fn func(*kernelmodel.Task) error) {
		e.k.Spawn(0, "ip-link", func(tk *kernelmodel.Task) {
			if err := fn(tk); err != nil {
				t.Error(err)
			}
		})
		e.k.Clock().RunFor(time.Millisecond)
	}
	run(d.DevClose)
	if got := listing(); got != "" || len(e.s.Neigh.Entries()) != 0 || e.k.SKBsInUse() != 0 {
		t.Fatalf("after down: routes %q, %d neighbours, %d skbs", got, len(e.s.Neigh.Entries()), e.k.SKBsInUse())
	}
	if err := e.s.AddAddress(d, [4]byte{192, 168, 1, 1}, 24); err != nil {
		t.Fatal(err)
	}
	if got := listing(); got != "local 192.168.1.1 dev eth0 proto kernel scope host src 192.168.1.1\n" {
		t.Fatalf("address added while down: %q", got)
	}
	run(d.DevOpen)
	want := "local 10.0.0.1 dev eth0 proto kernel scope host src 10.0.0.1\n" +
		"broadcast 10.0.0.255 dev eth0 proto kernel scope link src 10.0.0.1\n" +
		"local 192.168.1.1 dev eth0 proto kernel scope host src 192.168.1.1\n" +
		"broadcast 192.168.1.255 dev eth0 proto kernel scope link src 192.168.1.1\n" +
		"10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1\n" +
		"192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.1\n"
	if got := listing(); got != want || !strings.HasPrefix(want, before[:strings.Index(before, "\n")+1]) {
		t.Fatalf("after up:\n%s\nwant\n%s", got, want)
	}
	e.settle(t)
}

// TestSysctlNames: the tunables read Linux's defaults under their sysctl
// names and set what the stack uses (a lower icmp_ratelimit lets more
// unreachables through; retrans_time_ms moves the ARP retry).
func TestSysctlNames(t *testing.T) {
	e := newEnv(t)
	for name, want := range map[string]int{
		"net.ipv4.ip_default_ttl": 64, "net.ipv4.icmp_ratelimit": 1000, "net.ipv4.icmp_msgs_per_sec": 1000,
		"net.ipv4.icmp_ratemask": 0x1818, "net.ipv4.icmp_echo_ignore_broadcasts": 1,
		"net.ipv4.neigh.default.base_reachable_time_ms": 30000, "net.ipv4.neigh.default.base_reachable_time": 30,
		"net.ipv4.neigh.default.retrans_time_ms": 1000, "net.ipv4.neigh.default.delay_first_probe_time": 5,
		"net.ipv4.neigh.default.ucast_solicit": 3, "net.ipv4.neigh.default.mcast_solicit": 3,
		"net.ipv4.neigh.default.unres_qlen_bytes": 212992, "net.ipv4.conf.all.arp_notify": 0,
	} {
		if got, err := e.s.GetSysctl(name); err != nil || got != want {
			t.Errorf("%s = %d (%v), want %d", name, got, err, want)
		}
	}
	if _, err := e.s.GetSysctl("net.ipv4.nonsense"); err == nil {
		t.Error("unknown name accepted")
	}
	if err := e.s.SetSysctl("net.ipv4.neigh.default.retrans_time_ms", 250); err != nil {
		t.Fatal(err)
	}
	t0 := e.k.Clock().Now()
	skb := e.k.AllocSKB(64)
	skb.Reserve(34)
	skb.Put(8)
	e.s.Output(skb, [4]byte{}, [4]byte{10, 0, 0, 3}, 253, 0, 0)
	e.k.Clock().RunUntil(t0 + 251*time.Millisecond)
	if len(e.dev.Sent) != 2 {
		t.Fatalf("retrans_time_ms 250: %d requests after 251 ms, want 2", len(e.dev.Sent))
	}
	if err := e.s.SetSysctl("net.ipv4.icmp_ratelimit", 0); err != nil {
		t.Fatal(err)
	}
	e.dev.Sent = nil
	for i := 0; i < 20; i++ {
		e.dev.Receive(frame(t, &layers.IPv4{Protocol: 253}, gopacket.Payload(make([]byte, 8))))
	}
	if len(e.dev.Sent) != 20 {
		t.Fatalf("icmp_ratelimit 0: %d of 20 unreachables sent", len(e.dev.Sent))
	}
	e.settle(t)
}

// fragments splits an ICMP echo of n data bytes from B into IP fragments of
// at most size payload bytes (a multiple of 8), as B would send them.
func fragments(t testing.TB, id uint16, n, size int) (frames [][]byte, whole []byte) {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i * 7)
	}
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, echo(3, 4, data)...); err != nil {
		t.Fatal(err)
	}
	whole = buf.Bytes()
	for off := 0; off < len(whole); off += size {
		end := min(off+size, len(whole))
		ip := &layers.IPv4{Protocol: layers.IPProtocolICMPv4, Id: id, FragOffset: uint16(off / 8)}
		if end < len(whole) {
			ip.Flags = layers.IPv4MoreFragments
		}
		frames = append(frames, frame(t, ip, gopacket.Payload(whole[off:end])))
	}
	return frames, whole
}

// TestIPDefrag: fragments in order or reversed are reassembled and the
// echo answered with all the data; an overlapping fragment kills the queue;
// a datagram missing a fragment expires at ipfrag_time (30 s) exactly, with
// ReasmTimeout and an ICMP time exceeded (fragment reassembly) quoting the
// first fragment.
func TestIPDefrag(t *testing.T) {
	for _, reverse := range []bool{false, true} {
		e := newEnv(t)
		frs, whole := fragments(t, 100, 1200, 512)
		if reverse {
			for i, j := 0, len(frs)-1; i < j; i, j = i+1, j-1 {
				frs[i], frs[j] = frs[j], frs[i]
			}
		}
		for _, f := range frs {
			e.dev.Receive(f)
		}
		m := &e.s.SNMP.Ip
		if m.ReasmReqds != 3 || m.ReasmOKs != 1 || m.InDelivers != 1 || len(e.dev.Sent) != 1 {
			t.Fatalf("reverse %v: %+v, %d frames", reverse, *m, len(e.dev.Sent))
		}
		reply := e.dev.Sent[0].Frame[34:]
		if len(reply) != len(whole) || reply[0] != 0 || !bytes.Equal(reply[4:], whole[4:]) {
			t.Fatalf("reverse %v: reply of %d bytes does not carry the reassembled request", reverse, len(reply))
		}
		e.settle(t)
	}
	e := newEnv(t)
	frs, _ := fragments(t, 101, 3000, 1480)
	e.dev.Receive(frs[0])
	over := frame(t, &layers.IPv4{Protocol: layers.IPProtocolICMPv4, Id: 101, FragOffset: 1472 / 8, Flags: layers.IPv4MoreFragments}, gopacket.Payload(make([]byte, 16)))
	e.dev.Receive(over)
	if q, _ := e.s.FragMem(); q != 0 || e.s.SNMP.Ip.ReasmFails != 1 {
		t.Fatalf("overlap: %d queues, ReasmFails %d", q, e.s.SNMP.Ip.ReasmFails)
	}
	e.dev.Receive(frs[2]) // a new queue, never complete
	e.dev.Receive(frs[0])
	t0 := e.k.Clock().Now()
	e.k.Clock().RunUntil(t0 + 30*time.Second - time.Millisecond)
	if q, _ := e.s.FragMem(); q != 1 || e.s.SNMP.Ip.ReasmTimeout != 0 {
		t.Fatal("expired before ipfrag_time")
	}
	e.dev.Sent = nil
	e.k.Clock().RunUntil(t0 + 30*time.Second + time.Millisecond)
	if q, b := e.s.FragMem(); q != 0 || b != 0 || e.s.SNMP.Ip.ReasmTimeout != 1 || e.s.SNMP.Ip.ReasmFails != 2 {
		t.Fatalf("after ipfrag_time: %d queues %d bytes, %+v", q, b, e.s.SNMP.Ip)
	}
	if len(e.dev.Sent) != 1 {
		t.Fatalf("%d frames at expiry, want the time exceeded", len(e.dev.Sent))
	}
	ic := header.ICMPv4(e.dev.Sent[0].Frame[34:])
	if ic.Type() != header.ICMPv4TimeExceeded || ic.Code() != 1 || !bytes.Equal(e.dev.Sent[0].Frame[42:42+20], frs[0][14:34]) {
		t.Fatalf("time exceeded %d/%d quoting %x", ic.Type(), ic.Code(), e.dev.Sent[0].Frame[42:62])
	}
	e.settle(t)
}
