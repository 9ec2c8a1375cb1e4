package driver_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/nicbed/nicbed/e1000"
	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/hw/dma/dmatest"
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/testbed"
)

// TestTestMemContract: the fake device's DMA memory keeps the dma.Allocator
// contract the driver is written against.
func TestTestMemContract(t *testing.T) {
	dmatest.Run(t, func() dma.Allocator { return &testMem{next: dma.DefaultBase} }, testMemLimit)
}

// lifetimeBed is a testbed whose hosts have arenaSize bytes of DMA memory,
// both interfaces up.
func lifetimeBed(t *testing.T, arenaSize int) *testbed.Testbed {
	t.Helper()
	tb, err := testbed.New(testbed.Config{ArenaSize: arenaSize})
	if err != nil {
		t.Fatal(err)
	}
	if err := tb.Up(time.Second); err != nil {
		t.Fatal(err)
	}
	return tb
}

// inTask runs fn in a task on h, failing the test on an error.
func inTask(t *testing.T, tb *testbed.Testbed, h *testbed.Host, name string, fn func(*kernelmodel.Task) error) {
	t.Helper()
	if err := tb.RunTask(h, name, time.Second, fn); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// memClean checks that h's DMA memory saw no fault and no bad free.
func memClean(t *testing.T, h *testbed.Host, when string) {
	t.Helper()
	if st := h.Mem.Stats(); st.Faults != 0 || st.BadFrees != 0 {
		t.Fatalf("%s: %s: %d DMA faults %v, %d bad frees %v", when, h.Name, st.Faults, h.Mem.FaultLog(), st.BadFrees, h.Mem.BadFreeLog())
	}
}

// trafficFlows checks that the hosts still move frames both ways.
func trafficFlows(t *testing.T, tb *testbed.Testbed, seed uint64) {
	t.Helper()
	if err := tb.WaitCarrier(true, time.Second); err != nil {
		t.Fatal(err)
	}
	fwd, err := tb.StartFlow(tb.A, tb.B, testbed.FlowConfig{Count: 2000, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	back, err := tb.StartFlow(tb.B, tb.A, testbed.FlowConfig{Count: 2000, Seed: seed + 1})
	if err != nil {
		t.Fatal(err)
	}
	if !tb.RunFlows(time.Second, fwd, back) || fwd.Lost+back.Lost != 0 || fwd.Err() != nil || back.Err() != nil {
		t.Fatalf("flows received %d and %d of 2000 (lost %d, %d): %v %v", fwd.Received, back.Received, fwd.Lost, back.Lost, fwd.Err(), back.Err())
	}
}

// TestDownUpCycles is 1,000 ip link set down / up cycles of host B
// (DevClose, DevOpen in a task) in 4 MiB of DMA memory, where one open
// takes 1.5 MiB of rings and buffers: the space freed by each close is
// reused, the memory in use is the same after every cycle, no device access
// faults and no free is bad. (The arena that never reused freed space ran
// out on the second cycle.)
func TestDownUpCycles(t *testing.T) {
	const arena = 4 << 20
	tb := lifetimeBed(t, arena)
	h := tb.B
	inUse := h.Mem.Allocated()
	if inUse < 1<<20 {
		t.Fatalf("only %d bytes of DMA memory in use with the interface up", inUse)
	}
	for i := range 1000 {
		inTask(t, tb, h, "ip-link-down-up", func(task *kernelmodel.Task) error {
			if err := h.Dev.DevClose(task); err != nil {
				return err
			}
			return h.Dev.DevOpen(task)
		})
		if got := h.Mem.Allocated(); got != inUse {
			t.Fatalf("cycle %d: %d bytes of DMA memory in use, want %d", i, got, inUse)
		}
		memClean(t, h, "down/up")
	}
	st := h.Mem.Stats()
	t.Logf("after 1000 cycles: %+v", st)
	if st.Reused < 3000 || st.HighWater > arena {
		t.Errorf("freed space reused by %d allocations, high water %d", st.Reused, st.HighWater)
	}
	trafficFlows(t, tb, 40)
	memClean(t, h, "traffic")
	memClean(t, tb.A, "traffic")
}

// TestRingResizeCycles is 100 ethtool -G changes of host B between 4096 and
// 2048 descriptors (SetRingparam, in a task) in the testbed's default 64 MiB
// of DMA memory; a 4096-slot pair of rings takes 24 MiB, and SetRingparam
// allocates the new rings before freeing the old. Every change succeeds, the
// memory in use is what the ring size needs, and traffic flows at the end.
// (The arena that never reused freed space failed the fourth change.)
func TestRingResizeCycles(t *testing.T) {
	tb := lifetimeBed(t, 0)
	h := tb.B
	inUse := map[int]int{}
	for i := range 100 {
		n := 4096
		if i%2 == 1 {
			n = 2048
		}
		inTask(t, tb, h, "ethtool-G", func(task *kernelmodel.Task) error { return adapter(h).SetRingparam(task, n, n) })
		if rp := adapter(h).GetRingparam(); rp.RxPending != n || rp.TxPending != n {
			t.Fatalf("change %d: ring %+v, want %d", i, rp, n)
		}
		got := h.Mem.Allocated()
		if want, ok := inUse[n]; ok && got != want {
			t.Fatalf("change %d to %d: %d bytes in use, was %d", i, n, got, want)
		}
		inUse[n] = got
		memClean(t, h, "ethtool -G")
	}
	if inUse[4096] < 24<<20 || inUse[2048] < 12<<20 {
		t.Errorf("bytes in use: %v", inUse)
	}
	t.Logf("after 100 changes: %+v", h.Mem.Stats())
	trafficFlows(t, tb, 50)
	memClean(t, h, "traffic")
}

// rxRingAddr is where host h's device finds its receive ring (RDBAL/RDBAH).
func rxRingAddr(h *testbed.Host) dma.Addr {
	bar := nicModel(h).BAR(0)
	return dma.Addr(uint64(bar.Read32(e1000.RDBAH))<<32 | uint64(bar.Read32(e1000.RDBAL)))
}

// rxDesc is receive descriptor i of host h's ring, as the device sees it.
func rxDesc(t *testing.T, h *testbed.Host, i uint32) e1000.RxDesc {
	t.Helper()
	v, ok := h.Mem.View(rxRingAddr(h)+dma.Addr(i)*e1000.DescSize, e1000.DescSize, false)
	if !ok {
		t.Fatalf("%s: receive descriptor %d not in DMA memory", h.Name, i)
	}
	return e1000.RxDesc(v)
}

// TestStaleBufferAfterResize keeps a receive buffer address from before an
// ethtool -G change, as a device (or a driver bug) holding on to it would,
// and hands it to the device in the new ring's next descriptor. While the
// old buffers are in quarantine the device's write there is a DMA fault,
// counted and logged as a use after free, and the frame is dropped with
// RXE; the ring base itself is stale too. After enough later frees the old
// space leaves quarantine and is reused.
func TestStaleBufferAfterResize(t *testing.T) {
	tb := lifetimeBed(t, 0)
	h := tb.B
	oldRing := rxRingAddr(h)
	stale := dma.Addr(rxDesc(t, h, 0).Addr())
	if stale == 0 || !h.Mem.Write(stale, make([]byte, 64)) {
		t.Fatalf("buffer of descriptor 0 at %#x not writable before the change", uint64(stale))
	}
	resize := func(n int) {
		inTask(t, tb, h, "ethtool-G", func(task *kernelmodel.Task) error { return adapter(h).SetRingparam(task, n, n) })
	}
	resize(512)
	if err := tb.WaitCarrier(true, time.Second); err != nil {
		t.Fatal(err)
	}
	memClean(t, h, "resize")
	if !h.Mem.Quarantined(stale) || !h.Mem.Quarantined(oldRing) {
		t.Fatalf("old buffer %#x / ring %#x not quarantined after the change", uint64(stale), uint64(oldRing))
	}

	// The device's next descriptor points at the stale buffer.
	next := nicModel(h).BAR(0).Read32(e1000.RDH)
	d := rxDesc(t, h, next)
	d.SetAddr(uint64(stale))
	frame := make([]byte, 60)
	copy(frame, h.Dev.Addr[:])
	copy(frame[6:], tb.A.Dev.Addr[:])
	binary.BigEndian.PutUint16(frame[12:], 0x88B6)
	rxBefore := h.Dev.Stats.RxPackets
	nicModel(h).Receive(frame)
	tb.Clock.RunFor(time.Millisecond)

	st := h.Mem.Stats()
	log := h.Mem.FaultLog()
	if st.Faults != 1 || st.UseAfterFree != 1 || len(log) != 1 {
		t.Fatalf("faults %d (use after free %d): %v", st.Faults, st.UseAfterFree, log)
	}
	if f := log[0]; !f.UseAfterFree || !f.Write || f.Addr != stale {
		t.Errorf("fault %v: want a write at %#x named use after free", f, uint64(stale))
	}
	if got := nicModel(h).Counters().RxBufferFaults; got != 1 {
		t.Errorf("model RxBufferFaults %d, want 1", got)
	}
	if h.Dev.Stats.RxPackets != rxBefore {
		t.Errorf("a frame written to a stale buffer was delivered")
	}
	// The ring base: a device that kept the old RDBAL faults there too.
	if _, ok := h.Mem.View(oldRing, e1000.DescSize, true); ok || h.Mem.UseAfterFree() != 2 {
		t.Errorf("old ring base: access ok %v, %d uses after free", ok, h.Mem.UseAfterFree())
	}

	// Later changes free more than the quarantine keeps: the old space
	// leaves quarantine and is handed out again.
	changes := 0
	for h.Mem.Quarantined(stale) {
		if changes++; changes > 20 {
			t.Fatalf("old buffer still quarantined after %d more changes: %+v", changes, h.Mem.Stats())
		}
		resize(512 - 256*(changes%2))
	}
	for range 10 {
		if _, ok := h.Mem.View(stale, 64, false); ok {
			break
		}
		resize(4096 - 2048*(changes%2))
		changes++
	}
	if _, ok := h.Mem.View(stale, 64, false); !ok {
		t.Errorf("old buffer space %#x never reused: %+v", uint64(stale), h.Mem.Stats())
	}
	t.Logf("stale space left quarantine and was reused within %d changes: %+v", changes, h.Mem.Stats())
	if n := adapter(h).Counters(); n.RxBadLength+n.RxUnpostedWriteback+n.RxBadStatus != 0 {
		t.Errorf("driver counters %+v", n)
	}
}
