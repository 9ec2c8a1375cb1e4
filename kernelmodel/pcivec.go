package kernelmodel

import (
	"errors"
	"fmt"

	"github.com/nicbed/nicbed/hw/pci"
)

// Interrupt types of pci_alloc_irq_vectors (PCI_IRQ_*).
const (
	PCI_IRQ_LEGACY    = 1 << 0 // the INTx pin
	PCI_IRQ_MSI       = 1 << 1
	PCI_IRQ_MSIX      = 1 << 2
	PCI_IRQ_ALL_TYPES = PCI_IRQ_LEGACY | PCI_IRQ_MSI | PCI_IRQ_MSIX
)

// IRQVectorBackend is how the platform gives a PCI function its interrupts:
// what pci_alloc_irq_vectors and pci_free_irq_vectors do below the PCI core
// (Linux's MSI irq domain and the arch code). InProcessVectors programs the
// modelled function's MSI-X table or MSI capability so that its messages
// reach Kernel.WriteMSI; a VFIO backend uses VFIO_DEVICE_SET_IRQS with one
// eventfd per vector, whose waiter raises the interrupt on the loop
// (Kernel.Raise). Drivers never see the backend.
type IRQVectorBackend interface {
	// VecCount is pci_msix_vec_count / pci_msi_vec_count for typ
	// (PCI_IRQ_MSIX or PCI_IRQ_MSI): the vectors the function offers, 0 if
	// none. For PCI_IRQ_LEGACY it is 1 if the function has an INTx pin
	// the platform routed, else 0.
	VecCount(p *PCIDev, typ int) int
	// Enable routes vectors 0..len(irqs)-1 of typ to the interrupts irqs
	// (allocated by the caller; for PCI_IRQ_LEGACY the one INTx
	// interrupt) and gives each its chip and flow handler
	// (Kernel.IRQSetChipAndHandler; IRQData.HWIRQ is the vector). The
	// interrupts stay masked until request_irq unmasks them through the
	// chip.
	Enable(p *PCIDev, typ int, irqs []int) error
	// Disable undoes Enable (pci_free_irq_vectors), after free_irq.
	Disable(p *PCIDev, typ int, irqs []int)
}

// pciIRQs is what pci_alloc_irq_vectors set up.
type pciIRQs struct {
	intx int   // the INTx interrupt the platform routed (pdev->irq at probe)
	typ  int   // PCI_IRQ_* in use, 0 for none
	vecs []int // interrupt of each vector
}

// ErrNoVectors is pci_alloc_irq_vectors' -ENOSPC: no interrupt type allowed
// by the flags offers min vectors.
var ErrNoVectors = errors.New("kernelmodel: not enough interrupt vectors (-ENOSPC)")

// AllocIRQVectors is pci_alloc_irq_vectors(pdev, min, max, flags): try
// MSI-X, then MSI, then the INTx pin, each if flags allow it, as Linux does.
// MSI-X and MSI give up to max vectors if the function offers at least min;
// INTx is one vector and only when min is 1. It returns the number of
// vectors; vector i is then PCIIRQVector(i), affine to CPU i modulo the CPU
// count (as irqbalance would spread them). Enabling MSI or MSI-X sets the
// Command register's INTx Disable; INTx clears it (pci_intx).
func (p *PCIDev) AllocIRQVectors(minVecs, maxVecs int, flags int) (int, error) {
	if p.irqs.typ != 0 {
		return 0, fmt.Errorf("%s: pci_alloc_irq_vectors: vectors already allocated", p.Name)
	}
	if minVecs < 1 || maxVecs < minVecs {
		return 0, fmt.Errorf("%s: pci_alloc_irq_vectors(%d, %d): -EINVAL", p.Name, minVecs, maxVecs)
	}
	b := p.Vectors
	if b == nil {
		b = InProcessVectors
	}
	for _, typ := range [...]int{PCI_IRQ_MSIX, PCI_IRQ_MSI} {
		if flags&typ == 0 {
			continue
		}
		n := b.VecCount(p, typ)
		if n < minVecs {
			continue
		}
		n = min(n, maxVecs)
		irqs := p.allocVectorIRQs(typ, n)
		if irqs == nil {
			continue
		}
		if err := b.Enable(p, typ, irqs); err != nil {
			return 0, fmt.Errorf("%s: %w", p.Name, err)
		}
		p.intx(false)
		p.irqs.typ, p.irqs.vecs = typ, irqs
		if typ == PCI_IRQ_MSI {
			p.IRQ = irqs[0]
		}
		return n, nil
	}
	if flags&PCI_IRQ_LEGACY != 0 && minVecs == 1 && b.VecCount(p, PCI_IRQ_LEGACY) > 0 {
		irqs := []int{p.irqs.intx}
		if err := b.Enable(p, PCI_IRQ_LEGACY, irqs); err != nil {
			return 0, fmt.Errorf("%s: %w", p.Name, err)
		}
		p.intx(true)
		p.irqs.typ, p.irqs.vecs = PCI_IRQ_LEGACY, irqs
		return 1, nil
	}
	return 0, fmt.Errorf("%s: pci_alloc_irq_vectors(%d, %d, %#x): %w", p.Name, minVecs, maxVecs, flags, ErrNoVectors)
}

// allocVectorIRQs allocates n interrupts for vectors of typ: for MSI a
// block aligned to n rounded up to a power of two (the device puts the
// vector number in the low bits of the message data). It returns nil if the
// numbers would not fit the 8-bit message data.
func (p *PCIDev) allocVectorIRQs(typ, n int) []int {
	k := p.k
	if typ == PCI_IRQ_MSI {
		blk := 1
		for blk < n {
			blk <<= 1
		}
		for (len(k.irqs)+1)%blk != 0 {
			k.AllocIRQ() // a hole, never used
		}
	}
	if len(k.irqs)+n > 0xFF {
		return nil
	}
	irqs := make([]int, n)
	for i := range irqs {
		irqs[i] = k.AllocIRQ()
		k.SetAffinity(irqs[i], i%len(k.cpus))
	}
	return irqs
}

// intx is pci_intx(): enable or disable the INTx pin (Command.INTx Disable).
func (p *PCIDev) intx(enable bool) {
	cmd := p.Func.ConfigRead(pci.Command, 2)
	if enable {
		cmd &^= pci.CommandINTxDisable
	} else {
		cmd |= pci.CommandINTxDisable
	}
	p.Func.ConfigWrite(pci.Command, 2, cmd)
}

// FreeIRQVectors is pci_free_irq_vectors(): undo AllocIRQVectors. Vectors
// still requested are freed first (Linux warns about them).
func (p *PCIDev) FreeIRQVectors() {
	if p.irqs.typ == 0 {
		return
	}
	for _, n := range p.irqs.vecs {
		if d := p.k.desc(n); d != nil && d.action != nil && p.irqs.typ != PCI_IRQ_LEGACY {
			p.k.FreeIRQ(n)
		}
	}
	b := p.Vectors
	if b == nil {
		b = InProcessVectors
	}
	b.Disable(p, p.irqs.typ, p.irqs.vecs)
	p.IRQ = p.irqs.intx
	p.irqs.typ, p.irqs.vecs = 0, nil
}

// IRQType is the PCI_IRQ_* type AllocIRQVectors chose, 0 before.
func (p *PCIDev) IRQType() int { return p.irqs.typ }

// PCIIRQVector is pci_irq_vector(): the interrupt number of vector i, or
// -EINVAL if there is no such vector. Without AllocIRQVectors vector 0 is
// the INTx interrupt.
func (p *PCIDev) PCIIRQVector(i int) int {
	if p.irqs.typ == 0 {
		if i == 0 {
			return p.irqs.intx
		}
		return -EINVAL
	}
	if i >= 0 && i < len(p.irqs.vecs) {
		return p.irqs.vecs[i]
	}
	return -EINVAL
}

// AllocIRQVectorsMSIX is pci_alloc_irq_vectors(pdev, min, max,
// PCI_IRQ_MSIX), returning the interrupt numbers.
func (p *PCIDev) AllocIRQVectorsMSIX(min, max int) ([]int, error) {
	n, err := p.AllocIRQVectors(min, max, PCI_IRQ_MSIX)
	if err != nil {
		return nil, err
	}
	return append([]int(nil), p.irqs.vecs[:n]...), nil
}

// InProcessVectors is the backend for modelled functions: their MSI-X
// table and MSI capability are programmed through configuration space and
// the BAR, with address in the x86 MSI window and data = the interrupt
// number, and the device's messages reach Kernel.WriteMSI. MSI-X vectors
// mask in the table (Vector Control's Mask Bit, the device holds a message
// in the PBA); MSI, without mask bits, masks in the kernel's controller.
// INTx is the line the platform connected to Kernel.INTxLine(pdev.IRQ).
var InProcessVectors IRQVectorBackend = inProcessVectors{}

type inProcessVectors struct{}

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

// MSI capability fields (6.8.1).
const (
	msiCtl       = 2
	msiAddrLo    = 4
	msiCtlEnable = 1 << 0
	msiCtl64     = 1 << 7
)

func (inProcessVectors) VecCount(p *PCIDev, typ int) int {
	switch typ {
	case PCI_IRQ_MSIX:
		if c := p.FindCapability(pci.CapMSIX); c != 0 {
			return int(p.Func.ConfigRead(c+msixCtl, 2)&msixCtlSizeMask) + 1
		}
	case PCI_IRQ_MSI:
		if c := p.FindCapability(pci.CapMSI); c != 0 {
			return 1 << (p.Func.ConfigRead(c+msiCtl, 2) >> 1 & 7)
		}
	case PCI_IRQ_LEGACY:
		if p.Func.ConfigRead(pci.InterruptPin, 1) != 0 {
			return 1
		}
	}
	return 0
}

func (inProcessVectors) Enable(p *PCIDev, typ int, irqs []int) error {
	k := p.k
	switch typ {
	case PCI_IRQ_MSIX:
		// msix_capability_init: Function Mask while the table is
		// written, every entry masked until request_irq unmasks it.
		c := p.FindCapability(pci.CapMSIX)
		if c == 0 {
			return errors.New("no MSI-X capability")
		}
		tbl := p.Func.ConfigRead(c+msixTableReg, 4)
		bar := p.Func.BAR(int(tbl & 7))
		if bar == nil {
			return fmt.Errorf("MSI-X table in missing BAR%d", tbl&7)
		}
		chip := &msixChip{bar: bar, base: tbl &^ 7}
		ctl := p.Func.ConfigRead(c+msixCtl, 2)
		p.Func.ConfigWrite(c+msixCtl, 2, ctl|msixCtlEnable|msixCtlFuncMask)
		for i, irq := range irqs {
			e := chip.base + uint32(i*msixEntry)
			bar.Write32(e, MSIAddressBase)
			bar.Write32(e+4, 0)
			bar.Write32(e+8, uint32(irq))
			bar.Write32(e+msixVectorCtlOff, pci.MSIXVectorMask)
			k.IRQSetChipAndHandler(irq, chip, HandleEdgeIRQ)
			k.IRQData(irq).HWIRQ = i
		}
		p.Func.ConfigWrite(c+msixCtl, 2, (ctl|msixCtlEnable)&^msixCtlFuncMask)
	case PCI_IRQ_MSI:
		c := p.FindCapability(pci.CapMSI)
		if c == 0 {
			return errors.New("no MSI capability")
		}
		ctl := p.Func.ConfigRead(c+msiCtl, 2)
		data := c + 8
		p.Func.ConfigWrite(c+msiAddrLo, 4, MSIAddressBase)
		if ctl&msiCtl64 != 0 {
			p.Func.ConfigWrite(c+8, 4, 0)
			data = c + 12
		}
		p.Func.ConfigWrite(data, 2, uint32(irqs[0]))
		mme := uint32(0)
		for 1<<mme < len(irqs) {
			mme++
		}
		chip := ControllerIRQChip("PCI-MSI")
		for i, irq := range irqs {
			k.IRQSetChipAndHandler(irq, chip, HandleEdgeIRQ)
			k.IRQData(irq).HWIRQ = i
		}
		p.Func.ConfigWrite(c+msiCtl, 2, ctl&^(7<<4)|mme<<4|msiCtlEnable)
	case PCI_IRQ_LEGACY:
		// The platform wired the line to Kernel.INTxLine(irq), which
		// set the I/O APIC chip and handle_level_irq.
	}
	return nil
}

func (inProcessVectors) Disable(p *PCIDev, typ int, irqs []int) {
	switch typ {
	case PCI_IRQ_MSIX:
		if c := p.FindCapability(pci.CapMSIX); c != 0 {
			ctl := p.Func.ConfigRead(c+msixCtl, 2)
			p.Func.ConfigWrite(c+msixCtl, 2, ctl&^msixCtlEnable)
		}
	case PCI_IRQ_MSI:
		if c := p.FindCapability(pci.CapMSI); c != 0 {
			ctl := p.Func.ConfigRead(c+msiCtl, 2)
			p.Func.ConfigWrite(c+msiCtl, 2, ctl&^msiCtlEnable)
		}
	}
}

// msixChip is pci_msi_mask_irq/pci_msi_unmask_irq for MSI-X: the entry's
// Mask Bit in the function's table.
type msixChip struct {
	DummyIRQChip
	bar  pci.BAR
	base uint32
}

func (c *msixChip) Name() string { return "PCI-MSIX" }

func (c *msixChip) Mask(d *IRQData) {
	c.bar.Write32(c.base+uint32(d.HWIRQ*msixEntry)+msixVectorCtlOff, pci.MSIXVectorMask)
}

func (c *msixChip) Unmask(d *IRQData) {
	c.bar.Write32(c.base+uint32(d.HWIRQ*msixEntry)+msixVectorCtlOff, 0)
}
