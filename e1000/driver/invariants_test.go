package driver

import (
	"strings"
	"testing"

	"github.com/nicbed/nicbed/e1000"
	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/hw/ring"
	"github.com/nicbed/nicbed/kernelmodel"
)

// booksAdapter is an adapter with rings of n slots and consistent books:
// receive slots ntc..ntu-1 posted; on the transmit ring, ntc..ntu-1 used
// by frames of two slots each (the skb on the second).
func booksAdapter(t *testing.T, n, rxNTC, rxNTU, txNTC, txNTU int) *Adapter {
	t.Helper()
	mem := dma.NewArena(1 << 20)
	a := &Adapter{netdev: &kernelmodel.NetDevice{MTU: 1500}}
	rr, err := ring.Alloc(mem, n, e1000.DescSize, 0)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := ring.Alloc(mem, n, e1000.DescSize, 0)
	if err != nil {
		t.Fatal(err)
	}
	a.rx = rxRing{Ring: rr, buf: make([]rxBuffer, n)}
	a.rx.NTC, a.rx.NTU = rxNTC, rxNTU
	for i := rxNTC; i != rxNTU; i = a.rx.Next(i) {
		a.rx.buf[i].posted = true
	}
	a.tx = txRing{Ring: tr, buf: make([]txBuffer, n)}
	a.tx.NTC, a.tx.NTU = txNTC, txNTU
	for i := range a.tx.buf {
		a.tx.buf[i].NextToWatch = -1
	}
	for i := txNTC; i != txNTU; i = a.tx.Next(a.tx.Next(i)) {
		eop := a.tx.Next(i)
		a.tx.buf[i] = txBuffer{NextToWatch: int32(eop), Used: true, TimeStamp: 1}
		a.tx.buf[eop] = txBuffer{NextToWatch: -1, Used: true, Pkt: &kernelmodel.SKB{ID: uint64(i)}}
	}
	return a
}

// TestCheckInvariants: consistent books pass, wrapped or not, and each kind
// of inconsistency is reported.
func TestCheckInvariants(t *testing.T) {
	for _, idx := range [][4]int{{0, 0, 0, 0}, {2, 6, 2, 6}, {6, 2, 6, 2}, {3, 2, 1, 7}} {
		if err := booksAdapter(t, 8, idx[0], idx[1], idx[2], idx[3]).CheckInvariants(); err != nil {
			t.Errorf("indices %v: %v", idx, err)
		}
	}
	tests := []struct {
		name    string
		corrupt func(a *Adapter)
		want    string
	}{
		{"rx slot in flight not posted", func(a *Adapter) { a.rx.buf[7].posted = false }, "rx: slot 7 posted=false"},
		{"rx slot of the driver's posted", func(a *Adapter) { a.rx.buf[4].posted = true }, "rx: slot 4 posted=true"},
		{"rx index outside the ring", func(a *Adapter) { a.rx.NTU = 8 }, "rx: ring: index out of range"},
		{"tx slot in flight not used", func(a *Adapter) { a.tx.buf[1].Used = false }, "tx: slot 1 used=false"},
		{"tx free slot used", func(a *Adapter) { a.tx.buf[4].Used = true }, "tx: slot 4 used=true"},
		{"tx free slot holds an skb", func(a *Adapter) { a.tx.buf[4].Pkt = a.tx.buf[7].Pkt }, "free slot 4 still holds a frame"},
		{"tx skb held twice", func(a *Adapter) { a.tx.buf[1].Pkt = a.tx.buf[7].Pkt }, "held twice"},
		{"tx frame names a free last slot", func(a *Adapter) { a.tx.buf[6].NextToWatch = 4 }, "names last slot 4"},
		{"tx frame without skb", func(a *Adapter) { a.tx.buf[7].Pkt = nil }, "has no skb"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Receive slots 5..3 posted (4 is the driver's), transmit
			// frames at 6–7 and 0–1 (2..5 free).
			a := booksAdapter(t, 8, 5, 4, 6, 2)
			tc.corrupt(a)
			err := a.CheckInvariants()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("CheckInvariants = %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

// TestCheckInvariantsAllocs: checking the books allocates nothing, with
// 100 frames held on the ring (the fuzz harness checks after every action; a
// map of the skbs per check made a full ring cost more in the garbage
// collector than in the driver).
func TestCheckInvariantsAllocs(t *testing.T) {
	a := booksAdapter(t, 256, 5, 4, 6, 206)
	if n := testing.AllocsPerRun(100, func() {
		if err := a.CheckInvariants(); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("CheckInvariants: %v allocations a call, want 0", n)
	}
}
