package kernelmodel

import (
	"testing"
	"time"
)

// testDev is a tiny NIC for tests: packets "arrive" into a software ring,
// an interrupt is raised when the interrupt is enabled, and its NAPI poll
// takes packets off the ring and feeds them to netif_receive_skb.
type testDev struct {
	k       *Kernel
	dev     *NetDevice
	napi    NAPI
	irq     int
	ring    []uint64 // arrived packet ids (seq)
	irqOn   bool
	rxSize  int
	hash    uint32
	enables int // interrupt re-enables
	// pollHook, if set, runs inside each poll (after RX work, before
	// completion).
	pollHook func(d *testDev)
	polls    []int // work per poll
	received []uint64
	cpus     []int // CPU each packet was delivered on
}

type testOps struct{ d *testDev }

func (o testOps) Open(t *Task) error        { return nil }
func (o testOps) Stop(t *Task) error        { return nil }
func (o testOps) StartXmit(s *SKB) NetdevTx { o.d.k.ConsumeSKB(s); return NETDEV_TX_OK }

func newTestDev(t testing.TB, k *Kernel, cpu int) *testDev {
	d := &testDev{k: k, rxSize: 60, irqOn: true}
	d.dev = k.AllocEtherdev("tst"+itoa(len(k.devs)), 1, 1)
	d.dev.Ops = testOps{d}
	d.dev.up = true
	if err := k.RegisterNetdev(d.dev); err != nil {
		t.Fatal(err)
	}
	d.irq = k.AllocIRQ()
	if err := k.SetAffinity(d.irq, cpu); err != nil {
		t.Fatal(err)
	}
	if err := k.RequestIRQ(d.irq, d.intr, "tst"); err != nil {
		t.Fatal(err)
	}
	k.NetifNAPIAdd(d.dev, &d.napi, d.poll, 0)
	d.napi.NAPIEnable()
	return d
}

func (d *testDev) intr(int) IRQReturn {
	if !d.irqOn {
		return IRQ_NONE
	}
	d.irqOn = false // mask
	d.napi.NAPISchedule()
	return IRQ_HANDLED
}

func (d *testDev) poll(n *NAPI, budget int) int {
	work := 0
	for work < budget && len(d.ring) > 0 {
		seq := d.ring[0]
		d.ring = d.ring[1:]
		skb := d.k.AllocSKB(d.rxSize)
		p := skb.Put(d.rxSize)
		copy(p[0:6], d.dev.Addr[:])
		p[12], p[13] = 0x88, 0xb5 // local experimental EtherType
		skb.Seq = seq
		skb.Hash = d.hash
		d.k.EthTypeTrans(skb, d.dev)
		d.k.Charge(d.k.Cost.RxDescriptor)
		n.NAPIGROReceive(skb)
		work++
	}
	if d.pollHook != nil {
		d.pollHook(d)
	}
	d.polls = append(d.polls, work)
	if work < budget && n.NAPICompleteDone(work) {
		d.irqOn = true
		d.enables++
		if len(d.ring) > 0 {
			d.k.Raise(d.irq)
		}
	}
	return work
}

// arrive puts n packets on the ring and raises the interrupt if enabled.
func (d *testDev) arrive(n int) {
	base := uint64(len(d.received) + len(d.ring))
	for i := 0; i < n; i++ {
		d.ring = append(d.ring, base+uint64(i))
	}
	if d.irqOn {
		d.k.Raise(d.irq)
	}
}

// sink collects every packet of EtherType 0x88b5.
func (d *testDev) sink() {
	d.k.DevAddPack(&PacketType{Type: 0x88b5, Dev: d.dev, Func: func(s *SKB) {
		d.received = append(d.received, s.Seq)
		d.cpus = append(d.cpus, d.k.CurrentCPU().ID)
		d.k.ConsumeSKB(s)
	}})
}

func TestSmokeNAPI(t *testing.T) {
	k := New(Config{CPUs: 1})
	d := newTestDev(t, k, 0)
	d.sink()
	d.arrive(10)
	k.Clock().RunFor(time.Millisecond)
	if len(d.received) != 10 {
		t.Fatalf("received %d, want 10", len(d.received))
	}
	if d.enables != 1 || len(d.polls) != 1 || d.polls[0] != 10 {
		t.Fatalf("enables %d polls %v", d.enables, d.polls)
	}
	if err := k.SKBAudit(); err != nil {
		t.Fatal(err)
	}
}
