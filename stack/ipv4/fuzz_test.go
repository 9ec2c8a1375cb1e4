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
// once the neighbour timers have run, none freed twice, none pushed or put
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
		e.k.Clock().RunFor(4 * time.Second)
		if err := e.k.SKBAudit(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestMain bounds the minimization of new fuzz inputs (each run builds a
// kernel model).
func TestMain(m *testing.M) { fuzzmin.Main(m, 2000) }
