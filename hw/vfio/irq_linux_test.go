package vfio

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/hw/pci"
	"github.com/nicbed/nicbed/kernelmodel"
)

// fakeIRQDev is the host's vfio-pci as far as interrupts go: it offers
// INTx (automasked) and msix MSI-X vectors, and records every SET_IRQS.
type fakeIRQDev struct {
	msix int
	mu   sync.Mutex
	log  []string
	fds  map[int][]int32
}

func (f *fakeIRQDev) IRQInfo(index int) IRQInfo {
	switch index {
	case VFIO_PCI_INTX_IRQ_INDEX:
		return IRQInfo{Index: 0, Count: 1, Flags: VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED}
	case VFIO_PCI_MSIX_IRQ_INDEX:
		return IRQInfo{Index: 2, Count: uint32(f.msix), Flags: VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE}
	}
	return IRQInfo{Index: uint32(index)}
}

func (f *fakeIRQDev) SetIRQs(index int, flags uint32, start, count int, fds []int32) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var what string
	switch flags {
	case VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD:
		what = fmt.Sprintf("trigger%d", len(fds))
		if f.fds == nil {
			f.fds = map[int][]int32{}
		}
		f.fds[index] = append([]int32(nil), fds...)
	case VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_NONE:
		what = fmt.Sprintf("off%d", count)
	case VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_DATA_NONE:
		what = "mask"
	case VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_DATA_NONE:
		what = "unmask"
	default:
		what = fmt.Sprintf("flags%#x", flags)
	}
	f.log = append(f.log, fmt.Sprintf("%d:%s", index, what))
	return nil
}

// signal is the host signalling vector i of index.
func (f *fakeIRQDev) signal(t *testing.T, index, i int) {
	t.Helper()
	f.mu.Lock()
	fd := f.fds[index][i]
	f.mu.Unlock()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], 1)
	if _, err := unix.Write(int(fd), b[:]); err != nil {
		t.Fatalf("write to eventfd %d: %v", fd, err)
	}
}

func (f *fakeIRQDev) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.log...)
}

// cfgFunc is a PCI function of plain configuration space (no BARs).
type cfgFunc struct{ cfg [256]byte }

func (c *cfgFunc) ConfigRead(off, size int) uint32 {
	var b [4]byte
	copy(b[:], c.cfg[off:off+size])
	return binary.LittleEndian.Uint32(b[:])
}

func (c *cfgFunc) ConfigWrite(off, size int, v uint32) {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	copy(c.cfg[off:off+size], b[:size])
}

func (c *cfgFunc) BAR(int) pci.BAR { return nil }

type irqHarness struct {
	clk  *kernelmodel.Clock
	k    *kernelmodel.Kernel
	pdev *kernelmodel.PCIDev
	dev  *fakeIRQDev
	b    *IRQs
}

func newIRQHarness(msix int) *irqHarness {
	clk := kernelmodel.NewRealClock()
	k := kernelmodel.New(kernelmodel.Config{Name: "vfio", CPUs: 2, Clock: clk})
	h := &irqHarness{clk: clk, k: k, dev: &fakeIRQDev{msix: msix}}
	h.pdev = k.NewPCIDev("0000:00:03.0", &cfgFunc{}, dma.NewArena(1<<20))
	h.b = &IRQs{dev: h.dev}
	h.pdev.Vectors = h.b
	return h
}

// task runs fn in a kernel task and the loop until it is done.
func (h *irqHarness) task(t *testing.T, fn func(tk *kernelmodel.Task) error) {
	t.Helper()
	var err error
	done := false
	h.k.Spawn(0, "t", func(tk *kernelmodel.Task) { err = fn(tk); done = true })
	h.clk.RunWhile(func() bool { return !done }, h.clk.Now()+5*time.Second)
	if !done || err != nil {
		t.Fatalf("task: done %v, %v", done, err)
	}
}

// runUntil runs the loop until cond holds (at most 5 s of wall time).
func (h *irqHarness) runUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	h.clk.RunWhile(func() bool { return !cond() }, h.clk.Now()+5*time.Second)
	if !cond() {
		t.Fatalf("%s: not within 5 s", what)
	}
}

// waiters counts the eventfd waiter goroutines alive now.
func waiters() int {
	buf := make([]byte, 1<<20)
	return strings.Count(string(buf[:runtime.Stack(buf, true)]), "(*vectorSet).wait(")
}

// noWaiters checks that no eventfd waiter is left (they are gone when
// close returns: it waits for them).
func noWaiters(t *testing.T) {
	t.Helper()
	if n := waiters(); n != 0 {
		t.Fatalf("%d eventfd waiters still running", n)
	}
}

// TestMSIXEventfds: pci_alloc_irq_vectors through the VFIO backend gives
// each vector an eventfd (one SET_IRQS for all), the vectors spread over the
// CPUs; a write to vector 2's eventfd (from another goroutine, as the host
// kernel's) runs vector 2's handler on the loop and no other's; a signal
// while the interrupt is disabled is held and delivered on enable; freeing
// the vectors turns MSI-X off at the device, closes the eventfds and ends
// every waiter.
func TestMSIXEventfds(t *testing.T) {
	h := newIRQHarness(4)
	var irqs []int
	got := make([]int, 4) // written by the handlers, on the loop only
	h.task(t, func(tk *kernelmodel.Task) error {
		n, err := h.pdev.AllocIRQVectors(1, 4, kernelmodel.PCI_IRQ_MSIX)
		if err != nil || n != 4 {
			return fmt.Errorf("%d vectors, %v", n, err)
		}
		for i := range 4 {
			irq := h.pdev.PCIIRQVector(i)
			irqs = append(irqs, irq)
			if err := h.k.RequestIRQ(irq, func(int) kernelmodel.IRQReturn { got[i]++; return kernelmodel.IRQ_HANDLED }, fmt.Sprintf("v%d", i)); err != nil {
				return err
			}
		}
		return nil
	})
	for deadline := time.Now().Add(2 * time.Second); waiters() != 4 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if n := waiters(); n != 4 {
		buf := make([]byte, 1<<16)
		t.Errorf("%d eventfd waiters, want 4\n%s", n, buf[:runtime.Stack(buf, true)])
	}
	if c := h.dev.calls(); len(c) != 1 || c[0] != "2:trigger4" {
		t.Fatalf("SET_IRQS calls %v, want one trigger of 4 eventfds on index 2", c)
	}
	for i, irq := range irqs {
		if cpu := h.k.IRQAffinity(irq); cpu != i%2 {
			t.Errorf("vector %d on CPU %d, want %d", i, cpu, i%2)
		}
		if d := h.k.IRQData(irq); d.HWIRQ != i || d.Chip.Name() != "VFIO-MSIX" {
			t.Errorf("vector %d: hwirq %d chip %s", i, d.HWIRQ, d.Chip.Name())
		}
	}
	h.dev.signal(t, VFIO_PCI_MSIX_IRQ_INDEX, 2)
	h.runUntil(t, "vector 2's handler", func() bool { return got[2] == 1 })
	h.clk.RunFor(20 * time.Millisecond)
	if got[0]+got[1]+got[3] != 0 || got[2] != 1 {
		t.Fatalf("handlers ran %v times, want [0 0 1 0]", got)
	}
	if s := h.b.Signals(irqs[2]); s != 1 {
		t.Errorf("Signals(vector 2) = %d, want 1", s)
	}
	if c := h.k.IRQCount(irqs[2]); c != 1 {
		t.Errorf("/proc/interrupts of vector 2: %d, want 1", c)
	}
	// Disabled: held in the controller, delivered by enable_irq.
	h.task(t, func(*kernelmodel.Task) error { h.k.DisableIRQ(irqs[1]); return nil })
	h.dev.signal(t, VFIO_PCI_MSIX_IRQ_INDEX, 1)
	h.runUntil(t, "the signal on the disabled vector", func() bool { return h.b.Signals(irqs[1]) == 1 })
	h.clk.RunFor(20 * time.Millisecond)
	if got[1] != 0 {
		t.Fatal("a disabled vector's handler ran")
	}
	h.task(t, func(*kernelmodel.Task) error { h.k.EnableIRQ(irqs[1]); return nil })
	h.runUntil(t, "the held interrupt after enable_irq", func() bool { return got[1] == 1 })

	var set *vectorSet
	h.task(t, func(*kernelmodel.Task) error {
		set = h.b.msi
		for _, irq := range irqs {
			h.k.FreeIRQ(irq)
		}
		h.pdev.FreeIRQVectors()
		return nil
	})
	if c := h.dev.calls(); c[len(c)-1] != "2:off0" {
		t.Errorf("SET_IRQS calls %v, want MSI-X off last", c)
	}
	for _, v := range set.vecs {
		if v.f.Fd() != ^uintptr(0) {
			t.Errorf("eventfd of vector %d still open", v.hw)
		}
	}
	if h.b.msi != nil {
		t.Error("MSI-X still recorded as enabled")
	}
	noWaiters(t)
}

// TestINTxEventfd: the VFIO INTx line behaves as kernelmodel's vfioLine
// model: masked at the host from connection to request_irq, unmasked by
// request_irq, each signal handled once by handle_level_irq and followed by
// exactly one ACTION_UNMASK, masked again by free_irq; enabling MSI-X turns
// INTx off first; Close turns everything off and ends the waiters.
func TestINTxEventfd(t *testing.T) {
	h := newIRQHarness(2)
	handled := 0
	h.task(t, func(*kernelmodel.Task) error {
		if err := h.b.ConnectINTx(h.pdev); err != nil {
			return err
		}
		return h.k.RequestIRQ(h.pdev.IRQ, func(int) kernelmodel.IRQReturn { handled++; return kernelmodel.IRQ_HANDLED }, "eth0")
	})
	want := []string{"0:trigger1", "0:mask", "0:unmask"}
	if c := h.dev.calls(); fmt.Sprint(c) != fmt.Sprint(want) {
		t.Fatalf("SET_IRQS calls %v, want %v", c, want)
	}
	if d := h.k.IRQData(h.pdev.IRQ); d.Chip.Name() != "VFIO-INTx" {
		t.Fatalf("chip %s", d.Chip.Name())
	}
	const n = 5
	for i := range n {
		h.dev.signal(t, VFIO_PCI_INTX_IRQ_INDEX, 0)
		h.runUntil(t, "the INTx handler", func() bool { return handled == i+1 })
		// The level flow unmasked the host's line after the handler.
		if c := h.dev.calls(); c[len(c)-1] != "0:unmask" {
			t.Fatalf("interrupt %d: last SET_IRQS %s, want the unmask", i, c[len(c)-1])
		}
	}
	st := h.b.INTx()
	if cnt := h.k.IRQCount(h.pdev.IRQ); cnt != n || st.Unmasks != n+1 || st.Masks != 0 || st.Errors != 0 {
		t.Errorf("%d interrupts, %+v; want %d interrupts, %d unmasks (one per interrupt and request_irq), no mask", cnt, st, n, n+1)
	}
	h.task(t, func(*kernelmodel.Task) error { h.k.FreeIRQ(h.pdev.IRQ); return nil })
	if c := h.dev.calls(); c[len(c)-1] != "0:mask" {
		t.Errorf("free_irq: last SET_IRQS %s, want a mask", c[len(c)-1])
	}
	// MSI-X excludes INTx at vfio-pci: INTx goes off first.
	h.task(t, func(*kernelmodel.Task) error {
		_, err := h.pdev.AllocIRQVectors(2, 2, kernelmodel.PCI_IRQ_MSIX)
		return err
	})
	c := h.dev.calls()
	if got := fmt.Sprint(c[len(c)-2:]); got != "[0:off0 2:trigger2]" {
		t.Errorf("MSI-X after INTx: %s, want INTx off, then MSI-X on", got)
	}
	if err := h.b.Close(); err != nil {
		t.Fatal(err)
	}
	if c := h.dev.calls(); c[len(c)-1] != "2:off0" {
		t.Errorf("Close: last SET_IRQS %s", c[len(c)-1])
	}
	noWaiters(t)
}

// countDev counts SET_IRQS calls and nothing else.
type countDev struct{ n int }

func (c *countDev) IRQInfo(int) IRQInfo                          { return IRQInfo{} }
func (c *countDev) SetIRQs(int, uint32, int, int, []int32) error { c.n++; return nil }

// TestINTxUnmaskAllocs: the per-interrupt path of the INTx chip (the mask
// the flow asks for while the host holds the line, the unmask after the
// handler) allocates nothing.
func TestINTxUnmaskAllocs(t *testing.T) {
	dev := &countDev{}
	c := &intxChip{b: &IRQs{dev: dev}}
	n := testing.AllocsPerRun(100, func() {
		c.hostMasked = true
		c.Mask(nil)
		c.Unmask(nil)
	})
	if n != 0 {
		t.Errorf("%v allocations per interrupt", n)
	}
	if dev.n != 101 || c.unmasks.Load() != 101 || c.masks.Load() != 0 {
		t.Errorf("%d SET_IRQS, %d unmasks, %d masks; want 101 unmasks, no mask (the host had masked)", dev.n, c.unmasks.Load(), c.masks.Load())
	}
}
