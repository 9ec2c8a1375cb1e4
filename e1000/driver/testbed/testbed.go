// Package testbed builds the two-host e1000 setup that the driver's tests and
// the nicbed demo run: two modelled hosts, each a kernel model
// (kernelmodel.Kernel) on one shared virtual clock, with its own DMA memory,
// an 82540EM model (e1000/model) and the e1000 driver (e1000/driver), their
// ports joined by a cable (hw/wire). Flows of pktgen frames carry a sequence
// number and a byte pattern that the receiving host checks, byte for byte and
// in order.
package testbed

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nicbed/nicbed/e1000/driver"
	"github.com/nicbed/nicbed/e1000/model"
	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/hw/irq"
	"github.com/nicbed/nicbed/hw/wire"
	"github.com/nicbed/nicbed/kernelmodel"
)

// Defaults of a Config's zero fields.
const (
	DefaultArenaSize = 64 << 20
	DefaultSpeedBPS  = 1_000_000_000
	DefaultCPUs      = 2
	// ProbeLimit bounds the model time a probe may take (the driver's own
	// timeouts are shorter: 0.5 s per EEPROM word at most).
	ProbeLimit = 10 * time.Second
)

// Ethernet addresses of the two hosts (QEMU's default range).
var (
	MACA = [6]byte{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
	MACB = [6]byte{0x52, 0x54, 0x00, 0x12, 0x34, 0x57}
)

// Config describes a Testbed. The zero value is two 2-CPU hosts with the
// driver's defaults on a 1 Gb/s cable.
type Config struct {
	// CPUs per host (default 2).
	CPUs int
	// Driver are the options both drivers are probed with (module
	// parameters); DriverB, if not nil, replaces them for host B.
	Driver  driver.Options
	DriverB *driver.Options
	// Cable describes the cable; a zero SpeedBPS means 1 Gb/s (see
	// InfiniteSpeed for an ideal cable).
	Cable wire.CableConfig
	// InfiniteSpeed makes the cable infinitely fast (SpeedBPS 0).
	InfiniteSpeed bool
	// Tracer, if set, traces both kernels.
	Tracer *kernelmodel.Tracer
	// Pcap, if set, records every frame the cable delivers.
	Pcap *wire.PcapWriter
	// ArenaSize is each host's DMA memory (default 64 MiB, committed
	// lazily).
	ArenaSize int
	// AutonegDelay overrides the model's autonegotiation time.
	AutonegDelay time.Duration
	// Cost overrides the kernel model's CPU cost model.
	Cost *kernelmodel.CostModel
	// EEPROMA, EEPROMB, if set, replace a model's EEPROM image.
	EEPROMA, EEPROMB *[64]uint16
}

// Host is one modelled host.
type Host struct {
	Name    string
	Kernel  *kernelmodel.Kernel
	Mem     *dma.Arena
	NIC     *model.Device
	PCI     *kernelmodel.PCIDev
	Adapter *driver.Adapter
	Dev     *kernelmodel.NetDevice

	// StrayFrames counts test frames that named no flow.
	StrayFrames uint64
	flows       []*Flow
}

// Testbed is two hosts on a cable.
type Testbed struct {
	Clock *kernelmodel.Clock
	Cable *wire.Cable
	A, B  *Host
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

// New builds the two hosts, plugs the cable in and probes both drivers. The
// interfaces are not open yet: see Up.
func New(cfg Config) (*Testbed, error) {
	if cfg.CPUs <= 0 {
		cfg.CPUs = DefaultCPUs
	}
	if cfg.ArenaSize <= 0 {
		cfg.ArenaSize = DefaultArenaSize
	}
	if cfg.InfiniteSpeed {
		cfg.Cable.SpeedBPS = 0
	} else if cfg.Cable.SpeedBPS == 0 {
		cfg.Cable.SpeedBPS = DefaultSpeedBPS
	}
	clk := kernelmodel.NewVirtualClock()
	tb := &Testbed{Clock: clk, Cable: wire.NewCable(clk, cfg.Cable)}
	if cfg.Pcap != nil {
		tb.Cable.SetPcap(cfg.Pcap)
	}
	var err error
	if tb.A, err = newHost(clk, "hostA", MACA, cfg, cfg.EEPROMA); err != nil {
		return nil, err
	}
	if tb.B, err = newHost(clk, "hostB", MACB, cfg, cfg.EEPROMB); err != nil {
		return nil, err
	}
	la, lb := tb.Cable.Attach(tb.A.NIC, tb.B.NIC)
	tb.A.NIC.Connect(la)
	tb.B.NIC.Connect(lb)
	optsA, optsB := cfg.Driver, cfg.Driver
	if cfg.DriverB != nil {
		optsB = *cfg.DriverB
	}
	if err := tb.A.Probe(optsA); err != nil {
		return nil, err
	}
	if err := tb.B.Probe(optsB); err != nil {
		return nil, err
	}
	return tb, nil
}

func newHost(clk *kernelmodel.Clock, name string, mac [6]byte, cfg Config, eeprom *[64]uint16) (*Host, error) {
	k := kernelmodel.New(kernelmodel.Config{Name: name, CPUs: cfg.CPUs, Clock: clk, Tracer: cfg.Tracer, Cost: cfg.Cost})
	mem := dma.NewArena(cfg.ArenaSize)
	line := &lineProxy{}
	nic := model.New(model.Config{MAC: mac, Clock: clk, Mem: mem, INTx: line, EEPROM: eeprom, AutonegDelay: cfg.AutonegDelay})
	pdev := k.NewPCIDev("0000:00:03.0", nic, mem)
	line.l = k.INTxLine(pdev.IRQ)
	return &Host{Name: name, Kernel: k, Mem: mem, NIC: nic, PCI: pdev}, nil
}

// Probe runs the driver's probe on the host, in a task on CPU 0 (New does it
// for both hosts; call it again only after a failed probe, with other
// options). It runs the clock until probe returns, at most ProbeLimit.
func (h *Host) Probe(opts driver.Options) error {
	var a *driver.Adapter
	var err error
	done := false
	h.Kernel.Spawn(0, "e1000-probe", func(t *kernelmodel.Task) {
		a, err = driver.Probe(t, h.PCI, opts)
		done = true
	})
	clk := h.Kernel.Clock()
	clk.RunWhile(func() bool { return !done }, clk.Now()+ProbeLimit)
	if !done {
		return fmt.Errorf("%s: probe did not finish within %v", h.Name, ProbeLimit)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", h.Name, err)
	}
	h.Adapter, h.Dev = a, a.Netdev()
	return nil
}

// Hosts are A and B.
func (tb *Testbed) Hosts() []*Host { return []*Host{tb.A, tb.B} }

// RunTask runs fn as a task on CPU 0 of h and runs the clock until it
// returns (at most limit of model time). It returns fn's error.
func (tb *Testbed) RunTask(h *Host, name string, limit time.Duration, fn func(t *kernelmodel.Task) error) error {
	var err error
	done := false
	h.Kernel.Spawn(0, name, func(t *kernelmodel.Task) {
		err = fn(t)
		done = true
	})
	end := tb.Clock.Now() + limit
	if !tb.Clock.RunWhile(func() bool { return !done }, end) && !done {
		return fmt.Errorf("%s: %s did not finish within %v", h.Name, name, limit)
	}
	return err
}

// Up opens both interfaces (ip link set up) and runs the clock until both
// have carrier, at most limit of model time.
func (tb *Testbed) Up(limit time.Duration) error {
	for _, h := range tb.Hosts() {
		if err := tb.RunTask(h, "ip-link-up", limit, func(t *kernelmodel.Task) error { return h.Dev.DevOpen(t) }); err != nil {
			return err
		}
	}
	return tb.WaitCarrier(true, limit)
}

// WaitCarrier runs the clock until both interfaces' carrier is on (or off),
// at most limit of model time.
func (tb *Testbed) WaitCarrier(on bool, limit time.Duration) error {
	cond := func() bool {
		return tb.A.Dev.NetifCarrierOK() != on || tb.B.Dev.NetifCarrierOK() != on
	}
	tb.Clock.RunWhile(cond, tb.Clock.Now()+limit)
	if cond() {
		return fmt.Errorf("carrier of %s/%s still %v/%v after %v", tb.A.Dev.Name, tb.B.Dev.Name,
			tb.A.Dev.NetifCarrierOK(), tb.B.Dev.NetifCarrierOK(), limit)
	}
	return nil
}

// Down closes both interfaces.
func (tb *Testbed) Down(limit time.Duration) error {
	var errs []error
	for _, h := range tb.Hosts() {
		errs = append(errs, tb.RunTask(h, "ip-link-down", limit, func(t *kernelmodel.Task) error { return h.Dev.DevClose(t) }))
	}
	return errors.Join(errs...)
}

// Check checks what must hold on a host between events: the driver's
// books (Adapter.CheckInvariants) and no DMA faults.
func (h *Host) Check() error {
	if err := h.Adapter.CheckInvariants(); err != nil {
		return fmt.Errorf("%s: %w", h.Name, err)
	}
	if n := h.Mem.Faults(); n != 0 {
		return fmt.Errorf("%s: %d DMA faults: %v", h.Name, n, h.Mem.FaultLog())
	}
	return nil
}

// Interrupts is the number of hardirqs the NIC's interrupt took
// (/proc/interrupts).
func (h *Host) Interrupts() uint64 { return h.Kernel.IRQCount(h.Adapter.IRQ()) }

// WriteCounters prints the host's counters: ethtool -S, interrupts, NAPI,
// the net_device's statistics, /proc/net/softnet_stat and the kernel's drop
// reasons.
func (h *Host) WriteCounters(w io.Writer) error {
	ew := &errWriter{w: w}
	a := h.Adapter
	ew.printf("== %s (%s, %02x:%02x:%02x:%02x:%02x:%02x)\n", h.Name, h.Dev.Name,
		h.Dev.Addr[0], h.Dev.Addr[1], h.Dev.Addr[2], h.Dev.Addr[3], h.Dev.Addr[4], h.Dev.Addr[5])
	speed, fd := a.Link()
	ew.printf("link: carrier %v, %d Mb/s, full duplex %v; InterruptThrottleRate %d, now %d ints/s\n",
		h.Dev.NetifCarrierOK(), speed, fd, a.InterruptThrottleRate(), a.CurrentITR())
	ew.printf("interrupts: %d (e1000 irq %d)\n", h.Interrupts(), a.IRQ())
	n := a.NAPI()
	ew.printf("napi: polls %d, complete %d, missed %d, full weight %d, scheduled %d\n",
		n.Polls, n.Completes, n.Missed, n.WeightUsed, n.ScheduleCnt)
	st := h.Dev.Stats
	ew.printf("ip -s link: rx %d pkts %d bytes, tx %d pkts %d bytes, rx_dropped %d, tx_dropped %d\n",
		st.RxPackets, st.RxBytes, st.TxPackets, st.TxBytes, st.RxDropped, st.TxDropped)
	ew.printf("ethtool -S %s:\n", h.Dev.Name)
	for _, s := range a.EthtoolStats() {
		ew.printf("     %s: %d\n", s.Name, s.Value)
	}
	ew.printf("/proc/net/softnet_stat:\n")
	if ew.err == nil {
		ew.err = h.Kernel.WriteSoftnetStat(w)
	}
	for r, c := range h.Kernel.Drops.Reason {
		if c != 0 {
			ew.printf("kfree_skb reason %s: %d\n", kernelmodel.DropReason(r), c)
		}
	}
	return ew.err
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
