// Package hw holds what the hardware side of nicbed shares: the clock a device
// model keeps time with, and (in subpackages) DMA memory, PCI configuration
// space and BARs, interrupt lines and messages, and the wire.
//
// The driver talks to hardware only through these small interfaces, so that an
// in-process device model, a VFIO-mapped device in a QEMU guest and any later
// backend are interchangeable:
//
//   - pci.BAR: 32-bit register reads and writes at an offset (MMIO).
//   - dma.Allocator / dma.Memory: physical memory the driver allocates and the
//     device reads and writes by physical address.
//   - irq.Line / irq.MessageSink: how a device raises an interrupt (INTx level,
//     MSI or MSI-X message); the kernel model delivers it as a hardirq.
//   - wire.Link: where frames leave a NIC port.
package hw

import "time"

// Clock is the time source a device model and the wire keep time with. In a
// virtual run it is the kernel model's discrete-event loop: time moves only
// when the loop says so, and timer callbacks run on the loop, one at a time,
// in (time, sequence) order. In a real-time run the same interface is backed by
// wall time and callbacks are still serialized on one loop goroutine.
type Clock interface {
	// Now is the time since the clock's epoch.
	Now() time.Duration
	// NewTimer makes a stopped timer that will run f on the loop when it
	// fires. Make timers once and Reset them: Reset does not allocate.
	NewTimer(f func()) Timer
}

// Timer is a one-shot timer made by a Clock.
type Timer interface {
	// Reset (re)arms the timer to fire d from now; a pending expiry is
	// replaced.
	Reset(d time.Duration)
	// ResetAt (re)arms the timer to fire at absolute time t (clamped to now).
	ResetAt(t time.Duration)
	// Stop disarms the timer; it reports whether it was pending.
	Stop() bool
	// Pending reports whether the timer is armed.
	Pending() bool
	// When is the expiry time of an armed timer.
	When() time.Duration
}
