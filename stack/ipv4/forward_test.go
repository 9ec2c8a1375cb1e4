package ipv4_test

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
	"github.com/nicbed/nicbed/stack/ipv4"
)

// The three-host network of the forwarding tests: A — R — B, R a router
// with two interfaces, A and B with default routes through it.
var (
	ipA   = [4]byte{10, 0, 1, 1}
	ipRA  = [4]byte{10, 0, 1, 254}
	ipRB  = [4]byte{10, 0, 2, 254}
	ipB   = [4]byte{10, 0, 2, 1}
	macA  = [6]byte{2, 0, 0, 0, 1, 1}
	macRA = [6]byte{2, 0, 0, 0, 1, 0xfe}
	macRB = [6]byte{2, 0, 0, 0, 2, 0xfe}
	macB  = [6]byte{2, 0, 0, 0, 2, 1}
)

type host struct {
	k *kernelmodel.Kernel
	s *ipv4.Stack
}

type triple struct {
	n       *stacktest.Net
	a, r, b host
	// a0 is A's end of the A–R link, ra R's; rb and b0 those of R–B.
	a0, ra, rb, b0 *stacktest.Port
}

func newTriple(t *testing.T) *triple {
	t.Helper()
	n := stacktest.NewNet()
	t.Cleanup(n.Close)
	tr := &triple{n: n}
	for i, h := range []*host{&tr.a, &tr.r, &tr.b} {
		h.k = n.Host([]string{"A", "R", "B"}[i])
		h.s = ipv4.New(h.k, uint64(i+1))
	}
	var err error
	if tr.a0, tr.ra, err = n.Link(tr.a.k, "eth0", macA, tr.r.k, "eth0", macRA); err != nil {
		t.Fatal(err)
	}
	if tr.rb, tr.b0, err = n.Link(tr.r.k, "eth1", macRB, tr.b.k, "eth0", macB); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(tr.a.s.AddAddress(tr.a0.D, ipA, 24))
	must(tr.r.s.AddAddress(tr.ra.D, ipRA, 24))
	must(tr.r.s.AddAddress(tr.rb.D, ipRB, 24))
	must(tr.b.s.AddAddress(tr.b0.D, ipB, 24))
	must(tr.a.s.AddRoute([4]byte{}, 0, ipRA, nil, 0))
	must(tr.b.s.AddRoute([4]byte{}, 0, ipRB, nil, 0))
	must(tr.r.s.SetSysctl("net.ipv4.ip_forward", 1))
	return tr
}

// send hands a whole IPv4 datagram (gopacket's encoding of ip and the
// layers after it) to h's LocalOut from a task and returns its code.
func (tr *triple) send(t *testing.T, h host, ip *layers.IPv4, ls ...gopacket.SerializableLayer) int {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	ip.Version, ip.IHL = 4, 5
	if ip.TTL == 0 {
		ip.TTL = 64
	}
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, append([]gopacket.SerializableLayer{ip}, ls...)...); err != nil {
		t.Fatal(err)
	}
	pkt := buf.Bytes()
	rc, done := 0, false
	h.k.Spawn(0, "send", func(*kernelmodel.Task) {
		skb := h.k.AllocSKB(kernelmodel.ETH_HLEN + len(pkt))
		skb.Reserve(kernelmodel.ETH_HLEN)
		copy(skb.Put(len(pkt)), pkt)
		rc = h.s.LocalOut(skb)
		done = true
	})
	tr.n.Clock.RunWhile(func() bool { return !done }, tr.n.Clock.Now()+time.Second)
	if !done {
		t.Fatal("send did not run")
	}
	return rc
}

func echoReq(id, seq uint16, data []byte) []gopacket.SerializableLayer {
	return []gopacket.SerializableLayer{
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: id, Seq: seq},
		gopacket.Payload(data),
	}
}

// icmpMsg is a received ICMP message, decoded by gopacket.
type icmpMsg struct {
	ip   *layers.IPv4
	icmp *layers.ICMPv4
	raw  []byte // the IP datagram
}

// icmps are the ICMP messages among frames (reassembled: only whole
// datagrams are decoded).
func icmps(t *testing.T, frames []stacktest.Sent) []icmpMsg {
	t.Helper()
	var out []icmpMsg
	for _, f := range frames {
		p := gopacket.NewPacket(f.Frame, layers.LayerTypeEthernet, gopacket.Default)
		ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		ic, _ := p.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4)
		if ip == nil || ic == nil || ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0 {
			continue
		}
		if !header.IPv4(f.Frame[14:]).ChecksumValid() {
			t.Fatalf("ICMP message with a bad IP header checksum: %x", f.Frame)
		}
		out = append(out, icmpMsg{ip, ic, f.Frame[14:]})
	}
	return out
}

func ip4(a [4]byte) net.IP { return net.IP(a[:]) }

// TestForward: A pings B through R. The request reaches B with TTL 63 and
// a header checksum that is valid (updated incrementally by R), the reply
// comes back, and R counts both as ForwDatagrams; no skb is left on any
// host.
func TestForward(t *testing.T) {
	tr := newTriple(t)
	data := []byte("0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghij")
	for seq := uint16(1); seq <= 3; seq++ {
		if rc := tr.send(t, tr.a, &layers.IPv4{SrcIP: ip4(ipA), DstIP: ip4(ipB), Protocol: layers.IPProtocolICMPv4}, echoReq(7, seq, data)...); rc != 0 {
			t.Fatalf("send: %d", rc)
		}
		tr.n.Clock.RunFor(10 * time.Millisecond)
	}
	req := icmps(t, tr.b0.Received)
	rep := icmps(t, tr.a0.Received)
	if len(req) != 3 || len(rep) != 3 {
		t.Fatalf("B got %d requests, A %d replies; want 3 each", len(req), len(rep))
	}
	for i := range req {
		if req[i].ip.TTL != 63 || req[i].icmp.TypeCode.Type() != layers.ICMPv4TypeEchoRequest || !bytes.Equal(req[i].icmp.Payload, data) {
			t.Fatalf("request at B: TTL %d %v", req[i].ip.TTL, req[i].icmp.TypeCode)
		}
		if rep[i].ip.TTL != 63 || rep[i].icmp.TypeCode.Type() != layers.ICMPv4TypeEchoReply || rep[i].icmp.Seq != uint16(i+1) ||
			!rep[i].ip.SrcIP.Equal(ip4(ipB)) || !bytes.Equal(rep[i].icmp.Payload, data) {
			t.Fatalf("reply at A: TTL %d %v from %v", rep[i].ip.TTL, rep[i].icmp.TypeCode, rep[i].ip.SrcIP)
		}
	}
	if m := tr.r.s.SNMP.Ip; m.ForwDatagrams != 6 || m.InReceives != 6 || m.InDelivers != 0 || m.OutRequests != 6 {
		t.Fatalf("R's counters %+v", m)
	}
	var sb strings.Builder
	if err := tr.r.s.WriteSNMP(&sb); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(strings.SplitN(sb.String(), "\n", 3)[1], "Ip: 1 64 ") {
		t.Fatalf("R's Forwarding column is not 1:\n%s", sb.String())
	}
	settle(t, tr)
}

func settle(t *testing.T, tr *triple) {
	t.Helper()
	tr.n.Clock.RunFor(40 * time.Second) // neighbour timers
	for _, h := range []host{tr.a, tr.r, tr.b} {
		if err := h.k.SKBAudit(); err != nil {
			t.Fatalf("%s: %v", h.k.Name, err)
		}
	}
}

// TestForwardTTLExpiry: a datagram reaching R with TTL 1 is not forwarded:
// R counts it under InHdrErrors (drop reason IP_INHDR) and A gets an ICMP
// time exceeded (type 11 code 0) from R's address on A's link, quoting
// A's IP header and first 8 bytes as sent.
func TestForwardTTLExpiry(t *testing.T) {
	tr := newTriple(t)
	before := tr.r.k.Drops.Reason[kernelmodel.SKB_DROP_REASON_IP_INHDR]
	tr.send(t, tr.a, &layers.IPv4{SrcIP: ip4(ipA), DstIP: ip4(ipB), Protocol: layers.IPProtocolICMPv4, TTL: 1}, echoReq(9, 1, []byte("ttl"))...)
	tr.n.Clock.RunFor(10 * time.Millisecond)
	if n := len(icmps(t, tr.b0.Received)); n != 0 {
		t.Fatalf("B got %d ICMP messages", n)
	}
	got := icmps(t, tr.a0.Received)
	if len(got) != 1 {
		t.Fatalf("A got %d ICMP messages, want the time exceeded", len(got))
	}
	m := got[0]
	if m.icmp.TypeCode != layers.CreateICMPv4TypeCode(layers.ICMPv4TypeTimeExceeded, layers.ICMPv4CodeTTLExceeded) ||
		!m.ip.SrcIP.Equal(ip4(ipRA)) || !m.ip.DstIP.Equal(ip4(ipA)) || m.ip.TOS != 0xc0 || m.ip.TTL != 64 {
		t.Fatalf("time exceeded: %v from %v to %v tos %#x", m.icmp.TypeCode, m.ip.SrcIP, m.ip.DstIP, m.ip.TOS)
	}
	sent := tr.a0.Sent[len(tr.a0.Sent)-1].Frame[14:]
	if q := m.icmp.Payload; len(q) != len(sent) || !bytes.Equal(q, sent) {
		t.Fatalf("quoted %x, A sent %x", q, sent)
	}
	if tr.r.s.SNMP.Ip.InHdrErrors != 1 || tr.r.s.SNMP.Ip.ForwDatagrams != 0 || tr.r.s.SNMP.Icmp.OutType[11] != 1 ||
		tr.r.k.Drops.Reason[kernelmodel.SKB_DROP_REASON_IP_INHDR]-before != 1 {
		t.Fatalf("R: %+v", tr.r.s.SNMP.Ip)
	}
	settle(t, tr)
}

// TestForwardFragNeeded: R's link to B has MTU 1000. A 1400-byte datagram
// with DF is refused by R (FragFails, PKT_TOO_BIG) with an ICMP
// fragmentation needed carrying 1000; A learns the path MTU (PMTU) from
// it. The same datagram without DF is fragmented by R on the way (two
// fragments within 1000 bytes, FragCreates) and B's reply, fragmented by B,
// comes back whole. After A learned the path MTU it fragments itself.
func TestForwardFragNeeded(t *testing.T) {
	tr := newTriple(t)
	tr.rb.D.MTU, tr.b0.D.MTU = 1000, 1000
	data := make([]byte, 1400-28)
	for i := range data {
		data[i] = byte(i)
	}
	tr.send(t, tr.a, &layers.IPv4{SrcIP: ip4(ipA), DstIP: ip4(ipB), Protocol: layers.IPProtocolICMPv4, Flags: layers.IPv4DontFragment}, echoReq(9, 1, data)...)
	tr.n.Clock.RunFor(10 * time.Millisecond)
	got := icmps(t, tr.a0.Received)
	if len(got) != 1 || got[0].icmp.TypeCode != layers.CreateICMPv4TypeCode(layers.ICMPv4TypeDestinationUnreachable, layers.ICMPv4CodeFragmentationNeeded) ||
		!got[0].ip.SrcIP.Equal(ip4(ipRA)) || got[0].icmp.Seq != 1000 || got[0].icmp.Id != 0 {
		t.Fatalf("A got %d ICMP messages, want a fragmentation needed with MTU 1000: %+v", len(got), got)
	}
	if m := tr.r.s.SNMP.Ip; m.FragFails != 1 || m.ForwDatagrams != 0 || tr.r.k.Drops.Reason[kernelmodel.SKB_DROP_REASON_PKT_TOO_BIG] != 1 {
		t.Fatalf("R: %+v", m)
	}
	if p := tr.a.s.PMTU(ipB); p != 1000 {
		t.Fatalf("A's path MTU to B is %d, want 1000", p)
	}
	if p := tr.a.s.PMTU(ipRA); p != 1500 {
		t.Fatalf("A's path MTU to R is %d, want 1500", p)
	}

	// Without DF, from a fresh A (no path MTU learned): R fragments.
	tr2 := newTriple(t)
	tr2.rb.D.MTU, tr2.b0.D.MTU = 1000, 1000
	tr2.send(t, tr2.a, &layers.IPv4{SrcIP: ip4(ipA), DstIP: ip4(ipB), Protocol: layers.IPProtocolICMPv4, Id: 77}, echoReq(9, 2, data)...)
	tr2.n.Clock.RunFor(10 * time.Millisecond)
	if n := len(tr2.rb.Sent); n < 2 {
		t.Fatalf("R sent %d frames to B", n)
	}
	frags := 0
	for _, f := range tr2.rb.Sent {
		h := header.IPv4(f.Frame[14:])
		if h.Protocol() == 1 && h.ID() == 77 {
			frags++
			if len(f.Frame)-14 > 1000 || h.TTL() != 63 || !h.ChecksumValid() {
				t.Fatalf("fragment of %d bytes TTL %d", len(f.Frame)-14, h.TTL())
			}
		}
	}
	// R fragments A's request; B's reply comes in fragments of B's making,
	// which R forwards as they are, and A reassembles it.
	if frags != 2 || tr2.r.s.SNMP.Ip.FragCreates != 2 || tr2.r.s.SNMP.Ip.ForwDatagrams != 3 || tr2.r.s.SNMP.Ip.FragOKs != 1 || tr2.b.s.SNMP.Ip.ReasmOKs != 1 || tr2.a.s.SNMP.Ip.ReasmOKs != 1 {
		t.Fatalf("%d fragments to B; R %+v", frags, tr2.r.s.SNMP.Ip)
	}
	// A, having learned MTU 1000, fragments itself.
	n0 := len(tr.a0.Sent)
	tr.send(t, tr.a, &layers.IPv4{SrcIP: ip4(ipA), DstIP: ip4(ipB), Protocol: layers.IPProtocolICMPv4}, echoReq(9, 3, data)...)
	tr.n.Clock.RunFor(10 * time.Millisecond)
	for _, f := range tr.a0.Sent[n0:] {
		if len(f.Frame)-14 > 1000 {
			t.Fatalf("A sent %d bytes after learning the path MTU", len(f.Frame)-14)
		}
	}
	if tr.a.s.SNMP.Ip.FragCreates != 2 || tr.a.s.SNMP.Ip.ReasmOKs != 1 || tr.a.s.SNMP.Icmp.InType[0] != 1 || tr.r.s.SNMP.Ip.FragCreates != 0 {
		t.Fatalf("A: %+v %+v", tr.a.s.SNMP.Ip, tr.a.s.SNMP.Icmp.InType[:12])
	}
	settle(t, tr)
	settle(t, tr2)
}

// TestForwardNetfilter: on R, a FORWARD hook sees A's datagram with the
// input and output devices and drops it (NETFILTER_DROP, no
// ForwDatagrams, nothing reaches B), or steals it (the hook owns it; R's
// audit sees it live until the hook frees it); a POST_ROUTING hook sees the
// forwarded datagram with both devices too.
func TestForwardNetfilter(t *testing.T) {
	for _, v := range []ipv4.NFVerdict{ipv4.NF_DROP, ipv4.NF_STOLEN} {
		tr := newTriple(t)
		var kept *kernelmodel.SKB
		var fwd, post []ipv4.NFHookState
		tr.r.s.NFRegisterNetHook(&ipv4.NFHookOps{Hooknum: ipv4.NF_INET_POST_ROUTING, Hook: func(skb *kernelmodel.SKB, st ipv4.NFHookState) ipv4.NFVerdict {
			post = append(post, st)
			return ipv4.NF_ACCEPT
		}})
		drop := &ipv4.NFHookOps{Hooknum: ipv4.NF_INET_FORWARD, Hook: func(skb *kernelmodel.SKB, st ipv4.NFHookState) ipv4.NFVerdict {
			fwd = append(fwd, st)
			if header.IPv4(skb.Data).TTL() != 63 {
				t.Errorf("FORWARD sees TTL %d, want 63 (decremented)", header.IPv4(skb.Data).TTL())
			}
			if v == ipv4.NF_STOLEN {
				kept = skb
			}
			return v
		}}
		tr.r.s.NFRegisterNetHook(drop)
		tr.send(t, tr.a, &layers.IPv4{SrcIP: ip4(ipA), DstIP: ip4(ipB), Protocol: layers.IPProtocolICMPv4}, echoReq(1, 1, nil)...)
		tr.n.Clock.RunFor(10 * time.Millisecond)
		if len(fwd) != 1 || fwd[0].In != tr.ra.D || fwd[0].Out != tr.rb.D || len(post) != 0 {
			t.Fatalf("verdict %d: FORWARD saw %+v, POST_ROUTING %+v", v, fwd, post)
		}
		if len(tr.rb.Sent) != 0 || tr.r.s.SNMP.Ip.ForwDatagrams != 0 {
			t.Fatalf("verdict %d: forwarded anyway", v)
		}
		if d := tr.r.k.Drops.Reason[kernelmodel.SKB_DROP_REASON_NETFILTER_DROP]; d != map[bool]uint64{true: 1}[v == ipv4.NF_DROP] {
			t.Fatalf("verdict %d: %d NETFILTER_DROP", v, d)
		}
		if v == ipv4.NF_STOLEN {
			if kept == nil || tr.r.k.SKBAudit() == nil {
				t.Fatal("the stolen skb is not live")
			}
			tr.r.k.KfreeSKB(kept, kernelmodel.SKB_DROP_REASON_NOT_SPECIFIED)
		}
		tr.r.s.NFUnregisterNetHook(drop)
		tr.send(t, tr.a, &layers.IPv4{SrcIP: ip4(ipA), DstIP: ip4(ipB), Protocol: layers.IPProtocolICMPv4}, echoReq(1, 2, nil)...)
		tr.n.Clock.RunFor(10 * time.Millisecond)
		if len(post) != 2 || post[0].In != tr.ra.D || post[0].Out != tr.rb.D || post[1].In != tr.rb.D || post[1].Out != tr.ra.D || len(icmps(t, tr.a0.Received)) != 1 {
			t.Fatalf("without the hook: POST_ROUTING saw %+v, A got %d replies", post, len(icmps(t, tr.a0.Received)))
		}
		settle(t, tr)
	}
}

// TestForwardRedirect: R routes 10.0.3.0/24 via 10.0.1.253, back out of
// the link A's datagrams come in on: it forwards them and tells A with an
// ICMP redirect (host, gateway 10.0.1.253; send_redirects 1), at most as
// Linux's ip_rt_send_redirect allows — for a datagram every 100 ms, at 0,
// 100, 200, 400, 800 and 1500 ms (the gap doubling from redirect_load, 20
// ms). With send_redirects 0 there is none.
func TestForwardRedirect(t *testing.T) {
	for _, on := range []int{1, 0} {
		tr := newTriple(t)
		if err := tr.r.s.AddRoute([4]byte{10, 0, 3, 0}, 24, [4]byte{10, 0, 1, 253}, nil, 0); err != nil {
			t.Fatal(err)
		}
		tr.r.s.SetSysctl("net.ipv4.conf.all.send_redirects", on)
		start := tr.n.Clock.Now()
		var at []time.Duration
		for i := 0; i < 20; i++ {
			n := len(icmps(t, tr.a0.Received))
			sentAt := tr.n.Clock.Now()
			tr.send(t, tr.a, &layers.IPv4{SrcIP: ip4(ipA), DstIP: net.IP{10, 0, 3, 1}, Protocol: layers.IPProtocolICMPv4}, echoReq(1, uint16(i), nil)...)
			tr.n.Clock.RunFor(100*time.Millisecond - (tr.n.Clock.Now() - sentAt))
			for _, m := range icmps(t, tr.a0.Received)[n:] {
				if m.icmp.TypeCode != layers.CreateICMPv4TypeCode(layers.ICMPv4TypeRedirect, layers.ICMPv4CodeHost) ||
					!bytes.Equal(m.raw[24:28], []byte{10, 0, 1, 253}) || !m.ip.SrcIP.Equal(ip4(ipRA)) {
					t.Fatalf("redirect %v gateway %v from %v", m.icmp.TypeCode, m.raw[24:28], m.ip.SrcIP)
				}
				at = append(at, (sentAt - start).Round(time.Millisecond))
			}
		}
		want := []time.Duration{0, 100, 200, 400, 800, 1500}
		if on == 0 {
			want = nil
		}
		if len(at) != len(want) {
			t.Fatalf("send_redirects %d: redirects for the datagrams sent at %v, want %v ms", on, at, want)
		}
		for i := range want {
			if at[i] != want[i]*time.Millisecond {
				t.Fatalf("send_redirects %d: redirects at %v, want %v ms", on, at, want)
			}
		}
		if tr.r.s.SNMP.Ip.ForwDatagrams != 20 || tr.r.s.SNMP.Icmp.OutType[5] != uint64(len(want)) {
			t.Fatalf("R: %+v, %d redirects", tr.r.s.SNMP.Ip, tr.r.s.SNMP.Icmp.OutType[5])
		}
		settle(t, tr)
	}
}

// TestForwardNoRoute: with forwarding on and no route to the destination
// (B has no default route and R none to 10.9/16), R counts InNoRoutes
// (IP_INNOROUTES) and answers an ICMP net unreachable, limited per source
// by route.error_cost 1 s with route.error_burst 5 s and by icmp_ratelimit
// on the same peer's tokens: of 10 datagrams at once, 2 are answered (the
// new peer's 5 s of tokens pay ip_error 1 s and icmp_ratelimit 1 s twice;
// the third is refused by icmp_ratelimit, RateLimitHost, the rest by
// ip_error).
// With forwarding off the same datagrams are InAddrErrors, unanswered.
func TestForwardNoRoute(t *testing.T) {
	tr := newTriple(t)
	for i := 0; i < 10; i++ {
		tr.send(t, tr.a, &layers.IPv4{SrcIP: ip4(ipA), DstIP: net.IP{10, 9, 0, 1}, Protocol: layers.IPProtocolICMPv4}, echoReq(1, uint16(i), nil)...)
	}
	tr.n.Clock.RunFor(10 * time.Millisecond)
	got := icmps(t, tr.a0.Received)
	for _, m := range got {
		if m.icmp.TypeCode != layers.CreateICMPv4TypeCode(layers.ICMPv4TypeDestinationUnreachable, layers.ICMPv4CodeNet) || !m.ip.SrcIP.Equal(ip4(ipRA)) {
			t.Fatalf("got %v from %v", m.icmp.TypeCode, m.ip.SrcIP)
		}
	}
	if len(got) != 2 || tr.r.s.SNMP.IpExt.InNoRoutes != 10 || tr.r.k.Drops.Reason[kernelmodel.SKB_DROP_REASON_IP_INNOROUTES] != 10 || tr.r.s.SNMP.Icmp.RateLimitHost != 1 {
		t.Fatalf("%d unreachables, InNoRoutes %d, RateLimitHost %d", len(got), tr.r.s.SNMP.IpExt.InNoRoutes, tr.r.s.SNMP.Icmp.RateLimitHost)
	}
	tr.r.s.SetSysctl("net.ipv4.ip_forward", 0)
	tr.send(t, tr.a, &layers.IPv4{SrcIP: ip4(ipA), DstIP: ip4(ipB), Protocol: layers.IPProtocolICMPv4}, echoReq(1, 99, nil)...)
	tr.n.Clock.RunFor(2 * time.Second)
	if tr.r.s.SNMP.Ip.InAddrErrors != 1 || len(icmps(t, tr.a0.Received)) != 2 || len(tr.rb.Sent) != 0 {
		t.Fatalf("forwarding off: InAddrErrors %d", tr.r.s.SNMP.Ip.InAddrErrors)
	}
	settle(t, tr)
}
