package kernelmodel

import (
	"testing"
	"time"
)

// recChip records the chip operations in order and, as a level chip,
// re-delivers on unmask while its line is asserted.
type recChip struct {
	k        *Kernel
	ops      []string
	asserted bool
	masked   bool
}

func (c *recChip) Name() string { return "rec" }
func (c *recChip) Mask(d *IRQData) {
	c.ops = append(c.ops, "mask")
	c.masked = true
}
func (c *recChip) Unmask(d *IRQData) {
	c.ops = append(c.ops, "unmask")
	c.masked = false
	if c.asserted {
		c.k.Raise(d.IRQ)
	}
}
func (c *recChip) Ack(d *IRQData) { c.ops = append(c.ops, "ack") }
func (c *recChip) EOI(d *IRQData) { c.ops = append(c.ops, "eoi") }

func (c *recChip) assert() {
	c.asserted = true
	if !c.masked {
		c.k.Raise(c.k.IRQData(1).IRQ)
	}
}

// A level line asserted again while its handler runs interrupts once more
// after the handler, when handle_level_irq unmasks: never inside it.
func TestLevelIRQRefiresAfterUnmask(t *testing.T) {
	t.Run("in-process INTx", func(t *testing.T) {
		k := New(Config{CPUs: 1})
		n := k.AllocIRQ()
		line := k.INTxLine(n)
		calls, nested := 0, false
		inside := false
		k.RequestIRQ(n, func(int) IRQReturn {
			nested = nested || inside
			inside = true
			calls++
			line.SetLevel(false) // the handler clears the cause
			if calls == 1 {
				line.SetLevel(true) // a new cause while it runs
			}
			inside = false
			return IRQ_HANDLED
		}, "intx")
		line.SetLevel(true)
		k.Clock().RunFor(time.Millisecond)
		if calls != 2 || nested {
			t.Errorf("handler ran %d times (nested %v), want 2, not nested", calls, nested)
		}
		if d := k.IRQToDesc(n); d.Count != 2 || k.CPU(0).HardirqCount != 2 {
			t.Errorf("count %d, hardirqs %d; want 2 and 2", d.Count, k.CPU(0).HardirqCount)
		}
	})
	t.Run("chip operations", func(t *testing.T) {
		k := New(Config{CPUs: 1})
		n := k.AllocIRQ()
		chip := &recChip{k: k}
		k.IRQSetChipAndHandler(n, chip, HandleLevelIRQ)
		k.IRQSetLevel(n, true)
		calls := 0
		k.RequestIRQ(n, func(int) IRQReturn {
			calls++
			chip.ops = append(chip.ops, "handler")
			chip.asserted = calls == 1 // still asserted after the first
			return IRQ_HANDLED
		}, "rec")
		chip.ops = nil
		chip.assert()
		k.Clock().RunFor(time.Millisecond)
		want := []string{"mask", "ack", "handler", "unmask", "mask", "ack", "handler", "unmask"}
		if calls != 2 || len(chip.ops) != len(want) {
			t.Fatalf("ops %v, want %v", chip.ops, want)
		}
		for i := range want {
			if chip.ops[i] != want[i] {
				t.Fatalf("ops %v, want %v", chip.ops, want)
			}
		}
	})
}

// An edge that arrives while its handler runs is replayed once by
// handle_edge_irq, in the same hardirq, with the chip masked meanwhile. A
// second edge then finds the chip masked: the chip holds it and delivers it
// on the unmask before the replay, as a new interrupt.
func TestEdgeIRQReplayedOnce(t *testing.T) {
	for _, tc := range []struct {
		raises                  int
		wantCalls               int
		wantCount, wantHardirqs uint64
	}{
		{1, 2, 1, 1},
		{2, 3, 2, 2},
	} {
		k := New(Config{CPUs: 1})
		n := k.AllocIRQ()
		calls, nested, inside := 0, false, false
		maskedInReplay := false
		d := k.IRQToDesc(n)
		k.RequestIRQ(n, func(int) IRQReturn {
			nested = nested || inside
			inside = true
			calls++
			if calls == 1 {
				for i := 0; i < tc.raises; i++ {
					k.Raise(n)
				}
				maskedInReplay = d.masked && d.pending
			}
			inside = false
			return IRQ_HANDLED
		}, "edge")
		k.Raise(n)
		k.Clock().RunFor(time.Millisecond)
		if calls != tc.wantCalls || nested || !maskedInReplay {
			t.Errorf("%d raises in the handler: handler ran %d times (nested %v, masked and pending %v), want %d", tc.raises, calls, nested, maskedInReplay, tc.wantCalls)
		}
		if d.Count != tc.wantCount || k.CPU(0).HardirqCount != tc.wantHardirqs || d.masked {
			t.Errorf("%d raises: count %d hardirqs %d masked %v; want %d, %d, unmasked", tc.raises, d.Count, k.CPU(0).HardirqCount, d.masked, tc.wantCount, tc.wantHardirqs)
		}
	}
}

// vfioINTx is a VFIO-like INTx: the host masks the line when it signals the
// interrupt (the eventfd) and unmasks it only on VFIO_DEVICE_SET_IRQS
// ACTION_UNMASK; a line still asserted then signals again.
type vfioINTx struct {
	DummyIRQChip
	k          *Kernel
	irq        int
	asserted   bool
	hostMasked bool
	unmasks    int
	signals    int
}

func (v *vfioINTx) Name() string { return "VFIO-INTx" }

func (v *vfioINTx) signal() {
	if v.asserted && !v.hostMasked {
		v.hostMasked = true // the host masks the line on delivery
		v.signals++
		v.k.Raise(v.irq)
	}
}

func (v *vfioINTx) Unmask(*IRQData) {
	v.unmasks++
	v.hostMasked = false
	v.signal()
}

// The VFIO INTx chip gets exactly one unmask per handled interrupt, and a
// line asserted again while masked by the host is delivered after it. The
// driver's handler is the same as on the in-process line.
func TestVFIOINTxOneUnmaskPerInterrupt(t *testing.T) {
	k := New(Config{CPUs: 1})
	n := k.AllocIRQ()
	v := &vfioINTx{k: k, irq: n}
	k.IRQSetChipAndHandler(n, v, HandleLevelIRQ)
	k.IRQSetLevel(n, true)
	handled := 0
	k.RequestIRQ(n, func(int) IRQReturn {
		handled++
		v.asserted = handled == 3 // the third cause comes in during the handler
		return IRQ_HANDLED
	}, "e1000")
	startUnmasks := v.unmasks // request_irq's startup unmask
	for i := 0; i < 4; i++ {
		k.Clock().AfterFunc(time.Duration(i+1)*100*time.Microsecond, func() {
			v.asserted = true
			v.signal()
		})
	}
	k.Clock().RunFor(time.Millisecond)
	if handled != 5 || v.signals != 5 {
		t.Errorf("handled %d of %d signals, want 5 (4 causes and one during a handler)", handled, v.signals)
	}
	if got := v.unmasks - startUnmasks; got != handled {
		t.Errorf("%d unmasks for %d interrupts", got, handled)
	}
	if v.hostMasked {
		t.Error("line left masked")
	}
}

// disable_irq nests; an edge that arrives while disabled is held (the chip
// masked lazily on its arrival) and delivered once by the outermost
// enable_irq. An enable too many is counted, not honoured.
func TestDisableEnableNestingPendingEdge(t *testing.T) {
	k := New(Config{CPUs: 1})
	n := k.AllocIRQ()
	calls := 0
	k.RequestIRQ(n, func(int) IRQReturn { calls++; return IRQ_HANDLED }, "edge")
	d := k.IRQToDesc(n)
	k.DisableIRQ(n)
	k.DisableIRQ(n)
	if d.masked {
		t.Error("disable_irq masked the chip at once (the disable is lazy)")
	}
	k.Raise(n)
	k.Clock().RunFor(time.Millisecond)
	if !d.masked || !d.pending {
		t.Errorf("edge while disabled: masked %v pending %v, want both", d.masked, d.pending)
	}
	k.Raise(n) // held in the masked chip
	k.Clock().RunFor(time.Millisecond)
	k.EnableIRQ(n)
	k.Clock().RunFor(time.Millisecond)
	if calls != 0 {
		t.Fatalf("handler ran %d times with one disable left", calls)
	}
	k.EnableIRQ(n)
	k.Clock().RunFor(time.Millisecond)
	if calls != 1 || d.Count != 1 {
		t.Errorf("after the outermost enable: handler ran %d times (count %d), want once", calls, d.Count)
	}
	k.EnableIRQ(n)
	if d.UnbalancedEnable != 1 || d.depth != 0 {
		t.Errorf("unbalanced enable: counted %d, depth %d", d.UnbalancedEnable, d.depth)
	}
	k.Raise(n)
	k.Clock().RunFor(time.Millisecond)
	if calls != 2 {
		t.Errorf("enabled irq: handler ran %d times, want 2", calls)
	}
}

// handle_fasteoi_irq sends one EOI per interrupt, masks one that arrives
// while disabled and enable_irq resends it; IRQ_NONE is counted spurious.
func TestFasteoiIRQ(t *testing.T) {
	k := New(Config{CPUs: 1})
	n := k.AllocIRQ()
	chip := &recChip{k: k}
	k.IRQSetChipAndHandler(n, chip, HandleFasteoiIRQ)
	calls := 0
	k.RequestIRQ(n, func(int) IRQReturn {
		calls++
		if calls == 2 {
			return IRQ_NONE
		}
		return IRQ_HANDLED
	}, "eoi")
	chip.ops = nil
	k.Raise(n)
	k.Clock().RunFor(time.Millisecond)
	k.Raise(n)
	k.Clock().RunFor(time.Millisecond)
	k.DisableIRQ(n)
	k.Raise(n)
	k.Clock().RunFor(time.Millisecond)
	k.EnableIRQ(n)
	k.Clock().RunFor(time.Millisecond)
	want := []string{"eoi", "eoi", "mask", "eoi", "unmask", "eoi"}
	if calls != 3 || len(chip.ops) != len(want) {
		t.Fatalf("handler %d times, ops %v, want 3 and %v", calls, chip.ops, want)
	}
	for i := range want {
		if chip.ops[i] != want[i] {
			t.Fatalf("ops %v, want %v", chip.ops, want)
		}
	}
	if d := k.IRQToDesc(n); d.Spurious != 1 || d.Count != 3 {
		t.Errorf("spurious %d count %d, want 1 and 3", d.Spurious, d.Count)
	}
}
