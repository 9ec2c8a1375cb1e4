package testbed

import (
	"fmt"

	"github.com/nicbed/nicbed/igb/driver"
	"github.com/nicbed/nicbed/igb/model"
	"github.com/nicbed/nicbed/kernelmodel"
)

// IGB is the Factory of the 82576: the igb/model device with the igb/driver
// driver, on MSI-X (one vector per queue pair and one for the other
// causes), falling back as the driver does. The zero value is the
// datasheet model with the driver's defaults: one queue pair per CPU.
type IGB struct {
	// Driver are the options both drivers are probed with; DriverB, if
	// not nil, replaces them for host B.
	Driver  driver.Options
	DriverB *driver.Options
	// Queues, if not zero, sets Driver.Queues (and DriverB's) to that
	// many queue pairs.
	Queues int
	// Model, if not nil, edits each host's model configuration before the
	// model is made (a QEMU profile, an EEPROM image, the autonegotiation
	// time). h is the host (h.Index 0 is A).
	Model func(h *Host, c *model.Config)
}

// Name implements Factory.
func (IGB) Name() string { return "igb" }

// New implements Factory: an 82576 on h's clock and DMA memory at PCIAddr,
// its MSI and MSI-X messages to the kernel's interrupt controller and its
// INTA# to the kernel's line.
func (f IGB) New(h *Host) (ModelNIC, error) {
	k := h.Kernel
	line := &lineProxy{}
	cfg := model.Config{MAC: h.MAC, Clock: k.Clock(), Mem: h.Mem, INTx: line, MSI: k}
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
	if f.Queues != 0 {
		opts.Queues = f.Queues
	}
	return &IGBNIC{IGBDriver: IGBDriver{nicBase: nicBase[*driver.Adapter]{PCI: pdev}, opts: opts}, modelBase: modelBase[*model.Device]{Model: m}}, nil
}

// IGBDriver is the igb driver bound to one host's 82576: a model (inside an
// IGBNIC) or QEMU's through VFIO (NewPassthroughNIC). It is a NIC by
// itself, whose Anomalies are the driver's.
type IGBDriver struct {
	nicBase[*driver.Adapter]
	opts driver.Options
}

// IGBNIC is one host's 82576 model and igb driver. Tests of the igb driver
// reach them through IGBOf.
type IGBNIC struct {
	IGBDriver
	modelBase[*model.Device]
}

// IGBDriverOf returns h's igb driver, model or passthrough, or nil if h has
// another NIC.
func IGBDriverOf(h *Host) *IGBDriver {
	switch n := h.NIC.(type) {
	case *IGBNIC:
		return &n.IGBDriver
	case *IGBDriver:
		return n
	}
	return nil
}

// IGBOf returns h's igb NIC, or nil if h has another NIC.
func IGBOf(h *Host) *IGBNIC {
	n, _ := h.NIC.(*IGBNIC)
	return n
}

// Probe implements NIC: igb_probe in task t.
func (n *IGBDriver) Probe(t *kernelmodel.Task) error {
	a, err := driver.Probe(t, n.PCI, n.opts)
	if err != nil {
		return err
	}
	n.Adapter = a
	return nil
}

// NAPIs implements NIC: one per q_vector.
func (n *IGBDriver) NAPIs() []*kernelmodel.NAPI { return n.Adapter.NAPIs() }

// Vectors implements NIC: the other-causes vector (named after the
// interface) and eth0-TxRx-N per q_vector, as /proc/interrupts names them.
func (n *IGBDriver) Vectors() []Vector {
	var out []Vector
	for _, v := range n.Adapter.Vectors() {
		out = append(out, Vector{Name: v.Name, IRQ: v.IRQ})
	}
	return out
}

// Anomalies implements NIC: the driver's counters of device misbehaviour
// (driver.Xxx).
func (n *IGBDriver) Anomalies() []Stat { return fieldStats("driver.", n.Adapter.Counters(), nil) }

// String names the NIC for messages.
func (n *IGBDriver) String() string { return fmt.Sprintf("igb %s", n.PCI.Name) }

// ModelCounters implements ModelNIC: model.Counters by field name.
func (n *IGBNIC) ModelCounters() []Stat { return fieldStats("", n.Model.Counters(), nil) }

// igbModelAnomalies are the model counters of driver misbehaviour.
var igbModelAnomalies = map[string]bool{
	"UnmappedCauses": true, "BadVector": true, "BadRegReads": true, "BadRegWrites": true,
	"RxLegacyDesc": true, "RxBadRing": true, "RxBadIndex": true, "RxNoBusMaster": true, "DMAFaults": true,
	"TxBadRing": true, "TxBadIndex": true, "TxLegacyDesc": true, "TxBadDesc": true, "TxTooLong": true,
	"TxDropped": true, "TxBadTSO": true, "TxBadCsum": true,
}

// Anomalies implements NIC: the model's counters of driver misbehaviour
// (model.Xxx) and every one of the driver's counters of device misbehaviour
// (driver.Xxx).
func (n *IGBNIC) Anomalies() []Stat {
	return append(fieldStats("model.", n.Model.Counters(), igbModelAnomalies), n.IGBDriver.Anomalies()...)
}
