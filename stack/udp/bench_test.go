package udp_test

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/stack/internal/twostack"
	"github.com/nicbed/nicbed/stack/socket"
	"github.com/nicbed/nicbed/testbed"
)

// BenchmarkUDPRecv measures 64-byte UDP datagrams received by host B:
// each 106-byte frame handed to the 82540EM model as the wire would, DMA
// into the ring, the interrupt, e1000_intr, the NAPI poll, gro_normal_list
// → netif_receive_skb_list → ip_list_rcv → udp_rcv → the socket's queue
// (__udp_enqueue_schedule_skb, sk_data_ready) → recvfrom, which copies the
// payload out and frees the skb. One op is one datagram; pkts/s is wall
// clock datagrams per second on one core. The sub-benchmark "ptype-drop"
// is the same frames with an EtherType nobody handles, dropped in
// netif_receive_skb: the path below the stack, run side by side for the
// ratio.
func BenchmarkUDPRecv(b *testing.B) {
	for _, c := range []struct {
		name string
		udp  bool
	}{{"ptype-drop", false}, {"udp-recvfrom", true}} {
		b.Run(c.name, func(b *testing.B) { benchRecv(b, c.udp) })
	}
}

func benchRecv(b *testing.B, viaUDP bool) {
	p, err := twostack.New(testbed.Config{})
	if err != nil {
		b.Fatal(err)
	}
	h := p.TB.B
	so, _ := p.B.Socket(socket.AF_INET, socket.SOCK_DGRAM, 0)
	if err := so.Bind(netip.AddrPortFrom(twostack.B, 9000)); err != nil {
		b.Fatal(err)
	}
	frame := udpFrameAB(netip.AddrPortFrom(twostack.A, 1234), netip.AddrPortFrom(twostack.B, 9000), make([]byte, 64))
	if !viaUDP {
		binary.BigEndian.PutUint16(frame[12:], 0x88B6)
	}
	// Frames handed over at once: within the ring and, 2690 bytes of
	// truesize each, within the default receive buffer.
	const batch = 64
	sd := &h.Kernel.CPU(0).Softnet
	target := sd.Processed
	pending := func() bool { return sd.Processed < target }
	buf := make([]byte, 2048)
	read := 0
	run := func(n int) {
		for n > 0 {
			m := min(n, batch)
			for range m {
				h.Model().Port().Receive(frame)
			}
			target += uint64(m)
			n -= m
			p.TB.Clock.RunWhile(pending, p.TB.Clock.Now()+time.Second)
			if sd.Processed != target {
				b.Fatalf("processed %d, want %d", sd.Processed, target)
			}
			if !viaUDP {
				continue
			}
			for {
				k, _, err := so.RecvFrom(nil, buf, 0)
				if err != nil {
					break
				}
				if k != 64 {
					b.Fatalf("read %d bytes", k)
				}
				read++
			}
		}
	}
	run(10 * batch)
	b.ReportAllocs()
	b.ResetTimer()
	run(b.N)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
	if viaUDP {
		if m := p.B.UDP.MIB; read != b.N+10*batch || m.InDatagrams != uint64(read) || m.RcvbufErrors != 0 {
			b.Fatalf("read %d of %d; %+v", read, b.N+10*batch, m)
		}
	}
	so.Close()
	if n := h.Kernel.SKBsInUse(); n != 0 {
		b.Fatalf("%d skbs in use", n)
	}
}

// udpFrameAB is an Ethernet frame from host A to host B of the testbed
// with a UDP datagram and its checksum.
func udpFrameAB(src, dst netip.AddrPort, payload []byte) []byte {
	f := udpFrame(src, dst, payload, false)
	e := header.Ethernet(f)
	e.SetDestination(testbed.MACB)
	e.SetSource(testbed.MACA)
	return f
}
