package kernelmodel

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nicbed/nicbed/hw"
	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/hw/irq"
	"github.com/nicbed/nicbed/hw/pci"
)

// Registers of regDev, a device with an e1000-like interrupt block and a
// transmit doorbell.
const (
	regICR = 0x00 // read: causes, cleared by the read
	regIMS = 0x04 // write: unmask causes
	regIMC = 0x08 // write: mask causes
	regTDT = 0x10 // write: transmit doorbell; "DMA done" txDelay later
)

// regDev records the device time (its clock's Now) of every access, as a
// device model sees it.
type regDev struct {
	clk     hw.Clock
	line    irq.Line
	icr     uint32
	ims     uint32
	txDone  hw.Timer
	txDelay time.Duration

	imsAt, icrAt, tdtAt, txDoneAt time.Duration
}

func (d *regDev) update() { d.line.SetLevel(d.icr&d.ims != 0) }

func (d *regDev) Read32(off uint32) uint32 {
	if off == regICR {
		d.icrAt = d.clk.Now()
		v := d.icr
		d.icr = 0
		d.update()
		return v
	}
	return 0
}

func (d *regDev) Write32(off, v uint32) {
	switch off {
	case regIMS:
		d.imsAt = d.clk.Now()
		d.ims |= v
	case regIMC:
		d.ims &^= v
	case regTDT:
		d.tdtAt = d.clk.Now()
		d.txDone.Reset(d.txDelay)
	}
	d.update()
}

// newRegDev makes the device on PCI and maps its BAR0 for the driver.
func newRegDev(t *testing.T, k *Kernel) (*regDev, *PCIDev, pci.BAR) {
	t.Helper()
	d := &regDev{clk: k.Clock(), txDelay: time.Microsecond}
	d.txDone = k.Clock().NewTimer(func() { d.txDoneAt = d.clk.Now() })
	cfg := pci.NewConfig(pci.ID{Vendor: 0x8086, Device: 0x100E, Class: 0x020000, InterruptPin: 1})
	cfg.SetBAR(0, 4096)
	pdev := k.NewPCIDev("0000:00:05.0", pci.NewFunction(cfg, [pci.NumBARs]pci.BAR{0: d}), dma.NewArena(1<<16))
	d.line = k.INTxLine(pdev.IRQ)
	if err := pdev.EnableDevice(); err != nil {
		t.Fatal(err)
	}
	bar, err := pdev.IORemapBAR(0)
	if err != nil {
		t.Fatal(err)
	}
	return d, pdev, bar
}

// A thread's register write reaches the device at the CPU's time, not the
// loop's: the interrupt an IMS write unmasks is taken after the write, and
// it preempts the thread before the thread goes on; the effect of a TX
// doorbell is not before the doorbell.
func TestDeviceAccessAtCPUTime(t *testing.T) {
	k := New(Config{CPUs: 1})
	d, pdev, bar := newRegDev(t, k)
	var entry, exit time.Duration
	k.RequestIRQ(pdev.IRQ, func(int) IRQReturn {
		entry = k.Now()
		if bar.Read32(regICR) == 0 {
			return IRQ_NONE
		}
		exit = k.Now()
		return IRQ_HANDLED
	}, "regdev")
	d.icr = 1 // a cause waits, masked
	var writeAt, afterWrite, tdtAt time.Duration
	k.Spawn(0, "drv", func(task *Task) {
		task.Charge(7 * time.Microsecond) // work before the unmask
		writeAt = k.Now()
		bar.Write32(regIMS, 1)
		afterWrite = k.Now()
		task.Charge(3 * time.Microsecond)
		tdtAt = k.Now()
		bar.Write32(regTDT, 1)
	})
	k.Clock().RunFor(time.Millisecond)

	if d.imsAt < writeAt {
		t.Errorf("IMS write issued at CPU time %v reached the device at %v", writeAt, d.imsAt)
	}
	if entry == 0 || entry < d.imsAt || entry < writeAt {
		t.Errorf("irq handler entered at %v, the write that unmasked it was at %v (device %v)", entry, writeAt, d.imsAt)
	}
	if d.icrAt != entry {
		t.Errorf("the handler's ICR read reached the device at %v, the handler began at %v", d.icrAt, entry)
	}
	if afterWrite < exit {
		t.Errorf("the thread went on at %v, before the hardirq it unmasked ended (%v)", afterWrite, exit)
	}
	if d.tdtAt < tdtAt || d.txDoneAt < tdtAt+d.txDelay {
		t.Errorf("doorbell at CPU time %v reached the device at %v; its DMA finished at %v", tdtAt, d.tdtAt, d.txDoneAt)
	}
}

// A hardirq pays its entry cost before the handler runs, so the handler's
// first register access reaches the device HardirqEntry after the
// interrupt was raised on an idle CPU.
func TestHardirqEntryBeforeHandler(t *testing.T) {
	k := New(Config{CPUs: 1})
	d, pdev, bar := newRegDev(t, k)
	k.RequestIRQ(pdev.IRQ, func(int) IRQReturn {
		bar.Read32(regICR)
		return IRQ_HANDLED
	}, "regdev")
	k.Clock().RunFor(10 * time.Microsecond)
	raised := k.Clock().Now()
	d.icr, d.ims = 1, 1
	d.update()
	k.Clock().RunFor(time.Millisecond)
	if want := raised + k.Cost.HardirqEntry; d.icrAt != want {
		t.Errorf("ICR read at %v, want %v (raised at %v + irq entry)", d.icrAt, want, raised)
	}
}

// An interrupt that comes due while a thread sleeps off the CPU time of code
// it has already run is taken at the end of that section, so the CPU's trace
// stays in time order; it still delays what the thread does next.
func TestHardirqWaitsForSection(t *testing.T) {
	var buf bytes.Buffer
	tr := NewTracer(&buf, nil)
	k := New(Config{CPUs: 1, Tracer: tr})
	n := k.AllocIRQ()
	var entry time.Duration
	k.RequestIRQ(n, func(int) IRQReturn { entry = k.Now(); return IRQ_HANDLED }, "ext")
	var sectionEnd, next time.Duration
	k.Spawn(0, "busy", func(task *Task) {
		task.Charge(10 * time.Microsecond)
		k.TracePoint("section_end", 0, 0)
		sectionEnd = k.Now()
		task.CondResched()
		next = k.Now()
		k.TracePoint("next", 0, 0)
	})
	k.Clock().AfterFunc(3*time.Microsecond, func() { k.Raise(n) })
	k.Clock().RunFor(time.Millisecond)
	tr.Close()
	if entry < sectionEnd {
		t.Errorf("hardirq at %v inside the section that ends at %v", entry, sectionEnd)
	}
	if next < entry || next <= sectionEnd {
		t.Errorf("thread went on at %v; hardirq entered at %v", next, entry)
	}
	checkMonotonic(t, buf.String())
}

// checkMonotonic checks that the text trace's timestamps never go back per
// (host, CPU).
func checkMonotonic(t *testing.T, trace string) {
	t.Helper()
	last := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(trace))
	lines := 0
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 {
			continue
		}
		ts, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			t.Fatalf("bad line %q", sc.Text())
		}
		key := f[1] + " " + f[2]
		if l, ok := last[key]; ok && ts < l {
			t.Errorf("%s: time goes back from %.9f at %q", key, l, sc.Text())
		}
		last[key] = ts
		lines++
	}
	if lines == 0 {
		t.Fatal("empty trace")
	}
}
