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
	IRQ  int           // pdev->irq: the legacy INTx interrupt (the first MSI one while MSI is on)
	DMA  dma.Allocator // dma_alloc_coherent
	// Vectors is the platform's interrupt backend for the function
	// (pci_alloc_irq_vectors goes through it): InProcessVectors by default.
	Vectors IRQVectorBackend

	k    *Kernel
	irqs pciIRQs
}

// NewPCIDev is what PCI enumeration makes for fn: a pci_dev with a fresh
// interrupt number for its INTx pin. The platform connects the device's
// INTx output to Kernel.INTxLine(pdev.IRQ).
func (k *Kernel) NewPCIDev(name string, fn pci.Function, mem dma.Allocator) *PCIDev {
	irq := k.AllocIRQ()
	return &PCIDev{Name: name, Func: fn, IRQ: irq, DMA: mem, Vectors: InProcessVectors, k: k, irqs: pciIRQs{intx: irq}}
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
