// Package testbed builds the two-host setup that the tests across NICs and
// the nicbed demo run: two modelled hosts, each a kernel model
// (kernelmodel.Kernel) on one shared clock (virtual by default, or real),
// with its own DMA memory and a NIC — a device model and its driver — made by
// a Factory, their ports joined by a cable (hw/wire). Flows of pktgen frames
// carry a sequence number and a byte pattern that the receiving host checks,
// byte for byte and in order.
//
// The testbed knows nothing of a particular NIC: a Factory (E1000 for the
// 82540EM, IGB for the 82576) makes the device model on the host's clock and
// DMA memory, wires its interrupts, and probes the driver in a task; the NIC
// it returns exposes the net_device, the NAPI instances, the interrupt
// vectors, ethtool -S, the driver's invariants and the model's counters. So
// the same two-host tests run for every NIC (see the suite in
// testbed_test.go).
package testbed

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nicbed/nicbed/hw/dma"
	"github.com/nicbed/nicbed/hw/wire"
	"github.com/nicbed/nicbed/kernelmodel"
	"github.com/nicbed/nicbed/kernelmodel/ethtool"
)

// Defaults of a Config's zero fields.
const (
	DefaultArenaSize = 64 << 20
	DefaultSpeedBPS  = 1_000_000_000
	DefaultCPUs      = 2
)

// Ethernet addresses of the two hosts (QEMU's default range).
var (
	MACA = [6]byte{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
	MACB = [6]byte{0x52, 0x54, 0x00, 0x12, 0x34, 0x57}
)

// Stat is one named counter: an ethtool -S line (the drivers' shared
// table's type), or a model's counter.
type Stat = ethtool.Stat

// Vector is one interrupt vector of a NIC: its name as /proc/interrupts
// shows it (eth0 for e1000's INTx, eth0-TxRx-0 for an MSI-X queue vector)
// and the kernel's interrupt number.
type Vector struct {
	Name string
	IRQ  int
}

// NIC is a host's network adapter as the testbed sees it: the driver bound
// to a PCI function. The function is an in-process device model (a
// ModelNIC, which a Factory makes) or a real one the host passes through
// (NewPassthroughNIC: QEMU's e1000 or igb through VFIO).
type NIC interface {
	// Probe runs the driver's probe (the PCI driver's .probe) in task t.
	Probe(t *kernelmodel.Task) error
	// Netdev is the net_device the driver registered (after Probe).
	Netdev() *kernelmodel.NetDevice
	// NAPIs are the driver's NAPI instances.
	NAPIs() []*kernelmodel.NAPI
	// Vectors are the interrupt vectors the driver requested.
	Vectors() []Vector
	// EthtoolStats is ethtool -S.
	EthtoolStats() []Stat
	// CheckInvariants checks the driver's books (rings, ownership).
	CheckInvariants() error
	// Anomalies are counters of misbehaviour either side saw in the other:
	// the model of the driver (bad ring indices, descriptors outside
	// memory) and the driver of the device (write-backs it did not post,
	// impossible lengths). In a clean run each is zero.
	Anomalies() []Stat
	// Link is the link the driver sees: speed in Mb/s (0: down) and duplex
	// (ethtool's Speed and Duplex).
	Link() (speedMbps int, fullDuplex bool)
	// Ringparam is ethtool -g: the RX and TX ring sizes in use.
	Ringparam() (rx, tx int)
	// SetRingparam is ethtool -G, in a task.
	SetRingparam(t *kernelmodel.Task, rx, tx int) error
	// ChangeMTU is ndo_change_mtu (ip link set mtu), in a task.
	ChangeMTU(t *kernelmodel.Task, mtu int) error
}

// ModelNIC is a NIC whose function is an in-process device model: it has a
// port for the cable and counters of its own.
type ModelNIC interface {
	NIC
	// ModelCounters are the device model's own counters (not the
	// statistics registers), for reports.
	ModelCounters() []Stat
	// Port is the NIC's side of the cable; Connect gives it the link.
	Port() wire.Endpoint
	Connect(l wire.Link)
}

// Factory makes the NIC of each host.
type Factory interface {
	// Name names the NIC (e1000, igb): the name of the demo's --nic and of
	// the suite's subtests.
	Name() string
	// New makes h's NIC: the device model on h's clock and DMA memory with
	// h.MAC, enumerated on h.Kernel as a PCI device, its interrupts wired.
	// The testbed then calls Probe in a task.
	New(h *Host) (ModelNIC, error)
}

// Config describes a Testbed. The zero value is two 2-CPU hosts with e1000
// NICs and the driver's defaults on a 1 Gb/s cable, on a virtual clock.
type Config struct {
	// NIC makes each host's NIC (default E1000{}).
	NIC Factory
	// Clock is the clock both hosts and the cable run on: nil for a new
	// virtual clock, or kernelmodel.NewRealClock() to follow wall time.
	Clock *kernelmodel.Clock
	// CPUs per host (default 2).
	CPUs int
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
	// Cost overrides the kernel model's CPU cost model.
	Cost *kernelmodel.CostModel
	// ProbeLimit bounds each probe in model time (default 10 s: probe
	// waits for resets and EEPROM reads).
	ProbeLimit time.Duration
}

// Host is one modelled host.
type Host struct {
	Name   string
	Index  int // 0 for A, 1 for B
	MAC    [6]byte
	Kernel *kernelmodel.Kernel
	Mem    *dma.Arena
	NIC    NIC
	Dev    *kernelmodel.NetDevice

	// StrayFrames counts test frames that named no flow.
	StrayFrames uint64
	flows       []*Flow
}

// Testbed is two hosts on a cable.
type Testbed struct {
	Clock *kernelmodel.Clock
	Cable *wire.Cable
	A, B  *Host
	NIC   Factory
}

// New builds the two hosts, plugs the cable in and probes both drivers. The
// interfaces are not open yet: see Up.
func New(cfg Config) (*Testbed, error) {
	if cfg.NIC == nil {
		cfg.NIC = E1000{}
	}
	if cfg.CPUs <= 0 {
		cfg.CPUs = DefaultCPUs
	}
	if cfg.ArenaSize <= 0 {
		cfg.ArenaSize = DefaultArenaSize
	}
	if cfg.ProbeLimit <= 0 {
		cfg.ProbeLimit = 10 * time.Second
	}
	if cfg.InfiniteSpeed {
		cfg.Cable.SpeedBPS = 0
	} else if cfg.Cable.SpeedBPS == 0 {
		cfg.Cable.SpeedBPS = DefaultSpeedBPS
	}
	clk := cfg.Clock
	if clk == nil {
		clk = kernelmodel.NewVirtualClock()
	}
	tb := &Testbed{Clock: clk, Cable: wire.NewCable(clk, cfg.Cable), NIC: cfg.NIC}
	if cfg.Pcap != nil {
		tb.Cable.SetPcap(cfg.Pcap)
	}
	for i, mac := range [][6]byte{MACA, MACB} {
		name := "host" + string(rune('A'+i))
		k := kernelmodel.New(kernelmodel.Config{Name: name, CPUs: cfg.CPUs, Clock: clk, Tracer: cfg.Tracer, Cost: cfg.Cost})
		h := &Host{Name: name, Index: i, MAC: mac, Kernel: k, Mem: dma.NewArena(cfg.ArenaSize)}
		nic, err := cfg.NIC.New(h)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		h.NIC = nic
		if i == 0 {
			tb.A = h
		} else {
			tb.B = h
		}
	}
	la, lb := tb.Cable.Attach(tb.A.Model().Port(), tb.B.Model().Port())
	tb.A.Model().Connect(la)
	tb.B.Model().Connect(lb)
	for _, h := range tb.Hosts() {
		if err := tb.RunTask(h, "probe", cfg.ProbeLimit, h.NIC.Probe); err != nil {
			return nil, fmt.Errorf("%s: %w", h.Name, err)
		}
		h.Dev = h.NIC.Netdev()
	}
	return tb, nil
}

// NewUp is New, then Up with a limit of a second of model time: two hosts
// whose interfaces are up with carrier.
func NewUp(cfg Config) (*Testbed, error) {
	tb, err := New(cfg)
	if err != nil {
		return nil, err
	}
	if err := tb.Up(time.Second); err != nil {
		return nil, err
	}
	return tb, nil
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
// at most limit of model time. With the carrier on it then waits, at most
// limit again, until both devices take frames (a NIC that implements
// RxReady: QEMU's e1000 holds receive for a second after every RCTL write).
func (tb *Testbed) WaitCarrier(on bool, limit time.Duration) error {
	cond := func() bool {
		return tb.A.Dev.NetifCarrierOK() != on || tb.B.Dev.NetifCarrierOK() != on
	}
	tb.Clock.RunWhile(cond, tb.Clock.Now()+limit)
	if cond() {
		return fmt.Errorf("carrier of %s/%s still %v/%v after %v", tb.A.Dev.Name, tb.B.Dev.Name,
			tb.A.Dev.NetifCarrierOK(), tb.B.Dev.NetifCarrierOK(), limit)
	}
	if !on {
		return nil
	}
	held := func() bool {
		for _, h := range tb.Hosts() {
			if r, ok := h.NIC.(interface{ RxReady() bool }); ok && !r.RxReady() {
				return true
			}
		}
		return false
	}
	tb.Clock.RunWhile(held, tb.Clock.Now()+limit)
	if held() {
		return fmt.Errorf("a device still refuses frames %v after carrier on", limit)
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

// Settle runs the clock for d (so that transmit completions are cleaned),
// then checks both hosts: Check, the skb audit (none live, none freed twice
// or used after free), and no anomaly on either side of either NIC.
func (tb *Testbed) Settle(d time.Duration) error {
	tb.Clock.RunFor(d)
	var errs []error
	for _, h := range tb.Hosts() {
		errs = append(errs, h.Check())
		if err := h.Kernel.SKBAudit(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", h.Name, err))
		}
		for _, s := range h.NIC.Anomalies() {
			if s.Value != 0 {
				errs = append(errs, fmt.Errorf("%s: %s = %d", h.Name, s.Name, s.Value))
			}
		}
	}
	return errors.Join(errs...)
}

// Report is both hosts' counters in full (WriteCounters), for a failed
// test's log.
func (tb *Testbed) Report() string {
	var sb strings.Builder
	for _, h := range tb.Hosts() {
		h.WriteCounters(&sb)
	}
	return sb.String()
}

// Check checks what must hold on a host between events: the driver's
// books (NIC.CheckInvariants), no DMA faults and no bad DMA frees.
func (h *Host) Check() error {
	if err := h.NIC.CheckInvariants(); err != nil {
		return fmt.Errorf("%s: %w", h.Name, err)
	}
	if n := h.Mem.Faults(); n != 0 {
		return fmt.Errorf("%s: %d DMA faults: %v", h.Name, n, h.Mem.FaultLog())
	}
	if n := h.Mem.BadFrees(); n != 0 {
		return fmt.Errorf("%s: %d bad DMA frees: %v", h.Name, n, h.Mem.BadFreeLog())
	}
	return nil
}

// Model is h's NIC as a ModelNIC, nil if its function is no model (a
// passthrough NIC).
func (h *Host) Model() ModelNIC {
	m, _ := h.NIC.(ModelNIC)
	return m
}

// Stat returns ethtool -S counter name and whether the NIC has it.
func (h *Host) Stat(name string) (uint64, bool) {
	for _, s := range h.NIC.EthtoolStats() {
		if s.Name == name {
			return s.Value, true
		}
	}
	return 0, false
}

// VectorCount is the hardirq count of one vector (a /proc/interrupts line).
type VectorCount struct {
	Vector
	Count uint64
}

// VectorCounts are the NIC's vectors with their hardirq counts.
func (h *Host) VectorCounts() []VectorCount {
	vs := h.NIC.Vectors()
	out := make([]VectorCount, len(vs))
	for i, v := range vs {
		out[i] = VectorCount{v, h.Kernel.IRQCount(v.IRQ)}
	}
	return out
}

// Interrupts is the number of hardirqs the NIC's vectors took, all together.
func (h *Host) Interrupts() uint64 {
	var n uint64
	for _, v := range h.VectorCounts() {
		n += v.Count
	}
	return n
}

// WriteCounters prints the host's counters in full: link, interrupts per
// vector, NAPI, the net_device's statistics, ethtool -S, the model's
// counters, /proc/net/softnet_stat and the kernel's drop reasons.
func (h *Host) WriteCounters(w io.Writer) error {
	ew := &errWriter{w: w}
	d := h.Dev
	ew.printf("== %s (%s, %s)\n", h.Name, d.Name, MACString(d.Addr))
	speed, fd := h.NIC.Link()
	ew.printf("link: carrier %v, %d Mb/s, full duplex %v\n", d.NetifCarrierOK(), speed, fd)
	for _, v := range h.VectorCounts() {
		ew.printf("interrupts: %d (%s irq %d)\n", v.Count, v.Name, v.IRQ)
	}
	for _, n := range h.NIC.NAPIs() {
		ew.printf("napi %s: polls %d, complete %d, missed %d, full weight %d, scheduled %d\n",
			n.Name, n.Polls, n.Completes, n.Missed, n.WeightUsed, n.ScheduleCnt)
	}
	st := d.Stats
	ew.printf("ip -s link: rx %d pkts %d bytes, tx %d pkts %d bytes, rx_dropped %d, tx_dropped %d\n",
		st.RxPackets, st.RxBytes, st.TxPackets, st.TxBytes, st.RxDropped, st.TxDropped)
	ew.printf("ethtool -S %s:\n", d.Name)
	for _, s := range h.NIC.EthtoolStats() {
		ew.printf("     %s: %d\n", s.Name, s.Value)
	}
	if m := h.Model(); m != nil {
		ew.printf("model counters:")
		for _, s := range m.ModelCounters() {
			if s.Value != 0 {
				ew.printf(" %s=%d", s.Name, s.Value)
			}
		}
		ew.printf("\n")
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

// MACString formats an Ethernet address as ip link does.
func MACString(a [6]byte) string {
	var sb strings.Builder
	for i, b := range a {
		if i > 0 {
			sb.WriteByte(':')
		}
		fmt.Fprintf(&sb, "%02x", b)
	}
	return sb.String()
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
