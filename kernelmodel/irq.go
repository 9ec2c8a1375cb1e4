package kernelmodel

import (
	"errors"
	"fmt"

	"github.com/nicbed/nicbed/hw/irq"
)

// IRQReturn is irqreturn_t.
type IRQReturn int

// Values of IRQReturn.
const (
	IRQ_NONE IRQReturn = iota
	IRQ_HANDLED
)

// IRQHandler is an irq_handler_t.
type IRQHandler func(irq int) IRQReturn

type irqDesc struct {
	k        *Kernel
	irq      int
	name     string
	span     string // "hardirq <name>", the trace span
	handler  IRQHandler
	cpu      int  // affinity
	disabled int  // disable_irq depth
	level    bool // an INTx line: level-triggered
	asserted bool
	pending  bool // raised, not yet handled
	timer    *Timer

	Count    uint64 // /proc/interrupts
	Spurious uint64 // handler said IRQ_NONE
}

// IRQs are numbered from 1; AllocIRQ hands out the next free number.

// AllocIRQ reserves a new interrupt number (what the platform does when it
// routes a device's INTx pin or MSI-X entry) with affinity to CPU 0.
func (k *Kernel) AllocIRQ() int {
	d := &irqDesc{k: k, irq: len(k.irqs) + 1}
	d.timer = k.clock.newTimer(d.fire)
	k.irqs = append(k.irqs, d)
	return d.irq
}

func (k *Kernel) desc(n int) *irqDesc {
	if n <= 0 || n > len(k.irqs) {
		return nil
	}
	return k.irqs[n-1]
}

// ErrNoIRQ is returned for an interrupt number that was never allocated.
var ErrNoIRQ = errors.New("kernelmodel: no such irq")

// RequestIRQ is request_irq(): install handler for irq.
func (k *Kernel) RequestIRQ(n int, handler IRQHandler, name string) error {
	d := k.desc(n)
	if d == nil {
		return fmt.Errorf("request_irq(%d): %w", n, ErrNoIRQ)
	}
	if d.handler != nil {
		return fmt.Errorf("request_irq(%d): busy (%s)", n, d.name)
	}
	d.handler, d.name = handler, name
	d.span = "hardirq " + name
	if d.pending || d.asserted {
		d.schedule()
	}
	return nil
}

// FreeIRQ is free_irq().
func (k *Kernel) FreeIRQ(n int) {
	if d := k.desc(n); d != nil {
		d.handler, d.name = nil, ""
		d.timer.Stop()
		d.pending = false
	}
}

// SetAffinity sets the CPU irq n is delivered on (/proc/irq/N/smp_affinity).
func (k *Kernel) SetAffinity(n, cpu int) error {
	d := k.desc(n)
	if d == nil {
		return fmt.Errorf("irq %d: %w", n, ErrNoIRQ)
	}
	if cpu < 0 || cpu >= len(k.cpus) {
		return fmt.Errorf("irq %d: no CPU %d", n, cpu)
	}
	d.cpu = cpu
	return nil
}

// DisableIRQ is disable_irq(): mask the interrupt (nesting).
func (k *Kernel) DisableIRQ(n int) {
	if d := k.desc(n); d != nil {
		d.disabled++
	}
}

// EnableIRQ is enable_irq(): unmask; an interrupt raised while masked is
// delivered now.
func (k *Kernel) EnableIRQ(n int) {
	d := k.desc(n)
	if d == nil || d.disabled == 0 {
		return
	}
	d.disabled--
	if d.disabled == 0 && (d.pending || d.asserted) {
		d.schedule()
	}
}

// IRQCount is the number of times irq n was handled (/proc/interrupts).
func (k *Kernel) IRQCount(n int) uint64 {
	if d := k.desc(n); d != nil {
		return d.Count
	}
	return 0
}

// INTxLine returns the interrupt line a device drives for irq n: a level-
// triggered line, delivered while asserted.
func (k *Kernel) INTxLine(n int) irq.Line {
	d := k.desc(n)
	if d == nil {
		return irq.NoLine{}
	}
	d.level = true
	return (*intxLine)(d)
}

type intxLine irqDesc

func (l *intxLine) SetLevel(asserted bool) {
	d := (*irqDesc)(l)
	d.asserted = asserted
	if asserted {
		d.schedule()
	}
}

// MSIAddressBase is the x86 MSI address window.
const MSIAddressBase = 0xFEE00000

// WriteMSI implements irq.MessageSink: an MSI/MSI-X message whose data's low
// 8 bits name the vector; vector v is interrupt number v (the kernel's
// pci_alloc_irq_vectors programs data = irq).
func (k *Kernel) WriteMSI(addr uint64, data uint32) {
	if addr&0xFFF00000 != MSIAddressBase {
		k.Drops.BadMSI++
		return
	}
	d := k.desc(int(data & 0xFF))
	if d == nil {
		k.Drops.BadMSI++
		return
	}
	d.pending = true
	d.schedule()
}

// Raise raises an edge interrupt directly (an MSI already decoded), for
// platform glue and tests.
func (k *Kernel) Raise(n int) {
	if d := k.desc(n); d != nil {
		d.pending = true
		d.schedule()
	}
}

func (d *irqDesc) schedule() {
	if d.disabled > 0 || d.handler == nil {
		return
	}
	c := d.k.cpus[d.cpu]
	at := d.k.clock.Now()
	if at < c.irqBusyUntil {
		at = c.irqBusyUntil
	}
	if !d.timer.Pending() {
		d.timer.ResetAt(at)
	}
}

// fire delivers the interrupt as a hardirq on its CPU: handle_irq_event,
// then irq_exit.
func (d *irqDesc) fire() {
	k := d.k
	c := k.cpus[d.cpu]
	now := k.clock.Now()
	if now < c.irqBusyUntil {
		d.timer.ResetAt(c.irqBusyUntil)
		return
	}
	if d.disabled > 0 || d.handler == nil || (!d.pending && !(d.level && d.asserted)) {
		return
	}
	d.pending = false
	d.Count++
	c.irqEnter(d.span)
	k.tracePointQ(c, "irq_handler_entry", 0, int64(d.irq), d.name)
	if d.handler(d.irq) == IRQ_NONE {
		d.Spurious++
	}
	k.tracePointQ(c, "irq_handler_exit", 0, int64(d.irq), d.name)
	c.irqExit(d.span)
	// A level-triggered line still asserted interrupts again.
	if d.level && d.asserted {
		d.schedule()
	}
}

// SendIPI is the IPI a CPU sends to another (smp_call_function_single_async
// for RPS): fn runs on CPU target in hardirq context.
func (k *Kernel) sendIPI(target *CPU, fn func(c *CPU)) {
	k.Charge(k.Cost.IPI)
	at := k.Now()
	t := target.ipiTimer
	target.ipiFns = append(target.ipiFns, fn)
	if !t.Pending() {
		t.ResetAt(at)
	}
}

func (c *CPU) ipiFire() {
	k := c.k
	now := k.clock.Now()
	if now < c.irqBusyUntil {
		c.ipiTimer.ResetAt(c.irqBusyUntil)
		return
	}
	c.irqEnter("hardirq IPI")
	fns := c.ipiFns
	c.ipiFns = c.ipiSpare[:0]
	for _, f := range fns {
		f(c)
	}
	c.ipiSpare = fns[:0]
	c.irqExit("hardirq IPI")
}

// irqEnter is irq_enter(): the CPU is in hardirq context from now.
func (c *CPU) irqEnter(span string) {
	k := c.k
	k.cur = c
	c.inHardirq = true
	c.HardirqCount++
	c.acc = 0
	k.traceBegin(c, span)
	c.acc = k.Cost.HardirqEntry
}

// irqExit is irq_exit(): the hardirq's CPU time delays whatever it
// interrupted, then pending softirqs run (invoke_softirq).
func (c *CPU) irqExit(span string) {
	k := c.k
	now := k.clock.Now()
	h := c.acc
	c.acc = 0
	c.irqBusyUntil = now + h
	if t := c.top(); t != nil && t.state == tsCharging {
		t.timer.ResetAt(t.timer.When() + h)
	}
	c.inHardirq = false
	k.traceEndAt(c, span, now+h)
	c.invokeSoftirq()
	k.cur = nil
}
