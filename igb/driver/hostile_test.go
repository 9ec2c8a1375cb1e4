package driver_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/igb"
	"github.com/nicbed/nicbed/igb/driver"
	"github.com/nicbed/nicbed/testbed"
)

// The hostile device: the tests write into the descriptor rings what a
// device could write there (write-backs it was never given, lengths past
// the buffer, impossible status) and raise its interrupts (EICS), the way
// a broken or malicious 82576 could, between the model's own correct
// writes.

// rxDesc is the DMA address of receive descriptor slot of queue q on h.
func rxDesc(h *testbed.Host, q, slot int) dma.Addr {
	base := uint64(reg(h, igb.RDBAH(q)))<<32 | uint64(reg(h, igb.RDBAL(q)))
	return dma.Addr(base + uint64(igb.DescSize*slot))
}

// txDesc is the DMA address of transmit descriptor slot of queue q on h.
func txDesc(h *testbed.Host, q, slot int) dma.Addr {
	base := uint64(reg(h, igb.TDBAH(q)))<<32 | uint64(reg(h, igb.TDBAL(q)))
	return dma.Addr(base + uint64(igb.DescSize*slot))
}

// rxWriteBack writes an advanced receive write-back into slot of queue q.
func rxWriteBack(h *testbed.Host, q, slot int, status uint32, length uint16) {
	var d [igb.DescSize]byte
	igb.RxWB(d[:]).WriteBack(0, 0, status, length, 0)
	h.Mem.Write(rxDesc(h, q, slot), d[:])
}

// rxConsume writes back slot of queue q as the device would and moves the
// device's head past it, so that the hostile device and the model agree on
// what the device has used.
func rxConsume(h *testbed.Host, q, slot int, status uint32, length uint16) {
	rxWriteBack(h, q, slot, status, length)
	n := int(reg(h, igb.RDLEN(q))) / igb.DescSize
	setReg(h, igb.RDH(q), uint32((slot+1)%n))
}

// kick raises q_vector i's interrupt, as the device does for a write-back.
func kick(tb *testbed.Testbed, h *testbed.Host, i int) {
	setReg(h, igb.EICS, testbed.IGBOf(h).Adapter.EIMSOf(i))
	tb.Clock.RunFor(200 * time.Microsecond)
}

// hostileCheck checks h after the device misbehaved: the driver's books
// hold (CheckInvariants), no DMA faults, no skb leaked or freed twice.
func hostileCheck(t testing.TB, tb *testbed.Testbed, h *testbed.Host) {
	t.Helper()
	tb.Clock.RunFor(time.Millisecond)
	if err := errors.Join(h.Check(), h.Kernel.SKBAudit()); err != nil {
		t.Fatalf("%v\n%s", err, tb.Report())
	}
}

// TestHostileWriteBacks: each kind of write-back a correct device never
// makes is counted and dropped, the books hold, and traffic flows after.
func TestHostileWriteBacks(t *testing.T) {
	type ctr = driver.DriverCounters
	for _, tc := range []struct {
		name  string
		do    func(tb *testbed.Testbed, h *testbed.Host, a *driver.Adapter)
		check func(c ctr) uint64
	}{
		{"rx DD on a slot not posted", func(tb *testbed.Testbed, h *testbed.Host, a *driver.Adapter) {
			r := a.RxRing(0)
			rxWriteBack(h, 0, (r.NTU)%r.Count, igb.RXD_STAT_DD|igb.RXD_STAT_EOP, 64)
			flow(t, tb, tb.A, h, 40, nil, 1) // cleaning refills the slot
		}, func(c ctr) uint64 { return c.RxUnpostedWriteback }},
		{"rx length past the buffer", func(tb *testbed.Testbed, h *testbed.Host, a *driver.Adapter) {
			rxConsume(h, 0, a.RxRing(0).NTC, igb.RXD_STAT_DD|igb.RXD_STAT_EOP, 4000)
			kick(tb, h, 0)
		}, func(c ctr) uint64 { return c.RxBadLength }},
		{"rx zero length", func(tb *testbed.Testbed, h *testbed.Host, a *driver.Adapter) {
			rxConsume(h, 0, a.RxRing(0).NTC, igb.RXD_STAT_DD|igb.RXD_STAT_EOP, 0)
			kick(tb, h, 0)
		}, func(c ctr) uint64 { return c.RxBadLength }},
		{"rx reserved status bit", func(tb *testbed.Testbed, h *testbed.Host, a *driver.Adapter) {
			rxConsume(h, 0, a.RxRing(0).NTC, igb.RXD_STAT_DD|igb.RXD_STAT_EOP|1<<8, 64)
			kick(tb, h, 0)
		}, func(c ctr) uint64 { return c.RxBadStatus }},
		{"rx L4 error without the check", func(tb *testbed.Testbed, h *testbed.Host, a *driver.Adapter) {
			rxConsume(h, 0, a.RxRing(0).NTC, igb.RXD_STAT_DD|igb.RXD_STAT_EOP|igb.RXD_ERR_L4E, 64)
			kick(tb, h, 0)
		}, func(c ctr) uint64 { return c.RxBadStatus }},
		{"rx runt", func(tb *testbed.Testbed, h *testbed.Host, a *driver.Adapter) {
			rxConsume(h, 0, a.RxRing(0).NTC, igb.RXD_STAT_DD|igb.RXD_STAT_EOP, 10)
			kick(tb, h, 0)
		}, func(c ctr) uint64 { return c.RxRunts }},
		{"rx CRC error", func(tb *testbed.Testbed, h *testbed.Host, a *driver.Adapter) {
			rxConsume(h, 0, a.RxRing(0).NTC, igb.RXD_STAT_DD|igb.RXD_STAT_EOP|igb.RXD_ERR_CE, 64)
			kick(tb, h, 0)
		}, func(c ctr) uint64 { return c.RxFrameErrors }},
		{"rx frame without EOP over the whole ring", func(tb *testbed.Testbed, h *testbed.Host, a *driver.Adapter) {
			r := a.RxRing(0)
			posted := (r.NTU - r.NTC + r.Count) % r.Count
			for k := range posted {
				st := uint32(igb.RXD_STAT_DD)
				if k == posted-1 {
					st |= igb.RXD_STAT_EOP
				}
				rxConsume(h, 0, (r.NTC+k)%r.Count, st, driver.RxBufferSize)
			}
			for range 8 {
				kick(tb, h, 0)
			}
			if c := a.Counters(); c.RxDiscardedDescs < uint64(posted-2) {
				t.Errorf("%d descriptors discarded of %d", c.RxDiscardedDescs, posted)
			}
		}, func(c ctr) uint64 { return c.RxNoEOP }},
		{"tx DD on a free slot", func(tb *testbed.Testbed, h *testbed.Host, a *driver.Adapter) {
			r := a.TxRing(0)
			var olinfo [4]byte
			binary.LittleEndian.PutUint32(olinfo[:], igb.TXD_STA_DD)
			h.Mem.Write(txDesc(h, 0, (r.NTU+1)%r.Count)+igb.TxDataOlinfo, olinfo[:])
			flow(t, tb, h, tb.A, 10, nil, 2)
		}, func(c ctr) uint64 { return c.TxUnpostedWriteback }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := bed(t, testbed.IGB{Queues: 2}, 2)
			h := tb.B
			a := nic(t, h).Adapter
			flow(t, tb, tb.A, h, 100, nil, 3)
			tc.do(tb, h, a)
			if n := tc.check(a.Counters()); n == 0 {
				t.Errorf("not counted: %+v", a.Counters())
			}
			hostileCheck(t, tb, h)
			flow(t, tb, tb.A, h, 500, nil, 4)
			flow(t, tb, h, tb.A, 500, nil, 5)
			hostileCheck(t, tb, h)
		})
	}
}

// TestHeadWriteBack: with head write-back the driver cleans from the head
// the device writes (and the suite's traffic passes); a head outside the
// queued descriptors is counted and frees nothing.
func TestHeadWriteBack(t *testing.T) {
	tb := bed(t, testbed.IGB{Driver: driver.Options{HeadWriteBack: true}}, 2)
	a := nic(t, tb.A).Adapter
	flow(t, tb, tb.A, tb.B, 3000, nil, 1)
	settle(t, tb)
	addr, ok := a.HeadWriteBackAddr(0)
	if !ok {
		t.Fatal("no head write-back")
	}
	if wb := reg(tb.A, igb.TDWBAL(0)); wb&igb.TDWBAL_HEAD_WB_EN == 0 || uint64(wb&igb.TDWBAL_ADDR_MASK) != addr&0xFFFFFFFF {
		t.Errorf("TDWBAL %#x, head at %#x", wb, addr)
	}
	var head [4]byte
	tb.A.Mem.Read(dma.Addr(addr), head[:])
	if got, r := binary.LittleEndian.Uint32(head[:]), a.TxRing(0); int(got) != r.NTU || reg(tb.A, igb.TDH(0)) != got {
		t.Errorf("head write-back %d, TDH %d, next_to_use %d", got, reg(tb.A, igb.TDH(0)), r.NTU)
	}
	// A hostile head: past the ring.
	binary.LittleEndian.PutUint32(head[:], 5000)
	tb.A.Mem.Write(dma.Addr(addr), head[:])
	// Queue a frame without the device sending it: TCTL.EN off.
	setReg(tb.A, igb.TCTL, reg(tb.A, igb.TCTL)&^igb.TCTL_EN)
	f, err := tb.StartFlow(tb.A, tb.B, testbed.FlowConfig{Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	tb.Clock.RunFor(time.Millisecond)
	tb.A.Mem.Write(dma.Addr(addr), head[:])
	kick(tb, tb.A, 0)
	if c := a.Counters(); c.TxBadHead == 0 {
		t.Errorf("bad head not counted: %+v", c)
	}
	if r := a.TxRing(0); r.NTC == r.NTU {
		t.Error("a bad head freed the queued frame")
	}
	if err := tb.A.Check(); err != nil { // the frame's skb is live: on the ring
		t.Fatal(err)
	}
	setReg(tb.A, igb.TCTL, reg(tb.A, igb.TCTL)|igb.TCTL_EN)
	tb.RunFlows(time.Second, f)
	if f.Received != 1 {
		t.Errorf("the held frame did not arrive: %d", f.Received)
	}
	hostileCheck(t, tb, tb.A)
}

var _ = fmt.Sprint
