package neigh

import (
	"testing"
	"time"

	"github.com/nicbed/nicbed/internal/fuzzmin"
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/stack/header"
	"github.com/nicbed/nicbed/stack/internal/stacktest"
)

// FuzzARP feeds any bytes as the ARP packet of a broadcast frame from B,
// with a packet to B waiting for resolution, and asserts: no panic, at most
// one frame sent in answer at once (a reply or a send of the waiting
// packet), the state machine in a NUD state, and an exact skb audit once
// the timers have run out. Seeds are under testdata/fuzz/FuzzARP.
func FuzzARP(f *testing.F) {
	f.Add(arpFrame(header.ARPOpRequest, stacktest.Bcast, stacktest.IPB, stacktest.IPA, [6]byte{})[14:])
	f.Add(arpFrame(header.ARPOpReply, stacktest.MACA, stacktest.IPB, stacktest.IPA, stacktest.MACA)[14:])
	f.Add(arpFrame(header.ARPOpRequest, stacktest.Bcast, [4]byte{}, stacktest.IPA, [6]byte{})[14:])
	f.Add(arpFrame(header.ARPOpRequest, stacktest.Bcast, stacktest.IPB, stacktest.IPB, [6]byte{})[14:])
	f.Fuzz(func(t *testing.T, pkt []byte) {
		if len(pkt) > 2000 {
			return
		}
		e := newEnv(t)
		defer e.k.Close()
		e.tbl.Output(e.dev.D, stacktest.IPB, e.ipPacket(100)) // INCOMPLETE, one request
		fr := append(arpFrame(header.ARPOpRequest, stacktest.Bcast, stacktest.IPB, stacktest.IPA, [6]byte{})[:14:14], pkt...)
		e.receive(fr)
		if n := len(e.dev.Sent); n > 3 {
			t.Fatalf("%d frames sent for one ARP packet", n)
		}
		for _, n := range e.tbl.Entries() {
			if StateName(n.State) == "?" {
				t.Fatalf("entry in state %#x", n.State)
			}
		}
		e.k.Clock().RunFor(10 * time.Second)
		if err := e.k.SKBAudit(); err != nil {
			t.Fatal(err)
		}
		if e.k.Drops.Reason[kernelmodel.SKB_DROP_REASON_NEIGH_FAILED]+uint64(len(e.dev.Sent)) == 0 {
			t.Fatal("the waiting packet was neither sent nor dropped")
		}
	})
}

// TestMain bounds the minimization of new fuzz inputs.
func TestMain(m *testing.M) { fuzzmin.Main(m, 2000) }
