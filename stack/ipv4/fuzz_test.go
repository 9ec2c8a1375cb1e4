package ipv4

import (
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/nicbed/nicbed/internal/fuzzmin"
	"github.com/nicbed/nicbed/kernelmodel"
)

// FuzzIPv4Rcv feeds any bytes as the IPv4 packet of a frame from B to A
// (A knows B) and asserts: no panic, the frame counted either as delivered
// or under exactly one drop reason, and an exact skb audit — no skb live
// once the neighbour timers and ipfrag_time have run, none freed twice, none pushed or put
// beyond its buffer. Seeds are under testdata/fuzz/FuzzIPv4Rcv.
func FuzzIPv4Rcv(f *testing.F) {
	f.Add(frame(f, &layers.IPv4{Protocol: layers.IPProtocolICMPv4}, echo(1, 1, []byte("ping"))...)[14:])
	f.Add(frame(f, &layers.IPv4{Protocol: 253}, gopacket.Payload(make([]byte, 600)))[14:])
	f.Fuzz(func(t *testing.T, pkt []byte) {
		if len(pkt) > 9000 {
			return
		}
		e := newEnv(t)
		defer e.k.Close()
		fr := make([]byte, 14+len(pkt))
		copy(fr, frame(t, &layers.IPv4{Protocol: 1})[:14])
		copy(fr[14:], pkt)
		before := e.k.Drops.Reason
		e.dev.Receive(fr)
		var drops uint64
		for r := range e.k.Drops.Reason {
			drops += e.k.Drops.Reason[r] - before[r]
		}
		m := &e.s.SNMP.Ip
		if drops > 1 || drops == 1 && m.InDelivers == 1 && e.s.SNMP.Icmp.InErrors == 0 &&
			e.k.Drops.Reason[kernelmodel.SKB_DROP_REASON_NO_SOCKET] == 0 {
			t.Fatalf("%d drops, %d delivered: %v", drops, m.InDelivers, e.k.Drops.Reason)
		}
		e.k.Clock().RunFor(31 * time.Second) // neighbour timers, ipfrag_time
		if err := e.k.SKBAudit(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestMain bounds the minimization of new fuzz inputs (each run builds a
// kernel model).
func TestMain(m *testing.M) { fuzzmin.Main(m, 2000) }

// FuzzDefrag reads the input as a train of fragments of one datagram (per
// fragment 4 bytes: MF in bit 0 of the first, the offset in 8-byte units in
// the next two, the payload length in the fourth; then the payload) and
// sends them from B to A. It asserts no panic, no more reassembly
// requests than fragments nor more reassemblies than requests, and after
// ipfrag_time no queue and no queue memory left and an exact skb audit.
func FuzzDefrag(f *testing.F) {
	f.Add([]byte{1, 0, 0, 16, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 8, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'})
	f.Add([]byte{1, 0, 0, 16, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 4000 {
			return
		}
		e := newEnv(t)
		defer e.k.Close()
		n := 0
		for len(in) >= 4 && n < 64 {
			mf, off, l := in[0]&1 != 0, (uint16(in[1])<<8|uint16(in[2]))&0x1fff, int(in[3])
			in = in[4:]
			l = min(l, len(in))
			ip := &layers.IPv4{Protocol: layers.IPProtocolICMPv4, Id: 7, FragOffset: off}
			if mf {
				ip.Flags = layers.IPv4MoreFragments
			}
			e.dev.Receive(frame(t, ip, gopacket.Payload(in[:l])))
			in = in[l:]
			n++
		}
		m := &e.s.SNMP.Ip
		if m.ReasmReqds > uint64(n) || m.ReasmOKs > m.ReasmReqds {
			t.Fatalf("%d fragments: %+v", n, *m)
		}
		e.k.Clock().RunFor(31 * time.Second)
		if q, b := e.s.FragMem(); q != 0 || b != 0 {
			t.Fatalf("%d queues, %d bytes left after ipfrag_time", q, b)
		}
		if err := e.k.SKBAudit(); err != nil {
			t.Fatal(err)
		}
	})
}
