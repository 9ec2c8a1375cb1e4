package kernelmodel

import (
	"fmt"

	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/hw/pci"
)

// PCIDev is a struct pci_dev: the kernel's handle on one PCI function, with
// the interrupt the platform routed its INTx pin to and the DMA memory it
// may use. Drivers get one in probe.
type PCIDev struct {
	Name string // bus/device/function, e.g. "0000:00:03.0"
	Func pci.Function
	IRQ  int           // pdev->irq: the legacy INTx interrupt
	DMA  dma.Allocator // dma_alloc_coherent

	k    *Kernel
	msix []int
}

// NewPCIDev is what PCI enumeration makes for fn: a pci_dev with a fresh
// interrupt number for its INTx pin. The platform connects the device's
// INTx output to Kernel.INTxLine(pdev.IRQ).
func (k *Kernel) NewPCIDev(name string, fn pci.Function, mem dma.Allocator) *PCIDev {
	return &PCIDev{Name: name, Func: fn, IRQ: k.AllocIRQ(), DMA: mem, k: k}
}

// Kernel is the device's kernel.
func (p *PCIDev) Kernel() *Kernel { return p.k }

// VendorDevice reads the vendor and device IDs.
func (p *PCIDev) VendorDevice() (uint16, uint16) {
	return uint16(p.Func.ConfigRead(pci.VendorID, 2)), uint16(p.Func.ConfigRead(pci.DeviceID, 2))
}

// EnableDevice is pci_enable_device_mem(): turn on memory decoding.
func (p *PCIDev) EnableDevice() error {
	v, _ := p.VendorDevice()
	if v == 0xFFFF {
		return fmt.Errorf("%s: no device", p.Name)
	}
	cmd := p.Func.ConfigRead(pci.Command, 2)
	p.Func.ConfigWrite(pci.Command, 2, cmd|pci.CommandMemory)
	return nil
}

// SetMaster is pci_set_master(): enable bus mastering (DMA).
func (p *PCIDev) SetMaster() {
	cmd := p.Func.ConfigRead(pci.Command, 2)
	p.Func.ConfigWrite(pci.Command, 2, cmd|pci.CommandBusMaster)
}

// ClearMaster is pci_clear_master().
func (p *PCIDev) ClearMaster() {
	cmd := p.Func.ConfigRead(pci.Command, 2)
	p.Func.ConfigWrite(pci.Command, 2, cmd&^pci.CommandBusMaster)
}

// IORemapBAR is pci_ioremap_bar(): the BAR's registers. Each access charges
// the CPU Cost.MMIO, as uncached accesses do.
func (p *PCIDev) IORemapBAR(i int) (pci.BAR, error) {
	b := p.Func.BAR(i)
	if b == nil {
		return nil, fmt.Errorf("%s: no BAR%d", p.Name, i)
	}
	return &mmio{bar: b, k: p.k}, nil
}

type mmio struct {
	bar pci.BAR
	k   *Kernel
}

// mmio is an ioremapped BAR. Every access is a synchronisation point between
// the CPU and the device: see Kernel.mmioEnter.
func (m *mmio) Read32(off uint32) uint32 {
	t := m.k.mmioEnter()
	v := m.bar.Read32(off)
	m.k.mmioExit(t)
	return v
}

func (m *mmio) Write32(off, v uint32) {
	t := m.k.mmioEnter()
	m.bar.Write32(off, v)
	m.k.mmioExit(t)
}

// FindCapability is pci_find_capability(): the offset of the first
// capability with the given ID, or 0.
func (p *PCIDev) FindCapability(id uint8) int {
	if p.Func.ConfigRead(pci.Status, 2)&pci.StatusCapList == 0 {
		return 0
	}
	off := int(p.Func.ConfigRead(pci.CapPtr, 1)) &^ 3
	for ttl := 48; off >= 0x40 && ttl > 0; ttl-- {
		if uint8(p.Func.ConfigRead(off, 1)) == id {
			return off
		}
		off = int(p.Func.ConfigRead(off+1, 1)) &^ 3
	}
	return 0
}

// MSI-X capability fields (PCI Local Bus Specification 3.0, 6.8.2).
const (
	msixCtl          = 2
	msixTableReg     = 4
	msixCtlEnable    = 1 << 15
	msixCtlFuncMask  = 1 << 14
	msixCtlSizeMask  = 0x7FF
	msixEntry        = 16
	msixVectorCtlOff = 12
)

// AllocIRQVectorsMSIX is pci_alloc_irq_vectors(pdev, min, max,
// PCI_IRQ_MSIX): allocate up to max interrupts, program one MSI-X table entry
// per interrupt (address in the x86 MSI window, data = the interrupt number),
// unmask them and enable MSI-X. Interrupt i is then PCIIRQVector(i), affine
// to CPU i modulo the CPU count (as irqbalance would spread them).
func (p *PCIDev) AllocIRQVectorsMSIX(min, max int) ([]int, error) {
	cap := p.FindCapability(pci.CapMSIX)
	if cap == 0 {
		return nil, fmt.Errorf("%s: no MSI-X capability", p.Name)
	}
	ctl := p.Func.ConfigRead(cap+msixCtl, 2)
	size := int(ctl&msixCtlSizeMask) + 1
	n := max
	if n > size {
		n = size
	}
	if n < min || n < 1 {
		return nil, fmt.Errorf("%s: MSI-X offers %d vectors, %d needed", p.Name, size, min)
	}
	tbl := p.Func.ConfigRead(cap+msixTableReg, 4)
	bar := p.Func.BAR(int(tbl & 7))
	if bar == nil {
		return nil, fmt.Errorf("%s: MSI-X table in missing BAR%d", p.Name, tbl&7)
	}
	base := tbl &^ 7
	// Function Mask while the table is written, as Linux does.
	p.Func.ConfigWrite(cap+msixCtl, 2, ctl|msixCtlEnable|msixCtlFuncMask)
	irqs := make([]int, n)
	for i := range irqs {
		irq := p.k.AllocIRQ()
		p.k.SetAffinity(irq, i%len(p.k.cpus))
		e := base + uint32(i*msixEntry)
		bar.Write32(e, MSIAddressBase)
		bar.Write32(e+4, 0)
		bar.Write32(e+8, uint32(irq))
		bar.Write32(e+msixVectorCtlOff, 0)
		irqs[i] = irq
	}
	p.Func.ConfigWrite(cap+msixCtl, 2, (ctl|msixCtlEnable)&^msixCtlFuncMask)
	p.msix = irqs
	return irqs, nil
}

// PCIIRQVector is pci_irq_vector(): the interrupt number of vector i, or
// pdev->irq (INTx) when MSI-X is not in use.
func (p *PCIDev) PCIIRQVector(i int) int {
	if i >= 0 && i < len(p.msix) {
		return p.msix[i]
	}
	return p.IRQ
}
