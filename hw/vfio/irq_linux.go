package vfio

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/nicbed/nicbed/kernelmodel"
)

// irqDevice is what IRQs needs of a Device (a fake in tests).
type irqDevice interface {
	IRQInfo(index int) IRQInfo
	SetIRQs(index int, flags uint32, start, count int, fds []int32) error
}

// SetIRQs is VFIO_DEVICE_SET_IRQS: for vectors start..start+count-1 of
// index, the action and data flags say (VFIO_IRQ_SET_*); with
// DATA_EVENTFD, fds are the eventfds (-1 leaves a vector without one).
// ACTION_TRIGGER with DATA_NONE and count 0 turns the index off.
func (d *Device) SetIRQs(index int, flags uint32, start, count int, fds []int32) error {
	var buf [5 + 64]uint32 // the header and up to 64 eventfds, on the stack
	if len(fds) > 64 {
		return fmt.Errorf("vfio: SET_IRQS of %d eventfds", len(fds))
	}
	n := 5 + len(fds)
	buf[0], buf[1], buf[2], buf[3], buf[4] = uint32(4*n), flags, uint32(index), uint32(start), uint32(count)
	for i, fd := range fds {
		buf[5+i] = uint32(fd)
	}
	if err := ioctlPtr(d.fd, VFIO_DEVICE_SET_IRQS, unsafe.Pointer(&buf[0])); err != nil {
		return fmt.Errorf("vfio: %s: VFIO_DEVICE_SET_IRQS(index %d, flags %#x, %d+%d): %w", d.BDF, index, flags, start, count, err)
	}
	return nil
}

// IRQs is the kernelmodel.IRQVectorBackend of a VFIO function: what the
// host kernel's vfio-pci offers for its interrupts, seen through eventfds.
//
//   - MSI-X and MSI: one eventfd per vector (SET_IRQS ACTION_TRIGGER |
//     DATA_EVENTFD). The host cannot mask a vector for us, so each
//     interrupt's chip is the kernel model's controller
//     (kernelmodel.ControllerIRQChip, handle_edge_irq): an edge that arrives
//     while masked is held and delivered on unmask.
//   - INTx: one eventfd. The host masks the line when it signals it
//     (VFIO_IRQ_INFO_AUTOMASKED); the chip's Unmask is SET_IRQS
//     ACTION_UNMASK, which the level flow (handle_level_irq) issues after the
//     handler ran, and a line still asserted then signals again. Mask is
//     ACTION_MASK, when the host has not masked the line already.
//
// One goroutine per eventfd blocks in read(2) and posts a function to the
// kernel model's loop (through a kernelmodel.Source) that raises the
// interrupt there (Kernel.Raise): interrupts enter the model only on its
// loop. A read returns the number of signals since the last one: several
// become one interrupt, as several MSI messages to a busy vector do.
//
// Enable, Disable, ConnectINTx and Close run on the loop (the driver's
// task) or after it stopped.
type IRQs struct {
	dev irqDevice
	src *kernelmodel.Source
	k   *kernelmodel.Kernel

	msi  *vectorSet // MSI or MSI-X, while enabled
	intx *vectorSet // INTx, while connected
	chip *intxChip
}

var _ kernelmodel.IRQVectorBackend = (*IRQs)(nil)

// NewIRQs makes the interrupt backend of d. Set it as the PCIDev's
// Vectors; for a driver that requests pdev.IRQ without
// pci_alloc_irq_vectors (e1000), call ConnectINTx as the platform does when
// it routes the pin.
func NewIRQs(d *Device) *IRQs { return &IRQs{dev: d} }

// vectorSet is the eventfds of one index and their waiters.
type vectorSet struct {
	index  int
	vecs   []*vector
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// vector is one eventfd and the interrupt it raises.
type vector struct {
	irq, hw int
	f       *os.File
	fd      int32
	live    bool   // on the loop: raise still raises
	raise   func() // posted to the loop
	signals atomic.Uint64
}

// intxChip is the VFIO INTx line's irq_chip (see IRQs).
type intxChip struct {
	kernelmodel.DummyIRQChip
	b          *IRQs
	hostMasked bool // the host holds the line masked (it signalled, or we masked it)
	unmasks    atomic.Uint64
	masks      atomic.Uint64
	errs       atomic.Uint64
}

func (c *intxChip) Name() string { return "VFIO-INTx" }

func (c *intxChip) Mask(*kernelmodel.IRQData) {
	if c.hostMasked {
		return
	}
	c.hostMasked = true
	c.masks.Add(1)
	if c.b.dev.SetIRQs(VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_MASK|VFIO_IRQ_SET_DATA_NONE, 0, 1, nil) != nil {
		c.errs.Add(1)
	}
}

func (c *intxChip) Unmask(*kernelmodel.IRQData) {
	c.hostMasked = false
	c.unmasks.Add(1)
	if c.b.dev.SetIRQs(VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK|VFIO_IRQ_SET_DATA_NONE, 0, 1, nil) != nil {
		c.errs.Add(1)
	}
}

// source is the backend's inbox on k's loop, made on first use.
func (b *IRQs) source(k *kernelmodel.Kernel) *kernelmodel.Source {
	if b.src == nil {
		b.k = k
		b.src = k.Clock().NewSource("vfio-irq", 64)
	}
	return b.src
}

// VecCount implements kernelmodel.IRQVectorBackend: the vectors of the
// index as VFIO_DEVICE_GET_IRQ_INFO gave them (only if eventfds can signal
// them).
func (b *IRQs) VecCount(p *kernelmodel.PCIDev, typ int) int {
	index, ok := vfioIndex(typ)
	if !ok {
		return 0
	}
	info := b.dev.IRQInfo(index)
	if info.Flags&VFIO_IRQ_INFO_EVENTFD == 0 {
		return 0
	}
	if typ == kernelmodel.PCI_IRQ_LEGACY {
		return min(int(info.Count), 1)
	}
	return int(info.Count)
}

func vfioIndex(typ int) (int, bool) {
	switch typ {
	case kernelmodel.PCI_IRQ_MSIX:
		return VFIO_PCI_MSIX_IRQ_INDEX, true
	case kernelmodel.PCI_IRQ_MSI:
		return VFIO_PCI_MSI_IRQ_INDEX, true
	case kernelmodel.PCI_IRQ_LEGACY:
		return VFIO_PCI_INTX_IRQ_INDEX, true
	}
	return 0, false
}

// Enable implements kernelmodel.IRQVectorBackend. For MSI-X and MSI it
// turns INTx off first (vfio-pci has one interrupt type at a time); for
// INTx it is ConnectINTx.
func (b *IRQs) Enable(p *kernelmodel.PCIDev, typ int, irqs []int) error {
	index, ok := vfioIndex(typ)
	switch {
	case !ok:
		return fmt.Errorf("vfio: interrupt type %#x", typ)
	case typ == kernelmodel.PCI_IRQ_LEGACY:
		return b.ConnectINTx(p)
	case b.msi != nil:
		return fmt.Errorf("vfio: MSI or MSI-X already enabled (index %d)", b.msi.index)
	}
	if b.intx != nil {
		b.stop(&b.intx)
	}
	k := p.Kernel()
	name := "VFIO-MSIX"
	if typ == kernelmodel.PCI_IRQ_MSI {
		name = "VFIO-MSI"
	}
	chip := kernelmodel.ControllerIRQChip(name)
	for i, irq := range irqs {
		if err := k.IRQSetChipAndHandler(irq, chip, kernelmodel.HandleEdgeIRQ); err != nil {
			return err
		}
		k.IRQData(irq).HWIRQ = i
	}
	set, err := b.start(k, index, irqs, func(v *vector) func() {
		return func() {
			if v.live {
				k.Raise(v.irq)
			}
		}
	})
	if err != nil {
		return err
	}
	b.msi = set
	return nil
}

// ConnectINTx routes the function's INTx to p.IRQ (the platform's part of
// PCI enumeration): the VFIO INTx chip with handle_level_irq, an eventfd
// triggered by the line, masked at the host until request_irq unmasks it.
// It does nothing if INTx is connected already.
func (b *IRQs) ConnectINTx(p *kernelmodel.PCIDev) error {
	if b.intx != nil {
		return nil
	}
	if b.msi != nil {
		return fmt.Errorf("vfio: INTx while MSI or MSI-X is enabled (index %d)", b.msi.index)
	}
	if b.VecCount(p, kernelmodel.PCI_IRQ_LEGACY) == 0 {
		return errors.New("vfio: the function has no INTx (VFIO_DEVICE_GET_IRQ_INFO index 0)")
	}
	k := p.Kernel()
	chip := &intxChip{b: b, hostMasked: true}
	if err := k.IRQSetChipAndHandler(p.IRQ, chip, kernelmodel.HandleLevelIRQ); err != nil {
		return err
	}
	k.IRQSetLevel(p.IRQ, true)
	k.IRQData(p.IRQ).HWIRQ = 0
	set, err := b.start(k, VFIO_PCI_INTX_IRQ_INDEX, []int{p.IRQ}, func(v *vector) func() {
		return func() {
			if v.live {
				chip.hostMasked = true // the host masked the line as it signalled
				k.Raise(v.irq)
			}
		}
	})
	if err != nil {
		return err
	}
	// Masked until request_irq, as the kernel's interrupt is.
	if err := b.dev.SetIRQs(VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_MASK|VFIO_IRQ_SET_DATA_NONE, 0, 1, nil); err != nil {
		b.intx = set
		b.stop(&b.intx)
		return err
	}
	b.intx, b.chip = set, chip
	return nil
}

// start makes an eventfd per interrupt, gives them to the device for index
// and starts their waiters.
func (b *IRQs) start(k *kernelmodel.Kernel, index int, irqs []int, raise func(v *vector) func()) (*vectorSet, error) {
	src := b.source(k)
	set := &vectorSet{index: index}
	set.ctx, set.cancel = context.WithCancel(context.Background())
	fds := make([]int32, len(irqs))
	for i, irq := range irqs {
		fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
		if err != nil {
			set.close()
			return nil, fmt.Errorf("vfio: eventfd: %w", err)
		}
		v := &vector{irq: irq, hw: i, fd: int32(fd), live: true}
		v.f = os.NewFile(uintptr(fd), fmt.Sprintf("vfio-irq%d-%d", index, i))
		v.raise = raise(v)
		set.vecs = append(set.vecs, v)
		fds[i] = int32(fd)
	}
	if err := b.dev.SetIRQs(index, VFIO_IRQ_SET_ACTION_TRIGGER|VFIO_IRQ_SET_DATA_EVENTFD, 0, len(fds), fds); err != nil {
		set.close()
		return nil, err
	}
	for _, v := range set.vecs {
		set.wg.Add(1)
		go set.wait(src, v)
	}
	return set, nil
}

// wait is one eventfd's waiter.
func (s *vectorSet) wait(src *kernelmodel.Source, v *vector) {
	defer s.wg.Done()
	var buf [8]byte
	for {
		if _, err := v.f.Read(buf[:]); err != nil {
			return // closed
		}
		v.signals.Add(1)
		if src.Post(s.ctx, v.raise) != nil {
			return
		}
	}
}

// close stops the waiters: functions already posted raise nothing, a
// waiter blocked in Post gives up, the eventfds are closed (which ends the
// reads), and it waits for the goroutines.
func (s *vectorSet) close() {
	for _, v := range s.vecs {
		v.live = false
	}
	s.cancel()
	for _, v := range s.vecs {
		v.f.Close()
	}
	s.wg.Wait()
}

// stop turns the index of *set off at the device (SET_IRQS count 0: the
// host stops signalling and lets go of the eventfds), then closes it.
func (b *IRQs) stop(set **vectorSet) error {
	s := *set
	if s == nil {
		return nil
	}
	*set = nil
	err := b.dev.SetIRQs(s.index, VFIO_IRQ_SET_ACTION_TRIGGER|VFIO_IRQ_SET_DATA_NONE, 0, 0, nil)
	s.close()
	return err
}

// Disable implements kernelmodel.IRQVectorBackend: MSI-X or MSI off and
// their eventfds closed. INTx stays connected (the platform's routing of
// the pin, as in process); Close disconnects it.
func (b *IRQs) Disable(p *kernelmodel.PCIDev, typ int, irqs []int) {
	if typ != kernelmodel.PCI_IRQ_LEGACY {
		b.stop(&b.msi)
	}
}

// Close turns every interrupt of the function off and ends the waiters.
func (b *IRQs) Close() error {
	return errors.Join(b.stop(&b.msi), b.stop(&b.intx))
}

// Signals is the number of eventfd reads that saw interrupt irq signalled
// (several signals between two reads count once), for the vectors enabled
// now.
func (b *IRQs) Signals(irq int) uint64 {
	for _, s := range []*vectorSet{b.msi, b.intx} {
		if s == nil {
			continue
		}
		for _, v := range s.vecs {
			if v.irq == irq {
				return v.signals.Load()
			}
		}
	}
	return 0
}

// INTxStats are the INTx chip's counts: unmasks (SET_IRQS ACTION_UNMASK,
// one per interrupt handled and one per request_irq), masks (ACTION_MASK)
// and SET_IRQS calls that failed.
type INTxStats struct {
	Unmasks, Masks, Errors uint64
}

// INTx returns the INTx chip's counts (zero if INTx was never connected).
func (b *IRQs) INTx() INTxStats {
	if b.chip == nil {
		return INTxStats{}
	}
	return INTxStats{b.chip.unmasks.Load(), b.chip.masks.Load(), b.chip.errs.Load()}
}
