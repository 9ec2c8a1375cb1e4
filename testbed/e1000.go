package testbed

import (
	"fmt"

	"github.com/nicbed/nicbed/e1000/driver"
	"github.com/nicbed/nicbed/e1000/model"
	"github.com/nicbed/nicbed/hw/irq"
	"github.com/nicbed/nicbed/kernelmodel"
)

// PCIAddr is the PCI address both hosts' NIC sits at (QEMU's first NIC slot).
const PCIAddr = "0000:00:03.0"

// E1000 is the Factory of the 82540EM: the e1000/model device with the
// e1000/driver driver, on INTx. The zero value is the datasheet model with
// the driver's defaults.
type E1000 struct {
	// Driver are the options both drivers are probed with (module
	// parameters); DriverB, if not nil, replaces them for host B.
	Driver  driver.Options
	DriverB *driver.Options
	// Model, if not nil, edits each host's model configuration before the
	// model is made: a QEMU profile, an EEPROM image, the autonegotiation
	// time. h is the host (h.Index 0 is A).
	Model func(h *Host, c *model.Config)
}

// Name implements Factory.
func (E1000) Name() string { return "e1000" }

// New implements Factory: an 82540EM on h's clock and DMA memory at PCIAddr,
// its INTA# wired to the kernel's line.
func (f E1000) New(h *Host) (ModelNIC, error) {
	k := h.Kernel
	line := &lineProxy{}
	cfg := model.Config{MAC: h.MAC, Clock: k.Clock(), Mem: h.Mem, INTx: line}
	if f.Model != nil {
		f.Model(h, &cfg)
	}
	m := model.New(cfg)
	pdev := k.NewPCIDev(PCIAddr, m, h.Mem)
	line.l = k.INTxLine(pdev.IRQ)
	opts := f.Driver
	if h.Index == 1 && f.DriverB != nil {
		opts = *f.DriverB
	}
	return &E1000NIC{E1000Driver: E1000Driver{nicBase: nicBase[*driver.Adapter]{PCI: pdev}, opts: opts}, modelBase: modelBase[*model.Device]{Model: m}}, nil
}

// lineProxy forwards INTA# to the kernel's line once the PCI device (and so
// its interrupt number) exists: the model needs its line when it is made, the
// kernel hands out the interrupt number when the device is enumerated.
type lineProxy struct{ l irq.Line }

func (p *lineProxy) SetLevel(v bool) {
	if p.l != nil {
		p.l.SetLevel(v)
	}
}

// E1000Driver is the e1000 driver bound to one host's 82540EM: a model
// (inside an E1000NIC) or QEMU's through VFIO (NewPassthroughNIC). It is a
// NIC by itself, whose Anomalies are the driver's.
type E1000Driver struct {
	nicBase[*driver.Adapter]
	opts driver.Options
}

// E1000NIC is one host's 82540EM model and e1000 driver. Tests of the e1000
// driver reach them through E1000Of.
type E1000NIC struct {
	E1000Driver
	modelBase[*model.Device]
}

// RxReady reports whether the model takes frames now (false while the
// QEMU profile holds receive after an RCTL write).
func (n *E1000NIC) RxReady() bool { return n.Model.RxReady() }

// E1000Of returns h's e1000 NIC, or nil if h has another NIC.
func E1000Of(h *Host) *E1000NIC {
	n, _ := h.NIC.(*E1000NIC)
	return n
}

// Probe implements NIC: e1000_probe in task t.
func (n *E1000Driver) Probe(t *kernelmodel.Task) error {
	a, err := driver.Probe(t, n.PCI, n.opts)
	if err != nil {
		return err
	}
	n.Adapter = a
	return nil
}

// NAPIs implements NIC: e1000 has one NAPI instance.
func (n *E1000Driver) NAPIs() []*kernelmodel.NAPI { return []*kernelmodel.NAPI{n.Adapter.NAPI()} }

// Vectors implements NIC: e1000 has one interrupt, INTx, named after the
// interface as in /proc/interrupts.
func (n *E1000Driver) Vectors() []Vector {
	return []Vector{{Name: n.Adapter.Netdev().Name, IRQ: n.Adapter.IRQ()}}
}

// Anomalies implements NIC: every one of the driver's counters of device
// misbehaviour (driver.Xxx, DriverCounters: a field added later is checked
// too).
func (n *E1000Driver) Anomalies() []Stat { return fieldStats("driver.", n.Adapter.Counters(), nil) }

// String names the NIC for messages.
func (n *E1000Driver) String() string { return fmt.Sprintf("e1000 %s", n.PCI.Name) }

// ModelCounters implements ModelNIC: model.Counters by field name.
func (n *E1000NIC) ModelCounters() []Stat {
	var out []Stat
	n.Model.Counters().Each(func(name string, v uint64) { out = append(out, Stat{Name: name, Value: v}) })
	return out
}

// e1000ModelAnomalies are the model counters of driver misbehaviour.
var e1000ModelAnomalies = map[string]bool{
	"BadRingLength": true, "BadRingIndex": true, "RxBadRing": true, "RxDescFaults": true,
	"RxBufferFaults": true, "RxBadBufferSize": true, "TxBadRing": true, "TxDescFaults": true,
	"TxBufferFaults": true, "TxZeroLength": true, "TxOversize": true, "TxTSOInvalid": true,
	"TxBadDescType": true, "TxContextInPacket": true, "TxBadChecksumOffsets": true, "TxTSOPaylenMismatch": true,
}

// Anomalies implements NIC: the model's counters of driver misbehaviour
// (model.Xxx) and every one of the driver's counters of device misbehaviour
// (driver.Xxx, DriverCounters: a field added later is checked too).
func (n *E1000NIC) Anomalies() []Stat {
	var out []Stat
	n.Model.Counters().Each(func(name string, v uint64) {
		if e1000ModelAnomalies[name] {
			out = append(out, Stat{Name: "model." + name, Value: v})
		}
	})
	return append(out, n.E1000Driver.Anomalies()...)
}
