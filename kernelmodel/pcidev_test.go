package kernelmodel

import (
	"testing"
	"time"

	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/hw/pci"
)

// msixBAR is a device BAR whose upper half holds the MSI-X table and PBA.
type msixBAR struct{ m *pci.MSIX }

func (b *msixBAR) Read32(off uint32) uint32 {
	if v, ok := b.m.Read32(3, off); ok {
		return v
	}
	return 0
}

func (b *msixBAR) Write32(off, v uint32) { b.m.Write32(3, off, v) }

// A device's INTx line and its MSI-X entries reach the kernel as hardirqs on
// the CPU each interrupt is affine to.
func TestInterruptVectors(t *testing.T) {
	k := New(Config{CPUs: 2})
	cfg := pci.NewConfig(pci.ID{Vendor: 0x8086, Device: 0x10C9, Class: 0x020000, InterruptPin: 1})
	cfg.SetBAR(3, 16<<10)
	m := cfg.AddMSIX(pci.MSIXLayout{Vectors: 4, TableBAR: 3, TableOffset: 0, PBABAR: 3, PBAOffset: 0x2000}, k)
	fn := pci.NewFunction(cfg, [pci.NumBARs]pci.BAR{3: &msixBAR{m}})
	pdev := k.NewPCIDev("0000:00:04.0", fn, dma.NewArena(1<<20))
	if err := pdev.EnableDevice(); err != nil {
		t.Fatal(err)
	}
	pdev.SetMaster()

	// INTx, level-triggered: handled while asserted.
	line := k.INTxLine(pdev.IRQ)
	intxCount := 0
	var intxCPU int
	k.SetAffinity(pdev.IRQ, 1)
	k.RequestIRQ(pdev.IRQ, func(int) IRQReturn {
		intxCount++
		intxCPU = k.CurrentCPU().ID
		if intxCount == 3 {
			line.SetLevel(false) // the handler cleared the cause
		}
		return IRQ_HANDLED
	}, "intx")
	line.SetLevel(true)
	k.Clock().RunFor(time.Millisecond)
	if intxCount != 3 || intxCPU != 1 {
		t.Errorf("INTx handled %d times on CPU %d; want 3 on CPU 1 (level stays until cleared)", intxCount, intxCPU)
	}

	irqs, err := pdev.AllocIRQVectorsMSIX(1, 8)
	if err != nil {
		t.Fatal(err)
	}
	if len(irqs) != 4 || !m.Enabled() || m.FunctionMasked() {
		t.Fatalf("vectors %v, enabled %v masked %v", irqs, m.Enabled(), m.FunctionMasked())
	}
	got := map[int][]int{}
	for i, n := range irqs {
		i := i
		if pdev.PCIIRQVector(i) != n {
			t.Errorf("pci_irq_vector(%d) = %d, want %d", i, pdev.PCIIRQVector(i), n)
		}
		k.RequestIRQ(n, func(int) IRQReturn {
			got[i] = append(got[i], k.CurrentCPU().ID)
			return IRQ_HANDLED
		}, "msix")
	}
	for v := 0; v < 4; v++ {
		if !m.Fire(v) {
			t.Errorf("vector %d not sent", v)
		}
	}
	k.Clock().RunFor(time.Millisecond)
	for v := 0; v < 4; v++ {
		if len(got[v]) != 1 || got[v][0] != v%2 {
			t.Errorf("vector %d handled on %v, want once on CPU %d", v, got[v], v%2)
		}
	}
	// A masked vector is held pending and delivered on unmask.
	k.DisableIRQ(irqs[2])
	m.Fire(2)
	k.Clock().RunFor(time.Millisecond)
	if len(got[2]) != 1 {
		t.Errorf("disabled irq handled")
	}
	k.EnableIRQ(irqs[2])
	k.Clock().RunFor(time.Millisecond)
	if len(got[2]) != 2 {
		t.Errorf("irq raised while disabled was not delivered on enable: %v", got[2])
	}
	// A message outside the MSI window is counted, not delivered.
	k.WriteMSI(0x1000, uint32(irqs[0]))
	k.WriteMSI(MSIAddressBase, 200)
	k.Clock().RunFor(time.Millisecond)
	if k.Drops.BadMSI != 2 || len(got[0]) != 1 {
		t.Errorf("bad MSI: counted %d, vector 0 handled %d times", k.Drops.BadMSI, len(got[0]))
	}
}
