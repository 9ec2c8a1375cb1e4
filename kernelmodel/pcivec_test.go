package kernelmodel

import (
	"errors"
	"testing"
	"time"

	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/hw/pci"
)

type vecFunc struct {
	fn   pci.Function
	msix *pci.MSIX
	msi  *pci.MSI
}

// newVecFunc makes a function with an MSI-X capability of msix vectors
// (0: none), an MSI capability of msi vectors (0: none) and an INTx pin if
// pin.
func newVecFunc(k *Kernel, msix, msi int, pin bool) *vecFunc {
	id := pci.ID{Vendor: 0x8086, Device: 0x10C9, Class: 0x020000}
	if pin {
		id.InterruptPin = 1
	}
	cfg := pci.NewConfig(id)
	v := &vecFunc{}
	var bars [pci.NumBARs]pci.BAR
	if msix > 0 {
		cfg.SetBAR(3, 16<<10)
		v.msix = cfg.AddMSIX(pci.MSIXLayout{Vectors: msix, TableBAR: 3, PBABAR: 3, PBAOffset: 0x2000}, k)
		bars[3] = &msixBAR{v.msix}
	}
	if msi > 0 {
		v.msi = cfg.AddMSI(msi, k)
	}
	v.fn = pci.NewFunction(cfg, bars)
	return v
}

// pci_alloc_irq_vectors tries MSI-X, then MSI, then INTx, as the flags
// allow, and takes a type only if it offers min vectors (INTx only for
// min 1).
func TestAllocIRQVectorsFallback(t *testing.T) {
	for _, tc := range []struct {
		name           string
		msix, msi      int
		pin            bool
		min, max       int
		flags          int
		wantType, want int // want 0: -ENOSPC
	}{
		{"msix", 4, 2, true, 1, 8, PCI_IRQ_ALL_TYPES, PCI_IRQ_MSIX, 4},
		{"msix capped by max", 4, 2, true, 1, 3, PCI_IRQ_ALL_TYPES, PCI_IRQ_MSIX, 3},
		{"msi when msix not allowed", 4, 2, true, 1, 8, PCI_IRQ_MSI | PCI_IRQ_LEGACY, PCI_IRQ_MSI, 2},
		{"msi when msix has too few", 2, 4, true, 3, 8, PCI_IRQ_ALL_TYPES, PCI_IRQ_MSI, 4},
		{"msi without msix", 0, 4, true, 1, 3, PCI_IRQ_ALL_TYPES, PCI_IRQ_MSI, 3},
		{"legacy", 0, 0, true, 1, 8, PCI_IRQ_ALL_TYPES, PCI_IRQ_LEGACY, 1},
		{"legacy when msi has too few", 0, 2, true, 1, 8, PCI_IRQ_LEGACY, PCI_IRQ_LEGACY, 1},
		{"legacy needs min 1", 0, 2, true, 3, 8, PCI_IRQ_ALL_TYPES, 0, 0},
		{"msix only, too few", 4, 0, true, 5, 8, PCI_IRQ_MSIX, 0, 0},
		{"nothing", 0, 0, false, 1, 1, PCI_IRQ_ALL_TYPES, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := New(Config{CPUs: 2})
			v := newVecFunc(k, tc.msix, tc.msi, tc.pin)
			pdev := k.NewPCIDev("0000:00:04.0", v.fn, dma.NewArena(1<<16))
			intx := pdev.IRQ
			n, err := pdev.AllocIRQVectors(tc.min, tc.max, tc.flags)
			if tc.want == 0 {
				if !errors.Is(err, ErrNoVectors) || n != 0 || pdev.IRQType() != 0 {
					t.Fatalf("got %d vectors of type %d, err %v; want -ENOSPC", n, pdev.IRQType(), err)
				}
				return
			}
			if err != nil || n != tc.want || pdev.IRQType() != tc.wantType {
				t.Fatalf("got %d vectors of type %d, err %v; want %d of type %d", n, pdev.IRQType(), err, tc.want, tc.wantType)
			}
			intxOff := v.fn.ConfigRead(pci.Command, 2)&pci.CommandINTxDisable != 0
			if intxOff != (tc.wantType != PCI_IRQ_LEGACY) {
				t.Errorf("INTx Disable %v with type %d", intxOff, tc.wantType)
			}
			if v.msix != nil && v.msix.Enabled() != (tc.wantType == PCI_IRQ_MSIX) {
				t.Errorf("MSI-X enabled %v", v.msix.Enabled())
			}
			if v.msi != nil && v.msi.Enabled() != (tc.wantType == PCI_IRQ_MSI) {
				t.Errorf("MSI enabled %v", v.msi.Enabled())
			}
			seen := map[int]bool{}
			for i := 0; i < n; i++ {
				irq := pdev.PCIIRQVector(i)
				if irq <= 0 || seen[irq] || (tc.wantType == PCI_IRQ_LEGACY) != (irq == intx) {
					t.Errorf("pci_irq_vector(%d) = %d (INTx is %d)", i, irq, intx)
				}
				seen[irq] = true
			}
			if got := pdev.PCIIRQVector(n); got != -EINVAL {
				t.Errorf("pci_irq_vector(%d) = %d, want -EINVAL", n, got)
			}
			if tc.wantType == PCI_IRQ_MSI && pdev.IRQ != pdev.PCIIRQVector(0) {
				t.Errorf("pdev->irq %d with MSI, want the first vector %d", pdev.IRQ, pdev.PCIIRQVector(0))
			}
			if _, err := pdev.AllocIRQVectors(1, 1, PCI_IRQ_ALL_TYPES); err == nil {
				t.Error("second pci_alloc_irq_vectors succeeded")
			}
			pdev.FreeIRQVectors()
			if pdev.IRQType() != 0 || pdev.IRQ != intx || pdev.PCIIRQVector(0) != intx {
				t.Errorf("after pci_free_irq_vectors: type %d irq %d vector 0 %d", pdev.IRQType(), pdev.IRQ, pdev.PCIIRQVector(0))
			}
			if (v.msix != nil && v.msix.Enabled()) || (v.msi != nil && v.msi.Enabled()) {
				t.Error("MSI/MSI-X left enabled")
			}
			if m, err := pdev.AllocIRQVectors(tc.min, tc.max, tc.flags); err != nil || m != n {
				t.Errorf("allocating again: %d, %v", m, err)
			}
		})
	}
}

// MSI with several vectors: the message data carries the vector in its low
// bits, so the interrupts are an aligned block; each vector reaches its own
// handler on its CPU. The MSI chip masks in the controller.
func TestMSIVectors(t *testing.T) {
	k := New(Config{CPUs: 2})
	k.AllocIRQ() // make the next free number unaligned
	v := newVecFunc(k, 0, 4, true)
	pdev := k.NewPCIDev("0000:00:05.0", v.fn, dma.NewArena(1<<16))
	pdev.SetMaster()
	n, err := pdev.AllocIRQVectors(1, 3, PCI_IRQ_MSI)
	if err != nil || n != 3 {
		t.Fatal(n, err)
	}
	if v.msi.Allocated() != 4 || pdev.PCIIRQVector(0)%4 != 0 {
		t.Errorf("MME grants %d, first irq %d: want 4 and aligned", v.msi.Allocated(), pdev.PCIIRQVector(0))
	}
	got := map[int][]int{}
	for i := 0; i < n; i++ {
		i := i
		k.RequestIRQ(pdev.PCIIRQVector(i), func(int) IRQReturn {
			got[i] = append(got[i], k.CurrentCPU().ID)
			return IRQ_HANDLED
		}, "msi")
	}
	for i := 0; i < n; i++ {
		if !v.msi.Fire(i) {
			t.Fatalf("vector %d not sent", i)
		}
	}
	k.Clock().RunFor(time.Millisecond)
	for i := 0; i < n; i++ {
		if len(got[i]) != 1 || got[i][0] != i%2 {
			t.Errorf("vector %d handled on %v, want once on CPU %d", i, got[i], i%2)
		}
	}
	irq1 := pdev.PCIIRQVector(1)
	k.DisableIRQ(irq1)
	v.msi.Fire(1)
	v.msi.Fire(1)
	k.Clock().RunFor(time.Millisecond)
	k.EnableIRQ(irq1)
	k.Clock().RunFor(time.Millisecond)
	if len(got[1]) != 2 {
		t.Errorf("vector 1 handled %d times, want 2 (one held while disabled)", len(got[1]))
	}
}

// MSI-X vectors mask in the function's table: a vector disabled and raised
// is masked there, the device holds the next message in the PBA, and
// enable_irq delivers the held interrupt once.
func TestMSIXMaskInTable(t *testing.T) {
	k := New(Config{CPUs: 1})
	v := newVecFunc(k, 2, 0, true)
	pdev := k.NewPCIDev("0000:00:06.0", v.fn, dma.NewArena(1<<16))
	pdev.EnableDevice()
	pdev.SetMaster()
	if _, err := pdev.AllocIRQVectors(2, 2, PCI_IRQ_MSIX); err != nil {
		t.Fatal(err)
	}
	if !v.msix.Masked(0) || !v.msix.Masked(1) {
		t.Error("entries unmasked before request_irq")
	}
	irq := pdev.PCIIRQVector(0)
	calls := 0
	k.RequestIRQ(irq, func(int) IRQReturn { calls++; return IRQ_HANDLED }, "msix")
	if v.msix.Masked(0) || !v.msix.Masked(1) {
		t.Error("request_irq did not unmask exactly its entry")
	}
	k.DisableIRQ(irq)
	v.msix.Fire(0)
	k.Clock().RunFor(time.Millisecond)
	if !v.msix.Masked(0) {
		t.Error("entry not masked after an interrupt while disabled")
	}
	v.msix.Fire(0)
	if !v.msix.Pending(0) {
		t.Error("masked entry's message not held in the PBA")
	}
	k.EnableIRQ(irq)
	k.Clock().RunFor(time.Millisecond)
	if calls != 1 || v.msix.Masked(0) || v.msix.Pending(0) {
		t.Errorf("after enable_irq: handler %d times, masked %v, pending %v; want 1, no, no", calls, v.msix.Masked(0), v.msix.Pending(0))
	}
}

// fakeVectors is a VFIO-like backend: it knows the function's vectors from
// elsewhere (VFIO_DEVICE_GET_IRQ_INFO), not from configuration space, and
// delivers each through an "eventfd" that raises the interrupt.
type fakeVectors struct {
	count    map[int]int
	enabled  []int
	typ      int
	disabled int
}

func (f *fakeVectors) VecCount(p *PCIDev, typ int) int { return f.count[typ] }

func (f *fakeVectors) Enable(p *PCIDev, typ int, irqs []int) error {
	f.typ, f.enabled = typ, irqs
	for i, irq := range irqs {
		p.Kernel().IRQSetChipAndHandler(irq, ControllerIRQChip("VFIO-MSIX"), HandleEdgeIRQ)
		p.Kernel().IRQData(irq).HWIRQ = i
	}
	return nil
}

func (f *fakeVectors) Disable(p *PCIDev, typ int, irqs []int) { f.disabled++ }

func (f *fakeVectors) eventfd(p *PCIDev, vector int) { p.Kernel().Raise(f.enabled[vector]) }

// pci_alloc_irq_vectors goes through the platform's backend: a function
// without any capability in its configuration space gets the backend's
// vectors, and a driver's handlers run unchanged.
func TestAllocIRQVectorsFakeBackend(t *testing.T) {
	k := New(Config{CPUs: 2})
	v := newVecFunc(k, 0, 0, false)
	pdev := k.NewPCIDev("0000:00:07.0", v.fn, dma.NewArena(1<<16))
	fb := &fakeVectors{count: map[int]int{PCI_IRQ_MSIX: 3, PCI_IRQ_MSI: 1}}
	pdev.Vectors = fb
	n, err := pdev.AllocIRQVectors(1, 8, PCI_IRQ_ALL_TYPES)
	if err != nil || n != 3 || fb.typ != PCI_IRQ_MSIX || len(fb.enabled) != 3 {
		t.Fatalf("%d vectors, %v; backend enabled %v of type %d", n, err, fb.enabled, fb.typ)
	}
	got := make([]int, n)
	for i := 0; i < n; i++ {
		i := i
		if pdev.PCIIRQVector(i) != fb.enabled[i] {
			t.Errorf("pci_irq_vector(%d) = %d, backend routed %d", i, pdev.PCIIRQVector(i), fb.enabled[i])
		}
		k.RequestIRQ(pdev.PCIIRQVector(i), func(int) IRQReturn { got[i]++; return IRQ_HANDLED }, "q")
	}
	fb.eventfd(pdev, 2)
	fb.eventfd(pdev, 0)
	k.Clock().RunFor(time.Millisecond)
	if got[0] != 1 || got[1] != 0 || got[2] != 1 {
		t.Errorf("handled %v, want [1 0 1]", got)
	}
	for i := 0; i < n; i++ {
		k.FreeIRQ(pdev.PCIIRQVector(i))
	}
	pdev.FreeIRQVectors()
	if fb.disabled != 1 || pdev.IRQType() != 0 {
		t.Errorf("backend disabled %d times, type %d", fb.disabled, pdev.IRQType())
	}
}
