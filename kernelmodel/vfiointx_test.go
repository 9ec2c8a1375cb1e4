package kernelmodel_test

import (
	"testing"
	"time"

	"github.com/nicbed/nicbed/e1000/driver"
	"github.com/nicbed/nicbed/e1000/model"
	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/hw/irq"
	"github.com/nicbed/nicbed/hw/wire"
	"github.com/nicbed/nicbed/kernelmodel"
)

// vfioLine is the INTx of a function passed through VFIO, seen from the
// user process: the host masks the line when it signals the eventfd, and
// unmasks it on VFIO_DEVICE_SET_IRQS(ACTION_UNMASK), which is this chip's
// Unmask; a line still asserted then signals again. The device model drives
// it as its INTx pin.
type vfioLine struct {
	kernelmodel.DummyIRQChip
	k          *kernelmodel.Kernel
	irq        int
	asserted   bool
	hostMasked bool
	signals    uint64
	unmasks    uint64
}

var _ irq.Line = (*vfioLine)(nil)

func (v *vfioLine) Name() string { return "VFIO-INTx" }

func (v *vfioLine) SetLevel(asserted bool) {
	v.asserted = asserted
	v.signal()
}

func (v *vfioLine) signal() {
	if v.asserted && !v.hostMasked {
		v.hostMasked = true
		v.signals++
		v.k.Raise(v.irq) // the eventfd waiter, on the loop
	}
}

func (v *vfioLine) Mask(*kernelmodel.IRQData) { v.hostMasked = true }

func (v *vfioLine) Unmask(*kernelmodel.IRQData) {
	v.unmasks++
	v.hostMasked = false
	v.signal()
}

type e1000Host struct {
	k    *kernelmodel.Kernel
	nic  *model.Device
	pdev *kernelmodel.PCIDev
	dev  *kernelmodel.NetDevice
	got  int
}

func newE1000Host(t *testing.T, clk *kernelmodel.Clock, name string, mac [6]byte, vfio *vfioLine) *e1000Host {
	k := kernelmodel.New(kernelmodel.Config{Name: name, CPUs: 2, Clock: clk})
	mem := dma.NewArena(16 << 20)
	h := &e1000Host{k: k}
	var line irq.Line = &deferLine{}
	if vfio != nil {
		line = vfio
	}
	h.nic = model.New(model.Config{MAC: mac, Clock: clk, Mem: mem, INTx: line})
	h.pdev = k.NewPCIDev("0000:00:03.0", h.nic, mem)
	if vfio != nil {
		// The VFIO platform's INTx: its chip, handle_level_irq.
		vfio.k, vfio.irq, vfio.hostMasked = k, h.pdev.IRQ, true
		k.IRQSetChipAndHandler(h.pdev.IRQ, vfio, kernelmodel.HandleLevelIRQ)
		k.IRQSetLevel(h.pdev.IRQ, true)
	} else {
		line.(*deferLine).l = k.INTxLine(h.pdev.IRQ)
	}
	k.DevAddPack(&kernelmodel.PacketType{Type: 0x88b5, Func: func(s *kernelmodel.SKB) { h.got++; k.ConsumeSKB(s) }})
	return h
}

type deferLine struct{ l irq.Line }

func (d *deferLine) SetLevel(v bool) {
	if d.l != nil {
		d.l.SetLevel(v)
	}
}

func (h *e1000Host) task(t *testing.T, name string, fn func(task *kernelmodel.Task) error) {
	t.Helper()
	done := false
	var err error
	h.k.Spawn(0, name, func(task *kernelmodel.Task) { err = fn(task); done = true })
	clk := h.k.Clock()
	clk.RunWhile(func() bool { return !done }, clk.Now()+10*time.Second)
	if !done || err != nil {
		t.Fatalf("%s: %s: done %v, %v", h.k.Name, name, done, err)
	}
}

// The e1000 driver runs unchanged on a VFIO-like INTx backend (the line
// masks itself on delivery and needs an unmask after each interrupt): frames
// flow both ways as with the in-process line, every interrupt gets exactly
// one unmask, and every skb is freed once.
func TestE1000OnVFIOLikeINTx(t *testing.T) {
	clk := kernelmodel.NewVirtualClock()
	macA := [6]byte{0x52, 0x54, 0, 0x12, 0x34, 0x56}
	macB := [6]byte{0x52, 0x54, 0, 0x12, 0x34, 0x57}
	vfio := &vfioLine{}
	a := newE1000Host(t, clk, "hostA", macA, nil)
	b := newE1000Host(t, clk, "hostB", macB, vfio)
	cable := wire.NewCable(clk, wire.CableConfig{SpeedBPS: 1_000_000_000})
	la, lb := cable.Attach(a.nic, b.nic)
	a.nic.Connect(la)
	b.nic.Connect(lb)
	for _, h := range []*e1000Host{a, b} {
		h := h
		h.task(t, "probe", func(task *kernelmodel.Task) error {
			ad, err := driver.Probe(task, h.pdev, driver.Options{})
			if err == nil {
				h.dev = ad.Netdev()
			}
			return err
		})
		h.task(t, "ip-link-up", func(task *kernelmodel.Task) error { return h.dev.DevOpen(task) })
	}
	clk.RunFor(3 * time.Second) // autonegotiation, link up
	const frames = 3000
	fill := func(dst, src [6]byte) func(seq uint64, buf []byte) int {
		return func(seq uint64, buf []byte) int {
			n := 60 + int(seq%1400)
			copy(buf[0:6], dst[:])
			copy(buf[6:12], src[:])
			buf[12], buf[13] = 0x88, 0xb5
			return n
		}
	}
	pa := a.k.StartPktgen(1, kernelmodel.PktgenConfig{Dev: a.dev, Count: frames, Fill: fill(macB, macA)})
	pb := b.k.StartPktgen(1, kernelmodel.PktgenConfig{Dev: b.dev, Count: frames, Fill: fill(macA, macB)})
	clk.RunWhile(func() bool { return !pa.Done || !pb.Done || a.got < frames || b.got < frames }, clk.Now()+10*time.Second)
	if a.got != frames || b.got != frames {
		t.Fatalf("received A %d B %d of %d", a.got, b.got, frames)
	}
	d := b.k.IRQToDesc(b.pdev.IRQ)
	if d.Count == 0 || vfio.signals != d.Count || vfio.unmasks != d.Count+1 {
		t.Errorf("VFIO INTx: %d interrupts handled, %d eventfd signals, %d unmasks; want signals = interrupts, unmasks = interrupts + 1 (request_irq)", d.Count, vfio.signals, vfio.unmasks)
	}
	for _, h := range []*e1000Host{a, b} {
		h.task(t, "ip-link-down", func(task *kernelmodel.Task) error { return h.dev.DevClose(task) })
		if err := h.k.SKBAudit(); err != nil {
			t.Errorf("%s: %v", h.k.Name, err)
		}
	}
	if !vfio.hostMasked {
		t.Error("free_irq left the VFIO line unmasked")
	}
	t.Logf("host B: %d interrupts, %d spurious", d.Count, d.Spurious)
}
