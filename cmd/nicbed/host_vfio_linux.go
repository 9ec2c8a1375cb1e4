package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/hw/vfio"
	"github.com/nicbed/nicbed/testbed"
)

// passthrough is the hardware of nicbed host --vfio: the function, its DMA
// memory and its interrupts.
type passthrough struct {
	bdf  string
	dev  *vfio.Device
	dma  *vfio.DMA
	irqs *vfio.IRQs
}

// openPassthrough binds bdf to vfio-pci if it is not there yet, opens it
// and maps DMA memory for it at dma.DefaultBase.
func openPassthrough(bdf string) (*passthrough, error) {
	if _, err := vfio.Bind(bdf); err != nil {
		return nil, fmt.Errorf("--vfio %s: %w", bdf, err)
	}
	dev, err := vfio.Open(bdf)
	if err != nil {
		return nil, fmt.Errorf("--vfio %s: %w", bdf, err)
	}
	mem, err := dev.Container().NewDMA(testbed.DefaultArenaSize, dma.DefaultBase)
	if err != nil {
		dev.Close()
		return nil, fmt.Errorf("--vfio %s: %w", bdf, err)
	}
	return &passthrough{bdf: bdf, dev: dev, dma: mem, irqs: vfio.NewIRQs(dev)}, nil
}

// close turns the interrupts off, unmaps the DMA memory and closes the
// device. It may be called again.
func (p *passthrough) close() error {
	if p.dev == nil {
		return nil
	}
	err := errors.Join(p.irqs.Close(), p.dma.Close(), p.dev.Close())
	p.dev = nil
	if err != nil {
		return fmt.Errorf("--vfio %s: %w", p.bdf, err)
	}
	return nil
}

// writeReport prints, per interrupt vector, its name, vector (MSI-X
// entry, 0 for INTx), CPU, handled count and eventfd signals; for INTx the
// unmasks; and the accesses to the function that did nothing.
func (p *passthrough) writeReport(w io.Writer, h *testbed.Host) {
	k := h.Kernel
	fmt.Fprintf(w, "vfio %s interrupts:\n", p.bdf)
	for _, v := range h.VectorCounts() {
		d := k.IRQData(v.IRQ)
		fmt.Fprintf(w, "  %s: irq %d, vector %d (%s), cpu %d, count %d, eventfd signals %d\n",
			v.Name, v.IRQ, d.HWIRQ, d.Chip.Name(), k.IRQAffinity(v.IRQ), v.Count, p.irqs.Signals(v.IRQ))
	}
	if st := p.irqs.INTx(); st != (vfio.INTxStats{}) {
		fmt.Fprintf(w, "vfio %s INTx: unmasks %d, masks %d, SET_IRQS errors %d\n", p.bdf, st.Unmasks, st.Masks, st.Errors)
	}
	fmt.Fprintf(w, "vfio %s: bad register or config accesses %d; DMA %d bytes at IOVA %#x, %d allocated\n",
		p.bdf, p.dev.BadAccesses.Load(), p.dma.Size(), uint64(p.dma.IOVA), p.dma.Allocated())
}
