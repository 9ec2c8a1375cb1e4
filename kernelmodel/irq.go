package kernelmodel

import (
	"errors"
	"fmt"
	"time"

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

// IRQChip is a struct irq_chip: the operations on one interrupt that its
// backend provides (the in-process INTx line, in-process MSI/MSI-X, a VFIO
// INTx or MSI-X eventfd). The flow handler calls them; drivers never do, so
// a driver runs unchanged on any backend. Mask and Unmask are called only
// on a change of the kernel's masked state (mask_irq/unmask_irq); Ack and
// EOI on every interrupt of the flows that use them. Embed DummyIRQChip for
// the operations a chip does not need.
type IRQChip interface {
	Name() string      // the chip column of /proc/interrupts
	Mask(d *IRQData)   // irq_mask: the interrupt may not be delivered
	Unmask(d *IRQData) // irq_unmask: it may again (and is, if it is pending or its line asserted)
	Ack(d *IRQData)    // irq_ack: at the start of an edge interrupt
	EOI(d *IRQData)    // irq_eoi: the end of a fasteoi interrupt
}

// DummyIRQChip is dummy_irq_chip: every operation does nothing. Chips embed
// it for the operations they do not need.
type DummyIRQChip struct{}

func (DummyIRQChip) Name() string    { return "dummy" }
func (DummyIRQChip) Mask(*IRQData)   {}
func (DummyIRQChip) Unmask(*IRQData) {}
func (DummyIRQChip) Ack(*IRQData)    {}
func (DummyIRQChip) EOI(*IRQData)    {}

// IRQData is a struct irq_data: what a chip operation is given.
type IRQData struct {
	IRQ      int // the interrupt number (what request_irq takes)
	HWIRQ    int // the backend's number: MSI-X table entry, MSI vector, 0 for INTx
	Chip     IRQChip
	ChipData any // irq_data_get_irq_chip_data: the backend's own

	desc *IRQDesc
}

// Kernel is the interrupt's kernel.
func (d *IRQData) Kernel() *Kernel { return d.desc.k }

// IRQFlowHandler is an irq_flow_handler_t: how an interrupt that reached
// its CPU is handled (HandleLevelIRQ, HandleEdgeIRQ, HandleFasteoiIRQ).
type IRQFlowHandler func(desc *IRQDesc)

// IRQDesc is a struct irq_desc: one interrupt's chip, flow handler, action
// and state.
type IRQDesc struct {
	Data IRQData

	k         *Kernel
	handleIRQ IRQFlowHandler
	action    IRQHandler
	name      string
	span      string // "hardirq <name>", the trace span
	cpu       int    // affinity
	depth     int    // disable_irq nesting; 1 while not requested

	// irq_data state (IRQD_*).
	masked     bool // IRQD_IRQ_MASKED: the kernel's view of the chip mask
	disabled   bool // IRQD_IRQ_DISABLED
	inProgress bool // IRQD_IRQ_INPROGRESS: the handler runs
	level      bool // IRQD_LEVEL: not resent (the line still asserts)

	// istate.
	pending bool // IRQS_PENDING: arrived while it could not be handled
	replay  bool // IRQS_REPLAY: resent, not yet handled

	// The CPU side: the interrupt was sent to its CPU and waits there
	// (the local APIC's IRR) until the CPU takes it at timer.
	inflight bool
	timer    *Timer
	entered  time.Duration // the CPU took it at this time, handler not yet run; -1 if not

	// The in-process interrupt controller (controllerChip): its mask, an
	// edge latched while masked, and an INTx line's level.
	ctlMasked  bool
	ctlLatched bool
	isLine     bool
	asserted   bool

	Count            uint64 // /proc/interrupts (kstat_incr_irqs_this_cpu)
	Spurious         uint64 // handler said IRQ_NONE (note_interrupt: irqs_unhandled)
	UnbalancedEnable uint64 // enable_irq without a disable ("Unbalanced enable for IRQ")
}

type irqDesc = IRQDesc

// controllerChip is the in-process interrupt controller (an I/O APIC for
// INTx lines, the APIC's vectors for messages): masking holds an edge in
// the controller and delivers it on unmask; an INTx line asserted at
// unmask is delivered.
type controllerChip struct {
	DummyIRQChip
	name string
}

func (c *controllerChip) Name() string { return c.name }

func (c *controllerChip) Mask(d *IRQData) { d.desc.ctlMasked = true }

func (c *controllerChip) Unmask(d *IRQData) {
	desc := d.desc
	desc.ctlMasked = false
	if desc.ctlLatched || (desc.isLine && desc.asserted) {
		desc.ctlLatched = false
		desc.cpuDeliver()
	}
}

var (
	softIRQChip = &controllerChip{name: "model-edge"}
	intxIRQChip = &controllerChip{name: "IO-APIC"}
)

// ControllerIRQChip returns a chip that masks in the kernel's interrupt
// controller: an interrupt raised (Raise, WriteMSI) while masked is held and
// delivered on unmask. It is the chip of backends that cannot mask at the
// device (an MSI without mask bits, a VFIO MSI-X eventfd). Use it with
// HandleEdgeIRQ.
func ControllerIRQChip(name string) IRQChip { return &controllerChip{name: name} }

// IRQs are numbered from 1; AllocIRQ hands out the next free number.

// AllocIRQ reserves a new interrupt number (irq_alloc_desc: what the
// platform does when it routes a device's INTx pin or MSI-X entry) with
// affinity to CPU 0. It starts on the controller's edge chip with
// handle_edge_irq, masked and disabled until request_irq; a backend sets
// its own chip and flow with IRQSetChipAndHandler.
func (k *Kernel) AllocIRQ() int {
	d := &IRQDesc{k: k, depth: 1, masked: true, disabled: true, ctlMasked: true, entered: -1}
	d.Data = IRQData{IRQ: len(k.irqs) + 1, Chip: softIRQChip, desc: d}
	d.handleIRQ = HandleEdgeIRQ
	d.span = "hardirq irq" + itoa(d.Data.IRQ)
	d.timer = k.clock.newTimer(d.fire)
	k.irqs = append(k.irqs, d)
	return d.Data.IRQ
}

func (k *Kernel) desc(n int) *IRQDesc {
	if n <= 0 || n > len(k.irqs) {
		return nil
	}
	return k.irqs[n-1]
}

// IRQToDesc is irq_to_desc(), nil for a number never allocated.
func (k *Kernel) IRQToDesc(n int) *IRQDesc { return k.desc(n) }

// ErrNoIRQ is returned for an interrupt number that was never allocated.
var ErrNoIRQ = errors.New("kernelmodel: no such irq")

// IRQSetChipAndHandler is irq_set_chip_and_handler(): the backend's chip
// and the flow handler for irq n. A level flow (HandleLevelIRQ,
// HandleFasteoiIRQ) marks the interrupt level: it is not resent on enable,
// its line asserts again. The interrupt keeps its masked state.
func (k *Kernel) IRQSetChipAndHandler(n int, chip IRQChip, handle IRQFlowHandler) error {
	d := k.desc(n)
	if d == nil {
		return fmt.Errorf("irq_set_chip_and_handler(%d): %w", n, ErrNoIRQ)
	}
	if chip == nil {
		chip = DummyIRQChip{}
	}
	d.Data.Chip, d.handleIRQ = chip, handle
	if _, ok := chip.(*controllerChip); ok {
		d.ctlMasked = d.masked
	} else {
		d.ctlMasked, d.ctlLatched = false, false
	}
	return nil
}

// IRQSetLevel marks irq n level-triggered (irqd_set_trigger_type
// IRQ_TYPE_LEVEL_*): check_irq_resend does not replay it.
func (k *Kernel) IRQSetLevel(n int, level bool) {
	if d := k.desc(n); d != nil {
		d.level = level
	}
}

// IRQData is irq_get_irq_data(): the data a backend fills (HWIRQ,
// ChipData).
func (k *Kernel) IRQData(n int) *IRQData {
	if d := k.desc(n); d != nil {
		return &d.Data
	}
	return nil
}

// RequestIRQ is request_irq(): install handler for irq and start it up
// (irq_startup: enable, unmask, resend what arrived before).
func (k *Kernel) RequestIRQ(n int, handler IRQHandler, name string) error {
	d := k.desc(n)
	if d == nil {
		return fmt.Errorf("request_irq(%d): %w", n, ErrNoIRQ)
	}
	if d.action != nil {
		return fmt.Errorf("request_irq(%d): busy (%s)", n, d.name)
	}
	d.action, d.name = handler, name
	d.span = "hardirq " + name
	d.startup()
	return nil
}

// startup is irq_startup() / irq_enable(): depth 0, enabled, unmasked, and
// check_irq_resend.
func (d *IRQDesc) startup() {
	d.depth = 0
	d.disabled = false
	d.unmask()
	d.checkResend()
}

// FreeIRQ is free_irq(): remove the handler and shut the interrupt down
// (irq_shutdown: disabled, masked, depth 1).
func (k *Kernel) FreeIRQ(n int) {
	d := k.desc(n)
	if d == nil {
		return
	}
	d.action, d.name = nil, ""
	d.depth = 1
	d.disabled = true
	d.mask()
	d.pending, d.replay, d.inflight = false, false, false
	d.entered = -1
	d.timer.Stop()
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

// IRQAffinity is the CPU irq n is delivered on
// (/proc/irq/N/effective_affinity_list), -1 for a number never allocated.
func (k *Kernel) IRQAffinity(n int) int {
	if d := k.desc(n); d != nil {
		return d.cpu
	}
	return -1
}

// DisableIRQ is disable_irq() (nesting). The disable is lazy, as in Linux:
// the chip is masked only when an interrupt arrives while disabled, which
// the flow handler marks pending. (There is no other CPU to wait for:
// handlers run to completion.)
func (k *Kernel) DisableIRQ(n int) {
	d := k.desc(n)
	if d == nil {
		return
	}
	if d.depth == 0 {
		d.disabled = true
	}
	d.depth++
}

// EnableIRQ is enable_irq(): undo one disable_irq; the outermost enables,
// unmasks and resends an edge that arrived while disabled (a level line
// that is still asserted interrupts again by itself). An enable without a
// disable is counted (UnbalancedEnable) and ignored.
func (k *Kernel) EnableIRQ(n int) {
	d := k.desc(n)
	if d == nil {
		return
	}
	switch d.depth {
	case 0:
		d.UnbalancedEnable++
	case 1:
		d.startup()
	default:
		d.depth--
	}
}

// IRQCount is the number of times irq n was handled (/proc/interrupts).
func (k *Kernel) IRQCount(n int) uint64 {
	if d := k.desc(n); d != nil {
		return d.Count
	}
	return 0
}

// mask is mask_irq().
func (d *IRQDesc) mask() {
	if !d.masked {
		d.Data.Chip.Mask(&d.Data)
		d.masked = true
	}
}

// unmask is unmask_irq().
func (d *IRQDesc) unmask() {
	if d.masked {
		d.masked = false
		d.Data.Chip.Unmask(&d.Data)
	}
}

// maskAck is mask_ack_irq().
func (d *IRQDesc) maskAck() {
	d.mask()
	d.Data.Chip.Ack(&d.Data)
}

// condUnmask is cond_unmask_irq(): after a level interrupt, unmask unless
// it was disabled meanwhile.
func (d *IRQDesc) condUnmask() {
	if !d.disabled && d.masked {
		d.unmask()
	}
}

// checkResend is check_irq_resend(): an edge that arrived while the
// interrupt could not be handled is sent to the CPU again (irq_sw_resend);
// a level interrupt is not (its line asserts again by itself).
func (d *IRQDesc) checkResend() {
	if d.level {
		d.pending = false
		return
	}
	if d.replay || !d.pending {
		return
	}
	d.pending = false
	d.replay = true
	d.cpuDeliver()
}

// handleIRQEvent is handle_irq_event(): run the action with the interrupt
// in progress.
func (d *IRQDesc) handleIRQEvent() {
	k := d.k
	d.pending = false
	d.inProgress = true
	k.tracePointQ(k.cur, "irq_handler_entry", 0, int64(d.Data.IRQ), d.name)
	if d.action(d.Data.IRQ) == IRQ_NONE {
		d.Spurious++
	}
	k.tracePointQ(k.cur, "irq_handler_exit", 0, int64(d.Data.IRQ), d.name)
	d.inProgress = false
}

// HandleLevelIRQ is handle_level_irq(): mask and ack, run the handler,
// unmask unless disabled meanwhile. A line still asserted at unmask
// interrupts again; one asserted while the handler ran does so once.
func HandleLevelIRQ(d *IRQDesc) {
	d.maskAck()
	if d.inProgress { // !irq_may_run
		return
	}
	d.replay = false
	if d.action == nil || d.disabled {
		d.pending = true
		return
	}
	d.Count++
	d.handleIRQEvent()
	d.condUnmask()
}

// HandleEdgeIRQ is handle_edge_irq(): ack and run the handler; an edge
// that arrives while the handler runs is marked pending (and the chip
// masked) and the handler runs again, once per pending edge, after
// unmasking. An edge that arrives while disabled is marked pending and
// masked; enable_irq resends it.
func HandleEdgeIRQ(d *IRQDesc) {
	d.replay = false
	if d.inProgress || d.action == nil || d.disabled {
		d.pending = true
		d.maskAck()
		return
	}
	d.Count++
	d.Data.Chip.Ack(&d.Data)
	for {
		if d.action == nil {
			d.mask()
			return
		}
		if d.pending && !d.disabled && d.masked {
			d.unmask()
		}
		d.handleIRQEvent()
		if !d.pending || d.disabled {
			return
		}
	}
}

// HandleFasteoiIRQ is handle_fasteoi_irq(): run the handler, then EOI (the
// chip's end of interrupt re-arms the source). An interrupt that arrives
// while disabled is masked and marked pending.
func HandleFasteoiIRQ(d *IRQDesc) {
	chip := d.Data.Chip
	if d.inProgress {
		chip.EOI(&d.Data)
		return
	}
	d.replay = false
	if d.action == nil || d.disabled {
		d.pending = true
		d.mask()
		chip.EOI(&d.Data)
		return
	}
	d.Count++
	d.handleIRQEvent()
	chip.EOI(&d.Data)
}

// INTxLine returns the interrupt line a device drives for irq n: a level-
// triggered line into the in-process I/O APIC, handled by handle_level_irq.
func (k *Kernel) INTxLine(n int) irq.Line {
	d := k.desc(n)
	if d == nil {
		return irq.NoLine{}
	}
	k.IRQSetChipAndHandler(n, intxIRQChip, HandleLevelIRQ)
	d.level, d.isLine = true, true
	return (*intxLine)(d)
}

type intxLine IRQDesc

func (l *intxLine) SetLevel(asserted bool) {
	d := (*IRQDesc)(l)
	d.asserted = asserted
	if asserted && !d.ctlMasked {
		d.cpuDeliver()
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
	d.arrive()
}

// Raise is interrupt n arriving at the kernel, as an edge: an MSI already
// decoded, a VFIO eventfd signalled (by the backend, on the loop), or a
// test. A chip of the controller holds it while masked.
func (k *Kernel) Raise(n int) {
	if d := k.desc(n); d != nil {
		d.arrive()
	}
}

// arrive is an edge reaching the interrupt controller.
func (d *IRQDesc) arrive() {
	if d.ctlMasked {
		d.ctlLatched = true
		return
	}
	d.cpuDeliver()
}

// cpuDeliver sends the interrupt to its CPU, which takes it as soon as it
// is not in a hardirq. An interrupt that arrives while its own handler runs
// goes to the flow handler at once (as it would on another CPU in Linux):
// it is what the flow's in-progress rules are for.
func (d *IRQDesc) cpuDeliver() {
	if d.inProgress {
		d.handleIRQ(d)
		return
	}
	d.inflight = true
	c := d.k.cpus[d.cpu]
	at := d.k.clock.Now()
	if at < c.irqBusyUntil {
		at = c.irqBusyUntil
	}
	if !d.timer.Pending() {
		d.timer.ResetAt(at)
	}
}

// fire is the CPU taking the interrupt, in two halves: irq entry
// (hardirqEntry, so the handler's first register access reaches the device
// at the CPU's time), then irq_enter, the flow handler (generic_handle_irq)
// and irq_exit. An interrupt sent again meanwhile is taken after this one.
func (d *IRQDesc) fire() {
	c := d.k.cpus[d.cpu]
	if c.hardirqWait(d.timer) {
		return
	}
	if d.entered < 0 {
		if !d.inflight {
			return
		}
		d.inflight = false
		if d.isLine && !d.asserted {
			return // the line dropped before the CPU took the interrupt
		}
		d.entered = c.hardirqEntry(d.timer)
		return
	}
	c.irqEnterAt(d.span, d.entered)
	d.entered = -1
	d.handleIRQ(d)
	c.irqExit(d.span)
	if d.inflight && !d.timer.Pending() {
		d.timer.ResetAt(d.k.clock.Now())
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
	if c.hardirqWait(c.ipiTimer) {
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

// irqEnter is irq_enter(): the CPU is in hardirq context from now and pays
// the entry cost.
func (c *CPU) irqEnter(span string) {
	c.irqEnterAt(span, -1)
	c.acc = c.k.Cost.HardirqEntry
}

// irqEnterAt is irq_enter() for a hardirq whose entry cost was paid from
// start on (hardirqEntry); start < 0 means now.
func (c *CPU) irqEnterAt(span string, start time.Duration) {
	k := c.k
	k.cur = c
	c.inHardirq = true
	c.HardirqCount++
	c.acc = 0
	if start < 0 {
		k.traceBegin(c, span)
	} else {
		k.traceBeginAt(c, span, start)
	}
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
