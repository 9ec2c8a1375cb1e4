package kernelmodel

import (
	"fmt"
	"time"
)

// Sysctl holds the tunables under their sysctl names (net.core.*). Linux makes
// these global; here they are per kernel, so two modelled hosts can differ.
type Sysctl struct {
	NetdevBudget      int // net.core.netdev_budget (300)
	NetdevBudgetUsecs int // net.core.netdev_budget_usecs (2000)
	DevWeight         int // net.core.dev_weight (64): process_backlog's quota
	NetdevMaxBacklog  int // net.core.netdev_max_backlog (1000)
	GRONormalBatch    int // net.core.gro_normal_batch (8)
}

// DefaultSysctl is Linux's defaults.
func DefaultSysctl() Sysctl {
	return Sysctl{
		NetdevBudget:      300,
		NetdevBudgetUsecs: 2000,
		DevWeight:         64,
		NetdevMaxBacklog:  1000,
		GRONormalBatch:    8,
	}
}

// Set sets a tunable by its sysctl name ("net.core.netdev_budget" or
// "netdev_budget").
func (s *Sysctl) Set(name string, val int) error {
	p := s.lookup(name)
	if p == nil {
		return fmt.Errorf("sysctl: unknown tunable %q", name)
	}
	if val < 0 || (val == 0 && name != "net.core.netdev_max_backlog" && name != "netdev_max_backlog") {
		return fmt.Errorf("sysctl: %s: invalid value %d", name, val)
	}
	*p = val
	return nil
}

// Get reads a tunable by its sysctl name.
func (s *Sysctl) Get(name string) (int, error) {
	p := s.lookup(name)
	if p == nil {
		return 0, fmt.Errorf("sysctl: unknown tunable %q", name)
	}
	return *p, nil
}

func (s *Sysctl) lookup(name string) *int {
	switch name {
	case "net.core.netdev_budget", "netdev_budget":
		return &s.NetdevBudget
	case "net.core.netdev_budget_usecs", "netdev_budget_usecs":
		return &s.NetdevBudgetUsecs
	case "net.core.dev_weight", "dev_weight":
		return &s.DevWeight
	case "net.core.netdev_max_backlog", "netdev_max_backlog":
		return &s.NetdevMaxBacklog
	case "net.core.gro_normal_batch", "gro_normal_batch":
		return &s.GRONormalBatch
	}
	return nil
}

// Linux constants that are not tunable.
const (
	NAPIPollWeight    = 64                   // NAPI_POLL_WEIGHT
	MaxSoftirqRestart = 10                   // MAX_SOFTIRQ_RESTART
	MaxSoftirqTime    = 2 * time.Millisecond // MAX_SOFTIRQ_TIME
	HZ                = 1000
)

// CostModel is the CPU time each step costs in virtual time. The defaults are
// of the order of a 2010s x86 core running Linux's e1000 path; what matters is
// that work costs time, so a CPU saturates and time-based limits bite.
type CostModel struct {
	HardirqEntry  time.Duration // irq entry + exit, per hardirq
	SoftirqEntry  time.Duration // per __do_softirq pass
	NAPIPoll      time.Duration // per napi->poll() call
	RxDescriptor  time.Duration // driver: per RX descriptor cleaned
	TxDescriptor  time.Duration // driver: per TX descriptor cleaned
	Xmit          time.Duration // driver: per ndo_start_xmit
	MMIO          time.Duration // per register access (uncached, posted writes)
	ReceiveSKB    time.Duration // __netif_receive_skb per packet
	Backlog       time.Duration // enqueue_to_backlog per packet
	IPI           time.Duration // sending an IPI
	Deliver       time.Duration // the protocol handler / sink per packet
	PktgenPacket  time.Duration // pktgen: build one packet
	TimerCallback time.Duration // per timer_list callback

	// Per-byte terms, as the time per KiB (1024 bytes) touched, so that a
	// 9014-byte frame, a 64 KiB TSO send or a GRO merge costs more than a
	// 60-byte frame. Charge them with ChargeBytes.
	RxPerKiB   time.Duration // driver RX: descriptor write-back to skb data (copy or cache misses)
	TxPerKiB   time.Duration // driver TX: building/copying the frame into DMA memory
	CsumPerKiB time.Duration // software checksum over the bytes
}

// DefaultCost is the default cost model.
func DefaultCost() CostModel {
	return CostModel{
		HardirqEntry:  1000 * time.Nanosecond,
		SoftirqEntry:  200 * time.Nanosecond,
		NAPIPoll:      300 * time.Nanosecond,
		RxDescriptor:  120 * time.Nanosecond,
		TxDescriptor:  40 * time.Nanosecond,
		Xmit:          200 * time.Nanosecond,
		MMIO:          100 * time.Nanosecond,
		ReceiveSKB:    100 * time.Nanosecond,
		Backlog:       60 * time.Nanosecond,
		IPI:           500 * time.Nanosecond,
		Deliver:       100 * time.Nanosecond,
		PktgenPacket:  150 * time.Nanosecond,
		TimerCallback: 200 * time.Nanosecond,
		RxPerKiB:      100 * time.Nanosecond,
		TxPerKiB:      100 * time.Nanosecond,
		CsumPerKiB:    120 * time.Nanosecond,
	}
}

// Config describes a kernel.
type Config struct {
	Name   string // host name, in traces
	CPUs   int    // default 2
	Clock  *Clock // shared by every kernel and device of a run; default: a new virtual clock
	Tracer *Tracer
	Cost   *CostModel // default DefaultCost
}

// Kernel is one modelled host's kernel.
type Kernel struct {
	Name   string
	Sysctl Sysctl
	Cost   CostModel

	clock *Clock
	cpus  []*CPU
	cur   *CPU // the CPU whose code runs now, nil between events
	tr    *Tracer

	irqs     []*irqDesc
	devs     []*NetDevice
	ptypeAll []*PacketType
	ptype    []*PacketType

	softirqHooks [NR_SOFTIRQS]func(c *CPU)

	offload offloadBase // GRO engine and GSO callbacks (gro.go, gso.go)

	netdevNotifiers []func(event int, d *NetDevice)

	threads []*thread

	skbs   skbPool
	pktID  uint64
	Drops  DropCounters
	nTasks int
}

// New makes a kernel.
func New(cfg Config) *Kernel {
	if cfg.CPUs <= 0 {
		cfg.CPUs = 2
	}
	if cfg.Clock == nil {
		cfg.Clock = NewVirtualClock()
	}
	if cfg.Name == "" {
		cfg.Name = "host"
	}
	k := &Kernel{Name: cfg.Name, Sysctl: DefaultSysctl(), Cost: DefaultCost(), clock: cfg.Clock, tr: cfg.Tracer}
	if cfg.Cost != nil {
		k.Cost = *cfg.Cost
	}
	for i := 0; i < cfg.CPUs; i++ {
		k.cpus = append(k.cpus, newCPU(k, i))
	}
	for _, c := range k.cpus {
		c.startKsoftirqd()
	}
	return k
}

// Clock is the kernel's clock.
func (k *Kernel) Clock() *Clock { return k.clock }

// NumCPUs is the number of CPUs.
func (k *Kernel) NumCPUs() int { return len(k.cpus) }

// CPU returns CPU i.
func (k *Kernel) CPU(i int) *CPU { return k.cpus[i] }

// CurrentCPU is smp_processor_id(): the CPU whose code is running, or nil
// when called from outside any CPU (a device model's timer, a test).
func (k *Kernel) CurrentCPU() *CPU { return k.cur }

// Now is the time as the running CPU sees it: the loop's time plus the CPU
// time charged since the CPU last gave way. Outside a CPU it is the loop's
// time.
func (k *Kernel) Now() time.Duration {
	if c := k.cur; c != nil {
		return k.clock.Now() + c.acc
	}
	return k.clock.Now()
}

// Jiffies is the jiffies counter (HZ=1000).
func (k *Kernel) Jiffies() uint64 { return uint64(k.Now() / (time.Second / HZ)) }

// Charge consumes d of CPU time on the running CPU. The time is slept off at
// the next preemption point. Outside a CPU it does nothing.
func (k *Kernel) Charge(d time.Duration) {
	if c := k.cur; c != nil && !k.clock.real {
		c.acc += d
	}
}

// ChargeBytes charges n bytes at perKiB (a CostModel per-byte term: RxPerKiB,
// TxPerKiB, CsumPerKiB) on the running CPU.
func (k *Kernel) ChargeBytes(perKiB time.Duration, n int) {
	if n > 0 && perKiB > 0 {
		k.Charge(perKiB * time.Duration(n) / 1024)
	}
}

// Tracer is the kernel's tracer, or nil.
func (k *Kernel) Tracer() *Tracer { return k.tr }

func (k *Kernel) nextPktID() uint64 {
	k.pktID++
	return k.pktID
}
