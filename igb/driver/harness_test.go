package driver_test

import (
	"testing"
	"time"

	"github.com/nicbed/nicbed/hw/pci"
	"github.com/nicbed/nicbed/igb"
	"github.com/nicbed/nicbed/igb/driver"
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/testbed"
)

// bed builds two igb hosts (the datasheet model and this driver) with f and
// brings them up. The cable is infinitely fast unless paced: the tests here
// are about the driver, not the wire.
func bed(t testing.TB, f testbed.IGB, cpus int) *testbed.Testbed {
	t.Helper()
	tb, err := testbed.NewUp(testbed.Config{NIC: f, CPUs: cpus, InfiniteSpeed: true})
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// nic is h's igb NIC.
func nic(t testing.TB, h *testbed.Host) *testbed.IGBNIC {
	t.Helper()
	n := testbed.IGBOf(h)
	if n == nil {
		t.Fatalf("%s has no igb NIC", h.Name)
	}
	return n
}

// reg reads a device register of h's 82576 through its BAR0.
func reg(h *testbed.Host, off uint32) uint32 { return testbed.IGBOf(h).Model.BAR(0).Read32(off) }

// setReg writes a device register as the device itself would see it set
// (a test playing a device that raises causes, EICS).
func setReg(h *testbed.Host, off, v uint32) { testbed.IGBOf(h).Model.BAR(0).Write32(off, v) }

// task runs fn in a task on h and fails the test on its error.
func task(t testing.TB, tb *testbed.Testbed, h *testbed.Host, fn func(*kernelmodel.Task) error) {
	t.Helper()
	if err := tb.RunTask(h, "test", 5*time.Second, fn); err != nil {
		t.Fatal(err)
	}
}

// flow sends n frames A→B of the TCP 4-tuple tu (nil: plain test frames)
// and waits for them, failing on loss or corruption.
func flow(t testing.TB, tb *testbed.Testbed, from, to *testbed.Host, n uint64, tu *testbed.TCPFlow, seed uint64) *testbed.Flow {
	t.Helper()
	f, err := tb.StartFlow(from, to, testbed.FlowConfig{Count: n, TCP: tu, Seed: seed, Delay: 2 * time.Microsecond})
	if err != nil {
		t.Fatal(err)
	}
	if !tb.RunFlows(10*time.Second, f) {
		t.Fatalf("flow incomplete: sent %d, received %d", f.Pktgen.Sent, f.Received)
	}
	if err := f.Err(); err != nil {
		t.Fatal(err)
	}
	if f.Received != n || f.Lost != 0 {
		t.Fatalf("received %d of %d, lost %d", f.Received, n, f.Lost)
	}
	return f
}

// settle runs a little and checks both hosts (books, DMA, skbs, anomalies).
func settle(t testing.TB, tb *testbed.Testbed) {
	t.Helper()
	if err := tb.Settle(5 * time.Millisecond); err != nil {
		t.Fatalf("%v\n%s", err, tb.Report())
	}
}

// tuples are n TCP 4-tuples from A to B differing in their ports.
func tuples(n int) []testbed.TCPFlow {
	out := make([]testbed.TCPFlow, n)
	for i := range out {
		out[i] = testbed.TCPFlow{Src: [4]byte{10, 0, 0, 1}, Dst: [4]byte{10, 0, 0, 2}, SrcPort: uint16(30000 + 13*i), DstPort: uint16(80 + i%7)}
	}
	return out
}

var (
	_ = igb.EITR0
	_ = driver.StartITR
	_ = pci.Command
)
