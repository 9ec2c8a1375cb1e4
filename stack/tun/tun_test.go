package tun_test

import (
	"bytes"
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/checksum"
	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/stack/ipv4"
	"github.com/nicbed/nicbed/stack/neigh"
	"github.com/nicbed/nicbed/stack/tun"
)

var (
	local = [4]byte{10, 8, 0, 1}
	peer  = [4]byte{10, 8, 0, 2}
)

type env struct {
	k   *kernelmodel.Kernel
	s   *ipv4.Stack
	tun *tun.Device
	out [][]byte // what the device sent, with Out set
	at  []time.Duration
}

// newEnv is a host with tun0 up, 10.8.0.1/24 on it, its packets
// collected by Out.
func newEnv(t *testing.T) *env {
	t.Helper()
	k := kernelmodel.New(kernelmodel.Config{Name: "host", CPUs: 1})
	t.Cleanup(k.Close)
	s := ipv4.New(k, 1)
	d, err := tun.New(k, "tun0")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{k: k, s: s, tun: d}
	d.Out = func(p []byte) {
		e.out = append(e.out, append([]byte(nil), p...))
		e.at = append(e.at, k.Clock().Now())
	}
	k.Spawn(0, "ip-link-up", func(tk *kernelmodel.Task) { err = d.D.DevOpen(tk) })
	k.Clock().RunFor(time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddAddress(d.D, local, 24); err != nil {
		t.Fatal(err)
	}
	return e
}

func ipPacket(t *testing.T, ip *layers.IPv4, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	ip.Version, ip.IHL = 4, 5
	if ip.TTL == 0 {
		ip.TTL = 64
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, append([]gopacket.SerializableLayer{ip}, ls...)...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func echo(typ uint8, id, seq uint16, data []byte) []gopacket.SerializableLayer {
	return []gopacket.SerializableLayer{
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(typ, 0), Id: id, Seq: seq},
		gopacket.Payload(data),
	}
}

func (e *env) settle(t *testing.T) {
	t.Helper()
	e.k.Clock().RunFor(5 * time.Second)
	e.tun.Close()
	if err := e.k.SKBAudit(); err != nil {
		t.Fatal(err)
	}
}

// TestTunEcho: an echo request written into tun0 is answered: the reply
// the device hands out is, byte for byte, gopacket's encoding of the reply
// Linux sends (no link-layer header, TTL 64, the request's TOS); no ARP,
// the peer's neighbour entry is NOARP; tun0's counters.
func TestTunEcho(t *testing.T) {
	e := newEnv(t)
	data := []byte("0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghij")
	for seq := uint16(1); seq <= 3; seq++ {
		req := ipPacket(t, &layers.IPv4{Protocol: layers.IPProtocolICMPv4, TOS: 0x10, Id: 5, SrcIP: net.IP(peer[:]), DstIP: net.IP(local[:])}, echo(8, 0x77, seq, data)...)
		if err := e.tun.Write(req); err != nil {
			t.Fatal(err)
		}
		e.k.Clock().RunFor(time.Millisecond)
		if len(e.out) != int(seq) {
			t.Fatalf("after request %d: %d packets out", seq, len(e.out))
		}
		got := e.out[seq-1]
		h := header.IPv4(got)
		want := ipPacket(t, &layers.IPv4{Protocol: layers.IPProtocolICMPv4, TOS: 0x10, Id: h.ID(), SrcIP: net.IP(local[:]), DstIP: net.IP(peer[:])}, echo(0, 0x77, seq, data)...)
		if !bytes.Equal(got, want) {
			t.Fatalf("reply %d\n got %x\nwant %x", seq, got, want)
		}
	}
	n := e.s.Neigh.Lookup(e.tun.D, peer)
	if n == nil || n.State != neigh.NUD_NOARP || e.s.Neigh.Stats.RcvProbesMcast+e.s.Neigh.Stats.RcvProbesUcast != 0 {
		t.Fatalf("peer's neighbour %+v", n)
	}
	if st := e.tun.D.Stats; st.RxPackets != 3 || st.TxPackets != 3 || st.RxBytes != 3*84 || st.TxBytes != 3*84 {
		t.Fatalf("tun0 stats %+v", st)
	}
	e.settle(t)
}

// TestTunScriptedPeer: the host pings the peer; the scripted peer answers
// each request 2 ms after it was sent (through the clock, as a wire
// would), and the host receives the replies then; a request the peer
// leaves unanswered gets nothing.
func TestTunScriptedPeer(t *testing.T) {
	e := newEnv(t)
	var replies []time.Duration
	e.s.AddProtocol(ipv4.IPPROTO_ICMP, func(skb *kernelmodel.SKB) {
		if header.ICMPv4(skb.Data).Type() == header.ICMPv4EchoReply {
			replies = append(replies, e.k.Clock().Now())
		}
		e.k.ConsumeSKB(skb)
	})
	e.tun.Out = func(p []byte) {
		e.out = append(e.out, append([]byte(nil), p...))
		e.at = append(e.at, e.k.Clock().Now())
		h := header.IPv4(p)
		m := header.ICMPv4(p[h.HeaderLength():])
		if h.Protocol() != ipv4.IPPROTO_ICMP || m.Type() != header.ICMPv4Echo || m[7] == 3 {
			return
		}
		id, seq := uint16(m[4])<<8|uint16(m[5]), uint16(m[6])<<8|uint16(m[7])
		rep := ipPacket(t, &layers.IPv4{Protocol: layers.IPProtocolICMPv4, SrcIP: net.IP(peer[:]), DstIP: net.IP(local[:])}, echo(0, id, seq, m[8:])...)
		e.k.Clock().AfterFunc(2*time.Millisecond, func() {
			if err := e.tun.Write(rep); err != nil {
				t.Error(err)
			}
		})
	}
	for seq := 1; seq <= 5; seq++ {
		e.k.Spawn(0, "ping", func(*kernelmodel.Task) {
			skb := e.k.AllocSKB(14 + 20 + 16)
			skb.Reserve(14 + 20)
			m := skb.Put(16)
			copy(m, []byte{8, 0, 0, 0, 0, 9, 0, byte(seq), 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'})
			header.ICMPv4(m).SetChecksum(^checksum.Checksum(m, 0))
			if rc := e.s.Output(skb, [4]byte{}, peer, ipv4.IPPROTO_ICMP, 0, 0); rc != 0 {
				t.Errorf("ping %d: %d", seq, rc)
			}
		})
		e.k.Clock().RunFor(10 * time.Millisecond)
	}
	if len(e.out) != 5 || len(replies) != 4 {
		t.Fatalf("%d requests out, %d replies in; want 5 and 4", len(e.out), len(replies))
	}
	for i, r := range replies {
		j := i
		if i >= 2 {
			j++ // request 3 was not answered
		}
		if r-e.at[j] < 2*time.Millisecond || r-e.at[j] > 2*time.Millisecond+100*time.Microsecond {
			t.Fatalf("reply %d came %v after its request", i, r-e.at[j])
		}
	}
	e.settle(t)
}

// TestTunReadQueue: without Out the packets wait in the read queue:
// Read returns them in order (truncated to a short buffer), EAGAIN when
// empty; beyond TUN_READQ_SIZE packets the device drops (tx_dropped,
// FULL_RING).
func TestTunReadQueue(t *testing.T) {
	e := newEnv(t)
	e.tun.Out = nil
	for i := 0; i < tun.TUN_READQ_SIZE+3; i++ {
		skb := e.k.AllocSKB(14 + 20 + 8)
		skb.Reserve(14 + 20)
		b := skb.Put(8)
		b[0], b[1] = byte(i>>8), byte(i)
		e.s.Output(skb, [4]byte{}, peer, 253, 0, 0)
	}
	if q := e.tun.Queued(); q != tun.TUN_READQ_SIZE || e.tun.D.Stats.TxDropped != 3 || e.k.Drops.Reason[kernelmodel.SKB_DROP_REASON_FULL_RING] != 3 {
		t.Fatalf("queued %d, tx_dropped %d", q, e.tun.D.Stats.TxDropped)
	}
	buf := make([]byte, 100)
	for i := 0; i < tun.TUN_READQ_SIZE; i++ {
		n, err := e.tun.Read(buf)
		if err != nil || n != 28 || buf[20] != byte(i>>8) || buf[21] != byte(i) || header.IPv4(buf).Protocol() != 253 {
			t.Fatalf("read %d: %d bytes, %v, %x", i, n, err, buf[:n])
		}
	}
	if n, err := e.tun.Read(buf[:10]); n != 0 || !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("empty queue: %d, %v", n, err)
	}
	e.s.Output(func() *kernelmodel.SKB { s := e.k.AllocSKB(64); s.Reserve(34); s.Put(8); return s }(), [4]byte{}, peer, 253, 0, 0)
	if n, err := e.tun.Read(buf[:10]); n != 10 || err != nil {
		t.Fatalf("short read: %d, %v", n, err)
	}
	e.settle(t)
}

// TestTunWrite: tun_get_user's errors — a version other than 4 or 6 is
// EINVAL (rx_dropped), an empty packet EINVAL, a write to a down device
// EIO; an IPv6 packet goes up as ETH_P_IPV6 (no handler here:
// UNHANDLED_PROTO, rx_nohandler).
func TestTunWrite(t *testing.T) {
	e := newEnv(t)
	if err := e.tun.Write([]byte{0x50, 0, 0, 0}); !errors.Is(err, syscall.EINVAL) || e.tun.D.Stats.RxDropped != 1 {
		t.Fatalf("version 5: %v, rx_dropped %d", err, e.tun.D.Stats.RxDropped)
	}
	if err := e.tun.Write(nil); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("empty: %v", err)
	}
	v6 := make([]byte, 40)
	v6[0] = 0x60
	if err := e.tun.Write(v6); err != nil {
		t.Fatal(err)
	}
	e.k.Clock().RunFor(time.Millisecond)
	if e.k.Drops.Reason[kernelmodel.SKB_DROP_REASON_UNHANDLED_PROTO] != 1 || e.tun.D.Stats.RxNoHandler != 1 {
		t.Fatalf("IPv6: drops %v", e.k.Drops.Reason)
	}
	var err error
	e.k.Spawn(0, "ip-link-down", func(tk *kernelmodel.Task) { err = e.tun.D.DevClose(tk) })
	e.k.Clock().RunFor(time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.tun.Write(ipPacket(t, &layers.IPv4{Protocol: 253, SrcIP: net.IP(peer[:]), DstIP: net.IP(local[:])})); !errors.Is(err, syscall.EIO) {
		t.Fatalf("down: %v", err)
	}
	e.settle(t)
}
